"""One machine: what it is (app, team, region, preset, memory, lifetime), the timeline of its
runs, stops and resizes, its hourly usage, and the exact charge it contributed to every line
of an invoice with the arithmetic (seconds x rate x markup) and the check against the level
it was opened from."""

import plotly.express as px
import streamlit as st

from fleetspend import invoice_drill as drill
from fleetspend.money import dollars
from fleetspend.ui import access, charts
from fleetspend.ui import drilldown as ui
from fleetspend.ui.errors import database_errors_stop_the_page
from fleetspend.ui.untrusted import md, md_format
from fleetspend.units import plural

CHARGES_KEY = "machine_charges_table"

visit = access.require(access.BILLING, "machine")
params = st.query_params
try:
    machine_id = drill.parse_text("machine", params.get("machine"))
    number = drill.parse_text("invoice", params.get("invoice"))
    app_id = drill.parse_id("app", params.get("app"))
    group = drill.parse_group(params.get("by"), params.get("key"))
except drill.DrillError as error:
    ui.stop_with_bad_link("a machine", error)


def load(snapshot):
    connection = snapshot.connection
    identity = drill.machine(connection, visit.org_id, machine_id)
    if identity is None:
        return None
    charged_on = drill.machine_invoices(connection, visit.org_id, machine_id)
    wanted = number or (charged_on["invoice_number"].iloc[0] if len(charged_on) else "")
    invoice = drill.invoice(connection, visit.org_id, wanted) if wanted else None
    if invoice is None:
        return identity, charged_on, None, None, None, None, None, None, None
    period = invoice.period
    charges = drill.machine_charges(connection, visit.org_id, machine_id, invoice.invoice_id,
                                    group)
    # opened from a group of lines: the group's name for the crumbs, and the machine's amount
    # as the group's machine list shows it (its row there), for the check; opened from the
    # whole invoice, neither is shown
    total = listed = None
    if group.by != "invoice":
        total = drill.group_total(connection, visit.org_id, invoice.invoice_id, group)
        listed = drill.group_resources(connection, visit.org_id, invoice.invoice_id, group,
                                       app_id=app_id, search=machine_id)
    return (identity, charged_on, invoice, total, charges, listed,
            drill.machine_runs(connection, visit.org_id, machine_id, period),
            drill.machine_events(connection, visit.org_id, machine_id, period),
            drill.machine_hourly_usage(connection, visit.org_id, machine_id, period))


try:
    with database_errors_stop_the_page("this machine"):
        loaded = visit.read(load)
except drill.DrillError as error:
    ui.stop_with_missing(error)
if loaded is None:
    st.warning(md_format("This organization has no machine {machine!r}.", machine=machine_id),
               icon=":material/search_off:")
    st.stop()
identity, charged_on, invoice, total, charges, listed, runs, events, usage = loaded

crumbs = [ui.Crumb("Invoices", ui.INVOICES_PAGE)]
if invoice is not None:
    context = {"invoice": invoice.invoice_number, **group.url_params()}
    crumbs.append(ui.Crumb(invoice.invoice_number, ui.INVOICE_PAGE,
                           {"invoice": invoice.invoice_number}))
    if total is not None:
        crumbs.append(ui.Crumb(total.label, ui.APPS_PAGE, context))
    if app_id is not None:
        crumbs.append(ui.Crumb(f"App {identity['app_name']}", ui.MACHINES_PAGE,
                               {**context, "app": str(app_id)}))
    else:
        crumbs.append(ui.Crumb("Machines", ui.MACHINES_PAGE, context))
ui.breadcrumbs(visit, crumbs, f"Machine {machine_id}")
st.title(md_format("Machine {machine}", machine=machine_id))

st.subheader("Identity")
where, size, lifetime = st.columns(3)
where.markdown(md_format("**App** {app_name}  \n**Team** {team_name}  \n**Region** "
                         "{region_code} ({city}, {country}), markup {markup:f}",
                         markup=identity["price_markup"].normalize(), **identity))
size.markdown(md_format("**Preset** {preset_code} ({cpus} {cpu_kind} vCPU)  \n**Memory** "
                        "{memory_mb:,} MB  \n**Root filesystem** {rootfs_gb} GB", **identity))
destroyed = identity["destroyed_at"]
lifetime.markdown(md_format("**Created** {created_at:%Y-%m-%d %H:%M:%S} UTC  \n**Destroyed** "
                            "{destroyed}", destroyed=f"{destroyed:%Y-%m-%d %H:%M:%S} UTC"
                            if destroyed else "not destroyed", **identity))

if invoice is None:
    st.info("This machine is on no invoice yet.", icon=":material/receipt_long:")
    st.stop()

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

arithmetic = [drill.charge_arithmetic(charge) for _, charge in charges.iterrows()]
shown = ui.with_dollars(charges, amount="amount_cents", line_amount="line_amount_cents").assign(
    in_group=charges["is_in_group"].astype(bool),
    quantity_text=[f"{quantity.normalize():,f} {unit}" for quantity, unit
                   in zip(charges["consumed_quantity"], charges["consumed_unit"], strict=True)],
    rate=[steps.rate for steps in arithmetic],
    amount_arithmetic=[steps.amount for steps in arithmetic],
    allocation=[steps.allocation for steps in arithmetic],
)
st.dataframe(
    shown, hide_index=True, key=CHARGES_KEY,
    column_order=["line_no", "amount", "description", "quantity_text", "line_amount"]
    + (["in_group"] if group.by != "invoice" else [])
    + ["rate", "amount_arithmetic", "allocation"],
    column_config={
        "line_no": "Line", "description": "Line description", "quantity_text": "Consumed",
        "rate": "Unit price from the price book", "amount_arithmetic": "Quantity x unit price",
        "allocation": "Share of the line's cents", "amount": ui.money_column("Charged"),
        "line_amount": ui.money_column("Line total"), "in_group": "In the group opened",
    },
    placeholder="",
)
with st.expander("How each charge was computed", expanded=True):
    for charge, steps in zip(charges.itertuples(), arithmetic, strict=True):
        st.markdown(md_format("**Line {line}** · {amount}", line=charge.line_no,
                              amount=dollars(charge.amount_cents)))
        st.text(f"{charge.description}\n"
                f"unit price: {steps.rate}\n"
                f"amount:     {steps.amount}\n"
                f"charged:    {steps.allocation}")
if not all(steps.rate_matches and steps.amount_matches for steps in arithmetic):
    st.error("A unit price or amount above does not match the price book; please report this "
             "invoice to support.", icon=":material/error:")
total_row = charged_on.loc[charged_on["invoice_number"] == invoice.invoice_number]
ui.show_check(f"its {plural(len(charges), 'charge')}", charges["amount_cents"],
              f"machine's amount on invoice {invoice.invoice_number}",
              int(total_row["amount_cents"].iloc[0]) if len(total_row) else 0)
listed_row = None if listed is None else listed.rows.loc[listed.rows["resource_id"] == machine_id]
if listed_row is not None and len(listed_row):
    ui.show_check("its charges on the lines of the group opened",
                  shown.loc[shown["in_group"], "amount_cents"],
                  "amount the machine list shows for it", int(listed_row["amount_cents"].iloc[0]))
ui.csv_download("Charges as CSV", shown.drop(columns=["amount_precise", "line_amount_precise"]),
                file_name=f"{machine_id}-{invoice.invoice_number}-charges.csv",
                key="machine_charges_csv")

st.subheader("Timeline")
if runs.empty and events.empty:
    st.caption(md_format("No runs in {month}.", month=invoice.month_label))
else:
    ui.timeline(runs, events, invoice.period, key="machine", seconds_label="Seconds this month")
    with st.container(horizontal=True):
        ui.csv_download("Runs as CSV", runs, file_name=f"{machine_id}-runs.csv",
                        key="machine_runs_csv")
        ui.csv_download("Events as CSV", events, file_name=f"{machine_id}-events.csv",
                        key="machine_events_csv")

st.subheader("Hourly usage")
if usage.empty:
    st.caption(md_format("No metered usage in {month}.", month=invoice.month_label))
else:
    chart = usage.assign(runtime_minutes=usage["runtime_seconds"] / 60)
    figure = px.bar(chart, x="hour_at", y="runtime_minutes", color="preset_code", height=260,
                    labels={"hour_at": "Hour (UTC)", "runtime_minutes": "Minutes running",
                            "preset_code": "Preset"})
    figure.update_layout(margin={"t": 10, "b": 10})
    charts.draw(figure, key="machine_usage_chart")
    st.dataframe(usage, hide_index=True, key="machine_usage_table", height=240, column_config={
        "hour_at": ui.utc_column("Hour (UTC)"), "preset_code": "Preset",
        "memory_mb": "Memory (MB)", "runtime_seconds": "Runtime (s)",
        "stopped_rootfs_gb_seconds": "Stopped rootfs (GB-s)",
        "egress_internet_gb": "Internet egress (GB)", "egress_private_gb": "Private egress (GB)",
        "dedicated_ipv4_seconds": "Dedicated IPv4 (s)",
    }, placeholder="")
    ui.csv_download("Hourly usage as CSV", usage, file_name=f"{machine_id}-usage.csv",
                    key="machine_usage_csv")
