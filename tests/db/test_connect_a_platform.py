"""docs/connect-a-platform.md, run verbatim from an empty database: the watched folder takes
the example's accounts and its week of usage, the month is drafted, a later accounts file
takes a member away, and the month is finalized; the figures the page states are the ones
fleetspend produces, and the files it shows are the example's files."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import text

from tests.conftest import engine_for
from tests.walkthrough import DOC, EXAMPLE, Walkthrough, blocks


@pytest.fixture
def walkthrough(empty_database_url: str, tmp_path: Path):
    walk = Walkthrough(tmp_path, empty_database_url)
    yield walk
    walk.close()


def test_the_walkthrough_shows_the_example_files_as_they_are():
    shown = blocks("json")
    for name in ("2026-11-01-accounts.jsonl", "2026-11-20-accounts.jsonl"):
        assert (EXAMPLE / name).read_text() in shown


def test_the_walkthrough_runs_from_an_empty_database_to_a_finalized_first_invoice(
        walkthrough, empty_database_url):
    walkthrough.run_steps()
    inbox = walkthrough.folder / "inbox"
    assert sorted(path.name for path in (inbox / "done").iterdir()) == [
        "2026-11-01-accounts.jsonl", "2026-11-08-usage.csv", "2026-11-20-accounts.jsonl"]
    assert not any((inbox / "failed").iterdir())
    assert walkthrough.feed_log.read_text().count(" imported in ") == 3
    assert walkthrough.skipped == ["uv run streamlit run serve.py"]

    engine = engine_for(empty_database_url)
    try:
        with engine.connect() as connection:
            invoice = connection.execute(text(
                "select invoice_number, status, total_cents, "
                "(select count(*) from invoice_lines where invoice_lines.org_id = invoices.org_id"
                " and invoice_lines.invoice_id = invoices.invoice_id) as lines "
                "from invoices join organizations using (org_id) where slug = 'lumen-labs'"
            )).one()
            removed = connection.execute(text(
                "select removed_at is not null from memberships join users using (user_id) "
                "where email = 'ben@lumen.example'")).scalar_one()
    finally:
        engine.dispose()
    assert invoice.status == "finalized" and removed
    said = DOC.read_text()
    assert f"`{invoice.invoice_number}`" in said
    assert f"**${invoice.total_cents // 100}.{invoice.total_cents % 100:02d}**" in said
    assert "nine lines" in said and invoice.lines == 9
