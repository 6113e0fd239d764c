"""The generator proper: from a plan and a seed to machines, events, runs and hourly usage.

Times are whole seconds since the window start (int64). Everything is vectorized with numpy;
Python loops run per organization or per chunk of machines, never per machine-hour.

How a machine's life is built:

- it is created (stopped) at ``created``; after a short boot it starts, unless it sleeps at
  night and is created outside its working hours (then its morning start comes first);
- machines that sleep follow their region's local clock: start around 07:00, stop around
  22:00 (each day with its own jitter), off at weekends;
- a few machines are resized once; some are destroyed (churn, the runaway app's surplus, the
  migrated app's old machines); the rest live to the window end.

Its events in order are the ground truth. Between consecutive events the machine has one power
state and one size: a *segment*. Running segments are exactly the runs (a resize while running
splits a run), and cutting segments at hour boundaries gives the hourly usage: per
(machine, hour, size) the seconds running and the seconds in existence.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import TypedDict
from zoneinfo import ZoneInfo

import numpy as np

from fleetspend.seed import words
from fleetspend.seed.plan import (
    ACCOUNTS_CREATED_AT,
    MEMORY_TIER_WEIGHTS,
    PRESET_WEIGHTS,
    REGION_TIMEZONES,
    OrgPlan,
    ScalePlan,
)

# Event kinds, in the order they sort when they share an instant.
CREATE, START, STOP, RESIZE, DESTROY, END = range(6)
EVENT_KIND_NAMES = {START: "start", STOP: "stop", RESIZE: "resize", DESTROY: "destroy"}

HOUR = 3600
DAY = 86_400

# Internet egress per running hour scales by where the traffic leaves from.
EGRESS_GROUP_FACTORS = {"na_eu": 1.0, "apac_sa": 0.75, "africa_india": 0.55}
ROOTFS_CHOICES = (np.array([1, 2, 4, 8]), np.array([0.55, 0.25, 0.15, 0.05]))
VOLUME_SIZES = (np.array([1, 3, 5, 10, 20, 50, 100, 250, 500]),
                np.array([0.14, 0.16, 0.14, 0.18, 0.14, 0.12, 0.07, 0.03, 0.02]))


@dataclass(frozen=True)
class Catalog:
    """Reference data the generator needs, as read from the database."""

    region_codes: tuple[str, ...]
    region_egress_groups: tuple[str, ...]
    sizes: tuple[tuple[str, int], ...]  # every valid (preset_code, memory_mb)
    size_weights: np.ndarray

    @classmethod
    def build(cls, regions: list[tuple[str, str]],
              presets: list[tuple[str, str, int, int]],
              cpu_kind_limits: dict[str, tuple[int, int]]) -> Catalog:
        """``regions``: (code, egress group); ``presets``: (code, cpu kind, cpus, base MB);
        ``cpu_kind_limits``: cpu kind -> (min, max) MB of memory per vCPU."""
        sizes, weights = [], []
        for code, kind, cpus, base_mb in presets:
            if code not in PRESET_WEIGHTS:
                continue
            low, high = cpu_kind_limits[kind]
            tiers = [base_mb * 2**k for k in range(len(MEMORY_TIER_WEIGHTS))
                     if low * cpus <= base_mb * 2**k <= high * cpus and base_mb * 2**k % 256 == 0]
            tier_weights = np.array(MEMORY_TIER_WEIGHTS[: len(tiers)])
            for memory_mb, weight in zip(tiers, tier_weights / tier_weights.sum(), strict=True):
                sizes.append((code, memory_mb))
                weights.append(PRESET_WEIGHTS[code] * weight)
        missing = sorted(set(PRESET_WEIGHTS) - {code for code, *_ in presets})
        if missing:
            raise ValueError(f"presets table lacks the seeded presets: {', '.join(missing)}")
        total = np.array(weights)
        return cls(
            region_codes=tuple(code for code, _ in regions),
            region_egress_groups=tuple(group for _, group in regions),
            sizes=tuple(sizes),
            size_weights=total / total.sum(),
        )

    def region_index(self, code: str) -> int:
        try:
            return self.region_codes.index(code)
        except ValueError:
            raise ValueError(f"region {code!r} of the seed plan is not in the regions table") \
                from None


@dataclass
class Person:
    email: str
    name: str
    role: str  # admin | member


def _no_values() -> np.ndarray:
    return np.empty(0, dtype=np.int64)


class _Timeline(TypedDict):
    """A fleet's events and segments, as :class:`OrgFleet` holds them."""

    event_machine: np.ndarray
    event_at: np.ndarray
    event_kind: np.ndarray
    event_size: np.ndarray
    segment_machine: np.ndarray
    segment_start: np.ndarray
    segment_end: np.ndarray
    segment_running: np.ndarray
    segment_size: np.ndarray


@dataclass
class OrgFleet:
    """Everything generated for one organization (times in seconds since the window start)."""

    org_id: int
    plan: OrgPlan
    team_ids: np.ndarray
    team_names: list[str]
    app_ids: np.ndarray
    app_names: list[str]
    app_team: np.ndarray  # index into team_ids
    people: list[Person]
    # machines, ordered by machine id (the primary key order)
    machine_ids: np.ndarray  # int64, written as 14 hex digits
    machine_app: np.ndarray
    machine_region: np.ndarray  # index into Catalog.region_codes
    machine_size: np.ndarray  # size at creation, index into Catalog.sizes
    machine_rootfs: np.ndarray
    machine_created: np.ndarray
    machine_end: np.ndarray  # destroyed_at, or the window length if still alive
    machine_destroyed: np.ndarray
    machine_ipv4: np.ndarray
    machine_internet_rate: np.ndarray  # GB per running hour
    machine_private_rate: np.ndarray
    machine_utc_offset: np.ndarray  # hours, for the local-time traffic shape
    # events (real ones only), sorted by machine then time
    event_machine: np.ndarray
    event_at: np.ndarray
    event_kind: np.ndarray
    event_size: np.ndarray  # -1 unless a resize
    # segments: constant power state and size, sorted by machine then time
    segment_machine: np.ndarray
    segment_start: np.ndarray
    segment_end: np.ndarray
    segment_running: np.ndarray
    segment_size: np.ndarray
    # volumes, ordered by volume id
    volume_ids: list[str] = field(default_factory=list)
    volume_app: np.ndarray = field(default_factory=_no_values)
    volume_region: np.ndarray = field(default_factory=_no_values)
    volume_machine: np.ndarray = field(default_factory=_no_values)  # -1 when detached
    volume_size_gb: np.ndarray = field(default_factory=_no_values)
    volume_created: np.ndarray = field(default_factory=_no_values)
    volume_end: np.ndarray = field(default_factory=_no_values)
    volume_deleted: np.ndarray = field(default_factory=_no_values)

    @property
    def machine_count(self) -> int:
        return len(self.machine_ids)


def _local_schedule(plan: ScalePlan, region_codes: tuple[str, ...]) -> tuple[np.ndarray, ...]:
    """Per region and local day: UTC seconds (since the window start) of 07:00 and 22:00 local,
    and whether the day is a weekend there. Days cover the window with a day's margin."""
    first = (plan.window_start - timedelta(days=1)).date()
    days = (plan.window_end - plan.window_start).days + 2
    morning = np.zeros((len(region_codes), days), dtype=np.int64)
    evening = np.zeros_like(morning)
    weekend = np.zeros(morning.shape, dtype=bool)
    origin = plan.window_start
    for row, code in enumerate(region_codes):
        zone = ZoneInfo(REGION_TIMEZONES.get(code, "UTC"))
        for column in range(days):
            day = first + timedelta(days=column)
            at7 = datetime(day.year, day.month, day.day, 7, tzinfo=zone).astimezone(UTC)
            at22 = datetime(day.year, day.month, day.day, 22, tzinfo=zone).astimezone(UTC)
            morning[row, column] = int((at7 - origin).total_seconds())
            evening[row, column] = int((at22 - origin).total_seconds())
            weekend[row, column] = day.weekday() >= 5
    return morning, evening, weekend


def _utc_offsets(plan: ScalePlan, region_codes: tuple[str, ...]) -> np.ndarray:
    middle = plan.window_start + (plan.window_end - plan.window_start) / 2
    offsets = [middle.astimezone(ZoneInfo(REGION_TIMEZONES.get(code, "UTC"))).utcoffset()
               for code in region_codes]
    return np.array([round((offset or timedelta()).total_seconds() / HOUR)
                     for offset in offsets], dtype=np.int64)


def _unique_ids(rng: np.random.Generator, count: int, high: int, taken: set[int]) -> np.ndarray:
    """``count`` distinct random integers in [0, high) not in ``taken`` (which is updated)."""
    ids: list[int] = []
    while len(ids) < count:
        for candidate in rng.integers(0, high, size=count - len(ids), dtype=np.int64).tolist():
            if candidate not in taken:
                taken.add(candidate)
                ids.append(candidate)
    return np.array(ids, dtype=np.int64)


def _people(rng: np.random.Generator, plan: OrgPlan) -> list[Person]:
    people = [
        Person(f"admin@{plan.slug}.example", f"{plan.name} Admin", "admin"),
        Person(f"dev@{plan.slug}.example", f"{plan.name} Developer", "member"),
    ]
    combos = len(words.FIRST_NAMES) * len(words.LAST_NAMES)
    for pick in rng.choice(combos, size=plan.members, replace=False).tolist():
        first = words.FIRST_NAMES[pick // len(words.LAST_NAMES)]
        last = words.LAST_NAMES[pick % len(words.LAST_NAMES)]
        role = "admin" if rng.random() < 0.2 else "member"
        people.append(Person(f"{first.lower()}.{last.lower()}@{plan.slug}.example",
                             f"{first} {last}", role))
    return people


class _OrgBuilder:
    """Builds one organization's fleet; see the module docstring for the model."""

    def __init__(self, rng: np.random.Generator, scale: ScalePlan, catalog: Catalog,
                 schedule: tuple[np.ndarray, ...], offsets: np.ndarray) -> None:
        self.rng = rng
        self.scale = scale
        self.catalog = catalog
        self.morning, self.evening, self.weekend = schedule
        self.offsets = offsets
        self.length = scale.seconds

    def build(self, org_id: int, plan: OrgPlan, next_team_id: int, next_app_id: int,
              taken_machine_ids: set[int]) -> OrgFleet:
        rng, catalog, length = self.rng, self.catalog, self.length
        team_names = [words.TEAM_NAMES[i] for i in
                      sorted(rng.choice(len(words.TEAM_NAMES), plan.teams, replace=False))]
        people = _people(rng, plan)

        # apps: a name, a team, a role, regions, a size and a share of the fleet
        combos = len(words.APP_PREFIXES) * len(words.APP_ROLES)
        picks = rng.choice(combos, size=plan.apps, replace=False)
        roles = picks % len(words.APP_ROLES)
        app_names = [f"{words.APP_PREFIXES[p // len(words.APP_ROLES)]}-"
                     f"{words.APP_ROLES[p % len(words.APP_ROLES)]}" for p in picks.tolist()]
        app_team = rng.integers(0, plan.teams, size=plan.apps)
        role_names = [words.APP_ROLES[r] for r in roles.tolist()]
        stateful = np.array([r in words.STATEFUL_ROLES for r in role_names]) \
            & (rng.random(plan.apps) < 0.5)
        sleeps = (rng.random(plan.apps) < 0.3) & ~np.array(
            [r in words.NEVER_SLEEPING_ROLES for r in role_names])
        org_regions = np.array([catalog.region_index(code) for code in plan.regions])
        region_weights = rng.dirichlet(np.full(len(org_regions), 2.0))
        app_region_count = np.minimum(
            np.where(rng.random(plan.apps) < 0.3, rng.integers(2, 5, plan.apps), 1),
            len(org_regions))
        app_size = rng.choice(len(catalog.sizes), size=plan.apps, p=catalog.size_weights)
        app_internet_rate = rng.lognormal(np.log(0.03), 1.0, size=plan.apps)
        app_volume_gb = rng.choice(VOLUME_SIZES[0], size=plan.apps, p=VOLUME_SIZES[1])

        # the anomalies' machine budgets, then the regular fleet shared out by a heavy tail
        runaway = max(3, round(0.03 * plan.machines)) if plan.has_runaway else 0
        migrating = max(2, round(0.02 * plan.machines)) \
            if plan.has_migration and len(org_regions) > 1 else 0
        regular = plan.machines - runaway - migrating
        if regular < plan.apps + max(0, migrating - 1):
            raise ValueError(f"org {plan.slug}: {plan.machines} machines are too few for "
                             f"{plan.apps} apps and its anomalies")
        app_order = rng.permutation(plan.apps)
        runaway_app, migrating_app = int(app_order[0]), int(app_order[-1])
        if (runaway or migrating) and plan.apps < 2:
            raise ValueError(f"org {plan.slug}: anomalies need at least two apps")
        # every org shows each behaviour: some app sleeps at night, some app keeps volumes
        ordinary = [int(a) for a in app_order if a not in (runaway_app, migrating_app)
                    or not (runaway or migrating)]
        if ordinary and not sleeps[ordinary].any():
            sleeps[ordinary[0]] = True
        if ordinary and not stateful[ordinary].any():
            stateful[ordinary[-1]] = True
        shares = rng.pareto(1.1, plan.apps) + 0.05
        if runaway:
            shares[runaway_app] = 0.02  # a small app, so its spike stands out
        counts = np.ones(plan.apps, dtype=np.int64)
        if migrating:
            stateful[migrating_app] = True  # its old volumes stay behind, still billed
            shares[migrating_app] = 0.0
            counts[migrating_app] = migrating
            sleeps[migrating_app] = False
        counts += rng.multinomial(regular - counts.sum(), shares / shares.sum())

        machine_app = np.repeat(np.arange(plan.apps), counts)
        n = len(machine_app)
        # every app's regions: its first ones from a shuffled copy of the org's regions
        app_regions = np.array([rng.permutation(org_regions) for _ in range(plan.apps)])
        first_region = rng.choice(len(org_regions), size=plan.apps, p=region_weights)
        app_regions[np.arange(plan.apps), 0] = org_regions[first_region]
        slot = (rng.random(n) * app_region_count[machine_app]).astype(np.int64)
        machine_region = app_regions[machine_app, slot]
        machine_size = app_size[machine_app].copy()
        odd = rng.random(n) < 0.1
        machine_size[odd] = rng.choice(len(catalog.sizes), size=int(odd.sum()),
                                       p=catalog.size_weights)

        # lifetimes: most machines predate the window, the rest arrive faster and faster
        created = np.zeros(n, dtype=np.int64)
        grows = rng.random(n) >= 0.72
        created[grows] = (length * np.sqrt(rng.random(int(grows.sum())))).astype(np.int64)
        created = np.minimum(created, length - 2 * HOUR)
        boot = np.where(grows, rng.integers(5, 120, n), 0)
        end = np.full(n, length, dtype=np.int64)
        churn = rng.random(n) < np.where(grows, 0.2, 0.06)
        earliest = created + boot + 2 * HOUR
        churn &= earliest < length - 2 * HOUR
        span = np.maximum(length - HOUR - earliest, 1)
        end[churn] = earliest[churn] + (rng.random(int(churn.sum())) * span[churn]).astype(
            np.int64)
        destroyed = churn.copy()

        if migrating:
            # the app lives in one region until mid-window, then moves to another
            old_region, new_region = app_regions[migrating_app, 0], app_regions[migrating_app, 1]
            mine = machine_app == migrating_app
            machine_region[mine] = old_region
            created[mine], boot[mine] = 0, 0
            move_at = int(length * 0.45) + rng.integers(0, 2 * HOUR, migrating)
            end[mine], destroyed[mine] = move_at, True
            machine_app = np.concatenate([machine_app, np.full(migrating, migrating_app)])
            machine_region = np.concatenate([machine_region, np.full(migrating, new_region)])
            machine_size = np.concatenate([machine_size, machine_size[mine]])
            created = np.concatenate([created, move_at - 15 * 60])
            boot = np.concatenate([boot, rng.integers(5, 60, migrating)])
            end = np.concatenate([end, np.full(migrating, length)])
            destroyed = np.concatenate([destroyed, np.zeros(migrating, dtype=bool)])
        if runaway:
            # a bug makes one app spawn machines for a few days until someone notices
            spike = int(length * 0.6)
            sleeps[runaway_app] = False
            machine_app = np.concatenate([machine_app, np.full(runaway, runaway_app)])
            machine_region = np.concatenate(
                [machine_region, np.full(runaway, app_regions[runaway_app, 0])])
            machine_size = np.concatenate(
                [machine_size, np.full(runaway, app_size[runaway_app])])
            spawn = spike + (rng.random(runaway) * 1.5 * DAY).astype(np.int64)
            created = np.concatenate([created, spawn])
            boot = np.concatenate([boot, rng.integers(5, 60, runaway)])
            reaped = spike + int(3.5 * DAY) + (rng.random(runaway) * 1.5 * DAY).astype(np.int64)
            end = np.concatenate([end, np.minimum(reaped, length - HOUR)])
            destroyed = np.concatenate([destroyed, np.ones(runaway, dtype=bool)])
        n = len(machine_app)
        if n != plan.machines:
            raise AssertionError(f"org {plan.slug}: built {n} machines, planned {plan.machines}")

        ids = _unique_ids(rng, n, 16**14, taken_machine_ids)
        rootfs = rng.choice(ROOTFS_CHOICES[0], size=n, p=ROOTFS_CHOICES[1])
        ipv4 = np.zeros(n, dtype=bool)
        ipv4[rng.choice(n, size=max(1, round(0.02 * n)), replace=False)] = True
        resized = np.zeros(n, dtype=bool)
        room = end - (created + boot) > 4 * HOUR
        candidates = np.flatnonzero(room)
        resized[rng.choice(candidates, size=max(1, round(0.03 * n)), replace=False)] = True
        # a resize lands on an odd second, inside the machine's life after its boot
        resize_at = created + boot + 1 + (rng.random(n) * (end - created - boot - 2)).astype(
            np.int64)
        resize_at += (resize_at % 2 == 0)
        new_size = rng.choice(len(catalog.sizes), size=n, p=catalog.size_weights)
        new_size = np.where(new_size == machine_size, (new_size + 1) % len(catalog.sizes),
                            new_size)
        egress_factor = np.array([EGRESS_GROUP_FACTORS.get(group, 1.0)
                                  for group in catalog.region_egress_groups])
        internet_rate = app_internet_rate[machine_app] * egress_factor[machine_region] \
            * rng.lognormal(0.0, 0.3, n)
        private_rate = np.where(app_region_count[machine_app] > 1, 0.25 * internet_rate, 0.0)
        if migrating:
            private_rate[machine_app == migrating_app] = 0.0

        # from here on machines are in primary key order
        order = np.argsort(ids, kind="stable")
        machine_app, machine_region = machine_app[order], machine_region[order]
        machine_size, created, boot, end = (machine_size[order], created[order], boot[order],
                                            end[order])
        destroyed, ids, rootfs, ipv4 = destroyed[order], ids[order], rootfs[order], ipv4[order]
        resized, resize_at, new_size = resized[order], resize_at[order], new_size[order]
        internet_rate, private_rate = internet_rate[order], private_rate[order]
        machine_sleeps = sleeps[machine_app]

        events = self._events(created + boot, created, end, destroyed, machine_sleeps,
                              machine_region, machine_size, resized, resize_at, new_size)
        fleet = OrgFleet(
            org_id=org_id, plan=plan,
            team_ids=np.arange(next_team_id, next_team_id + plan.teams),
            team_names=team_names,
            app_ids=np.arange(next_app_id, next_app_id + plan.apps),
            app_names=app_names, app_team=app_team, people=people,
            machine_ids=ids, machine_app=machine_app, machine_region=machine_region,
            machine_size=machine_size, machine_rootfs=rootfs, machine_created=created,
            machine_end=end, machine_destroyed=destroyed, machine_ipv4=ipv4,
            machine_internet_rate=internet_rate, machine_private_rate=private_rate,
            machine_utc_offset=self.offsets[machine_region],
            **events,
        )
        self._volumes(fleet, stateful, app_volume_gb)
        return fleet

    def _toggles(self, region: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Daily start/stop instants of sleeping machines in ``region``: (times, valid), both
        (machines, 2 x days) with starts in even and stops in odd columns. Jitter is in even
        seconds so that no toggle meets a resize (odd seconds)."""
        count, days = len(region), self.morning.shape[1]
        starts = self.morning[region] + 2 * self.rng.integers(0, 2700, (count, days))
        stops = self.evening[region] + 2 * self.rng.integers(0, 2700, (count, days))
        times = np.empty((count, 2 * days), dtype=np.int64)
        times[:, 0::2], times[:, 1::2] = starts, stops
        valid = np.repeat(~self.weekend[region], 2, axis=1)
        return times, valid

    def _events(self, first_start: np.ndarray, created: np.ndarray, end: np.ndarray,
                destroyed: np.ndarray, sleeps: np.ndarray, region: np.ndarray,
                size: np.ndarray, resized: np.ndarray, resize_at: np.ndarray,
                new_size: np.ndarray) -> _Timeline:
        n = len(created)
        everyone = np.arange(n)
        machines, times, kinds, sizes = [everyone], [created], [np.full(n, CREATE)], [size]

        # machines awake at their first possible start start then; sleepers follow the clock
        awake = ~sleeps
        sleeper = np.flatnonzero(sleeps)
        if len(sleeper):
            toggle_at, valid = self._toggles(region[sleeper])
            boot_done = first_start[sleeper][:, None]
            before = (valid & (toggle_at <= boot_done)).sum(axis=1)
            awake[sleeper] = before % 2 == 1
            keep = valid & (toggle_at > boot_done) & (toggle_at < end[sleeper][:, None])
            rows, columns = np.nonzero(keep)
            machines.append(sleeper[rows])
            times.append(toggle_at[rows, columns])
            kinds.append(np.where(columns % 2 == 0, START, STOP))
            sizes.append(np.full(len(rows), -1))
        started = np.flatnonzero(awake)
        machines.append(started)
        times.append(first_start[started])
        kinds.append(np.full(len(started), START))
        sizes.append(np.full(len(started), -1))
        resizing = np.flatnonzero(resized)
        machines.append(resizing)
        times.append(resize_at[resizing])
        kinds.append(np.full(len(resizing), RESIZE))
        sizes.append(new_size[resizing])
        machines.append(everyone)
        times.append(end)
        kinds.append(np.where(destroyed, DESTROY, END))
        sizes.append(np.full(n, -1))

        machine = np.concatenate(machines)
        at = np.concatenate(times)
        kind = np.concatenate(kinds)
        size_set = np.concatenate(sizes)
        order = np.lexsort((kind, at, machine))
        machine, at, kind, size_set = machine[order], at[order], kind[order], size_set[order]

        # forward-fill the power state and the size; every machine's first event is CREATE,
        # which sets both, so nothing leaks from one machine to the next
        index = np.arange(len(kind))
        sets_power = kind != RESIZE
        power_from = np.maximum.accumulate(np.where(sets_power, index, 0))
        running = kind[power_from] == START
        size_from = np.maximum.accumulate(np.where(size_set >= 0, index, 0))
        size_after = size_set[size_from]

        real = (kind != CREATE) & (kind != END)
        # segments: from each event to the next one of the same machine
        follows = np.flatnonzero((machine[:-1] == machine[1:]) & (at[1:] > at[:-1]))
        return _Timeline(
            event_machine=machine[real], event_at=at[real], event_kind=kind[real],
            event_size=np.where(kind[real] == RESIZE, size_set[real], -1),
            segment_machine=machine[follows], segment_start=at[follows],
            segment_end=at[follows + 1], segment_running=running[follows],
            segment_size=size_after[follows],
        )

    def _volumes(self, fleet: OrgFleet, stateful: np.ndarray, app_volume_gb: np.ndarray) -> None:
        """One volume per machine of a stateful app; some outlive their destroyed machine."""
        rng, length = self.rng, self.length
        owners = np.flatnonzero(stateful[fleet.machine_app])
        count = len(owners)
        alphabet = np.frombuffer(b"0123456789abcdefghijklmnopqrstuvwxyz", dtype=np.uint8)
        names = alphabet[rng.integers(0, 36, (count, 16))]
        ids = ["vol_" + row.tobytes().decode() for row in names]
        orphaned = fleet.machine_destroyed[owners] & (rng.random(count) < 0.15)
        if count and not orphaned.any() and fleet.machine_destroyed[owners].any():
            orphaned[np.flatnonzero(fleet.machine_destroyed[owners])[0]] = True
        order = np.argsort(np.array(ids, dtype=object), kind="stable") if count else \
            np.zeros(0, dtype=np.int64)
        owners, orphaned = owners[order], orphaned[order]
        fleet.volume_ids = [ids[i] for i in order.tolist()]
        if len(set(fleet.volume_ids)) != count:
            raise AssertionError("volume ids collided; try another seed")
        fleet.volume_app = fleet.machine_app[owners]
        fleet.volume_region = fleet.machine_region[owners]
        fleet.volume_machine = owners
        fleet.volume_size_gb = app_volume_gb[fleet.volume_app]
        fleet.volume_created = fleet.machine_created[owners]
        fleet.volume_deleted = fleet.machine_destroyed[owners] & ~orphaned
        fleet.volume_end = np.where(fleet.volume_deleted, fleet.machine_end[owners], length)


def build_fleets(plan: ScalePlan, catalog: Catalog, seed: int) -> list[OrgFleet]:
    """Every organization of ``plan``, generated from ``seed`` (deterministically)."""
    rng = np.random.Generator(np.random.PCG64(seed))
    builder = _OrgBuilder(rng, plan, catalog, _local_schedule(plan, catalog.region_codes),
                          _utc_offsets(plan, catalog.region_codes))
    fleets, team_id, app_id = [], 1, 1
    taken: set[int] = set()
    for org_id, org in enumerate(plan.orgs, start=1):
        fleet = builder.build(org_id, org, team_id, app_id, taken)
        team_id += org.teams
        app_id += org.apps
        fleets.append(fleet)
    return fleets


@dataclass
class UsageChunk:
    """Hourly machine usage rows for a run of consecutive machines (primary key order)."""

    machine: np.ndarray
    hour: np.ndarray  # hours since the window start
    size: np.ndarray
    runtime_seconds: np.ndarray
    stopped_rootfs_gb_seconds: np.ndarray
    egress_internet_micro_gb: np.ndarray
    egress_private_micro_gb: np.ndarray
    dedicated_ipv4_seconds: np.ndarray


def _split_by_hour(start: np.ndarray, end: np.ndarray) -> tuple[np.ndarray, np.ndarray,
                                                                 np.ndarray]:
    """Cut intervals [start, end) at hour boundaries: (interval index, hour, seconds)."""
    first = start // HOUR
    last = (end - 1) // HOUR
    pieces = last - first + 1
    which = np.repeat(np.arange(len(start)), pieces)
    offsets = np.cumsum(pieces) - pieces
    hour = first[which] + (np.arange(len(which)) - offsets[which])
    seconds = np.minimum(end[which], (hour + 1) * HOUR) - np.maximum(start[which], hour * HOUR)
    return which, hour, seconds


def _traffic_shape(local_hour: np.ndarray) -> np.ndarray:
    """Relative traffic by local hour of day: quiet at night, busiest mid-afternoon."""
    return 1.0 + 0.6 * np.cos(2 * np.pi * (local_hour - 15) / 24)


def usage_chunks(fleet: OrgFleet, rng: np.random.Generator,
                 machines_per_chunk: int) -> Iterator[UsageChunk]:
    """The org's hourly machine usage, ``machines_per_chunk`` machines at a time."""
    bounds = np.searchsorted(fleet.segment_machine,
                             np.arange(0, fleet.machine_count + machines_per_chunk,
                                       machines_per_chunk))
    for low, high in itertools.pairwise(bounds):
        if high <= low:
            continue
        yield _usage(fleet, rng, slice(low, high))


def _usage(fleet: OrgFleet, rng: np.random.Generator, part: slice) -> UsageChunk:
    segment_machine = fleet.segment_machine[part]
    which, hour, seconds = _split_by_hour(fleet.segment_start[part], fleet.segment_end[part])
    machine = segment_machine[which]
    size = fleet.segment_size[part][which]
    running = fleet.segment_running[part][which]
    # one row per (machine, hour, size): pieces of the same key are adjacent, so sum them
    new_key = np.ones(len(machine), dtype=bool)
    new_key[1:] = (machine[1:] != machine[:-1]) | (hour[1:] != hour[:-1]) \
        | (size[1:] != size[:-1])
    starts = np.flatnonzero(new_key)
    runtime = np.add.reduceat(np.where(running, seconds, 0), starts)
    existing = np.add.reduceat(seconds, starts)
    machine, hour, size = machine[starts], hour[starts], size[starts]
    local_hour = (hour + fleet.machine_utc_offset[machine]) % 24
    noise = rng.lognormal(0.0, 0.35, len(machine))
    running_hours = runtime / HOUR
    internet = fleet.machine_internet_rate[machine] * running_hours \
        * _traffic_shape(local_hour) * noise
    private = fleet.machine_private_rate[machine] * running_hours * noise
    return UsageChunk(
        machine=machine, hour=hour, size=size, runtime_seconds=runtime,
        stopped_rootfs_gb_seconds=fleet.machine_rootfs[machine] * (existing - runtime),
        egress_internet_micro_gb=np.rint(internet * 1e6).astype(np.int64),
        egress_private_micro_gb=np.rint(private * 1e6).astype(np.int64),
        dedicated_ipv4_seconds=np.where(fleet.machine_ipv4[machine], existing, 0),
    )


def volume_usage(fleet: OrgFleet) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Hourly volume usage: (volume index, hour, GB-hours in millionths, rounded half up)."""
    which, hour, seconds = _split_by_hour(fleet.volume_created, fleet.volume_end)
    micro = (fleet.volume_size_gb[which].astype(np.int64) * seconds * 1_000_000 + HOUR // 2) \
        // HOUR
    return which, hour, micro


def accounts_created_at(days: int) -> datetime:
    """The creation time of seeded accounts, ``days`` after the accounts epoch."""
    return ACCOUNTS_CREATED_AT + timedelta(days=days)
