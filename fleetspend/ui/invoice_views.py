"""What each level of the invoice drill-down and the dispute workbench reads in one page view:
readers of :mod:`fleetspend.reads.invoice_drill` (and the dispute's) for
:mod:`fleetspend.ui.database`, each returning None in place of an invoice or machine the
organization does not have."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import pandas as pd
from sqlalchemy import Connection

from fleetspend.reads import dispute
from fleetspend.reads import invoice_drill as drill


@dataclass(frozen=True)
class InvoiceLines:
    """One invoice with its lines and credit notes."""

    invoice: drill.Invoice
    lines: pd.DataFrame
    credits: pd.DataFrame
    groups: pd.DataFrame  # the lines grouped as asked (drill.GROUP_BYS)


def invoice_lines(connection: Connection, org_id: int, number: str,
                  by: str) -> InvoiceLines | None:
    """Invoice ``number`` with its lines, its credit notes and its lines grouped ``by``."""
    invoice = drill.invoice(connection, org_id, number)
    if invoice is None:
        return None
    return InvoiceLines(invoice, drill.invoice_lines(connection, org_id, invoice.invoice_id),
                        drill.credit_notes(connection, org_id, invoice.invoice_id),
                        drill.line_groups(connection, org_id, invoice.invoice_id, by))


@dataclass(frozen=True)
class GroupApps:
    """One group of an invoice's lines and the apps behind it."""

    invoice: drill.Invoice
    total: drill.GroupTotal
    apps: pd.DataFrame


def group_apps(connection: Connection, org_id: int, number: str,
               group: drill.Group) -> GroupApps | None:
    """The apps behind ``group`` of invoice ``number`` (DrillError: no line in the group)."""
    invoice = drill.invoice(connection, org_id, number)
    if invoice is None:
        return None
    return GroupApps(invoice, drill.group_total(connection, org_id, invoice.invoice_id, group),
                     drill.group_apps(connection, org_id, invoice.invoice_id, group))


@dataclass(frozen=True)
class ResourceList:
    """A page of the machines and volumes behind a group (of one app, when ``app`` names it:
    its name and cents)."""

    invoice: drill.Invoice
    total: drill.GroupTotal
    app: tuple[str, int] | None
    resources: drill.ResourcePage


def group_machines(connection: Connection, org_id: int, number: str, group: drill.Group,
                   app_id: int | None, search: str, sort: str, page: int) -> ResourceList | None:
    """One page of the machines and volumes behind ``group`` of invoice ``number``."""
    invoice = drill.invoice(connection, org_id, number)
    if invoice is None:
        return None
    total = drill.group_total(connection, org_id, invoice.invoice_id, group)
    app = (drill.group_app_total(connection, org_id, invoice.invoice_id, group, app_id)
           if app_id is not None else None)
    return ResourceList(invoice, total, app, drill.group_resources(
        connection, org_id, invoice.invoice_id, group, app_id=app_id, search=search, sort=sort,
        page=page))


@dataclass(frozen=True)
class MachineCharges:
    """One machine's charges on one invoice and its life in the invoice's month.

    ``total`` and ``listed`` (the group's name, and the machine's row in the group's machine
    list, for the check) only when opened from a group of lines, not the whole invoice."""

    invoice: drill.Invoice
    charges: pd.DataFrame
    total: drill.GroupTotal | None
    listed: drill.ResourcePage | None
    runs: pd.DataFrame
    events: pd.DataFrame
    usage: pd.DataFrame


@dataclass(frozen=True)
class MachineView:
    """One machine: what it is, the invoices that charge it, and its charges on one of them
    (None when it is on no invoice yet)."""

    identity: dict
    charged_on: pd.DataFrame
    on_invoice: MachineCharges | None


def machine_view(connection: Connection, org_id: int, machine_id: str, number: str,
                 app_id: int | None, group: drill.Group) -> MachineView | None:
    """Machine ``machine_id`` on invoice ``number`` (or the latest that charges it)."""
    identity = drill.machine(connection, org_id, machine_id)
    if identity is None:
        return None
    charged_on = drill.machine_invoices(connection, org_id, machine_id)
    wanted = number or (charged_on["invoice_number"].iloc[0] if len(charged_on) else "")
    invoice = drill.invoice(connection, org_id, wanted) if wanted else None
    if invoice is None:
        return MachineView(identity, charged_on, None)
    period = invoice.period
    total = listed = None
    if group.by != "invoice":
        total = drill.group_total(connection, org_id, invoice.invoice_id, group)
        listed = drill.group_resources(connection, org_id, invoice.invoice_id, group,
                                       app_id=app_id, search=machine_id)
    return MachineView(identity, charged_on, MachineCharges(
        invoice, drill.machine_charges(connection, org_id, machine_id, invoice.invoice_id, group),
        total, listed, drill.machine_runs(connection, org_id, machine_id, period),
        drill.machine_events(connection, org_id, machine_id, period),
        drill.machine_hourly_usage(connection, org_id, machine_id, period)))


def machine_timeline(connection: Connection, org_id: int, machine_id: str,
                     window: tuple[datetime, datetime]) -> tuple[pd.DataFrame, pd.DataFrame]:
    """A machine's runs and lifecycle events in ``window`` (UTC)."""
    return (drill.machine_runs(connection, org_id, machine_id, window),
            drill.machine_events(connection, org_id, machine_id, window))


def invoice_price_lists(connection: Connection, org_id: int,
                        number: str) -> tuple[drill.Invoice, pd.DataFrame] | None:
    """Invoice ``number`` and the price book versions that applied to it."""
    invoice = drill.invoice(connection, org_id, number)
    if invoice is None:
        return None
    return invoice, dispute.price_lists(connection, org_id, invoice.invoice_id)
