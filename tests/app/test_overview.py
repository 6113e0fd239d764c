"""AppTest of the spend overview on the small seed, with rollups and invoices in place.

Figures on screen are compared with the database's own answers (raw rated usage and the
invoices), read as the schema owner, so a page that drops, double-counts or mis-rounds
anything fails here.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime

from sqlalchemy import text
from streamlit.testing.v1 import AppTest

from fleetspend import rollups
from fleetspend.money import dollars
from fleetspend.reads import freshness, readmodels
from tests.app.conftest import MEMBER, acme_org_id, as_read, raw_cents


def _metric(app: AppTest, starts: str):
    return next(metric for metric in app.metric if as_read(metric.label).startswith(starts))


def test_overview_figures_equal_the_database(open_page, spend_url, spend_engine):
    org_id = acme_org_id(spend_engine)
    app = open_page(spend_url, "overview").run()
    assert not app.exception, app.exception
    # usage of the small seed is complete through 2026-11-26 00:00: November is in progress
    assert "As of 2026-11-26 00:00 UTC" in as_read(app.caption[0].value)
    with spend_engine.connect() as connection:
        draft = connection.execute(text(
            "select invoice_number, total_cents from invoices where org_id = :org and "
            "period_start_date = '2026-11-01'"), {"org": org_id}).one()
        october_days = readmodels.spend_by_period(connection, org_id, date(2026, 10, 1),
                                                  date(2026, 10, 26))
    # the month to date and the upcoming invoice (drafted after the last usage) are one number
    month = _metric(app, "Month to date (estimated)")
    invoice = _metric(app, f"Invoice {draft.invoice_number} (draft)")
    assert month.value == invoice.value == dollars(draft.total_cents)
    # October is invoiced: its days carry the invoice's cents, a few from the rated usage
    same_point = _metric(app, "Same point last month")
    october_cents = int(october_days.amount_cents.sum())
    assert same_point.value == dollars(october_cents)
    assert abs(october_cents - raw_cents(spend_engine, org_id, date(2026, 10, 1),
                                         date(2026, 10, 26))) < 100
    forecast = _metric(app, "Forecast to month end")
    assert forecast.value.startswith("$")
    # the seed's runaway app and region migration are flagged with what changed
    warnings = " ".join(w.value for w in app.warning)
    assert "moved from" in warnings and "peaking at" in warnings
    assert app.caption[-1].value.startswith(("Data ", "Live data;", "Copy of the data"))


def test_a_member_sees_spend_but_not_the_invoice(open_page, spend_url):
    app = open_page(spend_url, "overview", email=MEMBER).run()
    assert not app.exception, app.exception
    assert _metric(app, "Upcoming invoice").value == "admins only"
    assert _metric(app, "Month to date").value.startswith("$")


def test_clicking_a_top_app_opens_the_explorer_filtered_to_it(open_page, spend_url,
                                                              spend_engine):
    app = open_page(spend_url, "overview").run()
    with spend_engine.connect() as connection:
        app_id = connection.execute(text(
            "select app_id from rollup_usage_monthly join organizations using (org_id) "
            "where slug = 'acme' and month_date = '2026-11-01' "
            "group by app_id order by sum(amount_precise) desc limit 1")).scalar_one()
    app.session_state["overview_top_app"] = {
        "selection": {"points": [{"customdata": [str(app_id)]}], "point_indices": [0],
                      "box": [], "lasso": []}}
    app.run()
    assert not app.exception, app.exception
    assert app.query_params["app"] == [str(app_id)] or app.query_params["app"] == str(app_id)
    assert app.title[0].value == "Usage explorer"


def test_database_failure_shows_a_reference_and_no_figures(open_page, spend_url, server_url):
    app = open_page(spend_url, "overview")
    app.run()
    assert not app.exception
    broken = server_url.rsplit("/", 1)[0] + "/database_that_does_not_exist"
    if "?" in server_url:
        broken += "?" + server_url.split("?", 1)[1]
    failing = open_page(broken, "overview").run()
    assert not failing.exception
    assert "reference" in failing.error[0].value
    assert len(failing.metric) == 0


def test_a_replica_cut_off_from_the_primary_puts_a_warning_on_the_page(open_page, spend_url,
                                                                       monkeypatch):
    # the state a cut-off replica reports (tests/db/test_replica.py produces it for real)
    read = freshness.read_org_freshness

    def cut_off(connection, org_id):
        org = read(connection, org_id)
        return replace(org, fresh=replace(
            org.fresh, is_replica=True, is_receiving=False, lag_seconds=7200.0, lag_bytes=0,
            last_replayed_at=datetime(2026, 12, 5, 7, 0, tzinfo=UTC)))

    monkeypatch.setattr(freshness, "read_org_freshness", cut_off)
    app = open_page(spend_url, "overview").run()
    assert not app.exception, app.exception
    assert any(warning.value.startswith("These figures may be out of date: the replica serving "
                                        "this page is not receiving changes from the primary")
               for warning in app.warning)
    assert app.caption[-1].value.startswith("Copy of the data not receiving updates; it is "
                                            "7200 s old")


def test_usage_newer_than_the_upcoming_invoice_makes_the_month_to_date_an_estimate_of_its_own(
        open_page, spend_url, spend_engine):
    org_id = acme_org_id(spend_engine)
    with spend_engine.begin() as connection:
        connection.execute(text(
            "update machine_usage set runtime_seconds = runtime_seconds / 2 "
            "where org_id = :org and hour_at = '2026-11-20T10:00Z'"), {"org": org_id})
    rollups.refresh(spend_engine)
    app = open_page(spend_url, "overview").run()
    assert not app.exception, app.exception
    month = _metric(app, "Month to date (estimated)")
    assert month.value == dollars(raw_cents(spend_engine, org_id, date(2026, 11, 1),
                                            date(2026, 11, 26)))
    assert any("Drafted before the latest usage" in caption.value for caption in app.caption)
