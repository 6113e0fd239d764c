"""The sign-in form: through the OpenID Connect provider, or in demo mode by picking a seeded
person. Drawn by the sign-in page and, for a visitor not signed in, in place of any page a
link opens, so that after signing in the same URL shows that page with its parameters."""

from __future__ import annotations

import streamlit as st

from fleetspend.seed.billing import OPEN_CASES
from fleetspend.ui import access, remember
from fleetspend.ui.demo_data import offer_demo_data
from fleetspend.ui.errors import database_errors_stop_the_page
from fleetspend.ui.untrusted import md_format

PERSON_KEY = "sign_in_person"
CONTINUE_KEY = "sign_in_continue"
OIDC_KEY = "sign_in_oidc"


def form() -> None:
    """Offer the way to sign in that is configured, or say how to configure one."""
    access.run_through_navigation()
    access.demo_banner()
    st.title("Sign in to fleetspend")
    if access.demo_mode():
        _demo_form()
    elif access.oidc_configured():
        remember.keep_return_path()
        if access.signed_in_unverified():
            st.error("Your identity provider did not confirm that your email address is yours, "
                     "so fleetspend cannot tell who you are. Verify it with the provider and "
                     "sign in again.", icon=":material/mark_email_unread:")
        st.write("Sign in with your organization's identity provider.")
        if st.button("Sign in", type="primary", icon=":material/login:", key=OIDC_KEY):
            st.login()
    else:
        st.error(
            "Sign-in is not configured. Add an [auth] section for your OpenID Connect provider "
            "to .streamlit/secrets.toml (see .streamlit/secrets.toml.example), or run the "
            "embedded demo with `fleetspend demo`.",
            icon=":material/key_off:",
        )


def _demo_form() -> None:
    remember.forget_demo_person()
    with database_errors_stop_the_page("the demo's people"):
        people = dict(access.demo_people())
    if not people:
        st.info("There is nobody to be yet: load the demo data first.", icon=":material/inbox:")
        offer_demo_data()
        st.stop()
    st.write("Pick who to be: a developer sees their organization's spend, an org admin also "
             "its invoices, teams and members, a support engineer only what a support grant "
             "opens.")
    for case in OPEN_CASES:
        if any(label.endswith(f" of {case.org_slug}") for label in people.values()):
            st.caption(md_format("Support has an open case: {org} disputes its {month:%B %Y} "
                                 "invoice (ticket {ticket}).", org=case.org_slug,
                                 month=case.month, ticket=case.ticket))
    email = st.selectbox("Person", list(people), format_func=people.__getitem__, index=None,
                         placeholder="Choose a developer, org admin or support engineer",
                         key=PERSON_KEY)
    if st.button("Continue", type="primary", disabled=email is None, key=CONTINUE_KEY):
        st.session_state[access.DEMO_PICK_KEY] = email
        remember.picked()
        st.rerun()
