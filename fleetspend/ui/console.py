"""Where a support console search match opens, once its organization is under a grant.

A match of each kind opens one page of the organization: a machine its machine page, an
invoice its invoice page, an organization or app the organization's overview. The search page
links there directly under an active grant; otherwise it sends the engineer to the Support
access page first (ticket and reason), which continues to the same place.
"""

from __future__ import annotations

from collections.abc import Mapping

from fleetspend.ui import drilldown

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
