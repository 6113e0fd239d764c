"""Budgets, alerts and their delivery: spend that warns before the invoice does.

Tables (every one a tenant table: ``org_id`` first in its key, row-level security forced):

- ``budgets`` (organization, team or app; a monthly amount in cents, thresholds in percent on
  actual and on forecast spend) and ``budget_month_amounts`` (a month that differs);
- ``alerts``: what ``fleetspend alerts run`` found. A budget alert fires once per budget,
  month, kind and threshold and an anomaly once per anomaly key: unique indexes say so, so
  evaluation may run as often as it likes;
- ``alert_receipts`` (one person's read and acknowledged state of one alert; no row is
  unread) and ``alert_mutes`` (one person silencing a kind of alert of one budget, or
  anomalies): each person's own rows only;
- ``alert_email_recipients``, ``alert_webhooks`` (the secret signs webhook bodies; the app's
  role may write it through a function but has no privilege to read that column),
  ``alert_deliveries`` (one alert to one channel, retried until sent) and
  ``delivery_attempts`` (every attempt, for the admins' delivery log).

Who reads what, as in 0004: budgets, their months and alerts at the ``usage`` level (members
see the budgets of their organization, which all cover them; support under a grant);
delivery settings, deliveries and attempts at ``oversight`` (the organization's admins).

Budgets and delivery settings are written only through SECURITY DEFINER functions that write
the change and its audit event in one statement, as 0010 does for support's writes, and
only for an admin of the organization (42501 otherwise; FSB01 for a refusal a person can
fix): ``save_budget``, ``archive_budget``, ``set_alert_recipients``, ``add_alert_webhook``,
``set_alert_webhook_enabled``. The app's role writes its own receipts and mutes directly.
Evaluation and delivery run as the schema owner (``DATABASE_URL``), like billing runs.

Revision ID: 0016
Revises: 0012
Create Date: 2026-12-05 11:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0016"
down_revision: str | None = "0015"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

APP_ROLE = "fleetspend_app"
SCOPE_ROLE = "fleetspend_scope"

USAGE_TABLES = ("budgets", "budget_month_amounts", "alerts")
OWN_TABLES = ("alert_receipts", "alert_mutes")
OVERSIGHT_TABLES = (
    "alert_email_recipients",
    "alert_webhooks",
    "alert_deliveries",
    "delivery_attempts",
)
TABLES = USAGE_TABLES + OWN_TABLES + OVERSIGHT_TABLES
# what the app's role may read of a webhook: everything but its secret
WEBHOOK_READABLE = "org_id, webhook_id, name, url, is_enabled, created_at"

FUNCTIONS = (
    "save_budget(bigint, bigint, text, text, bigint, bigint, bigint, smallint[], smallint[], "
    "jsonb)",
    "archive_budget(bigint, bigint)",
    "set_alert_recipients(bigint, text[])",
    "add_alert_webhook(bigint, text, text, text)",
    "set_alert_webhook_enabled(bigint, bigint, boolean)",
)

# the functions write these as their owner
SCOPE_WRITES = {
    "budgets": "select, insert, update",
    "budget_month_amounts": "select, insert, delete",
    "alert_email_recipients": "select, insert, delete",
    "alert_webhooks": "select, insert, update",
}

ADMIN_CHECK = """
create function fleetspend_auth.require_admin(admin_org_id bigint) returns bigint
language plpgsql stable security definer
set search_path = pg_catalog, pg_temp
as $$
declare
    admin_user_id bigint := fleetspend_auth.scope_user_id();
begin
    if admin_user_id is null
       or not admin_org_id = any(fleetspend_auth.visible_org_ids('oversight')) then
        raise exception 'only an admin of the organization changes its budgets and alert '
                        'delivery' using errcode = '42501';
    end if;
    return admin_user_id;
end
$$;
"""

SAVE_BUDGET = """
create function fleetspend_auth.save_budget(
    budget_org_id bigint, saved_budget_id bigint, budget_name text, budget_scope_kind text,
    budget_team_id bigint, budget_app_id bigint, budget_amount_cents bigint,
    budget_actual_thresholds smallint[], budget_forecast_thresholds smallint[],
    budget_month_amounts jsonb)
returns bigint
language plpgsql volatile security definer
set search_path = pg_catalog, pg_temp
as $$
declare
    admin_user_id bigint := fleetspend_auth.require_admin(budget_org_id);
    before jsonb;
    saved bigint := saved_budget_id;
begin
    if coalesce(trim(budget_name), '') = '' then
        raise exception 'a budget needs a name' using errcode = 'FSB01';
    end if;
    if budget_amount_cents is null or budget_amount_cents <= 0 then
        raise exception 'a budget is a positive number of cents' using errcode = 'FSB01';
    end if;
    if budget_month_amounts is not null and jsonb_typeof(budget_month_amounts) <> 'object' then
        raise exception 'month amounts are an object of month -> cents' using errcode = 'FSB01';
    end if;
    if saved is null then
        insert into public.budgets (org_id, name, scope_kind, team_id, app_id, amount_cents,
                                    actual_thresholds, forecast_thresholds)
        values (budget_org_id, trim(budget_name), budget_scope_kind, budget_team_id,
                budget_app_id, budget_amount_cents, budget_actual_thresholds,
                budget_forecast_thresholds)
        returning budgets.budget_id into saved;
    else
        select to_jsonb(budgets) || jsonb_build_object('month_amounts', coalesce((
                   select jsonb_object_agg(month_date, amount_cents)
                   from public.budget_month_amounts
                   where budget_month_amounts.org_id = budgets.org_id
                     and budget_month_amounts.budget_id = budgets.budget_id), '{}'))
        into before
        from public.budgets
        where budgets.org_id = budget_org_id and budgets.budget_id = saved
          and not budgets.is_archived
        for update;
        if before is null then
            raise exception 'there is no budget % to change', saved using errcode = 'FSB01';
        end if;
        update public.budgets
        set name = trim(budget_name), scope_kind = budget_scope_kind,
            team_id = budget_team_id, app_id = budget_app_id,
            amount_cents = budget_amount_cents, actual_thresholds = budget_actual_thresholds,
            forecast_thresholds = budget_forecast_thresholds, updated_at = now()
        where budgets.org_id = budget_org_id and budgets.budget_id = saved;
        delete from public.budget_month_amounts
        where budget_month_amounts.org_id = budget_org_id
          and budget_month_amounts.budget_id = saved;
    end if;
    insert into public.budget_month_amounts (org_id, budget_id, month_date, amount_cents)
    select budget_org_id, saved, cast(months.key as date), cast(months.value as bigint)
    from jsonb_each_text(coalesce(budget_month_amounts, '{}')) as months;
    insert into public.audit_events (org_id, actor_kind, actor_id, action, detail)
    select budget_org_id, 'user', admin_user_id,
           case when before is null then 'budget.created' else 'budget.changed' end,
           jsonb_build_object('budget_id', saved, 'before', before,
                              'after', to_jsonb(budgets) || jsonb_build_object(
                                  'month_amounts', coalesce(budget_month_amounts, '{}')))
    from public.budgets
    where budgets.org_id = budget_org_id and budgets.budget_id = saved;
    return saved;
end
$$;
"""

ARCHIVE_BUDGET = """
create function fleetspend_auth.archive_budget(budget_org_id bigint, archived_budget_id bigint)
returns void
language plpgsql volatile security definer
set search_path = pg_catalog, pg_temp
as $$
declare
    admin_user_id bigint := fleetspend_auth.require_admin(budget_org_id);
begin
    update public.budgets set is_archived = true, updated_at = now()
    where budgets.org_id = budget_org_id and budgets.budget_id = archived_budget_id
      and not budgets.is_archived;
    if not found then
        raise exception 'there is no budget % to archive', archived_budget_id
            using errcode = 'FSB01';
    end if;
    insert into public.audit_events (org_id, actor_kind, actor_id, action, detail)
    values (budget_org_id, 'user', admin_user_id, 'budget.archived',
            jsonb_build_object('budget_id', archived_budget_id));
end
$$;
"""

SET_RECIPIENTS = """
create function fleetspend_auth.set_alert_recipients(recipients_org_id bigint, emails text[])
returns void
language plpgsql volatile security definer
set search_path = pg_catalog, pg_temp
as $$
declare
    admin_user_id bigint := fleetspend_auth.require_admin(recipients_org_id);
    before jsonb;
begin
    select coalesce(jsonb_agg(email order by email), '[]') into before
    from public.alert_email_recipients where org_id = recipients_org_id;
    delete from public.alert_email_recipients where org_id = recipients_org_id;
    insert into public.alert_email_recipients (org_id, email)
    select distinct recipients_org_id, lower(trim(address))
    from unnest(coalesce(emails, '{}')) as address
    where trim(address) <> '';
    insert into public.audit_events (org_id, actor_kind, actor_id, action, detail)
    select recipients_org_id, 'user', admin_user_id, 'alerts.recipients_changed',
           jsonb_build_object('before', before,
                              'after', coalesce(jsonb_agg(email order by email), '[]'))
    from public.alert_email_recipients where org_id = recipients_org_id;
end
$$;
"""

ADD_WEBHOOK = """
create function fleetspend_auth.add_alert_webhook(
    webhook_org_id bigint, webhook_name text, webhook_url text, webhook_secret text)
returns bigint
language plpgsql volatile security definer
set search_path = pg_catalog, pg_temp
as $$
declare
    admin_user_id bigint := fleetspend_auth.require_admin(webhook_org_id);
    added bigint;
begin
    if coalesce(length(webhook_secret), 0) < 16 then
        raise exception 'a webhook secret has at least 16 characters' using errcode = 'FSB01';
    end if;
    if coalesce(webhook_url, '') !~ '^https?://[^[:space:]]+$' then
        raise exception 'a webhook URL starts with http:// or https://' using errcode = 'FSB01';
    end if;
    insert into public.alert_webhooks (org_id, name, url, secret)
    values (webhook_org_id, coalesce(nullif(trim(webhook_name), ''), webhook_url), webhook_url,
            webhook_secret)
    returning alert_webhooks.webhook_id into added;
    -- never the secret
    insert into public.audit_events (org_id, actor_kind, actor_id, action, detail)
    values (webhook_org_id, 'user', admin_user_id, 'alerts.webhook_added',
            jsonb_build_object('webhook_id', added, 'name', webhook_name, 'url', webhook_url));
    return added;
end
$$;
"""

SET_WEBHOOK_ENABLED = """
create function fleetspend_auth.set_alert_webhook_enabled(
    webhook_org_id bigint, changed_webhook_id bigint, enabled boolean)
returns void
language plpgsql volatile security definer
set search_path = pg_catalog, pg_temp
as $$
declare
    admin_user_id bigint := fleetspend_auth.require_admin(webhook_org_id);
begin
    update public.alert_webhooks set is_enabled = enabled
    where alert_webhooks.org_id = webhook_org_id
      and alert_webhooks.webhook_id = changed_webhook_id;
    if not found then
        raise exception 'there is no webhook %', changed_webhook_id using errcode = 'FSB01';
    end if;
    insert into public.audit_events (org_id, actor_kind, actor_id, action, detail)
    values (webhook_org_id, 'user', admin_user_id,
            case when enabled then 'alerts.webhook_enabled' else 'alerts.webhook_disabled' end,
            jsonb_build_object('webhook_id', changed_webhook_id));
end
$$;
"""


def _visible(access: str) -> str:
    return f"org_id = any ((select fleetspend_auth.visible_org_ids('{access}'))::bigint[])"


# a person's own rows; asking for the organizations first makes an inactive support grant
# raise FSG01 here too, as on every other table
OWN = ("user_id = (select fleetspend_auth.scope_user_id() "
       "where fleetspend_auth.visible_org_ids('usage') is not null)")


def _policies() -> list[str]:
    statements = [
        f"create policy app_reads on {table} for select to {APP_ROLE} using ({_visible('usage')})"
        for table in USAGE_TABLES
    ]
    statements += [
        f"create policy app_reads on {table} for select to {APP_ROLE} "
        f"using ({_visible('oversight')})"
        for table in OVERSIGHT_TABLES
    ]
    own = f"{_visible('usage')} and {OWN}"
    statements += [
        f"create policy app_reads on alert_receipts for select to {APP_ROLE} using ({own})",
        f"create policy person_reads on alert_receipts for insert to {APP_ROLE} with check ({own})",
        f"create policy person_acknowledges on alert_receipts for update to {APP_ROLE} "
        f"using ({own}) with check ({own})",
        f"create policy app_reads on alert_mutes for select to {APP_ROLE} using ({own})",
        f"create policy person_mutes on alert_mutes for insert to {APP_ROLE} with check ({own})",
        f"create policy person_unmutes on alert_mutes for delete to {APP_ROLE} using ({own})",
    ]
    for table in SCOPE_WRITES:
        statements.append(
            f"create policy scope_writes on {table} for all to {SCOPE_ROLE} "
            "using (true) with check (true)"
        )
    return statements


def upgrade() -> None:
    op.create_table(
        "alert_email_recipients",
        sa.Column("org_id", sa.BigInteger(), nullable=False),
        sa.Column("email", sa.Text(), nullable=False),
        sa.Column(
            "created_at",
            postgresql.TIMESTAMP(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint(
            "email ~ '^[^@\\s<>,;]+@[^@\\s<>,;]+$'",
            name=op.f("ck_alert_email_recipients_email_format"),
        ),
        sa.ForeignKeyConstraint(
            ["org_id"],
            ["organizations.org_id"],
            name=op.f("fk_alert_email_recipients_org_id_organizations"),
        ),
        sa.PrimaryKeyConstraint("org_id", "email", name=op.f("pk_alert_email_recipients")),
    )
    op.create_table(
        "alert_webhooks",
        sa.Column("org_id", sa.BigInteger(), nullable=False),
        sa.Column("webhook_id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("url", sa.Text(), nullable=False),
        sa.Column("secret", sa.Text(), nullable=False),
        sa.Column("is_enabled", sa.Boolean(), server_default=sa.text("true"), nullable=False),
        sa.Column(
            "created_at",
            postgresql.TIMESTAMP(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint(
            "url ~ '^https?://[^\\s]+$'", name=op.f("ck_alert_webhooks_url_is_http")
        ),
        sa.CheckConstraint(
            "length(secret) >= 16", name=op.f("ck_alert_webhooks_secret_long_enough")
        ),
        sa.ForeignKeyConstraint(
            ["org_id"],
            ["organizations.org_id"],
            name=op.f("fk_alert_webhooks_org_id_organizations"),
        ),
        sa.PrimaryKeyConstraint("org_id", "webhook_id", name=op.f("pk_alert_webhooks")),
    )
    op.create_table(
        "budgets",
        sa.Column("org_id", sa.BigInteger(), nullable=False),
        sa.Column("budget_id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("scope_kind", sa.Text(), nullable=False),
        sa.Column("team_id", sa.BigInteger(), nullable=True),
        sa.Column("app_id", sa.BigInteger(), nullable=True),
        sa.Column("amount_cents", sa.BigInteger(), nullable=False),
        sa.Column(
            "actual_thresholds",
            postgresql.ARRAY(sa.SmallInteger()),
            server_default=sa.text("'{50,80,100}'"),
            nullable=False,
        ),
        sa.Column(
            "forecast_thresholds",
            postgresql.ARRAY(sa.SmallInteger()),
            server_default=sa.text("'{100}'"),
            nullable=False,
        ),
        sa.Column("is_archived", sa.Boolean(), server_default=sa.text("false"), nullable=False),
        sa.Column(
            "created_at",
            postgresql.TIMESTAMP(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column(
            "updated_at",
            postgresql.TIMESTAMP(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint(
            "(scope_kind = 'organization' and team_id is null and app_id is null) or (scope_kind = 'team' and team_id is not null and app_id is null) or (scope_kind = 'app' and app_id is not null and team_id is null)",
            name=op.f("ck_budgets_scope_names_one_subject"),
        ),
        sa.CheckConstraint(
            "0 < all(actual_thresholds) and 1000 >= all(actual_thresholds) and 0 < all(forecast_thresholds) and 1000 >= all(forecast_thresholds)",
            name=op.f("ck_budgets_thresholds_are_percents"),
        ),
        sa.CheckConstraint("amount_cents > 0", name=op.f("ck_budgets_amount_positive")),
        sa.CheckConstraint("length(trim(name)) > 0", name=op.f("ck_budgets_name_given")),
        sa.ForeignKeyConstraint(
            ["org_id", "app_id"],
            ["apps.org_id", "apps.app_id"],
            name=op.f("fk_budgets_org_id_app_id_apps"),
        ),
        sa.ForeignKeyConstraint(
            ["org_id", "team_id"],
            ["teams.org_id", "teams.team_id"],
            name=op.f("fk_budgets_org_id_team_id_teams"),
        ),
        sa.ForeignKeyConstraint(
            ["org_id"], ["organizations.org_id"], name=op.f("fk_budgets_org_id_organizations")
        ),
        sa.PrimaryKeyConstraint("org_id", "budget_id", name=op.f("pk_budgets")),
    )
    op.create_table(
        "alert_mutes",
        sa.Column("org_id", sa.BigInteger(), nullable=False),
        sa.Column("mute_id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("user_id", sa.BigInteger(), nullable=False),
        sa.Column("kind", sa.Text(), nullable=False),
        sa.Column("budget_id", sa.BigInteger(), nullable=True),
        sa.Column(
            "created_at",
            postgresql.TIMESTAMP(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint(
            "(kind = 'anomaly') = (budget_id is null)",
            name=op.f("ck_alert_mutes_budget_or_anomaly"),
        ),
        sa.CheckConstraint(
            "kind in ('actual', 'forecast', 'anomaly')", name=op.f("ck_alert_mutes_kind_known")
        ),
        sa.ForeignKeyConstraint(
            ["org_id", "budget_id"],
            ["budgets.org_id", "budgets.budget_id"],
            name=op.f("fk_alert_mutes_org_id_budget_id_budgets"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.user_id"], name=op.f("fk_alert_mutes_user_id_users")
        ),
        sa.PrimaryKeyConstraint("org_id", "mute_id", name=op.f("pk_alert_mutes")),
        sa.UniqueConstraint(
            "org_id",
            "user_id",
            "kind",
            "budget_id",
            name=op.f("uq_alert_mutes_org_id_user_id_kind_budget_id"),
            postgresql_nulls_not_distinct=True,
        ),
    )
    op.create_table(
        "alerts",
        sa.Column("org_id", sa.BigInteger(), nullable=False),
        sa.Column("alert_id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("kind", sa.Text(), nullable=False),
        sa.Column("budget_id", sa.BigInteger(), nullable=True),
        sa.Column("period_start_date", sa.Date(), nullable=False),
        sa.Column("threshold_percent", sa.SmallInteger(), nullable=True),
        sa.Column("anomaly_key", sa.Text(), nullable=True),
        sa.Column(
            "fired_at",
            postgresql.TIMESTAMP(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("spent_cents", sa.BigInteger(), nullable=True),
        sa.Column("budget_cents", sa.BigInteger(), nullable=True),
        sa.Column("forecast_cents", sa.BigInteger(), nullable=True),
        sa.Column("forecast_low_cents", sa.BigInteger(), nullable=True),
        sa.Column("forecast_high_cents", sa.BigInteger(), nullable=True),
        sa.Column("is_invoiced", sa.Boolean(), server_default=sa.text("false"), nullable=False),
        sa.Column("title", sa.Text(), nullable=False),
        sa.Column("explanation", sa.Text(), nullable=False),
        sa.Column("link_page", sa.Text(), nullable=False),
        sa.Column(
            "link_params",
            postgresql.JSONB(astext_type=sa.Text()),
            server_default=sa.text("'{}'::jsonb"),
            nullable=False,
        ),
        sa.CheckConstraint(
            "(kind = 'anomaly') = (budget_id is null and threshold_percent is null and anomaly_key is not null)",
            name=op.f("ck_alerts_budget_or_anomaly"),
        ),
        sa.CheckConstraint(
            "kind in ('actual', 'forecast', 'anomaly')", name=op.f("ck_alerts_kind_known")
        ),
        sa.CheckConstraint(
            "extract(day from period_start_date) = 1", name=op.f("ck_alerts_period_is_month")
        ),
        sa.ForeignKeyConstraint(
            ["org_id", "budget_id"],
            ["budgets.org_id", "budgets.budget_id"],
            name=op.f("fk_alerts_org_id_budget_id_budgets"),
        ),
        sa.ForeignKeyConstraint(
            ["org_id"], ["organizations.org_id"], name=op.f("fk_alerts_org_id_organizations")
        ),
        sa.PrimaryKeyConstraint("org_id", "alert_id", name=op.f("pk_alerts")),
    )
    op.create_index(
        op.f("ix_alerts_org_id_fired_at"), "alerts", ["org_id", "fired_at"], unique=False
    )
    op.create_index(
        "uq_alerts_anomaly",
        "alerts",
        ["org_id", "anomaly_key"],
        unique=True,
        postgresql_where=sa.text("anomaly_key is not null"),
    )
    op.create_index(
        "uq_alerts_budget_period_threshold",
        "alerts",
        ["org_id", "budget_id", "period_start_date", "kind", "threshold_percent"],
        unique=True,
        postgresql_where=sa.text("budget_id is not null"),
    )
    op.create_table(
        "budget_month_amounts",
        sa.Column("org_id", sa.BigInteger(), nullable=False),
        sa.Column("budget_id", sa.BigInteger(), nullable=False),
        sa.Column("month_date", sa.Date(), nullable=False),
        sa.Column("amount_cents", sa.BigInteger(), nullable=False),
        sa.CheckConstraint(
            "amount_cents > 0", name=op.f("ck_budget_month_amounts_amount_positive")
        ),
        sa.CheckConstraint(
            "extract(day from month_date) = 1",
            name=op.f("ck_budget_month_amounts_month_date_is_month"),
        ),
        sa.ForeignKeyConstraint(
            ["org_id", "budget_id"],
            ["budgets.org_id", "budgets.budget_id"],
            name=op.f("fk_budget_month_amounts_org_id_budget_id_budgets"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint(
            "org_id", "budget_id", "month_date", name=op.f("pk_budget_month_amounts")
        ),
    )
    op.create_table(
        "alert_deliveries",
        sa.Column("org_id", sa.BigInteger(), nullable=False),
        sa.Column("delivery_id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("alert_id", sa.BigInteger(), nullable=False),
        sa.Column("channel", sa.Text(), nullable=False),
        sa.Column("recipients", postgresql.ARRAY(sa.Text()), nullable=True),
        sa.Column("webhook_id", sa.BigInteger(), nullable=True),
        sa.Column("status", sa.Text(), server_default=sa.text("'pending'"), nullable=False),
        sa.Column("attempts", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column(
            "next_attempt_at",
            postgresql.TIMESTAMP(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("sent_at", postgresql.TIMESTAMP(timezone=True), nullable=True),
        sa.CheckConstraint(
            "(channel = 'email') = (recipients is not null)",
            name=op.f("ck_alert_deliveries_recipients_named"),
        ),
        sa.CheckConstraint(
            "(channel = 'webhook') = (webhook_id is not null)",
            name=op.f("ck_alert_deliveries_webhook_named"),
        ),
        sa.CheckConstraint(
            "channel in ('email', 'webhook')", name=op.f("ck_alert_deliveries_channel_known")
        ),
        sa.CheckConstraint(
            "status in ('pending', 'sent', 'failed')", name=op.f("ck_alert_deliveries_status_known")
        ),
        sa.ForeignKeyConstraint(
            ["org_id", "alert_id"],
            ["alerts.org_id", "alerts.alert_id"],
            name=op.f("fk_alert_deliveries_org_id_alert_id_alerts"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["org_id", "webhook_id"],
            ["alert_webhooks.org_id", "alert_webhooks.webhook_id"],
            name=op.f("fk_alert_deliveries_org_id_webhook_id_alert_webhooks"),
        ),
        sa.PrimaryKeyConstraint("org_id", "delivery_id", name=op.f("pk_alert_deliveries")),
        sa.UniqueConstraint(
            "org_id",
            "alert_id",
            "channel",
            "webhook_id",
            name=op.f("uq_alert_deliveries_org_id_alert_id_channel_webhook_id"),
            postgresql_nulls_not_distinct=True,
        ),
    )
    op.create_index(
        "ix_alert_deliveries_due",
        "alert_deliveries",
        ["next_attempt_at"],
        unique=False,
        postgresql_where=sa.text("status = 'pending'"),
    )
    op.create_table(
        "alert_receipts",
        sa.Column("org_id", sa.BigInteger(), nullable=False),
        sa.Column("alert_id", sa.BigInteger(), nullable=False),
        sa.Column("user_id", sa.BigInteger(), nullable=False),
        sa.Column(
            "read_at",
            postgresql.TIMESTAMP(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("acknowledged_at", postgresql.TIMESTAMP(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["org_id", "alert_id"],
            ["alerts.org_id", "alerts.alert_id"],
            name=op.f("fk_alert_receipts_org_id_alert_id_alerts"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.user_id"], name=op.f("fk_alert_receipts_user_id_users")
        ),
        sa.PrimaryKeyConstraint("org_id", "alert_id", "user_id", name=op.f("pk_alert_receipts")),
    )
    op.create_table(
        "delivery_attempts",
        sa.Column("org_id", sa.BigInteger(), nullable=False),
        sa.Column("attempt_id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("delivery_id", sa.BigInteger(), nullable=False),
        sa.Column(
            "attempted_at",
            postgresql.TIMESTAMP(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("is_success", sa.Boolean(), nullable=False),
        sa.Column("status_code", sa.Integer(), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("duration_ms", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["org_id", "delivery_id"],
            ["alert_deliveries.org_id", "alert_deliveries.delivery_id"],
            name=op.f("fk_delivery_attempts_org_id_delivery_id_alert_deliveries"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("org_id", "attempt_id", name=op.f("pk_delivery_attempts")),
    )
    op.create_index(
        op.f("ix_delivery_attempts_org_id_delivery_id"),
        "delivery_attempts",
        ["org_id", "delivery_id"],
        unique=False,
    )

    for table in TABLES:
        op.execute(f"alter table {table} enable row level security")
        op.execute(f"alter table {table} force row level security")
    for statement in _policies():
        op.execute(statement)
    readable = [table for table in TABLES if table != "alert_webhooks"]
    op.execute(f"grant select on {', '.join(readable)} to {APP_ROLE}")
    op.execute(f"grant select ({WEBHOOK_READABLE}) on alert_webhooks to {APP_ROLE}")
    op.execute(f"grant insert, update (read_at, acknowledged_at) on alert_receipts to {APP_ROLE}")
    op.execute(f"grant insert, delete on alert_mutes to {APP_ROLE}")
    for table, privileges in SCOPE_WRITES.items():
        op.execute(f"grant {privileges} on {table} to {SCOPE_ROLE}")

    op.execute(ADMIN_CHECK)
    for function in (SAVE_BUDGET, ARCHIVE_BUDGET, SET_RECIPIENTS, ADD_WEBHOOK, SET_WEBHOOK_ENABLED):
        op.execute(function)
    op.execute(f"alter function fleetspend_auth.require_admin(bigint) owner to {SCOPE_ROLE}")
    op.execute("revoke execute on function fleetspend_auth.require_admin(bigint) from public")
    functions = ", ".join(f"fleetspend_auth.{signature}" for signature in FUNCTIONS)
    op.execute(f"revoke execute on function {functions} from public")
    op.execute(f"grant execute on function {functions} to {APP_ROLE}")
    for signature in FUNCTIONS:
        op.execute(f"alter function fleetspend_auth.{signature} owner to {SCOPE_ROLE}")


def downgrade() -> None:
    for signature in (*FUNCTIONS, "require_admin(bigint)"):
        op.execute(f"drop function fleetspend_auth.{signature}")
    for table in reversed(TABLES):
        op.execute(f"revoke all on {table} from {APP_ROLE}, {SCOPE_ROLE}")
    for table in (
        "delivery_attempts",
        "alert_deliveries",
        "alert_receipts",
        "alert_mutes",
        "alerts",
        "budget_month_amounts",
        "budgets",
        "alert_webhooks",
        "alert_email_recipients",
    ):
        op.drop_table(table)
