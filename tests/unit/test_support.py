"""Amounts typed into the credit note form become whole cents, or a clear refusal."""

import pytest

from fleetspend.reads import support


@pytest.mark.parametrize(("typed", "cents"), [("12.34", 1234), ("$1,200", 120000), ("0.5", 50),
                                               ("7", 700)])
def test_dollars_as_typed_become_cents(typed, cents):
    assert support.parse_cents(typed) == cents


@pytest.mark.parametrize("typed", ["", "-5", "0", "1.234", "12,34", "ten", "1e3"])
def test_amounts_that_are_not_dollars_are_refused(typed):
    with pytest.raises(support.SupportError):
        support.parse_cents(typed)
