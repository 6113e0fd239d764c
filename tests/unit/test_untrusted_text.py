"""Customer-controlled text is shown literally: escaped for Streamlit's Markdown and for
Plotly's HTML-like labels."""

from __future__ import annotations

import re

import pytest

from fleetspend.ui.untrusted import md, md_format, plot

HOSTILE = ["[x](https://evil.example)", '<a href="https://evil.example">x</a>', "<b>bold</b>",
           "**bold**", "<br>", "$x$", ":red[alarm]", "# heading", "www.evil.example",
           "line\n\n# two"]


def _as_read(markdown: str) -> str:
    return re.sub(r"\\(.)", r"\1", markdown)


@pytest.mark.parametrize("name", HOSTILE)
def test_a_name_in_markdown_keeps_none_of_its_syntax_and_reads_as_itself(name):
    escaped = md(name)
    assert not re.search(r"(?<!\\)[\[\]()*<>$:#`_]", escaped)
    assert _as_read(escaped) == " ".join(part.strip() for part in name.splitlines() if part)


def test_a_template_keeps_its_own_markdown_and_escapes_every_value():
    assert md_format("**{name}** spent {amount}", name="**bold**", amount="$1.00") == (
        r"**\*\*bold\*\*** spent \$1\.00")
    assert md_format("{day:%b %d} {count:,}", day=__import__("datetime").date(2026, 11, 2),
                     count=1234) == "Nov 02 1,234"


@pytest.mark.parametrize("name", HOSTILE)
def test_a_name_in_a_plotly_label_has_no_tag(name):
    assert "<" not in plot(name) and ">" not in plot(name)


def test_plotly_text_keeps_ampersands_literal():
    assert plot("R&D <b>") == "R&amp;D &lt;b&gt;"
