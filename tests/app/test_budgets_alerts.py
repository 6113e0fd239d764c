"""AppTest of the Budgets, Alerts, Alert and Alert delivery pages on the billed small seed:
an admin creates a budget (audited), evaluation fires, the inbox and the sidebar count it,
opening and acknowledging clear it; members read budgets without the form; support under a
grant reads budgets only; secrets are never shown."""

from __future__ import annotations

from sqlalchemy import text

from fleetspend import auth, db
from fleetspend.alerts import budgets, evaluate
from fleetspend.ui import budget_views
from tests.app.conftest import (
    ADMIN,
    ENGINEER,
    MEMBER,
    acme_org_id,
    forget_caches,
    open_grant,
    run_as,
)
from tests.conftest import engine_for

FORM = f"{budget_views.FORM_KEY}_0_{budget_views.NEW}"  # the first round's new budget


def _create_team_budget(app, team_id: str, amount: str) -> None:
    app.text_input(key=f"{FORM}_name").input("Mobile team")
    app.radio(key=f"{FORM}_kind").set_value("team")
    app.selectbox(key=f"{FORM}_team").set_value(team_id)
    app.text_input(key=f"{FORM}_amount").input(amount)
    app.text_input(key=f"{FORM}_forecast").input("")  # alerts on actual spend only
    app.button[[b.label for b in app.button].index("Save budget")].click().run()


def _biggest_team(engine, org_id: int) -> tuple[str, int]:
    with engine.connect() as connection:
        team_id, cents = connection.execute(text(
            "select apps.team_id, round(sum(amount_precise) * 100) from rollup_app_region_daily "
            "join apps using (org_id, app_id) where org_id = :org and usage_date >= "
            "date_trunc('month', (select max(usage_date) from rollup_app_region_daily "
            "where org_id = :org)) group by 1 order by 2 desc limit 1"), {"org": org_id}).one()
    return str(team_id), int(cents)


def test_an_admin_creates_a_budget_and_the_alert_reaches_the_inbox(monkeypatch, open_page,
                                                                     spend_url, spend_engine):
    org_id = acme_org_id(spend_engine)
    team_id, spent = _biggest_team(spend_engine, org_id)
    app = open_page(spend_url, "budgets").run()
    assert not app.exception, app.exception
    assert "No budgets yet" in app.info[0].value
    _create_team_budget(app, team_id, f"{spent / 100 / 0.85:.2f}")  # 85% spent
    assert not app.exception, app.exception
    assert [s.value for s in app.success] == ["Mobile team is saved\\."]
    assert "Mobile team" in app.markdown[0].value
    with spend_engine.connect() as connection:
        audited = connection.execute(text(
            "select action from audit_events where action like 'budget.%'")).scalars().all()
    assert audited == ["budget.created"]

    evaluate.evaluate_all(spend_engine)
    forget_caches()  # as the sidebar's count does after a few seconds
    with spend_engine.connect() as connection:
        alert_id, title = connection.execute(text(
            "select alert_id, title from alerts where kind = 'actual'")).one()
    assert title == "Mobile team: 80% of the budget spent"
    frame = run_as(monkeypatch, spend_url, None).run()  # app.py: frame, sidebar, landing page
    with spend_engine.connect() as connection:
        kinds = connection.execute(text("select kind from alerts")).scalars().all()
    assert kinds == ["actual"]
    assert any("1 unread alert" in m.value for m in frame.sidebar.markdown)
    inbox = open_page(spend_url, "alerts").run()
    assert not inbox.exception, inbox.exception
    assert title in list(inbox.dataframe[0].value.title)

    opened = open_page(spend_url, "alert", alert=str(alert_id)).run()
    assert not opened.exception, opened.exception
    assert "80% of the budget spent" in opened.title[0].value
    assert opened.subheader[0].value.startswith("Apps behind it")
    opened.button(key="alert_acknowledge").click().run()
    with spend_engine.connect() as connection:
        receipt = connection.execute(text(
            "select read_at is not null, acknowledged_at is not null from alert_receipts "
            "where alert_id = :alert"), {"alert": alert_id}).one()
    assert tuple(receipt) == (True, True)
    frame = run_as(monkeypatch, spend_url, None).run()
    assert any("0 unread alerts" in m.value for m in frame.sidebar.markdown)


def test_a_member_reads_budgets_without_the_form(open_page, spend_url, spend_engine):
    open_page(spend_url, "budgets").run()  # nothing yet; the admin's page still works
    app = open_page(spend_url, "budgets", email=MEMBER).run()
    assert not app.exception, app.exception
    assert "Create or change a budget" not in [s.value for s in app.subheader]
    settings = open_page(spend_url, "alert_settings", email=MEMBER).run()
    assert settings.error[0].value == "Your role does not give you access to this page."


def test_support_reads_budgets_under_a_grant_but_has_no_inbox(open_page, spend_url):
    grant = open_grant(spend_url)
    budgets = open_page(spend_url, "budgets", email=ENGINEER, grant=str(grant.grant_id)).run()
    assert not budgets.exception, budgets.exception
    assert not [e.value for e in budgets.error]
    assert "Create or change a budget" not in [s.value for s in budgets.subheader]
    alerts = open_page(spend_url, "alerts", email=ENGINEER, grant=str(grant.grant_id)).run()
    assert alerts.error[0].value.startswith("Alerts are each customer's own inbox")


def test_delivery_settings_save_and_never_show_a_secret(open_page, spend_url, spend_engine):
    app = open_page(spend_url, "alert_settings").run()
    assert not app.exception, app.exception
    app.text_area[0].input("ops@acme.example, Finance@Acme.example")
    app.button[0].click().run()
    app.text_input[0].input("chat")
    app.text_input[1].input("https://hooks.example/T000/B000")
    app.text_input[2].input("a-very-secret-signing-key")
    app.button[[b.label for b in app.button].index("Add webhook")].click().run()
    assert not app.exception, app.exception
    with spend_engine.connect() as connection:
        emails = connection.execute(text(
            "select email from alert_email_recipients order by email")).scalars().all()
        hooks = connection.execute(text("select name, secret from alert_webhooks")).all()
    assert emails == ["finance@acme.example", "ops@acme.example"]
    assert [tuple(hook) for hook in hooks] == [("chat", "a-very-secret-signing-key")]
    shown = [*(m.value for m in app.markdown), *(c.value for c in app.caption),
             *(s.value for s in app.success), *(d.value.to_string() for d in app.dataframe)]
    assert "a-very-secret-signing-key" not in " ".join(shown)
    assert "chat" in app.dataframe[0].value.name.tolist()


def test_budget_names_are_shown_literally(open_page, spend_url, spend_engine):
    name = "[x](https://evil.example) **bold**"
    app_engine = engine_for(db.as_app_role(spend_url))
    try:
        with app_engine.connect() as connection:
            admin = auth.identify(connection, ADMIN)
        budgets.save_budget(app_engine, admin, acme_org_id(spend_engine), budgets.BudgetDraft(
            name, budgets.BudgetScope(budgets.ORGANIZATION), 1, forecast_thresholds=()))
    finally:
        app_engine.dispose()
    evaluate.evaluate_all(spend_engine)
    with spend_engine.connect() as connection:
        alert_id = connection.execute(text("select alert_id from alerts where kind = 'actual'")
                                      ).scalar_one()
    escaped = r"\[x\]\(https\://evil\.example\) \*\*bold\*\*"
    page = open_page(spend_url, "budgets").run()
    assert not page.exception, page.exception
    assert escaped in page.markdown[0].value
    alert = open_page(spend_url, "alert", alert=str(alert_id)).run()
    assert not alert.exception, alert.exception
    assert escaped in alert.title[0].value
