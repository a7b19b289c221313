"""Charts of the churn-drivers report: behavioural cohorts, thresholds, drivers, the backtest's
calibration, the health score's validation and where the ARR at risk sits. Each function reads the
report's :class:`~.result.Result` and returns the matplotlib figure; titles say what the chart
answers, axes carry units, and every rate shows its 95% interval."""

from __future__ import annotations

import textwrap

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from ...style import PALETTE, money, percent
from ...text import count, num, p_value, pct, plural, words

BAND_COLORS = {"green": "#66A182", "yellow": "#EDAE49", "red": "#D1495B"}
RISK_COLOR, SAFE_COLOR, NEUTRAL = "#D1495B", "#2E5A88", "#6C757D"


def _wrap(text: str, width: int = 38) -> str:
    return "\n".join(textwrap.wrap(str(text), width)) or str(text)


def _err(center, low, high):
    """Error-bar lengths from an interval, never negative (Wilson bounds at 0 events can sit a
    rounding error above the point estimate)."""
    c, lo, hi = (np.asarray(v, dtype=float) for v in (center, low, high))
    return [np.clip(c - lo, 0, None), np.clip(hi - c, 0, None)]


def _empty(ax, message: str, title: str) -> None:
    ax.text(0.5, 0.5, message, ha="center", va="center", transform=ax.transAxes, color=NEUTRAL)
    ax.set_title(title)
    ax.set_axis_off()


def deciles(result, metrics: list[str] | None = None, columns: int = 3):
    """Churn rate by decile of each metric, with Wilson 95% intervals and the overall rate."""
    cohorts, base_rate, horizon_days = result.deciles, result.base_rate, result.horizon_days
    metrics = metrics or list(dict.fromkeys(cohorts["metric"]))
    rows = int(np.ceil(len(metrics) / columns)) or 1
    fig, axes = plt.subplots(rows, columns, figsize=(4.2 * columns, 3.3 * rows), squeeze=False)
    for ax, metric in zip(axes.flat, metrics):
        d = cohorts[cohorts["metric"] == metric]
        x = np.arange(len(d))
        ax.bar(x, d["churn_rate"], color=PALETTE[0], alpha=0.85)
        ax.errorbar(x, d["churn_rate"], yerr=_err(d["churn_rate"], d["ci_low"], d["ci_high"]),
                    fmt="none", ecolor="black", elinewidth=0.8, capsize=2)
        ax.axhline(base_rate, color=RISK_COLOR, ls="--", lw=1)
        ax.set_xticks(x, [num(v) for v in d["value_high"]], rotation=60, fontsize=7)
        ax.set_title(_wrap(d["label"].iloc[0], 40), fontsize=10)
        ax.set_xlabel("decile (upper edge of each bin)", fontsize=8)
        ax.set_ylabel(f"churned within {horizon_days} days", fontsize=8)
        percent(ax)
    for ax in list(axes.flat)[len(metrics):]:
        ax.set_axis_off()
    fig.suptitle(f"Churn rate by decile of each metric (dashed: all accounts, {pct(base_rate)}; bars: 95% CI)",
                 fontsize=12, fontweight="bold", x=0.01, ha="left")
    fig.tight_layout()
    return fig


def categories(result, columns: int = 3):
    """Churn rate by level of each categorical attribute, with Wilson 95% intervals."""
    cohorts, base_rate, horizon_days = result.categories, result.base_rate, result.horizon_days
    attributes = list(dict.fromkeys(cohorts["attribute"]))
    rows = int(np.ceil(len(attributes) / columns)) or 1
    fig, axes = plt.subplots(rows, columns, figsize=(4.2 * columns, 3.0 * rows), squeeze=False)
    for ax, attribute in zip(axes.flat, attributes):
        d = cohorts[cohorts["attribute"] == attribute].sort_values("churn_rate")
        y = np.arange(len(d))
        ax.barh(y, d["churn_rate"], color=PALETTE[0], alpha=0.85)
        ax.errorbar(d["churn_rate"], y, xerr=_err(d["churn_rate"], d["ci_low"], d["ci_high"]),
                    fmt="none", ecolor="black", elinewidth=0.8, capsize=2)
        ax.axvline(base_rate, color=RISK_COLOR, ls="--", lw=1)
        ax.set_yticks(y, [f"{lvl} (n={count(n)})" for lvl, n in zip(d["level"], d["accounts"])], fontsize=8)
        p = d["p_value_holm"].iloc[0] if "p_value_holm" in d else np.nan
        ax.set_title(words(attribute) + (f" (Holm-corrected {p_value(p)})" if pd.notna(p) else ""), fontsize=10)
        ax.set_xlabel(f"churned within {horizon_days} days", fontsize=8)
        percent(ax, axis="x")
    for ax in list(axes.flat)[len(attributes):]:
        ax.set_axis_off()
    fig.suptitle("Churn rate by account attribute (dashed: all accounts; bars: 95% CI)", fontsize=12,
                 fontweight="bold", x=0.01, ha="left")
    fig.tight_layout()
    return fig


def thresholds(result, top: int = 8):
    """The threshold finder: rate ratio of the risky side of each metric's cut vs the rest, on later data."""
    found = result.thresholds
    fig, ax = plt.subplots(figsize=(10, 0.55 * min(top, max(len(found), 1)) + 1.4))
    if found.empty:
        _empty(ax, "not enough history to choose and test thresholds", "Thresholds")
        return fig
    d = found.head(top).iloc[::-1]
    y = np.arange(len(d))
    ax.barh(y, d["rate_ratio"], color=RISK_COLOR, alpha=0.8)
    err_low = (d["rate_ratio"] - d["ratio_low"]).fillna(0).clip(lower=0)
    err_high = (d["ratio_high"] - d["rate_ratio"]).fillna(0).clip(lower=0)
    ax.errorbar(d["rate_ratio"], y, xerr=[err_low, err_high], fmt="none", ecolor="black", elinewidth=0.8, capsize=2)
    ax.axvline(1, color="black", lw=0.8)
    labels = [_wrap(f"{'≤' if s == 'under' else '≥'} {num(t)} {lbl} ({pct(sh, 0)} of accounts)", 60)
              for s, t, lbl, sh in zip(d["side"], d["threshold"], d["label"], d["share_of_accounts"])]
    ax.set_yticks(y, labels, fontsize=8)
    ax.set_xlabel("churn rate of accounts past the threshold / churn rate of the rest (95% CI)")
    ax.set_title("Thresholds: accounts past these lines churn this many times as often (tested on later months)")
    fig.tight_layout()
    return fig


def driver_importance(result, top: int = 12):
    """Drivers ranked by AUC lost when shuffled (95% interval), coloured by direction."""
    d = result.drivers.head(top).iloc[::-1]
    fig, ax = plt.subplots(figsize=(10, 0.45 * len(d) + 1.4))
    colors = [RISK_COLOR if "lower" in x else SAFE_COLOR if "higher" in x else NEUTRAL for x in d["direction"]]
    y = np.arange(len(d))
    ax.barh(y, d["importance"], color=colors, alpha=0.85)
    ax.errorbar(d["importance"], y, xerr=[(d["importance"] - d["importance_low"]).clip(lower=0),
                                          (d["importance_high"] - d["importance"]).clip(lower=0)],
                fmt="none", ecolor="black", elinewidth=0.8, capsize=2)
    ax.axvline(0, color="black", lw=0.6)
    ax.set_yticks(y, [_wrap(f"{lbl} — {dr}", 60) for lbl, dr in zip(d["label"], d["direction"])], fontsize=8)
    ax.set_xlabel("AUC lost when the driver is shuffled (95% interval)")
    ax.set_title("What predicts churn: drivers ranked by importance (red: lower means more churn, blue: higher)")
    fig.tight_layout()
    return fig


def calibration(result):
    """Predicted vs observed churn by bin of predicted probability; on the diagonal = well calibrated."""
    table, model = result.calibration, result.primary_model
    fig, ax = plt.subplots(figsize=(5.6, 4.6))
    top = float(max(table["predicted"].max(), table["observed_high"].max()) * 1.05)
    ax.plot([0, top], [0, top], color=NEUTRAL, ls="--", lw=1, label="perfect calibration")
    ax.errorbar(table["predicted"], table["observed"],
                yerr=_err(table["observed"], table["observed_low"], table["observed_high"]),
                fmt="o", color=PALETTE[0], capsize=2, label="observed (95% CI)")
    ax.set_xlim(0, top)
    ax.set_ylim(0, top)
    ax.set_xlabel("predicted churn probability (bin mean)")
    ax.set_ylabel("observed churn rate")
    percent(ax)
    percent(ax, axis="x")
    ax.set_title(f"Calibration of the {model} model (backtest)")
    ax.legend(fontsize=8, loc="upper left")
    fig.tight_layout()
    return fig


def health_bands(result):
    """Churn rate by health band, with Wilson 95% intervals."""
    horizon_days = result.horizon_days
    fig, ax = plt.subplots(figsize=(5.6, 3.8))
    d = result.validation.bands.dropna(subset=["churn_rate"])
    x = np.arange(len(d))
    ax.bar(x, d["churn_rate"], color=[BAND_COLORS.get(b, NEUTRAL) for b in d["band"]])
    ax.errorbar(x, d["churn_rate"], yerr=_err(d["churn_rate"], d["ci_low"], d["ci_high"]),
                fmt="none", ecolor="black", capsize=3)
    ax.set_xticks(x, [f"{b}\n(n={count(n)})" for b, n in zip(d["band"], d["accounts"])])
    ax.set_ylabel(f"churned within {horizon_days} days")
    ax.set_xlabel("health band at the observation date")
    ax.set_title("Does the health score separate churners? Churn by band")
    percent(ax)
    fig.tight_layout()
    return fig


def red_lead_times(result):
    """How long before the churn date churned accounts had been red."""
    lead = result.validation.lead
    fig, ax = plt.subplots(figsize=(6.4, 3.8))
    days = lead["days_red_before_churn"].dropna()
    if days.empty:
        _empty(ax, "no churned account was red before churning", "Early warning")
        return fig
    ax.hist(days, bins=np.arange(0, days.max() + 31, 30), color=BAND_COLORS["red"], alpha=0.85)
    never = int(lead["days_red_before_churn"].isna().sum())
    ax.set_xlabel("days from turning red (and staying red) to the churn date")
    ax.set_ylabel("churned accounts")
    ax.set_title(f"Early warning: red before churn ({plural(len(days), 'account')}; {count(never)} "
                 f"{'was' if never == 1 else 'were'} not red)")
    fig.tight_layout()
    return fig


def weights(result):
    """Configured health-score weights beside the weights the data suggest (with 95% intervals)."""
    table = result.validation.weights
    fig, ax = plt.subplots(figsize=(9, 3.8))
    x = np.arange(len(table))
    ax.bar(x - 0.2, table["configured_weight"], width=0.4, color=NEUTRAL, label="configured (YAML)")
    ax.bar(x + 0.2, table["suggested_weight"], width=0.4, color=PALETTE[0], label="suggested by the data")
    ax.errorbar(x + 0.2, table["suggested_weight"],
                yerr=[(table["suggested_weight"] - table["suggested_low"]).clip(lower=0),
                      (table["suggested_high"] - table["suggested_weight"]).clip(lower=0)],
                fmt="none", ecolor="black", capsize=2)
    ax.set_xticks(x, [words(c) for c in table["component"]], rotation=20)
    ax.set_ylabel("weight (% of the score)")
    ax.set_xlabel("health-score component")
    ax.set_title("Health-score weights: configured vs suggested by a regression on realised churn")
    ax.legend(fontsize=8)
    fig.tight_layout()
    return fig


def arr_at_risk(result):
    """How concentrated the ARR at risk is: cumulative share by number of accounts called, and by band."""
    at_risk = result.at_risk
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(12, 4.0))
    d = at_risk.sort_values("arr_at_risk", ascending=False)
    total = d["arr_at_risk"].sum()
    cum = d["arr_at_risk"].cumsum() / total if total > 0 else d["arr_at_risk"] * 0
    ax1.plot(np.arange(1, len(d) + 1), cum, color=RISK_COLOR)
    for k in (10, 25, 50):
        if k <= len(d):
            ax1.annotate(f"top {k}: {pct(cum.iloc[k - 1], 0)}", (k, cum.iloc[k - 1]), textcoords="offset points",
                         xytext=(8, -12), fontsize=8)
            ax1.plot(k, cum.iloc[k - 1], "o", color=RISK_COLOR, ms=3)
    ax1.set_xscale("log")
    ax1.set_xlabel("accounts, riskiest ARR first (log scale)")
    ax1.set_ylabel("share of expected ARR loss")
    ax1.set_title("Whom to call: cumulative share of ARR at risk")
    percent(ax1)
    by_band = at_risk.groupby("health_band")["arr_at_risk"].sum()
    by_band = by_band.reindex([b for b in ("green", "yellow", "red", "unscored") if b in by_band.index])
    ax2.bar(by_band.index, by_band.to_numpy(), color=[BAND_COLORS.get(b, NEUTRAL) for b in by_band.index])
    ax2.set_ylabel("expected ARR loss")
    ax2.set_xlabel("health band today")
    ax2.set_title("Where the expected ARR loss sits, by health band")
    money(ax2)
    fig.tight_layout()
    return fig
