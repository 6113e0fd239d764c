"""Groups of an invoice's lines: one rule keys them (invoice_line_group_key, migration 0020),
and what each app and each resource was allocated per group is written when drafting and
equals the allocations, which billing verify proves."""

import re
from collections import defaultdict
from datetime import UTC, date, datetime

import pytest
from sqlalchemy import Connection, text

from fleetspend import models
from fleetspend.billing.invoices import draft_month
from fleetspend.billing.verify import verify_month
from fleetspend.reads import invoice_drill as drill
from tests.db.billing_builders import add_hours, machine_id, make_machine, make_org

GROUPINGS = ["product", "region", "vm_size", "line"]
SEPTEMBER = date(2026, 9, 1)


def expected_key(by: str, line) -> str:
    """The documented rule, written out independently of the SQL function."""
    return {"invoice": "", "product": line.product, "region": line.region_code or "-",
            "vm_size": line.preset_code or "-", "line": str(line.line_no)}[by]


def invoices_of(connection: Connection) -> list:
    return connection.execute(text(
        "select org_id, invoice_id, period_start_date from invoices order by invoice_id"
    )).all()


def allocated_per_group(connection: Connection, org_id: int, invoice_id: int) -> dict:
    """(group_by, group_key, app_id) -> (machines, volumes, cents), summed here in Python."""
    ids = {"org_id": org_id, "invoice_id": invoice_id}
    lines = {line.line_no: line for line in connection.execute(text(
        "select line_no, product, region_code, preset_code from invoice_lines "
        "where org_id = :org_id and invoice_id = :invoice_id"), ids)}
    resources: dict = defaultdict(set)
    cents: dict = defaultdict(int)
    for row in connection.execute(text(
            "select line_no, app_id, resource_kind, resource_id, amount_cents "
            "from invoice_allocations where org_id = :org_id and invoice_id = :invoice_id"), ids):
        for by in ["invoice", *GROUPINGS]:
            group = (by, expected_key(by, lines[row.line_no]), row.app_id)
            resources[group].add((row.resource_kind, row.resource_id))
            cents[group] += row.amount_cents
    return {group: (sum(kind == "machine" for kind, _ in held),
                    sum(kind == "volume" for kind, _ in held), cents[group])
            for group, held in resources.items()}


def stored_per_group(connection: Connection, org_id: int, invoice_id: int) -> dict:
    return {(row.group_by, row.group_key, row.app_id):
            (row.machines, row.volumes, row.amount_cents)
            for row in connection.execute(text(
                "select * from invoice_group_amounts "
                "where org_id = :org_id and invoice_id = :invoice_id"),
                {"org_id": org_id, "invoice_id": invoice_id})}


def allocated_per_resource(connection: Connection, org_id: int, invoice_id: int) -> dict:
    """(group_by, group_key, resource_id) -> (kind, app_id, lines, cents), summed in Python."""
    ids = {"org_id": org_id, "invoice_id": invoice_id}
    lines = {line.line_no: line for line in connection.execute(text(
        "select line_no, product, region_code, preset_code from invoice_lines "
        "where org_id = :org_id and invoice_id = :invoice_id"), ids)}
    summed: dict = {}
    for row in connection.execute(text(
            "select line_no, app_id, resource_kind, resource_id, amount_cents "
            "from invoice_allocations where org_id = :org_id and invoice_id = :invoice_id"), ids):
        for by in ["invoice", *GROUPINGS]:
            group = (by, expected_key(by, lines[row.line_no]), row.resource_id)
            _, _, count, cents = summed.get(group, (None, None, 0, 0))
            summed[group] = (row.resource_kind, row.app_id, count + 1, cents + row.amount_cents)
    return summed


def stored_per_resource(connection: Connection, org_id: int, invoice_id: int) -> dict:
    return {(row.group_by, row.group_key, row.resource_id):
            (row.resource_kind, row.app_id, row.lines, row.amount_cents)
            for row in connection.execute(text(
                "select * from invoice_group_resources "
                "where org_id = :org_id and invoice_id = :invoice_id"),
                {"org_id": org_id, "invoice_id": invoice_id})}


def test_every_invoice_s_group_amounts_equal_its_allocations_summed_per_app_and_resource(
        invoiced_engine):
    with invoiced_engine.connect() as connection:
        invoices = invoices_of(connection)
        assert invoices
        for invoice in invoices:
            ids = (connection, invoice.org_id, invoice.invoice_id)
            assert stored_per_group(*ids) == allocated_per_group(*ids)
            assert stored_per_resource(*ids) == allocated_per_resource(*ids)
        kinds = connection.execute(text(
            "select sum(machines), sum(volumes) from invoice_group_amounts "
            "where group_by = 'invoice'")).one()
    assert kinds[0] > 0 and kinds[1] > 0  # both kinds of resource were counted
    for month in sorted({invoice.period_start_date for invoice in invoices}):
        assert verify_month(invoiced_engine, month) == [], month


def test_drafting_writes_every_grouping_the_database_knows_and_no_other(invoiced_engine):
    """models.INVOICE_GROUPINGS is what drafting writes; the functions and check constraints
    of migration 0020 name the same groupings."""
    with invoiced_engine.connect() as connection:
        written = set(connection.execute(text(
            "select distinct group_by from invoice_group_resources")).scalars())
        summed = set(connection.execute(text(
            "select distinct sums.group_by from invoices "
            "cross join lateral invoice_group_resource_sums(org_id, invoice_id) as sums"
        )).scalars())
        checks = connection.execute(text(
            "select pg_get_constraintdef(oid) from pg_constraint "
            "where conname like '%grouping_known'")).scalars().all()
    assert written == summed == set(models.INVOICE_GROUPINGS)
    assert len(checks) == 2
    for check in checks:
        assert sorted(re.findall(r"'(\w+)'", check)) == sorted(models.INVOICE_GROUPINGS)


@pytest.mark.parametrize("by", GROUPINGS)
def test_each_grouping_s_groups_add_up_to_the_lines_and_open_with_the_same_key(
        invoiced_engine, by):
    with invoiced_engine.connect() as connection:
        invoice = invoices_of(connection)[-1]
        lines = connection.execute(text(
            "select line_no, product, region_code, preset_code, amount_cents from invoice_lines "
            "where org_id = :org_id and invoice_id = :invoice_id order by line_no"),
            {"org_id": invoice.org_id, "invoice_id": invoice.invoice_id}).all()
        expected: dict[str, int] = {}
        for line in lines:
            key = expected_key(by, line)
            expected[key] = expected.get(key, 0) + line.amount_cents
        groups = drill.line_groups(connection, invoice.org_id, invoice.invoice_id, by)
        assert dict(zip(groups["key"], groups["amount_cents"], strict=True)) == expected
        assert list(groups["key"]) == list(expected)  # in the order groups first appear
        for key, cents in expected.items():
            group = drill.Group(by, key)
            total = drill.group_total(connection, invoice.org_id, invoice.invoice_id, group)
            apps = drill.group_apps(connection, invoice.org_id, invoice.invoice_id, group)
            assert total.amount_cents == cents
            assert int(apps["amount_cents"].sum()) == cents
    if by == "vm_size":  # volumes have no VM size
        labels = dict(zip(groups["key"], groups["group"], strict=True))
        assert labels[drill.NO_VM_SIZE] == drill.NO_KEY_NAMES["vm_size"]


def test_a_redraft_rewrites_the_group_amounts_and_verify_catches_a_tampered_one(engine):
    org_id, app_id = make_org(engine, "regrouped")
    make_machine(engine, org_id, app_id, machine_id(1), "iad", "shared-cpu-1x", 256)
    add_hours(engine, org_id, machine_id(1), datetime(2026, 9, 1, tzinfo=UTC), 48,
              "shared-cpu-1x", 256)
    draft_month(engine, SEPTEMBER, "regrouped")
    make_machine(engine, org_id, app_id, machine_id(2), "lhr", "shared-cpu-2x", 512)
    add_hours(engine, org_id, machine_id(2), datetime(2026, 9, 3, tzinfo=UTC), 24,
              "shared-cpu-2x", 512)
    draft_month(engine, SEPTEMBER, "regrouped")
    with engine.connect() as connection:
        [invoice] = invoices_of(connection)
        stored = stored_per_group(connection, org_id, invoice.invoice_id)
        assert stored == allocated_per_group(connection, org_id, invoice.invoice_id)
        assert (stored_per_resource(connection, org_id, invoice.invoice_id)
                == allocated_per_resource(connection, org_id, invoice.invoice_id))
    assert stored[("invoice", "", app_id)][0] == 2
    assert {key for by, key, _ in stored if by == "region"} == {"iad", "lhr"}
    assert verify_month(engine, SEPTEMBER, "regrouped") == []

    with engine.begin() as connection:  # a draft's rows are not guarded: tamper with two
        for table in ("invoice_group_amounts", "invoice_group_resources"):
            connection.execute(text(
                f"update {table} set amount_cents = amount_cents + 1 "
                "where org_id = :org_id and group_by = 'region' and group_key = 'lhr'"),
                {"org_id": org_id})
    differences = verify_month(engine, SEPTEMBER, "regrouped")
    assert [(d.level, d.field, d.line, d.resource_id) for d in differences] == [
        ("group", "app amounts", "region lhr", str(app_id)),
        ("group", "resource amounts", "region lhr", machine_id(2)),
    ]
    assert all(d.stored != d.expected and d.is_open for d in differences)


def _listed(connection: Connection, invoice, group, *, page_size: int | None, **options) -> list:
    """Every page of the machine list, one after the other, and the first page's totals."""
    pages, page = [], 1
    while True:
        listed = drill.group_resources(connection, invoice.org_id, invoice.invoice_id, group,
                                       page=page, page_size=page_size, **options)
        pages.append(listed)
        if page >= listed.pages:
            break
        page += 1
    rows = [resource for listed in pages for resource in listed.rows["resource_id"]]
    return [rows, pages[0].match_count, pages[0].match_cents]


@pytest.mark.parametrize("by", ["invoice", "region"])
def test_the_machine_list_pages_in_the_order_asked_and_counts_and_sums_every_match(
        invoiced_engine, by):
    """Dearest first (read in the index's order, totals from the per-app amounts), by id or by
    app name, with or without an app or a search: the pages in turn are every matching
    resource once, in order, and each page carries their count and cents."""
    with invoiced_engine.connect() as connection:
        invoice = invoices_of(connection)[-1]
        ids = (connection, invoice.org_id, invoice.invoice_id)
        resources = {(group_by, key): {} for group_by, key, _ in allocated_per_resource(*ids)}
        for (group_by, key, resource_id), row in allocated_per_resource(*ids).items():
            resources[(group_by, key)][resource_id] = row  # (kind, app_id, lines, cents)
        key = next(key for group_by, key in resources if group_by == by)
        held = resources[(by, key)]
        app_id = max({row[1] for row in held.values()},
                     key=lambda app: sum(row[1] == app for row in held.values()))
        prefix = sorted(held)[len(held) // 2][:2]
        group = drill.Group(by, key)
        checked = 0
        for options, matches in [
            ({}, held),
            ({"app_id": app_id}, {rid: row for rid, row in held.items() if row[1] == app_id}),
            ({"search": prefix}, None),
        ]:
            if matches is None:  # a search: ids with the prefix, or apps whose name matches
                names = dict(connection.execute(text(
                    "select app_id, name from apps where org_id = :org_id"),
                    {"org_id": invoice.org_id}).all())
                matches = {rid: row for rid, row in held.items()
                           if rid.startswith(prefix) or prefix.lower() in names[row[1]].lower()}
            cents = sum(row[3] for row in matches.values())
            dearest = sorted(matches, key=lambda rid: (-matches[rid][3], rid))
            assert _listed(connection, invoice, group, page_size=7, sort="amount",
                           **options) == [dearest, len(matches), cents]
            assert _listed(connection, invoice, group, page_size=7, sort="resource",
                           **options) == [sorted(matches), len(matches), cents]
            by_app = _listed(connection, invoice, group, page_size=7, sort="app", **options)
            assert by_app == _listed(connection, invoice, group, page_size=None, sort="app",
                                     **options)
            assert sorted(by_app[0]) == sorted(matches)
            checked += len(matches)
        assert checked > 14  # more than one page was read
