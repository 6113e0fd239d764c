"""Streamlit's own JavaScript and CSS bundles, and the plotly.js bundles of the app's chart
component, sent gzip-compressed; the page sent with what its first chart needs named, and
with the server's base URL (ASGI middleware).

Streamlit serves its bundles uncompressed on purpose (its gzip middleware skips
``/static/``: compressing on every request costs the server CPU, and it expects a proxy in
front to compress). A fresh browser session fetches 7.6 MB of them for the overview, 4.7 MB
of which is the Plotly chunk; gzip makes that 1.4 MB (measured on the 1.67 bundles). The
bundles' names carry their content hash, so each is compressed once, on its first request,
and kept in memory (all 320 of them compressed: 6.9 MB); later requests cost a dictionary
look-up. The chart component's plotly.js bundles (``fleetspend/ui/plotly_chart``, served by
Streamlit uncompressed at ``_stcore/bidi-components/``) carry their version in their names and
are treated the same: 1.2 MB and 1.4 MB, 0.40 and 0.46 MB compressed. Anything else (the page,
the websocket, the component's own script, the app's ``app/static`` files) passes through
untouched, and so does a request whose browser does not accept gzip.

The page (any HTML response) names in a ``Link`` header what its first chart will need, so the
browser fetches it while it starts Streamlit instead of after the chart's element arrives:
plotly.js's basic bundle (``rel=preload``: fetched, not run), the component's script and
Streamlit's chunk that mounts components (``rel=modulepreload``). Session 12 measured it A/B
(docs/scaling.md, "Where it stands (session 12)"). Nothing is run early: Streamlit's full Plotly
chunk preloaded as a module (sessions 7-9), or the basic bundle run by a ``defer`` script
(session 12), compiled on the same two cores while the page's own bundles started, and
delayed the heading and the first chart.

The page also starts with a script that sets Streamlit's embedding settings
(``window.__streamlit``) to the server's base URL, as the browser's address without the page's
path that the server saw. Without it Streamlit's frontend guesses: on any page but the
default one (``/explorer``) it first asks ``/explorer/_stcore/health``, gets a 404 and waits
100 ms before it asks ``/_stcore/health`` and connects; 100 ms of every fresh visit to such a
page (docs/scaling.md, session 14). To add the script the page is asked of Streamlit whole
and uncompressed, and compressed here.
"""

from __future__ import annotations

import asyncio
import gzip
import json
import mimetypes
import re
from pathlib import Path

from starlette.middleware import Middleware
from starlette.types import ASGIApp, Message, Receive, Scope, Send
from streamlit import config, file_util

# a bundle's path under Streamlit's static directory: one folder, one plain file name, so
# nothing outside the directory can be named (this runs before Streamlit's path checks)
BUNDLE_PATH = re.compile(r"/(?P<name>static/(?:js|css)/[A-Za-z0-9_.-]+\.(?:js|css))")
# a plotly.js bundle of the chart component, by its versioned name, in its asset directory
CHART_BUNDLE_PATH = re.compile(
    r"/_stcore/bidi-components/fleetspend\.plotly_chart/(?P<name>plotly-[a-z]+-[0-9.]+\.min\.js)")
CHART_DIR = Path(__file__).resolve().parent / "plotly_chart"
# where Streamlit serves the component's files, relative to the page
CHART_URL = "./_stcore/bidi-components/fleetspend.plotly_chart"
# a page's path after the server's base path: the default page, or one of the app's pages
PAGE_PATH = re.compile(r"/?|/[A-Za-z0-9_-]+/?")
# what Streamlit's frontend reads before it connects (window.__streamlit, its embedding
# settings): the server's base URL, so that it does not first try the page's own path
BASE_URL_SCRIPT = ("<script>(function(){var p=location.pathname,s=__PAGE__;if(p.endsWith(s))"
                   "window.__streamlit={BACKEND_BASE_URL:location.origin+"
                   "p.slice(0,p.length-s.length)}})()</script>")
# a page request's headers that would have Streamlit send it compressed or not at all (304)
_PAGE_REQUEST_DROPPED = {b"accept-encoding", b"if-none-match", b"if-modified-since"}
# a rewritten page's headers that no longer describe it (it is sent whole, fetched again)
_PAGE_RESPONSE_DROPPED = {b"content-length", b"content-encoding", b"vary", b"etag",
                          b"last-modified"}
# level 6: 1.42 MB for the Plotly chunk in 0.3 s, once; level 9 saves 0.2% for 35% more time
GZIP_LEVEL = 6
# a year, as Streamlit says for the same files: their names change with their content
CACHE_CONTROL = b"public, immutable, max-age=31536000"


class CompressedBundles:
    """ASGI middleware: GET or HEAD of a Streamlit bundle or a chart bundle, from a browser
    that accepts gzip, is answered with the bundle compressed (and cached compressed); a page
    is sent with the preloads' Link header, and a GET of one with the base URL script too; all
    else passes on."""

    def __init__(self, app: ASGIApp, static_dir: str | None = None,
                 chart_dir: str | None = None) -> None:
        self.app = app
        static = Path(static_dir or file_util.get_static_dir()).resolve()
        chart = Path(chart_dir or CHART_DIR).resolve()
        self.roots = ((BUNDLE_PATH, static), (CHART_BUNDLE_PATH, chart))
        self.compressed: dict[Path, bytes] = {}
        self.preloads = _first_chart_preloads(static, chart)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = self._bundle(scope) if scope["type"] == "http" else None
        if path is None and scope["type"] == "http":
            page = self._page(scope)
            if page is None:
                await self.app(scope, receive, self._preloading(send))
            else:  # asked for whole and uncompressed, to add the script; compressed here
                plain = [(key, value) for key, value in scope["headers"]
                         if key.lower() not in _PAGE_REQUEST_DROPPED]
                await self.app({**scope, "headers": plain}, receive,
                               self._rewriting(send, page, _accepts_gzip(scope)))
            return
        if path is None or scope["method"] not in ("GET", "HEAD") or not _accepts_gzip(scope):
            await self.app(scope, receive, send)
            return
        body = await self._compressed(path)
        if body is None:
            await self.app(scope, receive, send)
            return
        content_type = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
        await send(
            {
                "type": "http.response.start",
                "status": 200,
                "headers": [
                    (b"content-type", f"{content_type}; charset=utf-8".encode()),
                    (b"content-encoding", b"gzip"),
                    (b"content-length", str(len(body)).encode()),
                    (b"cache-control", CACHE_CONTROL),
                    (b"vary", b"Accept-Encoding"),
                ],
            }
        )
        await send(
            {"type": "http.response.body", "body": b"" if scope["method"] == "HEAD" else body}
        )

    def _preloading(self, send: Send) -> Send:
        """``send``, with the preloads' Link header added to a page (an HTML response)."""
        async def sending(message: Message) -> None:
            if message["type"] == "http.response.start" and _is_html(message):
                message = {**message, "headers": [*message["headers"], (b"link", self.preloads)]}
            await send(message)
        return sending

    def _rewriting(self, send: Send, page: str, gzipped: bool) -> Send:
        """``send``, for a page: an HTML response gets the Link header and the base URL
        script (compressed if ``gzipped``); any other response goes out as it comes."""
        held: dict[str, Message] = {}
        body = bytearray()

        async def sending(message: Message) -> None:
            if message["type"] == "http.response.start" and _is_html(message):
                held["start"] = message
                return
            if "start" not in held:
                await send(message)
                return
            body.extend(message.get("body", b""))
            if message.get("more_body"):
                return
            page_body = bytes(body).replace(b"<head>", b"<head>" + base_url_script(page), 1)
            headers = [(key, value) for key, value in held["start"]["headers"]
                       if key.lower() not in _PAGE_RESPONSE_DROPPED]
            if gzipped:
                page_body = gzip.compress(page_body, GZIP_LEVEL, mtime=0)
                headers.append((b"content-encoding", b"gzip"))
            headers += [(b"content-length", str(len(page_body)).encode()),
                        (b"vary", b"Accept-Encoding"), (b"link", self.preloads)]
            await send({**held["start"], "headers": headers})
            await send({"type": "http.response.body", "body": page_body})
        return sending

    def _page(self, scope: Scope) -> str | None:
        """A GET of a page: its path after the server's base path, as the browser sent it
        (``/``, ``/explorer``); None for any other request."""
        if scope["method"] != "GET":
            return None
        path = (scope.get("raw_path") or scope.get("path", "").encode()).decode("latin-1")
        base = "/" + str(config.get_option("server.baseUrlPath") or "").strip("/")
        if base != "/":
            if path != base and not path.startswith(base + "/"):
                return None
            path = path[len(base):]
        return path if PAGE_PATH.fullmatch(path) else None

    def _bundle(self, scope: Scope) -> Path | None:
        """The bundle file a request's path names, after the server's base path (if set)."""
        path: str = scope.get("path", "")
        base = "/" + str(config.get_option("server.baseUrlPath") or "").strip("/")
        if base != "/":
            if not path.startswith(base + "/"):
                return None
            path = path[len(base) :]
        for pattern, root in self.roots:
            if match := pattern.fullmatch(path):
                return root / match["name"]
        return None

    async def _compressed(self, path: Path) -> bytes | None:
        """The bundle compressed, from memory or compressed now (off the event loop); None
        if there is no such file."""
        if path not in self.compressed:
            if not path.is_file():
                return None
            self.compressed[path] = await asyncio.to_thread(_gzip, path)
        return self.compressed[path]


def _first_chart_preloads(static_dir: Path, chart_dir: Path) -> bytes:
    """The Link header a page is sent with: what its first chart needs, each file as found."""
    links = [f"<{CHART_URL}/{path.name}>; rel=preload; as=script"
             for path in sorted(chart_dir.glob("plotly-basic-*.min.js"))[:1]]
    links.append(f"<{CHART_URL}/plotly_chart.js>; rel=modulepreload")
    links += [f"<./static/js/{path.name}>; rel=modulepreload"
              for path in sorted((static_dir / "static" / "js").glob("BidiComponent.*.js"))[:1]]
    return ", ".join(links).encode()


def base_url_script(page: str) -> bytes:
    """The script that tells Streamlit's frontend the server's base URL: the address the
    browser shows without ``page`` (the page's path after the base, which the server saw),
    wherever a proxy put the app; left unset if the address does not end so."""
    return BASE_URL_SCRIPT.replace("__PAGE__", json.dumps(page)).encode()


def _is_html(message: Message) -> bool:
    return any(key.lower() == b"content-type" and value.startswith(b"text/html")
               for key, value in message.get("headers", ()))


def _gzip(path: Path) -> bytes:
    return gzip.compress(path.read_bytes(), GZIP_LEVEL, mtime=0)


def _accepts_gzip(scope: Scope) -> bool:
    return any(
        key == b"accept-encoding" and b"gzip" in value.lower()
        for key, value in scope.get("headers", ())
    )


# what serve.py puts in front of Streamlit (and bench/bench_first_chart.py in front of a bare app)
MIDDLEWARE = [Middleware(CompressedBundles)]
