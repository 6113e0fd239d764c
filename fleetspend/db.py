"""Database URLs and engines: the primary for writes, replicas for reads, the embedded default.

Configuration comes from the environment:

- ``DATABASE_URL``: the primary, a standard ``postgresql://`` URL;
- ``REPLICA_URLS``: comma-separated read replicas; empty means reads go to the primary.

With neither set, the embedded default server (see :mod:`fleetspend.embedded`) is started on
first use and stopped when the process exits, unless it was already running before.
"""

from __future__ import annotations

import atexit
import os
from functools import cache

from sqlalchemy import Engine, create_engine
from sqlalchemy.engine import make_url

from fleetspend import embedded

APP_DATABASE = "fleetspend"


def sqlalchemy_url(url: str) -> str:
    """Turn a standard postgresql:// URL into one SQLAlchemy drives with psycopg 3."""
    parsed = make_url(url)
    if parsed.drivername not in ("postgresql", "postgres", "postgresql+psycopg"):
        raise ValueError(f"expected a postgresql:// URL, got {parsed.drivername}://")
    return parsed.set(drivername="postgresql+psycopg").render_as_string(hide_password=False)


@cache
def _embedded_primary_url() -> str:
    server = embedded.default_server()
    if not server.is_running():
        server.start()
        atexit.register(server.stop)
    server.create_database(APP_DATABASE)
    return server.url(APP_DATABASE)


def primary_url() -> str:
    """The primary's URL: DATABASE_URL, or the embedded default server started on demand."""
    return os.environ.get("DATABASE_URL") or _embedded_primary_url()


def replica_urls() -> list[str]:
    """The read replicas' URLs; the primary alone when REPLICA_URLS is empty."""
    configured = [u.strip() for u in os.environ.get("REPLICA_URLS", "").split(",") if u.strip()]
    return configured or [primary_url()]


def make_engine(url: str, **kwargs) -> Engine:
    """An engine for one server, with sensible pool settings."""
    pooling = {} if "poolclass" in kwargs else {"pool_size": 5, "max_overflow": 5}
    options = {"pool_pre_ping": True, **pooling, **kwargs}
    return create_engine(sqlalchemy_url(url), **options)


@cache
def primary_engine() -> Engine:
    """The engine for writes (ingest, seed, billing runs, grants, audit events)."""
    return make_engine(primary_url())


@cache
def read_engine() -> Engine:
    """The engine pages read through (the first replica until the read path's pool lands)."""
    return make_engine(replica_urls()[0])
