"""AppTest of the usage explorer on the small seed: totals, URL state, bad links, drilling."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import date
from decimal import Decimal

import pytest
from sqlalchemy import text

import queries
from fleetspend.money import dollars
from fleetspend.reads import dimensions
from fleetspend.reads.usage_explorer import OTHER_KEY
from fleetspend.ui import charts
from tests.app.conftest import acme_org_id, as_read, drawn_charts, forget_caches, shown_cents

OCTOBER = {"from": "2026-10-01", "to": "2026-10-31"}


def _params(app) -> dict[str, str]:
    return {key: app.query_params[key][0] if isinstance(app.query_params[key], list)
            else app.query_params[key] for key in app.query_params}


def _notices(app) -> list[str]:
    """The page's notices about its link as read (Markdown escapes undone; the demo-mode
    banner is a warning too)."""
    return [as_read(w.value) for w in app.warning if w.icon == ":material/link_off:"]


def _table(app):
    return app.dataframe[0].value


def _series_keys(app) -> list[str]:
    """The series keys the stacked chart's bars carry (the table shows no internal keys)."""
    [(_, figure)] = drawn_charts(app)
    return [trace["customdata"][0][0] for trace in figure["data"]]


def test_totals_equal_the_database_and_the_table_adds_up_to_them(open_page, spend_url,
                                                                 spend_engine):
    app = open_page(spend_url, "explorer", by="app", grain="day", top="2", **OCTOBER).run()
    assert not app.exception, app.exception
    # October is invoiced: the explorer shows its invoice's subtotal
    expected = shown_cents(spend_engine, acme_org_id(spend_engine), date(2026, 10, 1),
                           date(2026, 11, 1))
    assert app.metric[0].value == dollars(expected)
    table = _table(app)
    rows, total = table.iloc[:-1], table.iloc[-1]
    assert total["Series"] == "Total"
    assert total["Total (USD)"] == Decimal(expected) / 100
    assert sum(rows["Total (USD)"]) == total["Total (USD)"]
    assert sum(rows["Share (%)"]) == Decimal("100.00")
    # top=2 keeps two apps and folds the rest into "other"
    assert len(rows) == 3 and _series_keys(app)[-1] == OTHER_KEY
    assert "Key" not in table.columns
    assert rows.iloc[-1]["Series"].startswith("Other (")


def test_machine_hours_equal_raw_runtime(open_page, spend_url, spend_engine):
    app = open_page(spend_url, "explorer", measure="machine_hours", by="region",
                    **OCTOBER).run()
    assert not app.exception, app.exception
    with spend_engine.connect() as connection:
        seconds = connection.execute(text(
            "select sum(runtime_seconds) from machine_usage join organizations using (org_id) "
            "where slug = 'acme' and hour_at >= '2026-10-01T00:00Z' "
            "and hour_at < '2026-11-01T00:00Z'")).scalar_one()
    hours = (Decimal(seconds) / 3600).quantize(Decimal("0.01"))
    assert _table(app).iloc[-1]["Total (machine-hours)"] == hours


def test_url_parameters_restore_the_view(open_page, spend_url):
    app = open_page(spend_url, "explorer", measure="spend", by="region", by2="product",
                    grain="week", compare="0", region="lhr", **OCTOBER).run()
    assert not app.exception, app.exception
    assert not _notices(app)
    assert app.selectbox(key="explorer_by").value == "region"
    assert app.selectbox(key="explorer_by2").value == "product"
    assert app.selectbox(key="explorer_grain").value == "week"
    assert app.multiselect(key="explorer_region").value == ["lhr"]
    labels = list(_table(app)["Series"][:-1])
    assert labels and all(label.startswith("London · ") for label in labels)
    assert "Previous (USD)" not in _table(app).columns
    assert _params(app)["region"] == "lhr"


def test_invalid_parameters_fall_back_to_defaults_with_a_notice(open_page, spend_url):
    app = open_page(spend_url, "explorer", by="colour", grain="fortnight", top="999",
                    app="not-an-app", **{"from": "yesterday"}).run()
    assert not app.exception, app.exception
    notice = _notices(app)[0]
    for name in ("by='colour'", "grain='fortnight'", "top='999'", "from='yesterday'",
                 "'not-an-app'"):
        assert name in notice
    params = _params(app)
    assert params["by"] == "app" and params["grain"] == "day" and params["top"] == "8"
    assert "app" not in params
    assert params["from"] == "2026-10-27" and params["to"] == "2026-11-25"  # the last 30 days
    assert app.metric[0].value.startswith("$")


def test_a_chart_selection_drills_down(open_page, spend_url, spend_engine):
    app = open_page(spend_url, "explorer", by="app", **OCTOBER).run()
    top_key = _series_keys(app)[0]
    app.session_state["explorer_chart"] = {
        "selection": {"points": [{"customdata": [top_key]}], "point_indices": [0],
                      "box": [], "lasso": []}}
    app.run()
    assert not app.exception, app.exception
    params = _params(app)
    assert params["app"] == top_key and params["by"] == "preset"
    assert params["from"] == OCTOBER["from"] and params["to"] == OCTOBER["to"]
    with spend_engine.connect() as connection:
        presets = set(connection.execute(text(
            "select distinct coalesce(nullif(preset_code, ''), 'no-size') from "
            "rollup_usage_daily where app_id = :app and usage_date between '2026-10-01' "
            "and '2026-10-31'"), {"app": int(top_key)}).scalars())
    assert set(_series_keys(app)) == presets


def test_clicking_other_expands_it(open_page, spend_url):
    app = open_page(spend_url, "explorer", by="app", top="1", **OCTOBER).run()
    assert _series_keys(app)[1] == OTHER_KEY
    app.session_state["explorer_chart"] = {
        "selection": {"points": [{"customdata": [OTHER_KEY]}], "point_indices": [0],
                      "box": [], "lasso": []}}
    app.run()
    assert not app.exception, app.exception
    assert _params(app)["top"] == "0"
    assert OTHER_KEY not in set(_series_keys(app))


@pytest.fixture
def cpu_kind() -> Iterator[None]:
    """A throw-away dimension, the CPU kind of a VM size (volumes have none): one registry
    entry with its SQL, and nothing else anywhere."""
    dimensions.DIMENSIONS["cpu_kind"] = dimensions.Dimension(
        "cpu_kind", "CPU kind", "preset", frozenset({"region_size", "meter"}), "cpu_kinds",
        "case preset_code when '' then 'storage' else split_part(preset_code, '-', 1) end",
        "select distinct cpu_kind, initcap(cpu_kind) from presets "
        "union all select 'storage', 'Storage'")
    queries.catalog.cache_clear()
    queries.sql.cache_clear()
    forget_caches()
    try:
        yield
    finally:
        del dimensions.DIMENSIONS["cpu_kind"]
        queries.catalog.cache_clear()
        queries.sql.cache_clear()


def test_a_dimension_added_to_the_registry_groups_filters_and_drills(cpu_kind, open_page,
                                                                     spend_url):
    by_app = open_page(spend_url, "explorer", by="app", **OCTOBER).run()
    app = open_page(spend_url, "explorer", by="cpu_kind", **OCTOBER).run()
    assert not app.exception, app.exception
    assert app.selectbox(key="explorer_by").value == "cpu_kind"
    assert set(_series_keys(app)) == {"shared", "performance", "storage"}
    assert set(_table(app)["Series"]) == {"Shared", "Performance", "Storage", "Total"}
    assert app.metric[0].value == by_app.metric[0].value  # every cent, grouped another way

    # its filter: VM sizes of one CPU kind alone
    shared = open_page(spend_url, "explorer", by="preset", cpu_kind="shared", **OCTOBER).run()
    assert not shared.exception, shared.exception
    assert shared.multiselect(key="explorer_cpu_kind").value == ["shared"]
    assert drawn_charts(shared) and all(
        key.startswith("shared-") for key in _series_keys(shared))

    # a click on one of its values filters to it and groups by its next dimension down
    app.session_state["explorer_chart"] = {
        "selection": {"points": [{"customdata": ["performance"]}], "point_indices": [0],
                      "box": [], "lasso": []}}
    app.run()
    assert not app.exception, app.exception
    assert _params(app)["cpu_kind"] == "performance" and _params(app)["by"] == "preset"
    assert _series_keys(app) and all(
        key.startswith("performance-") for key in _series_keys(app))


def test_the_table_csv_is_written_when_asked_for_not_in_every_run(open_page, spend_url):
    """Writing the CSV in every run held each view's chart back (docs/scaling.md, session
    14); the download button names a file written when it is clicked."""
    app = open_page(spend_url, "explorer", **OCTOBER).run()
    [download] = app.get("download_button")
    assert download.proto.label == "Download this table (CSV)"
    assert download.proto.deferred_file_id and not download.proto.url


def _filters(app):
    return next(block for block in app.expander if block.label.startswith("Filters"))


def test_the_filters_are_made_when_opened_or_in_use(open_page, spend_url):
    """Six lists of every app, team, region and size held a fresh view's first chart back
    (docs/scaling.md, session 14): they are made once the expander is opened, or when a
    filter is in use (open then, and saying how many)."""
    app = open_page(spend_url, "explorer", **OCTOBER).run()
    filters = _filters(app)
    assert filters.label == "Filters" and not filters.proto.expanded
    assert not app.multiselect
    app.session_state["explorer_filters"] = True  # what opening it in the browser sends
    app.run()
    assert _filters(app).proto.expanded
    assert {m.key for m in app.multiselect} == {f"explorer_{name}"
                                                for name in dimensions.DIMENSIONS}
    app = open_page(spend_url, "explorer", region="lhr", **OCTOBER).run()
    filters = _filters(app)
    assert filters.label == "Filters (1 in use)" and filters.proto.expanded
    assert app.multiselect(key="explorer_region").value == ["lhr"]


def test_a_fresh_session_gets_the_table_once_the_chart_is_drawn(open_page, spend_url,
                                                                spend_engine):
    """The table is below the fold and its data grid held a fresh session's first chart back
    200 ms (docs/scaling.md, session 15): until the browser has drawn the chart, a waiter of
    the chart component stands after it in the table's place; the waiter's trigger sets what
    the table's run reads, and from then on the table comes with the chart."""
    app = open_page(spend_url, "explorer", **OCTOBER)
    app.session_state[charts.CHARTS_DRAWN_KEY] = False  # a browser that has drawn nothing
    app.run()
    assert not app.exception, app.exception
    assert not app.dataframe and not app.get("download_button")
    chart, waiter = app.get("bidi_component")
    assert "figure" in json.loads(chart.proto.json)
    assert json.loads(waiter.proto.json) == {"after_charts": True}
    app.session_state[charts.CHARTS_DRAWN_KEY] = True  # what the waiter's trigger sets
    app.run()
    assert not app.exception, app.exception
    [chart] = app.get("bidi_component")
    expected = shown_cents(spend_engine, acme_org_id(spend_engine), date(2026, 10, 1),
                           date(2026, 11, 1))
    assert _table(app).iloc[-1]["Total (USD)"] == Decimal(expected) / 100


def test_the_focus_export_is_made_once_opened_and_asked_for(open_page, spend_url):
    """The FOCUS export's expander holds nothing until opened (it cost a fresh view's first
    chart too), then a button that builds the export on request."""
    app = open_page(spend_url, "explorer", **OCTOBER).run()
    export = next(block for block in app.expander if block.label.startswith("FOCUS"))
    assert not export.proto.expanded and not export.children
    app.session_state["explorer_focus_open"] = True  # what opening it in the browser sends
    app.run().button(key="explorer_focus").click().run()
    assert not app.exception, app.exception
    labels = [button.proto.label for button in app.get("download_button")]
    assert labels == ["Download this table (CSV)", "Download FOCUS CSV"]
    assert any("BilledCost" in caption.value for caption in app.caption)
