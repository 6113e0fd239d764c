"""Rollups equal a direct aggregate of rated (and raw) usage after every kind of change.

The data is built by hand, small and pointed: two apps, machines in two regions, one resized
inside an hour, a volume, hours on both sides of a month boundary and of the price change.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import Connection, TextClause, text

from fleetspend import rollups
from fleetspend.models import NARROW_ROLLUPS, TEAM_ROLLUPS
from fleetspend.partitions import ensure_month_partitions
from fleetspend.usage_lock import lock_usage

START = datetime(2026, 10, 13, 22, tzinfo=UTC)  # two days before the price change
HOURS = 60  # through 2026-10-16 10:00
MONTH_EDGE = datetime(2026, 9, 30, 21, tzinfo=UTC)  # hours in September and October

# (machine_id, app name, region, preset, memory)
MACHINES = [
    ("0a0000000000a1", "api", "iad", "shared-cpu-1x", 256),
    ("0a0000000000a2", "api", "lhr", "performance-2x", 8192),
    ("0b0000000000b1", "worker", "lhr", "shared-cpu-2x", 1024),
]
VOLUME = "vol_aaaaaaaaaaaaaaaa"


def _setup(connection: Connection) -> int:
    ensure_month_partitions(connection, datetime(2026, 9, 1, tzinfo=UTC),
                            datetime(2026, 12, 1, tzinfo=UTC))
    org_id = connection.execute(text(
        "insert into organizations (slug, name) values ('acme', 'Acme') returning org_id"
    )).scalar_one()
    team_id = connection.execute(text(
        "insert into teams (org_id, name) values (:org, 'core') returning team_id"
    ), {"org": org_id}).scalar_one()
    apps = {}
    for name in ("api", "worker"):
        apps[name] = connection.execute(text(
            "insert into apps (org_id, team_id, name) values (:org, :team, :name) "
            "returning app_id"), {"org": org_id, "team": team_id, "name": name}).scalar_one()
    for machine_id, app, region, preset, memory in MACHINES:
        connection.execute(text(
            "insert into machines (org_id, machine_id, app_id, region_code, preset_code, "
            "memory_mb, created_at) values (:org, :id, :app, :region, :preset, :memory, :at)"
        ), {"org": org_id, "id": machine_id, "app": apps[app], "region": region,
            "preset": preset, "memory": memory, "at": MONTH_EDGE - timedelta(days=1)})
    connection.execute(text(
        "insert into volumes (org_id, volume_id, app_id, region_code, size_gb, created_at) "
        "values (:org, :id, :app, 'iad', 10, :at)"
    ), {"org": org_id, "id": VOLUME, "app": apps["api"], "at": MONTH_EDGE - timedelta(days=1)})
    return org_id


def _add_hours(connection: Connection, org_id: int, start: datetime, hours: int) -> None:
    """Hourly usage for every machine and the volume; quantities vary with the hour."""
    connection.execute(text("""
        insert into machine_usage (org_id, machine_id, hour_at, preset_code, memory_mb,
            runtime_seconds, egress_internet_gb, egress_private_gb, dedicated_ipv4_seconds,
            stopped_rootfs_gb_seconds)
        select :org, machines.machine_id, hour_at, machines.preset_code, machines.memory_mb,
               case when extract(hour from hour_at) = 3 then 0 else 3600 end,
               round((extract(hour from hour_at) + 1) * 0.013, 6),
               case when machines.region_code = 'lhr' then 0.5 else 0 end,
               case when machines.machine_id like '0a%' then 3600 else 0 end,
               case when extract(hour from hour_at) = 3 then 3600 else 0 end
        from machines
        cross join generate_series(cast(:start as timestamptz),
                                   cast(:start as timestamptz) + (:hours - 1) * interval '1 hour',
                                   interval '1 hour') as hour_at
        where machines.org_id = :org
    """), {"org": org_id, "start": start, "hours": hours})
    connection.execute(text("""
        insert into volume_usage (org_id, volume_id, hour_at, gb_hours)
        select :org, :volume, hour_at, 10
        from generate_series(cast(:start as timestamptz),
                             cast(:start as timestamptz) + (:hours - 1) * interval '1 hour',
                             interval '1 hour') as hour_at
    """), {"org": org_id, "volume": VOLUME, "start": start, "hours": hours})


DIRECT_RESOURCE_DAILY = text("""
    select org_id, cast(hour_at at time zone 'UTC' as date), resource_id, product,
           coalesce(preset_code, ''), resource_kind, app_id, region_code, sum(consumed_quantity),
           sum(pricing_quantity), sum(amount_precise), max(hour_at)
    from rated_usage group by 1, 2, 3, 4, 5, 6, 7, 8
""")
ROLLUP_RESOURCE_DAILY = text("""
    select org_id, usage_date, resource_id, product, preset_code, resource_kind, app_id,
           region_code, consumed_quantity, pricing_quantity, amount_precise, last_hour_at
    from rollup_resource_daily
""")
DIRECT_METER_DAILY = text("""
    select org_id, cast(hour_at at time zone 'UTC' as date) as usage_date, app_id, region_code,
           coalesce(preset_code, '') as preset_code, product,
           sum(consumed_quantity) as consumed_quantity,
           sum(pricing_quantity) as pricing_quantity,
           sum(amount_precise) as amount_precise,
           count(distinct resource_id) as resources,
           max(hour_at) as last_hour_at
    from rated_usage group by 1, 2, 3, 4, 5, 6
""")
ROLLUP_METER_DAILY = text("""
    select org_id, usage_date, app_id, region_code, preset_code, product, consumed_quantity,
           pricing_quantity, amount_precise, resources, last_hour_at
    from rollup_usage_daily
""")
DIRECT_ORG_DAILY = text("""
    select org_id, cast(hour_at at time zone 'UTC' as date), product, sum(consumed_quantity),
           sum(pricing_quantity), sum(amount_precise), count(distinct resource_id)
    from rated_usage group by 1, 2, 3
""")
ROLLUP_ORG_DAILY = text("""
    select org_id, usage_date, product, consumed_quantity, pricing_quantity, amount_precise,
           resources
    from rollup_org_daily
""")
DIRECT_METER_MONTHLY = text("""
    select org_id, cast(date_trunc('month', hour_at, 'UTC') as date), app_id, region_code,
           coalesce(preset_code, ''), product, sum(consumed_quantity), sum(pricing_quantity),
           sum(amount_precise)
    from rated_usage group by 1, 2, 3, 4, 5, 6
""")
ROLLUP_METER_MONTHLY = text("""
    select org_id, month_date, app_id, region_code, preset_code, product, consumed_quantity,
           pricing_quantity, amount_precise
    from rollup_usage_monthly
""")
# the narrow rollups, straight from rated usage: each measure as the meter rows define it
_RAW_MEASURES = {
    "runtime_seconds": "sum(consumed_quantity) filter (where product = 'machine_runtime')",
    "runtime_amount_precise": "sum(amount_precise) filter (where product = 'machine_runtime')",
    "consumed_quantity": "sum(consumed_quantity)",
    "amount_precise": "sum(amount_precise)",
}
_RAW_PERIODS = {"usage_date": "cast(hour_at at time zone 'UTC' as date)",
                "month_date": "cast(date_trunc('month', hour_at, 'UTC') as date)"}


def _narrow_pair(name: str, period: str) -> tuple[TextClause, TextClause]:
    """The narrow table's rows, and the same rows aggregated from rated usage."""
    keys, measures = NARROW_ROLLUPS[name]
    grain = "daily" if period == "usage_date" else "monthly"
    raw_keys = [f"coalesce({key}, '')" if key == "preset_code" else key for key in keys]
    groups = ", ".join(str(n) for n in range(1, len(keys) + 3))
    rollup = text(f"select org_id, {period}, {', '.join((*keys, *measures))} "
                  f"from rollup_{name}_{grain}")
    direct = text(f"select org_id, {_RAW_PERIODS[period]}, {', '.join(raw_keys)}, "
                  f"{', '.join(_RAW_MEASURES[m] for m in measures)} from rated_usage "
                  f"group by {groups}")
    return rollup, direct


NARROW_PAIRS = [_narrow_pair(name, period) for name in NARROW_ROLLUPS
                for period in ("usage_date", "month_date")]


def _team_pair(name: str, period: str) -> tuple[TextClause, TextClause]:
    """The per-team table's rows, and the same rows from rated usage by each app's team."""
    keys = TEAM_ROLLUPS[name]
    grain = "daily" if period == "usage_date" else "monthly"
    measures = ("runtime_seconds", "runtime_amount_precise", "amount_precise")
    groups = ", ".join(str(n) for n in range(1, len(keys) + 3))
    rollup = text(f"select org_id, {period}, {', '.join((*keys, *measures))} "
                  f"from rollup_{name}_{grain}")
    raw_keys = [f"coalesce(rated_usage.{key}, '')" if key == "preset_code"
                else f"rated_usage.{key}" for key in keys[1:]]
    direct = text(f"select rated_usage.org_id, {_RAW_PERIODS[period]}, apps.team_id"
                  f"{''.join(f', {key}' for key in raw_keys)}, "
                  f"{', '.join(_RAW_MEASURES[m] for m in measures)} from rated_usage "
                  "join apps on apps.org_id = rated_usage.org_id "
                  f"and apps.app_id = rated_usage.app_id group by {groups}")
    return rollup, direct


TEAM_PAIRS = [_team_pair(name, period) for name in TEAM_ROLLUPS
              for period in ("usage_date", "month_date")]
# each app and region's days of a month in cents, one element per day
ROLLUP_SERIES = text("""
    select org_id, month_date, app_id, region_code, day, cents
    from rollup_app_region_series, unnest(days, day_cents) as day_value (day, cents)
""")
DIRECT_SERIES = text("""
    select org_id, cast(date_trunc('month', usage_date) as date), app_id, region_code,
           extract(day from usage_date), round(amount * 100)
    from (select org_id, cast(hour_at at time zone 'UTC' as date) as usage_date, app_id,
                 region_code, sum(amount_precise) as amount
          from rated_usage group by 1, 2, 3, 4) as daily
""")
# the raw tables, without the view: runtime seconds and egress per machine, GB-hours per volume
DIRECT_RAW = text("""
    select 'machine_runtime', sum(runtime_seconds) from machine_usage
    union all select 'egress_internet', sum(egress_internet_gb) from machine_usage
    union all select 'volume', sum(gb_hours) from volume_usage
""")
ROLLUP_RAW = text("""
    select product, sum(consumed_quantity) from rollup_resource_daily
    where product in ('machine_runtime', 'egress_internet', 'volume') group by product
""")

# each monthly meter row counts its month's daily meter rows (a month is dropped when none is
# left), and each daily meter row keeps its rated amount: with no invoice in these tests, the
# amount itself
DIRECT_DAY_ROWS = text("""
    select org_id, cast(date_trunc('month', usage_date) as date), app_id, region_code,
           preset_code, product, count(*)
    from rollup_usage_daily group by 1, 2, 3, 4, 5, 6
""")
ROLLUP_DAY_ROWS = text("""
    select org_id, month_date, app_id, region_code, preset_code, product, day_rows
    from rollup_usage_monthly
""")
UNRATED_METER_ROWS = text(
    "select count(*) from rollup_usage_daily where rated_amount_precise <> amount_precise")

# each organization's latest hour of usage ("usage complete through" less an hour)
DIRECT_LATEST_HOUR = text("select org_id, max(hour_at) from rated_usage group by org_id")
ROLLUP_LATEST_HOUR = text("select org_id, last_hour_at from rollup_org_latest_hour")


def _rows(connection: Connection, query) -> set[tuple]:
    return {tuple(row) for row in connection.execute(query)}


def assert_rollups_match(connection: Connection) -> None:
    assert _rows(connection, ROLLUP_RESOURCE_DAILY) == _rows(connection, DIRECT_RESOURCE_DAILY)
    assert _rows(connection, ROLLUP_METER_DAILY) == _rows(connection, DIRECT_METER_DAILY)
    assert _rows(connection, ROLLUP_ORG_DAILY) == _rows(connection, DIRECT_ORG_DAILY)
    for rollup, direct in (*NARROW_PAIRS, *TEAM_PAIRS):
        assert _rows(connection, rollup) == _rows(connection, direct), rollup.text
    assert _rows(connection, ROLLUP_SERIES) == _rows(connection, DIRECT_SERIES)
    assert _rows(connection, ROLLUP_METER_MONTHLY) == _rows(connection, DIRECT_METER_MONTHLY)
    assert _rows(connection, ROLLUP_LATEST_HOUR) == _rows(connection, DIRECT_LATEST_HOUR)
    assert _rows(connection, ROLLUP_DAY_ROWS) == _rows(connection, DIRECT_DAY_ROWS)
    assert connection.execute(UNRATED_METER_ROWS).scalar_one() == 0
    raw = {product: Decimal(total) for product, total in connection.execute(DIRECT_RAW)}
    assert {product: Decimal(total) for product, total in connection.execute(ROLLUP_RAW)} == raw
    assert connection.execute(text("select count(*) from rollup_pending_days")).scalar() == 0


@pytest.fixture
def loaded(engine):
    with engine.begin() as connection:
        org_id = _setup(connection)
        _add_hours(connection, org_id, START, HOURS)
        _add_hours(connection, org_id, MONTH_EDGE, 6)
    return org_id


def test_a_first_refresh_folds_everything_and_matches(engine, loaded):
    result = rollups.refresh(engine)
    assert (result.days, result.hours) == (0, 66)  # inserts only: every hour added on
    assert result.orgs == 1
    assert (result.first_date.isoformat(), result.last_date.isoformat()) == (
        "2026-09-30", "2026-10-16")
    with engine.connect() as connection:
        assert_rollups_match(connection)
        prices = connection.execute(text(
            "select count(distinct amount_precise / consumed_quantity) from rollup_usage_daily "
            "where product = 'machine_runtime' and preset_code = 'shared-cpu-1x' "
            "and usage_date in ('2026-10-14', '2026-10-15')")).scalar()
        months = connection.execute(text(
            "select count(distinct month_date) from rollup_usage_monthly")).scalar()
    assert prices == 2  # the price change falls between the two days
    assert months == 2


def test_a_rerun_with_nothing_new_changes_nothing(engine, loaded):
    first = rollups.refresh(engine)
    with engine.connect() as connection:
        before = _rows(connection, ROLLUP_METER_MONTHLY), _rows(connection, ROLLUP_METER_DAILY)
    again = rollups.refresh(engine)
    assert again.days == 0 and again.folded_change_id == first.folded_change_id
    assert "already up to date" in again.describe()
    full = rollups.refresh(engine, full=True)
    assert (full.days, full.hours) == (6, 0)  # 13th-16th October, 30th September, 1st October
    with engine.connect() as connection:
        after = _rows(connection, ROLLUP_METER_MONTHLY), _rows(connection, ROLLUP_METER_DAILY)
        assert_rollups_match(connection)
    assert after == before


def test_a_new_hour_late_usage_and_corrections_are_folded_in(engine, loaded):
    rollups.refresh(engine)
    org_id = loaded
    with engine.begin() as connection:  # the next hour arrives
        _add_hours(connection, org_id, START + timedelta(hours=HOURS), 1)
    added = rollups.refresh(engine)
    assert (added.days, added.hours) == (0, 1)
    with engine.connect() as connection:
        assert_rollups_match(connection)

    with engine.begin() as connection:  # late usage for an old day, a new machine size there
        connection.execute(text(
            "insert into machine_usage (org_id, machine_id, hour_at, preset_code, memory_mb, "
            "runtime_seconds) values (:org, '0b0000000000b1', '2026-09-30 22:00+00', "
            "'shared-cpu-4x', 2048, 1800)"), {"org": org_id})
    with engine.begin() as connection:  # a correction and a withdrawn day
        connection.execute(text(
            "update machine_usage set runtime_seconds = 1200, egress_internet_gb = 7.25 "
            "where org_id = :org and machine_id = '0a0000000000a2' "
            "and hour_at = '2026-10-14 05:00+00'"), {"org": org_id})
        connection.execute(text(
            "delete from machine_usage where org_id = :org and hour_at < '2026-10-01'"),
            {"org": org_id})
        connection.execute(text(
            "delete from volume_usage where org_id = :org and hour_at < '2026-10-01'"),
            {"org": org_id})
    result = rollups.refresh(engine)
    assert (result.days, result.hours) == (2, 0)  # 30th September and 14th October
    with engine.connect() as connection:
        assert_rollups_match(connection)
        september = connection.execute(text(
            "select (select count(*) from rollup_usage_monthly where month_date = '2026-09-01')"
            " + (select count(*) from rollup_resource_daily where usage_date < '2026-10-01')"
        )).scalar()
    assert september == 0  # every September row went with its usage


def test_the_latest_hour_goes_back_when_the_newest_usage_is_withdrawn(engine, loaded):
    rollups.refresh(engine)
    last_hour = START + timedelta(hours=HOURS - 1)
    with engine.begin() as connection:  # the last hour, then the whole last day, withdrawn
        for table in ("machine_usage", "volume_usage"):
            connection.execute(text(f"delete from {table} where hour_at = :at"),
                               {"at": last_hour})
    rollups.refresh(engine)
    with engine.connect() as connection:
        assert_rollups_match(connection)
        assert connection.execute(text("select last_hour_at from rollup_org_latest_hour")
                                  ).scalar_one() == last_hour - timedelta(hours=1)
    with engine.begin() as connection:
        for table in ("machine_usage", "volume_usage"):
            connection.execute(text(f"delete from {table} where hour_at >= :day"),
                               {"day": last_hour.replace(hour=0)})
    rollups.refresh(engine)
    with engine.connect() as connection:
        assert_rollups_match(connection)
        assert connection.execute(text("select last_hour_at from rollup_org_latest_hour")
                                  ).scalar_one() == last_hour.replace(hour=0) - timedelta(hours=1)


def test_changes_inside_a_callers_transaction_fold_in_with_it(engine, loaded):
    with engine.begin() as connection:
        result = rollups.refresh_in(connection)
        assert (result.days, result.hours) == (6, 0)  # in a caller's snapshot: whole days
        assert_rollups_match(connection)
    with engine.connect() as connection:
        state = connection.execute(text(
            "select folded_change_id, refreshed_at from rollup_state")).one()
    assert state.folded_change_id == result.folded_change_id > 0
    assert state.refreshed_at is not None


def test_a_transaction_holding_the_usage_lock_adds_its_new_hour_on_and_matches(engine, loaded):
    rollups.refresh(engine)
    with engine.begin() as connection:  # as an import does: the lock, the rows, the refresh
        lock_usage(connection)
        _add_hours(connection, loaded, START + timedelta(hours=HOURS), 1)
        result = rollups.refresh_in(connection)
        assert (result.days, result.hours) == (0, 1)  # not its whole day again
        assert_rollups_match(connection)


def test_an_import_folds_its_usage_in_the_same_transaction(engine):
    from fleetspend.ingest import ingest_file
    from tests.db.test_ingest import VALID_FILES, make_tenant

    make_tenant(engine)
    ingest_file(engine, VALID_FILES[0])
    with engine.connect() as connection:
        assert connection.execute(text("select count(*) from rated_usage")).scalar() > 0
        assert_rollups_match(connection)


def test_an_hour_landing_in_two_parts_is_counted_once(engine, loaded):
    rollups.refresh(engine)
    org_id = loaded
    hour_at = START + timedelta(hours=HOURS)
    with engine.begin() as connection:
        _add_hours(connection, org_id, hour_at, 1)
        moved = connection.execute(text(
            "delete from machine_usage where org_id = :org and hour_at = :at "
            "and machine_id <> '0a0000000000a1' returning machine_id, runtime_seconds"),
            {"org": org_id, "at": hour_at}).all()
    rollups.refresh(engine)  # the delete asks for the day to be recomputed
    with engine.begin() as connection:  # the rest of the hour arrives later, inserts only
        for machine_id, runtime_seconds in moved:
            connection.execute(text(
                "insert into machine_usage (org_id, machine_id, hour_at, preset_code, "
                "memory_mb, runtime_seconds) select org_id, machine_id, :at, preset_code, "
                "memory_mb, :runtime from machines where org_id = :org and machine_id = :id"),
                {"org": org_id, "id": machine_id, "at": hour_at, "runtime": runtime_seconds})
    result = rollups.refresh(engine)
    # part of the hour is folded in already, so adding it on would count that part twice
    assert (result.days, result.hours) == (1, 0)
    with engine.connect() as connection:
        assert_rollups_match(connection)


def test_an_app_moving_team_takes_its_whole_history_to_the_team_rollups(engine, loaded):
    rollups.refresh(engine)
    with engine.begin() as connection:
        connection.execute(text(
            "insert into teams (org_id, name) values (:org, 'platform')"), {"org": loaded})
        connection.execute(text(
            "update apps set team_id = teams.team_id from teams where teams.org_id = :org "
            "and teams.name = 'platform' and apps.org_id = :org and apps.name = 'worker'"),
            {"org": loaded})
    with engine.connect() as connection:
        assert_rollups_match(connection)  # the team rows follow the app, with nothing folded
        teams = connection.execute(text(
            "select count(distinct team_id) from rollup_team_monthly")).scalar_one()
    assert teams == 2


def test_a_rebuild_from_nothing_equals_the_incremental_rollups(engine, loaded):
    tables = (ROLLUP_METER_DAILY, ROLLUP_ORG_DAILY, ROLLUP_METER_MONTHLY,
              ROLLUP_SERIES,
              *(rollup for rollup, _ in (*NARROW_PAIRS, *TEAM_PAIRS)))
    rollups.refresh(engine)
    with engine.begin() as connection:
        _add_hours(connection, loaded, START + timedelta(hours=HOURS), 2)  # noted, not folded
        result = rollups.rebuild_in(connection)
    assert result.orgs == 1 and result.days == 6  # the new hours fall on 16 October
    with engine.connect() as connection:
        assert_rollups_match(connection)  # the two new hours are in, and nothing is pending
        rebuilt = [_rows(connection, query) for query in tables]
    assert rollups.refresh(engine).days == 0  # the rebuild claimed every noted change
    rollups.refresh(engine, full=True)  # the same figures, day by day and by difference
    with engine.connect() as connection:
        assert [_rows(connection, query) for query in tables] == rebuilt


def test_a_rebuild_prices_each_hour_with_the_list_in_force_that_hour(engine, loaded):
    """A price list starting at 05:00 on 16 October: the rebuild sums hours per day and price
    list before pricing them, and must still give the view's figures for that day."""
    change_at = datetime(2026, 10, 16, 5, tzinfo=UTC)
    with engine.begin() as connection:
        connection.execute(text(
            "update price_lists set effective_until = :at where price_list_id = 2"),
            {"at": change_at})
        connection.execute(text(
            "insert into price_lists (price_list_id, name, effective_from) "
            "values (3, 'mid-day list', :at)"), {"at": change_at})
        connection.execute(text(
            "insert into prices (price_list_id, component, egress_group, unit_price, unit) "
            "select 3, component, egress_group, unit_price * 3, unit from prices "
            "where price_list_id = 2"))
        rollups.rebuild_in(connection)
    with engine.connect() as connection:
        assert_rollups_match(connection)
        lists = connection.execute(text(
            "select count(distinct price_list_id) from rated_usage "
            "where hour_at >= '2026-10-16' and hour_at < '2026-10-17'")).scalar()
    assert lists == 2  # the day really is priced with two lists


def test_hours_added_on_one_at_a_time_equal_a_rebuild_from_nothing(engine, loaded):
    """Each new hour is summed and priced alone and added onto its day and month: across a
    price list starting inside the day, the rows (quantities, cents, last hours) are those a
    rebuild from the raw usage gives."""
    change_at = START + timedelta(hours=HOURS + 1)  # 11:00 on 16 October
    with engine.begin() as connection:
        connection.execute(text(
            "update price_lists set effective_until = :at where price_list_id = 2"),
            {"at": change_at})
        connection.execute(text(
            "insert into price_lists (price_list_id, name, effective_from) "
            "values (3, 'mid-day list', :at)"), {"at": change_at})
        connection.execute(text(
            "insert into prices (price_list_id, component, egress_group, unit_price, unit) "
            "select 3, component, egress_group, unit_price * 3, unit from prices "
            "where price_list_id = 2"))
    rollups.refresh(engine)
    # 10:00 under the old list and 11:00 under the new one in one fold, then 12:00
    for first, hours in ((0, 2), (2, 1)):
        with engine.begin() as connection:
            _add_hours(connection, loaded, START + timedelta(hours=HOURS + first), hours)
        result = rollups.refresh(engine)
        assert (result.hours, result.days) == (hours, 0)
    tables = (ROLLUP_RESOURCE_DAILY, ROLLUP_METER_DAILY, ROLLUP_ORG_DAILY, ROLLUP_METER_MONTHLY,
              ROLLUP_SERIES, *(rollup for rollup, _ in NARROW_PAIRS))
    with engine.connect() as connection:
        assert_rollups_match(connection)
        folded = [_rows(connection, query) for query in tables]
    with engine.begin() as connection:
        rollups.rebuild_in(connection)
    with engine.connect() as connection:
        assert [_rows(connection, query) for query in tables] == folded
        lists = connection.execute(text(
            "select count(distinct price_list_id) from rated_usage "
            "where hour_at >= '2026-10-16' and hour_at < '2026-10-17'")).scalar()
    assert lists == 2



def test_an_hour_added_on_with_a_resized_and_a_new_machine_then_corrected_matches(
        engine, loaded):
    """A later hour of a day added on: with a machine resized in it (a new per-resource and
    meter row for a machine the day holds: the org row still counts it once) and a machine of a
    new app (new meter and monthly rows); then a correction of that hour, which recomputes the
    day whole; then one more hour added on."""
    rollups.refresh(engine)
    org_id = loaded
    hour_at = START + timedelta(hours=HOURS)  # 10:00 on 16 October, after 00:00-09:00
    with engine.begin() as connection:
        app_id = connection.execute(text(
            "insert into apps (org_id, team_id, name) select org_id, team_id, 'batch' "
            "from teams where org_id = :org returning app_id"), {"org": org_id}).scalar_one()
        connection.execute(text(
            "insert into machines (org_id, machine_id, app_id, region_code, preset_code, "
            "memory_mb, created_at) values (:org, '0c0000000000c1', :app, 'iad', "
            "'shared-cpu-1x', 256, :at)"), {"org": org_id, "app": app_id, "at": hour_at})
        connection.execute(text(
            "update machines set preset_code = 'performance-4x', memory_mb = 8192 "
            "where org_id = :org and machine_id = '0a0000000000a1'"), {"org": org_id})
        _add_hours(connection, org_id, hour_at, 1)
    with engine.connect() as connection:
        meters_before = len(_rows(connection, ROLLUP_METER_DAILY))
        months_before = len(_rows(connection, ROLLUP_METER_MONTHLY))
    added = rollups.refresh(engine)
    assert (added.days, added.hours) == (0, 1)
    with engine.connect() as connection:
        assert_rollups_match(connection)
        # the resized machine's and the new app's rows are new meter rows and monthly rows
        assert len(_rows(connection, ROLLUP_METER_DAILY)) > meters_before
        assert len(_rows(connection, ROLLUP_METER_MONTHLY)) > months_before

    with engine.begin() as connection:  # a correction of the hour added on
        connection.execute(text(
            "update machine_usage set runtime_seconds = 600, egress_internet_gb = 3.5 "
            "where org_id = :org and machine_id = '0c0000000000c1' and hour_at = :at"),
            {"org": org_id, "at": hour_at})
    corrected = rollups.refresh(engine)
    assert (corrected.days, corrected.hours) == (1, 0)
    with engine.connect() as connection:
        assert_rollups_match(connection)

    with engine.begin() as connection:
        _add_hours(connection, org_id, hour_at + timedelta(hours=1), 1)
    assert (rollups.refresh(engine).hours, 0) == (1, 0)
    with engine.connect() as connection:
        assert_rollups_match(connection)


def test_an_hour_added_into_a_month_with_an_invoices_figures(invoiced_engine):
    """An hour added on in a month whose rollups carry an invoice's cents: the per-resource
    rows take it on, the meter rows keep their rated amounts, and the month's pages add up to
    its invoice (figures applied again) or to its rated usage (a draft's figures withdrawn)."""
    from fleetspend import figures
    from tests.db.test_month_figures import _assert_pages_add_up

    with invoiced_engine.begin() as connection:
        org_id, last_hour_at = connection.execute(text(
            "select org_id, max(hour_at) from machine_usage join organizations using (org_id) "
            "where slug = 'acme' group by 1")).one()
        month = last_hour_at.astimezone(UTC).date().replace(day=1)
        hour_at = last_hour_at + timedelta(hours=1)
        assert hour_at.astimezone(UTC).date().replace(day=1) == month
        if figures.month_figure(connection, org_id, month).invoice_number is None:
            figures.apply(connection, month, [org_id])
        status = connection.execute(text(
            "select status from invoices where org_id = :org and period_start_date = :month"),
            {"org": org_id, "month": month}).scalar_one()
        # the last hour's rows again an hour later: inserts only
        columns = ("preset_code, memory_mb, runtime_seconds, stopped_rootfs_gb_seconds, "
                   "egress_internet_gb, egress_private_gb, dedicated_ipv4_seconds")
        connection.execute(text(
            f"insert into machine_usage (org_id, machine_id, hour_at, {columns}) "
            f"select org_id, machine_id, :at, {columns} from machine_usage "
            "where org_id = :org and hour_at = :last"),
            {"org": org_id, "at": hour_at, "last": last_hour_at})
    result = rollups.refresh(invoiced_engine)
    assert (result.days, result.hours) == (0, 1)
    with invoiced_engine.connect() as connection:
        org_rows = {row for row in _rows(connection, ROLLUP_RESOURCE_DAILY) if row[0] == org_id}
        assert org_rows == {row for row in _rows(connection, DIRECT_RESOURCE_DAILY)
                            if row[0] == org_id}
        unrated = connection.execute(text(
            "select count(*) from rollup_usage_daily as meter "
            "left join (select org_id, usage_date, app_id, region_code, preset_code, product, "
            "                  sum(amount_precise) as amount_precise "
            "           from rollup_resource_daily group by 1, 2, 3, 4, 5, 6) as sums "
            "using (org_id, usage_date, app_id, region_code, preset_code, product) "
            "where meter.rated_amount_precise <> coalesce(sums.amount_precise, 0)")).scalar_one()
        assert unrated == 0
        figure = figures.month_figure(connection, org_id, month)
        if status == "draft":
            assert figure.invoice_number is None  # usage changed after the draft
            assert {row for row in _rows(connection, ROLLUP_METER_MONTHLY)
                    if row[:2] == (org_id, month)} == {
                row for row in _rows(connection, DIRECT_METER_MONTHLY)
                if row[:2] == (org_id, month)}
        else:
            assert figure.invoice_number is not None
            _assert_pages_add_up(connection, org_id, month)
