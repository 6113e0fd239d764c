"""Values as they arrive in URLs, checked before anything reads them: whole numbers of ASCII
digits within a range the database's columns hold, dates from 2000 to 2100 (so adding a
period to one never leaves what Python and PostgreSQL can count), and text of bounded length
without control characters (PostgreSQL refuses a NUL in text) or lone surrogates.

Each returns None for a value it refuses; callers turn that into a notice. Python's own
``str.isdigit`` and ``int`` accept digits of every script ("²", "٣"), which is why nothing
here uses them on their own.
"""

from __future__ import annotations

import re
from datetime import date

INT_MAX = 2**31 - 1  # PostgreSQL integer
BIGINT_MAX = 2**63 - 1  # PostgreSQL bigint
EARLIEST_DAY = date(2000, 1, 1)
LATEST_DAY = date(2100, 12, 31)
MAX_TEXT_LENGTH = 200

_ASCII_DIGITS = re.compile(r"[0-9]{1,19}")
_ISO_DAY = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_CONTROL = re.compile(r"[\x00-\x1f\x7f\ud800-\udfff]")  # and lone surrogates: not UTF-8


def whole_number(raw: str, lowest: int = 0, highest: int = BIGINT_MAX) -> int | None:
    """``raw`` as a whole number between ``lowest`` and ``highest``, or None."""
    if not _ASCII_DIGITS.fullmatch(raw):
        return None
    value = int(raw)
    return value if lowest <= value <= highest else None


def day(raw: str, earliest: date = EARLIEST_DAY, latest: date = LATEST_DAY) -> date | None:
    """``raw`` as an ISO date (YYYY-MM-DD) between ``earliest`` and ``latest``, or None."""
    if not _ISO_DAY.fullmatch(raw):
        return None
    try:
        value = date.fromisoformat(raw)
    except ValueError:
        return None
    return value if max(earliest, EARLIEST_DAY) <= value <= min(latest, LATEST_DAY) else None


def plain_text(raw: str, max_length: int = MAX_TEXT_LENGTH) -> str | None:
    """``raw`` if it is at most ``max_length`` characters of clean text, or None."""
    if len(raw) > max_length or _CONTROL.search(raw):
        return None
    return raw
