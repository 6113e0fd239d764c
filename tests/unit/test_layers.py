"""The layers' import rules: core (fleetspend/ outside fleetspend/ui/) never imports Streamlit or
the UI, so it runs from the command line, the feed and the benchmarks without a page; pages never
import the database module (fleetspend.db), they read through the domain and ui helpers."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[2] / "fleetspend"
UI = PACKAGE / "ui"
CORE_MODULES = sorted(path for path in PACKAGE.rglob("*.py") if UI not in path.parents)
PAGES = sorted((PACKAGE.parent / "pages").glob("*.py"))
# Pages never import fleetspend.db: every page reads through fleetspend.ui.database.


def imported_modules(path: Path) -> set[str]:
    """Every module a file imports, as dotted names (``from a import b`` gives a and a.b)."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
            found.update(f"{node.module}.{alias.name}" for alias in node.names)
    return found


def breaks_the_rule(module: str) -> bool:
    return module.split(".")[0] == "streamlit" or module == "fleetspend.ui" or (
        module.startswith("fleetspend.ui."))


@pytest.mark.parametrize("path", CORE_MODULES, ids=lambda path: str(path.relative_to(PACKAGE)))
def test_core_never_imports_streamlit_or_the_ui(path: Path) -> None:
    assert not sorted(filter(breaks_the_rule, imported_modules(path)))


def imports_db(module: str) -> bool:
    return module == "fleetspend.db" or module.startswith("fleetspend.db.")


@pytest.mark.parametrize("path", PAGES, ids=lambda path: path.name)
def test_pages_never_import_the_database_module(path: Path) -> None:
    assert not sorted(filter(imports_db, imported_modules(path)))


def test_the_rule_sees_each_way_of_importing_the_ui(tmp_path: Path) -> None:
    page = tmp_path / "page.py"
    page.write_text("import streamlit as st\nfrom fleetspend import ui\n"
                    "from fleetspend.ui.drilldown import csv_download\n")
    assert sorted(filter(breaks_the_rule, imported_modules(page))) == [
        "fleetspend.ui", "fleetspend.ui.drilldown", "fleetspend.ui.drilldown.csv_download",
        "streamlit"]


def test_the_page_rule_sees_each_way_of_importing_the_database_module(tmp_path: Path) -> None:
    page = tmp_path / "page.py"
    page.write_text("from fleetspend import db\nimport fleetspend.db\n"
                    "from fleetspend.db import read_snapshot\nfrom fleetspend import dbx\n")
    assert sorted(filter(imports_db, imported_modules(page))) == [
        "fleetspend.db", "fleetspend.db.read_snapshot"]
