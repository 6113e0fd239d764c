"""URL values are parsed strictly: ASCII digits within the column's range, dates whose
arithmetic cannot overflow, text PostgreSQL accepts."""

from __future__ import annotations

from datetime import date

import pytest

from fleetspend import urlvalues
from fleetspend.reads import invoice_drill as drill
from fleetspend.ui.url_state import ParamReader


@pytest.mark.parametrize("raw", ["²", "٣", "１", "-1", "+1", " 1", "1.0", "", "1e3",
                                 "99999999999999999999", "9223372036854775808"])
def test_a_whole_number_is_ascii_digits_within_bigint(raw):
    assert urlvalues.whole_number(raw) is None


def test_whole_numbers_in_range_parse():
    assert urlvalues.whole_number("9223372036854775807") == urlvalues.BIGINT_MAX
    assert urlvalues.whole_number("7", 1, 10) == 7
    assert urlvalues.whole_number("11", 1, 10) is None


@pytest.mark.parametrize("raw", ["9999-12-31", "0001-01-01", "1999-12-31", "2101-01-01",
                                 "2026-02-30", "20261101", "２０２６-11-01", "2026-11-01T00:00"])
def test_a_day_is_an_iso_date_between_2000_and_2100(raw):
    assert urlvalues.day(raw) is None


def test_a_day_in_range_parses_and_respects_narrower_bounds():
    assert urlvalues.day("2026-11-01") == date(2026, 11, 1)
    assert urlvalues.day("2026-11-01", latest=date(2026, 10, 31)) is None


@pytest.mark.parametrize("raw", ["a\x00b", "tab\there", "\ud800", "x" * 201])
def test_text_with_control_characters_or_too_long_is_refused(raw):
    assert urlvalues.plain_text(raw) is None


@pytest.mark.parametrize("raw", ["²", "99999999999999999999", "-3", "0"])
def test_the_drill_helpers_refuse_unicode_digits_and_huge_ids(raw):
    with pytest.raises(drill.DrillError):
        drill.parse_page(raw)
    if raw != "0":
        with pytest.raises(drill.DrillError):
            drill.parse_id("app", raw)
    with pytest.raises(drill.DrillError):
        drill.parse_group("line", raw)


def test_the_reader_turns_bad_values_into_escaped_notices():
    reader = ParamReader({"top": "²", "from": "9999-12-31", "q": "a\x00",
                          "by": "[x](https://evil.example)"})
    assert reader.integer("top", 8, 0, 50) == 8
    assert reader.day("from", date(2026, 11, 1), date(2000, 1, 1), date(2026, 11, 30)) == (
        date(2026, 11, 1))
    assert reader.text("q") == ""
    assert reader.choice("by", ["app"], "app") == "app"
    assert len(reader.notices) == 4
    assert "[x](" not in reader.notices[-1] and r"\[x\]\(" in reader.notices[-1]
