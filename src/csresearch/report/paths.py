"""Where things live: the project folder, the reports folder, a month's outputs and earlier months'.

Only the runner and the notebook session ask this module; an analysis never builds a path to
``reports/`` itself (it is handed what it needs, e.g. last month's at-risk list as a table).
"""

from __future__ import annotations

import os
from pathlib import Path

import pandas as pd

LAB = "lab"   # reports/lab/<notebook>: where a notebook run by hand in JupyterLab writes


def project_root(start: Path | None = None) -> Path:
    """The folder holding ``params/defaults.yml``: $CSRESEARCH_HOME, or the nearest parent of cwd."""
    if os.environ.get("CSRESEARCH_HOME"):
        return Path(os.environ["CSRESEARCH_HOME"]).resolve()
    here = (start or Path.cwd()).resolve()
    for folder in (here, *here.parents):
        if (folder / "params" / "defaults.yml").exists():
            return folder
    return here


def resolve_path(path: str | None, root: Path | None = None) -> str | None:
    """A path relative to the project folder (URLs and absolute paths pass through)."""
    if path is None or "://" in str(path) or Path(path).is_absolute():
        return path
    root = root or project_root()
    return str((root / path).resolve())


def reports_dir(root: Path | None = None) -> Path:
    return (root or project_root()) / "reports"


def lab_output(notebook: str, root: Path | None = None) -> Path:
    """Where a notebook run by hand (no ``output_dir``) writes its tables."""
    return reports_dir(root) / LAB / notebook


def published_month(reports: Path, month: pd.Period | str) -> Path:
    return reports / str(pd.Period(month, "M"))


def earlier_output(output_dir: str | Path | None, month: pd.Period | str, notebook: str,
                   pattern: str) -> Path | None:
    """The first file matching ``pattern`` of ``notebook`` in the previous month's published report.

    ``output_dir`` is this notebook's own output folder (``<reports>/<month or its staging
    folder>/<notebook>``): the reports folder is two levels up. None for a notebook run by hand (no
    ``output_dir``) or when the previous month was never published there.
    """
    if not output_dir:
        return None
    reports = Path(output_dir).resolve().parent.parent
    folder = reports / str(pd.Period(month, "M") - 1) / notebook
    found = sorted(folder.glob(pattern)) if folder.is_dir() else []
    return found[0] if found else None
