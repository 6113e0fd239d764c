"""The write side's SQL files load by the read path's rules (fleetspend/sqlfiles.py)."""

from __future__ import annotations

from pathlib import Path

import pytest

from fleetspend import alerts, billing, models, rollups
from fleetspend.sqlfiles import SqlFileError, SqlFolder, SqlNotFoundError

PACKAGE = Path(__file__).resolve().parents[2] / "fleetspend"
FOLDERS = sorted(PACKAGE.rglob("sql"))


def test_the_write_side_keeps_its_statements_in_these_folders():
    assert [str(folder.relative_to(PACKAGE)) for folder in FOLDERS] == [
        "alerts/sql", "billing/sql", "ingest/sql", "seed/sql", "sql"]


@pytest.mark.parametrize("folder", FOLDERS, ids=lambda folder: str(folder.relative_to(PACKAGE)))
def test_every_statement_loads_with_its_header_and_named_binds(folder: Path) -> None:
    statements = SqlFolder(folder)
    assert statements.catalog()
    for name in statements.catalog():
        assert statements.sql(name).text.lstrip().startswith("--")


def test_the_packages_read_their_own_folders():
    assert "seal_drafts" in billing.statements.catalog()
    assert "claim_delivery" in alerts.statements.catalog()


def test_every_narrow_and_team_rollup_has_its_statements():
    for name in (*models.NARROW_ROLLUPS, *models.TEAM_ROLLUPS):
        for part in ("days", "months"):
            for verb in ("delete", "insert"):
                assert f"{verb}_{name}_{part}" in rollups._STATEMENTS.catalog()


def test_the_rebuild_empties_every_table_it_rebuilds():
    truncate = rollups._STATEMENTS.sql("rebuild_empty").text.split("truncate", 1)[1]
    emptied = {table.strip() for table in truncate.split(",")}
    assert emptied == {*rollups.REBUILT_TABLES, "rollup_org_latest_hour", "rollup_anomaly_findings"}


def test_a_statement_of_several_files_joins_them_in_order(tmp_path: Path) -> None:
    (tmp_path / "first.sql").write_text("-- the shared part\nwith one as (select 1 as n)\n")
    (tmp_path / "second.sql").write_text("-- continues first.sql\nselect n from one\n")
    clause = SqlFolder(tmp_path).sql("first", "second")
    assert clause.text.index("with one") < clause.text.index("select n from one")


def test_a_missing_part_fails_loudly(tmp_path: Path) -> None:
    (tmp_path / "first.sql").write_text("-- the shared part\nwith one as (select 1 as n)\n")
    with pytest.raises(SqlNotFoundError, match="no statement named 'second'"):
        SqlFolder(tmp_path).sql("first", "second")


def test_sql_formatting_inside_a_string_literal_is_not_a_placeholder(tmp_path: Path) -> None:
    (tmp_path / "number.sql").write_text("-- a number\nselect format('CN-%s-%s', :a, :b)\n")
    assert "number" in SqlFolder(tmp_path).catalog()
    (tmp_path / "bad.sql").write_text("-- bad\nselect format('CN-%s', %s)\n")
    with pytest.raises(SqlFileError, match=r"bad\.sql:2: placeholder"):
        SqlFolder(tmp_path).catalog()
