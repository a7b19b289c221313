"""Reasons in plain words for a churn model's predictions, the playbook they point to and a suggested touch
tier: what the call list says about each account (split from :mod:`.risk`, which re-exports every name).

The reasons are the drivers pushing one account's prediction up, each with the account's value and the
typical value; machine values (billing period, touch tier, health band) read in the run's language through
:func:`level_label`; the CSVs keep the machine values."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from ..i18n import N_, _, get_language, ngettext, pgettext
from ..text import format_each, num
from . import features as feat
from .health import HealthConfig, _short, configured_text, load_health_config

# a fitted csresearch.core.risk.ChurnModel: not imported, as risk imports this module (no import loops)
ChurnModel = Any


def reasons(model: ChurnModel, frame: pd.DataFrame, top: int = 3, contributions: pd.DataFrame | None = None,
            direction: int = 1) -> pd.Series:
    """The ``top`` drivers pushing each row's prediction up (``direction`` 1) in plain words, each
    with the account's value and the typical (median) value, e.g. "active users per seat 0.21
    (typical 0.75)". Only drivers that raise the risk are named (a contribution above 0.02 in log-odds,
    ~2% in odds); billing period is left out when months to renewal is among the row's top drivers
    (the renewal reason already says which plan).

    Vectorised: the rank positions are walked ``top + 1`` times over all rows at once, and each
    driver's text is formatted only for the rows that name it (same text as :func:`_reason_text`)."""
    contrib = contributions if contributions is not None else model.contributions(frame)
    n = len(frame)
    values = contrib.to_numpy() * direction
    names = np.array(contrib.columns)
    order = np.argsort(-values, axis=1)[:, :top + 1]
    ranked = np.take_along_axis(values, order, axis=1)
    positions = {name: j for j, name in enumerate(names)}
    has_renewal = ((order == positions["months_to_renewal"]).any(axis=1) if "months_to_renewal" in positions
                   else np.zeros(n, dtype=bool))
    billing = positions.get("billing_period", -1)
    alive = np.ones(n, dtype=bool)       # no value at or under the floor met yet (the loop's break)
    count = np.zeros(n, dtype=np.int64)  # reasons named so far
    texts = []
    for k in range(order.shape[1]):
        alive &= ~(ranked[:, k] <= 0.02) & (count < top)
        take = alive & ~((order[:, k] == billing) & has_renewal)
        text = np.full(n, "", dtype=object)
        for j in np.unique(order[take, k]):
            rows = np.flatnonzero(take & (order[:, k] == j))
            text[rows] = _reason_texts(model, str(names[j]), frame, rows)
        texts.append(text)
        count += take
    joined = ["; ".join(t for t in parts if t) for parts in zip(*texts)] if texts else [""] * n
    none = _("no single driver stands out")
    return pd.Series([j or none for j in joined], index=frame.index, dtype=object)



def _reason_texts(model: ChurnModel, group: str, frame: pd.DataFrame, rows: np.ndarray) -> np.ndarray:
    """:func:`_reason_text` for the rows (positions) ``rows`` of ``frame`` and one driver group at once."""
    column = frame[group].iloc[rows]
    if group == "billing_period":
        return format_each(column, _on_plan)
    if group in model.categorical_:
        label = feat.describe(group)
        return format_each(column, lambda v: _("{attribute}: {value}").format(attribute=label, value=_level(group, v)))
    value = column.astype(float)
    if group == "months_to_renewal":
        due = format_each(value, _renewal_due)
        if "billing_period" not in frame:
            return due
        monthly = (frame["billing_period"].iloc[rows].astype(str) == "monthly").to_numpy()
        return np.where(monthly, _(MONTHLY_REASON), due).astype(object)
    typical = num(model.reference_.get(group, np.nan))
    label = _short(feat.describe(group))  # "events per seat 1.30 (typical 3.50)": windows in the conventions
    return format_each(value, lambda v: _measured(label, v, typical))


MONTHLY_REASON = N_("monthly plan: can cancel at any month end")


def level_label(column: str, value) -> str:
    """A machine value of billing period, touch tier or health band as a reader names it in the run's
    language (``annual`` -> 年次, ``high`` -> ハイタッチ, ``red`` -> レッド); English, and any value not
    listed (a company's own code), as it is. The CSVs keep the machine values."""
    text = str(value)
    if get_language() == "en":
        return text
    labels = {
        "billing_period": {"monthly": pgettext("billing period", "monthly"),
                           "quarterly": pgettext("billing period", "quarterly"),
                           "semiannual": pgettext("billing period", "semiannual"),
                           "annual": pgettext("billing period", "annual"),
                           "multi_year": pgettext("billing period", "multi-year"),
                           "unknown": pgettext("billing period", "unknown")},
        "touch_tier": {"high": pgettext("touch tier", "high touch"), "low": pgettext("touch tier", "low touch"),
                       "tech": pgettext("touch tier", "tech touch"), "unknown": pgettext("touch tier", "unknown")},
        "health_band": {"red": pgettext("health band", "red"), "yellow": pgettext("health band", "yellow"),
                        "green": pgettext("health band", "green"), "unscored": pgettext("health band", "unscored")},
    }
    return labels.get(column, {}).get(text, text)


def _level(group: str, value) -> str:
    return level_label(group, value)


def _on_plan(value) -> str:
    """'on an annual plan' (ja: 年次契約)."""
    text = str(value)
    if get_language() != "en":
        return _("on a {period} plan").format(period=level_label("billing_period", text))
    return f"on a{'n' if text[:1] in 'aeiou' else ''} {text} plan"


def _renewal_due(months: float) -> str:
    """'renewal due in 2 months' (one form per count)."""
    return ngettext("renewal due in {n} month", "renewal due in {n} months", 1 if months == 1 else 2).format(n=num(months))


def _reason_text(model: ChurnModel, group: str, x: pd.Series, row: pd.Series) -> str:
    """One row's text for one driver group (the reference for :func:`_reason_texts`)."""
    if group == "billing_period":
        return _on_plan(row[group])
    if group in model.categorical_:
        return _("{attribute}: {value}").format(attribute=feat.describe(group), value=_level(group, row[group]))
    value = x[group]
    if group == "months_to_renewal":
        if str(row.get("billing_period", "")) == "monthly":
            return _(MONTHLY_REASON)
        return _renewal_due(value)
    typical = model.reference_.get(group, np.nan)
    return _measured(_short(feat.describe(group)), value, num(typical))


def _measured(label: str, value, typical: str) -> str:
    """"events per seat 1.30 (typical 3.50)"; a value the account has no record of (a missing value the
    model still weighed) is said in words, never printed as n/a."""
    if value is None or not np.isfinite(float(value)):
        return _("{metric} not recorded (typical {typical})").format(metric=label, typical=typical)
    return _("{metric} {value} (typical {typical})").format(metric=label, value=num(value), typical=typical)


RENEWAL_PLAYBOOK = N_("Renewal preparation: open the renewal conversation now; confirm the value delivered, "
                      "the decision maker and the budget.")
RISK_PLAYBOOK = N_("Risk review: call the champion within two weeks and ask what would make them leave; log the "
                   "answer.")


def model_playbook(model: ChurnModel, contributions: pd.DataFrame, config: HealthConfig,
                   monthly: pd.Series | None = None) -> pd.Series:
    """A playbook from the model's strongest reason, for accounts the health score does not flag: the
    health component reading the same metric, the renewal playbook for contract timing, else a
    general risk review. ``monthly`` (True for an account on a monthly plan, which has no renewal to
    prepare: it can leave at any month end) turns contract timing into the risk review."""
    by_metric = {c.metric: c.playbook for c in config.components}
    lookup = {}
    for group, members in model.groups_.items():
        hit = next((by_metric[m] for m in [group, *members] if m in by_metric), None)
        if hit is None and group in ("months_to_renewal", "billing_period"):
            hit = RENEWAL_PLAYBOOK
        lookup[group] = hit or RISK_PLAYBOOK
    top = contributions.idxmax(axis=1)
    out = top.map(lookup).fillna(RISK_PLAYBOOK)
    if monthly is not None:
        out = out.mask(monthly.to_numpy(dtype=bool) & (out == RENEWAL_PLAYBOOK).to_numpy(), RISK_PLAYBOOK)
    # compared in English above; shown in the run's language (a team's own playbook as written)
    return pd.Series(format_each(out, configured_text), index=out.index, dtype=object)


def suggest_touch_tier(arr: pd.Series, risk: pd.Series, high_value_quantile: float = 0.8,
                       low_value_quantile: float = 0.4, high_risk: float = 0.2) -> pd.Series:
    """A suggested touch tier from value and risk: ``high`` for the top ``1 - high_value_quantile`` of
    ARR, or above-median ARR with churn risk >= ``high_risk``; ``tech`` for the bottom
    ``low_value_quantile`` of ARR at lower risk; ``low`` otherwise."""
    hi, lo, mid = arr.quantile(high_value_quantile), arr.quantile(low_value_quantile), arr.median()
    return pd.Series(np.select(
        [(arr >= hi) | ((arr >= mid) & (risk >= high_risk)), (arr < lo) & (risk < high_risk)],
        ["high", "tech"], "low"), index=arr.index)


def _as_frame_config(health_config) -> HealthConfig:
    if isinstance(health_config, HealthConfig):
        return health_config
    return load_health_config(health_config)
