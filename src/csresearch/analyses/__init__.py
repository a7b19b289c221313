"""One package per report, all of one shape (see :mod:`csresearch.analyses.base`).

``REPORTS`` maps each report notebook to its analysis package; the runner validates a notebook's
parameters with that package's ``Settings`` before any kernel starts.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .base import ReportSettings

REPORTS: dict[str, str] = {
    "00_data_overview": "data_overview",
    "01_churn_decomposition": "churn_decomposition",
    "02_onboarding_survival": "onboarding_survival",
    "03_churn_drivers": "churn_drivers",
    "04_uplift_experiments": "experiments",
    "05_churn_postmortem": "churn_postmortem",
}


def settings_for(notebook: str) -> type[ReportSettings] | None:
    """The settings model of a report notebook, or None for a notebook with no analysis package."""
    package = REPORTS.get(notebook)
    if package is None:
        return None
    try:
        module = importlib.import_module(f"{__name__}.{package}.settings")
    except ModuleNotFoundError as exc:
        if exc.name and exc.name.endswith(f"{package}.settings") or exc.name == f"{__name__}.{package}":
            return None
        raise
    return module.Settings
