"""Names an attacker might give an organization, its teams and its apps: Markdown links and
emphasis, HTML tags Plotly applies, LaTeX, and spreadsheet formulas."""

from __future__ import annotations

from sqlalchemy import Engine, text

ORG_NAME = "[x](https://evil.example) <b>bold</b>"
TEAM_NAMES = ["**bold** $x$", '<a href="https://evil.example">x</a>',
              '=HYPERLINK("https://evil.example")', "@SUM(1) <br>"]
APP_NAMES = ["[x](https://evil.example)", "<b>bold</b>", "+cmd", "-cmd <br>", "$x$",
             "**bold**", "\tTAB", '<a href="https://evil.example">x</a>']


def rename(engine: Engine, slug: str = "acme") -> None:
    """Give organization ``slug`` the hostile name, and every team and app one (with its id,
    so names stay unique)."""
    with engine.begin() as connection:
        connection.execute(text("update organizations set name = :name where slug = :slug"),
                           {"name": ORG_NAME, "slug": slug})
        connection.execute(text(
            "update teams set name = (cast(:names as text[]))[1 + team_id % :count] "
            "|| ' ' || team_id"), {"names": TEAM_NAMES, "count": len(TEAM_NAMES)})
        connection.execute(text(
            "update apps set name = (cast(:names as text[]))[1 + app_id % :count] "
            "|| ' ' || app_id"), {"names": APP_NAMES, "count": len(APP_NAMES)})
