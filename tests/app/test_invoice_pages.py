"""AppTest walks the invoice drill-down on the invoiced small seed, as acme's admin.

At every level the test reads what the page displays, checks that the displayed children add
up to the displayed parent to the cent, and compares both with the database, computed here
independently of the pages' queries.
"""

from __future__ import annotations

from decimal import Decimal

import pytest
from sqlalchemy import text
from streamlit.testing.v1 import AppTest

from tests.app.conftest import ADMIN, MEMBER, as_read
from tests.conftest import CREDIT_CENTS, CREDITED_INVOICE

ORG = "acme"


def cents(shown: str | Decimal) -> int:
    """A displayed amount ('$1,234.56', '-$0.10' or a Decimal of dollars) in integer cents."""
    if isinstance(shown, Decimal):
        return int(shown * 100)
    negative = shown.startswith("-")
    value = Decimal(shown.lstrip("-").lstrip("$").replace(",", ""))
    return int(value * 100) * (-1 if negative else 1)


def metric(app: AppTest, label: str) -> str:
    return next(m.value for m in app.metric if as_read(m.label) == label)


def table(app: AppTest, key: str):
    """A pickable table, by its widget key."""
    return next(frame.value for frame in app.dataframe if frame.key == key)


def table_with(app: AppTest, column: str):
    """A read-only table (those carry no key), by one of its columns."""
    return next(frame.value for frame in app.dataframe if column in frame.value.columns)


def pick(app: AppTest, key: str, row: int, then: str) -> AppTest:
    """Pick a table row as a person would; the page must switch to ``then``."""
    app.session_state[key] = {"selection": {"rows": [row], "columns": [], "cells": []}}
    app.run()
    assert not app.exception
    app.switch_page(then)  # later runs stay on the page the pick switched to
    return app.run()


def checks(app: AppTest) -> list[str]:
    assert not [e.value for e in app.error], "a sum check failed on the page"
    return [s.value for s in app.success if s.value.startswith("Check:")]


def scalar(engine, sql: str, **params):
    with engine.connect() as connection:
        return connection.execute(text(sql), params).scalar_one()


def test_walk_from_invoice_total_to_one_machine_adds_up_at_every_level(
        open_page, invoiced_database_url, invoiced_engine):
    app = open_page(invoiced_database_url, "invoices", org=ORG).run()
    assert not app.exception

    # level 1: the invoices, as the database has them, the draft marked estimated
    invoices = table(app, "invoices_table")
    with invoiced_engine.connect() as connection:
        expected = dict(connection.execute(text(
            "select invoice_number, total_cents from invoices join organizations using (org_id) "
            "where slug = :slug"), {"slug": ORG}).all())
    assert dict(zip(invoices["invoice_number"], map(cents, invoices["total"]), strict=True)) \
        == expected
    states = dict(zip(invoices["invoice_number"], invoices["state"], strict=True))
    assert states["FS-202611-000001"] == "upcoming (estimated)"
    assert states[CREDITED_INVOICE] == "finalized"
    october = invoices.index[invoices["invoice_number"] == CREDITED_INVOICE][0]
    change = invoices.loc[october, "change"]
    rise = expected[CREDITED_INVOICE] - expected["FS-202609-000001"]
    assert change.startswith(f"+${Decimal(rise) / 100:,.2f}")

    # level 2: the invoice; lines add up to the subtotal, subtotal less credits to the total
    app = pick(app, "invoices_table", int(october), "pages/invoice.py")
    assert app.query_params["invoice"] == CREDITED_INVOICE
    assert as_read(app.title[0].value) == f"Invoice {CREDITED_INVOICE}"
    subtotal, credits, total = (cents(metric(app, label))
                                for label in ("Subtotal", "Credits", "Total"))
    lines = table(app, "invoice_lines_table")
    assert sum(map(cents, lines["amount"])) == subtotal
    assert subtotal - credits == total
    assert credits == CREDIT_CENTS
    assert subtotal == scalar(invoiced_engine, "select sum(amount_cents) from invoice_lines "
                              "join invoices using (org_id, invoice_id) "
                              "where invoice_number = :number", number=CREDITED_INVOICE)
    assert total == expected[CREDITED_INVOICE]
    credit_table = table_with(app, "credit_note_number")
    assert sum(map(cents, credit_table["amount"])) == credits
    groups = table(app, "invoice_groups_table")
    assert sum(map(cents, groups["amount"])) == subtotal
    assert len(checks(app)) == 4  # lines, subtotal less credits, groups, credit notes

    # level 3: the apps behind the machine runtime lines
    runtime = int(groups.index[groups["key"] == "machine_runtime"][0])
    group_cents = cents(groups.loc[runtime, "amount"])
    app = pick(app, "invoice_groups_table", runtime, "pages/invoice_apps.py")
    assert app.query_params["by"] == "product"
    assert app.query_params["key"] == "machine_runtime"
    assert cents(metric(app, "Amount")) == group_cents
    apps = table(app, "invoice_apps_table")
    assert sum(map(cents, apps["amount"])) == group_cents
    assert group_cents == scalar(
        invoiced_engine,
        "select sum(invoice_allocations.amount_cents) from invoice_allocations "
        "join invoice_lines using (org_id, invoice_id, line_no) "
        "join invoices using (org_id, invoice_id) "
        "where invoice_number = :number and product = 'machine_runtime'",
        number=CREDITED_INVOICE)
    assert len(checks(app)) == 1

    # level 4: the machines of the app with the most machines
    busiest = int(apps["machines"].astype(int).idxmax())
    app_cents = cents(apps.loc[busiest, "amount"])
    app_id = int(apps.loc[busiest, "app_id"])
    app = pick(app, "invoice_apps_table", busiest, "pages/invoice_machines.py")
    assert app.query_params["app"] == str(app_id)
    assert cents(metric(app, f"App {apps.loc[busiest, 'app_name']}")) == app_cents
    machines = table(app, "invoice_machines_table")
    assert len(machines) == int(apps.loc[busiest, "machines"]) > 1
    assert sum(map(cents, machines["amount"])) == app_cents
    assert app_cents == scalar(
        invoiced_engine,
        "select sum(invoice_allocations.amount_cents) from invoice_allocations "
        "join invoice_lines using (org_id, invoice_id, line_no) "
        "join invoices using (org_id, invoice_id) "
        "where invoice_number = :number and product = 'machine_runtime' "
        "and invoice_allocations.app_id = :app_id",
        number=CREDITED_INVOICE, app_id=app_id)
    assert len(checks(app)) == 1

    # level 5: one machine; its charges on the runtime lines make up its amount on the list
    machine_cents = cents(machines.loc[0, "amount"])
    machine_id = machines.loc[0, "resource_id"]
    app = pick(app, "invoice_machines_table", 0, "pages/machine.py")
    assert app.query_params["machine"] == machine_id
    assert app.title[0].value == f"Machine {machine_id}"
    charges = table_with(app, "allocation")
    in_group = charges.loc[charges["in_group"]]
    assert sum(map(cents, in_group["amount"])) == machine_cents
    assert sum(map(cents, charges["amount"])) == scalar(
        invoiced_engine,
        "select sum(amount_cents) from invoice_allocations join invoices "
        "using (org_id, invoice_id) where invoice_number = :number and resource_id = :machine",
        number=CREDITED_INVOICE, machine=machine_id)
    assert all("markup = $" in rate for rate in in_group["rate"])
    assert all(" s x $" in step for step in in_group["amount_arithmetic"])
    assert len(checks(app)) == 2
    assert len(app.dataframe) >= 4  # charges, runs, events, hourly usage


def test_machine_list_searches_sorts_and_pages_in_sql(open_page, invoiced_database_url,
                                                     invoiced_engine):
    app = open_page(invoiced_database_url, "invoice_machines", org=ORG,
                    invoice=CREDITED_INVOICE, sort="resource").run()
    assert not app.exception
    every = table(app, "invoice_machines_table")
    assert list(every["resource_id"]) == sorted(every["resource_id"])
    assert sum(map(cents, every["amount"])) == scalar(
        invoiced_engine, "select subtotal_cents from invoices where invoice_number = :number",
        number=CREDITED_INVOICE)

    prefix = every.loc[every["resource_kind"] == "machine", "resource_id"].iloc[0][:3]
    app.text_input[0].input(prefix).run()
    assert app.query_params["q"] == prefix
    found = table(app, "invoice_machines_table")
    expected = sorted(r for r in every["resource_id"] if r.startswith(prefix))
    assert sorted(found["resource_id"]) == expected
    assert any("match" in info.value for info in app.info)  # no whole-sum check when searching


def test_a_member_is_refused_the_invoice_pages(open_page, invoiced_database_url):
    for page in ("invoices", "invoice", "invoice_apps", "invoice_machines", "machine"):
        app = open_page(invoiced_database_url, page, MEMBER, invoice=CREDITED_INVOICE).run()
        assert not app.exception
        assert "role does not give you access" in app.error[0].value
        assert len(app.dataframe) == 0 and len(app.metric) == 0


@pytest.mark.parametrize("page", ["invoice", "invoice_apps", "invoice_machines"])
def test_unknown_invoice_says_so_and_shows_no_numbers(open_page, invoiced_database_url, page):
    app = open_page(invoiced_database_url, page, ADMIN, invoice="FS-209901-000001").run()
    assert not app.exception
    assert any("no invoice numbered" in warning.value for warning in app.warning)
    assert len(app.metric) == 0


def test_a_group_the_invoice_lacks_says_so_and_shows_no_numbers(open_page,
                                                                invoiced_database_url):
    app = open_page(invoiced_database_url, "invoice_apps", ADMIN, invoice=CREDITED_INVOICE,
                    by="region", key="xyz").run()
    assert not app.exception
    assert any("no line with region 'xyz'" in warning.value for warning in app.warning)
    assert len(app.metric) == 0 and len(app.dataframe) == 0
