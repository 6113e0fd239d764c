"""One reader for a page's URL state: a view's settings fall back to defaults with a notice,
while what a link names (an invoice, a group of lines, a page of a list) is read strictly and
a link that does not name it raises, for the page to refuse it."""

from __future__ import annotations

import pytest

from fleetspend.reads import invoice_drill as drill
from fleetspend.ui.url_state import ParamReader


def test_what_a_link_names_is_read_from_the_same_reader():
    reader = ParamReader({"invoice": "FS-202610-000001", "by": "region", "key": "fra",
                          "page": "3", "app": "12", "team": "4", "q": "ab_", "sort": "app"})
    assert reader.named("invoice") == "FS-202610-000001"
    assert reader.group() == drill.Group("region", "fra")
    assert (reader.page(), reader.id("app"), reader.id("team")) == (3, 12, 4)
    assert reader.search("q") == "ab_"
    assert reader.one_of("sort", drill.SORTS, "amount", what="order") == "app"
    assert reader.notices == []


def test_absent_names_take_their_defaults():
    reader = ParamReader({})
    assert (reader.named("invoice"), reader.group(), reader.page(), reader.id("app"),
            reader.id("team"), reader.search("q")) == (
        "", drill.Group("invoice"), 1, None, None, "")
    assert reader.one_of("sort", drill.SORTS, "amount", what="order") == "amount"


@pytest.mark.parametrize(("params", "read"), [
    ({"page": "²"}, ParamReader.page),
    ({"app": "99999999999999999999"}, lambda reader: reader.id("app")),
    ({"by": "colour", "key": "red"}, ParamReader.group),
    ({"team": "-1"}, lambda reader: reader.id("team")),
    ({"invoice": "a\x00"}, lambda reader: reader.named("invoice")),
    ({"q": "x" * (drill.MAX_SEARCH_LENGTH + 1)}, lambda reader: reader.search("q")),
    ({"sort": "price"}, lambda reader: reader.one_of("sort", drill.SORTS, "amount", "order")),
    ({}, lambda reader: reader.required_id("alert")),
])
def test_a_link_that_does_not_name_its_subject_is_refused(params, read):
    with pytest.raises(drill.DrillError):
        read(ParamReader(params))
