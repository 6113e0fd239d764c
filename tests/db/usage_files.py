"""Writing import files for tests: records as the platform would send them, one file a call."""

from __future__ import annotations

import itertools
import json
from datetime import datetime, timedelta
from pathlib import Path

from sqlalchemy import Engine, text

from fleetspend.ingest import IngestResult, ingest_file

_files = itertools.count(1)


def make_tenant(engine: Engine, slug: str = "acme", app: str = "web") -> int:
    with engine.begin() as connection:
        org_id = connection.execute(text(
            "insert into organizations (slug, name) values (:slug, :slug) returning org_id"
        ), {"slug": slug}).scalar_one()
        team_id = connection.execute(text(
            "insert into teams (org_id, name) values (:org_id, 'core') returning team_id"
        ), {"org_id": org_id}).scalar_one()
        connection.execute(text(
            "insert into apps (org_id, team_id, name) values (:org_id, :team_id, :app)"
        ), {"org_id": org_id, "team_id": team_id, "app": app})
    return org_id


def _at(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")


def machine(org: str, app: str, machine_id: str, created_at: datetime, *,
            region: str = "iad", preset: str = "shared-cpu-1x", memory_mb: int = 256,
            rootfs_gb: int = 1) -> dict:
    return {"record": "machine", "org": org, "app": app, "machine_id": machine_id,
            "region": region, "preset": preset, "memory_mb": memory_mb, "rootfs_gb": rootfs_gb,
            "created_at": _at(created_at)}


def event(org: str, machine_id: str, at: datetime, kind: str, *, preset: str | None = None,
          memory_mb: int | None = None) -> dict:
    record = {"record": "machine_event", "org": org, "machine_id": machine_id,
              "event_at": _at(at), "kind": kind}
    if preset is not None:
        record |= {"preset": preset, "memory_mb": memory_mb}
    return record


def usage(org: str, machine_id: str, hour_at: datetime, *, runtime_seconds: int = 0,
          preset: str = "shared-cpu-1x", memory_mb: int = 256,
          stopped_rootfs_gb_seconds: str = "0", egress_internet_gb: str = "0",
          egress_private_gb: str = "0", dedicated_ipv4_seconds: int = 0) -> dict:
    return {"record": "machine_usage", "org": org, "machine_id": machine_id,
            "hour_at": _at(hour_at), "preset": preset, "memory_mb": memory_mb,
            "runtime_seconds": runtime_seconds,
            "stopped_rootfs_gb_seconds": stopped_rootfs_gb_seconds,
            "egress_internet_gb": egress_internet_gb, "egress_private_gb": egress_private_gb,
            "dedicated_ipv4_seconds": dedicated_ipv4_seconds}


def volume(org: str, app: str, volume_id: str, created_at: datetime, *, region: str = "iad",
           size_gb: int = 1) -> dict:
    return {"record": "volume", "org": org, "app": app, "volume_id": volume_id,
            "region": region, "size_gb": size_gb, "created_at": _at(created_at)}


def volume_hours(org: str, volume_id: str, first_hour: datetime, hours: int,
                 gb_hours: str = "1") -> list[dict]:
    return [{"record": "volume_usage", "org": org, "volume_id": volume_id,
             "hour_at": _at(first_hour + timedelta(hours=hour)), "gb_hours": gb_hours}
            for hour in range(hours)]


def write(folder: Path, records: list[dict]) -> Path:
    """The records as a new JSON Lines file in ``folder``."""
    path = folder / f"usage-{next(_files):04d}.jsonl"
    path.write_text("".join(json.dumps(record) + "\n" for record in records))
    return path


def ingest(engine: Engine, folder: Path, records: list[dict]) -> IngestResult:
    """Import the records through `fleetspend ingest`'s door: a file."""
    return ingest_file(engine, write(folder, records))
