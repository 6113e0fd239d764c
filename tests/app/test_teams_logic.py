"""The team comparison's pure logic: exact splits, mixes, movers and the reasons they give."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pandas as pd
import pytest

from fleetspend.reads import teams

DAYS = 10
PERIOD = teams.Period(date(2026, 10, 11), date(2026, 10, 21))


def _row(is_current: bool, region: str, preset: str, machines: int, dollars: str,
         team_id: int = 1, app_id: int = 11, hours_a_day: int = 24) -> dict:
    """One mix row: ``machines`` running ``hours_a_day`` every day of the period."""
    return {"is_current": is_current, "team_id": team_id, "team_name": f"Team {team_id}",
            "app_id": app_id, "app_name": f"app-{app_id}", "region_code": region,
            "preset_key": preset, "amount_precise": Decimal(dollars),
            "machine_seconds": Decimal(machines * DAYS * hours_a_day * 3600)}


def _mix(*rows: dict) -> pd.DataFrame:
    return pd.DataFrame(list(rows), columns=teams.MIX_COLUMNS)


def _reason(*rows: dict) -> str:
    current, previous = teams.periods(_mix(*rows))
    return teams.explain(current, previous, DAYS)


def test_machines_that_left_one_region_for_another_moved():
    assert _reason(_row(False, "ord", "shared-cpu-1x", 20, "100"),
                   _row(True, "iad", "shared-cpu-1x", 20, "100")) == (
        "moved from ord to iad (+20 machines)")


def test_machines_that_changed_size_at_the_same_count_were_resized():
    assert _reason(_row(False, "fra", "shared-cpu-1x", 12, "50"),
                   _row(True, "fra", "performance-2x", 12, "400")) == (
        "resized from shared-cpu-1x to performance-2x (+12 machines)")


def test_new_machines_in_a_region_are_counted():
    assert _reason(_row(False, "fra", "shared-cpu-1x", 10, "50"),
                   _row(True, "fra", "shared-cpu-1x", 48, "240"),
                   _row(True, "iad", "shared-cpu-1x", 3, "15"),
                   _row(False, "iad", "shared-cpu-1x", 3, "15")) == "+38 machines in fra"
    assert _reason(_row(False, "fra", "shared-cpu-1x", 10, "50"),
                   _row(True, "fra", "shared-cpu-1x", 4, "20")) == "-6 machines in fra"


def test_the_same_machines_running_longer_are_hours():
    # half a machine more on average is not a machine; 12 hours a day more is the reason
    reason = _reason(_row(False, "fra", "shared-cpu-1x", 1, "50", hours_a_day=8),
                     _row(True, "fra", "shared-cpu-1x", 1, "150", hours_a_day=20))
    assert reason == "+120 machine-hours at about the same machine count (running longer)"
    # round the clock instead of a third of the day: that is more machines running
    assert _reason(_row(False, "fra", "shared-cpu-1x", 6, "50", hours_a_day=8),
                   _row(True, "fra", "shared-cpu-1x", 6, "150", hours_a_day=24)) == (
        "+4 machines in fra")


def test_spend_without_machines_is_named_by_region():
    assert _reason(_row(False, "fra", "no-size", 0, "10.00"),
                   _row(True, "fra", "no-size", 0, "12.34")) == (
        "spend in fra +$2.34 (not machines)")


def test_teams_add_up_to_the_rounded_total_and_apps_to_their_team():
    # three thirds of a cent each: rounded separately they would not add up
    mix = _mix(*(_row(True, "fra", "shared-cpu-1x", 1, "0.003333", team_id=team, app_id=app)
                 for team, app in ((1, 11), (1, 12), (2, 21))),
               _row(False, "fra", "shared-cpu-1x", 1, "0.01", team_id=2, app_id=21))
    comparison = teams.compare(mix, {1: "Team 1", 2: "Team 2", 3: "Idle"}, PERIOD)
    assert comparison.total_cents == 1 and comparison.previous_total_cents == 1
    assert comparison.teams.amount_cents.sum() == 1
    assert comparison.teams.share_basis_points.sum() == 10_000
    assert set(comparison.teams.name) == {"Team 1", "Team 2", "Idle"}  # idle teams are shown
    for team_id in (1, 2):
        team = comparison.teams[comparison.teams.key == team_id].iloc[0]
        apps = teams.team_apps(comparison, team_id)
        assert apps.amount_cents.sum() == team.amount_cents
        assert apps.previous_cents.sum() == team.previous_cents
    table = teams.export_table(comparison.teams, what="Team", total_cents=1,
                               previous_total_cents=1)
    assert sum(table["Spend (USD)"].iloc[:-1]) == table["Spend (USD)"].iloc[-1] == Decimal(
        "0.01")


def test_movers_are_the_biggest_changes_with_their_reason():
    mix = _mix(_row(False, "ord", "shared-cpu-1x", 20, "100", team_id=1, app_id=11),
               _row(True, "iad", "shared-cpu-1x", 20, "300", team_id=1, app_id=11),
               _row(False, "fra", "shared-cpu-1x", 5, "80", team_id=2, app_id=21),
               _row(True, "fra", "shared-cpu-1x", 5, "70", team_id=2, app_id=21))
    movers = teams.compare(mix, {}, PERIOD).movers
    team_movers = [m for m in movers if m.kind == "team"]
    assert [(m.key, m.change_cents) for m in team_movers] == [(1, 20000), (2, -1000)]
    assert team_movers[0].reason == "moved from ord to iad (+20 machines)"
    assert [(m.key, m.team_id) for m in movers if m.kind == "app"] == [(11, 1), (21, 2)]


def test_mix_names_the_biggest_regions_and_folds_the_rest():
    mix = _mix(*(_row(True, region, "shared-cpu-1x", 1, dollars) for region, dollars in
                 (("fra", "50"), ("iad", "30"), ("ord", "10"), ("syd", "6"), ("gru", "4"))))
    assert teams.describe_mix(mix, "region_code") == "fra 50% · iad 30% · ord 10% · other 10%"


def test_periods_are_checked():
    with pytest.raises(ValueError, match="empty period"):
        teams.Period(date(2026, 10, 2), date(2026, 10, 2))
    with pytest.raises(ValueError, match="at most 92 days"):
        teams.Period(date(2026, 1, 1), date(2026, 6, 1))
    assert PERIOD.previous_start_date == date(2026, 10, 1)
    assert teams.cost_per_machine_hour(100, Decimal(0)) is None
    assert teams.cost_per_machine_hour(1000, Decimal(3)) == Decimal("3.3333")
