"""An organization for the alert tests: two teams, an app each, an admin and a member, and
machines whose usage arrives through import files, a day at a time."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from sqlalchemy import Engine, text

from fleetspend import auth
from tests.db import usage_files

PRESET, MEMORY_MB = "performance-1x", 2048
# every machine is declared and started then, whichever days its usage covers
BORN = datetime(2026, 10, 1, tzinfo=UTC)


@dataclass(frozen=True)
class Tenant:
    slug: str
    org_id: int
    team_ids: dict[str, int]
    app_ids: dict[str, int]
    admin: auth.Caller
    member: auth.Caller


def make_tenant(engine: Engine, slug: str = "acme") -> Tenant:
    """``slug`` with teams core (app web) and data (app etl), admin@ and dev@ people."""
    org_id = usage_files.make_tenant(engine, slug, app="web")
    with engine.begin() as connection:
        data = connection.execute(text(
            "insert into teams (org_id, name) values (:org, 'data') returning team_id"),
            {"org": org_id}).scalar_one()
        connection.execute(text(
            "insert into apps (org_id, team_id, name) values (:org, :team, 'etl')"),
            {"org": org_id, "team": data})
        teams = dict(connection.execute(text(
            "select name, team_id from teams where org_id = :org"), {"org": org_id}).all())
        apps = dict(connection.execute(text(
            "select name, app_id from apps where org_id = :org"), {"org": org_id}).all())
        people = {}
        for role, local in (("admin", "admin"), ("member", "dev")):
            email = f"{local}@{slug}.example"
            user_id = connection.execute(text(
                "insert into users (email, name) values (:email, :name) returning user_id"),
                {"email": email, "name": f"{role.title()} of {slug}"}).scalar_one()
            connection.execute(text(
                "insert into memberships (org_id, user_id, role) values (:org, :user, :role)"),
                {"org": org_id, "user": user_id, "role": role})
            people[role] = auth.Caller("user", user_id, f"{role.title()} of {slug}", email)
    return Tenant(slug, org_id, teams, apps, people["admin"], people["member"])


def machine_id(app: str, number: int = 0) -> str:
    return hashlib.sha256(app.encode()).hexdigest()[:10] + f"{number:04x}"


def day_records(tenant: Tenant, days: list[date], machines: dict[str, int]) -> list[dict]:
    """Each app in ``machines`` runs that many performance-1x machines all day on ``days``:
    the machines declared and started, and their hours metered."""
    records = []
    for app, count in machines.items():
        for number in range(count):
            machine = machine_id(app, number)
            records += [usage_files.machine(tenant.slug, app, machine, BORN, preset=PRESET,
                                            memory_mb=MEMORY_MB),
                        usage_files.event(tenant.slug, machine, BORN, "start")]
            for day in days:
                start = datetime.combine(day, datetime.min.time(), tzinfo=UTC)
                records += [usage_files.usage(tenant.slug, machine,
                                              start + timedelta(hours=hour),
                                              runtime_seconds=3600, preset=PRESET,
                                              memory_mb=MEMORY_MB)
                            for hour in range(24)]
    return records


def import_days(engine: Engine, folder: Path, tenant: Tenant, days: list[date],
                machines: dict[str, int]) -> None:
    """:func:`day_records` imported through one import file."""
    usage_files.ingest(engine, folder, day_records(tenant, days, machines))


def days_of(first: date, count: int) -> list[date]:
    return [first + timedelta(days=offset) for offset in range(count)]
