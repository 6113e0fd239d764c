"""Reading import files without a database: formats, line numbers, and every field's rules."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from fleetspend.ingest.records import PARSERS, FieldError, Problem, read_records

USAGE_HEADER = ("record,org,machine_id,hour_at,preset,memory_mb,runtime_seconds,"
                "stopped_rootfs_gb_seconds,egress_internet_gb,egress_private_gb,"
                "dedicated_ipv4_seconds\n")
USAGE_ROW = ("machine_usage,acme,0a1b2c3d4e5f60,2026-11-02T08:00:00Z,shared-cpu-1x,256,"
             "3600,0,0.1,0,0\n")


def read(path: Path) -> tuple[list, list[tuple]]:
    problems: list[Problem] = []
    records = read_records(path, problems)
    return records, [(p.line, p.field, p.message) for p in problems]


@pytest.mark.parametrize("raw, expected", [
    ("2026-11-02T08:15:00Z", datetime(2026, 11, 2, 8, 15, tzinfo=UTC)),
    ("2026-11-02T09:15:00+01:00", datetime(2026, 11, 2, 8, 15, tzinfo=UTC)),
    ("2026-11-02 08:15:00.250000+00:00", datetime(2026, 11, 2, 8, 15, 0, 250000, tzinfo=UTC)),
])
def test_timestamps_with_an_offset_are_read_as_utc(raw, expected):
    parsed = PARSERS["event_at"](raw)
    assert parsed == expected
    assert parsed.utcoffset().total_seconds() == 0


@pytest.mark.parametrize("raw", ["2026-11-02T08:15:00", "2026-11-02", "2026-11-02 08:15"])
def test_timestamps_without_an_offset_are_rejected(raw):
    with pytest.raises(FieldError, match="has no UTC offset; time is UTC and says so"):
        PARSERS["event_at"](raw)


@pytest.mark.parametrize("raw", ["yesterday", "2026-13-01T00:00:00Z", "", 1700000000])
def test_non_timestamps_are_rejected(raw):
    with pytest.raises(FieldError):
        PARSERS["created_at"](raw)


def test_hours_must_start_an_hour_in_utc():
    assert PARSERS["hour_at"]("2026-11-02T09:00:00+01:00") == datetime(2026, 11, 2, 8,
                                                                        tzinfo=UTC)
    with pytest.raises(FieldError, match="is not the start of an hour"):
        PARSERS["hour_at"]("2026-11-02T09:00:00+05:30")


@pytest.mark.parametrize("raw, expected", [
    ("0.1", Decimal("0.1")), ("12.000001", Decimal("12.000001")), (Decimal("0.3"),
                                                                    Decimal("0.3")),
    (7, Decimal(7)), ("-0", Decimal(0)), (" 2.50 ", Decimal("2.5")),
])
def test_quantities_are_exact_decimals(raw, expected):
    parsed = PARSERS["egress_internet_gb"](raw)
    assert parsed == expected
    assert isinstance(parsed, Decimal)


@pytest.mark.parametrize("raw, message", [
    ("-0.5", "is negative"), ("0.0000001", "more than 6 decimal places"),
    ("NaN", "not a decimal number"), ("Infinity", "not a decimal number"),
    ("1_000", "not a decimal number"), ("1,5", "not a decimal number"),
    (True, "not a decimal number"), (0.1, "not a decimal number"),
    ("1000000000000000000", "too large"),
])
def test_bad_quantities_are_rejected(raw, message):
    with pytest.raises(FieldError, match=message):
        PARSERS["gb_hours"](raw)


@given(st.decimals(min_value=0, max_value=Decimal("999999999999.999999"), places=6,
                   allow_nan=False, allow_infinity=False))
def test_any_six_place_quantity_reads_back_exactly(value):
    assert PARSERS["stopped_rootfs_gb_seconds"](str(value)) == value


@pytest.mark.parametrize("field, raw, message", [
    ("runtime_seconds", "4000", "4000 is more than the 3600 seconds in an hour"),
    ("dedicated_ipv4_seconds", -1, "-1 is less than 0"),
    ("runtime_seconds", "1.0", "is not a whole number"),
    ("runtime_seconds", True, "is not a whole number"),
    ("memory_mb", "300", "300 MB is not a positive multiple of 256 MB"),
    ("memory_mb", 0, "is not a positive multiple"),
    ("rootfs_gb", 40000, "more than 32767 GB"),
    ("machine_id", "0A1B2C3D4E5F60", "is not a machine id"),
    ("volume_id", "vol_short", "is not a volume id"),
    ("kind", "reboot", "is not one of start, stop, resize, destroy"),
    ("org", 12, "is not a string"),
    ("app", "web\x00", "control or unprintable"),
])
def test_field_rules(field, raw, message):
    with pytest.raises(FieldError, match=message):
        PARSERS[field](raw)


@pytest.mark.parametrize("field", ["runtime_seconds", "memory_mb", "gb_hours",
                                   "stopped_rootfs_gb_seconds"])
@pytest.mark.parametrize("raw", ["1e3", "1E-2", " 2.5e+1 ", "1e18"])
def test_numbers_with_an_exponent_are_rejected(field, raw):
    with pytest.raises(FieldError, match=r"is written with an exponent; write .* in plain digits"):
        PARSERS[field](raw)


@pytest.mark.parametrize("field", ["runtime_seconds", "memory_mb", "gb_hours", "size_gb"])
@pytest.mark.parametrize("raw", ["\u0663", "\uff13", "2\u00b2", "\u0661.5", "1\u0968"])
def test_numbers_with_digits_other_than_ascii_are_rejected(field, raw):
    with pytest.raises(FieldError, match=f"{raw}.* has digits other than 0-9; write .* in "
                                         "ASCII digits"):
        PARSERS[field](raw)


@pytest.mark.parametrize("number, field", [("1e3", "gb_hours"), ("2E-1", "gb_hours"),
                                           ("5e2", "runtime_seconds"), ("1.0e3", "memory_mb")])
def test_jsonl_numbers_with_an_exponent_are_rejected_in_their_field(tmp_path, number, field):
    usage = {"record": "machine_usage", "org": "acme", "machine_id": "0a1b2c3d4e5f60",
             "hour_at": "2026-11-02T08:00:00Z", "preset": "shared-cpu-1x", "memory_mb": 256,
             "runtime_seconds": 0, "stopped_rootfs_gb_seconds": 0, "egress_internet_gb": 0,
             "egress_private_gb": 0, "dedicated_ipv4_seconds": 0}
    volume = {"record": "volume_usage", "org": "acme", "volume_id": "vol_0123456789abcdef",
              "hour_at": "2026-11-02T08:00:00Z", "gb_hours": 1}
    record = volume if field == "gb_hours" else usage
    text = json.dumps({**record, field: "NUMBER"}).replace('"NUMBER"', number)
    path = tmp_path / "usage.jsonl"
    path.write_text(text + "\n")
    _, problems = read(path)
    assert problems == [(1, field, f"{number} is written with an exponent; write "
                                   f"{'decimal' if field == 'gb_hours' else 'whole'} numbers "
                                   "in plain digits")]


def test_csv_line_numbers_count_physical_lines(tmp_path):
    path = tmp_path / "usage.csv"
    bad = USAGE_ROW.replace("3600", "3601")
    path.write_text(USAGE_HEADER + USAGE_ROW + "\n" + bad)
    records, problems = read(path)
    assert [record.line for record in records] == [2, 4]
    assert problems == [(4, "runtime_seconds",
                         "3601 is more than the 3600 seconds in an hour")]


def test_csv_rows_of_several_kinds_leave_other_columns_empty(tmp_path):
    path = tmp_path / "mixed.csv"
    path.write_text(
        "record,org,machine_id,event_at,kind,hour_at\n"
        "machine_event,acme,0a1b2c3d4e5f60,2026-11-02T08:00:00Z,start,\n"
        "machine_event,acme,0a1b2c3d4e5f60,2026-11-02T09:00:00Z,stop,2026-11-02T09:00:00Z\n")
    records, problems = read(path)
    assert records[0].is_valid and records[0].values["kind"] == "start"
    assert problems == [(3, "hour_at", "is not a field of machine_event records")]


@pytest.mark.parametrize("header, field, message", [
    ("org,machine_id\n", "record", "is missing from the header"),
    ("record,org,colour\n", "colour", "is not a known column"),
    ("record,org,org\n", "org", "appears more than once in the header"),
])
def test_csv_headers_are_checked(tmp_path, header, field, message):
    path = tmp_path / "bad.csv"
    path.write_text(header + "machine_event,acme,x\n")
    records, problems = read(path)
    assert records == []
    assert any(line == 1 and name == field and message in text
               for line, name, text in problems)


def test_csv_rows_with_the_wrong_number_of_cells(tmp_path):
    path = tmp_path / "short.csv"
    path.write_text(USAGE_HEADER + "machine_usage,acme\n")
    _, problems = read(path)
    assert problems == [(2, None, "has 2 cells but the header has 11 columns")]


def test_csv_with_a_byte_order_mark(tmp_path):
    path = tmp_path / "bom.csv"
    path.write_bytes(b"\xef\xbb\xbf" + (USAGE_HEADER + USAGE_ROW).encode())
    records, problems = read(path)
    assert problems == [] and len(records) == 1


def test_jsonl_reads_numbers_as_decimals_never_floats(tmp_path):
    path = tmp_path / "usage.jsonl"
    path.write_text(
        '{"record": "volume_usage", "org": "acme", "volume_id": "vol_0123456789abcdef",'
        ' "hour_at": "2026-11-02T08:00:00Z", "gb_hours": 0.1}\n')
    records, problems = read(path)
    assert problems == []
    assert records[0].values["gb_hours"] == Decimal("0.1")


@pytest.mark.parametrize("text, line, field, message", [
    ('{"record": "machine_event"\n', 1, None, "is not valid JSON"),
    ("[1, 2]\n", 1, None, "is not a JSON object"),
    ('\n{"org": "acme"}\n', 2, "record", "is missing"),
    ('{"record": "invoice"}\n', 1, "record", '"invoice" is not a record kind'),
    ('{"record": "volume_usage", "org": "acme", "volume_id": "vol_0123456789abcdef",'
     ' "hour_at": "2026-11-02T08:00:00Z", "gb_hours": NaN}\n', 1, None, "is not valid JSON"),
    ('{"record": "machine_event", "org": "acme", "machine_id": "0a1b2c3d4e5f60",'
     ' "event_at": "2026-11-02T08:00:00Z", "kind": "resize", "preset": "shared-cpu-2x"}\n',
     1, "memory_mb", "is missing (a resize names the new size)"),
    ('{"record": "machine_event", "org": "acme", "machine_id": "0a1b2c3d4e5f60",'
     ' "event_at": "2026-11-02T08:00:00Z", "kind": "stop", "memory_mb": 512}\n',
     1, "memory_mb", "only resize events name a size, not stop"),
    ('{"record": "volume", "org": "acme", "app": "web", "volume_id": "vol_0123456789abcdef",'
     ' "region": "iad", "size_gb": 3, "created_at": "2026-11-02T08:00:00Z",'
     ' "deleted_at": "2026-11-02T07:00:00Z"}\n',
     1, "deleted_at", "is before created_at"),
])
def test_jsonl_problems(tmp_path, text, line, field, message):
    path = tmp_path / "bad.jsonl"
    path.write_text(text)
    _, problems = read(path)
    assert len(problems) == 1
    assert problems[0][:2] == (line, field)
    assert message in problems[0][2]


def test_every_problem_in_a_line_is_reported(tmp_path):
    path = tmp_path / "usage.csv"
    path.write_text(USAGE_HEADER + "machine_usage,,0a1b2c3d4e5f6,2026-11-02T08:00:00,"
                    "shared-cpu-1x,255,3601,-1,x,0.1234567,0\n")
    _, problems = read(path)
    assert [field for _, field, _ in problems] == [
        "org", "machine_id", "hour_at", "memory_mb", "runtime_seconds",
        "stopped_rootfs_gb_seconds", "egress_internet_gb", "egress_private_gb"]


def test_problem_rendering_names_file_line_and_field():
    assert Problem("is negative", 17, "gb_hours").render("usage.csv") == \
        "usage.csv line 17, field gb_hours: is negative"
    assert Problem("has 2 cells", 3).render("usage.csv") == "usage.csv line 3: has 2 cells"
    assert Problem("is empty").render("usage.csv") == "usage.csv: is empty"


@pytest.mark.parametrize("name", ["usage.txt", "usage.json", "usage"])
def test_other_suffixes_are_rejected(tmp_path, name):
    path = tmp_path / name
    path.write_text("")
    records, problems = read(path)
    assert records == []
    assert "fleetspend imports .csv and .jsonl files" in problems[0][2]


def test_files_that_are_not_utf8_are_rejected(tmp_path):
    path = tmp_path / "latin1.csv"
    path.write_bytes(USAGE_HEADER.encode() + "machine_usage,café".encode("latin-1"))
    _, problems = read(path)
    assert "is not UTF-8 text" in problems[0][2]


def test_emails_are_read_in_lower_case_and_must_look_like_one():
    assert PARSERS["email"](" Ada@Lumen.Example ") == "ada@lumen.example"
    for raw in ("ada", "ada@", "@lumen.example", "ada@lumen", "a b@lumen.example"):
        with pytest.raises(FieldError, match="is not an email address"):
            PARSERS["email"](raw)


def test_account_records_check_their_own_fields(tmp_path):
    path = tmp_path / "accounts.jsonl"
    path.write_text("".join(json.dumps(record) + "\n" for record in [
        {"record": "organization", "org": "-lumen", "name": "Lumen",
         "created_at": "2026-10-15T09:00:00Z", "closed_at": "2026-10-01T00:00:00Z"},
        {"record": "team", "org": "lumen", "team": "Ops", "renamed_from": "Ops"},
        {"record": "membership", "org": "lumen", "email": "ada@lumen.example",
         "role": "owner", "joined_at": "2026-10-15T09:00:00Z"},
        {"record": "user", "email": "ada@lumen.example", "name": "Ada", "team": "Ops"},
        {"record": "support_engineer", "email": "sam@platform.example"},
    ]))
    _, problems = read(path)
    assert [(line, field) for line, field, _ in problems] == [
        (1, "org"), (1, "closed_at"), (2, "renamed_from"), (3, "role"), (4, "team"),
        (5, "name")]
    assert "is not a slug" in problems[0][2]
    assert "is before created_at" in problems[1][2]
