"""Showing generated words and tables in a report notebook.

Data never becomes markup: generated markdown is rendered here with raw HTML disabled and unsafe
link schemes refused (markdown-it-py), and every table cell, header and caption is HTML-escaped, so
an account named ``<script>...</script>`` shows as that text and runs nothing. A long table becomes
interactive on the page by its class alone: the page's one script reads the escaped cells from the
DOM, so no data is ever written into a script.

Tables speak the run's language: headers through :mod:`.headers`, and the machine values of billing
period, touch tier and health band (``annual``, ``high``, ``red``) through the one mapping of value labels
(:func:`csresearch.core.risk.level_label`: 年次, ハイタッチ, レッド); the CSVs keep the machine values.
"""

from __future__ import annotations

import hashlib
import os
import re
from typing import Mapping

import numpy as np
import pandas as pd

from ..i18n import SOURCE_LANGUAGE, get_language, ngettext
from .headers import human_headers

VALUE_COLUMNS = ("billing_period", "touch_tier", "health_band")
"""Columns of machine values a table shows as labels in the run's language (the CSVs keep the values)."""


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


INTERACTIVE_MIN_ROWS = 15
"""A table with this many rows or more is sortable, filterable and searchable on the page (itables, see
:mod:`csresearch.report.render`); a shorter one reads at a glance and stays a plain table."""

_CELL = re.compile(r'<td id="T_[A-Za-z0-9_]+_row(\d+)_col(\d+)" class="data row\d+ col\d+" ')


def _sort_keys(html_table: str, shown: pd.DataFrame) -> str:
    """Each cell of a number or date column carries its raw value in ``data-order`` (what DataTables
    sorts by), so "$1.2M" sorts above "$950k" and "3 Nov 2026" after "28 Oct 2026". Only numbers and
    ISO dates are written: no text of the data reaches an attribute."""
    keys: dict[int, list[str]] = {}
    for j, column in enumerate(shown.columns):
        values = shown.iloc[:, j]
        if pd.api.types.is_bool_dtype(values):
            keys[j] = ["1" if v else "0" for v in values]
        elif pd.api.types.is_numeric_dtype(values):
            numbers = pd.to_numeric(values, errors="coerce").astype(float)
            keys[j] = [repr(float(v)) if np.isfinite(v) else "-1e308" for v in numbers]
        elif pd.api.types.is_datetime64_any_dtype(values):
            keys[j] = [v.isoformat() if not pd.isna(v) else "" for v in values]

    def one(match: re.Match) -> str:
        i, j = int(match.group(1)), int(match.group(2))
        if j in keys and i < len(keys[j]):
            return f'{match.group(0)}data-order="{keys[j][i]}" '
        return match.group(0)

    return _CELL.sub(one, html_table)


def value_labels(df: pd.DataFrame) -> pd.DataFrame:
    """``df`` with the machine values of :data:`VALUE_COLUMNS` as a reader names them in the run's language
    (English, and a company's own codes, as they are); ``df`` itself is not changed."""
    columns = [c for c in VALUE_COLUMNS if c in df.columns and not pd.api.types.is_numeric_dtype(df[c])]
    if get_language() == SOURCE_LANGUAGE or not columns or isinstance(df.columns, pd.MultiIndex):
        return df
    from ..core.risk import level_label  # the one mapping of value labels (kept out of English runs' imports)

    out = df.copy()
    for column in columns:
        labels = {v: level_label(column, v) for v in out[column].dropna().unique()}
        out[column] = out[column].map(lambda v, labels=labels: labels.get(v, v))
    return out


def table_html(df: pd.DataFrame, caption: str | None = None, formats: Mapping[str, str] | None = None,
               max_rows: int = 40) -> str:
    """The HTML of :func:`show_table`: human column headers (:mod:`.headers`; the CSV keeps the machine
    names), formatted numbers, every cell, header and caption escaped; ``INTERACTIVE_MIN_ROWS`` rows or
    more make it an interactive table (class ``csr-interactive``, sort keys in ``data-order``)."""
    import html

    shown = value_labels(df.head(max_rows))
    if not isinstance(shown.columns, pd.MultiIndex):
        names = human_headers(shown.columns)
        shown = shown.rename(columns=names)
        formats = {str(names.get(k, k)): v for k, v in formats.items()} if formats else formats
    styler = shown.style.hide(axis="index")
    if formats:
        # a dict formats every column (those it does not name with the default formatter): all escaped
        styler = styler.format({k: v for k, v in formats.items() if k in shown.columns}, na_rep="–", escape="html")
    else:
        styler = styler.format(precision=3, thousands=",", na_rep="–", escape="html")
    styler = styler.format_index(escape="html", axis=1)
    numeric = [c for c in shown.columns if pd.api.types.is_numeric_dtype(shown[c])]
    if numeric:  # numbers right-aligned, text left-aligned (the page's default): one rule per column
        styler = styler.set_table_styles({c: [{"selector": "td", "props": "text-align: right"}] for c in numeric},
                                         overwrite=False)
    # a column of sentences (reasons, playbooks) gets room: a few lines a row, not twenty
    wordy = [c for c in shown.columns if shown[c].dtype == object
             and shown[c].map(lambda v: len(v) if isinstance(v, str) else 0).mean() > 50]
    if wordy:
        styler = styler.set_table_styles({c: [{"selector": "td", "props": "min-width: 18em"}] for c in wordy},
                                         overwrite=False)
    if caption:
        styler = styler.set_caption(html.escape(caption))
    interactive = (len(shown) >= INTERACTIVE_MIN_ROWS and not isinstance(shown.columns, pd.MultiIndex)
                   and shown.columns.is_unique)
    if interactive:
        styler = styler.set_table_attributes('class="csr-interactive"')
    markup = styler.to_html()
    return _sort_keys(markup, shown) if interactive else markup


def show_table(df: pd.DataFrame, caption: str | None = None, formats: Mapping[str, str] | None = None,
               max_rows: int = 40) -> None:
    """A readable table: human headers, formatted numbers, no index, a caption, at most ``max_rows`` rows
    shown; a long one is sortable, filterable and searchable on the page (see :func:`table_html`)."""
    show_html(table_html(df, caption, formats, max_rows))
    if len(df) > max_rows:
        more = ngettext("{shown} of {total} row shown; the full table is in the CSV beside this report.",
                        "{shown} of {total} rows shown; the full table is in the CSV beside this report.", len(df))
        md("*" + more.format(shown=max_rows, total=f"{len(df):,}") + "*")


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
