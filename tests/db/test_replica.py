"""The read pool against a real primary and two real streaming replicas.

The pair is always embedded servers started here (pg_basebackup of a fresh primary, started
as hot standbys), whatever TEST_DATABASE_URL says: a replica has to be a copy of a primary
this session controls.
"""

from __future__ import annotations

import shutil
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import psycopg
import pytest
from sqlalchemy import text
from streamlit.testing.v1 import AppTest

from fleetspend import db, embedded, schema
from fleetspend.embedded import EmbeddedPostgres
from fleetspend.reads import freshness
from fleetspend.ui import access, console
from tests.conftest import engine_for

pytestmark = pytest.mark.replica


@dataclass
class Cluster:
    primary: EmbeddedPostgres
    replicas: list[EmbeddedPostgres]

    def url(self, server: EmbeddedPostgres) -> str:
        return server.url(db.APP_DATABASE)

    @property
    def replica_urls(self) -> list[str]:
        return [self.url(replica) for replica in self.replicas]


def _wait_for(condition: Callable[[], bool], what: str, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)


def _primary_lsn(cluster: Cluster) -> str:
    # the insert position: with synchronous_commit off a commit may not be written out yet
    with psycopg.connect(cluster.url(cluster.primary), autocommit=True) as connection:
        return connection.execute("select pg_current_wal_insert_lsn()::text").fetchone()[0]


def _replayed(replica: EmbeddedPostgres, lsn: str) -> bool:
    with psycopg.connect(replica.url(db.APP_DATABASE), autocommit=True) as connection:
        return connection.execute(
            "select pg_last_wal_replay_lsn() >= %s::pg_lsn", (lsn,)).fetchone()[0]


def _caught_up(cluster: Cluster) -> None:
    lsn = _primary_lsn(cluster)
    for replica in cluster.replicas:
        if replica.is_running():
            _wait_for(lambda r=replica: _replayed(r, lsn), f"{replica.data_dir} to replay {lsn}")


@pytest.fixture(scope="module")
def cluster() -> Iterator[Cluster]:
    primary = embedded.temporary_server()
    primary.start()
    replicas: list[EmbeddedPostgres] = []
    try:
        primary.create_database(db.APP_DATABASE)
        engine = engine_for(primary.url(db.APP_DATABASE))
        schema.upgrade(engine)
        with engine.begin() as connection:
            connection.execute(text(
                "insert into organizations (slug, name) values ('acme', 'Acme'), ('zeta', 'Zeta')"
            ))
        engine.dispose()
        for name in ("replica-a", "replica-b"):
            replicas.append(embedded.start_streaming_replica(
                primary, primary.data_dir.parent / name))
        built = Cluster(primary, replicas)
        _caught_up(built)
        yield built
    finally:
        for server in [*replicas, primary]:
            server.stop()
        shutil.rmtree(primary.data_dir.parent, ignore_errors=True)


@pytest.fixture
def pool(cluster: Cluster) -> Iterator[db.ReadPool]:
    for replica in cluster.replicas:
        replica.start()
    pool = db.ReadPool(cluster.replica_urls, primary_url=cluster.url(cluster.primary),
                       statement_timeout_ms=300, pool_size=2)
    yield pool
    pool.dispose()


def _data_directory(snapshot: db.ReadSnapshot) -> str:
    return snapshot.connection.execute(text("show data_directory")).scalar()


def test_a_page_view_is_one_read_only_repeatable_read_snapshot_on_a_replica(pool):
    scope = db.Scope(org_ids=(1, 2), user_id=7)
    with pool.snapshot(scope) as snapshot:
        row = snapshot.connection.execute(text(
            "select pg_is_in_recovery() as is_replica, "
            "current_setting('transaction_isolation') as isolation, "
            "current_setting('transaction_read_only') as read_only, "
            "current_setting('statement_timeout') as timeout, "
            "current_setting('fleetspend.org_ids') as org_ids, "
            "current_setting('fleetspend.user_id') as user_id, "
            "current_setting('fleetspend.staff_user_id') as staff_user_id"
        )).mappings().one()
        first = _data_directory(snapshot)
        assert _data_directory(snapshot) == first  # sticky within the view
    assert dict(row) == {"is_replica": True, "isolation": "repeatable read", "read_only": "on",
                         "timeout": "300ms", "org_ids": "1,2", "user_id": "7",
                         "staff_user_id": ""}
    assert snapshot.notice is None


def test_the_scope_does_not_outlive_its_view(pool):
    # pool_size 2 and many views: the same pooled connection is reused without the old scope
    with pool.snapshot(db.Scope(org_ids=(1,))):
        pass
    for _ in range(4):
        with pool.snapshot() as snapshot:
            leftover = snapshot.connection.execute(
                text("select current_setting('fleetspend.org_ids', true)")).scalar()
            assert leftover in (None, "")


def test_views_spread_over_the_replicas(pool, cluster):
    seen = set()
    for _ in range(4):
        with pool.snapshot() as snapshot:
            seen.add(_data_directory(snapshot))
    assert seen == {str(replica.data_dir) for replica in cluster.replicas}


def test_a_stopped_replica_is_skipped_and_none_left_is_a_plain_error(pool, cluster):
    healthy, stopped = cluster.replicas
    stopped.stop()
    for _ in range(4):
        with pool.snapshot() as snapshot:
            assert _data_directory(snapshot) == str(healthy.data_dir)

    healthy.stop()
    with pytest.raises(db.NoReplicaAvailableError) as error, pool.snapshot():
        pass
    message = str(error.value)
    assert "No read replica is reachable" in message
    assert "READ_FALLBACK_TO_PRIMARY" in message
    assert str(healthy.data_dir) in message and str(stopped.data_dir) in message

    healthy.start()
    with pool.snapshot() as snapshot:  # back in rotation without waiting out its rest
        assert _data_directory(snapshot) == str(healthy.data_dir)


def test_with_fallback_on_a_dead_pool_reads_the_primary_and_says_so(cluster):
    for replica in cluster.replicas:
        replica.stop()
    pool = db.ReadPool(cluster.replica_urls, primary_url=cluster.url(cluster.primary),
                       fallback_to_primary=True)
    try:
        with pool.snapshot() as snapshot:
            is_replica = snapshot.connection.execute(text("select pg_is_in_recovery()")).scalar()
            assert snapshot.is_primary_fallback
            assert snapshot.notice == db.PRIMARY_FALLBACK_NOTICE
        assert is_replica is False
    finally:
        pool.dispose()


def test_lag_is_reported_while_replay_is_paused(pool, cluster):
    # a replayed commit first, so the replicas know how old their last replayed one is
    with psycopg.connect(cluster.url(cluster.primary), autocommit=True) as primary:
        primary.execute("insert into organizations (slug, name) values ('early', 'Early')")
    _caught_up(cluster)
    with pool.snapshot() as snapshot:
        caught_up = freshness.replica_lag(snapshot.connection)
    assert caught_up["is_replica"] and caught_up["lag_seconds"] == 0
    assert caught_up["lag_bytes"] == 0

    replicas = [psycopg.connect(cluster.url(r), autocommit=True) for r in cluster.replicas]
    try:
        for connection in replicas:
            connection.execute("select pg_wal_replay_pause()")
        time.sleep(1.1)  # so the last replayed transaction is measurably old
        with psycopg.connect(cluster.url(cluster.primary), autocommit=True) as primary:
            primary.execute("insert into organizations (slug, name) values ('late', 'Late')")
            lsn = primary.execute("select pg_current_wal_insert_lsn()::text").fetchone()[0]
        _wait_for(lambda: all(c.execute("select pg_last_wal_receive_lsn() >= %s::pg_lsn",
                                        (lsn,)).fetchone()[0] for c in replicas),
                  "the replicas to receive the insert")
        with pool.snapshot() as snapshot:
            behind = freshness.replica_lag(snapshot.connection)
            visible = snapshot.connection.execute(
                text("select count(*) from organizations where slug = 'late'")).scalar()
        assert behind["lag_seconds"] is not None, behind
        assert behind["lag_seconds"] >= 1
        assert behind["lag_bytes"] > 0
        assert visible == 0
    finally:
        for connection in replicas:
            connection.execute("select pg_wal_replay_resume()")
            connection.close()
    _caught_up(cluster)
    with pool.snapshot() as snapshot:
        assert freshness.replica_lag(snapshot.connection)["lag_seconds"] == 0


def _app_pool(cluster: Cluster) -> db.ReadPool:
    """The replicas as the app's role, which sees only whether a WAL receiver runs."""
    return db.ReadPool([db.as_app_role(url) for url in cluster.replica_urls], pool_size=1)


def _freshness(pool: db.ReadPool) -> list[freshness.Freshness]:
    """What a page on each replica (taken in turn) says about its data, in a scope that
    reads no tenant's rows."""
    seen = []
    for _ in pool.servers():
        with pool.snapshot(db.Scope(staff_user_id=1)) as snapshot:
            seen.append(freshness.read_freshness(snapshot.connection, org_id=1))
    return seen


def _receiving(replica: EmbeddedPostgres) -> bool:
    with psycopg.connect(replica.url(db.APP_DATABASE), autocommit=True) as connection:
        return connection.execute("select exists (select from pg_stat_wal_receiver "
                                  "where status = 'streaming')").fetchone()[0]


def test_a_quiet_primary_is_no_lag_but_a_cut_off_replica_warns_how_old_its_data_is(
        monkeypatch, pool, cluster):
    monkeypatch.setenv(freshness.STALE_AFTER_ENV, "1")
    with psycopg.connect(cluster.url(cluster.primary), autocommit=True) as primary:
        primary.execute("insert into organizations (slug, name) values ('before-cut', 'B')")
    _caught_up(cluster)
    app_pool = _app_pool(cluster)
    try:
        time.sleep(1.5)  # the primary is quiet: the last replayed commit grows old, the data not
        quiet = _freshness(app_pool)
        assert all(f.is_receiving and f.lag_seconds == 0 and f.warning is None for f in quiet)
        assert all(f.describe().startswith("Data 0 s behind live") for f in quiet)

        cluster.primary.stop()  # every replica's link to the primary is cut
        try:
            _wait_for(lambda: not any(_receiving(r) for r in cluster.replicas),
                      "the replicas' WAL receivers to stop")
            time.sleep(1.5)
            cut = _freshness(app_pool)
        finally:
            cluster.primary.start()
        for state in cut:
            assert state.is_replica and not state.is_receiving
            assert state.lag_seconds is not None and state.lag_seconds >= 1.5
            assert state.is_stale
            assert "not receiving changes from the primary" in state.warning
            assert state.describe().startswith("Copy of the data not receiving updates")

        _wait_for(lambda: all(_receiving(r) for r in cluster.replicas),
                  "the replicas to stream from the primary again", timeout=30)
        _caught_up(cluster)
        assert all(f.is_receiving and f.warning is None for f in _freshness(app_pool))
    finally:
        app_pool.dispose()


def test_a_statement_over_the_timeout_is_a_clear_error_and_the_next_view_works(pool):
    with pytest.raises(db.ReadTimeoutError) as error, pool.snapshot() as snapshot:
        snapshot.connection.execute(text("select pg_sleep(2)"))
    assert "300 ms read timeout" in str(error.value)
    assert "reference" in str(error.value)
    for _ in range(3):  # every pooled connection is usable again
        with pool.snapshot() as snapshot:
            assert snapshot.connection.execute(text("select 1")).scalar() == 1


def _org_page(snapshot: db.ReadSnapshot, between: Callable[[int], None]) -> list[str]:
    """A two-query page: the org count, then the slugs; ``between`` runs between them."""
    connection = snapshot.connection
    count = connection.execute(text("select count(*) from organizations")).scalar()
    between(connection.execute(text("select pg_backend_pid()")).scalar())
    slugs = connection.execute(text("select slug from organizations order by slug")).scalars()
    return [f"{count} organizations", *slugs]


def test_a_connection_dropped_mid_page_is_an_error_and_no_partial_page(pool, cluster):
    def terminate(backend_pid: int) -> None:
        for replica in cluster.replicas:
            with psycopg.connect(cluster.url(replica), autocommit=True) as connection:
                connection.execute("select pg_terminate_backend(%s)", (backend_pid,))

    page = None
    with pytest.raises(db.ReadConnectionLostError) as error, pool.snapshot() as snapshot:
        page = _org_page(snapshot, terminate)
    assert page is None
    assert "was lost in the middle of this view" in str(error.value)
    with pool.snapshot() as snapshot:
        assert _org_page(snapshot, lambda pid: None)[0].endswith("organizations")


def _terminate_read_connections(server: EmbeddedPostgres) -> list[int]:
    """End every other client connection to the app's database on ``server``; their pids."""
    with psycopg.connect(server.url(db.APP_DATABASE), autocommit=True) as connection:
        ended = [pid for (pid,) in connection.execute(
            "select pid from pg_stat_activity where datname = %s and pid <> pg_backend_pid() "
            "and backend_type = 'client backend'", (db.APP_DATABASE,))]
        for pid in ended:
            connection.execute("select pg_terminate_backend(%s, 5000)", (pid,))
    return ended


@pytest.mark.parametrize("server", ["replica", "primary"])
def test_a_pooled_connection_the_server_ended_is_replaced_before_the_view_reads(
        cluster, server):
    """No pre-ping: a checkout sees that the server closed the idle connection and opens a
    fresh one, so the next view reads as if nothing happened."""
    if server == "replica":
        servers, pool = cluster.replicas, db.ReadPool(cluster.replica_urls, pool_size=1)
    else:  # the primary as the fallback's only server, all replicas unreachable
        servers = [cluster.primary]
        pool = db.ReadPool(["postgresql://fleetspend_app@127.0.0.1:1/fleetspend"],
                           primary_url=cluster.url(cluster.primary), fallback_to_primary=True,
                           pool_size=1)
    try:
        pages = []
        for _ in servers:  # one pooled connection on each server
            with pool.snapshot() as snapshot:
                pages.append(_org_page(snapshot, lambda _pid: None))
        ended = [pid for each in servers for pid in _terminate_read_connections(each)]
        assert ended
        for _ in range(2 * len(servers)):
            with pool.snapshot(db.Scope(user_id=1)) as snapshot:
                pid = snapshot.connection.execute(text("select pg_backend_pid()")).scalar()
                assert _org_page(snapshot, lambda _pid: None) == pages[0]
                assert pid not in ended
    finally:
        pool.dispose()


def test_the_environment_configures_the_process_pool(monkeypatch, cluster):
    monkeypatch.setenv("DATABASE_URL", cluster.url(cluster.primary))
    monkeypatch.setenv("REPLICA_URLS", ",".join(cluster.replica_urls))
    monkeypatch.setenv("READ_STATEMENT_TIMEOUT_MS", "1234")
    monkeypatch.setenv("READ_FALLBACK_TO_PRIMARY", "1")
    db.read_pool.cache_clear()
    try:
        pool = db.read_pool()
        assert pool.statement_timeout_ms == 1234 and pool.fallback_to_primary
        assert len(pool.servers()) == 2
        with db.read_snapshot() as snapshot:
            assert snapshot.connection.execute(
                text("show statement_timeout")).scalar() == "1234ms"
        pool.dispose()
    finally:
        db.read_pool.cache_clear()


def test_a_grant_opened_while_replay_lags_opens_its_page_once_replayed(monkeypatch, cluster):
    """The Support access page opens a grant on the primary and continues to the match; the
    replica has not replayed the grant yet, so that next page view waits for it."""
    engineer = "support9@fleetspend.example"
    with psycopg.connect(cluster.url(cluster.primary), autocommit=True) as primary:
        primary.execute("insert into staff_users (email, name) values (%s, 'Support 9') "
                        "on conflict do nothing", (engineer,))
    for replica in cluster.replicas:
        replica.start()
    _caught_up(cluster)
    monkeypatch.setenv("DATABASE_URL", cluster.url(cluster.primary))
    monkeypatch.setenv("REPLICA_URLS", ",".join(cluster.replica_urls))
    for name in ("APP_DATABASE_URL", "APP_REPLICA_URLS", access.DEMO_MODE_ENV):
        monkeypatch.setenv(name, "")
    engines = (db.primary_engine, db.app_primary_engine, db.read_engine, db.read_pool)
    for cached in engines:
        cached.cache_clear()
    app = AppTest.from_file(str(schema.PROJECT_ROOT / "app.py"), default_timeout=60)
    app.user = {"is_logged_in": True, "email": engineer, "email_verified": True}
    app.switch_page("pages/support.py")
    app.query_params[console.OPEN_PARAM] = "acme"
    app.query_params[console.THEN_PARAM] = "organization"
    app.run()
    assert not app.exception
    app.text_input(key="support_ticket").input("T-77")
    app.text_area(key="support_reason").input("replica lag")

    replicas = [psycopg.connect(cluster.url(r), autocommit=True) for r in cluster.replicas]
    grants_on_replicas_at_resume: list[int] = []

    def resume() -> None:
        with psycopg.connect(cluster.url(cluster.replicas[0]), autocommit=True) as replica:
            grants_on_replicas_at_resume.append(replica.execute(
                "select count(*) from support_grants").fetchone()[0])
        for connection in replicas:
            connection.execute("select pg_wal_replay_resume()")

    for connection in replicas:
        connection.execute("select pg_wal_replay_pause()")
    # AppTest runs the page switched to within the same run: the click opens the grant on the
    # primary and the organization's page is drawn under it while replay is still paused
    resuming = threading.Timer(3.0, resume)
    try:
        resuming.start()
        app.button[0].click().run()
    finally:
        resuming.cancel()
        resuming.join()
        for connection in replicas:
            connection.execute("select pg_wal_replay_resume()")
            connection.close()
        for cached in engines:
            cached.cache_clear()
    assert not app.exception
    assert [error.value for error in app.error] == []
    assert app.title[0].value == "Spend overview"
    assert grants_on_replicas_at_resume == [0]  # the page was drawn after a real wait
    with psycopg.connect(cluster.url(cluster.primary), autocommit=True) as primary:
        assert primary.execute("select count(*) from support_grants").fetchone()[0] == 1
