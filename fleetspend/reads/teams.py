"""Team comparison for organization admins: teams side by side, their apps, top movers and why.

Importable without Streamlit. Two reads give what the page shows for a period and for the
period of equal length just before it: queries/team_usage_summary.sql the spend and
machine-hours per team and region and per team and VM size (the per-team rollups, summed in
the database into the two mixes the page shows) and every app's spend in both periods, from
which the teams side by side, their movers and every app's cents are computed here; then
queries/team_usage_mix.sql the rows of the few apps shown one by one (the apps that moved
most, a team's apps when one is picked) by region and VM size. Neither reads a row per app,
region and size for every app (ten times more rows with ten times the apps).

Mix rows come in two shapes, and every function here takes both: a row per region and VM size
(queries/team_usage_mix.sql), or the summary's rows per region (VM size null) beside its rows
per VM size (region null). Spend and machine runtime are added up over the rows with a region
(:func:`region_rows`: every row of the first shape), the VM-size mix over the rows with a size.

- Money: the period's exact organization total is rounded once to cents and split over the
  teams by largest remainder, and a team's cents over its apps the same way, so teams add up
  to the organization and apps to their team exactly, as shown. The previous period likewise.
- Machines: the average number of machines running is machine-hours over the hours of the
  period (ten machines running half the time count as five). Machine-hours are what the
  rollups keep for every calendar month, so a period of whole months reads a few thousand
  monthly rows instead of a row per day.
- A mover's reason compares where and at what size its machines ran before and now, in this
  order: machines that left one region for another at about the same count ("moved from ord
  to iad"); machines that changed size at about the same count ("resized to performance-2x");
  the biggest change in machine count in one region ("+38 machines in fra"); the change in
  machine-hours at a steady count ("+1,200 machine-hours, same machines running longer");
  else the region whose spend changed most ("spend in fra +$120.00", volumes or egress).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal

import pandas as pd
from sqlalchemy import Connection

from fleetspend.money import change_percent, dollars, largest_remainder, to_cents
from fleetspend.reads.readmodels import last_usage_date, read_frame, whole_months
from fleetspend.reads.usage_explorer import ExplorerQuery
from queries import sql

MAX_PERIOD_DAYS = 92
MIX_SHOWN = 3  # regions or VM sizes named in a mix; the rest are "other"
TOP_MOVERS = 5
SECONDS_PER_HOUR = Decimal(3600)
# a move or a resize: the count gained and the count lost are within this ratio of each other
BALANCED = Decimal("0.5")
MIN_MACHINES = Decimal(1)  # machine count changes below one machine are not a reason
SECONDS_PER_DAY = Decimal(86400)
MIX_COLUMNS = ["is_current", "team_id", "team_name", "app_id", "app_name", "region_code",
               "preset_key", "amount_precise", "machine_seconds"]
APP_TOTAL_COLUMNS = ["team_id", "app_id", "app_name", "amount_precise",
                     "previous_amount_precise"]
SUMMARY_COLUMNS = ["kind", *MIX_COLUMNS[:-1], "previous_amount_precise", "machine_seconds"]


@dataclass(frozen=True)
class Period:
    """Days [start_date, end_date) compared with the days of equal length just before."""

    start_date: date
    end_date: date  # exclusive

    def __post_init__(self) -> None:
        if self.end_date <= self.start_date:
            raise ValueError(f"empty period: {self.start_date} to {self.end_date} "
                             "(the end is exclusive)")
        if self.days > MAX_PERIOD_DAYS:
            raise ValueError(f"a period is at most {MAX_PERIOD_DAYS} days; got {self.days}")

    @property
    def days(self) -> int:
        return (self.end_date - self.start_date).days

    @property
    def previous_start_date(self) -> date:
        return self.start_date - timedelta(days=self.days)

    @property
    def last_day(self) -> date:
        return self.end_date - timedelta(days=1)

    def params(self, org_id: int, last_usage_date: date | None = None) -> dict:
        """The summary's and the mix's parameters: the days of both periods read from the
        daily rollups and the months (first days) read from the monthly ones, those lying
        wholly inside a period; ``last_usage_date`` as in :func:`whole_months`."""
        whole_from, whole_until = whole_months(self.start_date, self.end_date, last_usage_date)
        previous_from, previous_until = whole_months(self.previous_start_date, self.start_date)
        days = [(self.previous_start_date, previous_from), (previous_until, whole_from),
                (whole_until, self.end_date)]
        months = [(previous_from, previous_until), (whole_from, whole_until)]
        return {"org_id": org_id, "start_date": self.start_date,
                "days": [day for start, end in days for day in _dates(start, end)],
                "months": [day for start, end in months for day in _dates(start, end)
                           if day.day == 1]}


def _dates(start: date, end: date) -> list[date]:
    """Every day in [start, end)."""
    return [start + timedelta(days=offset) for offset in range((end - start).days)]


def last_whole_month(last_day: date) -> tuple[date, date]:
    """The first and last day of the latest calendar month with usage through its end."""
    if (last_day + timedelta(days=1)).day == 1:
        return last_day.replace(day=1), last_day
    end = last_day.replace(day=1) - timedelta(days=1)
    return end.replace(day=1), end


TREND_GRAINS = ("month", "week", "day")
TREND_MONTHS = 6


def trend_query(period: Period, grain: str) -> ExplorerQuery:
    """Spend per team over time: by month, the six calendar months to the period's end (read
    from the monthly rollup); by week or day, the previous period and this one."""
    if grain not in TREND_GRAINS:
        raise ValueError(f"grain must be one of {', '.join(TREND_GRAINS)}; got {grain!r}")
    start = period.previous_start_date
    if grain == "month":
        start = period.last_day.replace(day=1)
        for _ in range(TREND_MONTHS - 1):
            start = (start - timedelta(days=1)).replace(day=1)
    return ExplorerQuery(measure="spend", dimension_1="team", dimension_2="none", grain=grain,
                         start_date=start, end_date=period.end_date)


def read_trend(connection: Connection, org_id: int, period: Period, grain: str, *,
               latest_usage_day: date | None = None) -> pd.DataFrame:
    """Spend per team over :func:`trend_query`'s range and grain: the rows of
    queries/explorer_series.sql with every series kept (for usage_explorer.build_series), read
    from the per-team rollups by queries/team_trend.sql. ``latest_usage_day`` as in
    :func:`read_mix`."""
    query = trend_query(period, grain)
    params = query.params(org_id, latest_usage_day or last_usage_date(connection, org_id))
    return read_frame(connection, "team_trend", {
        name: params[name]
        for name in ("org_id", "start_date", "end_date", "grain", "whole_from", "whole_until")})


def read_mix(connection: Connection, org_id: int, period: Period, *,
             latest_usage_day: date | None = None,
             app_ids: list[int] | None = None) -> pd.DataFrame:
    """The rows of queries/team_usage_mix.sql (NUMERIC stays Decimal): every app's, or those
    of ``app_ids``.

    ``latest_usage_day``: the organization's latest day with usage, when the caller has
    read it in this snapshot (None: looked up here).
    """
    if app_ids is not None and not app_ids:
        return pd.DataFrame(columns=MIX_COLUMNS)
    latest_usage_day = latest_usage_day or last_usage_date(connection, org_id)
    return read_frame(connection, "team_usage_mix", {
        **period.params(org_id, latest_usage_day), "app_ids": app_ids}, MIX_COLUMNS)


def read_comparison(connection: Connection, org_id: int, period: Period,
                    team_names: dict[int, str], *, shown_team: int | None = None,
                    latest_usage_day: date | None = None) -> Comparison:
    """The comparison as :func:`compare` makes it, read the short way: the teams and every
    app's totals from queries/team_usage_summary.sql, then the rows of the apps that moved
    most and of ``shown_team``'s apps (for :func:`team_apps`) alone."""
    latest_usage_day = latest_usage_day or last_usage_date(connection, org_id)
    team_rows, app_rows = split_summary(read_frame(
        connection, "team_usage_summary", period.params(org_id, latest_usage_day),
        SUMMARY_COLUMNS))
    return _compare(
        team_rows, app_rows,
        lambda app_ids: read_mix(connection, org_id, period, app_ids=app_ids,
                                 latest_usage_day=latest_usage_day),
        team_names, period, shown_team)


def split_summary(summary: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The rows of queries/team_usage_summary.sql as the team mix rows (MIX_COLUMNS, by region
    beside by VM size) and every app's totals (APP_TOTAL_COLUMNS, as :func:`app_totals`)."""
    is_team = summary.kind == "team"
    apps = summary.loc[~is_team, APP_TOTAL_COLUMNS].astype({"team_id": "int64",
                                                            "app_id": "int64"})
    return summary.loc[is_team, MIX_COLUMNS], apps.reset_index(drop=True)


def read_teams(connection: Connection, org_id: int) -> dict[int, str]:
    """Every team of the organization, spending or not: id -> name, by name."""
    rows = connection.execute(sql("org_team_names"), {"org_id": org_id}).mappings()
    return {int(row["team_id"]): str(row["name"]) for row in rows}


@dataclass(frozen=True)
class Mover:
    """A team or an app whose spend changed most against the previous period, and why."""

    kind: str  # 'team' or 'app'
    key: int  # team id or app id
    name: str
    team_id: int
    previous_cents: int
    amount_cents: int
    reason: str

    @property
    def change_cents(self) -> int:
        return self.amount_cents - self.previous_cents


@dataclass(frozen=True)
class Comparison:
    """The team comparison of one period: what the page shows and exports."""

    period: Period
    total_cents: int
    previous_total_cents: int
    teams: pd.DataFrame  # one row per team, see SIDE_BY_SIDE_COLUMNS
    # the mix rows of the apps read one by one (the app movers, the team shown; every app's
    # from :func:`compare`), for :func:`team_apps`
    mix: pd.DataFrame
    movers: list[Mover]
    has_rows: bool  # any usage in either period

    @property
    def is_empty(self) -> bool:
        return self.total_cents == 0 and self.previous_total_cents == 0 and not self.has_rows


SIDE_BY_SIDE_COLUMNS = ["key", "name", "amount_cents", "share_basis_points", "previous_cents",
                        "machine_hours", "average_machines", "region_mix", "size_mix"]


def periods(mix: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The mix rows of the current period and of the previous one."""
    is_current = mix.is_current.astype(bool)
    return mix[is_current], mix[~is_current]


def region_rows(mix: pd.DataFrame) -> pd.DataFrame:
    """The mix rows with a region: every row of a mix by region and VM size, the rows by
    region of the summary's; each set adds up to the spend and machine runtime."""
    return mix[mix.region_code.notna()]


def size_rows(mix: pd.DataFrame) -> pd.DataFrame:
    """The mix rows with a VM size (see :func:`region_rows`)."""
    return mix[mix.preset_key.notna()]


def _sums(frame: pd.DataFrame, by: str, measure: str) -> dict:
    """``measure`` summed per value of ``by``, in one pass over the rows (exact Decimal)."""
    sums: dict = defaultdict(Decimal)
    for key, value in zip(frame[by], frame[measure], strict=True):
        sums[key] += value
    return sums


def _split_sums(spent: dict[int, Decimal], total_cents: int) -> dict[int, int]:
    """``total_cents`` split over the keys of ``spent`` (in key order) by their spend."""
    keys = sorted(spent)
    return dict(zip(keys, largest_remainder(total_cents, [spent[key] for key in keys]),
                    strict=True))


def _split(frame: pd.DataFrame, by: str, total_cents: int) -> dict[int, int]:
    """``total_cents`` split over the values of ``by`` by their exact spend."""
    return _split_sums(_sums(frame, by, "amount_precise"), total_cents)


def _mix_text(spent: dict[str, Decimal]) -> str:
    """The biggest keys by spend with their shares, e.g. 'fra 60% · iad 40%'."""
    spent = {key: value for key, value in spent.items() if value > 0}
    total = sum(spent.values(), Decimal(0))
    if total == 0:
        return ""
    ordered = sorted(spent.items(), key=lambda item: (-item[1], item[0]))
    parts = [f"{key} {(value * 100 / total).quantize(Decimal(1), rounding=ROUND_HALF_UP)}%"
             for key, value in ordered[:MIX_SHOWN]]
    if len(ordered) > MIX_SHOWN:
        rest = sum((value for _key, value in ordered[MIX_SHOWN:]), Decimal(0))
        parts.append(f"other {(rest * 100 / total).quantize(Decimal(1), ROUND_HALF_UP)}%")
    return " · ".join(parts)


def describe_mix(frame: pd.DataFrame, column: str) -> str:
    """The biggest values of ``column`` by spend with their shares, e.g. 'fra 60% · iad 40%'."""
    spent: dict[str, Decimal] = defaultdict(Decimal)
    for key, amount in zip(frame[column], frame.amount_precise, strict=True):
        spent[key] += amount
    return _mix_text(spent)


def side_by_side(mix: pd.DataFrame, by: str, name: str, names: dict[int, str],
                 total_cents: int, previous_total_cents: int, days: int) -> pd.DataFrame:
    """One row per value of ``by`` (team_id or app_id) with the columns of SIDE_BY_SIDE_COLUMNS.

    ``names`` lists the rows to show even without spend; cents are split from the totals.
    One pass over the current period's rows with a region collects machine-hours and the
    region mix, one over those with a VM size the size mix.
    """
    current, previous = periods(mix)
    by_region = region_rows(current)
    now_cents = _split(by_region, by, total_cents)
    before_cents = _split(region_rows(previous), by, previous_total_cents)
    names = {**names, **dict(zip(mix[by], mix[name], strict=True))}
    seconds: dict[int, Decimal] = defaultdict(Decimal)
    regions: dict[int, dict[str, Decimal]] = defaultdict(lambda: defaultdict(Decimal))
    sizes: dict[int, dict[str, Decimal]] = defaultdict(lambda: defaultdict(Decimal))
    for key, region, amount, runtime in zip(
            by_region[by], by_region.region_code, by_region.amount_precise,
            by_region.machine_seconds, strict=True):
        seconds[key] += runtime
        regions[key][region] += amount
    by_size = size_rows(current)
    for key, size, amount in zip(by_size[by], by_size.preset_key, by_size.amount_precise,
                                 strict=True):
        sizes[key][size] += amount
    rows = [{
        "key": int(key), "name": label, "amount_cents": now_cents.get(key, 0),
        "previous_cents": before_cents.get(key, 0),
        "machine_hours": (seconds[key] / SECONDS_PER_HOUR).quantize(Decimal("0.01")),
        "average_machines": (seconds[key] / SECONDS_PER_DAY / days).quantize(Decimal("0.1")),
        "region_mix": _mix_text(regions[key]),
        "size_mix": _mix_text(sizes[key]),
    } for key, label in names.items()]
    table = pd.DataFrame(rows, columns=[c for c in SIDE_BY_SIDE_COLUMNS
                                        if c != "share_basis_points"])
    table = table.sort_values(["amount_cents", "name"], ascending=[False, True],
                              kind="stable").reset_index(drop=True)
    table.insert(3, "share_basis_points", largest_remainder(
        10_000, [Decimal(int(c)) for c in table.amount_cents]) if total_cents else [0] * len(
        table))
    return table


def cost_per_machine_hour(cents: int, machine_hours: Decimal) -> Decimal | None:
    """Spend over machine-hours in dollars (four decimals), or None without machine-hours."""
    if machine_hours == 0:
        return None
    return (Decimal(cents) / 100 / machine_hours).quantize(Decimal("0.0001"), ROUND_HALF_UP)


def _machines_by(frame: pd.DataFrame, column: str, days: int) -> dict[str, Decimal]:
    """Average machines running in the period by ``column``."""
    return {key: Decimal(value) / SECONDS_PER_DAY / days
            for key, value in sorted(_sums(frame, column, "machine_seconds").items())}


def _count(value: Decimal, noun: str) -> str:
    """A signed whole count with its noun, singular for one: "+1 machine", "-3 machines"."""
    whole = value.quantize(Decimal(1), ROUND_HALF_UP)
    return f"{whole:+,} {noun if abs(whole) == 1 else noun + 's'}"


def _balanced(gained: Decimal, lost: Decimal) -> bool:
    return (gained >= MIN_MACHINES and lost >= MIN_MACHINES
            and min(gained, lost) >= BALANCED * max(gained, lost))


def _biggest_change(deltas: dict[str, Decimal]) -> tuple[str, Decimal, str, Decimal]:
    """The key that gained most and the key that lost most (as a positive number)."""
    gainer = max(deltas, key=lambda k: (deltas[k], k))
    loser = min(deltas, key=lambda k: (deltas[k], k))
    return gainer, max(deltas[gainer], Decimal(0)), loser, max(-deltas[loser], Decimal(0))


def _deltas(now: dict[str, Decimal], before: dict[str, Decimal]) -> dict[str, Decimal]:
    return {key: now.get(key, Decimal(0)) - before.get(key, Decimal(0))
            for key in sorted({*now, *before})}


def explain(current: pd.DataFrame, previous: pd.DataFrame, days: int) -> str:
    """Why spend changed between two periods of ``days`` days, in regions, sizes or machines.

    ``current`` and ``previous`` are the mix rows of one team or app in each period.
    """
    current, previous, current_sizes, previous_sizes = (
        region_rows(current), region_rows(previous), size_rows(current), size_rows(previous))
    regions = _deltas(_machines_by(current, "region_code", days),
                      _machines_by(previous, "region_code", days))
    sizes = _deltas(_machines_by(current_sizes, "preset_key", days),
                    _machines_by(previous_sizes, "preset_key", days))
    net = sum(regions.values(), Decimal(0))
    if regions:
        to_region, gained, from_region, lost = _biggest_change(regions)
        if _balanced(gained, lost) and abs(net) < min(gained, lost):
            return f"moved from {from_region} to {to_region} ({_count(gained, 'machine')})"
    if sizes:
        to_size, gained, from_size, lost = _biggest_change(sizes)
        if _balanced(gained, lost) and abs(net) < min(gained, lost):
            return f"resized from {from_size} to {to_size} ({_count(gained, 'machine')})"
    if regions:
        region = max(regions, key=lambda k: (abs(regions[k]), k))
        if abs(regions[region]) >= MIN_MACHINES:
            return f"{_count(regions[region], 'machine')} in {region}"
    hours = (sum(current.machine_seconds, Decimal(0))
             - sum(previous.machine_seconds, Decimal(0))) / SECONDS_PER_HOUR
    if abs(hours) >= days:  # at least one machine-hour a day more or less
        return (f"{_count(hours, 'machine-hour')} at about the same machine count "
                f"({'running longer' if hours > 0 else 'running less'})")
    changes = _deltas(_sums(current, "region_code", "amount_precise"),
                      _sums(previous, "region_code", "amount_precise"))
    if not changes:
        return "no usage in either period"
    region = max(changes, key=lambda k: (abs(changes[k]), k))
    sign = "+" if changes[region] >= 0 else "-"
    return f"spend in {region} {sign}{dollars(abs(to_cents(changes[region])))} (not machines)"


def biggest_changes(table: pd.DataFrame, limit: int = TOP_MOVERS) -> pd.DataFrame:
    """The rows of ``table`` whose spend grew or fell most, biggest change first."""
    changed = table.assign(change=table.amount_cents - table.previous_cents)
    changed = changed[changed.change != 0]
    return changed.assign(size=changed.change.abs()).sort_values(
        ["size", "name"], ascending=[False, True], kind="stable").head(limit)


def top_movers(mix: pd.DataFrame, table: pd.DataFrame, kind: str, days: int,
               limit: int = TOP_MOVERS) -> list[Mover]:
    """The rows of ``table`` whose spend grew or fell most, biggest change first, with why
    (from ``mix``, which holds at least their rows)."""
    by = "team_id" if kind == "team" else "app_id"
    teams = dict(zip(mix.app_id, mix.team_id, strict=True)) if kind == "app" else {}
    changed = biggest_changes(table, limit)
    rows = mix[mix[by].isin(changed.key)]
    by_key = dict(list(rows.groupby(by))) if not rows.empty else {}
    empty = rows.iloc[:0]
    movers = []
    for row in changed.itertuples():
        current, previous = periods(by_key.get(row.key, empty))
        movers.append(Mover(
            kind=kind, key=int(row.key), name=str(row.name),
            team_id=int(row.key) if kind == "team" else int(teams[row.key]),
            previous_cents=int(row.previous_cents), amount_cents=int(row.amount_cents),
            reason=explain(current, previous, days)))
    return movers


def compare(mix: pd.DataFrame, team_names: dict[int, str], period: Period) -> Comparison:
    """The comparison of every team in ``period`` against the period before, from every app's
    mix rows (:func:`read_mix`)."""
    return _compare(mix, app_totals(mix), lambda _app_ids: mix, team_names, period, None)


def app_totals(mix: pd.DataFrame) -> pd.DataFrame:
    """Every app's spend in both periods, a row per app (by app id) with the columns of
    APP_TOTAL_COLUMNS (None for a period without rows), as queries/team_usage_summary.sql
    gives them, from an app's mix rows."""
    spent: dict[bool, dict[int, Decimal]] = {True: {}, False: {}}
    apps: dict[int, tuple[int, str]] = {}
    for team_id, app_id, app_name, is_current, amount in zip(
            mix.team_id, mix.app_id, mix.app_name, mix.is_current, mix.amount_precise,
            strict=True):
        apps.setdefault(app_id, (team_id, app_name))
        period = spent[bool(is_current)]
        period[app_id] = period.get(app_id, Decimal(0)) + amount
    return pd.DataFrame([(team_id, app_id, app_name, spent[True].get(app_id),
                          spent[False].get(app_id))
                         for app_id, (team_id, app_name) in sorted(apps.items())],
                        columns=APP_TOTAL_COLUMNS)


def app_cents(apps: pd.DataFrame, teams: pd.DataFrame) -> pd.DataFrame:
    """Every app's cents in both periods (key, name, amount_cents, previous_cents): its
    team's cents split over the team's apps, as :func:`team_apps_of` splits them.

    ``apps``: :func:`app_totals` (an app's spend in a period counts when it had rows there).
    """
    spent: dict[tuple[int, bool], dict[int, Decimal]] = defaultdict(dict)
    names: dict[int, dict[int, str]] = defaultdict(dict)
    for team_id, app_id, app_name, now, before in zip(
            apps.team_id, apps.app_id, apps.app_name, apps.amount_precise,
            apps.previous_amount_precise, strict=True):
        names[team_id][app_id] = app_name
        for is_current, amount in ((True, now), (False, before)):
            if not pd.isna(amount):
                spent[(team_id, is_current)][app_id] = amount
    rows = []
    for team in teams.itertuples():
        now_cents = _split_sums(spent.get((team.key, True), {}), int(team.amount_cents))
        before_cents = _split_sums(spent.get((team.key, False), {}), int(team.previous_cents))
        rows += [{"key": int(key), "name": name, "amount_cents": now_cents.get(key, 0),
                  "previous_cents": before_cents.get(key, 0)}
                 for key, name in sorted(names.get(team.key, {}).items())]
    return pd.DataFrame(rows, columns=["key", "name", "amount_cents", "previous_cents"])


def _compare(team_rows: pd.DataFrame, app_rows: pd.DataFrame,
             rows_of_apps: Callable[[list[int]], pd.DataFrame], team_names: dict[int, str],
             period: Period, shown_team: int | None) -> Comparison:
    """The comparison from mix rows of any grain down to the team (``team_rows``, either
    shape) and every app's totals (``app_rows``, :func:`app_totals`); ``rows_of_apps`` gives
    the mix rows of some apps, read for the app movers and ``shown_team``'s apps alone."""
    current, previous = map(region_rows, periods(team_rows))
    total = to_cents(sum(current.amount_precise, Decimal(0)))
    previous_total = to_cents(sum(previous.amount_precise, Decimal(0)))
    teams = side_by_side(team_rows, "team_id", "team_name", team_names, total, previous_total,
                         period.days)
    movers = top_movers(team_rows, teams, "team", period.days)
    apps = app_cents(app_rows, teams)
    moved = biggest_changes(apps)
    shown = (set(app_rows.app_id[app_rows.team_id == shown_team]) if shown_team is not None
             else set())
    mix = rows_of_apps(sorted({*(int(key) for key in moved.key),
                               *(int(key) for key in shown)}))
    movers += top_movers(mix, moved, "app", period.days)
    return Comparison(period, total, previous_total, teams, mix, movers,
                      has_rows=not team_rows.empty)


def team_apps_of(mix: pd.DataFrame, teams: pd.DataFrame, team_id: int,
                 days: int) -> pd.DataFrame:
    """One team's apps side by side; their cents add up to the team's exactly."""
    team = teams[teams.key == team_id].iloc[0]
    rows = mix[mix.team_id == team_id]
    return side_by_side(rows, "app_id", "app_name", {}, int(team.amount_cents),
                        int(team.previous_cents), days)


def team_apps(comparison: Comparison, team_id: int) -> pd.DataFrame:
    """The apps of ``team_id`` in the comparison's period (see :func:`team_apps_of`): the team
    :func:`read_comparison` was asked to show, or any from :func:`compare`."""
    return team_apps_of(comparison.mix, comparison.teams, team_id, comparison.period.days)


def export_table(table: pd.DataFrame, *, what: str, total_cents: int | None = None,
                 previous_total_cents: int | None = None) -> pd.DataFrame:
    """The side-by-side table as shown and exported: exact Decimal dollars, a total row."""
    def exact(cents: int) -> Decimal:
        return Decimal(int(cents)) / 100

    shown = pd.DataFrame({
        what: table.name,
        f"{what} id": table.key.astype(str),
        "Spend (USD)": [exact(c) for c in table.amount_cents],
        "Share (%)": [exact(b) for b in table.share_basis_points],
        "Previous period (USD)": [exact(c) for c in table.previous_cents],
        "Change (USD)": [exact(now - was) for now, was in
                         zip(table.amount_cents, table.previous_cents, strict=True)],
        "Change (%)": [change_percent(int(now), int(was)) for now, was in
                       zip(table.amount_cents, table.previous_cents, strict=True)],
        "Machine-hours": table.machine_hours,
        "Cost per machine-hour (USD)": [cost_per_machine_hour(int(c), h) for c, h in
                                        zip(table.amount_cents, table.machine_hours,
                                            strict=True)],
        "Average machines": table.average_machines,
        "Regions": table.region_mix,
        "VM sizes": table.size_mix,
    })
    if total_cents is None or previous_total_cents is None:
        return shown
    hours = sum(table.machine_hours, Decimal(0))
    total = {
        what: "Total", f"{what} id": "", "Spend (USD)": exact(total_cents),
        "Share (%)": Decimal("100.00") if total_cents else Decimal("0.00"),
        "Previous period (USD)": exact(previous_total_cents),
        "Change (USD)": exact(total_cents - previous_total_cents),
        "Change (%)": change_percent(total_cents, previous_total_cents),
        "Machine-hours": hours,
        "Cost per machine-hour (USD)": cost_per_machine_hour(total_cents, hours),
        "Average machines": sum(table.average_machines, Decimal(0)),
        "Regions": "", "VM sizes": "",
    }
    return pd.concat([shown, pd.DataFrame([total])], ignore_index=True)
