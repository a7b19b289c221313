"""Charts of the onboarding-survival report: survival curves with at-risk counts, cumulative
incidence of reaching value, the hazard-ratio forest plot and lifetime value with intervals.

The first functions draw a report's chart from its result; the generic ones below them take fitters
or tables."""

from __future__ import annotations

import warnings
from typing import Mapping, Sequence

import matplotlib.pyplot as plt
import matplotlib.ticker as mticker
import numpy as np
import pandas as pd

from ...i18n import _
from ...period import DAYS_PER_MONTH
from ...style import PALETTE, money, percent, set_title, translate_at_risk
from . import words
from .result import Result


# ---- the report's charts ------------------------------------------------------------------------
def cohort_survival(result: Result):
    """Share of each onboarding cohort still paying (up to six cohorts followed for six months, or all
    when none is); when no cohort has a curve, all accounts and the segments followed to the first
    tenure of the survival table (nothing when none is: the words say why)."""
    if not result.km_cohort:  # no cohort is big enough: the curves of all accounts and of the segments
        return km_chart({**result.km_overall, **result.km_segment}, words.cohort_chart_title(result),
                        min_follow_up=min(result.survival_months))
    followed = [k for k, f in result.km_cohort.items() if float(f.durations.max()) >= 6]
    return km_chart(result.km_cohort, words.cohort_chart_title(result), min_follow_up=6 if followed else 0)


def outcome_survival(result: Result):
    """Share still paying from the landmark day on, by onboarding outcome (nothing drawn when the
    groups cannot be compared)."""
    if not result.has_onboarding:
        return None, None
    return km_chart(result.km_outcome, words.outcome_chart_title(result),
                    start=result.landmark_days / DAYS_PER_MONTH)


def value_incidence(result: Result):
    """Cumulative incidence of reaching first value per cohort, to twice the last bucket edge."""
    return cif_chart(result.value_fitters, words.value_incidence_title(result), days=max(result.buckets_days) * 2)


def value_by_cohort(result: Result):
    """Share of each cohort reaching first value within the first bucket edge."""
    if result.ttv_by_cohort is None:
        return None, None
    return value_by_cohort_chart(result.ttv_by_cohort, result.buckets_days[0], words.value_by_cohort_title(result))


def hazard_ratios(result: Result):
    """The Cox model's hazard ratios (forest plot; nothing drawn without onboarding data)."""
    if result.cox is None:
        return None, None
    return forest_chart(result.cox.summary, words.forest_title(result))


def ltv_by_segment(result: Result):
    """Lifetime value per segment (nothing drawn when no segment is followed to the horizon)."""
    return ltv_chart(result.ltv_segment, "segment", words.ltv_segment_title(result))


# ---- generic charts -----------------------------------------------------------------------------
def spread(labels: Sequence[str], k: int) -> list[str]:
    """At most ``k`` labels evenly spread over ``labels`` (first and last kept), for readable charts."""
    labels = list(labels)
    if len(labels) <= k:
        return labels
    picks = np.unique(np.round(np.linspace(0, len(labels) - 1, k)).astype(int))
    return [labels[i] for i in picks]


def km_chart(fitters: Mapping, title: str, xlabel: str | None = None,
             max_curves: int = 6, at_risk: bool = True, xmax: float | None = None, start: float = 0.0,
             min_follow_up: float = 0.0):
    """Kaplan-Meier curves with 95% bands and, under the chart, the accounts at risk per curve.
    At most ``max_curves`` curves, evenly spread, among those followed for ``min_follow_up`` months."""
    from lifelines.plotting import add_at_risk_counts

    eligible = [k for k, f in fitters.items() if float(f.durations.max()) >= min_follow_up]
    shown = {k: fitters[k] for k in spread(eligible, max_curves)}
    if not shown:  # nothing to draw: the report's words say why
        return None, None
    fig, ax = plt.subplots(figsize=(9, 4.2 + 0.28 * len(shown)))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for color, (label, kmf) in zip(PALETTE * 3, shown.items()):
            kmf.plot_survival_function(ax=ax, ci_show=True, ci_alpha=0.12, color=color, show_censors=False,
                                       label=words.group_label(label))
        set_title(ax, title)
        ax.set_xlabel(xlabel or _("months since first payment"))
        ax.set_ylabel(_("share still paying"))
        percent(ax)
        last = xmax or max(float(k.durations.max()) for k in shown.values())
        ax.set_xlim(start, last)
        ticks = np.arange(np.ceil(start / 3) * 3, last + 0.01, 6 if last > 24 else 3)
        ax.set_xticks(ticks)
        ax.legend(loc="lower left", fontsize=9)
        if at_risk:
            add_at_risk_counts(*shown.values(), ax=ax, rows_to_show=["At risk"], xticks=list(ticks),
                               labels=[words.group_label(k) for k in shown])
            translate_at_risk(fig)
    fig.tight_layout()
    return fig, ax


def cif_chart(fitters: Mapping, title: str, days: float = 180, max_curves: int = 6):
    """Cumulative incidence of reaching first value (Aalen-Johansen) with 95% bands, per cohort."""
    shown = {k: fitters[k] for k in spread(list(fitters), max_curves)}
    if not shown:
        return None, None
    fig, ax = plt.subplots(figsize=(9, 4.2))
    for color, (label, ajf) in zip(PALETTE * 3, shown.items()):
        cif = ajf.cumulative_density_.iloc[:, 0]
        ci = ajf.confidence_interval_
        keep = cif.index <= days
        ax.step(cif.index[keep], cif[keep], where="post", color=color, label=label)
        ax.fill_between(ci.index[ci.index <= days], ci.iloc[:, 0][ci.index <= days], ci.iloc[:, 1][ci.index <= days],
                        step="post", color=color, alpha=0.12)
    set_title(ax, title)
    ax.set_xlabel(_("days since first payment"))
    ax.set_ylabel(_("share that reached first value"))
    ax.set_xlim(0, days)
    ax.set_ylim(0, 1)
    percent(ax)
    ax.legend(loc="lower right", fontsize=9, title=_("onboarding cohort"))
    fig.tight_layout()
    return fig, ax


def value_by_cohort_chart(table: pd.DataFrame, days: int, title: str):
    """Share of each cohort that reached first value by day ``days`` (with 95% intervals)."""
    col = f"value_by_{days}d"
    data = table.dropna(subset=[col, col + "_lower", col + "_upper"])
    if data.empty:
        return None, None
    fig, ax = plt.subplots(figsize=(9, 3.8))
    x = np.arange(len(data))
    ax.errorbar(x, data[col], yerr=[data[col] - data[col + "_lower"], data[col + "_upper"] - data[col]],
                fmt="o", color=PALETTE[0], capsize=3)
    ax.set_xticks(x, data["cohort"], rotation=45, ha="right")
    set_title(ax, title)
    ax.set_xlabel(_("onboarding cohort (first paid day)"))
    ax.set_ylabel(_("reached first value by day {days}").format(days=days))
    ax.set_ylim(0, 1)
    percent(ax)
    fig.tight_layout()
    return fig, ax


def forest_chart(summary: pd.DataFrame, title: str):
    """Hazard ratios with 95% intervals on a log scale; left of 1 = less churn than the reference."""
    data = summary.iloc[::-1].reset_index(drop=True)
    fig, ax = plt.subplots(figsize=(9, 0.9 + 0.38 * len(data)))
    y = np.arange(len(data))
    for yi, row in zip(y, data.itertuples()):
        color = PALETTE[1] if row.variable == "outcome" else PALETTE[0]
        ax.errorbar(row.hazard_ratio, yi, xerr=[[row.hazard_ratio - row.lower], [row.upper - row.hazard_ratio]],
                    fmt="o", color=color, capsize=3)
    labels = [_("{term}  (vs {reference})").format(term=words.covariate_label(c), reference=words.level_text(v, r))
              if r else words.covariate_label(c) for c, v, r in zip(data["covariate"], data["variable"], data["reference"])]
    ax.set_yticks(y, labels, fontsize=9)
    ax.axvline(1.0, color="#6C757D", ls="--", lw=1)
    ax.set_xscale("log")
    low, high = float(data["lower"].min()), float(data["upper"].max())
    ticks = [t for t in (0.1, 0.2, 0.25, 0.5, 0.75, 1, 1.5, 2, 3, 4, 5, 10) if low / 1.3 <= t <= high * 1.3]
    # on a wide axis 0.2 and 0.25 print on top of each other ('0.20.25'): keep a tick only when it is at
    # least 5% of the axis' log width from the one kept before it
    gap = 0.05 * np.log(max(high * 1.3, 1.0001) / max(low / 1.3, 1e-9))
    kept: list[float] = []
    for t in ticks:
        if not kept or t == 1 or np.log(t / kept[-1]) >= gap:
            kept = [k for k in kept if t != 1 or np.log(t / k) >= gap] + [t]  # 1, the reference line, stays
    ax.set_xticks(kept)
    ax.xaxis.set_minor_formatter(mticker.NullFormatter())
    ax.xaxis.set_major_formatter(mticker.FuncFormatter(lambda v, _: f"{v:g}"))
    set_title(ax, title)
    ax.set_xlabel(_("hazard ratio of churn (log scale; < 1 = churns less)"))
    fig.tight_layout()
    return fig, ax


def ltv_chart(table: pd.DataFrame, by: str, title: str):
    """Survival-based lifetime value per group with 95% intervals (groups without enough follow-up
    are left out)."""
    if table is None:
        return None, None
    data = table.dropna(subset=["lifetime_value", "lifetime_value_lower", "lifetime_value_upper"])
    if data.empty:
        return None, None
    fig, ax = plt.subplots(figsize=(9, 0.9 + 0.42 * max(len(data), 1)))
    y = np.arange(len(data))
    ax.barh(y, data["lifetime_value"], color=PALETTE[0], alpha=0.85)
    ax.errorbar(data["lifetime_value"], y, xerr=[data["lifetime_value"] - data["lifetime_value_lower"],
                                                 data["lifetime_value_upper"] - data["lifetime_value"]],
                fmt="none", ecolor="#333333", capsize=3)
    ax.set_yticks(y, data[by])
    ax.invert_yaxis()
    set_title(ax, title)
    ax.set_xlabel(_("revenue per account over the horizon (RMST x average MRR)"))
    money(ax, "x")
    fig.tight_layout()
    return fig, ax
