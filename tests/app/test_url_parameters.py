"""URL parameters never crash a page: every bad value becomes a notice, reaches no database
as an error, and shows nothing of another organization."""

from __future__ import annotations

from datetime import date

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import text

from tests.app.conftest import ADMIN, OCTOBER_INVOICE, every_page, open_grant

# the attack run's crashes, and a 20-digit id that used to come back as a database error
KNOWN_CRASHES = [
    ("invoice_machines", {"invoice": OCTOBER_INVOICE, "page": "²"}),
    ("invoice_machines", {"invoice": OCTOBER_INVOICE, "app": "²"}),
    ("machine", {"invoice": OCTOBER_INVOICE, "machine": "x", "app": "²"}),
    ("explorer", {"top": "²"}),
    ("support_audit", {"from": "9999-12-31"}),
    ("support_audit", {"to": "9999-12-31"}),
    ("support_audit", {"to": "0001-01-01"}),
    ("invoice_machines", {"invoice": OCTOBER_INVOICE, "app": "99999999999999999999"}),
]
# the parameters each page reads, besides the frame's org and grant
PARAMETERS = {
    "explorer": ["measure", "by", "by2", "grain", "from", "to", "top", "compare", "app", "team",
                 "region", "continent", "preset", "product"],
    "teams": ["from", "to", "grain", "team"],
    "invoice": ["invoice", "by"],
    "invoice_apps": ["invoice", "by", "key"],
    "invoice_machines": ["invoice", "by", "key", "page", "app", "q", "sort"],
    "machine": ["machine", "invoice", "app", "by", "key"],
    "dispute": ["invoice"],
    "support": ["open", "then", "invoice", "machine"],
    "support_search": ["q"],
    "support_audit": ["from", "to", "engineer", "in_org", "action", "ticket"],
    "alerts": ["show", "kind", "budget", "muted"],
    "alert": ["alert"],
}
FRAME_PARAMETERS = ["org", "grant"]
NASTY = ["²", "٣", "１２", "-1", "0", "99999999999999999999", "9223372036854775808",
         "9999-12-31", "0001-01-01", "2026-02-30", "2026-10-01", "1' or '1'='1",
         "'; drop table invoices; --", "[x](https://evil.example)", "**bold**", "$x$",
         "<b>b</b>", "a\x00b", "%", "_", "line", "product", "machine", "acme", "globex", ""]
VALUES = st.one_of(
    st.sampled_from(NASTY),
    st.text(max_size=24),
    st.integers(min_value=-10**25, max_value=10**25).map(str),
    st.dates(min_value=date(1, 1, 1)).map(date.isoformat),
)


def _shown_text(app) -> str:
    """Everything a page shows as text, tables included."""
    parts = [element.value for kind in ("title", "subheader", "caption", "markdown", "info",
                                        "warning", "error", "success") for element in
             getattr(app, kind)]
    parts += [metric.label + " " + str(metric.value) for metric in app.metric]
    parts += [frame.value.to_string() for frame in app.dataframe]
    return "\n".join(parts)


@pytest.mark.parametrize(("page", "query"), KNOWN_CRASHES)
def test_a_known_crashing_parameter_becomes_a_notice(open_page, spend_url, page, query):
    email = "support1@fleetspend.example" if page.startswith("support") else ADMIN
    app = open_page(spend_url, page, email=email, **query).run()
    assert not app.exception, app.exception
    assert not [error.value for error in app.error], "a database error or refusal"
    assert [warning for warning in app.warning if warning.icon == ":material/link_off:"]


@pytest.fixture
def other_organizations(spend_engine) -> list[str]:
    with spend_engine.connect() as connection:
        return list(connection.execute(text(
            "select name from organizations where slug <> 'acme'")).scalars())


@pytest.fixture
def pages(spend_url, spend_engine) -> list[tuple[str, str, dict[str, str]]]:
    return every_page(spend_engine, open_grant(spend_url).grant_id)


@settings(max_examples=60, deadline=None, derandomize=True, database=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(data=st.data())
def test_any_parameter_values_on_any_page_raise_nothing_and_show_no_other_tenant(
        open_page, spend_url, pages, other_organizations, data):
    page, email, query = data.draw(st.sampled_from(pages))
    names = PARAMETERS.get(page, []) + FRAME_PARAMETERS
    hostile = data.draw(st.dictionaries(st.sampled_from(names), VALUES, min_size=1, max_size=4))
    app = open_page(spend_url, page, email=email, **{**query, **hostile}).run()
    assert not app.exception, (page, hostile, app.exception)
    if email == ADMIN:
        shown = _shown_text(app)
        assert not [name for name in other_organizations if name in shown], (page, hostile)
