"""The machines and volumes behind one group of an invoice's lines, optionally of one app:
searchable by machine id prefix or app name, sortable and paginated in SQL (10,000 machines
stay fast), with the check that all of them add up to their parent; each opens its machine."""

import streamlit as st

from fleetspend.money import dollars
from fleetspend.reads import invoice_drill as drill
from fleetspend.ui import access, database, invoice_views, url_state
from fleetspend.ui import drilldown as ui
from fleetspend.ui.errors import database_errors_stop_the_page
from fleetspend.ui.untrusted import md, md_format
from fleetspend.units import plural

TABLE_KEY = "invoice_machines_table"

visit = access.require(access.BILLING, "invoice machines")
reader = url_state.reader()
with url_state.naming("a list of machines"):
    number, group, page = reader.named("invoice"), reader.group(), reader.page()
    app_id, search = reader.id("app"), reader.search("q")
    sort = reader.one_of("sort", drill.SORTS, "amount", what="order")

try:
    with database_errors_stop_the_page("the machines of this invoice"):
        found = database.read(visit, invoice_views.group_machines, visit.org_in_view, number,
                              group, app_id, search, sort, page)
except drill.DrillError as error:
    ui.stop_with_missing(error)
if found is None:
    ui.stop_without_invoice(visit, number)
invoice, total, app, resources = found.invoice, found.total, found.app, found.resources
group_label = total.label

crumbs = [
    ui.Crumb("Invoices", ui.INVOICES_PAGE),
    ui.Crumb(invoice.invoice_number, ui.INVOICE_PAGE, {"invoice": invoice.invoice_number}),
]
if group.by != "invoice":
    crumbs.append(ui.Crumb(group_label, ui.APPS_PAGE,
                           {"invoice": invoice.invoice_number, **group.url_params()}))
if app_id is not None:
    if app is None:
        st.warning("This organization has no such app.", icon=":material/search_off:")
        st.stop()
    parent_label = f"App {app[0]}"
    parent_cents = app[1]
    parent = f"amount of app {app[0]}"
else:
    parent_label = "Machines and volumes"
    parent_cents = total.amount_cents
    parent = "amount of the lines" if group.by != "invoice" else "invoice's subtotal"
ui.breadcrumbs(visit, crumbs, parent_label if app_id is not None else "Machines")
st.title(md(parent_label if app_id is not None else f"Machines: {group_label}"))
st.caption(md_format("Invoice {number} · {month} · {group}{estimated}",
                     number=invoice.invoice_number, month=invoice.month_label, group=group_label,
                     estimated=" · estimated (upcoming invoice)" if invoice.is_estimated else ""))

here = {"invoice": invoice.invoice_number, **group.url_params(),
        **({"app": str(app_id)} if app_id is not None else {})}
state = {"q": search, "sort": sort, "page": str(page)}

search_box, order_box, amount_metric = st.columns([2, 1, 1])
typed = search_box.text_input("Search by machine id prefix or app name", value=search,
                              max_chars=drill.MAX_SEARCH_LENGTH)
if typed != search:
    ui.reopen(visit, {**here, **state, "q": typed.strip(), "page": "1"})
picked_sort = order_box.selectbox("Order", list(drill.SORTS), index=list(drill.SORTS).index(sort),
                                  format_func=drill.SORTS.__getitem__)
if picked_sort != sort:
    ui.reopen(visit, {**here, **state, "sort": picked_sort, "page": "1"})
amount_metric.metric(md(parent_label) if app_id is not None else "Amount", dollars(parent_cents))

rows = ui.resource_rows(resources.rows)
columns = {"position": "#", "resource_id": "Machine or volume", "amount": "Amount (USD)",
           "resource_kind": "Kind", "app_name": "App", "region_code": "Region",
           "size": "Size now", "lines": "Lines"}
picked = ui.picked_row(
    rows, key=TABLE_KEY, column_order=list(columns),
    column_config={**columns, "amount": ui.money_column("Amount (USD)")},
    open_label="Open a machine of this page",
    row_labels=[f"{resource} ({kind}, {app})" for resource, kind, app in zip(
        rows["resource_id"], rows["resource_kind"], rows["app_name"], strict=True)],
)
first = (resources.page - 1) * drill.PAGE_SIZE
st.caption(md_format("{count:,} matching · showing {first:,}–{last:,} · this page {cents}",
                     count=resources.match_count, first=first + 1 if len(rows) else 0,
                     last=first + len(rows), cents=dollars(int(rows["amount_cents"].sum()))))
if search:
    st.info(md_format("{count:,} of them match {search!r}, together {cents} of {parent}; clear "
                      "the search to check the whole.", count=resources.match_count,
                      search=search, cents=dollars(resources.match_cents),
                      parent=dollars(parent_cents)), icon=":material/filter_alt:")
else:
    everything = plural(resources.match_count, "machine or volume", "machines and volumes")
    ui.show_check(f"the {everything}", [resources.match_cents], parent, parent_cents)

previous_page, page_box, next_page = st.columns([1, 2, 1], vertical_alignment="bottom")
if previous_page.button("Previous page", disabled=resources.page <= 1,
                        icon=":material/chevron_left:"):
    ui.reopen(visit, {**here, **state, "page": str(resources.page - 1)})
picked_page = page_box.number_input(f"Page (of {resources.pages:,})", min_value=1,
                                    max_value=resources.pages, value=resources.page, step=1)
if picked_page != resources.page:
    ui.reopen(visit, {**here, **state, "page": str(picked_page)})
if next_page.button("Next page", disabled=resources.page >= resources.pages,
                    icon=":material/chevron_right:"):
    ui.reopen(visit, {**here, **state, "page": str(resources.page + 1)})

# every matching row (all pages), read when the download is clicked
ui.csv_download("Download all as CSV", lambda: ui.as_shown(ui.resource_rows(database.read(
                    visit, drill.group_resources, visit.org_in_view, invoice.invoice_id, group,
                    app_id=app_id, search=search, sort=sort, page_size=None).rows), columns),
                file_name=f"{invoice.invoice_number}-machines.csv", key="invoice_machines_csv")
if picked is not None:
    if picked["resource_kind"] != "machine":
        st.info(md_format("{volume} is a volume: its charges are the amounts above.",
                          volume=picked["resource_id"]), icon=":material/storage:")
    else:
        st.switch_page(ui.MACHINE_PAGE, query_params={
            **ui.access_params(visit), **here, "machine": picked["resource_id"]})
