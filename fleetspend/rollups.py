"""Incremental rollups of rated usage, maintained on the primary as usage lands.

Pages never aggregate raw usage: they read these rollup tables (see fleetspend/models.py),
all derived from the ``rated_usage`` view that invoices are rated from, so a page's numbers and
an invoice's agree to the unrounded amount:

- ``rollup_resource_daily``: per org, UTC day, machine or volume, product and preset;
- ``rollup_usage_daily``: per org, day, app, region, preset and product (the meter);
- ``rollup_org_daily``: per org, day and product, for time series and month to date;
- the narrow rollups of ``models.NARROW_ROLLUPS``, daily and monthly (per app and region; per
  app, region and preset; per region, preset and product): the meter rows summed over the
  dimensions a question leaves out, two and a half to four times fewer rows to read;
- ``rollup_usage_monthly``: the meter rows per calendar month;
- ``rollup_app_region_series``: per org, month, app and region, each day's cents in arrays
  (the overview's anomaly search), recomputed with the narrow monthly rows;
- the per-team rollups of ``models.TEAM_ROLLUPS``, daily and monthly (per team, region and VM
  size; per team and region; per team): the per-app rows summed per app's team of today (team
  questions), recomputed with the narrow rows; an app moving team moves its rows (a trigger on
  ``apps``, migration 0017).
- ``rollup_anomaly_findings``: per org, what the anomaly search finds in those arrays as of
  the org's "usage complete through": emptied when the org's series change, searched again
  (:func:`store_anomalies`) once the fold is done, so neither a page view nor an alerts run
  searches.

How changes find their way in. Statement-level triggers on the usage tables note every
(org, day) an insert, update or delete touches in ``rollup_pending_days``. :func:`refresh`
claims the noted days (deleting the notes it can see; notes committed later wait for the next
run), and for each claimed day:

1. recomputes the day's per-resource rows from its usage (delete, then insert);
2. recomputes the day's meter rows from the per-resource rows, again passing the difference
   on to the monthly meter rows, and the day's org and narrow rows from those (the narrow
   monthly rows are recomputed from the narrow daily ones of their month);
3. drops monthly rows whose every daily row is gone.

A late or corrected hour therefore recomputes just its day and moves its month by exactly the
change; a rerun with nothing noted does nothing; recomputing a day twice gives the same rows.
Monthly rows change by differences, never by re-reading the month, which keeps one new hour
for 10,000 machines cheap. ``rollup_state`` keeps the watermark: the last change folded in.
One refresh runs at a time (a transaction-level advisory lock).
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import Connection, Engine, text

from fleetspend import anomaly_search, bulk, clock, models
from fleetspend.billing import rating
from fleetspend.partitions import month_partitions, next_month
from fleetspend.usage_lock import holds_usage_lock
from queries import sql

# pg_advisory_xact_lock key serializing refreshes ("rollups" in ASCII)
REFRESH_LOCK_KEY = 0x726F6C6C757073
# days recomputed per round of statements; bounds the work a full rebuild does at once
DAYS_PER_ROUND = 7

_BATCH = """
batch as (
    select batch_day.org_id, batch_day.usage_date
    from unnest(cast(:org_ids as bigint[]), cast(:usage_dates as date[]))
        as batch_day (org_id, usage_date)
)"""

# The monthly upsert adds a signed difference; ``sign`` is 1 for new rows, -1 for old ones.
_ADD_TO_USAGE_MONTHLY = """
month_change as (
    select
        org_id,
        cast(date_trunc('month', usage_date) as date) as month_date,
        app_id,
        region_code,
        preset_code,
        product,
        :sign * sum(consumed_quantity) as consumed_quantity,
        :sign * sum(pricing_quantity) as pricing_quantity,
        :sign * sum(amount_precise) as amount_precise,
        :sign * count(*) as day_rows
    from changed
    group by 1, 2, 3, 4, 5, 6
)

insert into rollup_usage_monthly (
    org_id, month_date, app_id, region_code, preset_code, product,
    consumed_quantity, pricing_quantity, amount_precise, day_rows
)
select * from month_change
on conflict (org_id, month_date, app_id, region_code, preset_code, product) do update set
    consumed_quantity = rollup_usage_monthly.consumed_quantity + excluded.consumed_quantity,
    pricing_quantity = rollup_usage_monthly.pricing_quantity + excluded.pricing_quantity,
    amount_precise = rollup_usage_monthly.amount_precise + excluded.amount_precise,
    day_rows = rollup_usage_monthly.day_rows + excluded.day_rows
"""

REMOVE_RESOURCE_DAYS = text(f"""
with {_BATCH}

delete from rollup_resource_daily
using batch
where rollup_resource_daily.org_id = batch.org_id
  and rollup_resource_daily.usage_date = batch.usage_date
""")  # noqa: S608 - composed from this module's constants only

# rated usage summed per org, UTC day, resource, product and preset: a per-resource daily row
# (group by 1, 2, 3, 4, 5)
_RATED_PER_RESOURCE_DAY = """
    select
        rated_usage.org_id,
        cast(rated_usage.hour_at at time zone 'UTC' as date) as usage_date,
        rated_usage.resource_id,
        rated_usage.product,
        coalesce(rated_usage.preset_code, '') as preset_code,
        min(rated_usage.resource_kind) as resource_kind,
        min(rated_usage.app_id) as app_id,
        min(rated_usage.region_code) as region_code,
        sum(rated_usage.consumed_quantity) as consumed_quantity,
        sum(rated_usage.pricing_quantity) as pricing_quantity,
        sum(rated_usage.amount_precise) as amount_precise,
        max(rated_usage.hour_at) as last_hour_at
    from rated_usage"""

# The hour range and org list repeat the batch as plain predicates so that the planner prunes
# the usage partitions and uses the (org_id, ...) indexes.
ADD_RESOURCE_DAYS = text(f"""
with {_BATCH},

fresh as (
{_RATED_PER_RESOURCE_DAY}
    inner join batch
        on batch.org_id = rated_usage.org_id
        and batch.usage_date = cast(rated_usage.hour_at at time zone 'UTC' as date)
    where rated_usage.hour_at >= :from_at
      and rated_usage.hour_at < :until_at
      and rated_usage.org_id = any(cast(:org_ids as bigint[]))
    group by 1, 2, 3, 4, 5
)

insert into rollup_resource_daily (
    org_id, usage_date, resource_id, product, preset_code, resource_kind, app_id, region_code,
    consumed_quantity, pricing_quantity, amount_precise, last_hour_at
)
select * from fresh
""")  # noqa: S608 - composed from this module's constants only

REMOVE_USAGE_DAYS = text(f"""
with {_BATCH},

changed as (
    delete from rollup_usage_daily
    using batch
    where rollup_usage_daily.org_id = batch.org_id
      and rollup_usage_daily.usage_date = batch.usage_date
    returning rollup_usage_daily.*
),
{_ADD_TO_USAGE_MONTHLY}
""")  # noqa: S608 - composed from this module's constants only

ADD_USAGE_DAYS = text(f"""
with {_BATCH},

fresh as (
    select
        resource_daily.org_id,
        resource_daily.usage_date,
        resource_daily.app_id,
        resource_daily.region_code,
        resource_daily.preset_code,
        resource_daily.product,
        sum(resource_daily.consumed_quantity) as consumed_quantity,
        sum(resource_daily.pricing_quantity) as pricing_quantity,
        sum(resource_daily.amount_precise) as amount_precise,
        -- a resource has one per-resource row per day, product and preset, so within a meter
        -- row's group each row is another resource
        count(*) as resources,
        max(resource_daily.last_hour_at) as last_hour_at
    from rollup_resource_daily as resource_daily
    inner join batch
        on batch.org_id = resource_daily.org_id
        and batch.usage_date = resource_daily.usage_date
    group by 1, 2, 3, 4, 5, 6
),

changed as (
    insert into rollup_usage_daily (
        org_id, usage_date, app_id, region_code, preset_code, product,
        consumed_quantity, pricing_quantity, amount_precise, resources, last_hour_at
    )
    select * from fresh
    returning *
),
{_ADD_TO_USAGE_MONTHLY}
""")  # noqa: S608 - composed from this module's constants only

# the staged sums priced (rating.RESOURCE_PRODUCTS_CTES) per org, UTC day, resource, product
# and preset: per-resource daily rows (group by 1, 2, 3, 4, 5)
_PRICED_PER_RESOURCE_DAY = """
select org_id, usage_date, resource_id, product, coalesce(preset_code, '') as preset_code,
       min(resource_kind) as resource_kind, min(app_id) as app_id,
       min(region_code) as region_code, sum(consumed_quantity) as consumed_quantity,
       sum(quantity) as pricing_quantity, sum(amount_precise) as amount_precise,
       max(last_hour_at) as last_hour_at
from resource_products
group by 1, 2, 3, 4, 5"""

# Hours that only gained rows (the INSERT trigger notes them with their hour) and come after
# everything their day holds so far: their rows, summed and priced as the rebuild does
# (rating.stage_sums at grain 'hour'), are added onto the per-resource daily rows without
# re-reading the rest of the day. Only safe in a snapshot that cannot see rows committed after
# the claim (see refresh).
ADD_RESOURCE_HOURS = text(f"""
insert into rollup_resource_daily (
    org_id, usage_date, resource_id, product, preset_code, resource_kind, app_id,
    region_code, consumed_quantity, pricing_quantity, amount_precise, last_hour_at
)
with {rating.RESOURCE_PRODUCTS_CTES}
{_PRICED_PER_RESOURCE_DAY}
on conflict (org_id, usage_date, resource_id, product, preset_code) do update set
    consumed_quantity = rollup_resource_daily.consumed_quantity + excluded.consumed_quantity,
    pricing_quantity = rollup_resource_daily.pricing_quantity + excluded.pricing_quantity,
    amount_precise = rollup_resource_daily.amount_precise + excluded.amount_precise,
    last_hour_at = greatest(rollup_resource_daily.last_hour_at, excluded.last_hour_at)
""")

# the latest hour already folded into each of some (org, day) pairs
FOLDED_THROUGH = text(f"""
with {_BATCH}

select rollup_resource_daily.org_id, rollup_resource_daily.usage_date,
       max(rollup_resource_daily.last_hour_at) as last_hour_at
from rollup_resource_daily
inner join batch
    on batch.org_id = rollup_resource_daily.org_id
    and batch.usage_date = rollup_resource_daily.usage_date
group by 1, 2
""")  # noqa: S608 - composed from this module's constants only

REPLACE_ORG_DAYS = (
    text(f"""
with {_BATCH}

delete from rollup_org_daily
using batch
where rollup_org_daily.org_id = batch.org_id
  and rollup_org_daily.usage_date = batch.usage_date
"""),  # noqa: S608 - composed from this module's constants only
    text(f"""
with {_BATCH}

insert into rollup_org_daily (
    org_id, usage_date, product, consumed_quantity, pricing_quantity, amount_precise, resources
)
select
    resource_daily.org_id,
    resource_daily.usage_date,
    resource_daily.product,
    sum(resource_daily.consumed_quantity),
    sum(resource_daily.pricing_quantity),
    sum(resource_daily.amount_precise),
    count(distinct resource_daily.resource_id)
from rollup_resource_daily as resource_daily
inner join batch
    on batch.org_id = resource_daily.org_id
    and batch.usage_date = resource_daily.usage_date
group by 1, 2, 3
"""),  # noqa: S608 - composed from this module's constants only
)

# The narrow rollups (models.NARROW_ROLLUPS): daily rows from the day's meter rows (rebuilt just
# before), monthly rows recomputed whole for each (org, month) from the narrow daily rows.
_MEASURES_FROM_METERS = {
    "runtime_seconds": "sum(consumed_quantity) filter (where product = 'machine_runtime')",
    "runtime_amount_precise": "sum(amount_precise) filter (where product = 'machine_runtime')",
    "consumed_quantity": "sum(consumed_quantity)",
    "amount_precise": "sum(amount_precise)",
}
_BATCH_JOIN = """inner join batch
    on batch.org_id = usage_daily.org_id
    and batch.usage_date = usage_daily.usage_date"""
_MONTHS = """
months as (
    select batch_month.org_id, batch_month.month_date
    from unnest(cast(:org_ids as bigint[]), cast(:month_dates as date[]))
        as batch_month (org_id, month_date)
)"""
_MONTHS_JOIN = """inner join months
    on months.org_id = daily.org_id
    and daily.usage_date >= months.month_date
    and daily.usage_date < months.month_date + interval '1 month'"""


def _narrow_days_sql(name: str, batch_join: str) -> str:
    keys, measures = models.NARROW_ROLLUPS[name]
    groups = ", ".join(str(n) for n in range(1, len(keys) + 3))
    return f"""
insert into rollup_{name}_daily (org_id, usage_date, {", ".join((*keys, *measures))})
select usage_daily.org_id, usage_daily.usage_date, {", ".join(keys)},
       {", ".join(_MEASURES_FROM_METERS[measure] for measure in measures)}
from rollup_usage_daily as usage_daily
{batch_join}
group by {groups}
order by 1, 2
"""  # noqa: S608 - composed from the models' constants only


def _narrow_months_sql(name: str, months_join: str) -> str:
    keys, measures = models.NARROW_ROLLUPS[name]
    groups = ", ".join(str(n) for n in range(1, len(keys) + 3))
    return f"""
insert into rollup_{name}_monthly (org_id, month_date, {", ".join((*keys, *measures))})
select daily.org_id, cast(date_trunc('month', daily.usage_date) as date), {", ".join(keys)},
       {", ".join(f"sum({measure})" for measure in measures)}
from rollup_{name}_daily as daily
{months_join}
group by {groups}
order by 1, 2
"""  # noqa: S608 - composed from the models' constants only


# each app and region's days of a month in cents, from the narrow daily rows (rebuilt before)
def _series_months_sql(months_join: str) -> str:
    return f"""
insert into rollup_app_region_series (org_id, month_date, app_id, region_code, days, day_cents)
select daily.org_id, cast(date_trunc('month', daily.usage_date) as date), daily.app_id,
       daily.region_code,
       array_agg(cast(extract(day from daily.usage_date) as smallint) order by daily.usage_date),
       array_agg(cast(round(daily.amount_precise * 100) as bigint) order by daily.usage_date)
from rollup_app_region_daily as daily
{months_join}
group by 1, 2, 3, 4
order by 1, 2
"""  # noqa: S608 - composed from this module's constants only


# the per-team rows: per team and region from the app x region rows, each app under its team
# of today; per team from those
_APP_SUMS = ", ".join(f"sum(daily.{measure})" for measure in models.APP_MEASURES)
_BY_APPS_TEAM = "inner join apps on apps.org_id = daily.org_id and apps.app_id = daily.app_id"
_TEAM_SOURCES = {"team_region_size": ("rollup_app_region_size_daily", _BY_APPS_TEAM),
                 "team_region": ("rollup_app_region_daily", _BY_APPS_TEAM),
                 "team": ("rollup_team_region_daily", "")}


def _team_days_sql(name: str, batch_join: str) -> str:
    keys = models.TEAM_ROLLUPS[name]
    source, join = _TEAM_SOURCES[name]
    team = "apps.team_id" if join else "daily.team_id"
    groups = ", ".join(str(n) for n in range(1, len(keys) + 3))
    return f"""
insert into rollup_{name}_daily (org_id, usage_date, {", ".join((*keys, *models.APP_MEASURES))})
select daily.org_id, daily.usage_date, {", ".join((team, *(f"daily.{k}" for k in keys[1:])))},
       {_APP_SUMS}
from {source} as daily
{join}
{batch_join}
group by {groups}
order by 1, 2
"""  # noqa: S608 - composed from the models' constants only


def _team_months_sql(name: str, months_join: str) -> str:
    keys = models.TEAM_ROLLUPS[name]
    groups = ", ".join(str(n) for n in range(1, len(keys) + 3))
    return f"""
insert into rollup_{name}_monthly (org_id, month_date, {", ".join((*keys, *models.APP_MEASURES))})
select daily.org_id, cast(date_trunc('month', daily.usage_date) as date),
       {", ".join(f"daily.{k}" for k in keys)}, {_APP_SUMS}
from rollup_{name}_daily as daily
{months_join}
group by {groups}
order by 1, 2
"""  # noqa: S608 - composed from the models' constants only


REPLACE_TEAM_DAYS = tuple(
    statement
    for name in models.TEAM_ROLLUPS
    for statement in (
        text(f"with {_BATCH}\ndelete from rollup_{name}_daily as daily using batch "
             "where daily.org_id = batch.org_id and daily.usage_date = batch.usage_date"),
        text(f"with {_BATCH}\n" + _team_days_sql(
            name, "inner join batch on batch.org_id = daily.org_id "
                  "and batch.usage_date = daily.usage_date")),
    )
)
REPLACE_TEAM_MONTHS = tuple(
    statement
    for name in models.TEAM_ROLLUPS
    for statement in (
        text(f"with {_MONTHS}\ndelete from rollup_{name}_monthly as monthly using months "
             "where monthly.org_id = months.org_id and monthly.month_date = months.month_date"),
        text(f"with {_MONTHS}\n" + _team_months_sql(name, _MONTHS_JOIN)),
    )
)

REPLACE_NARROW_DAYS = tuple(
    statement
    for name in models.NARROW_ROLLUPS
    for statement in (
        text(f"with {_BATCH}\ndelete from rollup_{name}_daily as daily using batch "
             "where daily.org_id = batch.org_id and daily.usage_date = batch.usage_date"),
        text(f"with {_BATCH}\n" + _narrow_days_sql(name, _BATCH_JOIN)),
    )
)
REPLACE_NARROW_MONTHS = (
    *(statement
      for name in models.NARROW_ROLLUPS
      for statement in (
          text(f"with {_MONTHS}\ndelete from rollup_{name}_monthly as monthly using months "
               "where monthly.org_id = months.org_id and monthly.month_date = months.month_date"),
          text(f"with {_MONTHS}\n" + _narrow_months_sql(name, _MONTHS_JOIN)),
      )),
    text(f"with {_MONTHS}\ndelete from rollup_app_region_series as series using months "
         "where series.org_id = months.org_id and series.month_date = months.month_date"),
    text(f"with {_MONTHS}\n" + _series_months_sql(_MONTHS_JOIN)),
    # the findings searched in the old series are out of date (store_anomalies searches again)
    text(f"with {_MONTHS}\ndelete from rollup_anomaly_findings as findings using months "
         "where findings.org_id = months.org_id"),
)

# monthly meter rows whose every daily row is gone
DROP_EMPTY_MONTHS = text(
    "delete from rollup_usage_monthly where day_rows = 0 "
    "and org_id = any(cast(:org_ids as bigint[])) "
    "and month_date = any(cast(:month_dates as date[]))")

CLAIM_PENDING = text(
    "delete from rollup_pending_days returning org_id, usage_date, hour_at, change_id"
)

# every day with usage or with rollup rows (whose usage may all be gone)
NOTE_EVERY_DAY = text("""
insert into rollup_pending_days (org_id, usage_date)
select org_id, cast(hour_at at time zone 'UTC' as date) from machine_usage
union
select org_id, cast(hour_at at time zone 'UTC' as date) from volume_usage
union
select org_id, usage_date from rollup_resource_daily
""")

# every (org, month) with an invoice or with an invoice's figures, for a rebuild to re-apply
INVOICED_MONTHS = text(
    "select org_id, period_start_date from invoices where status <> 'void' "
    "union select org_id, month_date from month_figures"
)

# the last change claimed (ids restart when the seed empties the tables, hence no greatest())
ADVANCE_WATERMARK = text(
    "update rollup_state set refreshed_at = now(), folded_change_id = "
    "case when cast(:change_id as bigint) > 0 then :change_id else folded_change_id end "
    "returning folded_change_id"
)


@dataclass(frozen=True)
class RefreshResult:
    """What one refresh folded in."""

    days: int  # (org, day) pairs recomputed whole
    hours: int  # (org, hour) pairs added on
    orgs: int
    folded_change_id: int  # the watermark after the refresh
    first_date: date | None
    last_date: date | None

    def describe(self) -> str:
        if not (self.days or self.hours):
            return f"rollups already up to date (change {self.folded_change_id})"
        return (f"rollups: recomputed {self.days} org-days and added {self.hours} org-hours "
                f"of {self.orgs} organizations ({self.first_date} to {self.last_date}); "
                f"up to change {self.folded_change_id}")


# the organizations among :org_ids whose anomaly findings are out of date (none stored)
UNSEARCHED_ORGS = text("""
select organizations.org_id
from organizations
where organizations.org_id = any(cast(:org_ids as bigint[]))
  and not exists (
      select from rollup_anomaly_findings as findings
      where findings.org_id = organizations.org_id
  )
order by 1
""")

STORE_FINDINGS = text("""
insert into rollup_anomaly_findings (org_id, through_at, findings)
values (:org_id, :through_at, cast(:findings as jsonb))
on conflict (org_id) do update set
    through_at = excluded.through_at, findings = excluded.findings, searched_at = now()
""")


def store_anomalies(connection: Connection, org_ids: Iterable[int]) -> int:
    """Search the anomalies of those of ``org_ids`` whose findings are out of date, as of
    each one's "usage complete through", and store them; how many organizations were searched.

    The overview's search (:func:`fleetspend.anomaly_search.search_anomalies`), run here once
    per fold instead of on every view: at ten times the large scale it reads 5,600 series rows and
    spends 0.4 s in pandas (measured, load 4.5).
    """
    searched = 0
    for org_id in connection.execute(UNSEARCHED_ORGS,
                                     {"org_ids": sorted(set(org_ids))}).scalars().all():
        through_at = connection.execute(sql("usage_complete_through"),
                                        {"org_id": org_id}).scalar()
        if through_at is None:
            continue
        findings = anomaly_search.search_anomalies(connection, org_id, clock.as_of(through_at))
        connection.execute(STORE_FINDINGS, {
            "org_id": org_id, "through_at": through_at,
            "findings": json.dumps([anomaly_search.anomaly_to_json(found) for found in findings])})
        searched += 1
    return searched


def _midnight(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=UTC)


def refold_meters(connection: Connection, pairs: list[tuple[int, date]]) -> None:
    """Rebuild the meter, org and narrow rows of (org, day) pairs from the per-resource rows."""
    org_ids = [org_id for org_id, _ in pairs]
    usage_dates = [usage_date for _, usage_date in pairs]
    batch = {"org_ids": org_ids, "usage_dates": usage_dates}
    connection.execute(REMOVE_USAGE_DAYS, {**batch, "sign": -1})
    connection.execute(ADD_USAGE_DAYS, {**batch, "sign": 1})
    for statement in REPLACE_ORG_DAYS:
        connection.execute(statement, batch)
    months = sorted({usage_date.replace(day=1) for usage_date in usage_dates})
    connection.execute(DROP_EMPTY_MONTHS, {"org_ids": sorted(set(org_ids)), "month_dates": months})
    refold_narrow(connection, pairs)


def refold_narrow(connection: Connection, pairs: list[tuple[int, date]]) -> None:
    """Rebuild the narrow rows of (org, day) pairs, and of their months, from the meter rows."""
    batch = {"org_ids": [org_id for org_id, _ in pairs],
             "usage_dates": [usage_date for _, usage_date in pairs]}
    for statement in REPLACE_NARROW_DAYS:
        connection.execute(statement, batch)
    org_months = sorted({(org_id, usage_date.replace(day=1)) for org_id, usage_date in pairs})
    for statement in REPLACE_NARROW_MONTHS:
        connection.execute(statement, {"org_ids": [org_id for org_id, _ in org_months],
                                       "month_dates": [month for _, month in org_months]})
    refold_teams(connection, batch, org_months)


def refold_teams(connection: Connection, batch: Mapping[str, object],
                 org_months: list[tuple[int, date]]) -> None:
    """Rebuild the per-team rows of a batch of (org, day)s (``org_ids``, ``usage_dates``) and
    of their ``org_months`` from the app x region rows (rebuilt before)."""
    for statement in REPLACE_TEAM_DAYS:
        connection.execute(statement, batch)
    for statement in REPLACE_TEAM_MONTHS:
        connection.execute(statement, {"org_ids": [org_id for org_id, _ in org_months],
                                       "month_dates": [month for _, month in org_months]})


def _recompute_days(connection: Connection, pairs: list[tuple[int, date]]) -> None:
    """Recompute (org, day) pairs from rated usage, and everything summed from them."""
    usage_dates = [usage_date for _, usage_date in pairs]
    connection.execute(REMOVE_RESOURCE_DAYS, {
        "org_ids": [org_id for org_id, _ in pairs], "usage_dates": usage_dates})
    connection.execute(ADD_RESOURCE_DAYS, {
        "org_ids": [org_id for org_id, _ in pairs], "usage_dates": usage_dates,
        "from_at": _midnight(min(usage_dates)),
        "until_at": _midnight(max(usage_dates) + timedelta(days=1)),
    })
    refold_meters(connection, pairs)


def _add_hours(connection: Connection, hours: list[tuple[int, datetime]]) -> None:
    """Add the rated rows of (org, hour) pairs that only gained rows onto the rollups."""
    params = rating.stage_sums(
        connection, min(at for _, at in hours), max(at for _, at in hours) + timedelta(hours=1),
        sorted({org_id for org_id, _ in hours}), grain="hour", hours=hours)
    rating.price_sums(connection, ADD_RESOURCE_HOURS, params)
    refold_meters(connection, sorted({(org_id, _utc_date(at)) for org_id, at in hours}))


def _utc_date(moment: datetime) -> date:
    return moment.astimezone(UTC).date()


def _in_rounds(items: list, day_of) -> list[list]:
    """``items`` in rounds of at most DAYS_PER_ROUND distinct days each, in day order."""
    by_day: dict[date, list] = defaultdict(list)
    for item in items:
        by_day[day_of(item)].append(item)
    days = sorted(by_day)
    return [[item for day in days[start:start + DAYS_PER_ROUND] for item in sorted(by_day[day])]
            for start in range(0, len(days), DAYS_PER_ROUND)]


def _refresh(connection: Connection, *, full: bool, add_hours: bool) -> RefreshResult:
    # a day of the biggest organization is hundreds of thousands of rated rows: sort and
    # hash them in memory
    connection.execute(text("select set_config('work_mem', '256MB', true)"))
    if full:
        connection.execute(NOTE_EVERY_DAY)
    claimed = connection.execute(CLAIM_PENDING).all()
    whole_days = {(org_id, day) for org_id, day, hour_at, _ in claimed
                  if hour_at is None or not add_hours}
    added_hours = {(org_id, hour_at) for org_id, day, hour_at, _ in claimed
                   if hour_at is not None and add_hours and (org_id, day) not in whole_days}
    if added_hours:
        # an hour can only be added on if nothing of it is folded in yet: it must come after
        # the latest hour its day already holds, else the day is recomputed whole
        candidate_days = sorted({(org_id, _utc_date(at)) for org_id, at in added_hours})
        folded_through = dict(((org_id, day), last_hour_at) for org_id, day, last_hour_at
                              in connection.execute(FOLDED_THROUGH, {
                                  "org_ids": [org_id for org_id, _ in candidate_days],
                                  "usage_dates": [day for _, day in candidate_days]}))
        for org_id, at in list(added_hours):
            latest = folded_through.get((org_id, _utc_date(at)))
            if latest is not None and at <= latest:
                whole_days.add((org_id, _utc_date(at)))
        added_hours = {(org_id, at) for org_id, at in added_hours
                       if (org_id, _utc_date(at)) not in whole_days}
    for pairs in _in_rounds(list(whole_days), lambda pair: pair[1]):
        _recompute_days(connection, pairs)
    for hours in _in_rounds(list(added_hours), lambda pair: _utc_date(pair[1])):
        _add_hours(connection, hours)
    # an invoiced month's rollups carry its invoice's cents (fleetspend.figures; it reads
    # these rollups, hence imported here)
    from fleetspend import figures

    figures.after_refresh(connection, {
        *((org_id, day.replace(day=1)) for org_id, day in whole_days),
        *((org_id, _utc_date(at).replace(day=1)) for org_id, at in added_hours)}, full=full)
    store_anomalies(connection, {*(org_id for org_id, _ in whole_days),
                                 *(org_id for org_id, _ in added_hours)})
    latest_change = max((change_id for *_, change_id in claimed), default=0)
    watermark = connection.execute(ADVANCE_WATERMARK, {"change_id": latest_change}).scalar_one()
    days = sorted({day for _, day, _, _ in claimed})
    return RefreshResult(
        days=len(whole_days),
        hours=len(added_hours),
        orgs=len({org_id for org_id, *_ in claimed}),
        folded_change_id=watermark,
        first_date=days[0] if days else None,
        last_date=days[-1] if days else None,
    )


def refresh_in(connection: Connection, *, full: bool = False) -> RefreshResult:
    """Fold every noted usage change into the rollups, inside the caller's transaction.

    In general every noted day is recomputed whole: the caller's snapshot may move between
    statements, so adding hours on could count rows twice. A caller holding the usage lock (an
    import) has usage to itself until it commits, so hours that only gained rows are added on,
    as :func:`refresh` does; recomputing the day instead costs as much as every hour the day
    already holds (for 10,000 machines, measured: 1 s for the day's first hour, 9.6 s for its
    tenth). With ``full``, every day with usage (or with rollups) is recomputed, which
    repairs rollups whatever happened to them.
    """
    connection.execute(text("select pg_advisory_xact_lock(:key)"), {"key": REFRESH_LOCK_KEY})
    return _refresh(connection, full=full, add_hours=holds_usage_lock(connection))


# A rebuild from nothing. Rows the pages read go in in (org, day) order, so a range read finds
# them on few pages. The per-resource daily rows come a stretch of days at a time
# (REBUILD_CHUNK_DAYS) from the invoice engine's passes (billing.rating.stage_sums at day
# grain): hourly rows are summed per machine, size, price list and day in parallel, and only
# those sums are priced, which gives exactly the view's amounts (see rating.py) at a fraction
# of the cost of pricing every hourly row through ``rated_usage``. Every other table is then
# one set-based statement over the daily per-resource rows (the same sums refresh keeps by
# difference).
REBUILD_CHUNK_DAYS = 10

REBUILT_TABLES = ("rollup_resource_daily", "rollup_usage_daily", "rollup_usage_monthly",
                  "rollup_org_daily",
                  *(table.name for table in models.NARROW_TABLES.values()),
                  *(table.name for table in models.TEAM_TABLES.values()),
                  "rollup_app_region_series")
REBUILD_EMPTY = text(f"truncate {', '.join(REBUILT_TABLES)}, rollup_anomaly_findings")

# one stretch's priced sums as per-resource daily rows
REBUILD_RESOURCE_DAYS = text(f"""
insert into rollup_resource_daily (
    org_id, usage_date, resource_id, product, preset_code, resource_kind, app_id, region_code,
    consumed_quantity, pricing_quantity, amount_precise, last_hour_at
)
with {rating.RESOURCE_PRODUCTS_CTES}
{_PRICED_PER_RESOURCE_DAY}
order by 1, 2
""")

REBUILD_FROM_RESOURCE_DAYS = [
    text("""
insert into rollup_usage_daily (
    org_id, usage_date, app_id, region_code, preset_code, product,
    consumed_quantity, pricing_quantity, amount_precise, resources, last_hour_at
)
select org_id, usage_date, app_id, region_code, preset_code, product,
       sum(consumed_quantity), sum(pricing_quantity), sum(amount_precise),
       count(*), max(last_hour_at)
from rollup_resource_daily
group by 1, 2, 3, 4, 5, 6
order by 1, 2
"""),
    *(text(_narrow_days_sql(name, "")) for name in models.NARROW_ROLLUPS),
    *(text(_narrow_months_sql(name, "")) for name in models.NARROW_ROLLUPS),
    text(_series_months_sql("")),
    *(text(_team_days_sql(name, "")) for name in models.TEAM_ROLLUPS),
    *(text(_team_months_sql(name, "")) for name in models.TEAM_ROLLUPS),
    text("""
insert into rollup_org_daily (
    org_id, usage_date, product, consumed_quantity, pricing_quantity, amount_precise, resources
)
select org_id, usage_date, product, sum(consumed_quantity), sum(pricing_quantity),
       sum(amount_precise), count(*)
from (
    -- a resource resized during a day has a row per size: one per resource first (hashed,
    -- where count(distinct ...) would sort two million rows)
    select org_id, usage_date, product, resource_id, sum(consumed_quantity) as consumed_quantity,
           sum(pricing_quantity) as pricing_quantity, sum(amount_precise) as amount_precise
    from rollup_resource_daily
    group by 1, 2, 3, 4
) as per_resource
group by 1, 2, 3
order by 1, 2
"""),
    text("""
insert into rollup_usage_monthly (
    org_id, month_date, app_id, region_code, preset_code, product,
    consumed_quantity, pricing_quantity, amount_precise, day_rows
)
select org_id, cast(date_trunc('month', usage_date) as date), app_id, region_code,
       preset_code, product, sum(consumed_quantity), sum(pricing_quantity),
       sum(amount_precise), count(*)
from rollup_usage_daily
group by 1, 2, 3, 4, 5, 6
order by 1, 2
"""),
]


def _rebuild_stretches(connection: Connection) -> list[tuple[datetime, datetime]]:
    """[from, until) stretches of at most REBUILD_CHUNK_DAYS covering every usage partition."""
    stretches = []
    for month in month_partitions(connection):
        following = next_month(month)
        start = month
        while start < following:
            end = min(start + timedelta(days=REBUILD_CHUNK_DAYS), following)
            stretches.append((start, end))
            start = end
    return stretches


def rebuild_in(connection: Connection,
               progress: Callable[[float], None] | None = None) -> RefreshResult:
    """Rebuild every rollup from rated usage, inside the caller's transaction.

    For a full reload (the seed): set-based statements instead of day-by-day differences.
    ``progress`` is told the fraction done after each stretch of days. Every noted change is
    claimed, so the watermark moves past them all.
    """
    connection.execute(text("select pg_advisory_xact_lock(:key)"), {"key": REFRESH_LOCK_KEY})
    claimed = connection.execute(CLAIM_PENDING).all()
    connection.execute(REBUILD_EMPTY)
    # the tables are rewritten whole: their keys are built once, after the rows are in
    # (fleetspend/bulk.py)
    set_aside = bulk.set_aside(connection, primary_keys=REBUILT_TABLES)
    stretches = _rebuild_stretches(connection)
    org_ids = connection.execute(text("select org_id from organizations")).scalars().all()
    for done, (from_at, until_at) in enumerate(stretches, start=1):
        params = rating.stage_sums(connection, from_at, until_at, org_ids, grain="day")
        rating.price_sums(connection, REBUILD_RESOURCE_DAYS, params)
        if progress is not None:
            progress(done / (len(stretches) + 1))
    for statement in REBUILD_FROM_RESOURCE_DAYS:
        connection.execute(statement)
    # with fresh statistics: the pages' first plans over the rebuilt tables depend on them
    bulk.add_back(connection, set_aside, analyze=REBUILT_TABLES)
    from fleetspend import figures  # see _refresh

    figures.after_refresh(connection, set(connection.execute(INVOICED_MONTHS).all()), full=True)
    store_anomalies(connection, org_ids)
    if progress is not None:
        progress(1.0)
    latest_change = max((change_id for *_, change_id in claimed), default=0)
    watermark = connection.execute(ADVANCE_WATERMARK, {"change_id": latest_change}).scalar_one()
    days = connection.execute(text(
        "select count(distinct (org_id, usage_date)), count(distinct org_id), min(usage_date), "
        "max(usage_date) "
        "from rollup_org_daily")).one()
    return RefreshResult(days=days[0], hours=0, orgs=days[1], folded_change_id=watermark,
                         first_date=days[2], last_date=days[3])


def refresh(engine: Engine, *, full: bool = False) -> RefreshResult:
    """Bring the rollups up to date in a transaction of their own (``fleetspend rollup``).

    The lock is taken before the transaction starts, and the transaction is REPEATABLE READ:
    every statement sees exactly the usage the claimed notes describe, so hours that only
    gained rows are added on rather than their whole day recomputed.
    """
    with engine.connect() as connection:
        connection.execute(text("select pg_advisory_lock(:key)"), {"key": REFRESH_LOCK_KEY})
        connection.commit()
        try:
            connection.execution_options(isolation_level="REPEATABLE READ")
            with connection.begin():
                result = _refresh(connection, full=full, add_hours=True)
        finally:
            connection.execution_options(isolation_level="READ COMMITTED")
            connection.execute(text("select pg_advisory_unlock(:key)"), {"key": REFRESH_LOCK_KEY})
            connection.commit()
    return result
