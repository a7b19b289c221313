"""Showing generated words and tables in a report notebook.

Data never becomes markup: generated markdown is rendered here with raw HTML disabled and unsafe
link schemes refused (markdown-it-py), and every table cell, header and caption is HTML-escaped, so
an account named ``<script>...</script>`` shows as that text and runs nothing.
"""

from __future__ import annotations

import hashlib
import os
from typing import Mapping

import pandas as pd


def markdown_html(text: str) -> str:
    """Markdown to HTML with raw HTML escaped and javascript:/data: links refused (CommonMark + tables)."""
    from markdown_it import MarkdownIt

    return MarkdownIt("commonmark", {"html": False}).enable("table").render(text)


def md(text: str) -> None:
    """Show generated markdown in the report (rendered safely: see :func:`markdown_html`)."""
    from IPython.display import HTML, display

    display(HTML(markdown_html(text)))


def show_html(markup: str) -> None:
    from IPython.display import HTML, display

    display(HTML(markup))


def show_table(df: pd.DataFrame, caption: str | None = None, formats: Mapping[str, str] | None = None,
               max_rows: int = 40) -> None:
    """A readable table: formatted numbers, no index, a caption, at most ``max_rows`` rows shown."""
    import html

    shown = df.head(max_rows)
    styler = shown.style.hide(axis="index")
    if formats:
        # a dict formats every column (those it does not name with the default formatter): all escaped
        styler = styler.format({k: v for k, v in formats.items() if k in shown.columns}, na_rep="–", escape="html")
    else:
        styler = styler.format(precision=3, thousands=",", na_rep="–", escape="html")
    styler = styler.format_index(escape="html", axis=1)
    numeric = [c for c in shown.columns if pd.api.types.is_numeric_dtype(shown[c])]
    if numeric:  # numbers right-aligned, text left-aligned (the page's default)
        styler = styler.set_properties(subset=numeric, **{"text-align": "right"})
    if caption:
        styler = styler.set_caption(html.escape(caption))
    from IPython.display import display

    display(styler)
    if len(df) > max_rows:
        md(f"*{max_rows} of {len(df):,} rows shown; the full table is in the CSV beside this report.*")


def bullets(sentences) -> None:
    """Sentences as a bulleted list (empty ones left out)."""
    md("\n".join(f"- {s}" for s in sentences if s))


def pseudonym(value: str, salt: str | None = None) -> str:
    """A stable pseudonym for an account name; the salt comes from $CSRESEARCH_PSEUDONYM_SALT."""
    salt = salt if salt is not None else os.environ.get("CSRESEARCH_PSEUDONYM_SALT", "csresearch")
    return "Account-" + hashlib.sha256(f"{salt}:{value}".encode()).hexdigest()[:8]


def show_blocks(blocks) -> None:
    """Show a section's blocks in order: text as markdown, a :class:`~csresearch.analyses.base.Table`
    as a formatted table, a matplotlib Figure as a chart; None and empty text are skipped."""
    from IPython.display import display

    from ..analyses.base import Table

    for block in blocks:
        if block is None or (isinstance(block, str) and not block.strip()):
            continue
        if isinstance(block, str):
            md(block)
        elif isinstance(block, Table):
            show_table(block.data, block.caption, block.formats, block.max_rows)
        elif hasattr(block, "savefig"):
            import matplotlib.pyplot as plt

            display(block)
            plt.close(block)
        else:
            display(block)
