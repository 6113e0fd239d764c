"""The seed on a real database: determinism, replacement, shape and the lifecycle invariants.

Most tests read the session's small seed (seed 7, see conftest's ``seeded_template``); the
invariants are checked in SQL against the events, which are the ground truth.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import Engine, text
from sqlalchemy.exc import IntegrityError

from fleetspend import lifecycle
from fleetspend.partitions import ensure_month_partitions
from fleetspend.seed import SMALL_WINDOW_START, WINDOW_END, generate, plan_for
from fleetspend.seed.load import LOADED_TABLES
from tests.conftest import SEED_FOR_TESTS


def checksums(engine: Engine) -> dict[str, tuple[int, str]]:
    """Row count and md5 of the rows of every table the seed writes, in a fixed order."""
    result = {}
    with engine.connect() as connection:
        for table in LOADED_TABLES:  # identifiers from our own allow-list
            result[table] = tuple(connection.execute(text(
                f"select count(*), coalesce(md5(string_agg(t::text, E'\\n' order by t::text)), '')"
                f" from {table} as t"
            )).one())
    return result


def scalar(engine: Engine, sql: str, **parameters):
    with engine.connect() as connection:
        return connection.execute(text(sql), parameters).scalar()


def test_same_seed_gives_same_rows_and_reseeding_replaces(
        engine: Engine, seeded_engine: Engine) -> None:
    other = generate(engine, scale="small", seed=SEED_FOR_TESTS + 1)
    different = checksums(engine)
    again = generate(engine, scale="small", seed=SEED_FOR_TESTS)
    reference = checksums(seeded_engine)

    assert checksums(engine) == reference  # replaced, not appended; byte-identical rows
    assert again.rows == {t: count for t, (count, _) in reference.items() if count}
    for table in ("machines", "machine_events", "machine_usage", "volume_usage"):
        assert different[table] != reference[table], table
    assert other.total_rows > 0


def test_small_scale_shape(seeded_engine: Engine) -> None:
    plan = plan_for("small")
    with seeded_engine.connect() as connection:
        orgs = connection.execute(text(
            "select slug, (select count(*) from machines m where m.org_id = o.org_id) "
            "from organizations o order by org_id")).all()
        people = set(connection.execute(text(
            "select u.email, m.role from users u join memberships m using (user_id)")).all())
        staff = set(connection.execute(text("select email from staff_users")).scalars())
        window = connection.execute(text(
            "select min(hour_at), max(hour_at) from machine_usage")).one()
    assert [(o.slug, o.machines) for o in plan.orgs] == [tuple(row) for row in orgs]
    assert len(orgs) == 3
    for org in plan.orgs:
        assert (f"admin@{org.slug}.example", "admin") in people
        assert (f"dev@{org.slug}.example", "member") in people
    assert "support1@fleetspend.example" in staff
    assert window[0] == SMALL_WINDOW_START
    assert window[1] == datetime(2026, 11, 25, 23, tzinfo=UTC)


def test_small_scale_has_every_feature(seeded_engine: Engine) -> None:
    checks = {
        "resize": "select count(*) from machine_events where kind = 'resize'",
        "night stops": "select count(*) from machine_events where kind = 'stop'",
        "destroys": "select count(*) from machine_events where kind = 'destroy'",
        "two sizes in one hour": "select count(*) from (select 1 from machine_usage "
                                 "group by org_id, machine_id, hour_at having count(*) = 2) x",
        "dedicated ipv4": "select count(*) from machine_usage where dedicated_ipv4_seconds > 0",
        "private egress": "select count(*) from machine_usage where egress_private_gb > 0",
        "internet egress": "select count(*) from machine_usage where egress_internet_gb > 0",
        "stopped rootfs": "select count(*) from machine_usage "
                          "where stopped_rootfs_gb_seconds > 0",
        "volumes": "select count(*) from volume_usage",
        "detached volume still billed": (
            "select count(*) from volumes v join machines m using (org_id, machine_id) "
            "where m.destroyed_at is not null and v.deleted_at is null"),
        "usage before the price change": "select count(*) from machine_usage "
                                         "where hour_at < '2026-10-15T00:00:00Z'",
        "usage after the price change": "select count(*) from machine_usage "
                                        "where hour_at >= '2026-10-15T00:00:00Z'",
        "performance machines": "select count(*) from machine_runs "
                                "where preset_code like 'performance-%'",
        # a region migration: an app whose machines in one region all end when others begin
        "region migration": (
            "select count(*) from apps a where exists ("
            " select from machines old join machines new using (org_id, app_id)"
            " where old.app_id = a.app_id and old.org_id = a.org_id"
            "   and old.region_code <> new.region_code and old.destroyed_at is not null"
            "   and new.created_at between old.destroyed_at - interval '1 hour'"
            "   and old.destroyed_at)"),
        # a runaway: an app whose daily peak machine count more than doubles its usual one
        "runaway app": (
            "with daily as (select org_id, app_id, date_trunc('day', hour_at) as day,"
            "  count(distinct machine_id) as machines from machine_usage join machines"
            "  using (org_id, machine_id) group by 1, 2, 3)"
            " select count(*) from (select org_id, app_id from daily group by 1, 2"
            "  having max(machines) > 2 * percentile_disc(0.5) within group"
            "  (order by machines)) x"),
    }
    missing = [name for name, sql in checks.items() if not scalar(seeded_engine, sql)]
    assert missing == []


def test_memory_fits_the_preset(seeded_engine: Engine) -> None:
    bad = scalar(seeded_engine, """
        with sizes as (
            select preset_code, memory_mb from machines
            union select preset_code, memory_mb from machine_runs
            union select preset_code, memory_mb from machine_usage
            union select preset_code, memory_mb from machine_events where kind = 'resize')
        select count(*) from sizes join presets using (preset_code) join cpu_kinds using (cpu_kind)
        where memory_mb % 256 <> 0
           or memory_mb < cpus * min_memory_mb_per_cpu
           or memory_mb > cpus * max_memory_mb_per_cpu""")
    assert bad == 0


def test_events_make_sense_and_destroy_matches_destroyed_at(seeded_engine: Engine) -> None:
    with seeded_engine.connect() as connection:
        assert lifecycle.sequence_problems(connection) == []
    mismatched = scalar(seeded_engine, """
        select count(*) from machines m
        full join (select org_id, machine_id, event_at from machine_events
                   where kind = 'destroy') d using (org_id, machine_id)
        where m.destroyed_at is distinct from d.event_at""")
    assert mismatched == 0
    first_event_not_start = scalar(seeded_engine, """
        select count(*) from (
            select distinct on (org_id, machine_id) kind from machine_events
            order by org_id, machine_id, event_at) first
        where kind <> 'start'""")
    assert first_event_not_start == 0


def test_lifecycle_derivation_reproduces_the_seeded_runs(seeded_engine: Engine) -> None:
    with seeded_engine.begin() as connection:
        connection.execute(text("create temp table seeded_runs as select * from machine_runs"))
        written = lifecycle.rebuild_runs(connection)
        differences = connection.execute(text("""
            select count(*) from (
                (select * from seeded_runs except all select * from machine_runs)
                union all
                (select * from machine_runs except all select * from seeded_runs)) d""")).scalar()
        seeded = connection.execute(text("select count(*) from seeded_runs")).scalar()
        connection.rollback()
    assert written == seeded > 0
    assert differences == 0


RUN_SECONDS_BY_HOUR = """
    runs as (
        select org_id, machine_id, preset_code, memory_mb, started_at,
               coalesce(ended_at, cast(:window_end as timestamptz)) as ended_at
        from machine_runs),
    run_hours as (
        select runs.*, hour_at
        from runs, generate_series(date_trunc('hour', started_at, 'UTC'),
                                   ended_at - interval '1 microsecond', interval '1 hour')
                   as hour_at),
    expected as (
        select org_id, machine_id, hour_at, preset_code, memory_mb,
               sum(extract(epoch from least(ended_at, hour_at + interval '1 hour')
                                      - greatest(started_at, hour_at)))::int as seconds
        from run_hours group by 1, 2, 3, 4, 5)
"""


def test_runtime_is_the_overlap_of_runs_with_each_hour(seeded_engine: Engine) -> None:
    mismatches = scalar(seeded_engine, f"""
        with {RUN_SECONDS_BY_HOUR}
        select count(*) from expected
        full join (select * from machine_usage where runtime_seconds > 0) usage
            using (org_id, machine_id, hour_at, preset_code, memory_mb)
        where expected.seconds is distinct from usage.runtime_seconds""",
                        window_end=WINDOW_END)
    assert mismatches == 0


def test_a_row_for_every_hour_a_machine_exists_with_stopped_rootfs(
        seeded_engine: Engine) -> None:
    mismatches = scalar(seeded_engine, """
        with lives as (
            select org_id, machine_id, rootfs_gb, created_at,
                   coalesce(destroyed_at, cast(:window_end as timestamptz)) as gone_at
            from machines),
        existing as (
            select org_id, machine_id, rootfs_gb, hour_at,
                   extract(epoch from least(gone_at, hour_at + interval '1 hour')
                                      - greatest(created_at, hour_at))::int as seconds
            from lives, generate_series(date_trunc('hour', created_at, 'UTC'),
                                        gone_at - interval '1 microsecond', interval '1 hour')
                        as hour_at),
        usage as (
            select org_id, machine_id, hour_at, sum(runtime_seconds) as runtime,
                   sum(stopped_rootfs_gb_seconds) as stopped
            from machine_usage group by 1, 2, 3)
        select count(*) from existing full join usage using (org_id, machine_id, hour_at)
        where usage.runtime is null or existing.seconds is null
           or usage.stopped <> existing.rootfs_gb * (existing.seconds - usage.runtime)""",
                        window_end=WINDOW_END)
    assert mismatches == 0


def test_dedicated_ipv4_bills_whole_existence(seeded_engine: Engine) -> None:
    # a machine with a dedicated address has it every second it exists, running or not
    bad = scalar(seeded_engine, """
        select count(*) from machine_usage u
        where dedicated_ipv4_seconds > 0
          and exists (select from machine_usage o
                      where (o.org_id, o.machine_id) = (u.org_id, u.machine_id)
                        and o.dedicated_ipv4_seconds = 0)""")
    assert bad == 0


def test_volume_usage_every_hour_it_exists(seeded_engine: Engine) -> None:
    mismatches = scalar(seeded_engine, """
        with lives as (
            select org_id, volume_id, size_gb, created_at,
                   coalesce(deleted_at, cast(:window_end as timestamptz)) as gone_at
            from volumes),
        expected as (
            select org_id, volume_id, hour_at,
                   size_gb * extract(epoch from least(gone_at, hour_at + interval '1 hour')
                                     - greatest(created_at, hour_at)) / 3600 as gb_hours
            from lives, generate_series(date_trunc('hour', created_at, 'UTC'),
                                        gone_at - interval '1 microsecond', interval '1 hour')
                        as hour_at)
        select count(*) from expected full join volume_usage using (org_id, volume_id, hour_at)
        where volume_usage.gb_hours is null or expected.gb_hours is null
           or abs(volume_usage.gb_hours - expected.gb_hours) > 0.0000005""",
                        window_end=WINDOW_END)
    assert mismatches == 0
    sizes = scalar(seeded_engine,
                   "select count(*) from volumes where size_gb not between 1 and 500")
    assert sizes == 0


def test_identities_continue_after_the_seed(seeded_engine: Engine) -> None:
    with seeded_engine.begin() as connection:
        new_id = connection.execute(text(
            "insert into organizations (slug, name) values ('fresh-org', 'Fresh') "
            "returning org_id")).scalar()
        highest = connection.execute(text(
            "select max(org_id) from organizations where slug <> 'fresh-org'")).scalar()
        connection.rollback()
    assert new_id == highest + 1


def test_large_plan_regions_cover_six_continents(engine: Engine) -> None:
    for scale in ("demo", "large"):
        plan = plan_for(scale)
        regions = sorted({code for org in plan.orgs for code in org.regions})
        with engine.connect() as connection:
            continents = set(connection.execute(text(
                "select continent from regions where region_code = any(:codes)"),
                {"codes": regions}).scalars())
            known = connection.execute(text(
                "select count(*) from regions where region_code = any(:codes)"),
                {"codes": regions}).scalar()
        assert known == len(regions) == 18
        assert continents == {"Africa", "Asia", "Europe", "North America", "Oceania",
                              "South America"}


def test_bad_scale_or_seed_is_rejected_before_touching_data(seeded_engine: Engine) -> None:
    before = checksums(seeded_engine)["machines"]
    with pytest.raises(ValueError, match="unknown seed scale"):
        generate(seeded_engine, scale="huge", seed=1)
    with pytest.raises(ValueError, match="non-negative integer"):
        generate(seeded_engine, scale="small", seed=-3)
    assert checksums(seeded_engine)["machines"] == before


def test_seed_leaves_every_constraint_and_trigger_as_migrated(
        engine: Engine, seeded_engine: Engine) -> None:
    # the seed drops and re-adds keys, checks and rollup triggers of the big tables; they must
    # come back exactly
    constraints = text("""
        select cls.relname, con.conname, con.contype, pg_get_constraintdef(con.oid)
        from pg_constraint con join pg_class cls on cls.oid = con.conrelid
        where cls.relnamespace = current_schema()::regnamespace and not cls.relispartition
        order by 1, 2""")
    triggers = text("""
        select cls.relname, trg.tgname, trg.tgenabled, pg_get_triggerdef(trg.oid)
        from pg_trigger trg join pg_class cls on cls.oid = trg.tgrelid
        where cls.relnamespace = current_schema()::regnamespace and not cls.relispartition
          and not trg.tgisinternal
        order by 1, 2""")
    with engine.connect() as migrated, seeded_engine.connect() as seeded:
        assert seeded.execute(constraints).all() == migrated.execute(constraints).all()
        assert seeded.execute(triggers).all() == migrated.execute(triggers).all()


def test_usage_written_after_the_seed_is_noted_for_the_rollups(seeded_engine: Engine) -> None:
    with seeded_engine.begin() as connection:
        connection.execute(text("delete from rollup_pending_days"))
        ensure_month_partitions(connection, datetime(2026, 12, 1, tzinfo=UTC),
                                datetime(2027, 1, 1, tzinfo=UTC))
        connection.execute(text(
            "insert into machine_usage (org_id, machine_id, hour_at, preset_code, memory_mb, "
            "runtime_seconds) select org_id, machine_id, '2026-12-01 05:00+00', preset_code, "
            "memory_mb, 60 from machines order by org_id, machine_id limit 1"))
        with (pytest.raises(IntegrityError, match="ck_machine_usage_runtime_within_hour"),
              connection.begin_nested()):
            connection.execute(text(
                "update machine_usage set runtime_seconds = 3601 "
                "where hour_at = '2026-12-01 05:00+00'"))
        noted = connection.execute(text(
            "select usage_date, hour_at from rollup_pending_days")).all()
    assert [(str(day), hour.isoformat()) for day, hour in noted] == [
        ("2026-12-01", "2026-12-01T05:00:00+00:00")]
