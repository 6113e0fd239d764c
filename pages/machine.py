"""One machine: what it is (app, team, region, preset, memory, lifetime), the timeline of its
runs, stops and resizes, its hourly usage, and the exact charge it contributed to every line
of an invoice with the arithmetic (seconds x rate x markup) and the check against the level
it was opened from."""

import streamlit as st

from fleetspend.money import dollars
from fleetspend.reads import invoice_drill as drill
from fleetspend.ui import access, database, invoice_views, machine_views, url_state
from fleetspend.ui import drilldown as ui
from fleetspend.ui.errors import database_errors_stop_the_page
from fleetspend.ui.untrusted import md, md_format

visit = access.require(access.BILLING, "machine")
reader = url_state.reader()
with url_state.naming("a machine"):
    machine_id, number = reader.named("machine"), reader.named("invoice")
    app_id, group = reader.id("app"), reader.group()

try:
    with database_errors_stop_the_page("this machine"):
        found = database.read(visit, invoice_views.machine_view, visit.org_in_view, machine_id,
                              number, app_id, group)
except drill.DrillError as error:
    ui.stop_with_missing(error)
if found is None:
    st.warning(md_format("This organization has no machine {machine!r}.", machine=machine_id),
               icon=":material/search_off:")
    st.stop()
identity, charged_on, on = found.identity, found.charged_on, found.on_invoice

crumbs = [ui.Crumb("Invoices", ui.INVOICES_PAGE)]
if on is not None:
    context = {"invoice": on.invoice.invoice_number, **group.url_params()}
    crumbs.append(ui.Crumb(on.invoice.invoice_number, ui.INVOICE_PAGE,
                           {"invoice": on.invoice.invoice_number}))
    if on.total is not None:
        crumbs.append(ui.Crumb(on.total.label, ui.APPS_PAGE, context))
    if app_id is not None:
        crumbs.append(ui.Crumb(f"App {identity['app_name']}", ui.MACHINES_PAGE,
                               {**context, "app": str(app_id)}))
    else:
        crumbs.append(ui.Crumb("Machines", ui.MACHINES_PAGE, context))
ui.breadcrumbs(visit, crumbs, f"Machine {machine_id}")
st.title(md_format("Machine {machine}", machine=machine_id))

st.subheader("Identity")
machine_views.identity(identity)
if on is None:
    st.info("This machine is on no invoice yet.", icon=":material/receipt_long:")
    st.stop()
invoice = on.invoice

st.subheader(md_format("Charges on invoice {number} ({month})", number=invoice.invoice_number,
                       month=invoice.month_label))
if invoice.is_estimated:
    st.warning("Upcoming invoice: these charges are estimated.", icon=":material/pending:")
other_invoices = charged_on.loc[charged_on["invoice_number"] != invoice.invoice_number]
if len(other_invoices):
    with st.container(horizontal=True):
        st.markdown("Also charged on:")
        for other in other_invoices.itertuples():
            st.page_link(ui.MACHINE_PAGE, label=md(
                             f"{other.invoice_number} ({dollars(other.amount_cents)})"),
                         query_params={**ui.access_params(visit), "machine": machine_id,
                                       "invoice": other.invoice_number})
machine_views.charges(machine_id, on, charged_on, group)

st.subheader("Timeline")
if on.runs.empty and on.events.empty:
    st.caption(md_format("No runs in {month}.", month=invoice.month_label))
else:
    ui.timeline(on.runs, on.events, invoice.period, key="machine",
                seconds_label="Seconds this month")
    with st.container(horizontal=True):
        ui.csv_download("Runs as CSV", on.runs, file_name=f"{machine_id}-runs.csv",
                        key="machine_runs_csv")
        ui.csv_download("Events as CSV", on.events, file_name=f"{machine_id}-events.csv",
                        key="machine_events_csv")

st.subheader("Hourly usage")
if on.usage.empty:
    st.caption(md_format("No metered usage in {month}.", month=invoice.month_label))
else:
    machine_views.hourly_usage(machine_id, on.usage)
