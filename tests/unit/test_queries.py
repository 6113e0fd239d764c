"""The query loader's rules and the read models' argument checks, without a database."""

from __future__ import annotations

import re
from datetime import date

import pytest

import queries
from fleetspend.reads import dimensions as registry
from fleetspend.reads import readmodels
from fleetspend.sqlfiles import SqlFileError, SqlNotFoundError


@pytest.fixture
def query_dir(tmp_path, monkeypatch):
    monkeypatch.setattr(queries, "QUERY_DIR", tmp_path)
    queries.catalog.cache_clear()
    queries.sql.cache_clear()
    yield tmp_path
    queries.catalog.cache_clear()
    queries.sql.cache_clear()


def test_every_shipped_query_loads_with_a_header_and_named_binds():
    queries.catalog.cache_clear()
    catalog = queries.catalog()
    assert {"spend_by_period", "spend_by_dimensions", "spend_month_to_date",
            "replica_lag", "usage_complete_through"} <= set(catalog)
    for name in catalog:
        assert queries.sql(name).text.lstrip().startswith("--")


def test_a_missing_name_fails_loudly(query_dir):
    (query_dir / "one.sql").write_text("-- one\nselect 1\n")
    with pytest.raises(SqlNotFoundError, match="no query named 'two'"):
        queries.sql("two")


def test_two_files_with_one_name_fail_loudly(query_dir):
    (query_dir / "a").mkdir()
    (query_dir / "a" / "spend.sql").write_text("-- a\nselect 1\n")
    (query_dir / "spend.sql").write_text("-- b\nselect 2\n")
    with pytest.raises(SqlFileError, match="two statements are named 'spend'"):
        queries.catalog()


@pytest.mark.parametrize("line", [
    "where org_id = %s", "where org_id = %(org_id)s", "where org_id = $1",
    "where org_id = {org_id}",
])
def test_placeholders_other_than_named_binds_are_refused_with_file_and_line(query_dir, line):
    (query_dir / "bad.sql").write_text(f"-- bad\nselect 1\n{line}\n")
    with pytest.raises(SqlFileError, match=r"bad\.sql:3: placeholder"):
        queries.catalog()


def test_a_placeholder_inside_a_comment_is_fine(query_dir):
    (query_dir / "ok.sql").write_text("-- ok, never write %s here\nselect :value\n")
    assert "ok" in queries.catalog()


def test_a_query_without_its_header_comment_is_refused(query_dir):
    (query_dir / "bare.sql").write_text("select 1\n")
    with pytest.raises(SqlFileError, match=r"bare\.sql:1: a statement starts with"):
        queries.catalog()


@pytest.mark.parametrize(("start", "end", "expected"), [
    (date(2026, 9, 1), date(2026, 10, 1), (date(2026, 9, 1), date(2026, 10, 1))),
    (date(2026, 9, 20), date(2026, 11, 10), (date(2026, 10, 1), date(2026, 11, 1))),
    (date(2026, 10, 27), date(2026, 11, 26), (date(2026, 11, 26), date(2026, 11, 26))),
    (date(2026, 12, 15), date(2027, 3, 1), (date(2027, 1, 1), date(2027, 3, 1))),
    (date(2026, 10, 2), date(2026, 10, 3), (date(2026, 10, 3), date(2026, 10, 3))),
])
def test_whole_months_inside_a_range(start, end, expected):
    assert readmodels.whole_months(start, end) == expected


def test_an_empty_range_is_refused():
    with pytest.raises(ValueError, match="empty date range"):
        readmodels.whole_months(date(2026, 10, 2), date(2026, 10, 2))


@pytest.mark.parametrize(("first", "second", "message"), [
    ("machine_id", "none", "dimension_1 must be one of app, team, region"),
    ("app; drop table apps", "none", "dimension_1 must be one of"),
    ("app", "app", "grouping by 'app' twice"),
    ("app", "day", "dimension_2 must be one of .* none"),
])
def test_group_by_dimensions_come_from_the_allow_list(first, second, message):
    with pytest.raises(ValueError, match=message):
        readmodels.spend_by_dimensions(None, 1, date(2026, 10, 1), date(2026, 11, 1),
                                       first, second)


def test_grains_and_limits_are_checked():
    with pytest.raises(ValueError, match="grain must be one of day, week, month"):
        readmodels.spend_by_period(None, 1, date(2026, 10, 1), date(2026, 11, 1), "hour")
    with pytest.raises(ValueError, match="row_limit must be a positive number"):
        readmodels.spend_by_dimensions(None, 1, date(2026, 10, 1), date(2026, 11, 1), "app",
                                       row_limit=0)


@pytest.mark.parametrize(("start", "end", "last_usage", "expected"), [
    # the month in progress: no usage after the range, so its monthly rows are the range's
    (date(2026, 10, 27), date(2026, 11, 26), date(2026, 11, 25),
     (date(2026, 11, 1), date(2026, 12, 1))),
    (date(2026, 9, 1), date(2026, 11, 26), date(2026, 11, 25),
     (date(2026, 9, 1), date(2026, 12, 1))),
    # usage on or after the range's end: that month stays on the daily rollup
    (date(2026, 10, 27), date(2026, 11, 26), date(2026, 11, 26),
     (date(2026, 11, 26), date(2026, 11, 26))),
    (date(2026, 9, 1), date(2026, 11, 26), date(2026, 11, 30),
     (date(2026, 9, 1), date(2026, 11, 1))),
    # the range starts inside its last month: that month is not the range's alone
    (date(2026, 11, 3), date(2026, 11, 26), date(2026, 11, 25),
     (date(2026, 11, 26), date(2026, 11, 26))),
    # a range ending on a month's first day gains nothing
    (date(2026, 9, 20), date(2026, 11, 1), date(2026, 10, 5),
     (date(2026, 10, 1), date(2026, 11, 1))),
])
def test_the_month_a_range_ends_in_is_whole_when_no_usage_follows(start, end, last_usage,
                                                                   expected):
    assert readmodels.whole_months(start, end, last_usage) == expected


@pytest.mark.parametrize(("dimensions", "needs_products", "expected"), [
    ({"app", "none"}, False, "app_region"),
    ({"team", "app"}, False, "app_region"),
    ({"app", "region"}, False, "app_region"),
    ({"region", "none"}, False, "region_size"),  # its rows do not grow with the apps
    ({"team", "none"}, True, "meter"),  # an app's egress or volume needs its products
    ({"region", "none"}, True, "region_size"),
    ({"region", "preset"}, False, "region_size"),
    ({"continent", "product"}, True, "region_size"),
    ({"team", "preset"}, False, "meter"),
    ({"app", "product"}, False, "meter"),
])
def test_the_narrowest_daily_rollup_holding_the_dimensions(dimensions, needs_products,
                                                           expected):
    assert registry.daily_source(dimensions, needs_products=needs_products) == expected


@pytest.mark.parametrize(("dimensions", "needs_products", "expected"), [
    ({"team", "none"}, False, "team"),
    ({"team", "region"}, False, "team_region"),
    ({"region", "none"}, False, "region_size"),  # no team: it does not grow with them
    ({"continent", "team"}, False, "team_region"),
    ({"team", "app"}, False, "app_region"),
    ({"team", "none"}, True, "meter"),
    ({"region", "none"}, True, "region_size"),
    ({"team", "preset"}, False, "meter"),
])
def test_a_query_reading_the_team_rollups_reads_the_narrowest_of_them(
        dimensions, needs_products, expected):
    assert registry.daily_source(dimensions, needs_products=needs_products,
                                 reads_teams=True) == expected


# Page statements that do not name one organization, and why each may span shards when the
# database is distributed by org_id (docs/scaling.md)
CROSS_ORGANIZATION = {
    "caller_memberships": "a person's organizations, before one is picked",
    "page_frame": "who the caller is and their organizations, before one is picked",
    "support_grants_of_engineer": "a support engineer's grants, in every organization",
    "replica_lag": "reads no tenant table",
    "demo_people": "the demo's people picker, read as the owner in demo mode only",
}


def test_every_page_query_of_a_tenant_table_filters_on_one_organization():
    """Distributed by org_id (Citus), a statement routes to one shard only when it names one
    organization: every query reading a tenant table (one with an org_id column) binds
    :org_id, apart from the few listed above."""
    from fleetspend.models import metadata

    tenant_tables = {table.name for table in metadata.tables.values() if "org_id" in table.c}
    for name, body in queries.catalog().items():
        code = "\n".join(line.split("--", 1)[0] for line in body.splitlines())
        reads = {table for table in tenant_tables if re.search(rf"\b{table}\b", code)}
        if name in CROSS_ORGANIZATION:
            continue
        assert not reads or "org_id = :org_id" in code, (name, sorted(reads))


def test_no_query_grouping_by_a_bound_dimension_spells_one():
    """Keys, filters and labels of the dimensions come from fleetspend/reads/dimensions.py: a query
    grouping by the dimension it is given that picked one by itself would miss the next one
    added there."""
    for path in sorted(queries.QUERY_DIR.rglob("*.sql")):
        body = path.read_text(encoding="utf-8")
        if ":dimension_" not in body:
            continue
        for dimension in registry.DIMENSIONS:
            assert f"when '{dimension}' then" not in body, (path.name, dimension)


def test_the_loader_puts_the_registrys_sql_in_place():
    series = queries.catalog()["explorer_series"]
    assert "dimension_key(" not in series and "dimension_filters()" not in series
    assert "include(" not in series and "from rollup_usage_daily" in series
    for dimension in registry.DIMENSIONS.values():
        assert f"when '{dimension.name}' then {dimension.key_sql}" in series
        assert f"cast(:{dimension.filter_param} as {dimension.sql_type}[])" in series
