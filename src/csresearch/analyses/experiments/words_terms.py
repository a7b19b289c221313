"""The experiments report's machine values as a reader names them, in the run's language.

The computed tables keep English values that code and the CSVs rely on (an estimator's name,
``startswith("naive")``; a status, ``startswith("ended")`` in the monthly brief; a targeting policy; the
assumption an estimate needs; why an outcome cannot be measured). They are marked here with ``N_`` and
translated only where a reader sees them (:func:`term`), so an English run shows them as they are and
the CSVs and ``summary.json`` keep their values in every language. Experiment and arm names are data
and are never translated.
"""

from __future__ import annotations

import re
from typing import Any

import pandas as pd

from ...core.risk_reasons import level_label
from ...i18n import N_, SOURCE_LANGUAGE, _, get_language
from ...text import month_label

TERMS = (
    # estimators (compute_arms, compute_adoption, compute_readout, compute_trials)
    N_("intention to treat"),
    N_("CUPED-adjusted intention to treat"),
    N_("effect on the exposed (assignment as instrument)"),
    N_("naive users vs non-users"),
    N_("inverse-propensity weighted"),
    N_("doubly robust (AIPW)"),
    N_("sequential trials (adopters vs not-yet-adopters)"),
    N_("naive: users vs non-users after"),
    N_("difference-in-differences"),
    N_("difference-in-differences, propensity-weighted"),
    N_("Cox proportional hazards"),
    N_("RMST difference (Kaplan-Meier)"),
    N_("cannot be measured"),
    # statuses (compute_design.select_experiments)
    N_("not started by the month end"),
    N_("running (outcome window open)"),
    N_("ended in the month"),
    # targeting policies (compute_uplift)
    N_("top k% by predicted uplift"),
    N_("top k% by churn risk"),
    N_("random k%"),
    # arms the report names itself
    N_("all treatment arms (pooled)"),
    N_("adopted"),
    N_("not yet adopted"),
    N_("random"),
    N_("every arm"),
    # the assumption each observational estimate needs (compute_readout._observational)
    N_("users and non-users would use the product equally without the feature (rarely true: engaged accounts "
       "adopt)"),
    N_("parallel trends: without the feature, users' usage would have changed like non-users' (checked by the "
       "pre-period coefficients)"),
    N_("parallel trends among accounts alike on the pre-period covariates (Abadie 2005): non-users reweighted to "
       "look like users"),
    N_("users and non-users have the same churn risk otherwise (they do not: engaged accounts adopt)"),
    N_("no unmeasured confounding given the covariates on each index date, and later adopters' adoption explained "
       "by the same covariates (censoring weights)"),
    # the usage outcome of an observational study (compute_readout._observational)
    N_("usage (events per seat per 30 days)"),
    N_("usage (events per active user per 30 days)"),
    N_("usage (events per account per 30 days)"),
    # uplift models the report names in words
    N_("uplift forest"),
)

# covariates of the balance checks (compute_readout, compute_trials): the frame's column names
COVARIATES = {
    "tenure_days": N_("tenure (days)"), "mrr_at_assignment": N_("MRR at assignment"),
    "usage_pre": N_("usage before (events per 30 days)"), "users_pre": N_("active users before"),
    "tickets_pre": N_("tickets before"), "segment": N_("segment"), "touch_tier": N_("touch tier"),
    "region": N_("region"), "industry": N_("industry"), "seats": N_("seats"), "mrr": N_("MRR"),
    "usage": N_("usage"), "users": N_("active users"), "tickets": N_("tickets"), "nps": N_("NPS"),
}

_ENDED = re.compile(r"^ended (\d{4}-\d{2})( \(before the look-back\))?$")


def term(value: Any) -> Any:
    """A machine value of a computed table in the run's language (a value the catalog does not know,
    such as an arm or a segment, is shown as it is written)."""
    if not isinstance(value, str) or not value:
        return value
    ended = _ENDED.match(value)
    if ended:  # English keeps the status as the CSV writes it (ended 2026-08)
        month = ended.group(1) if get_language() == SOURCE_LANGUAGE else month_label(pd.Period(ended.group(1), "M"))
        if ended.group(2):
            return _("ended {month} (before the look-back)").format(month=month)
        return _("ended {month}").format(month=month)
    return _(value) if value in TERMS else value


def covariate(name: Any) -> Any:
    """A covariate of the balance checks as a reader names it ('segment = SMB': the level is data); an
    English run shows the column name as it is."""
    if get_language() == SOURCE_LANGUAGE or not isinstance(name, str):
        return name
    base, sep, level = name.partition(" = ")
    shown = _(COVARIATES[base]) if base in COVARIATES else base
    return f"{shown}{sep}{level_label(base, level) if sep else ''}"  # touch tier high -> ハイタッチ


def terms(values) -> list:
    """:func:`term` of each value."""
    return [term(v) for v in values]
