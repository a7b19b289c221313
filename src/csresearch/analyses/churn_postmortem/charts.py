"""Charts of the churn postmortem: reasons Pareto, comment themes, account timelines (small multiples
for a month, a full page per account for a single review), lead times, comparables, alerts, roll-up.

Every chart reads a :class:`.result.Result`, has a title saying what it answers and labelled axes;
money is formatted as money. A chart with nothing to show is None (the sentence beside it says why),
and an account review draws only that account's story: its timeline and its look-alikes' usage.
"""

from __future__ import annotations

from typing import Any, Mapping

import matplotlib.dates as mdates
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from ...i18n import N_, _, pgettext
from ...style import (
    BAND_COLORS,
    BETTER,
    CAUTION,
    NEUTRAL,
    PALETTE,
    WORSE,
    WORSE_CMAP,
    WORSE_DARK,
    money,
    percent,
    set_suptitle,
    set_title,
    wrap_text,
)
from ...text import number, words
from . import words as report_words
from .result import Result
from .words_warning import label_of, segment_word

FLAG_COLOR = WORSE  # a warning: health red, on the risk list, an alert
CHURN_COLOR = "#222222"
COMPARABLE_COLOR = BETTER  # retained look-alikes, beside the churned in red
PRIORITY_COLORS = {"urgent": WORSE_DARK, "critical": WORSE_DARK, "high": WORSE, "normal": CAUTION,
                   "medium": CAUTION, "low": "#C4C9CE", "unknown": NEUTRAL}


def _label(text: str, width: int = 28) -> str:
    """A label wrapped by display width (Japanese labels wrap too); a known machine value in the run's
    language (:func:`.words_warning.label_of`)."""
    return wrap_text(label_of(text), width) or str(text)


def _months_axis(ax, short: bool = False) -> None:
    """Month ticks in the run's language (``Nov 26`` / ``26年11月``)."""
    # TRANSLATORS: strftime formats of the month ticks of the timelines (%b month name, %y two-digit year)
    ax.xaxis.set_major_formatter(mdates.DateFormatter(_("%b") if short else _("%b %y")))


def _empty(ax, message: str, title: str | None = None) -> None:
    ax.text(0.5, 0.5, message, ha="center", va="center", transform=ax.transAxes, color="#6C757D", fontsize=9)
    ax.set_xticks([])
    ax.set_yticks([])
    if title:
        set_title(ax, title)


# --------------------------------------------------------------------------------------------------
# Reasons
# --------------------------------------------------------------------------------------------------
def reasons_pareto(result: Result, by: str = "reason", title_suffix: str = ""):
    """Two Pareto charts side by side: reasons by number of churns and by ARR lost, each with the
    cumulative share on a second axis. None for an account review and for fewer than two reasons (a
    one-bar Pareto ranks nothing)."""
    pareto = result.pareto
    if not result.is_month or len(pareto) < 2:
        return None
    fig, axes = plt.subplots(1, 2, figsize=(12, 4.2))
    for ax, value, share, title, fmt in (
        (axes[0], "churns", "cum_churn_share", _("Churn reasons by number of accounts"), "count"),
        (axes[1], "arr_lost", "cum_arr_share", _("Churn reasons by ARR lost"), "money"),
    ):
        order = pareto.sort_values([value, by], ascending=[False, True])
        cum = order[value].cumsum() / max(order[value].sum(), 1e-9)
        labels = [label_of(v) for v in order[by]]
        x = np.arange(len(order))
        ax.bar(x, order[value], color=PALETTE[1] if fmt == "money" else PALETTE[0])
        ax.set_xticks(x, labels, rotation=35, ha="right", rotation_mode="anchor", fontsize=8.5)
        set_title(ax, title + title_suffix)
        ax.set_ylabel(_("ARR lost") if fmt == "money" else _("churned accounts"))
        ax.set_xlabel(_("reason (cancellation form)"))
        if fmt == "money":
            money(ax)
        twin = ax.twinx()
        twin.plot(x, cum, color="#222", marker="o", ms=3, lw=1)
        twin.set_ylim(0, 1.05)
        twin.set_ylabel(_("cumulative share"))
        percent(twin)
        twin.grid(False)
    fig.tight_layout()
    return fig


def reasons_by_segment(result: Result, title: str = N_("Churn reasons by segment (churned accounts)")):
    """Heat map of reason x segment counts (None for an account review and for a single reason and
    segment: a one-cell map compares nothing)."""
    import seaborn as sns

    table = result.by_segment
    if not result.is_month or table.empty or table.shape[0] < 2 and table.shape[1] < 2:
        return None
    fig, ax = plt.subplots(figsize=(7.5, 0.45 * max(len(table), 3) + 1.2))
    sns.heatmap(table, annot=True, fmt=".0f", cmap=WORSE_CMAP, cbar=False, linewidths=0.5, ax=ax)
    set_title(ax, _(title))
    ax.set_xlabel(segment_word())
    ax.set_ylabel(_("reason"))
    ax.set_yticklabels([_label(t.get_text(), 22) for t in ax.get_yticklabels()], rotation=0)
    ax.set_xticklabels([label_of(t.get_text(), as_words=False) for t in ax.get_xticklabels()])
    fig.tight_layout()
    return fig


def themes(result: Result, title: str = N_("Themes in the churn comments")):
    """The comment themes by number of comments (None for an account review, whose comments are quoted
    whole, and when there is no comment)."""
    if not result.is_month or result.themes is None or result.themes.themes.empty:
        return None
    themes_table = result.themes.themes
    fig, ax = plt.subplots(figsize=(9, 0.5 * max(len(themes_table), 2) + 1.2))
    frame = themes_table.iloc[::-1]
    ax.barh([_label(t, 40) for t in frame["theme"]], frame["comments"], color=PALETTE[3])
    set_title(ax, _(title))
    ax.set_xlabel(_("comments"))
    ax.set_ylabel(_("theme (top terms)"))
    fig.tight_layout()
    return fig


# --------------------------------------------------------------------------------------------------
# Timelines
# --------------------------------------------------------------------------------------------------
STANDING = N_("warning standing since")
# the two groups of the look-alike comparison, as its legend names them
GROUPS = {"churned": lambda: pgettext("look-alike comparison", "churned"),
          "retained look-alikes": lambda: label_of("retained look-alikes")}


def _mark(ax, churn_date, flagged_since, label: bool = False) -> None:
    if pd.notna(churn_date):
        ax.axvline(churn_date, color=CHURN_COLOR, lw=1.2, ls="-", label=_("churn date") if label else None)
    if pd.notna(flagged_since):
        ax.axvline(flagged_since, color=FLAG_COLOR, lw=1.2, ls="--", label=_(STANDING) if label else None)


def _date_axis(ax) -> None:
    ax.xaxis.set_major_locator(mdates.MonthLocator(interval=2))
    _months_axis(ax)


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


def timelines(result: Result) -> list:
    """The timelines section: a month review's small panels (none without a churn), or one full page
    per account of an account review."""
    if not result.is_month:
        return account_pages(result)
    return [] if result.gone.empty else [small_multiples(result)]


def small_multiples(result: Result):
    """The month review's timelines: one small panel per churned account (largest ARR lost first, at
    most ``small_multiples_max``)."""
    assert result.window is not None, "a built postmortem has its timeline window"
    panels = result.panels(result.settings.small_multiples_max)
    panels = panels.assign(label=[report_words.panel_label(result, a, v)
                                  for a, v in zip(panels["account_id"], panels["arr_lost"])])
    return _small_multiples(panels[["account_id", "label", "churn_date", "flagged_since"]], result.key_event_usage(),
                            result.health, start=result.window[0], end=result.window[1])


def _small_multiples(panels: pd.DataFrame, weekly: pd.DataFrame, health: pd.DataFrame, metric: str = N_("key events"),
                     columns: int = 4, title: str = N_("Weekly usage before each churn"), start=None, end=None):
    """One small panel per churned account: weekly usage of the key events (bars of the line), the
    weeks the health score or risk list flagged it shaded red, the churn date as a black line.

    ``panels``: ``account_id, label, churn_date, flagged_since`` in display order. ``weekly``:
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
            ax.text(0.5, 0.5, _("no usage recorded"), ha="center", va="center", transform=ax.transAxes,
                    color="#6C757D", fontsize=8)
        else:
            ax.plot(mine["week"], mine["value"], color=PALETTE[0], lw=1.2)
            ax.set_ylim(bottom=0)
        _mark(ax, panel.churn_date, panel.flagged_since)
        if start is not None and end is not None:
            ax.set_xlim(pd.Timestamp(start), pd.Timestamp(end))
        set_title(ax, _label(panel.label, 34), fontsize=8.5, fontweight="normal")
        ax.tick_params(labelsize=7)
        ax.xaxis.set_major_locator(mdates.MonthLocator(interval=2))
        _months_axis(ax, short=True)
    for ax in axes[:, 0]:
        ax.set_ylabel(_("{metric}\nper week").format(metric=_(metric)), fontsize=8)
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch

    handles = [Line2D([], [], color=PALETTE[0], label=_("{metric} per week").format(metric=_(metric))),
               Patch(color=FLAG_COLOR, alpha=0.3, label=_("flagged (health red or on the risk list)")),
               Line2D([], [], color=FLAG_COLOR, ls="--", label=_(STANDING)),
               Line2D([], [], color=CHURN_COLOR, label=_("churn date"))]
    set_suptitle(fig, _(title), x=0.01, ha="left", fontweight="bold", fontsize=12)
    fig.legend(handles=handles, loc="upper right", ncol=4, fontsize=8, frameon=False, bbox_to_anchor=(1, 1.0))
    fig.tight_layout(rect=(0, 0, 1, 0.97 if rows > 2 else 0.93))
    return fig


def account_pages(result: Result) -> list:
    """The account review's timelines: one full page per reviewed account."""
    return [account_page(result, account) for account in result.churned["account_id"]]


def account_page(result: Result, account_id: str):
    """One reviewed account's full page."""
    return _account_page(report_words.page_label(result, account_id), **result.page_data(account_id),
                         usage_tracked=bool(result.key_events))


PANEL_HEIGHTS = {"mrr": 1.0, "usage": 1.4, "users": 1.0, "tickets": 1.0, "nps": 0.9, "activities": 0.8, "checks": 1.3}


def _account_page(label: str, mrr: pd.DataFrame, weekly: pd.DataFrame, events: Mapping[str, pd.DataFrame | None],
                  health: pd.DataFrame, checks: pd.DataFrame, churn_date=None, flagged_since=None, start=None,
                  end=None, usage_tracked: bool = True):
    """A full page for one account, sharing one time axis: MRR, weekly key events and active users (when
    usage is tracked), tickets by priority, NPS and CSM activities (when their tables exist), and the
    monthly checks: the health score (or, without one, the churn risk) with the checks that flagged
    shaded, as the month review judges them.

    ``mrr``: ``month_end, mrr``; ``weekly``: ``week, metric, value`` (``active users`` is one metric);
    ``events``: :func:`.compute_timelines.account_events` frames (None: table missing, no panel);
    ``health``: ``observation_date, health_score, health_band`` (finer than monthly in an account
    review); ``checks``: the monthly checks (``observation_date, health_score, churn_probability,
    risk_threshold, flagged``).
    """
    names = ["mrr", *(["usage", "users"] if usage_tracked else []),
             *[k for k in ("tickets", "nps", "activities") if events.get(k) is not None], "checks"]
    fig, axes = plt.subplots(len(names), 1, figsize=(11, 2.0 * sum(PANEL_HEIGHTS[n] for n in names) + 1.2),
                             sharex=True, squeeze=False, gridspec_kw={"height_ratios": [PANEL_HEIGHTS[n] for n in names]})
    panel = dict(zip(names, axes[:, 0]))
    _mrr_panel(panel["mrr"], mrr)
    if usage_tracked:
        _usage_panels(panel["usage"], panel["users"], weekly)
    for key in ("tickets", "nps", "activities"):
        if key in panel:
            {"tickets": _tickets_panel, "nps": _nps_panel, "activities": _activities_panel}[key](panel[key], events[key])
    _checks_panel(panel["checks"], health, checks, churn_date)
    for i, ax in enumerate(axes[:, 0]):
        _mark(ax, churn_date, flagged_since, label=(i == 0))
    if pd.notna(churn_date) or pd.notna(flagged_since):
        axes[0, 0].legend(fontsize=8, loc="upper right")
    last = axes[-1, 0]
    if start is not None and end is not None:
        last.set_xlim(pd.Timestamp(start), pd.Timestamp(end))
    _date_axis(last)
    last.set_xlabel(_("date"))
    set_suptitle(fig, label, x=0.01, ha="left", fontweight="bold", fontsize=13)
    fig.tight_layout(rect=(0, 0, 1, 0.98))
    return fig


def _mrr_panel(ax, mrr: pd.DataFrame) -> None:
    if mrr.empty:
        _empty(ax, _("no subscription in this window"), _("MRR at month end"))
    else:
        ax.step(mrr["month_end"], mrr["mrr"], where="post", color=PALETTE[0])
        ax.fill_between(mrr["month_end"], mrr["mrr"], step="post", alpha=0.15, color=PALETTE[0])
        money(ax)
        set_title(ax, _("MRR at month end"))
    ax.set_ylabel(_("MRR"))


def _usage_panels(ax_use, ax_users, weekly: pd.DataFrame) -> None:
    usage = weekly[weekly["metric"] != "active users"] if not weekly.empty else weekly
    if usage.empty or usage["value"].sum() == 0:
        _empty(ax_use, _("no product usage recorded in this window"), _("Weekly usage of key events"))
    else:
        for i, (name, part) in enumerate(usage.groupby("metric", sort=False)):
            ax_use.plot(part["week"], part["value"], color=PALETTE[i % len(PALETTE)], lw=1.3, label=words(name))
        ax_use.legend(fontsize=8, ncol=4, loc="upper left")
        set_title(ax_use, _("Weekly usage of key events"))
        ax_use.set_ylim(bottom=0)
    ax_use.set_ylabel(_("events / week"))
    users = weekly[weekly["metric"] == "active users"] if not weekly.empty else weekly
    if users.empty or users["value"].sum() == 0:
        _empty(ax_users, _("no active users recorded in this window"), _("Weekly active users"))
    else:
        ax_users.plot(users["week"], users["value"], color=PALETTE[3], lw=1.3)
        set_title(ax_users, _("Weekly active users"))
        ax_users.set_ylim(bottom=0)
    ax_users.set_ylabel(_("users / week"))


def _tickets_panel(ax, tickets: pd.DataFrame) -> None:
    if tickets.empty:
        _empty(ax, _("no tickets in this window"), _("Support tickets by priority"))
    else:
        wide = tickets.pivot_table(index="month", columns="priority", values="tickets", aggfunc="sum", fill_value=0)
        bottom = np.zeros(len(wide))
        for prio in wide.columns:
            ax.bar(wide.index, wide[prio], bottom=bottom, width=20, label=label_of(prio),
                   color=PRIORITY_COLORS.get(str(prio).lower(), "#6C757D"))
            bottom += wide[prio].to_numpy()
        ax.legend(fontsize=8, ncol=4, loc="upper left")
        set_title(ax, _("Support tickets by priority (per month)"))
    ax.set_ylabel(_("tickets"))


def _nps_panel(ax, nps: pd.DataFrame) -> None:
    if nps.empty:
        _empty(ax, _("no NPS answers in this window"), _("NPS answers"))
    else:
        colors = np.where(nps["score"] >= 9, BETTER, np.where(nps["score"] >= 7, NEUTRAL, WORSE))
        ax.scatter(nps["answered_at"], nps["score"], c=colors, s=25, zorder=3)
        ax.set_ylim(-0.5, 10.5)
        set_title(ax, _("NPS answers (green promoter, grey passive, red detractor)"))
    ax.set_ylabel(_("score 0-10"))


def _activities_panel(ax, acts: pd.DataFrame) -> None:
    if acts.empty:
        _empty(ax, _("no CSM activity in this window"), _("CSM activities"))
    else:
        kinds = sorted(acts["activity_type"].unique())
        for i, kind in enumerate(kinds):
            part = acts[acts["activity_type"] == kind]
            ax.scatter(part["occurred_at"], np.full(len(part), i), s=22, color=PALETTE[i % len(PALETTE)])
        ax.set_yticks(range(len(kinds)), [label_of(k) for k in kinds], fontsize=8)
        ax.set_ylim(-0.7, len(kinds) - 0.3)
        set_title(ax, _("CSM activities"))
    ax.set_ylabel(_("type"))


def _checks_panel(ax, health: pd.DataFrame, checks: pd.DataFrame, churn_date) -> None:
    """The health score (dots by band), or the churn risk against its threshold when there is no health
    score, with the monthly checks that flagged shaded."""
    for left, right in _flag_spans(checks, churn_date):
        ax.axvspan(left, right, color=FLAG_COLOR, alpha=0.15, lw=0)
    scored = health[health["health_score"].notna()] if "health_score" in health else health.iloc[0:0]
    risk = checks[checks["churn_probability"].notna()] if len(checks) else checks
    shading = _("the checks that flagged shaded (health red or on the risk list)")
    if len(scored):
        ax.plot(scored["observation_date"], scored["health_score"], color="#444", lw=1)
        band_colors = [BAND_COLORS.get(str(b).lower(), "#6C757D") for b in scored["health_band"]]
        ax.scatter(scored["observation_date"], scored["health_score"], c=band_colors, s=18, zorder=3)
        set_title(ax, _("Health score (dots coloured by band); {shading}").format(shading=shading))
        ax.set_ylabel(_("health score"))
    elif len(risk):
        ax.plot(risk["observation_date"], risk["churn_probability"], color="#444", lw=1, marker="o", ms=3)
        ax.step(risk["observation_date"], risk["risk_threshold"], where="post", color=FLAG_COLOR, lw=0.8, ls=":")
        percent(ax)
        set_title(ax, _("Churn risk at the monthly checks (dotted: the risk threshold); {shading}").format(
            shading=shading))
        ax.set_ylabel(_("churn risk"))
    else:
        _empty(ax, _("the account was not scored in this window"), _("Monthly checks"))


# --------------------------------------------------------------------------------------------------
# Early-warning audit
# --------------------------------------------------------------------------------------------------
def lead_times(result: Result, title: str = N_("How long had the warning stood when the account left?")):
    """Histogram of days between the start of the warning still standing at the last check and the
    churn, with the median (every churn of the roll-up window; None for an account review and when no
    churn was warned at its last check)."""
    audit, summary = result.audit, result.audit_summary_all
    if not result.is_month or audit.empty:
        return None
    lead = audit.loc[audit["warned_at_last_check"].astype(bool), "standing_lead_days"].dropna()
    if lead.empty:
        return None
    fig, ax = plt.subplots(figsize=(9, 3.8))
    bins = np.arange(0, max(lead.max(), 30) + 15, 14).tolist()
    ax.hist(lead, bins=bins, color=PALETTE[0], edgecolor="white")
    med = summary.get("median_standing_lead_days")
    if med is not None and pd.notna(med):
        ax.axvline(med, color="#222", ls="--", lw=1.2, label=_("median {days} days").format(days=number(med, 0)))
        lo, hi = summary.get("median_standing_lead_low"), summary.get("median_standing_lead_high")
        if lo is not None and hi is not None and pd.notna(lo) and pd.notna(hi):
            ax.axvspan(lo, hi, color="#222", alpha=0.08, label=_("{ci} days").format(ci=report_words.days_ci(lo, hi)))
    not_warned = summary.get("checked", 0) - summary.get("warned", 0)
    set_title(ax, _("{title} (not flagged at the last check: {n} of {total}, not shown)").format(
        title=_(title), n=not_warned, total=summary.get("checked", 0)))
    ax.set_xlabel(_("days from the start of the standing warning to the churn"))
    ax.set_ylabel(_("churned accounts"))
    ax.legend(loc="upper left", fontsize=8, frameon=True, framealpha=0.9)
    fig.tight_layout()
    return fig


# --------------------------------------------------------------------------------------------------
# Comparables
# --------------------------------------------------------------------------------------------------
def comparable_usage(result: Result, title: str = N_("Usage before churn: churned accounts vs retained look-alikes")):
    """Median weekly usage index (100 = the account's own level 4-6 months earlier) of churned accounts
    and their comparable retained accounts on the same calendar weeks, with interquartile bands (None
    without usage data to compare)."""
    aligned = result.aligned
    if aligned.empty or aligned["index"].notna().sum() == 0:
        return None
    fig, ax = plt.subplots(figsize=(9, 3.8))
    for group, color in (("churned", FLAG_COLOR), ("retained look-alikes", COMPARABLE_COLOR)):
        part = aligned[aligned["group"] == group]
        if part.empty:
            continue
        stats = part.groupby("week")["index"].quantile([0.25, 0.5, 0.75]).unstack()
        n = part.drop_duplicates(["account_id", "ref_date"]).shape[0]
        ax.plot(stats.index, stats[0.5], color=color, lw=1.8,
                label=_("{group} (median of {n})").format(group=GROUPS[group](), n=n))
        ax.fill_between(stats.index, stats[0.25], stats[0.75], color=color, alpha=0.12)
    ax.axhline(100, color="#999", lw=0.8)
    set_title(ax, _(title))
    ax.set_xlabel(_("weeks before the churned account's last paid day"))
    ax.set_ylabel(_("usage index (100 = own earlier level)"))
    ax.legend(fontsize=8, loc="lower left")
    fig.tight_layout()
    return fig


# --------------------------------------------------------------------------------------------------
# Roll-up
# --------------------------------------------------------------------------------------------------
def rollup(result: Result, title: str = N_("Churn reasons and missed signals over recent months")):
    """Stacked bars of ARR lost by reason per month, with the share of churns never flagged on a
    second axis (with its Wilson 95% interval); None for an account review."""
    by_month, missed = result.rollup_reasons, result.rollup_missed
    if not result.is_month or by_month.empty:
        return None
    fig, ax = plt.subplots(figsize=(10, 4.2))
    wide = by_month.pivot_table(index="month", columns="reason", values="arr_lost", aggfunc="sum", fill_value=0)
    wide = wide[wide.sum().sort_values(ascending=False).index]
    x = np.arange(len(wide))
    bottom = np.zeros(len(wide))
    for i, reason in enumerate(wide.columns):
        ax.bar(x, wide[reason], bottom=bottom, label=label_of(reason), color=PALETTE[i % len(PALETTE)])
        bottom += wide[reason].to_numpy()
    ax.set_xticks(x, [str(m) for m in wide.index])
    ax.set_ylabel(_("ARR lost"))
    ax.set_xlabel(_("churn month"))
    money(ax)
    set_title(ax, _(title))
    artists, labels = ax.get_legend_handles_labels()
    handles: list[Any] = list(artists)  # legend entries: bars and, below, an errorbar container
    if not missed.empty:
        twin = ax.twinx()
        m = missed.set_index("month").reindex(wide.index)
        # Wilson bounds can sit a rounding error inside a share of 0 or 1: clip, as errorbar refuses a negative
        below = (m["missed_share"] - m["missed_low"]).clip(lower=0)
        above = (m["missed_high"] - m["missed_share"]).clip(lower=0)
        bars = twin.errorbar(x, m["missed_share"], yerr=[below, above],
                             color="#222", marker="o", ms=4, lw=1.2, capsize=3)
        twin.set_ylim(0, 1.05)
        twin.set_ylabel(_("share of churns never flagged"))
        percent(twin)
        twin.grid(False)
        handles.append(bars)
        labels.append(_("share never flagged (right axis, 95% CI)"))
    fig.legend(handles, labels, loc="lower center", ncol=5, fontsize=8, bbox_to_anchor=(0.5, -0.02))
    fig.tight_layout(rect=(0, 0.1, 1, 1))
    return fig


def alerts_by_type(result: Result, title: str = N_("New alerts this month by type")):
    """This month's new alerts by type (None for an account review and when there is none)."""
    alerts = result.alerts_table()
    if not result.is_month or alerts.empty:
        return None
    fig, ax = plt.subplots(figsize=(8, 2.8))
    counts = alerts["alert"].str.split("; ").explode().value_counts()
    ax.barh([label_of(k) for k in counts.index[::-1]], counts.to_numpy()[::-1], color=FLAG_COLOR)
    set_title(ax, _(title))
    ax.set_xlabel(_("accounts"))
    ax.set_ylabel(_("alert type"))
    fig.tight_layout()
    return fig
