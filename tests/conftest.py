"""Shared fixtures: synthetic worlds built once per test session and cached on disk.

Worlds are cached under .pytest_cache/worlds keyed by their parameters, with a file lock so that
parallel pytest workers (-n 2) build each world once. Delete the folder to force a rebuild.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from filelock import FileLock

os.environ.setdefault("MPLBACKEND", "Agg")

ROOT = Path(__file__).resolve().parents[1]
CACHE = ROOT / ".pytest_cache" / "worlds"
HEALTH_FILE = ROOT / "params" / "health_score.yml"   # the project's health score

# Small enough to build in a few seconds, large enough for every notebook section to have data.
SMALL = dict(accounts=600, months=24, seed=11, end_month="2026-10")
# The demo world's defaults: for recovery tests of planted truths, which need the sample size.
DEMO = dict(accounts=5000, months=36, seed=7, end_month="2026-10")


def world_path(**params) -> Path:
    """Build (once) and return a DuckDB file of a synthetic world; its truth JSON sits beside it."""
    from csresearch.data.synth import SYNTH_VERSION, build_world, save_world

    # the generator's version is part of the key: a changed generator never reuses a stale world
    key = f"v{SYNTH_VERSION}-" + "-".join(f"{k}{v}" for k, v in sorted(params.items()))
    CACHE.mkdir(parents=True, exist_ok=True)
    path = CACHE / f"{key}.duckdb"
    with FileLock(str(path) + ".lock"):
        if not path.exists():
            tmp = CACHE / f"{key}.building.duckdb"
            world = build_world(**params)
            save_world(world, tmp)
            tmp.with_name(f"{key}.building.truth.json").rename(path.with_name(f"{key}.truth.json"))
            tmp.rename(path)
    return path


def truth_of(path: Path) -> dict:
    return json.loads(path.with_name(path.name.replace(".duckdb", ".truth.json")).read_text())


@pytest.fixture(scope="session")
def small_world_path() -> Path:
    return world_path(**SMALL)


@pytest.fixture(scope="session")
def small_truth(small_world_path) -> dict:
    return truth_of(small_world_path)


@pytest.fixture(scope="session")
def small_dataset(small_world_path):
    from csresearch.data import open_dataset

    return open_dataset(small_world_path)


@pytest.fixture(scope="session")
def demo_world_path() -> Path:
    return world_path(**DEMO)


@pytest.fixture(scope="session")
def demo_truth(demo_world_path) -> dict:
    return truth_of(demo_world_path)


@pytest.fixture(scope="session")
def demo_dataset(demo_world_path):
    from csresearch.data import open_dataset

    return open_dataset(demo_world_path)


def execute_notebook(name: str, data: Path, out_dir: Path, **params) -> dict:
    """Execute notebooks/<name>.ipynb with papermill (kernel named explicitly) and return the
    summary.json it wrote. Raises papermill's PapermillExecutionError when a cell fails."""
    import papermill as pm

    from csresearch.report.run import ensure_kernel

    ensure_kernel("csresearch")
    out_dir.mkdir(parents=True, exist_ok=True)
    parameters = {"data": str(data), "month": "2026-10", "output_dir": str(out_dir / name), **params}
    pm.execute_notebook(str(ROOT / "notebooks" / f"{name}.ipynb"), str(out_dir / f"{name}.ipynb"),
                        parameters=parameters, kernel_name="csresearch", progress_bar=False, cwd=str(ROOT))
    return json.loads((out_dir / name / "summary.json").read_text())


def tiny_tables() -> dict:
    """A hand-made, valid world of three accounts: the base that bad-input tests break one rule of."""
    import pandas as pd

    d = pd.Timestamp
    return {
        "accounts": pd.DataFrame({
            "account_id": ["A1", "A2", "A3"],
            "created_at": [d("2024-01-05"), d("2024-02-01"), d("2024-03-10")],
            "account_name": ["Acme", "Globex", "Initech"],
            "segment": ["SMB", "Enterprise", "SMB"],
            "touch_tier": ["tech", "high", "low"],
            "employees": [12, 5000, 40],  # an extra column: kept, never dropped
        }),
        "subscriptions": pd.DataFrame({
            "subscription_id": ["S1", "S2", "S3", "S4"],
            "account_id": ["A1", "A2", "A3", "A3"],
            "product": ["Starter", "Enterprise", "Growth", "Add-on"],
            "start_date": [d("2024-01-05"), d("2024-02-01"), d("2024-03-10"), d("2024-04-01")],
            "end_date": [d("2024-06-05"), pd.NaT, pd.NaT, d("2024-09-01")],
            "mrr": [100.0, 1000.0, 250.0, 50.0],
            "billing_period": ["monthly", "annual", "monthly", "monthly"],
            "seats": [5, 50, 10, 10],
            "currency": ["USD"] * 4,
        }),
        "usage_events": pd.DataFrame({
            "account_id": ["A1", "A2", "A2", "A3"],
            "user_id": ["u1", "u2", "u3", "u4"],
            "event_time": [d("2024-01-06 10:00"), d("2024-02-02 09:30"), d("2024-02-03 11:00"), d("2024-03-11 08:00")],
            "event_name": ["login", "login", "export", "login"],
            "quantity": [1.0, 1.0, 2.0, 1.0],
        }),
    }


def tiny_tables_with_bad_events() -> dict:
    """:func:`tiny_tables` with two events that break row rules: an unknown account and a negative
    quantity."""
    tables = tiny_tables()
    events = tables["usage_events"]
    events.loc[1, "account_id"] = "A999"  # unknown account
    events.loc[2, "quantity"] = -1.0  # negative quantity
    return tables


def write_tables(tables: dict, folder: Path, fmt: str = "csv") -> Path:
    """Write tables as <table>.csv / <table>.parquet in a folder, or into a .duckdb file."""
    import duckdb

    if fmt == "duckdb":
        folder.parent.mkdir(parents=True, exist_ok=True)
        con = duckdb.connect(str(folder))
        for name, frame in tables.items():
            con.register("frame", frame)
            con.execute(f'CREATE OR REPLACE TABLE "{name}" AS SELECT * FROM frame')
            con.unregister("frame")
        con.close()
        return folder
    folder.mkdir(parents=True, exist_ok=True)
    for name, frame in tables.items():
        if fmt == "csv":
            frame.to_csv(folder / f"{name}.csv", index=False)
        else:
            frame.to_parquet(folder / f"{name}.parquet", index=False)
    return folder


@pytest.fixture(scope="session")
def pg_url():
    """A PostgreSQL URL: $CSRESEARCH_TEST_PG_URL, or a throwaway cluster started on loopback."""
    if os.environ.get("CSRESEARCH_TEST_PG_URL"):
        yield os.environ["CSRESEARCH_TEST_PG_URL"]
        return
    from pgserver import TempPostgres, find_bindir

    if find_bindir() is None:
        pytest.skip("PostgreSQL server binaries not installed: PostgreSQL tests skipped")
    server = TempPostgres()
    try:
        url = server.start()
    except Exception as exc:  # noqa: BLE001
        server.stop()
        pytest.fail(f"could not start a throwaway PostgreSQL: {exc}")
    yield url
    server.stop()
