"""The vectorized COPY encoders: exact text, and binary fields in PostgreSQL's wire formats."""

from __future__ import annotations

import struct
from datetime import UTC, datetime
from decimal import Decimal

import numpy as np
import pytest

from fleetspend.seed import copytext


def test_text_rows_are_exact() -> None:
    clock = copytext.Timestamps(datetime(2026, 9, 30, tzinfo=UTC), 3)
    encoded = copytext.encode([
        copytext.integers(np.array([0, 7, 1234567])),
        copytext.decimals(np.array([0, 1, 12_000_250])),
        copytext.nullable(copytext.Lookup.of(["a", "shared-cpu-1x"]).field(np.array([1, 0, 0])),
                          np.array([False, True, False])),
        copytext.hex_ids(np.array([0, 255, 16**14 - 1]), 14),
        clock.field(np.array([0, 86_400 + 3661, 2 * 86_400 + 86_399])),
    ])
    assert encoded.decode().splitlines() == [
        "0\t0.000000\tshared-cpu-1x\t00000000000000\t2026-09-30 00:00:00+00",
        "7\t0.000001\t\\N\t000000000000ff\t2026-10-01 01:01:01+00",
        "1234567\t12.000250\ta\tffffffffffffff\t2026-10-02 23:59:59+00",
    ]


def test_timestamps_refuse_days_out_of_range() -> None:
    clock = copytext.Timestamps(datetime(2026, 9, 30, tzinfo=UTC), 1)
    with pytest.raises(ValueError, match="outside"):
        clock.field(np.array([3 * 86_400]))


def _numeric(words: np.ndarray) -> Decimal:
    count, weight, sign, scale, *digits = (int(w) for w in words)
    assert (count, sign, scale) == (5, 0, 6)
    value = sum(Decimal(d) * Decimal(10000) ** (weight - i) for i, d in enumerate(digits))
    return value.quantize(Decimal("0.000001"))


@pytest.mark.parametrize("micro", [0, 1, 999_999, 1_000_000, 123_456_789_012,
                                   10**18 - 1])
def test_numeric_words_encode_millionths(micro: int) -> None:
    words = copytext.numeric_words(np.array([micro]))[0]
    assert _numeric(words) == Decimal(micro) / Decimal(10**6)


def test_numeric_words_reject_negative_amounts() -> None:
    with pytest.raises(ValueError):
        copytext.numeric_words(np.array([-1]))


def test_binary_rows_follow_the_copy_layout() -> None:
    data = copytext.pack_binary(2, [
        (">i8", 42),
        ("S3", np.array([b"abc", b"xyz"])),
        (">i8", copytext.pg_microseconds(datetime(2000, 1, 1, 1, tzinfo=UTC),
                                         np.array([0, 1]))),
    ])
    row = struct.Struct(">h i q i 3s i q")
    assert len(data) == 2 * row.size
    assert row.unpack_from(data, 0) == (3, 8, 42, 3, b"abc", 8, 3_600_000_000)
    assert row.unpack_from(data, row.size) == (3, 8, 42, 3, b"xyz", 8, 3_601_000_000)
