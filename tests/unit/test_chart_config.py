"""Every chart is drawn through ``charts.draw``: the app's Plotly config (no toolbar linking
out, the world outline served by the app itself) applies to all of them."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DRAWS = ROOT / "fleetspend" / "ui" / "charts.py"


def test_only_charts_draw_calls_plotly_chart():
    elsewhere = []
    for path in [*ROOT.joinpath("pages").glob("*.py"), *ROOT.joinpath("fleetspend").rglob("*.py"),
                 ROOT / "app.py"]:
        if path == DRAWS:
            continue
        for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
            if (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
                    and node.func.attr == "plotly_chart"):
                elsewhere.append(f"{path.relative_to(ROOT)}:{node.lineno}")
    assert elsewhere == []
