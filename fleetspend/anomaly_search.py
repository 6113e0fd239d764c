"""Anomalies in spend per app and per app-region-day: a day far above the app's trailing median
(a runaway), an organization day far from the same weekday before, and an app whose spend
leaves one region for another (a migration). Each carries one sentence saying what changed.
The search runs when usage is folded into the rollups
(:func:`fleetspend.rollups.store_anomalies`); the overview and the alerts read its findings.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import numpy as np
import pandas as pd
from sqlalchemy import Connection

from fleetspend.clock import DAY, AsOf
from fleetspend.money import dollars
from fleetspend.reads.readmodels import read_frame
from queries import sql

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
