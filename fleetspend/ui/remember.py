"""What the browser remembers across a reload and across OpenID sign-in, so links keep working.

Streamlit starts a new session (empty ``st.session_state``) on every reload and after every
``st.login`` round trip, and ``st.login`` always comes back to the app's home page (Streamlit
issue 10162). Python cannot set cookies (``st.context.cookies`` only reads them), so two small
scripts, drawn with ``st.html(..., unsafe_allow_javascript=True)``, do the remembering:

- demo mode: the person picked is kept in the cookie :data:`DEMO_COOKIE` (path ``/``, lax, a
  week), which ``st.context.cookies`` reads on the next session. It proves nothing, as demo
  mode itself proves nothing; signing out deletes it;
- OpenID: a signed-out visitor's page and query string are kept in the tab's sessionStorage
  while the provider signs them in; back on the home page, signed in, the app goes there.
  Only a same-origin path is ever followed.

A third remembers the page last shown in the tab, to close the sidebar on a narrow screen
once another page opens (Streamlit does so only for a phone's user agent, so a narrow desktop
window kept it over the page).

Nothing customer-controlled reaches these scripts: the email is percent-encoded before it
is written into one, and the page is the app's own path, JSON-quoted.
"""

from __future__ import annotations

import json
from urllib.parse import quote, unquote

import streamlit as st

DEMO_COOKIE = "fleetspend_demo_person"
DEMO_COOKIE_MAX_AGE_S = 7 * 24 * 3600
RETURN_KEY = "fleetspend_return_to"
PAGE_KEY = "fleetspend_page"
# below this width (Streamlit's "md" breakpoint) the sidebar covers the page
NARROW_PX = 768
# session flags: what this session has already told the browser
REMEMBERED_KEY = "remember_demo_written"
SIGNED_OUT_KEY = "remember_signed_out"
RETURN_CHECKED_KEY = "remember_return_checked"


def _script(body: str, *, sidebar: bool = False) -> None:
    target = st.sidebar if sidebar else st
    target.html(f"<script>{body}</script>", unsafe_allow_javascript=True)


def demo_person() -> str | None:
    """The demo person this browser picked before, unless they signed out in this session."""
    if st.session_state.get(SIGNED_OUT_KEY):
        return None
    value = st.context.cookies.get(DEMO_COOKIE)
    # (no browser behind the session, as under AppTest, means no cookies worth the name)
    return unquote(value) if isinstance(value, str) and value else None


def keep_demo_person(email: str) -> None:
    """Write the demo pick into the browser's cookie (once per session, in the sidebar)."""
    if st.session_state.get(REMEMBERED_KEY) == email or demo_person() == email:
        return
    st.session_state[REMEMBERED_KEY] = email
    _script(f"document.cookie = '{DEMO_COOKIE}={quote(email, safe='@.')}; path=/; "
            f"max-age={DEMO_COOKIE_MAX_AGE_S}; samesite=lax';", sidebar=True)


def signed_out() -> None:
    """Forget the demo pick: in this session at once, in the browser on the next run."""
    st.session_state[SIGNED_OUT_KEY] = True
    st.session_state.pop(REMEMBERED_KEY, None)


def forget_demo_person() -> None:
    """On the sign-in form after signing out: delete the browser's cookie."""
    if st.session_state.get(SIGNED_OUT_KEY):
        _script(f"document.cookie = '{DEMO_COOKIE}=; path=/; max-age=0; samesite=lax';")


def picked() -> None:
    """A new demo pick in this session: the browser's cookie counts again."""
    st.session_state.pop(SIGNED_OUT_KEY, None)


def keep_return_path() -> None:
    """On the sign-in form at a deep link: remember the page and query for after OpenID."""
    _script(f"if (location.pathname.replace(/\\/$/, '') !== '') "
            f"sessionStorage.setItem('{RETURN_KEY}', location.pathname + location.search);")


def go_to_return_path() -> None:
    """Signed in (once per session): go to the page a signed-out link asked for, if any."""
    if st.session_state.get(RETURN_CHECKED_KEY):
        return
    st.session_state[RETURN_CHECKED_KEY] = True
    _script(f"const to = sessionStorage.getItem('{RETURN_KEY}'); "
            f"sessionStorage.removeItem('{RETURN_KEY}'); "
            "if (to && to.startsWith('/') && !to.startsWith('//') "
            "&& to !== location.pathname + location.search) location.replace(to);",
            sidebar=True)


def close_sidebar_after_navigation(url_path: str) -> None:
    """On a narrow screen, close the sidebar once another page opens. The script names the
    page (``url_path``, one of the app's own), so it runs again only when the page changes;
    reruns of one page leave a sidebar the person opened alone."""
    page = json.dumps(url_path or "home")
    _script(f"if (sessionStorage.getItem('{PAGE_KEY}') !== {page}) {{ "
            f"sessionStorage.setItem('{PAGE_KEY}', {page}); "
            "const open = document.querySelector("
            "'[data-testid=\"stSidebar\"][data-collapsed=\"false\"]'); "
            "const close = document.querySelector("
            "'[data-testid=\"stSidebarCollapseButton\"] button'); "
            f"if (open && close && window.innerWidth <= {NARROW_PX}) close.click(); }}")
