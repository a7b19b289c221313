"""Charts of the experiments report: balance, effects with intervals, survival per arm, event study,
Qini curves, uplift by top k%, effects by segment, targeting value and power.

Every chart has a title saying what it answers and labelled axes; every estimate is drawn with its
interval. Rates are shown in percentage points, money as money.
"""

from __future__ import annotations

from typing import Callable, Iterator, Mapping

import matplotlib.pyplot as plt
import matplotlib.ticker as mticker
import numpy as np
import pandas as pd

from ...i18n import _
from ...style import NEUTRAL, PALETTE, money, percent, set_suptitle, set_title, translate_at_risk
from ...text import number, pct, points
from .compute_effects import power_at
from .compute_readout import Readout
from .words import chart_titles
from .words_terms import covariate, term, terms

ARM_COLORS = [PALETTE[0], PALETTE[1], PALETTE[2], PALETTE[3], PALETTE[4], PALETTE[5]]  # treatment arms
CONTROL_COLOR = PALETTE[6]
POLICY_COLORS = {"top k% by predicted uplift": PALETTE[0], "top k% by churn risk": PALETTE[1], "random k%": PALETTE[6]}


def _points(ax, axis: str = "x") -> None:
    """Format an axis of proportion differences as percentage points."""
    fmt = mticker.FuncFormatter(lambda v, _: points(v, 1, signed=True) if abs(v) > 1e-12 else "0")
    target = ax.xaxis if axis == "x" else ax.yaxis
    target.set_major_locator(mticker.MaxNLocator(nbins=6, steps=[1, 2, 5, 10]))
    target.set_major_formatter(fmt)


def _intervals(ax, est, low, high, ypos, colors) -> None:
    """Horizontal intervals with a dot at the estimate, one colour per row."""
    for e, lo, hi, y, c in zip(est, low, high, ypos, colors):
        ax.errorbar([e], [y], xerr=[[e - lo], [hi - e]], fmt="o", color=c, ecolor=c, capsize=3, lw=1.6)


def balance(balance: pd.DataFrame, weighted: pd.DataFrame | None = None, title: str = "", max_rows: int = 20):
    """Love plot: standardised mean difference per covariate (|SMD| > 0.1 is imbalance); one marker
    colour per treatment arm when several are compared with the control."""
    arms = list(dict.fromkeys(balance["arm"])) if "arm" in balance else [None]
    worst = balance.assign(a=balance["smd"].abs()).groupby("covariate", sort=False)["a"].max()
    order = worst.sort_values(ascending=False).index[:max_rows]
    fig, ax = plt.subplots(figsize=(8, 0.28 * len(order) + 1.4))
    ypos = pd.Series(np.arange(len(order)), index=order)
    for i, arm in enumerate(arms):
        part = balance if arm is None else balance[balance["arm"] == arm]
        part = part[part["covariate"].isin(order)]
        label = ((_("before weighting") if weighted is not None else _("as assigned")) if len(arms) == 1
                 else _("{arm} vs control").format(arm=arm))
        ax.scatter(part["smd"], ypos[part["covariate"]], color=ARM_COLORS[(i + 1) % len(ARM_COLORS)] if len(arms) > 1
                   else PALETTE[1], label=label, zorder=3)
    if weighted is not None:
        w = weighted.set_index("covariate").reindex(order)
        ax.scatter(w["smd"], ypos.to_numpy(), color=PALETTE[0], marker="D", label=_("after propensity weighting"), zorder=3)
    if weighted is not None or len(arms) > 1:
        ax.legend(loc="lower right", fontsize=8)
    for x in (-0.1, 0.1):
        ax.axvline(x, color="#999", ls="--", lw=1)
    ax.axvline(0, color="#333", lw=0.8)
    ax.set_yticks(ypos.to_numpy(), [covariate(c) for c in order], fontsize=8)
    ax.invert_yaxis()
    ax.set_xlabel(_("standardised mean difference (treated minus control); dashed: ±0.1"))
    set_title(ax, title or _("Covariate balance between arms"))
    fig.tight_layout()
    return ax


def effects(effects: pd.DataFrame, title: str = ""):
    """One panel per outcome: each comparison's estimators with their 95% intervals (primary in blue)."""
    outcomes = list(dict.fromkeys(effects["outcome"]))
    several = effects["arm"].nunique() > 1
    fig, axes = plt.subplots(len(outcomes), 1, figsize=(9, 1.0 + 1.05 * len(effects)), squeeze=False)
    for ax, outcome in zip(axes[:, 0], outcomes):
        rows = effects[effects["outcome"] == outcome].reset_index(drop=True)
        ypos = np.arange(len(rows))
        colors = [PALETTE[0] if p else PALETTE[6] for p in rows["primary"]]
        _intervals(ax, rows["estimate"], rows["low"], rows["high"], ypos, colors)
        ax.axvline(0, color="#333", lw=0.8)
        labels = ([_("{arm}: {estimator}").format(arm=term(a), estimator=term(e)) for a, e in zip(rows["arm"], rows["estimator"])]
                  if several else terms(rows["estimator"]))
        ax.set_yticks(ypos, labels, fontsize=8)
        ax.invert_yaxis()
        label, unit = rows["outcome_label"].iloc[0], rows["unit"].iloc[0]
        if unit == "points":
            _points(ax)
            ax.set_xlabel(_("effect on {label} (percentage points, 95% CI)").format(label=label))
        elif unit == "money" or not rows["unit_label"].iloc[0]:
            if unit == "money":
                money(ax, "x")
            ax.set_xlabel(_("effect on {label} (95% CI)").format(label=label))
        else:
            ax.set_xlabel(_("effect on {label} ({unit}, 95% CI)").format(label=label, unit=rows["unit_label"].iloc[0]))
        set_title(ax, label[0].upper() + label[1:], fontsize=10, loc="left")
    set_suptitle(fig, title or _("Effects with 95% intervals (primary estimator in blue)"), x=0.01, ha="left",
                 fontweight="bold", fontsize=12)
    fig.tight_layout()
    return axes[0, 0]


def survival(result: dict, horizon_days: float, title: str = ""):
    """Kaplan-Meier share still paying per arm, 95% bands, accounts at risk under the axis."""
    from lifelines.plotting import add_at_risk_counts

    fig, ax = plt.subplots(figsize=(9, 4.6))
    fitters = list(result["fitters"].values())
    colors = [ARM_COLORS[i % len(ARM_COLORS)] for i in range(len(fitters) - 1)] + [CONTROL_COLOR]
    for kmf, color in zip(fitters, colors):
        kmf.plot_survival_function(ax=ax, color=color, ci_alpha=0.15)
    read_at = result.get("horizon_days", horizon_days)
    ax.axvline(read_at, color="#999", ls="--", lw=1)
    label = (_(" {days}-day horizon") if read_at >= horizon_days
             else _(" read at {days} days (follow-up so far)")).format(days=number(read_at, 0))
    ax.text(read_at, ax.get_ylim()[0], label, color="#666", fontsize=8, va="bottom")
    percent(ax)
    ax.set_xlabel(_("days since assignment"))
    ax.set_ylabel(_("share of accounts still paying"))
    set_title(ax, title or _("Still paying, by arm (Kaplan-Meier, 95% bands)"))
    with np.errstate(all="ignore"):
        add_at_risk_counts(*fitters, ax=ax, rows_to_show=["At risk"], fontsize=8)
    translate_at_risk(fig)
    fig.tight_layout()
    return ax


def event_study(es: pd.DataFrame, title: str = "", ylabel: str = ""):
    """Event-study coefficients with 95% intervals; pre-period points near zero support parallel trends."""
    fig, ax = plt.subplots(figsize=(9, 4))
    pre = es["period"] < 0
    for mask, color, label in ((pre, PALETTE[6], _("before (should be near 0)")), (~pre, PALETTE[0], _("after"))):
        part = es[mask]
        ax.errorbar(part["period"], part["estimate"], yerr=[part["estimate"] - part["low"], part["high"] - part["estimate"]],
                    fmt="o", color=color, capsize=3, label=label)
    ax.axhline(0, color="#333", lw=0.8)
    ax.axvline(-0.5, color="#999", ls="--", lw=1)
    ax.set_xlabel(_("30-day periods relative to adoption (0 = first period after)"))
    ax.set_ylabel(ylabel or _("difference in events per 30 days vs period -1"))
    set_title(ax, title or _("Event study: users minus non-users, change since the period before adoption"))
    ax.legend(fontsize=8)
    ax.xaxis.set_major_locator(mticker.MaxNLocator(integer=True))
    fig.tight_layout()
    return ax


def observational(table: pd.DataFrame, title: str = ""):
    """Naive and adjusted estimates side by side, one panel per outcome."""
    outcomes = list(dict.fromkeys(table["outcome"]))
    fig, axes = plt.subplots(len(outcomes), 1, figsize=(9, 1.0 + 0.9 * len(table)), squeeze=False)
    for ax, outcome in zip(axes[:, 0], outcomes):
        rows = table[table["outcome"] == outcome].reset_index(drop=True)
        relative = rows["relative"].notna().all()
        est, low, high = ((rows["relative"], rows["relative_low"], rows["relative_high"]) if relative
                          else (rows["estimate"], rows["low"], rows["high"]))
        ypos = np.arange(len(rows))
        colors = [NEUTRAL if e.startswith("naive") else PALETTE[0] for e in rows["estimator"]]
        _intervals(ax, est, low, high, ypos, colors)
        ax.axvline(0, color="#333", lw=0.8)
        ax.set_yticks(ypos, terms(rows["estimator"]), fontsize=8)
        ax.invert_yaxis()
        if relative:
            percent(ax, "x")
            ax.set_xlabel(_("effect on {label} (% of the users' counterfactual level, 95% CI)").format(
                label=term(outcome)))
        else:
            _points(ax)
            ax.set_xlabel(_("effect on {label} (percentage points, 95% CI)").format(label=term(outcome)))
    set_suptitle(fig, title or _("Naive comparison (grey) vs adjusted estimates (blue)"), x=0.01, ha="left",
                 fontweight="bold", fontsize=12)
    fig.tight_layout()
    return axes[0, 0]


def qini(curves: pd.DataFrame, chosen: str, title: str = "", binary: bool = True):
    """Left: Qini curves on held-out accounts (incremental outcomes as more accounts are targeted, by
    model). Right: the uplift curve of the chosen model (treated-minus-control rate among the targeted)."""
    fig, (ax, ax2) = plt.subplots(1, 2, figsize=(11, 4.4), gridspec_kw={"width_ratios": [3, 2]})
    for i, (model, part) in enumerate(curves.groupby("model", sort=False)):
        if model == "random":
            ax.plot(part["share_targeted"], part["qini"], color="#333", ls="--", lw=1.2, label=_("random targeting"))
        elif model == chosen:
            ax.plot(part["share_targeted"], part["qini"], color=PALETTE[0], lw=2.6, label=_("{model} (chosen)").format(
                model=term(model)))
        else:
            ax.plot(part["share_targeted"], part["qini"], color=PALETTE[(i % 6) + 2], lw=1, alpha=0.7, label=term(model))
    percent(ax, "x")
    ax.set_xlabel(_("share of held-out accounts targeted, highest predicted uplift first"))
    ax.set_ylabel(_("incremental retained accounts (Qini)") if binary else _("incremental outcome (Qini)"))
    set_title(ax, title or _("Qini curves on held-out accounts"))
    ax.legend(fontsize=8, ncol=2)
    part = curves[(curves["model"] == chosen) & (curves["share_targeted"] >= 0.05)]
    flat = curves[(curves["model"] == "random") & (curves["share_targeted"] >= 0.05)]
    ax2.plot(part["share_targeted"], part["uplift"], color=PALETTE[0], lw=2, label=term(chosen))
    ax2.plot(flat["share_targeted"], flat["uplift"], color="#333", ls="--", lw=1.2, label=_("everyone (average)"))
    percent(ax2, "x")
    if binary:
        _points(ax2, "y")
    ax2.set_xlabel(_("share targeted"))
    ax2.set_ylabel(_("uplift among the targeted"))
    set_title(ax2, _("Uplift curve of the chosen model"), fontsize=10)
    ax2.legend(fontsize=8)
    fig.tight_layout()
    return ax


def top_k(top: pd.DataFrame, overall: float | None = None, binary: bool = True, title: str = ""):
    """Observed uplift among the top k% by predicted uplift, with 95% intervals."""
    fig, ax = plt.subplots(figsize=(8, 3.8))
    labels = [_("top {share}").format(share=pct(s, 0)) if s < 1 else _("everyone") for s in top["share_targeted"]]
    x = np.arange(len(top))
    ax.errorbar(x, top["uplift"], yerr=[top["uplift"] - top["low"], top["high"] - top["uplift"]], fmt="o",
                color=PALETTE[0], capsize=4)
    ax.axhline(0, color="#333", lw=0.8)
    if overall is not None:
        ax.axhline(overall, color=PALETTE[6], ls="--", lw=1, label=_("average effect (everyone)"))
        ax.legend(fontsize=8)
    ax.set_xticks(x, labels)
    if binary:
        _points(ax, "y")
    ax.set_xlabel(_("accounts targeted by predicted uplift (held-out half)"))
    ax.set_ylabel(_("observed uplift (treated minus control)"))
    set_title(ax, title or _("Does the model find the accounts that benefit? Observed uplift in the top k%"))
    fig.tight_layout()
    return ax


def segments(table: pd.DataFrame, binary: bool = True, title: str = ""):
    """Effect per segment with its 95% interval (and the model's mean prediction when present)."""
    fig, ax = plt.subplots(figsize=(8, 0.5 * len(table) + 1.6))
    y = np.arange(len(table))
    ax.errorbar(table["effect"], y, xerr=[table["effect"] - table["low"], table["high"] - table["effect"]], fmt="o",
                color=PALETTE[0], capsize=4, label=_("observed effect (95% CI)"))
    if "predicted_uplift" in table and table["predicted_uplift"].notna().any():
        ax.scatter(table["predicted_uplift"], y, marker="x", color=PALETTE[1], zorder=3, label=_("model's mean prediction"))
    ax.axvline(0, color="#333", lw=0.8)
    ax.set_yticks(y, [f"{s} (n={n:,})" for s, n in zip(table["segment"], table["accounts"])])
    ax.invert_yaxis()
    if binary:
        _points(ax)
    ax.set_xlabel(_("effect on the primary outcome (treated minus control)"))
    set_title(ax, title or _("Effect by segment"))
    ax.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.01, 1.0))
    fig.tight_layout()
    return ax


def targeting(table: pd.DataFrame, title: str = ""):
    """Net value (incremental retained ARR minus cost) by share of accounts treated, per policy."""
    fig, ax = plt.subplots(figsize=(9, 4.4))
    for policy, part in table.groupby("policy", sort=False):
        color = POLICY_COLORS.get(policy, PALETTE[3])
        ax.plot(part["share_treated"], part["net_value"], marker="o", color=color, label=term(policy))
        ax.fill_between(part["share_treated"], part["net_value_low"], part["net_value_high"], color=color, alpha=0.07)
    if "chosen" in table and table["chosen"].astype(bool).any():
        c = table[table["chosen"].astype(bool)].iloc[0]
        ax.errorbar([c["share_treated"]], [c["net_value"]],
                    yerr=[[c["net_value"] - c["net_value_low"]], [c["net_value_high"] - c["net_value"]]],
                    fmt="o", ms=11, mfc="none", mec="#333", ecolor="#333", capsize=4, lw=1.2,
                    label=_("chosen on the other half"))
    ax.axhline(0, color="#333", lw=0.8)
    percent(ax, "x")
    money(ax)
    ax.set_xlabel(_("share of accounts treated"))
    ax.set_ylabel(_("incremental retained ARR minus cost"))
    set_title(ax, title or _("Net value of treating more accounts, by targeting policy (95% bands; values on the "
                             "evaluation half)"))
    ax.legend(fontsize=8)
    fig.tight_layout()
    return ax


def power_curve(se: float, n_treated: int, n_control: int, observed: float, mde: float, alpha: float,
                power: float, binary: bool = True, title: str = ""):
    """Power to detect each true effect size at this sample size; the MDE and the estimate marked."""
    top = max(abs(observed), mde) * 1.6 if np.isfinite(mde) else abs(observed) * 2 or 1.0
    grid = np.linspace(0, top, 80)
    curve = [power_at(g, se, n_treated, n_control, alpha) for g in grid]
    fig, ax = plt.subplots(figsize=(8, 3.6))
    ax.plot(grid, curve, color=PALETTE[0])
    ax.axhline(power, color="#999", ls="--", lw=1)
    if np.isfinite(mde):
        ax.axvline(mde, color=PALETTE[1], ls="--", lw=1, label=_("minimum detectable effect ({power} power)").format(
            power=pct(power, 0)))
    ax.axvline(abs(observed), color=PALETTE[3], lw=1.4, label=_("observed estimate (size)"))
    percent(ax, "y")
    if binary:
        _points(ax)
    ax.set_xlabel(_("true effect size"))
    ax.set_ylabel(_("power (chance to detect)"))
    set_title(ax, title or _("How large an effect could this experiment detect?"))
    ax.legend(fontsize=8, loc="lower right")
    fig.tight_layout()
    return ax


# ==================================================================================================
# One experiment's charts, drawn when its section shows them
# ==================================================================================================
def _top_k(r: Readout, title: str):
    u = r.uplift
    assert u is not None, "the top-k chart is drawn only for a readout with uplift models"
    overall = r.effects[r.effects["primary"] & (r.effects["outcome"] == u["outcome"])]["estimate"]
    return top_k(u["top_k"], float(overall.iloc[0]) if len(overall) else None, u["binary"], title)


def _power(r: Readout, title: str):
    row = r.primary_effect()
    assert row is not None, "the power chart is drawn only for a readout with a primary estimate"
    # at the level the MDE is stated at: alpha over the comparisons with the control (Bonferroni)
    return power_curve(row["se"], int(row["n_treated"]), int(row["n_control"]), row["estimate"], row["mde"],
                       r.alpha / int(row["comparisons"]), r.power, bool(row["binary"]), title)


_CHARTS: dict[str, Callable] = {
    "balance": lambda r, title: balance(r.balance, r.balance_weighted, title),
    "survival": lambda r, title: survival(r.survival, r.settings.horizon_days, title),
    "effects": lambda r, title: effects(r.effects, title),
    "observational": lambda r, title: observational(r.observational, title),
    "event_study": lambda r, title: event_study(r.event_study, title),
    "qini": lambda r, title: qini(r.uplift["qini"], r.uplift["chosen"], title, r.uplift["binary"]),
    "top_k": _top_k,
    "segments": lambda r, title: segments(r.segments, r.uplift["binary"], title),
    "targeting": lambda r, title: targeting(r.targeting, title),
    "power": _power,
}


class _Figures(Mapping):
    """A readout's charts by name, each drawn when first asked for (so a chart its section does not
    show is never drawn, and never left open for the notebook to show twice)."""

    def __init__(self, readout: Readout):
        self._readout = readout
        self._titles = chart_titles(readout)

    def __getitem__(self, name: str):
        return _CHARTS[name](self._readout, self._titles.get(name, "")).figure

    def __iter__(self) -> Iterator[str]:
        return iter(_CHARTS)

    def __len__(self) -> int:
        return len(_CHARTS)


def readout_figures(readout: Readout) -> Mapping:
    """The charts of one experiment's section by name (balance, survival, effects, observational,
    event_study, qini, top_k, segments, targeting, power), for ``views.readout_blocks``."""
    return _Figures(readout)
