"""The sections of one machine's page: what it is, its charges on an invoice with the
arithmetic behind each and the checks against the level above, and its hourly usage."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from fleetspend.money import dollars
from fleetspend.reads import invoice_drill as drill
from fleetspend.ui import charts
from fleetspend.ui import drilldown as ui
from fleetspend.ui.invoice_views import MachineCharges
from fleetspend.ui.untrusted import md_format
from fleetspend.units import plural

CHARGES_KEY = "machine_charges_table"


def identity(machine: dict) -> None:
    """App, team, region, size and lifetime, in three columns."""
    where, size, lifetime = st.columns(3)
    where.markdown(md_format("**App** {app_name}  \n**Team** {team_name}  \n**Region** "
                             "{region_code} ({city}, {country}), markup {markup:f}",
                             markup=machine["price_markup"].normalize(), **machine))
    size.markdown(md_format("**Preset** {preset_code} ({cpus} {cpu_kind} vCPU)  \n**Memory** "
                            "{memory_mb:,} MB  \n**Root filesystem** {rootfs_gb} GB", **machine))
    destroyed = machine["destroyed_at"]
    lifetime.markdown(md_format("**Created** {created_at:%Y-%m-%d %H:%M:%S} UTC  \n"
                                "**Destroyed** {destroyed}",
                                destroyed=f"{destroyed:%Y-%m-%d %H:%M:%S} UTC"
                                if destroyed else "not destroyed", **machine))


def charges(machine_id: str, on: MachineCharges, charged_on: pd.DataFrame,
            group: drill.Group) -> None:
    """The machine's charges on the invoice, how each was computed, and the checks: against
    its amount on the invoice and, opened from a group, against the group's machine list."""
    invoice, rows = on.invoice, on.charges
    arithmetic = [drill.charge_arithmetic(charge) for _, charge in rows.iterrows()]
    shown = ui.with_dollars(rows, amount="amount_cents",
                            line_amount="line_amount_cents").assign(
        in_group=rows["is_in_group"].astype(bool),
        quantity_text=[f"{quantity.normalize():,f} {unit}" for quantity, unit
                       in zip(rows["consumed_quantity"], rows["consumed_unit"], strict=True)],
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
            "rate": "Unit price from the price book",
            "amount_arithmetic": "Quantity x unit price",
            "allocation": "Share of the line's cents", "amount": ui.money_column("Charged"),
            "line_amount": ui.money_column("Line total"), "in_group": "In the group opened",
        },
        placeholder="",
    )
    with st.expander("How each charge was computed", expanded=True):
        for charge, steps in zip(rows.itertuples(), arithmetic, strict=True):
            st.markdown(md_format("**Line {line}** · {amount}", line=charge.line_no,
                                  amount=dollars(charge.amount_cents)))
            st.text(f"{charge.description}\n"
                    f"unit price: {steps.rate}\n"
                    f"amount:     {steps.amount}\n"
                    f"charged:    {steps.allocation}")
    if not all(steps.rate_matches and steps.amount_matches for steps in arithmetic):
        st.error("A unit price or amount above does not match the price book; please report "
                 "this invoice to support.", icon=":material/error:")
    total_row = charged_on.loc[charged_on["invoice_number"] == invoice.invoice_number]
    ui.show_check(f"its {plural(len(rows), 'charge')}", rows["amount_cents"],
                  f"machine's amount on invoice {invoice.invoice_number}",
                  int(total_row["amount_cents"].iloc[0]) if len(total_row) else 0)
    listed = on.listed
    listed_row = (None if listed is None
                  else listed.rows.loc[listed.rows["resource_id"] == machine_id])
    if listed_row is not None and len(listed_row):
        ui.show_check("its charges on the lines of the group opened",
                      shown.loc[shown["in_group"], "amount_cents"],
                      "amount the machine list shows for it",
                      int(listed_row["amount_cents"].iloc[0]))
    ui.csv_download("Charges as CSV",
                    shown.drop(columns=["amount_precise", "line_amount_precise"]),
                    file_name=f"{machine_id}-{invoice.invoice_number}-charges.csv",
                    key="machine_charges_csv")


def hourly_usage(machine_id: str, usage: pd.DataFrame) -> None:
    """Minutes running per hour by preset, and the hourly meters as a table."""
    charts.draw(charts.hourly_runtime(usage), key="machine_usage_chart")
    st.dataframe(usage, hide_index=True, key="machine_usage_table", height=240, column_config={
        "hour_at": ui.utc_column("Hour (UTC)"), "preset_code": "Preset",
        "memory_mb": "Memory (MB)", "runtime_seconds": "Runtime (s)",
        "stopped_rootfs_gb_seconds": "Stopped rootfs (GB-s)",
        "egress_internet_gb": "Internet egress (GB)", "egress_private_gb": "Private egress (GB)",
        "dedicated_ipv4_seconds": "Dedicated IPv4 (s)",
    }, placeholder="")
    ui.csv_download("Hourly usage as CSV", usage, file_name=f"{machine_id}-usage.csv",
                    key="machine_usage_csv")
