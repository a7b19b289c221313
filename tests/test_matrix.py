"""Every report on data of every common shape (issue 15): the tables present, the months of history
and the awkward cases. Each analysis either computes (and then every sentence and KPI it writes
reads as a sentence: no nan, inf, n/a or None) or stops with ``NotEnoughData`` and a sentence saying
why. A crash of any other kind is a bug.

The worlds come from one small synthetic world (``matrix_worlds``); each analysis is called the way
its notebook calls it (``report.build`` and the ``words`` functions that read a result), without a
kernel, so the whole matrix runs in minutes. ``test_notebooks_on_a_six_month_export`` runs the six
notebooks end to end on the shape the issue names.
"""

from __future__ import annotations

import importlib
import inspect
import json
import re
from pathlib import Path

import pandas as pd
import pytest

import matrix_worlds as mw
from conftest import HEALTH_FILE, world_path
from csresearch.analyses import REPORTS, settings_for
from csresearch.errors import NotEnoughData

pytestmark = pytest.mark.slow

BAD = re.compile(r"(?<![A-Za-z])(nan|NaN|inf|n/a|None)(?![A-Za-z])|−nan|\bnull\b")
SHAPES = [(tables, months, None) for tables in ("core", "events", "all") for months in (3, 6, 24)]
SCENARIOS = [("all", 24, s) for s in ("no_churn", "everyone_churns", "single_account", "no_expansion",
                                     "one_churn_date")] + [("core", 6, "no_expansion"), ("core", 6, "single_account")]
WORLDS = SHAPES + SCENARIOS
BASE = dict(accounts=150, months=24, seed=5, end_month="2026-10")


def _id(world) -> str:
    tables, months, name = world
    return f"{tables}-{months}m" + (f"-{name}" if name else "")


@pytest.fixture(scope="module")
def base_tables() -> dict[str, pd.DataFrame]:
    import duckdb

    con = duckdb.connect(str(world_path(**BASE)), read_only=True)
    tables = {t: con.table(t).df() for (t,) in con.execute("SHOW TABLES").fetchall()}
    con.close()
    return tables


@pytest.fixture(scope="module")
def worlds(base_tables, tmp_path_factory) -> dict[str, tuple[Path, pd.Period]]:
    root = tmp_path_factory.mktemp("matrix")
    out = {}
    for world in WORLDS:
        tables, months, name = world
        cut, month = mw.cut(base_tables, months)
        shaped = mw.keep_tables(cut, tables)
        if name:
            shaped = mw.scenario(shaped, name, month)
        out[_id(world)] = (mw.write(shaped, root / _id(world)), month)
    return out


def _build(notebook: str, ds, month: pd.Period):
    report = importlib.import_module(f"csresearch.analyses.{REPORTS[notebook]}.report")
    settings = settings_for(notebook)()
    extra = {}
    parameters = inspect.signature(report.build).parameters
    if "health_config" in parameters:
        extra["health_config"] = HEALTH_FILE
    return report.build(ds, month, settings, **extra)


def _texts(notebook: str, result) -> dict[str, str]:
    """Every sentence and KPI text the analysis writes from a result alone."""
    words = importlib.import_module(f"csresearch.analyses.{REPORTS[notebook]}.words")
    texts = {}
    for name, fn in inspect.getmembers(words, inspect.isfunction):
        if name.startswith("_") or fn.__module__ != words.__name__:
            continue
        params = [p for p in inspect.signature(fn).parameters.values() if p.default is inspect.Parameter.empty]
        if len(params) != 1 or params[0].name != "result":
            continue
        value = fn(result)
        if name == "kpis":
            for k in value:
                texts[f"kpi {k.name}"] = f"{k.name}: {k.display}"
        elif isinstance(value, str):
            texts[name] = value
        elif isinstance(value, (list, tuple)) and all(isinstance(v, str) for v in value):
            texts[name] = " ".join(value)
        elif isinstance(value, tuple) and len(value) == 2 and isinstance(value[0], dict):
            texts[name] = " ".join(f"{k}: {v}" for k, v in {**value[0], **value[1]}.items())
    return texts


@pytest.mark.parametrize("world", WORLDS, ids=_id)
@pytest.mark.parametrize("notebook", sorted(REPORTS))
def test_every_report_computes_or_says_why(worlds, world, notebook):
    from csresearch.data import open_dataset

    folder, month = worlds[_id(world)]
    ds = open_dataset(folder)
    try:
        result = _build(notebook, ds, month)
    except NotEnoughData as exc:
        sentence = str(exc)
        assert sentence and not BAD.search(sentence), sentence
        return
    texts = _texts(notebook, result)
    assert "headline" in texts
    broken = {k: v for k, v in texts.items() if BAD.search(v)}
    assert not broken, json.dumps(broken, indent=1, ensure_ascii=False)[:3000]
    for name, table in result.tables().items():  # CSVs are tables of numbers, never of exceptions
        assert isinstance(table, pd.DataFrame), name


def test_notebooks_on_a_six_month_export(base_tables, tmp_path, monkeypatch):
    """The issue's case: the world cut to its first six months, only accounts, subscriptions and
    events. Every report ends ok or 'not enough data', with sentences that read correctly."""
    from conftest import ROOT
    from csresearch.report.run import run_month

    cut, month = mw.cut(base_tables, 6)
    data = mw.write(mw.keep_tables(cut, "events"), tmp_path / "export")
    monkeypatch.chdir(ROOT)
    ok, folder = run_month(month=str(month), data=str(data), reports_dir=tmp_path / "reports", jobs=2,
                           progress=lambda _: None)
    manifest = json.loads((folder / "manifest.json").read_text())
    status = {n["notebook"]: n for n in manifest["notebooks"]}
    assert all(n["status"] in ("ok", "not enough data") for n in status.values()), \
        {k: (v["status"], v.get("error")) for k, v in status.items()}
    for name, entry in status.items():
        headline = (entry.get("summary") or {}).get("headline") or entry.get("error") or ""
        assert headline and not BAD.search(headline), (name, headline)
