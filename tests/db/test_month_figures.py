"""One figure per month: on the demo data, every page's figures of an invoiced month add up to
its invoice's subtotal to the cent, at every grouping and every grain (fleetspend/figures.py).

The months are the demo's finalized August to October and November's upcoming invoice (a
draft: the month to date must be the same number). One test reads every page for each of
them, so the demo database is cloned once. Then, on the small seed: usage taken back after a
month was sealed leaves its figures alone, and the next draft carries the difference.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import Connection, Engine, text

from fleetspend import anomaly_search, clock, figures, rollups
from fleetspend.billing import invoices
from fleetspend.models import NARROW_ROLLUPS, TEAM_ROLLUPS
from fleetspend.partitions import next_month
from fleetspend.reads import dimensions, exports, readmodels, spend_overview, teams, usage_explorer
from queries import sql
from tests.conftest import clone, engine_for

EXPLORER_TOP = 8  # the explorer's default number of series before "other"


@pytest.fixture(scope="module")
def demo_engine(server_url: str, demo_template: str) -> Iterator[Engine]:
    for url in clone(server_url, demo_template):
        engine = engine_for(url)
        yield engine
        engine.dispose()


def _invoices(connection: Connection) -> list:
    return connection.execute(text(
        "select org_id, period_start_date, status, subtotal_cents, invoice_number "
        "from invoices order by org_id, period_start_date")).all()


def _explorer_cents(connection: Connection, org_id: int, month: date, grain: str,
                    dimension: str, top: int | None) -> tuple[int, int, int]:
    """The explorer's total, the sum of its table rows, and the sum of its chart cells, with
    the biggest ``top`` series kept and the rest folded into "other" (None: every series)."""
    query = usage_explorer.ExplorerQuery("spend", dimension, "none", grain, month,
                                         next_month(month))
    series = usage_explorer.build_series(usage_explorer.read_cells(connection, org_id, query, top))
    return (series.total_hundredths, int(series.table.hundredths.sum()),
            int(series.cells.hundredths.sum()))


def _page_figures(connection: Connection, org_id: int, month: date) -> dict[str, int]:
    """Each page's figure of the month for one organization, in cents."""
    end = next_month(month)
    found: dict[str, int] = {}
    for grain in ("day", "week", "month"):
        rows = readmodels.spend_by_period(connection, org_id, month, end, grain)
        found[f"overview daily series by {grain}"] = int(rows.amount_cents.sum())
    for dimension, values in spend_overview.read_top(connection, org_id, month, Decimal(0),
                                            top=None).items():
        found[f"overview's top {dimension}"] = sum(value.amount_cents for value in values)
    found["overview's map"] = int(readmodels.read_frame(
        connection, "spend_by_region_located",
        {"org_id": org_id, "month_date": month}).amount_cents.sum())
    for dimension in dimensions.DIMENSIONS:
        rows = readmodels.spend_by_dimensions(connection, org_id, month, end, dimension)
        found[f"top {dimension}"] = int(rows.amount_cents.sum())
        for grain, top in (("day", EXPLORER_TOP), ("day", None), ("month", None)):
            total, table, cells = _explorer_cents(connection, org_id, month, grain, dimension,
                                                  top)
            view = f"{dimension} per {grain}, top {top}"
            found[f"explorer by {view}"] = total
            found[f"explorer table by {view}"] = table
            found[f"explorer chart by {view}"] = cells
    period = teams.Period(month, end)
    names = teams.read_teams(connection, org_id)
    comparison = teams.read_comparison(connection, org_id, period, names)
    found["team comparison total"] = comparison.total_cents
    found["team comparison teams"] = int(comparison.teams.amount_cents.sum())
    for team_id in comparison.teams.key:
        shown = teams.read_comparison(connection, org_id, period, names,
                                      shown_team=int(team_id))
        found.setdefault("team comparison apps", 0)
        found["team comparison apps"] += int(teams.team_apps(shown, team_id)
                                             .amount_cents.sum())
    focus = exports.focus_export(connection, org_id, month, end - timedelta(days=1))
    usage = focus[focus.ChargeCategory == "Usage"]
    found["FOCUS BilledCost"] = int(sum(usage.BilledCost, Decimal(0)) * 100)
    found["month figure"] = figures.month_figure(connection, org_id, month).amount_cents
    return found


def test_every_page_adds_up_to_each_invoice_of_the_demo_to_the_cent(demo_engine) -> None:
    differences = []
    with demo_engine.connect() as connection:
        invoices = _invoices(connection)
        assert {row.status for row in invoices} == {"finalized", "draft"}
        for invoice in invoices:
            for page, cents in _page_figures(connection, invoice.org_id,
                                             invoice.period_start_date).items():
                if cents != invoice.subtotal_cents:
                    differences.append((invoice.invoice_number, page,
                                        cents - invoice.subtotal_cents))
            _assert_anomalies_found_in_the_figures(connection, invoice.org_id)
    assert differences == []


def test_the_month_to_date_is_the_upcoming_invoice(demo_engine) -> None:
    with demo_engine.connect() as connection:
        for invoice in _invoices(connection):
            if invoice.status != "draft":
                continue
            overview = spend_overview.read_overview(connection, invoice.org_id,
                                                    may_see_invoices=True)
            assert overview.now.month_start == invoice.period_start_date
            assert overview.month_cents == invoice.subtotal_cents
            assert overview.invoice["subtotal_cents"] == invoice.subtotal_cents
            assert not overview.is_invoiced  # a draft: the page marks the figure estimated
            figure = figures.month_figure(connection, invoice.org_id,
                                          invoice.period_start_date)
            assert figure.is_estimate and figure.invoice_number == invoice.invoice_number
            treemap = int(spend_overview.read_treemap(
                connection, invoice.org_id, invoice.period_start_date).amount_cents.sum())
            regions = int(overview.regions.amount_cents.sum())
            assert (treemap, regions) == (invoice.subtotal_cents, invoice.subtotal_cents)


def _assert_anomalies_found_in_the_figures(connection: Connection, org_id: int) -> None:
    """The overview's anomalies, stored by the fold or the draft, are those a search finds in
    the rollups as they are now (the invoice's cents where a month carries them)."""
    now = clock.as_of(connection.execute(sql("usage_complete_through"),
                                         {"org_id": org_id}).scalar_one())
    stored = connection.execute(text(
        "select through_at, findings from rollup_anomaly_findings where org_id = :org_id"),
        {"org_id": org_id}).one()
    assert stored.through_at == now.through_at
    assert [anomaly_search.anomaly_from_json(found) for found in stored.findings] == (
        anomaly_search.search_anomalies(connection, org_id, now))


def _assert_pages_add_up(connection: Connection, org_id: int, month: date) -> int:
    _assert_anomalies_found_in_the_figures(connection, org_id)
    subtotal = connection.execute(text(
        "select subtotal_cents from invoices where org_id = :org and period_start_date = :month"),
        {"org": org_id, "month": month}).scalar_one()
    figures_shown = _page_figures(connection, org_id, month)
    assert {page: cents - subtotal for page, cents in figures_shown.items()
            if cents != subtotal} == {}
    return subtotal


def _busiest_october_app(connection: Connection) -> tuple[int, int]:
    """acme's org id and the app of its machines with the most runtime in October."""
    return tuple(connection.execute(text(
        "select org_id, machines.app_id from machine_usage "
        "join machines using (org_id, machine_id) join organizations using (org_id) "
        "where slug = 'acme' and hour_at >= '2026-10-01T00:00Z' "
        "and hour_at < '2026-11-01T00:00Z' "
        "group by 1, 2 order by sum(runtime_seconds) desc, 2 limit 1")).one())


def _delete_app_usage(connection: Connection, org_id: int, app_id: int, *, until: str) -> None:
    """Every hour of the app's machines from October 1 until ``until`` (UTC) deleted, as an
    import of corrections would leave them."""
    connection.execute(text(
        "delete from machine_usage using machines "
        "where machines.org_id = machine_usage.org_id "
        "and machines.machine_id = machine_usage.machine_id "
        "and machine_usage.org_id = :org and machines.app_id = :app "
        "and hour_at >= '2026-10-01T00:00Z' and hour_at < :until"),
        {"org": org_id, "app": app_id, "until": until})


def test_a_sealed_month_keeps_its_figures_when_usage_goes_and_the_next_draft_carries_it(
        invoiced_engine) -> None:
    october, november = date(2026, 10, 1), date(2026, 11, 1)
    with invoiced_engine.begin() as connection:
        org_id, app_id = _busiest_october_app(connection)
        # every October hour of the app's machines withdrawn after October was sealed, as an
        # import of corrections would leave it (and note the month for the next draft)
        _delete_app_usage(connection, org_id, app_id, until="2026-11-01T00:00Z")
        connection.execute(text(
            "insert into late_usage_periods (org_id, period_start_date) values (:org, :month)"),
            {"org": org_id, "month": october})
    rollups.refresh(invoiced_engine)
    with invoiced_engine.connect() as connection:
        _assert_pages_add_up(connection, org_id, october)
        # the app's October machine cents have no usage left: rows of their own, nothing used
        assert connection.execute(text(
            "select count(*) from rollup_usage_daily where org_id = :org and resources = 0 "
            "and usage_date >= :month and usage_date < :until"),
            {"org": org_id, "month": october, "until": november}).scalar_one() > 0

    invoices.draft_month(invoiced_engine, november)
    with invoiced_engine.connect() as connection:
        adjusted = connection.execute(text(
            "select sum(invoice_lines.amount_cents) from invoice_lines "
            "join invoices using (org_id, invoice_id) where invoices.org_id = :org "
            "and invoices.period_start_date = :month and adjusts_period_date = :october"),
            {"org": org_id, "month": november, "october": october}).scalar_one()
        assert adjusted < 0
        subtotal = _assert_pages_add_up(connection, org_id, november)
        overview = spend_overview.read_overview(connection, org_id, may_see_invoices=True)
        assert overview.month_cents == subtotal
        _assert_meter_rows_keep_rated_amounts(connection)


def _assert_meter_rows_keep_rated_amounts(connection: Connection) -> None:
    """Every meter row's rated amount is its per-resource rows summed (none: 0), whatever
    cents it carries."""
    kept = connection.execute(text(
        "select count(*) filter (where meter.rated_amount_precise "
        "                        <> coalesce(sums.amount_precise, 0)), "
        "       count(*) filter (where meter.amount_precise <> meter.rated_amount_precise) "
        "from rollup_usage_daily as meter "
        "left join (select org_id, usage_date, app_id, region_code, preset_code, product, "
        "                  sum(amount_precise) as amount_precise "
        "           from rollup_resource_daily group by 1, 2, 3, 4, 5, 6) as sums "
        "using (org_id, usage_date, app_id, region_code, preset_code, product)")).one()
    assert kept[0] == 0
    assert kept[1] > 0  # some rows carry an invoice's cents


# every rollup a month's figures are written to (the meter rows and everything summed from them)
FIGURED_TABLES = ("rollup_usage_daily", "rollup_usage_monthly", "rollup_org_daily",
                  *(f"rollup_{name}_{grain}" for name in (*NARROW_ROLLUPS, *TEAM_ROLLUPS)
                    for grain in ("daily", "monthly")),
                  "rollup_app_region_series")


def _figured_rows(connection: Connection, org_id: int) -> dict[str, set[tuple]]:
    """Each table's rows of the organization (the series' arrays as tuples)."""
    return {table: {tuple(tuple(value) if isinstance(value, list) else value for value in row)
                    for row in connection.execute(text(
                        f"select * from {table} where org_id = :org"), {"org": org_id})}
            for table in FIGURED_TABLES}


def test_a_months_figures_withdrawn_and_applied_again_are_the_same_rows(
        invoiced_engine) -> None:
    # the draft's cents spread over the month again, from rated amounts, land where they were
    november = date(2026, 11, 1)
    with invoiced_engine.begin() as connection:
        org_id = connection.execute(text(
            "select org_id from organizations where slug = 'acme'")).scalar_one()
        figures.apply(connection, november, [org_id])
        applied = _figured_rows(connection, org_id)
        _assert_meter_rows_keep_rated_amounts(connection)
        figures.withdraw(connection, [(org_id, november)])
        assert figures.month_figure(connection, org_id, november).invoice_number is None
        figures.apply(connection, november, [org_id])
        assert _figured_rows(connection, org_id) == applied
        _assert_meter_rows_keep_rated_amounts(connection)
        assert _assert_pages_add_up(connection, org_id, november) > 0


def _meter_row_versions(connection: Connection, org_id: int, month: date) -> dict[tuple, tuple]:
    """The month's meter rows of the organization: key -> (row version, cents as dollars)."""
    return {tuple(row[:6]): (row.ctid, row.amount_precise) for row in connection.execute(text(
        "select org_id, usage_date, app_id, region_code, preset_code, product, "
        "cast(ctid as text) as ctid, amount_precise from rollup_usage_daily "
        "where org_id = :org and usage_date >= :month and usage_date < :next"),
        {"org": org_id, "month": month, "next": next_month(month)})}


def test_a_month_drafted_again_on_the_same_usage_leaves_its_meter_rows_as_they_are(
        invoiced_engine) -> None:
    # a redraft (or finalizing after the draft) on unchanged usage rewrites none of the month's
    # meter rows; after a withdrawal every row whose cents differ from its rated amount is
    # written again, and the pages add up to the invoice both times
    november = date(2026, 11, 1)
    with invoiced_engine.begin() as connection:
        org_id = connection.execute(text(
            "select org_id from organizations where slug = 'acme'")).scalar_one()
        invoices.draft_in(connection, november, [org_id], always_org_ids=[org_id])
        drafted = _meter_row_versions(connection, org_id, november)
        assert len(drafted) > 100
        invoices.draft_in(connection, november, [org_id], always_org_ids=[org_id])
        assert _meter_row_versions(connection, org_id, november) == drafted
        subtotal = _assert_pages_add_up(connection, org_id, november)
        figures.withdraw(connection, [(org_id, november)])
        rated = _meter_row_versions(connection, org_id, november)
        invoices.draft_in(connection, november, [org_id], always_org_ids=[org_id])
        again = _meter_row_versions(connection, org_id, november)
        assert {key: cents for key, (_, cents) in again.items()} == {
            key: cents for key, (_, cents) in drafted.items()}
        changed = {key for key in again if again[key][1] != rated[key][1]}
        assert changed and {key for key in again if again[key][0] != rated[key][0]} == changed
        assert _assert_pages_add_up(connection, org_id, november) == subtotal


def _month_rows(connection: Connection, org_id: int, month: date) -> dict[str, set[tuple]]:
    """Each figured table's rows of the organization's month (its days, or the month's rows)."""
    return {table: {tuple(tuple(value) if isinstance(value, list) else value for value in row)
                    for row in connection.execute(text(
                        f"select * from {table} where org_id = :org and "
                        + ("usage_date >= :month and usage_date < :until"
                           if table.endswith("_daily") else "month_date = :month")),
                        {"org": org_id, "month": month, "until": next_month(month)})}
            for table in FIGURED_TABLES}


def test_a_drafts_month_withdrawn_by_new_usage_is_what_a_rebuild_gives(invoiced_engine) -> None:
    # the upcoming invoice carries cents with no usage under them (an adjustment of October for
    # an app gone since, and for egress, which November no longer has): rows of their own; then
    # an hour of November changes, and the month goes back to rated amounts: every rollup of it
    # as a rebuild from raw usage makes it, with no cent of the draft left and none of the rows
    # that only its cents needed
    october, november = date(2026, 10, 1), date(2026, 11, 1)
    with invoiced_engine.begin() as connection:
        org_id, app_id = _busiest_october_app(connection)
        _delete_app_usage(connection, org_id, app_id, until="2026-12-01T00:00Z")
        # and November's hours re-sent without egress: the app's October egress has no product
        # of its own left in November, not even on the organization's rows
        connection.execute(text(
            "update machine_usage set egress_internet_gb = 0, egress_private_gb = 0 "
            "where org_id = :org and hour_at >= '2026-11-01T00:00Z' "
            "and hour_at < '2026-12-01T00:00Z'"), {"org": org_id})
        connection.execute(text(
            "insert into late_usage_periods (org_id, period_start_date) values (:org, :month)"),
            {"org": org_id, "month": october})
    rollups.refresh(invoiced_engine)
    invoices.draft_month(invoiced_engine, november)
    with invoiced_engine.connect() as connection:
        _assert_pages_add_up(connection, org_id, november)
        for table in ("rollup_usage_daily", "rollup_org_daily"):
            assert connection.execute(text(
                f"select count(*) from {table} where org_id = :org and resources = 0 "
                "and product = 'egress_internet' "
                "and usage_date >= :month and usage_date < :until"),
                {"org": org_id, "month": november,
                 "until": next_month(november)}).scalar_one() > 0
        # a machine-hour of another app, away from the month's first day (where the figures'
        # own rows are, which refolding its day would take away anyway)
        machine_id, hour_at = connection.execute(text(
            "select machine_usage.machine_id, max(hour_at) from machine_usage "
            "join machines using (org_id, machine_id) "
            "where machine_usage.org_id = :org and machines.app_id <> :app "
            "and hour_at >= '2026-11-10T00:00Z' and hour_at < '2026-11-11T00:00Z' "
            "group by 1 order by 1 limit 1"), {"org": org_id, "app": app_id}).one()
    with invoiced_engine.begin() as connection:
        connection.execute(text(
            "delete from machine_usage where org_id = :org and machine_id = :machine "
            "and hour_at = :hour_at"), {"org": org_id, "machine": machine_id, "hour_at": hour_at})
    rollups.refresh(invoiced_engine)
    with invoiced_engine.begin() as connection:
        assert figures.month_figure(connection, org_id, november).invoice_number is None
        withdrawn = _month_rows(connection, org_id, november)
        assert not any(row[-1] == 0 for table in ("rollup_usage_daily", "rollup_org_daily")
                       for row in connection.execute(text(
                           f"select resources from {table} where org_id = :org "
                           "and usage_date >= :month and usage_date < :until"),
                           {"org": org_id, "month": november, "until": next_month(november)}))
        rollups.rebuild_in(connection)
        assert _month_rows(connection, org_id, november) == withdrawn
        assert figures.month_figure(connection, org_id, november).invoice_number is None
