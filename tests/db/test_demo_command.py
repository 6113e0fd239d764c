"""`fleetspend demo` stops cleanly: on SIGTERM or SIGINT, Streamlit and the embedded server it
started stop with it, and the next start finds nothing left over.

The command runs as a newcomer runs it, on the embedded default server (FLEETSPEND_HOME in a
throw-away folder), with the small seed loaded first so that it starts in seconds. (`uv run`
forwards both signals to the command, so this is what `kill` on `uv run fleetspend demo` does.)
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from fleetspend import embedded
from tests.e2e.conftest import _free_port, _wait_healthy

STOP_TIMEOUT_S = 60


def _environment(home: Path) -> dict[str, str]:
    env = {name: value for name, value in os.environ.items()
           if name not in ("DATABASE_URL", "REPLICA_URLS", "APP_DATABASE_URL",
                           "APP_REPLICA_URLS")}
    return {**env, "FLEETSPEND_HOME": str(home)}


@pytest.fixture(scope="module")
def demo_home() -> Iterator[Path]:
    """A FLEETSPEND_HOME whose embedded server holds the small seed, and is stopped."""
    home = Path(tempfile.mkdtemp(prefix="fleetspend-demo-"))
    home.chmod(0o755)  # as root the server runs as the unprivileged 'fleetspend' user
    subprocess.run([sys.executable, "-m", "fleetspend", "seed", "--scale", "small"],
                   env=_environment(home), check=True, capture_output=True, timeout=300)
    yield home
    embedded.EmbeddedPostgres(home / "postgres").stop()
    shutil.rmtree(home, ignore_errors=True)


def _processes_mentioning(*needles: str) -> list[str]:
    """Command lines of running processes that contain any of ``needles``."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            command = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode()
        except OSError:  # ended meanwhile
            continue
        if any(needle in command for needle in needles):
            found.append(f"{entry.name}: {command}")
    return found


@pytest.mark.parametrize("stop_signal", [signal.SIGTERM, signal.SIGINT],
                         ids=["SIGTERM", "SIGINT"])
def test_a_signal_stops_the_demo_with_its_streamlit_and_postgresql(demo_home, stop_signal):
    data_dir = demo_home / "postgres"
    assert not embedded.EmbeddedPostgres(data_dir).is_running()  # nothing left from before
    port = _free_port()
    demo = subprocess.Popen(
        [sys.executable, "-m", "fleetspend", "demo", "--port", str(port)],
        env=_environment(demo_home), stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
        start_new_session=True)  # the signal reaches the command alone, as `kill PID` does
    try:
        _wait_healthy(f"http://127.0.0.1:{port}", demo)
        assert _processes_mentioning(f"--server.port {port}")
        assert _processes_mentioning(str(data_dir))
        demo.send_signal(stop_signal)
        output = demo.communicate(timeout=STOP_TIMEOUT_S)[0].decode()
    finally:
        if demo.poll() is None:
            demo.kill()
    assert demo.returncode == 0, output
    assert _processes_mentioning(f"--server.port {port}", str(data_dir)) == []
    assert not (data_dir / "postmaster.pid").exists()
    assert "Did not auto detect" not in output
