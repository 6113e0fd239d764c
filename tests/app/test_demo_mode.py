"""Demo mode never shows real data: on a database holding organizations the seed did not
create, demo sign-in and demo loading refuse, in the app and in `fleetspend demo`."""

from __future__ import annotations

import os
import subprocess
import sys

from sqlalchemy import Engine
from streamlit.testing.v1 import AppTest

from fleetspend import schema
from fleetspend.ui import access
from tests.app.conftest import forget_caches
from tests.db.usage_files import make_tenant


def _configure(monkeypatch, url: str) -> None:
    monkeypatch.setenv("DATABASE_URL", url)
    for name in ("REPLICA_URLS", "APP_DATABASE_URL", "APP_REPLICA_URLS"):
        monkeypatch.setenv(name, "")
    monkeypatch.setenv(access.DEMO_MODE_ENV, "1")
    forget_caches()


def test_demo_mode_on_real_data_refuses_to_sign_anyone_in(monkeypatch, seeded_database_url,
                                                         seeded_engine: Engine):
    make_tenant(seeded_engine, "real-customer", "billing-api")
    _configure(monkeypatch, seeded_database_url)
    app = AppTest.from_file(str(schema.PROJECT_ROOT / "app.py"), default_timeout=60)
    # even a person picked earlier (a session or the demo cookie) is nobody here
    app.session_state[access.DEMO_PICK_KEY] = "admin@acme.example"
    app.run()
    assert not app.exception
    assert [error.value for error in app.error] == [access.DEMO_REFUSED]
    assert not app.selectbox and not app.button and not app.dataframe


def test_demo_mode_on_the_seeds_own_data_offers_its_people(monkeypatch, seeded_database_url):
    _configure(monkeypatch, seeded_database_url)
    app = AppTest.from_file(str(schema.PROJECT_ROOT / "app.py"), default_timeout=60).run()
    assert not app.error
    assert "Developer of acme" in app.selectbox(key="sign_in_person").options


def test_the_demo_command_refuses_a_database_holding_real_data(seeded_database_url,
                                                              seeded_engine: Engine):
    make_tenant(seeded_engine, "real-customer", "billing-api")
    environment = {**os.environ, "DATABASE_URL": seeded_database_url, "REPLICA_URLS": "",
                   access.DEMO_MODE_ENV: "1"}
    refused = subprocess.run([sys.executable, "-m", "fleetspend", "demo", "--port", "8599"],
                             env=environment, capture_output=True, text=True, timeout=120)
    assert refused.returncode != 0
    assert "demo mode refuses to run on real data" in refused.stderr
