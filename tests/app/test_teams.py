"""AppTest of the team comparison on the billed small seed: sums, the database, access, URL."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from sqlalchemy import text

from fleetspend.ui.format import dollars
from tests.app.conftest import MEMBER, acme_org_id, raw_cents

OCTOBER = {"from": "2026-10-01", "to": "2026-10-31"}
ROLE_REFUSED = "Your role does not give you access to this page."


def _notices(app) -> list[str]:
    """The page's notices about its link (the demo-mode banner is a warning too)."""
    return [w.value for w in app.warning if w.icon == ":material/link_off:"]


def _team_cents_in_database(engine, org_id: int, start: date, end: date) -> dict[str, int]:
    """Each team's spend from raw rated usage, rounded once per team."""
    with engine.connect() as connection:
        rows = connection.execute(text(
            "select cast(apps.team_id as text), round(sum(rated_usage.amount_precise) * 100) "
            "from rated_usage join apps on apps.org_id = rated_usage.org_id "
            "and apps.app_id = rated_usage.app_id where rated_usage.org_id = :org "
            "and hour_at >= cast(:start as date)::timestamp at time zone 'UTC' "
            "and hour_at < cast(:end as date)::timestamp at time zone 'UTC' group by 1"),
            {"org": org_id, "start": start, "end": end}).all()
    return {team: int(cents) for team, cents in rows}


def test_teams_add_up_to_the_organization_and_equal_the_database(open_page, spend_url,
                                                                 spend_engine):
    app = open_page(spend_url, "teams", **OCTOBER).run()
    assert not app.exception, app.exception
    org_id = acme_org_id(spend_engine)
    expected = raw_cents(spend_engine, org_id, date(2026, 10, 1), date(2026, 11, 1))
    previous = raw_cents(spend_engine, org_id, date(2026, 8, 31), date(2026, 10, 1))
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
    # each team within a cent of its own sum in the database (the split is largest remainder)
    by_team = _team_cents_in_database(spend_engine, org_id, date(2026, 10, 1),
                                      date(2026, 11, 1))
    for row in teams.itertuples():
        cents = int(row[3] * 100)
        assert abs(cents - by_team.get(row[2], 0)) <= 1, row
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
