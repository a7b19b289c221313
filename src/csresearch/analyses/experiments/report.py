"""The experiments report's one call: ``build(ds, month, settings) -> Result``."""

from __future__ import annotations

import pandas as pd

from ...data import Dataset
from . import words
from .compute_readout import read_experiments
from .result import Result
from .settings import Settings

__all__ = ["Settings", "Result", "build"]


def build(ds: Dataset, month: pd.Period, settings: Settings) -> Result:
    """The month's experiments and a readout of each one read: running in the month, ended within
    ``ended_within_months``, or the one ``experiment_id`` names. The verdict of each estimate (a
    sentence, for experiment_summary.csv) is written here once, from the numbers."""
    windows, readouts = read_experiments(
        ds, month, settings.experiments, settings.experiment_defaults, settings.experiment_id,
        settings.ended_within_months, reactivation_window_days=settings.reactivation_window_days,
        segment_column=settings.segment_column, alpha=1 - settings.confidence, power=settings.power,
        srm_alpha=settings.srm_alpha, targeting_shares=settings.targeting_shares,
        uplift_models=settings.uplift_models, uplift_folds=settings.uplift_folds,
        uplift_n_estimators=settings.uplift_n_estimators, event_study_periods=tuple(settings.event_study_periods),
        seed=settings.random_seed)
    return Result(
        month=month, windows=windows, readouts=readouts, has_experiments=ds.has("experiments"),
        reactivation_window_days=settings.reactivation_window_days, experiment_id=settings.experiment_id,
        ended_within_months=settings.ended_within_months, confidence=settings.confidence, power=settings.power,
        srm_alpha=settings.srm_alpha, verdicts=words.verdicts(readouts))
