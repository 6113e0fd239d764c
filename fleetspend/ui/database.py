"""A page's one door to the database: reads in the page view's snapshot under the visit's
scope, cached by that scope; writes through named domain functions on the primary.

A reader is a plain function of a connection and hashable arguments
(``def teams_of(connection, org_id)``). :func:`read` runs one now, for a visit;
:func:`loader` turns one into ``load(visit, ...)``, whose results are kept for ``ttl``
seconds, keyed by the visit's scope and the arguments, so a cached value is never handed to a
caller of another scope (st.cache_data is shared by every session of the server).

How this meets the page view: app.py runs each run of the app inside
:func:`fleetspend.ui.access.page_view`, so every read of the run shares one snapshot
(:meth:`fleetspend.db.ReadPool.view`), re-scoped to the scope each read asks for. A cache hit
reads nothing: its values come from the snapshot of the view that filled it. Figures that must
agree with each other belong in one loader (one cache entry), not two.

A grant written to the primary moments ago may not have reached the replica yet: a read under
it is retried for up to :data:`fleetspend.ui.access.GRANT_REPLICATION_WAIT_S`, then the error
stands.
"""

from __future__ import annotations

import functools
import time
from collections.abc import Callable
from typing import Any, Concatenate, Generic, ParamSpec, TypeVar

import streamlit as st
from sqlalchemy import Connection, Engine
from sqlalchemy.exc import SQLAlchemyError

from fleetspend import auth, db
from fleetspend.ui.access import GRANT_REPLICATION_WAIT_S, Visit

P = ParamSpec("P")
T = TypeVar("T")


def _read_in_scope(scope: db.Scope, reader: Callable[..., T], args: tuple,
                   kwargs: dict[str, Any]) -> T:
    """``reader(connection, *args, **kwargs)`` in one snapshot of ``scope``, waiting out a
    grant that has not reached the replica yet."""
    deadline = time.monotonic() + GRANT_REPLICATION_WAIT_S
    while True:
        try:
            with db.read_snapshot(scope) as snapshot:
                return reader(snapshot.connection, *args, **kwargs)
        except SQLAlchemyError as error:
            if not auth.is_grant_not_active(error) or time.monotonic() > deadline:
                raise
            time.sleep(0.2)


def read(visit: Visit, reader: Callable[Concatenate[Connection, P], T], *args: P.args,
         **kwargs: P.kwargs) -> T:
    """``reader(connection, *args, **kwargs)`` now, uncached, under the visit's scope narrowed
    to the organization in view (a support engineer's console reads, with no organization in
    view, see what the engineer's own scope allows)."""
    return _read_in_scope(visit.scope(), reader, args, kwargs)


class Loader(Generic[P, T]):
    """A reader whose results are cached by the visit's scope and the arguments: call it with
    the visit and the reader's arguments after the connection; :meth:`clear` forgets them all
    (after a write the page wants to see at once)."""

    def __init__(self, reader: Callable[Concatenate[Connection, P], T], *, ttl: float,
                 max_entries: int, spinner: str | bool) -> None:
        self._reader = reader

        # named and keyed as the reader (module, name, source), so that every loader has a
        # cache of its own; called with keywords only, so st.cache_data hashes the values under
        # these names
        @functools.wraps(reader)
        def cached(*, scope: db.Scope, args: tuple, kwargs: tuple) -> T:
            return _read_in_scope(scope, reader, args, dict(kwargs))

        self._cached = st.cache_data(ttl=ttl, max_entries=max_entries,
                                     show_spinner=spinner)(cached)

    def __call__(self, visit: Visit, *args: P.args, **kwargs: P.kwargs) -> T:
        return self._cached(scope=visit.scope(), args=args,
                            kwargs=tuple(sorted(kwargs.items())))

    def clear(self) -> None:
        self._cached.clear()


def loader(*, ttl: float, max_entries: int, spinner: str | bool = False) -> Callable[
        [Callable[Concatenate[Connection, P], T]], Loader[P, T]]:
    """Make a cached :class:`Loader` of a reader: ``@database.loader(ttl=60, max_entries=64)``
    over ``def load(connection, org_id, ...)``, then ``load(visit, org_id, ...)``."""
    def decorate(reader: Callable[Concatenate[Connection, P], T]) -> Loader[P, T]:
        return Loader(reader, ttl=ttl, max_entries=max_entries, spinner=spinner)
    return decorate


def primary() -> Engine:
    """The primary, as the app's role: what a page hands to the named domain function that
    writes (an alert acknowledged, a grant opened) or reads what only the primary may."""
    return db.app_primary_engine()
