"""Dispute workbench (support, under a grant): one invoice as billed against its raw usage
re-rated, per line and per machine; the price book versions that applied; the machines'
timelines around the period; a credit note, confirmed before it is issued; and the evidence
bundle to download."""

import streamlit as st

from fleetspend.billing import invoice_status
from fleetspend.money import dollars
from fleetspend.reads import evidence
from fleetspend.ui import access, credit_note, database, dispute_views, invoice_views, url_state
from fleetspend.ui import drilldown as ui
from fleetspend.ui.errors import database_errors_stop_the_page
from fleetspend.ui.untrusted import md_format

visit = access.require(access.SUPPORT_CASE, "dispute")
grant = visit.active_grant
with url_state.naming("an invoice"):
    number = url_state.reader().named("invoice")

with database_errors_stop_the_page("this invoice"):
    found = database.read(visit, invoice_views.invoice_price_lists, visit.org_in_view, number)
if found is None:
    ui.stop_without_invoice(visit, number)
invoice, price_lists = found

here = {"invoice": invoice.invoice_number}
ui.breadcrumbs(visit, [ui.Crumb("Invoices", ui.INVOICES_PAGE),
                       ui.Crumb(invoice.invoice_number, ui.INVOICE_PAGE, here)],
               "Dispute workbench")
st.title(md_format("Dispute: invoice {number}", number=invoice.invoice_number))
st.caption(md_format("{org} · {month} · {status} · support grant {grant}, ticket {ticket}",
                     org=invoice.org_name, month=invoice.month_label, status=invoice.status,
                     grant=grant.grant_id, ticket=grant.support_ticket))

credit_note.show_issued()
creditable = invoice_status.left_to_credit(invoice.subtotal_cents, invoice.credits_cents)
subtotal, credited, total, left = st.columns(4)
subtotal.metric("Subtotal", dollars(invoice.subtotal_cents))
credited.metric("Credits", dollars(invoice.credits_cents))
total.metric("Total", dollars(invoice.total_cents))
left.metric("Left to credit", dollars(creditable))

st.subheader("Billed against re-rated from raw usage")
if invoice.status == invoice_status.VOID:
    st.info("This invoice is void: it is not re-rated.", icon=":material/block:")
    rerating = None
else:
    with database_errors_stop_the_page("the re-rating"):
        rerating = dispute_views.rerated(visit, invoice.invoice_number)
if rerating is not None:
    dispute_views.comparison(rerating)

st.subheader("Price book versions")
dispute_views.price_lists(price_lists)

st.subheader("Machine timelines")
dispute_views.timelines(visit, invoice, rerating, here)

st.subheader("Credit note")
if not invoice_status.is_creditable(invoice.status):
    st.info(md_format("Only finalized or paid invoices take credit notes; this one is {status}.",
                      status=invoice.status),
            icon=":material/info:")
elif creditable <= 0:
    st.info("This invoice is fully credited.", icon=":material/info:")
else:
    credit_note.credit_note_section(visit, invoice, creditable)

st.subheader("Evidence")
st.caption("One zip of CSV files: the invoice, its lines, every line's share per machine, its "
           "credit notes and the re-rating comparison, with the checks that they add up. "
           "Each download is recorded in the organization's audit log.")
st.download_button(
    "Download the evidence bundle",
    lambda: evidence.build(database.primary(), visit.caller, grant, invoice.invoice_number),
    file_name=evidence.file_name(invoice.invoice_number), mime="application/zip",
    key="dispute_evidence", icon=":material/folder_zip:", on_click="ignore")
