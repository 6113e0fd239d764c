"""The frame around every page: who is signed in, what is in view, and the role's menu.

Hiding a page from the menu is not denying it: every page still calls
:func:`fleetspend.ui.access.require` itself.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import TypeVar

import streamlit as st
from streamlit.navigation.page import StreamlitPage

from fleetspend import auth
from fleetspend.reads import freshness
from fleetspend.ui import access, budget_views, remember, sign_in
from fleetspend.ui.untrusted import md_format

T = TypeVar("T")

SIGN_OUT_KEY = "frame_sign_out"
ORG_PICK_KEY = "frame_org"
GRANT_PICK_KEY = "frame_grant"
NO_GRANT = 0

# page files and their menu entries: (path, title, icon)
SIGN_IN = ("pages/sign_in.py", "Sign in", ":material/login:")
SPEND = ("pages/overview.py", "Spend overview", ":material/monitoring:")
EXPLORER = ("pages/explorer.py", "Usage explorer", ":material/query_stats:")
MEMBERS = ("pages/members.py", "Teams and members", ":material/group:")
INVOICES = ("pages/invoices.py", "Invoices", ":material/receipt_long:")
TEAMS = ("pages/teams.py", "Team comparison", ":material/leaderboard:")
# the invoice drill-down's levels below Invoices: reached by its links, hidden from the menu
INVOICE_LEVELS = (
    ("pages/invoice.py", "Invoice", ":material/receipt:"),
    ("pages/invoice_apps.py", "Invoice apps", ":material/apps:"),
    ("pages/invoice_machines.py", "Invoice machines", ":material/dns:"),
    ("pages/machine.py", "Machine", ":material/memory:"),
)
SUPPORT_LOG = ("pages/support_access_log.py", "Support access log", ":material/policy:")
SUPPORT = ("pages/support.py", "Support access", ":material/support_agent:")
SUPPORT_SEARCH = ("pages/support_search.py", "Search", ":material/search:")
SUPPORT_AUDIT = ("pages/support_audit.py", "Support audit trail", ":material/history:")
# support's workbench for one disputed invoice: reached from the invoice page
DISPUTE = ("pages/dispute.py", "Dispute workbench", ":material/gavel:")
# budgets and alerts (fleetspend.alerts); one alert is reached from the inbox and by links
BUDGETS = ("pages/budgets.py", "Budgets", ":material/savings:")
ALERTS = ("pages/alerts.py", "Alerts", ":material/notifications:")
ALERT = ("pages/alert.py", "Alert", ":material/notification_important:")
ALERT_SETTINGS = ("pages/alert_settings.py", "Alert delivery", ":material/outgoing_mail:")


# every page a link may open: hidden when the visit's menu lacks it, and, for a visitor
# not signed in, a sign-in stand-in at its URL
PRODUCT_PAGES = (SPEND, EXPLORER, MEMBERS, INVOICES, TEAMS, *INVOICE_LEVELS, SUPPORT_LOG,
                 SUPPORT, SUPPORT_SEARCH, SUPPORT_AUDIT, DISPUTE, BUDGETS, ALERTS, ALERT,
                 ALERT_SETTINGS)


def menu_sections(visit: access.Visit | None) -> dict[str, list[tuple[str, str, str]]]:
    """The pages this visit's role may use, in labelled sections; the first is the default."""
    if visit is None:
        return {"": [SIGN_IN]}
    if visit.caller.is_staff:
        sections = {"Support": [SUPPORT, SUPPORT_SEARCH, SUPPORT_AUDIT]}
        if visit.grant is not None:
            sections["Organization under support access"] = [SPEND, EXPLORER, INVOICES,
                                                             MEMBERS, BUDGETS]
        return sections
    sections = {"Spend": [SPEND, EXPLORER, BUDGETS, ALERTS]}
    if visit.may(access.OVERSIGHT):
        sections["Administration"] = [MEMBERS, TEAMS, INVOICES, SUPPORT_LOG, ALERT_SETTINGS]
    return sections


def hidden_pages(visit: access.Visit | None) -> list[tuple[str, str, str]]:
    """Pages reached by links only: every page not in the visit's menu, so that a link to it
    opens it (the drill-down's levels, what a search match opens) or has it say why not
    (each page checks access itself), rather than "Page not found"."""
    if visit is None:
        return []
    shown = {page for pages in menu_sections(visit).values() for page in pages}
    return [page for page in PRODUCT_PAGES if page not in shown]


def _sign_in_in_place_of(path: str, title: str, icon: str) -> StreamlitPage:
    """For a visitor not signed in: the sign-in form at a page's own URL (path and query
    parameters stay), which becomes the page itself once they have signed in."""
    return st.Page(sign_in.form, title=title, icon=icon, url_path=Path(path).stem,
                   visibility="hidden")


def navigation(visit: access.Visit | None) -> StreamlitPage:
    """st.navigation over the visit's menu (called once per run, from app.py)."""
    sections = {
        section: [st.Page(path, title=title, icon=icon) for path, title, icon in pages]
        for section, pages in menu_sections(visit).items()
    }
    first = next(iter(sections))
    if visit is None:
        sections[first] += [_sign_in_in_place_of(*page) for page in PRODUCT_PAGES]
    sections[first] += [st.Page(path, title=title, icon=icon, visibility="hidden")
                        for path, title, icon in hidden_pages(visit)]
    st.session_state[access.NAVIGATED_KEY] = True
    page = st.navigation(sections)
    remember.close_sidebar_after_navigation(page.url_path)
    return page


def _sign_out() -> None:
    if access.demo_mode():
        st.session_state.pop(access.DEMO_PICK_KEY, None)
        remember.signed_out()
        st.query_params.clear()
        st.rerun()
    st.logout()


def _choose_organization(visit: access.Visit) -> None:
    if not visit.memberships:
        st.sidebar.info("You are not a member of any organization.")
        return
    assert visit.membership is not None
    labels = {m.slug: f"{m.name} ({m.role})" for m in visit.memberships}
    chosen = st.sidebar.selectbox("Organization", list(labels), format_func=labels.__getitem__,
                                  index=list(labels).index(visit.membership.slug),
                                  key=ORG_PICK_KEY)
    st.query_params[access.ORG_PARAM] = chosen
    if chosen != visit.membership.slug:
        st.session_state[access.ORG_MEMORY_KEY] = chosen
        st.rerun()


def grant_text(grant: auth.SupportGrant) -> str:
    """A support grant in full: organization, ticket and when it ends (UTC)."""
    return (f"{grant.org_name}, ticket {grant.support_ticket}, until "
            f"{grant.expires_at:%Y-%m-%d %H:%M} UTC")


def _choose_grant(visit: access.Visit) -> None:
    now = datetime.now(UTC)
    active = {g.grant_id: g for g in visit.grants if g.is_active(now)}
    options = [NO_GRANT, *active]

    def label(grant_id: int) -> str:
        if grant_id == NO_GRANT:
            return "No organization"
        return f"{active[grant_id].org_name} ({active[grant_id].support_ticket})"

    # the box shows the grant in view, whichever way it came (URL, a page that just opened
    # one, the newest active one after signing in again); a pick moves the URL before the
    # next run works out the visit
    st.session_state[GRANT_PICK_KEY] = visit.grant.grant_id if visit.grant else NO_GRANT
    st.sidebar.selectbox("Working under support grant", options, format_func=label,
                         key=GRANT_PICK_KEY, on_change=_grant_picked)
    if visit.grant is not None:
        st.sidebar.caption(md_format("{grant}", grant=grant_text(visit.grant)))


def _grant_picked() -> None:
    chosen = st.session_state[GRANT_PICK_KEY]
    if chosen == NO_GRANT:
        st.query_params.pop(access.GRANT_PARAM, None)
    else:
        st.query_params[access.GRANT_PARAM] = str(chosen)
    st.session_state[access.GRANT_MEMORY_KEY] = None if chosen == NO_GRANT else str(chosen)


def sidebar(visit: access.Visit) -> None:
    """Who is signed in, their organization (or support grant) in view, and signing out."""
    role = "Support engineer" if visit.caller.is_staff else visit.role.capitalize()
    st.sidebar.text(f"{visit.caller.name}\n{visit.caller.email}\n{role}")
    if access.demo_mode():
        remember.keep_demo_person(visit.caller.email)
    elif access.oidc_configured():
        remember.go_to_return_path()
    if visit.caller.is_staff:
        _choose_grant(visit)
    else:
        _choose_organization(visit)
        budget_views.unread_badge(visit)
    if st.sidebar.button("Sign out", icon=":material/logout:", key=SIGN_OUT_KEY):
        _sign_out()


def unknown_person(email: str) -> None:
    """Someone signed in whom fleetspend does not know: say so, offer to sign out."""
    st.error(md_format("There is no fleetspend account for {email}. Ask your organization's "
                       "admin to invite you.", email=email), icon=":material/person_off:")
    if st.button("Sign out", key=SIGN_OUT_KEY):
        _sign_out()
    st.stop()


def read_notice(visit: access.Visit) -> None:
    """Where this view's data comes from, when that is worth saying (read from the primary
    because no replica is reachable): above every page, whichever page it is."""
    if visit.read_notice:
        st.info(visit.read_notice, icon=":material/info:")


def stop_without_usage(last_usage: T | None, fresh: freshness.Freshness) -> T:
    """Warn when the data may be out of date (a replica cut off from the primary, usage that
    stops well before the clock); with no usage yet, stop the page with an empty state and
    the freshness line. Returns ``last_usage``, then known to be there."""
    if fresh.warning:
        st.warning(fresh.warning, icon=":material/history:")
    if fresh.usage_warning:
        st.warning(fresh.usage_warning, icon=":material/schedule:")
    if last_usage is None:
        st.info("No usage has been recorded for this organization yet.", icon=":material/inbox:")
        st.caption(fresh.describe())
        st.stop()
    return last_usage
