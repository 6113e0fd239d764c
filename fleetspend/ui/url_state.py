"""A page's state in the URL: read and validated with defaults, and written back whole.

A page reads its parameters through one :class:`ParamReader` over ``st.query_params``
(:func:`reader`): every value is a string that is checked against what is allowed. A view's
settings (dates, a grouping, filters) are forgiving: a bad one is replaced by the default and
remembered as a notice the page shows, so a mangled link still opens a sensible view and says
what it ignored. What a link names (an invoice, a group of its lines, a machine, a page of a
list) is strict: read inside :func:`naming`, a link that does not name it ends the page
saying why, since no default could stand in for it.

:func:`write` puts the whole state back (defaults included, so a copied link means the same
view even after the defaults move on with the data) and keeps the parameters that belong to
the frame (organization, support grant).
:func:`copy_link` offers that link, whole, to copy.
"""

from __future__ import annotations

import contextlib
from collections.abc import Collection, Iterator, Mapping
from datetime import date
from typing import NoReturn
from urllib.parse import urlencode

import streamlit as st

from fleetspend import urlvalues
from fleetspend.reads import invoice_drill as drill
from fleetspend.ui.untrusted import md_format

# parameters owned by the frame around every page (fleetspend.ui.access); pages keep them
FRAME_PARAMS = ("org", "grant")
LIST_SEPARATOR = ","


class ParamReader:
    """Validated values from a page's query parameters, with notices for rejected ones.

    Notices quote what the link said through :func:`untrusted.md`, so a value never acts as
    Markdown where the page shows them.
    """

    def __init__(self, params: Mapping[str, str]) -> None:
        self.params = dict(params)
        self.notices: list[str] = []

    def _reject(self, name: str, raw: str, why: str, fallback: object) -> None:
        self.notices.append(md_format("Ignored {name}={raw!r} in the link ({why}); showing "
                                      "{fallback}.", name=name, raw=raw, why=why,
                                      fallback=fallback))

    def choice(self, name: str, allowed: Collection[str], default: str) -> str:
        """One of ``allowed``."""
        raw = self.params.get(name)
        if raw is None or raw in allowed:
            return default if raw is None else raw
        self._reject(name, raw, f"expected one of {', '.join(allowed)}", default)
        return default

    def day(self, name: str, default: date, earliest: date, latest: date) -> date:
        """An ISO date (YYYY-MM-DD) between ``earliest`` and ``latest``."""
        raw = self.params.get(name)
        if raw is None:
            return default
        value = urlvalues.day(raw, earliest, latest)
        if value is None:
            self._reject(name, raw, f"expected a date like 2026-11-01 from {earliest} to "
                         f"{latest}", default)
            return default
        return value

    def keys(self, name: str, allowed: Collection[str]) -> tuple[str, ...]:
        """A comma-separated list of keys, each one of ``allowed``; unknown ones are dropped."""
        raw = self.params.get(name)
        if not raw:
            return ()
        values = [value for value in raw.split(LIST_SEPARATOR) if value]
        unknown = [value for value in values if value not in allowed]
        if unknown:
            self.notices.append(md_format(
                "Ignored {name} value(s) {unknown} in the link (not in this organization).",
                name=name, unknown=", ".join(map(repr, unknown))))
        return tuple(sorted({value for value in values if value in allowed}))

    def integer(self, name: str, default: int, lowest: int, highest: int) -> int:
        """A whole number (ASCII digits) between ``lowest`` and ``highest``."""
        raw = self.params.get(name)
        if raw is None:
            return default
        value = urlvalues.whole_number(raw, lowest, highest)
        if value is None:
            self._reject(name, raw, f"expected a whole number from {lowest} to {highest}",
                         default)
            return default
        return value

    def text(self, name: str, max_length: int = urlvalues.MAX_TEXT_LENGTH) -> str:
        """Free text (a search, a slug, a ticket) of at most ``max_length`` characters; ''
        when absent."""
        raw = self.params.get(name)
        if raw is None:
            return ""
        value = urlvalues.plain_text(raw, max_length)
        if value is None:
            self._reject(name, raw, f"expected at most {max_length} characters of text",
                         "nothing")
            return ""
        return value

    def flag(self, name: str, default: bool) -> bool:
        """'1' or '0'."""
        raw = self.params.get(name)
        if raw is None:
            return default
        if raw not in ("0", "1"):
            self._reject(name, raw, "expected 1 or 0", int(default))
            return default
        return raw == "1"

    # what the link names: strict, raising DrillError (read them inside :func:`naming`)

    def named(self, name: str) -> str:
        """A name (an invoice number, a machine id) of bounded clean text; '' when absent."""
        return drill.parse_text(name, self.params.get(name))

    def id(self, name: str) -> int | None:
        """A database id (an app's, the team an invoice's apps are narrowed to); None when
        absent."""
        return drill.parse_id(name, self.params.get(name))

    def required_id(self, name: str) -> int:
        """A database id (an alert's) the link must carry."""
        value = self.id(name)
        if value is None:
            raise drill.DrillError(f"{name} must be a whole number id")
        return value

    def group(self) -> drill.Group:
        """The group of an invoice's lines (``by`` and ``key``; none: the whole invoice)."""
        return drill.parse_group(self.params.get("by"), self.params.get("key"))

    def page(self) -> int:
        """A list's 1-based page (default 1)."""
        return drill.parse_page(self.params.get("page"))

    def search(self, name: str) -> str:
        """A machine list's search ('' when absent)."""
        value = self.params.get(name, "")
        drill.search_patterns(value)
        return value

    def one_of(self, name: str, allowed: Collection[str], default: str, what: str) -> str:
        """One of ``allowed`` (``what`` it is, for the refusal); ``default`` when absent."""
        value = self.params.get(name, default)
        if value not in allowed:
            raise drill.DrillError(f"unknown {what} {value!r}")
        return value


def reader() -> ParamReader:
    """A reader of this run's query parameters."""
    return ParamReader(st.query_params.to_dict())


def stop_with_bad_link(what: str, error: Exception) -> NoReturn:
    """Say the link does not name ``what`` (a group of lines, a list of machines) and why."""
    st.warning(md_format("This link does not name {what}: {error}.", what=what, error=error),
               icon=":material/link_off:")
    st.stop()


@contextlib.contextmanager
def naming(what: str) -> Iterator[None]:
    """Around reading what the link names (``what``: an invoice, a machine): a link that does
    not name it ends the page with why (:func:`stop_with_bad_link`)."""
    try:
        yield
    except drill.DrillError as error:
        stop_with_bad_link(what, error)


def encode(value: object) -> str:
    """A state value as it goes into the URL."""
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, tuple | list):
        return LIST_SEPARATOR.join(str(item) for item in value)
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


def as_params(state: Mapping[str, object]) -> dict[str, str]:
    """The state as query parameters: empty lists are left out."""
    return {name: encode(value) for name, value in state.items()
            if not (isinstance(value, tuple | list) and not value)}


def frame_params() -> dict[str, str]:
    """The frame's parameters of this run (organization, support grant), to carry along."""
    return {name: st.query_params[name] for name in FRAME_PARAMS if name in st.query_params}


def write(state: Mapping[str, object]) -> None:
    """Make the URL say exactly ``state`` (plus the frame's parameters), nothing else."""
    wanted = {**frame_params(), **as_params(state)}
    if st.query_params.to_dict() != wanted:
        st.query_params.from_dict(wanted)


def show_notices(notices: list[str]) -> None:
    """Tell the person which parts of the link were ignored, if any (notices are Markdown
    whose values went through :mod:`fleetspend.ui.untrusted`)."""
    if notices:
        st.warning("\n\n".join(notices), icon=":material/link_off:")


def copy_link() -> None:
    """"Link to this view" in the sidebar: this page's URL with its whole state, in a box whose
    button copies it. Call it once the page has written its state to the URL."""
    query = urlencode(st.query_params.to_dict())
    url = (st.context.url or "") + (f"?{query}" if query else "")
    with st.sidebar.popover("Link to this view", icon=":material/link:"):
        st.code(url, language=None, wrap_lines=True)
        st.caption("Copy it with the button at its right. It opens this view for anyone who "
                   "may see this organization, once they have signed in.")
