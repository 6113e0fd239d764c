"""A/B of two checkouts' page views: each records what its pages run, then both are replayed
alternately on one database, so that a busy machine weighs on both sides alike.

    # in each checkout (its own code records its own statements; the script may live elsewhere)
    cd /work/main && BENCH_DATABASE_URL=... uv run python /path/to/bench/bench_views_ab.py \\
        record /tmp/before.pkl [--only NAME ...]
    cd /work/mine && BENCH_DATABASE_URL=... uv run python bench/bench_views_ab.py \\
        record /tmp/after.pkl [--only NAME ...]
    # then, from either checkout
    BENCH_DATABASE_URL=... uv run python bench/bench_views_ab.py compare /tmp/before.pkl \\
        /tmp/after.pkl [--repeats 25]

``record`` runs each view of bench_page_views.py (those whose name contains an ``--only``)
once in AppTest, as that benchmark does, and keeps every snapshot's scope and statements (SQL
and parameters as sent to the driver). ``compare`` replays the views both files hold through
the read pool, one side then the other, ``--repeats`` times, and prints per view p50 / p95 of
its whole reads and of each statement that differs between the sides or takes 2 ms or more
(a statement of queries/ by its file name, others by their first words), with the load
average.
"""

from __future__ import annotations

import argparse
import os
import pickle
import sys
from collections import defaultdict
from pathlib import Path

# the checkout run from is the code recorded: its own modules first
sys.path.insert(0, os.getcwd())
sys.path.insert(1, str(Path(__file__).resolve().parent.parent))

from bench import bench_page_views as views
from fleetspend import db

Recorded = dict[str, list[tuple[object, list[tuple[str, object]]]]]


def _url() -> str:
    url = os.environ.get("BENCH_DATABASE_URL")
    if not url:
        raise SystemExit("set BENCH_DATABASE_URL to a database seeded at the large scale")
    return url


def record(path: str, only: list[str]) -> None:
    url = _url()
    views._configure(url)
    recorded: Recorded = {}
    for name, page, params in views._views(url):
        if only and not any(part in name for part in only):
            continue
        view = views.record(name, page, params, 0)
        recorded[name] = [(snapshot.scope, list(snapshot.statements))
                          for snapshot in view.snapshots]
        print(f"recorded {name}: {view.statements} statements", file=sys.stderr)
    with open(path, "wb") as file:
        pickle.dump(recorded, file)


def compare(before: str, after: str, repeats: int) -> None:
    views._configure(_url())
    pool = db.read_pool()
    sides = []
    for path in (before, after):
        with open(path, "rb") as file:
            sides.append(pickle.load(file))
    print(f"load average at start: {views._load()}")
    for name in [name for name in sides[0] if name in sides[1]]:
        pair = [views.View(name, [db.RecordedSnapshot(scope, statements)  # type: ignore[arg-type]
                                  for scope, statements in side[name]]) for side in sides]
        totals: list[list[float]] = [[], []]
        timings: list[dict[str, list[float]]] = [defaultdict(list), defaultdict(list)]
        for view in pair:
            views.replay(pool, view)  # warm
        for _ in range(repeats):
            for side, view in enumerate(pair):
                totals[side].append(views.replay(pool, view, timings[side]))
        texts = [{statement for snapshot in view.snapshots
                  for statement, _params in snapshot.statements} for view in pair]
        changed = {views.statement_name(text) for text in texts[0] ^ texts[1]}
        print(f"\n{name} (load {views._load()}), p50 / p95 ms")
        for side, path in enumerate((before, after)):
            p50, p95 = views._pct(totals[side])
            print(f"  {Path(path).name}: view reads {p50:.1f} / {p95:.1f}")
            for statement, samples in timings[side].items():
                s50, s95 = views._pct(samples)
                if statement in changed or s50 >= 2:
                    print(f"    {statement:44} {s50:7.1f} / {s95:7.1f}")
    print(f"\nload average at end: {views._load()}")
    pool.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    recording = commands.add_parser("record")
    recording.add_argument("path")
    recording.add_argument("--only", action="append", default=[])
    comparing = commands.add_parser("compare")
    comparing.add_argument("before")
    comparing.add_argument("after")
    comparing.add_argument("--repeats", type=int, default=25)
    options = parser.parse_args()
    if options.command == "record":
        record(options.path, options.only)
    else:
        compare(options.before, options.after, options.repeats)


if __name__ == "__main__":
    main()
