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
- ``rollup_org_latest_hour``: per org, the latest hour its meter rows hold ("usage complete
  through" in one row), read again whenever a fold reaches the org's latest day;
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
   on to the monthly meter rows, and the day's org rows;
3. drops monthly rows whose every daily row is gone;
4. recomputes the day's narrow rows from its meter rows, and the narrow monthly rows of its
   month from the monthly meter rows (the same sums as the month's narrow daily rows, from a
   tenth of the rows), then the series and the team rows.

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
from pathlib import Path

from sqlalchemy import Connection, Engine, TextClause, text

from fleetspend import anomaly_search, bulk, clock, models
from fleetspend.billing import rating
from fleetspend.partitions import month_partitions, next_month
from fleetspend.sqlfiles import SqlFolder
from fleetspend.usage_lock import holds_usage_lock
from queries import sql

# pg_advisory_xact_lock key serializing refreshes ("rollups" in ASCII)
REFRESH_LOCK_KEY = 0x726F6C6C757073
# days recomputed per round of statements; bounds the work a full rebuild does at once
DAYS_PER_ROUND = 7

# The statements (sql/rollups/): most start with the batch they work on, the (org, day)s of
# batch.sql or the (org, month)s of months.sql, and go on with what they do to it; whole files
# joined in that order, values bound. A rollup of models.NARROW_ROLLUPS or TEAM_ROLLUPS has
# its own files, named after it.
_STATEMENTS = SqlFolder(Path(__file__).resolve().parent / "sql" / "rollups")


def _priced(*names: str) -> TextClause:
    """The statement of ``names`` after billing's CTEs that price the staged sums
    (rating.RESOURCE_PRODUCTS_CTES, ending in ``resource_products``): whole texts joined."""
    return text("\n".join(("with", rating.RESOURCE_PRODUCTS_CTES,
                           *(_STATEMENTS.catalog()[name] for name in names))))


# Hours that only gained rows (the INSERT trigger notes them with their hour) and come after
# everything their day holds so far: their rows, summed and priced as the rebuild does
# (rating.stage_sums at grain 'hour'), are added onto the per-resource daily rows without
# re-reading the rest of the day. Only safe in a snapshot that cannot see rows committed after
# the claim (see refresh).
ADD_RESOURCE_HOURS = _priced("insert_priced_resource_days", "add_onto_resource_days")


def sort_in_memory(connection: Connection) -> None:
    """Let this transaction's sorts and hashes use 256 MB (a day of the biggest organization
    is hundreds of thousands of rated rows, its month a million per-resource rows)."""
    connection.execute(_STATEMENTS.sql("sort_in_memory"))


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


def store_anomalies(connection: Connection, org_ids: Iterable[int]) -> int:
    """Search the anomalies of those of ``org_ids`` whose findings are out of date, as of
    each one's "usage complete through", and store them; how many organizations were searched.

    The overview's search (:func:`fleetspend.anomaly_search.search_anomalies`), run here once
    per fold instead of on every view: at ten times the large scale it reads 5,600 series rows and
    spends 0.4 s in pandas (measured, load 4.5).
    """
    searched = 0
    for org_id in connection.execute(_STATEMENTS.sql("unsearched_orgs"),
                                     {"org_ids": sorted(set(org_ids))}).scalars().all():
        through_at = connection.execute(sql("usage_complete_through"),
                                        {"org_id": org_id}).scalar()
        if through_at is None:
            continue
        findings = anomaly_search.search_anomalies(connection, org_id, clock.as_of(through_at))
        connection.execute(_STATEMENTS.sql("store_findings"), {
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
    connection.execute(_STATEMENTS.sql("batch", "delete_usage_days", "add_to_usage_monthly"),
                       {**batch, "sign": -1})
    connection.execute(_STATEMENTS.sql("batch", "insert_usage_days", "add_to_usage_monthly"),
                       {**batch, "sign": 1})
    connection.execute(_STATEMENTS.sql("batch", "delete_org_days"), batch)
    connection.execute(_STATEMENTS.sql("batch", "insert_org_days"), batch)
    months = sorted({usage_date.replace(day=1) for usage_date in usage_dates})
    connection.execute(_STATEMENTS.sql("drop_empty_months"),
                       {"org_ids": sorted(set(org_ids)), "month_dates": months})
    refold_narrow(connection, pairs)


def refold_narrow(connection: Connection, pairs: list[tuple[int, date]]) -> None:
    """Rebuild the narrow rows of (org, day) pairs, and of their months, from the meter rows
    (daily and monthly: those must be up to date, and hold no empty month); then the anomaly
    search's series of those months (its findings go) and the team rows. The organizations'
    latest hour is read again first, where the pairs reach their latest day."""
    batch = {"org_ids": [org_id for org_id, _ in pairs],
             "usage_dates": [usage_date for _, usage_date in pairs]}
    connection.execute(_STATEMENTS.sql("batch", "mark_latest_hours"), batch)
    org_months = sorted({(org_id, usage_date.replace(day=1)) for org_id, usage_date in pairs})
    months = {"org_ids": [org_id for org_id, _ in org_months],
              "month_dates": [month for _, month in org_months]}
    _replace(connection, models.NARROW_ROLLUPS, ("batch", "meters_of_days", "meters"), batch,
             ("months", "meters_of_months", "meters"), months)
    connection.execute(_STATEMENTS.sql("months", "delete_series_months"), months)
    connection.execute(_STATEMENTS.sql("months", "insert_series_months"), months)
    # the findings searched in the old series are out of date (store_anomalies searches again)
    connection.execute(_STATEMENTS.sql("months", "delete_stale_findings"), months)
    refold_teams(connection, batch, org_months)


def refold_teams(connection: Connection, batch: Mapping[str, object],
                 org_months: list[tuple[int, date]]) -> None:
    """Rebuild the per-team rows of a batch of (org, day)s (``org_ids``, ``usage_dates``) and
    of their ``org_months`` from the app x region rows (rebuilt before)."""
    _replace(connection, models.TEAM_ROLLUPS, ("batch",), batch, ("months",), {
        "org_ids": [org_id for org_id, _ in org_months],
        "month_dates": [month for _, month in org_months]})


def _replace(connection: Connection, rollups: Iterable[str],
             days_source: tuple[str, ...], batch: Mapping[str, object],
             months_source: tuple[str, ...], months: Mapping[str, object]) -> None:
    """Rebuild the daily rows of ``rollups`` (names of narrow or team rollups, in an order where
    each one's source comes first) for the batch's (org, day)s, then their monthly rows for
    ``months``' (org, month)s. Each insert continues the files of its ``*_source`` (the batch,
    or the months, and what the insert reads of them); each delete, the first of them."""
    names = list(rollups)
    for name in names:
        connection.execute(_STATEMENTS.sql(days_source[0], f"delete_{name}_days"), batch)
        connection.execute(_STATEMENTS.sql(*days_source, f"insert_{name}_days"), batch)
    for name in names:
        connection.execute(_STATEMENTS.sql(months_source[0], f"delete_{name}_months"), months)
        connection.execute(_STATEMENTS.sql(*months_source, f"insert_{name}_months"), months)


def _recompute_days(connection: Connection, pairs: list[tuple[int, date]]) -> None:
    """Recompute (org, day) pairs from rated usage, and everything summed from them."""
    usage_dates = [usage_date for _, usage_date in pairs]
    connection.execute(_STATEMENTS.sql("batch", "delete_resource_days"), {
        "org_ids": [org_id for org_id, _ in pairs], "usage_dates": usage_dates})
    connection.execute(_STATEMENTS.sql("batch", "insert_resource_days"), {
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
    sort_in_memory(connection)
    if full:
        connection.execute(_STATEMENTS.sql("note_every_day"))
    claimed = connection.execute(_STATEMENTS.sql("claim_pending")).all()
    whole_days = {(org_id, day) for org_id, day, hour_at, _ in claimed
                  if hour_at is None or not add_hours}
    added_hours = {(org_id, hour_at) for org_id, day, hour_at, _ in claimed
                   if hour_at is not None and add_hours and (org_id, day) not in whole_days}
    if added_hours:
        # an hour can only be added on if nothing of it is folded in yet: it must come after
        # the latest hour its day already holds, else the day is recomputed whole. Most often
        # it comes after the latest hour its organization's rollups hold at all
        # (rollup_org_latest_hour, never earlier than any day's): then no day is read
        org_latest: dict[int, datetime] = dict(connection.execute(
            _STATEMENTS.sql("latest_folded_hours"),
            {"org_ids": sorted({org_id for org_id, _ in added_hours})}).all())
        candidate_days = sorted({(org_id, _utc_date(at)) for org_id, at in added_hours
                                 if org_id not in org_latest or at <= org_latest[org_id]})
        folded_through = {} if not candidate_days else {
            (org_id, day): last_hour_at for org_id, day, last_hour_at
            in connection.execute(_STATEMENTS.sql("batch", "folded_through"), {
                "org_ids": [org_id for org_id, _ in candidate_days],
                "usage_dates": [day for _, day in candidate_days]})}
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
    watermark = connection.execute(_STATEMENTS.sql("advance_watermark"),
                                   {"change_id": latest_change}).scalar_one()
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
    connection.execute(_STATEMENTS.sql("lock_refresh_for_transaction"), {"key": REFRESH_LOCK_KEY})
    return _refresh(connection, full=full, add_hours=holds_usage_lock(connection))


# A rebuild from nothing. Rows the pages read go in in (org, day) order, so a range read finds
# them on few pages. The per-resource daily rows come a stretch of days at a time
# (REBUILD_CHUNK_DAYS) from the invoice engine's passes (billing.rating.stage_sums at day
# grain): hourly rows are summed per machine, size, price list and day in parallel, and only
# those sums are priced, which gives exactly the view's amounts (see rating.py) at a fraction
# of the cost of pricing every hourly row through ``rated_usage``. Every other table is then
# summed from the daily per-resource rows: the meter, org and monthly meter rows by a statement
# of their own each, the narrow and team rows by refresh's statements for every (org, day) at
# once (the same sums refresh keeps by difference).
REBUILD_CHUNK_DAYS = 10

REBUILT_TABLES = ("rollup_resource_daily", "rollup_usage_daily", "rollup_usage_monthly",
                  "rollup_org_daily",
                  *(table.name for table in models.NARROW_TABLES.values()),
                  *(table.name for table in models.TEAM_TABLES.values()),
                  "rollup_app_region_series")
# one stretch's priced sums as per-resource daily rows
REBUILD_RESOURCE_DAYS = _priced("insert_priced_resource_days", "in_day_order")


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
    connection.execute(_STATEMENTS.sql("lock_refresh_for_transaction"), {"key": REFRESH_LOCK_KEY})
    claimed = connection.execute(_STATEMENTS.sql("claim_pending")).all()
    connection.execute(_STATEMENTS.sql("rebuild_empty"))
    # the tables are rewritten whole: their keys are built once, after the rows are in
    # (fleetspend/bulk.py)
    set_aside = bulk.set_aside(connection, primary_keys=REBUILT_TABLES)
    stretches = _rebuild_stretches(connection)
    org_ids = connection.execute(_STATEMENTS.sql("all_org_ids")).scalars().all()
    for done, (from_at, until_at) in enumerate(stretches, start=1):
        params = rating.stage_sums(connection, from_at, until_at, org_ids, grain="day")
        rating.price_sums(connection, REBUILD_RESOURCE_DAYS, params)
        if progress is not None:
            progress(done / (len(stretches) + 1))
    # every other table from the per-resource rows: the meter, org and monthly meter rows, then
    # the narrow and team rows with refresh's statements, for every (org, day) at once
    connection.execute(_STATEMENTS.sql("rebuild_usage_days"))
    connection.execute(_STATEMENTS.sql("rebuild_org_days"))
    connection.execute(_STATEMENTS.sql("rebuild_usage_months"))
    refold_narrow(connection, [(org_id, usage_date) for org_id, usage_date
                               in connection.execute(_STATEMENTS.sql("meter_days"))])
    # with fresh statistics: the pages' first plans over the rebuilt tables depend on them
    bulk.add_back(connection, set_aside, analyze=REBUILT_TABLES)
    from fleetspend import figures  # see _refresh

    invoiced = {(org_id, month) for org_id, month
                in connection.execute(_STATEMENTS.sql("invoiced_months"))}
    figures.after_refresh(connection, invoiced, full=True)
    store_anomalies(connection, org_ids)
    if progress is not None:
        progress(1.0)
    latest_change = max((change_id for *_, change_id in claimed), default=0)
    watermark = connection.execute(_STATEMENTS.sql("advance_watermark"),
                                   {"change_id": latest_change}).scalar_one()
    days = connection.execute(_STATEMENTS.sql("rebuilt_span")).one()
    return RefreshResult(days=days[0], hours=0, orgs=days[1], folded_change_id=watermark,
                         first_date=days[2], last_date=days[3])


def refresh(engine: Engine, *, full: bool = False) -> RefreshResult:
    """Bring the rollups up to date in a transaction of their own (``fleetspend rollup``).

    The lock is taken before the transaction starts, and the transaction is REPEATABLE READ:
    every statement sees exactly the usage the claimed notes describe, so hours that only
    gained rows are added on rather than their whole day recomputed.
    """
    with engine.connect() as connection:
        connection.execute(_STATEMENTS.sql("lock_refresh"), {"key": REFRESH_LOCK_KEY})
        connection.commit()
        try:
            connection.execution_options(isolation_level="REPEATABLE READ")
            with connection.begin():
                result = _refresh(connection, full=full, add_hours=True)
        finally:
            connection.execution_options(isolation_level="READ COMMITTED")
            connection.execute(_STATEMENTS.sql("unlock_refresh"), {"key": REFRESH_LOCK_KEY})
            connection.commit()
    return result
