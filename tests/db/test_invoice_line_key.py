"""An invoice line's key (invoice_line_key, migration 0023): the one rule late usage and
verification pair stored lines with re-rated ones by; it keeps concat_ws's rule and inlines."""

import re
from pathlib import Path

from sqlalchemy import text

ROOT = Path(__file__).resolve().parents[2]
KEY_COLUMNS = ("product", "price_list_id", "region_code", "preset_code", "memory_mb",
               "egress_group")
KEY_OF_LINES = text(
    "select invoice_line_key(product, price_list_id, region_code, preset_code, memory_mb, "
    "egress_group) as line_key, " + ", ".join(KEY_COLUMNS) + " from invoice_lines")
# the key written out with concat_ws, as five statements did before the function
WRITTEN_OUT = re.compile(r"concat_ws\('\|',\s*\w+\.product,\s*\w+\.price_list_id")


def expected_key(line) -> str:
    """The documented rule written out here: the present columns joined by '|'."""
    return "|".join(str(getattr(line, column)) for column in KEY_COLUMNS
                    if getattr(line, column) is not None)


def test_every_drafted_and_finalized_line_carries_the_documented_key(invoiced_engine):
    with invoiced_engine.connect() as connection:
        lines = connection.execute(KEY_OF_LINES).all()
    assert {line.product for line in lines} >= {"machine_runtime", "egress_internet"}
    # machine lines have no egress group, egress lines no preset: the gaps are left out
    assert any(line.egress_group is None for line in lines)
    assert any(line.preset_code is None for line in lines)
    assert [line.line_key for line in lines] == [expected_key(line) for line in lines]


def test_the_key_equals_concat_ws_with_any_column_missing(engine):
    with engine.connect() as connection:
        rows = connection.execute(text(
            "select invoice_line_key(product, price_list_id, region, preset, memory, egress) "
            "       as line_key, "
            "       concat_ws('|', product, price_list_id, region, preset, memory, egress) "
            "       as written_out "
            "from (values ('machine_runtime', 2, 'fra', 'shared-cpu-1x', 256, null), "
            "             ('egress_internet', 1, 'syd', null, null, 'apac'), "
            "             (null, null, null, null, null, null), "
            "             (null, null, null, null, 512, null)) "
            "as lines (product, price_list_id, region, preset, memory, egress)")).all()
    assert [row.line_key for row in rows] == [row.written_out for row in rows]
    assert rows[0].line_key == "machine_runtime|2|fra|shared-cpu-1x|256"


def test_the_planner_inlines_the_key_into_the_statements_that_pair_lines(engine):
    with engine.connect() as connection:
        plan = "\n".join(connection.execute(text(
            "explain verbose " + KEY_OF_LINES.text)).scalars())
    assert "invoice_line_key" not in plan
    assert "substr" in plan


def test_no_statement_spells_the_key_again():
    spelled = [str(path.relative_to(ROOT))
               for folder in ("fleetspend", "queries") for path in (ROOT / folder).rglob("*.sql")
               if WRITTEN_OUT.search(path.read_text(encoding="utf-8"))]
    assert spelled == []
