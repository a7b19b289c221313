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

# Small enough to build in a few seconds, large enough for every notebook section to have data.
SMALL = dict(accounts=600, months=24, seed=11, end_month="2026-10")
# The demo world's defaults: for recovery tests of planted truths, which need the sample size.
DEMO = dict(accounts=5000, months=36, seed=7, end_month="2026-10")


def world_path(**params) -> Path:
    """Build (once) and return a DuckDB file of a synthetic world; its truth JSON sits beside it."""
    from csresearch.data.synth import build_world, save_world

    key = "-".join(f"{k}{v}" for k, v in sorted(params.items()))
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
