"""The seed's plans and generator without a database: shapes, determinism, lifecycle rules.

The catalog comes from the first migration's reference data, so these tests see the same
regions and presets the database holds.
"""

from __future__ import annotations

import importlib.util
import re
from datetime import UTC, datetime
from functools import cache

import numpy as np
import pytest

from fleetspend.schema import PROJECT_ROOT
from fleetspend.seed import LONG_WINDOW_START, SMALL_WINDOW_START, WINDOW_END, plan_for
from fleetspend.seed.fleet import (
    DESTROY,
    RESIZE,
    START,
    STOP,
    Catalog,
    build_fleets,
    usage_chunks,
    volume_usage,
)
from fleetspend.seed.plan import ALL_REGIONS, REGION_TIMEZONES

SLUG = re.compile(r"^[a-z0-9][a-z0-9-]{1,62}$")


@cache
def catalog() -> Catalog:
    path = next((PROJECT_ROOT / "migrations" / "versions").glob("0001_*.py"))
    spec = importlib.util.spec_from_file_location("migration_0001", path)
    migration = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(migration)
    return Catalog.build(
        [(region[0], region[7]) for region in migration.REGIONS],
        [tuple(preset) for preset in migration.PRESETS],
        {"shared": (256, 2048), "performance": (2048, 8192)},
    )


def test_window_is_fixed() -> None:
    assert datetime(2026, 11, 26, tzinfo=UTC) == WINDOW_END
    assert plan_for("large").window_start == LONG_WINDOW_START == datetime(2026, 8, 28,
                                                                          tzinfo=UTC)
    assert plan_for("demo").hours == plan_for("large").hours == 90 * 24
    assert plan_for("small").window_start == SMALL_WINDOW_START == datetime(2026, 9, 20,
                                                                           tzinfo=UTC)


def test_plans_have_the_promised_shape() -> None:
    small, demo, large = plan_for("small"), plan_for("demo"), plan_for("large")
    assert len(small.orgs) == 3
    assert 20 <= small.machines <= 60
    biggest = large.orgs[0]
    assert biggest.machines == 10_000
    assert set(biggest.regions) == set(ALL_REGIONS) and len(ALL_REGIONS) == 18
    assert [o.slug for o in demo.orgs] == [o.slug for o in large.orgs]
    assert demo.machines < large.machines / 5
    for plan in (small, demo, large):
        sizes = sorted((o.machines for o in plan.orgs), reverse=True)
        assert sizes[0] >= 7 * sizes[-1]  # organizations of very different sizes
        for org in plan.orgs:
            assert SLUG.match(org.slug)
            assert set(org.regions) <= set(REGION_TIMEZONES)


def test_unknown_scale_is_rejected() -> None:
    with pytest.raises(ValueError, match="unknown seed scale 'huge'"):
        plan_for("huge")


def test_catalog_memory_tiers_are_valid() -> None:
    for preset, memory in catalog().sizes:
        cpus = int(re.search(r"(\d+)x$", preset).group(1))
        low, high = (256, 2048) if preset.startswith("shared") else (2048, 8192)
        assert memory % 256 == 0 and cpus * low <= memory <= cpus * high, (preset, memory)
    assert np.isclose(catalog().size_weights.sum(), 1.0)
    # mostly shared-cpu-1x/2x, some performance
    shared_small = sum(w for (p, _), w in zip(catalog().sizes, catalog().size_weights,
                                              strict=True)
                       if p in ("shared-cpu-1x", "shared-cpu-2x"))
    assert shared_small > 0.6


def test_large_fleet_has_exactly_ten_thousand_machines_in_the_biggest_org() -> None:
    fleets = build_fleets(plan_for("large"), catalog(), seed=1)
    biggest = fleets[0]
    assert [f.machine_count for f in fleets] == [o.machines for o in plan_for("large").orgs]
    assert biggest.machine_count == 10_000
    assert len(set(biggest.machine_ids.tolist())) == 10_000
    codes = {catalog().region_codes[r] for r in np.unique(biggest.machine_region)}
    assert codes == set(ALL_REGIONS)
    # growth: more machines alive at the end than at the start
    length = plan_for("large").seconds
    alive_at = [int(((biggest.machine_created <= t) & (biggest.machine_end > t)).sum())
                for t in (0, length - 1)]
    assert alive_at[1] > alive_at[0]


def test_same_seed_same_fleet_and_another_seed_differs() -> None:
    plan = plan_for("small")
    first, second, other = (build_fleets(plan, catalog(), seed) for seed in (3, 3, 4))
    for a, b, c in zip(first, second, other, strict=True):
        assert np.array_equal(a.machine_ids, b.machine_ids)
        assert np.array_equal(a.event_at, b.event_at)
        assert a.volume_ids == b.volume_ids
        assert not np.array_equal(a.machine_ids, c.machine_ids)
    chunks = [[chunk.egress_internet_micro_gb for f in fleets
               for chunk in usage_chunks(f, np.random.Generator(np.random.PCG64(9)), 7)]
              for fleets in (first, second)]
    assert all(np.array_equal(x, y) for x, y in zip(*chunks, strict=True))


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_events_alternate_and_segments_tile_each_life(seed: int) -> None:
    for fleet in build_fleets(plan_for("small"), catalog(), seed):
        for machine in range(fleet.machine_count):
            mine = fleet.event_machine == machine
            kinds = fleet.event_kind[mine]
            times = fleet.event_at[mine]
            assert np.all(np.diff(times) > 0)  # no two events of a machine at one instant
            power = kinds[(kinds == START) | (kinds == STOP)]
            assert power[0] == START
            assert np.all(power[::2] == START) and np.all(power[1::2] == STOP)
            assert (kinds == DESTROY).sum() == int(fleet.machine_destroyed[machine])
            if fleet.machine_destroyed[machine]:
                assert kinds[-1] == DESTROY and times[-1] == fleet.machine_end[machine]
            segments = fleet.segment_machine == machine
            starts, ends = fleet.segment_start[segments], fleet.segment_end[segments]
            assert starts[0] == fleet.machine_created[machine]
            assert ends[-1] == fleet.machine_end[machine]
            assert np.array_equal(starts[1:], ends[:-1])
            resizes = np.flatnonzero(kinds == RESIZE)
            assert np.all(fleet.event_size[mine][resizes] >= 0)


def test_usage_seconds_add_up_per_machine() -> None:
    plan = plan_for("small")
    for fleet in build_fleets(plan, catalog(), seed=5):
        rows = list(usage_chunks(fleet, np.random.Generator(np.random.PCG64(1)), 5))
        machine = np.concatenate([r.machine for r in rows])
        runtime = np.concatenate([r.runtime_seconds for r in rows])
        stopped = np.concatenate([r.stopped_rootfs_gb_seconds for r in rows])
        assert np.all((runtime >= 0) & (runtime <= 3600))
        lifetime = fleet.machine_end - fleet.machine_created
        running = np.bincount(fleet.segment_machine,
                              weights=(fleet.segment_end - fleet.segment_start)
                              * fleet.segment_running, minlength=fleet.machine_count)
        assert np.array_equal(np.bincount(machine, weights=runtime,
                                          minlength=fleet.machine_count), running)
        assert np.array_equal(
            np.bincount(machine, weights=stopped, minlength=fleet.machine_count),
            (lifetime - running) * fleet.machine_rootfs)
        if fleet.volume_ids:
            volume, hour, micro = volume_usage(fleet)
            assert np.all(hour >= fleet.volume_created[volume] // 3600)
            assert micro.sum() > 0
