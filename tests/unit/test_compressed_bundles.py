"""Streamlit's bundles go out gzip-compressed, byte for byte the files, and nothing else is
touched (fleetspend/ui/assets.py, in front of the app as serve.py starts it)."""

from pathlib import Path

import pytest
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.responses import HTMLResponse, PlainTextResponse
from starlette.routing import Route
from starlette.testclient import TestClient
from streamlit import file_util

from fleetspend.ui.assets import CHART_DIR, CompressedBundles

BUNDLE = b"export const chart = 'plotly';\n" * 2000


def _behind(request) -> PlainTextResponse:
    return PlainTextResponse("served by the app behind", headers={"x-behind": "yes"})


@pytest.fixture
def client(tmp_path: Path) -> TestClient:
    (tmp_path / "static" / "js").mkdir(parents=True)
    (tmp_path / "static" / "js" / "PlotlyChart.abc123.js").write_bytes(BUNDLE)
    (tmp_path / "secret.txt").write_text("not a bundle")
    (tmp_path / "chart").mkdir()
    (tmp_path / "chart" / "plotly-basic-4.1.1.min.js").write_bytes(BUNDLE)
    (tmp_path / "chart" / "plotly_chart.js").write_text("export default () => {};")
    app = Starlette(routes=[Route("/{path:path}", _behind)],
                    middleware=[Middleware(CompressedBundles, static_dir=str(tmp_path),
                                           chart_dir=str(tmp_path / "chart"))])
    return TestClient(app)


@pytest.mark.parametrize("path", [
    "/static/js/PlotlyChart.abc123.js",  # Streamlit's
    "/_stcore/bidi-components/fleetspend.plotly_chart/plotly-basic-4.1.1.min.js",  # the app's
])
def test_a_bundle_is_sent_gzipped_and_is_the_file(client: TestClient, path: str) -> None:
    response = client.get(path, headers={
        "Accept-Encoding": "gzip, deflate, br"})
    assert response.status_code == 200
    assert response.headers["content-encoding"] == "gzip"
    assert "javascript" in response.headers["content-type"]
    assert "immutable" in response.headers["cache-control"]
    assert int(response.headers["content-length"]) < len(BUNDLE) / 10
    assert response.content == BUNDLE  # the client undid the gzip
    again = client.get(path, headers={"Accept-Encoding": "gzip"})
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
    "/_stcore/bidi-components/fleetspend.plotly_chart/plotly_chart.js",  # its script
    "/_stcore/bidi-components/fleetspend.plotly_chart/../../secret.txt",
    "/_stcore/bidi-components/another.component/plotly-basic-4.1.1.min.js",
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


def _page(request) -> HTMLResponse:
    return HTMLResponse("<html><head></head><body>the page</body></html>")


def test_a_page_names_what_its_first_chart_needs_and_nothing_else_does() -> None:
    """With Streamlit's real bundles and the app's real chart files: a page (HTML) is sent
    with a Link header preloading the basic plotly.js bundle, the component's script and
    Streamlit's component chunk, each a file that is there; other responses are not."""
    app = Starlette(routes=[Route("/", _page), Route("/{path:path}", _behind)],
                    middleware=[Middleware(CompressedBundles)])
    client = TestClient(app)
    links = client.get("/").headers["link"].split(", ")
    assert [link.split("; ", 1)[1] for link in links] == [
        "rel=preload; as=script", "rel=modulepreload", "rel=modulepreload"]
    named = [link.split(">", 1)[0].removeprefix("<./") for link in links]
    chart = "_stcore/bidi-components/fleetspend.plotly_chart/"
    assert named[0].startswith(chart + "plotly-basic-") and named[1] == chart + "plotly_chart.js"
    assert named[2].startswith("static/js/BidiComponent.")
    assert all((CHART_DIR / name.removeprefix(chart)).is_file() for name in named[:2])
    assert (Path(file_util.get_static_dir()) / named[2]).is_file()
    assert "link" not in client.get("/_stcore/health").headers
