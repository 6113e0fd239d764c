"""Accounts by import: organizations, teams, apps, users, memberships and support engineers.

An account record states how a thing is now; importing it makes the database agree, and
importing it again changes nothing (docs/import-format.md, "Accounts"). What a record can
change, and what it never does:

- an organization (by slug) is renamed by a new ``name`` and closed by a ``closed_at``; it is
  never reopened, nor its ``created_at`` changed;
- a team or app (by name within its organization) is renamed by a record with the new name
  and the old one in ``renamed_from``; an app moves to the team its record names. An app's
  whole history moves with it: spend is kept per app, and an app's team is read at the time
  of reading ("today's team for all time");
- a user (by email) or support engineer is renamed by a new ``name``; an engineer leaves with
  ``removed_at``;
- a membership (organization and email) changes role, ends with ``removed_at``, and begins
  again with a ``joined_at`` at or after its end. A record without an end never undoes one.

Checks run over the whole file first, in the order organizations, users, support engineers,
teams, apps, memberships, against what is stored and what the file declared before (a team
renamed in the file is known by its new name to the apps after it). Nothing is written unless
every record passed; then the writes run in the same order, in the import's transaction.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, NoReturn

from sqlalchemy import Connection

from fleetspend.ingest.checks import Rows
from fleetspend.ingest.records import RECORD_KINDS, Problem, Record
from fleetspend.ingest.writing import Outcome
from fleetspend.sqlfiles import SqlFolder

# kind -> (label in the summary, key fields), in the order they are checked and written
KINDS: dict[str, tuple[str, tuple[str, ...]]] = {
    "organization": ("organizations", ("org",)),
    "user": ("users", ("email",)),
    "support_engineer": ("support engineers", ("email",)),
    "team": ("teams", ("org", "team")),
    "app": ("apps", ("org", "app")),
    "membership": ("memberships", ("org", "email")),
}
SHOWN_CHANGES = 20

_STATEMENTS = SqlFolder(Path(__file__).resolve().parent / "sql")
# a membership is written the same way whether it is new or changed: an upsert
_SAME_WRITE = {"membership_insert": "membership_upsert", "membership_update": "membership_upsert"}


@dataclass
class AccountsResult:
    """What an accounts import did: counts per kind (by label) and each change in words."""

    outcomes: dict[str, Outcome] = field(default_factory=dict)
    changes: list[str] = field(default_factory=list)

    def describe_lines(self) -> list[str]:
        lines = [f"  {label}: {outcome.inserted} inserted, {outcome.changed} updated, "
                 f"{outcome.unchanged} unchanged" for label, outcome in self.outcomes.items()]
        lines += [f"    {change}" for change in self.changes[:SHOWN_CHANGES]]
        if len(self.changes) > SHOWN_CHANGES:
            lines.append(f"    ... and {len(self.changes) - SHOWN_CHANGES} more changes")
        return lines


def _at(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")


@dataclass
class _Stored:
    """The accounts stored that the file's records name, updated as the checks go through the
    file (so a later record sees what an earlier one declared)."""

    orgs: dict[str, dict[str, Any]]
    teams: dict[str, set[str]]  # slug -> team names
    apps: dict[str, dict[str, str]]  # slug -> app name -> team name
    users: dict[str, str]  # email -> name
    engineers: dict[str, dict[str, Any]]  # email -> name, removed_at
    memberships: dict[tuple[str, str], dict[str, Any]]  # (slug, email) -> role, joined_at, ...


def _load(connection: Connection, records: list[Record]) -> _Stored:
    named = defaultdict(set)
    for record in records:
        for name in ("org", "email"):
            if record.values.get(name):
                named[name].add(record.values[name])
    slugs, emails = sorted(named["org"]), sorted(named["email"])
    orgs = {row["slug"]: dict(row) for row in connection.execute(
        _STATEMENTS.sql("stored_organizations"), {"slugs": slugs}).mappings()}
    teams: dict[str, set[str]] = defaultdict(set)
    apps: dict[str, dict[str, str]] = defaultdict(dict)
    for slug, team, app in connection.execute(_STATEMENTS.sql("stored_teams_and_apps"),
                                              {"slugs": slugs}):
        teams[slug].add(team)
        if app is not None:
            apps[slug][app] = team
    users: dict[str, str] = dict(connection.execute(
        _STATEMENTS.sql("stored_users"), {"emails": emails}).all())
    engineers = {row["email"]: dict(row) for row in connection.execute(
        _STATEMENTS.sql("stored_support_engineers"), {"emails": emails}).mappings()}
    memberships = {(row["slug"], row["email"]): dict(row) for row in connection.execute(
        _STATEMENTS.sql("stored_memberships"), {"slugs": slugs}).mappings()}
    return _Stored(orgs, teams, apps, users, engineers, memberships)


def _shown(value: Any) -> str:
    if isinstance(value, datetime):
        return _at(value)
    return "nothing" if value is None else f'"{value}"'


class _Refused(Exception):
    """A record has a problem (already noted): it is neither written nor counted."""


class _Checker:
    """Checks the account records kind by kind; collects the writes and the changes."""

    def __init__(self, stored: _Stored, problems: list[Problem]) -> None:
        self.stored = stored
        self.problems = problems
        self.writes: list[tuple[str, dict[str, Any]]] = []
        self.result = AccountsResult()
        # what records with a bad field declare: a reference to it is not a second problem
        self.unreadable: set[str | None] = set()

    def refuse(self, line: int, name: str, message: str) -> NoReturn:
        self.problems.append(Problem(message, line, name))
        raise _Refused

    def changed(self, changes: list[str]) -> str:
        """'update' with the changes noted, or 'unchanged' when there are none."""
        self.result.changes += changes
        return "update" if changes else "unchanged"

    def check(self, records: list[Record]) -> None:
        by_kind = {kind: Rows(RECORD_KINDS[kind].fields, key)
                   for kind, (_, key) in KINDS.items()}
        for record in records:
            if not record.is_valid:
                if record.kind in ("organization", "user"):
                    self.unreadable |= {record.values.get("org"), record.values.get("email")}
                continue
            rows = by_kind[record.kind]
            rows.add(dict(record.values), record.line, self.problems,
                     f"{record.kind} {' '.join(str(record.values[k]) for k in rows.key)}")
        for kind, (label, _) in KINDS.items():
            outcome = Outcome()
            rows = by_kind[kind]
            check_one: Callable[[int, dict[str, Any]], str] = getattr(self, kind)
            for key in sorted(rows.rows, key=rows.lines.__getitem__):
                try:
                    status = check_one(rows.lines[key], rows.rows[key])
                except _Refused:
                    continue
                if status == "unchanged":
                    outcome.unchanged += 1
                    continue
                if status == "insert":
                    outcome.inserted += 1
                else:
                    outcome.changed += 1
                self.writes.append((f"{kind}_{status}", rows.rows[key]))
            if outcome.inserted + outcome.changed + outcome.unchanged:
                self.result.outcomes[label] = outcome

    # --- references ---

    def require_org(self, line: int, row: dict[str, Any]) -> None:
        if row["org"] not in self.stored.orgs:
            self.refuse_reference(line, "org", row["org"], f'no organization has the slug '
                                  f'"{row["org"]}" (declare it with an organization record)')

    def require_user(self, line: int, row: dict[str, Any]) -> None:
        if row["email"] not in self.stored.users:
            self.refuse_reference(line, "email", row["email"], f'no user has the email '
                                  f'"{row["email"]}" (declare it with a user record)')

    def refuse_reference(self, line: int, name: str, value: str, message: str) -> NoReturn:
        if value in self.unreadable:
            raise _Refused
        self.refuse(line, name, message)

    def ended(self, line: int, name: str, stored: datetime | None, given: datetime | None,
              what: str) -> datetime | None:
        """The end time to keep: a given one, else the stored one (an end is never undone by
        leaving it out); refused when the two differ."""
        if stored is not None and given is not None and stored != given:
            self.refuse(line, name, f"{what} at {_at(stored)}, not at {_at(given)}")
        return given or stored

    def renamed(self, line: int, row: dict[str, Any], names: set[str] | dict[str, str],
                noun: str) -> str:
        """Insert, rename or leave a team or app: 'insert', 'update' or 'unchanged'."""
        new, old, slug = row[noun], row["renamed_from"], row["org"]
        if old is None:
            return "unchanged" if new in names else "insert"
        if old in names and new in names:
            self.refuse(line, "renamed_from", f'organization "{slug}" has {noun}s named both '
                                              f'"{old}" and "{new}"')
        if new in names:
            return "unchanged"  # renamed already
        if old not in names:
            self.refuse(line, "renamed_from",
                        f'organization "{slug}" has no {noun} named "{old}" to rename')
        self.result.changes.append(f'{noun} "{old}" of {slug} renamed "{new}"')
        return "update"

    # --- kind by kind: each returns 'insert', 'update' or 'unchanged', or refuses ---

    def organization(self, line: int, row: dict[str, Any]) -> str:
        slug, stored = row["org"], self.stored.orgs.get(row["org"])
        if stored is None:
            self.stored.orgs[slug] = dict(row)
            return "insert"
        if stored["created_at"] != row["created_at"]:
            self.refuse(line, "created_at", f'organization "{slug}" is stored as created at '
                                            f"{_at(stored['created_at'])}, not "
                                            f"{_at(row['created_at'])}")
        row["closed_at"] = self.ended(line, "closed_at", stored["closed_at"], row["closed_at"],
                                      f'organization "{slug}" was closed')
        changes = []
        if row["name"] != stored["name"]:
            changes.append(f"organization {slug} renamed {_shown(row['name'])}")
        if row["closed_at"] != stored["closed_at"]:
            changes.append(f"organization {slug} closed at {_at(row['closed_at'])}: its people "
                           "lose access then")
        return self.changed(changes)

    def user(self, line: int, row: dict[str, Any]) -> str:
        email = row["email"]
        if email in self.stored.engineers:
            self.refuse(line, "email", f'"{email}" is a support engineer\'s email; one email '
                                       "signs in as one person")
        stored = self.stored.users.get(email)
        self.stored.users[email] = row["name"]
        if stored is None:
            return "insert"
        return self.changed([f"user {email} renamed {_shown(row['name'])}"]
                            if stored != row["name"] else [])

    def support_engineer(self, line: int, row: dict[str, Any]) -> str:
        email = row["email"]
        if email in self.stored.users:
            self.refuse(line, "email", f'"{email}" is a customer\'s email; one email signs in '
                                       "as one person")
        stored = self.stored.engineers.get(email)
        self.stored.engineers[email] = dict(row)
        if stored is None:
            return "insert"
        row["removed_at"] = self.ended(line, "removed_at", stored["removed_at"],
                                       row["removed_at"], f"support engineer {email} left")
        changes = []
        if row["name"] != stored["name"]:
            changes.append(f"support engineer {email} renamed {_shown(row['name'])}")
        if row["removed_at"] != stored["removed_at"]:
            changes.append(f"support engineer {email} removed at {_at(row['removed_at'])}")
        return self.changed(changes)

    def team(self, line: int, row: dict[str, Any]) -> str:
        self.require_org(line, row)
        names = self.stored.teams[row["org"]]
        status = self.renamed(line, row, names, "team")
        names.discard(row["renamed_from"])
        names.add(row["team"])
        apps = self.stored.apps[row["org"]]
        for app, team in apps.items():
            if team == row["renamed_from"]:
                apps[app] = row["team"]
        return status

    def app(self, line: int, row: dict[str, Any]) -> str:
        self.require_org(line, row)
        slug = row["org"]
        if row["team"] not in self.stored.teams[slug]:
            self.refuse(line, "team", f'organization "{slug}" has no team named '
                                      f'"{row["team"]}" (declare it with a team record)')
        apps = self.stored.apps[slug]
        status = self.renamed(line, row, apps, "app")
        current = row["renamed_from"] if row["renamed_from"] in apps else row["app"]
        row["current_name"] = current  # the name the write finds the app by
        team_before = apps.pop(current, None)
        apps[row["app"]] = row["team"]
        if team_before is not None and team_before != row["team"]:
            self.result.changes.append(
                f'app "{row["app"]}" of {slug} moved from team "{team_before}" to '
                f'"{row["team"]}", with all its history')
            return "update"
        return status

    def membership(self, line: int, row: dict[str, Any]) -> str:
        try:
            self.require_org(line, row)
        finally:  # an unknown user is a problem of its own
            self.require_user(line, row)
        key = (row["org"], row["email"])
        who = f"{row['email']} in {row['org']}"
        stored = self.stored.memberships.get(key)
        if stored is None:
            self.stored.memberships[key] = dict(row)
            return "insert"
        if row["joined_at"] == stored["joined_at"]:
            row["removed_at"] = self.ended(line, "removed_at", stored["removed_at"],
                                           row["removed_at"], f"{who} was removed")
            changes = []
            if row["role"] != stored["role"]:
                changes.append(f"{who} is now {row['role']}")
            if row["removed_at"] != stored["removed_at"]:
                changes.append(f"{who} removed at {_at(row['removed_at'])}: no access from then")
        elif stored["removed_at"] is not None and row["joined_at"] >= stored["removed_at"]:
            changes = [f"{who} joined again at {_at(row['joined_at'])} as {row['role']}"]
        elif row["removed_at"] is not None and row["removed_at"] <= stored["joined_at"]:
            return "unchanged"  # an earlier membership, ended before the one stored began
        else:
            self.refuse(line, "joined_at",
                        f"{who} is stored as a membership begun at {_at(stored['joined_at'])}; "
                        "a membership begins again only at or after it was removed")
        self.stored.memberships[key] = dict(row)
        return self.changed(changes)


def import_accounts(connection: Connection, records: list[Record],
                    problems: list[Problem]) -> AccountsResult:
    """Check the account ``records`` and, if nothing is wrong with any (problems go into
    ``problems``; then nothing is written), write them in the caller's transaction."""
    if not records:
        return AccountsResult()
    checker = _Checker(_load(connection, records), problems)
    checker.check(records)
    if problems:
        return AccountsResult()
    for statement, row in checker.writes:
        connection.execute(_STATEMENTS.sql(_SAME_WRITE.get(statement, statement)), row)
    return checker.result
