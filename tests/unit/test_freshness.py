"""What a page says about the age of its data, from the replica's state."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from fleetspend.reads import freshness

REPLAYED_AT = datetime(2026, 12, 5, 9, 0, tzinfo=UTC)


def _state(**changes: object) -> freshness.Freshness:
    base = {"is_replica": True, "is_receiving": True, "lag_seconds": 0.0, "lag_bytes": 0,
            "last_replayed_at": REPLAYED_AT, "usage_complete_through_at": None,
            "stale_after_s": 60.0}
    return freshness.Freshness(**{**base, **changes})


def test_a_streaming_replica_with_nothing_to_replay_is_current():
    state = _state()
    assert not state.is_stale and state.warning is None
    assert state.describe() == "Data 0 s behind live; no usage yet"


def test_a_replica_cut_off_past_the_threshold_warns_with_the_age_of_its_data():
    state = _state(is_receiving=False, lag_seconds=600.0)
    assert state.is_stale
    assert state.warning == (
        "These figures may be out of date: the replica serving this page is not receiving "
        "changes from the primary, and its data is 600 s old (last change replayed at "
        "2026-12-05 09:00:00 UTC).")
    assert state.describe().startswith("Copy of the data not receiving updates; it is 600 s old")


def test_a_replica_cut_off_moments_ago_says_so_without_a_warning():
    state = _state(is_receiving=False, lag_seconds=5.0)
    assert state.warning is None
    assert "not receiving updates" in state.describe()


def test_a_lagging_replica_of_unknown_age_warns():
    state = _state(lag_seconds=None, lag_bytes=4096, last_replayed_at=None)
    assert state.warning is not None and "behind" in state.warning


def test_the_primary_is_never_stale():
    assert _state(is_replica=False, last_replayed_at=None).warning is None


@pytest.mark.parametrize(("raw", "seconds"), [("", 60.0), ("300", 300.0), ("0.5", 0.5)])
def test_the_threshold_comes_from_the_environment(monkeypatch, raw, seconds):
    monkeypatch.setenv(freshness.STALE_AFTER_ENV, raw)
    assert freshness.stale_after_s() == seconds


@pytest.mark.parametrize("raw", ["soon", "0", "-5"])
def test_a_threshold_that_is_not_a_positive_number_is_refused(monkeypatch, raw):
    monkeypatch.setenv(freshness.STALE_AFTER_ENV, raw)
    with pytest.raises(ValueError, match=freshness.STALE_AFTER_ENV):
        freshness.stale_after_s()


def test_the_footer_says_live_data_not_database_words():
    footer = _state(is_replica=False, last_replayed_at=None).describe()
    assert footer.startswith("Live data;") and "primary" not in footer


def test_usage_that_stops_well_before_the_clock_warns_with_its_age():
    through = datetime(2026, 11, 26, tzinfo=UTC)
    late = _state(usage_complete_through_at=through, checked_at=datetime(2026, 12, 5, tzinfo=UTC))
    assert late.usage_warning == (
        "Usage is complete only through 2026-11-26 00:00 UTC, 9 days ago: usage since then "
        "has not arrived yet, so recent spend is missing from these figures.")
    recent = _state(usage_complete_through_at=through,
                    checked_at=datetime(2026, 11, 27, 8, tzinfo=UTC))
    assert recent.usage_warning is None
