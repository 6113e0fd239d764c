"""`fleetspend alerts run` evaluation: each threshold kind fires once, from the pages' own
figures (the invoice's cents in an invoiced month), and a budget changed mid-month counts at
its new amount."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError

from fleetspend import auth, db, forecasting
from fleetspend.alerts import budgets, evaluate, figures
from fleetspend.alerts.budgets import BudgetDraft, BudgetScope
from fleetspend.billing.invoices import finalize_month
from fleetspend.reads import spend_overview
from tests.conftest import engine_for
from tests.db.alert_builders import days_of, import_days, make_tenant

NOVEMBER = date(2026, 11, 1)


@pytest.fixture
def app_engine(database_url):
    engine = engine_for(db.as_app_role(database_url))
    yield engine
    engine.dispose()


def _month(engine, tenant, scope: BudgetScope) -> figures.ScopeMonth:
    with engine.connect() as connection:
        now = figures.usage_now(connection, tenant.org_id)
        return figures.month_spend_for_scope(connection, tenant.org_id, scope, now)


def _alerts(engine, org_id: int) -> list[tuple]:
    with engine.connect() as connection:
        return [tuple(row) for row in connection.execute(text(
            "select kind, budget_id, period_start_date, threshold_percent from alerts "
            "where org_id = :org order by alert_id"), {"org": org_id})]


def _budget(app_engine, tenant, cents: int, scope: BudgetScope | None = None, **kwargs) -> int:
    draft = BudgetDraft("Core team", scope or BudgetScope(budgets.TEAM, tenant.team_ids["core"]),
                        cents, **kwargs)
    return budgets.save_budget(app_engine, tenant.admin, tenant.org_id, draft)


def test_actual_thresholds_fire_once_each_the_highest_crossed_first(engine, app_engine,
                                                                    tmp_path):
    tenant = make_tenant(engine)
    import_days(engine, tmp_path, tenant, days_of(NOVEMBER, 17), {"web": 2, "etl": 1})
    team = BudgetScope(budgets.TEAM, tenant.team_ids["core"])
    spent = _month(engine, tenant, team).spent_cents
    # 85% spent: the 50% and 80% thresholds are crossed in one go, and only 80% says so
    budget_id = _budget(app_engine, tenant, spent * 100 // 85, forecast_thresholds=())
    assert evaluate.evaluate_all(engine).alert_ids
    assert _alerts(engine, tenant.org_id) == [("actual", budget_id, NOVEMBER, 80)]
    assert evaluate.evaluate_all(engine).alert_ids == ()
    assert len(_alerts(engine, tenant.org_id)) == 1

    import_days(engine, tmp_path, tenant, days_of(date(2026, 11, 18), 4), {"web": 2})
    evaluate.evaluate_all(engine)
    evaluate.evaluate_all(engine)
    assert _alerts(engine, tenant.org_id) == [("actual", budget_id, NOVEMBER, 80),
                                              ("actual", budget_id, NOVEMBER, 100)]
    with pytest.raises(IntegrityError), engine.begin() as connection:
        connection.execute(text(
            "insert into alerts (org_id, kind, budget_id, period_start_date, "
            "threshold_percent, title, explanation, link_page) values (:org, 'actual', "
            ":budget, '2026-11-01', 100, 'again', 'again', 'pages/explorer.py')"),
            {"org": tenant.org_id, "budget": budget_id})


def test_forecast_to_exceed_fires_before_the_spend_does(engine, app_engine, tmp_path):
    tenant = make_tenant(engine)
    import_days(engine, tmp_path, tenant, days_of(NOVEMBER, 12), {"web": 1})
    team = BudgetScope(budgets.TEAM, tenant.team_ids["core"])
    month = _month(engine, tenant, team)
    assert month.forecast is not None and not month.is_invoiced
    # 12 of 30 days spent at a steady rate: 40% now, 100% forecast for a budget of the
    # forecast's amount; alerts on forecast only
    budget_id = _budget(app_engine, tenant, month.forecast.expected_cents,
                        actual_thresholds=(50,), forecast_thresholds=(100,))
    evaluate.evaluate_all(engine)
    assert _alerts(engine, tenant.org_id) == [("forecast", budget_id, NOVEMBER, 100)]
    with engine.connect() as connection:
        explanation = connection.execute(text("select explanation from alerts")).scalar_one()
    assert "recent daily rate" in explanation and "Core team" not in explanation
    import_days(engine, tmp_path, tenant, days_of(date(2026, 11, 13), 4), {"web": 1})
    evaluate.evaluate_all(engine)
    assert _alerts(engine, tenant.org_id)[1:] == [("actual", budget_id, NOVEMBER, 50)]


def test_a_budget_changed_mid_month_counts_at_its_new_amount(engine, app_engine, tmp_path):
    tenant = make_tenant(engine)
    import_days(engine, tmp_path, tenant, days_of(NOVEMBER, 10), {"web": 1, "etl": 1})
    app = BudgetScope(budgets.APP, app_id=tenant.app_ids["etl"])
    spent = _month(engine, tenant, app).spent_cents
    draft = BudgetDraft("ETL", app, spent * 4, forecast_thresholds=())
    budget_id = budgets.save_budget(app_engine, tenant.admin, tenant.org_id, draft)
    evaluate.evaluate_all(engine)
    assert _alerts(engine, tenant.org_id) == []
    # lowered for November only: 60% of the new amount is spent
    lowered = BudgetDraft("ETL", app, spent * 4, forecast_thresholds=(),
                          month_amounts={NOVEMBER: spent * 100 // 60})
    budgets.save_budget(app_engine, tenant.admin, tenant.org_id, lowered, budget_id)
    evaluate.evaluate_all(engine)
    assert _alerts(engine, tenant.org_id) == [("actual", budget_id, NOVEMBER, 50)]
    with engine.connect() as connection:
        row = connection.execute(text("select spent_cents, budget_cents from alerts")).one()
        events = connection.execute(text(
            "select action, actor_id, detail -> 'before' ->> 'amount_cents', "
            "detail -> 'after' -> 'month_amounts' ->> '2026-11-01' from audit_events "
            "where action like 'budget.%' order by audit_event_id")).all()
    assert tuple(row) == (spent, spent * 100 // 60)
    assert [tuple(event) for event in events] == [
        ("budget.created", tenant.admin.actor_id, None, None),
        ("budget.changed", tenant.admin.actor_id, str(spent * 4), str(spent * 100 // 60))]
    # raised again: what fired stays, nothing fires twice
    budgets.save_budget(app_engine, tenant.admin, tenant.org_id, draft, budget_id)
    evaluate.evaluate_all(engine)
    assert _alerts(engine, tenant.org_id) == [("actual", budget_id, NOVEMBER, 50)]


def test_a_month_without_an_invoice_reads_what_the_overview_shows(engine, tmp_path):
    tenant = make_tenant(engine)
    import_days(engine, tmp_path, tenant, days_of(NOVEMBER, 15), {"web": 2, "etl": 1})
    whole = _month(engine, tenant, BudgetScope(budgets.ORGANIZATION))
    with engine.connect() as connection:
        overview = spend_overview.read_overview(connection, tenant.org_id, may_see_invoices=True)
    assert not whole.is_invoiced
    assert whole.spent_cents == overview.month_cents > 0
    assert whole.forecast == overview.forecast
    teams = [_month(engine, tenant, BudgetScope(budgets.TEAM, team_id)).spent_cents
             for team_id in tenant.team_ids.values()]
    assert abs(sum(teams) - whole.spent_cents) <= 1  # each rounded once


def test_an_invoiced_month_reads_the_invoices_cents(engine, app_engine, tmp_path):
    tenant = make_tenant(engine)
    import_days(engine, tmp_path, tenant, days_of(NOVEMBER, 30), {"web": 2, "etl": 1})
    estimated = _month(engine, tenant, BudgetScope(budgets.ORGANIZATION))
    assert estimated.month_start == NOVEMBER and not estimated.is_invoiced
    finalize_month(engine, NOVEMBER, now=datetime(2026, 12, 1, 6, tzinfo=UTC))
    with engine.connect() as connection:
        subtotal = connection.execute(text(
            "select subtotal_cents from invoices where org_id = :org"),
            {"org": tenant.org_id}).scalar_one()
        by_team = dict(connection.execute(text(
            "select apps.team_id, sum(amount_cents) from invoice_allocations "
            "join apps using (org_id, app_id) where org_id = :org group by 1"),
            {"org": tenant.org_id}).all())
    whole = _month(engine, tenant, BudgetScope(budgets.ORGANIZATION))
    core = _month(engine, tenant, BudgetScope(budgets.TEAM, tenant.team_ids["core"]))
    assert whole.is_invoiced and whole.spent_cents == subtotal
    assert core.is_invoiced and core.spent_cents == by_team[tenant.team_ids["core"]]
    assert whole.forecast_cents == subtotal
    budget_id = _budget(app_engine, tenant, core.spent_cents)  # exactly 100%, invoiced
    evaluate.evaluate_all(engine)
    assert _alerts(engine, tenant.org_id) == [("actual", budget_id, NOVEMBER, 100)]
    with engine.connect() as connection:
        row = connection.execute(text("select is_invoiced, explanation from alerts")).one()
    assert row.is_invoiced and "as invoiced" in row.explanation


def test_only_an_admin_of_the_organization_changes_budgets(engine, app_engine):
    tenant = make_tenant(engine)
    other = make_tenant(engine, "globex")
    draft = BudgetDraft("All", BudgetScope(budgets.ORGANIZATION), 100_00)
    with pytest.raises(auth.AccessRefusedError):
        budgets.save_budget(app_engine, tenant.member, tenant.org_id, draft)
    with pytest.raises(auth.AccessRefusedError):
        budgets.save_budget(app_engine, other.admin, tenant.org_id, draft)
    with pytest.raises(budgets.BudgetError):  # a team of another organization
        budgets.save_budget(app_engine, tenant.admin, tenant.org_id, BudgetDraft(
            "Theirs", BudgetScope(budgets.TEAM, other.team_ids["core"]), 100_00))
    budget_id = budgets.save_budget(app_engine, tenant.admin, tenant.org_id, draft)
    with pytest.raises(auth.AccessRefusedError):
        budgets.archive_budget(app_engine, tenant.member, tenant.org_id, budget_id)
    budgets.archive_budget(app_engine, tenant.admin, tenant.org_id, budget_id)
    with engine.connect() as connection:
        actions = connection.execute(text(
            "select action from audit_events order by audit_event_id")).scalars().all()
        assert budgets.read_budgets(connection, tenant.org_id) == []
    assert actions == ["budget.created", "budget.archived"]


@pytest.mark.parametrize(("spent", "forecast", "fired", "expected"), [
    (49, 90, [], []),
    (50, 90, [], [("actual", 50)]),
    (100, 130, [], [("actual", 100)]),
    (85, 99, [("actual", 50)], [("actual", 80)]),
    (85, 99, [("actual", 80)], []),
    (60, 120, [], [("actual", 50), ("forecast", 100)]),
    (60, 120, [("forecast", 100)], [("actual", 50)]),
    (100, 120, [], [("actual", 100)]),  # spent: the forecast has nothing to add
])
def test_the_crossing_rule(spent, forecast, fired, expected):
    month = figures.ScopeMonth(NOVEMBER, date(2026, 11, 10), spent,
                               forecasting.Forecast(forecast, forecast, forecast, 7), False)
    found = evaluate.crossings(100, month, (50, 80, 100), (100,), fired)
    assert [(c.kind, c.threshold_percent) for c in found] == expected


def test_an_organization_that_fails_leaves_the_others_evaluated(engine, app_engine, tmp_path):
    tenants = [make_tenant(engine, slug) for slug in ("acme", "globex")]
    for tenant in tenants:
        import_days(engine, tmp_path, tenant, days_of(NOVEMBER, 3), {"web": 1})
        budgets.save_budget(app_engine, tenant.admin, tenant.org_id, BudgetDraft(
            "All", BudgetScope(budgets.ORGANIZATION), 1, forecast_thresholds=()))
    broken = tenants[0].org_id
    with engine.begin() as connection:  # acme's alerts cannot be written
        connection.execute(text(f"""
            create function refuse_acme() returns trigger language plpgsql as $$
            begin
                if new.org_id = {broken} then raise exception 'disk full'; end if;
                return new;
            end $$;
            create trigger refuse_acme before insert on alerts
            for each row execute function refuse_acme();"""))
    evaluation = evaluate.evaluate_all(engine)
    assert [org_id for org_id, _error in evaluation.failed] == [broken]
    assert "disk full" in evaluation.describe()
    assert _alerts(engine, broken) == []
    assert len(_alerts(engine, tenants[1].org_id)) == 1
