"""The support console's database side, as the app's role: search across organizations,
credit notes from support (exact, never over-crediting, concurrent attempts included) and
the audit trail of support work."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import Engine, text
from sqlalchemy.exc import DBAPIError

from fleetspend import auth, db
from fleetspend.billing.credit_notes import CreditNoteError
from fleetspend.reads import support
from tests.conftest import CREDIT_CENTS, CREDITED_INVOICE, engine_for

ENGINEER = "support1@fleetspend.example"
OTHER_ENGINEER = "support2@fleetspend.example"


@dataclass
class Console:
    owner: Engine
    app: Engine

    def caller(self, email: str) -> auth.Caller:
        with self.app.connect() as connection:
            caller = auth.identify(connection, email)
        assert caller is not None
        return caller

    def grant(self, slug: str, email: str = ENGINEER) -> auth.SupportGrant:
        return auth.open_support_access(self.app, self.caller(email), org_slug=slug,
                                        ticket="T-42", reason="billing dispute",
                                        duration=timedelta(hours=1))

    def one(self, statement: str, **params: object) -> object:
        with self.owner.connect() as connection:
            return connection.execute(text(statement), params).scalar_one()

    def search_as(self, scope: db.Scope, term: str) -> set[tuple[str, str, str]]:
        with self.app.connect() as connection:
            db.set_local(connection, scope.settings())
            hits = support.search_in(connection, term)
            connection.rollback()
        return {(hit.kind, hit.identifier, hit.org_slug) for hit in hits}


@pytest.fixture
def console(invoiced_database_url: str) -> Iterator[Console]:
    owner = engine_for(invoiced_database_url)
    app = engine_for(db.as_app_role(invoiced_database_url))
    yield Console(owner, app)
    app.dispose()
    owner.dispose()


def _staff_scope(console: Console) -> db.Scope:
    return auth.scope_for(console.caller(ENGINEER))


# --- search ----------------------------------------------------------------------------------


def test_search_finds_each_kind_of_entity_and_where_it_belongs(console):
    machine = console.one("select machine_id from machines join organizations using (org_id) "
                          "where slug = 'globex' order by machine_id limit 1")
    app = console.one("select apps.name from apps join organizations using (org_id) "
                      "where slug = 'globex' order by apps.name limit 1")
    invoice = console.one("select invoice_number from invoices join organizations "
                          "using (org_id) where slug = 'globex' order by 1 limit 1")
    staff = _staff_scope(console)
    assert ("organization", "globex", "globex") in console.search_as(staff, "globex")
    assert ("organization", "globex", "globex") in console.search_as(staff, "GLOB")  # by name
    assert ("invoice", invoice, "globex") in console.search_as(staff, invoice.lower())
    assert ("invoice", invoice, "globex") in console.search_as(staff, invoice[:10])
    assert ("app", app, "globex") in console.search_as(staff, app.upper())
    assert console.search_as(staff, machine) == {("machine", machine, "globex")}
    assert ("machine", machine, "globex") in console.search_as(staff, machine[:4])

    machine_app = console.one("select apps.name from machines join apps using (org_id, app_id) "
                              "where machine_id = :m", m=machine)
    with console.app.connect() as connection:
        db.set_local(connection, staff.settings())
        exact = support.search_in(connection, machine)
        connection.rollback()
    assert [(hit.is_exact, hit.org_name, hit.label) for hit in exact] == [
        (True, "Globex", f"app {machine_app}")]


def test_a_customer_finds_only_what_their_memberships_show(console):
    globex_machine = console.one("select machine_id from machines join organizations "
                                 "using (org_id) where slug = 'globex' limit 1")
    acme_machine = console.one("select machine_id from machines join organizations "
                               "using (org_id) where slug = 'acme' limit 1")
    admin = db.Scope(user_id=console.one("select user_id from users "
                                         "where email = 'admin@acme.example'"))
    member = db.Scope(user_id=console.one("select user_id from users "
                                          "where email = 'dev@acme.example'"))
    assert console.search_as(admin, globex_machine) == set()
    assert console.search_as(admin, "globex") == set()
    assert console.search_as(admin, "FS-2026") == {
        ("invoice", number, "acme") for number in console.owner.connect().execute(text(
            "select invoice_number from invoices join organizations using (org_id) "
            "where slug = 'acme'")).scalars()}
    assert console.search_as(admin, acme_machine) == {("machine", acme_machine, "acme")}
    assert console.search_as(member, "FS-2026") == set()  # invoices need an admin
    with pytest.raises(support.SupportError):
        console.search_as(member, "a")


def test_search_without_a_scope_is_refused(console):
    with console.app.connect() as connection, pytest.raises(DBAPIError) as error:
        connection.execute(text("select * from fleetspend_auth.support_search('acme', 10)"))
    assert error.value.orig.sqlstate == "42501"


def test_a_search_is_audited_with_its_term(console):
    engineer = console.caller(ENGINEER)
    hits = support.search(console.app, engineer, "  acme ")
    assert {hit.org_slug for hit in hits} == {"acme"}
    with console.owner.connect() as connection:
        events = connection.execute(text(
            "select staff_user_id, action, detail ->> 'term', (detail ->> 'results')::int "
            "from staff_audit_events")).all()
    assert events == [(engineer.actor_id, auth.SEARCHED, "acme", len(hits))]
    with pytest.raises(auth.AccessRefusedError):
        support.search(console.app, console.caller("admin@acme.example"), "acme")


# --- credit notes ----------------------------------------------------------------------------


def _invoice(console: Console, number: str):
    with console.owner.connect() as connection:
        return connection.execute(text(
            "select org_id, subtotal_cents, credits_cents, total_cents from invoices "
            "where invoice_number = :n"), {"n": number}).one()


def test_a_credit_note_changes_the_totals_exactly_and_is_audited(console):
    grant = console.grant("acme")
    engineer = console.caller(ENGINEER)
    before = _invoice(console, CREDITED_INVOICE)
    note = support.issue_credit(console.app, engineer, grant, invoice_number=CREDITED_INVOICE,
                                amount_cents=2_501, reason="runaway machine",
                                support_ticket="T-42")
    after = _invoice(console, CREDITED_INVOICE)
    assert after.credits_cents == before.credits_cents + 2_501 == CREDIT_CENTS + 2_501
    assert after.total_cents == before.total_cents - 2_501
    assert after.subtotal_cents == before.subtotal_cents
    assert (note.invoice_credits_cents, note.invoice_total_cents) == (after.credits_cents,
                                                                      after.total_cents)
    assert note.credit_note_number == f"CN-{CREDITED_INVOICE}-2"
    with console.owner.connect() as connection:
        issued_by = connection.execute(text(
            "select issued_by from credit_notes where credit_note_number = :n"),
            {"n": note.credit_note_number}).scalar_one()
        audit = connection.execute(text(
            "select actor_id, detail ->> 'credit_note_number', "
            "(detail ->> 'amount_cents')::bigint from audit_events where action = :action"),
            {"action": auth.CREDIT_NOTE_ISSUED}).all()
    assert issued_by == engineer.actor_id
    assert audit == [(engineer.actor_id, note.credit_note_number, 2_501)]


def test_a_credit_note_cannot_over_credit_and_a_refused_one_writes_nothing(console):
    grant = console.grant("acme")
    engineer = console.caller(ENGINEER)
    invoice = _invoice(console, CREDITED_INVOICE)
    creditable = invoice.subtotal_cents - invoice.credits_cents
    with pytest.raises(CreditNoteError, match="over-credit"):
        support.issue_credit(console.app, engineer, grant, invoice_number=CREDITED_INVOICE,
                             amount_cents=creditable + 1, reason="too much",
                             support_ticket="T-42")
    draft = console.one("select invoice_number from invoices where org_id = :org "
                        "and status = 'draft'", org=grant.org_id)
    with pytest.raises(CreditNoteError, match="draft"):
        support.issue_credit(console.app, engineer, grant, invoice_number=draft,
                             amount_cents=100, reason="early", support_ticket="T-42")
    globex_invoice = console.one("select invoice_number from invoices join organizations "
                                 "using (org_id) where slug = 'globex' and status = 'finalized' "
                                 "limit 1")
    with pytest.raises(CreditNoteError, match="no invoice numbered"):
        support.issue_credit(console.app, engineer, grant, invoice_number=globex_invoice,
                             amount_cents=100, reason="wrong org", support_ticket="T-42")
    assert _invoice(console, CREDITED_INVOICE) == invoice
    assert console.one("select count(*) from credit_notes") == 1
    assert console.one("select count(*) from audit_events where action = :a",
                       a=auth.CREDIT_NOTE_ISSUED) == 0
    # the rest of the creditable amount is accepted, to the cent, and then nothing more
    support.issue_credit(console.app, engineer, grant, invoice_number=CREDITED_INVOICE,
                         amount_cents=creditable, reason="full refund", support_ticket="T-42")
    assert _invoice(console, CREDITED_INVOICE).total_cents == 0
    with pytest.raises(CreditNoteError, match="over-credit"):
        support.issue_credit(console.app, engineer, grant, invoice_number=CREDITED_INVOICE,
                             amount_cents=1, reason="one more", support_ticket="T-42")


def test_concurrent_credit_notes_never_over_credit_and_add_up_exactly(console):
    grant = console.grant("acme")
    engineer = console.caller(ENGINEER)
    invoice = _invoice(console, CREDITED_INVOICE)
    creditable = invoice.subtotal_cents - invoice.credits_cents
    attempts = 8
    amount = creditable // 3 + 1  # at most two fit, whichever come first
    pooled = db.make_engine(db.as_app_role(console.app.url.render_as_string(False)),
                            pool_size=attempts, max_overflow=0)
    barrier = threading.Barrier(attempts)
    accepted: list[int] = []
    refused: list[str] = []

    def attempt() -> None:
        barrier.wait()
        try:
            note = support.issue_credit(pooled, engineer, grant, invoice_number=CREDITED_INVOICE,
                                        amount_cents=amount, reason="race",
                                        support_ticket="T-42")
        except CreditNoteError as error:
            refused.append(str(error))
        else:
            accepted.append(note.amount_cents)

    threads = [threading.Thread(target=attempt) for _ in range(attempts)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    pooled.dispose()
    after = _invoice(console, CREDITED_INVOICE)
    assert len(accepted) == 2 and len(refused) == attempts - 2
    assert all("over-credit" in message for message in refused)
    assert after.credits_cents == invoice.credits_cents + sum(accepted)
    assert after.credits_cents <= after.subtotal_cents
    assert after.total_cents == after.subtotal_cents - after.credits_cents
    assert console.one("select sum(amount_cents) from credit_notes where invoice_id = "
                       "(select invoice_id from invoices where invoice_number = :n)",
                       n=CREDITED_INVOICE) == after.credits_cents
    assert console.one("select count(*) from audit_events where action = :a",
                       a=auth.CREDIT_NOTE_ISSUED) == 2


def test_a_credit_note_request_submitted_twice_credits_once(console):
    grant = console.grant("acme")
    engineer = console.caller(ENGINEER)
    invoice = _invoice(console, CREDITED_INVOICE)
    key = support.new_request_key()
    pooled = db.make_engine(db.as_app_role(console.app.url.render_as_string(False)),
                            pool_size=2, max_overflow=0)
    barrier = threading.Barrier(2)
    notes = []

    def submit() -> None:
        barrier.wait()
        notes.append(support.issue_credit(pooled, engineer, grant,
                                          invoice_number=CREDITED_INVOICE, amount_cents=700,
                                          reason="stuck machine", support_ticket="T-42",
                                          request_key=key))

    threads = [threading.Thread(target=submit) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    pooled.dispose()
    # and once more after both: a reload that submits the request again
    notes.append(support.issue_credit(console.app, engineer, grant,
                                      invoice_number=CREDITED_INVOICE, amount_cents=700,
                                      reason="stuck machine", support_ticket="T-42",
                                      request_key=key))
    assert sorted(note.is_new for note in notes) == [False, False, True]
    assert len({note.credit_note_number for note in notes}) == 1
    after = _invoice(console, CREDITED_INVOICE)
    assert after.credits_cents == invoice.credits_cents + 700
    assert after.total_cents == invoice.total_cents - 700
    assert console.one("select count(*) from credit_notes where request_key = :k", k=key) == 1
    assert console.one("select count(*) from audit_events where action = :a",
                       a=auth.CREDIT_NOTE_ISSUED) == 1


@pytest.mark.parametrize("who", ["admin of acme", "engineer without grant", "other engineer"])
def test_only_an_engineer_under_a_grant_for_the_org_may_write_credits(console, who):
    grant = console.grant("acme")
    invoice = _invoice(console, CREDITED_INVOICE)
    engineer = console.caller(ENGINEER)
    scope = {
        "admin of acme": db.Scope(user_id=console.one(
            "select user_id from users where email = 'admin@acme.example'")),
        "engineer without grant": auth.scope_for(engineer),
        "other engineer": auth.scope_for(console.caller(OTHER_ENGINEER),
                                         grant=console.grant("acme", OTHER_ENGINEER)),
    }[who]
    note = ("insert into credit_notes (org_id, invoice_id, credit_note_number, amount_cents, "
            "reason, support_ticket, issued_by) select org_id, invoice_id, 'CN-forged', 1, "
            "'r', 'T', :issued_by from invoices where invoice_number = :n")
    for statement in (note, "update invoices set credits_cents = 0, total_cents = subtotal_cents "
                            "where invoice_number = :n"):
        with console.app.connect() as connection:
            db.set_local(connection, scope.settings())
            try:
                result = connection.execute(text(statement),
                                            {"n": CREDITED_INVOICE, "issued_by": engineer.actor_id})
            except DBAPIError as error:
                assert error.orig.sqlstate in ("42501", "23000"), statement
            else:
                assert result.rowcount == 0, statement  # the row is not there to change
            connection.rollback()
    assert _invoice(console, CREDITED_INVOICE) == invoice
    assert grant.org_id == invoice.org_id


@pytest.mark.parametrize("statement", [
    "insert into credit_notes (org_id, invoice_id, credit_note_number, amount_cents, reason, "
    "support_ticket, issued_by) select org_id, invoice_id, 'CN-unaudited', 1, 'r', 'T-42', "
    ":issued_by from invoices where invoice_number = :n",
    "update invoices set credits_cents = 0, total_cents = subtotal_cents "
    "where invoice_number = :n",
])
def test_an_engineer_under_a_grant_cannot_credit_without_the_audit_event(console, statement):
    grant = console.grant("acme")
    engineer = console.caller(ENGINEER)
    invoice = _invoice(console, CREDITED_INVOICE)
    with console.app.connect() as connection:
        db.set_local(connection, auth.scope_for(engineer, grant=grant).settings())
        with pytest.raises(DBAPIError) as error:
            connection.execute(text(statement),
                               {"n": CREDITED_INVOICE, "issued_by": engineer.actor_id})
    assert error.value.orig.sqlstate == "42501"  # no privilege: only the function writes them
    assert _invoice(console, CREDITED_INVOICE) == invoice
    assert console.one("select count(*) from credit_notes") == 1


# --- grants: opened and revoked with their audit events -------------------------------------


def test_a_grant_names_its_organization_and_is_opened_with_its_audit_event(console):
    grant = console.grant("acme")
    assert grant.org_name == console.one("select name from organizations where slug = 'acme'")
    with console.app.connect() as connection:
        db.set_local(connection, _staff_scope(console).settings())
        listed = auth.grants_of(connection, console.caller(ENGINEER))
    assert listed == [grant]
    assert console.one("select count(*) from audit_events where action = :a "
                       "and (detail ->> 'grant_id')::bigint = :g",
                       a=auth.ACCESS_OPENED, g=grant.grant_id) == 1


@pytest.mark.parametrize("revoker", [ENGINEER, "admin@acme.example"])
def test_the_engineer_or_an_org_admin_revokes_a_grant_with_an_audit_event(console, revoker):
    grant = console.grant("acme")
    caller = console.caller(revoker)
    auth.revoke_support_access(console.app, caller, grant.grant_id)
    assert console.one("select revoked_at is not null from support_grants where grant_id = :g",
                       g=grant.grant_id)
    assert console.one("select count(*) from audit_events where action = :a and actor_id = :actor "
                       "and actor_kind = :kind and (detail ->> 'grant_id')::bigint = :g",
                       a=auth.ACCESS_REVOKED, actor=caller.actor_id,
                       kind="staff" if caller.is_staff else "user", g=grant.grant_id) == 1
    with console.app.connect() as connection:  # the grant opens nothing any more
        db.set_local(connection, auth.scope_for(console.caller(ENGINEER), grant=grant).settings())
        with pytest.raises(DBAPIError) as error:
            connection.execute(text("select count(*) from invoices"))
    assert auth.is_grant_not_active(error.value)
    with pytest.raises(auth.SupportAccessError, match="already ended"):
        auth.revoke_support_access(console.app, caller, grant.grant_id)


@pytest.mark.parametrize("revoker", [OTHER_ENGINEER, "dev@acme.example", "admin@globex.example"])
def test_nobody_else_revokes_a_grant(console, revoker):
    grant = console.grant("acme")
    with pytest.raises(auth.AccessRefusedError, match="not yours to revoke"):
        auth.revoke_support_access(console.app, console.caller(revoker), grant.grant_id)
    assert console.one("select revoked_at is null from support_grants where grant_id = :g",
                       g=grant.grant_id)
    assert console.one("select count(*) from audit_events where action = :a",
                       a=auth.ACCESS_REVOKED) == 0


# --- the audit trail -------------------------------------------------------------------------


def test_the_audit_trail_shows_every_engineers_support_work_with_filters(console):
    engineer = console.caller(ENGINEER)
    support.search(console.app, engineer, "acme")
    acme = console.grant("acme")
    globex = console.grant("globex", OTHER_ENGINEER)
    auth.record_support_view(console.app, engineer, acme, "invoice")
    with console.app.connect() as connection:
        db.set_local(connection, auth.scope_for(engineer).settings())
        everything = support.activity(connection, support.ActivityFilter())
        globex_only = support.activity(connection, support.ActivityFilter(org_slug="globex"))
        mine = support.activity(connection, support.ActivityFilter(engineer_email=ENGINEER))
        viewed = support.activity(connection, support.ActivityFilter(action=auth.PAGE_VIEWED,
                                                                     support_ticket="T-42"))
        future = support.activity(connection, support.ActivityFilter(
            since=datetime.now(UTC) + timedelta(hours=1)))
        connection.rollback()
    assert sorted(everything["action"]) == sorted([
        auth.SEARCHED, auth.ACCESS_OPENED, auth.ACCESS_OPENED, auth.PAGE_VIEWED])
    assert list(globex_only["engineer_email"]) == [OTHER_ENGINEER]
    assert set(mine["action"]) == {auth.SEARCHED, auth.ACCESS_OPENED, auth.PAGE_VIEWED}
    assert list(viewed["org_slug"]) == ["acme"] and list(viewed["support_ticket"]) == ["T-42"]
    assert future.empty
    assert globex.org_id != acme.org_id


def test_customers_cannot_read_the_support_trail(console):
    admin = db.Scope(user_id=console.one("select user_id from users "
                                         "where email = 'admin@acme.example'"))
    with console.app.connect() as connection, pytest.raises(DBAPIError) as error:
        db.set_local(connection, admin.settings())
        support.activity(connection, support.ActivityFilter())
    assert error.value.orig.sqlstate == "42501"
    with console.app.connect() as connection, pytest.raises(DBAPIError) as error:
        db.set_local(connection, admin.settings())
        connection.execute(text("select * from staff_audit_events")).all()
    assert error.value.orig.sqlstate == "42501"
