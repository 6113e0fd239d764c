"""Reading an import file into typed records: the record kinds, their fields, and the parsers.

This is the part of an import that needs no database: each line is read, its record kind
found, and every field parsed and checked on its own (types, ranges, formats, UTC offsets).
Every problem found is kept with its line and field, so one pass reports them all.
See docs/import-format.md for the format this implements.
"""

from __future__ import annotations

import csv
import json
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from functools import cached_property, lru_cache
from pathlib import Path
from typing import Any

SECONDS_PER_HOUR = 3600
# NUMERIC(24, 6): six decimal places, eighteen digits before the point
QUANTITY_PLACES = 6
QUANTITY_LIMIT = Decimal(10) ** 18
SMALLINT_MAX = 32767
INTEGER_MAX = 2147483647
MEMORY_STEP_MB = 256
EVENT_KINDS = ("start", "stop", "resize", "destroy")
ROLES = ("admin", "member")
# the organizations table's check constraint, said before the database says it
SLUG = re.compile(r"[a-z0-9][a-z0-9-]{1,62}", re.ASCII)
EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")
ONE_HOUR = timedelta(hours=1)


@dataclass(frozen=True)
class Problem:
    """One thing wrong with an import file: where it is (line, field) and what it is."""

    message: str
    line: int | None = None
    field: str | None = None

    def render(self, file_name: str) -> str:
        where = file_name
        if self.line is not None:
            where += f" line {self.line}"
        if self.field is not None:
            where += f", field {self.field}"
        return f"{where}: {self.message}"


class FieldError(ValueError):
    """A field's value is not acceptable; the message says why, naming the value."""


@dataclass
class Record:
    """One record of an import file, with its fields parsed (absent optional fields are None)."""

    kind: str
    line: int
    values: dict[str, Any] = field(default_factory=dict)
    # False when a field had a problem; such a field's value is None, the others are kept so
    # names in them can still be checked against the database
    is_valid: bool = True


# --- field parsers: raw value (str from CSV; str, int, Decimal, bool... from JSON) -> value ---

def _shown(raw: Any) -> str:
    return json.dumps(raw, ensure_ascii=False) if isinstance(raw, str) else str(raw)


def _text(raw: Any) -> str:
    if not isinstance(raw, str):
        raise FieldError(f"{_shown(raw)} is not a string")
    value = raw.strip()
    if not value:
        raise FieldError("is empty")
    if not value.isprintable():
        raise FieldError(f"{_shown(value)} contains control or unprintable characters")
    return value


def _matching(pattern: str, description: str) -> Callable[[Any], str]:
    compiled = re.compile(pattern)

    def parse(raw: Any) -> str:
        value = _text(raw)
        if not compiled.fullmatch(value):
            raise FieldError(f"{_shown(value)} is not {description}")
        return value

    return parse


@dataclass(frozen=True)
class JsonExponent:
    """A JSON number written with an exponent (``1e3``), kept as its text to be rejected."""

    text: str

    def __str__(self) -> str:
        return self.text


def _refuse_unplain(raw: Any, kind: str) -> None:
    """Numbers are plain ASCII digits: say so when ``raw`` has an exponent or other digits."""
    if isinstance(raw, JsonExponent) or (isinstance(raw, str) and _EXPONENT.fullmatch(raw)):
        raise FieldError(f"{_shown(raw)} is written with an exponent; write {kind} in plain "
                         "digits")
    if isinstance(raw, str) and any(char.isnumeric() and not char.isascii() for char in raw):
        raise FieldError(f"{_shown(raw)} has digits other than 0-9; write {kind} in ASCII "
                         "digits")


# ASCII only: a bare \d would also match Arabic-Indic, fullwidth and other Unicode digits
_INTEGER = re.compile(r"\s*[+-]?[0-9]+\s*", re.ASCII)
_DECIMAL = re.compile(r"\s*[+-]?([0-9]+\.?[0-9]*|\.[0-9]+)\s*", re.ASCII)
_EXPONENT = re.compile(r"\s*[+-]?([0-9]+\.?[0-9]*|\.[0-9]+)[eE][+-]?[0-9]+\s*", re.ASCII)


def _integer(raw: Any) -> int:
    if isinstance(raw, bool):
        raise FieldError(f"{_shown(raw)} is not a whole number")
    if isinstance(raw, int):
        return raw
    if isinstance(raw, str) and _INTEGER.fullmatch(raw):
        return int(raw)
    _refuse_unplain(raw, "whole numbers")
    raise FieldError(f"{_shown(raw)} is not a whole number")


def _integer_between(low: int, high: int, high_reason: str) -> Callable[[Any], int]:
    def parse(raw: Any) -> int:
        value = _integer(raw)
        if value < low:
            raise FieldError(f"{value} is less than {low}")
        if value > high:
            raise FieldError(f"{value} is more than {high_reason}")
        return value

    return parse


def _memory(raw: Any) -> int:
    value = _integer(raw)
    if value <= 0 or value % MEMORY_STEP_MB:
        raise FieldError(f"{value} MB is not a positive multiple of {MEMORY_STEP_MB} MB")
    if value > INTEGER_MAX:
        raise FieldError(f"{value} MB is more than any machine has")
    return value


def _quantity(raw: Any) -> Decimal:
    # JSON numbers arrive as int, Decimal or JsonExponent (never float: see _JSON)
    if isinstance(raw, JsonExponent):
        _refuse_unplain(raw, "decimal numbers")
    if isinstance(raw, str) and _DECIMAL.fullmatch(raw):
        value = Decimal(raw.strip())
    elif isinstance(raw, int | Decimal) and not isinstance(raw, bool):
        value = Decimal(raw)
    else:
        _refuse_unplain(raw, "decimal numbers")
        raise FieldError(f"{_shown(raw)} is not a decimal number")
    if value < 0:
        raise FieldError(f"{_shown(raw)} is negative")
    if value >= QUANTITY_LIMIT:
        raise FieldError(f"{_shown(raw)} is too large (at most 18 digits before the point)")
    if value != value.quantize(Decimal(1).scaleb(-QUANTITY_PLACES)):
        raise FieldError(f"{_shown(raw)} has more than {QUANTITY_PLACES} decimal places")
    return value + 0  # normalise -0 to 0


def _timestamp(raw: Any) -> datetime:
    value = _text(raw)
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise FieldError(f"{_shown(value)} is not an ISO 8601 date and time") from None
    if parsed.tzinfo is None or parsed.utcoffset() is None:
        raise FieldError(
            f"{_shown(value)} has no UTC offset; time is UTC and says so "
            f"(for example {parsed.replace(tzinfo=UTC).isoformat().replace('+00:00', 'Z')})"
        )
    return parsed.astimezone(UTC)


def _hour(raw: Any) -> datetime:
    value = _timestamp(raw)
    if value != value.replace(minute=0, second=0, microsecond=0):
        raise FieldError(f"{_shown(raw)} is not the start of an hour (UTC)")
    return value


def _event_kind(raw: Any) -> str:
    value = _text(raw)
    if value not in EVENT_KINDS:
        raise FieldError(f"{_shown(value)} is not one of {', '.join(EVENT_KINDS)}")
    return value


def _role(raw: Any) -> str:
    value = _text(raw)
    if value not in ROLES:
        raise FieldError(f"{_shown(value)} is not one of {', '.join(ROLES)}")
    return value


def _email(raw: Any) -> str:
    """An email address, in lower case: sign-in compares emails without case."""
    value = _text(raw)
    if not EMAIL.fullmatch(value):
        raise FieldError(f"{_shown(value)} is not an email address")
    return value.lower()


def _cached(parse: Callable[[Any], Any]) -> Callable[[Any], Any]:
    """The parser, remembering recent results: files repeat the same names, hours and
    amounts on many lines. Values that cannot be hashed (JSON lists, objects) go straight
    through; typed=True keeps True apart from 1."""
    remembered = lru_cache(maxsize=65536, typed=True)(parse)

    def parse_value(raw: Any) -> Any:
        return (remembered(raw) if isinstance(raw, str | int | Decimal | JsonExponent)
                else parse(raw))

    return parse_value


PARSERS: dict[str, Callable[[Any], Any]] = {
    "org": _text,
    "app": _text,
    "machine_id": _matching(r"[0-9a-f]{14}", "a machine id (14 lowercase hex digits)"),
    "volume_id": _matching(r"vol_[0-9a-z]{16}", "a volume id (vol_ and 16 of a-z, 0-9)"),
    "region": _text,
    "preset": _text,
    "memory_mb": _memory,
    "rootfs_gb": _integer_between(1, SMALLINT_MAX, f"{SMALLINT_MAX} GB"),
    "size_gb": _integer_between(1, INTEGER_MAX, f"{INTEGER_MAX} GB"),
    "created_at": _timestamp,
    "destroyed_at": _timestamp,
    "deleted_at": _timestamp,
    "event_at": _timestamp,
    "hour_at": _hour,
    "kind": _event_kind,
    "runtime_seconds": _integer_between(
        0, SECONDS_PER_HOUR, f"the {SECONDS_PER_HOUR} seconds in an hour"),
    "dedicated_ipv4_seconds": _integer_between(
        0, SECONDS_PER_HOUR, f"the {SECONDS_PER_HOUR} seconds in an hour"),
    "stopped_rootfs_gb_seconds": _quantity,
    "egress_internet_gb": _quantity,
    "egress_private_gb": _quantity,
    "gb_hours": _quantity,
    "name": _text,
    "team": _text,
    "renamed_from": _text,
    "email": _email,
    "role": _role,
    "closed_at": _timestamp,
    "joined_at": _timestamp,
    "removed_at": _timestamp,
}
PARSERS = {name: _cached(parse) for name, parse in PARSERS.items()}


@dataclass(frozen=True)
class RecordKind:
    """A kind of record: its name in the file and its fields, required and optional."""

    name: str
    required: tuple[str, ...]
    optional: tuple[str, ...] = ()

    @cached_property
    def fields(self) -> tuple[str, ...]:
        return self.required + self.optional

    @cached_property
    def field_set(self) -> frozenset[str]:
        return frozenset(self.fields)


RECORD_KINDS = {
    kind.name: kind
    for kind in (
        RecordKind("machine", ("org", "app", "machine_id", "region", "preset", "memory_mb",
                               "rootfs_gb", "created_at"), ("destroyed_at",)),
        RecordKind("machine_event", ("org", "machine_id", "event_at", "kind"),
                   ("preset", "memory_mb")),
        RecordKind("machine_usage", ("org", "machine_id", "hour_at", "preset", "memory_mb",
                                     "runtime_seconds", "stopped_rootfs_gb_seconds",
                                     "egress_internet_gb", "egress_private_gb",
                                     "dedicated_ipv4_seconds")),
        RecordKind("volume", ("org", "app", "volume_id", "region", "size_gb", "created_at"),
                   ("machine_id", "deleted_at")),
        RecordKind("volume_usage", ("org", "volume_id", "hour_at", "gb_hours")),
        # accounts (fleetspend/ingest/accounts.py)
        RecordKind("organization", ("org", "name", "created_at"), ("closed_at",)),
        RecordKind("team", ("org", "team"), ("renamed_from",)),
        RecordKind("app", ("org", "app", "team"), ("renamed_from",)),
        RecordKind("user", ("email", "name")),
        RecordKind("membership", ("org", "email", "role", "joined_at"), ("removed_at",)),
        RecordKind("support_engineer", ("email", "name"), ("removed_at",)),
    )
}
ACCOUNT_KINDS = frozenset(("organization", "team", "app", "user", "membership",
                           "support_engineer"))
ALL_FIELDS = {"record", *PARSERS}


def _is_absent(raw: Any) -> bool:
    return raw is None or (isinstance(raw, str) and not raw.strip())


def parse_record(line: int, raw: dict[str, Any], problems: list[Problem]) -> Record | None:
    """Parse one line's raw fields into a Record, adding any problems found to ``problems``.

    None when the line names no known record kind."""
    kind_name = raw.get("record")
    if _is_absent(kind_name):
        problems.append(Problem("is missing: every record names its kind", line, "record"))
        return None
    kind = RECORD_KINDS.get(kind_name.strip()) if isinstance(kind_name, str) else None
    if kind is None:
        problems.append(Problem(
            f"{_shown(kind_name)} is not a record kind (one of {', '.join(RECORD_KINDS)})",
            line, "record"))
        return None

    record = Record(kind.name, line)
    is_valid = True
    for name in raw.keys() - kind.field_set:
        if name != "record" and not _is_absent(raw[name]):
            problems.append(Problem(f"is not a field of {kind.name} records", line, name))
            is_valid = False
    for name in kind.fields:
        value = raw.get(name)
        if _is_absent(value):
            if name in kind.required:
                problems.append(Problem(f"is missing (required in {kind.name} records)",
                                        line, name))
                is_valid = False
            record.values[name] = None
            continue
        try:
            record.values[name] = PARSERS[name](value)
        except FieldError as error:
            problems.append(Problem(str(error), line, name))
            record.values[name] = None
            is_valid = False
    record.is_valid = is_valid and _check_record(record, problems)
    return record


def _check_record(record: Record, problems: list[Problem]) -> bool:
    """Checks between the fields of one record."""
    values = record.values
    before = len(problems)
    if record.kind == "machine_event":
        is_resize = values["kind"] == "resize"
        for name in ("preset", "memory_mb"):
            if is_resize and values[name] is None:
                problems.append(Problem("is missing (a resize names the new size)",
                                        record.line, name))
            elif not is_resize and values[name] is not None:
                problems.append(Problem(f"only resize events name a size, not {values['kind']}",
                                        record.line, name))
    if record.kind == "organization" and values["org"] and not SLUG.fullmatch(values["org"]):
        problems.append(Problem(
            f"{_shown(values['org'])} is not a slug (2 to 63 of a-z, 0-9 and -, not starting "
            "with -)", record.line, "org"))
    if (record.kind in ("team", "app") and values["renamed_from"] is not None
            and values["renamed_from"] == values[record.kind]):
        problems.append(Problem(f"is the same as {record.kind}: a rename names the old name "
                                "here", record.line, "renamed_from"))
    ends = {"machine": ("created_at", "destroyed_at"), "volume": ("created_at", "deleted_at"),
            "organization": ("created_at", "closed_at"), "membership": ("joined_at", "removed_at")}
    if record.kind in ends:
        start, end = ends[record.kind]
        if values[end] is not None and values[start] is not None and values[end] < values[start]:
            problems.append(Problem(f"{values[end].isoformat()} is before {start} "
                                    f"{values[start].isoformat()}", record.line, end))
    return len(problems) == before


# --- file formats -------------------------------------------------------------------------

def _csv_rows(path: Path, problems: list[Problem]) -> Iterator[tuple[int, dict[str, Any]]]:
    with path.open(encoding="utf-8-sig", newline="") as stream:
        reader = csv.reader(stream)
        header = next(reader, None)
        if header is None:
            return  # an empty file holds no records, like a header alone or empty JSON Lines
        header = [name.strip() for name in header]
        header_ok = True
        for name in header:
            if name not in ALL_FIELDS:
                problems.append(Problem("is not a known column", 1, name or "(unnamed)"))
                header_ok = False
            elif header.count(name) > 1:
                problems.append(Problem("appears more than once in the header", 1, name))
                header_ok = False
        if "record" not in header:
            problems.append(Problem("is missing from the header: every CSV file has a record "
                                    "column naming each row's kind", 1, "record"))
            header_ok = False
        if not header_ok:
            return
        line = reader.line_num + 1
        for cells in reader:
            row_line, line = line, reader.line_num + 1
            if not cells:
                continue
            if len(cells) != len(header):
                problems.append(Problem(
                    f"has {len(cells)} cells but the header has {len(header)} columns", row_line))
                continue
            yield row_line, dict(zip(header, cells, strict=True))


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a number")


def _json_fraction(text: str) -> Decimal | JsonExponent:
    return JsonExponent(text) if "e" in text or "E" in text else Decimal(text)


# JSON numbers with a fraction become Decimal, exactly as written; one with an exponent is
# kept as its text for the field parser to reject; NaN is refused
_JSON = json.JSONDecoder(parse_float=_json_fraction, parse_constant=_reject_constant)


def _jsonl_rows(path: Path, problems: list[Problem]) -> Iterator[tuple[int, dict[str, Any]]]:
    with path.open(encoding="utf-8-sig") as stream:
        for line, text in enumerate(stream, start=1):
            if not text.strip():
                continue
            try:
                row = _JSON.decode(text)
            except ValueError as error:
                problems.append(Problem(f"is not valid JSON ({error})", line))
                continue
            if not isinstance(row, dict):
                problems.append(Problem("is not a JSON object", line))
                continue
            yield line, row


FORMATS = {".csv": _csv_rows, ".jsonl": _jsonl_rows}


def read_records(path: Path, problems: list[Problem]) -> list[Record]:
    """Every record of the file whose kind is known; problems go into ``problems``."""
    reader = FORMATS.get(path.suffix.lower())
    if reader is None:
        problems.append(Problem(
            f"has suffix {_shown(path.suffix)}; fleetspend imports .csv and .jsonl files"))
        return []
    try:
        rows = list(reader(path, problems))
    except UnicodeDecodeError as error:
        problems.append(Problem(f"is not UTF-8 text ({error.reason} at byte {error.start})"))
        return []
    except csv.Error as error:
        problems.append(Problem(f"is not a readable CSV file ({error})"))
        return []
    records = []
    for line, raw in rows:
        record = parse_record(line, raw, problems)
        if record is not None:
            records.append(record)
    return records
