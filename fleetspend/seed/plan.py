"""What each seed scale contains: the fixed time window, the organizations and their shape.

Pure data and small pure functions, no database and no randomness, so the shape of the large
scale can be checked by unit tests without loading it. The generator (:mod:`.fleet`) turns a
plan plus a seed into rows.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

# The window is fixed, never relative to today: same seed and scale, same rows, any day.
WINDOW_END = datetime(2026, 11, 26, tzinfo=UTC)
LONG_WINDOW_START = WINDOW_END - timedelta(days=90)  # demo and large: 2026-08-28
SMALL_WINDOW_START = datetime(2026, 9, 20, tzinfo=UTC)  # spans Sept, Oct (price change), Nov
# When the seeded organizations, people, teams and apps were created (before any machine).
ACCOUNTS_CREATED_AT = datetime(2026, 6, 1, tzinfo=UTC)

SCALES = ("small", "demo", "large")

# The IANA time zone of every region the plans use, for diurnal schedules.
REGION_TIMEZONES: dict[str, str] = {
    "iad": "America/New_York", "ewr": "America/New_York", "ord": "America/Chicago",
    "dfw": "America/Chicago", "lax": "America/Los_Angeles", "sjc": "America/Los_Angeles",
    "yyz": "America/Toronto", "ams": "Europe/Amsterdam", "arn": "Europe/Stockholm",
    "cdg": "Europe/Paris", "fra": "Europe/Berlin", "lhr": "Europe/London",
    "bom": "Asia/Kolkata", "nrt": "Asia/Tokyo", "sin": "Asia/Singapore",
    "syd": "Australia/Sydney", "gru": "America/Sao_Paulo", "jnb": "Africa/Johannesburg",
}
ALL_REGIONS = tuple(REGION_TIMEZONES)

# Presets weighted like real fleets: mostly small shared machines, some performance ones.
PRESET_WEIGHTS: dict[str, float] = {
    "shared-cpu-1x": 0.46, "shared-cpu-2x": 0.22, "shared-cpu-4x": 0.09,
    "shared-cpu-6x": 0.02, "shared-cpu-8x": 0.03, "performance-1x": 0.07,
    "performance-2x": 0.06, "performance-4x": 0.03, "performance-8x": 0.015,
    "performance-16x": 0.005,
}
# Weight of the memory tiers base, 2x, 4x, 8x base (tiers beyond the preset's limit drop out).
MEMORY_TIER_WEIGHTS = (0.55, 0.27, 0.13, 0.05)


@dataclass(frozen=True)
class OrgPlan:
    """One organization: how many machines it ever has in the window and where they run."""

    slug: str
    name: str
    machines: int  # every machine the org has in the window, destroyed ones included
    regions: tuple[str, ...]
    teams: int
    apps: int
    members: int  # users besides the admin@ and dev@ accounts every org has
    has_runaway: bool = False  # one app's machine count spikes for a few days
    has_migration: bool = False  # one app moves from one region to another mid-window


@dataclass(frozen=True)
class ScalePlan:
    """A whole seed: the window, the organizations and the support staff."""

    scale: str
    window_start: datetime
    window_end: datetime
    orgs: tuple[OrgPlan, ...]
    staff: int
    machines_per_chunk: int  # machines whose hourly usage is built and copied at once

    @property
    def hours(self) -> int:
        return int((self.window_end - self.window_start).total_seconds()) // 3600

    @property
    def seconds(self) -> int:
        return self.hours * 3600

    @property
    def machines(self) -> int:
        return sum(org.machines for org in self.orgs)


def _long_plan(scale: str, biggest: int, divisor: int) -> ScalePlan:
    """The demo and large shapes: one very big org across every region plus smaller ones."""

    def size(machines: int) -> int:
        return max(4, machines // divisor)

    return ScalePlan(
        scale=scale,
        window_start=LONG_WINDOW_START,
        window_end=WINDOW_END,
        orgs=(
            OrgPlan("northwind", "Northwind Logistics", biggest, ALL_REGIONS, teams=14,
                    apps=max(40, 420 // divisor), members=max(12, 60 // divisor),
                    has_runaway=True, has_migration=True),
            OrgPlan("acme-robotics", "Acme Robotics", size(1200),
                    ("iad", "ord", "lax", "ams", "fra", "lhr"), teams=6,
                    apps=max(12, 70 // divisor), members=14, has_migration=True),
            OrgPlan("kiwi-health", "Kiwi Health", size(300), ("syd", "sin", "nrt"), teams=4,
                    apps=max(8, 24 // divisor), members=8, has_runaway=True),
            OrgPlan("sabi-pay", "Sabi Pay", size(150), ("jnb", "lhr", "bom"), teams=3,
                    apps=8, members=6),
            OrgPlan("lumen-studio", "Lumen Studio", size(40), ("gru", "iad"), teams=2, apps=5,
                    members=4),
            OrgPlan("pebble-works", "Pebble Works", 8, ("ams",), teams=1, apps=2, members=1),
        ),
        staff=4,
        machines_per_chunk=600,
    )


def plan_for(scale: str) -> ScalePlan:
    """The plan of ``scale`` (one of :data:`SCALES`)."""
    if scale == "large":
        return _long_plan("large", biggest=10_000, divisor=1)
    if scale == "demo":
        return _long_plan("demo", biggest=1_200, divisor=8)
    if scale == "small":
        return ScalePlan(
            scale="small",
            window_start=SMALL_WINDOW_START,
            window_end=WINDOW_END,
            orgs=(
                OrgPlan("acme", "Acme Corporation", 30, ("iad", "lhr", "syd", "gru"), teams=3,
                        apps=6, members=3, has_runaway=True, has_migration=True),
                OrgPlan("globex", "Globex", 12, ("fra", "nrt", "jnb"), teams=2, apps=3,
                        members=2),
                OrgPlan("initech", "Initech", 4, ("sjc",), teams=1, apps=1, members=1),
            ),
            staff=2,
            machines_per_chunk=600,
        )
    raise ValueError(f"unknown seed scale {scale!r}; expected one of {', '.join(SCALES)}")
