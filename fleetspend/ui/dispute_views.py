"""The sections of the dispute workbench: the invoice re-rated from raw usage against what it
billed, the price book versions that applied, and the machines' timelines around the period."""

from __future__ import annotations

from collections.abc import Mapping

import pandas as pd
import streamlit as st

from fleetspend import db
from fleetspend.reads import dispute
from fleetspend.reads import invoice_drill as drill
from fleetspend.ui import database, invoice_views
from fleetspend.ui import drilldown as ui
from fleetspend.ui.access import Visit
from fleetspend.ui.errors import database_errors_stop_the_page
from fleetspend.ui.untrusted import md_format

RERATE_TTL_S = 300
MACHINE_KEY = "dispute_machine"


@st.cache_data(ttl=RERATE_TTL_S, max_entries=16, show_spinner="Re-rating the month's raw usage…")
def _rerated(scope: db.Scope, org_id: int, invoice_number: str) -> dispute.Rerating | None:
    return dispute.rerate(db.app_primary_engine(), scope, org_id, invoice_number)


def rerated(visit: Visit, invoice_number: str) -> dispute.Rerating | None:
    """The invoice re-rated from raw usage, on the primary (which alone may re-rate), cached
    by the visit's scope (a grant, and so an engineer and organization) and the invoice."""
    return _rerated(visit.scope(), visit.org_in_view, invoice_number)


def comparison(rerating: dispute.Rerating) -> None:
    """Whether the re-rating reproduces the invoice, what differs, and both per line and per
    machine or volume."""
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


def price_lists(lists: pd.DataFrame) -> None:
    """The price lists in force during the invoice's month, and any that priced its lines."""
    # a price list still in force has no end: say so rather than leave an empty cell
    until = lists["effective_until"].map(
        lambda moment: "still in force" if pd.isna(moment) else f"{moment:%Y-%m-%d %H:%M}")
    st.dataframe(ui.with_dollars(lists.assign(effective_until=until), amount="amount_cents"),
                 hide_index=True,
                 key="dispute_price_lists",
                 column_order=["name", "amount", "effective_from", "effective_until",
                               "lines_priced"],
                 column_config={
                     "name": "Price list",
                     "effective_from": ui.utc_column("In force from (UTC)"),
                     "effective_until": "Until (UTC)",
                     "lines_priced": st.column_config.NumberColumn("Lines it priced",
                                                                   format="%d"),
                     "amount": ui.money_column("Amount it priced"),
                 }, placeholder="")
    st.caption("Every price list in force during the invoice's month (UTC), and any that "
               "priced one of its lines.")


def timelines(visit: Visit, invoice: drill.Invoice, rerating: dispute.Rerating | None,
              here: Mapping[str, str]) -> None:
    """A machine of the invoice, picked (largest difference first), and its runs and events
    from the month before to the month after."""
    machines = ([] if rerating is None else
                list(rerating.resources.loc[rerating.resources["resource_kind"] == "machine",
                                            "resource_id"]))
    if not machines:
        st.caption("No machine is on this invoice.")
        return
    window = dispute.timeline_window(invoice)
    machine_id = st.selectbox("Machine (largest difference first, then largest charge)",
                              machines, key=MACHINE_KEY)
    with database_errors_stop_the_page("the machine's timeline"):
        runs, events = database.read(visit, invoice_views.machine_timeline, visit.org_in_view,
                                     machine_id, window)
    st.caption(md_format("From {start:%Y-%m-%d} to {end:%Y-%m-%d} UTC: the invoice's month and "
                         "{days} days either side.", start=window[0], end=window[1],
                         days=dispute.TIMELINE_MARGIN.days))
    if runs.empty:
        st.caption("No runs in this window.")
    ui.timeline(runs, events, window, key="dispute", seconds_label="Seconds in window")
    st.page_link(ui.MACHINE_PAGE, label="This machine's charges and hourly usage",
                 icon=":material/memory:",
                 query_params={**ui.access_params(visit), "machine": machine_id, **here})
