"""The drill-down's pure parts: URL state, search patterns, grouping, arithmetic, the PDF."""

from __future__ import annotations

import io
import re
from datetime import UTC, date, datetime
from decimal import Decimal

import pandas as pd
import pytest
from pypdf import PdfReader

from fleetspend.reads import invoice_document
from fleetspend.reads import invoice_drill as drill


def lines_frame() -> pd.DataFrame:
    rows = [
        (1, "machine_runtime", "Machines", "iad", "shared-cpu-1x", 256, "shared-cpu-1x in iad",
         Decimal("3600"), "second", Decimal("0.0000008465"), 305),
        (2, "machine_runtime", "Machines", "lhr", "shared-cpu-1x", 512, "shared-cpu-1x in lhr",
         Decimal("7200"), "second", Decimal("0.000001232"), 887),
        (3, "volume", "Volumes", "lhr", None, None, "Volumes in lhr",
         Decimal("7.333333333333333392"), "GB-month", Decimal("0.15"), 110),
    ]
    frame = pd.DataFrame(rows, columns=[
        "line_no", "product", "product_name", "region_code", "preset_code", "memory_mb",
        "description", "quantity", "pricing_unit", "unit_price", "amount_cents"])
    return frame


@pytest.mark.parametrize(("by", "key", "expected"), [
    (None, None, drill.Group("invoice")),
    ("invoice", "ignored", drill.Group("invoice")),
    ("region", "lhr", drill.Group("region", "lhr")),
    ("line", "12", drill.Group("line", "12")),
])
def test_groups_read_from_the_url(by, key, expected):
    assert drill.parse_group(by, key) == expected


@pytest.mark.parametrize(("by", "key", "message"), [
    ("colour", "red", "unknown grouping 'colour'"),
    ("region", "", "needs a key"),
    ("line", "1; drop table invoices", "named by its number"),
])
def test_bad_groups_are_refused_with_the_reason(by, key, message):
    with pytest.raises(drill.DrillError, match=re.escape(message)):
        drill.parse_group(by, key)


def test_pages_from_the_url():
    assert drill.parse_page(None) == 1
    assert drill.parse_page("7") == 7
    for bad in ("0", "-1", "two"):
        with pytest.raises(drill.DrillError):
            drill.parse_page(bad)


def test_search_patterns_escape_like_wildcards():
    assert drill.search_patterns("  ") == (None, None)
    assert drill.search_patterns("AB12") == ("ab12%", "%AB12%")
    prefix, contains = drill.search_patterns("50%_off\\")
    assert prefix == "50\\%\\_off\\\\%"
    assert contains == "%50\\%\\_off\\\\%"
    with pytest.raises(drill.DrillError):
        drill.search_patterns("x" * (drill.MAX_SEARCH_LENGTH + 1))


@pytest.mark.parametrize(("group", "name", "label"), [
    (drill.Group("invoice"), None, "Whole invoice"),
    (drill.Group("product", "volume"), "Volumes", "Product: Volumes"),
    (drill.Group("region", "lhr"), None, "Region: lhr"),
    (drill.Group("vm_size", drill.NO_VM_SIZE), None,
     "VM size: none (volumes, storage, IPv4, egress)"),
    (drill.Group("line", "3"), "Volumes in lhr", "Line 3: Volumes in lhr"),
])
def test_group_labels(group, name, label):
    assert drill.GroupTotal(group, 1, 100, name).label == label


def test_sum_check_compares_in_whole_cents():
    assert drill.sum_check([100, 250, 1], 351) == (351, True)
    assert drill.sum_check(pd.Series([100, 250]), 351) == (350, False)


def runtime_charge(**changes) -> pd.Series:
    # shared-cpu-1x with 1 GB in lhr on the current list: (1 x 0.0000008465 + 0.75 GB x
    # 0.000002316) x 1.1346 per second
    charge = {
        "product": "machine_runtime", "region_code": "lhr", "memory_mb": 1024, "cpus": 1,
        "cpu_kind": "shared", "included_memory_mb": 256, "vcpu_rate": Decimal("0.0000008465"),
        "ram_extra_rate": Decimal("0.000002316"), "price_markup": Decimal("1.1346"),
        "price_list_name": "current list", "unit_price": Decimal("0.0000029312391"),
        "consumed_quantity": Decimal("3600"), "consumed_unit": "second",
        "consumed_per_pricing_unit": Decimal("1"), "pricing_unit": "second",
        "amount_precise": Decimal("0.01055246076"), "amount_cents": 1,
        "line_amount_precise": Decimal("0.02110492152"), "line_amount_cents": 2,
    }
    return pd.Series({**charge, **changes})


def test_runtime_arithmetic_shows_rate_markup_and_seconds():
    steps = drill.charge_arithmetic(runtime_charge())
    assert steps.rate_matches and steps.amount_matches
    assert "1 shared vCPU x $0.0000008465/s + 0.75 GB extra RAM x $0.000002316/GB-s" in steps.rate
    assert "x 1.1346 lhr markup = $0.0000029312391/s" in steps.rate
    assert steps.amount == "3,600 s x $0.0000029312391/s = $0.01055246076"
    assert steps.allocation.endswith("rounded by largest remainder to 1¢")


def test_arithmetic_notices_a_unit_price_the_price_book_does_not_give():
    steps = drill.charge_arithmetic(runtime_charge(unit_price=Decimal("0.000003"),
                                                   amount_precise=Decimal("0.0108")))
    assert not steps.rate_matches
    steps = drill.charge_arithmetic(runtime_charge(amount_precise=Decimal("0.02")))
    assert not steps.amount_matches


def test_arithmetic_of_a_product_priced_per_month_converts_units():
    steps = drill.charge_arithmetic(pd.Series({
        "product": "volume", "unit_price": Decimal("0.15"), "pricing_unit": "GB-month",
        "price_list_name": "current list", "consumed_quantity": Decimal("5280"),
        "consumed_unit": "GB-hour", "consumed_per_pricing_unit": Decimal("720"),
        "amount_precise": Decimal("1.1"), "amount_cents": 110,
        "line_amount_precise": Decimal("1.1"), "line_amount_cents": 110,
    }))
    assert steps.amount == "5,280 GB-hour / 720 = 7.333333 GB-month x $0.15 = $1.1"
    assert steps.amount_matches and "no regional markup" in steps.rate


def pdf_pages(document: bytes) -> list[str]:
    """The text of each page of a PDF, as a reader extracts it."""
    return [page.extract_text() for page in PdfReader(io.BytesIO(document)).pages]


def test_the_pdf_has_the_invoice_and_its_totals_on_page_one_and_every_line_after():
    invoice = drill.Invoice(
        invoice_id=4, invoice_number="FS-202610-000001", period_start_date=date(2026, 10, 1),
        status="finalized", currency="USD", subtotal_cents=1302, credits_cents=200,
        total_cents=1102, finalized_at=datetime(2026, 11, 1, 0, 5, tzinfo=UTC),
        is_estimated=False, org_name="Ωmega Логистика Zürich ☃", org_slug="omega",
        previous_total_cents=None)
    credits = pd.DataFrame([("CN-1", datetime(2026, 11, 2, tzinfo=UTC), 200, "refund", "T-1")],
                           columns=drill.CREDIT_NOTE_COLUMNS)
    document = invoice_document.invoice_pdf(invoice, lines_frame(), credits)
    assert document.startswith(b"%PDF-")
    first, *rest = pdf_pages(document)
    for expected in ("INVOICE", "FS-202610-000001", "Bill to", "Ωmega Логистика Zürich ☃",
                     "Invoice date 2026-11-01", "Due date 2026-12-01", "October 2026",
                     "finalized on 2026-11-01", "Subtotal $13.02",
                     "Credit note CN-1 (2026-11-02): refund -$2.00", "Total due $11.02"):
        assert expected in first, expected
    assert "Status: finalized, finalized" not in first
    detail = "\n".join(rest)
    # grouped by product and region, the sizes beneath, runtime in hours at a sane precision
    for expected in ("Machines · iad $3.05", "Machines · lhr $8.87", "Volumes · lhr $1.10",
                     "2 shared-cpu-1x 2.00 hours $0.004435 / hour $8.87",
                     "3 Volumes 7.33 GB-month $0.15 / GB-month $1.10"):
        assert expected in detail, expected
