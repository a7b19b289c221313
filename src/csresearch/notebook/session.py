"""What every report notebook does around its analysis: validated settings, the data, the
data-quality section and the conventions, and the outputs the index page reads.

Every notebook reads the same way::

    nb = session.start(Settings, globals())          # the parameters cell's values, validated
    ds = nb.load()
    result = report.build(ds, nb.month, nb.settings)
    nb.headline(words.headline(result))
    nb.show_conventions(*words.conventions(result))
    nb.show_quality()
    ...
    nb.publish(result, words.kpis(result))           # CSVs + summary.json, last cell
"""

from __future__ import annotations

import html
import json
import re
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Mapping

import numpy as np
import pandas as pd

from .. import i18n, text
from ..analyses.base import AnalysisResult, Kpi, ReportSettings, Section
from ..data import Dataset, open_dataset
from ..errors import ParameterError
from ..period import resolve_month
from ..report import paths
from .display import markdown_html, md, pseudonym, show_html, table_html


def _json_default(value: Any) -> Any:
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


def _finite(value: Any) -> Any:
    """summary.json is JSON: a number that is not finite is null (the report's words say why), never NaN."""
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_finite(v) for v in value]
    if isinstance(value, (float, np.floating)) and not np.isfinite(value):
        return None
    return value


@dataclass
class Session:
    """One report notebook's run: its settings, its data, and its outputs (tables as CSV, headline and
    KPIs in ``summary.json``)."""

    notebook: str
    output_dir: Path
    month: pd.Period
    settings: Any = None
    pseudonymise_accounts: bool = False
    summary: dict = field(default_factory=dict)
    dataset: Dataset | None = None
    _month_given: bool = True

    # ---- data ------------------------------------------------------------------------------------
    def load(self, data: str | None = None, column_mapping: str | None = None,
             reject_invalid_rows: bool | None = None, tables: list[str] | None = None,
             engine: str | None = None) -> Dataset:
        """The contract tables, validated; arguments default to the session's settings."""
        from ..data.load import default_data_path

        s = self.settings
        data = data if data is not None else getattr(s, "data", None)
        column_mapping = column_mapping if column_mapping is not None else getattr(s, "column_mapping", None)
        if reject_invalid_rows is None:
            reject_invalid_rows = bool(getattr(s, "reject_invalid_rows", False))
        engine = engine if engine is not None else getattr(s, "engine", None)
        from ..data.load import refuse_credentials

        refuse_credentials(data)
        source = paths.resolve_path(data or default_data_path()) or default_data_path()
        mapping = paths.resolve_path(column_mapping) if column_mapping else None
        self.dataset = open_dataset(source, mapping=mapping, reject_invalid_rows=reject_invalid_rows,
                                    tables=tables, engine=engine)
        check_currency_column(self.dataset, text.currency())
        self._cover(self.dataset)
        quality = self.dataset.quality
        self.summary["data_quality"] = {
            "source": self.dataset.source,
            "rows_read": int(quality["rows_read"].sum()),
            "rows_used": int(quality["rows_used"].sum()),
            "rows_rejected": int(quality["rows_rejected"].sum()),
        }
        return self.dataset

    def _cover(self, ds: Dataset) -> None:
        """The report month against the dates the data covers: the last complete month when none was
        given; a partial month (asked for) says so at the top and counts no churn for subscriptions that
        simply stop at the export date; a month the data does not cover is refused with one sentence."""
        covered = ds.data_coverage(getattr(self.settings, "data_as_of", None))
        if self._month_given is False:
            self.month = covered.last_complete_month
        partial = bool(getattr(self.settings, "partial_month", False))
        covered.check(self.month, partial)
        self.summary["coverage"] = {"first": str(covered.first.date()), "last": str(covered.last.date()),
                                    "source": covered.source, "partial_month": not covered.covers(self.month)}
        if not covered.covers(self.month):
            kept = ds.censor_subscriptions_at(covered.last)
            md(i18n._("**Partial month.** The data covers {month} only to {day} ({source}); every number for this "
                      "month is to that day, and {kept} subscription end dates on or after it are read as the export "
                      "stopping, not as churn.").format(month=text.month_label(self.month), day=covered.last.date(),
                                                        source=covered.source, kept=f"{kept:,}"))

    def show_quality(self, ds: Dataset | None = None) -> None:
        """The data-quality section: rows read = used + rejected, per table, with reasons."""
        ds = ds or self.dataset
        assert ds is not None, "load() the data first"
        q = ds.quality.copy()
        read, used, rejected = (int(q[c].sum()) for c in ("rows_read", "rows_used", "rows_rejected"))
        missing = [t for t in ("usage_events", "onboarding", "support_tickets", "cs_activities", "surveys",
                               "experiments", "churn_reasons") if not ds.has(t)]
        said = i18n._("**Data quality.** Source `{source}`: {read} rows read = {used} used + {rejected} rejected.").format(
            source=ds.source, read=f"{read:,}", used=f"{used:,}", rejected=f"{rejected:,}")
        if rejected:
            said += " " + i18n._("Rejected rows broke a contract rule and were dropped because `reject_invalid_rows` is "
                                 "on; reasons below.")
        if missing:
            said += " " + i18n._("Optional tables not provided: {tables}.").format(tables=i18n._(", ").join(missing))
        q["reasons"] = q["reasons"].replace("", "–")
        # a report that states its conventions keeps them and this section at its end (the page moves
        # both into one collapsed section); where data quality is the subject (no conventions) it stays
        at_end = "conventions" in self.summary
        self._show_status(read, used, rejected, at_end)
        show_html(f'<div class="csr-quality"{" data-csr-appendix" if at_end else ""}>' + markdown_html(said)
                  + table_html(q, formats={"rows_read": "{:,}", "rows_used": "{:,}", "rows_rejected": "{:,}"})
                  + "</div>")

    def _show_status(self, read: int, used: int, rejected: int, at_end: bool) -> None:
        """The one line the page shows at its top: rows read and used, the last day the data covers, and
        where the conventions and the data-quality table are."""
        rows = (i18n._("{read} rows read, all used").format(read=f"{read:,}") if used == read else
                i18n._("{read} rows read, {used} used, {rejected} rejected").format(
                    read=f"{read:,}", used=f"{used:,}", rejected=f"{rejected:,}"))
        last = self.summary.get("coverage", {}).get("last")
        line = i18n._("Data: {rows}; through {day}").format(rows=rows, day=text.day(last)) if last else \
            i18n._("Data: {rows}").format(rows=rows)
        where = (' · <a href="#csr-appendix">' + html.escape(i18n._("conventions and data quality at the end"))
                 + "</a>") if at_end else ""
        show_html(f'<p class="csr-status">{html.escape(line)}{where}</p>')

    def show_conventions(self, conventions: Mapping[str, Any], notes: Mapping[str, str] | None = None) -> None:
        """A box stating which conventions produced the numbers (the page shows it in the collapsed section
        at its end, with the data-quality table; the line at the top says so)."""
        notes = notes or {}
        rows = "".join(
            f'<tr><td style="text-align:left">{_setting_name(k)}</td>'
            f'<td style="text-align:left">{html.escape(_setting_value(v))}</td>'
            f'<td style="text-align:left;color:#555">{html.escape(notes.get(k, ""))}</td></tr>'
            for k, v in conventions.items()
        )
        show_html(
            '<div class="csr-conventions" data-csr-appendix '
            'style="border:1px solid #bbb;border-radius:6px;padding:8px 12px;background:#f7f7f9;">'
            + "<b>" + html.escape(i18n._("Conventions used in this report")) + "</b>"
            f'<table style="margin-top:4px">{rows}</table></div>'
        )
        self.summary["conventions"] = dict(conventions)

    def display_names(self, accounts: pd.DataFrame) -> pd.Series:
        """Account names as shown in reports: pseudonyms when ``pseudonymise_accounts`` is on."""
        names = accounts.get("account_name", accounts["account_id"]).fillna(accounts["account_id"])
        return names.map(pseudonym) if self.pseudonymise_accounts else names

    def names(self, ds: Dataset | None = None) -> pd.Series:
        """Display names indexed by account id."""
        ds = ds or self.dataset
        assert ds is not None, "load() the data first"
        accounts = ds.table("accounts")
        return self.display_names(accounts).set_axis(accounts["account_id"])

    # ---- paths the runner owns -------------------------------------------------------------------
    def project_file(self, relative: str | None) -> str | None:
        """A project file (e.g. ``params/health_score.yml``) resolved against the project folder."""
        return paths.resolve_path(relative)

    def earlier_output(self, notebook: str, pattern: str) -> Path | None:
        """A file of ``notebook`` from the previous month's published report (None if none)."""
        return paths.earlier_output(self.output_dir if self._in_run else None, self.month, notebook, pattern)

    @property
    def _in_run(self) -> bool:
        return bool(getattr(self.settings, "output_dir", None))

    # ---- outputs ---------------------------------------------------------------------------------
    def table(self, df: pd.DataFrame, name: str, index: bool = False) -> pd.DataFrame:
        """Write a table as ``<name>.csv`` next to the report (``folder/<name>``: in that subfolder);
        returns it unchanged."""
        (self.output_dir / f"{name}.csv").parent.mkdir(parents=True, exist_ok=True)
        guard = bool(getattr(self.settings, "csv_formula_guard", True))
        encoding = text.csv_encoding(getattr(self.settings, "csv_encoding", None), getattr(self.settings, "language", None))
        (neutralise_formulas(df) if guard else df).to_csv(self.output_dir / f"{name}.csv", index=index,
                                                          encoding=encoding)
        self.summary.setdefault("tables", [])
        if f"{name}.csv" not in self.summary["tables"]:
            self.summary["tables"].append(f"{name}.csv")
        return df

    def kpi(self, name: str, value: float | int | None, display: str, **extra: Any) -> None:
        """A headline number for the index page: machine value plus its display text with interval."""
        self.summary.setdefault("kpis", []).append({"name": name, "value": value, "display": display, **extra})

    def headline(self, text: str) -> None:
        """The report's first sentence, generated from the numbers; shown here and on the index page."""
        self.summary["headline"] = text
        md(f"### {text}")

    def section(self, section: Section) -> None:
        """A heading (and its paragraph) of the report, from the catalog in the run's language; the
        heading carries a stable ``id`` so the page's table of contents links to it in every language."""
        from .display import markdown_html

        shown = section.translated()
        level = min(max(section.level, 1), 6)
        heading = (f'<h{level} id="{html.escape(section.anchor)}">{html.escape(shown.heading)}</h{level}>'
                   if shown.heading else "")
        show_html(heading + (markdown_html(shown.text) if shown.text else ""))

    def record(self, **values: Any) -> None:
        """Extra numbers for summary.json (tests and other notebooks read them)."""
        self.summary.update(values)

    def publish(self, result: AnalysisResult, kpis: Iterable[Kpi] = (),
                texts: Mapping[str, Any] | None = None) -> Path:
        """The last cell of every report: the result's tables as CSV, its summary values, the texts
        ``words`` wrote for summary.json (notes, titles) and the KPIs in ``summary.json``."""
        for name, df in result.tables().items():
            if df is not None:
                self.table(df, name)
        self.record(**result.summary())
        self.record(**dict(texts or {}))
        for k in kpis:
            self.summary.setdefault("kpis", []).append(k.as_dict())
        return self.save()

    def save(self) -> Path:
        self.output_dir.mkdir(parents=True, exist_ok=True)
        payload = {"notebook": self.notebook, "month": str(self.month), **self.summary}
        path = self.output_dir / "summary.json"
        path.write_text(json.dumps(_finite(payload), indent=2, default=_json_default, allow_nan=False))
        return path


def _setting_name(name: Any) -> str:
    """A convention's name as the conventions box shows it (escaped markup): a setting's name
    (``churn_convention``, what ``-p`` takes) as code; a name in words ("MRR rule", 集計期間) as text."""
    text = str(name)
    return f"<code>{html.escape(text)}</code>" if re.fullmatch(r"[a-z][a-z0-9_]*", text) else html.escape(text)


def _setting_value(value: Any) -> str:
    """A convention's value as the conventions box shows it: a yes/no setting in the run's language
    (English keeps Python's ``True``/``False``, as the box always showed), anything else as written."""
    if isinstance(value, (bool, np.bool_)):
        # TRANSLATORS: the value of an on/off setting in the conventions box (count_same_month_churn: True)
        return i18n.pgettext("setting value", "True") if value else i18n.pgettext("setting value", "False")
    return str(value)


def check_currency_column(ds: Dataset, currency: str) -> None:
    """The run's ``currency`` must be the one the subscriptions say they are in (when they carry a
    ``currency`` column): yen amounts are never shown with a dollar sign. The loader has already refused
    more than one currency."""
    if not ds.has("subscriptions"):
        return
    subscriptions = ds.table("subscriptions")
    if "currency" not in subscriptions:
        return
    found = sorted({str(c).strip().upper() for c in subscriptions["currency"].dropna().unique()})
    currency = text.check_currency(currency)
    if found and found != [currency]:
        raise ParameterError(
            f"currency = {currency!r}, but the subscriptions are in {', '.join(found)}: run with "
            f"-p currency={found[0]} (or set currency in params/defaults.yml)")


FORMULA_LEADS = ("=", "+", "-", "@", "\t", "\r")


def neutralise_formulas(df: pd.DataFrame) -> pd.DataFrame:
    """A copy whose text cells that a spreadsheet would run as a formula (starting with ``= + - @``, a tab
    or a carriage return: the OWASP CSV-injection rule) start with ``'`` instead. Numeric columns are
    left alone, so negative numbers stay numbers; the frame passed in is not changed."""
    text_columns = [c for c in df.columns if df[c].dtype == object or pd.api.types.is_string_dtype(df[c].dtype)]
    if not text_columns:
        return df
    out = df.copy()
    for column in text_columns:
        values = out[column]
        risky = values.map(lambda v: isinstance(v, str) and v.startswith(FORMULA_LEADS))
        if risky.any():
            out[column] = values.where(~risky, "'" + values.astype(str))
    return out


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
        # high-DPI PNG: sharp on a laptop's screen; the renderer shrinks each image to a 256-colour palette
        shell.run_line_magic("config", "InlineBackend.figure_formats = ['retina']")


def settings_from(settings_cls: type[ReportSettings], namespace: Mapping[str, Any]) -> ReportSettings:
    """The analysis's settings from the notebook's parameters (its ``globals()``), validated.

    A value papermill injected that breaks a type or range raises :class:`ParameterError` with one
    sentence (the runner checks the same model before any kernel starts, so this only fires for a
    notebook run by hand with an edited parameters cell).
    """
    from pydantic import ValidationError

    values = {k: namespace[k] for k in settings_cls.model_fields if k in namespace}
    try:
        return settings_cls.model_validate(values)
    except ValidationError as exc:
        raise ParameterError(settings_error_text(settings_cls.notebook, exc)) from None


def settings_error_text(notebook: str, exc: Any) -> str:
    """One sentence per broken setting: ``03_churn_drivers: horizon_days = -5: ...``."""
    parts = []
    for err in exc.errors():
        key = ".".join(str(x) for x in err.get("loc", ())) or "settings"
        value = err.get("input")
        shown = repr(value) if not isinstance(value, dict) else "…"
        parts.append(f"{key} = {shown}: {err.get('msg', 'invalid')}")
    return f"{notebook}: " + "; ".join(parts)


def start(settings_cls: type[ReportSettings], namespace: Mapping[str, Any] | None = None, *,
          notebook: str | None = None, output_dir: str | None = None, month: str | None = None,
          pseudonymise_accounts: bool | None = None) -> Session:
    """Set up plotting and display for a report notebook and return its session.

    ``namespace`` is the notebook's ``globals()`` (the parameters cell's values); its settings are
    validated with ``settings_cls``. ``output_dir`` None (running by hand in JupyterLab) writes to
    ``reports/lab/<notebook>``.
    """
    from .. import style

    _inline_charts()
    warnings.filterwarnings("ignore", category=FutureWarning)
    warnings.filterwarnings("ignore", category=DeprecationWarning)
    pd.set_option("display.max_columns", 50)
    pd.set_option("display.width", 200)
    style.set_theme()
    settings = settings_from(settings_cls, namespace or {})
    i18n.set_language(settings.language)   # every word from here on, in the run's language
    text.use_locale(getattr(settings, "language", "en"), getattr(settings, "currency", "USD"))
    name = notebook or settings_cls.notebook
    out_dir = output_dir if output_dir is not None else settings.output_dir
    out = Path(out_dir) if out_dir else paths.lab_output(name)
    pseudo = settings.pseudonymise_accounts if pseudonymise_accounts is None else pseudonymise_accounts
    asked = month if month is not None else settings.month
    return Session(notebook=name, output_dir=out, month=resolve_month(asked), settings=settings,
                   pseudonymise_accounts=pseudo, _month_given=asked is not None)
