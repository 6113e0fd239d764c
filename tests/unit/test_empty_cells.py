"""Every table the app draws leaves a missing value's cell empty instead of writing "None"
(Streamlit's default): a run still going has no end, a change from nothing has no percent."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _tables_without_placeholder() -> list[str]:
    missing = []
    for path in [*ROOT.joinpath("pages").glob("*.py"),
                 *ROOT.joinpath("fleetspend", "ui").glob("*.py")]:
        for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
            if (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
                    and node.func.attr == "dataframe"
                    and not any(keyword.arg == "placeholder" for keyword in node.keywords)):
                missing.append(f"{path.relative_to(ROOT)}:{node.lineno}")
    return missing


def test_every_table_drawn_leaves_missing_values_empty():
    assert _tables_without_placeholder() == []
