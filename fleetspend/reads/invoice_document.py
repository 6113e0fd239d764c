"""An invoice as a PDF document (fpdf2) a finance team files.

Page 1 is the invoice: who issues it and to whom, its number, invoice date, due date and
period, a summary per product with the subtotal, the credit notes and the total due. The
pages after it hold the detail: the lines grouped by product and region, each group's
amount with its sizes beneath, in readable units (hours rather than seconds, GB-months, GB)
and sensible precision (:mod:`fleetspend.units`).

The document is built from the same rows the invoice page shows, so it can never say
something else. Text from the database is drawn as text, never interpreted as markup. Names
can be in any script DejaVu Sans covers (Latin, Greek, Cyrillic, Hebrew, Arabic, ...): the
font is embedded from the copy of DejaVu Sans in ``fleetspend/fonts/`` (free licence beside it).

The issuer and the payment terms come from ``FLEETSPEND_INVOICE_ISSUER`` (lines separated
by ``;``) and ``FLEETSPEND_PAYMENT_TERMS_DAYS`` (default 30). The invoice date is the day
the invoice was finalized; a draft has none, and says so.
"""

from __future__ import annotations

import os
from datetime import date, timedelta
from pathlib import Path

import pandas as pd
from fpdf import FPDF
from fpdf.fonts import FontFace

from fleetspend import units
from fleetspend.billing import invoice_status
from fleetspend.money import dollars
from fleetspend.reads.invoice_drill import Invoice

FONT = "DejaVu"
ISSUER_ENV = "FLEETSPEND_INVOICE_ISSUER"
DEFAULT_ISSUER = "fleetspend cloud platform"
TERMS_ENV = "FLEETSPEND_PAYMENT_TERMS_DAYS"
DEFAULT_TERMS_DAYS = 30
HEADING = FontFace(emphasis="BOLD", fill_color=(235, 235, 235))
GROUP = FontFace(emphasis="BOLD")


FONT_FOLDER = Path(__file__).resolve().parents[1] / "fonts"


def issuer_lines() -> list[str]:
    """Who issues the invoices: ``FLEETSPEND_INVOICE_ISSUER`` split at ``;``."""
    raw = os.environ.get(ISSUER_ENV, "").strip() or DEFAULT_ISSUER
    return [line.strip() for line in raw.split(";") if line.strip()]


def payment_terms_days() -> int:
    """Days from the invoice date to the due date (``FLEETSPEND_PAYMENT_TERMS_DAYS``)."""
    raw = os.environ.get(TERMS_ENV, "").strip()
    if not raw:
        return DEFAULT_TERMS_DAYS
    if not raw.isdigit() or not 0 <= int(raw) <= 365:
        raise ValueError(f"{TERMS_ENV} must be a whole number of days from 0 to 365, got {raw!r}")
    return int(raw)


def invoice_date(invoice: Invoice) -> date | None:
    """The day the invoice was issued (finalized), or None for a draft."""
    return None if invoice.finalized_at is None else invoice.finalized_at.date()


def status_text(invoice: Invoice) -> str:
    """The status in words, e.g. "finalized on 2026-11-01", "draft (estimated)"."""
    if invoice.is_estimated:
        return "draft (estimated: figures change as usage arrives)"
    issued = invoice_date(invoice)
    if invoice.status == invoice_status.FINALIZED and issued is not None:
        return f"finalized on {issued:%Y-%m-%d}"
    return invoice.status if issued is None else f"{invoice.status} (finalized {issued:%Y-%m-%d})"


def _size(line: pd.Series) -> str:
    """What a line is within its product and region: its size, list and kind."""
    return str(line.description).replace(f" in {line.region_code}", "")


def detail_groups(lines: pd.DataFrame) -> list[tuple[str, int, pd.DataFrame]]:
    """The lines by product and region, in line order: (heading, cents, its lines)."""
    groups = []
    keys = lines[["product_name", "region_code"]].fillna("")
    for (product, region), group in lines.groupby(
            [keys["product_name"], keys["region_code"]], sort=False):
        heading = f"{product} · {region}" if region else str(product)
        groups.append((heading, int(group["amount_cents"].sum()), group))
    return groups


class _Document(FPDF):
    def __init__(self, invoice: Invoice) -> None:
        super().__init__(orientation="portrait", format="A4")
        self.invoice = invoice
        self.add_font(FONT, "", str(FONT_FOLDER / "DejaVuSans.ttf"))
        self.add_font(FONT, "B", str(FONT_FOLDER / "DejaVuSans-Bold.ttf"))
        self.set_auto_page_break(auto=True, margin=18)

    def footer(self) -> None:
        self.set_y(-12)
        self.set_font(FONT, size=8)
        self.cell(0, 5, f"Invoice {self.invoice.invoice_number} · page {self.page_no()} of "
                        "{nb}", align="C")

    def line_of(self, text: str, *, size: float = 10, bold: bool = False,
                height: float = 5.5, align: str = "L") -> None:
        self.set_font(FONT, "B" if bold else "", size)
        self.cell(0, height, text, align=align, new_x="LMARGIN", new_y="NEXT")


def _header(pdf: _Document, invoice: Invoice) -> None:
    issued = invoice_date(invoice)
    top = pdf.get_y()
    pdf.line_of("INVOICE" if not invoice.is_estimated else "ESTIMATE (DRAFT INVOICE)",
                size=18, bold=True, height=10)
    for index, line in enumerate(issuer_lines()):
        pdf.line_of(line, bold=index == 0)
    pdf.ln(3)
    pdf.line_of("Bill to", size=9, bold=True)
    pdf.line_of(invoice.org_name, bold=True)
    pdf.line_of(f"Account: {invoice.org_slug}")
    bottom = pdf.get_y()
    facts = [
        ("Invoice number", invoice.invoice_number),
        ("Invoice date", f"{issued:%Y-%m-%d}" if issued else "not issued (draft)"),
        ("Due date", f"{issued + timedelta(days=payment_terms_days()):%Y-%m-%d}"
         if issued else "when issued"),
        ("Period", f"{invoice.month_label} (UTC)"),
        ("Status", status_text(invoice)),
        ("Currency", invoice.currency),
    ]
    pdf.set_y(top + 2)
    for label, value in facts:
        pdf.set_x(pdf.w / 2)
        pdf.set_font(FONT, "B", 9)
        pdf.cell(30, 5.5, label)
        pdf.set_font(FONT, size=9)
        pdf.cell(0, 5.5, value, align="R", new_x="LMARGIN", new_y="NEXT")
    pdf.set_y(max(bottom, pdf.get_y()) + 6)


def _summary(pdf: _Document, invoice: Invoice, lines: pd.DataFrame,
             credits: pd.DataFrame) -> None:
    pdf.line_of("Summary", size=12, bold=True, height=8)
    by_product = lines.groupby("product_name", sort=False)["amount_cents"].agg(["sum", "count"])
    pdf.set_font(FONT, size=10)
    with pdf.table(col_widths=(110, 25, 45), text_align=("LEFT", "RIGHT", "RIGHT"),
                   headings_style=HEADING, line_height=6,
                   borders_layout="HORIZONTAL_LINES") as table:
        table.row(["Product", "Lines", f"Amount ({invoice.currency})"])
        for product, row in by_product.iterrows():
            table.row([str(product), f"{int(row['count']):,}", dollars(int(row["sum"]))])
        table.row(["Subtotal", "", dollars(invoice.subtotal_cents)], style=GROUP)
        for credit in credits.itertuples(index=False):
            table.row([f"Credit note {credit.credit_note_number} ({credit.issued_at:%Y-%m-%d})"
                       f": {credit.reason}", "", dollars(-int(credit.amount_cents))])
        if credits.empty:
            table.row(["Credits", "", dollars(-invoice.credits_cents)])
        table.row(["Total due" if not invoice.is_estimated else "Estimated total", "",
                   dollars(invoice.total_cents)], style=FontFace(emphasis="BOLD",
                                                                 fill_color=(235, 235, 235)))
    pdf.ln(4)
    if invoice.is_estimated:
        pdf.line_of("This is an estimate for a month not yet invoiced: figures change as usage "
                    "arrives, and no payment is due.", size=9)
    else:
        pdf.line_of(f"Payment is due within {payment_terms_days()} days of the invoice date.",
                    size=9)
    pdf.line_of("The pages that follow list every line, by product and region.", size=9)


def _detail(pdf: _Document, invoice: Invoice, lines: pd.DataFrame) -> None:
    pdf.add_page()
    pdf.line_of("Detail by product and region", size=12, bold=True, height=8)
    pdf.set_font(FONT, size=8)
    with pdf.table(col_widths=(9, 78, 33, 38, 28),
                   text_align=("RIGHT", "LEFT", "RIGHT", "RIGHT", "RIGHT"),
                   headings_style=HEADING, line_height=4.2, repeat_headings=1,
                   borders_layout="HORIZONTAL_LINES") as table:
        table.row(["Line", "Item", "Quantity", "Unit price", f"Amount ({invoice.currency})"])
        for heading, cents, group in detail_groups(lines):
            table.row(["", heading, "", "", dollars(cents)], style=GROUP)
            for line in group.itertuples(index=False):
                table.row([str(line.line_no), _size(line),
                           units.quantity_text(line.quantity, line.pricing_unit),
                           units.unit_price_text(line.unit_price, line.pricing_unit),
                           dollars(int(line.amount_cents))])
        table.row(["", "Subtotal", "", "", dollars(invoice.subtotal_cents)], style=GROUP)


def invoice_pdf(invoice: Invoice, lines: pd.DataFrame, credits: pd.DataFrame) -> bytes:
    """The invoice as PDF bytes: the invoice and its totals on page 1, the lines after."""
    pdf = _Document(invoice)
    pdf.set_title(f"Invoice {invoice.invoice_number}")
    pdf.set_author(issuer_lines()[0])
    pdf.set_creation_date(invoice.finalized_at or None)
    pdf.add_page()
    pdf.set_font(FONT, size=10)
    _header(pdf, invoice)
    _summary(pdf, invoice, lines, credits)
    _detail(pdf, invoice, lines)
    return bytes(pdf.output())
