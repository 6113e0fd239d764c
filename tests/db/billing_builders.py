"""Hand-built billing data for the billing tests: organizations, machines and hourly usage.

Usage rows are written with generate_series, one row per hour, so a 30-day machine is 720
rows. The expected prices are computed here from the published constants of
reference/pricing.md, independently of the SQL under test.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal

from sqlalchemy import Engine, text

from fleetspend.partitions import ensure_month_partitions

PRICE_CHANGE_AT = datetime(2026, 10, 15, tzinfo=UTC)

# published constants: (vCPU shared, vCPU performance, extra RAM per GB-s) per list
PUBLISHED = {
    "previous": (Decimal("0.00000075"), Decimal("0.00001196"), Decimal("0.00000193")),
    "current": (Decimal("0.0000008465"), Decimal("0.000012732"), Decimal("0.000002316")),
}
MARKUP = {"iad": Decimal("1.0000"), "sjc": Decimal("1.1923"), "fra": Decimal("1.1538"),
          "gru": Decimal("1.6154"), "jnb": Decimal("1.3029")}
EGRESS_INTERNET = {"iad": Decimal("0.02"), "sjc": Decimal("0.02"), "fra": Decimal("0.02"),
                   "gru": Decimal("0.04"), "jnb": Decimal("0.12")}
PRESETS = {"shared-cpu-1x": ("shared", 1), "shared-cpu-2x": ("shared", 2),
           "performance-1x": ("performance", 1), "performance-2x": ("performance", 2)}


def price_list_at(hour_at: datetime) -> str:
    return "previous" if hour_at < PRICE_CHANGE_AT else "current"


def runtime_price(preset: str, memory_mb: int, region: str, price_list: str) -> Decimal:
    """The published per-second price: (cpus*vcpu + extra RAM GB * ram) * markup."""
    kind, cpus = PRESETS[preset]
    vcpu_shared, vcpu_performance, ram = PUBLISHED[price_list]
    vcpu = vcpu_shared if kind == "shared" else vcpu_performance
    included_mb = 256 if kind == "shared" else 2048
    extra_gb = max(Decimal(0), Decimal(memory_mb - cpus * included_mb) / 1024)
    return (cpus * vcpu + extra_gb * ram) * MARKUP[region]


def cents(amount: Decimal) -> int:
    """The documented rounding rule: half up to whole cents."""
    return int((amount * 100).quantize(Decimal(1), rounding=ROUND_HALF_UP))


def make_org(engine: Engine, slug: str) -> tuple[int, int]:
    """A new organization with one team and one app; returns (org_id, app_id)."""
    with engine.begin() as connection:
        org_id = connection.execute(text(
            "insert into organizations (slug, name) values (:slug, :slug) returning org_id"
        ), {"slug": slug}).scalar_one()
        team_id = connection.execute(text(
            "insert into teams (org_id, name) values (:org_id, 'platform') returning team_id"
        ), {"org_id": org_id}).scalar_one()
        app_id = connection.execute(text(
            "insert into apps (org_id, team_id, name) values (:org_id, :team_id, 'web') "
            "returning app_id"
        ), {"org_id": org_id, "team_id": team_id}).scalar_one()
    return org_id, app_id


def make_staff(engine: Engine, email: str = "support@fleetspend.test") -> int:
    with engine.begin() as connection:
        return connection.execute(text(
            "insert into staff_users (email, name) values (:email, 'Support') "
            "returning staff_user_id"
        ), {"email": email}).scalar_one()


def make_machine(engine: Engine, org_id: int, app_id: int, machine_id: str, region: str,
                 preset: str, memory_mb: int) -> None:
    with engine.begin() as connection:
        connection.execute(text(
            "insert into machines (org_id, machine_id, app_id, region_code, preset_code, "
            "memory_mb, created_at) values (:org_id, :machine_id, :app_id, :region, :preset, "
            ":memory_mb, '2026-01-01T00:00:00Z')"
        ), {"org_id": org_id, "machine_id": machine_id, "app_id": app_id, "region": region,
            "preset": preset, "memory_mb": memory_mb})


def add_hours(engine: Engine, org_id: int, machine_id: str, start: datetime, hours: int,
              preset: str, memory_mb: int, runtime_seconds: int = 3600,
              egress_internet_gb: str = "0", stopped_rootfs_gb_seconds: str = "0",
              dedicated_ipv4_seconds: int = 0) -> None:
    """``hours`` consecutive hourly rows from ``start``, the same meters in each."""
    end = start + timedelta(hours=hours)
    with engine.begin() as connection:
        ensure_month_partitions(connection, start, end)
        connection.execute(text(
            "insert into machine_usage (org_id, machine_id, hour_at, preset_code, memory_mb, "
            "runtime_seconds, egress_internet_gb, stopped_rootfs_gb_seconds, "
            "dedicated_ipv4_seconds) "
            "select :org_id, :machine_id, hour_at, :preset, :memory_mb, :runtime, "
            "cast(:egress as numeric), cast(:rootfs as numeric), :ipv4 "
            "from generate_series(cast(:start as timestamptz), cast(:last as timestamptz), "
            "interval '1 hour') as hour_at"
        ), {"org_id": org_id, "machine_id": machine_id, "preset": preset,
            "memory_mb": memory_mb, "runtime": runtime_seconds, "egress": egress_internet_gb,
            "rootfs": stopped_rootfs_gb_seconds, "ipv4": dedicated_ipv4_seconds,
            "start": start, "last": end - timedelta(hours=1)})


def machine_id(number: int) -> str:
    """A valid 14-hex-digit machine id."""
    return f"{number:014x}"
