"""The monthly run: execute each report notebook with papermill, render HTML with code hidden, and
publish ``reports/<month>/`` atomically with an index page and a manifest.

Everything is written to a staging folder first; only when every notebook has had its chance is the
staging folder swapped in for the month's folder (two renames), so a reader never sees a
half-written report where the last good one was. A failing notebook still gets an HTML page showing
its error, the others still run, and :func:`run_month` reports failure so the CLI exits non-zero.
"""

from __future__ import annotations

import json
import os
import platform
import shutil
import sys
import time
import traceback
from concurrent.futures import ProcessPoolExecutor, as_completed
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from importlib import metadata
from pathlib import Path
from typing import Any, Callable, Mapping

from ..errors import ParameterError
from ..period import resolve_month
from . import index as index_page
from .params import RUN_KEY, defaults, notebook_parameters
from .paths import project_root, resolve_path
from .render import render_html

KEY_PACKAGES = ["csresearch", "pandas", "numpy", "duckdb", "lifelines", "scikit-learn", "causalml",
                "statsmodels", "papermill", "nbconvert", "seaborn", "matplotlib"]


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


@contextmanager
def _kernel_stderr_to(path: Path):
    """Send what the kernel process writes to stderr (ipykernel's start-up warnings, a crashing
    library's last words) to ``path`` instead of the scheduler's log, which should stay quiet when
    all is well (cron mails any output). The kernel inherits file descriptor 2 from this worker
    process, which runs one notebook at a time, so redirecting it here is safe."""
    path.parent.mkdir(parents=True, exist_ok=True)
    sys.stderr.flush()
    saved = os.dup(2)
    try:
        with open(path, "ab") as log:
            os.dup2(log.fileno(), 2)
            yield
    finally:
        sys.stderr.flush()
        os.dup2(saved, 2)
        os.close(saved)


def _execute_one(notebook: str, src: str, out_ipynb: str, out_html: str, parameters: dict,
                 kernel: str, timeout: int, cwd: str) -> dict:
    """Run in a worker process: papermill, then HTML. Returns a plain dict (picklable)."""
    import papermill as pm

    started = time.perf_counter()
    error = None
    try:
        with _kernel_stderr_to(Path(out_ipynb).parent / "logs" / f"{notebook}.kernel.log"):
            pm.execute_notebook(src, out_ipynb, parameters=parameters, kernel_name=kernel,
                                execution_timeout=timeout, progress_bar=False, log_output=False, cwd=cwd)
    except pm.PapermillExecutionError as exc:
        error = f"{exc.ename}: {exc.evalue}"
    except Exception as exc:  # kernel died, notebook unreadable...: still produce a page
        error = f"{type(exc).__name__}: {exc}"
        if not Path(out_ipynb).exists():
            shutil.copy(src, out_ipynb)
    try:
        render_html(Path(out_ipynb), Path(out_html), title=notebook, error=error)
    except Exception as exc:  # noqa: BLE001 - the page must exist even if rendering fails
        Path(out_html).write_text(f"<h1>{notebook}</h1><pre>rendering failed: {exc}\n{traceback.format_exc()}</pre>")
        error = error or f"rendering failed: {exc}"
    return {"seconds": time.perf_counter() - started, "error": error}


def run_month(
    month: str | None = None,
    data: str | None = None,
    only: list[str] | None = None,
    overrides: Mapping[str, Any] | None = None,
    root: Path | None = None,
    reports_dir: Path | None = None,
    jobs: int | None = None,
    progress: Callable[[str], None] = print,
) -> tuple[bool, Path]:
    """Run the month's notebooks; return (all succeeded, the month's report folder)."""
    root = (root or project_root()).resolve()
    settings = defaults(root)
    run_settings = settings.get(RUN_KEY, {})
    overrides = dict(overrides or {})
    if "month" in overrides:  # `-p month=...` is the same as --month, never silently ignored
        asked = str(overrides.pop("month"))
        if month is not None and str(month) != asked:
            raise ParameterError(f"--month {month} and -p month={asked} disagree: give the month once")
        month = asked
    period = resolve_month(month if month is not None else settings.get("month"))
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
    ensure_kernel(kernel)

    if data is not None:
        overrides["data"] = data
    overrides["month"] = str(period)
    data_source = resolve_path(overrides.get("data", settings.get("data")), root)
    if data_source is None:
        raise ParameterError("no data named: give --data, or data: in params/defaults.yml")
    overrides["data"] = data_source

    reports_dir = (reports_dir or root / "reports").resolve()
    final = reports_dir / str(period)
    staging = reports_dir / f".staging-{period}-{int(time.time() * 1000)}"
    staging.mkdir(parents=True)
    if only and final.exists():  # a partial rerun keeps the other notebooks' last reports
        shutil.copytree(final, staging, dirs_exist_ok=True)

    # validate once up front: a broken contract fails fast with one clear message
    from ..data import ContractError, open_dataset

    run_started = time.perf_counter()
    fingerprint, quality = None, None
    try:
        mapping = resolve_path(overrides.get("column_mapping") or settings.get("column_mapping"), root)
        reject = bool(overrides.get("reject_invalid_rows", settings.get("reject_invalid_rows", False)))
        ds = open_dataset(data_source, mapping=mapping, reject_invalid_rows=reject,
                          engine=overrides.get("engine", settings.get("engine")))
        fingerprint, quality = ds.fingerprint, ds.quality.to_dict(orient="records")
        ds.con.close()
    except ContractError as exc:
        progress(f"data does not meet the contract:\n{exc}")
        shutil.rmtree(staging)
        raise

    declared = {name: declared_parameters(root / "notebooks" / f"{name}.ipynb") for name in names}
    everything = set().union(*declared.values()) | set(settings)
    unknown = sorted(set(overrides) - everything)
    if unknown:
        shutil.rmtree(staging)
        raise ParameterError(f"unknown parameter(s) {unknown}: no notebook of this run declares them")
    tasks = {}
    for name in names:
        params = _parameters_for(name, declared[name], overrides, root)
        params["output_dir"] = str(staging / name)
        try:
            check_settings(name, params)
        except ParameterError:
            shutil.rmtree(staging)
            raise
        tasks[name] = (str(root / "notebooks" / f"{name}.ipynb"), str(staging / f"{name}.ipynb"),
                       str(staging / f"{name}.html"), params)

    results: dict[str, NotebookResult] = {}
    progress(f"csresearch run {period}: {len(names)} notebook(s), {jobs} at a time, data {ds.source}")
    with ProcessPoolExecutor(max_workers=max(1, jobs)) as pool:
        futures = {
            pool.submit(_execute_one, name, src, ipynb, html, params, kernel, timeout, str(root)): name
            for name, (src, ipynb, html, params) in tasks.items()
        }
        for future in as_completed(futures):
            name = futures[future]
            try:
                outcome = future.result()
            except Exception as exc:  # noqa: BLE001
                outcome = {"seconds": 0.0, "error": f"{type(exc).__name__}: {exc}"}
            summary_path = staging / name / "summary.json"
            summary = json.loads(summary_path.read_text()) if summary_path.exists() and not outcome["error"] else {}
            params = {k: v for k, v in tasks[name][3].items() if k != "output_dir"}
            results[name] = NotebookResult(name, "failed" if outcome["error"] else "ok", round(outcome["seconds"], 1),
                                           f"{name}.html", params, outcome["error"], summary)
            mark = "ok    " if not outcome["error"] else "FAILED"
            progress(f"  {mark} {name:<28} {outcome['seconds']:6.1f}s" + (f"  {outcome['error']}" if outcome["error"] else ""))
            (staging / f"{name}.ipynb").unlink(missing_ok=True) if not outcome["error"] else None

    # keep earlier results of notebooks not rerun (partial rerun)
    previous = {}
    if only and (final / "manifest.json").exists():
        previous = {n["notebook"]: n for n in json.loads((final / "manifest.json").read_text()).get("notebooks", [])}
    ordered = [asdict(results[n]) if n in results else previous[n] for n in
               [*dict.fromkeys([*run_settings.get("notebooks", []), *previous, *results])] if n in results or n in previous]

    manifest = {
        "month": str(period),
        "generated_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "data": {"source": ds.source, "fingerprint": fingerprint, "quality": quality},
        "parameters": {k: v for k, v in overrides.items()},
        "notebooks": ordered,
        "seconds": round(time.perf_counter() - run_started, 1),
        "python": platform.python_version(),
        "packages": {p: _version(p) for p in KEY_PACKAGES},
        "ok": all(n["status"] == "ok" for n in ordered),
    }
    (staging / "manifest.json").write_text(json.dumps(manifest, indent=2, default=str))
    index_page.write(staging / "index.html", manifest)

    _swap_in(staging, final)
    ok = all(r.status == "ok" for r in results.values())
    progress(f"{'done' if ok else 'FAILED'} in {manifest['seconds']:.0f}s: {final / 'index.html'}")
    return ok, final


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


def _swap_in(staging: Path, final: Path) -> None:
    """Replace ``final`` with ``staging`` by two renames; the old folder is removed afterwards."""
    old = final.with_name(f".old-{final.name}-{int(time.time() * 1000)}")
    if final.exists():
        final.rename(old)
    staging.rename(final)
    if old.exists():
        shutil.rmtree(old, ignore_errors=True)
