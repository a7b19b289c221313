"""The shape of the package, checked: imports only go downhill, no import loops, every module
imports on its own, every analysis has the same inner shape and offers the same contract, every
notebook reads the same way, and the settings models are the single source of defaults.

Floors (docs/developing.md): ground (errors, period, text, i18n, style) < data < core < analyses <
notebook/report < cli. A module may import its own floor or lower; an analysis may import
``analyses.base`` and its own package, never another analysis.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from conftest import ROOT
from csresearch.analyses import REPORTS, settings_for
from csresearch.analyses.base import ReportSettings

SRC = ROOT / "src" / "csresearch"
MAX_LINES = 800
GROUND = {"errors", "period", "text", "style", "i18n", "__init__"}
FLOORS = {"ground": 0, "data": 1, "core": 2, "analyses": 3, "notebook": 4, "report": 4, "cli": 5}
SHAPE = ("settings.py", "result.py", "words.py", "charts.py", "report.py", "__init__.py")


def _modules() -> dict[str, Path]:
    found = {}
    for path in SRC.rglob("*.py"):
        parts = path.relative_to(SRC.parent).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        found[name] = path
    return found


MODULES = _modules()


def _floor(module: str) -> str:
    parts = module.split(".")
    if len(parts) == 1:
        return "ground"
    top = parts[1]
    if top in GROUND:
        return "ground"
    return top


def _imports(module: str, path: Path) -> set[str]:
    """Every csresearch module ``module`` imports, at any depth of its code (lazy imports included)."""
    package = module if path.name == "__init__.py" else module.rsplit(".", 1)[0]
    out = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            out |= {a.name for a in node.names if a.name.startswith("csresearch")}
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - (node.level - 1)]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            if not target.startswith("csresearch"):
                continue
            for alias in node.names:  # "from . import x" may import the submodule x
                candidate = f"{target}.{alias.name}"
                out.add(candidate if candidate in MODULES else target)
    return {m for m in out if m in MODULES and m != module}


GRAPH = {m: _imports(m, p) for m, p in MODULES.items()}


def _analysis(module: str) -> str | None:
    parts = module.split(".")
    return parts[2] if len(parts) > 2 and parts[1] == "analyses" and parts[2] != "base" else None


def test_imports_only_go_downhill():
    wrong = []
    for module, targets in GRAPH.items():
        here = _floor(module)
        if here not in FLOORS:
            wrong.append(f"{module}: not on any floor (move it to ground, data, core, analyses, notebook or report)")
            continue
        for target in targets:
            there = _floor(target)
            if FLOORS.get(there, 99) > FLOORS[here] or (here in ("notebook", "report") and there == "cli"):
                wrong.append(f"{module} ({here}) imports {target} ({there})")
            mine, theirs = _analysis(module), _analysis(target)
            if mine and theirs and mine != theirs:
                wrong.append(f"{module} imports another analysis: {target}")
    assert not wrong, "\n".join(sorted(wrong))


def test_no_import_loops():
    """No cycle in the module graph (lazy imports count: a loop hidden in a function is still a loop)."""
    state: dict[str, int] = {}
    cycles = []

    def visit(node: str, stack: list[str]) -> None:
        state[node] = 1
        for nxt in sorted(GRAPH[node]):
            if nxt.startswith(node + ".") or node.startswith(nxt + "."):
                continue  # a package and its own submodules
            if state.get(nxt) == 1:
                cycles.append(" -> ".join(stack[stack.index(nxt):] + [nxt]))
            elif nxt not in state:
                visit(nxt, stack + [nxt])
        state[node] = 2

    for module in sorted(GRAPH):
        if module not in state:
            visit(module, [module])
    assert not cycles, "\n".join(cycles)


def test_every_module_imports_on_its_own():
    """Each module imported first, in a clean module table (one interpreter, csresearch modules
    dropped between imports), so an import that works only after another module loaded is caught."""
    script = (
        "import importlib, sys\n"
        "failed = []\n"
        f"for name in {sorted(MODULES)!r}:\n"
        "    for loaded in [m for m in sys.modules if m == 'csresearch' or m.startswith('csresearch.')]:\n"
        "        del sys.modules[loaded]\n"
        "    try:\n"
        "        importlib.import_module(name)\n"
        "    except Exception as exc:\n"
        "        failed.append(f'{name}: {type(exc).__name__}: {exc}')\n"
        "print('\\n'.join(failed))\n"
        "sys.exit(1 if failed else 0)\n"
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, cwd=ROOT, timeout=600)
    assert done.returncode == 0, done.stdout + done.stderr[-2000:]


@pytest.mark.parametrize("module", sorted(MODULES))
def test_no_module_is_too_long(module):
    lines = len(MODULES[module].read_text().splitlines())
    assert lines <= MAX_LINES, f"{module}: {lines} lines; split it (one concern per module)"


@pytest.mark.parametrize("notebook", sorted(REPORTS))
def test_every_analysis_has_the_shape_and_the_contract(notebook):
    package = SRC / "analyses" / REPORTS[notebook]
    missing = [f for f in SHAPE if not (package / f).exists()]
    assert not missing, f"{package.name} lacks {missing}"
    assert list(package.glob("compute*.py")), f"{package.name} has no compute*.py"
    import importlib

    report = importlib.import_module(f"csresearch.analyses.{REPORTS[notebook]}.report")
    words = importlib.import_module(f"csresearch.analyses.{REPORTS[notebook]}.words")
    settings = settings_for(notebook)
    assert settings is not None and issubclass(settings, ReportSettings) and settings.notebook == notebook
    assert settings.title, "a title for the report's pages"
    assert report.Settings is settings and callable(report.build)
    for verb in ("headline", "kpis"):
        assert callable(getattr(words, verb, None)), f"words.{verb}(result)"
    compute_imports = {t for m in GRAPH if m.startswith(f"csresearch.analyses.{REPORTS[notebook]}.compute")
                       for t in GRAPH[m]}
    shown = [t for t in compute_imports if t.endswith((".words", ".charts", ".views")) or t.startswith("csresearch.style")]
    assert not shown, f"compute modules hold numbers only, yet import {shown}"


@pytest.mark.parametrize("notebook", sorted(REPORTS))
def test_every_notebook_reads_the_same_way(notebook):
    import nbformat

    from csresearch.notebook.parameters import cell_source

    nb = nbformat.read(ROOT / "notebooks" / f"{notebook}.ipynb", as_version=4)
    code = [c.source for c in nb.cells if c.cell_type == "code"]
    assert code[0] == cell_source(settings_for(notebook)), "parameters cell out of date: python tools/notebooks.py sync"
    body = "\n".join(code[1:])
    package = REPORTS[notebook]
    for call in (f"from csresearch.analyses.{package} import", "nb = session.start(report.Settings, globals())",
                 "ds = nb.load()", "result = report.build(ds, nb.month, nb.settings", "nb.headline(words.headline(result))",
                 "nb.publish(result, words.kpis(result)"):
        assert call in body, f"{notebook}: the contract call {call!r} is missing"
    assert "from csresearch import" not in body, "notebooks call their analysis package, not old flat modules"
    longest = max(len(c.splitlines()) for c in code[1:])
    assert longest <= 12, f"{notebook}: a cell of {longest} lines; move logic into the package"


@pytest.mark.parametrize("notebook", sorted(REPORTS))
def test_params_files_hold_the_settings_defaults(notebook):
    """params/<notebook>.yml documents the defaults; every key is a setting and every value is the
    settings model's default (the model is the single source; the file is checked against it)."""
    settings = settings_for(notebook)
    path = ROOT / "params" / f"{notebook}.yml"
    own = yaml.safe_load(path.read_text()) or {} if path.exists() else {}
    unknown = sorted(set(own) - set(settings.model_fields))
    assert not unknown, f"{path.name}: {unknown} are not settings of {notebook}"
    from_file = settings.model_validate(own)
    default = settings()
    differ = {k: (getattr(from_file, k), getattr(default, k)) for k in own if getattr(from_file, k) != getattr(default, k)}
    assert not differ, f"{path.name} and the settings model disagree: {differ}"


def test_shared_defaults_match_every_settings_model():
    shared = {k: v for k, v in yaml.safe_load((ROOT / "params" / "defaults.yml").read_text()).items() if k != "run"}
    for notebook in REPORTS:
        settings = settings_for(notebook)
        for key, value in shared.items():
            if key in settings.model_fields and key not in ReportSettings.model_fields:
                assert getattr(settings.model_validate({key: value}), key) == getattr(settings(), key), (notebook, key)


def test_settings_refuse_bad_values_with_a_sentence():
    from csresearch.errors import ParameterError
    from csresearch.report.run import check_settings

    with pytest.raises(ParameterError, match="trend_months = -5"):
        check_settings("00_data_overview", {"trend_months": -5})
    with pytest.raises(ParameterError, match="month = '2025-13'"):
        check_settings("00_data_overview", {"month": "2025-13"})
    with pytest.raises(ParameterError, match="trend_monts"):
        check_settings("00_data_overview", {"trend_monts": 3})
    check_settings("00_data_overview", {"trend_months": 6, "month": "2026-10"})


def test_new_analysis_writes_a_skeleton_that_follows_the_contract(tmp_path):
    """tools/new_analysis.py in a copy of the project: the new package has the shape, is registered,
    its notebook reads the same way with a parameters cell from its settings, and it computes."""
    import shutil

    for folder in ("src", "tools", "params", "notebooks"):
        shutil.copytree(ROOT / folder, tmp_path / folder, ignore=shutil.ignore_patterns("*.egg-info", "__pycache__"))
    (tmp_path / "tests").mkdir()
    done = subprocess.run([sys.executable, str(tmp_path / "tools" / "new_analysis.py"), "renewal_forecast",
                           "--number", "06", "--title", "Renewal forecast", "--root", str(tmp_path)],
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert "Next:" in done.stdout and "params/defaults.yml" in done.stdout, "the checklist of what else to touch"
    check = (
        "import json, nbformat, pandas as pd\n"
        "from csresearch.analyses import REPORTS, settings_for\n"
        "from csresearch.notebook.parameters import cell_source\n"
        "from csresearch.analyses.renewal_forecast import report, words\n"
        "assert REPORTS['06_renewal_forecast'] == 'renewal_forecast'\n"
        "nb = nbformat.read('notebooks/06_renewal_forecast.ipynb', as_version=4)\n"
        "code = [c.source for c in nb.cells if c.cell_type == 'code']\n"
        "assert code[0] == cell_source(settings_for('06_renewal_forecast'))\n"
        "assert 'nb = session.start(report.Settings, globals())' in code[1]\n"
        "class Tiny:\n"
        "    def table(self, name):\n"
        "        return pd.DataFrame({'account_id': ['a'], 'start_date': pd.to_datetime(['2026-01-01']),\n"
        "                             'end_date': pd.to_datetime([None]), 'mrr': [10.0]})\n"
        "r = report.build(Tiny(), pd.Period('2026-03', 'M'), report.Settings())\n"
        "assert r.summary() == {'paying_accounts': 1} and words.headline(r).startswith('1 paying')\n"
    )
    import os

    env = {**os.environ, "PYTHONPATH": str(tmp_path / "src")}
    done = subprocess.run([sys.executable, "-c", check], capture_output=True, text=True, cwd=tmp_path, env=env, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    assert (tmp_path / "tests" / "test_renewal_forecast.py").exists()
    for filename in SHAPE + ("compute.py",):
        assert (tmp_path / "src" / "csresearch" / "analyses" / "renewal_forecast" / filename).exists()
