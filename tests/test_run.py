"""The monthly run end to end on a small world: HTML with the headline number, an index, a manifest;
a failing notebook yields its error page, the others still run, the command exits non-zero, and a
rerun replaces the month's folder atomically."""

from __future__ import annotations

import json
import re
import shutil
import sys
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from conftest import ROOT

sys.path.insert(0, str(ROOT / "tools"))
from csresearch.cli import app  # noqa: E402
from csresearch.report.run import run_month  # noqa: E402
from new_notebook import write as write_notebook  # noqa: E402

pytestmark = pytest.mark.slow


@pytest.fixture()
def project(tmp_path) -> Path:
    """A project folder with the overview notebook and one notebook that always fails."""
    root = tmp_path / "project"
    (root / "notebooks").mkdir(parents=True)
    shutil.copytree(ROOT / "params", root / "params")
    shutil.copy(ROOT / "notebooks" / "00_data_overview.ipynb", root / "notebooks")
    write_notebook(root / "notebooks" / "98_always_fails.ipynb", [
        ("params", "data = None\nmonth = None\noutput_dir = None"),
        ("code", "import os\nos.write(2, b'planted kernel noise\\n')"),
        ("code", "raise RuntimeError('planted failure for the test')"),
    ])
    settings = yaml.safe_load((root / "params" / "defaults.yml").read_text())
    settings["run"]["notebooks"] = ["00_data_overview", "98_always_fails"]
    (root / "params" / "defaults.yml").write_text(yaml.safe_dump(settings))
    return root


def test_run_renders_reports_and_survives_a_failing_notebook(project, small_world_path, monkeypatch, capfd):
    monkeypatch.chdir(project)
    reports = project / "reports"
    ok, folder = run_month(month="2026-10", data=str(small_world_path), root=project, reports_dir=reports,
                           jobs=2, progress=lambda _: None)
    assert not ok, "a failing notebook makes the run fail"
    assert folder == reports / "2026-10"
    # what a kernel writes to its stderr goes to the month's log, not to the scheduler's terminal
    assert "planted kernel noise" not in capfd.readouterr().err
    assert "planted kernel noise" in (folder / "logs" / "98_always_fails.kernel.log").read_text()

    summary = json.loads((folder / "00_data_overview" / "summary.json").read_text())
    html = (folder / "00_data_overview.html").read_text()
    mrr = next(k for k in summary["kpis"] if k["name"] == "MRR at month end")
    assert mrr["display"] in html, "the HTML shows the headline number the summary recorded"
    assert summary["headline"].split(";")[0] in html
    assert "def " not in html and "nb.load(" not in html, "code is hidden"
    # charts are drawn even though the test environment sets MPLBACKEND=Agg (conftest)
    assert html.count("data:image/") >= 2  # PNG or WebP (report/render.py)
    assert (folder / "00_data_overview" / "mrr_trend.csv").exists()

    failed = (folder / "98_always_fails.html").read_text()
    assert "This report failed" in failed and "planted failure for the test" in failed

    manifest = json.loads((folder / "manifest.json").read_text())
    status = {n["notebook"]: n["status"] for n in manifest["notebooks"]}
    assert status == {"00_data_overview": "ok", "98_always_fails": "failed"}
    assert manifest["data"]["fingerprint"] and manifest["packages"]["pandas"]
    q = manifest["data"]["quality"]
    assert sum(t["rows_read"] for t in q) == sum(t["rows_used"] + t["rows_rejected"] for t in q)
    index = (folder / "index.html").read_text()
    assert "00_data_overview.html" in index and "1 of 2 reports failed" in index
    assert mrr["display"] in index, "the index page shows the headline KPIs"

    # a partial rerun replaces the month's folder in one swap and keeps the other report
    before = (folder / "98_always_fails.html").read_text()
    ok, folder = run_month(month="2026-10", data=str(small_world_path), root=project, reports_dir=reports,
                           only=["00_data_overview"], progress=lambda _: None)
    assert ok
    assert (folder / "98_always_fails.html").read_text() == before
    assert not [p for p in reports.iterdir() if p.name.startswith((".staging", ".old"))]
    manifest = json.loads((folder / "manifest.json").read_text())
    assert {n["notebook"] for n in manifest["notebooks"]} == {"00_data_overview", "98_always_fails"}


def test_cli_exit_codes(project, small_world_path, monkeypatch):
    monkeypatch.chdir(project)
    monkeypatch.setenv("CSRESEARCH_HOME", str(project))
    runner = CliRunner()
    failing = runner.invoke(app, ["run", "--month", "2026-10", "--data", str(small_world_path),
                                  "--only", "always_fails", "--reports", str(project / "r")])
    assert failing.exit_code == 1
    assert (project / "r" / "2026-10" / "98_always_fails.html").exists()
    typo = runner.invoke(app, ["run", "--month", "2026-10", "--data", str(small_world_path),
                               "-p", "trend_monts=3", "--reports", str(project / "r")])
    assert typo.exit_code == 2 and "unknown parameter" in typo.output
    listed = runner.invoke(app, ["list"])
    assert listed.exit_code == 0 and "00_data_overview" in listed.output
    valid = runner.invoke(app, ["validate", str(small_world_path)])
    assert valid.exit_code == 0, valid.output
    assert re.search(r"usage_events", valid.output)
    as_run = runner.invoke(app, ["validate", "--data", str(small_world_path)])
    assert as_run.exit_code == 0 and "valid" in as_run.output
    nothing = runner.invoke(app, ["validate"])
    assert nothing.exit_code == 2 and "name the data" in nothing.output


def test_cli_health_suggest_writes_a_valid_health_score_file(small_world_path, monkeypatch):
    from csresearch.core.health import parse_health_config

    monkeypatch.chdir(ROOT)
    runner = CliRunner()
    done = runner.invoke(app, ["health", "suggest", "--data", str(small_world_path), "--month", "2026-10"])
    assert done.exit_code == 0, done.output
    config = parse_health_config(yaml.safe_load(done.stdout), "suggested")
    assert 1 <= len(config.components) <= 8 and all(c.weight > 0 for c in config.components)
    assert done.stdout.startswith("# Health score written by `csresearch health suggest`")
    late = runner.invoke(app, ["health", "suggest", "--data", str(small_world_path), "--month", "2027-05"])
    assert late.exit_code == 2 and "after the data ends" in late.output
