"""Streamlit's bundles go out gzip-compressed, byte for byte the files, and nothing else is
touched (fleetspend/ui/assets.py, in front of the app as serve.py starts it)."""

from pathlib import Path

import pytest
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.gzip import GZipMiddleware
from starlette.responses import HTMLResponse, PlainTextResponse, Response
from starlette.routing import Route
from starlette.testclient import TestClient
from streamlit import config, file_util

from fleetspend.ui.assets import CHART_DIR, CompressedBundles, base_url_script

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


INDEX = "<!DOCTYPE html><html><head><title>Streamlit</title></head><body>the app</body></html>"


def _index(request) -> Response:
    """Streamlit's page: not sent again to a browser that has this version (304)."""
    if request.headers.get("if-none-match") == '"index"':
        return Response(status_code=304, headers={"etag": '"index"'})
    return HTMLResponse(INDEX, headers={"etag": '"index"', "last-modified": "yesterday"})


@pytest.fixture
def served() -> TestClient:
    """Streamlit's page at every path, compressed by a gzip middleware behind ours, as
    Streamlit's own is."""
    app = Starlette(routes=[Route("/_stcore/health", _behind), Route("/{path:path}", _index)],
                    middleware=[Middleware(CompressedBundles),
                                Middleware(GZipMiddleware, minimum_size=10)])
    return TestClient(app)


@pytest.fixture
def base_url_path():
    """Sets Streamlit's server.baseUrlPath for a test."""
    def setting(path: str) -> None:
        config.set_option("server.baseUrlPath", path)
    yield setting
    config.set_option("server.baseUrlPath", "")


@pytest.mark.parametrize(("path", "page"), [
    ("/", "/"), ("/explorer", "/explorer"), ("/invoice_machines/", "/invoice_machines/")])
@pytest.mark.parametrize("encoding", ["gzip", "identity"])
def test_a_page_names_the_server_base_url_first_thing(served: TestClient, path: str, page: str,
                                                      encoding: str) -> None:
    response = served.get(path, headers={"Accept-Encoding": encoding})
    script = base_url_script(page).decode()
    assert response.text == INDEX.replace("<head>", "<head>" + script)
    assert response.headers.get("content-encoding") == (
        "gzip" if encoding == "gzip" else None)
    assert int(response.headers["content-length"]) == response.num_bytes_downloaded
    assert "rel=preload" in response.headers["link"]
    # sent whole each time: the validators were Streamlit's file's, not this page's
    assert "etag" not in response.headers and "last-modified" not in response.headers


@pytest.mark.parametrize("path", ["/a/b", "/static/js/x.js", "/favicon.png", "/%3Cscript%3E"])
def test_only_a_page_path_is_rewritten(served: TestClient, path: str) -> None:
    response = served.get(path, headers={"Accept-Encoding": "gzip"})
    assert response.text == INDEX
    assert response.headers["etag"] == '"index"'


def test_the_query_string_is_not_part_of_the_page(served: TestClient) -> None:
    response = served.get("/explorer?by=app&x=%22%3C/script%3E")
    assert response.text == INDEX.replace("<head>", "<head>" + base_url_script(
        "/explorer").decode())


def test_a_browser_that_has_the_page_from_before_gets_it_again(served: TestClient) -> None:
    """A page cached before the script was added would connect without it."""
    response = served.get("/explorer", headers={"If-None-Match": '"index"'})
    assert response.status_code == 200
    assert base_url_script("/explorer").decode() in response.text


def test_a_head_request_and_other_responses_pass_through(served: TestClient) -> None:
    assert served.head("/explorer").headers["etag"] == '"index"'
    response = served.get("/_stcore/health")
    assert response.headers["x-behind"] == "yes"


def test_under_a_base_url_path_the_page_is_what_follows_it(served: TestClient,
                                                           base_url_path) -> None:
    base_url_path("fleetspend")
    for path, page in (("/fleetspend/explorer", "/explorer"), ("/fleetspend", ""),
                       ("/fleetspend/", "/")):
        assert base_url_script(page).decode() in served.get(path).text
    assert served.get("/elsewhere/explorer").text == INDEX
