"""SQL lives in .sql files: product code (fleetspend/, pages/, app.py) never hands a statement
written in Python (a string literal, an f-string, literals joined) to SQLAlchemy's ``text(...)``
or to ``exec_driver_sql(...)``. Statements come from the SQL files (fleetspend/sqlfiles.py,
queries/); a statement whose table name varies is composed with psycopg.sql (names quoted by the
library, from an allow-list: fleetspend/bulk.py, fleetspend/billing/temporary.py)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PRODUCT = sorted([*(ROOT / "fleetspend").rglob("*.py"), *(ROOT / "pages").glob("*.py"),
                  ROOT / "app.py"])

# what is kept in Python on purpose, by file and the statement's first words, with the reason
ALLOWED = {
    ("fleetspend/db.py", "select set_config(setting.name"):
        "the driver's plumbing: one generic statement setting any per-transaction settings "
        "from bound arrays, run on every page view's connection beside the read pool's code",
    ("fleetspend/db.py", "select array(select current_setting(setting.name)"):
        "its other half: the same settings read, before db.local_settings changes them for a "
        "block, to be given back after it",
}
# files whose text(...) are table metadata, not statements: server defaults and index
# predicates that SQLAlchemy writes into DDL
METADATA = {"fleetspend/models.py"}


def _imports_sqlalchemy_text(tree: ast.Module) -> bool:
    return any(isinstance(node, ast.ImportFrom) and node.module == "sqlalchemy"
               and any(alias.name == "text" and alias.asname is None for alias in node.names)
               for node in ast.walk(tree))


def _written_in_python(argument: ast.expr) -> str | None:
    """The statement's text (its literal parts) when ``argument`` is written in Python."""
    if isinstance(argument, ast.Constant) and isinstance(argument.value, str):
        return argument.value
    if isinstance(argument, ast.JoinedStr | ast.BinOp):
        parts = sorted((node.lineno, node.col_offset, node.value) for node in ast.walk(argument)
                       if isinstance(node, ast.Constant) and isinstance(node.value, str))
        return "".join(part for *_, part in parts) if parts else None
    return None


def statements_in_python(path: Path) -> list[tuple[int, str]]:
    """(line, statement) of every SQL statement ``path`` writes in Python and runs."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    takes_text = _imports_sqlalchemy_text(tree)
    found = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call) or not node.args:
            continue
        function = node.func
        runs_sql = (isinstance(function, ast.Attribute) and function.attr == "exec_driver_sql"
                    ) or (takes_text and isinstance(function, ast.Name) and function.id == "text")
        statement = _written_in_python(node.args[0]) if runs_sql else None
        if statement is not None:
            found.append((node.lineno, " ".join(statement.split())))
    return sorted(found)


def _allowed(name: str, statement: str) -> bool:
    return name in METADATA or any(
        name == path and statement.startswith(start) for path, start in ALLOWED)


@pytest.mark.parametrize("path", PRODUCT, ids=lambda path: str(path.relative_to(ROOT)))
def test_product_code_runs_statements_from_the_sql_files(path: Path) -> None:
    name = str(path.relative_to(ROOT))
    assert [(line, statement) for line, statement in statements_in_python(path)
            if not _allowed(name, statement)] == []


def test_every_allowed_statement_is_still_there():
    for path, start in ALLOWED:
        assert any(statement.startswith(start)
                   for _, statement in statements_in_python(ROOT / path)), (path, start)


def test_the_rule_sees_literals_f_strings_and_joined_strings(tmp_path: Path) -> None:
    module = tmp_path / "module.py"
    module.write_text(
        "from sqlalchemy import text\n"
        "import streamlit as st\n"
        "def run(connection, table, statements):\n"
        "    connection.execute(text('select 1'))\n"
        "    connection.exec_driver_sql(f'analyze {table}')\n"
        "    connection.execute(text('select ' + 'a' + ' from b'))\n"
        "    connection.execute(statements.sql('named'))\n"
        "    connection.exec_driver_sql(statements[0])\n"
        "    st.text('a caption, not SQL')\n")
    assert statements_in_python(module) == [
        (4, "select 1"), (5, "analyze"), (6, "select a from b")]
