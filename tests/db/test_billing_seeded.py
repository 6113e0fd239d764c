"""Invoicing the small seed end to end: every month of its window drafts, finalizes where the
month has ended, adds up, and re-rates to exactly the stored invoices."""

from datetime import date

from sqlalchemy import text

from fleetspend.billing.invoices import draft_month, finalize_month
from fleetspend.billing.verify import verify_month

ENDED = [date(2026, 9, 1), date(2026, 10, 1)]
UPCOMING = date(2026, 11, 1)


def test_the_small_seed_invoices_and_verifies_without_a_difference(seeded_engine):
    with seeded_engine.connect() as connection:
        orgs_with_usage = connection.execute(text(
            "select count(distinct org_id) from machine_usage "
            "where hour_at >= '2026-10-01' and hour_at < '2026-11-01'")).scalar_one()
    finalized = []
    for month in ENDED:
        finalized += finalize_month(seeded_engine, month).finalized
    upcoming = draft_month(seeded_engine, UPCOMING)
    assert len([n for n in finalized if n.startswith("FS-202610-")]) == orgs_with_usage > 0
    assert upcoming.drafted

    for month in [*ENDED, UPCOMING]:
        assert verify_month(seeded_engine, month) == [], month

    with seeded_engine.connect() as connection:
        mismatched = connection.execute(text("""
            select invoices.invoice_number
            from invoices
            left join (select org_id, invoice_id, sum(amount_cents) as cents
                       from invoice_lines group by 1, 2) as lines using (org_id, invoice_id)
            left join (select org_id, invoice_id, line_no, sum(amount_cents) as cents
                       from invoice_allocations group by 1, 2, 3) as allocated
              using (org_id, invoice_id)
            join invoice_lines
              on invoice_lines.org_id = allocated.org_id
             and invoice_lines.invoice_id = allocated.invoice_id
             and invoice_lines.line_no = allocated.line_no
            where invoices.subtotal_cents <> coalesce(lines.cents, 0)
               or invoice_lines.amount_cents <> allocated.cents
               or invoice_lines.amount_cents <> round(invoice_lines.amount_precise * 100)
        """)).scalars().all()
        months = connection.execute(text(
            "select period_start_date, status, count(*) from invoices group by 1, 2 order by 1"
        )).all()
    assert mismatched == []
    assert [(m.period_start_date, m.status) for m in months] == [
        (ENDED[0], "finalized"), (ENDED[1], "finalized"), (UPCOMING, "draft")]
