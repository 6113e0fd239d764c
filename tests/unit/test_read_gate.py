"""The read pool's gate: page views get a connection in the order they asked, or a clear error."""

from __future__ import annotations

import threading
import time

import pytest

from fleetspend.db import PoolTimeoutError, _TurnGate


def _wait_until(condition, timeout_s: float = 5.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("timed out waiting")
        time.sleep(0.001)


def test_a_freed_slot_goes_to_the_longest_waiting_view_not_to_a_newcomer():
    gate = _TurnGate(1)
    gate.acquire(1)  # the slot is taken
    admitted: list[str] = []

    def view(name: str) -> None:
        gate.acquire(5)
        admitted.append(name)
        gate.release()

    threads = []
    for queued, name in enumerate(("first", "second", "third"), start=1):
        thread = threading.Thread(target=view, args=(name,))
        thread.start()
        threads.append(thread)
        _wait_until(lambda n=queued: len(gate._waiting) == n)  # queued in this order
    gate.release()
    # a newcomer arriving now must queue behind the three, not take the freed slot
    view("newcomer")
    for thread in threads:
        thread.join()
    assert admitted == ["first", "second", "third", "newcomer"]


def test_a_view_that_waits_too_long_gets_a_clear_error_and_leaves_no_trace():
    gate = _TurnGate(1)
    gate.acquire(1)
    with pytest.raises(PoolTimeoutError, match=r"no read connection was free within 0\.05 s"):
        gate.acquire(0.05)
    assert not gate._waiting
    gate.release()
    gate.acquire(0.05)  # the slot is free again: no phantom waiter holds it
