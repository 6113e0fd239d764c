"""AppTest of the team comparison on the billed small seed: sums, the database, access, URL."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from urllib.parse import parse_qsl

from sqlalchemy import text

from fleetspend.money import dollars
from tests.app.conftest import MEMBER, acme_org_id, as_read, shown_cents

OCTOBER = {"from": "2026-10-01", "to": "2026-10-31"}
ROLE_REFUSED = "Your role does not give you access to this page."


def _notices(app) -> list[str]:
    """The page's notices about its link (the demo-mode banner is a warning too)."""
    return [w.value for w in app.warning if w.icon == ":material/link_off:"]


def _team_cents_on_the_invoice(engine, org_id: int, month: date) -> dict[str, int]:
    """Each team's cents on the month's invoice: its apps' allocations."""
    with engine.connect() as connection:
        rows = connection.execute(text(
            "select cast(apps.team_id as text), sum(invoice_allocations.amount_cents) "
            "from invoice_allocations join invoices using (org_id, invoice_id) "
            "join apps on apps.org_id = invoice_allocations.org_id "
            "and apps.app_id = invoice_allocations.app_id "
            "where invoices.org_id = :org and invoices.period_start_date = :month "
            "group by 1"), {"org": org_id, "month": month}).all()
    return {team: int(cents) for team, cents in rows}


def test_teams_add_up_to_the_organization_and_equal_the_database(open_page, spend_url,
                                                                 spend_engine):
    app = open_page(spend_url, "teams", **OCTOBER).run()
    assert not app.exception, app.exception
    org_id = acme_org_id(spend_engine)
    expected = shown_cents(spend_engine, org_id, date(2026, 10, 1), date(2026, 11, 1))
    previous = shown_cents(spend_engine, org_id, date(2026, 8, 31), date(2026, 10, 1))
    assert app.metric[0].value == dollars(expected)
    assert app.metric[1].value == dollars(previous)

    table = app.dataframe[0].value
    teams, total = table.iloc[:-1], table.iloc[-1]
    assert total["Team"] == "Total"
    assert len(teams) >= 2
    assert total["Spend (USD)"] == Decimal(expected) / 100
    assert sum(teams["Spend (USD)"]) == total["Spend (USD)"]
    assert sum(teams["Previous period (USD)"]) == Decimal(previous) / 100
    assert sum(teams["Share (%)"]) == Decimal("100.00")
    # October is invoiced: each team shows exactly its apps' cents on the invoice
    by_team = _team_cents_on_the_invoice(spend_engine, org_id, date(2026, 10, 1))
    for row in teams.itertuples():
        assert int(row[3] * 100) == by_team.get(row[2], 0), row
    with spend_engine.connect() as connection:
        seconds = connection.execute(text(
            "select sum(runtime_seconds) from machine_usage where org_id = :org "
            "and hour_at >= '2026-10-01T00:00Z' and hour_at < '2026-11-01T00:00Z'"),
            {"org": org_id}).scalar_one()
    assert total["Machine-hours"] == (Decimal(seconds) / 3600).quantize(Decimal("0.01"))


def test_the_export_is_the_table_shown(open_page, spend_url):
    app = open_page(spend_url, "teams", **OCTOBER).run()
    exported = app.get("download_button")[0]
    assert exported.proto.label == "Download the comparison (CSV)"
    assert not _notices(app)


def test_a_member_who_is_not_an_admin_cannot_open_the_page(open_page, spend_url):
    app = open_page(spend_url, "teams", email=MEMBER, **OCTOBER).run()
    assert not app.exception
    assert [e.value for e in app.error] == [ROLE_REFUSED]
    assert len(app.dataframe) == 0 and len(app.metric) == 0


def test_a_team_drills_into_its_apps_which_add_up_to_it(open_page, spend_url):
    app = open_page(spend_url, "teams", **OCTOBER).run()
    first = app.dataframe[0].value.iloc[0]
    team_id = first["Team id"]
    app = open_page(spend_url, "teams", team=team_id, **OCTOBER).run()
    assert not app.exception, app.exception
    assert app.subheader[-1].value == f"Apps of {first['Team']}"
    apps = app.dataframe[1].value
    assert apps.iloc[-1]["App"] == "Total"
    assert apps.iloc[-1]["Spend (USD)"] == first["Spend (USD)"]
    assert sum(apps.iloc[:-1]["Spend (USD)"]) == first["Spend (USD)"]
    assert sum(apps.iloc[:-1]["Previous period (USD)"]) == first["Previous period (USD)"]
    links = {link.proto.label: link.proto.page for link in app.get("page_link")}
    explorer = links[f"{first['Team']} in the usage explorer"]
    assert "explorer" in explorer
    assert app.query_params["team"] == [team_id] or app.query_params["team"] == team_id


def test_bad_parameters_fall_back_with_a_notice(open_page, spend_url):
    app = open_page(spend_url, "teams", team="99999", grain="hour", **{
        "from": "2026-10-31", "to": "2026-10-01"}).run()
    assert not app.exception, app.exception
    notices = "\n".join(_notices(app))
    assert "team='99999'" in notices and "grain='hour'" in notices
    assert "a period runs forward" in notices
    assert len(app.dataframe) == 1  # the comparison of the default period, no team's apps
    assert "team" not in app.query_params


def test_dates_without_spend_show_an_empty_state(open_page, spend_url):
    app = open_page(spend_url, "teams", **{"from": "2020-01-01", "to": "2020-01-31"}).run()
    assert not app.exception, app.exception
    assert any("nothing to compare" in i.value for i in app.info)
    assert len(app.dataframe) == 0 and len(app.metric) == 0


def test_a_click_on_a_team_in_the_trend_opens_its_apps_and_back_closes_them(open_page,
                                                                           spend_url):
    app = open_page(spend_url, "teams", **OCTOBER).run()
    first = app.dataframe[0].value.iloc[0]
    app.session_state["teams_trend"] = {
        "selection": {"points": [{"customdata": [first["Team id"]]}]}}
    app.run()
    assert not app.exception, app.exception
    assert app.subheader[-1].value == f"Apps of {first['Team']}"
    assert first["Team id"] in app.query_params["team"]
    app.button(key="teams_clear").click().run()
    assert not app.exception, app.exception
    assert "team" not in app.query_params
    assert not any(s.value.startswith("Apps of ") for s in app.subheader)


def test_a_team_s_invoice_link_opens_the_invoice_narrowed_to_its_apps_and_its_share(
        open_page, invoiced_database_url):
    app = open_page(invoiced_database_url, "teams", **OCTOBER).run()
    first = app.dataframe[0].value.iloc[0]
    app = open_page(invoiced_database_url, "teams", team=first["Team id"], **OCTOBER).run()
    assert not app.exception, app.exception
    (link,) = [link.proto for link in app.get("page_link")
               if "apps on invoice" in as_read(link.proto.label)]
    assert "invoice_apps" in link.page
    query = dict(parse_qsl(link.query_string))
    assert query["team"] == str(first["Team id"])

    apps = open_page(invoiced_database_url, "invoice_apps", **query).run()
    assert not apps.exception, apps.exception
    shown = next(frame.value for frame in apps.dataframe if frame.key == "invoice_apps_table")
    assert set(shown.team_name) == {first["Team"]}
    amount = next(metric.value for metric in apps.metric if metric.label == "Amount")
    # the team's share of the invoice, the same cents as on the team comparison
    assert amount == f"${first['Spend (USD)']:,.2f}"
    assert sum(shown.amount) == first["Spend (USD)"]
    assert any("Filtered to" in as_read(text.value) for text in apps.markdown)
    (every,) = [link.proto for link in apps.get("page_link")
                if as_read(link.proto.label) == "Show every team's apps"]
    assert "team" not in dict(parse_qsl(every.query_string))
    assert dict(parse_qsl(every.query_string))["invoice"] == query["invoice"]
