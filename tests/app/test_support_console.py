"""AppTest runs of the support console: every support page view writes exactly one audit
event, search finds and links, opening access continues to the match, the dispute workbench
re-rates and credits, and the audit trail lists it all."""

from __future__ import annotations

from decimal import Decimal

import pytest
from sqlalchemy import Engine, text

from fleetspend import auth
from fleetspend.ui import access
from tests.app.conftest import ADMIN, ENGINEER, open_grant
from tests.conftest import CREDITED_INVOICE, engine_for

# every page a support engineer may open, with the query parameters it needs
CONSOLE_PAGES = {"support": {}, "support_search": {}, "support_audit": {}}
GRANT_PAGES = {
    "overview": {}, "explorer": {}, "members": {}, "invoices": {},
    "invoice": {"invoice": CREDITED_INVOICE},
    "invoice_apps": {"invoice": CREDITED_INVOICE, "by": "product", "key": "machine_runtime"},
    "invoice_machines": {"invoice": CREDITED_INVOICE},
    "machine": {"invoice": CREDITED_INVOICE},  # the machine is filled in below
    "dispute": {"invoice": CREDITED_INVOICE},
}


@pytest.fixture
def owner(invoiced_database_url: str):
    engine = engine_for(invoiced_database_url)
    yield engine
    engine.dispose()


def _events(owner: Engine) -> list[tuple[str, str | None]]:
    """Every audit event a support engineer wrote, anywhere: (action, page viewed)."""
    with owner.connect() as connection:
        return [tuple(row) for row in connection.execute(text(
            "select action, detail ->> 'page' from audit_events where actor_kind = 'staff' "
            "union all select action, detail ->> 'page' from staff_audit_events"))]


def _new(before: list, after: list) -> list:
    remaining = list(after)
    for event in before:
        remaining.remove(event)
    return remaining


def _machine(owner: Engine) -> str:
    with owner.connect() as connection:
        return connection.execute(text(
            "select resource_id from invoice_allocations join invoices using (org_id, invoice_id) "
            "where invoice_number = :n and resource_kind = 'machine' "
            "order by amount_cents desc limit 1"), {"n": CREDITED_INVOICE}).scalar_one()


@pytest.mark.parametrize("page", [*CONSOLE_PAGES, *GRANT_PAGES])
def test_every_support_page_view_writes_exactly_one_audit_event(open_page, invoiced_database_url,
                                                                 owner, page):
    grant = open_grant(invoiced_database_url)
    query = {**CONSOLE_PAGES.get(page, {}), **GRANT_PAGES.get(page, {})}
    if page == "machine":
        query["machine"] = _machine(owner)
    before = _events(owner)
    app = open_page(invoiced_database_url, page, email=ENGINEER,
                    grant=str(grant.grant_id), **query).run()
    assert not app.exception, page
    assert not [error.value for error in app.error if "audit" in error.value]
    new = _new(before, _events(owner))
    assert len(new) == 1 and new[0][0] == auth.PAGE_VIEWED, (page, new)
    app.run()  # a rerun is another view
    assert len(_new(before, _events(owner))) == 2


def test_search_finds_a_machine_and_offers_to_open_its_organization(open_page,
                                                                   invoiced_database_url,
                                                                   owner):
    with owner.connect() as connection:
        machine, org_name = connection.execute(text(
            "select machine_id, organizations.name from machines join organizations "
            "using (org_id) where slug = 'globex' order by machine_id limit 1")).one()
    before = _events(owner)
    app = open_page(invoiced_database_url, "support_search", email=ENGINEER, q=machine).run()
    assert not app.exception
    shown = "\n".join(str(element.value) for element in app.markdown)
    assert machine in shown and org_name in shown and "exact match" in shown
    assert sorted(_new(before, _events(owner))) == sorted([(auth.PAGE_VIEWED, "support_search"),
                                                           (auth.SEARCHED, None)])
    nothing = open_page(invoiced_database_url, "support_search", email=ENGINEER,
                        q="zz-no-such-thing").run()
    assert "Nothing in any organization matches" in nothing.info[0].value


def test_customers_are_refused_the_console_pages(open_page, invoiced_database_url, owner):
    for page in ("support_search", "support_audit", "dispute"):
        app = open_page(invoiced_database_url, page, email=ADMIN,
                        invoice=CREDITED_INVOICE, q="globex").run()
        assert not app.exception
        assert app.error[0].value == "Your role does not give you access to this page.", page
        assert len(app.markdown) == 0 or "globex" not in " ".join(
            str(element.value) for element in app.markdown)
    assert _events(owner) == []


def test_opening_access_from_a_match_continues_to_the_machine(open_page, invoiced_database_url,
                                                              owner):
    machine = _machine(owner)
    app = open_page(invoiced_database_url, "support", email=ENGINEER, open="acme",
                    then="machine", machine=machine).run()
    assert app.text_input(key="support_org_slug").value == "acme"
    app.text_input(key="support_ticket").input("T-5")
    app.text_area(key="support_reason").input("machine billed twice?")
    app.button[0].click().run()
    assert not app.exception
    with owner.connect() as connection:
        grant_id = connection.execute(text("select grant_id from support_grants")).scalar_one()
    assert app.query_params[access.GRANT_PARAM] == str(grant_id)
    assert app.query_params["machine"] == machine
    app.switch_page("pages/machine.py")
    app.run()
    assert app.title[0].value == f"Machine {machine}"


def _invoice(owner: Engine):
    with owner.connect() as connection:
        return connection.execute(text(
            "select subtotal_cents, credits_cents, total_cents from invoices "
            "where invoice_number = :n"), {"n": CREDITED_INVOICE}).one()


def test_the_workbench_re_rates_and_issues_a_credit_note(open_page, invoiced_database_url,
                                                         owner):
    grant = open_grant(invoiced_database_url)
    before = _invoice(owner)
    app = open_page(invoiced_database_url, "dispute", email=ENGINEER,
                    grant=str(grant.grant_id), invoice=CREDITED_INVOICE).run()
    assert not app.exception
    assert any("reproduced exactly" in success.value for success in app.success)
    tables = [frame.value for frame in app.dataframe]
    lines = next(table for table in tables if "rerated_quantity" in table.columns)
    machines = next(table for table in tables if "app_name" in table.columns)
    assert sum(lines["billed"]) == sum(lines["rerated"]) == Decimal(before.subtotal_cents) / 100
    assert (machines["difference"] == 0).all()
    price_lists = next(table for table in tables if "lines_priced" in table.columns)
    # the list in force has no end: the cell says so instead of "None"
    assert "still in force" in set(price_lists["effective_until"])
    assert app.text_input(key="dispute_credit_ticket").value == "T-88"

    app.text_input(key="dispute_credit_amount").input("12.345")
    app.text_area(key="dispute_credit_reason").input("duplicate machine")
    app.button(key="FormSubmitter:dispute_credit-Review credit note").click().run()
    assert "No credit note issued" in app.error[0].value
    assert _invoice(owner) == before

    app.text_input(key="dispute_credit_amount").input("25.00")
    app.text_area(key="dispute_credit_reason").input("duplicate machine")
    app.button(key="FormSubmitter:dispute_credit-Review credit note").click().run()
    # nothing is credited before the engineer confirms what the form prepared
    assert any("duplicate machine" in warning.value and "cannot be undone" in warning.value
               for warning in app.warning)
    assert _invoice(owner) == before
    request = app.session_state["dispute_credit_pending"]
    app.button(key="dispute_credit_confirm").click().run()
    assert not app.exception
    after = _invoice(owner)
    assert (after.credits_cents, after.total_cents) == (before.credits_cents + 2500,
                                                        before.total_cents - 2500)
    new_total = next(metric.value for metric in app.metric if metric.label == "Total")
    assert new_total == f"${after.total_cents / 100:,.2f}"
    assert any("issued. The invoice's total is now" in success.value
               for success in app.success)

    # the same confirmation submitted again (a double click replayed) credits nothing more
    app.session_state["dispute_credit_pending"] = request
    app.run()
    app.button(key="dispute_credit_confirm").click().run()
    assert any("was already issued for this request" in success.value
               for success in app.success)
    assert _invoice(owner) == after

    invoices = open_page(invoiced_database_url, "invoices", email=ADMIN).run()
    credited = next(metric.value for metric in invoices.metric if metric.label == "Credited")
    with owner.connect() as connection:
        acme_credits = connection.execute(text(
            "select sum(credits_cents) from invoices join organizations using (org_id) "
            "where slug = 'acme' and status in ('finalized', 'paid')")).scalar_one()
    assert credited == f"${acme_credits / 100:,.2f}"


def test_the_audit_trail_lists_support_work_with_filters(open_page, invoiced_database_url,
                                                         owner):
    open_grant(invoiced_database_url)
    open_grant(invoiced_database_url, "globex")
    app = open_page(invoiced_database_url, "support_audit", email=ENGINEER).run()
    assert not app.exception
    table = app.dataframe[0].value
    assert set(table["org_slug"]) == {"acme", "globex", ""}  # console events: blank, not None
    # the detail in words: page names as the menu calls them, no raw JSON
    details = set(table["detail"])
    assert "Support audit trail" in details
    assert not any(detail.startswith("{") for detail in details)
    assert any(detail.startswith("reason ") and " · ticket T-" in detail for detail in details)
    assert "Opened support access" in set(table["action"])
    narrowed = open_page(invoiced_database_url, "support_audit", email=ENGINEER,
                         in_org="globex", action=auth.ACCESS_OPENED).run()
    assert list(narrowed.dataframe[0].value["org_slug"]) == ["globex"]
    empty = open_page(invoiced_database_url, "support_audit", email=ENGINEER,
                      ticket="T-nothing").run()
    assert "No support activity matches" in empty.info[0].value


def _revoked(owner: Engine, grant: auth.SupportGrant) -> list[tuple[str, int]]:
    with owner.connect() as connection:
        return [tuple(row) for row in connection.execute(text(
            "select support_grants.revoked_at is not null, audit_events.actor_kind "
            "from support_grants left join audit_events "
            "on audit_events.action = :action "
            "and (audit_events.detail ->> 'grant_id')::bigint = support_grants.grant_id "
            "where support_grants.grant_id = :g"),
            {"action": auth.ACCESS_REVOKED, "g": grant.grant_id})]


def test_an_engineer_sees_grants_by_organization_name_and_revokes_one(open_page,
                                                                      invoiced_database_url,
                                                                      owner):
    grant = open_grant(invoiced_database_url)
    app = open_page(invoiced_database_url, "support", email=ENGINEER,
                    grant=str(grant.grant_id)).run()
    assert not app.exception
    table = app.dataframe[0].value
    assert list(table["organization"]) == [grant.org_name] and "org_id" not in table.columns

    app.button(key="FormSubmitter:support_revoke-Revoke now").click().run()
    assert not app.exception
    assert _revoked(owner, grant) == [(True, "staff")]
    assert any("is revoked" in success.value for success in app.success)
    assert access.GRANT_PARAM not in app.query_params


def test_an_org_admin_revokes_an_active_grant_on_the_access_log(open_page,
                                                                invoiced_database_url, owner):
    grant = open_grant(invoiced_database_url)
    app = open_page(invoiced_database_url, "support_access_log", email=ADMIN).run()
    assert not app.exception
    app.button(key="FormSubmitter:access_log_revoke-Revoke now").click().run()
    assert not app.exception
    assert _revoked(owner, grant) == [(True, "user")]
