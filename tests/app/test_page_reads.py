"""The one way a page reads (fleetspend.ui.database): a cached loader keeps each caller's
results apart by the visit's scope, each loader keeps a cache of its own, and a cache hit
reads nothing."""

from __future__ import annotations

import pytest
from sqlalchemy import Connection, text

from fleetspend import auth
from fleetspend.ui import access, database
from tests.app.conftest import ADMIN, MEMBER, run_as

SETTINGS = text("select current_setting('fleetspend.user_id'), "
                "current_setting('fleetspend.org_ids')")


def visit_of(engine, email: str) -> access.Visit:
    """``email``'s visit of their first organization, worked out as the frame does."""
    with engine.connect() as connection:
        caller = auth.identify(connection, email)
        assert caller is not None
        memberships = auth.memberships(connection, caller)
    return access.Visit(caller, memberships, membership=memberships[0])


@pytest.fixture
def reading(monkeypatch, spend_url) -> None:
    """The app's read pool pointed at the test database (as a page run would have it)."""
    run_as(monkeypatch, spend_url, None)


reads: list[str] = []


@database.loader(ttl=60, max_entries=8)
def whose(connection: Connection, label: str) -> tuple[str, str, str]:
    reads.append(label)
    user_id, org_ids = connection.execute(SETTINGS).one()
    return label, user_id, org_ids


@database.loader(ttl=60, max_entries=8)
def other(connection: Connection, label: str) -> str:
    return f"other {label}"


def test_a_cached_read_is_kept_apart_by_the_visit_s_scope(reading, spend_engine):
    admin, member = visit_of(spend_engine, ADMIN), visit_of(spend_engine, MEMBER)
    first, second = whose(admin, "same"), whose(member, "same")
    assert first[1] == str(admin.caller.actor_id)
    assert second[1] == str(member.caller.actor_id)  # not the admin's, cached
    assert first[2] == second[2] == str(admin.org_in_view)  # narrowed to the org in view


def test_a_cache_hit_reads_nothing_and_each_loader_has_a_cache_of_its_own(reading,
                                                                         spend_engine):
    admin = visit_of(spend_engine, ADMIN)
    reads.clear()
    assert whose(admin, "hit") == whose(admin, "hit")
    assert reads == ["hit"]
    assert other(admin, "hit") == "other hit"  # same arguments, another loader's cache
    whose.clear()
    whose(admin, "hit")
    assert reads == ["hit", "hit"]


def test_an_uncached_read_runs_under_the_visit_s_scope_every_time(reading, spend_engine):
    member = visit_of(spend_engine, MEMBER)
    reads.clear()

    def reader(connection: Connection) -> str:
        reads.append("now")
        return connection.execute(SETTINGS).one()[0]

    assert database.read(member, reader) == database.read(member, reader)
    assert database.read(member, reader) == str(member.caller.actor_id)
    assert reads == ["now"] * 3
