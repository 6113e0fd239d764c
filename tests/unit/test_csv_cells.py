"""CSV files neutralise text cells a spreadsheet would run as a formula, and only those."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal

import pandas as pd

from fleetspend.csvfile import to_csv


def _rows(payload: bytes) -> list[list[str]]:
    return list(csv.reader(io.StringIO(payload.decode("utf-8"), newline="")))


def test_text_cells_starting_a_formula_are_quoted_and_numbers_are_not():
    frame = pd.DataFrame({
        "name": ["=HYPERLINK(\"https://evil.example\")", "+1", "-2", "@SUM(A1)", "\tx", "\ry",
                 "plain", None],
        "amount": [Decimal("-1.50"), Decimal("2"), Decimal("-0.01"), Decimal("0"),
                   Decimal("1"), Decimal("1"), Decimal("1"), Decimal("1")],
        "count": [-1, 2, 3, 4, 5, 6, 7, 8],
    })
    rows = _rows(to_csv(frame))
    assert rows[0] == ["name", "amount", "count"]
    assert [row[0] for row in rows[1:]] == [
        "'=HYPERLINK(\"https://evil.example\")", "'+1", "'-2", "'@SUM(A1)", "'\tx", "'\ry",
        "plain", ""]
    assert [row[1] for row in rows[1:4]] == ["-1.50", "2", "-0.01"]
    assert rows[1][2] == "-1"


def test_moments_are_written_in_utc_with_a_z_and_dates_and_empty_cells_as_they_are():
    moment = datetime(2026, 10, 3, 14, 0, tzinfo=UTC)
    elsewhere = moment.astimezone(timezone(timedelta(hours=-5)))
    frame = pd.DataFrame({
        "column of moments": pd.Series([moment, None], dtype="datetime64[ns, UTC]"),
        "moments as objects": [elsewhere, None],
        "day": ["2026-10-03", None],
    })
    rows = _rows(to_csv(frame))
    assert rows[1] == ["2026-10-03T14:00:00Z", "2026-10-03T14:00:00Z", "2026-10-03"]
    assert rows[2] == ["", "", ""]
