"""An invoice as a PDF document (fpdf2): header, every line, credits and the total.

The document is built from the same rows the invoice page shows, so it can never say
something else. Text from the database is drawn as text, never interpreted as markup; the
PDF's core fonts cover Latin-1 only, so any other character is drawn as ``?``.
"""

from __future__ import annotations

from decimal import Decimal

import pandas as pd
from fpdf import FPDF
from fpdf.fonts import FontFace

from fleetspend.invoice_drill import Invoice
from fleetspend.ui.format import dollars

FONT = "Helvetica"


def _latin1(value: object) -> str:
    return str(value).encode("latin-1", "replace").decode("latin-1")


def _quantity(value: Decimal) -> str:
    return f"{round(Decimal(value), 6).normalize():,f}"


def invoice_pdf(invoice: Invoice, lines: pd.DataFrame, credits: pd.DataFrame) -> bytes:
    """The invoice as PDF bytes: one row per line, then subtotal, credits and total."""
    pdf = FPDF(orientation="landscape", format="A4")
    pdf.set_title(_latin1(f"Invoice {invoice.invoice_number}"))
    pdf.set_author("fleetspend")
    pdf.set_creation_date(invoice.finalized_at or None)
    pdf.add_page()
    pdf.set_font(FONT, "B", 16)
    pdf.cell(0, 10, _latin1(f"Invoice {invoice.invoice_number}"), new_x="LMARGIN", new_y="NEXT")
    pdf.set_font(FONT, size=10)
    for text in (
        invoice.org_name,
        f"Period: {invoice.month_label} (UTC)",
        f"Status: {invoice.status}"
        + (f", finalized {invoice.finalized_at:%Y-%m-%d %H:%M} UTC" if invoice.finalized_at
           else ""),
        f"Currency: {invoice.currency}",
    ):
        pdf.cell(0, 6, _latin1(text), new_x="LMARGIN", new_y="NEXT")
    if invoice.is_estimated:
        pdf.set_font(FONT, "B", 10)
        pdf.cell(0, 8, "ESTIMATE: a draft for a month not yet invoiced; figures will change.",
                 new_x="LMARGIN", new_y="NEXT")
        pdf.set_font(FONT, size=10)
    pdf.ln(4)
    pdf.set_font(FONT, size=8)
    heading = FontFace(emphasis="BOLD", fill_color=(230, 230, 230))
    with pdf.table(col_widths=(8, 60, 26, 26, 18), text_align=("RIGHT", "LEFT", "RIGHT",
                                                                 "RIGHT", "RIGHT"),
                   headings_style=heading, line_height=5) as table:
        table.row(["Line", "Description", "Quantity", "Unit price", "Amount"])
        for line in lines.itertuples(index=False):
            table.row([
                str(line.line_no),
                _latin1(line.description),
                _latin1(f"{_quantity(line.quantity)} {line.pricing_unit}"),
                _latin1(f"${Decimal(line.unit_price).normalize():f} / {line.pricing_unit}"),
                dollars(int(line.amount_cents)),
            ])
    pdf.ln(3)
    pdf.set_font(FONT, size=10)
    for credit in credits.itertuples(index=False):
        pdf.cell(0, 6, _latin1(f"Credit note {credit.credit_note_number} ({credit.reason}): "
                               f"-{dollars(int(credit.amount_cents))}"),
                 new_x="LMARGIN", new_y="NEXT")
    for label, cents in (("Subtotal", invoice.subtotal_cents),
                         ("Credits", -invoice.credits_cents),
                         ("Total", invoice.total_cents)):
        pdf.set_font(FONT, "B" if label == "Total" else "", 11)
        pdf.cell(0, 7, f"{label}: {dollars(cents)}", align="R", new_x="LMARGIN", new_y="NEXT")
    return bytes(pdf.output())
