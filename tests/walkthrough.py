"""docs/connect-a-platform.md run as written: its `sh` blocks, line by line, in order.

The commands run verbatim under bash in a folder of their own, whose ``docs`` is the
repository's, with ``uv run`` standing for the project's environment (its ``bin`` first on
the PATH) and DATABASE_URL set to the test's database. Two kinds of line are long-running:

- ``fleetspend ingest FOLDER --watch``, the feed: started in the background, its log kept;
  after every later line, the walkthrough waits until the feed has taken every file waiting
  in the folder (moved to done/ or failed/), as a reader watching its log would;
- ``streamlit run serve.py``, the app: left to the test, which serves it with its own sign-in
  settings (see tests/e2e/test_connect_a_platform.py), or needs no app at all.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from fleetspend import feed

ROOT = Path(__file__).parent.parent
DOC = ROOT / "docs" / "connect-a-platform.md"
EXAMPLE = ROOT / "docs" / "examples" / "connect"
BLOCK = re.compile(r"^```(\w*)\n(.*?)^```\n", re.MULTILINE | re.DOTALL)
FEED_WAIT_S = 120


@dataclass(frozen=True)
class Step:
    """A numbered section of the walkthrough and the commands of its `sh` blocks."""

    heading: str
    commands: tuple[str, ...]


def blocks(language: str) -> list[str]:
    """The text of every fenced block of ``language`` in the walkthrough, in order."""
    return [text for kind, text in BLOCK.findall(DOC.read_text()) if kind == language]


def steps() -> list[Step]:
    """The walkthrough's sections (## headings) with their commands."""
    found = []
    for section in re.split(r"^## ", DOC.read_text(), flags=re.MULTILINE)[1:]:
        heading = section.splitlines()[0]
        commands = tuple(line for kind, text in BLOCK.findall(section) if kind == "sh"
                         for line in text.splitlines() if line.strip())
        found.append(Step(heading, commands))
    return found


class Walkthrough:
    """Runs the walkthrough's commands in ``folder`` against ``database_url``."""

    def __init__(self, folder: Path, database_url: str) -> None:
        self.folder = folder
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "docs").symlink_to(ROOT / "docs")
        self.env = {**os.environ, "DATABASE_URL": database_url, "REPLICA_URLS": "",
                    "PYTHONUNBUFFERED": "1",
                    "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"}
        self.feed_log = folder / "feed.log"
        self.feed: subprocess.Popen | None = None
        self.inbox: Path | None = None
        self.outputs: dict[str, str] = {}
        self.skipped: list[str] = []
        self.done: list[str] = []  # the headings of the steps run

    def run(self, step: Step) -> None:
        for command in step.commands:
            line = re.sub(r"^uv run ", "", command)
            if "streamlit run" in line:
                self.skipped.append(command)
            elif line.split()[:2] == ["fleetspend", "ingest"] and "--watch" in line:
                self._start_feed(line)
            else:
                done = subprocess.run(["bash", "-ec", line], cwd=self.folder, env=self.env,
                                      capture_output=True, text=True, timeout=300)
                assert done.returncode == 0, f"{command!r} failed:\n{done.stdout}{done.stderr}"
                self.outputs[command] = done.stdout
                self._wait_for_feed()

    def run_steps(self, until: str | None = None) -> None:
        """Run the steps not run yet, up to (not including) the first whose heading starts
        with ``until``; all of them without it."""
        for step in steps():
            if step.heading in self.done:
                continue
            if until is not None and step.heading.startswith(until):
                return
            self.run(step)
            self.done.append(step.heading)

    def _start_feed(self, line: str) -> None:
        self.inbox = self.folder / line.split()[2]
        output = self.feed_log.open("a")
        self.feed = subprocess.Popen(["bash", "-ec", f"exec {line}"], cwd=self.folder,
                                     env=self.env, stdout=output, stderr=subprocess.STDOUT)
        self._wait(lambda: " watching " in self.feed_log.read_text(), "the feed watches")

    def _wait_for_feed(self) -> None:
        if self.feed is not None and self.inbox is not None:
            self._wait(lambda: not feed.pending_files(self.inbox), "the feed takes every file")

    def _wait(self, condition, what: str) -> None:
        deadline = time.monotonic() + FEED_WAIT_S
        while not condition():
            if self.feed is not None and self.feed.poll() is not None:
                raise AssertionError(f"the feed exited:\n{self.feed_log.read_text()}")
            if time.monotonic() > deadline:
                raise AssertionError(f"timed out waiting until {what}:\n"
                                     f"{self.feed_log.read_text()}")
            time.sleep(0.1)

    def close(self) -> None:
        if self.feed is not None and self.feed.poll() is None:
            self.feed.terminate()
            self.feed.wait(timeout=30)
