"""The monthly run: check everything, then execute each report notebook with papermill, render HTML
with code hidden, and publish ``reports/<month>/`` with an index page and a manifest.

What a run guarantees (README, "What a run guarantees"):
- every parameter, setting and the data are checked before anything is written or any kernel
  starts (exit 2 and one sentence);
- one run at a time per reports folder (:mod:`.lock`); debris of dead runs is removed at start;
- notebooks run in worker processes that die with the run (:mod:`.workers`); a worker that dies
  fails its own notebook only;
- nothing replaces a good report unless it is good (:mod:`.publish`): a failed notebook keeps the
  month's last good output, marked stale; ad-hoc runs publish to their own folder.
"""

from __future__ import annotations

import json
import os
import platform
import shutil
import sys
import time
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from importlib import metadata
from pathlib import Path
from typing import Any, Callable, Mapping

from ..analyses.base import ReportSettings
from ..errors import CsresearchError, ParameterError
from ..period import check_month, resolve_month
from ..text import month_label
from . import brief as brief_numbers
from . import index as index_page
from .lock import ReportsLock
from .params import RUN_KEY, defaults, notebook_parameters
from .paths import project_root, resolve_path
from .publish import ADHOC_FOLDERS, PublishError, adhoc_folder, adhoc_runs, keep_last_good, previous_entries, swap_in
from .render import failure_page
from .workers import Interrupted, run_all

# keys that say where the month's data is and how to read it, not what a report is about
RUN_WIDE = set(ReportSettings.run_keys())
# a notebook whose data cannot support it says why (errors.NotEnoughData): not a failure of the run
NOT_ENOUGH = "not enough data"

KEY_PACKAGES = ["csresearch", "pandas", "numpy", "duckdb", "lifelines", "scikit-learn", "causalml",
                "statsmodels", "papermill", "nbconvert", "seaborn", "matplotlib"]


class RunInterrupted(CsresearchError):
    """The run was stopped (SIGTERM / Ctrl-C) before it published."""

    exit_code = 1


@dataclass
class NotebookResult:
    notebook: str
    status: str  # ok | failed
    seconds: float
    html: str
    parameters: dict
    error: str | None = None
    summary: dict = field(default_factory=dict)


def available_notebooks(root: Path | None = None) -> list[str]:
    root = root or project_root()
    return sorted(p.stem for p in (root / "notebooks").glob("[0-9][0-9]_*.ipynb"))


def declared_parameters(path: Path) -> dict[str, str | None]:
    """Names assigned in the notebook's cell tagged ``parameters``, with their default's source text.

    Read with ``ast`` rather than papermill's line parser, which skips lines it cannot parse (some
    trailing comments) and would let an override be silently ignored.
    """
    import ast

    import nbformat

    nb = nbformat.read(path, as_version=4)
    cells = [c for c in nb.cells if c.cell_type == "code" and "parameters" in c.metadata.get("tags", [])]
    if not cells:
        raise ParameterError(f"{path.name}: no code cell tagged 'parameters'")
    source = cells[0].source
    declared = {}
    for node in ast.parse(source).body:
        if isinstance(node, (ast.Assign, ast.AnnAssign)):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            for target in targets:
                if isinstance(target, ast.Name):
                    declared[target.id] = ast.get_source_segment(source, node.value) if node.value else None
    return declared


def ensure_kernel(name: str) -> None:
    """Register this environment's Python as Jupyter kernel ``name`` if it is missing."""
    from jupyter_client.kernelspec import KernelSpecManager, NoSuchKernel

    try:
        KernelSpecManager().get_kernel_spec(name)
    except NoSuchKernel:
        from ipykernel.kernelspec import install

        install(kernel_name=name, display_name=f"Python ({name})", prefix=sys.prefix)



def run_month(
    month: str | None = None,
    data: str | None = None,
    only: list[str] | None = None,
    overrides: Mapping[str, Any] | None = None,
    root: Path | None = None,
    reports_dir: Path | None = None,
    jobs: int | None = None,
    progress: Callable[[str], None] = print,
    wait_seconds: float = 0.0,
) -> tuple[bool, Path]:
    """Run the month's notebooks; return (all succeeded, the folder published).

    Every parameter, setting and the data are checked before anything is written or any kernel
    starts; then the reports folder is locked for this run, the notebooks run into a staging folder,
    and the result is published (see :mod:`csresearch.report.publish`).
    """
    root = (root or project_root()).resolve()
    settings = defaults(root)
    run_settings = settings.get(RUN_KEY, {})
    overrides = dict(overrides or {})
    if "month" in overrides:  # `-p month=...` is the same as --month, never silently ignored
        asked = str(overrides.pop("month"))
        if month is not None and str(month) != asked:
            raise ParameterError(f"--month {month} and -p month={asked} disagree: give the month once")
        month = asked
    asked_month = month if month is not None else settings.get("month")
    if asked_month is not None:
        check_month(str(asked_month))
    names = list(run_settings.get("notebooks") or available_notebooks(root))
    if only:
        only = [_full_name(name, root) for name in only]
        unknown = sorted(set(only) - set(available_notebooks(root)))
        if unknown:
            raise ParameterError(f"--only: unknown notebook(s) {unknown}; see `csresearch list`")
        names = [n for n in names if n in only] + [n for n in only if n not in names]
    kernel = run_settings.get("kernel", "csresearch")
    timeout = int(run_settings.get("timeout_seconds", 900))
    jobs = jobs or int(run_settings.get("jobs", 1))
    adhoc = adhoc_folder(overrides, RUN_WIDE)

    if data is not None:
        overrides["data"] = data
    from ..data.load import refuse_credentials

    refuse_credentials(overrides.get("data", settings.get("data")))  # before it is resolved, printed or written
    data_source = resolve_path(overrides.get("data", settings.get("data")), root)
    if data_source is None:
        raise ParameterError("no data named: give --data, or data: in params/defaults.yml")
    overrides["data"] = data_source

    # 1. parameters and settings, before anything is written or any kernel starts (the month is checked
    #    for its form here and against the data's coverage below)
    declared = {name: declared_parameters(root / "notebooks" / f"{name}.ipynb") for name in names}
    everything = set().union(*declared.values()) | set(settings)
    unknown = sorted(set(overrides) - everything)
    if unknown:
        raise ParameterError(f"unknown parameter(s) {unknown}: no notebook of this run declares them")
    for name in names:
        check_settings(name, {**_parameters_for(name, declared[name], overrides, root),
                              "month": str(asked_month or "2000-01")})

    # 2. the data, validated once, and the dates it covers: the default month is the last month the
    #    data covers completely; a month it does not cover is refused
    from ..data import open_dataset
    from ..i18n import set_language
    from ..notebook.session import check_currency_column
    from ..text import use_locale

    run_started = time.perf_counter()
    mapping = resolve_path(overrides.get("column_mapping") or settings.get("column_mapping"), root)
    reject = bool(overrides.get("reject_invalid_rows", settings.get("reject_invalid_rows", False)))
    ds = open_dataset(data_source, mapping=mapping, reject_invalid_rows=reject,
                      engine=overrides.get("engine", settings.get("engine")))
    try:
        covered = ds.data_coverage(overrides.get("data_as_of", settings.get("data_as_of")))
        run_currency = overrides.get("currency", settings.get("currency")) or "USD"
        check_currency_column(ds, run_currency)
        # the index and the runner's own lines speak the run's language and currency, as the kernels do:
        # the catalog's words (i18n) and the numbers, months and money (text)
        run_language = overrides.get("language", settings.get("language")) or "en"
        set_language(run_language)
        use_locale(run_language, run_currency)
        fingerprint, quality, source = ds.fingerprint, ds.quality.to_dict(orient="records"), ds.source
        brief_tables = (ds.table("subscriptions"), ds.table("accounts"))  # the brief's trend lines, below
    finally:
        ds.con.close()
    period = resolve_month(asked_month) if asked_month is not None else covered.last_complete_month
    partial = bool(overrides.get("partial_month", settings.get("partial_month", False)))
    covered.check(period, partial)
    overrides["month"] = str(period)
    parameters = {name: _parameters_for(name, declared[name], overrides, root) for name in names}
    coverage = {"first": str(covered.first.date()), "last": str(covered.last.date()), "source": covered.source,
                "partial_month": not covered.covers(period)}
    brief_series = brief_numbers.safe_month_series(*brief_tables, period, _churn_parameters(names, parameters, root))
    ensure_kernel(kernel)

    # 3. one run at a time per reports folder; then run into staging and publish
    reports_dir = (reports_dir or root / "reports").resolve()
    month_folder = reports_dir / str(period)
    final = month_folder / adhoc if adhoc else month_folder
    with ReportsLock(reports_dir, wait_seconds):
        staging = reports_dir / f".staging-{period}-{os.getpid()}-{int(time.time() * 1000)}"
        try:
            return _run_and_publish(names, parameters, root, staging, final, month_folder, period, kernel, timeout,
                                    jobs, only, adhoc, source, fingerprint, quality, overrides, run_started,
                                    run_settings, progress, coverage, brief_series)
        except OSError as exc:
            raise PublishError(f"cannot write the reports folder {reports_dir}: {exc.strerror or exc}; "
                               "the reports published before are unchanged") from None
        finally:
            shutil.rmtree(staging, ignore_errors=True)


def _run_and_publish(names, parameters, root, staging, final, month_folder, period, kernel, timeout, jobs, only,
                     adhoc, source, fingerprint, quality, overrides, run_started, run_settings,
                     progress, coverage, brief_series=None) -> tuple[bool, Path]:
    staging.mkdir(parents=True)
    if only and not adhoc and final.exists():  # a partial rerun keeps the other notebooks' last reports
        shutil.copytree(final, staging, dirs_exist_ok=True, ignore=shutil.ignore_patterns(*ADHOC_FOLDERS))
    tasks = {}
    for name in names:
        params = {**parameters[name], "output_dir": str(staging / name)}
        tasks[name] = {"notebook": name, "src": str(root / "notebooks" / f"{name}.ipynb"),
                       "out_ipynb": str(staging / f"{name}.ipynb"), "out_html": str(staging / f"{name}.html"),
                       "parameters": params, "kernel": kernel, "timeout": timeout, "cwd": str(root),
                       "title": page_title(name, period), **_previous(final, period, name, adhoc)}

    results: dict[str, NotebookResult] = {}
    where = f" ({adhoc})" if adhoc else ""
    progress(f"csresearch run {period}{where}: {len(names)} notebook(s), {jobs} at a time, data {source}")

    def done(name: str, outcome: dict) -> None:
        page = staging / f"{name}.html"
        if outcome["error"] and not page.exists():  # the worker died before it could render a page
            page.write_text(failure_page(tasks[name]["title"], outcome["error"]), encoding="utf-8")
        summary_path = staging / name / "summary.json"
        summary = json.loads(summary_path.read_text()) if summary_path.exists() and not outcome["error"] else {}
        params = {k: v for k, v in tasks[name]["parameters"].items() if k != "output_dir"}
        status = "ok" if not outcome["error"] else (
            NOT_ENOUGH if str(outcome["error"]).startswith("NotEnoughData") else "failed")
        error = str(outcome["error"]).removeprefix("NotEnoughData: ") if status == NOT_ENOUGH else outcome["error"]
        results[name] = NotebookResult(name, status, round(outcome["seconds"], 1), f"{name}.html", params, error, summary)
        mark = {"ok": "ok    ", "failed": "FAILED", NOT_ENOUGH: "NODATA"}[status]
        progress(f"  {mark} {name:<28} {outcome['seconds']:6.1f}s" + (f"  {outcome['error']}" if outcome["error"] else ""))
        if status != "failed":
            (staging / f"{name}.ipynb").unlink(missing_ok=True)

    try:
        run_all(tasks, jobs, staging / "logs", done)
    except Interrupted as exc:
        raise RunInterrupted(f"the run was {exc}; the reports published before are unchanged") from None

    # a notebook that failed keeps the month's last good output; earlier results of notebooks not rerun stay
    previous = previous_entries(final)
    entries = {}
    for name, result in results.items():
        entry = asdict(result)
        entries[name] = keep_last_good(staging, final, name, entry, previous) if result.status == "failed" else entry
    kept = {n: e for n, e in previous.items() if only and not adhoc and n not in entries}
    order = [*dict.fromkeys([*run_settings.get("notebooks", []), *kept, *entries])]
    ordered = [entries.get(n) or kept[n] for n in order if n in entries or n in kept]

    manifest = {
        "month": str(period),
        "generated_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "data": {"source": source, "fingerprint": fingerprint, "quality": quality, "coverage": coverage},
        "parameters": {k: v for k, v in overrides.items()},
        "adhoc": adhoc,
        "notebooks": ordered,
        "seconds": round(time.perf_counter() - run_started, 1),
        "python": platform.python_version(),
        "packages": {p: _version(p) for p in KEY_PACKAGES},
        "ok": all(n["status"] in ("ok", NOT_ENOUGH) for n in ordered),
        "brief": brief_series,
    }
    (staging / "manifest.json").write_text(json.dumps(manifest, indent=2, default=str))
    index_page.write(staging / "index.html", manifest, adhoc_runs(final) if not adhoc else [], month_folder.parent)
    swap_in(staging, final)
    if adhoc and (month_folder / "manifest.json").exists():  # the month's index lists its ad-hoc runs
        month_manifest = json.loads((month_folder / "manifest.json").read_text())
        tmp = month_folder / ".index.html.tmp"
        index_page.write(tmp, month_manifest, adhoc_runs(month_folder), month_folder.parent)
        tmp.replace(month_folder / "index.html")
    ok = all(r.status in ("ok", NOT_ENOUGH) for r in results.values())
    progress(f"{'done' if ok else 'FAILED'} in {manifest['seconds']:.0f}s: {final / 'index.html'}")
    return ok, final


def _churn_parameters(names: list[str], parameters: Mapping[str, dict], root: Path) -> dict:
    """Report 01's parameters (its churn conventions shape the brief's trend lines), also when it is not
    in this run."""
    name = brief_numbers.CHURN_NOTEBOOK
    if name in parameters:
        return dict(parameters[name])
    path = root / "notebooks" / f"{name}.ipynb"
    return notebook_parameters(name, declared_parameters(path), {}, root) if path.exists() else {}


def _previous(final: Path, period, name: str, adhoc: str | None) -> dict:
    """The link to the same report a month earlier, when that month was published beside this one."""
    before = period - 1
    if adhoc or not (final.parent / str(before) / f"{name}.html").exists():
        return {}
    return {"previous_href": f"../{before}/{name}.html", "previous_label": month_label(before)}


def _title(name: str) -> str:
    from ..analyses import settings_for
    from ..i18n import _

    model = settings_for(name)
    return _(model.title) if model is not None and model.title else name   # titles are in the catalog


def page_title(name: str, period) -> str:
    """A report page's title in the run's language: "Churn decomposition — November 2026"."""
    from ..i18n import _

    # TRANSLATORS: a report page's <title>: the report's title and its month
    return _("{report} — {month}").format(report=_title(name), month=month_label(period))


def check_settings(notebook: str, params: Mapping[str, Any]) -> None:
    """Validate one notebook's merged parameters with its analysis's settings model (types, ranges,
    unknown keys) before any kernel starts: :class:`ParameterError` with one sentence otherwise."""
    from pydantic import ValidationError

    from ..analyses import settings_for
    from ..notebook.session import settings_error_text

    model = settings_for(notebook)
    if model is None:
        return
    try:
        model.model_validate(dict(params))
    except ValidationError as exc:
        raise ParameterError(settings_error_text(notebook, exc)) from None


def _full_name(name: str, root: Path) -> str:
    """Accept a notebook's name without its number: ``churn_postmortem`` -> ``05_churn_postmortem``."""
    matches = [n for n in available_notebooks(root) if n == name or n.split("_", 1)[1] == name]
    return matches[0] if len(matches) == 1 else name


def _parameters_for(name: str, declared: Mapping[str, Any], overrides: Mapping[str, Any], root: Path) -> dict:
    """Run-wide overrides (data, month, ...) go to every notebook that declares them; the rest are
    checked against the notebook (an override no notebook declares is an error, raised earlier)."""
    run_wide = {k: v for k, v in overrides.items() if k in declared}
    return notebook_parameters(name, declared, run_wide, root)


def _version(package: str) -> str | None:
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return None

