"""The report's suggested health-score weights applied in one step: :func:`suggest` returns the text of
a health-score file (``params/health_score.yml``) whose weights are the ones the drivers report
suggests (:func:`.compute_health.suggested_weights`), everything else (thresholds, bands, reasons,
playbooks) as configured. ``csresearch health suggest > params/health_score.yml`` writes it."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pandas as pd
import yaml

from ...core.health import HealthConfig, health_scores, load_health_config, scores_or_none
from ...core.risk import observations
from ...core.stats import _auc
from ...data import Dataset
from ...errors import NotEnoughData
from .compute_cohorts import independent_rows
from .compute_health import suggested_config, suggested_weights
from .settings import Settings


def _plain(x: float) -> float | int:
    """3 rather than 3.0 in the file."""
    return int(x) if float(x).is_integer() else float(x)


def _component_dict(c) -> dict:
    out = {"name": c.name, "metric": c.metric, "bad_when": c.bad_when, "red": _plain(c.red), "green": _plain(c.green)}
    if c.missing_score != 50.0:
        out["missing_score"] = _plain(c.missing_score)
    out.update({"weight": int(c.weight), "reason": c.reason, "playbook": c.playbook})
    return out


def config_yaml(config: HealthConfig, header: str = "") -> str:
    """A health-score definition as the text of its YAML file (``header`` as comment lines on top)."""
    body = {"bands": {"green": _plain(config.green_from), "yellow": _plain(config.yellow_from)},
            "default_playbook": config.default_playbook,
            "components": [_component_dict(c) for c in config.components]}
    text = yaml.safe_dump(body, sort_keys=False, allow_unicode=True, width=110)
    comments = "".join(f"# {line}".rstrip() + "\n" for line in header.splitlines())
    return comments + text


def _auc_of(rows: pd.DataFrame, config: HealthConfig) -> float:
    scores = health_scores(rows, config)
    return _auc(rows["churned"].to_numpy(float), 100 - scores["health_score"].to_numpy(float))


def suggest(ds: Dataset, month, settings: Settings | None = None, *,
            health_config: HealthConfig | str | Path) -> str:
    """The health-score file's text with the weights the churn-drivers report suggests for ``month``.

    ``ds``: the data (:func:`csresearch.data.open_dataset`); ``month``: the report month (``"2026-11"``);
    ``settings``: the report's settings (horizon, windows, history; defaults when None);
    ``health_config``: the current definition, loaded or the path of its YAML.

    The weights come from a logistic regression of churn within the horizon on the component scores,
    over labelled observations one window apart (:func:`.compute_health.suggested_weights`); the
    header says what they were fitted on and the AUC of the current and the suggested score on those
    same rows (in-sample for the suggested one). Raises :class:`NotEnoughData` when the weights cannot
    be estimated or no component earns a weight."""
    s = settings or Settings.model_validate({})
    config = health_config if isinstance(health_config, HealthConfig) else load_health_config(health_config)
    frame = observations(ds, month, s.horizon_days, s.lead_days, s.observation_every_months, s.history_months,
                         s.windows_days, s.reactivation_window_days, s.value_milestone)
    scores = scores_or_none(frame, config)
    if scores is None:
        raise NotEnoughData("none of the health score's metrics is in the data: there is nothing to weigh")
    weights = suggested_weights(frame, scores, config)
    new = suggested_config(config, weights)
    if new is None:
        raise NotEnoughData("no component's score goes with less churn in the data: no weights to suggest")
    rows = independent_rows(frame)
    dropped = [c.name for c in config.components if c.name not in {k.name for k in new.components}]
    churns = int(rows["churned"].sum())
    paragraph = (
        f"Health score written by `csresearch health suggest` for {pd.Period(month, 'M')} from {config.source}: "
        f"weights from a logistic regression of churn within {s.horizon_days} days on the component scores, over "
        f"{len(rows):,} observations one window apart ({churns:,} churned). On those rows the current score ranks "
        f"churners with AUC {_auc_of(rows, config):.3f} and this one with {_auc_of(rows, new):.3f} (fitted on the "
        "same rows: check it on the next months before trusting the gain). Thresholds, bands, reasons and "
        "playbooks are the current file's."
        + (f" Dropped (no weight: their score does not go with less churn): {', '.join(dropped)}." if dropped else "")
        + " See the comments of the shipped params/health_score.yml for what each field means.")
    header = textwrap.fill(paragraph, width=100)
    return config_yaml(new, header)
