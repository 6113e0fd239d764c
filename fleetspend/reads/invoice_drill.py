"""The invoice drill-down's read side: from an invoice total to the machines, to the cent.

The path has five levels, each a page with its own URL state:

1. an organization's invoices (``invoices``);
2. one invoice: its lines, grouped by product, region, VM size or line (``invoice``);
3. the apps behind one group of lines (``invoice=..&by=..&key=..``);
4. the machines and volumes behind one group, optionally of one app, one page at a time;
5. one machine: identity, runs, events, hourly usage, and its charge on every line.

Every level can prove that its children add up to its parent, in integer cents: lines to the
invoice's subtotal (and subtotal minus credits to the total), groups to the subtotal, apps to
their group (allocations against lines), machines to their app or group, and a machine's
charges to its amount on the level above. :func:`sum_check` is that comparison.

A group is named by ``by`` (an allow-list: :data:`GROUP_BYS`) and ``key``: the key the SQL
function ``invoice_line_group_key`` (migration 0020) gives each of its lines, the one rule every
query of the drill-down groups lines by. What each app and each machine or volume was
allocated per group is written when an invoice is drafted (``invoice_group_amounts``,
``invoice_group_resources``), so the apps and machines levels read one group's rows.
Functions here take one page view's connection and return DataFrames whose money stays
integer cents or Decimal; nothing here imports Streamlit.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from datetime import date, datetime
from decimal import Decimal

import pandas as pd
from sqlalchemy import Connection

from fleetspend import models, urlvalues
from fleetspend.billing.rating import month_bounds
from fleetspend.reads.readmodels import read_frame
from queries import sql

# how a group of lines is chosen (models.INVOICE_GROUPINGS), as the page names it
GROUP_BYS = dict(zip(models.INVOICE_GROUPINGS,
                     ("Whole invoice", "Product", "Region", "VM size", "Line"), strict=True))
# the group key of lines without a region or VM size (volumes, egress, ...), as the SQL
# function invoice_line_group_key (migration 0020) gives it
NO_VM_SIZE = "-"
# the machine list's orders: URL value -> label
SORTS = {
    "amount": "Amount, largest first",
    "resource": "Machine id",
    "app": "App name",
}
PAGE_SIZE = 50
MAX_SEARCH_LENGTH = 64


class DrillError(ValueError):
    """A URL asked for something that is not on the path (bad level, key or page)."""


@dataclass(frozen=True)
class Group:
    """A group of one invoice's lines: ``by`` one of :data:`GROUP_BYS`, and its ``key``."""

    by: str
    key: str = ""

    def params(self) -> dict[str, str]:
        return {"group_by": self.by, "group_key": self.key}

    def url_params(self) -> dict[str, str]:
        """The group as query parameters (the whole invoice needs none)."""
        return {} if self.by == "invoice" else {"by": self.by, "key": self.key}


def parse_group(by: str | None, key: str | None) -> Group:
    """The group named in a URL; no ``by`` means the whole invoice."""
    if not by or by == "invoice":
        return Group("invoice")
    if by not in GROUP_BYS:
        raise DrillError(f"unknown grouping {by!r}; choose one of {', '.join(GROUP_BYS)}")
    if not key:
        raise DrillError(f"a group by {GROUP_BYS[by].lower()} needs a key")
    if by == "line" and urlvalues.whole_number(key, 1, urlvalues.INT_MAX) is None:
        raise DrillError(f"a line is named by its number, got {key!r}")
    return Group(by, parse_text("key", key))


def parse_page(value: str | None) -> int:
    """A 1-based page number from a URL (default 1)."""
    if not value:
        return 1
    page = urlvalues.whole_number(value, 1, urlvalues.INT_MAX // PAGE_SIZE)
    if page is None:
        raise DrillError(f"page must be a whole number from 1, got {value!r}")
    return page


def parse_id(name: str, value: str | None) -> int | None:
    """A database id (an app's, say) from a URL; None when absent."""
    if not value:
        return None
    parsed = urlvalues.whole_number(value, 1)
    if parsed is None:
        raise DrillError(f"{name} must be a whole number id, got {value!r}")
    return parsed


def parse_text(name: str, value: str | None) -> str:
    """A name from a URL (an invoice number, a machine id): '' when absent."""
    if not value:
        return ""
    if urlvalues.plain_text(value) is None:
        raise DrillError(f"{name} must be at most {urlvalues.MAX_TEXT_LENGTH} characters of "
                         "text")
    return value


def search_patterns(search: str) -> tuple[str | None, str | None]:
    """LIKE patterns (escape ``\\``) for a search: a machine id prefix, or part of an app name."""
    search = search.strip()
    if not search:
        return None, None
    if urlvalues.plain_text(search, MAX_SEARCH_LENGTH) is None:
        raise DrillError(f"search at most {MAX_SEARCH_LENGTH} characters of text")
    escaped = search.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"{escaped.lower()}%", f"%{escaped}%"


def sum_check(children_cents: list[int] | pd.Series, parent_cents: int) -> tuple[int, bool]:
    """The children's total in cents and whether it equals the parent's exactly."""
    total = sum(int(cents) for cents in children_cents)
    return total, total == int(parent_cents)


def _frame(connection: Connection, query: str, params: dict, columns: list[str]) -> pd.DataFrame:
    return read_frame(connection, query, params)[columns]


# --- level 1: invoices ---------------------------------------------------------------------

INVOICE_COLUMNS = [
    "invoice_id", "invoice_number", "period_start_date", "status", "currency", "subtotal_cents",
    "credits_cents", "total_cents", "previous_total_cents", "change_cents", "is_estimated",
]


def invoices(connection: Connection, org_id: int) -> pd.DataFrame:
    """An organization's invoices, newest first, with the change against the one before."""
    return _frame(connection, "invoice_list", {"org_id": org_id}, INVOICE_COLUMNS)


# --- level 2: one invoice ------------------------------------------------------------------


@dataclass(frozen=True)
class Invoice:
    """One invoice's header."""

    invoice_id: int
    invoice_number: str
    period_start_date: date
    status: str
    currency: str
    subtotal_cents: int
    credits_cents: int
    total_cents: int
    finalized_at: datetime | None
    is_estimated: bool
    org_name: str
    org_slug: str
    previous_total_cents: int | None

    @property
    def period(self) -> tuple[datetime, datetime]:
        """The invoice's month as UTC instants [start, end)."""
        return month_bounds(self.period_start_date)

    @property
    def month_label(self) -> str:
        return f"{self.period_start_date:%B %Y}"


def invoice(connection: Connection, org_id: int, invoice_number: str) -> Invoice | None:
    """The organization's invoice with this number, or None."""
    row = connection.execute(
        sql("invoice_header"), {"org_id": org_id, "invoice_number": invoice_number}
    ).mappings().one_or_none()
    return Invoice(**{field.name: row[field.name] for field in fields(Invoice)}) if row else None


LINE_COLUMNS = [
    "line_no", "product", "product_name", "region_code", "preset_code", "memory_mb",
    "egress_group", "price_list_name", "description", "consumed_quantity", "consumed_unit",
    "quantity", "pricing_unit", "unit_price", "amount_precise", "amount_cents",
]


def invoice_lines(connection: Connection, org_id: int, invoice_id: int) -> pd.DataFrame:
    """Every line of an invoice, in line order."""
    return _frame(connection, "invoice_lines", {"org_id": org_id, "invoice_id": invoice_id},
                  LINE_COLUMNS)


CREDIT_NOTE_COLUMNS = ["credit_note_number", "issued_at", "amount_cents", "reason",
                       "support_ticket"]


def credit_notes(connection: Connection, org_id: int, invoice_id: int) -> pd.DataFrame:
    """The credit notes against an invoice."""
    return _frame(connection, "invoice_credit_notes",
                  {"org_id": org_id, "invoice_id": invoice_id}, CREDIT_NOTE_COLUMNS)


# how a group without a region or VM size reads in the table of groups
NO_KEY_NAMES = {"region": "no region", "vm_size": "no VM size (volumes, storage, IPv4, egress)"}
GROUP_COLUMNS = ["key", "group", "lines", "amount_cents"]


def _group_name(by: str, key: str, name: str | None) -> str:
    if by == "product":
        return name or key
    if by == "line":
        return f"Line {key}: {name}"
    return NO_KEY_NAMES[by] if key == NO_VM_SIZE else key


def line_groups(connection: Connection, org_id: int, invoice_id: int, by: str) -> pd.DataFrame:
    """An invoice's lines summed per group (in the order the groups first appear), keyed as
    the SQL keys them (queries/invoice_line_groups.sql)."""
    if by not in GROUP_BYS or by == "invoice":
        raise DrillError(f"lines are grouped by product, region, VM size or line, not {by!r}")
    rows = read_frame(connection, "invoice_line_groups",
                      {"org_id": org_id, "invoice_id": invoice_id, "group_by": by})
    if rows.empty:
        return pd.DataFrame(columns=GROUP_COLUMNS)
    names = [_group_name(by, key, name)
             for key, name in zip(rows["group_key"], rows["group_name"], strict=True)]
    return rows.assign(key=rows["group_key"], group=names)[GROUP_COLUMNS]


# --- level 3: apps of a group --------------------------------------------------------------


@dataclass(frozen=True)
class GroupTotal:
    """A group of lines as the lines have it: its line count, cents and how it reads."""

    group: Group
    lines: int
    amount_cents: int
    group_name: str | None

    @property
    def label(self) -> str:
        """How the group reads on screen, e.g. 'Region: lhr' or 'Line 3: shared-cpu-1x ...'."""
        if self.group.by == "invoice":
            return "Whole invoice"
        if self.group.by == "line":
            return f"Line {self.group.key}: {self.group_name}"
        if self.group.by == "vm_size" and self.group.key == NO_VM_SIZE:
            return "VM size: none (volumes, storage, IPv4, egress)"
        return f"{GROUP_BYS[self.group.by]}: {self.group_name or self.group.key}"


def group_total(connection: Connection, org_id: int, invoice_id: int,
                group: Group) -> GroupTotal:
    """A group's line count, cents and name, from the invoice lines themselves.

    Raises :class:`DrillError` when the invoice has no line in the group.
    """
    row = connection.execute(
        sql("invoice_group_total"),
        {"org_id": org_id, "invoice_id": invoice_id, **group.params()},
    ).mappings().one()
    if row["lines"] == 0 and group.by != "invoice":
        raise DrillError(f"this invoice has no line with {GROUP_BYS[group.by].lower()} "
                         f"{group.key!r}")
    return GroupTotal(group, **row)


APP_COLUMNS = ["app_id", "app_name", "team_id", "team_name", "machines", "volumes",
               "amount_cents"]


def group_apps(connection: Connection, org_id: int, invoice_id: int,
               group: Group) -> pd.DataFrame:
    """The apps behind a group of lines, with their allocated cents, dearest first."""
    return _frame(connection, "invoice_group_apps",
                  {"org_id": org_id, "invoice_id": invoice_id, **group.params()}, APP_COLUMNS)


def group_app_total(connection: Connection, org_id: int, invoice_id: int, group: Group,
                    app_id: int) -> tuple[str, int] | None:
    """One app's name and cents on a group of lines, or None when there is no such app."""
    row = connection.execute(
        sql("invoice_group_app_total"),
        {"org_id": org_id, "invoice_id": invoice_id, **group.params(), "app_id": app_id},
    ).one_or_none()
    return (row.app_name, int(row.amount_cents)) if row else None


# --- level 4: machines of a group ----------------------------------------------------------

RESOURCE_COLUMNS = [
    "position", "resource_kind", "resource_id", "app_id", "app_name", "region_code",
    "preset_code", "memory_mb", "size_gb", "lines", "amount_cents",
]


@dataclass(frozen=True)
class ResourcePage:
    """One page of the machine list, and the count and cents of every matching resource."""

    rows: pd.DataFrame
    page: int
    match_count: int
    match_cents: int

    page_size: int | None = PAGE_SIZE

    @property
    def pages(self) -> int:
        if not self.page_size:
            return 1
        return max(1, -(-self.match_count // self.page_size))


def group_resources(connection: Connection, org_id: int, invoice_id: int, group: Group, *,
                    app_id: int | None = None, search: str = "", sort: str = "amount",
                    page: int = 1, page_size: int | None = PAGE_SIZE) -> ResourcePage:
    """One page of the machines and volumes behind a group (and app), searched and sorted.

    A page past the end gives the last page instead; ``page_size=None`` gives every match.
    """
    if sort not in SORTS:
        raise DrillError(f"unknown order {sort!r}; choose one of {', '.join(SORTS)}")
    id_prefix, app_pattern = search_patterns(search)
    params = {
        "org_id": org_id, "invoice_id": invoice_id, **group.params(), "app_id": app_id,
        "id_prefix": id_prefix, "app_pattern": app_pattern, "sort": sort,
        "page_size": page_size, "page_offset": (page - 1) * (page_size or 0),
    }
    rows = connection.execute(sql("invoice_group_machines"), params).mappings().all()
    if not rows and page > 1:
        total = connection.execute(
            sql("invoice_group_machines"), {**params, "page_size": 1, "page_offset": 0}
        ).mappings().first()
        if total is not None:
            last = max(1, -(-total["match_count"] // (page_size or 1)))
            return group_resources(connection, org_id, invoice_id, group, app_id=app_id,
                                   search=search, sort=sort, page=last, page_size=page_size)
    frame = pd.DataFrame(rows, columns=[*RESOURCE_COLUMNS, "match_count", "match_cents"])
    match_count = int(rows[0]["match_count"]) if rows else 0
    match_cents = int(rows[0]["match_cents"]) if rows else 0
    return ResourcePage(frame[RESOURCE_COLUMNS], page, match_count, match_cents, page_size)


# --- level 5: one machine ------------------------------------------------------------------


def machine(connection: Connection, org_id: int, machine_id: str) -> dict | None:
    """A machine's identity (app, team, region, preset, memory, lifetime), or None."""
    row = connection.execute(
        sql("machine_identity"), {"org_id": org_id, "machine_id": machine_id}
    ).mappings().one_or_none()
    return dict(row) if row else None


def _period_params(org_id: int, machine_id: str, period: tuple[datetime, datetime]) -> dict:
    start, end = period
    return {"org_id": org_id, "machine_id": machine_id, "start_at": start, "end_at": end}


def machine_runs(connection: Connection, org_id: int, machine_id: str,
                 period: tuple[datetime, datetime]) -> pd.DataFrame:
    """The machine's runs overlapping the period, with their seconds inside it."""
    return _frame(connection, "machine_runs", _period_params(org_id, machine_id, period),
                  ["started_at", "ended_at", "preset_code", "memory_mb", "seconds_in_period"])


def machine_events(connection: Connection, org_id: int, machine_id: str,
                   period: tuple[datetime, datetime]) -> pd.DataFrame:
    """The machine's starts, stops, resizes and destroy in the period."""
    return _frame(connection, "machine_events", _period_params(org_id, machine_id, period),
                  ["event_at", "kind", "preset_code", "memory_mb"])


USAGE_COLUMNS = [
    "hour_at", "preset_code", "memory_mb", "runtime_seconds", "stopped_rootfs_gb_seconds",
    "egress_internet_gb", "egress_private_gb", "dedicated_ipv4_seconds",
]


def machine_hourly_usage(connection: Connection, org_id: int, machine_id: str,
                         period: tuple[datetime, datetime]) -> pd.DataFrame:
    """The machine's metered usage, hour by hour, in the period."""
    return _frame(connection, "machine_hourly_usage",
                  _period_params(org_id, machine_id, period), USAGE_COLUMNS)


def machine_invoices(connection: Connection, org_id: int, machine_id: str) -> pd.DataFrame:
    """The invoices the machine was charged on, newest first, with its cents on each."""
    return _frame(connection, "machine_invoices", {"org_id": org_id, "machine_id": machine_id},
                  ["invoice_number", "period_start_date", "status", "lines", "amount_cents"])


CHARGE_COLUMNS = [
    "line_no", "product", "product_name", "description", "region_code", "preset_code",
    "memory_mb", "price_list_name", "consumed_quantity", "consumed_unit", "quantity",
    "pricing_unit", "consumed_per_pricing_unit", "unit_price", "amount_precise", "amount_cents",
    "line_amount_precise", "line_amount_cents", "price_markup", "cpus", "cpu_kind",
    "included_memory_mb", "vcpu_rate", "ram_extra_rate", "is_in_group",
]


def machine_charges(connection: Connection, org_id: int, machine_id: str, invoice_id: int,
                    group: Group) -> pd.DataFrame:
    """The machine's allocation of every line of one invoice, with the price book behind it,
    each marked whether its line is in ``group`` (the group the machine was opened from)."""
    return _frame(connection, "machine_charges",
                  {"org_id": org_id, "machine_id": machine_id, "invoice_id": invoice_id,
                   **group.params()},
                  CHARGE_COLUMNS)


def _plain(value: Decimal) -> str:
    """A Decimal without trailing zeros or exponent, e.g. 0.0000158200 -> 0.00001582."""
    text = format(value, "f")
    return text.rstrip("0").rstrip(".") if "." in text else text


def _grouped(value: Decimal) -> str:
    whole, _, fraction = _plain(value).partition(".")
    return f"{int(whole):,}" + (f".{fraction}" if fraction else "")


@dataclass(frozen=True)
class Arithmetic:
    """How one charge was computed, step by step, and whether each step checks out exactly."""

    rate: str  # where the unit price comes from (machine runtime: the price book x markup)
    amount: str  # quantity x unit price = the precise amount
    allocation: str  # the line's cents shared out: the largest-remainder share
    rate_matches: bool
    amount_matches: bool


def charge_arithmetic(charge: pd.Series) -> Arithmetic:
    """The arithmetic behind one row of :func:`machine_charges`, in words and numbers.

    Machine runtime: unit price per second = (cpus x vCPU rate + extra GB x RAM rate) x
    region markup, from the line's price list; amount = seconds x unit price. Other products:
    amount = consumed quantity / units per pricing unit x unit price (rounded per hour to 18
    decimals by rating, so the product may differ from the stored amount in the last places).
    The allocation is the line's cents x this machine's share of the line's precise amount,
    rounded by largest remainder (fleetspend/billing/sql/allocate_largest_remainder.sql).
    """
    unit_price = Decimal(charge["unit_price"])
    consumed = Decimal(charge["consumed_quantity"])
    conversion = Decimal(charge["consumed_per_pricing_unit"])
    precise = Decimal(charge["amount_precise"])
    if charge["product"] == "machine_runtime":
        cpus = int(charge["cpus"])
        extra_gb = Decimal(max(0, int(charge["memory_mb"]) - int(charge["included_memory_mb"])))
        extra_gb /= 1024
        vcpu = Decimal(charge["vcpu_rate"])
        ram = Decimal(charge["ram_extra_rate"])
        markup = Decimal(charge["price_markup"])
        list_rate = cpus * vcpu + extra_gb * ram
        rate = (f"{cpus} {charge['cpu_kind']} vCPU x ${_plain(vcpu)}/s + {_plain(extra_gb)} GB "
                f"extra RAM x ${_plain(ram)}/GB-s = ${_plain(list_rate)}/s "
                f"({charge['price_list_name']}), x {_plain(markup)} {charge['region_code']} "
                f"markup = ${_plain(list_rate * markup)}/s")
        rate_matches = list_rate * markup == unit_price
        computed = consumed * unit_price
        amount = (f"{_grouped(consumed)} s x ${_plain(unit_price)}/s = ${_plain(computed)}")
    else:
        rate = (f"${_plain(unit_price)} per {charge['pricing_unit']} "
                f"({charge['price_list_name']}, no regional markup)")
        rate_matches = True
        computed = consumed / conversion * unit_price
        if conversion == 1:
            amount = (f"{_grouped(consumed)} {charge['consumed_unit']} x ${_plain(unit_price)} "
                      f"= ${_plain(computed)}")
        else:
            amount = (f"{_grouped(consumed)} {charge['consumed_unit']} / {_grouped(conversion)} "
                      f"= {_plain(round(consumed / conversion, 6))} {charge['pricing_unit']} "
                      f"x ${_plain(unit_price)} = ${_plain(round(computed, 18))}")
    line_precise = Decimal(charge["line_amount_precise"])
    line_cents = int(charge["line_amount_cents"])
    share = line_cents * precise / line_precise if line_precise else Decimal(0)
    allocation = (f"{line_cents}¢ x ${_plain(precise)} / ${_plain(line_precise)} = "
                  f"{_plain(round(share, 6))}¢, rounded by largest remainder to "
                  f"{int(charge['amount_cents'])}¢")
    amount_matches = abs(round(computed, 18) - precise) < Decimal("1e-12")
    return Arithmetic(rate, amount, allocation, rate_matches, amount_matches)

