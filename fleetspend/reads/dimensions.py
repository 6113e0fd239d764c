"""The dimensions spend is grouped, filtered and drilled by, and the measures: one entry each.

A dimension (app, team, region, continent, VM size, product) is one :class:`Dimension` in
:data:`DIMENSIONS`: its name (in URLs and bound parameters), what the pages call it, the
next dimension down a click leads to, the rollups that hold it, and its SQL, which is the
whole of what the queries know about it:

- ``value_sql``: its value over a *dimension row*, a row with the columns app_id, team_id,
  region_code, continent, preset_code and product (null where the rollup read lacks one:
  its value is then null too); its key is that value as text; a filter binds its keys as
  an array of ``sql_type``;
- ``labels_sql``: a relation of (key, label) naming its values, for the organization
  ``:org_id`` (what a member may not read, such as team names, comes back unnamed).

The .sql files in queries/ never spell a dimension: the loader (queries/__init__.py) expands
``dimension_key(:param)``, ``dimension_filters()``, ``dimension_keys(rows)`` and
``dimension_labels()`` into expressions over this registry (:func:`expand`), with the
dimension picked by a bound parameter. So adding a dimension is adding an entry here with
its SQL; the explorer's controls, filters, drills and series follow. Like datasette's facets,
each entry holds its own SQL: expressions over columns, never a value, and the parameters
stay bound.

Usage without a machine size (volumes) has the VM size key :data:`NO_SIZE` everywhere.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

NO_DIMENSION = "none"
NO_SIZE = "no-size"
GRAINS = ("day", "week", "month")

# the rollups the read path chooses from, narrowest first (see daily_source below): the
# per-team ones only for queries that read teams, the per-app and per-team ones only for spend
# and machine runtime (they hold no other product's quantity)
TEAM_SOURCES = ("team", "team_region")
SPEND_ONLY_SOURCES = ("team", "team_region", "app_region")
SOURCES = ("region_size", "team", "team_region", "app_region", "meter")


@dataclass(frozen=True)
class Dimension:
    """One way to group spend: its names, where a click leads, where it is held, its SQL."""

    name: str
    title: str  # what the pages call it
    drill_child: str  # a click on a value filters to it and groups by this one
    sources: frozenset[str]  # the rollups (SOURCES) whose rows carry it
    filter_param: str  # the bound parameter of its filter: an array of its keys
    value_sql: str  # its value over a dimension row
    labels_sql: str  # (key, label) of its values in the organization :org_id
    sql_type: str = "text"  # the type of its values ('bigint': keys are ids)

    @property
    def key_sql(self) -> str:
        """Its key over a dimension row: the value as text."""
        return self.value_sql if self.sql_type == "text" else f"cast({self.value_sql} as text)"

    def bind(self, keys: tuple[str, ...] | None) -> list[str] | list[int] | None:
        """A filter's keys as its parameter binds them (None: no filter)."""
        if keys is None:
            return None
        return [int(key) for key in keys] if self.sql_type == "bigint" else list(keys)


_EVERY_ROLLUP = frozenset(SOURCES)
_REGION_ROLLUPS = frozenset({"region_size", "team_region", "app_region", "meter"})
_SIZE_ROLLUPS = frozenset({"region_size", "meter"})

DIMENSIONS: dict[str, Dimension] = {dimension.name: dimension for dimension in (
    Dimension("app", "App", "preset", frozenset({"app_region", "meter"}), "app_ids",
              "app_id", "select cast(app_id as text), name from apps where org_id = :org_id",
              "bigint"),
    # teams are billing data: members read usage without team names
    Dimension("team", "Team", "app", _EVERY_ROLLUP - {"region_size"}, "team_ids",
              "team_id", "select cast(team_id as text), name from teams where org_id = :org_id",
              "bigint"),
    Dimension("region", "Region", "app", _REGION_ROLLUPS, "region_codes",
              "region_code", "select region_code, city from regions"),
    Dimension("continent", "Continent", "region", _REGION_ROLLUPS, "continents",
              "continent", "select distinct continent, continent from regions"),
    Dimension("preset", "VM size", "app", _SIZE_ROLLUPS, "preset_codes",
              f"case preset_code when '' then '{NO_SIZE}' else preset_code end",
              "select preset_code, preset_code from presets "  # noqa: S608 - constants only
              f"union all select '{NO_SIZE}', 'no machine size'"),
    Dimension("product", "Product", "app", _SIZE_ROLLUPS, "products",
              "product", "select product, name from products"),
)}


@dataclass(frozen=True)
class Measure:
    """What the explorer can add up: its label and unit; spend and machine runtime alone are
    in the per-app and per-team rollups."""

    label: str
    unit: str
    needs_products: bool = False


MEASURES: dict[str, Measure] = {
    "spend": Measure("Spend", "USD"),
    "machine_hours": Measure("Machine-hours", "machine-hours"),
    "egress_gb": Measure("Data transfer", "GB", needs_products=True),
    "volume_gb_hours": Measure("Volume storage", "GB-hours", needs_products=True),
}


def daily_source(dimensions: set[str], *, needs_products: bool = False,
                 reads_teams: bool = False) -> str:
    """The narrowest rollups (SOURCES, in order) that carry every one of ``dimensions``
    (``none`` ignored); the per-team ones only when the query ``reads_teams`` and the
    per-app and per-team ones only when no other product's quantity is needed.

    'region_size' (per region, VM size and product) comes first: its rows do not grow with
    the apps (a few hundred a month for the biggest organization at ten times the large
    scale, where the per-app rows are 5,500); 'meter' (rollup_usage_*) carries them all.
    """
    named = [DIMENSIONS[name] for name in set(dimensions) - {NO_DIMENSION}]
    for source in SOURCES:
        if (source in TEAM_SOURCES and not reads_teams) or (
                source in SPEND_ONLY_SOURCES and needs_products):
            continue
        if all(source in dimension.sources for dimension in named):
            return source
    raise AssertionError("the meter rollups carry every dimension")


# --- the SQL each .sql file asks for by name ------------------------------------------------

_KEY = re.compile(r"\bdimension_key\((:\w+|'\w+')\)")
_KEYS = re.compile(r"\bdimension_keys\((\w+)\)")
_LABELS = re.compile(r"\bdimension_labels\(('\w+')?\)")


def _key_case(picked: str) -> str:
    """The key of the dimension named by ``picked`` (a bound parameter, or a quoted name)."""
    if picked.startswith("'"):
        return f"({DIMENSIONS[picked.strip(chr(39))].key_sql})"
    arms = " ".join(f"when '{d.name}' then {d.key_sql}" for d in DIMENSIONS.values())
    return f"(case {picked} {arms} end)"


def _filters() -> str:
    """Every dimension's filter: its key among the bound keys, or no filter (null)."""
    return "(" + " and ".join(
        f"(cast(:{d.filter_param} as {d.sql_type}[]) is null "
        f"or {d.value_sql} = any(cast(:{d.filter_param} as {d.sql_type}[])))"
        for d in DIMENSIONS.values()) + ")"


def _keys(rows: str) -> str:
    """(dimension, key) of each dimension row of the relation ``rows``, a row per dimension
    (one scan of ``rows`` each: cheaper than a lateral list of six per row)."""
    return "(" + " union all ".join(  # noqa: S608 - the registry's text, never a value
        f"select '{d.name}' as dimension, {d.key_sql} as key from {rows}"  # noqa: S608
        for d in DIMENSIONS.values()) + ")"


def _labels(picked: str | None) -> str:
    """(dimension, key, label) of every dimension's values in the organization, or of the
    one named by ``picked`` (a quoted name)."""
    named = DIMENSIONS.values() if picked is None else [DIMENSIONS[picked.strip(chr(39))]]
    return "(" + " union all ".join(
        f"select '{d.name}' as dimension, key, label "  # noqa: S608
        f"from ({d.labels_sql}) as {d.name}_labels (key, label)"
        for d in named) + ")"


def expand(statement: str) -> str:
    """``statement`` with the registry's SQL in place of ``dimension_key(:param)`` (or of
    ``dimension_key('name')``), ``dimension_filters()``, ``dimension_keys(rows)`` and
    ``dimension_labels()`` (or ``dimension_labels('name')``): text from this module only,
    never a value."""
    statement = _KEY.sub(lambda match: _key_case(match.group(1)), statement)
    statement = _KEYS.sub(lambda match: _keys(match.group(1)), statement)
    statement = _LABELS.sub(lambda match: _labels(match.group(1)), statement)
    return statement.replace("dimension_filters()", _filters())
