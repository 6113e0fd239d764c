"""One invoice: its total, credits and lines grouped by product, region, VM size or line, each
group opening the apps behind it; checks that lines and groups add up to the cent; CSV of the
lines and the invoice as a PDF."""

import streamlit as st

from fleetspend import units
from fleetspend.money import dollars
from fleetspend.reads import invoice_document
from fleetspend.reads import invoice_drill as drill
from fleetspend.ui import access, database, invoice_views, url_state
from fleetspend.ui import drilldown as ui
from fleetspend.ui.errors import database_errors_stop_the_page
from fleetspend.ui.untrusted import md_format
from fleetspend.units import plural

GROUPS_KEY = "invoice_groups_table"
LINES_KEY = "invoice_lines_table"
GROUPINGS = [by for by in drill.GROUP_BYS if by not in ("invoice", "line")]

visit = access.require(access.BILLING, "invoice")
reader = url_state.reader()
number = reader.text("invoice")
by = reader.choice("by", GROUPINGS, "product")
url_state.show_notices(reader.notices)

with database_errors_stop_the_page("this invoice"):
    found = database.read(visit, invoice_views.invoice_lines, visit.org_in_view, number, by)
if found is None:
    ui.stop_without_invoice(visit, number)
invoice, lines, credits = found.invoice, found.lines, found.credits

here = {"invoice": invoice.invoice_number}
ui.breadcrumbs(visit, [ui.Crumb("Invoices", ui.INVOICES_PAGE)],
               f"{invoice.invoice_number} ({invoice.month_label})")
st.title(md_format("Invoice {number}", number=invoice.invoice_number))
url_state.copy_link()
st.caption(md_format("{org} · {month} · {status}", org=invoice.org_name,
                     month=invoice.month_label, status=invoice_document.status_text(invoice)))
if invoice.is_estimated:
    st.warning("Upcoming invoice: a draft for a month not yet invoiced. Every figure is "
               "estimated and changes as usage arrives.", icon=":material/pending:")

subtotal, credited, total = st.columns(3)
subtotal.metric("Subtotal", dollars(invoice.subtotal_cents))
credited.metric("Credits", dollars(invoice.credits_cents))
previous = invoice.previous_total_cents
total.metric("Total", dollars(invoice.total_cents), delta_color="inverse",
             delta=None if previous is None else
             ui.change_text(invoice.total_cents, previous) + " vs previous invoice")

if visit.may(access.SUPPORT_CASE):
    st.page_link("pages/dispute.py", label="Dispute workbench: re-rate, credit, export evidence",
                 icon=":material/gavel:", query_params={**ui.access_params(visit), **here})

ui.show_check(f"its {plural(len(lines), 'line')}", lines["amount_cents"], "subtotal",
              invoice.subtotal_cents)
ui.show_check("the subtotal less credits",
              [invoice.subtotal_cents, -invoice.credits_cents], "total", invoice.total_cents)

st.subheader("By group")
chosen = st.segmented_control("Group lines by", GROUPINGS, default=by,
                              format_func=drill.GROUP_BYS.__getitem__)
if chosen and chosen != by:
    st.query_params["by"] = chosen
    st.rerun()
groups = ui.with_dollars(found.groups, amount="amount_cents")
picked_group = ui.picked_row(
    groups, key=GROUPS_KEY, column_order=["group", "amount", "lines"],
    column_config={"group": drill.GROUP_BYS[by], "lines": "Lines",
                   "amount": ui.money_column("Amount")},
    open_label=md_format("Open the apps of a {what}", what=drill.GROUP_BYS[by].lower()),
    row_labels=list(groups["group"]),
)
ui.show_check(f"the {plural(len(groups), 'group')}", groups["amount_cents"], "subtotal",
              invoice.subtotal_cents)
st.caption("Pick a group to see the apps behind it.")
st.page_link(ui.MACHINES_PAGE, label="Every machine and volume on this invoice",
             icon=":material/dns:", query_params={**ui.access_params(visit), **here})

st.subheader("Lines")
shown_lines = ui.with_dollars(lines, amount="amount_cents").assign(
    vm_size=lines["preset_code"].fillna(""),
    quantity_text=[units.quantity_text(q, unit) for q, unit
                   in zip(lines["quantity"], lines["pricing_unit"], strict=True)],
    unit_price_text=[units.unit_price_text(price, unit) for price, unit
                     in zip(lines["unit_price"], lines["pricing_unit"], strict=True)],
)
line_columns = {"line_no": "Line", "description": "Description", "amount": "Amount (USD)",
                "quantity_text": "Quantity", "unit_price_text": "Unit price",
                "product_name": "Product", "region_code": "Region", "vm_size": "VM size",
                "memory_mb": "Memory (MB)"}
picked_line = ui.picked_row(
    shown_lines, key=LINES_KEY, column_order=list(line_columns),
    column_config={**line_columns, "amount": ui.money_column("Amount (USD)")},
    open_label="Open the apps of a line",
    row_labels=[f"Line {no}: {text}" for no, text
                in zip(lines["line_no"], lines["description"], strict=True)],
)
st.caption("Pick a line to see the apps behind it.")

if not credits.empty:
    st.subheader("Credits")
    shown_credits = ui.with_dollars(credits, amount="amount_cents")
    st.dataframe(shown_credits, hide_index=True, key="invoice_credits_table",
                 column_order=["credit_note_number", "issued_at", "amount", "reason",
                               "support_ticket"],
                 column_config={"credit_note_number": "Credit note",
                                "issued_at": ui.utc_column("Issued (UTC)"),
                                "amount": ui.money_column("Amount"), "reason": "Reason",
                                "support_ticket": "Ticket"}, placeholder="")
    ui.show_check(f"its {plural(len(credits), 'credit note')}", credits["amount_cents"], "credits",
                  invoice.credits_cents)

downloads = st.container(horizontal=True)
with downloads:
    ui.csv_download("Lines as CSV", ui.as_shown(shown_lines, line_columns),
                    file_name=f"{invoice.invoice_number}-lines.csv", key="invoice_lines_csv")
    st.download_button(
        "Invoice as PDF",
        lambda: invoice_document.invoice_pdf(invoice, lines, credits),
        file_name=f"{invoice.invoice_number}.pdf", mime="application/pdf",
        key="invoice_pdf", icon=":material/picture_as_pdf:", on_click="ignore")

if picked_group is not None:
    st.switch_page(ui.APPS_PAGE, query_params={
        **ui.access_params(visit), **here, "by": by, "key": picked_group["key"]})
if picked_line is not None:
    st.switch_page(ui.APPS_PAGE, query_params={
        **ui.access_params(visit), **here, "by": "line", "key": str(picked_line["line_no"])})
