"""Sentences, the headline, the conventions box, the KPIs and the method notes of the churn-drivers
report, read from its result (or, for the sentence columns of its tables, from those tables).

Every function that takes the result works on any result ``report.build`` returns: a section that
could not be computed is one sentence saying why (``result.reasons``), never a missing number.

Every sentence is marked for the message catalog (:mod:`csresearch.i18n`): whole sentences per variant,
named placeholders filled after translation, plurals with ``ngettext``; an English run reads exactly as
the code's English. Machine values shown to readers (billing period, touch tier, health band) go through
:func:`value_label`; the CSVs keep the machine values."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from ...core.risk import Sampling, sampling_sentence
from ...i18n import N_, _, ngettext, pgettext
from ...text import count, day, format_each, interval, money, num, number, pct, points
from ..base import Kpi, Section, kpi
from .compute_backtest import MIN_EVENTS_FOR_INTERVAL
from .words_calllist import (  # noqa: F401 (re-exported: the notebook and the tests read them as words.X)
    _link,
    _md,
    at_risk_caption,
    at_risk_definition,
    at_risk_sentence,
    none_label,
    owner_heading,
    owner_label,
    owner_sentence,
    owners_caption,
    owners_sentence,
    playbook_name,
    playbook_parts,
    renewal_weeks_caption,
    renewals_caption,
    renewals_sentence,
    unassigned_label,
)
from .words_common import (  # noqa: F401 (re-exported)
    ATTRIBUTE_NAMES,
    DIRECTIONS,
    VALUE_LABELS,
    _accounts,
    _days,
    _list,
    _paying,
    _plural,
    _sentences,
    direction_label,
    paren,
    value_label,
    value_labels,
)

# the notebook's headings and the paragraphs under them: nb.section(words.section("call_list"))
SECTIONS = {
    "intro": Section("churn-drivers", N_("Churn drivers: who is at risk, why, and what to do"), N_(
        "Which paying accounts are likely to churn in the coming months, what distinguishes them, how far the "
        "health score can be trusted, and whom a CSM should call first. The first sentence below is generated "
        "from the numbers. *At risk* means a likely churner here: an account whose churn probability is at or "
        "above the threshold the next sentence names. The call list (every paying account, riskiest ARR first, "
        "the ones at risk flagged) is `at_risk_accounts.csv` beside this report, split by CSM owner in "
        "`at_risk_by_owner/`; the renewals of the coming weeks are in the renewals calendar."), level=1),
    "quality": Section("data-quality", N_("Data quality"), N_(
        "Every row read is either used or rejected with a reason. Features come from every optional table "
        "present; a missing one removes its features (and any health-score component using them), as listed "
        "in the notes at the end.")),
    "call_list": Section("call-list", N_("Whom to call: the call list"), N_(
        "Every paying account, riskiest ARR first: the model's churn probability over the horizon times the "
        "account's ARR. An account is *at risk* (a likely churner) when that probability is at or above the "
        "threshold the sentence at the top names; the list carries every account so nothing is hidden, and "
        "`at_risk_accounts.csv` flags the ones at risk. Each row names the **CSM owner** and the **next "
        "renewal** of a term contract (a monthly plan can be left at any month end). *Why (model)* names the "
        "three factors pushing this account's risk up the most (from SHAP contributions), with the account's "
        "value and the typical value; *health triggers* are the health-score components at red, and the "
        "*playbook* is what to run. The suggested touch tier comes from value and risk (top 20% of ARR, or "
        "above-median ARR at 20%+ risk: high touch; bottom 40% of ARR at lower risk: tech touch).")),
    "owners": Section("my-accounts", N_("My accounts: one list per CSM owner"), N_(
        "The same list split by the account's CSM owner (from the accounts table; an account without one is "
        "*unassigned*), so each CSM starts from their own riskiest accounts. Every account is in exactly one "
        "owner's list; each list is a CSV in `at_risk_by_owner/`, and the table below sums them.")),
    "renewals": Section("renewals", N_("Renewals coming up"), N_(
        "Term contracts (annual, quarterly, multi-year) can only be left at their renewal: the calendar lists "
        "each one renewing soon, by week, with its churn risk and health, soonest first. The CSV beside the "
        "report holds every renewal in the window; the table lists those at risk.")),
    "drivers": Section("drivers", N_("Why accounts churn: the drivers"), N_(
        "Each driver is a metric, or a group of strongly correlated metrics read together (shuffling one of a "
        "correlated pair alone would understate both). The bar is how much worse the model ranks churners "
        "when that driver is scrambled, with its 95% interval; a bar whose interval crosses zero is not a "
        "reliable driver. The sentence says which way it points and how big the difference is.")),
    "cohorts": Section("behavioural-cohorts", N_("Behavioural cohorts"), N_(
        "Churn rate within the horizon for accounts grouped by the deciles of each behaviour, then by "
        "account attribute. A staircase means the metric separates churners; a flat row means it does not.")),
    "thresholds": Section("thresholds", N_("Thresholds worth acting on"), N_(
        "For each behaviour, the cut-off whose accounts churn most often compared with the rest, chosen on "
        "earlier months and measured on later ones."), level=3),
    "backtest": Section("model-check", N_("How far to trust the model: checked on months it never saw"), N_(
        "Each model is trained on earlier months only and scored on a later month it never saw. When the history "
        "is too short for that (or its churn too bunched), each account is scored by a model trained on the other "
        "accounts instead, and the sentence says why: a weaker check, since that model may learn from later "
        "months. **AUC**: the chance a churner is ranked above a stayer (0.5 = coin flip). **PR-AUC**: precision "
        "across the list (compare with the churn rate). **Top-decile lift**: how many times the average churn "
        "rate the top 10% of the list shows. **Brier**: mean squared error of the probabilities (lower is "
        "better). Intervals bootstrap the test accounts.")),
    "health": Section("health-score", N_("The health score: does it work?"), N_(
        "The health score is the transparent, rule-based view a CSM can explain to a customer: weighted "
        "components with thresholds and playbooks from `params/health_score.yml`. Here it is checked against "
        "what actually happened: churn by band, how early churners turned red (beside how often accounts that "
        "stayed were red too), and the weights a regression on realised churn would give each component, beside "
        "the configured ones.")),
    "profile": Section("loyal-vs-churned", N_("Loyal vs churned: what long-lived, expanding accounts share"), N_(
        "Accounts paying for at least the loyal tenure whose MRR grew since they started, against each churned "
        "account at its last observation before churning.")),
    "expansion": Section("expansion", N_("Expansion: where to grow"), N_(
        "The same features predict an expansion (upsell or added product) within the horizon. Expected "
        "expansion ARR is the probability times the typical expansion of the segment. Red-health accounts are "
        "told to stabilise first.")),
}
TITLE = N_("Churn drivers")  # Settings.title, shown by the runner


def section(key: str) -> Section:
    return SECTIONS[key]



# ==================================================================================================
# Small formatters: rates that may be tiny, gaps that a ratio would blow up, intervals that may not exist
# ==================================================================================================
def _finite(*values) -> bool:
    return all(v is not None and isinstance(v, (int, float, np.floating, np.integer)) and math.isfinite(float(v))
               for v in values)


def rate(p: float) -> str:
    """A rate or probability: 8.7%, and "under 0.1%" rather than a 0.0% that is not zero."""
    return _("under {rate}").format(rate=pct(0.001)) if 0 < p < 0.0005 else pct(p)


def gap(worse: float, better: float) -> str:
    """How much higher the worse end is: "8.0 pt higher (3.0x)"; the ratio only while the better end is at
    least 1% and the ratio under 20 (beyond that a ratio explodes and the difference says it better).
    When the "worse" end is in fact lower (a threshold that did not hold on later months): "2.9 pt lower"."""
    if worse < better:
        return _("{points} lower").format(points=points(better - worse))
    if better >= 0.01 and worse / better < 20:
        return _("{points} higher ({ratio}x)").format(points=points(worse - better), ratio=number(worse / better))
    return _("{points} higher").format(points=points(worse - better))


def _cap(text: str) -> str:
    return text[:1].upper() + text[1:]


def no_interval(churners: int, rows: int) -> str:
    """Why an interval is missing: too few churners (or stayers) to bootstrap one."""
    few = min(churners, rows - churners)
    if few < MIN_EVENTS_FOR_INTERVAL:
        if churners <= rows - churners:
            return ngettext("no interval: only {n} churner, and an interval needs {needed}",
                            "no interval: only {n} churners, and an interval needs {needed}", few).format(
                n=f"{few:,}", needed=MIN_EVENTS_FOR_INTERVAL)
        return ngettext("no interval: only {n} stayer, and an interval needs {needed}",
                        "no interval: only {n} stayers, and an interval needs {needed}", few).format(
            n=f"{few:,}", needed=MIN_EVENTS_FOR_INTERVAL)
    return _("no interval: some bootstrap resamples held no churner")


def with_interval(value: float, low: float, high: float, churners: int, rows: int, decimals: int = 2,
                  suffix: str = "", inline: bool = False) -> str:
    """``0.85 (95% CI 0.83–0.87)``, or the value and why it has no interval; ``inline`` (inside
    parentheses already): ``0.85, 95% CI 0.83–0.87``."""
    ci = (f"{interval(low, high, 'number', decimals, confidence=0.95)}{suffix}" if _finite(low, high)
          else no_interval(churners, rows))
    shown = f"{number(value, decimals)}{suffix}"
    if inline:
        return _("{value}, {ci}").format(value=shown, ci=ci)
    return f"{shown}{paren(ci)}"


def chance(low: float, high: float) -> str:
    """What an AUC interval says against a coin flip (0.5): '' when it clears 0.5."""
    if not _finite(low, high):
        return ""
    if high < 0.5:
        return _("worse than chance, so its ranking should not be used")
    if low <= 0.5:
        return _("not clearly better than chance, so rank by it with care")
    return ""


def _auc(r: pd.Series, inline: bool = False) -> str:
    """An AUC with its 95% interval (``auc``, ``auc_low``, ``auc_high`` of a backtest row):
    ``0.85 (95% CI 0.83–0.87)``, or why it has none."""
    return with_interval(r["auc"], r["auc_low"], r["auc_high"], int(r["churners"]), int(r["test_accounts"]),
                         inline=inline)


# ==================================================================================================
# Sentence columns of the tables (drivers.csv, expansion_candidates.csv) and list items
# ==================================================================================================
def _percentile_name(q: float) -> str:
    if q == 0.0:
        return _("lowest")
    if q == 1.0:
        return _("highest")
    return _("{n}th percentile").format(n=int(round(q * 100)))


def _target(target_words: str) -> str:
    """What a driver predicts, as a noun in the run's language: churn or expansion."""
    return {"churn": _("churn"), "expansion": _("expansion")}.get(target_words, target_words)


def _categorical_statement(driver: pd.Series, horizon_days: int, target_words: str) -> str:
    # billing period and touch tier levels in words (annual -> 年次); a segment or plan name as it is
    attribute = str(driver.get("driver", ""))
    label = _cap(driver["driver_label"])
    worst, best = (value_label(attribute, driver["level_at_worse"]), value_label(attribute, driver["level_at_better"]))
    p_w, p_b = driver["risk_at_worse"], driver["risk_at_better"]
    model = _("{worse} vs {better} predicted over {days} days").format(worse=pct(p_w), better=pct(p_b),
                                                                      days=horizon_days)
    target = _target(target_words)
    o_w, o_b = driver.get("observed_at_worse"), driver.get("observed_at_better")
    if _finite(o_w, o_b) and o_w >= o_b:
        return _("{label}: {worst} shows the most {target} and {best} the least, both observed ({observed_worst} vs "
                 "{observed_best}) and holding the other factors fixed ({model}).").format(
            label=label, worst=worst, best=best, target=target, observed_worst=rate(o_w), observed_best=rate(o_b),
            model=model)
    hi, lo = driver.get("observed_highest"), driver.get("observed_lowest")
    if isinstance(hi, str) and isinstance(lo, str) and hi != lo:
        hi, lo = value_label(attribute, hi), value_label(attribute, lo)
        return _("{label}: observed {target} is highest for {highest} ({highest_rate}) and lowest for {lowest} "
                 "({lowest_rate}); holding the other factors fixed, the model puts {worst} highest and {best} lowest "
                 "({model}).").format(
            label=label, target=target, highest=hi, highest_rate=rate(driver["observed_highest_rate"]), lowest=lo,
            lowest_rate=rate(driver["observed_lowest_rate"]), worst=worst, best=best, model=model)
    return _("{label}: holding the other factors fixed, the model puts {worst} highest and {best} lowest "
             "({model}).").format(label=label, worst=worst, best=best, model=model)


def driver_statement(driver: pd.Series, horizon_days: int, target_words: str = "churn") -> str:
    """One driver's direction and size in plain words (a row of :func:`.compute_drivers.driver_table`),
    next to the observed rates at the same two ends. When the model (which holds the other factors
    fixed) and the observed rates point different ways, the sentence says so instead of picking one."""
    label, way = driver["driver_label"], driver["direction"]
    target = _target(target_words)
    if way == "unclear":
        return _("{label}: no clear direction.").format(label=_cap(label))
    if way == "by category":
        return _categorical_statement(driver, horizon_days, target_words)
    if way == "flat":
        return _("{label}: little change in predicted {target} across its range.").format(label=_cap(label),
                                                                                          target=target)
    low = way.startswith("lower")
    p_w, p_b = driver["risk_at_worse"], driver["risk_at_better"]
    ends = _("{worse} predicted over {days} days at {worse_value} ({worse_percentile}) vs {better} at "
             "{better_value} ({better_percentile}), {gap}").format(
        worse=rate(p_w), days=horizon_days, worse_value=num(driver["value_at_worse"]),
        worse_percentile=_percentile_name(driver["percentile_at_worse"]), better=rate(p_b),
        better_value=num(driver["value_at_better"]),
        better_percentile=_percentile_name(driver["percentile_at_better"]), gap=gap(p_w, p_b))
    o_w, o_b = driver.get("observed_at_worse"), driver.get("observed_at_better")
    if not _finite(o_w, o_b):
        text = (_("Low {label} means more {target}: {ends}.") if low else
                _("High {label} means more {target}: {ends}."))
        return text.format(label=label, target=target, ends=ends)
    observed = _("{worse} vs {better} among the accounts at or beyond those values").format(worse=rate(o_w),
                                                                                            better=rate(o_b))
    if o_w >= o_b:
        text = (_("Low {label} means more {target}: {ends}; observed, {observed}.") if low else
                _("High {label} means more {target}: {ends}; observed, {observed}."))
        return text.format(label=label, target=target, ends=ends, observed=observed)
    text = (_("Low {label} goes with more {target} only with the other factors held fixed: {ends}. Observed without "
              "holding them fixed, the rates run the other way: {observed}.") if low else
            _("High {label} goes with more {target} only with the other factors held fixed: {ends}. Observed without "
              "holding them fixed, the rates run the other way: {observed}."))
    return text.format(label=label, target=target, ends=ends, observed=observed)


def driver_statements(drivers: pd.DataFrame, horizon_days: int, target_words: str = "churn") -> list[str]:
    """The ``statement`` column of the drivers table."""
    return [driver_statement(r, horizon_days, target_words) for _i, r in drivers.iterrows()]


def suggested_plays(expansion: pd.DataFrame) -> np.ndarray:
    """The ``suggested_play`` column of the expansion list, from its ``play`` and ``cross_sell`` keys."""
    play = expansion["play"]
    seats = format_each(expansion["seat_utilisation"],
                        lambda v: _("Seat upsell: {share} of seats active.").format(share=pct(v, 0)))
    cross = format_each(expansion["cross_sell"], lambda v: _("Cross-sell: {product}.").format(product=v))
    return np.where(play == "stabilise", _("Stabilise first: health is red, fix adoption before any upsell."),
                    np.where(play == "seat upsell", seats,
                             np.where(play == "cross-sell", cross,
                                      _("Plan upgrade conversation at the next business review."))))


def threshold_statement(r: pd.Series) -> str:
    """One threshold: both sides' churn on the later months with their intervals, and the gap."""
    risky, rest = r["churn_rate_risky"], r["churn_rate_rest"]

    def ci(side: str) -> str:
        low, high = r.get(f"{side}_low"), r.get(f"{side}_high")
        return paren(interval(low, high, confidence=0.95)) if _finite(low, high) else ""
    text = (_("Accounts at or under {threshold} {label} ({share} of accounts) churned at {risky}{risky_ci} against "
              "{rest}{rest_ci} for the rest: {gap}.") if r["side"] == "under" else
            _("Accounts at or over {threshold} {label} ({share} of accounts) churned at {risky}{risky_ci} against "
              "{rest}{rest_ci} for the rest: {gap}."))
    return text.format(threshold=num(r["threshold"]), label=r["label"], share=pct(r["share_of_accounts"], 0),
                       risky=rate(risky), risky_ci=ci("risky"), rest=rate(rest), rest_ci=ci("rest"),
                       gap=gap(risky, rest))


# ==================================================================================================
# The headline and the report's sentences
# ==================================================================================================
def _red(result) -> tuple[int, float]:
    at_risk = result.at_risk
    red = at_risk["health_band"] == "red"
    return int(red.sum()), float(at_risk.loc[red, "arr"].sum())


def _scored(result) -> bool:
    return bool((result.at_risk["health_band"] != "unscored").any())


def check_caveat(result) -> str:
    """Why the model was checked across accounts instead of on later months ('' for a backtest)."""
    bt = result.backtest
    if bt is None or bt.kind == "time-ordered":
        return ""
    return _("checked across accounts rather than on later months: {why}").format(why=bt.why_not_time_ordered)


OPTIMISTIC = N_("a model checked this way may learn from months after the ones it is tested on, so the figure can "
                "be optimistic")


def _health_only(result) -> str:
    at_risk = result.at_risk
    n, arr = len(at_risk), float(at_risk["arr"].sum())
    red, red_arr = _red(result)
    if n == 1:
        text = (_("By the health score, the only paying account ({arr} ARR) is red.") if red else
                _("By the health score, the only paying account ({arr} ARR) is not red."))
        return text.format(arr=money(arr, compact=True))
    if red == 0:
        return _("By the health score no paying account is red ({accounts}, {arr} ARR).").format(
            accounts=_accounts(n), arr=money(arr, compact=True))
    return ngettext("By the health score, {red} of {paying} ({red_arr} of {arr} ARR) is red.",
                    "By the health score, {red} of {paying} ({red_arr} of {arr} ARR) are red.", red).format(
        red=count(red), paying=_paying(n), red_arr=money(red_arr, compact=True), arr=money(arr, compact=True))


def headline(result, top_n: int = 20) -> str:
    """The report's first sentence: how much ARR is at risk, where, why, and how far to trust it."""
    at_risk, drivers = result.at_risk, result.drivers
    n = len(at_risk)
    if not result.has_model:
        return _sentences(_("No churn model this month: {why}.").format(why=result.reasons.get("model", "")),
                          _health_only(result))
    arr, risk = float(at_risk["arr"].sum()), float(at_risk["arr_at_risk"].sum())
    if not (arr > 0 and risk > 0):
        return _("No ARR at risk among {paying}.").format(paying=_paying(n))
    red = _red(result)[0]
    values = dict(risk=money(risk, compact=True), arr=money(arr, compact=True), share=pct(risk / arr),
                  days=result.horizon_days, top=min(top_n, n), accounts=_accounts(n),
                  top_share=pct(float(at_risk["arr_at_risk"].head(top_n).sum()) / risk, 0))
    if _scored(result):
        first = ngettext("{risk} of {arr} ARR ({share}) is expected to churn in the next {days} days; the top {top} "
                         "of {accounts} hold {top_share} of it, and {red} account is red.",
                         "{risk} of {arr} ARR ({share}) is expected to churn in the next {days} days; the top {top} "
                         "of {accounts} hold {top_share} of it, and {red} accounts are red.", red).format(
            red=f"{red:,}", **values)
    else:
        first = _("{risk} of {arr} ARR ({share}) is expected to churn in the next {days} days; the top {top} of "
                  "{accounts} hold {top_share} of it.").format(**values)
    why = (_("Strongest driver: {driver} ({direction}).").format(
        driver=drivers.iloc[0]["label"], direction=direction_label(drivers.iloc[0]["direction"]))
        if len(drivers) else "")
    r = result.pooled
    trust = verdict_text = ""
    if r is not None:
        caveat = check_caveat(result)
        trust = (_("Backtest AUC {auc}.").format(auc=_auc(r)) if not caveat else
                 _("Cross-validated AUC {auc}, {caveat}.").format(auc=_auc(r), caveat=caveat))
        verdict = chance(r["auc_low"], r["auc_high"])
        verdict_text = _("The model is {verdict}.").format(verdict=verdict) if verdict else ""
    return _sentences(first, why, trust, verdict_text)



def drivers_sentence(result) -> str:
    """What the drivers section rests on: the check behind it, or why there are no drivers."""
    if not result.has_model:
        return _("No drivers are ranked: no churn model could be fitted ({why}).").format(
            why=result.reasons.get("model", ""))
    caveat = check_caveat(result)
    if caveat:
        return _("The drivers below come from a model {caveat}. They are ranked across accounts, not forward in time "
                 "({optimistic}).").format(caveat=caveat, optimistic=_(OPTIMISTIC))
    top = result.drivers.iloc[0] if len(result.drivers) else None
    if top is None:
        return _("The model found no driver.")
    return _("Ranked on the last backtest month ({date}, {accounts}): the strongest driver is {driver}.").format(
        date=day(result.backtest.test_dates[-1]), accounts=_accounts(int(result.importance_rows[1])),
        driver=top["label"])


def backtest_sentence(result) -> str:
    if result.backtest is None:
        return _("The model could not be checked: {why}.").format(why=result.reasons.get("model", ""))
    metrics, primary_model = result.backtest.metrics, result.primary_model
    pooled = metrics[metrics["test_date"] == "pooled"].set_index("model")
    if primary_model not in pooled.index:
        return _("The backtest could not be run.")
    r = pooled.loc[primary_model]
    other = [m for m in pooled.index if m != primary_model]
    comp = (_("The {model} model reaches AUC {auc}.").format(model=model_name(other[0]),
                                                              auc=_auc(pooled.loc[other[0]])) if other else "")
    churners, rows = int(r["churners"]), int(r["test_accounts"])
    lift = with_interval(r["top_decile_lift"], r["top_decile_lift_low"], r["top_decile_lift_high"], churners, rows,
                         1, times())
    caveat = check_caveat(result)
    values = dict(rows=count(rows), churners=count(churners), model=model_name(primary_model),
                  share=pct(r["auc"], 0), auc=_auc(r, inline=True), lift=lift)
    if caveat:
        text = _("With each account's observations predicted by a model trained on the other accounts ({rows} "
                 "account-observations, {churners} churned; {caveat}; {optimistic}), the {model} model ranks a random "
                 "churner above a random stayer {share} of the time (AUC {auc}); its top 10% of accounts churn at "
                 "{lift} the average rate.").format(caveat=caveat, optimistic=_(OPTIMISTIC), **values)
    else:
        text = _("Trained only on earlier months and tested on {rows} later account-observations ({churners} churned), "
                 "the {model} model ranks a random churner above a random stayer {share} of the time (AUC {auc}); its "
                 "top 10% of accounts churn at {lift} the average rate.").format(**values)
    verdict = chance(r["auc_low"], r["auc_high"])
    verdict = _("It is {verdict}.").format(verdict=verdict) if verdict else ""
    return _sentences(text, verdict, comp)


def times() -> str:
    """The unit of a lift, "4.2x" (ja: 4.2倍)."""
    # TRANSLATORS: the unit after a multiple, as in "4.2x the average rate"
    return pgettext("times", "x")


def model_name(model: str) -> str:
    """gbm / logistic as a sentence names them (the tables and CSVs keep the code)."""
    return {"gbm": pgettext("model", "gbm"), "logistic": pgettext("model", "logistic")}.get(str(model), str(model))


def health_sentence(result) -> str:
    validation = result.validation
    if validation is None:
        if result.scores is None:
            return _("The health score is skipped: none of its components' metrics is in the data.")
        return _("The health score cannot be checked against churn: {why}.").format(why=result.reasons.get("health", ""))
    auc, bands = validation.auc, validation.bands.set_index("band")
    parts = [_("The health score separates churners with AUC {auc}.").format(
        auc=with_interval(auc[0], auc[1], auc[2], validation.churns, validation.rows))]
    red, green = bands.loc["red"], bands.loc["green"]
    if red["accounts"] and green["accounts"]:
        parts.append(_("Red accounts churned within {days} days at {red} ({red_ci}) against {green} for green accounts "
                       "({green_ci}): {gap}.").format(
            days=result.horizon_days, red=rate(red["churn_rate"]),
            red_ci=interval(red["ci_low"], red["ci_high"], confidence=0.95), green=rate(green["churn_rate"]),
            green_ci=interval(green["ci_low"], green["ci_high"], confidence=0.95),
            gap=gap(red["churn_rate"], green["churn_rate"])))
    if _finite(validation.red_share):
        values = dict(red_share=pct(validation.red_share, 0), stayers=pct(validation.stayers_red_share, 0),
                      days=result.horizon_days)
        if _finite(validation.median_days_red):
            parts.append(_("{red_share} of churned accounts were red at their last check before churning, typically "
                           "for {median} days before the churn date; against that, {stayers} of the observations that "
                           "did not churn within {days} days were red.").format(
                median=number(validation.median_days_red, 0), **values))
        else:
            parts.append(_("{red_share} of churned accounts were red at their last check before churning; against "
                           "that, {stayers} of the observations that did not churn within {days} days were "
                           "red.").format(**values))
    return _sentences(*parts)


def component_label(component: str) -> str:
    """A health-score component's name in words (``usage_decline`` -> usage decline; ja: 利用の減少); a
    component a team added is shown in words as named."""
    names = {"renewal_timing": N_("renewal timing"), "usage_depth": N_("usage depth"),
             "usage_decline": N_("usage decline"), "inactivity": N_("inactivity"),
             "time_to_value": N_("time to value"), "support_burden": N_("support burden"),
             "sentiment": N_("sentiment")}
    key = str(component)
    return _(names[key]) if key in names else key.replace("_", " ")


def weights_sentence(result) -> str:
    """The suggested weights, where to find them and how to apply them (or why there are none)."""
    validation = result.validation
    if validation is None:
        return ""
    if validation.weights_reason:
        return _("No weights are suggested: {why}.").format(why=validation.weights_reason)
    w = validation.weights.dropna(subset=["suggested_weight"]).sort_values("suggested_weight", ascending=False)
    if w.empty or not (w["suggested_weight"] > 0).any():
        return _("No component's score goes with less churn in the data: no weights are suggested.")
    top = w.iloc[0]
    zero = w.loc[w["suggested_weight"] <= 0, "component"].tolist()
    dropped = (_plural(len(zero), ngettext("{n} component would get no weight ({components}).",
                       "{n} components would get no weight ({components}).", len(zero)),
                       components=_list(component_label(c) for c in zero)) if zero else "")
    applied = ""
    if _finite(validation.suggested_auc):
        applied = _("With them the score would rank churners with AUC {suggested} on these same rows, against {now} "
                    "now (fitted on these rows, so the gain is optimistic).").format(
            suggested=number(validation.suggested_auc, 2), now=number(validation.auc[0], 2))
    first = _("A logistic regression of churn on the component scores gives {component} the largest weight ({weight}% "
              "of the score, configured {configured}%).").format(
        component=component_label(top["component"]), weight=number(top["suggested_weight"], 0),
        configured=number(top["configured_weight"], 0))
    return _sentences(first, dropped, applied,
                      _("`csresearch health suggest > params/health_score.yml` writes these weights into the "
                        "health-score file in one step."))


def profile_sentence(result) -> str:
    profile = result.profile
    loyal, churns = profile.attrs.get("loyal_accounts", 0), profile.attrs.get("churn_events", 0)
    tenure = result.settings.loyal_tenure_days
    if profile.empty:
        if not loyal:
            return _("No account qualifies as loyal (paying for at least {days} with MRR above the MRR its paying spell "
                     "started at), so there is no loyal profile to compare churned accounts with.").format(
                days=_days(tenure))
        return _("Too few to compare: {loyal} and {churns} (each side needs at least 5).").format(
            loyal=_plural(int(loyal), ngettext("{n} loyal account", "{n} loyal accounts", int(loyal))),
            churns=_plural(int(churns), ngettext("{n} churn", "{n} churns", int(churns))))
    top = profile.head(3)
    parts = [_("{metric} (median {loyal} vs {churned})").format(metric=r["label"], loyal=num(r["loyal_median"]),
                                                                churned=num(r["churned_median"]))
             for _i, r in top.iterrows()]
    return _("Comparing {loyal} with {churns}, the biggest differences are in {differences}.").format(
        loyal=_plural(int(loyal), ngettext("{n} long-lived, expanding account", "{n} long-lived, expanding accounts",
                                           int(loyal))),
        churns=_plural(int(churns), ngettext("{n} churn", "{n} churns", int(churns))),
        # TRANSLATORS: the separator between the metrics compared ("a (...); b (...)")
        differences=_("; ").join(parts))


def cohorts_sentence(result) -> str:
    """What the cohort charts rest on, or why there are none."""
    if result.deciles.empty and result.categories.empty:
        labelled = int(result.frame["churned"].notna().sum())
        return _("No cohort can be compared yet: {observations} with a closed {days}-day window, and a decile needs "
                 "100 per metric.").format(
            observations=_plural(labelled, ngettext("{n} observation", "{n} observations", labelled)),
            days=result.horizon_days)
    return _("Each bar is the share of accounts that churned within {days} days of an observation (dates one window "
             "apart, so each churn counts once); the dashed line is all of them, {rate}.").format(
        days=result.horizon_days, rate=pct(result.base_rate))


def thresholds_markdown(result, rows: int = 5) -> str:
    """The strongest thresholds as a bulleted list (the widest gap between the two sides' intervals first)."""
    found = result.thresholds
    if found.empty:
        dates = result.frame.loc[result.frame["churned"].notna(), "observation_date"].nunique()
        return _("No threshold can be chosen on earlier months and tested on later ones: that needs labelled "
                 "observations on at least 3 dates one window apart and 200 of them per metric in the earlier part "
                 "({dates} here).").format(
            dates=_plural(int(dates), ngettext("{n} labelled observation date", "{n} labelled observation dates", int(dates))))
    return "\n".join(f"- {threshold_statement(r)}" for _i, r in found.head(rows).iterrows())


def expansion_skipped(result) -> str:
    if not result.expansion_skipped:
        return ""
    return _("Expansion list skipped: {why}.").format(why=result.reasons.get("expansion", _("no account to list")))


# ==================================================================================================
# Method notes, sampling, conventions, KPIs
# ==================================================================================================
def _check_note(result) -> str:
    bt = result.backtest
    if bt is None:
        return "- " + _("*No model.* No churn model was fitted ({why}); the list ranks by the health score alone, and "
                        "nothing here is a churn probability.").format(why=result.reasons.get("model", ""))
    if bt.kind == "cross-sectional":
        return "- " + _("*How the model was checked.* Not on later months: {why}. Instead each account's observations "
                        "are predicted by a model trained on the other accounts (folds grouped by account, stratified "
                        "by churn); a fold's model may have learned from months after the ones it is tested on, so the "
                        "AUC can be optimistic and the drivers are ranked across accounts, not forward in "
                        "time.").format(why=bt.why_not_time_ordered)
    return "- " + _("*How the model was checked.* A time-ordered backtest: each test month's model trains only on "
                    "observations whose {days}-day outcome was known before that month.").format(days=result.horizon_days)


def method_notes(result) -> str:
    """How leakage, censoring, multiple comparisons and selection bias are handled, in words."""
    n_dates = result.frame["observation_date"].nunique()
    lines = [
        _("**How to read this report.**"),
        "- " + _("*Leakage.* Every feature of an observation is computed from data strictly before its observation "
                 "date (the first day after each month), in SQL with the date boundaries fixed in advance; a test moves "
                 "events after the date and checks that no feature changes."),
        _check_note(result),
        "- " + _("*Censoring.* An observation whose {days}-day window (after a {lead}-day lead time) is not over at the "
                 "report date has an unknown outcome: it is scored but never counted as retained. Churn is the "
                 "paying-spell definition of `csresearch.core.revenue.paying_spells` (reactivation window "
                 "{window}).").format(days=result.horizon_days, lead=result.lead_days,
                                      window=_days(int(result.frame.attrs.get("reactivation_window_days", 0)))),
        "- " + _("*Repeated accounts.* Cohort rates and the health-score validation use observation dates spaced one "
                 "window apart, so each churn counts once; {dates} feed the models.").format(
            dates=_plural(n_dates, ngettext("{n} monthly observation date", "{n} monthly observation dates", n_dates))),
        "- " + _("*Multiple comparisons.* Attribute cohorts carry Holm-corrected chi-square p-values; thresholds are "
                 "chosen on the earlier two thirds of the months and measured on the later third, so the search over "
                 "cut points does not inflate them (selection bias)."),
        "- " + _("*Drivers are predictive, not causal.* Importance is the AUC lost when a driver (a group of "
                 "correlated metrics, shuffled together and named after the member that separates churners best on "
                 "its own) is scrambled; its direction and size come from moving the group to its 25th vs 75th "
                 "percentile for every account, the other factors held fixed, shown beside the observed rates at those "
                 "two ends. An intervention's effect needs an experiment (report 04)."),
        "- " + _("*Intervals.* 95% bootstrap intervals are drawn where the rows hold at least {n} churners and as many "
                 "stayers; below that the report says there are too few.").format(n=MIN_EVENTS_FOR_INTERVAL),
        "- " + _("*Selection.* Only accounts paying at an observation date are scored; accounts that joined and left "
                 "between two dates are never seen."),
    ]
    if "onboarding_tracked" in result.frame:
        untracked = int((result.frame["onboarding_tracked"] == 0).sum())
        here = _plural(untracked, ngettext("{n} observation", "{n} observations", untracked)) if untracked else _("none here")
        lines.append("- " + _("*Time to value.* An account with no row in the onboarding table has an unknown time to "
                              "value ({here}): it is never counted as not having reached value; models see it as "
                              "missing and the health score gives that component its missing score.").format(here=here))
    lines.extend(f"- {s}" for s in scale_notes(result))
    if result.notes:
        # TRANSLATORS: {gaps} are the report's data notes joined by "; "
        lines.append("- " + _("*Data gaps.* {gaps}.").format(gaps=_("; ").join(result.notes)))
    return "\n".join(lines)


def scale_notes(result) -> list[str]:
    """Generated sentences saying which steps ran on samples (none on a small enough world)."""
    out = []
    final = result.sampling.get("final")
    backtest_words = _backtest_sampling_words(result.sampling)
    if final is not None:
        trained = (_("The backtest models are trained the same way on their own earlier rows ({how}); every test row "
                     "is scored and counted in the backtest metrics.").format(how=backtest_words) if backtest_words else
                   _("The backtest models are trained the same way on their own earlier rows; every test row is scored "
                     "and counted in the backtest metrics."))
        out.append(_("*Sampling (models).* {sentence}").format(
            sentence=_sentences(sampling_sentence(final, _("The final risk model")), trained)))
    elif backtest_words:
        out.append(_("*Sampling (models).* {how}; every test row is scored and counted in the backtest "
                     "metrics.").format(how=_cap(backtest_words)))
    expansion = result.sampling.get("expansion")
    if expansion is not None:
        out.append(_("*Sampling (expansion model).* {sentence}").format(
            sentence=sampling_sentence(expansion, _("The expansion model"))))
    if result.importance_rows and result.importance_rows[1] < result.importance_rows[0]:
        total, used = result.importance_rows
        out.append(_("*Sampling (drivers).* Driver importance and effects use a random {used} of the {total} test rows, "
                     "stratified by outcome (the same churn share as all of them).").format(used=count(used),
                                                                                            total=count(total)))
    counts = [int(n) for n in result.backtest.metrics["test_accounts"]] if result.backtest is not None else []
    if result.validation is not None:
        counts.append(int(result.validation.rows))  # the health score's AUC rows
    cap = result.bootstrap_max_rows
    if cap is not None and counts and max(counts) > cap:
        out.append(_("*Intervals.* Metrics are computed on every row; where there are more than {cap} rows (up to "
                     "{most}) the 95% bootstrap interval resamples a random {cap} of them, stratified by outcome, and "
                     "its width is scaled by the square root of {cap} / rows.").format(cap=count(cap),
                                                                                       most=count(max(counts))))
    return out


def scale_notes_markdown(result) -> str:
    """The sampling notes as a bulleted list ('' when nothing was sampled)."""
    return "\n".join(f"- {s}" for s in scale_notes(result))


def _backtest_sampling_words(sampling: dict[str, Sampling | None]) -> str:
    parts = [(k.removeprefix("backtest "), v) for k, v in sampling.items()
             if k.startswith("backtest ") and v is not None]
    if not parts:
        return ""
    return _("; ").join(_("the last fold's {model} model: all {churned} churned and {share} of {others} others").format(
        model=model_name(kind), churned=count(v.churned), share=pct(v.share), others=count(v.others))
        for kind, v in parts)


def conventions(result) -> tuple[dict, dict]:
    """The conventions box: values and what each means here."""
    s = result.settings
    check = {"time-ordered": _("time-ordered backtest"), "cross-sectional": _("across accounts (cross-validated)")}
    windows, health, primary, checked, training, at_risk, calendar = (
        _("usage windows (days)"), _("health score"), _("primary model"), _("model checked"),
        _("model training rows"), _("accounts at risk"), _("renewals calendar"))
    values = {
        "horizon_days": result.horizon_days, "lead_days": result.lead_days,
        "observation_date": _("{date} (first day after the report month)").format(date=day(result.as_of)),
        windows: _windows(result.frame.attrs.get("windows_days") or s.windows_days),
        health: s.health_score_file,
        primary: model_name(result.primary_model) if result.has_model else _("none fitted"),
        checked: check.get(result.check_kind or "", _("not checked (no model)")),
        **{k: getattr(s, k) for k in ("reactivation_window_days", "value_milestone", "count_same_month_churn",
                                      "annualisation", "churn_convention")},
        training: _training_rows_value(result, s.max_train_rows),
        at_risk: (_("churn probability {threshold} or more").format(threshold=pct(result.risk_threshold))
                  if result.risk_threshold is not None else _("red on the health score (no model)")),
        calendar: _("the {days} days from {date}").format(days=result.renewals_window_days, date=day(result.as_of)),
    }
    notes = {
        "horizon_days": _("label: churn within this many days after the lead time"),
        "lead_days": _("gap between the observation and the start of the churn window (time to act)"),
        "observation_date": _("features use data strictly before this date"),
        checked: _("on later months when the history allows, else across accounts (see the notes)"),
        "reactivation_window_days": _("a zero-MRR gap shorter than this is not a churn (csresearch.core.revenue)"),
        "value_milestone": _("onboarding milestone defining time to value"),
        "count_same_month_churn": _("not used: only accounts paying at an observation date are scored"),
        "annualisation": _("not used: rates here are over the horizon; ARR = 12 x MRR"),
        "churn_convention": _("labels use day-level paying spells (the contract's month-end rule)"),
        training: _("max_train_rows: above it, all churned rows + a stratified, weighted sample of the rest"),
        at_risk: _("likely churners: 1.5 times the churn rate the model learned from; ARR at risk sums probability x "
                   "ARR over every account"),
        calendar: _("term contracts: the next anniversary of the main subscription line's start"),
    }
    return values, notes


def _windows(days: tuple[int, int]) -> str:
    recent, prior = days
    return _("{recent} (recent), {prior} (the window before it, for trends)").format(recent=recent, prior=prior)


def _training_rows_value(result, cap) -> str:
    if not result.has_model:
        return _("none (no model)")
    final = result.sampling.get("final")
    if final is not None:
        return _("{rows} of {total} (cap {cap}; sampled, weighted)").format(
            rows=count(final.rows), total=count(final.churned + final.others), cap=count(cap or final.rows))
    return _("all (cap {cap} not reached)").format(cap=count(cap)) if cap else _("all (no cap)")


def kpis(result) -> list[Kpi]:
    """The KPIs of summary.json: ``name`` in the run's language, ``key`` the same in every language (the monthly
    brief finds them by it)."""
    at_risk = result.at_risk
    arr, paying = float(at_risk["arr"].sum()), int(len(at_risk))
    out = []
    if result.has_model:
        arr_at_risk = float(at_risk["arr_at_risk"].sum())
        out.append(kpi(_("ARR at risk"), arr_at_risk, _("{risk} of {arr} ARR").format(risk=money(arr_at_risk),
                                                                                     arr=money(arr)),
                       key="arr_at_risk"))
        flagged = int(at_risk["at_risk"].sum())
        out.append(kpi(_("Accounts at risk"), flagged, _("{k} of {n} (churn risk {threshold} or more)").format(
            k=count(flagged), n=count(paying), threshold=pct(result.risk_threshold)), key="accounts_at_risk"))
    if _scored(result):
        red = _red(result)[0]
        out.append(kpi(_("Red accounts"), red, _("{k} of {n}").format(k=count(red), n=count(paying)),
                       key="red_accounts"))
    pooled = result.pooled
    if pooled is not None:
        name = _("Model AUC (backtest)") if result.check_kind == "time-ordered" else _("Model AUC (across accounts)")
        out.append(kpi(name, float(pooled["auc"]), _auc(pooled), key="model_auc"))
    return out
