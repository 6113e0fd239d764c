"""The frame of a page view in one statement: who the caller is, their scope, what they may pick.

Every page view began with four reads before the page's own, each a round trip to the replica
(quiet machine, large scale, p50): the caller by email (``identify``, 0.5-0.8 ms), their scope
set (``set_config``, 0.6-1.0 ms), their organizations (0.4-0.6 ms) and, for a customer, the
unread alerts of the organization in view (0.2-0.4 ms). ``fleetspend_auth.page_frame(email,
wanted_org_slug)`` does all four in one call:

- it finds the caller as ``identify`` does (a customer before a support engineer with the
  same email; nobody: no row, and the transaction's scope is left empty, failing closed);
- it sets the caller's scope for the rest of the transaction (``set_config(..., true)``): a
  customer narrowed to the organization in view (``wanted_org_slug`` if they belong to it,
  else their first by slug, else none), a support engineer without a grant (the page picks
  one, and re-scopes);
- it returns the customer's memberships and the unread alert count in the organization in
  view, or the engineer's own grants not revoked (newest first, the last 50, with their
  organizations' names), and the scope settings it set, so the read pool knows what the
  transaction holds.

It runs with the caller's rights (SECURITY INVOKER): every table it reads, it reads as the
app's role under the scope it has just set, bound by the same row-level security policies as
the page's own reads. Only the two lookups that already ran with the scope role's rights do
so here too (``identify``, ``granted_organizations``). A definer function would read as a role
the policies do not bind, and the tenancy of the frame would rest on its WHERE clauses alone.

Revision ID: 0024
Revises: 0023
Create Date: 2026-12-05 23:40:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0024"
down_revision: str | None = "0023"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

APP_ROLE = "fleetspend_app"
SCOPE_ROLE = "fleetspend_scope"
SIGNATURE = "fleetspend_auth.page_frame(text, text)"

PAGE_FRAME = """
create function fleetspend_auth.page_frame(email text, wanted_org_slug text)
returns table (actor_kind text, actor_id bigint, name text, memberships jsonb, grants jsonb,
               unread_alerts bigint, scope jsonb)
language plpgsql volatile security invoker
set search_path = pg_catalog, pg_temp
as $$
declare
    caller record;
    org_in_view bigint;
begin
    -- no scope until the caller is known: nobody reads nothing
    perform set_config('fleetspend.user_id', '', true);
    perform set_config('fleetspend.staff_user_id', '', true);
    perform set_config('fleetspend.grant_id', '', true);
    perform set_config('fleetspend.org_ids', '', true);

    -- the caller: a customer before a support engineer with the same email
    select identified.actor_kind, identified.actor_id, identified.name into caller
    from fleetspend_auth.identify(page_frame.email) as identified
    order by identified.actor_kind = 'staff'
    limit 1;
    if not found then
        return;
    end if;
    actor_kind := caller.actor_kind;
    actor_id := caller.actor_id;
    name := caller.name;
    memberships := '[]';
    grants := '[]';

    -- the caller's scope, without an organization yet: what the reads below are bound by
    perform set_config(case when caller.actor_kind = 'user' then 'fleetspend.user_id'
                            else 'fleetspend.staff_user_id' end,
                       caller.actor_id::text, true);

    if caller.actor_kind = 'user' then
        -- the organizations the customer belongs to now (queries/caller_memberships.sql)
        select coalesce(jsonb_agg(jsonb_build_object(
                   'org_id', organizations.org_id, 'slug', organizations.slug,
                   'name', organizations.name, 'role', belongs.role)
                   order by organizations.slug), '[]')
        into memberships
        from public.memberships as belongs
        inner join public.organizations on organizations.org_id = belongs.org_id
        where belongs.user_id = caller.actor_id
          and belongs.created_at <= now()
          and (belongs.removed_at is null or belongs.removed_at > now())
          and (organizations.closed_at is null or organizations.closed_at > now());

        -- the organization in view: the one asked for if theirs, else the first
        select (listed.value ->> 'org_id')::bigint into org_in_view
        from jsonb_array_elements(memberships) with ordinality as listed(value, position)
        order by listed.value ->> 'slug' is not distinct from wanted_org_slug desc,
                 listed.position
        limit 1;

        if org_in_view is not null then
            perform set_config('fleetspend.org_ids', org_in_view::text, true);
            -- unread alerts there (queries/alert_unread_count.sql)
            select count(*) into unread_alerts
            from public.alerts
            where alerts.org_id = org_in_view
              and not exists (
                  select from public.alert_receipts
                  where alert_receipts.org_id = alerts.org_id
                    and alert_receipts.alert_id = alerts.alert_id
                    and alert_receipts.user_id = caller.actor_id)
              and not exists (
                  select from public.alert_mutes
                  where alert_mutes.org_id = alerts.org_id
                    and alert_mutes.user_id = caller.actor_id
                    and alert_mutes.kind = alerts.kind
                    and alert_mutes.budget_id is not distinct from alerts.budget_id);
        end if;
    else
        -- the engineer's own grants not revoked (queries/support_grants_of_engineer.sql)
        select coalesce(jsonb_agg(jsonb_build_object(
                   'grant_id', own.grant_id, 'org_id', own.org_id,
                   'org_name', granted.org_name, 'support_ticket', own.support_ticket,
                   'reason', own.reason, 'granted_at', own.granted_at,
                   'expires_at', own.expires_at)
                   order by own.granted_at desc, own.grant_id desc), '[]')
        into grants
        from (
            select support_grants.grant_id, support_grants.org_id,
                   support_grants.support_ticket, support_grants.reason,
                   support_grants.granted_at, support_grants.expires_at
            from public.support_grants
            where support_grants.staff_user_id = caller.actor_id
              and support_grants.revoked_at is null
            order by support_grants.granted_at desc, support_grants.grant_id desc
            limit 50
        ) as own
        inner join fleetspend_auth.granted_organizations() as granted
            on granted.org_id = own.org_id;
    end if;

    scope := jsonb_build_object(
        'fleetspend.org_ids', current_setting('fleetspend.org_ids'),
        'fleetspend.user_id', current_setting('fleetspend.user_id'),
        'fleetspend.staff_user_id', current_setting('fleetspend.staff_user_id'),
        'fleetspend.grant_id', current_setting('fleetspend.grant_id'));
    return next;
end
$$;
"""


def upgrade() -> None:
    op.execute(PAGE_FRAME)
    op.execute(f"revoke execute on function {SIGNATURE} from public")
    op.execute(f"grant execute on function {SIGNATURE} to {APP_ROLE}")
    op.execute(f"alter function {SIGNATURE} owner to {SCOPE_ROLE}")


def downgrade() -> None:
    op.execute(f"drop function {SIGNATURE}")
