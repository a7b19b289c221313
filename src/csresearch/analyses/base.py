"""The contract every analysis offers its notebook, and the settings every report shares.

An analysis is a package ``csresearch.analyses.<name>`` of one shape::

    settings.py   class Settings(ReportSettings): its parameters, typed, with defaults and ranges
    compute*.py   numbers only: DataFrames in, DataFrames and small dataclasses out
    result.py     class Result(AnalysisResult): numbers and tables, no words
    words.py      headline(result), kpis(result), conventions(result), ... : sentences from a result
    charts.py     the report's charts, on the shared style (csresearch.style)
    report.py     build(ds, month, settings, **inputs) -> Result: the call a notebook makes

and its notebook reads, top to bottom::

    nb = session.start(Settings, globals())          # validated settings, the month, the recorder
    ds = nb.load()                                   # the contract tables, validated once
    result = report.build(ds, nb.month, nb.settings) # every number of the report
    nb.headline(words.headline(result))              # the first sentence, generated from the numbers
    ...                                              # words, tables and charts, section by section
    nb.publish(result, words.kpis(result))           # CSVs, summary.json (the index reads it)

Settings are the single source of defaults and validation: the notebook's ``parameters`` cell,
``params/<notebook>.yml`` and ``csresearch list`` are derived from them or checked against them
(``tests/test_settings.py``), and ``csresearch run`` validates every merged value with them before
any kernel starts.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from typing import Annotated, Any, ClassVar, Literal, Mapping

import pandas as pd
from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from ..errors import ParameterError
from ..i18n import _, check_language
from ..period import check_month


def _month(value: str | None) -> str | None:
    """A report month: ``YYYY-MM`` with a real month (the rule of :func:`csresearch.period.check_month`)."""
    if value is None:
        return None
    try:
        return check_month(str(value))
    except ParameterError as exc:
        raise ValueError(str(exc)) from None


Month = Annotated[str | None, AfterValidator(_month)]


def _day(value: Any) -> str | None:
    """A calendar day ``YYYY-MM-DD``."""
    if value is None:
        return None
    text = str(value)[:10]
    try:
        return str(datetime.date.fromisoformat(text))
    except ValueError:
        raise ValueError(f"{value!r} is not a day like 2026-10-31") from None


DataAsOf = Annotated[str | None, AfterValidator(_day)]

# Shared conventions (params/defaults.yml). An analysis declares the ones it uses, with these types.
ReactivationWindowDays = Annotated[int, Field(ge=0, le=3650, description=(
    "a zero-MRR gap shorter than this many days is not a churn (0: every gap is)"))]
CountSameMonthChurn = Annotated[bool, Field(description=(
    "an account that starts and churns within one month counts as a churn"))]
ChurnConvention = Annotated[Literal["month_end", "period_start"], Field(description=(
    "month_end: MRR on each month's last day (the contract); period_start: on the first day"))]
Annualisation = Annotated[Literal["compounded", "simple"], Field(description=(
    "monthly churn to annual: compounded 1-(1-c)^12 or simple 12c"))]
ValueMilestone = Annotated[str, Field(min_length=1, description=(
    "the onboarding milestone that counts as reaching value"))]
HealthScoreFile = Annotated[str, Field(min_length=1, description=(
    "the health-score definition (components, thresholds, weights, playbooks), relative to the project"))]
ReportLanguage = Annotated[str, AfterValidator(check_language), Field(description=(
    "the language of every heading, sentence, table and chart: en, or any language with a catalog in "
    "csresearch/locale (ja)"))]
Confidence = Annotated[float, Field(gt=0.5, lt=1.0, description="interval level (1 - significance level)")]


def _currency(value: str) -> str:
    from ..text import check_currency

    return check_currency(value)


Currency = Annotated[str, AfterValidator(_currency), Field(description=(
    "ISO 4217 code of the money in the data (USD, EUR, JPY...): symbol and decimals of every amount; a "
    "subscriptions currency column must agree"))]
CsvEncoding = Annotated[Literal["utf-8", "utf-8-sig"] | None, Field(description=(
    "encoding of the CSVs written beside each report: utf-8, or utf-8-sig (with a byte-order mark, so Excel "
    "opens Japanese text correctly); None: utf-8-sig when the language is ja, else utf-8"))]


class ReportSettings(BaseModel):
    """What every report notebook takes from a run: where the data is, which month, where outputs go.

    An analysis subclasses this with its own fields. Unknown keys are errors (a typo must not be
    silently ignored), and values are checked for type and range.
    """

    model_config = ConfigDict(extra="forbid", frozen=True, validate_default=True)

    notebook: ClassVar[str] = ""          # e.g. "01_churn_decomposition"
    title: ClassVar[str] = ""             # e.g. "Churn decomposition"

    data: str | None = Field(None, description=(
        "a folder of CSV/Parquet, a .duckdb file or a postgresql URL (None: params/defaults.yml)"))
    column_mapping: str | None = Field(None, description="YAML renaming your columns to the contract's")
    reject_invalid_rows: bool = Field(False, description="count and drop rows that break row rules")
    month: Month = Field(None, description="YYYY-MM (None: the last complete month)")
    output_dir: str | None = Field(None, description="set by the run (None: reports/lab/<notebook>)")
    pseudonymise_accounts: bool = Field(False, description="show account names as stable pseudonyms")
    engine: Literal["duckdb", "spark"] | None = Field(None, description=(
        "duckdb (default) or spark; a postgresql URL runs on PostgreSQL"))
    data_as_of: DataAsOf = Field(None, description=(
        "YYYY-MM-DD the export is complete to (None: the latest record of any table)"))
    partial_month: bool = Field(False, description=(
        "allow a month the data does not cover to its last day: every page says so and subscriptions that "
        "stop at the export date count as running"))
    csv_formula_guard: bool = Field(True, description=(
        "CSV cells starting with = + - @ tab or CR get a leading ' so a spreadsheet never runs them as formulas "
        "(numbers stay numbers); false for BI loaders that read the raw text"))
    language: ReportLanguage = "en"
    currency: Currency = "USD"
    csv_encoding: CsvEncoding = None

    @classmethod
    def run_keys(cls) -> tuple[str, ...]:
        """The fields every report shares (set by the run, not by the analysis)."""
        return tuple(ReportSettings.model_fields)

    @classmethod
    def own_keys(cls) -> tuple[str, ...]:
        """The fields this analysis adds (shared conventions included)."""
        return tuple(k for k in cls.model_fields if k not in ReportSettings.model_fields)


@dataclass
class AnalysisResult:
    """Numbers and tables of one report for one month. No words: ``words.py`` reads a result.

    ``tables()`` are the CSVs written beside the report (name -> table, in the order written);
    ``summary()`` the machine-readable values of ``summary.json`` that tests and the index read.
    """

    month: pd.Period

    def tables(self) -> dict[str, pd.DataFrame]:
        return {}

    def summary(self) -> dict[str, Any]:
        return {}


@dataclass(frozen=True)
class Kpi:
    """A headline number for the index page: the machine value and its display text."""

    name: str
    value: float | int | None
    display: str
    extra: tuple[tuple[str, Any], ...] = ()

    def as_dict(self) -> dict[str, Any]:
        return {"name": self.name, "value": self.value, "display": self.display, **dict(self.extra)}


def kpi(name: str, value: float | int | None, display: str, **extra: Any) -> Kpi:
    return Kpi(name, value, display, tuple(extra.items()))


@dataclass(frozen=True)
class Table:
    """A table to show in a report: the data (human column headers), a caption, number formats and
    how many rows the page shows (the CSV beside the report holds every row)."""

    data: pd.DataFrame
    caption: str | None = None
    formats: Mapping[str, str] | None = None
    max_rows: int = 40


# What a section of a report shows, in order: markdown text, a Table, or a matplotlib Figure.
# words/charts may return a list of blocks for a repeated section (one per experiment, one per
# account); the notebook shows them with ``display.show_blocks``.
Block = Any


@dataclass(frozen=True)
class Section:
    """A heading and the paragraph under it, written in English and marked ``N_`` where defined; a
    notebook shows it translated with ``nb.section(words.section("bridge"))``. ``anchor`` is the
    stable link target of the page's table of contents (the same in every language); a section with no
    heading is a paragraph between two charts."""

    anchor: str
    heading: str
    text: str = ""
    level: int = 2

    def translated(self) -> "Section":
        return Section(self.anchor, _(self.heading) if self.heading else "", _(self.text) if self.text else "",
                       self.level)
