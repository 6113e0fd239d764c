"""Pieces every level of the invoice drill-down draws: breadcrumbs, the sum check, tables
whose rows open the next level, and CSV downloads.

Each level is its own page with its state in the URL; moving down or up carries that state
with ``st.switch_page(..., query_params=...)`` or ``st.page_link(..., query_params=...)``,
plus the organization (or support grant) in view, so a copied link reproduces the view.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import NoReturn

import pandas as pd
import streamlit as st
from streamlit.elements.lib.column_types import ColumnConfig

from fleetspend.csvfile import to_csv
from fleetspend.money import change_percent, dollars, dollars_exact
from fleetspend.reads.invoice_drill import sum_check
from fleetspend.ui import access, charts
from fleetspend.ui.untrusted import md, md_format

INVOICES_PAGE = "pages/invoices.py"
INVOICE_PAGE = "pages/invoice.py"
APPS_PAGE = "pages/invoice_apps.py"
MACHINES_PAGE = "pages/invoice_machines.py"
MACHINE_PAGE = "pages/machine.py"


def access_params(visit: access.Visit) -> dict[str, str]:
    """The query parameter that keeps the organization (or support grant) in view."""
    if visit.grant is not None:
        return {access.GRANT_PARAM: str(visit.grant.grant_id)}
    assert visit.membership is not None
    return {access.ORG_PARAM: visit.membership.slug}


@dataclass(frozen=True)
class Crumb:
    """One step of the path: its label, its page and the query parameters that reopen it."""

    label: str
    page: str
    params: Mapping[str, str] = field(default_factory=dict)


def stop_without_invoice(visit: access.Visit, number: str) -> NoReturn:
    """Say the organization has no such invoice, link to its invoices, and end the page."""
    st.warning(md_format("This organization has no invoice numbered {number!r}.",
                         number=number), icon=":material/search_off:")
    st.page_link(INVOICES_PAGE, label="All invoices", query_params=access_params(visit))
    st.stop()


def reopen(visit: access.Visit, params: Mapping[str, str]) -> NoReturn:
    """Reopen this level at ``params`` (empty values left out, the organization in view
    carried along) and run again: a search, an order or a page changed."""
    st.query_params.from_dict({**access_params(visit),
                               **{name: value for name, value in params.items() if value}})
    st.rerun()


def stop_with_missing(error: Exception) -> NoReturn:
    """Say what the link names is not there (no such line group, say), and end the page."""
    st.warning(md_format("{error}.", error=error), icon=":material/search_off:")
    st.stop()


def breadcrumbs(visit: access.Visit, crumbs: list[Crumb], here: str) -> None:
    """The path to this level as links, ending in this level's own label."""
    with st.container(horizontal=True, gap="small", vertical_alignment="center",
                      key="drill_breadcrumbs"):
        for crumb in crumbs:
            st.page_link(crumb.page, label=md(crumb.label),
                         query_params={**access_params(visit), **crumb.params})
            st.markdown("›")
        st.markdown(md_format("**{here}**", here=here))


def show_check(children: str, children_cents: list[int] | pd.Series, parent: str,
               parent_cents: int) -> bool:
    """The visible proof that a level adds up: children's cents against the parent's."""
    total, ok = sum_check(children_cents, parent_cents)
    if ok:
        st.success(md_format("Check: {children} add up to {total}, exactly the {parent} "
                             "({parent_total}).", children=children, total=dollars(total),
                             parent=parent, parent_total=dollars(parent_cents)),
                   icon=":material/check_circle:")
    else:
        st.error(md_format("Check failed: {children} add up to {total}, but the {parent} is "
                           "{parent_total} ({apart} apart). Please report this invoice to "
                           "support.", children=children, total=dollars(total), parent=parent,
                           parent_total=dollars(parent_cents),
                           apart=dollars(total - int(parent_cents))), icon=":material/error:")
    return ok


def with_dollars(frame: pd.DataFrame, **columns: str) -> pd.DataFrame:
    """``frame`` with exact Decimal dollar columns made from integer-cent ones (new=cents)."""
    return frame.assign(**{
        new: [None if pd.isna(cents) else dollars_exact(int(cents)) for cents in frame[old]]
        for new, old in columns.items()
    })


def resource_rows(frame: pd.DataFrame) -> pd.DataFrame:
    """Machine and volume rows as their tables show them: dollars, and each one's size in
    words."""
    return with_dollars(frame, amount="amount_cents").assign(
        size=[f"{preset} {memory} MB" if kind == "machine" else f"{size} GB volume"
              for kind, preset, memory, size in zip(
                  frame["resource_kind"], frame["preset_code"], frame["memory_mb"],
                  frame["size_gb"], strict=True)])


def as_shown(frame: pd.DataFrame, columns: Mapping[str, str]) -> pd.DataFrame:
    """The columns a table shows, under the headers it shows them with: what its CSV holds."""
    return frame[list(columns)].rename(columns=dict(columns))


def utc_column(label: str, *, seconds: bool = False) -> ColumnConfig:
    """A UTC time column: the header says UTC, so the cells carry no offset."""
    return st.column_config.DatetimeColumn(
        label, format="YYYY-MM-DD HH:mm:ss" if seconds else "YYYY-MM-DD HH:mm")


def money_column(label: str) -> ColumnConfig:
    """A dollars column (the values are exact Decimals; the format only draws them)."""
    return st.column_config.NumberColumn(label, format="dollar")


def picked_row(frame: pd.DataFrame, *, key: str, column_order: list[str],
               column_config: dict, open_label: str, row_labels: list[str]) -> pd.Series | None:
    """A table whose rows open the next level, by a click on a row or from the keyboard: a
    select box under it (``open_label``) offers the same rows by ``row_labels`` (type to
    filter, Enter to open). The row picked either way, or None."""
    event = st.dataframe(frame, key=key, hide_index=True, on_select="rerun",
                         selection_mode="single-row", column_order=column_order,
                         column_config=column_config, placeholder="")
    rows = event.selection.rows if event is not None else []
    if rows:
        return frame.iloc[rows[0]]
    chosen = st.selectbox(open_label, range(len(frame)), index=None, key=f"{key}_open",
                          format_func=row_labels.__getitem__, placeholder="Type to search")
    return None if chosen is None else frame.iloc[chosen]


def csv_download(label: str, data: pd.DataFrame | Callable[[], pd.DataFrame], *,
                 file_name: str, key: str) -> None:
    """A CSV download of a table, written when the button is clicked (not in every run of
    the page); a callable is only read then too."""
    st.download_button(label, lambda: to_csv(data() if callable(data) else data),
                       file_name=file_name, mime="text/csv", key=key,
                       icon=":material/download:", on_click="ignore")


def change_text(total_cents: int, previous_cents: int | None) -> str:
    """The change of a total against the previous invoice's, e.g. '+$12.30 (+8.1%)'."""
    if previous_cents is None or pd.isna(previous_cents):
        return "first invoice"
    change = int(total_cents) - int(previous_cents)
    sign = "+" if change > 0 else ""
    percent = change_percent(int(total_cents), int(previous_cents))
    return f"{sign}{dollars(change)}" + ("" if percent is None else f" ({sign}{percent}%)")


def timeline(runs: pd.DataFrame, events: pd.DataFrame, window: tuple, *, key: str,
             seconds_label: str) -> None:
    """A machine's runs drawn over ``window`` (UTC), then its runs and lifecycle events as
    tables side by side; ``seconds_label`` names each run's seconds inside the window."""
    if not runs.empty:
        charts.draw(charts.run_timeline(runs, *window), key=f"{key}_timeline")
    left, right = st.columns(2)
    left.dataframe(runs, hide_index=True, key=f"{key}_runs", column_config={
        "started_at": utc_column("Started (UTC)", seconds=True),
        "ended_at": utc_column("Ended (UTC)", seconds=True),
        "preset_code": "Preset", "memory_mb": "Memory (MB)",
        "seconds_in_period": st.column_config.NumberColumn(seconds_label, format="%d"),
    }, placeholder="")
    right.dataframe(events, hide_index=True, key=f"{key}_events", column_config={
        "event_at": utc_column("When (UTC)", seconds=True), "kind": "Event",
        "preset_code": "New preset", "memory_mb": "New memory (MB)",
    }, placeholder="")
