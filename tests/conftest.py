"""Fixtures for a real PostgreSQL: TEST_DATABASE_URL if set, else an embedded server.

Databases follow pytest-postgresql's pattern: a template is migrated (and, for tests that
need data, seeded at the small scale) once per session, then cloned for each test with
CREATE DATABASE ... TEMPLATE, which is fast and leaves every test its own database.
"""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Iterator

import psycopg
import pytest
from psycopg import sql
from sqlalchemy import Engine
from sqlalchemy.engine import make_url
from sqlalchemy.pool import NullPool

from fleetspend import db, embedded, schema

SEED_FOR_TESTS = 7


def _with_database(url: str, name: str) -> str:
    return make_url(url).set(database=name).render_as_string(hide_password=False)


def _admin(url: str) -> psycopg.Connection:
    return psycopg.connect(make_url(url).set(drivername="postgresql").render_as_string(
        hide_password=False), autocommit=True)


def create_database(server_url: str, name: str, template: str | None = None) -> str:
    """Create database ``name`` (optionally as a copy of ``template``); returns its URL."""
    with _admin(server_url) as connection:
        statement = sql.SQL("create database {}").format(sql.Identifier(name))
        if template:
            statement += sql.SQL(" template {}").format(sql.Identifier(template))
        connection.execute(statement)
    return _with_database(server_url, name)


def drop_database(server_url: str, name: str) -> None:
    with _admin(server_url) as connection:
        connection.execute(sql.SQL("drop database if exists {} with (force)").format(
            sql.Identifier(name)))


@pytest.fixture(scope="session")
def server_url() -> Iterator[str]:
    """A URL to a server's maintenance database, for creating and dropping test databases."""
    configured = os.environ.get("TEST_DATABASE_URL")
    if configured:
        yield configured
        return
    server = embedded.temporary_server()
    server.start()
    try:
        yield server.url()
    finally:
        server.stop()
        shutil.rmtree(server.data_dir.parent, ignore_errors=True)


def engine_for(url: str) -> Engine:
    """An engine without pooling, so dropping the database never waits on idle connections."""
    return db.make_engine(url, poolclass=NullPool)


@pytest.fixture(scope="session")
def migrated_template(server_url: str) -> Iterator[str]:
    """The name of a template database migrated to head."""
    name = f"fleetspend_template_{uuid.uuid4().hex[:8]}"
    url = create_database(server_url, name)
    engine = engine_for(url)
    schema.upgrade(engine)
    engine.dispose()
    yield name
    drop_database(server_url, name)


@pytest.fixture(scope="session")
def seeded_template(server_url: str, migrated_template: str) -> Iterator[str]:
    """The name of a template database migrated and seeded at the small scale."""
    from fleetspend.seed import generate

    name = f"fleetspend_seeded_{uuid.uuid4().hex[:8]}"
    url = create_database(server_url, name, template=migrated_template)
    engine = engine_for(url)
    generate(engine, scale="small", seed=SEED_FOR_TESTS)
    engine.dispose()
    yield name
    drop_database(server_url, name)


def clone(server_url: str, template: str) -> Iterator[str]:
    name = f"fleetspend_test_{uuid.uuid4().hex[:12]}"
    url = create_database(server_url, name, template=template)
    try:
        yield url
    finally:
        drop_database(server_url, name)


@pytest.fixture
def empty_database_url(server_url: str) -> Iterator[str]:
    """A URL to a fresh database with no tables at all."""
    yield from clone(server_url, "template0")


@pytest.fixture
def database_url(server_url: str, migrated_template: str) -> Iterator[str]:
    """A URL to a fresh database migrated to head, with reference data and no tenants."""
    yield from clone(server_url, migrated_template)


@pytest.fixture
def engine(database_url: str) -> Iterator[Engine]:
    """An engine on a fresh migrated database."""
    engine = engine_for(database_url)
    yield engine
    engine.dispose()


@pytest.fixture
def seeded_database_url(server_url: str, seeded_template: str) -> Iterator[str]:
    """A URL to a fresh database holding the small seed."""
    yield from clone(server_url, seeded_template)


@pytest.fixture
def seeded_engine(seeded_database_url: str) -> Iterator[Engine]:
    """An engine on a fresh database holding the small seed."""
    engine = engine_for(seeded_database_url)
    yield engine
    engine.dispose()


# the small seed's invoiced months: September and October finalized (as of the seed's window
# end), November's draft the upcoming invoice, and one credit note on acme's October invoice
INVOICED_AT = "2026-11-26T00:00:00+00:00"
CREDITED_INVOICE = "FS-202610-000001"
CREDIT_CENTS = 1234


@pytest.fixture(scope="session")
def invoiced_template(server_url: str, seeded_template: str) -> Iterator[str]:
    """The name of a template database holding the small seed with its invoices."""
    from datetime import date, datetime

    from sqlalchemy import text

    from fleetspend.billing.credit_notes import issue_credit_note
    from fleetspend.billing.invoices import draft_month, finalize_month

    name = f"fleetspend_invoiced_{uuid.uuid4().hex[:8]}"
    url = create_database(server_url, name, template=seeded_template)
    engine = engine_for(url)
    for month in (date(2026, 9, 1), date(2026, 10, 1)):
        finalize_month(engine, month, now=datetime.fromisoformat(INVOICED_AT))
    draft_month(engine, date(2026, 11, 1))
    with engine.connect() as connection:
        staff_user_id = connection.execute(text("select min(staff_user_id) from staff_users")
                                           ).scalar_one()
    issue_credit_note(engine, invoice_number=CREDITED_INVOICE, amount_cents=CREDIT_CENTS,
                      reason="Runaway app refund", support_ticket="T-1001",
                      issued_by=staff_user_id)
    engine.dispose()
    yield name
    drop_database(server_url, name)


@pytest.fixture
def invoiced_database_url(server_url: str, invoiced_template: str) -> Iterator[str]:
    """A URL to a fresh database holding the small seed, invoiced (see invoiced_template)."""
    yield from clone(server_url, invoiced_template)


@pytest.fixture
def invoiced_engine(invoiced_database_url: str) -> Iterator[Engine]:
    """An engine on a fresh invoiced small-seed database."""
    engine = engine_for(invoiced_database_url)
    yield engine
    engine.dispose()


@pytest.fixture(scope="session")
def demo_template(server_url: str, migrated_template: str) -> Iterator[str]:
    """The name of a template database holding ``fleetspend seed --scale demo``'s data: the
    demo scale with seed 1, its history billed by the seed itself (fleetspend.seed.billing)."""
    from fleetspend.seed import generate

    name = f"fleetspend_demo_{uuid.uuid4().hex[:8]}"
    url = create_database(server_url, name, template=migrated_template)
    engine = engine_for(url)
    generate(engine, scale="demo", seed=1)
    engine.dispose()
    yield name
    drop_database(server_url, name)


@pytest.fixture
def demo_database_url(server_url: str, demo_template: str) -> Iterator[str]:
    """A URL to a fresh database holding the demo data (see demo_template)."""
    yield from clone(server_url, demo_template)
