"""Accounts by import: organizations close, memberships end, support engineers leave.

``fleetspend ingest`` imports organizations, teams, apps, users, memberships and support
engineers (docs/import-format.md). Nothing is deleted: an organization gets ``closed_at``, a
membership ``removed_at`` (its ``created_at`` is when it began), a support engineer
``removed_at``. Access follows them at the next page view, enforced here, in the functions
the row-level security policies and the app ask:

- ``visible_org_ids``: a customer sees an organization only through a membership that has
  begun and not ended, of an organization not closed; a support engineer who has left sees
  nothing, grants or not (a closed organization stays open to support under a grant: disputes
  outlive customers);
- ``revoke_support_grant``: only a current admin of the organization revokes a grant;
- ``identify``: a support engineer who has left is nobody. A customer without a current
  membership still signs in, and is shown no organization.

Every condition is evaluated at ``now()``, the page view's transaction, so a removal dated
ahead takes effect when its time comes.

Revision ID: 0015
Revises: 0012
Create Date: 2026-12-05 11:20:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0015"
down_revision: str | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

UTC_TIMESTAMP = postgresql.TIMESTAMP(timezone=True)

# the conditions that make a membership, and a support engineer, count now (the downgrade
# puts back the functions without them)
CURRENT_MEMBERSHIP = """
          and memberships.created_at <= now()
          and (memberships.removed_at is null or memberships.removed_at > now())
          and exists (select from public.organizations
                      where organizations.org_id = memberships.org_id
                        and (organizations.closed_at is null or organizations.closed_at > now()))"""
CURRENT_ENGINEER = """
          and exists (select from public.staff_users
                      where staff_users.staff_user_id = identity.staff_user_id
                        and (staff_users.removed_at is null or staff_users.removed_at > now()))"""
CURRENT_STAFF_ROW = """
    and (staff_users.removed_at is null or staff_users.removed_at > now())"""

VISIBLE_ORG_IDS = """
create or replace function fleetspend_auth.visible_org_ids(access text) returns bigint[]
language plpgsql stable security definer
set search_path = pg_catalog, pg_temp
as $$
declare
    identity record := fleetspend_auth.scope_identity();
    scope_grant_id bigint := fleetspend_auth.scope_setting('fleetspend.grant_id');
    narrowed text := nullif(trim(current_setting('fleetspend.org_ids', true)), '');
    visible bigint[];
begin
    if access not in ('usage', 'billing', 'oversight') then
        raise exception 'unknown access level %', access using errcode = '22023';
    end if;
    if identity.user_id is not null then
        if scope_grant_id is not null then
            raise exception 'support grants are for support engineers, not customers'
                using errcode = '42501';
        end if;
        select coalesce(array_agg(memberships.org_id), '{{}}') into visible
        from public.memberships
        where memberships.user_id = identity.user_id
          and (access = 'usage' or memberships.role = 'admin'){membership};
    elsif scope_grant_id is null then
        visible := '{{}}';
    else
        select array[support_grants.org_id] into visible
        from public.support_grants
        where support_grants.grant_id = scope_grant_id
          and support_grants.staff_user_id = identity.staff_user_id
          and support_grants.revoked_at is null
          and support_grants.expires_at > now(){engineer};
        if visible is null then
            raise exception 'support grant % is not active for this engineer here: it has '
                            'expired, was revoked, is someone else''s or has not reached this '
                            'server yet', scope_grant_id
                using errcode = 'FSG01';
        end if;
        if access = 'oversight' then  -- support never reads the oversight of its own access
            visible := '{{}}';
        end if;
    end if;
    if narrowed is not null then
        if narrowed !~ '^[0-9]{{1,18}}(,[0-9]{{1,18}})*$' then
            raise exception 'fleetspend.org_ids must be comma-separated org ids, got %', narrowed
                using errcode = '22023';
        end if;
        visible := array(select unnest(visible)
                         intersect
                         select unnest(string_to_array(narrowed, ',')::bigint[]));
    end if;
    return visible;
end
$$;
"""

IDENTIFY = """
create or replace function fleetspend_auth.identify(email text)
returns table (actor_kind text, actor_id bigint, name text)
language sql stable security definer
set search_path = pg_catalog, pg_temp
as $$
    select 'user', users.user_id, users.name from public.users
    where lower(users.email) = lower(identify.email)
    union all
    select 'staff', staff_users.staff_user_id, staff_users.name from public.staff_users
    where lower(staff_users.email) = lower(identify.email){staff}
$$;
"""

REVOKE_GRANT = """
create or replace function fleetspend_auth.revoke_support_grant(revoked_grant_id bigint)
returns timestamptz
language plpgsql volatile security definer
set search_path = pg_catalog, pg_temp
as $$
declare
    identity record := fleetspend_auth.scope_identity();
    target record;
begin
    select support_grants.org_id, support_grants.grant_id, support_grants.staff_user_id,
           support_grants.support_ticket, support_grants.revoked_at, support_grants.expires_at
    into target
    from public.support_grants
    where support_grants.grant_id = revoked_grant_id
    for update;
    if not found or not (
        target.staff_user_id is not distinct from identity.staff_user_id
        or exists (select from public.memberships
                   where memberships.user_id = identity.user_id
                     and memberships.org_id = target.org_id
                     and memberships.role = 'admin'{membership})) then
        raise exception 'support grant % is not yours to revoke', revoked_grant_id
            using errcode = '42501';
    end if;
    if target.revoked_at is not null or target.expires_at <= now() then
        raise exception 'support grant % has already ended', revoked_grant_id
            using errcode = 'FSA01';
    end if;
    update public.support_grants set revoked_at = now()
    where support_grants.org_id = target.org_id and support_grants.grant_id = target.grant_id;
    insert into public.audit_events (org_id, actor_kind, actor_id, action, detail)
    values (target.org_id,
            case when identity.staff_user_id is null then 'user' else 'staff' end,
            coalesce(identity.staff_user_id, identity.user_id), 'support.access_revoked',
            jsonb_build_object('grant_id', target.grant_id,
                               'support_ticket', target.support_ticket));
    return now();
end
$$;
"""


def _functions(*, current: bool) -> None:
    membership = CURRENT_MEMBERSHIP if current else ""
    op.execute(VISIBLE_ORG_IDS.format(membership=membership,
                                      engineer=CURRENT_ENGINEER if current else ""))
    op.execute(IDENTIFY.format(staff=CURRENT_STAFF_ROW if current else ""))
    op.execute(REVOKE_GRANT.format(membership=membership))


def upgrade() -> None:
    op.add_column("organizations", sa.Column("closed_at", UTC_TIMESTAMP, nullable=True))
    op.create_check_constraint(op.f("ck_organizations_closed_after_created"), "organizations",
                               "closed_at is null or closed_at >= created_at")
    op.add_column("memberships", sa.Column("removed_at", UTC_TIMESTAMP, nullable=True))
    op.create_check_constraint(op.f("ck_memberships_removed_after_joined"), "memberships",
                               "removed_at is null or removed_at >= created_at")
    op.add_column("staff_users", sa.Column("removed_at", UTC_TIMESTAMP, nullable=True))
    _functions(current=True)


def downgrade() -> None:
    _functions(current=False)
    op.drop_column("staff_users", "removed_at")
    op.drop_constraint(op.f("ck_memberships_removed_after_joined"), "memberships")
    op.drop_column("memberships", "removed_at")
    op.drop_constraint(op.f("ck_organizations_closed_after_created"), "organizations")
    op.drop_column("organizations", "closed_at")
