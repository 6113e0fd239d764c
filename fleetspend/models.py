"""Table metadata: the one source of truth for the schema and its Alembic migrations.

Reference tables (regions, presets, the price book) are global. Every tenant table carries
``org_id`` and its primary key starts with it, so the database can later distribute tenant
tables by organization. Money is integer cents (``*_cents``) with the precise amount kept
beside it as NUMERIC; times are ``timestamptz`` in UTC (``*_at``); dates are ``*_date``.
"""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Column,
    Date,
    ForeignKey,
    ForeignKeyConstraint,
    Identity,
    Index,
    Integer,
    MetaData,
    Numeric,
    PrimaryKeyConstraint,
    SmallInteger,
    Table,
    Text,
    UniqueConstraint,
    column,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import ARRAY, JSONB, TIMESTAMP, ExcludeConstraint

metadata = MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_N_name)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        "ck": "ck_%(table_name)s_%(constraint_name)s",
        "fk": "fk_%(table_name)s_%(column_0_N_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)

UTC_TIMESTAMP = TIMESTAMP(timezone=True)
# unrounded money and pricing quantities: 18 decimals keep a marked-up per-second price
# (12-decimal rate x 4-decimal markup x quarter-GB RAM steps) exact
MONEY_PRECISE = Numeric(30, 18)
PRICING_QUANTITY = Numeric(30, 18)
QUANTITY = Numeric(24, 6)


def _created_at() -> Column:
    return Column("created_at", UTC_TIMESTAMP, nullable=False, server_default=func.now())


def _tenant_fk(
    columns: list[str], table: str, referred: list[str], **kwargs
) -> ForeignKeyConstraint:
    """A foreign key that includes org_id, so a row can only point inside its own tenant."""
    return ForeignKeyConstraint(
        ["org_id", *columns], [f"{table}.org_id", *(f"{table}.{c}" for c in referred)], **kwargs
    )


# --- reference data (global) -------------------------------------------------------------

egress_groups = Table(
    "egress_groups", metadata,
    Column("egress_group", Text, primary_key=True),
    Column("name", Text, nullable=False),
)

regions = Table(
    "regions", metadata,
    Column("region_code", Text, primary_key=True),
    Column("city", Text, nullable=False),
    Column("country", Text, nullable=False),
    Column("continent", Text, nullable=False),
    Column("latitude", Numeric(8, 5), nullable=False),
    Column("longitude", Numeric(8, 5), nullable=False),
    Column("price_markup", Numeric(6, 4), nullable=False),
    Column("egress_group", Text, ForeignKey("egress_groups.egress_group"), nullable=False),
    Column("is_retired", Boolean, nullable=False, server_default=text("false")),
    CheckConstraint("region_code ~ '^[a-z]{3}$'", name="code_format"),
    CheckConstraint("price_markup > 0", name="markup_positive"),
    CheckConstraint(
        "continent in ('Africa', 'Asia', 'Europe', 'North America', 'Oceania', 'South America')",
        name="continent_known",
    ),
)

cpu_kinds = Table(
    "cpu_kinds", metadata,
    Column("cpu_kind", Text, primary_key=True),
    Column("included_memory_mb_per_cpu", Integer, nullable=False),
    Column("min_memory_mb_per_cpu", Integer, nullable=False),
    Column("max_memory_mb_per_cpu", Integer, nullable=False),
    CheckConstraint("cpu_kind in ('shared', 'performance')", name="kind_known"),
)

presets = Table(
    "presets", metadata,
    Column("preset_code", Text, primary_key=True),
    Column("cpu_kind", Text, ForeignKey("cpu_kinds.cpu_kind"), nullable=False),
    Column("cpus", SmallInteger, nullable=False),
    Column("base_memory_mb", Integer, nullable=False),
    CheckConstraint("cpus > 0", name="cpus_positive"),
    CheckConstraint("base_memory_mb > 0", name="memory_positive"),
)

products = Table(
    "products", metadata,
    Column("product", Text, primary_key=True),
    Column("name", Text, nullable=False),
    Column("pricing_unit", Text, nullable=False),
    Column("consumed_unit", Text, nullable=False),
    Column("consumed_per_pricing_unit", Numeric(20, 6), nullable=False),
    CheckConstraint("consumed_per_pricing_unit > 0", name="conversion_positive"),
)

price_lists = Table(
    "price_lists", metadata,
    Column("price_list_id", SmallInteger, primary_key=True),
    Column("name", Text, nullable=False, unique=True),
    Column("effective_from", UTC_TIMESTAMP, nullable=False),
    Column("effective_until", UTC_TIMESTAMP),
    CheckConstraint(
        "effective_until is null or effective_until > effective_from", name="period_ordered"
    ),
    ExcludeConstraint(
        (func.tstzrange(text("effective_from"), text("effective_until")), "&&"),
        name="ex_price_lists_no_overlap",
        using="gist",
    ),
)

PRICE_COMPONENTS = (
    "vcpu_shared", "vcpu_performance", "ram_extra", "stopped_rootfs", "volume",
    "dedicated_ipv4", "egress_internet", "egress_private",
)

prices = Table(
    "prices", metadata,
    Column("price_list_id", SmallInteger, ForeignKey("price_lists.price_list_id"), nullable=False),
    Column("component", Text, nullable=False),
    # the egress group a price applies to, or 'any' for components priced the same everywhere
    Column("egress_group", Text, nullable=False, server_default="any"),
    Column("unit_price", Numeric(20, 12), nullable=False),
    Column("unit", Text, nullable=False),
    PrimaryKeyConstraint("price_list_id", "component", "egress_group"),
    CheckConstraint(
        "component in (" + ", ".join(f"'{c}'" for c in PRICE_COMPONENTS) + ")",
        name="component_known",
    ),
    CheckConstraint("unit_price >= 0", name="price_non_negative"),
    # only egress is priced by egress group; rating relies on it (fleetspend/billing/rating.py)
    CheckConstraint("component like 'egress%' or egress_group = 'any'",
                    name="group_prices_egress_only"),
)

# --- people ------------------------------------------------------------------------------

organizations = Table(
    "organizations", metadata,
    Column("org_id", BigInteger, Identity(), primary_key=True),
    Column("slug", Text, nullable=False, unique=True),
    Column("name", Text, nullable=False),
    _created_at(),
    Column("closed_at", UTC_TIMESTAMP),  # customers lose access from then (migration 0015)
    CheckConstraint("slug ~ '^[a-z0-9][a-z0-9-]{1,62}$'", name="slug_format"),
    CheckConstraint("closed_at is null or closed_at >= created_at", name="closed_after_created"),
)

users = Table(
    "users", metadata,
    Column("user_id", BigInteger, Identity(), primary_key=True),
    Column("email", Text, nullable=False, unique=True),
    Column("name", Text, nullable=False),
    _created_at(),
)

staff_users = Table(
    "staff_users", metadata,
    Column("staff_user_id", BigInteger, Identity(), primary_key=True),
    Column("email", Text, nullable=False, unique=True),
    Column("name", Text, nullable=False),
    _created_at(),
    Column("removed_at", UTC_TIMESTAMP),  # an engineer who left is nobody from then
)

memberships = Table(
    "memberships", metadata,
    Column("org_id", BigInteger, ForeignKey("organizations.org_id"), nullable=False),
    Column("user_id", BigInteger, ForeignKey("users.user_id"), nullable=False),
    Column("role", Text, nullable=False),
    _created_at(),  # when the membership began (the import's joined_at)
    Column("removed_at", UTC_TIMESTAMP),  # when it ended; the row stays as history
    PrimaryKeyConstraint("org_id", "user_id"),
    CheckConstraint("role in ('admin', 'member')", name="role_known"),
    CheckConstraint("removed_at is null or removed_at >= created_at",
                    name="removed_after_joined"),
    Index(None, "user_id"),
)

teams = Table(
    "teams", metadata,
    Column("org_id", BigInteger, ForeignKey("organizations.org_id"), nullable=False),
    Column("team_id", BigInteger, Identity(), nullable=False),
    Column("name", Text, nullable=False),
    _created_at(),
    PrimaryKeyConstraint("org_id", "team_id"),
    UniqueConstraint("org_id", "name"),
)

apps = Table(
    "apps", metadata,
    Column("org_id", BigInteger, nullable=False),
    Column("app_id", BigInteger, Identity(), nullable=False),
    Column("team_id", BigInteger, nullable=False),
    Column("name", Text, nullable=False),
    _created_at(),
    PrimaryKeyConstraint("org_id", "app_id"),
    UniqueConstraint("org_id", "name"),
    _tenant_fk(["team_id"], "teams", ["team_id"]),
)

# --- machines and volumes ----------------------------------------------------------------

machines = Table(
    "machines", metadata,
    Column("org_id", BigInteger, nullable=False),
    Column("machine_id", Text, nullable=False),
    Column("app_id", BigInteger, nullable=False),
    Column("region_code", Text, ForeignKey("regions.region_code"), nullable=False),
    Column("preset_code", Text, ForeignKey("presets.preset_code"), nullable=False),
    Column("memory_mb", Integer, nullable=False),
    Column("rootfs_gb", SmallInteger, nullable=False, server_default=text("1")),
    Column("created_at", UTC_TIMESTAMP, nullable=False),
    Column("destroyed_at", UTC_TIMESTAMP),
    PrimaryKeyConstraint("org_id", "machine_id"),
    _tenant_fk(["app_id"], "apps", ["app_id"]),
    CheckConstraint("machine_id ~ '^[0-9a-f]{14}$'", name="id_format"),
    CheckConstraint("memory_mb > 0 and mod(memory_mb, 256) = 0", name="memory_in_256mb_steps"),
    CheckConstraint("rootfs_gb > 0", name="rootfs_positive"),
    CheckConstraint("destroyed_at is null or destroyed_at >= created_at", name="lifetime_ordered"),
    Index(None, "org_id", "app_id"),
    Index("ix_machines_machine_id_prefix", "machine_id",
          postgresql_ops={"machine_id": "text_pattern_ops"}),
    # an organization's running machines counted per app from the index alone (migration 0021)
    Index("ix_machines_running_per_app", "org_id", "app_id",
          postgresql_where=text("destroyed_at is null")),
)

machine_events = Table(
    "machine_events", metadata,
    Column("org_id", BigInteger, nullable=False),
    Column("machine_id", Text, nullable=False),
    Column("event_at", UTC_TIMESTAMP, nullable=False),
    Column("kind", Text, nullable=False),
    Column("preset_code", Text, ForeignKey("presets.preset_code")),
    Column("memory_mb", Integer),
    PrimaryKeyConstraint("org_id", "machine_id", "event_at", "kind"),
    _tenant_fk(["machine_id"], "machines", ["machine_id"], ondelete="CASCADE"),
    CheckConstraint("kind in ('start', 'stop', 'resize', 'destroy')", name="kind_known"),
    CheckConstraint(
        "(kind = 'resize') = (preset_code is not null and memory_mb is not null)",
        name="resize_names_size",
    ),
)

machine_runs = Table(
    "machine_runs", metadata,
    Column("org_id", BigInteger, nullable=False),
    Column("machine_id", Text, nullable=False),
    Column("started_at", UTC_TIMESTAMP, nullable=False),
    Column("ended_at", UTC_TIMESTAMP),
    Column("preset_code", Text, ForeignKey("presets.preset_code"), nullable=False),
    Column("memory_mb", Integer, nullable=False),
    PrimaryKeyConstraint("org_id", "machine_id", "started_at"),
    _tenant_fk(["machine_id"], "machines", ["machine_id"], ondelete="CASCADE"),
    CheckConstraint("ended_at is null or ended_at > started_at", name="run_ordered"),
    ExcludeConstraint(
        (text("org_id"), "="),
        (text("machine_id"), "="),
        (func.tstzrange(text("started_at"), text("ended_at")), "&&"),
        name="ex_machine_runs_no_overlap",
        using="gist",
    ),
)

volumes = Table(
    "volumes", metadata,
    Column("org_id", BigInteger, nullable=False),
    Column("volume_id", Text, nullable=False),
    Column("app_id", BigInteger, nullable=False),
    Column("region_code", Text, ForeignKey("regions.region_code"), nullable=False),
    Column("size_gb", Integer, nullable=False),
    Column("machine_id", Text),
    Column("created_at", UTC_TIMESTAMP, nullable=False),
    Column("deleted_at", UTC_TIMESTAMP),
    PrimaryKeyConstraint("org_id", "volume_id"),
    _tenant_fk(["app_id"], "apps", ["app_id"]),
    _tenant_fk(["machine_id"], "machines", ["machine_id"]),
    CheckConstraint("volume_id ~ '^vol_[0-9a-z]{16}$'", name="id_format"),
    CheckConstraint("size_gb > 0", name="size_positive"),
    CheckConstraint("deleted_at is null or deleted_at >= created_at", name="lifetime_ordered"),
)

# --- metered usage, hourly, partitioned by month of hour_at ----------------------------------

machine_usage = Table(
    "machine_usage", metadata,
    Column("org_id", BigInteger, nullable=False),
    Column("machine_id", Text, nullable=False),
    Column("hour_at", UTC_TIMESTAMP, nullable=False),
    # the size the machine had while the meters below ran; a resize inside an hour gives two rows
    Column("preset_code", Text, ForeignKey("presets.preset_code"), nullable=False),
    Column("memory_mb", Integer, nullable=False),
    Column("runtime_seconds", Integer, nullable=False, server_default=text("0")),
    Column("stopped_rootfs_gb_seconds", QUANTITY, nullable=False, server_default=text("0")),
    Column("egress_internet_gb", QUANTITY, nullable=False, server_default=text("0")),
    Column("egress_private_gb", QUANTITY, nullable=False, server_default=text("0")),
    Column("dedicated_ipv4_seconds", Integer, nullable=False, server_default=text("0")),
    PrimaryKeyConstraint("org_id", "machine_id", "hour_at", "preset_code", "memory_mb"),
    _tenant_fk(["machine_id"], "machines", ["machine_id"]),
    CheckConstraint("hour_at = date_bin('1 hour', hour_at, timestamptz '2000-01-01 00:00+00')",
                    name="whole_hour"),
    CheckConstraint("runtime_seconds between 0 and 3600", name="runtime_within_hour"),
    CheckConstraint("dedicated_ipv4_seconds between 0 and 3600", name="ipv4_within_hour"),
    CheckConstraint(
        "stopped_rootfs_gb_seconds >= 0 and egress_internet_gb >= 0 and egress_private_gb >= 0",
        name="quantities_non_negative",
    ),
    postgresql_partition_by="RANGE (hour_at)",
)

volume_usage = Table(
    "volume_usage", metadata,
    Column("org_id", BigInteger, nullable=False),
    Column("volume_id", Text, nullable=False),
    Column("hour_at", UTC_TIMESTAMP, nullable=False),
    Column("gb_hours", QUANTITY, nullable=False),
    PrimaryKeyConstraint("org_id", "volume_id", "hour_at"),
    _tenant_fk(["volume_id"], "volumes", ["volume_id"]),
    CheckConstraint("hour_at = date_bin('1 hour', hour_at, timestamptz '2000-01-01 00:00+00')",
                    name="whole_hour"),
    CheckConstraint("gb_hours >= 0", name="quantity_non_negative"),
    postgresql_partition_by="RANGE (hour_at)",
)

PARTITIONED_TABLES = ("machine_usage", "volume_usage")

# --- billing -------------------------------------------------------------------------------

invoices = Table(
    "invoices", metadata,
    Column("org_id", BigInteger, ForeignKey("organizations.org_id"), nullable=False),
    Column("invoice_id", BigInteger, Identity(), nullable=False),
    Column("invoice_number", Text, nullable=False, unique=True),
    Column("period_start_date", Date, nullable=False),
    Column("status", Text, nullable=False, server_default="draft"),
    Column("currency", Text, nullable=False, server_default="USD"),
    Column("subtotal_cents", BigInteger, nullable=False, server_default=text("0")),
    Column("credits_cents", BigInteger, nullable=False, server_default=text("0")),
    Column("total_cents", BigInteger, nullable=False, server_default=text("0")),
    Column("content_hash", Text),
    _created_at(),
    Column("finalized_at", UTC_TIMESTAMP),
    Column("paid_at", UTC_TIMESTAMP),
    Column("voided_at", UTC_TIMESTAMP),
    PrimaryKeyConstraint("org_id", "invoice_id"),
    UniqueConstraint("org_id", "period_start_date"),
    CheckConstraint("extract(day from period_start_date) = 1", name="period_is_month"),
    CheckConstraint("status in ('draft', 'finalized', 'paid', 'void')", name="status_known"),
    CheckConstraint("currency ~ '^[A-Z]{3}$'", name="currency_iso"),
    CheckConstraint("credits_cents >= 0", name="credits_non_negative"),
    # a subtotal may be negative when adjustments for over-billed late usage outweigh the
    # month's own usage; credits never exceed what was billed
    CheckConstraint("credits_cents <= greatest(subtotal_cents, 0)",
                    name="credits_within_subtotal"),
    CheckConstraint("total_cents = subtotal_cents - credits_cents", name="total_adds_up"),
    CheckConstraint(
        "status = 'draft' or (finalized_at is not null and content_hash is not null)",
        name="finalized_is_sealed",
    ),
)

invoice_lines = Table(
    "invoice_lines", metadata,
    Column("org_id", BigInteger, nullable=False),
    Column("invoice_id", BigInteger, nullable=False),
    Column("line_no", Integer, nullable=False),
    Column("product", Text, ForeignKey("products.product"), nullable=False),
    Column("price_list_id", SmallInteger, ForeignKey("price_lists.price_list_id"), nullable=False),
    Column("region_code", Text, ForeignKey("regions.region_code")),
    Column("preset_code", Text, ForeignKey("presets.preset_code")),
    Column("memory_mb", Integer),
    Column("egress_group", Text, ForeignKey("egress_groups.egress_group")),
    Column("description", Text, nullable=False),
    Column("consumed_quantity", QUANTITY, nullable=False),
    Column("consumed_unit", Text, nullable=False),
    # the pricing quantity (consumed quantity in pricing units)
    Column("quantity", PRICING_QUANTITY, nullable=False),
    Column("pricing_unit", Text, nullable=False),
    Column("unit_price", MONEY_PRECISE, nullable=False),
    Column("amount_precise", MONEY_PRECISE, nullable=False),
    Column("amount_cents", BigInteger, nullable=False),
    # set on an adjustment line: the month whose usage changed after its invoice was sealed;
    # the line carries the difference (more or less than billed) of one of that month's lines
    Column("adjusts_period_date", Date),
    PrimaryKeyConstraint("org_id", "invoice_id", "line_no"),
    _tenant_fk(["invoice_id"], "invoices", ["invoice_id"], ondelete="CASCADE"),
    CheckConstraint("quantity >= 0 or adjusts_period_date is not null",
                    name="quantity_non_negative"),
    CheckConstraint("extract(day from adjusts_period_date) = 1", name="adjusts_a_month"),
)

invoice_allocations = Table(
    "invoice_allocations", metadata,
    Column("org_id", BigInteger, nullable=False),
    Column("invoice_id", BigInteger, nullable=False),
    Column("line_no", Integer, nullable=False),
    Column("resource_kind", Text, nullable=False),
    Column("resource_id", Text, nullable=False),
    Column("app_id", BigInteger, nullable=False),
    Column("consumed_quantity", QUANTITY, nullable=False),
    # the pricing quantity, the resource's unrounded amount, and its largest-remainder cents
    Column("quantity", PRICING_QUANTITY, nullable=False),
    Column("amount_precise", MONEY_PRECISE, nullable=False),
    Column("amount_cents", BigInteger, nullable=False),
    PrimaryKeyConstraint("org_id", "invoice_id", "line_no", "resource_id"),
    _tenant_fk(["invoice_id", "line_no"], "invoice_lines", ["invoice_id", "line_no"],
               ondelete="CASCADE"),
    _tenant_fk(["app_id"], "apps", ["app_id"]),
    CheckConstraint("resource_kind in ('machine', 'volume')", name="kind_known"),
    Index(None, "org_id", "resource_id"),
    # an invoice's machines and volumes in resource order with their cents, read from the
    # index alone: the drill-down's machine list sums them without touching the table
    Index("ix_invoice_allocations_resources", "org_id", "invoice_id", "resource_kind",
          "resource_id", "app_id", postgresql_include=["amount_cents", "line_no"]),
)

# What an invoice's lines allocated per group of lines (migration 0020): to each app, and to
# each machine or volume. Written with the allocations when a month is drafted, so the
# drill-down reads one group's rows instead of summing every allocation on each view.


# how an invoice's lines are grouped (the drill-down's levels): the whole invoice, or lines
# sharing a product, a region, a VM size, or one line (invoice_line_group_key, migration 0020)
INVOICE_GROUPINGS = ("invoice", "product", "region", "vm_size", "line")


def _invoice_group(name: str, key: str, **columns: type[BigInteger | Integer | Text]) -> Table:
    return Table(
        name, metadata,
        Column("org_id", BigInteger, nullable=False),
        Column("invoice_id", BigInteger, nullable=False),
        Column("group_by", Text, nullable=False),
        Column("group_key", Text, nullable=False),
        *(Column(column, kind, nullable=False) for column, kind in columns.items()),
        PrimaryKeyConstraint("org_id", "invoice_id", "group_by", "group_key", key),
        # derived from the invoice's lines and allocations, whose keys are checked: no
        # foreign keys of their own (migration 0022)
        CheckConstraint(column("group_by").in_(INVOICE_GROUPINGS), name="grouping_known"),
    )


invoice_group_amounts = _invoice_group(
    "invoice_group_amounts", "app_id",
    app_id=BigInteger, machines=Integer, volumes=Integer, amount_cents=BigInteger)
invoice_group_resources = _invoice_group(
    "invoice_group_resources", "resource_id",
    resource_kind=Text, resource_id=Text, app_id=BigInteger, lines=Integer,
    amount_cents=BigInteger)
# the machine list's page, dearest first, read in order (migration 0021)
Index("ix_invoice_group_resources_by_amount", invoice_group_resources.c.org_id,
      invoice_group_resources.c.invoice_id, invoice_group_resources.c.group_by,
      invoice_group_resources.c.group_key,
      invoice_group_resources.c.amount_cents.desc().nulls_last(),
      invoice_group_resources.c.resource_id)

credit_notes = Table(
    "credit_notes", metadata,
    Column("org_id", BigInteger, nullable=False),
    Column("credit_note_id", BigInteger, Identity(), nullable=False),
    Column("invoice_id", BigInteger, nullable=False),
    Column("credit_note_number", Text, nullable=False, unique=True),
    Column("amount_cents", BigInteger, nullable=False),
    Column("reason", Text, nullable=False),
    Column("support_ticket", Text, nullable=False),
    Column("issued_by", BigInteger, ForeignKey("staff_users.staff_user_id"), nullable=False),
    Column("issued_at", UTC_TIMESTAMP, nullable=False, server_default=func.now()),
    PrimaryKeyConstraint("org_id", "credit_note_id"),
    _tenant_fk(["invoice_id"], "invoices", ["invoice_id"]),
    CheckConstraint("amount_cents > 0", name="amount_positive"),
    CheckConstraint("length(trim(reason)) > 0", name="reason_given"),
    # the credit-note request a support engineer submitted (one per confirmation): a second
    # submit of the same request finds its note instead of crediting again (migration 0014)
    Column("request_key", Text),
    UniqueConstraint("org_id", "request_key"),
    Index(None, "org_id", "invoice_id"),
)

# --- support access and audit --------------------------------------------------------------

support_grants = Table(
    "support_grants", metadata,
    Column("org_id", BigInteger, ForeignKey("organizations.org_id"), nullable=False),
    Column("grant_id", BigInteger, Identity(), nullable=False),
    Column("staff_user_id", BigInteger, ForeignKey("staff_users.staff_user_id"), nullable=False),
    Column("support_ticket", Text, nullable=False),
    Column("reason", Text, nullable=False),
    Column("granted_at", UTC_TIMESTAMP, nullable=False, server_default=func.now()),
    Column("expires_at", UTC_TIMESTAMP, nullable=False),
    Column("revoked_at", UTC_TIMESTAMP),
    PrimaryKeyConstraint("org_id", "grant_id"),
    CheckConstraint("expires_at > granted_at", name="expiry_after_grant"),
    CheckConstraint("length(trim(support_ticket)) > 0", name="ticket_given"),
    CheckConstraint("length(trim(reason)) > 0", name="reason_given"),
    Index(None, "staff_user_id", "expires_at"),
)

audit_events = Table(
    "audit_events", metadata,
    Column("org_id", BigInteger, ForeignKey("organizations.org_id"), nullable=False),
    Column("audit_event_id", BigInteger, Identity(), nullable=False),
    Column("occurred_at", UTC_TIMESTAMP, nullable=False, server_default=func.now()),
    Column("actor_kind", Text, nullable=False),
    Column("actor_id", BigInteger),
    Column("action", Text, nullable=False),
    Column("detail", JSONB, nullable=False, server_default=text("'{}'::jsonb")),
    PrimaryKeyConstraint("org_id", "audit_event_id"),
    CheckConstraint("actor_kind in ('user', 'staff', 'system')", name="actor_kind_known"),
)

# what support engineers do outside any one organization's data (console page views,
# searches); not a tenant table, read only through fleetspend_auth.support_activity (0005)
staff_audit_events = Table(
    "staff_audit_events", metadata,
    Column("staff_audit_event_id", BigInteger, Identity(), primary_key=True),
    Column("staff_user_id", BigInteger, ForeignKey("staff_users.staff_user_id"), nullable=False),
    Column("occurred_at", UTC_TIMESTAMP, nullable=False, server_default=func.now()),
    Column("action", Text, nullable=False),
    Column("detail", JSONB, nullable=False, server_default=text("'{}'::jsonb")),
    Index(None, "occurred_at"),
)

# --- rollups (derived from rated_usage by fleetspend.rollups; never edited by hand) ----------
# A preset_code of '' marks products without a machine size (volumes), so it can be a key.
# Their org_id has no foreign key: every row is summed from usage (or rollup) rows whose
# organization was checked when they were written (migration 0019).

NO_PRESET = ""
ROLLUP_QUANTITY = Numeric(30, 6)


def _rollup_measures() -> list[Column]:
    return [
        Column("consumed_quantity", ROLLUP_QUANTITY, nullable=False),
        Column("pricing_quantity", PRICING_QUANTITY, nullable=False),
        Column("amount_precise", MONEY_PRECISE, nullable=False),
    ]


rollup_resource_daily = Table(
    "rollup_resource_daily", metadata,
    Column("org_id", BigInteger, nullable=False),
    Column("usage_date", Date, nullable=False),
    Column("resource_id", Text, nullable=False),
    Column("product", Text, nullable=False),
    Column("preset_code", Text, nullable=False),
    Column("resource_kind", Text, nullable=False),
    Column("app_id", BigInteger, nullable=False),
    Column("region_code", Text, nullable=False),
    *_rollup_measures(),
    Column("last_hour_at", UTC_TIMESTAMP, nullable=False),
    PrimaryKeyConstraint("org_id", "usage_date", "resource_id", "product", "preset_code"),
)

rollup_usage_daily = Table(
    "rollup_usage_daily", metadata,
    Column("org_id", BigInteger, nullable=False),
    Column("usage_date", Date, nullable=False),
    Column("app_id", BigInteger, nullable=False),
    Column("region_code", Text, nullable=False),
    Column("preset_code", Text, nullable=False),
    Column("product", Text, nullable=False),
    *_rollup_measures(),
    Column("resources", Integer, nullable=False),
    Column("last_hour_at", UTC_TIMESTAMP, nullable=False),
    # the rated amount (the per-resource rows summed), kept when amount_precise carries an
    # invoice's cents (fleetspend/figures.py): the weights its cents are spread by
    Column("rated_amount_precise", MONEY_PRECISE, nullable=False),
    PrimaryKeyConstraint("org_id", "usage_date", "app_id", "region_code", "preset_code",
                         "product"),
)

# per org, day and product: the totals that time series and month-to-date read
rollup_org_daily = Table(
    "rollup_org_daily", metadata,
    Column("org_id", BigInteger, nullable=False),
    Column("usage_date", Date, nullable=False),
    Column("product", Text, nullable=False),
    *_rollup_measures(),
    Column("resources", Integer, nullable=False),
    PrimaryKeyConstraint("org_id", "usage_date", "product"),
)

# per org, calendar month, app and region: each day's spend in cents (the day's unrounded
# amount rounded once, half up), kept by fleetspend.rollups with the narrow rollups, so the
# overview's anomaly search reads a row per app, region and month instead of one per day
rollup_app_region_series = Table(
    "rollup_app_region_series", metadata,
    Column("org_id", BigInteger, nullable=False),
    Column("month_date", Date, nullable=False),
    Column("app_id", BigInteger, nullable=False),
    Column("region_code", Text, nullable=False),
    Column("days", ARRAY(SmallInteger), nullable=False),  # days of the month, ascending
    Column("day_cents", ARRAY(BigInteger), nullable=False),  # each such day's cents
    PrimaryKeyConstraint("org_id", "month_date", "app_id", "region_code"),
    CheckConstraint("extract(day from month_date) = 1", name="month_start"),
)

# per org: the anomaly search's findings (fleetspend.anomaly_search.Anomaly as JSON, biggest
# first) as of the "usage complete through" instant it searched; fleetspend.rollups empties
# the row when the org's anomaly series change and searches again after the fold, so a view
# reads one row
rollup_anomaly_findings = Table(
    "rollup_anomaly_findings", metadata,
    Column("org_id", BigInteger, ForeignKey("organizations.org_id"), nullable=False),
    Column("through_at", UTC_TIMESTAMP, nullable=False),
    Column("findings", JSONB, nullable=False),
    Column("searched_at", UTC_TIMESTAMP, nullable=False, server_default=text("now()")),
    PrimaryKeyConstraint("org_id"),
)

# per org: the latest hour its meter rows hold (the newest last_hour_at of rollup_usage_daily,
# which lies on the row's own day), kept by fleetspend.rollups whenever a fold reaches the org's
# latest day, so that "usage complete through" is one row to read instead of every meter row
# of the latest day (4,200 apps' rows at ten times the large scale)
rollup_org_latest_hour = Table(
    "rollup_org_latest_hour", metadata,
    Column("org_id", BigInteger, ForeignKey("organizations.org_id"), nullable=False),
    Column("last_hour_at", UTC_TIMESTAMP, nullable=False),
    PrimaryKeyConstraint("org_id"),
)

# Narrow rollups, daily and monthly: the meter rows summed over the dimensions a question leaves
# out (fleetspend.rollups keeps them; readmodels picks the narrowest one a query can read).
# name -> (key columns, measure columns); rollup_<name>_daily and rollup_<name>_monthly.
APP_MEASURES = ("runtime_seconds", "runtime_amount_precise", "amount_precise")
NARROW_ROLLUPS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    # by app, team, region or continent; the overview's anomaly search
    "app_region": (("app_id", "region_code"), APP_MEASURES),
    # the team comparison: each team's region and VM-size mix
    "app_region_size": (("app_id", "region_code", "preset_code"), APP_MEASURES),
    # by region, continent, VM size or product, any measure
    "region_size": (("region_code", "preset_code", "product"),
                    ("consumed_quantity", "amount_precise")),
}
_NARROW_COLUMNS: dict[str, Callable[[], Column]] = {
    "app_id": lambda: Column("app_id", BigInteger, nullable=False),
    "region_code": lambda: Column("region_code", Text, nullable=False),
    "preset_code": lambda: Column("preset_code", Text, nullable=False),
    "product": lambda: Column("product", Text, nullable=False),
    # machine runtime seconds and their spend; null where no machine ran
    "runtime_seconds": lambda: Column("runtime_seconds", ROLLUP_QUANTITY),
    "runtime_amount_precise": lambda: Column("runtime_amount_precise", MONEY_PRECISE),
    "consumed_quantity": lambda: Column("consumed_quantity", ROLLUP_QUANTITY, nullable=False),
    "amount_precise": lambda: Column("amount_precise", MONEY_PRECISE, nullable=False),
}


def _narrow_rollup(name: str, period: str) -> Table:
    keys, measures = NARROW_ROLLUPS[name]
    grain = "daily" if period == "usage_date" else "monthly"
    return Table(
        f"rollup_{name}_{grain}", metadata,
        Column("org_id", BigInteger, nullable=False),
        Column(period, Date, nullable=False),
        *(_NARROW_COLUMNS[column]() for column in (*keys, *measures)),
        PrimaryKeyConstraint("org_id", period, *keys),
        *([CheckConstraint("extract(day from month_date) = 1", name="month_start")]
          if period == "month_date" else []),
    )


NARROW_TABLES = {(name, period): _narrow_rollup(name, period)
                 for name in NARROW_ROLLUPS for period in ("usage_date", "month_date")}

# Per-team rollups, daily and monthly: the app x region rows summed per app's team of today
# (an app that moves team takes its history along: a trigger on apps, migration 0017, sums the
# teams' rows again; fleetspend.rollups keeps them with the narrow rows). Team questions (the
# team comparison, spend per team over time, the explorer by team, region or continent) read
# a row per team (and region) a day, however many apps. name -> key columns after the team;
# rollup_<name>_daily and rollup_<name>_monthly, each with APP_MEASURES.
TEAM_ROLLUPS: dict[str, tuple[str, ...]] = {
    # the team comparison: each team's spend, machine-hours, region and VM-size mix
    "team_region_size": ("team_id", "region_code", "preset_code"),
    "team_region": ("team_id", "region_code"),  # the explorer by team, region or continent
    "team": ("team_id",),  # spend per team over time
}


def _team_rollup(name: str, period: str) -> Table:
    grain = "daily" if period == "usage_date" else "monthly"
    keys = TEAM_ROLLUPS[name]
    return Table(
        f"rollup_{name}_{grain}", metadata,
        Column("org_id", BigInteger, nullable=False),
        Column(period, Date, nullable=False),
        Column("team_id", BigInteger, nullable=False),
        *(_NARROW_COLUMNS[column]() for column in (*keys[1:], *APP_MEASURES)),
        PrimaryKeyConstraint("org_id", period, *keys),
        *([CheckConstraint("extract(day from month_date) = 1", name="month_start")]
          if period == "month_date" else []),
    )


TEAM_TABLES = {(name, period): _team_rollup(name, period)
               for name in TEAM_ROLLUPS for period in ("usage_date", "month_date")}

rollup_usage_monthly = Table(
    "rollup_usage_monthly", metadata,
    Column("org_id", BigInteger, nullable=False),
    Column("month_date", Date, nullable=False),
    Column("app_id", BigInteger, nullable=False),
    Column("region_code", Text, nullable=False),
    Column("preset_code", Text, nullable=False),
    Column("product", Text, nullable=False),
    *_rollup_measures(),
    Column("day_rows", Integer, nullable=False),
    PrimaryKeyConstraint("org_id", "month_date", "app_id", "region_code", "preset_code",
                         "product"),
    CheckConstraint("extract(day from month_date) = 1", name="month_start"),
)

# (org, day) pairs whose usage changed since the last refresh; filled by triggers on the usage
# tables, consumed by fleetspend.rollups.refresh. hour_at is set when rows were only added in
# that hour (an INSERT), so the hour can be added on; null asks for the day to be recomputed.
rollup_pending_days = Table(
    "rollup_pending_days", metadata,
    Column("org_id", BigInteger, ForeignKey("organizations.org_id", ondelete="CASCADE"),
           nullable=False),
    Column("change_id", BigInteger, Identity(), nullable=False),
    Column("usage_date", Date, nullable=False),
    Column("hour_at", UTC_TIMESTAMP),
    Column("noted_at", UTC_TIMESTAMP, nullable=False, server_default=func.now()),
    PrimaryKeyConstraint("org_id", "change_id"),
)

# (org, month)s whose meter, org and narrow rollups carry an invoice's cents instead of rated
# amounts (fleetspend.figures): the month's finalized or paid invoice, or its draft while no
# usage of the month has changed since it was drafted.
month_figures = Table(
    "month_figures", metadata,
    Column("org_id", BigInteger, ForeignKey("organizations.org_id"), nullable=False),
    Column("month_date", Date, nullable=False),
    Column("invoice_id", BigInteger, nullable=False),
    Column("applied_at", UTC_TIMESTAMP, nullable=False, server_default=func.now()),
    PrimaryKeyConstraint("org_id", "month_date"),
    _tenant_fk(["invoice_id"], "invoices", ["invoice_id"]),
    CheckConstraint("extract(day from month_date) = 1", name="month_start"),
)

# Months whose usage changed after their invoice was sealed (noted by imports): the next draft
# of the organization re-rates them and carries the difference as adjustment lines.
late_usage_periods = Table(
    "late_usage_periods", metadata,
    Column("org_id", BigInteger, ForeignKey("organizations.org_id"), nullable=False),
    Column("period_start_date", Date, nullable=False),
    Column("noted_at", UTC_TIMESTAMP, nullable=False, server_default=func.now()),
    PrimaryKeyConstraint("org_id", "period_start_date"),
    CheckConstraint("extract(day from period_start_date) = 1", name="period_is_month"),
)

# What `fleetspend seed` loaded, so it (and demo mode) can tell its own data from real data:
# the organizations it created and the invoices it sealed.
seeded_dataset = Table(
    "seeded_dataset", metadata,
    Column("singleton", Boolean, primary_key=True, server_default=text("true")),
    Column("scale", Text, nullable=False),
    Column("seed", Integer, nullable=False),
    Column("loaded_at", UTC_TIMESTAMP, nullable=False, server_default=func.now()),
    Column("org_ids", ARRAY(BigInteger), nullable=False),
    Column("sealed_invoice_ids", ARRAY(BigInteger), nullable=False),
    CheckConstraint("singleton", name="one_row"),
)

# the watermark: the last change folded in and when
rollup_state = Table(
    "rollup_state", metadata,
    Column("singleton", Boolean, primary_key=True, server_default=text("true")),
    Column("folded_change_id", BigInteger, nullable=False, server_default=text("0")),
    Column("refreshed_at", UTC_TIMESTAMP),
    CheckConstraint("singleton", name="one_row"),
)

# The files the usage feed imported, by the SHA-256 of their bytes, written in the import's own
# transaction: a file whose content is here is never imported again, under any name. Not a
# tenant table (a file may hold many organizations); the app's role is granted nothing on it.
ingested_files = Table(
    "ingested_files", metadata,
    Column("sha256", Text, primary_key=True),
    Column("file_name", Text, nullable=False),
    Column("imported_at", UTC_TIMESTAMP, nullable=False, server_default=func.now()),
    CheckConstraint("sha256 ~ '^[0-9a-f]{64}$'", name="sha256_hex"),
)

# --- budgets, alerts and their delivery (migration 0016; see fleetspend/alerts) -----------

budgets = Table(
    "budgets", metadata,
    Column("org_id", BigInteger, ForeignKey("organizations.org_id"), nullable=False),
    Column("budget_id", BigInteger, Identity(), nullable=False),
    Column("name", Text, nullable=False),
    # what the budget covers: the whole organization, one team or one app
    Column("scope_kind", Text, nullable=False),
    Column("team_id", BigInteger),
    Column("app_id", BigInteger),
    Column("amount_cents", BigInteger, nullable=False),  # each month's, unless overridden
    Column("actual_thresholds", ARRAY(SmallInteger), nullable=False,
           server_default=text("'{50,80,100}'")),
    Column("forecast_thresholds", ARRAY(SmallInteger), nullable=False,
           server_default=text("'{100}'")),
    Column("is_archived", Boolean, nullable=False, server_default=text("false")),
    _created_at(),
    Column("updated_at", UTC_TIMESTAMP, nullable=False, server_default=func.now()),
    PrimaryKeyConstraint("org_id", "budget_id"),
    _tenant_fk(["team_id"], "teams", ["team_id"]),
    _tenant_fk(["app_id"], "apps", ["app_id"]),
    CheckConstraint(
        "(scope_kind = 'organization' and team_id is null and app_id is null) "
        "or (scope_kind = 'team' and team_id is not null and app_id is null) "
        "or (scope_kind = 'app' and app_id is not null and team_id is null)",
        name="scope_names_one_subject"),
    CheckConstraint("amount_cents > 0", name="amount_positive"),
    CheckConstraint("length(trim(name)) > 0", name="name_given"),
    CheckConstraint("0 < all(actual_thresholds) and 1000 >= all(actual_thresholds) "
                    "and 0 < all(forecast_thresholds) and 1000 >= all(forecast_thresholds)",
                    name="thresholds_are_percents"),
)

# a month whose amount differs from the budget's usual one
budget_month_amounts = Table(
    "budget_month_amounts", metadata,
    Column("org_id", BigInteger, nullable=False),
    Column("budget_id", BigInteger, nullable=False),
    Column("month_date", Date, nullable=False),
    Column("amount_cents", BigInteger, nullable=False),
    PrimaryKeyConstraint("org_id", "budget_id", "month_date"),
    _tenant_fk(["budget_id"], "budgets", ["budget_id"], ondelete="CASCADE"),
    CheckConstraint("amount_cents > 0", name="amount_positive"),
    CheckConstraint("extract(day from month_date) = 1", name="month_date_is_month"),
)

# what evaluation found: a budget threshold crossed (actual or forecast) once per budget,
# month and threshold; an anomaly of the organization once per anomaly key
alerts = Table(
    "alerts", metadata,
    Column("org_id", BigInteger, ForeignKey("organizations.org_id"), nullable=False),
    Column("alert_id", BigInteger, Identity(), nullable=False),
    Column("kind", Text, nullable=False),
    Column("budget_id", BigInteger),
    Column("period_start_date", Date, nullable=False),
    Column("threshold_percent", SmallInteger),
    Column("anomaly_key", Text),
    Column("fired_at", UTC_TIMESTAMP, nullable=False, server_default=func.now()),
    Column("spent_cents", BigInteger),
    Column("budget_cents", BigInteger),
    Column("forecast_cents", BigInteger),
    Column("forecast_low_cents", BigInteger),
    Column("forecast_high_cents", BigInteger),
    Column("is_invoiced", Boolean, nullable=False, server_default=text("false")),
    Column("title", Text, nullable=False),
    Column("explanation", Text, nullable=False),
    # the view that shows the cause: a page path and its URL parameters
    Column("link_page", Text, nullable=False),
    Column("link_params", JSONB, nullable=False, server_default=text("'{}'::jsonb")),
    PrimaryKeyConstraint("org_id", "alert_id"),
    _tenant_fk(["budget_id"], "budgets", ["budget_id"]),
    CheckConstraint("kind in ('actual', 'forecast', 'anomaly')", name="kind_known"),
    CheckConstraint(
        "(kind = 'anomaly') = (budget_id is null and threshold_percent is null "
        "and anomaly_key is not null)", name="budget_or_anomaly"),
    CheckConstraint("extract(day from period_start_date) = 1", name="period_is_month"),
    Index("uq_alerts_budget_period_threshold", "org_id", "budget_id", "period_start_date",
          "kind", "threshold_percent", unique=True,
          postgresql_where=text("budget_id is not null")),
    Index("uq_alerts_anomaly", "org_id", "anomaly_key", unique=True,
          postgresql_where=text("anomaly_key is not null")),
    Index(None, "org_id", "fired_at"),
)

# one person's inbox state of one alert (no row: unread)
alert_receipts = Table(
    "alert_receipts", metadata,
    Column("org_id", BigInteger, nullable=False),
    Column("alert_id", BigInteger, nullable=False),
    Column("user_id", BigInteger, ForeignKey("users.user_id"), nullable=False),
    Column("read_at", UTC_TIMESTAMP, nullable=False, server_default=func.now()),
    Column("acknowledged_at", UTC_TIMESTAMP),
    PrimaryKeyConstraint("org_id", "alert_id", "user_id"),
    _tenant_fk(["alert_id"], "alerts", ["alert_id"], ondelete="CASCADE"),
)

# one person silencing one kind of alert: of one budget, or (budget null) anomalies
alert_mutes = Table(
    "alert_mutes", metadata,
    Column("org_id", BigInteger, nullable=False),
    Column("mute_id", BigInteger, Identity(), nullable=False),
    Column("user_id", BigInteger, ForeignKey("users.user_id"), nullable=False),
    Column("kind", Text, nullable=False),
    Column("budget_id", BigInteger),
    _created_at(),
    PrimaryKeyConstraint("org_id", "mute_id"),
    _tenant_fk(["budget_id"], "budgets", ["budget_id"], ondelete="CASCADE"),
    UniqueConstraint("org_id", "user_id", "kind", "budget_id",
                     postgresql_nulls_not_distinct=True),
    CheckConstraint("kind in ('actual', 'forecast', 'anomaly')", name="kind_known"),
    CheckConstraint("(kind = 'anomaly') = (budget_id is null)", name="budget_or_anomaly"),
)

alert_email_recipients = Table(
    "alert_email_recipients", metadata,
    Column("org_id", BigInteger, ForeignKey("organizations.org_id"), nullable=False),
    Column("email", Text, nullable=False),
    _created_at(),
    PrimaryKeyConstraint("org_id", "email"),
    CheckConstraint("email ~ '^[^@\\s<>,;]+@[^@\\s<>,;]+$'", name="email_format"),
)

# the secret signs each body (HMAC-SHA256); the app's role may write it but never read it
alert_webhooks = Table(
    "alert_webhooks", metadata,
    Column("org_id", BigInteger, ForeignKey("organizations.org_id"), nullable=False),
    Column("webhook_id", BigInteger, Identity(), nullable=False),
    Column("name", Text, nullable=False),
    Column("url", Text, nullable=False),
    Column("secret", Text, nullable=False),
    Column("is_enabled", Boolean, nullable=False, server_default=text("true")),
    _created_at(),
    PrimaryKeyConstraint("org_id", "webhook_id"),
    CheckConstraint("url ~ '^https?://[^\\s]+$'", name="url_is_http"),
    CheckConstraint("length(secret) >= 16", name="secret_long_enough"),
)

# one alert to one channel: the email to the recipients of the moment, or one webhook
alert_deliveries = Table(
    "alert_deliveries", metadata,
    Column("org_id", BigInteger, nullable=False),
    Column("delivery_id", BigInteger, Identity(), nullable=False),
    Column("alert_id", BigInteger, nullable=False),
    Column("channel", Text, nullable=False),
    Column("recipients", ARRAY(Text)),
    Column("webhook_id", BigInteger),
    Column("status", Text, nullable=False, server_default=text("'pending'")),
    Column("attempts", Integer, nullable=False, server_default=text("0")),
    Column("next_attempt_at", UTC_TIMESTAMP, nullable=False, server_default=func.now()),
    Column("sent_at", UTC_TIMESTAMP),
    PrimaryKeyConstraint("org_id", "delivery_id"),
    _tenant_fk(["alert_id"], "alerts", ["alert_id"], ondelete="CASCADE"),
    _tenant_fk(["webhook_id"], "alert_webhooks", ["webhook_id"]),
    UniqueConstraint("org_id", "alert_id", "channel", "webhook_id",
                     postgresql_nulls_not_distinct=True),
    CheckConstraint("channel in ('email', 'webhook')", name="channel_known"),
    CheckConstraint("(channel = 'webhook') = (webhook_id is not null)", name="webhook_named"),
    CheckConstraint("(channel = 'email') = (recipients is not null)", name="recipients_named"),
    CheckConstraint("status in ('pending', 'sent', 'failed')", name="status_known"),
    Index("ix_alert_deliveries_due", "next_attempt_at", postgresql_where=text(
        "status = 'pending'")),
)

# every attempt of a delivery, for the admins' delivery log
delivery_attempts = Table(
    "delivery_attempts", metadata,
    Column("org_id", BigInteger, nullable=False),
    Column("attempt_id", BigInteger, Identity(), nullable=False),
    Column("delivery_id", BigInteger, nullable=False),
    Column("attempted_at", UTC_TIMESTAMP, nullable=False, server_default=func.now()),
    Column("is_success", Boolean, nullable=False),
    Column("status_code", Integer),
    Column("error", Text),
    Column("duration_ms", Integer, nullable=False),
    PrimaryKeyConstraint("org_id", "attempt_id"),
    _tenant_fk(["delivery_id"], "alert_deliveries", ["delivery_id"], ondelete="CASCADE"),
    Index(None, "org_id", "delivery_id"),
)

TENANT_TABLES = tuple(
    table.name for table in metadata.sorted_tables if "org_id" in table.columns
)
