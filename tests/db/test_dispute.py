"""The dispute workbench and the evidence bundle, as a support engineer under a grant on the
app's role: re-rating reproduces a finalized invoice, points at the machine whose usage
changed, and the exported bundle reconciles with the invoice to the cent."""

from __future__ import annotations

import csv
import io
import zipfile
from collections import defaultdict
from collections.abc import Iterator
from datetime import timedelta

import pytest
from sqlalchemy import Engine, text

from fleetspend import auth, db
from fleetspend.reads import dispute, evidence
from fleetspend.reads import invoice_drill as drill
from tests.conftest import CREDIT_CENTS, CREDITED_INVOICE, engine_for

ENGINEER = "support1@fleetspend.example"


@pytest.fixture
def engines(invoiced_database_url: str) -> Iterator[tuple[Engine, Engine]]:
    owner = engine_for(invoiced_database_url)
    app = engine_for(db.as_app_role(invoiced_database_url))
    yield owner, app
    app.dispose()
    owner.dispose()


def _under_grant(app: Engine, slug: str = "acme") -> tuple[auth.Caller, auth.SupportGrant]:
    with app.connect() as connection:
        caller = auth.identify(connection, ENGINEER)
    assert caller is not None
    grant = auth.open_support_access(app, caller, org_slug=slug, ticket="T-7",
                                     reason="customer disputes October",
                                     duration=timedelta(hours=1))
    return caller, grant


def _invoice(owner: Engine, number: str = CREDITED_INVOICE):
    with owner.connect() as connection:
        return connection.execute(text(
            "select org_id, invoice_id, subtotal_cents, credits_cents, total_cents "
            "from invoices where invoice_number = :n"), {"n": number}).one()


def _cents(values) -> int:
    return sum(int(value) for value in values if value is not None and value == value)


def test_re_rating_reproduces_a_finalized_invoice_line_by_line_and_machine_by_machine(engines):
    owner, app = engines
    caller, grant = _under_grant(app)
    stored = _invoice(owner)
    rerating = dispute.rerate(app, auth.scope_for(caller, grant=grant), grant.org_id,
                              CREDITED_INVOICE)
    assert rerating is not None and rerating.is_reproduced
    assert len(rerating.lines) > 1 and len(rerating.resources) > 1
    assert _cents(rerating.lines["billed_cents"]) == stored.subtotal_cents
    assert _cents(rerating.lines["rerated_cents"]) == stored.subtotal_cents
    assert _cents(rerating.resources["billed_cents"]) == stored.subtotal_cents
    assert set(rerating.lines["difference_cents"]) == {0}
    assert set(rerating.resources["difference_cents"]) == {0}
    assert dispute.rerate(app, auth.scope_for(caller, grant=grant), grant.org_id,
                          "FS-000000-000000") is None


def test_re_rating_points_at_the_machine_whose_usage_changed(engines):
    owner, app = engines
    caller, grant = _under_grant(app)
    with owner.begin() as connection:
        machine, billed = connection.execute(text(
            "select resource_id, sum(amount_cents) from invoice_allocations "
            "join invoices using (org_id, invoice_id) where invoice_number = :n "
            "and resource_kind = 'machine' group by 1 order by 2 desc limit 1"),
            {"n": CREDITED_INVOICE}).one()
        # usage re-sent late for October: that machine ran none of it after all
        connection.execute(text(
            "delete from machine_usage where org_id = :org and machine_id = :m "
            "and hour_at >= '2026-10-01' and hour_at < '2026-11-01'"),
            {"org": grant.org_id, "m": machine})
    rerating = dispute.rerate(app, auth.scope_for(caller, grant=grant), grant.org_id,
                              CREDITED_INVOICE)
    assert rerating is not None and not rerating.is_reproduced
    first = rerating.resources.iloc[0]
    assert (first["resource_id"], int(first["billed_cents"]), first["difference_cents"]) == (
        machine, billed, -billed)
    # the others moved by at most the cent their line's rounding hands out differently
    assert all(abs(int(cents)) <= 1 for cents in rerating.resources["difference_cents"].iloc[1:])
    assert machine in set(rerating.differences["resource_id"].dropna())
    assert _cents(rerating.lines["difference_cents"]) < 0


def test_the_price_lists_in_force_are_those_that_priced_the_lines(engines):
    owner, app = engines
    caller, grant = _under_grant(app)
    stored = _invoice(owner)
    with db.ReadPool([db.as_app_role(app.url.render_as_string(False))],
                     pool_size=1).snapshot(auth.scope_for(caller, grant=grant)) as snapshot:
        lists = dispute.price_lists(snapshot.connection, grant.org_id, stored.invoice_id)
        lines = drill.invoice_lines(snapshot.connection, grant.org_id, stored.invoice_id)
    assert not lists.empty
    assert int(lists["lines_priced"].sum()) == len(lines)
    assert _cents(lists["amount_cents"]) == stored.subtotal_cents
    assert set(lines["price_list_name"]) <= set(lists["name"])


def _read_bundle(data: bytes) -> dict[str, list[dict[str, str]]]:
    with zipfile.ZipFile(io.BytesIO(data)) as bundle:
        return {name: list(csv.DictReader(io.StringIO(bundle.read(name).decode("utf-8"))))
                for name in bundle.namelist() if name.endswith(".csv")} | {
            "README.txt": bundle.read("README.txt").decode("utf-8")}


def test_an_evidence_bundle_reconciles_with_its_invoice_to_the_cent(engines):
    owner, app = engines
    caller, grant = _under_grant(app)
    stored = _invoice(owner)
    files = _read_bundle(evidence.build(app, caller, grant, CREDITED_INVOICE))
    assert set(files) == {"invoice.csv", "lines.csv", "allocations.csv", "credit_notes.csv",
                          "rerating_lines.csv", "rerating_resources.csv", "differences.csv",
                          "README.txt"}
    header = files["invoice.csv"][0]
    assert (int(header["subtotal_cents"]), int(header["credits_cents"]),
            int(header["total_cents"])) == (stored.subtotal_cents, stored.credits_cents,
                                            stored.total_cents)
    lines = {int(row["line_no"]): int(row["amount_cents"]) for row in files["lines.csv"]}
    assert sum(lines.values()) == stored.subtotal_cents
    allocated: dict[int, int] = defaultdict(int)
    for row in files["allocations.csv"]:
        allocated[int(row["line_no"])] += int(row["amount_cents"])
    assert allocated == lines  # each line's allocations add up to the line exactly
    assert stored.credits_cents == CREDIT_CENTS
    assert sum(int(row["amount_cents"]) for row in files["credit_notes.csv"]) == CREDIT_CENTS
    assert stored.subtotal_cents - stored.credits_cents == stored.total_cents
    assert sum(int(row["billed_cents"]) for row in files["rerating_lines.csv"]) == (
        stored.subtotal_cents)
    assert sum(int(row["rerated_cents"]) for row in files["rerating_lines.csv"]) == (
        stored.subtotal_cents)
    assert files["differences.csv"] == []
    assert "MISMATCH" not in files["README.txt"]
    assert f"ticket {grant.support_ticket}" in files["README.txt"]
    with owner.connect() as connection:
        exported = connection.execute(text(
            "select actor_id, detail ->> 'invoice_number', (detail ->> 'checks_ok')::boolean "
            "from audit_events where action = :a"), {"a": auth.EVIDENCE_EXPORTED}).all()
    assert exported == [(caller.actor_id, CREDITED_INVOICE, True)]


def test_no_bundle_for_another_organizations_invoice(engines):
    owner, app = engines
    caller, grant = _under_grant(app)
    with owner.connect() as connection:
        globex_invoice = connection.execute(text(
            "select invoice_number from invoices join organizations using (org_id) "
            "where slug = 'globex' limit 1")).scalar_one()
    with pytest.raises(evidence.EvidenceError):
        evidence.build(app, caller, grant, globex_invoice)
    with owner.connect() as connection:
        assert connection.execute(text("select count(*) from audit_events where action = :a"),
                                  {"a": auth.EVIDENCE_EXPORTED}).scalar() == 0
