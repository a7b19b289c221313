"""Charts of the churn decomposition: the MRR bridge, rates over time, splits, cohorts and the
mix-vs-rate decomposition. Each function reads a :class:`Result` and returns the matplotlib figure;
titles say what the chart answers and axes carry units."""

from __future__ import annotations

import matplotlib.pyplot as plt
import matplotlib.ticker as mticker
import numpy as np
import seaborn as sns

from ...i18n import _, ngettext
from ...style import BETTER_WORSE_CMAP, MOVEMENT_COLORS, NEUTRAL, PALETTE, WORSE, money, percent, set_suptitle, set_title
from ...text import confidence_label, month_label, number, pct, points
from ...text import money as money_label
from .compute_rates import BRIDGE_MOVEMENTS
from .result import Result
from .views import BRIDGE_HEADERS
from .words import segment_label, short_month, span_label, split_label, tick_month, value_label

BRIDGE_ORDER = BRIDGE_MOVEMENTS
FLAG_COLOR = WORSE  # significantly above the rest
BASE_COLOR = NEUTRAL  # not: within noise of the rest, or below it


def waterfall(result: Result):
    """Starting MRR, each movement, ending MRR for the report month: where its MRR change came from
    (None when the month is not in the bridge)."""
    bridge, month = result.bridge, result.month
    rows = bridge[bridge["month"] == month]
    if rows.empty:
        return None
    row = rows.iloc[0]
    labels = [_("starting MRR"), *(_(BRIDGE_HEADERS[m]) for m in BRIDGE_ORDER), _("ending MRR")]
    fig, ax = plt.subplots(figsize=(9, 4.2))
    level = row["starting_mrr"]
    ax.bar(0, level, color="#6C757D")
    ax.text(0, level, money_label(level), ha="center", va="bottom", fontsize=9)
    for i, name in enumerate(BRIDGE_ORDER, start=1):
        value = row[name]
        bottom = level if value >= 0 else level + value
        ax.bar(i, abs(value), bottom=bottom, color=MOVEMENT_COLORS[name])
        ax.text(i, max(level, level + value), money_label(value, compact=True, signed=True), ha="center", va="bottom", fontsize=9)
        level += value
    ax.bar(len(labels) - 1, row["ending_mrr"], color="#6C757D")
    ax.text(len(labels) - 1, row["ending_mrr"], money_label(row["ending_mrr"]), ha="center",
            va="bottom", fontsize=9)
    low = min(row["starting_mrr"], row["ending_mrr"], row["starting_mrr"] + row[list(BRIDGE_ORDER[:3])].sum()
              + row["contraction"] + row["churn"]) * 0.96
    high = max(row["starting_mrr"] + row[list(BRIDGE_ORDER[:3])].sum(), row["ending_mrr"]) * 1.02
    if high > low:  # a month with no MRR at all keeps matplotlib's default limits
        ax.set_ylim(low, high)
    ax.set_xticks(range(len(labels)), labels)
    set_title(ax, _("MRR bridge, {month}: from starting to ending MRR (y axis does not start at 0)").format(
        month=month_label(month)))
    ax.set_ylabel("MRR")
    ax.set_xlabel("")
    money(ax, thousands=True)
    fig.tight_layout()
    return fig


def movements_over_time(result: Result):
    """Gains above zero, losses below, net change as a line, per month (None with no month)."""
    if result.bridge.empty:
        return None
    frame = result.bridge.sort_values("month")
    x = np.arange(len(frame))
    fig, ax = plt.subplots(figsize=(10, 4.2))
    up = np.zeros(len(frame))
    down = np.zeros(len(frame))
    for name in BRIDGE_ORDER:
        values = frame[name].to_numpy(dtype=float)
        if name in ("contraction", "churn"):
            ax.bar(x, values, bottom=down, color=MOVEMENT_COLORS[name], label=_(BRIDGE_HEADERS[name]), width=0.8)
            down += values
        else:
            ax.bar(x, values, bottom=up, color=MOVEMENT_COLORS[name], label=_(BRIDGE_HEADERS[name]), width=0.8)
            up += values
    net = frame["ending_mrr"].to_numpy() - frame["starting_mrr"].to_numpy()
    ax.plot(x, net, color="black", marker="o", markersize=3, lw=1.2, label=_("net change"))
    ax.axhline(0, color="black", lw=0.6)
    step = max(1, len(frame) // 12)
    ax.set_xticks(x[::step], [tick_month(m) for m in frame["month"]][::step])
    set_title(ax, _("MRR movements per month: gains above zero, losses below"))
    ax.set_ylabel(_("MRR change per month"))
    ax.set_xlabel(_("month"))
    money(ax)
    ax.legend(ncol=6, loc="upper left", bbox_to_anchor=(0, -0.15), fontsize=9)
    fig.tight_layout()
    return fig


def rates_over_time(result: Result):
    """Logo churn (monthly with its interval, trailing 3 and 12 months) and revenue churn (None when
    no month has rates)."""
    rates, confidence = result.rates, result.settings.confidence
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(12, 4.6))
    one = rates[rates["window_months"] == 1].sort_values("month") if len(rates) else rates
    if one.empty:
        return None
    x1 = one["month"].dt.to_timestamp()
    ax1.fill_between(x1, one["logo_churn_low"], one["logo_churn_high"], color=PALETTE[0], alpha=0.15,
                     label=_("monthly, {ci_label}").format(ci_label=confidence_label(confidence)))
    ax1.plot(x1, one["logo_churn_rate"], color=PALETTE[0], marker="o", markersize=3, lw=1, label=_("monthly"))
    for window, color in ((3, PALETTE[1]), (12, PALETTE[3])):
        w = rates[rates["window_months"] == window].sort_values("month")
        if len(w):
            ax1.plot(w["month"].dt.to_timestamp(), w["logo_churn_rate"], color=color, lw=2,
                     label=ngettext("trailing {n} month", "trailing {n} months", window).format(n=window))
    set_title(ax1, _("Logo churn: paying accounts lost per month"))
    ax1.set_ylabel(_("accounts lost / paying at start"))
    ax1.set_xlabel(_("month"))
    ax1.set_ylim(bottom=0)
    percent(ax1, decimals=1)
    ax1.legend(fontsize=8, loc="upper left", bbox_to_anchor=(0, -0.28), ncol=2)
    w3 = rates[rates["window_months"] == 3].sort_values("month")
    for frame, style, suffix in ((one, ":", _("monthly")), (w3, "-", _("trailing {n} months").format(n=3))):
        if frame.empty:
            continue
        x = frame["month"].dt.to_timestamp()
        ax2.plot(x, frame["gross_revenue_churn_rate"], color=PALETTE[1], ls=style, lw=1.8 if style == "-" else 1,
                 label=_("gross revenue churn, {window}").format(window=suffix))
        ax2.plot(x, frame["net_revenue_churn_rate"], color=PALETTE[4], ls=style, lw=1.8 if style == "-" else 1,
                 label=_("net revenue churn, {window}").format(window=suffix))
    ax2.axhline(0, color="black", lw=0.6)
    set_title(ax2, _("Revenue churn: starting MRR lost per month"))
    ax2.set_ylabel(_("MRR lost / starting MRR\n(net below 0 = negative churn)"))
    ax2.set_xlabel(_("month"))
    percent(ax2, decimals=1)
    ax2.legend(fontsize=8, loc="upper left", bbox_to_anchor=(0, -0.28), ncol=2)
    for ax in (ax1, ax2):
        ax.tick_params(axis="x", labelrotation=30)
    fig.tight_layout()
    return fig


def split_small_multiples(result: Result):
    """One panel per split: logo churn per value with its interval, flagged values in red, the
    overall rate over the trailing window dashed; segments smaller than ``min_segment_size``
    account-months at risk are not drawn (None when there is no split to draw)."""
    splits, s = result.splits, result.settings
    if splits.empty:
        return None
    overall_rate = result.rate("logo_churn_rate", s.window_months)
    min_at_risk, confidence = s.min_segment_size, s.confidence
    columns = list(dict.fromkeys(splits["split"]))
    n = len(columns)
    cols = min(3, n)
    rows = int(np.ceil(n / cols))
    heights = [max(2, len(splits[splits["split"] == c])) for c in columns]
    fig, axes = plt.subplots(rows, cols, figsize=(4.2 * cols, 0.35 * max(heights) * rows + 1.4 * rows),
                             squeeze=False)
    for ax, column in zip(axes.flat, columns):
        part = splits[(splits["split"] == column) & (splits["accounts_at_risk"] >= min_at_risk)]
        y = np.arange(len(part))
        colors = [FLAG_COLOR if f else BASE_COLOR for f in part["flagged"]]
        err = np.clip(np.vstack([part["logo_churn_rate"] - part["logo_churn_low"],
                                 part["logo_churn_high"] - part["logo_churn_rate"]]), 0, None)
        ax.barh(y, part["logo_churn_rate"], color=colors, alpha=0.85)
        ax.errorbar(part["logo_churn_rate"], y, xerr=err, fmt="none", ecolor="black", lw=0.8, capsize=2)
        ax.axvline(overall_rate, color="black", ls="--", lw=0.8)
        ax.set_yticks(y, [f"{value_label(column, v)} (n={n:,})" for v, n in zip(part["value"], part["accounts_at_risk"])],
                      fontsize=8)
        ax.invert_yaxis()
        set_title(ax, _("by {split}").format(split=split_label(column)), fontsize=10)
        ax.set_xlabel(_("logo churn per month"))
        percent(ax, axis="x", decimals=1)
    for ax in list(axes.flat)[n:]:
        ax.set_visible(False)
    set_suptitle(fig, _("Logo churn by segment ({ci_label}; red = significantly above the rest; dashed = overall; "
                        "n = account-months at risk)").format(ci_label=confidence_label(confidence)),
                 x=0.01, ha="left", fontsize=11, fontweight="bold")
    fig.tight_layout()
    return fig


def cohort_heatmaps(result: Result):
    """Logo and net MRR retention by start month (rows) and months since start (columns), up to
    ``trend_months`` months since start (None when no cohort started in the trend months)."""
    cohorts, max_months = result.cohorts, result.settings.trend_months
    if cohorts.empty:  # words.cohorts_note says why
        return None
    frame = cohorts[cohorts["months_since_start"] <= max_months]
    logo = frame.pivot(index="cohort", columns="months_since_start", values="logo_retention")
    revenue = frame.pivot(index="cohort", columns="months_since_start", values="net_mrr_retention")
    sizes = frame.drop_duplicates("cohort").set_index("cohort")["cohort_accounts"]
    ylabels = [f"{short_month(c)} (n={int(sizes[c]):,})" for c in logo.index]
    fig, axes = plt.subplots(1, 2, figsize=(14, 0.28 * len(logo) + 2.2))
    for ax, matrix, title, cmap, (vmin, vmax) in (
        (axes[0], logo, _("Logo retention: share of the cohort still paying"), "Blues", (0.5, 1.0)),
        (axes[1], revenue, _("Net MRR retention: cohort MRR / its first-month MRR"), BETTER_WORSE_CMAP.reversed(), (0.6, 1.4)),
    ):
        sns.heatmap(matrix, ax=ax, cmap=cmap, vmin=vmin, vmax=vmax,
                    linewidths=0.2, linecolor="white")
        set_title(ax, title, fontsize=10)
        ax.grid(False)
        ax.set_xlabel(_("months since start"))
        ax.set_ylabel(_("start month (accounts)"))
        ax.set_yticks(np.arange(len(ylabels)) + 0.5, ylabels, fontsize=7, rotation=0)
        cbar = ax.collections[0].colorbar
        cbar.ax.yaxis.set_major_formatter(plt.FuncFormatter(lambda v, _: pct(v, 0)))
    fig.tight_layout()
    return fig


def decomposition_bars(result: Result, top: int = 8):
    """Per segment, how much of the change in churn came from mix (its share of the base moved) and
    from rate (its own churn moved), in percentage points; one panel per metric (None when the change
    cannot be measured)."""
    decomposition = result.decomposition
    if decomposition.empty:  # the driver sentences say why
        return None
    metrics = list(dict.fromkeys(decomposition["metric"]))
    fig, axes = plt.subplots(1, len(metrics), figsize=(6.2 * len(metrics), 4.4), squeeze=False)
    titles = {"logo_churn": _("Change in logo churn"), "gross_revenue_churn": _("Change in gross revenue churn")}
    for ax, metric in zip(axes.flat, metrics):
        part = decomposition[decomposition["metric"] == metric]
        part = part.reindex(part["total_effect"].abs().sort_values(ascending=False).index).head(top)
        y = np.arange(len(part))
        ax.barh(y - 0.2, part["mix_effect"] * 100, height=0.4, color=PALETTE[2],
                label=_("mix (share moved, against the overall rate)"))
        ax.barh(y + 0.2, part["rate_effect"] * 100, height=0.4, color=PALETTE[0], label=_("rate (own churn moved)"))
        err = np.clip(np.vstack([part["total_effect"] - part["total_low"], part["total_high"] - part["total_effect"]]),
                      0, None) * 100
        ax.errorbar(part["total_effect"] * 100, y, xerr=err, fmt="o", color="black", ms=4, lw=0.9, capsize=2,
                    zorder=3, label=_("total ({ci_label}, all segments at once)").format(
                        ci_label=confidence_label(result.settings.confidence)))
        ax.axvline(0, color="black", lw=0.6)
        ax.set_yticks(y, [segment_label(v, by) for v, by in zip(part["segment"], part["segmented_by"])], fontsize=8)
        ax.invert_yaxis()
        total = part["total_change"].iloc[0] if len(part) else 0.0
        window = (f"{span_label(part['window_before'].iloc[0])} \u2192 {span_label(part['window_after'].iloc[0])}"
                  if len(part) else "")
        set_title(ax, _("{metric}: {change} ({window})").format(metric=titles.get(metric, metric),
                  change=points(total, 2, signed=True), window=window), fontsize=10)
        ax.set_xlabel(_("contribution to the change (percentage points)"))
        ax.xaxis.set_major_locator(mticker.MaxNLocator(6))
        ax.xaxis.set_major_formatter(mticker.FuncFormatter(lambda v, _: number(v, 2, signed=True)))
        ax.legend(fontsize=8, loc="upper left", bbox_to_anchor=(0, -0.2), ncol=2)
    fig.tight_layout()
    return fig
