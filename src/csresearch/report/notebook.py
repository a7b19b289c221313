"""What every report notebook does around its analysis: set up, load data, show the data-quality
section and the conventions, record headline numbers and tables for the index page.

A notebook cell reads like::

    nb = notebook.start("01_churn_decomposition", output_dir, month=month)
    ds = nb.load(data, column_mapping, reject_invalid_rows)
    nb.show_quality(ds)
    ...
    nb.table(bridge, "mrr_bridge")
    nb.kpi("Logo churn", 0.028, "2.8% (95% CI 2.3-3.4%)")
    nb.headline("Logo churn was 2.8% in October ...")
    nb.save()
"""

from __future__ import annotations

import hashlib
import html
import json
import os
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping

import numpy as np
import pandas as pd

from ..config import project_root, resolve_month, resolve_path
from ..data import Dataset, open_dataset


def md(text: str) -> None:
    """Show generated markdown in the report."""
    from IPython.display import Markdown, display

    display(Markdown(text))


def show_html(markup: str) -> None:
    from IPython.display import HTML, display

    display(HTML(markup))


def show_table(df: pd.DataFrame, caption: str | None = None, formats: Mapping[str, str] | None = None,
               max_rows: int = 40) -> None:
    """A readable table: formatted numbers, no index, a caption, at most ``max_rows`` rows shown."""
    shown = df.head(max_rows)
    styler = shown.style.hide(axis="index")
    if formats:
        styler = styler.format({k: v for k, v in formats.items() if k in shown.columns}, na_rep="–")
    else:
        styler = styler.format(precision=3, thousands=",", na_rep="–")
    if caption:
        styler = styler.set_caption(caption)
    from IPython.display import display

    display(styler)
    if len(df) > max_rows:
        md(f"*{max_rows} of {len(df):,} rows shown; the full table is in the CSV beside this report.*")


def pseudonym(value: str, salt: str | None = None) -> str:
    """A stable pseudonym for an account name; the salt comes from $CSRESEARCH_PSEUDONYM_SALT."""
    salt = salt if salt is not None else os.environ.get("CSRESEARCH_PSEUDONYM_SALT", "csresearch")
    return "Account-" + hashlib.sha256(f"{salt}:{value}".encode()).hexdigest()[:8]


def _json_default(value: Any):
    if isinstance(value, (np.integer,)):
        return int(value)
    if isinstance(value, (np.floating,)):
        return None if np.isnan(value) else float(value)
    if isinstance(value, (pd.Timestamp, pd.Period)):
        return str(value)
    if isinstance(value, np.ndarray):
        return value.tolist()
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return str(value)


@dataclass
class NotebookRun:
    """One report notebook's outputs: tables as CSV, headline and KPIs in ``summary.json``."""

    notebook: str
    output_dir: Path
    month: pd.Period
    pseudonymise_accounts: bool = False
    summary: dict = field(default_factory=dict)
    dataset: Dataset | None = None

    # ---- data ------------------------------------------------------------------------------------
    def load(self, data: str | None = None, column_mapping: str | None = None,
             reject_invalid_rows: bool = False, tables: list[str] | None = None,
             engine: str | None = None) -> Dataset:
        from ..data.load import default_data_path

        source = resolve_path(data or default_data_path())
        mapping = resolve_path(column_mapping) if column_mapping else None
        self.dataset = open_dataset(source, mapping=mapping, reject_invalid_rows=reject_invalid_rows,
                                    tables=tables, engine=engine)
        quality = self.dataset.quality
        self.summary["data_quality"] = {
            "source": self.dataset.source,
            "rows_read": int(quality["rows_read"].sum()),
            "rows_used": int(quality["rows_used"].sum()),
            "rows_rejected": int(quality["rows_rejected"].sum()),
        }
        return self.dataset

    def show_quality(self, ds: Dataset | None = None) -> None:
        """The data-quality section: rows read = used + rejected, per table, with reasons."""
        ds = ds or self.dataset
        q = ds.quality.copy()
        read, used, rejected = (int(q[c].sum()) for c in ("rows_read", "rows_used", "rows_rejected"))
        missing = [t for t in ("usage_events", "onboarding", "support_tickets", "cs_activities", "surveys",
                               "experiments", "churn_reasons") if not ds.has(t)]
        text = (f"**Data quality.** Source `{ds.source}`: {read:,} rows read = {used:,} used + "
                f"{rejected:,} rejected.")
        if rejected:
            text += " Rejected rows broke a contract rule and were dropped because `reject_invalid_rows` is on; reasons below."
        if missing:
            text += f" Optional tables not provided: {', '.join(missing)}."
        md(text)
        q["reasons"] = q["reasons"].replace("", "–")
        show_table(q, formats={"rows_read": "{:,}", "rows_used": "{:,}", "rows_rejected": "{:,}"})

    def show_conventions(self, conventions: Mapping[str, Any], notes: Mapping[str, str] | None = None) -> None:
        """A box at the top of the report stating which conventions produced the numbers."""
        notes = notes or {}
        rows = "".join(
            f'<tr><td style="text-align:left"><code>{html.escape(str(k))}</code></td>'
            f'<td style="text-align:left">{html.escape(str(v))}</td>'
            f'<td style="text-align:left;color:#555">{html.escape(notes.get(k, ""))}</td></tr>'
            for k, v in conventions.items()
        )
        show_html(
            '<div style="border:1px solid #bbb;border-radius:6px;padding:8px 12px;background:#f7f7f9;">'
            "<b>Conventions used in this report</b>"
            f'<table style="margin-top:4px">{rows}</table></div>'
        )
        self.summary["conventions"] = dict(conventions)

    def display_names(self, accounts: pd.DataFrame) -> pd.Series:
        """Account names as shown in reports: pseudonyms when ``pseudonymise_accounts`` is on."""
        names = accounts.get("account_name", accounts["account_id"]).fillna(accounts["account_id"])
        return names.map(pseudonym) if self.pseudonymise_accounts else names

    # ---- outputs ---------------------------------------------------------------------------------
    def table(self, df: pd.DataFrame, name: str, index: bool = False) -> pd.DataFrame:
        """Write a headline table as ``<name>.csv`` next to the report; returns it unchanged."""
        self.output_dir.mkdir(parents=True, exist_ok=True)
        df.to_csv(self.output_dir / f"{name}.csv", index=index)
        self.summary.setdefault("tables", [])
        if f"{name}.csv" not in self.summary["tables"]:
            self.summary["tables"].append(f"{name}.csv")
        return df

    def kpi(self, name: str, value: float | int | None, display: str, **extra) -> None:
        """A headline number for the index page: machine value plus its display text with interval."""
        self.summary.setdefault("kpis", []).append({"name": name, "value": value, "display": display, **extra})

    def headline(self, text: str) -> None:
        """The report's first sentence, generated from the numbers; shown here and on the index page."""
        self.summary["headline"] = text
        md(f"### {text}")

    def record(self, **values) -> None:
        """Extra numbers for summary.json (tests and other notebooks read them)."""
        self.summary.update(values)

    def save(self) -> Path:
        self.output_dir.mkdir(parents=True, exist_ok=True)
        payload = {"notebook": self.notebook, "month": str(self.month), **self.summary}
        path = self.output_dir / "summary.json"
        path.write_text(json.dumps(payload, indent=2, default=_json_default))
        return path


def _inline_charts() -> None:
    """Charts must appear in the report even if the scheduler's environment sets MPLBACKEND=Agg
    (a non-interactive backend would silently render a report with no charts)."""
    try:
        from IPython import get_ipython
    except ImportError:  # pragma: no cover
        return
    shell = get_ipython()
    if shell is not None and type(shell).__name__ == "ZMQInteractiveShell":
        shell.run_line_magic("matplotlib", "inline")


def start(notebook: str, output_dir: str | None = None, month: str | None = None,
          pseudonymise_accounts: bool = False) -> NotebookRun:
    """Set up plotting and display for a report notebook and return its output recorder.

    ``output_dir`` None (running by hand in JupyterLab) writes to ``reports/lab/<notebook>``.
    """
    from .. import plots

    _inline_charts()
    warnings.filterwarnings("ignore", category=FutureWarning)
    warnings.filterwarnings("ignore", category=DeprecationWarning)
    pd.set_option("display.max_columns", 50)
    pd.set_option("display.width", 200)
    plots.set_theme()
    out = Path(output_dir) if output_dir else project_root() / "reports" / "lab" / notebook
    return NotebookRun(notebook=notebook, output_dir=out, month=resolve_month(month),
                       pseudonymise_accounts=pseudonymise_accounts)
