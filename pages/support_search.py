"""Search: organizations, invoices, apps and machines across every organization; each match
says what it is and where it belongs, and opens its organization under a support grant."""

from datetime import UTC, datetime

import streamlit as st

from fleetspend.reads import support
from fleetspend.ui import access, console, database, url_state
from fleetspend.ui.errors import database_errors_stop_the_page
from fleetspend.ui.untrusted import md, md_format

FORM_KEY = "support_search_form"
QUERY_KEY = "support_search_query"
QUERY_PARAM = "q"

visit = access.require(access.SUPPORT_CONSOLE, "support_search")
st.title("Search")
st.caption("Find an organization by slug or name, an invoice by number, an app by name or a "
           "machine by id, in every organization, by exact value or prefix. Results show only "
           "what matched and where it belongs; opening its organization takes a support "
           "grant, with a ticket and a reason. Every search is recorded.")

reader = url_state.reader()
term = reader.text(QUERY_PARAM, support.MAX_SEARCH_LENGTH)
url_state.show_notices(reader.notices)
with st.form(FORM_KEY):
    typed = st.text_input("Slug, name, invoice number or machine id", value=term, key=QUERY_KEY,
                          placeholder="acme · FS-202610-000001 · checkout · 3d8f0a")
    if st.form_submit_button("Search", type="primary", icon=":material/search:"):
        st.query_params[QUERY_PARAM] = typed.strip()
        st.rerun()
if not term:
    st.info("Type at least two characters of a slug, name, invoice number or machine id.",
            icon=":material/search:")
    st.stop()

try:
    with database_errors_stop_the_page("the search"):
        hits = support.search(database.primary(), visit.caller, term)
except support.SupportError as error:
    st.warning(md(f"{str(error).capitalize()}."), icon=":material/warning:")
    st.stop()
if not hits:
    st.info(md_format("Nothing in any organization matches {term!r}.", term=term),
            icon=":material/search_off:")
    st.stop()

now = datetime.now(UTC)
active = {grant.org_id: grant for grant in visit.grants if grant.is_active(now)}
for kind, label in support.KINDS.items():
    matches = [hit for hit in hits if hit.kind == kind]
    if not matches:
        continue
    st.subheader(md_format("{label}s ({count})", label=label, count=len(matches)))
    if len(matches) == support.RESULTS_PER_KIND:
        st.caption(md_format("The first {count}, exact matches first: type more to narrow "
                             "them down.", count=support.RESULTS_PER_KIND))
    for hit in matches:
        page, params = console.target(kind, hit.identifier)
        described = " · ".join(part for part in (
            md_format("{label} **{identifier}**", label=label, identifier=hit.identifier),
            md(hit.label) if hit.label else "",
            md_format("in {name} ({slug})", name=hit.org_name, slug=hit.org_slug),
            "exact match" if hit.is_exact else "prefix match",
        ) if part)
        with st.container(horizontal=True, vertical_alignment="center"):
            st.markdown(described)
            grant = active.get(hit.org_id)
            if grant is not None:
                st.page_link(page, label=f"Open under grant {grant.grant_id}",
                             icon=":material/open_in_new:",
                             query_params={access.GRANT_PARAM: str(grant.grant_id), **params})
            else:
                st.page_link(console.SUPPORT_PAGE, label="Open with a support grant",
                             icon=":material/lock_open:",
                             query_params={console.OPEN_PARAM: hit.org_slug,
                                           console.THEN_PARAM: kind, **params})
