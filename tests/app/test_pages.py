"""AppTest runs of the pages against a real seeded database."""

import pytest
from sqlalchemy import text
from streamlit.testing.v1 import AppTest

from fleetspend import db, schema


@pytest.fixture
def app_on(monkeypatch):
    """Point the app at a database and clear the process-wide engines around each test."""

    def configure(url: str) -> AppTest:
        monkeypatch.setenv("DATABASE_URL", url)
        monkeypatch.setenv("REPLICA_URLS", "")
        db.primary_engine.cache_clear()
        db.read_engine.cache_clear()
        return AppTest.from_file(str(schema.PROJECT_ROOT / "app.py"), default_timeout=30)

    yield configure
    db.primary_engine.cache_clear()
    db.read_engine.cache_clear()


def test_organizations_page_shows_every_organization_with_its_counts(app_on, seeded_database_url,
                                                                   seeded_engine):
    app = app_on(seeded_database_url).run()
    assert not app.exception
    with seeded_engine.connect() as connection:
        expected = connection.execute(text(
            "select organizations.slug, count(machines.machine_id) as machines "
            "from organizations left join machines using (org_id) group by organizations.slug"
        )).all()
    shown = app.dataframe[0].value
    assert dict(zip(shown["slug"], shown["machines"], strict=True)) == dict(expected)
    assert app.metric[0].value == str(len(expected))


def test_empty_database_shows_how_to_load_data(app_on, database_url):
    app = app_on(database_url).run()
    assert not app.exception
    assert "no organizations yet" in app.info[0].value
    assert len(app.dataframe) == 0


def test_database_failure_shows_reference_and_no_numbers(app_on, server_url):
    broken = server_url.rsplit("/", 1)[0] + "/database_that_does_not_exist"
    if "?" in server_url:
        broken += "?" + server_url.split("?", 1)[1]
    app = app_on(broken).run()
    assert not app.exception
    assert "quote reference" in app.error[0].value
    assert len(app.metric) == 0 and len(app.dataframe) == 0
