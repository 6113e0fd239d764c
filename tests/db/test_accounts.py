"""Accounts by import: organizations, teams, apps, users, memberships and support engineers
through `fleetspend ingest`, with the guarantees of a usage import (real PostgreSQL).

The worked example of docs/connect-a-platform.md is the data: its first accounts file, its
week of usage and its later accounts file (a removal, an app moved, a team renamed).
"""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from pathlib import Path

import pandas as pd
import pytest
from sqlalchemy import Engine, text

from fleetspend import money
from fleetspend.ingest import IngestError, ingest_file
from fleetspend.reads import teams, usage_explorer
from tests.db.usage_files import machine, usage

EXAMPLE = Path(__file__).parent.parent.parent / "docs" / "examples" / "connect"
FIRST = EXAMPLE / "2026-11-01-accounts.jsonl"
WEEK = EXAMPLE / "2026-11-08-usage.csv"
LATER = EXAMPLE / "2026-11-20-accounts.jsonl"
ACCOUNT_TABLES = ("organizations", "teams", "apps", "users", "memberships", "staff_users")


def write(folder: Path, name: str, records: list[dict]) -> Path:
    path = folder / name
    path.write_text("".join(json.dumps(record) + "\n" for record in records))
    return path


def accounts(engine: Engine) -> dict[str, list[tuple]]:
    """Every row of the account tables but their created_at stamps of import time."""
    statements = {
        "organizations": "select slug, name, created_at, closed_at from organizations",
        "teams": "select organizations.slug, teams.name from teams join organizations "
                 "using (org_id)",
        "apps": "select apps.name, teams.name from apps join teams using (org_id, team_id)",
        "users": "select email, name from users",
        "memberships": "select organizations.slug, users.email, role, memberships.created_at, "
                       "removed_at from memberships join organizations using (org_id) "
                       "join users using (user_id)",
        "staff_users": "select email, name, removed_at from staff_users",
    }
    with engine.connect() as connection:
        return {table: sorted(map(tuple, connection.execute(text(statement))))
                for table, statement in statements.items()}


def test_an_accounts_file_declares_an_organization_with_its_teams_apps_and_people(engine):
    result = ingest_file(engine, FIRST)
    assert "organizations: 1 inserted" in result.describe()
    stored = accounts(engine)
    assert stored["organizations"] == [
        ("lumen-labs", "Lumen Labs", datetime(2026, 10, 15, 9, tzinfo=UTC), None)]
    assert stored["apps"] == [("api", "Platform"), ("jobs", "Platform"), ("web", "Growth")]
    assert [row[:3] for row in stored["memberships"]] == [
        ("lumen-labs", "ada@lumen.example", "admin"),
        ("lumen-labs", "ben@lumen.example", "member")]
    assert stored["staff_users"] == [("sam@platform.example", "Sam Reyes", None)]

    again = ingest_file(engine, FIRST)
    assert accounts(engine) == stored
    assert "0 inserted, 0 updated" in again.describe()
    assert " inserted" not in again.describe().replace("0 inserted", "")


def test_a_later_file_removes_a_member_moves_an_app_and_renames_a_team_each_said_once(engine):
    ingest_file(engine, FIRST)
    described = ingest_file(engine, LATER).describe()
    assert 'team "Platform" of lumen-labs renamed "Core Platform"' in described
    assert 'app "jobs" of lumen-labs moved from team "Core Platform" to "Growth"' in described
    assert "ben@lumen.example in lumen-labs removed at 2026-11-20T12:00:00Z" in described
    stored = accounts(engine)
    assert stored["apps"] == [("api", "Core Platform"), ("jobs", "Growth"), ("web", "Growth")]
    assert stored["memberships"][1][4] == datetime(2026, 11, 20, 12, tzinfo=UTC)

    again = ingest_file(engine, LATER).describe()
    assert accounts(engine) == stored
    assert "renamed" not in again and "moved" not in again and "removed" not in again


def test_renaming_closing_rejoining_and_leaving(engine, tmp_path):
    ingest_file(engine, FIRST)
    closed = "2026-11-30T00:00:00Z"
    described = ingest_file(engine, write(tmp_path, "changes.jsonl", [
        {"record": "organization", "org": "lumen-labs", "name": "Lumen Labs GmbH",
         "created_at": "2026-10-15T09:00:00Z", "closed_at": closed},
        {"record": "user", "email": "Ada@Lumen.example", "name": "Ada Okafor-Reyes"},
        {"record": "app", "org": "lumen-labs", "app": "edge", "renamed_from": "web",
         "team": "Growth"},
        {"record": "membership", "org": "lumen-labs", "email": "ada@lumen.example",
         "role": "member", "joined_at": "2026-10-15T09:00:00Z"},
        {"record": "support_engineer", "email": "sam@platform.example", "name": "Sam Reyes",
         "removed_at": "2026-11-25T00:00:00Z"},
    ])).describe()
    stored = accounts(engine)
    assert stored["organizations"][0][1:] == (
        "Lumen Labs GmbH", datetime(2026, 10, 15, 9, tzinfo=UTC),
        datetime(2026, 11, 30, tzinfo=UTC))
    assert ("ada@lumen.example", "Ada Okafor-Reyes") in stored["users"]
    assert ("edge", "Growth") in stored["apps"] and ("web", "Growth") not in stored["apps"]
    assert stored["memberships"][0][2] == "member"
    assert stored["staff_users"][0][2] == datetime(2026, 11, 25, tzinfo=UTC)
    for change in ('organization lumen-labs renamed "Lumen Labs GmbH"',
                   f"organization lumen-labs closed at {closed}", 'app "web" of lumen-labs '
                   'renamed "edge"', "ada@lumen.example in lumen-labs is now member",
                   "support engineer sam@platform.example removed at"):
        assert change in described

    # an end left out is never undone; a membership begins again only after its end
    ingest_file(engine, FIRST)
    assert accounts(engine)["organizations"][0][3] == datetime(2026, 11, 30, tzinfo=UTC)
    ingest_file(engine, LATER)
    rejoined = ingest_file(engine, write(tmp_path, "rejoin.jsonl", [
        {"record": "membership", "org": "lumen-labs", "email": "ben@lumen.example",
         "role": "admin", "joined_at": "2026-11-21T00:00:00Z"}])).describe()
    assert "ben@lumen.example in lumen-labs joined again at 2026-11-21T00:00:00Z" in rejoined
    assert ("lumen-labs", "ben@lumen.example", "admin", datetime(2026, 11, 21, tzinfo=UTC),
            None) in accounts(engine)["memberships"]


def test_every_problem_is_named_by_line_and_field_and_nothing_is_written(engine, tmp_path):
    ingest_file(engine, FIRST)
    before = accounts(engine)
    bad = write(tmp_path, "bad.jsonl", [
        {"record": "organization", "org": "Lumen_Labs", "name": "x",
         "created_at": "2026-10-15T09:00:00Z"},
        {"record": "organization", "org": "lumen-labs", "name": "Lumen Labs",
         "created_at": "2026-10-16T09:00:00Z"},
        {"record": "app", "org": "lumen-labs", "app": "new", "team": "Nowhere"},
        {"record": "team", "org": "lumen-labs", "team": "Ops", "renamed_from": "Missing"},
        {"record": "team", "org": "lumen-labs", "team": "Growth", "renamed_from": "Platform"},
        {"record": "membership", "org": "lumen-labs", "email": "zed@lumen.example",
         "role": "owner", "joined_at": "2026-11-01T00:00:00Z"},
        {"record": "membership", "org": "lumen-labs", "email": "ben@lumen.example",
         "role": "member", "joined_at": "2026-11-02T00:00:00Z"},
        {"record": "user", "email": "sam@platform.example", "name": "Sam"},
        {"record": "team", "org": "nobody", "team": "Ops"},
        {"record": "membership", "org": "lumen-labs", "email": "ada@lumen.example",
         "role": "admin", "joined_at": "2026-10-15T09:00:00Z",
         "removed_at": "2026-10-01T00:00:00Z"},
    ])
    with pytest.raises(IngestError) as raised:
        ingest_file(engine, bad)
    found = {(problem.line, problem.field) for problem in raised.value.problems}
    assert found == {(1, "org"), (2, "created_at"), (3, "team"), (4, "renamed_from"),
                     (5, "renamed_from"), (6, "role"), (7, "joined_at"), (8, "email"),
                     (9, "org"), (10, "removed_at")}, str(raised.value)
    assert 'organization "nobody"' not in str(raised.value)
    assert 'no organization has the slug "nobody"' in str(raised.value)
    assert accounts(engine) == before


def test_accounts_and_their_usage_may_come_in_one_file(engine, tmp_path):
    hour = datetime(2026, 11, 2, 0, tzinfo=UTC)
    one_file = write(tmp_path, "all.jsonl", [
        machine("kite", "site", "00000000000001", hour),
        {"record": "machine_event", "org": "kite", "machine_id": "00000000000001",
         "event_at": "2026-11-02T00:00:00Z", "kind": "start"},
        usage("kite", "00000000000001", hour, runtime_seconds=3600),
        {"record": "organization", "org": "kite", "name": "Kite",
         "created_at": "2026-11-01T00:00:00Z"},
        {"record": "team", "org": "kite", "team": "Web"},
        {"record": "app", "org": "kite", "app": "site", "team": "Web"},
    ])
    described = ingest_file(engine, one_file).describe()
    assert "organizations: 1 inserted" in described
    assert "machine-hours: 1 inserted" in described
    again = ingest_file(engine, one_file).describe()
    assert "organizations: 0 inserted, 0 updated, 1 unchanged" in again
    assert "machine-hours: 0 inserted, 0 corrected, 1 unchanged" in again


def test_a_file_whose_usage_is_wrong_writes_none_of_its_accounts_either(engine, tmp_path):
    hour = datetime(2026, 11, 2, 0, tzinfo=UTC)
    wrong = write(tmp_path, "wrong.jsonl", [
        {"record": "organization", "org": "kite", "name": "Kite",
         "created_at": "2026-11-01T00:00:00Z"},
        {"record": "team", "org": "kite", "team": "Web"},
        {"record": "app", "org": "kite", "app": "site", "team": "Web"},
        machine("kite", "site", "00000000000001", hour),
        usage("kite", "00000000000001", hour, runtime_seconds=3600),  # never started
    ])
    before = accounts(engine)
    with pytest.raises(IngestError) as raised:
        ingest_file(engine, wrong)
    assert [(problem.line, problem.field) for problem in raised.value.problems] == [
        (5, "runtime_seconds")]
    assert accounts(engine) == before


def test_usage_from_the_hour_an_organization_closed_on_is_refused(engine, tmp_path):
    ingest_file(engine, FIRST)
    ingest_file(engine, write(tmp_path, "close.jsonl", [
        {"record": "organization", "org": "lumen-labs", "name": "Lumen Labs",
         "created_at": "2026-10-15T09:00:00Z", "closed_at": "2026-11-03T00:00:00Z"}]))
    with pytest.raises(IngestError) as raised:
        ingest_file(engine, WEEK)
    problems = raised.value.problems
    assert problems and {problem.field for problem in problems} == {"hour_at"}
    assert 'is after organization "lumen-labs" was closed at 2026-11-03' in str(raised.value)
    # 4 machines x the 120 hours from the closing on
    assert len(problems) == 4 * 120


# --- an app's move between teams: today's team for all time -----------------------------------

WEEK_PERIOD = teams.Period(date(2026, 11, 1), date(2026, 11, 8))


def team_views(engine: Engine) -> tuple[dict[str, int], dict[str, int], pd.DataFrame]:
    """The week's spend by team as the team comparison computes it and as the explorer's
    table (and its CSV) groups it, in cents, and the comparison's export table."""
    with engine.connect() as connection:
        org_id = connection.execute(text(
            "select org_id from organizations where slug = 'lumen-labs'")).scalar_one()
        comparison = teams.read_comparison(connection, org_id, WEEK_PERIOD,
                                           teams.read_teams(connection, org_id))
        query = usage_explorer.ExplorerQuery("spend", "team", "none", "day",
                                             WEEK_PERIOD.start_date, WEEK_PERIOD.end_date)
        explorer = usage_explorer.build_series(
            usage_explorer.read_cells(connection, org_id, query, None)).table
    compared = dict(zip(comparison.teams.name, comparison.teams.amount_cents, strict=True))
    explored = dict(zip(explorer.series_label.astype(str), explorer.hundredths, strict=True))
    exported = teams.export_table(comparison.teams, what="Team")
    return compared, explored, exported


def test_an_app_moved_to_another_team_takes_its_whole_history_with_it(engine):
    ingest_file(engine, FIRST)
    ingest_file(engine, WEEK)
    before, explored_before, _ = team_views(engine)
    with engine.connect() as connection:
        jobs_cents = money.to_cents(connection.execute(text(
            "select sum(amount_precise) from rollup_usage_daily join apps using (org_id, app_id)"
            " where apps.name = 'jobs'")).scalar_one())
    assert jobs_cents > 0 and set(before) == {"Platform", "Growth"}

    ingest_file(engine, LATER)  # jobs moves to Growth; Platform is renamed Core Platform
    after, explored_after, exported = team_views(engine)
    assert set(after) == {"Core Platform", "Growth"}
    assert sum(after.values()) == sum(before.values())
    # the week before the move counts under the app's team of today, in every view
    assert abs(after["Growth"] - (before["Growth"] + jobs_cents)) <= 1
    assert abs(after["Core Platform"] - (before["Platform"] - jobs_cents)) <= 1
    assert explored_before.keys() == before.keys()
    assert explored_after.keys() == after.keys()
    for team, cents in after.items():
        assert abs(explored_after[team] - cents) <= 1
    assert set(exported.Team) == {"Core Platform", "Growth"}
