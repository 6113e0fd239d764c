"""Invoices: an organization's monthly invoices with the change against the month before, the
upcoming (draft) invoice marked as an estimate. Picking one opens its lines."""

import streamlit as st

from fleetspend.billing import invoice_status
from fleetspend.money import dollars
from fleetspend.reads import invoice_drill as drill
from fleetspend.ui import access, database
from fleetspend.ui import drilldown as ui
from fleetspend.ui.errors import database_errors_stop_the_page

TABLE_KEY = "invoices_table"

visit = access.require(access.BILLING, "invoices")
st.title("Invoices")

with database_errors_stop_the_page("the invoices"):
    invoices = database.read(visit, drill.invoices, visit.org_in_view)

if invoices.empty:
    st.info("This organization has no invoices yet: the first one is drafted once usage "
            "is rated for a month.", icon=":material/receipt_long:")
    st.stop()

# the organization's totals over its sealed invoices (drafts are estimates, void ones void)
sealed = invoices.loc[invoices["status"].isin(invoice_status.SEALED)]
invoiced, credited, owed = st.columns(3)
invoiced.metric("Invoiced", dollars(int(sealed["subtotal_cents"].sum())))
credited.metric("Credited", dollars(int(sealed["credits_cents"].sum())))
owed.metric("Total after credits", dollars(int(sealed["total_cents"].sum())))

shown = ui.with_dollars(invoices, total="total_cents", credits="credits_cents",
                        subtotal="subtotal_cents").assign(
    period=invoices["period_start_date"].map(lambda day: f"{day:%B %Y}"),
    state=[
        "upcoming (estimated)" if estimated else status
        for status, estimated in zip(invoices["status"], invoices["is_estimated"], strict=True)
    ],
    change=[
        ui.change_text(total, previous)
        for total, previous in zip(invoices["total_cents"], invoices["previous_total_cents"],
                                   strict=True)
    ],
)
if invoices["is_estimated"].any():
    st.caption("The upcoming invoice is a draft for a month not yet invoiced: its figures are "
               "estimated and change as usage arrives.")
columns = {"period": "Period", "invoice_number": "Invoice", "total": "Total (USD)",
           "state": "Status", "subtotal": "Subtotal (USD)", "credits": "Credits (USD)",
           "change": "Change vs previous invoice"}
picked = ui.picked_row(
    shown, key=TABLE_KEY, column_order=list(columns),
    column_config={name: ui.money_column(label) if label.endswith("(USD)") else label
                   for name, label in columns.items()},
    open_label="Open an invoice",
    row_labels=[f"{number} ({period}, {state})" for number, period, state
                in zip(shown["invoice_number"], shown["period"], shown["state"], strict=True)],
)
st.caption("Pick an invoice to see its lines.")
ui.csv_download("Download CSV", ui.as_shown(shown, columns), file_name="invoices.csv",
                key="invoices_csv")
if picked is not None:
    st.switch_page(ui.INVOICE_PAGE, query_params={**ui.access_params(visit),
                                                  "invoice": picked["invoice_number"]})
