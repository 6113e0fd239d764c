"""The embedded default server: started on demand, kept between runs, stopped cleanly, and
never widening permissions outside its own folders."""

import os
import shutil
import stat
import subprocess
import sys
import tempfile
from pathlib import Path

import psycopg
import pytest

from fleetspend import embedded


def _modes(paths):
    return {path: stat.S_IMODE(path.stat().st_mode) for path in paths}


def _cli(*args: str, home: Path) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REPLICA_URLS")}
    env["FLEETSPEND_HOME"] = str(home)
    return subprocess.run([sys.executable, "-m", "fleetspend", *args], env=env,
                          capture_output=True, text=True, timeout=180)


@pytest.fixture
def open_home():
    """A folder the unprivileged server user can enter (pytest's tmp_path is private)."""
    home = Path(tempfile.mkdtemp(prefix="fleetspend-home-"))
    home.chmod(0o755)
    yield home
    embedded.EmbeddedPostgres(home / "postgres").stop()
    shutil.rmtree(home, ignore_errors=True)


def test_cli_starts_the_embedded_server_keeps_its_data_and_stops_it(open_home):
    home = open_home
    first = _cli("db", "upgrade", home=home)
    assert first.returncode == 0, first.stderr
    assert "database at revision" in first.stdout

    server = embedded.EmbeddedPostgres(home / "postgres")
    assert server.is_initialized()
    assert not server.is_running(), "the command must stop the server it started"

    again = _cli("db", "upgrade", home=home)
    assert again.returncode == 0, again.stderr
    # the data was kept: the second run finds the schema already at head
    assert "Running upgrade" not in again.stderr
    assert not server.is_running()


def test_server_runs_unprivileged_and_leaves_parent_permissions_alone(tmp_path):
    watched = [Path(p) for p in (sys.prefix, Path(sys.prefix).parent, Path.home(), tmp_path)]
    before = _modes(watched)
    server = embedded.temporary_server()
    server.start()
    try:
        with psycopg.connect(server.url()) as connection:
            pid = connection.execute("select pg_backend_pid()").fetchone()[0]
            data_directory = connection.execute("show data_directory").fetchone()[0]
            # the backend's process exists while its connection is open
            owner_uid = Path(f"/proc/{pid}").stat().st_uid
        assert Path(data_directory) == server.data_dir
        assert owner_uid != 0, "PostgreSQL must never run as root"
        assert _modes(watched) == before
    finally:
        server.stop()
    assert not server.is_running()
    shutil.rmtree(server.data_dir.parent)


@pytest.mark.skipif(os.geteuid() != 0, reason="the root layout applies only when run as root")
def test_as_root_binaries_live_outside_the_virtual_environment():
    assert embedded.server_bin_dir().is_relative_to(embedded.ROOT_HOME)
    assert embedded.default_home() == embedded.ROOT_HOME or os.environ.get("FLEETSPEND_HOME")
