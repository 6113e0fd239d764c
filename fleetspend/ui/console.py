"""Where a support console search match opens, once its organization is under a grant.

A match of each kind opens one page of the organization: a machine its machine page, an
invoice its invoice page, an organization or app the organization's overview. The search page
links there directly under an active grant; otherwise it sends the engineer to the Support
access page first (ticket and reason), which continues to the same place.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

from fleetspend.money import dollars
from fleetspend.ui import drilldown
from fleetspend.units import plural

SUPPORT_PAGE = "pages/support.py"
OVERVIEW_PAGE = "pages/overview.py"
# URL parameters of the Support access page: the organization to open, then what to show
OPEN_PARAM = "open"
THEN_PARAM = "then"

# kind of match -> (page, the query parameter naming the match there, if any)
TARGETS: dict[str, tuple[str, str | None]] = {
    "organization": (OVERVIEW_PAGE, None),
    "app": (OVERVIEW_PAGE, None),
    "invoice": (drilldown.INVOICE_PAGE, "invoice"),
    "machine": (drilldown.MACHINE_PAGE, "machine"),
}


def target(kind: str, identifier: str) -> tuple[str, dict[str, str]]:
    """The page a match of ``kind`` opens and the query parameters that name it there."""
    page, param = TARGETS.get(kind, (OVERVIEW_PAGE, None))
    return page, ({param: identifier} if param else {})


def continuation(params: Mapping[str, str]) -> tuple[str, dict[str, str]] | None:
    """Where the Support access page goes once a grant is open, from its own URL (the
    ``then`` kind and the match's parameter), or None to stay."""
    kind = params.get(THEN_PARAM)
    if kind not in TARGETS:
        return None
    page, param = TARGETS[kind]
    return page, ({param: params.get(param, "")} if param else {})


# the page names audit events record (the second argument of fleetspend.ui.access.require),
# as the menu calls the pages
PAGE_NAMES = {
    "overview": "Spend overview", "explorer": "Usage explorer", "invoices": "Invoices",
    "invoice": "Invoice", "invoice apps": "Invoice apps", "invoice machines": "Invoice machines",
    "machine": "Machine", "dispute": "Dispute workbench", "teams": "Team comparison",
    "teams_and_members": "Teams and members", "support_access": "Support access",
    "support_search": "Search", "support_audit": "Support audit trail",
    "support_access_log": "Support access log",
}


def _part(name: str, value: object) -> str:
    """One field of an audit event's detail, in words."""
    if name == "page":
        return PAGE_NAMES.get(str(value), str(value))
    if name == "grant_id":
        return f"grant {value}"
    if name == "amount_cents" and isinstance(value, int):
        return dollars(value)
    if name == "expires_at":
        try:
            return f"until {datetime.fromisoformat(str(value)):%Y-%m-%d %H:%M} UTC"
        except ValueError:
            return f"until {value}"
    if name == "results" and isinstance(value, int):
        return plural(value, "result")
    if name == "reproduced":
        return "re-rating reproduced it" if value else "re-rating differs"
    if name == "checks_ok":
        return "checks passed" if value else "a check failed"
    words = {"term": "searched for", "support_ticket": "ticket", "reason": "reason",
             "invoice_number": "invoice", "credit_note_number": "credit note"}
    return f"{words.get(name, name.replace('_', ' '))} {value}"


def describe_detail(detail: Mapping[str, object] | None) -> str:
    """An audit event's detail as people read it, e.g. "Spend overview · grant 12"; the
    page first, the rest in a fixed order."""
    if not detail:
        return ""
    order = ["page", "term", "results", "invoice_number", "credit_note_number", "amount_cents",
             "reason", "support_ticket", "expires_at", "grant_id", "reproduced", "checks_ok"]
    names = sorted(detail, key=lambda n: (order.index(n) if n in order else len(order), n))
    return " · ".join(_part(name, detail[name]) for name in names)
