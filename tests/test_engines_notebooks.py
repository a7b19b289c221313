"""Every notebook on every engine: the six notebooks run on PostgreSQL and give the DuckDB run's CSVs,
and every query they send to the engine gives DuckDB's table in PostgreSQL and in Spark.

One ``csresearch run`` of the six notebooks on the small world in DuckDB, one on the same world loaded
into PostgreSQL (the throwaway cluster) with the query log on ($CSRESEARCH_QUERY_LOG,
csresearch.data.querylog): the log holds every query the notebooks sent to PostgreSQL, as written,
with its parameters and the frames it read. Each is then run again on DuckDB, PostgreSQL and Spark
and the tables compared, so a query a notebook adds is covered without naming it here; a module whose
SQL reads ``usage_events`` but sent nothing would be named. A query the small world never triggers
(an experiment's event outcomes) is logged from the experiments report built with them configured.

Each run happens once per test session (a file lock shares it between pytest-xdist workers).
"""

from __future__ import annotations

import ast
import json
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest
import yaml
from filelock import FileLock

from conftest import ROOT
from csresearch.data import open_dataset, querylog
from csresearch.data.export import write_postgres
from engine_fixtures import schema_url, small_parquet_path, spark, table_differences, world_tables  # noqa: F401

pytestmark = [pytest.mark.slow, pytest.mark.postgres]

MONTH = "2026-10"
NOTEBOOKS = yaml.safe_load((ROOT / "params" / "defaults.yml").read_text())["run"]["notebooks"]
FINISHED = ("ok", "not enough data")  # how a notebook may end (the runner's statuses)
READS_EVENTS = re.compile(r"\b(FROM|JOIN)\s+usage_events\b", re.I)


def _reads_events(path: Path) -> bool:
    """Whether a module holds SQL (a string with SELECT) that reads ``usage_events``."""
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.JoinedStr):
            text = "{}".join(v.value for v in node.values if isinstance(v, ast.Constant) and isinstance(v.value, str))
        elif isinstance(node, ast.Constant) and isinstance(node.value, str):
            text = node.value
        else:
            continue
        if re.search(r"\bSELECT\b", text, re.I) and READS_EVENTS.search(text):
            return True
    return False


def _csresearch(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    """The command line, as a scheduler runs it."""
    script = Path(sys.executable).with_name("csresearch")
    command = [str(script)] if script.exists() else [sys.executable, "-c", "from csresearch.cli import main; main()"]
    return subprocess.run([*command, *args], cwd=ROOT, capture_output=True, text=True, timeout=1800,
                          env={**os.environ, "CSRESEARCH_HOME": str(ROOT), **(env or {})})


def _once(tmp_path_factory, worker_id: str, name: str, make) -> Path:
    """A folder ``make(folder)`` fills once per test session, shared by the xdist workers."""
    base = tmp_path_factory.getbasetemp()
    folder = (base if worker_id == "master" else base.parent) / name
    with FileLock(str(folder) + ".lock"):
        if not (folder / ".done").exists():
            shutil.rmtree(folder, ignore_errors=True)
            folder.mkdir(parents=True)
            started = time.perf_counter()
            make(folder)
            (folder / ".done").write_text(f"{time.perf_counter() - started:.0f} s")
    return folder


def _run(folder: Path, data: str, env: dict[str, str] | None = None) -> Path:
    done = _csresearch("run", "--month", MONTH, "--data", data, "--reports", str(folder / "reports"), env=env)
    (folder / "output.txt").write_text(f"exit {done.returncode}\n{done.stdout}\n{done.stderr}")
    return folder


@pytest.fixture(scope="session")
def notebooks_pg_url(pg_url, small_world_path) -> str:
    """The small world in its own schema of the throwaway PostgreSQL cluster."""
    url = schema_url(pg_url, "csr_notebooks")
    write_postgres(world_tables(small_world_path), pg_url, schema="csr_notebooks")
    return url


@pytest.fixture(scope="session")
def duckdb_run(tmp_path_factory, worker_id, small_world_path) -> Path:
    return _once(tmp_path_factory, worker_id, "run_duckdb", lambda folder: _run(folder, str(small_world_path)))


@pytest.fixture(scope="session")
def postgres_run(tmp_path_factory, worker_id, request) -> Path:
    """The run on PostgreSQL, every query it sent to the engine kept in ``queries/``."""
    def make(folder: Path) -> None:
        url = request.getfixturevalue("notebooks_pg_url")  # only the worker that runs it needs the cluster
        _run(folder, url, env={querylog.QUERY_LOG_ENV: str(folder / "queries")})

    return _once(tmp_path_factory, worker_id, "run_postgres", make)


def _manifest(run: Path) -> dict:
    output = (run / "output.txt").read_text()
    path = run / "reports" / MONTH / "manifest.json"
    assert path.exists(), f"the run wrote no manifest:\n{output[-3000:]}"
    return json.loads(path.read_text())


def _csv_differences(left: Path, right: Path) -> str | None:
    """None when two CSVs hold the same table: the same text, or numbers equal to 1e-9 relative
    (engines sum in different orders; a model fitted on the sums may differ in its last digits)."""
    if left.read_bytes() == right.read_bytes():
        return None
    a, b = pd.read_csv(left), pd.read_csv(right)
    try:
        pd.testing.assert_frame_equal(a, b, check_exact=False, rtol=1e-9, atol=1e-12)
    except AssertionError as exc:
        return str(exc)
    return None


def test_every_notebook_runs_on_postgres_and_writes_the_duckdb_runs_csvs(duckdb_run, postgres_run):
    duckdb, postgres = _manifest(duckdb_run), _manifest(postgres_run)
    statuses = {n["notebook"]: n["status"] for n in postgres["notebooks"]}
    assert set(statuses) == set(NOTEBOOKS)
    failed = {n["notebook"]: n.get("error") for n in postgres["notebooks"] if n["status"] not in FINISHED}
    assert not failed, f"notebooks failed on PostgreSQL: {failed}"
    assert statuses == {n["notebook"]: n["status"] for n in duckdb["notebooks"]}
    assert postgres["data"]["source"].startswith("postgresql://")
    assert postgres["data"]["fingerprint"] == duckdb["data"]["fingerprint"], "the same data, whatever holds it"
    assert (postgres_run / "output.txt").read_text().startswith("exit 0")

    month_pg, month_duckdb = postgres_run / "reports" / MONTH, duckdb_run / "reports" / MONTH
    for notebook in NOTEBOOKS:
        csvs = sorted(p.relative_to(month_duckdb) for p in (month_duckdb / notebook).rglob("*.csv"))
        assert csvs == sorted(p.relative_to(month_pg) for p in (month_pg / notebook).rglob("*.csv")), notebook
        for csv in csvs:
            assert _csv_differences(month_pg / csv, month_duckdb / csv) is None, (csv, _csv_differences(
                month_pg / csv, month_duckdb / csv))
        pg_summary = json.loads((month_pg / notebook / "summary.json").read_text())
        duckdb_summary = json.loads((month_duckdb / notebook / "summary.json").read_text())
        assert pg_summary.get("headline") == duckdb_summary.get("headline"), notebook
        assert pg_summary.get("kpis") == duckdb_summary.get("kpis"), notebook


@pytest.fixture(scope="session")
def logged(postgres_run) -> list[querylog.LoggedQuery]:
    queries = querylog.read(postgres_run / "queries")
    assert queries, "the PostgreSQL run sent no query to the engine"
    return queries


def _distinct(queries: list[querylog.LoggedQuery]) -> list[querylog.LoggedQuery]:
    """Each query once (a notebook asks the data's dates several times)."""
    return list({q.key(): q for q in queries}.values())


def _shape(query: querylog.LoggedQuery) -> str:
    """The query text with its registered frames' generated names (``obs_1407...``) left out."""
    text = " ".join(query.sql.split())
    for name in query.frames:
        text = re.sub(rf"\b{re.escape(name)}\b", re.sub(r"_?\d+$", "", name), text)
    return text


def test_the_log_covers_every_engine_side_query_of_the_notebooks(logged):
    failed = [(q.callers[:2], q.error) for q in logged if q.error]
    assert not failed, f"queries failed in PostgreSQL: {failed}"
    # every module of the workbook whose SQL reads the big table sent its queries in the run
    sent = {place.split(":")[0] for q in logged for place in q.callers}
    modules = sorted(str(p.relative_to(ROOT / "src")) for folder in ("analyses", "core")
                     for p in (ROOT / "src" / "csresearch" / folder).rglob("*.py") if _reads_events(p))
    assert modules, "no analysis reads usage_events?"
    assert not [m for m in modules if m not in sent], f"modules that read usage_events sent nothing: {modules}"
    by_analysis: dict[str, int] = {}
    for q in _distinct(logged):
        by_analysis[q.analysis or "(data and session)"] = by_analysis.get(q.analysis or "(data and session)", 0) + 1
    print(f"engine-side queries of the notebooks: {by_analysis}")


def _assert_answers_like_duckdb(queries, con, duckdb_con, engine: str) -> None:
    wrong = []
    for query in queries:
        want = query.run(duckdb_con)
        try:
            got = query.run(con)
        except Exception as exc:  # noqa: BLE001 - name every query that fails, not only the first
            wrong.append(f"{query.callers[:2]}: {type(exc).__name__}: {str(exc)[:500]}")
            continue
        why = table_differences(got, want)
        if why:
            wrong.append(f"{query.callers[:2]}: {why[:800]}\n{query.sql}")
    assert not wrong, f"{len(wrong)} of {len(queries)} queries answer differently in {engine}:\n" + "\n\n".join(wrong)


@pytest.fixture(scope="module")
def pg_dataset(notebooks_pg_url):
    ds = open_dataset(notebooks_pg_url)
    yield ds
    ds.close()


@pytest.fixture(scope="module")
def spark_dataset(spark, small_parquet_path):
    ds = open_dataset(small_parquet_path, engine="spark")
    yield ds
    ds.close()


def test_every_engine_side_query_of_the_notebooks_gives_duckdbs_table_in_postgres(logged, event_outcomes, small_dataset,
                                                                                 pg_dataset):
    queries = _distinct(logged) + _distinct(event_outcomes)
    _assert_answers_like_duckdb(queries, pg_dataset.con, small_dataset.con, "PostgreSQL")


def test_every_engine_side_query_of_the_notebooks_gives_duckdbs_table_in_spark(spark_dataset, logged, event_outcomes,
                                                                              small_dataset):
    """Each query text once, with the inputs a notebook first sent it with (the drivers and the
    postmortem send the same feature queries over other observation dates): Spark runs a query in
    seconds even on a small world, and every text is the point."""
    queries = _distinct(logged) + _distinct(event_outcomes)
    first_of_each = list({_shape(q): q for q in reversed(queries)}.values())
    _assert_answers_like_duckdb(first_of_each, spark_dataset.con, small_dataset.con, "Spark")


@pytest.fixture(scope="session")
def event_outcomes(tmp_path_factory, worker_id, request) -> list[querylog.LoggedQuery]:
    """The small world's experiments count no events as outcomes, so the monthly run never sends the
    query of an experiment's event outcomes: the experiments report built on PostgreSQL with three of
    them configured (a count, a yes/no over its own horizon, an amount over two events), its queries
    logged. One small uplift model: the models do not change the queries."""
    from csresearch.analyses.experiments import report

    def make(folder: Path) -> None:
        settings = report.Settings(
            experiment_id="exp_cs_outreach_2026", uplift_models=["S-learner"], uplift_n_estimators=5,
            experiments={"exp_cs_outreach_2026": {
                "outcomes": ["retention", "logins", "exported", "api"],
                "event_outcomes": {"logins": {"kind": "count", "events": ["login"]},
                                   "exported": {"kind": "yes_no", "events": ["export"], "horizon_days": 30},
                                   "api": {"kind": "amount", "events": ["api_call", "integration_sync"]}}}})
        ds = open_dataset(request.getfixturevalue("notebooks_pg_url"))
        try:
            with pytest.MonkeyPatch.context() as patch:
                patch.setenv(querylog.QUERY_LOG_ENV, str(folder / "queries"))
                report.build(ds, pd.Period(MONTH, "M"), settings)
        finally:
            ds.close()

    queries = querylog.read(_once(tmp_path_factory, worker_id, "event_outcomes", make) / "queries")
    assert any("event_name IN ('login')" in q.sql for q in queries), "the event outcomes' query was not sent"
    assert not [q.error for q in queries if q.error]
    return queries
