"""Names customers choose never act: walked through every page, an organization, its teams and
apps named like links, tags, emphasis, LaTeX and spreadsheet formulas show as plain text in
Markdown, draw no tag in charts, and reach every CSV the app writes neutralised."""

from __future__ import annotations

import csv
import io
import json
import re
import uuid
import zipfile
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation

import pytest
import streamlit

from fleetspend.csvfile import FORMULA_STARTS
from fleetspend.ui.overview_views import TREEMAP_OPEN_KEY
from tests import hostile
from tests.app.conftest import drawn_charts, every_page, forget_caches, open_grant, run_as
from tests.conftest import create_database, drop_database, engine_for

# what would act if a name reached the page raw
MARKDOWN_RAW = ["](https://evil.example)", "<b>", "<a href", "**bold**", "<br>", "$x$"]
CHART_RAW = ["<b>", "<a href", "<a ", "<br>"]
MARKDOWN_ELEMENTS = ("title", "header", "subheader", "caption", "markdown", "info", "warning",
                     "error", "success")


@dataclass
class Walk:
    """What every page showed: Markdown sources, chart specs and CSV files, by page."""

    markdown: list[tuple[str, str]] = field(default_factory=list)
    charts: list[tuple[str, str]] = field(default_factory=list)
    files: list[tuple[str, str, bytes]] = field(default_factory=list)
    exceptions: list[tuple[str, object]] = field(default_factory=list)


def _record_downloads(monkeypatch, walk: Walk, page: list[str]) -> None:
    """Keep every file a page offers (a callable's too, as if clicked)."""
    offer = streamlit.download_button

    def recording(label, data, *args, **kwargs):
        walk.files.append((page[0], kwargs["file_name"], data() if callable(data) else data))
        return offer(label, data, *args, **kwargs)

    monkeypatch.setattr(streamlit, "download_button", recording)


def _texts(app) -> list[str]:
    texts = [element.value for kind in MARKDOWN_ELEMENTS for element in getattr(app, kind)]
    texts += [metric.label for metric in app.metric]
    texts += [element.proto.label for kind in ("page_link", "button", "download_button")
              for element in app.get(kind)]
    return texts


def _drawn_text(figure: dict) -> str:
    """A chart's traces as text (JSON's escapes of <, > and / undone), without their hover
    templates: ours, whose tags (Plotly Express's <br>) are meant."""
    traces = [{key: value for key, value in trace.items() if key != "hovertemplate"}
              for trace in figure["data"]]
    return json.dumps(traces, ensure_ascii=False)


@pytest.fixture(scope="module")
def walk(server_url: str, spend_template: str) -> Walk:
    name = f"fleetspend_hostile_{uuid.uuid4().hex[:8]}"
    url = create_database(server_url, name, template=spend_template)
    engine = engine_for(url)
    walk, current = Walk(), [""]
    try:
        hostile.rename(engine)
        grant = open_grant(url)
        with pytest.MonkeyPatch.context() as monkeypatch:
            _record_downloads(monkeypatch, walk, current)
            for page, email, query in every_page(engine, grant.grant_id):
                current[0] = page
                app = run_as(monkeypatch, url, page, email=email, **query).run()
                if page == "explorer":  # the FOCUS export is made on request, once opened
                    app.session_state["explorer_focus_open"] = True
                    app = app.run().button(key="explorer_focus").click().run()
                if page == "overview":  # its treemap is drawn once its expander is opened
                    app.session_state[TREEMAP_OPEN_KEY] = True
                    app = app.run()
                walk.exceptions += [(page, error) for error in app.exception]
                walk.markdown += [(page, value) for value in _texts(app)]
                walk.charts += [(page, _drawn_text(figure)) for _, figure in drawn_charts(app)]
            forget_caches()
    finally:
        engine.dispose()
        drop_database(server_url, name)
    return walk


def test_every_page_runs_with_hostile_names(walk):
    assert walk.exceptions == []


def test_names_in_markdown_are_shown_literally_never_as_links_tags_or_emphasis(walk):
    acting = [(page, value) for page, value in walk.markdown
              if any(raw in value for raw in MARKDOWN_RAW)]
    assert acting == []
    shown = {page for page, value in walk.markdown if r"\[x\]\(https\://evil\.example\)" in value}
    # the organization's name on the invoice levels and in search matches
    assert {"invoice", "support_search", "dispute"} <= shown


def test_charts_carry_their_own_colours_not_streamlits_placeholders(walk):
    """Plotly Express takes its colours from Streamlit's default template, placeholders
    (#000001...) that only st.plotly_chart swaps for the theme's: the app's component would
    draw them near-black."""
    assert "machine" in {page for page, _ in walk.charts}
    assert [(page, colour) for page, spec in walk.charts
            for colour in re.findall(r'"#0000(?:0[1-9]|10)"', spec)] == []


def test_charts_draw_no_tag_from_a_name(walk):
    assert {page for page, _ in walk.charts} >= {"overview", "explorer", "teams"}
    assert any('"type": "treemap"' in spec for page, spec in walk.charts if page == "overview")
    acting = [(page, raw) for page, spec in walk.charts for raw in CHART_RAW if raw in spec]
    assert acting == []
    assert any("&lt;b&gt;bold&lt;/b&gt;" in spec for _, spec in walk.charts)


def _csv_files(walk: Walk) -> list[tuple[str, str, bytes]]:
    found = []
    for page, name, payload in walk.files:
        if name.endswith(".csv"):
            found.append((page, name, payload))
        elif name.endswith(".zip"):
            with zipfile.ZipFile(io.BytesIO(payload)) as bundle:
                found += [(page, f"{name}/{inner}", bundle.read(inner))
                          for inner in bundle.namelist() if inner.endswith(".csv")]
    return found


def _is_number(cell: str) -> bool:
    try:
        return Decimal(cell).is_finite()
    except InvalidOperation:
        return False


def test_every_csv_neutralises_cells_that_would_run_as_formulas(walk):
    files = _csv_files(walk)
    pages = {page for page, _, _ in files}
    assert pages >= {"explorer", "teams", "invoices", "invoice", "invoice_apps",
                     "invoice_machines", "machine", "support_audit", "dispute"}
    assert any("focus-" in name for _, name, _ in files)
    formulas, quoted = [], 0
    for page, name, payload in files:
        for row in csv.reader(io.StringIO(payload.decode("utf-8"), newline="")):
            formulas += [(page, name, cell) for cell in row
                         if cell.startswith(FORMULA_STARTS) and not _is_number(cell)]
            quoted += sum(cell.startswith("'=HYPERLINK") or cell.startswith("'+cmd")
                          for cell in row)
    assert formulas == []
    assert quoted > 0
