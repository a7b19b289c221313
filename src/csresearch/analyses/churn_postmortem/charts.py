"""Charts of the churn postmortem: reasons Pareto, comment themes, account timelines (small multiples
for a month, a full page per account for a single review), lead times, comparables, alerts, roll-up.

Every chart reads a :class:`.result.Result`, has a title saying what it answers and labelled axes;
money is formatted as money.
"""

from __future__ import annotations

import textwrap
from typing import Any, Mapping

import matplotlib.dates as mdates
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from ...style import PALETTE, money, percent
from ...text import number, words
from . import words as report_words
from .result import Result

BAND_COLORS = {"green": "#66A182", "yellow": "#EDAE49", "amber": "#EDAE49", "orange": "#F28F3B",
               "red": "#D1495B"}
FLAG_COLOR = "#D1495B"
CHURN_COLOR = "#222222"
COMPARABLE_COLOR = "#2E5A88"
PRIORITY_COLORS = {"urgent": "#8B1E2D", "critical": "#8B1E2D", "high": "#D1495B", "normal": "#EDAE49",
                   "medium": "#EDAE49", "low": "#66A182", "unknown": "#6C757D"}


def _label(text: str, width: int = 28) -> str:
    return "\n".join(textwrap.wrap(words(text), width)) or str(text)


def _empty(ax, message: str, title: str | None = None) -> None:
    ax.text(0.5, 0.5, message, ha="center", va="center", transform=ax.transAxes, color="#6C757D", fontsize=9)
    ax.set_xticks([])
    ax.set_yticks([])
    if title:
        ax.set_title(title)


# --------------------------------------------------------------------------------------------------
# Reasons
# --------------------------------------------------------------------------------------------------
def reasons_pareto(result: Result, by: str = "reason", title_suffix: str = ""):
    """Two Pareto charts side by side: reasons by number of churns and by ARR lost, each with the
    cumulative share on a second axis."""
    pareto = result.pareto
    fig, axes = plt.subplots(1, 2, figsize=(12, 4.2))
    if pareto.empty:
        for ax in axes:
            _empty(ax, "no churns in this period")
        return fig
    for ax, value, share, title, fmt in (
        (axes[0], "churns", "cum_churn_share", "Churn reasons by number of accounts", "count"),
        (axes[1], "arr_lost", "cum_arr_share", "Churn reasons by ARR lost", "money"),
    ):
        order = pareto.sort_values([value, by], ascending=[False, True])
        cum = order[value].cumsum() / max(order[value].sum(), 1e-9)
        labels = [words(v) for v in order[by]]
        x = np.arange(len(order))
        ax.bar(x, order[value], color=PALETTE[1] if fmt == "money" else PALETTE[0])
        ax.set_xticks(x, labels, rotation=35, ha="right", rotation_mode="anchor", fontsize=8.5)
        ax.set_title(title + title_suffix)
        ax.set_ylabel("ARR lost" if fmt == "money" else "churned accounts")
        ax.set_xlabel("reason (cancellation form)")
        if fmt == "money":
            money(ax)
        twin = ax.twinx()
        twin.plot(x, cum, color="#222", marker="o", ms=3, lw=1)
        twin.set_ylim(0, 1.05)
        twin.set_ylabel("cumulative share")
        percent(twin)
        twin.grid(False)
    fig.tight_layout()
    return fig


def reasons_by_segment(result: Result, title: str = "Churn reasons by segment (churned accounts)"):
    """Heat map of reason x segment counts."""
    import seaborn as sns

    table = result.by_segment

    fig, ax = plt.subplots(figsize=(7.5, 0.45 * max(len(table), 3) + 1.2))
    if table.empty:
        _empty(ax, "no churns in this period", title)
        return fig
    sns.heatmap(table, annot=True, fmt=".0f", cmap="Reds", cbar=False, linewidths=0.5, ax=ax)
    ax.set_title(title)
    ax.set_xlabel("segment")
    ax.set_ylabel("reason")
    ax.set_yticklabels([_label(t.get_text(), 22) for t in ax.get_yticklabels()], rotation=0)
    fig.tight_layout()
    return fig


def themes(result: Result, title: str = "Themes in the churn comments"):
    """The comment themes by number of comments."""
    assert result.themes is not None, "a built postmortem has its themes"
    themes_table = result.themes.themes
    fig, ax = plt.subplots(figsize=(9, 0.5 * max(len(themes_table), 2) + 1.2))
    if themes_table.empty:
        _empty(ax, "no free-text comments", title)
        return fig
    frame = themes_table.iloc[::-1]
    ax.barh([_label(t, 40) for t in frame["theme"]], frame["comments"], color=PALETTE[3])
    ax.set_title(title)
    ax.set_xlabel("comments")
    ax.set_ylabel("theme (top terms)")
    fig.tight_layout()
    return fig


# --------------------------------------------------------------------------------------------------
# Timelines
# --------------------------------------------------------------------------------------------------
def _mark(ax, churn_date, first_flagged, label: bool = False) -> None:
    if pd.notna(churn_date):
        ax.axvline(churn_date, color=CHURN_COLOR, lw=1.2, ls="-", label="churn date" if label else None)
    if pd.notna(first_flagged):
        ax.axvline(first_flagged, color=FLAG_COLOR, lw=1.2, ls="--", label="first flagged" if label else None)


def _date_axis(ax) -> None:
    ax.xaxis.set_major_locator(mdates.MonthLocator(interval=2))
    ax.xaxis.set_major_formatter(mdates.DateFormatter("%b %y"))


def _flag_spans(checks: pd.DataFrame, until=None) -> list[tuple]:
    """(start, end) of each flagged check: from the check to the next one (or ``until``)."""
    checks = checks.sort_values("observation_date")
    days = list(checks["observation_date"])
    spans = []
    for i, (day, flagged) in enumerate(zip(days, checks["flagged"].astype(bool))):
        if not flagged:
            continue
        nxt = days[i + 1] if i + 1 < len(days) else day + pd.Timedelta(days=31)
        if until is not None and pd.notna(until):
            nxt = min(nxt, until)
        spans.append((day, nxt))
    return spans


def small_multiples(result: Result):
    """The month review's timelines: one small panel per churned account (largest ARR lost first, at
    most ``small_multiples_max``)."""
    assert result.window is not None, "a built postmortem has its timeline window"
    panels = result.panels(result.settings.small_multiples_max)
    panels = panels.assign(label=[report_words.panel_label(result, a, v)
                                  for a, v in zip(panels["account_id"], panels["arr_lost"])])
    return _small_multiples(panels[["account_id", "label", "churn_date", "first_flagged"]], result.key_event_usage(),
                            result.health, start=result.window[0], end=result.window[1])


def _small_multiples(panels: pd.DataFrame, weekly: pd.DataFrame, health: pd.DataFrame, metric: str = "key events",
                     columns: int = 4, title: str = "Weekly usage before each churn", start=None, end=None):
    """One small panel per churned account: weekly usage of the key events (bars of the line), the
    weeks the health score or risk list flagged it shaded red, the churn date as a black line.

    ``panels``: ``account_id, label, churn_date, first_flagged`` in display order. ``weekly``:
    ``account_id, week, value`` (key events summed). ``health``: ``account_id, observation_date, flagged``.
    """
    n = len(panels)
    rows = max(1, int(np.ceil(n / columns)))
    fig, axes = plt.subplots(rows, columns, figsize=(12, 2.1 * rows + 0.6), squeeze=False, sharex=False)
    for ax in axes.flat[n:]:
        ax.set_visible(False)
    for ax, panel in zip(axes.flat, panels.itertuples(index=False)):
        mine = weekly[weekly["account_id"] == panel.account_id]
        checks = health[health["account_id"] == panel.account_id]
        for left, right in _flag_spans(checks, panel.churn_date):
            ax.axvspan(left, right, color=FLAG_COLOR, alpha=0.15, lw=0)
        if mine.empty or mine["value"].sum() == 0:
            ax.text(0.5, 0.5, "no usage recorded", ha="center", va="center", transform=ax.transAxes,
                    color="#6C757D", fontsize=8)
        else:
            ax.plot(mine["week"], mine["value"], color=PALETTE[0], lw=1.2)
            ax.set_ylim(bottom=0)
        _mark(ax, panel.churn_date, panel.first_flagged)
        if start is not None and end is not None:
            ax.set_xlim(pd.Timestamp(start), pd.Timestamp(end))
        ax.set_title(_label(panel.label, 34), fontsize=8.5, fontweight="normal")
        ax.tick_params(labelsize=7)
        ax.xaxis.set_major_locator(mdates.MonthLocator(interval=2))
        ax.xaxis.set_major_formatter(mdates.DateFormatter("%b"))
    for ax in axes[:, 0]:
        ax.set_ylabel(f"{metric}\nper week", fontsize=8)
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch

    handles = [Line2D([], [], color=PALETTE[0], label=f"{metric} per week"),
               Patch(color=FLAG_COLOR, alpha=0.3, label="flagged (health red or on the risk list)"),
               Line2D([], [], color=FLAG_COLOR, ls="--", label="first flagged"),
               Line2D([], [], color=CHURN_COLOR, label="churn date")]
    fig.suptitle(title, x=0.01, ha="left", fontweight="bold", fontsize=12)
    fig.legend(handles=handles, loc="upper right", ncol=4, fontsize=8, frameon=False, bbox_to_anchor=(1, 1.0))
    fig.tight_layout(rect=(0, 0, 1, 0.97 if rows > 2 else 0.93))
    return fig


def account_pages(result: Result) -> list:
    """The account review's timelines: one full page per reviewed account."""
    return [account_page(result, account) for account in result.churned["account_id"]]


def account_page(result: Result, account_id: str):
    """One reviewed account's full page."""
    return _account_page(report_words.page_label(result, account_id), **result.page_data(account_id))


def _account_page(label: str, mrr: pd.DataFrame, weekly: pd.DataFrame, events: Mapping[str, pd.DataFrame | None],
                  health: pd.DataFrame, churn_date=None, first_flagged=None, start=None, end=None,
                  comparable_usage: pd.DataFrame | None = None):
    """A full page for one account, sharing one time axis: MRR, weekly key events, active users,
    tickets by priority, NPS, CSM activities and the health score with the moments it flagged.

    ``mrr``: ``month_end, mrr``; ``weekly``: ``week, metric, value`` (``active users`` is one metric);
    ``events``: :func:`.compute_timelines.account_events` frames (None: table missing);
    ``health``: ``observation_date, health_score, health_band, flagged``.
    """
    fig, axes = plt.subplots(7, 1, figsize=(11, 15), sharex=True,
                             gridspec_kw={"height_ratios": [1, 1.4, 1, 1, 0.9, 0.8, 1.3]})
    ax_mrr, ax_use, ax_users, ax_tix, ax_nps, ax_cs, ax_health = axes
    # MRR
    if mrr.empty:
        _empty(ax_mrr, "no subscription in this window", "MRR at month end")
    else:
        ax_mrr.step(mrr["month_end"], mrr["mrr"], where="post", color=PALETTE[0])
        ax_mrr.fill_between(mrr["month_end"], mrr["mrr"], step="post", alpha=0.15, color=PALETTE[0])
        money(ax_mrr)
        ax_mrr.set_title("MRR at month end")
    ax_mrr.set_ylabel("MRR")
    # usage per key event
    usage = weekly[weekly["metric"] != "active users"] if not weekly.empty else weekly
    if usage.empty or usage["value"].sum() == 0:
        _empty(ax_use, "no product usage recorded", "Weekly usage of key events")
    else:
        for i, (name, part) in enumerate(usage.groupby("metric", sort=False)):
            ax_use.plot(part["week"], part["value"], color=PALETTE[i % len(PALETTE)], lw=1.3,
                        label=words(name))
        if comparable_usage is not None and not comparable_usage.empty:
            ax_use.plot(comparable_usage["week"], comparable_usage["value"], color="#6C757D", lw=1.2, ls=":",
                        label="comparable retained accounts (median, all key events / 3)")
        ax_use.legend(fontsize=8, ncol=4, loc="upper left")
        ax_use.set_title("Weekly usage of key events")
        ax_use.set_ylim(bottom=0)
    ax_use.set_ylabel("events / week")
    users = weekly[weekly["metric"] == "active users"] if not weekly.empty else weekly
    if users.empty or users["value"].sum() == 0:
        _empty(ax_users, "no active users recorded", "Weekly active users")
    else:
        ax_users.plot(users["week"], users["value"], color=PALETTE[3], lw=1.3)
        ax_users.set_title("Weekly active users")
        ax_users.set_ylim(bottom=0)
    ax_users.set_ylabel("users / week")
    # tickets
    tickets = events.get("tickets")
    if tickets is None:
        _empty(ax_tix, "no support_tickets table provided", "Support tickets by priority")
    elif tickets.empty:
        _empty(ax_tix, "no tickets in this window", "Support tickets by priority")
    else:
        wide = tickets.pivot_table(index="month", columns="priority", values="tickets", aggfunc="sum", fill_value=0)
        bottom = np.zeros(len(wide))
        for prio in wide.columns:
            ax_tix.bar(wide.index, wide[prio], bottom=bottom, width=20, label=prio,
                       color=PRIORITY_COLORS.get(str(prio).lower(), "#6C757D"))
            bottom += wide[prio].to_numpy()
        ax_tix.legend(fontsize=8, ncol=4, loc="upper left")
        ax_tix.set_title("Support tickets by priority (per month)")
    ax_tix.set_ylabel("tickets")
    # NPS
    nps = events.get("nps")
    if nps is None:
        _empty(ax_nps, "no surveys table provided", "NPS answers")
    elif nps.empty:
        _empty(ax_nps, "no NPS answers in this window", "NPS answers")
    else:
        colors = np.where(nps["score"] >= 9, "#66A182", np.where(nps["score"] >= 7, "#EDAE49", "#D1495B"))
        ax_nps.scatter(nps["answered_at"], nps["score"], c=colors, s=25, zorder=3)
        ax_nps.set_ylim(-0.5, 10.5)
        ax_nps.set_title("NPS answers (green promoter, amber passive, red detractor)")
    ax_nps.set_ylabel("score 0-10")
    # CSM activities
    acts = events.get("activities")
    if acts is None:
        _empty(ax_cs, "no cs_activities table provided", "CSM activities")
    elif acts.empty:
        _empty(ax_cs, "no CSM activity in this window", "CSM activities")
    else:
        kinds = sorted(acts["activity_type"].unique())
        for i, kind in enumerate(kinds):
            part = acts[acts["activity_type"] == kind]
            ax_cs.scatter(part["occurred_at"], np.full(len(part), i), s=22, color=PALETTE[i % len(PALETTE)])
        ax_cs.set_yticks(range(len(kinds)), kinds, fontsize=8)
        ax_cs.set_ylim(-0.7, len(kinds) - 0.3)
        ax_cs.set_title("CSM activities")
    ax_cs.set_ylabel("type")
    # health score
    if health.empty:
        _empty(ax_health, "the account was not scored in this window (not paying)", "Health score")
    else:
        ax_health.plot(health["observation_date"], health["health_score"], color="#444", lw=1)
        band_colors = [BAND_COLORS.get(str(b).lower(), "#6C757D") for b in health["health_band"]]
        ax_health.scatter(health["observation_date"], health["health_score"], c=band_colors, s=18, zorder=3)
        flagged = health[health["flagged"].astype(bool)]
        if len(flagged):
            ax_health.scatter(flagged["observation_date"], flagged["health_score"], marker="x", color="#222",
                              s=30, zorder=4, label="flagged (red or on the risk list)")
            ax_health.legend(fontsize=8, loc="lower left")
        ax_health.set_title("Health score (dots coloured by band)")
    ax_health.set_ylabel("health score")
    for i, ax in enumerate(axes):
        _mark(ax, churn_date, first_flagged, label=(i == 0))
    if pd.notna(churn_date) or pd.notna(first_flagged):
        axes[0].legend(fontsize=8, loc="upper right")
    if start is not None and end is not None:
        ax_health.set_xlim(pd.Timestamp(start), pd.Timestamp(end))
    _date_axis(ax_health)
    ax_health.set_xlabel("date")
    fig.suptitle(label, x=0.01, ha="left", fontweight="bold", fontsize=13)
    fig.tight_layout(rect=(0, 0, 1, 0.98))
    return fig


# --------------------------------------------------------------------------------------------------
# Early-warning audit
# --------------------------------------------------------------------------------------------------
def lead_times(result: Result, title: str = "How early were churned accounts flagged?"):
    """Histogram of days between the first flag and the churn, with the median and the misses (every
    churn of the roll-up window)."""
    audit, summary = result.audit, result.audit_summary_all
    fig, ax = plt.subplots(figsize=(9, 3.8))
    lead = audit.loc[audit["outcome"] == "caught", "lead_days"].dropna()
    if lead.empty:
        _empty(ax, "no churned account was flagged before it churned", title)
        return fig
    bins = np.arange(0, max(lead.max(), 30) + 15, 14).tolist()
    ax.hist(lead, bins=bins, color=PALETTE[0], edgecolor="white")
    med = summary.get("median_lead_days")
    if med is not None and pd.notna(med):
        ax.axvline(med, color="#222", ls="--", lw=1.2, label=f"median {number(med, 0)} days")
        lo, hi = summary.get("median_lead_low"), summary.get("median_lead_high")
        if lo is not None and hi is not None and pd.notna(lo) and pd.notna(hi):
            ax.axvspan(lo, hi, color="#222", alpha=0.08,
                       label=report_words.days_ci(lo, hi) + " days")
    missed = summary.get("missed", 0)
    ax.set_title(title + f" (never flagged: {missed} of {summary.get('checked', 0)}, not shown)")
    ax.set_xlabel("days from first flag to churn (more = earlier warning)")
    ax.set_ylabel("churned accounts")
    ax.legend(loc="upper left", fontsize=8, frameon=True, framealpha=0.9)
    fig.tight_layout()
    return fig


# --------------------------------------------------------------------------------------------------
# Comparables
# --------------------------------------------------------------------------------------------------
def comparable_usage(result: Result, title: str = "Usage before churn: churned accounts vs retained look-alikes"):
    """Median weekly usage index (100 = the account's own level 4-6 months earlier) of churned accounts
    and their comparable retained accounts on the same calendar weeks, with interquartile bands."""
    aligned = result.aligned
    fig, ax = plt.subplots(figsize=(9, 3.8))
    if aligned.empty or aligned["index"].notna().sum() == 0:
        _empty(ax, "no usage data to compare", title)
        return fig
    for group, color in (("churned", FLAG_COLOR), ("retained look-alikes", COMPARABLE_COLOR)):
        part = aligned[aligned["group"] == group]
        if part.empty:
            continue
        stats = part.groupby("week")["index"].quantile([0.25, 0.5, 0.75]).unstack()
        n = part.drop_duplicates(["account_id", "ref_date"]).shape[0]
        ax.plot(stats.index, stats[0.5], color=color, lw=1.8, label=f"{group} (median of {n})")
        ax.fill_between(stats.index, stats[0.25], stats[0.75], color=color, alpha=0.12)
    ax.axhline(100, color="#999", lw=0.8)
    ax.set_title(title)
    ax.set_xlabel("weeks before the churned account's last paid day")
    ax.set_ylabel("usage index (100 = own earlier level)")
    ax.legend(fontsize=8, loc="lower left")
    fig.tight_layout()
    return fig


# --------------------------------------------------------------------------------------------------
# Roll-up
# --------------------------------------------------------------------------------------------------
def rollup(result: Result, title: str = "Churn reasons and missed signals over recent months"):
    """Stacked bars of ARR lost by reason per month, with the share of churns never flagged on a
    second axis (with its Wilson 95% interval)."""
    by_month, missed = result.rollup_reasons, result.rollup_missed
    fig, ax = plt.subplots(figsize=(10, 4.2))
    if by_month.empty:
        _empty(ax, "no churns in these months", title)
        return fig
    wide = by_month.pivot_table(index="month", columns="reason", values="arr_lost", aggfunc="sum", fill_value=0)
    wide = wide[wide.sum().sort_values(ascending=False).index]
    x = np.arange(len(wide))
    bottom = np.zeros(len(wide))
    for i, reason in enumerate(wide.columns):
        ax.bar(x, wide[reason], bottom=bottom, label=words(reason), color=PALETTE[i % len(PALETTE)])
        bottom += wide[reason].to_numpy()
    ax.set_xticks(x, [str(m) for m in wide.index])
    ax.set_ylabel("ARR lost")
    ax.set_xlabel("churn month")
    money(ax)
    ax.set_title(title)
    artists, labels = ax.get_legend_handles_labels()
    handles: list[Any] = list(artists)  # legend entries: bars and, below, an errorbar container
    if not missed.empty:
        twin = ax.twinx()
        m = missed.set_index("month").reindex(wide.index)
        bars = twin.errorbar(x, m["missed_share"], yerr=[m["missed_share"] - m["missed_low"],
                                                         m["missed_high"] - m["missed_share"]],
                             color="#222", marker="o", ms=4, lw=1.2, capsize=3)
        twin.set_ylim(0, 1.05)
        twin.set_ylabel("share of churns never flagged")
        percent(twin)
        twin.grid(False)
        handles.append(bars)
        labels.append("share never flagged (right axis, 95% CI)")
    fig.legend(handles, labels, loc="lower center", ncol=5, fontsize=8, bbox_to_anchor=(0.5, -0.02))
    fig.tight_layout(rect=(0, 0.1, 1, 1))
    return fig


def alerts_by_type(result: Result, title: str = "New alerts this month by type"):
    """This month's new alerts by type."""
    alerts = result.alerts_table()
    fig, ax = plt.subplots(figsize=(8, 2.8))
    if alerts.empty:
        _empty(ax, "no new alerts", title)
        return fig
    counts = alerts["alert"].str.split("; ").explode().value_counts()
    ax.barh(counts.index[::-1], counts.to_numpy()[::-1], color=FLAG_COLOR)
    ax.set_title(title)
    ax.set_xlabel("accounts")
    ax.set_ylabel("alert type")
    fig.tight_layout()
    return fig
