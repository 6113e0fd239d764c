"""Vectorized encoding of numpy columns into PostgreSQL COPY text and binary formats.

Every column becomes a fixed-width byte matrix (one row per table row) plus a mask of which
bytes are real; tabs and newlines are one-byte columns. Laying the matrices side by side and
keeping the masked bytes, row by row, gives the COPY stream without a Python loop per row:
``matrix[mask]`` walks the matrix in row-major order.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import numpy as np

_DIGIT = np.uint8(ord("0"))
_NULL = b"\\N"
_HEX = np.frombuffer(b"0123456789abcdef", dtype=np.uint8)


@dataclass(frozen=True)
class Field:
    """One column of a chunk: bytes (rows x width) and the mask of bytes that belong."""

    data: np.ndarray
    mask: np.ndarray


@dataclass(frozen=True)
class Lookup:
    """A small table of byte strings, indexed by codes (machine ids, preset codes, hours)."""

    data: np.ndarray
    mask: np.ndarray

    @classmethod
    def of(cls, values: Sequence[str | bytes]) -> Lookup:
        encoded = [v.encode() if isinstance(v, str) else v for v in values]
        width = max((len(v) for v in encoded), default=1) or 1
        data = np.zeros((len(encoded), width), dtype=np.uint8)
        mask = np.zeros((len(encoded), width), dtype=bool)
        for row, value in enumerate(encoded):
            data[row, : len(value)] = np.frombuffer(value, dtype=np.uint8)
            mask[row, : len(value)] = True
        return cls(data, mask)

    def field(self, codes: np.ndarray) -> Field:
        return Field(self.data[codes], self.mask[codes])


def integers(values: np.ndarray) -> Field:
    """Non-negative integers in decimal."""
    values = np.asarray(values, dtype=np.int64)
    if values.size and values.min() < 0:
        raise ValueError("integers() formats non-negative values only")
    top = int(values.max()) if values.size else 0
    width = max(1, len(str(top)))
    powers = 10 ** np.arange(width - 1, -1, -1, dtype=np.int64)
    data = ((values[:, None] // powers) % 10).astype(np.uint8) + _DIGIT
    thresholds = 10 ** np.arange(1, width, dtype=np.int64)
    digits = 1 + (values[:, None] >= thresholds[None, :]).sum(axis=1)
    mask = np.arange(width)[None, :] >= (width - digits)[:, None]
    return Field(data, mask)


def decimals(micro: np.ndarray) -> Field:
    """Non-negative amounts given in millionths, written with six decimals (``12.000250``)."""
    micro = np.asarray(micro, dtype=np.int64)
    whole = integers(micro // 1_000_000)
    fraction = micro % 1_000_000
    powers = 10 ** np.arange(5, -1, -1, dtype=np.int64)
    fraction_data = ((fraction[:, None] // powers) % 10).astype(np.uint8) + _DIGIT
    point = np.full((len(micro), 1), ord("."), dtype=np.uint8)
    return Field(
        np.hstack([whole.data, point, fraction_data]),
        np.hstack([whole.mask, np.ones((len(micro), 7), dtype=bool)]),
    )


def nullable(field: Field, is_null: np.ndarray) -> Field:
    """``field`` with ``\\N`` (COPY's NULL) where ``is_null``."""
    data, mask = field.data, field.mask
    if data.shape[1] < 2:
        pad = ((0, 0), (0, 2 - data.shape[1]))
        data, mask = np.pad(data, pad), np.pad(mask, pad)
    else:
        data, mask = data.copy(), mask.copy()
    data[is_null, :2] = np.frombuffer(_NULL, dtype=np.uint8)
    mask[is_null] = False
    mask[is_null, :2] = True
    return Field(data, mask)


class Timestamps:
    """Formats seconds since an origin (whole seconds, UTC) as timestamptz text."""

    def __init__(self, origin: datetime, days: int) -> None:
        offset = origin.utcoffset()
        if offset is None or offset.total_seconds() != 0:
            raise ValueError("the timestamp origin must be a UTC datetime")
        if origin.hour or origin.minute or origin.second or origin.microsecond:
            raise ValueError("the timestamp origin must be midnight")
        self.days = days
        self._dates = Lookup.of([
            f"{(origin + timedelta(days=day)):%Y-%m-%d} " for day in range(days + 1)
        ])

    def field(self, seconds: np.ndarray) -> Field:
        seconds = np.asarray(seconds, dtype=np.int64)
        day, of_day = np.divmod(seconds, 86_400)
        if seconds.size and (day.min() < 0 or day.max() > self.days):
            raise ValueError("a timestamp falls outside the formatter's range of days")
        hour, rest = np.divmod(of_day, 3600)
        minute, second = np.divmod(rest, 60)
        clock = np.empty((len(seconds), 11), dtype=np.uint8)
        clock[:, 0], clock[:, 1] = hour // 10 + _DIGIT, hour % 10 + _DIGIT
        clock[:, 2] = ord(":")
        clock[:, 3], clock[:, 4] = minute // 10 + _DIGIT, minute % 10 + _DIGIT
        clock[:, 5] = ord(":")
        clock[:, 6], clock[:, 7] = second // 10 + _DIGIT, second % 10 + _DIGIT
        clock[:, 8:] = np.frombuffer(b"+00", dtype=np.uint8)
        date = self._dates.field(day)
        return Field(np.hstack([date.data, clock]),
                     np.hstack([date.mask, np.ones(clock.shape, dtype=bool)]))


def encode(fields: Sequence[Field]) -> bytes:
    """The COPY text rows of ``fields`` (columns in table order), tab-separated."""
    if not fields:
        raise ValueError("encode() needs at least one column")
    rows = fields[0].data.shape[0]
    tab = np.full((rows, 1), ord("\t"), dtype=np.uint8)
    newline = np.full((rows, 1), ord("\n"), dtype=np.uint8)
    ones = np.ones((rows, 1), dtype=bool)
    data_parts, mask_parts = [], []
    for position, field in enumerate(fields):
        if field.data.shape[0] != rows:
            raise ValueError("every column of a chunk needs the same number of rows")
        data_parts += [field.data, newline if position == len(fields) - 1 else tab]
        mask_parts += [field.mask, ones]
    data = np.hstack(data_parts)
    mask = np.hstack(mask_parts)
    return data[mask].tobytes()


def hex_ids(values: np.ndarray, width: int) -> Field:
    """Non-negative integers as ``width`` lowercase hex digits (machine ids)."""
    shifts = 4 * np.arange(width - 1, -1, -1, dtype=np.int64)
    nibbles = (np.asarray(values, dtype=np.int64)[:, None] >> shifts) & 15
    data = _HEX[nibbles]
    return Field(data, np.ones(data.shape, dtype=bool))


def constant(value: str | bytes, rows: int) -> Field:
    """The same text in every row (an org id, an event kind)."""
    return Lookup.of([value]).field(np.zeros(rows, dtype=np.int64))


# --- binary COPY ------------------------------------------------------------------------------
# Binary rows skip the server's text parsing of timestamps and numerics, which is most of the
# cost of text COPY for the wide hourly usage tables. Every field is a big-endian int32 length
# followed by the value in the type's binary send/receive format.

BINARY_HEADER = b"PGCOPY\n\xff\r\n\x00" + b"\x00\x00\x00\x00" + b"\x00\x00\x00\x00"
BINARY_TRAILER = b"\xff\xff"
_PG_EPOCH = datetime(2000, 1, 1, tzinfo=UTC)


def pack_binary(rows: int,
                columns: Sequence[tuple[str | tuple[str, int], np.ndarray | int]]) -> bytes:
    """Binary COPY rows of fixed-width columns, built as one numpy structured array.

    ``columns`` are (numpy format, values): ``'>i2'``, ``'>i4'``, ``'>i8'`` for integers and
    timestamps, ``'S<n>'`` for text of exactly n bytes, ``('>i2', 9)`` for numerics from
    :func:`numeric_words`; a scalar value fills the column. Each field gets its length word,
    each row its field count.
    """
    fields: list[tuple] = [("count", ">i2")]
    for position, (layout, _) in enumerate(columns):
        fields.append((f"length{position}", ">i4"))
        fields.append((f"value{position}", *((layout,) if isinstance(layout, str) else layout)))
    row_type = np.dtype(fields)
    # one template row carries the field count and every length word; copy it to all rows
    template = np.zeros(1, dtype=row_type)
    template["count"] = len(columns)
    for position in range(len(columns)):
        template[f"length{position}"] = row_type[f"value{position}"].itemsize
    packed = np.empty(rows, dtype=row_type)
    packed.view(np.uint8).reshape(rows, row_type.itemsize)[:] = template.view(np.uint8)
    for position, (_, values) in enumerate(columns):
        packed[f"value{position}"] = values
    return packed.tobytes()


def numeric_words(micro: np.ndarray) -> np.ndarray:
    """numeric's binary form (header and five base-10000 digits, as nine int16 words) of
    non-negative amounts given in millionths below 10**18, with six decimals.

    Always five digit groups (weight 2: three for the whole part, two for the fraction); the
    server strips zero groups on receipt.
    """
    micro = np.asarray(micro, dtype=np.int64)
    if micro.size and (micro.min() < 0 or micro.max() >= 10**18):
        raise ValueError("numeric_words() takes millionths in [0, 10**18)")
    whole, fraction = np.divmod(micro, 1_000_000)
    fraction *= 100  # eight decimal places: two base-10000 digits
    words = np.empty((len(micro), 9), dtype=np.int16)
    words[:, :4] = (5, 2, 0, 6)  # digit count, weight, sign (positive), display scale
    words[:, 4] = whole // 10**8 % 10**4
    words[:, 5] = whole // 10**4 % 10**4
    words[:, 6] = whole % 10**4
    words[:, 7] = fraction // 10**4
    words[:, 8] = fraction % 10**4
    return words


def pg_microseconds(origin: datetime, seconds: np.ndarray) -> np.ndarray:
    """timestamptz's binary form: microseconds since 2000-01-01 UTC, for ``seconds`` since
    ``origin``."""
    base = int((origin - _PG_EPOCH).total_seconds()) * 1_000_000
    return base + np.asarray(seconds, dtype=np.int64) * 1_000_000


def fixed_text(data: np.ndarray) -> np.ndarray:
    """A (rows x width) uint8 matrix of equal-length strings as a numpy ``S<width>`` array."""
    data = np.ascontiguousarray(data)
    return data.view(f"S{data.shape[1]}").reshape(data.shape[0])
