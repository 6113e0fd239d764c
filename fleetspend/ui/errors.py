"""Showing a failure to the user: a plain message with a reference id, never partial numbers."""

from __future__ import annotations

import contextlib
import logging
import uuid
from collections.abc import Iterator

import streamlit as st
from sqlalchemy.exc import SQLAlchemyError

logger = logging.getLogger("fleetspend.ui")


@contextlib.contextmanager
def database_errors_stop_the_page(what: str) -> Iterator[None]:
    """Run a block of reads; on a database error show one clear message and stop the page.

    The full error goes to the server log under a short reference id that the message shows,
    so support can find it; nothing drawn after the failure point reaches the user.
    """
    try:
        yield
    except SQLAlchemyError:
        reference = uuid.uuid4().hex[:10]
        logger.exception("database error while loading %s (reference %s)", what, reference)
        st.error(
            f"We could not load {what} just now, so no figures are shown. "
            f"Please try again; if it keeps failing, quote reference {reference}.",
            icon=":material/error:",
        )
        st.stop()
