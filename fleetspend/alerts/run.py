"""One alerts run (evaluate every organization, then send what is due) and the usage feed's
trigger that starts one after each imported file without making the feed wait."""

from __future__ import annotations

import threading
from collections.abc import Callable

from sqlalchemy import Engine

from fleetspend.alerts import delivery, evaluate

Log = Callable[[str], None]


def run_alerts(engine: Engine, log: Log, *, deliver: bool = True,
               policy: delivery.Policy | None = None) -> evaluate.Evaluation:
    """Evaluate every organization, then (unless not ``deliver``) send the due deliveries;
    one log line each. Evaluation has committed before the first send."""
    evaluation = evaluate.evaluate_all(engine)
    log(evaluation.describe())
    if deliver:
        log(delivery.deliver_due(engine, delivery.SmtpSettings.configured(), policy).describe())
    return evaluation


class AfterImports:
    """Call it after each imported file: an alerts run follows in a thread of its own.

    Calls while a run is going on make one more run after it, not one each; the feed never
    waits for evaluation or delivery. Errors are logged and the next call tries again.
    """

    def __init__(self, engine: Engine, log: Log) -> None:
        self._engine = engine
        self._log = log
        self._wanted = threading.Event()
        self._idle = threading.Event()
        self._idle.set()
        threading.Thread(target=self._loop, name="alerts-after-imports", daemon=True).start()

    def __call__(self) -> None:
        self._idle.clear()
        self._wanted.set()

    def wait_idle(self, timeout: float | None = None) -> bool:
        """Wait until no run is wanted or going on (tests, and a clean stop)."""
        return self._idle.wait(timeout)

    def _loop(self) -> None:
        while True:
            self._wanted.wait()
            self._wanted.clear()
            try:
                run_alerts(self._engine, lambda line: self._log(f"alerts: {line}"))
            except Exception as error:  # any failure: the feed goes on, cron catches up
                self._log(f"alerts: the run failed ({type(error).__name__}: {error}); "
                          "the next imported file or scheduled run tries again")
            if not self._wanted.is_set():
                self._idle.set()
