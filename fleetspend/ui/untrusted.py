"""Showing text that customers or links control (names, ids, URL values) without it acting.

Streamlit reads titles, captions, notices, metric labels and link labels as Markdown: links,
emphasis, LaTeX between dollar signs, colour and icon directives between colons. Plotly reads
labels, hovers, legends and axis categories as HTML-like text: ``<a href>``, ``<b>``, ``<br>``.
Everything a customer or a URL can set passes one of these on its way to the screen:

- :func:`md`: one value as literal Markdown text;
- :func:`md_format`: a Markdown template of our own with every value filled in through
  :func:`md` (so ``st.caption(md_format("Apps of {team}", team=name))`` can't go wrong);
- :func:`plot`: one value as literal Plotly text.
"""

from __future__ import annotations

import re
import string

# CommonMark escapes any ASCII punctuation with a backslash; these are the characters that
# mean something to Streamlit's Markdown (":" opens emoji, icons and colours; "$" LaTeX;
# "." and ":" break up the bare links GitHub-flavoured Markdown would make of www. and https:)
_MARKDOWN_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+\-.!|<>~$:&])")
_LINE_BREAKS = re.compile(r"\s*[\r\n]+\s*")
_PLOTLY_ENTITIES = {"&": "&amp;", "<": "&lt;", ">": "&gt;"}


def md(value: object) -> str:
    """``value`` as literal text inside Markdown: one line, every special character escaped."""
    return _MARKDOWN_SPECIAL.sub(r"\\\1", _LINE_BREAKS.sub(" ", str(value)))


class _MarkdownFormatter(string.Formatter):
    def format_field(self, value: object, format_spec: str) -> str:
        return md(super().format_field(value, format_spec))


_FORMATTER = _MarkdownFormatter()


def md_format(template: str, /, **values: object) -> str:
    """``template.format(**values)`` with each value escaped by :func:`md`; the template is
    ours and may hold Markdown (``**bold**``), the values never act."""
    return _FORMATTER.vformat(template, (), values)


def plot(value: object) -> str:
    """``value`` as literal text in a Plotly label, hover, legend or axis category."""
    return "".join(_PLOTLY_ENTITIES.get(char, char) for char in str(value))
