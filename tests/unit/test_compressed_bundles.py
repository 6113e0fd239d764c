"""Streamlit's bundles go out gzip-compressed, byte for byte the files, and nothing else is
touched; the page preloads the Plotly chunk (fleetspend/ui/assets.py, in front of the app as
serve.py starts it)."""

from pathlib import Path

import pytest
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.gzip import GZipMiddleware
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route
from starlette.testclient import TestClient

from fleetspend.ui.assets import CompressedBundles, PreloadedCharts

BUNDLE = b"export const chart = 'plotly';\n" * 2000


def _behind(request) -> PlainTextResponse:
    return PlainTextResponse("served by the app behind", headers={"x-behind": "yes"})


@pytest.fixture
def client(tmp_path: Path) -> TestClient:
    (tmp_path / "static" / "js").mkdir(parents=True)
    (tmp_path / "static" / "js" / "PlotlyChart.abc123.js").write_bytes(BUNDLE)
    (tmp_path / "secret.txt").write_text("not a bundle")
    app = Starlette(routes=[Route("/{path:path}", _behind)],
                    middleware=[Middleware(CompressedBundles, static_dir=str(tmp_path))])
    return TestClient(app)


def test_a_bundle_is_sent_gzipped_and_is_the_file(client: TestClient) -> None:
    response = client.get("/static/js/PlotlyChart.abc123.js", headers={
        "Accept-Encoding": "gzip, deflate, br"})
    assert response.status_code == 200
    assert response.headers["content-encoding"] == "gzip"
    assert "javascript" in response.headers["content-type"]
    assert "immutable" in response.headers["cache-control"]
    assert int(response.headers["content-length"]) < len(BUNDLE) / 10
    assert response.content == BUNDLE  # the client undid the gzip
    again = client.get("/static/js/PlotlyChart.abc123.js", headers={"Accept-Encoding": "gzip"})
    assert again.content == BUNDLE


def test_a_browser_without_gzip_gets_what_streamlit_serves(client: TestClient) -> None:
    response = client.get("/static/js/PlotlyChart.abc123.js",
                          headers={"Accept-Encoding": "identity"})
    assert response.headers["x-behind"] == "yes"


@pytest.mark.parametrize("path", [
    "/",  # the page
    "/static/js/missing.js",  # no such bundle: Streamlit answers
    "/static/secret.txt",  # not a bundle
    "/static/js/../../secret.txt",
    "/app/static/js/PlotlyChart.abc123.js",  # the app's own static files
    "/_stcore/health",
])
def test_anything_but_a_bundle_passes_through(client: TestClient, path: str) -> None:
    response = client.get(path, headers={"Accept-Encoding": "gzip"})
    assert response.headers["x-behind"] == "yes"
    assert "content-encoding" not in response.headers


def test_a_bundle_compresses_once(tmp_path: Path, client: TestClient) -> None:
    client.get("/static/js/PlotlyChart.abc123.js", headers={"Accept-Encoding": "gzip"})
    (tmp_path / "static" / "js" / "PlotlyChart.abc123.js").write_bytes(b"changed")
    response = client.get("/static/js/PlotlyChart.abc123.js", headers={"Accept-Encoding": "gzip"})
    assert response.content == BUNDLE


PAGE = (b'<html><head><script type="module" src="./static/js/index.abc.js"></script>'
        b'<link rel="modulepreload" crossorigin href="./static/js/shared.abc.js"></head>'
        b'<body></body></html>')
PLOTLY_CHUNK = b'import{t}from"./shared.abc.js";import{w}from"./wrapper.abc.js";export const p=1;'


def _page(request) -> Response:
    return Response(PAGE, media_type="text/html")


@pytest.fixture
def preloading(tmp_path: Path) -> TestClient:
    (tmp_path / "static" / "js").mkdir(parents=True)
    (tmp_path / "index.html").write_bytes(PAGE)
    (tmp_path / "static" / "js" / "PlotlyChart.abc123.js").write_bytes(PLOTLY_CHUNK)
    app = Starlette(routes=[Route("/_stcore/health", _behind), Route("/{path:path}", _page)],
                    middleware=[Middleware(PreloadedCharts, static_dir=str(tmp_path)),
                                Middleware(GZipMiddleware, minimum_size=10)])
    return TestClient(app)


@pytest.mark.parametrize("encoding", ["identity", "gzip"])
def test_the_page_preloads_the_plotly_chunk_and_what_it_imports(preloading: TestClient,
                                                                encoding: str) -> None:
    response = preloading.get("/overview", headers={"Accept-Encoding": encoding})
    head = response.text.split("</head>")[0]
    assert head.endswith(
        '<link rel="modulepreload" crossorigin href="./static/js/PlotlyChart.abc123.js">'
        '<link rel="modulepreload" crossorigin href="./static/js/wrapper.abc.js">')
    assert head.count("shared.abc.js") == 1  # the page preloads it already
    assert response.headers.get("content-encoding", "identity") == encoding
    assert int(response.headers["content-length"]) == response.num_bytes_downloaded


def test_anything_but_the_page_passes_through_untouched(preloading: TestClient) -> None:
    response = preloading.get("/_stcore/health")
    assert response.text == "served by the app behind"


def test_without_a_plotly_chunk_the_page_is_streamlits(tmp_path: Path) -> None:
    (tmp_path / "static" / "js").mkdir(parents=True)
    (tmp_path / "index.html").write_bytes(PAGE)
    app = Starlette(routes=[Route("/{path:path}", _page)],
                    middleware=[Middleware(PreloadedCharts, static_dir=str(tmp_path))])
    assert TestClient(app).get("/").content == PAGE
