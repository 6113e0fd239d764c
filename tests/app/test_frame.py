"""The frame around every page: reading from the primary because no replica is reachable is
said once, above whichever page opens, for every role.

AppTest runs a page picked with switch_page on its own, without app.py, so these runs open
each role's landing page through app.py; tests/e2e/test_read_fallback.py walks the menu in a
browser."""

from __future__ import annotations

import pytest

from fleetspend.db import PRIMARY_FALLBACK_NOTICE, recording
from queries import catalog
from tests.app.conftest import ADMIN, ENGINEER, MEMBER, run_as

UNREACHABLE_REPLICA = "postgresql://fleetspend_app@127.0.0.1:1/fleetspend"


@pytest.mark.parametrize("email", [ADMIN, MEMBER, ENGINEER])
def test_the_landing_page_says_once_that_it_reads_from_the_primary(monkeypatch, spend_url,
                                                                     email):
    app = run_as(monkeypatch, spend_url, None, email=email)
    monkeypatch.setenv("APP_REPLICA_URLS", UNREACHABLE_REPLICA)
    monkeypatch.setenv("READ_FALLBACK_TO_PRIMARY", "1")
    app.run()
    assert not app.exception, app.exception
    assert len(app.title) == 1  # the page ran
    assert [info.value for info in app.info].count(PRIMARY_FALLBACK_NOTICE) == 1


@pytest.mark.parametrize("email", [ADMIN, MEMBER])
def test_a_page_view_works_out_the_visit_once_and_reads_in_one_snapshot(monkeypatch,
                                                                        spend_url, email):
    """A run of the app (frame and page) is one page view: one snapshot for the visit, the
    sidebar's unread badge and the page's reads, and the visit looked up once, in one
    statement."""
    app = run_as(monkeypatch, spend_url, None, email=email)
    with recording() as snapshots:
        app.run()
    assert not app.exception, app.exception
    assert len(app.title) == 1  # the page ran
    # each file in queries/ by its first line, as the benchmarks name what they replay
    names = {body.lstrip().splitlines()[0]: name for name, body in catalog().items()}
    statements = [statement for snapshot in snapshots for statement, _ in snapshot.statements]
    queries = [names.get(statement.lstrip().splitlines()[0]) for statement in statements]
    assert len(snapshots) == 1
    # the frame is one statement, which leaves the transaction in the scope the page reads
    # under: nothing identifies the caller, reads their organizations or scopes again
    assert queries.count("page_frame") == 1
    assert "caller_memberships" not in queries and "alert_unread_count" not in queries
    assert not [statement for statement in statements
                if "set_config" in statement or "fleetspend_auth.identify" in statement]
