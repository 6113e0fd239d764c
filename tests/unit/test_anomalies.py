"""The overview's anomaly search on made-up series: what it flags, when, and what it says."""

from __future__ import annotations

from datetime import date, timedelta

import pandas as pd

from fleetspend import anomaly_search

START = date(2026, 9, 1)
DAYS = 60


def _series(rows: list[tuple[int, str, str, dict[int, int]]]) -> pd.DataFrame:
    """Rows of anomaly_search.series_in_range: (app_id, app name, region, {day offset: cents})."""
    cities = {"iad": "Ashburn, VA", "fra": "Frankfurt", "lhr": "London"}
    return pd.DataFrame([{
        "app_id": app_id, "app_name": name, "region_code": region, "city": cities[region],
        "day_offsets": sorted(days), "day_cents": [days[d] for d in sorted(days)],
    } for app_id, name, region, days in rows])


def _steady(cents: int, days: range = range(DAYS)) -> dict[int, int]:
    return dict.fromkeys(days, cents)


def test_a_steady_fleet_has_no_anomalies():
    series = _series([(1, "api", "iad", _steady(10_000)), (2, "web", "fra", _steady(5_000))])
    assert anomaly_search.find_anomalies(series, START, since=START + timedelta(days=30)) == []


def test_an_app_spending_several_times_its_usual_is_a_spike():
    runaway = _steady(2_000) | {40: 20_000, 41: 22_000, 42: 18_000}
    series = _series([(1, "api", "iad", _steady(10_000)), (2, "worker", "iad", runaway)])
    found = anomaly_search.find_anomalies(series, START, since=START + timedelta(days=30))
    spikes = [a for a in found if a.kind == "spike"]
    assert [(a.subject, a.start_date, a.end_date) for a in spikes] == [
        ("worker", START + timedelta(days=40), START + timedelta(days=42))]
    assert spikes[0].size_cents == 54_000  # what it spent beyond its usual 2,000 a day
    assert "worker spent $600.00" in spikes[0].explanation


def test_an_app_moving_region_is_a_migration():
    moved = 35
    series = _series([
        (1, "api", "iad", _steady(10_000)),
        (3, "cache", "lhr", _steady(4_000, range(moved))),
        (3, "cache", "fra", _steady(4_000, range(moved, DAYS))),
    ])
    found = anomaly_search.find_anomalies(series, START, since=START + timedelta(days=30))
    assert [(a.kind, a.subject, a.region_code, a.start_date) for a in found] == [
        ("migration", "cache", "fra", START + timedelta(days=moved))]
    assert "moved from London (lhr) to Frankfurt (fra)" in found[0].explanation


def test_anomalies_before_the_window_shown_are_left_out():
    runaway = _steady(2_000) | {20: 20_000}
    series = _series([(1, "api", "iad", _steady(10_000)), (2, "worker", "iad", runaway)])
    assert anomaly_search.find_anomalies(series, START, since=START + timedelta(days=30)) == []
    assert anomaly_search.find_anomalies(series, START, since=START)  # found when in the window


def test_days_before_the_first_spend_do_not_count_as_a_quiet_baseline():
    # spend begins on day 10: the nine empty days before it are not "nothing", so the first
    # days of spend are no spike
    series = _series([(1, "api", "iad", _steady(10_000, range(10, DAYS)))])
    assert anomaly_search.find_anomalies(series, START, since=START) == []
    matrix = anomaly_search.daily_matrix(series, START)
    assert matrix.index[0] == START + timedelta(days=10) and len(matrix) == DAYS - 10
