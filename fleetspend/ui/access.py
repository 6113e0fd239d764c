"""Sign-in, demo mode and the access check every page makes before it reads anything.

Who is signed in comes from one of two places:

- OpenID Connect through ``st.login``: the ``[auth]`` section of .streamlit/secrets.toml (see
  secrets.toml.example); the email is looked up among customers and support engineers only if
  the provider says it verified it (``email_verified`` true; providers that never send the
  claim need OIDC_ALLOW_MISSING_EMAIL_VERIFIED=1);
- demo mode, only when FLEETSPEND_DEMO_MODE=1 (``fleetspend demo`` sets it): the visitor
  picks a seeded developer, org admin or support engineer, no password asked, and the
  browser keeps the pick in a cookie across reloads (:mod:`fleetspend.ui.remember`). Every
  page then carries a banner saying so.

:func:`require` is each page's first call: it works out the :class:`Visit` (the caller, the
organization or support grant in view, the role there) afresh, from the database, so a
membership removed, an organization closed or a person added by an accounts import
(docs/import-format.md) counts from the next page view on, labels the page in demo mode,
refuses with a message and ``st.stop()`` when the role may not use the page, and, for a
support engineer, writes the audit event of this page view to the primary before any data is
read: in the organization's audit log under a grant, in the support console's own log
otherwise. Exactly one event per page view.

One run of the app is one page view (:func:`page_view`, around app.py): the visit is worked
out once, for the frame and the page, and every read of the run shares one snapshot.

A grant opened on the primary reaches the replicas a moment later; the page view right after
opening one (and any read under it, :mod:`fleetspend.ui.database`) waits up to
GRANT_REPLICATION_WAIT_S for it rather than refuse it.
"""

from __future__ import annotations

import contextlib
import os
import threading
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import NoReturn

import streamlit as st
from sqlalchemy.exc import SQLAlchemyError

from fleetspend import auth, db
from fleetspend.seed import dataset
from fleetspend.ui import remember
from fleetspend.ui.errors import database_errors_stop_the_page
from fleetspend.ui.untrusted import md_format
from queries import sql

DEMO_MODE_ENV = "FLEETSPEND_DEMO_MODE"
ALLOW_MISSING_EMAIL_VERIFIED_ENV = "OIDC_ALLOW_MISSING_EMAIL_VERIFIED"
DEMO_PICK_KEY = "access_demo_email"
ORG_PARAM = "org"
GRANT_PARAM = "grant"
ORG_MEMORY_KEY = "access_org"
GRANT_MEMORY_KEY = "access_grant"
OPENED_GRANT_KEY = "access_opened_grant"  # a grant this session just opened on the primary
NAVIGATED_KEY = "access_navigated"  # this session has run app.py's st.navigation

# what a page needs: the levels of migration 0004, plus pages only support engineers use
USAGE = "usage"
BILLING = "billing"
OVERSIGHT = "oversight"
SUPPORT_CONSOLE = "support_console"
SUPPORT_CASE = "support_case"  # support work on one organization: only under a grant
# the needs a support engineer meets only under a grant, audited in that organization
UNDER_GRANT = (USAGE, BILLING, SUPPORT_CASE)

# how long a page waits for a replica to replay a support grant just written to the primary
GRANT_REPLICATION_WAIT_S = 5.0


def run_through_navigation() -> None:
    """Make sure a session's first page runs inside app.py's frame and navigation.

    Until some session of a fresh server has run st.navigation, Streamlit still treats our
    pages/ folder as the old auto-discovered pages and runs a page file straight from its URL
    (a deep link as a fresh server's first visit): then switch that off and run again,
    through app.py. Only a session that has not been through app.py yet is rerun, so no
    widget's event is ever lost to it.
    """
    from streamlit.runtime.pages_manager import PagesManager

    if PagesManager.uses_pages_directory and not st.session_state.get(NAVIGATED_KEY):
        PagesManager.uses_pages_directory = False
        st.rerun()


DEMO_REFUSED = (
    "Demo mode is on (FLEETSPEND_DEMO_MODE=1), but this database holds organizations or "
    "invoices that fleetspend seed did not create, so demo mode refuses to run on it: anyone "
    "could pick a person and read their data. Turn demo mode off and sign in through OpenID "
    "Connect, or point fleetspend at a database holding the demo data.")


@st.cache_data(ttl=60, show_spinner=False)
def _demo_data_only() -> bool:
    """Whether the primary holds nothing but the seed's data (or nothing at all)."""
    with db.primary_engine().connect() as connection:
        return not dataset.holds_real_data(connection)


def demo_banner() -> None:
    """Say plainly, on every page, that nobody proved who they are (demo mode only); on a
    database holding real data, refuse demo mode altogether."""
    if demo_mode():
        if not _demo_data_only():
            st.error(DEMO_REFUSED, icon=":material/block:")
            st.stop()
        st.warning(
            "Demo mode: you picked who to be, without signing in. Demo mode is for the "
            "embedded demo only (FLEETSPEND_DEMO_MODE=1); never turn it on with real data.",
            icon=":material/theater_comedy:",
        )


def demo_mode() -> bool:
    """Whether demo mode is on: only when FLEETSPEND_DEMO_MODE is explicitly 1 or true."""
    return os.environ.get(DEMO_MODE_ENV, "").strip().lower() in ("1", "true")


def oidc_configured() -> bool:
    """Whether .streamlit/secrets.toml configures an OpenID Connect provider for st.login."""
    if not st.secrets.load_if_toml_exists():
        return False
    section = st.secrets.get("auth", {})
    return bool(section.get("client_id") and section.get("server_metadata_url"))


def missing_email_verified_allowed() -> bool:
    """Whether OIDC_ALLOW_MISSING_EMAIL_VERIFIED=1 lets a provider that never sends
    ``email_verified`` sign people in (a ``false`` claim is refused regardless)."""
    return os.environ.get(ALLOW_MISSING_EMAIL_VERIFIED_ENV, "").strip().lower() in ("1", "true")


def verified_email(claims: Mapping[str, object]) -> str | None:
    """The email in an identity provider's ``claims`` if the provider vouched for it, else None.

    ``email_verified`` must be true (the boolean, or the string some providers send); a missing
    claim counts only with :func:`missing_email_verified_allowed`.
    """
    email = claims.get("email")
    if not email:
        return None
    verified = claims.get("email_verified")
    if verified is None:
        return str(email) if missing_email_verified_allowed() else None
    return str(email) if verified is True or str(verified).lower() == "true" else None


def signed_in_email() -> str | None:
    """The email of whoever is signed in (demo pick or OIDC, verified), or None."""
    if demo_mode():
        if not _demo_data_only():
            return None  # demo mode refuses real data: nobody is signed in (see demo_banner)
        return st.session_state.get(DEMO_PICK_KEY) or remember.demo_person()
    if not st.user.get("is_logged_in", False):
        return None
    return verified_email(st.user.to_dict())


def signed_in_unverified() -> bool:
    """Whether someone signed in through OIDC whose email the provider did not vouch for."""
    return (not demo_mode() and bool(st.user.get("is_logged_in", False))
            and verified_email(st.user.to_dict()) is None)


@dataclass(frozen=True)
class Visit:
    """One run of a page: who is asking, about which organization, in which role."""

    caller: auth.Caller
    memberships: list[auth.Membership] = field(default_factory=list)
    grants: list[auth.SupportGrant] = field(default_factory=list)
    membership: auth.Membership | None = None  # the customer's organization in view
    grant: auth.SupportGrant | None = None  # the support engineer's active grant in view
    read_notice: str | None = None  # where the reads come from, when worth saying
    unread_alerts: int | None = None  # the customer's, in the organization in view

    @property
    def role(self) -> str:
        if self.caller.is_staff:
            return auth.SUPPORT
        return self.membership.role if self.membership else auth.MEMBER

    @property
    def org_id(self) -> int | None:
        if self.grant is not None:
            return self.grant.org_id
        return self.membership.org_id if self.membership else None

    @property
    def org_in_view(self) -> int:
        """The organization in view, on a page that needs one (:func:`require` checked it)."""
        if self.org_id is None:
            raise RuntimeError("this page needs an organization in view")
        return self.org_id

    @property
    def active_grant(self) -> auth.SupportGrant:
        """The support grant in view, on a support case page (:func:`require` checked it)."""
        if self.grant is None:
            raise RuntimeError("this page needs a support grant in view")
        return self.grant

    def may(self, need: str) -> bool:
        """Whether this visit may use a page that needs ``need``."""
        if need == SUPPORT_CONSOLE:
            return self.caller.is_staff
        if need == SUPPORT_CASE:
            return self.caller.is_staff and self.grant is not None
        if self.caller.is_staff:
            return self.grant is not None and need in (USAGE, BILLING)
        if self.membership is None:
            return False
        return need == USAGE or self.membership.role == auth.ADMIN

    def scope(self) -> db.Scope:
        """The scope of this visit's reads, narrowed to the organization in view (reads go
        through :mod:`fleetspend.ui.database`)."""
        return auth.scope_for(self.caller, grant=self.grant, org_id=self.org_id)


def _active(grants: list[auth.SupportGrant]) -> list[auth.SupportGrant]:
    now = datetime.now(UTC)
    return [grant for grant in grants if grant.is_active(now)]


def remember_opened(grant: auth.SupportGrant) -> None:
    """Note that this session just opened ``grant`` on the primary, so the next page view
    waits for it to reach the replica rather than refuse it (see :func:`resolve_visit`)."""
    st.session_state[GRANT_MEMORY_KEY] = str(grant.grant_id)
    st.session_state[OPENED_GRANT_KEY] = str(grant.grant_id)


def _replicated(caller: auth.Caller, wanted: str,
                grants: list[auth.SupportGrant]) -> list[auth.SupportGrant]:
    """``caller``'s grants once grant ``wanted`` (just opened) has reached the replica read,
    re-read for up to GRANT_REPLICATION_WAIT_S as a page's reads are; then as they are."""
    deadline = time.monotonic() + GRANT_REPLICATION_WAIT_S
    while not any(str(grant.grant_id) == wanted for grant in grants):
        if time.monotonic() > deadline:
            break
        time.sleep(0.2)
        with (database_errors_stop_the_page("your support grants"),
              db.read_snapshot(auth.scope_for(caller), fresh=True) as snapshot):
            grants = auth.grants_of(snapshot.connection, caller)
    return grants


def resolve_visit(email: str) -> Visit | None:
    """The visit of the person with ``email``: None when no customer or engineer has it."""

    # the URL says which organization or grant is in view; the session remembers it for
    # links that do not carry it
    wanted_org = st.query_params.get(ORG_PARAM) or st.session_state.get(ORG_MEMORY_KEY)
    # one statement: the caller, what they may pick, the unread alerts of the organization in
    # view, and the transaction scoped for the page's reads (auth.page_frame)
    with database_errors_stop_the_page("your account"), db.read_snapshot() as snapshot:
        frame = auth.page_frame(snapshot.connection, email, wanted_org)
        read_notice = snapshot.notice
    if frame is None:
        return None
    visit = Visit(frame.caller, frame.memberships, frame.grants, read_notice=read_notice,
                  unread_alerts=frame.unread_alerts)
    if visit.caller.is_staff:
        wanted = st.query_params.get(GRANT_PARAM) or st.session_state.get(GRANT_MEMORY_KEY)
        grants = visit.grants
        if wanted is None and GRANT_MEMORY_KEY not in st.session_state:
            # signed in again (a new session): back to the newest grant still active
            wanted = next((str(g.grant_id) for g in _active(grants)), None)
        if wanted and wanted == st.session_state.pop(OPENED_GRANT_KEY, None):
            grants = _replicated(visit.caller, wanted, grants)
        grant = next((g for g in _active(grants) if str(g.grant_id) == wanted), None)
        st.session_state[GRANT_MEMORY_KEY] = str(grant.grant_id) if grant else None
        return replace(visit, memberships=[], grants=grants, grant=grant)
    membership = frame.membership
    st.session_state[ORG_MEMORY_KEY] = membership.slug if membership else None
    return replace(visit, grants=[], membership=membership)


# the visits worked out in this thread's page view (see page_view), by email
_run = threading.local()


@contextlib.contextmanager
def page_view() -> Iterator[None]:
    """One run of the app (frame and page) as one page view: the visit worked out once and
    every read in one snapshot (:func:`fleetspend.db.page_view`)."""
    _run.visits = {}
    try:
        with db.page_view():
            yield
    finally:
        _run.visits = None


def current_visit() -> Visit | None:
    """The signed-in person's visit for this run, or None when nobody (known) is signed in."""
    email = signed_in_email()
    if not email:
        return None
    visits: dict[str, Visit | None] | None = getattr(_run, "visits", None)
    if visits is None:
        return resolve_visit(email)
    if email not in visits:
        visits[email] = resolve_visit(email)
    return visits[email]


def refuse(message: str) -> NoReturn:
    """Tell the person why this page is not theirs, and draw nothing more."""
    st.error(message, icon=":material/block:")
    st.stop()


def require(need: str, page: str) -> Visit:
    """Each page's access check: the visit if the caller may use ``page``, else a refusal.

    Support engineers viewing an organization are audited here, on the primary, before the
    page reads anything; if that write fails the page stops with an error.
    """
    run_through_navigation()
    demo_banner()
    visit = current_visit()
    if visit is None:
        refuse("Sign in to see this page.")
    if not visit.may(need):
        if not visit.caller.is_staff and not visit.memberships:
            refuse("You are not a member of any organization: your membership ended, your "
                   "organization was closed, or nobody has added you yet. An admin of your "
                   "organization can add you.")
        if visit.caller.is_staff and need in UNDER_GRANT:
            refuse("Support engineers see an organization only under an active support "
                   "grant: open one on the Support access page.")
        refuse("Your role does not give you access to this page.")
    if visit.caller.is_staff:
        try:
            if visit.grant is not None and need in UNDER_GRANT:
                auth.record_support_view(db.app_primary_engine(), visit.caller, visit.grant,
                                         page)
            else:
                auth.record_console_view(db.app_primary_engine(), visit.caller, page)
        except SQLAlchemyError:
            refuse("This view could not be recorded in the audit log, so no data is shown. "
                   "Try again in a moment.")
    return visit


def revoke_form(key: str, visit: Visit, grants: Mapping[int, str]) -> None:
    """A form that ends one of ``grants`` (grant id -> label) now, on the primary, audited in
    the organization's log (:func:`fleetspend.auth.revoke_support_access`). The page says it
    worked on its next run with :func:`revoked_notice`."""
    with st.form(key):
        chosen = st.selectbox("Support grant to revoke", list(grants),
                              format_func=grants.__getitem__, key=f"{key}_grant")
        submitted = st.form_submit_button("Revoke now", icon=":material/lock:")
    if not submitted:
        return
    try:
        with database_errors_stop_the_page("the revocation"):
            auth.revoke_support_access(db.app_primary_engine(), visit.caller, chosen)
    except (auth.SupportAccessError, auth.AccessRefusedError) as error:
        st.error(md_format("Nothing revoked: {error}.", error=error), icon=":material/block:")
        return
    if st.session_state.get(GRANT_MEMORY_KEY) == str(chosen):
        st.session_state[GRANT_MEMORY_KEY] = None
    if st.query_params.get(GRANT_PARAM) == str(chosen):
        del st.query_params[GRANT_PARAM]
    st.session_state[f"{key}_done"] = (
        f"Support grant {chosen} is revoked; it may show here for a few more seconds while "
        "the replicas catch up.")
    st.rerun()


def revoked_notice(key: str) -> None:
    """Say that the grant revoked by :func:`revoke_form` ``key`` in the last run is revoked."""
    if done := st.session_state.pop(f"{key}_done", None):
        st.success(done, icon=":material/lock:")


def demo_people() -> list[tuple[str, str]]:
    """Seeded people a demo visitor may be: (email, label), developers, admins, engineers.

    Read with the owner's connection (the app role cannot list people); demo mode only.
    """
    if not demo_mode():
        raise auth.AccessRefusedError("picking a person is for demo mode only")
    if not _demo_data_only():
        raise auth.AccessRefusedError(DEMO_REFUSED)
    with db.primary_engine().connect() as connection:
        return [(row.email, row.label) for row in connection.execute(sql("demo_people"))]
