"""Charts of the churn-drivers report: behavioural cohorts, thresholds, drivers, the backtest's
calibration, the health score's validation and where the ARR at risk sits. Each function reads the
report's :class:`~.result.Result` and returns the matplotlib figure, or None when its section has
nothing to draw (the section's sentence says why); titles say what the chart answers, axes carry
units, and every rate shows its 95% interval. Percent axes tick at 1-2-5 steps, labelled with the
decimals the step needs (``csresearch.style.percent``). Titles, axis labels and legends are marked for the
message catalog; machine values (health bands) are shown through :func:`.words.value_label`."""

from __future__ import annotations

import matplotlib.pyplot as plt
import matplotlib.ticker as mticker
import numpy as np
import pandas as pd

from ...i18n import _, ngettext
from ...style import BAND_COLORS, BETTER, NEUTRAL, PALETTE, REFERENCE, WORSE, money, percent, set_suptitle, set_title, wrap_text
from ...text import count, num, p_value, pct
from . import words as report_words

RISK_COLOR = WORSE


def _wrap(text: str, width: int = 38) -> str:
    return wrap_text(str(text), width)  # by display width: Japanese labels wrap too


def _attribute(attribute: str) -> str:
    """An account attribute's name as a panel title (``touch_tier`` -> touch tier; ja: タッチモデル)."""
    from ...core import features as feat

    return feat.describe(attribute)


def _level(attribute: str, level) -> str:
    """A level of an attribute as a tick label: billing period and touch tier in words, data values as they are."""
    return report_words.value_label(attribute, level) if attribute in report_words.VALUE_LABELS else str(level)


def _err(center, low, high):
    """Error-bar lengths from an interval, never negative (Wilson bounds at 0 events can sit a
    rounding error above the point estimate)."""
    c, lo, hi = (np.asarray(v, dtype=float) for v in (center, low, high))
    return [np.clip(c - lo, 0, None), np.clip(hi - c, 0, None)]


def _percent(ax, axis: str = "y") -> None:
    """A percent axis whose labels say what its ticks are: ticks at 1-2-5 steps (1%, 2%, 5% ... or
    0.1%, 0.2% ...) and :func:`csresearch.style.percent` with as many decimals as the step needs, so a
    2.5% step is never printed "2%, 5%, 8%"."""
    which = ax.yaxis if axis == "y" else ax.xaxis
    locator = mticker.MaxNLocator(nbins=6, steps=[1, 2, 5, 10])
    which.set_major_locator(locator)
    low, high = ax.get_ylim() if axis == "y" else ax.get_xlim()
    ticks = locator.tick_values(low, high)
    step = float(np.min(np.diff(ticks))) if len(ticks) > 1 else 1.0
    decimals = int(max(0, -np.floor(np.log10(step * 100) + 1e-9))) if step > 0 else 0
    percent(ax, axis=axis, decimals=decimals)


def deciles(result, metrics: list[str] | None = None, columns: int = 3):
    """Churn rate by decile of each metric, with Wilson 95% intervals and the overall rate."""
    cohorts, base_rate, horizon_days = result.deciles, result.base_rate, result.horizon_days
    if cohorts.empty:
        return None
    metrics = metrics or list(dict.fromkeys(cohorts["metric"]))
    rows = int(np.ceil(len(metrics) / columns)) or 1
    fig, axes = plt.subplots(rows, columns, figsize=(4.2 * columns, 3.3 * rows), squeeze=False)
    for ax, metric in zip(axes.flat, metrics):
        d = cohorts[cohorts["metric"] == metric]
        x = np.arange(len(d))
        ax.bar(x, d["churn_rate"], color=PALETTE[0], alpha=0.85)
        ax.errorbar(x, d["churn_rate"], yerr=_err(d["churn_rate"], d["ci_low"], d["ci_high"]),
                    fmt="none", ecolor="black", elinewidth=0.8, capsize=2)
        ax.axhline(base_rate, color=REFERENCE, ls="--", lw=1)
        ax.set_xticks(x, [num(v) for v in d["value_high"]], rotation=60, fontsize=7)
        set_title(ax, d["label"].iloc[0], fontsize=10)
        ax.set_xlabel(_("decile (upper edge of each bin)"), fontsize=8)
        ax.set_ylabel(_("churned within {days} days").format(days=horizon_days), fontsize=8)
        _percent(ax)
    for ax in list(axes.flat)[len(metrics):]:
        ax.set_axis_off()
    set_suptitle(fig, _("Churn rate by decile of each metric (dashed: all accounts, {rate}; bars: 95% CI)").format(
        rate=pct(base_rate)),
                 fontsize=12, fontweight="bold", x=0.01, ha="left")
    fig.tight_layout()
    return fig


def categories(result, columns: int = 3):
    """Churn rate by level of each categorical attribute, with Wilson 95% intervals."""
    cohorts, base_rate, horizon_days = result.categories, result.base_rate, result.horizon_days
    if cohorts.empty:
        return None
    attributes = list(dict.fromkeys(cohorts["attribute"]))
    rows = int(np.ceil(len(attributes) / columns)) or 1
    fig, axes = plt.subplots(rows, columns, figsize=(4.2 * columns, 3.0 * rows), squeeze=False)
    for ax, attribute in zip(axes.flat, attributes):
        d = cohorts[cohorts["attribute"] == attribute].sort_values("churn_rate")
        y = np.arange(len(d))
        ax.barh(y, d["churn_rate"], color=PALETTE[0], alpha=0.85)
        ax.errorbar(d["churn_rate"], y, xerr=_err(d["churn_rate"], d["ci_low"], d["ci_high"]),
                    fmt="none", ecolor="black", elinewidth=0.8, capsize=2)
        ax.axvline(base_rate, color=REFERENCE, ls="--", lw=1)
        ax.set_yticks(y, [_level(attribute, lvl) + report_words.paren(_("n={n}").format(n=count(n)))
                          for lvl, n in zip(d["level"], d["accounts"])], fontsize=8)
        p = d["p_value_holm"].iloc[0] if "p_value_holm" in d else np.nan
        name = _attribute(attribute)
        set_title(ax, _("{attribute} (Holm-corrected {p})").format(attribute=name, p=p_value(p)) if pd.notna(p)
                  else name, fontsize=10)
        ax.set_xlabel(_("churned within {days} days").format(days=horizon_days), fontsize=8)
        _percent(ax, axis="x")
    for ax in list(axes.flat)[len(attributes):]:
        ax.set_axis_off()
    set_suptitle(fig, _("Churn rate by account attribute (dashed: all accounts; bars: 95% CI)"), fontsize=12,
                 fontweight="bold", x=0.01, ha="left")
    fig.tight_layout()
    return fig


def thresholds(result, top: int = 8):
    """The threshold finder: churn on the risky side of each metric's cut vs the rest, on later data
    (both rates with their Wilson 95% intervals: a ratio would explode where the rest hardly churn)."""
    found = result.thresholds
    if found.empty:
        return None
    d = found.head(top).iloc[::-1]
    fig, ax = plt.subplots(figsize=(10, 0.6 * len(d) + 1.6))
    y = np.arange(len(d))
    ax.errorbar(d["churn_rate_rest"], y - 0.12, xerr=_err(d["churn_rate_rest"], d["rest_low"], d["rest_high"]),
                fmt="o", color=NEUTRAL, capsize=2, label=_("the rest"))
    ax.errorbar(d["churn_rate_risky"], y + 0.12, xerr=_err(d["churn_rate_risky"], d["risky_low"], d["risky_high"]),
                fmt="o", color=RISK_COLOR, capsize=2, label=_("past the threshold"))
    labels = [_wrap(_("{sign} {threshold} {metric} ({share} of accounts)").format(
        sign="≤" if s == "under" else "≥", threshold=num(t), metric=lbl, share=pct(sh, 0)), 60)
              for s, t, lbl, sh in zip(d["side"], d["threshold"], d["label"], d["share_of_accounts"])]
    ax.set_yticks(y, labels, fontsize=8)
    ax.set_xlim(left=0)
    ax.set_xlabel(_("churned within {days} days, on the later months (95% CI)").format(days=result.horizon_days))
    set_title(ax, _("Thresholds: churn past each line vs the rest (chosen on earlier months, tested on later ones)"))
    ax.legend(fontsize=8, loc="lower right")
    _percent(ax, axis="x")
    fig.tight_layout()
    return fig


def driver_importance(result, top: int = 12):
    """Drivers ranked by AUC lost when shuffled (95% interval), coloured by direction."""
    if result.drivers.empty:
        return None
    d = result.drivers.head(top).iloc[::-1]
    fig, ax = plt.subplots(figsize=(10, 0.45 * len(d) + 1.4))
    # more of a metric is better when lower means more churn (green), worse when higher does (red)
    colors = [BETTER if "lower" in x else WORSE if "higher" in x else NEUTRAL for x in d["direction"]]
    y = np.arange(len(d))
    ax.barh(y, d["importance"], color=colors, alpha=0.85)
    ax.errorbar(d["importance"], y, xerr=[(d["importance"] - d["importance_low"]).clip(lower=0),
                                          (d["importance_high"] - d["importance"]).clip(lower=0)],
                fmt="none", ecolor="black", elinewidth=0.8, capsize=2)
    ax.axvline(0, color="black", lw=0.6)
    ax.set_yticks(y, [_wrap(_("{driver} — {direction}").format(driver=lbl, direction=report_words.direction_label(dr)),
                            60) for lbl, dr in zip(d["label"], d["direction"])], fontsize=8)
    ax.set_xlabel(_("AUC lost when the driver is shuffled (95% interval)"))
    set_title(ax, _("What predicts churn: drivers ranked by importance "
                    "(green: more of it, less churn; red: more of it, more churn)"))
    fig.tight_layout()
    return fig


def calibration(result):
    """Predicted vs observed churn by bin of predicted probability; on the diagonal = well calibrated."""
    table, model = result.calibration, result.primary_model
    if table.empty:
        return None
    fig, ax = plt.subplots(figsize=(5.6, 4.6))
    top = float(max(table["predicted"].max(), table["observed_high"].max()) * 1.05)
    ax.plot([0, top], [0, top], color=NEUTRAL, ls="--", lw=1, label=_("perfect calibration"))
    ax.errorbar(table["predicted"], table["observed"],
                yerr=_err(table["observed"], table["observed_low"], table["observed_high"]),
                fmt="o", color=PALETTE[0], capsize=2, label=_("observed (95% CI)"))
    ax.set_xlim(0, top)
    ax.set_ylim(0, top)
    ax.set_xlabel(_("predicted churn probability (bin mean)"))
    ax.set_ylabel(_("observed churn rate"))
    _percent(ax)
    _percent(ax, axis="x")
    title = (_("Calibration of the {model} model (backtest)") if result.check_kind == "time-ordered" else
             _("Calibration of the {model} model (across accounts)"))
    set_title(ax, title.format(model=report_words.model_name(model)))
    ax.legend(fontsize=8, loc="upper left")
    fig.tight_layout()
    return fig


def health_bands(result):
    """Churn rate by health band, with Wilson 95% intervals."""
    horizon_days = result.horizon_days
    if result.validation is None:
        return None
    fig, ax = plt.subplots(figsize=(5.6, 3.8))
    d = result.validation.bands.dropna(subset=["churn_rate"])
    x = np.arange(len(d))
    ax.bar(x, d["churn_rate"], color=[BAND_COLORS.get(b, NEUTRAL) for b in d["band"]])
    ax.errorbar(x, d["churn_rate"], yerr=_err(d["churn_rate"], d["ci_low"], d["ci_high"]),
                fmt="none", ecolor="black", capsize=3)
    ax.set_xticks(x, [report_words.value_label("health_band", b) + "\n" + report_words.paren(
        _("n={n}").format(n=count(n))).strip() for b, n in zip(d["band"], d["accounts"])])
    ax.set_ylabel(_("churned within {days} days").format(days=horizon_days))
    ax.set_xlabel(_("health band at the observation date"))
    set_title(ax, _("Does the health score separate churners? Churn by band"))
    _percent(ax)
    fig.tight_layout()
    return fig


def red_lead_times(result):
    """How long before the churn date churned accounts had been red."""
    if result.validation is None:
        return None
    lead = result.validation.lead
    days = lead["days_red_before_churn"].dropna()
    if days.empty:
        return None
    fig, ax = plt.subplots(figsize=(6.4, 3.8))
    ax.hist(days, bins=np.arange(0, days.max() + 31, 30), color=BAND_COLORS["red"], alpha=0.85)
    never = int(lead["days_red_before_churn"].isna().sum())
    ax.set_xlabel(_("days from turning red (and staying red) to the churn date"))
    ax.set_ylabel(_("churned accounts"))
    red = ngettext("{n} account", "{n} accounts", len(days)).format(n=f"{len(days):,}")
    set_title(ax, ngettext("Early warning: red before churn ({red}; {never} was not red)",
                           "Early warning: red before churn ({red}; {never} were not red)", never).format(
        red=red, never=count(never)))
    fig.tight_layout()
    return fig


def weights(result):
    """Configured health-score weights beside the weights the data suggest (with 95% intervals)."""
    if result.validation is None or result.validation.weights.dropna(subset=["suggested_weight"]).empty:
        return None
    table = result.validation.weights
    fig, ax = plt.subplots(figsize=(9, 3.8))
    x = np.arange(len(table))
    ax.bar(x - 0.2, table["configured_weight"], width=0.4, color=NEUTRAL, label=_("configured (YAML)"))
    ax.bar(x + 0.2, table["suggested_weight"], width=0.4, color=PALETTE[0], label=_("suggested by the data"))
    ax.errorbar(x + 0.2, table["suggested_weight"],
                yerr=[(table["suggested_weight"] - table["suggested_low"]).clip(lower=0),
                      (table["suggested_high"] - table["suggested_weight"]).clip(lower=0)],
                fmt="none", ecolor="black", capsize=2)
    ax.set_xticks(x, [report_words.component_label(c) for c in table["component"]], rotation=20)
    ax.set_ylabel(_("weight (% of the score)"))
    ax.set_xlabel(_("health-score component"))
    set_title(ax, _("Health-score weights: configured vs suggested by a regression on realised churn"))
    ax.legend(fontsize=8)
    fig.tight_layout()
    return fig


def arr_at_risk(result):
    """How concentrated the ARR at risk is: cumulative share by number of accounts called, and by band."""
    at_risk = result.at_risk
    if not result.has_model or not at_risk["arr_at_risk"].sum() > 0:
        return None
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(12, 4.0))
    d = at_risk.sort_values("arr_at_risk", ascending=False)
    total = d["arr_at_risk"].sum()
    cum = d["arr_at_risk"].cumsum() / total if total > 0 else d["arr_at_risk"] * 0
    ax1.plot(np.arange(1, len(d) + 1), cum, color=RISK_COLOR)
    for k in (10, 25, 50):
        if k <= len(d):
            ax1.annotate(_("top {k}: {share}").format(k=k, share=pct(cum.iloc[k - 1], 0)), (k, cum.iloc[k - 1]),
                         textcoords="offset points",
                         xytext=(8, -12), fontsize=8)
            ax1.plot(k, cum.iloc[k - 1], "o", color=RISK_COLOR, ms=3)
    ax1.set_xscale("log")
    ax1.set_xlabel(_("accounts, riskiest ARR first (log scale)"))
    ax1.set_ylabel(_("share of expected ARR loss"))
    set_title(ax1, _("Whom to call: cumulative share of ARR at risk"))
    _percent(ax1)
    by_band = at_risk.groupby("health_band")["arr_at_risk"].sum()
    by_band = by_band.reindex([b for b in ("green", "yellow", "red", "unscored") if b in by_band.index])
    ax2.bar([report_words.value_label("health_band", b) for b in by_band.index], by_band.to_numpy(),
            color=[BAND_COLORS.get(b, NEUTRAL) for b in by_band.index])
    ax2.set_ylabel(_("expected ARR loss"))
    ax2.set_xlabel(_("health band today"))
    set_title(ax2, _("Where the expected ARR loss sits, by health band"))
    money(ax2)
    fig.tight_layout()
    return fig
