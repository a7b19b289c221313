"""Execute notebooks in worker processes that cannot outlive the run.

One process per notebook (at most ``jobs`` at a time), started with ``spawn``: a worker that dies
(killed, out of memory) fails its own notebook with a named error while the others go on, which a
shared process pool cannot do (one dead worker breaks every pending future). Each worker asks the
Linux kernel to kill it when the run's process dies (``PR_SET_PDEATHSIG``), and its notebook kernel
exits when its parent goes (ipykernel's parent poller), so ``kill -9`` of the run leaves nothing
behind. SIGTERM and SIGINT of the run stop the workers before the run exits.
"""

from __future__ import annotations

import json
import multiprocessing as mp
import os
import signal
import sys
import time
import traceback
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Callable, Iterator, Mapping

POLL_SECONDS = 0.2


def _die_with_parent() -> None:
    """Ask Linux to SIGKILL this process when its parent dies (no-op elsewhere)."""
    if not sys.platform.startswith("linux"):
        return
    import ctypes

    try:
        libc = ctypes.CDLL("libc.so.6", use_errno=True)
        libc.prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except OSError:  # pragma: no cover - no libc: the parent's signal handlers still stop us
        return
    if os.getppid() == 1:  # the parent died before the call above
        os._exit(1)


@contextmanager
def _kernel_stderr_to(path: Path) -> Iterator[None]:
    """Send what the kernel process writes to stderr (ipykernel's start-up warnings, a crashing
    library's last words) to ``path`` instead of the scheduler's log, which should stay quiet when
    all is well (cron mails any output). The kernel inherits file descriptor 2 from this worker."""
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


def execute_one(notebook: str, src: str, out_ipynb: str, out_html: str, parameters: dict, kernel: str,
                timeout: int, cwd: str, title: str, previous_href: str | None = None,
                previous_label: str | None = None) -> dict:
    """Papermill, then HTML with code hidden. Returns ``{"seconds", "error"}``."""
    import shutil

    import papermill as pm

    from .render import render_html

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
        render_html(Path(out_ipynb), Path(out_html), title=title, error=error, previous_href=previous_href,
                    previous_label=previous_label)
    except Exception as exc:  # noqa: BLE001 - the page must exist even if rendering fails
        Path(out_html).write_text(_failed_page(title, exc, parameters.get("language")), encoding="utf-8")
        error = error or f"rendering failed: {exc}"
    return {"seconds": time.perf_counter() - started, "error": error}


def _failed_page(title: str, exc: Exception, language: str | None) -> str:
    """The page left when rendering itself failed, in the run's language (the traceback as Python wrote it)."""
    import html

    from ..i18n import SOURCE_LANGUAGE, _, check_language, get_language, using

    try:
        language = check_language(str(language or SOURCE_LANGUAGE))
    except ValueError:  # a language this install has no catalog for: the process's own
        language = get_language()
    with using(language):
        # TRANSLATORS: the first line of the page left when a report's HTML could not be rendered
        failed = _("rendering failed: {error}").format(error=exc)
    return (f'<!doctype html><html lang="{html.escape(language)}"><head><meta charset="utf-8">'
            f"<title>{html.escape(title)}</title></head><body><h1>{html.escape(title)}</h1>"
            f"<pre>{html.escape(failed)}\n{html.escape(traceback.format_exc())}</pre></body></html>")


def _worker(outcome_path: str, kwargs: dict) -> None:
    _die_with_parent()
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the run decides what a Ctrl-C stops
    try:
        outcome = execute_one(**kwargs)
    except BaseException as exc:  # noqa: BLE001 - report it, never hang the run
        outcome = {"seconds": 0.0, "error": f"{type(exc).__name__}: {exc}"}
    Path(outcome_path).write_text(json.dumps(outcome))


class Interrupted(Exception):
    """The run was asked to stop (SIGTERM / SIGINT)."""


def run_all(tasks: Mapping[str, dict], jobs: int, outcome_dir: Path,
            on_done: Callable[[str, dict], None]) -> dict[str, dict]:
    """Execute every task (``name -> execute_one kwargs``), at most ``jobs`` at once, calling
    ``on_done(name, outcome)`` as each finishes. A worker that dies yields
    ``{"error": "WorkerDied: ..."}`` for its notebook only."""
    ctx = mp.get_context("spawn")
    pending = list(tasks.items())
    running: dict[str, tuple[Any, Path, float]] = {}
    outcomes: dict[str, dict] = {}
    outcome_dir.mkdir(parents=True, exist_ok=True)
    stop: list[int] = []

    def _stop(signum: int, frame: Any) -> None:
        stop.append(signum)

    import threading

    main = threading.current_thread() is threading.main_thread()
    previous = {s: signal.signal(s, _stop) for s in (signal.SIGTERM, signal.SIGINT)} if main else {}
    try:
        while pending or running:
            if stop:
                raise Interrupted(f"stopped by signal {stop[0]}")
            while pending and len(running) < max(1, jobs):
                name, kwargs = pending.pop(0)
                path = outcome_dir / f"{name}.outcome.json"
                path.unlink(missing_ok=True)
                process = ctx.Process(target=_worker, args=(str(path), kwargs), name=f"csresearch-{name}")
                process.start()
                running[name] = (process, path, time.perf_counter())
            for name, (process, path, started) in list(running.items()):
                if process.is_alive():
                    continue
                process.join()
                if path.exists():
                    outcome = json.loads(path.read_text())
                else:
                    code = process.exitcode
                    how = f"killed by signal {-code}" if code is not None and code < 0 else f"exit code {code}"
                    outcome = {"seconds": time.perf_counter() - started,
                               "error": f"WorkerDied: the process running this notebook died ({how}) before it "
                                        "finished; the other reports were not affected"}
                del running[name]
                outcomes[name] = outcome
                on_done(name, outcome)
            time.sleep(POLL_SECONDS)
    finally:
        for process, _, _ in running.values():
            process.kill()
            process.join(timeout=10)
        for signum, handler in previous.items():
            signal.signal(signum, handler)
    return outcomes
