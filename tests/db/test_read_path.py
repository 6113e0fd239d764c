"""Page queries on the small seed equal the same questions answered from raw rated usage.

Every comparison is exact (Decimal NUMERIC), so a rollup that drops, double-counts or
misprices one hourly row fails here.
"""

from __future__ import annotations

import uuid
from dataclasses import replace
from datetime import date, timedelta
from decimal import Decimal

import pandas as pd
import pytest
from sqlalchemy import text

from fleetspend import anomaly_search, clock, db, money, rollups
from fleetspend.billing import invoices
from fleetspend.money import largest_remainder
from fleetspend.reads import (
    dimensions,
    freshness,
    readmodels,
    spend_overview,
    teams,
    usage_explorer,
)
from fleetspend.reads.usage_explorer import OTHER_KEY, ExplorerQuery
from queries import sql
from tests.conftest import create_database, drop_database, engine_for

# the small seed runs 2026-09-20 to 2026-11-26: Sept, Oct (price change) and part of Nov
RANGES = [
    (date(2026, 9, 20), date(2026, 11, 26)),  # everything: two partial months, one whole
    (date(2026, 10, 1), date(2026, 11, 1)),  # one whole month, from the monthly rollup only
    (date(2026, 10, 10), date(2026, 10, 20)),  # ten days across the price change
    # the last 30 days: no usage follows, so November so far comes from the monthly rollup
    (date(2026, 10, 27), date(2026, 11, 26)),
    # usage follows the range: November's monthly rows hold more, so its days are read daily
    (date(2026, 10, 27), date(2026, 11, 20)),
]

RAW_BY_DIMENSIONS = text("""
    select
        case :dimension
            when 'app' then cast(rated_usage.app_id as text)
            when 'team' then cast(apps.team_id as text)
            when 'region' then rated_usage.region_code
            when 'continent' then regions.continent
            when 'preset' then coalesce(nullif(rated_usage.preset_code, ''), 'no-size')
            when 'product' then rated_usage.product
        end as dimension_key,
        sum(rated_usage.amount_precise) as amount_precise
    from rated_usage
    join apps on apps.org_id = rated_usage.org_id and apps.app_id = rated_usage.app_id
    join regions on regions.region_code = rated_usage.region_code
    where rated_usage.org_id = :org_id
      and rated_usage.hour_at >= cast(:start_date as date)::timestamp at time zone 'UTC'
      and rated_usage.hour_at < cast(:end_date as date)::timestamp at time zone 'UTC'
    group by 1
""")

RAW_TOTAL = text("""
    select coalesce(sum(amount_precise), 0) from rated_usage
    where org_id = :org_id
      and hour_at >= cast(:start_date as date)::timestamp at time zone 'UTC'
      and hour_at < cast(:end_date as date)::timestamp at time zone 'UTC'
""")


@pytest.fixture(scope="module")
def _seeded_and_rolled(seeded_template, server_url):
    """A copy of the seeded template, its rollups brought up to date once for this module."""
    name = f"fleetspend_read_path_{uuid.uuid4().hex[:8]}"
    engine = engine_for(create_database(server_url, name, template=seeded_template))
    rollups.refresh(engine)
    yield engine
    engine.dispose()
    drop_database(server_url, name)


@pytest.fixture
def connection(_seeded_and_rolled):
    with _seeded_and_rolled.connect() as connection:
        yield connection


@pytest.fixture
def org_id(connection):
    return connection.execute(text("select org_id from organizations where slug = 'acme'")
                              ).scalar_one()


def _raw_total(connection, org_id, start_date, end_date) -> Decimal:
    return connection.execute(RAW_TOTAL, {"org_id": org_id, "start_date": start_date,
                                          "end_date": end_date}).scalar_one()


@pytest.mark.parametrize(("start_date", "end_date"), RANGES)
@pytest.mark.parametrize("dimension", list(dimensions.DIMENSIONS))
def test_spend_by_one_dimension_equals_raw_usage(connection, org_id, dimension, start_date,
                                                 end_date):
    frame = readmodels.spend_by_dimensions(connection, org_id, start_date, end_date, dimension)
    raw = {key: amount for key, amount in connection.execute(RAW_BY_DIMENSIONS, {
        "dimension": dimension, "org_id": org_id, "start_date": start_date,
        "end_date": end_date})}
    assert dict(zip(frame.dimension_1_key, frame.amount_precise, strict=True)) == raw
    assert raw  # the comparison above is not vacuous
    assert all(isinstance(amount, Decimal) for amount in frame.amount_precise)
    assert frame.amount_cents.dtype == "int64"
    assert frame.amount_precise.is_monotonic_decreasing


def test_two_dimensions_and_top_n(connection, org_id):
    start_date, end_date = RANGES[0]
    both = readmodels.spend_by_dimensions(connection, org_id, start_date, end_date,
                                          "team", "region")
    assert both.amount_precise.sum() == _raw_total(connection, org_id, start_date, end_date)
    by_team = both.groupby("dimension_1_key").amount_precise.sum()
    one = readmodels.spend_by_dimensions(connection, org_id, start_date, end_date, "team")
    assert by_team.to_dict() == dict(zip(one.dimension_1_key, one.amount_precise, strict=True))
    assert set(both.dimension_2_label) <= {"Ashburn, VA", "London", "Sydney", "Sao Paulo"}

    top = readmodels.spend_by_dimensions(connection, org_id, start_date, end_date, "app",
                                         row_limit=2)
    every = readmodels.spend_by_dimensions(connection, org_id, start_date, end_date, "app")
    assert top.to_dict("records") == every.head(2).to_dict("records")


@pytest.mark.parametrize("grain", readmodels.GRAINS)
def test_spend_by_period_adds_up_to_raw_usage(connection, org_id, grain):
    start_date, end_date = RANGES[0]
    frame = readmodels.spend_by_period(connection, org_id, start_date, end_date, grain)
    assert frame.amount_precise.sum() == _raw_total(connection, org_id, start_date, end_date)
    first = frame.iloc[0]
    period_end = {"day": first.period_start_date + timedelta(days=1),
                  "week": first.period_start_date + timedelta(days=7),
                  "month": date(2026, 10, 1)}[grain]
    assert first.amount_precise == _raw_total(connection, org_id, max(start_date,
                                              first.period_start_date), period_end)


def test_month_to_date_against_the_same_days_last_month(connection, org_id):
    row = readmodels.spend_month_to_date(connection, org_id, date(2026, 10, 31)).iloc[0]
    assert row.previous_as_of_date == date(2026, 9, 30)  # September has no 31st
    assert row.amount_precise == _raw_total(connection, org_id, date(2026, 10, 1),
                                            date(2026, 11, 1))
    assert row.previous_amount_precise == _raw_total(connection, org_id, date(2026, 9, 1),
                                                     date(2026, 10, 1))
    assert row.amount_cents == round(row.amount_precise * 100)


def test_the_pages_show_the_drafted_invoice_to_the_cent(_seeded_and_rolled, org_id):
    invoices.draft_month(_seeded_and_rolled, date(2026, 10, 1), "acme")
    with _seeded_and_rolled.connect() as connection:
        subtotal = connection.execute(text(
            "select subtotal_cents from invoices "
            "where org_id = :org_id and period_start_date = '2026-10-01'"),
            {"org_id": org_id}).scalar_one()
        page = readmodels.spend_by_dimensions(connection, org_id, date(2026, 10, 1),
                                              date(2026, 11, 1), "product")
    # the month's rollups carry the draft's cents (fleetspend/figures.py), not rated amounts
    # a hair apart from them and rounded per product
    assert page.amount_precise.sum() == Decimal(subtotal) / 100
    assert page.amount_cents.sum() == subtotal


def test_freshness_reads_the_rollup_high_mark(connection, org_id):
    state = freshness.read_freshness(connection, org_id)
    latest = connection.execute(text(
        "select max(hour_at) + interval '1 hour' from rated_usage where org_id = :org_id"),
        {"org_id": org_id}).scalar_one()
    assert state.usage_complete_through_at == latest
    assert not state.is_replica and state.lag_seconds == 0
    assert "usage complete through 2026-11-2" in state.describe()


def test_one_statement_reads_the_freshness_and_the_days_with_usage(connection, org_id):
    """org_freshness answers what four statements did: the server's lag, the usage high mark,
    and the organization's first and last days with usage."""
    org = freshness.read_org_freshness(connection, org_id)
    assert replace(org.fresh, checked_at=None) == replace(
        freshness.read_freshness(connection, org_id), checked_at=None)
    first, last = connection.execute(text(
        "select min(hour_at)::date, max(hour_at)::date from rated_usage where org_id = :org_id"),
        {"org_id": org_id}).one()
    assert (org.first_usage_date, org.last_usage_date) == (first, last)
    assert org.last_usage_date == readmodels.last_usage_date(connection, org_id)
    nobody = freshness.read_org_freshness(connection, org_id + 1000)
    assert (nobody.first_usage_date, nobody.last_usage_date) == (None, None)
    assert nobody.fresh.usage_complete_through_at is None


def _explorer_rows(connection, org_id, query, source=None):
    params = query.params(org_id, readmodels.last_usage_date(connection, org_id))
    if source is not None:
        params["daily_source"] = source
    rows = readmodels.read_frame(connection, "explorer_series",
                                 {**params, "top": None, "with_cells": True})
    return rows.astype(object).where(rows.notna(), None).to_dict("records"), params["daily_source"]


@pytest.mark.parametrize(("measure", "dimension_1", "dimension_2", "filters", "expected"), [
    ("spend", "app", "none", (), "app_region"),
    ("machine_hours", "team", "app", (), "app_region"),
    ("spend", "app", "region", (), "app_region"),
    ("spend", "team", "none", (("app", ("1", "2", "3")),), "app_region"),
    ("machine_hours", "continent", "none", (("region", ("iad", "lhr")),), "region_size"),
    ("spend", "team", "none", (), "team"),
    ("machine_hours", "team", "none", (("team", ("1", "2")),), "team"),
    ("spend", "team", "region", (), "team_region"),
    ("machine_hours", "region", "none", (("team", ("1", "2")),), "team_region"),
    ("spend", "continent", "team", (("region", ("iad", "lhr")),), "team_region"),
    ("spend", "region", "preset", (), "region_size"),
    ("egress_gb", "continent", "none", (("product", ("egress_internet",)),), "region_size"),
    ("volume_gb_hours", "product", "none", (), "region_size"),
    ("egress_gb", "app", "none", (), "meter"),  # a product's quantity per app
    ("spend", "app", "preset", (), "meter"),
    ("spend", "team", "none", (("preset", ("shared-cpu-1x",)),), "meter"),
])
@pytest.mark.parametrize("grain", readmodels.GRAINS)
def test_a_narrow_daily_rollup_answers_exactly_as_the_meter_rows(
        connection, org_id, grain, measure, dimension_1, dimension_2, filters, expected):
    """Each explorer question read from the narrow rollup it is routed to equals the same
    question read from the meter rows (the month in progress from the monthly rollup)."""
    query = ExplorerQuery(measure, dimension_1, dimension_2, grain, date(2026, 10, 20),
                          date(2026, 11, 26), filters)
    routed, source = _explorer_rows(connection, org_id, query)
    assert source == expected
    meter, _ = _explorer_rows(connection, org_id, query, source="meter")
    assert routed == meter
    assert routed  # not vacuous


def test_page_reads_are_planned_for_their_parameters_unless_marked_generic(_seeded_and_rolled):
    """A generic plan cannot see which rollup a query's bound choices read, and was three times
    slower: a read is sent unprepared, and so planned for its values, every time, whatever
    psycopg would prepare. A query marked generic is prepared and keeps its generic plan from
    one page view to the next (a read snapshot ends with a commit, which keeps it; psycopg
    forgets every prepared statement at a rollback)."""
    pool = db.ReadPool([_seeded_and_rolled.url.render_as_string(hide_password=False)],
                       pool_size=1)
    marked = sql("org_freshness")
    unmarked = text("select min(usage_date) from rollup_org_daily where org_id = :org_id")
    assert db.GENERIC_PLAN_MARK in marked.text
    try:
        for _ in range(8):
            with pool.snapshot() as snapshot:
                for statement in (marked, unmarked):
                    snapshot.connection.execute(statement, {"org_id": 1}).all()
        with pool.snapshot() as snapshot:
            memory = snapshot.connection.execute(text("show work_mem")).scalar_one()
            prepared = snapshot.connection.execute(text(
                "select statement, generic_plans, custom_plans from pg_prepared_statements"
            )).all()
    finally:
        pool.dispose()
    assert memory == "16MB"
    assert len(prepared) == 1  # the marked one only
    statement, generic_plans, custom_plans = prepared[0]
    assert db.GENERIC_PLAN_MARK in statement
    assert (generic_plans, custom_plans) == (3, 5)  # five custom plans, then the generic one


@pytest.mark.parametrize(("start_date", "end_date"), RANGES)
def test_the_team_comparison_read_the_short_way_equals_the_one_from_every_apps_rows(
        connection, org_id, start_date, end_date):
    """The teams, their mixes, the movers and their reasons, and each team's apps, from the
    per-team rollups and the rows of the apps shown alone, as from every app's rows."""
    period = teams.Period(start_date, end_date)
    names = teams.read_teams(connection, org_id)
    every = teams.compare(teams.read_mix(connection, org_id, period), names, period)
    assert any(mover.kind == "app" for mover in every.movers)  # not vacuous
    for team_id in names:
        short = teams.read_comparison(connection, org_id, period, names, shown_team=team_id)
        assert (short.total_cents, short.previous_total_cents) == (
            every.total_cents, every.previous_total_cents)
        pd.testing.assert_frame_equal(short.teams, every.teams)
        assert short.movers == every.movers
        pd.testing.assert_frame_equal(teams.team_apps(short, team_id),
                                      teams.team_apps(every, team_id))


def test_the_team_comparison_names_every_team_the_members_page_lists(connection, org_id):
    """read_teams reads names alone (not every machine, as org_teams counts them): the same
    teams in the same order."""
    listed = connection.execute(sql("org_teams"), {"org_id": org_id}).all()
    assert len(listed) > 1  # not vacuous
    assert list(teams.read_teams(connection, org_id).items()) == [
        (row.team_id, row.name) for row in listed]


@pytest.mark.parametrize(("start_date", "end_date"), RANGES)
@pytest.mark.parametrize("grain", teams.TREND_GRAINS)
def test_the_team_trend_from_the_team_rollups_equals_the_explorers_series_by_team(
        connection, org_id, grain, start_date, end_date):
    """queries/team_trend.sql returns, row for row, what the explorer's generic series gives
    for spend by team with every series kept: the same series, labels, ranks and cells."""
    period = teams.Period(start_date, end_date)
    trend = teams.read_trend(connection, org_id, period, grain)
    explorer = usage_explorer.read_cells(connection, org_id, teams.trend_query(period, grain),
                                         None)
    assert (trend.kind == "cell").any()  # not vacuous
    pd.testing.assert_frame_equal(trend.astype(object).where(trend.notna(), None),
                                  explorer.astype(object).where(explorer.notna(), None))


def _summed(rows: pd.DataFrame, keys: list[str]) -> dict[tuple, tuple[Decimal, Decimal]]:
    """(spend, machine runtime) per value of ``keys``, exact."""
    sums: dict[tuple, tuple[Decimal, Decimal]] = {}
    for row in rows.itertuples():
        key = tuple(getattr(row, column) for column in keys)
        spent, runtime = sums.get(key, (Decimal(0), Decimal(0)))
        sums[key] = (spent + row.amount_precise, runtime + row.machine_seconds)
    return sums


@pytest.mark.parametrize(("start_date", "end_date"), RANGES)
def test_the_team_summary_s_mixes_and_app_totals_equal_every_apps_rows_to_the_digit(
        connection, org_id, start_date, end_date):
    """The summary's rows per team and region, per team and VM size, and per app in each
    period hold exactly what every app's rows by region and VM size add up to: a row lost,
    counted twice or put in the wrong period changes a sum."""
    period = teams.Period(start_date, end_date)
    latest = readmodels.last_usage_date(connection, org_id)
    mix = teams.read_mix(connection, org_id, period, latest_usage_day=latest)
    team_rows, apps = teams.split_summary(readmodels.read_frame(
        connection, "team_usage_summary", period.params(org_id, latest),
        teams.SUMMARY_COLUMNS))
    by_region = team_rows[team_rows.preset_key.isna()]
    by_size = team_rows[team_rows.region_code.isna()]
    assert len(by_region) + len(by_size) == len(team_rows)
    assert not by_region.empty and not by_size.empty  # not vacuous
    for rows, column in ((by_region, "region_code"), (by_size, "preset_key")):
        keys = ["is_current", "team_id", column]
        assert _summed(rows, keys) == _summed(mix, keys)
        assert len(_summed(rows, keys)) == len(rows)  # one row per team and value
    pd.testing.assert_frame_equal(apps, teams.app_totals(mix))
    assert apps.amount_precise.notna().any()  # not vacuous


# --- the explorer's fold --------------------------------------------------------------------
# queries/explorer_series.sql keeps the biggest series and folds the rest into "other" itself,
# and usage_explorer.build_series splits the exact total over what it returns. The same query
# with every series kept feeds the fold as the page once did it in pandas (the reference
# below): the chart cells, the table, the shares and the hidden count must be identical, to the
# hundredth.


def _reference_fold(every: pd.DataFrame, top: int | None) -> usage_explorer.Series:
    """The fold over every cell (in the order the database returns them), as pandas did it."""
    series = every[every.kind == "series"]
    labels = dict(zip(series.series_key, series.series_label, strict=True))
    frame = every[every.kind == "cell"][["period_start_date", "series_key", "quantity"]].rename(
        columns={"quantity": "value"}).reset_index(drop=True)
    frame.insert(2, "series_label", frame.series_key.map(labels))
    ranking = (frame.groupby(["series_key", "series_label"], sort=False)["value"]
               .sum().reset_index())
    ranking = ranking.assign(order=ranking["value"].map(Decimal)).sort_values(
        ["order", "series_key"], ascending=[False, True], kind="stable")
    hidden = 0
    if top is not None and len(ranking) > top + 1:
        kept = set(ranking.series_key.head(top))
        hidden = len(ranking) - top
        is_other = ~frame.series_key.isin(kept)
        frame.loc[is_other, "series_key"] = OTHER_KEY
        frame.loc[is_other, "series_label"] = f"Other ({hidden})"
    cells = (frame.groupby(["period_start_date", "series_key", "series_label"], sort=False)
             ["value"].sum().reset_index())
    # within a period "other" comes last
    cells = cells.assign(is_other=cells.series_key == OTHER_KEY).sort_values(
        ["period_start_date", "is_other"], kind="stable").drop(columns="is_other")
    total = money.to_cents(sum(cells["value"], Decimal(0)))
    cells = cells.assign(hundredths=largest_remainder(total, list(cells["value"]))).drop(
        columns="value")
    order = [*(k for k in ranking.series_key if k in set(cells.series_key)),
             *([OTHER_KEY] if hidden else [])]
    table = (cells.groupby(["series_key", "series_label"], sort=False)["hundredths"].sum()
             .reset_index())
    table["series_key"] = pd.Categorical(table.series_key, categories=order, ordered=True)
    table = table.sort_values("series_key").reset_index(drop=True)
    table["series_key"] = table.series_key.astype(str)
    table["share_basis_points"] = largest_remainder(
        10_000, [Decimal(int(h)) for h in table.hundredths]) if total else [0] * len(table)
    cells = cells.sort_values(["period_start_date", "series_key"]).reset_index(drop=True)
    return usage_explorer.Series(cells, table, total, hidden)


QUERIES = [
    # the explorer's default (queries/explorer_top_apps.sql when folding), and by week
    ("spend", "app", "none", "day", date(2026, 10, 27), date(2026, 11, 26), ()),
    ("spend", "app", "none", "week", date(2026, 9, 20), date(2026, 11, 20), ()),
    # team x region (queries/explorer_top_team_regions.sql when folding), either one first
    ("spend", "team", "region", "week", date(2026, 9, 20), date(2026, 11, 26), ()),
    ("spend", "region", "team", "day", date(2026, 10, 27), date(2026, 11, 20), ()),
    ("spend", "team", "region", "day", date(2026, 10, 10), date(2026, 10, 20), ()),
    ("spend", "continent", "none", "month", date(2026, 9, 20), date(2026, 11, 26), ()),
    ("machine_hours", "preset", "none", "day", date(2026, 10, 27), date(2026, 11, 26), ()),
    ("spend", "app", "preset", "day", date(2026, 10, 10), date(2026, 10, 20), ()),
    ("egress_gb", "region", "app", "week", date(2026, 10, 1), date(2026, 11, 1), ()),
    ("spend", "product", "none", "day", date(2026, 10, 27), date(2026, 11, 20),
     (("region", ("iad", "lhr")),)),
]


@pytest.mark.parametrize("top", [None, 1, 2, 3, 8])
@pytest.mark.parametrize("shape", QUERIES, ids=lambda shape: "-".join(map(str, shape[:4])))
def test_the_fold_in_the_database_equals_the_fold_over_every_cell(connection, org_id, shape,
                                                                   top):
    query = ExplorerQuery(*shape)
    every = usage_explorer.read_cells(connection, org_id, query, None)
    assert len(every) > 3  # not vacuous
    expected = _reference_fold(every, top)
    folded = usage_explorer.build_series(usage_explorer.read_cells(connection, org_id, query, top))
    assert folded.total_hundredths == expected.total_hundredths
    assert folded.hidden == expected.hidden
    pd.testing.assert_frame_equal(folded.table, expected.table, check_dtype=False)
    pd.testing.assert_frame_equal(folded.cells, expected.cells, check_dtype=False)


def test_the_previous_period_folds_into_the_series_shown(connection, org_id):
    query = ExplorerQuery("spend", "app", "none", "day", date(2026, 10, 27), date(2026, 11, 26))
    series = usage_explorer.build_series(usage_explorer.read_cells(connection, org_id, query, 2))
    every = usage_explorer.read_cells(connection, org_id, query.previous, None)
    previous = usage_explorer.previous_totals(
        usage_explorer.read_cells(connection, org_id, query.previous, None, with_cells=False),
        series)
    assert set(previous) <= set(series.table.series_key)
    assert OTHER_KEY in previous
    # the series' totals are their cells' sums, rounded once and split as the table does
    cells = every[every.kind == "cell"]
    kept = set(series.table.series_key) - {OTHER_KEY}
    folded = cells.series_key.where(cells.series_key.isin(kept), OTHER_KEY)
    exact = pd.DataFrame({"key": folded, "value": cells.quantity}).groupby("key")["value"].sum()
    assert previous == dict(zip(exact.index, largest_remainder(
        money.to_cents(sum(exact, Decimal(0))), list(exact)), strict=True))


def test_a_recording_holds_each_snapshot_and_its_statements(_seeded_and_rolled):
    """What a page view runs can be recorded (the benchmarks replay it): each snapshot with
    its scope and its statements in order, and nothing outside the recording."""
    pool = db.ReadPool([_seeded_and_rolled.url.render_as_string(hide_password=False)])
    scope = db.Scope(org_ids=(1,))
    try:
        with db.recording() as snapshots, pool.snapshot(scope) as snapshot:
            snapshot.connection.execute(text("select 1 as first"))
            snapshot.connection.execute(text("select :n as second"), {"n": 2})
        with pool.snapshot(scope) as snapshot:
            snapshot.connection.execute(text("select 3"))
    finally:
        pool.dispose()
    assert [recorded.scope for recorded in snapshots] == [scope]
    assert [(statement, dict(parameters or {})) for statement, parameters
            in snapshots[0].statements] == [("select 1 as first", {}),
                                             ("select %(n)s as second", {"n": 2})]


def _transaction(snapshot: db.ReadSnapshot) -> tuple[object, ...]:
    """The snapshot's transaction (its start time on its backend) and the organizations its
    scope names."""
    return tuple(snapshot.connection.execute(text(
        "select pg_backend_pid(), now(), current_setting('fleetspend.org_ids', true)")).one())


def test_a_page_view_reads_in_one_snapshot_rescoped_as_each_read_asks(_seeded_and_rolled):
    """Inside a page view every read shares one transaction (one snapshot, recorded once);
    each read has the scope it asked for, and a read inside another gives it its scope back."""
    pool = db.ReadPool([_seeded_and_rolled.url.render_as_string(hide_password=False)])
    first, second = db.Scope(org_ids=(1,), user_id=1), db.Scope(org_ids=(2,), user_id=1)
    try:
        with db.recording() as snapshots, pool.view():
            with pool.snapshot() as snapshot:
                unscoped = _transaction(snapshot)
            with pool.snapshot(first) as outer:
                in_first = _transaction(outer)
                with pool.snapshot(second) as inner:
                    in_second = _transaction(inner)
                back_in_first = _transaction(outer)
        with pool.snapshot(first) as snapshot:  # after the view: a snapshot of its own
            afterwards = _transaction(snapshot)
    finally:
        pool.dispose()
    assert unscoped[:2] == in_first[:2] == in_second[:2] == back_in_first[:2]
    assert (unscoped[2] or "", in_first[2], in_second[2], back_in_first[2]) == ("", "1", "2",
                                                                                "1")
    assert afterwards[1] != unscoped[1]
    assert len(snapshots) == 1


def test_a_failed_read_ends_the_views_snapshot_and_the_next_read_starts_afresh(
        _seeded_and_rolled):
    pool = db.ReadPool([_seeded_and_rolled.url.render_as_string(hide_password=False)],
                       statement_timeout_ms=200)
    scope = db.Scope(org_ids=(1,), user_id=1)
    try:
        with pool.view():
            with pool.snapshot(scope) as snapshot:
                before = _transaction(snapshot)
            with pytest.raises(db.ReadTimeoutError), pool.snapshot(scope) as snapshot:
                snapshot.connection.execute(text("select pg_sleep(1)"))
            with pool.snapshot(scope) as snapshot:
                after = _transaction(snapshot)
            with pool.snapshot(scope, fresh=True) as snapshot:
                fresh = _transaction(snapshot)
    finally:
        pool.dispose()
    assert after[2] == fresh[2] == "1"
    assert len({before[1], after[1], fresh[1]}) == 3  # three transactions


def test_a_view_that_writes_on_the_primary_reads_what_it_wrote(monkeypatch, _seeded_and_rolled):
    """A support engineer's page view writes its audit event before it reads: its reads after
    that start a fresh snapshot, which holds the write."""
    url = _seeded_and_rolled.url.render_as_string(hide_password=False)
    monkeypatch.setenv("APP_DATABASE_URL", url)
    db.app_primary_engine.cache_clear()
    pool = db.ReadPool([url])
    try:
        with pool.view():
            with pool.snapshot() as snapshot:
                before = _transaction(snapshot)
            with pool.snapshot() as snapshot:
                unwritten = _transaction(snapshot)
            with db.app_primary_engine().begin() as connection:
                connection.execute(text("create temporary table written (n int)"))
            with pool.snapshot() as snapshot:
                after = _transaction(snapshot)
    finally:
        pool.dispose()
        db.app_primary_engine().dispose()
        db.app_primary_engine.cache_clear()
    assert before[1] == unwritten[1] != after[1]


def _searched_per_view(connection, org_id) -> tuple[clock.AsOf, list[anomaly_search.Anomaly]]:
    """The overview's anomalies as it searched them on every view before the fold stored them:
    the 60 days shown and three weeks before them, complete days only."""
    now = clock.as_of(connection.execute(sql("usage_complete_through"),
                                         {"org_id": org_id}).scalar_one())
    trend_start = now.last_day - timedelta(days=59)
    complete_until = now.last_day + timedelta(days=1) if now.is_last_day_complete else (
        now.last_day)
    series_start = trend_start - timedelta(days=21)
    series = anomaly_search.read_app_region_series(connection, org_id, series_start, complete_until)
    return now, anomaly_search.find_anomalies(series, series_start, since=trend_start)


def _stored_anomalies(connection, org_id) -> tuple[object, list[anomaly_search.Anomaly]]:
    row = connection.execute(text(
        "select through_at, findings from rollup_anomaly_findings where org_id = :org_id"),
        {"org_id": org_id}).one()
    return row.through_at, [anomaly_search.anomaly_from_json(found) for found in row.findings]


def test_the_overview_reads_the_anomalies_the_fold_found(connection, org_id):
    now, searched = _searched_per_view(connection, org_id)
    assert searched  # the seed plants some
    assert _stored_anomalies(connection, org_id) == (now.through_at, searched)
    overview = spend_overview.read_overview(connection, org_id, may_see_invoices=True)
    assert overview.anomalies == searched


def test_a_fold_searches_again_and_a_view_without_findings_searches_itself(
        _seeded_and_rolled, org_id):
    with _seeded_and_rolled.connect() as connection, connection.begin() as transaction:
        _now, before = _searched_per_view(connection, org_id)
        # a runaway on the last day: one machine sends 50,000 GB more in its last hour
        connection.execute(text("""
            update machine_usage set egress_internet_gb = egress_internet_gb + 50000
            where (org_id, machine_id, hour_at) = (
                select org_id, machine_id, hour_at from machine_usage
                where org_id = :org_id order by hour_at desc, machine_id limit 1)
        """), {"org_id": org_id})
        rollups.refresh_in(connection)
        now, after = _searched_per_view(connection, org_id)
        assert after != before
        assert any(found.kind == "spike" and found.end_date == now.last_day for found in after)
        assert _stored_anomalies(connection, org_id) == (now.through_at, after)
        connection.execute(text("delete from rollup_anomaly_findings where org_id = :org_id"),
                           {"org_id": org_id})
        assert anomaly_search.read_anomalies(connection, org_id, now) == after
        transaction.rollback()


@pytest.mark.parametrize("month", [date(2026, 9, 1), date(2026, 10, 1), date(2026, 11, 1)])
def test_the_overviews_top_values_are_the_top_rows_of_spend_by_each_dimension(
        connection, org_id, month):
    last_day = readmodels.last_usage_date(connection, org_id)
    end = min(readmodels.next_month(month), last_day + timedelta(days=1))
    month_total = _raw_total(connection, org_id, month, end)
    top = spend_overview.read_top(connection, org_id, month, month_total)
    for dimension in ("app", "region", "preset"):
        rows = readmodels.spend_by_dimensions(connection, org_id, month, end, dimension,
                                              row_limit=spend_overview.TOP,
                                              latest_usage_day=last_day)
        assert [(share.key, share.label, share.amount_cents) for share in top[dimension]] == [
            (key, label, cents) for key, label, cents
            in zip(rows.dimension_1_key, rows.dimension_1_label, rows.amount_cents,
                   strict=True)]
        assert len(top[dimension]) == min(spend_overview.TOP, len(readmodels.spend_by_dimensions(
            connection, org_id, month, end, dimension, latest_usage_day=last_day)))


@pytest.mark.parametrize(("start_date", "end_date"), RANGES)
@pytest.mark.parametrize("top", [1, 2, 8])
def test_the_default_views_previous_period_the_short_way_equals_every_series_folded(
        connection, org_id, start_date, end_date, top):
    query = ExplorerQuery("spend", "app", "none", "day", start_date, end_date)
    series = usage_explorer.build_series(usage_explorer.read_cells(connection, org_id, query, top))
    every = usage_explorer.previous_totals(usage_explorer.read_cells(
        connection, org_id, query.previous, None, with_cells=False), series)
    assert usage_explorer.read_previous_totals(connection, org_id, query, series, top) == every


def test_local_settings_hold_inside_the_block_and_give_back_what_was_set_before(connection):
    """db.local_settings (the planner switches around one misjudged write statement) sets its
    values for the block only, and afterwards the transaction has what it had before, not
    the server's defaults."""
    def current() -> tuple[str, str]:
        return connection.execute(text(
            "select current_setting('enable_nestloop'), current_setting('work_mem')")).one()

    with connection.begin():
        db.set_local(connection, {"work_mem": "7MB"})
        with db.local_settings(connection, {"enable_nestloop": "off", "work_mem": "9MB"}):
            assert tuple(current()) == ("off", "9MB")
        assert tuple(current()) == ("on", "7MB")
