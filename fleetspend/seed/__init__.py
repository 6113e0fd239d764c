"""Deterministic demo data: ``generate(engine, scale=..., seed=...)`` replaces every tenant.

The same seed and scale give byte-identical rows: numpy's PCG64 generator is the only source
of randomness and the time window is fixed (it ends at :data:`WINDOW_END`, 2026-11-26 00:00
UTC, so November is a partial current month). Scales (see :mod:`.plan`):

- ``small`` (tests): 3 organizations (acme, globex, initech), 46 machines, from 2026-09-20,
  so it spans September, October with the 2026-10-15 price change, and part of November;
- ``demo`` (the app's default): the large shape shrunk (1,418 machines), 90 days;
- ``large`` (benchmarks): 90 days; the biggest organization, ``northwind``, has exactly
  10,000 machines in the window in total (destroyed ones included; with seed 1 about 8,600
  are alive at its peak) across all 18 regions, beside five smaller organizations; about 19
  million hourly machine usage rows in all.

The seed records what it loaded in ``seeded_dataset`` and refuses to replace a database
holding organizations or finalized invoices it did not create (``discard_existing_data`` for
throw-away databases only); demo mode runs only on such seeded data.

People to sign in as: every organization has ``admin@<slug>.example`` (admin) and
``dev@<slug>.example`` (member), plus a few ``first.last@<slug>.example`` users; support staff
are ``support1@fleetspend.example``, ``support2@...`` and so on.

The shape of the data: teams and apps (each app in a team), presets weighted like real
fleets with valid memory tiers, machines that sleep at local night and at weekends, growth
and churn over time, a runaway app (a machine-count spike for a few days), a region migration
(an app moves region mid-window), volumes on stateful apps (some outlive their machine),
internet egress shaped by region and local time, private egress for multi-region apps, a few
dedicated IPv4 addresses and resizes. Machine events are the ground truth; runs and hourly
usage are derived from them exactly (see :mod:`.fleet`).

The demo and large scales are also invoiced by the billing engine (see :mod:`.billing`).
"""

from fleetspend.seed.dataset import SeedRefusedError
from fleetspend.seed.load import SeedSummary, generate
from fleetspend.seed.plan import (
    LONG_WINDOW_START,
    SCALES,
    SMALL_WINDOW_START,
    WINDOW_END,
    plan_for,
)

__all__ = [
    "LONG_WINDOW_START",
    "SCALES",
    "SMALL_WINDOW_START",
    "WINDOW_END",
    "SeedRefusedError",
    "SeedSummary",
    "generate",
    "plan_for",
]
