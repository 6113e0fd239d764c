"""Dispute workbench (support, under a grant): one invoice as billed against its raw usage
re-rated, per line and per machine; the price book versions that applied; the machines'
timelines around the period; a credit note, confirmed before it is issued; and the evidence
bundle to download."""

import pandas as pd
import streamlit as st

from fleetspend import db, dispute, evidence
from fleetspend import invoice_drill as drill
from fleetspend.billing import invoice_status
from fleetspend.money import dollars
from fleetspend.ui import access, credit_note
from fleetspend.ui import drilldown as ui
from fleetspend.ui.errors import database_errors_stop_the_page
from fleetspend.ui.untrusted import md_format

MACHINE_KEY = "dispute_machine"
RERATE_TTL_S = 300

visit = access.require(access.SUPPORT_CASE, "dispute")
org_id, grant = visit.org_in_view, visit.active_grant
try:
    number = drill.parse_text("invoice", st.query_params.get("invoice"))
except drill.DrillError as error:
    ui.stop_with_bad_link("an invoice", error)


def load(snapshot):
    invoice = drill.invoice(snapshot.connection, org_id, number)
    if invoice is None:
        return None, None
    return invoice, dispute.price_lists(snapshot.connection, org_id, invoice.invoice_id)


with database_errors_stop_the_page("this invoice"):
    invoice, price_lists = visit.read(load)
if invoice is None:
    ui.stop_without_invoice(visit, number)

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


@st.cache_data(ttl=RERATE_TTL_S, max_entries=16, show_spinner="Re-rating the month's raw usage…")
def rerated(grant_id: int, staff_user_id: int, org_id: int,
            invoice_number: str) -> dispute.Rerating | None:
    """The re-rating, cached per grant (and so per engineer and organization) and invoice."""
    scope = db.Scope(org_ids=(org_id,), staff_user_id=staff_user_id, grant_id=grant_id)
    return dispute.rerate(db.app_primary_engine(), scope, org_id, invoice_number)


st.subheader("Billed against re-rated from raw usage")
if invoice.status == invoice_status.VOID:
    st.info("This invoice is void: it is not re-rated.", icon=":material/block:")
    rerating = None
else:
    with database_errors_stop_the_page("the re-rating"):
        rerating = rerated(grant.grant_id, visit.caller.actor_id, org_id,
                           invoice.invoice_number)
if rerating is not None:
    if rerating.is_reproduced:
        st.success(md_format("Re-rated at {at:%Y-%m-%d %H:%M} UTC: every line and every "
                             "machine's share is reproduced exactly from the raw usage.",
                             at=rerating.rerated_at),
                   icon=":material/check_circle:")
    else:
        differ = md_format("Re-rated at {at:%Y-%m-%d %H:%M} UTC: {count} figures differ from "
                           "the invoice.", at=rerating.rerated_at,
                           count=len(rerating.differences))
        if rerating.carried_by:
            st.info(differ + md_format(
                " Every difference is usage corrected after this invoice was sealed, already "
                "carried as adjustment lines by {invoices}: a credit note for it would refund "
                "it twice.", invoices=", ".join(rerating.carried_by)), icon=":material/redo:")
        else:
            st.error(differ, icon=":material/error:")
        st.dataframe(rerating.differences, hide_index=True, key="dispute_differences",
                     column_config={"level": "Level", "line": "Line",
                                    "resource_id": "Machine or volume", "field": "Field",
                                    "stored": "Billed", "expected": "Re-rated",
                                    "carried_by": "Carried by"}, placeholder="")
    money = {"billed": "billed_cents", "rerated": "rerated_cents",
             "difference": "difference_cents"}
    money_columns = {"billed": ui.money_column("Billed"),
                     "rerated": ui.money_column("Re-rated"),
                     "difference": ui.money_column("Difference")}
    by_line, by_machine = st.tabs(["Per line", "Per machine or volume"])
    by_line.dataframe(
        ui.with_dollars(rerating.lines, **money), hide_index=True, key="dispute_lines",
        column_order=["line_no", "difference", "billed", "rerated", "description",
                      "billed_quantity", "rerated_quantity"],
        column_config={"line_no": "Line", "description": "Description",
                       "billed_quantity": "Billed quantity",
                       "rerated_quantity": "Re-rated quantity", **money_columns}, placeholder="")
    by_machine.dataframe(
        ui.with_dollars(rerating.resources, **money), hide_index=True, key="dispute_machines",
        column_order=["resource_id", "difference", "billed", "rerated", "app_name",
                      "resource_kind"],
        column_config={"resource_kind": "Kind", "resource_id": "Machine or volume",
                       "app_name": "App", **money_columns}, placeholder="")

st.subheader("Price book versions")
# a price list still in force has no end: say so rather than leave an empty cell
until = price_lists["effective_until"].map(
    lambda moment: "still in force" if pd.isna(moment) else f"{moment:%Y-%m-%d %H:%M}")
st.dataframe(ui.with_dollars(price_lists.assign(effective_until=until), amount="amount_cents"),
             hide_index=True,
             key="dispute_price_lists",
             column_order=["name", "amount", "effective_from", "effective_until",
                           "lines_priced"],
             column_config={
                 "name": "Price list",
                 "effective_from": ui.utc_column("In force from (UTC)"),
                 "effective_until": "Until (UTC)",
                 "lines_priced": st.column_config.NumberColumn("Lines it priced", format="%d"),
                 "amount": ui.money_column("Amount it priced"),
             }, placeholder="")
st.caption("Every price list in force during the invoice's month (UTC), and any that priced "
           "one of its lines.")

st.subheader("Machine timelines")
machines = ([] if rerating is None else
            list(rerating.resources.loc[rerating.resources["resource_kind"] == "machine",
                                        "resource_id"]))
if not machines:
    st.caption("No machine is on this invoice.")
else:
    window = dispute.timeline_window(invoice)
    machine_id = st.selectbox("Machine (largest difference first, then largest charge)",
                              machines, key=MACHINE_KEY)
    with database_errors_stop_the_page("the machine's timeline"):
        runs, events = visit.read(lambda snapshot: (
            drill.machine_runs(snapshot.connection, org_id, machine_id, window),
            drill.machine_events(snapshot.connection, org_id, machine_id, window)))
    st.caption(md_format("From {start:%Y-%m-%d} to {end:%Y-%m-%d} UTC: the invoice's month and "
                         "{days} days either side.", start=window[0], end=window[1],
                         days=dispute.TIMELINE_MARGIN.days))
    if runs.empty:
        st.caption("No runs in this window.")
    ui.timeline(runs, events, window, key="dispute", seconds_label="Seconds in window")
    st.page_link(ui.MACHINE_PAGE, label="This machine's charges and hourly usage",
                 icon=":material/memory:",
                 query_params={**ui.access_params(visit), "machine": machine_id, **here})

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
    lambda: evidence.build(db.app_primary_engine(), visit.caller, grant,
                           invoice.invoice_number),
    file_name=evidence.file_name(invoice.invoice_number), mime="application/zip",
    key="dispute_evidence", icon=":material/folder_zip:", on_click="ignore")
