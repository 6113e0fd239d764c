"""Scopes, roles and menus without a database; the settings that keep pages safe."""

from __future__ import annotations

import re
import subprocess
import tomllib
from datetime import UTC, datetime, timedelta
from urllib.parse import quote

import pytest

from fleetspend import auth, db, schema
from fleetspend.ui import access, frame

CUSTOMER = auth.Caller("user", 7, "Dev", "dev@acme.example")
ENGINEER = auth.Caller("staff", 3, "Support", "support1@fleetspend.example")
NOW = datetime(2026, 11, 27, 12, tzinfo=UTC)
GRANT = auth.SupportGrant(41, 1, "Acme", "T-1", "dispute", NOW - timedelta(minutes=5),
                          NOW + timedelta(hours=1))
ACME_ADMIN = auth.Membership(1, "acme", "Acme", auth.ADMIN)
ACME_MEMBER = auth.Membership(1, "acme", "Acme", auth.MEMBER)


def test_a_customer_scope_names_the_user_and_never_a_grant():
    assert auth.scope_for(CUSTOMER).settings() == {
        "fleetspend.org_ids": "", "fleetspend.user_id": "7", "fleetspend.staff_user_id": "",
        "fleetspend.grant_id": ""}
    assert auth.scope_for(CUSTOMER, org_id=2).org_ids == (2,)
    with pytest.raises(auth.AccessRefusedError):
        auth.scope_for(CUSTOMER, grant=GRANT)


def test_an_engineer_scope_opens_only_the_grants_organization():
    assert auth.scope_for(ENGINEER) == db.Scope(staff_user_id=3)
    assert auth.scope_for(ENGINEER, grant=GRANT) == db.Scope(org_ids=(1,), staff_user_id=3,
                                                             grant_id=41)
    with pytest.raises(auth.AccessRefusedError):
        auth.scope_for(ENGINEER, grant=GRANT, org_id=2)


def test_grants_expire():
    assert GRANT.is_active(NOW)
    assert not GRANT.is_active(GRANT.expires_at)


VISITS = {
    "member": access.Visit(CUSTOMER, [ACME_MEMBER], membership=ACME_MEMBER),
    "admin": access.Visit(CUSTOMER, [ACME_ADMIN], membership=ACME_ADMIN),
    "no membership": access.Visit(CUSTOMER),
    "engineer": access.Visit(ENGINEER, grants=[GRANT]),
    "engineer under grant": access.Visit(ENGINEER, grants=[GRANT], grant=GRANT),
}


@pytest.mark.parametrize(("who", "allowed"), [
    ("member", {access.USAGE}),
    ("admin", {access.USAGE, access.BILLING, access.OVERSIGHT}),
    ("no membership", set()),
    ("engineer", {access.SUPPORT_CONSOLE}),
    ("engineer under grant", {access.USAGE, access.BILLING, access.SUPPORT_CONSOLE,
                              access.SUPPORT_CASE}),
])
def test_what_each_role_may_use(who, allowed):
    needs = {access.USAGE, access.BILLING, access.OVERSIGHT, access.SUPPORT_CONSOLE,
             access.SUPPORT_CASE}
    assert {need for need in needs if VISITS[who].may(need)} == allowed


@pytest.mark.parametrize(("who", "pages", "hidden"), [
    ("member", {"overview", "explorer", "budgets", "alerts"},
     {"members", "invoices", "support_access_log", "support", "alert_settings"}),
    ("admin", {"overview", "explorer", "members", "teams", "invoices", "support_access_log",
               "budgets", "alerts", "alert_settings"},
     {"support"}),
    ("engineer", {"support", "support_search", "support_audit"},
     {"overview", "members", "invoices", "support_access_log"}),
    ("engineer under grant", {"support", "support_search", "support_audit", "overview",
                              "members", "invoices", "budgets"},
     {"support_access_log", "alerts", "alert_settings"}),
])
def test_the_menu_shows_what_the_role_may_use(who, pages, hidden):
    listed = {re.sub(r"^pages/|\.py$", "", path)
              for entries in frame.menu_sections(VISITS[who]).values()
              for path, _title, _icon in entries}
    assert pages <= listed
    assert not hidden & listed


@pytest.mark.parametrize("who", list(VISITS))
def test_every_page_not_in_the_menu_is_reached_by_links(who):
    listed = {page for entries in frame.menu_sections(VISITS[who]).values() for page in entries}
    hidden = set(frame.hidden_pages(VISITS[who]))
    assert hidden == set(frame.PRODUCT_PAGES) - listed
    assert {path for path, _title, _icon in listed | hidden} == {
        f"pages/{page.name}" for page in (schema.PROJECT_ROOT / "pages").glob("*.py")
        if page.name != "sign_in.py"}


def test_nobody_signed_in_sees_only_sign_in():
    assert frame.menu_sections(None) == {"": [frame.SIGN_IN]}


@pytest.mark.parametrize(("value", "on"), [
    (None, False), ("", False), ("0", False), ("yes", False), ("1", True), ("true", True),
])
def test_demo_mode_is_on_only_when_explicitly_configured(monkeypatch, value, on):
    if value is None:
        monkeypatch.delenv(access.DEMO_MODE_ENV, raising=False)
    else:
        monkeypatch.setenv(access.DEMO_MODE_ENV, value)
    assert access.demo_mode() is on


@pytest.mark.parametrize(("claims", "allow_missing", "email"), [
    ({"email": "a@x.example", "email_verified": True}, False, "a@x.example"),
    ({"email": "a@x.example", "email_verified": "true"}, False, "a@x.example"),
    ({"email": "a@x.example"}, False, None),
    ({"email": "a@x.example", "email_verified": None}, False, None),
    ({"email": "a@x.example", "email_verified": False}, False, None),
    ({"email": "a@x.example", "email_verified": "false"}, False, None),
    ({"email": "a@x.example"}, True, "a@x.example"),
    ({"email": "a@x.example", "email_verified": False}, True, None),
    ({"email_verified": True}, True, None),
])
def test_sign_in_takes_only_an_email_the_provider_verified(monkeypatch, claims, allow_missing,
                                                           email):
    monkeypatch.setenv(access.ALLOW_MISSING_EMAIL_VERIFIED_ENV, "1" if allow_missing else "")
    assert access.verified_email(claims) == email


# the one exception: the browser-memory scripts, built from constants and a percent-encoded
# email (checked below)
BROWSER_SCRIPTS = schema.PROJECT_ROOT / "fleetspend" / "ui" / "remember.py"


def test_no_page_or_helper_can_render_raw_html():
    sources = [schema.PROJECT_ROOT / "app.py",
               *(schema.PROJECT_ROOT / "pages").glob("*.py"),
               *(path for path in (schema.PROJECT_ROOT / "fleetspend").rglob("*.py")
                 if path != BROWSER_SCRIPTS)]
    offenders = [f"{path.relative_to(schema.PROJECT_ROOT)}:{number}"
                 for path in sources
                 for number, line in enumerate(path.read_text().splitlines(), start=1)
                 if re.search(r"unsafe_allow_html|st\.html\(|components\.v1|\.html\(", line)]
    assert offenders == []


def test_the_browser_memory_scripts_interpolate_only_the_percent_encoded_email():
    interpolated = re.findall(r"\{([^{}]*)\}", BROWSER_SCRIPTS.read_text())
    names = {name.split("(")[0].split(":")[0].split("!")[0] for name in interpolated}
    # besides the email: the app's own constants, and its own page path JSON-quoted
    assert names <= {"DEMO_COOKIE", "DEMO_COOKIE_MAX_AGE_S", "RETURN_KEY", "PAGE_KEY",
                     "NARROW_PX", "page", "body", "quote", ""}
    assert "'" not in quote("o'brien\"<script>@x.example", safe="@.")


def test_streamlit_keeps_xsrf_protection_on_and_error_details_off():
    config = tomllib.loads((schema.PROJECT_ROOT / ".streamlit" / "config.toml").read_text())
    assert config["server"]["enableXsrfProtection"] is True
    assert config["client"]["showErrorDetails"] == "none"


def test_secrets_stay_out_of_git_and_the_example_configures_oidc():
    ignored = subprocess.run(["git", "check-ignore", ".streamlit/secrets.toml"],
                             cwd=schema.PROJECT_ROOT, capture_output=True, text=True)
    assert ignored.returncode == 0
    example = tomllib.loads(
        (schema.PROJECT_ROOT / ".streamlit" / "secrets.toml.example").read_text())
    assert {"redirect_uri", "cookie_secret", "client_id", "client_secret",
            "server_metadata_url"} <= set(example["auth"])
