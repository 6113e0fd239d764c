"""Database URLs and engines: the primary for writes, a pool of replicas for page reads.

Configuration comes from the environment:

- ``DATABASE_URL``: the primary, a standard ``postgresql://`` URL, as the schema owner (a
  superuser or BYPASSRLS role): migrations, ingest, seed and billing runs use it;
- ``REPLICA_URLS``: comma-separated read replicas; empty means reads go to the primary;
- ``APP_DATABASE_URL`` / ``APP_REPLICA_URLS``: the same servers as the app's login role
  ``fleetspend_app``, which owns nothing and is bound by row-level security; pages read and
  write (support grants, audit events, support's credit notes) only through these. Unset,
  they are DATABASE_URL and REPLICA_URLS with the user swapped for ``fleetspend_app`` and
  the password taken from ``APP_DATABASE_PASSWORD`` (none if unset: fine for the embedded
  server's local trust);
- ``READ_STATEMENT_TIMEOUT_MS``: the statement timeout of every read (default 5000);
- ``READ_FALLBACK_TO_PRIMARY``: ``1`` lets pages read from the primary, with a visible
  notice, when no replica is reachable; otherwise that is an error;
- ``READ_POOL_SIZE``: connections kept per replica (default 5, as many again on overflow);
  page views beyond them wait their turn, in arrival order, for up to ``POOL_WAIT_S``;
- ``READ_CONCURRENT_VIEWS``: how many page views of this process read at once (default 4 a
  replica, see VIEWS_PER_REPLICA, at most its connections); the rest wait as above.

With neither URL set, the embedded default server (see :mod:`fleetspend.embedded`) is started
on first use and stopped when the process exits, unless it was already running before.

A page reads through :func:`read_snapshot`: one read-only REPEATABLE READ transaction on
one healthy replica, so every number on the page comes from the same snapshot, each query
planned for its own parameters (but lookups by key: see READ_PLANNING). The caller's
scope is written into the transaction with ``set_config(name, value, true)`` (reverting at
commit or rollback) for the row-level security policies to read. Inside :func:`page_view`
(a whole run of the app: the frame's reads and the page's), every read_snapshot on that thread
shares one transaction, re-scoped as each asks: one snapshot per view. Replicas are taken in
turn; one that refuses connections is skipped and rested for a few seconds. Inside
:func:`recording`, every snapshot a read pool opens is recorded with the statements it runs
(the benchmarks replay what the pages actually execute).
"""

from __future__ import annotations

import atexit
import collections
import contextlib
import functools
import itertools
import os
import selectors
import threading
import time
import uuid
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Protocol

import psycopg
from sqlalchemy import Connection, Engine, create_engine, event, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError, DisconnectionError, SQLAlchemyError

from fleetspend import embedded

APP_DATABASE = "fleetspend"
DEFAULT_STATEMENT_TIMEOUT_MS = 5000
DEFAULT_POOL_SIZE = 5
CONNECT_TIMEOUT_S = 3
REPLICA_REST_S = 5.0
PRIMARY_FALLBACK_NOTICE = (
    "No read replica is reachable, so this page reads from the primary database."
)

# One statement sets every per-transaction setting from bound arrays of names and values.
_SET_LOCAL = text(
    "select set_config(setting.name, setting.value, true) "
    "from unnest(cast(:names as text[]), cast(:values as text[])) as setting(name, value)"
)
_CURRENT_SETTINGS = text(
    "select array(select current_setting(setting.name) from unnest(cast(:names as text[])) "
    "with ordinality as setting(name, position) order by setting.position)"
)


# where a read snapshot's connection keeps the settings its transaction holds (see ReadPool)
_LOCAL_SETTINGS_KEY = "fleetspend.local_settings"


def set_local(connection: Connection, settings: Mapping[str, str]) -> None:
    """Set ``settings`` for the rest of the connection's current transaction only."""
    connection.execute(_SET_LOCAL, {"names": list(settings), "values": list(settings.values())})
    if _LOCAL_SETTINGS_KEY in connection.info:
        connection.info[_LOCAL_SETTINGS_KEY].update(settings)


@contextlib.contextmanager
def local_settings(connection: Connection, settings: Mapping[str, str]) -> Iterator[None]:
    """``settings`` for the statements run inside the block (planner switches around the one
    statement the planner misjudges), then the values they had before it, in the connection's
    current transaction. A block that raises leaves them: its transaction is rolled back."""
    if not settings:
        yield
        return
    before = connection.execute(_CURRENT_SETTINGS, {"names": list(settings)}).scalar_one()
    set_local(connection, settings)
    yield
    set_local(connection, dict(zip(settings, before, strict=True)))


def note_local(connection: Connection, settings: Mapping[str, str]) -> None:
    """Note that a statement (a database function) has set ``settings`` for the rest of the
    connection's current transaction, so a read asking for them sets nothing again."""
    if _LOCAL_SETTINGS_KEY in connection.info:
        connection.info[_LOCAL_SETTINGS_KEY].update(settings)


def sqlalchemy_url(url: str) -> str:
    """Turn a standard postgresql:// URL into one SQLAlchemy drives with psycopg 3."""
    parsed = make_url(url)
    if parsed.drivername not in ("postgresql", "postgres", "postgresql+psycopg"):
        raise ValueError(f"expected a postgresql:// URL, got {parsed.drivername}://")
    return parsed.set(drivername="postgresql+psycopg").render_as_string(hide_password=False)


def describe_url(url: str) -> str:
    """A URL as it may appear in messages and logs: host, port and database, no password."""
    parsed = make_url(url)
    host = parsed.host or parsed.query.get("host") or "localhost"
    port = parsed.port or parsed.query.get("port") or 5432
    return f"{host}:{port}/{parsed.database}"


@functools.cache
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


APP_ROLE = "fleetspend_app"


def as_app_role(url: str) -> str:
    """``url`` with its user swapped for the app's role (password: APP_DATABASE_PASSWORD)."""
    password = os.environ.get("APP_DATABASE_PASSWORD") or None
    return make_url(url).set(username=APP_ROLE, password=password).render_as_string(
        hide_password=False)


def app_primary_url() -> str:
    """The primary as the app's role: APP_DATABASE_URL, else derived from primary_url()."""
    return os.environ.get("APP_DATABASE_URL") or as_app_role(primary_url())


def app_replica_urls() -> list[str]:
    """The replicas as the app's role: APP_REPLICA_URLS, else derived from REPLICA_URLS."""
    configured = [u.strip() for u in os.environ.get("APP_REPLICA_URLS", "").split(",")
                  if u.strip()]
    if configured:
        return configured
    if os.environ.get("REPLICA_URLS", "").strip():
        return [as_app_role(url) for url in replica_urls()]
    return [app_primary_url()]


def make_engine(url: str, **kwargs) -> Engine:
    """An engine for one server, with sensible pool settings and a connect timeout."""
    pooling = {} if "poolclass" in kwargs else {"pool_size": 5, "max_overflow": 5}
    connect_args = {"connect_timeout": CONNECT_TIMEOUT_S, **kwargs.pop("connect_args", {})}
    options = {"pool_pre_ping": True, "connect_args": connect_args, **pooling, **kwargs}
    return create_engine(sqlalchemy_url(url), **options)


@functools.cache
def primary_engine() -> Engine:
    """The engine for writes (ingest, seed, billing runs, grants, audit events)."""
    return make_engine(primary_url())


@functools.cache
def app_primary_engine() -> Engine:
    """The primary as the app's role: the only writes pages make (support grants, audit
    events, support's credit notes) and support's re-rating, which needs the primary."""
    engine = make_engine(app_primary_url())
    event.listen(engine, "commit", _note_write)
    return engine


@functools.cache
def read_engine() -> Engine:
    """An engine on the first replica, for tools that want one server; pages use read_snapshot."""
    return make_engine(replica_urls()[0])


# --- errors a page shows -------------------------------------------------------------------


class ReadPathError(SQLAlchemyError):
    """A page's read failed; nothing it read may be shown. ``reference`` goes in the message."""

    def __init__(self, message: str) -> None:
        self.reference = uuid.uuid4().hex[:10]
        super().__init__(f"{message} (reference {self.reference})")


class NoReplicaAvailableError(ReadPathError):
    """Every configured replica refused a connection and primary fallback is off."""


class ReadTimeoutError(ReadPathError):
    """A statement ran past the read statement timeout and was cancelled."""


class ReadConnectionLostError(ReadPathError):
    """The connection broke in the middle of a page view."""


class PoolTimeoutError(ReadPathError):
    """Every read connection stayed busy for as long as a page view waits for one."""


# --- scope and snapshots -------------------------------------------------------------------


class ScopeLike(Protocol):
    """Anything that can say which per-transaction settings describe the caller."""

    def settings(self) -> Mapping[str, str]: ...


@dataclass(frozen=True)
class Scope:
    """The caller of one page view, as the row-level security policies will read it.

    The identity is a customer (``user_id``) or a support engineer (``staff_user_id``, with
    the ``grant_id`` of the support grant they work under); the database derives from it the
    organizations the caller may see (see migration 0004). ``org_ids``, when not empty,
    narrows a view to some of those organizations and never widens them. Each becomes a
    ``fleetspend.*`` setting local to the page's transaction; with no identity set the
    policies raise an error (fail closed).
    """

    org_ids: tuple[int, ...] = ()
    user_id: int | None = None
    staff_user_id: int | None = None
    grant_id: int | None = None

    def settings(self) -> dict[str, str]:
        def setting(value: int | None) -> str:
            return "" if value is None else str(value)

        return {
            "fleetspend.org_ids": ",".join(str(org_id) for org_id in self.org_ids),
            "fleetspend.user_id": setting(self.user_id),
            "fleetspend.staff_user_id": setting(self.staff_user_id),
            "fleetspend.grant_id": setting(self.grant_id),
        }


@dataclass(frozen=True)
class ReadSnapshot:
    """One page view's read-only transaction; run every query of the page on ``connection``."""

    connection: Connection
    server: str
    is_primary_fallback: bool = False

    @property
    def notice(self) -> str | None:
        """What the page should tell the user about where its data came from, if anything."""
        return PRIMARY_FALLBACK_NOTICE if self.is_primary_fallback else None


@dataclass
class _Server:
    url: str
    engine: Engine
    rested_until: float = 0.0

    @property
    def name(self) -> str:
        return describe_url(self.url)


# --- recording what page views execute (benchmarks) ----------------------------------------


@dataclass
class RecordedSnapshot:
    """One snapshot of a recorded page view: its scope and every statement run in it, as
    sent to the driver (SQL text and parameters), in order."""

    scope: ScopeLike | None
    statements: list[tuple[str, object]] = field(default_factory=list)


_RECORDING_KEY = "fleetspend.recording"
_recordings: list[list[RecordedSnapshot]] = []
_recordings_lock = threading.Lock()


@contextlib.contextmanager
def recording() -> Iterator[list[RecordedSnapshot]]:
    """Record every snapshot the read pools open while inside, with its statements (the
    benchmarks replay and time what the pages actually run)."""
    snapshots: list[RecordedSnapshot] = []
    with _recordings_lock:
        _recordings.append(snapshots)
    try:
        yield snapshots
    finally:
        with _recordings_lock:
            _recordings.remove(snapshots)


def _start_recording(connection: Connection, scope: ScopeLike | None) -> bool:
    """Record this snapshot's statements if anyone is recording; whether it is recorded."""
    with _recordings_lock:
        if not _recordings:
            return False
        recorded = RecordedSnapshot(scope)
        for snapshots in _recordings:
            snapshots.append(recorded)
    connection.info[_RECORDING_KEY] = recorded.statements
    return True


def _stop_recording(connection: Connection) -> None:
    # a connection broken mid-view is discarded with its info: nothing to stop then
    with contextlib.suppress(SQLAlchemyError):
        connection.info.pop(_RECORDING_KEY, None)


def _record_statement(connection, _cursor, statement, parameters, _context,
                      _executemany) -> None:
    statements = connection.info.get(_RECORDING_KEY)
    if statements is not None:
        statements.append((statement, parameters))


@dataclass
class _Opened:
    """A snapshot a read pool opened: what a page reads on, its server, whether recorded."""

    snapshot: ReadSnapshot
    server: _Server
    recorded: bool


@dataclass
class _View:
    """A page view on one thread: its pool, its shared snapshot (once a read opened it), the
    scopes of the reads in progress on it (innermost last), and whether the view wrote to the
    primary since the snapshot began (its next read then starts a fresh one)."""

    pool: ReadPool
    opened: _Opened | None = None
    scopes: list[dict[str, str]] = field(default_factory=list)
    wrote: bool = False


# the page view in progress on each thread (see ReadPool.view)
_views = threading.local()


def _current_view() -> _View | None:
    return getattr(_views, "view", None)


def _note_write(_connection: Connection) -> None:
    """A write committed on the primary: the page view in progress reads what it wrote."""
    view = _current_view()
    if view is not None:
        view.wrote = True


def _rescope(connection: Connection, wanted: Mapping[str, str]) -> None:
    """Set the scope settings ``wanted`` in the connection's transaction unless they hold."""
    holding = connection.info.get(_LOCAL_SETTINGS_KEY, {})
    if any(holding.get(name) != value for name, value in wanted.items()):
        set_local(connection, wanted)


# seconds a page view waits for a free read connection before it gives up
POOL_WAIT_S = 10

# page views reading at once per replica, unless READ_CONCURRENT_VIEWS says otherwise: twice
# the cores of this project's 2-core machine, where app and database share them. 20 threads
# replaying the 13 default views, three rounds alternately (load 2.4-3.8): 4 at once 75, 85,
# 87 views/s with p95 335, 319, 412 ms; 6: 73, 79, 86 / 404, 433, 358; 10 (every connection,
# as before): 71, 75, 91 / 482, 455, 395. More views at once only queue inside PostgreSQL and
# stretch the slowest; 2 at once leaves the cores idle between a view's round trips (29 views/s
# against 41-52 at load 5-7). A replica with more cores wants more: about twice its cores.
VIEWS_PER_REPLICA = 4


class _TurnGate:
    """At most ``slots`` page views at once, let in strictly in the order they came.

    SQLAlchemy's pool hands a returned connection to whoever asks next, often the thread that
    just returned it, so under load a few page views wait seconds while the rest go through
    (20 concurrent views: p95 92 ms, max 1.7 s). Here a freed slot goes straight to the view
    that has waited longest.
    """

    def __init__(self, slots: int) -> None:
        self.slots = slots
        self._lock = threading.Lock()
        self._free = slots
        self._waiting: collections.deque[threading.Event] = collections.deque()

    def acquire(self, timeout_s: float) -> None:
        with self._lock:
            if self._free and not self._waiting:
                self._free -= 1
                return
            turn = threading.Event()
            self._waiting.append(turn)
        if turn.wait(timeout_s):
            return
        with self._lock:
            if turn in self._waiting:  # not handed a slot in time
                self._waiting.remove(turn)
                raise PoolTimeoutError(f"no read connection was free within {timeout_s} s")
        # the slot arrived just as the wait ended: keep it

    def release(self) -> None:
        with self._lock:
            if self._waiting:
                self._waiting.popleft().set()
            else:
                self._free += 1


# psycopg prepares a statement on its fifth run on a connection, and PostgreSQL may then switch
# to a generic plan: one blind to the dates and to which rollup the query's bound choices read,
# three times slower for the page queries (measured: the team trend by day, 30 ms -> 90 ms).
# Page reads are planned for their parameters every time; planning costs 1-3 ms. With 16 MB
# (not the default 4) a page query hashes its tens of thousands of groups instead of sorting
# them (the team trend by week: p95 75 -> 36 ms).
#
# That blindness costs nothing where the plan cannot depend on the values: an organization's
# row looked up by key, its invoices, its members. Planning those each time cost 0.1-0.3 ms a
# statement (machine_charges 1.5 ms), 0.5-2.4 ms a page view at large (the frame's memberships
# and unread alerts run on every one). A query says so with GENERIC_PLAN_MARK in its header: read
# connections prepare only those (and statements without parameters, one plan either way), and
# PostgreSQL's "auto" mode plans each once it has seen five custom plans no cheaper; every
# other statement is sent unprepared and so is planned for its values every time.
READ_PLANNING = {"plan_cache_mode": "auto", "work_mem": "16MB"}
GENERIC_PLAN_MARK = "-- Plan: generic"


@functools.lru_cache(maxsize=1024)
def plans_generic(statement: str) -> bool:
    """Whether ``statement`` (SQL as sent to the driver) says its plan holds for any values."""
    return GENERIC_PLAN_MARK in statement


def startup_options(settings: Mapping[str, str]) -> str:
    """libpq's ``options`` for a connection that starts with ``settings`` (``-c name=value``,
    spaces and backslashes escaped): the server applies them before the first query."""
    def escaped(value: str) -> str:
        return value.replace("\\", "\\\\").replace(" ", "\\ ")

    return " ".join(f"-c {name}={escaped(value)}" for name, value in settings.items())


def _drop_if_closed(dbapi_connection, _record, _proxy) -> None:
    """Refuse a pooled connection the server has closed, without a round trip.

    A server ends a connection (pg_terminate_backend, a restart, idle_session_timeout) by
    sending a FATAL message and closing the socket, so an idle connection with anything to
    read is a dead one: SQLAlchemy then opens a fresh connection instead (it retries a
    checkout refused with DisconnectionError). This replaces the pre-ping, a round trip on
    every view (``select 1``); what it cannot see, a server gone silent, fails the view's
    first statement and the page says the connection was lost (ReadConnectionLostError).
    """
    if dbapi_connection.closed or dbapi_connection.broken:
        raise DisconnectionError("the connection is closed")
    with selectors.DefaultSelector() as selector:
        selector.register(dbapi_connection.fileno(), selectors.EVENT_READ)
        if selector.select(timeout=0):
            raise DisconnectionError("the server closed this idle connection")


def _execute(cursor, statement, parameters, _context) -> bool:
    """Send a read prepared if it is marked generic, else unprepared (planned afresh)."""
    cursor.execute(statement, parameters, prepare=plans_generic(statement))
    return True


@dataclass
class ReadPool:
    """Engines on every replica (and the primary, for an optional fallback) for page reads."""

    replica_urls: list[str]
    primary_url: str | None = None
    fallback_to_primary: bool = False
    statement_timeout_ms: int = DEFAULT_STATEMENT_TIMEOUT_MS
    pool_size: int = DEFAULT_POOL_SIZE
    concurrent_views: int | None = None  # None: VIEWS_PER_REPLICA a replica, at most its pool
    _replicas: list[_Server] = field(init=False)
    _primary: _Server | None = field(init=False, default=None)
    _turn: Iterator[int] = field(init=False, default_factory=itertools.count)
    _lock: threading.Lock = field(init=False, default_factory=threading.Lock)
    _gate: _TurnGate = field(init=False)

    def __post_init__(self) -> None:
        if not self.replica_urls:
            raise ValueError("a read pool needs at least one replica URL")
        if self.fallback_to_primary and not self.primary_url:
            raise ValueError("reading from the primary as a fallback needs the primary's URL")
        if self.statement_timeout_ms <= 0:
            raise ValueError("the read statement timeout must be a positive number of ms")
        self._replicas = [_Server(url, self._engine(url)) for url in self.replica_urls]
        # by default VIEWS_PER_REPLICA, or every connection a replica's pool may open (pool_size
        # plus as many on overflow) if fewer
        per_replica = min(VIEWS_PER_REPLICA, 2 * self.pool_size)
        self._gate = _TurnGate(self.concurrent_views or per_replica * len(self._replicas))

    def _engine(self, url: str) -> Engine:
        # the timeout and READ_PLANNING are the connection's own, sent in its startup packet
        # (no page read changes them for longer than its transaction), so a view spends no
        # round trip on them; nor on a pre-ping: see _drop_if_closed
        settings = {"statement_timeout": str(self.statement_timeout_ms), **READ_PLANNING}
        engine = make_engine(url, pool_size=self.pool_size, max_overflow=self.pool_size,
                             pool_timeout=POOL_WAIT_S, pool_recycle=1800, pool_pre_ping=False,
                             connect_args={"options": startup_options(settings)})
        event.listen(engine, "checkout", _drop_if_closed)
        event.listen(engine, "before_cursor_execute", _record_statement)
        event.listen(engine, "do_execute", _execute)
        return engine

    def _rotation(self) -> list[_Server]:
        """Replicas in this view's turn order, rested ones last (they may be back)."""
        with self._lock:
            start = next(self._turn) % len(self._replicas)
        ordered = self._replicas[start:] + self._replicas[:start]
        now = time.monotonic()
        return [s for s in ordered if s.rested_until <= now] + [
            s for s in ordered if s.rested_until > now
        ]

    def _primary_server(self) -> _Server:
        with self._lock:
            if self._primary is None:
                assert self.primary_url is not None
                self._primary = _Server(self.primary_url, self._engine(self.primary_url))
            return self._primary

    def _open(self, server: _Server, scope: ScopeLike | None) -> Connection:
        """A connection inside a fresh read-only REPEATABLE READ transaction with settings set."""
        connection = server.engine.connect().execution_options(
            isolation_level="REPEATABLE READ", postgresql_readonly=True
        )
        try:
            # a transaction starts with no scope (every scope setting reverts at its end) and
            # with the connection's settings: only a scope asked for costs a statement
            connection.info[_LOCAL_SETTINGS_KEY] = Scope().settings()
            if scope is not None:
                _rescope(connection, scope.settings())
        except BaseException:
            connection.close()
            raise
        return connection

    def _begin(self, scope: ScopeLike | None) -> _Opened:
        """A turn at the gate and a snapshot opened under ``scope`` (recorded if recording)."""
        self._gate.acquire(POOL_WAIT_S)
        try:
            connection, server, is_fallback = self._connect(scope)
        except BaseException:
            self._gate.release()
            raise
        return _Opened(ReadSnapshot(connection, server.name, is_fallback), server,
                       _start_recording(connection, scope))

    def _end(self, opened: _Opened) -> None:
        connection = opened.snapshot.connection
        try:
            if opened.recorded:
                _stop_recording(connection)
            with contextlib.suppress(SQLAlchemyError):
                connection.info.pop(_LOCAL_SETTINGS_KEY, None)
                # read only, so a commit ends it as a rollback would (settings revert, an
                # aborted one rolls back), but psycopg forgets every prepared statement of
                # the connection at a rollback, and with them the generic plans (READ_PLANNING)
                connection.commit()
            connection.close()
        finally:
            self._gate.release()

    @contextlib.contextmanager
    def view(self) -> Iterator[None]:
        """One page view on this thread: every :meth:`snapshot` inside shares one transaction.

        The first read opens it, each later one re-scopes it when it asks for another scope
        (and gives the enclosing read its scope back after), and it ends with the view. A read
        that fails ends it too, so the view's next read starts afresh. A run of the app opened
        four or five snapshots (the frame's visit, the unread badge, the page's visit again,
        the page's one or two), each a turn at the gate, a checkout with its ping, BEGIN,
        settings and ROLLBACK: in one, 20 concurrent views at large cost the client 5.7 ms of
        CPU a view instead of 8.1 (docs/scaling.md, *One snapshot per view*).
        """
        if _current_view() is not None:  # the enclosing view shares
            yield
            return
        view = _views.view = _View(self)
        try:
            yield
        finally:
            _views.view = None
            if view.opened is not None:
                self._end(view.opened)

    @contextlib.contextmanager
    def snapshot(self, scope: ScopeLike | None = None, *,
                 fresh: bool = False) -> Iterator[ReadSnapshot]:
        """One page view's reads: a read-only REPEATABLE READ transaction on one healthy
        replica (inside :meth:`view`, the view's transaction; ``fresh`` starts it anew, to see
        what has reached the replica since, as does a write the view committed on the primary
        through :func:`app_primary_engine`).

        Raises :class:`NoReplicaAvailableError` when no replica accepts a connection (unless
        primary fallback is on), :class:`ReadTimeoutError` when a statement outlives the
        timeout and :class:`ReadConnectionLostError` when the connection breaks mid-view.
        """
        view = _current_view()
        if view is None or view.pool is not self:
            opened = self._begin(scope)
            try:
                yield opened.snapshot
            except DBAPIError as error:
                raise self._translate(error, opened.server) from error
            finally:
                self._end(opened)
            return
        if view.opened is not None and (fresh or view.wrote) and not view.scopes:
            self._end(view.opened)
            view.opened = None
        wanted = Scope().settings() if scope is None else dict(scope.settings())
        if view.opened is None:
            view.opened, view.wrote = self._begin(scope), False
        else:
            _rescope(view.opened.snapshot.connection, wanted)
        view.scopes.append(wanted)
        try:
            yield view.opened.snapshot
        except SQLAlchemyError as error:
            failed, view.opened = view.opened, None  # its transaction may be aborted
            if failed is not None:
                self._end(failed)
                if isinstance(error, DBAPIError):
                    raise self._translate(error, failed.server) from error
            raise
        finally:
            view.scopes.pop()
            if view.opened is not None and view.scopes:  # the enclosing read's scope again
                _rescope(view.opened.snapshot.connection, view.scopes[-1])

    def _connect(self, scope: ScopeLike | None) -> tuple[Connection, _Server, bool]:
        failures = []
        for server in self._rotation():
            try:
                connection = self._open(server, scope)
            except DBAPIError as error:
                if not isinstance(error.orig, psycopg.OperationalError):
                    raise
                server.rested_until = time.monotonic() + REPLICA_REST_S
                failures.append(f"{server.name} ({str(error.orig).strip().splitlines()[0]})")
                continue
            server.rested_until = 0.0
            return connection, server, False
        if self.fallback_to_primary:
            primary = self._primary_server()
            return self._open(primary, scope), primary, True
        raise NoReplicaAvailableError(
            "No read replica is reachable, so no figures can be shown. Tried: "
            + "; ".join(failures)
            + ". Set READ_FALLBACK_TO_PRIMARY=1 to read from the primary instead."
        )

    def _translate(self, error: DBAPIError, server: _Server) -> Exception:
        if isinstance(error.orig, psycopg.errors.QueryCanceled):
            return ReadTimeoutError(
                f"A query on {server.name} ran longer than the {self.statement_timeout_ms} ms "
                "read timeout and was cancelled; nothing from this view is shown"
            )
        if error.connection_invalidated or isinstance(error.orig, psycopg.OperationalError):
            return ReadConnectionLostError(
                f"The connection to {server.name} was lost in the middle of this view; "
                "nothing from it is shown"
            )
        return error

    @property
    def view_slots(self) -> int:
        """How many page views read at once (READ_CONCURRENT_VIEWS); the rest wait their turn."""
        return self._gate.slots

    def servers(self) -> list[str]:
        """The replicas' names (no passwords), in configuration order."""
        return [server.name for server in self._replicas]

    def dispose(self) -> None:
        """Close every pooled connection."""
        for server in [*self._replicas, *([self._primary] if self._primary else [])]:
            server.engine.dispose()


def _env_int(name: str, default: int) -> int:
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    try:
        return int(raw)
    except ValueError:
        raise ValueError(f"{name} must be a whole number, got {raw!r}") from None


@functools.cache
def read_pool() -> ReadPool:
    """The process's read pool, configured from the environment (see the module docstring)."""
    fallback = os.environ.get("READ_FALLBACK_TO_PRIMARY", "").strip().lower() in ("1", "true")
    return ReadPool(
        app_replica_urls(),
        primary_url=app_primary_url() if fallback else None,
        fallback_to_primary=fallback,
        statement_timeout_ms=_env_int("READ_STATEMENT_TIMEOUT_MS", DEFAULT_STATEMENT_TIMEOUT_MS),
        pool_size=_env_int("READ_POOL_SIZE", DEFAULT_POOL_SIZE),
        concurrent_views=_env_int("READ_CONCURRENT_VIEWS", 0) or None,
    )


def read_snapshot(
    scope: ScopeLike | None = None, *, fresh: bool = False,
) -> contextlib.AbstractContextManager[ReadSnapshot]:
    """One page view's snapshot from the process's read pool: ``with read_snapshot(scope)``
    (see :meth:`ReadPool.snapshot`)."""
    return read_pool().snapshot(scope, fresh=fresh)


def page_view() -> contextlib.AbstractContextManager[None]:
    """One page view's reads in one snapshot of the process's read pool: ``with page_view()``
    around a whole run of the app (see :meth:`ReadPool.view`)."""
    return read_pool().view()
