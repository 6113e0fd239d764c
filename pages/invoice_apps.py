"""The apps behind one group of an invoice's lines (a product, region, VM size or line), with
the check that their allocations add up to the group's lines; each app opens its machines.
A ``team`` in the URL (the team comparison's link) narrows them to that team's apps, its share
of the group, with the filter shown and a link to every team's."""

import streamlit as st

from fleetspend.money import dollars
from fleetspend.reads import invoice_drill as drill
from fleetspend.ui import access, database, invoice_views, url_state
from fleetspend.ui import drilldown as ui
from fleetspend.ui.errors import database_errors_stop_the_page
from fleetspend.ui.untrusted import md, md_format
from fleetspend.units import plural

TABLE_KEY = "invoice_apps_table"

visit = access.require(access.BILLING, "invoice apps")
reader = url_state.reader()
with url_state.naming("a group of lines"):
    number, group, team_id = reader.named("invoice"), reader.group(), reader.id("team")

try:
    with database_errors_stop_the_page("the apps of this invoice"):
        found = database.read(visit, invoice_views.group_apps, visit.org_in_view, number, group)
except drill.DrillError as error:
    ui.stop_with_missing(error)
if found is None:
    ui.stop_without_invoice(visit, number)
invoice, total, apps = found.invoice, found.total, found.apps
label = total.label

here = {"invoice": invoice.invoice_number, **group.url_params()}
ui.breadcrumbs(visit, [
    ui.Crumb("Invoices", ui.INVOICES_PAGE),
    ui.Crumb(invoice.invoice_number, ui.INVOICE_PAGE, {"invoice": invoice.invoice_number}),
], label)
st.title(md(label))
st.caption(md_format("Invoice {number} · {month}{estimated}", number=invoice.invoice_number,
                     month=invoice.month_label,
                     estimated=" · estimated (upcoming invoice)" if invoice.is_estimated else ""))

if team_id is not None:
    apps = apps[apps.team_id == team_id].reset_index(drop=True)
    team = apps.team_name.iloc[0] if len(apps) else f"team {team_id}"
    with st.container(horizontal=True, vertical_alignment="center", key="invoice_apps_team"):
        st.markdown(md_format("Filtered to **{team}**'s apps: {share} of {amount}.", team=team,
                              share=dollars(int(apps.amount_cents.sum())),
                              amount=dollars(total.amount_cents)))
        st.page_link(ui.APPS_PAGE, label="Show every team's apps", icon=":material/close:",
                     query_params={**ui.access_params(visit), **here})
lines_metric, amount_metric, apps_metric = st.columns(3)
lines_metric.metric("Lines", f"{total.lines:,}")
amount_metric.metric("Amount", dollars(total.amount_cents if team_id is None
                                       else int(apps.amount_cents.sum())))
apps_metric.metric("Apps", f"{len(apps):,}")

shown = ui.with_dollars(apps, amount="amount_cents")
columns = {"app_name": "App", "amount": "Amount (USD)", "team_name": "Team",
           "machines": "Machines", "volumes": "Volumes"}
picked = ui.picked_row(
    shown, key=TABLE_KEY, column_order=list(columns),
    column_config={**columns, "amount": ui.money_column("Amount (USD)")},
    open_label="Open the machines of an app",
    row_labels=[f"{app} ({team})" for app, team
                in zip(apps["app_name"], apps["team_name"], strict=True)],
)
if team_id is None:
    ui.show_check(f"the allocations of {plural(len(apps), 'app')}", apps["amount_cents"],
                  f"amount of the {total.lines} lines", total.amount_cents)
st.caption("Pick an app to see its machines and volumes.")
st.page_link(ui.MACHINES_PAGE, label="Every machine and volume in this group",
             icon=":material/dns:", query_params={**ui.access_params(visit), **here})
ui.csv_download("Download CSV", ui.as_shown(shown, columns),
                file_name=f"{invoice.invoice_number}-apps.csv", key="invoice_apps_csv")
if picked is not None:
    st.switch_page(ui.MACHINES_PAGE, query_params={
        **ui.access_params(visit), **here, "app": str(picked["app_id"])})
