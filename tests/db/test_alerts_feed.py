"""The usage feed with --alerts: each imported file is followed by an alerts run in the
background, and the feed does not wait for it."""

from __future__ import annotations

import threading
from datetime import date

from sqlalchemy import text

from fleetspend import db, feed
from fleetspend.alerts import budgets
from fleetspend.alerts.budgets import BudgetDraft, BudgetScope
from fleetspend.alerts.run import AfterImports
from tests.conftest import engine_for
from tests.db import usage_files
from tests.db.alert_builders import day_records, days_of, make_tenant


def test_each_imported_file_is_followed_by_an_alerts_run(engine, database_url, tmp_path):
    tenant = make_tenant(engine)
    app_engine = engine_for(db.as_app_role(database_url))
    try:
        budgets.save_budget(app_engine, tenant.admin, tenant.org_id, BudgetDraft(
            "Everything", BudgetScope(budgets.ORGANIZATION), 100, forecast_thresholds=()))
    finally:
        app_engine.dispose()
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    usage_files.write(inbox, day_records(tenant, days_of(date(2026, 11, 1), 2), {"web": 1}))
    lines: list[str] = []
    started = threading.Event()
    after = AfterImports(engine, lines.append)
    outcomes = feed.feed_folder(engine, inbox, lines.append,
                                after_import=lambda: (started.set(), after()))
    assert [outcome.outcome for outcome in outcomes] == ["imported"]
    assert started.is_set()
    assert after.wait_idle(60)
    with engine.connect() as connection:
        fired = connection.execute(text("select kind, threshold_percent from alerts")).all()
    assert [tuple(row) for row in fired] == [("actual", 100)]
    assert any(line.startswith("alerts: evaluated 1 organizations") for line in lines)
