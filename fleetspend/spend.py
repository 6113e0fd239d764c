"""What the spend pages compute from the read path: "now", forecasts, anomalies, explorer series.

Importable without Streamlit; every function is pure or takes the page's connection.

- "Now" is where the usage feed stands (usage complete through, from the rollups), never the
  wall clock: the demo data ends on a fixed day, and a feed that is hours behind must not make
  today look cheap. :func:`as_of` derives the month in progress, the last day counted and how
  much of the month is left from that instant.
- The forecast to month end adds the recent daily rate to the spend so far, over the time the
  month has left; its range uses the slowest and fastest 7-day stretch of the last four weeks.
- Anomalies are found in spend per app and per app-region-day: a day far above the app's
  trailing median (a runaway), an organization day far from the same weekday before, and an
  app whose spend leaves one region for another (a migration). Each carries one sentence
  saying what changed. The search runs when usage is folded into the rollups
  (:func:`fleetspend.rollups.store_anomalies`); the overview and the alerts read its findings.
- Explorer series turn query rows into stacked-chart cells whose displayed values (integer
  hundredths: cents, or hundredths of a unit) are split from the exact total by largest
  remainder, so chart cells, table rows and the total add up exactly as shown.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import numpy as np
import pandas as pd
from sqlalchemy import Connection

from fleetspend.billing import invoice_status
from fleetspend.dimensions import DIMENSIONS, GRAINS, MEASURES, NO_DIMENSION, daily_source
from fleetspend.money import dollars, largest_remainder, shares, to_cents
from fleetspend.partitions import next_month
from fleetspend.readmodels import last_usage_date, read_frame, whole_months
from queries import sql

DAY = timedelta(days=1)
SECONDS_PER_DAY = Decimal(86400)

OTHER_KEY = "__other__"


# --- "now" ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class AsOf:
    """The month in progress as the usage feed sees it (``through_at`` is exclusive)."""

    through_at: datetime
    month_start: date
    next_month_start: date
    last_day: date  # the last day any usage is counted for
    is_last_day_complete: bool

    @property
    def month_days(self) -> int:
        return (self.next_month_start - self.month_start).days

    @property
    def remaining_days(self) -> Decimal:
        """Days (with fractions) from ``through_at`` to the end of the month."""
        end = datetime.combine(self.next_month_start, datetime.min.time(), tzinfo=UTC)
        return Decimal((end - self.through_at).total_seconds()) / SECONDS_PER_DAY


def as_of(through_at: datetime) -> AsOf:
    """The month in progress and the last day counted, from "usage complete through"."""
    if through_at.tzinfo is None:
        raise ValueError("usage complete through must be a timezone-aware UTC instant")
    through_at = through_at.astimezone(UTC)
    last_instant = through_at - timedelta(microseconds=1)
    last_day = last_instant.date()
    month_start = last_day.replace(day=1)
    return AsOf(
        through_at=through_at,
        month_start=month_start,
        next_month_start=next_month(month_start),
        last_day=last_day,
        is_last_day_complete=through_at.time() == datetime.min.time(),
    )


# --- forecast ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Forecast:
    """Spend expected by month end, in cents, with a low-high range."""

    expected_cents: int
    low_cents: int
    high_cents: int
    basis_days: int  # complete days the daily rate was taken from


def forecast_month(spent_so_far: Decimal, daily_amounts: Sequence[Decimal],
                   remaining_days: Decimal) -> Forecast | None:
    """Spend so far plus the recent daily rate over the days left; None without history.

    ``daily_amounts`` are the complete days before "now", oldest first (up to 28 are used).
    The expected rate is the mean of the last 7; the range uses the slowest and fastest
    7-day stretch among the last 28 days.
    """
    history = list(daily_amounts)[-28:]
    if remaining_days < 0:
        raise ValueError("the days left in a month cannot be negative")
    if remaining_days == 0:
        cents = to_cents(spent_so_far)
        return Forecast(cents, cents, cents, len(history))
    if len(history) < 7:
        return None
    week_means = [sum(history[i:i + 7], Decimal(0)) / 7 for i in range(len(history) - 6)]
    expected_rate = week_means[-1]
    low_rate, high_rate = min(week_means), max(week_means)
    return Forecast(
        expected_cents=to_cents(spent_so_far + expected_rate * remaining_days),
        low_cents=to_cents(spent_so_far + low_rate * remaining_days),
        high_cents=to_cents(spent_so_far + high_rate * remaining_days),
        basis_days=len(history),
    )


# --- anomalies -----------------------------------------------------------------------------

SPIKE_RATIO = 2.5
TREND_DAYS = 60  # the days the overview shows, and searches for anomalies starting in
ORG_DAY_HIGH, ORG_DAY_LOW = 2.0, 0.5
MIGRATION_FALL = 0.5
BASELINE_DAYS = 14
WEEKEND_GAP_DAYS = 2
# changes smaller than this share of the organization's median day are not worth a flag
SPIKE_FLOOR_SHARE, SPIKE_FLOOR_CENTS = 0.0005, 20.0
MIGRATION_FLOOR_CENTS = 10.0


@dataclass(frozen=True)
class Anomaly:
    """Something far off its recent pattern, with one sentence saying what changed."""

    kind: str  # 'spike' (an app), 'org_day' (the whole organization), 'migration'
    subject: str
    app_id: int | None
    start_date: date
    end_date: date  # inclusive
    explanation: str
    region_code: str | None = None
    size_cents: int = 0  # how much spend is off the pattern, for ordering
    # the anomalous spend per day, what a chart marks: the app's spend on a spike's days, the
    # excess over the usual on an organization's high days, the new region's on a move
    day_cents: tuple[tuple[date, int], ...] = ()


def _runs(flags: pd.Series, gap_days: int = 0) -> list[tuple[date, date]]:
    """Stretches of True days of a date-indexed boolean series, as (first, last) days.

    Stretches at most ``gap_days`` apart are one (a weekend between two flagged weeks).
    """
    runs: list[tuple[date, date]] = []
    for day in flags.index[flags.to_numpy(dtype=bool)]:
        if runs and (day - runs[-1][1]).days <= gap_days + 1:
            runs[-1] = (runs[-1][0], day)
        else:
            runs.append((day, day))
    return runs


def _spikes(by_app: pd.DataFrame, names: dict[int, str], floor_cents: float) -> list[Anomaly]:
    baseline = by_app.shift(1).rolling(BASELINE_DAYS, min_periods=7).median()
    excess = by_app - baseline
    flagged = (by_app > SPIKE_RATIO * baseline) & (excess > floor_cents) & baseline.notna()
    found = []
    for app_id in by_app.columns[flagged.any().to_numpy()]:
        for first, last in _runs(flagged[app_id], gap_days=WEEKEND_GAP_DAYS):
            days = by_app.loc[first:last, app_id]
            usual = float(baseline.loc[first, app_id])
            peak_day = days.idxmax()
            against = (f"up from nothing in the {BASELINE_DAYS} days before" if usual == 0 else
                       f"{days.max() / usual:.1f}x its usual {dollars(round(usual))} a day, "
                       f"the median of the {BASELINE_DAYS} days before")
            found.append(Anomaly(
                kind="spike", subject=names[app_id], app_id=int(app_id), start_date=first,
                end_date=last, size_cents=int(excess.loc[first:last, app_id].sum()),
                day_cents=tuple((day, round(cents)) for day, cents in days.items()),
                explanation=(
                    f"{names[app_id]} spent {dollars(round(days.sum()))} from {first:%b %d} to "
                    f"{last:%b %d}, peaking at {dollars(round(days.max()))} on "
                    f"{peak_day:%b %d} ({against})."),
            ))
    return found


def _org_days(total: pd.Series) -> list[Anomaly]:
    # the same weekday in the three weeks before: fleets sleep at weekends
    same_weekday = pd.concat([total.shift(7 * k) for k in (1, 2, 3)], axis=1).median(
        axis=1, skipna=False)
    ratio = total / same_weekday.replace(0, np.nan)
    high = ratio > ORG_DAY_HIGH
    low = ratio < ORG_DAY_LOW
    found = []
    for flags, word in ((high, "above"), (low, "below")):
        for first, last in _runs(flags.fillna(False)):
            days = total.loc[first:last]
            usual = same_weekday.loc[first:last]
            found.append(Anomaly(
                kind="org_day", subject="All apps", app_id=None, start_date=first,
                end_date=last, size_cents=int(abs((days - usual).sum())),
                day_cents=tuple((day, round(cents)) for day, cents in
                                (days - usual).clip(lower=0).items() if cents > 0),
                explanation=(
                    f"The organization spent {dollars(round(days.sum()))} from {first:%b %d} to "
                    f"{last:%b %d}, far {word} the {dollars(round(usual.sum()))} of the same "
                    "weekdays in the three weeks before."),
            ))
    return found


def _migrations(matrix: pd.DataFrame, names: dict[int, str],
                cities: dict[str, str]) -> list[Anomaly]:
    """Apps whose spend appears in a new region while falling by half in an old one."""
    days = matrix.index
    values = matrix.to_numpy()
    spending = values > 0
    first = spending.argmax(axis=0)
    # a region starts: nothing for at least a week, then spend, with a few days to judge
    starts = spending.any(axis=0) & (first >= 7) & (first <= len(days) - 4)
    found = []
    for column in np.flatnonzero(starts):
        app_id, new_region = matrix.columns[column]
        day = first[column]
        gained = values[day + 1:day + 8, column].mean()
        if gained <= MIGRATION_FLOOR_CENTS:
            continue
        for old_column in np.flatnonzero(matrix.columns.get_level_values(0) == app_id):
            old_region = matrix.columns[old_column][1]
            was = values[day - 7:day, old_column].mean()
            now = values[day + 1:day + 8, old_column].mean()
            if old_column == column or was <= MIGRATION_FLOOR_CENTS or now >= MIGRATION_FALL * was:
                continue
            moved_on = days[day]
            found.append(Anomaly(
                kind="migration", subject=names[app_id], app_id=int(app_id),
                region_code=new_region, start_date=moved_on, end_date=moved_on,
                size_cents=int(gained * 7),
                day_cents=((moved_on, round(values[day, column])),),
                explanation=(
                    f"{names[app_id]} moved from {cities[old_region]} ({old_region}) to "
                    f"{cities[new_region]} ({new_region}) on {moved_on:%b %d}: its spend in "
                    f"{old_region} fell from {dollars(round(was))} to {dollars(round(now))} a "
                    f"day while {new_region} rose to {dollars(round(gained))} a day."),
            ))
    return found


def _days(first: date, last: date) -> list[date]:
    return [first + DAY * offset for offset in range((last - first).days + 1)]


def series_in_range(months: pd.DataFrame, start_date: date, end_date: date) -> pd.DataFrame:
    """The rows of the app_region_daily_series query (a row per app, region and month, days
    and cents as comma-separated text) as one row per app and region with its days in
    [start_date, end_date): app_id, app_name, region_code, city, day_offsets (days since
    start_date), day_cents."""
    rows: dict[tuple[int, str], list] = {}
    for app_id, app_name, region_code, city, month_date, days, cents in zip(
            months.app_id, months.app_name, months.region_code, months.city,
            months.month_date, months.days, months.day_cents, strict=True):
        offsets = np.fromstring(days, dtype=np.int64, sep=",") + (
            (month_date - start_date).days - 1)
        keep = (offsets >= 0) & (offsets < (end_date - start_date).days)
        row = rows.setdefault((app_id, region_code), [app_id, app_name, region_code, city, [], []])
        row[4].extend(offsets[keep].tolist())
        row[5].extend(np.fromstring(cents, dtype=np.int64, sep=",")[keep].tolist())
    return pd.DataFrame([row for row in rows.values() if row[4]],
                        columns=["app_id", "app_name", "region_code", "city", "day_offsets",
                                 "day_cents"])


def read_app_region_series(connection: Connection, org_id: int, start_date: date,
                           end_date: date) -> pd.DataFrame:
    """Spend per app, region and day in [start_date, end_date), as :func:`series_in_range`
    gives it: what :func:`find_anomalies` reads."""
    return series_in_range(read_frame(connection, "app_region_daily_series", {
        "org_id": org_id, "start_date": start_date, "end_date": end_date}),
        start_date, end_date)


def daily_matrix(series: pd.DataFrame, start_date: date) -> pd.DataFrame:
    """Cents per day (rows) and (app_id, region_code) (columns) from the app_region_daily_series
    rows, trimmed to the days from the first to the last with any spend."""
    offsets = [np.asarray(days, dtype=int) for days in series.day_offsets]
    values = np.zeros((max(int(days.max()) for days in offsets) + 1, len(series)))
    for column, (days, cents) in enumerate(zip(offsets, series.day_cents, strict=True)):
        values[days, column] = cents
    spent = np.flatnonzero(values.any(axis=1))
    if not len(spent):
        return pd.DataFrame()
    first, last = int(spent[0]), int(spent[-1])
    return pd.DataFrame(
        values[first:last + 1],
        index=pd.Index(_days(start_date + DAY * first, start_date + DAY * last)),
        columns=pd.MultiIndex.from_arrays([series.app_id, series.region_code],
                                          names=["app_id", "region_code"]))


def anomaly_window(now: AsOf) -> tuple[date, date, date]:
    """The overview's anomaly search as of ``now``: (start_date, end_date, since). The
    complete days of the 60 days shown, from ``since``, and the three weeks of baseline before
    them, from ``start_date``; ``end_date`` is exclusive."""
    since = now.last_day - DAY * (TREND_DAYS - 1)
    return (since - 21 * DAY, now.last_day + DAY if now.is_last_day_complete else now.last_day,
            since)


def search_anomalies(connection: Connection, org_id: int, now: AsOf) -> list[Anomaly]:
    """Search the organization's spend per app, region and day for anomalies, as of ``now``
    (what :func:`fleetspend.rollups.store_anomalies` keeps)."""
    start_date, end_date, since = anomaly_window(now)
    return find_anomalies(read_app_region_series(connection, org_id, start_date, end_date),
                          start_date, since=since)


def read_anomalies(connection: Connection, org_id: int, now: AsOf) -> list[Anomaly]:
    """The anomalies of the overview's window as of ``now``: the findings stored when the
    organization's usage was last folded, or, when none are stored for ``now`` (the rollups
    changed and the search after them has not run yet), searched here."""
    row = connection.execute(sql("anomaly_findings"), {"org_id": org_id}).first()
    if row is not None and row.through_at == now.through_at:
        return [anomaly_from_json(finding) for finding in row.findings]
    return search_anomalies(connection, org_id, now)


def anomaly_to_json(anomaly: Anomaly) -> dict[str, object]:
    """An anomaly as JSON-ready values (dates in ISO format, amounts in integer cents)."""
    return {"kind": anomaly.kind, "subject": anomaly.subject, "app_id": anomaly.app_id,
            "start_date": anomaly.start_date.isoformat(),
            "end_date": anomaly.end_date.isoformat(), "explanation": anomaly.explanation,
            "region_code": anomaly.region_code, "size_cents": anomaly.size_cents,
            "day_cents": [[day.isoformat(), cents] for day, cents in anomaly.day_cents]}


def anomaly_from_json(value: dict) -> Anomaly:
    """The anomaly :func:`anomaly_to_json` gave ``value`` for."""
    return Anomaly(
        kind=value["kind"], subject=value["subject"], app_id=value["app_id"],
        start_date=date.fromisoformat(value["start_date"]),
        end_date=date.fromisoformat(value["end_date"]), explanation=value["explanation"],
        region_code=value["region_code"], size_cents=value["size_cents"],
        day_cents=tuple((date.fromisoformat(day), cents) for day, cents in value["day_cents"]))


def find_anomalies(series: pd.DataFrame, start_date: date, since: date) -> list[Anomaly]:
    """Anomalies that start on or after ``since`` in spend per app, region and day.

    ``series`` has the rows of :func:`series_in_range` from ``start_date`` (complete days
    only, with enough days before ``since`` for the baselines). Small changes
    are ignored: a spike must be worth more than 0.05% of the organization's median day.
    Biggest first.
    """
    matrix = daily_matrix(series, start_date) if not series.empty else pd.DataFrame()
    if matrix.empty:
        return []
    by_app = matrix.T.groupby(level="app_id").sum().T
    total = by_app.sum(axis=1)
    floor_cents = max(SPIKE_FLOOR_CENTS, SPIKE_FLOOR_SHARE * float(total.median()))
    names = dict(zip(series.app_id, series.app_name, strict=True))
    cities = dict(zip(series.region_code, series.city, strict=True))
    found = [*_spikes(by_app, names, floor_cents), *_org_days(total),
             *_migrations(matrix, names, cities)]
    return sorted((a for a in found if a.start_date >= since),
                  key=lambda a: (-a.size_cents, a.start_date, a.subject))


# --- the overview --------------------------------------------------------------------------

TOP = 5


@dataclass(frozen=True)
class Share:
    """One of the top values of a dimension in the month so far."""

    key: str
    label: str
    amount_cents: int
    share_percent: Decimal


@dataclass(frozen=True)
class Overview:
    """Everything the overview page shows, read in one snapshot."""

    now: AsOf | None
    month_cents: int = 0
    is_invoiced: bool = False  # the month's invoice is finalized (else the figure is estimated)
    previous_cents: int = 0
    previous_through: date | None = None
    forecast: Forecast | None = None
    invoice: dict | None = None  # the month's invoice row (draft or final), admins only
    may_see_invoices: bool = False
    top: dict[str, list[Share]] = field(default_factory=dict)
    daily: pd.DataFrame = field(default_factory=pd.DataFrame)
    treemap: pd.DataFrame = field(default_factory=pd.DataFrame)
    regions: pd.DataFrame = field(default_factory=pd.DataFrame)
    anomalies: list[Anomaly] = field(default_factory=list)


def read_top(connection: Connection, org_id: int, month_start: date, month_total: Decimal,
             top: int | None = TOP) -> dict[str, list[Share]]:
    """The biggest ``top`` apps, regions and VM sizes of a month (so far), from one statement
    (None: every value), with their shares of ``month_total``."""
    frame = read_frame(connection, "overview_top_values",
                       {"org_id": org_id, "month_date": month_start, "top": top})
    found: dict[str, list[Share]] = {}
    for dimension in ("app", "region", "preset"):
        rows = frame[frame.dimension == dimension]
        percents = shares(list(rows.amount_precise), month_total)
        found[dimension] = [
            Share(key=key, label=label, amount_cents=int(cents), share_percent=percent)
            for key, label, cents, percent in zip(rows.key, rows.label, rows.amount_cents,
                                                  percents, strict=True)]
    return found


def read_overview(connection: Connection, org_id: int, *, may_see_invoices: bool) -> Overview:
    """Every figure of the overview from one connection (one snapshot)."""
    through_at = connection.execute(sql("usage_complete_through"), {"org_id": org_id}).scalar()
    if through_at is None:
        return Overview(now=None)
    now = as_of(through_at)
    mtd = connection.execute(sql("spend_month_to_date"), {
        "org_id": org_id, "as_of_date": now.last_day}).mappings().one()
    trend_start = now.last_day - DAY * (TREND_DAYS - 1)
    # the anomaly baselines need three weeks before the first day shown
    daily_spend = read_frame(connection, "spend_by_period", {
        "org_id": org_id, "start_date": trend_start - 21 * DAY, "end_date": now.last_day + DAY,
        "grain": "day"})
    complete_until = now.last_day + DAY if now.is_last_day_complete else now.last_day
    complete = daily_spend[daily_spend.period_start_date < complete_until]
    forecast = forecast_month(mtd["amount_precise"], list(complete.amount_precise),
                              now.remaining_days)
    invoice = None
    if may_see_invoices:
        row = connection.execute(sql("month_invoice"), {
            "org_id": org_id, "month_date": now.month_start}).mappings().first()
        invoice = None if row is None else dict(row)
    month_total = mtd["amount_precise"]
    return Overview(
        now=now,
        month_cents=int(mtd["amount_cents"]),
        is_invoiced=bool(invoice and invoice_status.is_sealed(invoice["status"])),
        previous_cents=int(mtd["previous_amount_cents"]),
        previous_through=mtd["previous_as_of_date"],
        forecast=forecast,
        invoice=invoice,
        may_see_invoices=may_see_invoices,
        top=read_top(connection, org_id, now.month_start, month_total),
        daily=daily_spend[daily_spend.period_start_date >= trend_start].reset_index(drop=True),
        treemap=read_frame(connection, "spend_by_team_app_preset",
                       {"org_id": org_id, "month_date": now.month_start}),
        regions=read_frame(connection, "spend_by_region_located",
                       {"org_id": org_id, "month_date": now.month_start}),
        anomalies=read_anomalies(connection, org_id, now),
    )


# --- the explorer --------------------------------------------------------------------------


@dataclass(frozen=True)
class ExplorerQuery:
    """What the explorer shows; validated by the page's URL state before it gets here."""

    measure: str
    dimension_1: str
    dimension_2: str
    grain: str
    start_date: date
    end_date: date  # exclusive
    filters: tuple[tuple[str, tuple[str, ...]], ...] = ()  # (dimension, keys), sorted

    def __post_init__(self) -> None:
        if self.measure not in MEASURES:
            raise ValueError(f"measure must be one of {', '.join(MEASURES)}; got {self.measure!r}")
        if self.dimension_1 not in DIMENSIONS:
            raise ValueError(f"dimension_1 must be one of {', '.join(DIMENSIONS)}")
        if self.dimension_2 not in (*DIMENSIONS, NO_DIMENSION) or (
                self.dimension_2 == self.dimension_1):
            raise ValueError("dimension_2 must be another dimension or 'none'")
        if self.grain not in GRAINS:
            raise ValueError(f"grain must be one of {', '.join(GRAINS)}; got {self.grain!r}")
        if self.end_date <= self.start_date:
            raise ValueError(f"empty date range: {self.start_date} to {self.end_date}")
        for dimension, _keys in self.filters:
            if dimension not in DIMENSIONS:
                raise ValueError(f"cannot filter on {dimension!r}")

    @property
    def previous(self) -> ExplorerQuery:
        """The range of the same length just before this one, for totals per series only.

        Its grain is the month, so whole months come from the monthly rollup.
        """
        length = self.end_date - self.start_date
        return ExplorerQuery(self.measure, self.dimension_1, self.dimension_2, "month",
                             self.start_date - length, self.start_date, self.filters)

    def params(self, org_id: int, last_usage_date: date | None = None) -> dict:
        """The query's parameters; ``last_usage_date`` as in :func:`whole_months`."""
        if self.grain == "month":
            whole_from, whole_until = whole_months(self.start_date, self.end_date,
                                                   last_usage_date)
        else:
            whole_from = whole_until = self.end_date
        filters = dict(self.filters)
        keyed = {dimension.filter_param: dimension.bind(filters.get(name))
                 for name, dimension in DIMENSIONS.items()}
        source = daily_source({self.dimension_1, self.dimension_2, *filters},
                              needs_products=MEASURES[self.measure].needs_products,
                              reads_teams=True)
        return {"org_id": org_id, "start_date": self.start_date, "end_date": self.end_date,
                "grain": self.grain, "whole_from": whole_from, "whole_until": whole_until,
                "daily_source": source, "measure": self.measure, "dimension_1": self.dimension_1,
                "dimension_2": self.dimension_2, **keyed}


@dataclass(frozen=True)
class Series:
    """The explorer's stacked series: chart cells and table rows in integer hundredths."""

    cells: pd.DataFrame  # period_start_date, series_key, series_label, hundredths
    table: pd.DataFrame  # series_key, series_label, hundredths, share_basis_points
    total_hundredths: int
    hidden: int  # how many series the "other" bucket holds


def read_cells(connection: Connection, org_id: int, query: ExplorerQuery, top: int | None, *,
               latest_usage_day: date | None = None, with_cells: bool = True) -> pd.DataFrame:
    """The rows of queries/explorer_series.sql: the series kept, then the chart's cells, the
    biggest ``top`` series kept and the rest folded into "other" by the database (None keeps
    every series); ``with_cells=False``: the series and their totals alone.

    ``latest_usage_day``: the organization's latest day with usage, when the caller has
    read it in this snapshot (None: looked up here).
    """
    if query.grain == "month" or _is_top_apps(query, top):
        latest_usage_day = latest_usage_day or last_usage_date(connection, org_id)
    params = {**query.params(org_id, latest_usage_day), "top": top, "with_cells": with_cells}
    if with_cells and _is_top_apps(query, top):
        whole_from, whole_until = whole_months(query.start_date, query.end_date,
                                               latest_usage_day)
        return read_frame(connection, "explorer_top_apps",
                          {**params, "months_from": whole_from, "months_until": whole_until})
    return read_frame(connection, "explorer_series", params)


def _is_top_apps(query: ExplorerQuery, top: int | None) -> bool:
    """Whether queries/explorer_top_apps.sql answers ``query``: spend by app alone, per day or
    week, with no filter, some series folded (the explorer's default view)."""
    return (query.measure == "spend" and query.dimension_1 == "app"
            and query.dimension_2 == NO_DIMENSION and not query.filters
            and query.grain != "month" and top is not None)


def _hundredths(values: Sequence[Decimal]) -> tuple[int, list[int]]:
    """The exact total rounded once to hundredths, split over ``values`` by largest remainder."""
    total = sum(values, Decimal(0))
    total_hundredths = to_cents(total)
    return total_hundredths, largest_remainder(total_hundredths, list(values))


def build_series(rows: pd.DataFrame) -> Series:
    """Stack the rows of :func:`read_cells`: the kept series biggest first, "other" last.

    The measure's exact total is rounded once to hundredths (cents for spend) and split over
    the chart cells by largest remainder, in the order the database gives them (by period,
    then by series key); table rows are sums of their cells, so the table, its total and the
    chart agree exactly, and shares (basis points) add up to 100%.
    """
    kept = rows[rows.kind == "series"]
    cells = rows[rows.kind == "cell"]
    if cells.empty:
        return Series(
            pd.DataFrame(columns=["period_start_date", "series_key", "series_label",
                                  "hundredths"]),
            pd.DataFrame(columns=["series_key", "series_label", "hundredths",
                                  "share_basis_points"]), 0, 0)
    hidden = int(kept.hidden.iloc[0])
    labels = dict(zip(kept.series_key, kept.series_label, strict=True))
    order = [*kept.series_key, *([OTHER_KEY] if hidden else [])]
    labels[OTHER_KEY] = f"Other ({hidden})"
    total, split = _hundredths(list(cells.quantity))
    chart = pd.DataFrame({"period_start_date": list(cells.period_start_date),
                          "series_key": list(cells.series_key),
                          "series_label": [labels[key] for key in cells.series_key],
                          "hundredths": split})
    sums = dict.fromkeys(order, 0)
    for key, hundredths in zip(chart.series_key, split, strict=True):
        sums[key] += hundredths
    shares = largest_remainder(10_000, [Decimal(sums[key]) for key in order]) if total else [
        0] * len(order)
    table = pd.DataFrame({"series_key": order, "series_label": [labels[k] for k in order],
                          "hundredths": [sums[k] for k in order],
                          "share_basis_points": shares})
    chart = chart.sort_values(["period_start_date", "series_key"]).reset_index(drop=True)
    return Series(chart, table, total, hidden)


def previous_totals(rows: pd.DataFrame, series: Series) -> dict[str, int]:
    """The previous period's totals in hundredths under this view's series (others in other),
    from that period's :func:`read_cells` with every series kept (cells not needed)."""
    totals = rows[rows.kind == "series"]
    if totals.empty:
        return {}
    known = set(series.table.series_key)
    keys = totals.series_key.where(totals.series_key.isin(known),
                                   OTHER_KEY if OTHER_KEY in known else totals.series_key)
    grouped = pd.DataFrame({"series_key": keys, "value": totals.quantity}).groupby(
        "series_key")["value"].sum()
    _total, split = _hundredths(list(grouped))
    return dict(zip(grouped.index, split, strict=True))


def read_previous_totals(connection: Connection, org_id: int, query: ExplorerQuery,
                         series: Series, top: int | None, *,
                         latest_usage_day: date | None = None) -> dict[str, int]:
    """The previous period's totals under ``series`` (the view of ``query`` with ``top``
    series kept), as :func:`previous_totals` gives them. The explorer's default question with
    some series folded reads the kept apps' totals and "other" as the organization's total
    minus them (queries/explorer_top_apps_previous.sql); any other reads every series."""
    previous = query.previous
    latest_usage_day = latest_usage_day or last_usage_date(connection, org_id)
    if not (_is_top_apps(query, top) and series.hidden):
        return previous_totals(read_cells(connection, org_id, previous, None,
                                          latest_usage_day=latest_usage_day,
                                          with_cells=False), series)
    params = previous.params(org_id, latest_usage_day)
    kept = [int(key) for key in series.table.series_key if key != OTHER_KEY]
    return previous_totals(read_frame(connection, "explorer_top_apps_previous", {
        "org_id": org_id, "start_date": previous.start_date, "end_date": previous.end_date,
        "whole_from": params["whole_from"], "whole_until": params["whole_until"],
        "app_ids": kept}), series)


def read_dimension_values(connection: Connection, org_id: int) -> dict[str, dict[str, str]]:
    """Each dimension's keys in the organization mapped to their labels."""
    values: dict[str, dict[str, str]] = {dimension: {} for dimension in DIMENSIONS}
    for row in connection.execute(sql("org_dimension_values"), {"org_id": org_id}):
        values[row.dimension][row.key] = row.label
    return values
