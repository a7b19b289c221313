"""Write the skeleton of a new analysis: its package, notebook, parameters file and test.

    .venv/bin/python tools/new_analysis.py renewal_forecast --number 06 --title "Renewal forecast"

Writes ``src/csresearch/analyses/<name>/`` (settings, compute, result, words, charts, report), a
notebook ``notebooks/<NN>_<name>.ipynb`` whose parameters cell is generated from the settings, a
``params/<NN>_<name>.yml`` and ``tests/test_<name>.py``; registers the notebook in
``csresearch.analyses.REPORTS``; then prints the checklist of what else to touch. The skeleton runs:
``csresearch run --only <NN>_<name>`` renders a page that says what it computed.
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tools"))

FILES = {
    "__init__.py": '''"""{title}: <the question this analysis answers, in one sentence a CS leader would ask>."""
''',
    "settings.py": '''"""Settings of {title} (notebooks/{notebook}.ipynb): the single source of its defaults."""

from __future__ import annotations

from pydantic import Field

from ..base import ReportSettings


class Settings(ReportSettings):
    notebook = "{notebook}"
    title = "{title}"

    trend_months: int = Field(12, ge=1, le=240, description="months shown, up to the report month")
''',
    "compute.py": '''"""Numbers of {title}: DataFrames in, DataFrames out; no words, no charts."""

from __future__ import annotations

import pandas as pd

from ...core.revenue import account_month_mrr
from ...data import Dataset


def paying_accounts(ds: Dataset, month: pd.Period, months: int) -> pd.DataFrame:
    """Paying accounts at each month end, for the ``months`` months up to ``month``."""
    mrr = account_month_mrr(ds.table("subscriptions"), month - (months - 1), month)
    return (mrr.assign(paying=mrr["mrr"] > 0).groupby("month", as_index=False)
               .agg(paying_accounts=("paying", "sum"), mrr=("mrr", "sum")))
''',
    "result.py": '''"""The result of {title}: numbers and tables, no words."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from ..base import AnalysisResult


@dataclass
class Result(AnalysisResult):
    trend: pd.DataFrame = field(default_factory=pd.DataFrame)

    @property
    def paying_now(self) -> int:
        now = self.trend.loc[self.trend["month"] == self.month, "paying_accounts"]
        return int(now.sum())

    def tables(self) -> dict[str, pd.DataFrame]:
        return {{"{name}_trend": self.trend}}

    def summary(self) -> dict[str, Any]:
        return {{"paying_accounts": self.paying_now}}
''',
    "words.py": '''"""Sentences and KPI text of {title}, read from its result, in the run's language: every
string a reader sees is marked _() / ngettext() / N_() (docs/developing.md, "Translating")."""

from __future__ import annotations

from ...i18n import N_, _, ngettext
from ...text import month_label
from ..base import Kpi, Section, kpi
from .result import Result

# the notebook's headings and the paragraphs under them: nb.section(words.section("trend"))
SECTIONS = {{
    "intro": Section("intro", N_("{title}"), N_("<What this report answers for a CS leader, in two sentences.>"),
                     level=1),
    "quality": Section("data-quality", N_("Data quality"), N_(
        "Every row read is either used or rejected with a reason: nothing is dropped silently.")),
    "trend": Section("paying-accounts", N_("Paying accounts"), N_("<What the chart means for a CS leader.>")),
}}


def section(key: str) -> Section:
    return SECTIONS[key]


def headline(result: Result) -> str:
    return ngettext("{{n}} paying account at the end of {{month}}.", "{{n}} paying accounts at the end of {{month}}.",
                    result.paying_now).format(n=f"{{result.paying_now:,}}", month=month_label(result.month))


def kpis(result: Result) -> list[Kpi]:
    return [kpi(_("Paying accounts"), result.paying_now, f"{{result.paying_now:,}}")]


def trend_labels() -> tuple[str, str]:
    """The trend chart's title and axis label."""
    return _("Paying accounts at month end"), _("accounts")
''',
    "charts.py": '''"""Charts of {title}, on the shared style."""

from __future__ import annotations

from ... import style
from . import words
from .result import Result


def trend(result: Result):
    frame = result.trend.assign(month_end=result.trend["month"].dt.to_timestamp(how="end"))
    title, axis = words.trend_labels()
    return style.line(frame, "month_end", "paying_accounts", title, axis)
''',
    "report.py": '''"""{title}: the one call a notebook makes, ``build(ds, month, settings) -> Result``."""

from __future__ import annotations

import pandas as pd

from ...data import Dataset
from .compute import paying_accounts
from .result import Result
from .settings import Settings

__all__ = ["Settings", "Result", "build"]


def build(ds: Dataset, month: pd.Period, settings: Settings) -> Result:
    return Result(month=month, trend=paying_accounts(ds, month, settings.trend_months))
''',
}

TEST = '''"""{title}: numbers against a hand-computed case, then the notebook end to end."""

from __future__ import annotations

import pandas as pd
import pytest

from conftest import execute_notebook
from csresearch.analyses.{name}.compute import paying_accounts


class _Tiny:
    """Two accounts: one paying all along, one that stops at the end of February."""

    def table(self, name):
        return pd.DataFrame({{
            "account_id": ["a", "b"], "subscription_id": ["s1", "s2"],
            "start_date": pd.to_datetime(["2026-01-01", "2026-01-01"]),
            "end_date": pd.to_datetime([None, "2026-03-01"]), "mrr": [100.0, 50.0],
        }})


def test_paying_accounts_by_hand():
    trend = paying_accounts(_Tiny(), pd.Period("2026-03", "M"), 3)
    assert trend["paying_accounts"].tolist() == [2, 2, 1]
    assert trend["mrr"].tolist() == [150.0, 150.0, 100.0]


@pytest.mark.slow
def test_notebook_runs(small_world_path, tmp_path):
    summary = execute_notebook("{notebook}", small_world_path, tmp_path, month="2026-10")
    assert summary["paying_accounts"] > 0
'''

CHECKLIST = """
Written: {written}

Next:
  1. Say what the analysis answers in analyses/{name}/__init__.py, then build it: compute*.py (numbers only),
     result.py (what the notebook and summary.json need), words.py (every sentence), charts.py.
  2. Settings: add your parameters to analyses/{name}/settings.py (types, ranges, a description each), then
     `.venv/bin/python tools/notebooks.py sync` rewrites the notebook's parameters cell; put the same defaults,
     with comments, in params/{notebook}.yml (tests/test_architecture.py checks they agree).
  3. Notebook: write the sections in notebooks/{notebook}.ipynb: each heading and what a chart means for a CS
     leader is a Section in words.SECTIONS shown with nb.section(...); one-line calls into the package; outputs
     stay stripped.
  3b. Words: every string a reader sees marked _() / ngettext() / N_(); then `.venv/bin/python tools/i18n.py
     update`, translate the new entries of src/csresearch/locale/*/LC_MESSAGES/csresearch.po, and
     `tools/i18n.py check` (docs/developing.md, "Translating").
  4. Add "{notebook}" to run.notebooks in params/defaults.yml to include it in the monthly run.
  5. Tests: tests/test_{name}.py against hand-computed cases and planted truths (the synthetic world in
     src/csresearch/data/synth/ can plant one); `make test` runs ruff, mypy and the architecture checks.
  6. Docs: a paragraph in README.md ("What each report needs") and in docs/developing.md if it adds a concept
     to core/.
"""


def register(notebook: str, name: str, root: Path = ROOT) -> None:
    path = root / "src" / "csresearch" / "analyses" / "__init__.py"
    text = path.read_text()
    if f'"{notebook}"' in text:
        return
    text = re.sub(r"(REPORTS: dict\[str, str\] = \{\n(?:    .*\n)*)", rf'\1    "{notebook}": "{name}",\n', text, count=1)
    path.write_text(text)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Write the skeleton of a new analysis.")
    parser.add_argument("name", help="package name, snake_case: renewal_forecast")
    parser.add_argument("--number", required=True, help="two-digit notebook number: 06")
    parser.add_argument("--title", required=True, help='report title: "Renewal forecast"')
    parser.add_argument("--root", type=Path, default=ROOT, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if not re.fullmatch(r"[a-z][a-z0-9_]*", args.name) or not re.fullmatch(r"\d\d", args.number):
        parser.error("name must be snake_case and number two digits")
    root = args.root
    notebook = f"{args.number}_{args.name}"
    package = root / "src" / "csresearch" / "analyses" / args.name
    if package.exists() or (root / "notebooks" / f"{notebook}.ipynb").exists():
        parser.error(f"{args.name} already exists")
    package.mkdir(parents=True)
    fill = {"name": args.name, "notebook": notebook, "title": args.title}
    for filename, template in FILES.items():
        (package / filename).write_text(template.format(**fill))
    (root / "params" / f"{notebook}.yml").write_text(
        f"# {args.title} (notebooks/{notebook}.ipynb). Defaults of analyses/{args.name}/settings.py.\n"
        "trend_months: 12              # months shown, up to the report month\n")
    (root / "tests" / f"test_{args.name}.py").write_text(TEST.format(**fill))
    register(notebook, args.name, root)
    sys.path.insert(0, str(root / "src"))
    import importlib

    from csresearch.notebook.parameters import cell_source
    from new_notebook import write

    settings = importlib.import_module(f"csresearch.analyses.{args.name}.settings").Settings
    write(root / "notebooks" / f"{notebook}.ipynb", [
        ("params", cell_source(settings)),
        ("code", f"from csresearch.analyses.{args.name} import charts, report, words\n"
                 "from csresearch.notebook import display, session\n\n"
                 "nb = session.start(report.Settings, globals())\n"
                 'nb.section(words.section("intro"))\n'
                 "ds = nb.load()\n"
                 "result = report.build(ds, nb.month, nb.settings)\n"
                 "nb.headline(words.headline(result))"),
        ("code", 'nb.section(words.section("quality"))\nnb.show_quality()'),
        ("code", 'nb.section(words.section("trend"))\ncharts.trend(result);'),
        ("code", "nb.publish(result, words.kpis(result));"),
    ])
    written = [str(p.relative_to(root)) for p in (package, root / "notebooks" / f"{notebook}.ipynb",
                                                  root / "params" / f"{notebook}.yml", root / "tests" / f"test_{args.name}.py")]
    print(CHECKLIST.format(written=", ".join(written), **fill))
    return 0


if __name__ == "__main__":
    sys.exit(main())
