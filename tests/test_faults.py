"""Fault injection: what a run does when things go wrong, as a scheduler and an attacker would find.

A run is killed (kill -9 and SIGTERM) mid-flight, a kernel dies, a worker dies, two runs start at
once, the reports folder cannot be written or the disk fills, parameters are crafted, and a
password is planted. Each time: the last good report stays published, nothing is left running or
lying around, the next run recovers, and the user gets one sentence and an exit code.
"""

from __future__ import annotations

import errno
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import psutil
import pytest
import yaml

from conftest import ROOT

sys.path.insert(0, str(ROOT / "tools"))
from new_notebook import write as write_notebook  # noqa: E402

pytestmark = pytest.mark.slow
CLI = str(Path(sys.executable).with_name("csresearch"))
MONTH = "2026-10"


def _params_cell() -> str:
    return "data = None\nmonth = None\noutput_dir = None"


@pytest.fixture()
def project(tmp_path) -> Path:
    """A project with the overview notebook and notebooks that misbehave on request."""
    root = tmp_path / "project"
    (root / "notebooks").mkdir(parents=True)
    shutil.copytree(ROOT / "params", root / "params")
    shutil.copy(ROOT / "notebooks" / "00_data_overview.ipynb", root / "notebooks")
    # misbehaviour comes from the environment (the kernel inherits it), so runs stay monthly runs
    write_notebook(root / "notebooks" / "97_slow.ipynb", [
        ("params", _params_cell()),
        ("code", "import os, time\nfrom pathlib import Path\nPath(output_dir).mkdir(parents=True, exist_ok=True)\n"
                 "(Path(output_dir) / 'kernel.pid').write_text(str(os.getpid()))\n"
                 "time.sleep(float(os.environ.get('CSR_TEST_SLEEP', '0')))"),
    ])
    write_notebook(root / "notebooks" / "96_kills_itself.ipynb", [
        ("params", _params_cell()),
        ("code", "import os, signal\nhow = os.environ.get('CSR_TEST_HOW')\nif how == 'kernel':\n"
                 "    os.kill(os.getpid(), signal.SIGKILL)\nelif how == 'worker':\n    os.kill(os.getppid(), signal.SIGKILL)"),
    ])
    settings = yaml.safe_load((root / "params" / "defaults.yml").read_text())
    settings["run"]["notebooks"] = ["00_data_overview", "97_slow", "96_kills_itself"]
    (root / "params" / "defaults.yml").write_text(yaml.safe_dump(settings))
    return root


def _cli(project: Path, data: Path, *args: str, env: dict | None = None, wait: bool = True, **kwargs):
    command = [CLI, "run", "--month", MONTH, "--data", str(data), "--reports", str(project / "reports"), *args]
    environment = {**os.environ, "CSRESEARCH_HOME": str(project), **(env or {})}
    if not wait:
        return subprocess.Popen(command, cwd=project, env=environment, stdout=subprocess.PIPE,
                                stderr=subprocess.STDOUT, text=True, start_new_session=True)
    return subprocess.run(command, cwd=project, env=environment, capture_output=True, text=True, timeout=600, **kwargs)


def _published(project: Path) -> dict[str, bytes]:
    """Every file of the published month, by relative path (to compare before and after)."""
    month = project / "reports" / MONTH
    return {str(p.relative_to(month)): p.read_bytes() for p in sorted(month.rglob("*"))
            if p.is_file() and "logs" not in p.parts}


def _good_month(project: Path, data: Path) -> dict[str, bytes]:
    done = _cli(project, data)
    assert done.returncode == 0, done.stdout + done.stderr
    return _published(project)


def _wait_for(predicate, seconds: float = 120.0) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.3)
    raise AssertionError("timed out waiting")


def _kernel_pid(project: Path) -> int | None:
    found = list((project / "reports").glob(f".staging-{MONTH}-*/97_slow/kernel.pid"))
    return int(found[0].read_text()) if found and found[0].read_text() else None


def _descendants_gone(pids: list[int], seconds: float = 20.0) -> list[int]:
    deadline = time.monotonic() + seconds
    alive = pids
    while time.monotonic() < deadline:
        alive = [p for p in pids if psutil.pid_exists(p) and psutil.Process(p).status() != psutil.STATUS_ZOMBIE]
        if not alive:
            return []
        time.sleep(0.5)
    return alive


@pytest.mark.parametrize("how", ["kill", "term"])
def test_a_killed_run_leaves_the_last_good_report_and_nothing_running(project, small_world_path, how):
    before = _good_month(project, small_world_path)
    run = _cli(project, small_world_path, env={"CSR_TEST_SLEEP": "300"}, wait=False)
    _wait_for(lambda: _kernel_pid(project) is not None)
    family = [p.pid for p in psutil.Process(run.pid).children(recursive=True)]
    family.append(_kernel_pid(project))
    if how == "kill":
        os.kill(run.pid, signal.SIGKILL)
    else:
        os.kill(run.pid, signal.SIGTERM)
    run.wait(timeout=60)
    assert run.returncode != 0
    assert not _descendants_gone(family), "workers and kernels die with the run"
    assert _published(project) == before, "the month published before is untouched"
    if how == "term":  # a run stopped politely cleans its own staging folder
        assert not list((project / "reports").glob(".staging-*"))
    again = _cli(project, small_world_path)
    assert again.returncode == 0, again.stdout + again.stderr
    assert not list((project / "reports").glob(".staging-*")), "the next run removes a dead run's debris"


@pytest.mark.parametrize("how", ["kernel", "worker"])
def test_a_dying_kernel_or_worker_fails_only_its_notebook_and_keeps_the_last_good_one(project, small_world_path, how):
    before = _good_month(project, small_world_path)
    done = _cli(project, small_world_path, env={"CSR_TEST_HOW": how})
    assert done.returncode == 1
    month = project / "reports" / MONTH
    status = {n["notebook"]: n for n in json.loads((month / "manifest.json").read_text())["notebooks"]}
    assert status["00_data_overview"]["status"] == "ok" and status["97_slow"]["status"] == "ok"
    assert status["96_kills_itself"]["status"] == "stale", "the last good output of the notebook is kept"
    error = status["96_kills_itself"]["error"]
    if how == "worker":
        assert "WorkerDied" in error
    else:
        assert "dead" in error.lower() or "died" in error.lower(), error
    assert (month / "96_kills_itself.html").read_bytes() == before["96_kills_itself.html"]
    assert (month / "96_kills_itself.failed.html").exists()


def test_an_adhoc_run_publishes_apart_and_the_month_lists_it(project, small_world_path):
    before = _good_month(project, small_world_path)
    done = _cli(project, small_world_path, "--only", "00_data_overview", "-p", "trend_months=6")
    assert done.returncode == 0, done.stdout + done.stderr
    month = project / "reports" / MONTH
    for name, content in before.items():
        if name != "index.html":
            assert (month / name).read_bytes() == content, f"{name} replaced by an ad-hoc run"
    adhoc = month / "adhoc" / "trend_months-6"
    assert (adhoc / "00_data_overview.html").exists() and (adhoc / "index.html").exists()
    assert "adhoc/trend_months-6/index.html" in (month / "index.html").read_text()
    again = _cli(project, small_world_path)  # the next monthly run keeps the ad-hoc folder
    assert again.returncode == 0 and (adhoc / "index.html").exists()


def test_a_failed_notebook_keeps_the_months_last_good_output_marked_stale(project, small_world_path):
    _good_month(project, small_world_path)
    good_page = (project / "reports" / MONTH / "00_data_overview.html").read_bytes()
    good_csv = (project / "reports" / MONTH / "00_data_overview" / "mrr_trend.csv").read_bytes()
    broken = project / "notebooks" / "00_data_overview.ipynb"
    write_notebook(broken, [("params", _params_cell() + "\ntrend_months = 24"), ("code", "raise RuntimeError('planted')")])
    done = _cli(project, small_world_path, "--only", "00_data_overview")
    assert done.returncode == 1
    month = project / "reports" / MONTH
    assert (month / "00_data_overview.html").read_bytes() == good_page
    assert (month / "00_data_overview" / "mrr_trend.csv").read_bytes() == good_csv
    assert "planted" in (month / "00_data_overview.failed.html").read_text()
    entry = next(n for n in json.loads((month / "manifest.json").read_text())["notebooks"]
                 if n["notebook"] == "00_data_overview")
    assert entry["status"] == "stale"
    index = (month / "index.html").read_text()
    assert "stale" in index and "00_data_overview.failed.html" in index


def test_two_runs_at_once_the_second_is_refused_with_the_holder(project, small_world_path):
    first = _cli(project, small_world_path, "--only", "97_slow", env={"CSR_TEST_SLEEP": "60"}, wait=False)
    try:
        _wait_for(lambda: _kernel_pid(project) is not None)
        second = _cli(project, small_world_path, "--only", "00_data_overview")
        assert second.returncode == 2
        assert "another csresearch run holds" in second.stdout + second.stderr
        assert f"pid {first.pid}" in second.stdout + second.stderr
        assert "Traceback" not in second.stdout + second.stderr
    finally:
        os.killpg(first.pid, signal.SIGKILL)
        first.wait(timeout=60)


@pytest.mark.parametrize("args, words", [
    (["-p", "trend_months=abc"], "trend_months"),
    (["-p", "trend_months=-5"], "trend_months = -5"),
    (["-p", "trend_months=99999999999"], "trend_months"),
    (["-p", "month=2026-09"], "disagree"),
    (["-p", "trend_monts=3"], "unknown parameter"),
])
def test_crafted_parameters_are_one_sentence_and_nothing_is_written(project, small_world_path, args, words):
    done = _cli(project, small_world_path, "--only", "00_data_overview", *args)
    out = done.stdout + done.stderr
    assert done.returncode == 2, out
    assert words in out and "Traceback" not in out
    assert not (project / "reports").exists() or not any((project / "reports").iterdir())


@pytest.mark.parametrize("month", ["2025-13", "0000-01", "abc"])
def test_bad_months_are_refused(project, small_world_path, month):
    environment = {**os.environ, "CSRESEARCH_HOME": str(project)}
    done = subprocess.run([CLI, "run", "--month", month, "--data", str(small_world_path)], cwd=project,
                          env=environment, capture_output=True, text=True, timeout=120)
    assert done.returncode == 2 and "is not a month like" in done.stdout + done.stderr
    assert "Traceback" not in done.stdout + done.stderr


def test_p_month_is_honoured(project, small_world_path):
    environment = {**os.environ, "CSRESEARCH_HOME": str(project)}
    done = subprocess.run([CLI, "run", "-p", "month=2026-09", "--data", str(small_world_path), "--only",
                           "00_data_overview", "--reports", str(project / "reports")],
                          cwd=project, env=environment, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr
    assert (project / "reports" / "2026-09" / "00_data_overview.html").exists()


@pytest.mark.parametrize("error", [errno.ENOSPC, errno.EROFS])
def test_a_full_or_read_only_reports_folder_is_one_sentence_and_keeps_what_was_published(
        project, small_world_path, monkeypatch, error):
    from csresearch.errors import CsresearchError
    from csresearch.report import run

    before = _good_month(project, small_world_path)
    monkeypatch.chdir(project)

    def no_space(*args, **kwargs):
        raise OSError(error, os.strerror(error))

    monkeypatch.setattr(run, "swap_in", no_space)  # the write that publishes fails
    with pytest.raises(CsresearchError, match="cannot write the reports folder"):
        run.run_month(month=MONTH, data=str(small_world_path), only=["00_data_overview"], root=project,
                      reports_dir=project / "reports", progress=lambda _: None)
    assert _published(project) == before
    assert not list((project / "reports").glob(".staging-*")), "a failed publish removes its staging folder"


def test_a_read_only_reports_folder_for_real(project, small_world_path):
    """Where permissions apply (not as root), a folder without write permission gives the sentence."""
    if os.geteuid() == 0:
        pytest.skip("running as root: permissions do not stop writes (the simulated case above covers it)")
    reports = project / "reports"
    reports.mkdir()
    reports.chmod(0o555)
    try:
        done = _cli(project, small_world_path, "--only", "00_data_overview")
    finally:
        reports.chmod(0o755)
    assert done.returncode == 2 and "Traceback" not in done.stdout + done.stderr


SECRET = "s3cret-Planted-7781"


@pytest.mark.parametrize("source", [
    f"postgresql://analyst:{SECRET}@localhost/db",
    f"postgresql://localhost/db?password={SECRET}",
    f"postgresql://localhost/db?sslpassword={SECRET}",
    f"host=localhost dbname=db password={SECRET}",
])
def test_a_password_in_the_data_source_is_refused_and_never_printed(project, source):
    environment = {**os.environ, "CSRESEARCH_HOME": str(project)}
    done = subprocess.run([CLI, "run", "--month", MONTH, "--data", source, "--reports", str(project / "reports")],
                          cwd=project, env=environment, capture_output=True, text=True, timeout=120)
    assert done.returncode == 2
    assert SECRET not in done.stdout + done.stderr
    assert "credentials come from the environment" in " ".join((done.stdout + done.stderr).split())
    assert not (project / "reports").exists() or not any((project / "reports").rglob("*"))
    for command in (["validate", source], ["validate", "--data", source]):
        checked = subprocess.run([CLI, *command], cwd=project, env=environment, capture_output=True, text=True,
                                 timeout=120)
        assert checked.returncode == 2 and SECRET not in checked.stdout + checked.stderr


def test_pgpassword_never_reaches_an_output(project, small_world_path):
    done = _cli(project, small_world_path, env={"PGPASSWORD": SECRET})
    assert done.returncode == 0, done.stdout + done.stderr
    assert SECRET not in done.stdout + done.stderr
    for path in (project / "reports").rglob("*"):
        if path.is_file():
            assert SECRET.encode() not in path.read_bytes(), path
