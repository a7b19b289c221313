"""Sentences, the headline, the conventions box, the KPIs and the method notes of the churn-drivers
report, read from its result (or, for the sentence columns of its tables, from those tables).

Every function that takes the result works on any result ``report.build`` returns: a section that
could not be computed is one sentence saying why (``result.reasons``), never a missing number."""

from __future__ import annotations

import math
import re

import numpy as np
import pandas as pd

from ...core.risk import Sampling, sampling_sentence
from ...text import count, day, format_each, interval, money, num, number, pct, plural, points
from ..base import Kpi, kpi
from .compute_backtest import MIN_EVENTS_FOR_INTERVAL
from .compute_calllist import UNASSIGNED


# ==================================================================================================
# Small formatters: rates that may be tiny, gaps that a ratio would blow up, intervals that may not exist
# ==================================================================================================
def _finite(*values) -> bool:
    return all(v is not None and isinstance(v, (int, float, np.floating, np.integer)) and math.isfinite(float(v))
               for v in values)


def rate(p: float) -> str:
    """A rate or probability: 8.7%, and "under 0.1%" rather than a 0.0% that is not zero."""
    return "under 0.1%" if 0 < p < 0.0005 else pct(p)


def gap(worse: float, better: float) -> str:
    """How much higher the worse end is: "8.0 pt higher (3.0x)"; the ratio only while the better end is at
    least 1% and the ratio under 20 (beyond that a ratio explodes and the difference says it better).
    When the "worse" end is in fact lower (a threshold that did not hold on later months): "2.9 pt lower"."""
    if worse < better:
        return f"{points(better - worse)} lower"
    text = f"{points(worse - better)} higher"
    if better >= 0.01 and worse / better < 20:
        text += f" ({number(worse / better)}x)"
    return text


def _cap(text: str) -> str:
    return text[:1].upper() + text[1:]


def no_interval(churners: int, rows: int) -> str:
    """Why an interval is missing: too few churners (or stayers) to bootstrap one."""
    few = min(churners, rows - churners)
    what = "churner" if churners <= rows - churners else "stayer"
    if few < MIN_EVENTS_FOR_INTERVAL:
        return f"no interval: only {plural(few, what)}, and an interval needs {MIN_EVENTS_FOR_INTERVAL}"
    return "no interval: some bootstrap resamples held no churner"


def with_interval(value: float, low: float, high: float, churners: int, rows: int, decimals: int = 2,
                  suffix: str = "", inline: bool = False) -> str:
    """``0.85 (95% CI 0.83–0.87)``, or the value and why it has no interval; ``inline`` (inside
    parentheses already): ``0.85, 95% CI 0.83–0.87``."""
    ci = (f"{interval(low, high, 'number', decimals, confidence=0.95)}{suffix}" if _finite(low, high)
          else no_interval(churners, rows))
    return f"{number(value, decimals)}{suffix}, {ci}" if inline else f"{number(value, decimals)}{suffix} ({ci})"


def chance(low: float, high: float) -> str:
    """What an AUC interval says against a coin flip (0.5): '' when it clears 0.5."""
    if not _finite(low, high):
        return ""
    if high < 0.5:
        return "worse than chance, so its ranking should not be used"
    if low <= 0.5:
        return "not clearly better than chance, so rank by it with care"
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
    return {0.0: "lowest", 1.0: "highest"}.get(q, f"{int(round(q * 100))}th percentile")


def _categorical_statement(driver: pd.Series, horizon_days: int, target_words: str) -> str:
    label, worst, best = _cap(driver["driver_label"]), driver["level_at_worse"], driver["level_at_better"]
    p_w, p_b = driver["risk_at_worse"], driver["risk_at_better"]
    model = f"{pct(p_w)} vs {pct(p_b)} predicted over {horizon_days} days"
    o_w, o_b = driver.get("observed_at_worse"), driver.get("observed_at_better")
    if _finite(o_w, o_b) and o_w >= o_b:
        return (f"{label}: {worst} shows the most {target_words} and {best} the least, both observed ({rate(o_w)} vs "
                f"{rate(o_b)}) and holding the other factors fixed ({model}).")
    hi, lo = driver.get("observed_highest"), driver.get("observed_lowest")
    if isinstance(hi, str) and isinstance(lo, str) and hi != lo:
        return (f"{label}: observed {target_words} is highest for {hi} ({rate(driver['observed_highest_rate'])}) and "
                f"lowest for {lo} ({rate(driver['observed_lowest_rate'])}); holding the other factors fixed, the model "
                f"puts {worst} highest and {best} lowest ({model}).")
    return f"{label}: holding the other factors fixed, the model puts {worst} highest and {best} lowest ({model})."


def driver_statement(driver: pd.Series, horizon_days: int, target_words: str = "churn") -> str:
    """One driver's direction and size in plain words (a row of :func:`.compute_drivers.driver_table`),
    next to the observed rates at the same two ends. When the model (which holds the other factors
    fixed) and the observed rates point different ways, the sentence says so instead of picking one."""
    label, way = driver["driver_label"], driver["direction"]
    if way == "unclear":
        return f"{_cap(label)}: no clear direction."
    if way == "by category":
        return _categorical_statement(driver, horizon_days, target_words)
    if way == "flat":
        return f"{_cap(label)}: little change in predicted {target_words} across its range."
    worse = "low" if way.startswith("lower") else "high"
    p_w, p_b = driver["risk_at_worse"], driver["risk_at_better"]
    ends = (f"{rate(p_w)} predicted over {horizon_days} days at {num(driver['value_at_worse'])} "
            f"({_percentile_name(driver['percentile_at_worse'])}) vs {rate(p_b)} at {num(driver['value_at_better'])} "
            f"({_percentile_name(driver['percentile_at_better'])}), {gap(p_w, p_b)}")
    o_w, o_b = driver.get("observed_at_worse"), driver.get("observed_at_better")
    if not _finite(o_w, o_b):
        return f"{worse.capitalize()} {label} means more {target_words}: {ends}."
    observed = f"{rate(o_w)} vs {rate(o_b)} among the accounts at or beyond those values"
    if o_w >= o_b:
        return f"{worse.capitalize()} {label} means more {target_words}: {ends}; observed, {observed}."
    return (f"{worse.capitalize()} {label} goes with more {target_words} only with the other factors held fixed: "
            f"{ends}. Observed without holding them fixed, the rates run the other way: {observed}.")


def driver_statements(drivers: pd.DataFrame, horizon_days: int, target_words: str = "churn") -> list[str]:
    """The ``statement`` column of the drivers table."""
    return [driver_statement(r, horizon_days, target_words) for _, r in drivers.iterrows()]


def suggested_plays(expansion: pd.DataFrame) -> np.ndarray:
    """The ``suggested_play`` column of the expansion list, from its ``play`` and ``cross_sell`` keys."""
    play = expansion["play"]
    seats = format_each(expansion["seat_utilisation"], lambda v: f"Seat upsell: {pct(v, 0)} of seats active.")
    return np.where(play == "stabilise", "Stabilise first: health is red, fix adoption before any upsell.",
                    np.where(play == "seat upsell", seats,
                             np.where(play == "cross-sell", "Cross-sell: " + expansion["cross_sell"] + ".",
                                      "Plan upgrade conversation at the next business review.")))


def threshold_statement(r: pd.Series) -> str:
    """One threshold: both sides' churn on the later months with their intervals, and the gap."""
    op = "at or under" if r["side"] == "under" else "at or over"
    risky, rest = r["churn_rate_risky"], r["churn_rate_rest"]

    def ci(side: str) -> str:
        low, high = r.get(f"{side}_low"), r.get(f"{side}_high")
        return f" ({interval(low, high, confidence=0.95)})" if _finite(low, high) else ""
    return (f"Accounts {op} {num(r['threshold'])} {r['label']} ({pct(r['share_of_accounts'], 0)} of accounts) "
            f"churned at {rate(risky)}{ci('risky')} against {rate(rest)}{ci('rest')} for the rest: "
            f"{gap(risky, rest)}.")


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
    return f"checked across accounts rather than on later months: {bt.why_not_time_ordered}"


OPTIMISTIC = ("a model checked this way may learn from months after the ones it is tested on, so the figure can be "
              "optimistic")


def _health_only(result) -> str:
    at_risk = result.at_risk
    n, arr = len(at_risk), float(at_risk["arr"].sum())
    red, red_arr = _red(result)
    if n == 1:
        return (f"By the health score, the only paying account ({money(arr, compact=True)} ARR) is "
                f"{'red' if red else 'not red'}.")
    if red == 0:
        return (f"By the health score no paying account is red ({plural(n, 'account')}, "
                f"{money(arr, compact=True)} ARR).")
    return (f"By the health score, {count(red)} of {plural(n, 'paying account')} ({money(red_arr, compact=True)} of "
            f"{money(arr, compact=True)} ARR) {'is' if red == 1 else 'are'} red.")


def headline(result, top_n: int = 20) -> str:
    """The report's first sentence: how much ARR is at risk, where, why, and how far to trust it."""
    at_risk, drivers = result.at_risk, result.drivers
    n = len(at_risk)
    if not result.has_model:
        return f"No churn model this month: {result.reasons.get('model', '')}. {_health_only(result)}"
    arr, risk = float(at_risk["arr"].sum()), float(at_risk["arr_at_risk"].sum())
    if not (arr > 0 and risk > 0):
        return f"No ARR at risk among {plural(n, 'paying account')}."
    red = _red(result)[0]
    red_text = f", and {plural(red, 'account')} {'is' if red == 1 else 'are'} red" if _scored(result) else ""
    top = float(at_risk["arr_at_risk"].head(top_n).sum())
    why = f" Strongest driver: {drivers.iloc[0]['label']} ({drivers.iloc[0]['direction']})." if len(drivers) else ""
    r = result.pooled
    trust = ""
    if r is not None:
        caveat = check_caveat(result)
        trust = f" Backtest AUC {_auc(r)}." if not caveat else f" Cross-validated AUC {_auc(r)}, {caveat}."
        verdict = chance(r["auc_low"], r["auc_high"])
        trust += f" The model is {verdict}." if verdict else ""
    return (f"{money(risk, compact=True)} of {money(arr, compact=True)} ARR ({pct(risk / arr)}) is expected to churn "
            f"in the next {result.horizon_days} days; the top {min(top_n, n)} of {plural(n, 'account')} hold "
            f"{pct(top / risk, 0)} of it{red_text}.{why}{trust}")


def _md(text) -> str:
    """Data (an account or owner name) as literal markdown text: every ASCII punctuation character
    backslash-escaped, so a name like ``*x* [y](z)`` shows as typed and never becomes emphasis or a link."""
    return re.sub(r"([!-/:-@\[-`{-~])", r"\\\1", str(text))


def playbook_name(playbook: str) -> str:
    """A playbook's name for a table cell or a sentence: the words before its first colon ("Renewal
    preparation"), the whole text when it has no short name (the legend under the table spells each one
    out)."""
    text = str(playbook)
    name, colon, _ = text.partition(":")
    return name.strip() if colon and 0 < len(name.strip()) <= 40 else text


def at_risk_definition(result) -> str:
    """What "at risk" means in this report, with the number that draws the line."""
    if result.risk_threshold is None:
        return "red on the health score (no churn model this month)"
    return (f"a {result.horizon_days}-day churn probability of {pct(result.risk_threshold)} or more "
            "(1.5 times the churn rate of the observations the model learned from)")


def at_risk_sentence(result, top_n: int = 10) -> str:
    """Accounts at risk (likely churners: :func:`at_risk_definition`), then the top of the call list."""
    calls = result.at_risk
    top = calls.head(top_n)
    if top.empty:
        return "No paying accounts."
    n, k = len(calls), int(calls["at_risk"].sum())
    flagged = calls[calls["at_risk"]]
    first = top.iloc[0]
    name = _md(first["account_name"] if pd.notna(first["account_name"]) else first["account_id"])
    plays = top["playbook"].map(playbook_name).value_counts()
    common = f"Most common playbook among them: {plays.index[0]} ({plural(int(plays.iloc[0]), 'account')})."
    verb = "is" if k == 1 else "are"
    if not result.has_model:
        return (f"{count(k)} of {plural(n, 'paying account')} {verb} at risk, meaning {at_risk_definition(result)} "
                f"({money(float(flagged['arr'].sum()), compact=True)} ARR). With no churn model the list ranks by the "
                f"health score, lowest first; the first is {name} ({money(first['arr'], compact=True)} ARR, score "
                f"{number(first['health_score'], 0)}, {first['health_band']}: {first['health_triggers']}). {common}")
    risk = float(calls["arr_at_risk"].sum())
    held = float(flagged["arr_at_risk"].sum())
    expected = float(flagged["churn_probability"].sum())
    share = f" ({pct(held / risk, 0)} of the {money(risk, compact=True)} ARR at risk)" if risk > 0 else ""
    if k == 0:
        at_risk = f"No paying account is at risk, meaning {at_risk_definition(result)}. "
    else:
        at_risk = (f"{count(k)} of {plural(n, 'paying account')} {verb} at risk, meaning {at_risk_definition(result)}: "
                   f"{money(float(flagged['arr'].sum()), compact=True)} ARR, {money(held, compact=True)} of it "
                   f"expected to churn{share}")
        churners = round(expected)
        if k > 1:  # the expected number of churners among them: the sum of their probabilities
            at_risk += ("; fewer than one of them is" if churners < 1 else
                        f"; about {count(churners)} of them {'is' if churners == 1 else 'are'}")
            at_risk += f" expected to churn within {result.horizon_days} days"
        at_risk += ". "
    carry = "carries" if len(top) == 1 else "carry"
    return (f"{at_risk}The top {plural(len(top), 'account')} of the call list {carry} "
            f"{money(top['arr_at_risk'].sum(), compact=True)} of expected ARR loss; the first is {name} "
            f"({money(first['arr'], compact=True)} ARR, {pct(first['churn_probability'], 0)} churn probability: "
            f"{first['top_reasons']}). {common}")


def at_risk_caption(result) -> str:
    shown = min(result.settings.at_risk_rows_shown, len(result.at_risk))
    if not result.has_model:
        return (f"Top {shown} of {plural(len(result.at_risk), 'paying account')} by health score, lowest first (no "
                "churn model this month); every account in at_risk_accounts.csv")
    return (f"Top {shown} of {plural(len(result.at_risk), 'paying account')} by ARR at risk "
            f"({result.horizon_days}-day churn probability × ARR); every account in at_risk_accounts.csv")


def _link(result, file: str) -> str:
    """A markdown link from the report page to a file beside it (the page sits next to its folder)."""
    return f"[{file}](<{result.settings.notebook}/{file}>)"


def owners_sentence(result) -> str:
    """How the call list splits across CSM owners, and who holds the most risk."""
    owners, calls = result.owners, result.at_risk
    if owners.empty:
        return ""
    if (calls["csm_owner"] == UNASSIGNED).all():
        return (f"No account has a CSM owner in the accounts table (no `csm_owner` values), so all "
                f"{plural(len(calls), 'paying account')} are in one list, {_link(result, owners['file'].iloc[0])}.")
    named = owners[owners["csm_owner"] != UNASSIGNED]
    lead = owners.iloc[0]
    key = "ARR at risk" if result.has_model else "accounts at risk"
    amount = (money(lead["arr_at_risk"], compact=True) if result.has_model
              else count(int(lead["at_risk_accounts"])))
    unassigned = calls["csm_owner"] == UNASSIGNED
    gap_text = (f" {plural(int(unassigned.sum()), 'account')} {'has' if unassigned.sum() == 1 else 'have'} no CSM "
                f"owner in the accounts table and {'is' if unassigned.sum() == 1 else 'are'} listed as "
                f"{UNASSIGNED}." if unassigned.any() else "")
    return (f"The call list splits across {plural(len(named), 'CSM owner')}; the most {key} sits with "
            f"{_md(lead['csm_owner'])} ({amount}; {count(int(lead['at_risk_accounts']))} of "
            f"{plural(int(lead['accounts']), 'account')} at risk).{gap_text}")


def owners_caption(result) -> str:
    return (f"CSM owners, most {'ARR at risk' if result.has_model else 'accounts at risk'} first; renewals: term "
            f"contracts renewing in the next {result.renewals_window_days} days (at_risk_by_owner.csv)")


def owner_heading(owner: str) -> str:
    return f"#### My accounts: {_md(owner)}"


def owner_sentence(result, owner: str) -> str:
    """One owner's list in a sentence: accounts, at risk, ARR at risk, renewals due, and the file."""
    row = result.owners.set_index("csm_owner").loc[owner]
    shown = min(result.settings.owner_rows_shown, int(row["accounts"]))
    risk = f", {money(row['arr_at_risk'], compact=True)} ARR at risk" if result.has_model else ""
    due = int(row["renewals_due"])
    renewals = (f"{plural(due, 'term renewal')} in the next {result.renewals_window_days} days "
                f"({money(row['arr_renewing'], compact=True)} ARR)" if due else
                f"no term renewal in the next {result.renewals_window_days} days")
    order = "by ARR at risk" if result.has_model else "by health score, lowest first"
    rest = f"the first {shown} {order} below; all in {_link(result, row['file'])}" if shown < row["accounts"] else \
        f"all below and in {_link(result, row['file'])}"
    return (f"{plural(int(row['accounts']), 'account')}, {count(int(row['at_risk_accounts']))} at risk{risk}; "
            f"{renewals}: {rest}.")


def renewals_sentence(result) -> str:
    """The renewals calendar in a sentence: contracts, ARR, those at risk and the first of them."""
    r, days = result.renewals, result.renewals_window_days
    end = result.as_of + pd.Timedelta(days=days - 1)
    window = f"the next {days} days ({day(result.as_of)} to {day(end)})"
    monthly = int((result.at_risk["billing_period"] == "monthly").sum())
    monthly_text = (f" {plural(monthly, 'account')} on monthly plans {'has' if monthly == 1 else 'have'} no renewal "
                    "date: they can leave at any month end." if monthly else "")
    if r.empty:
        return f"No term contract renews in {window}.{monthly_text}"
    risky = r[r["at_risk"]]
    text = (f"{plural(len(r), 'term contract')} ({money(float(r['arr'].sum()), compact=True)} ARR) "
            f"{'renews' if len(r) == 1 else 'renew'} in {window}; {count(len(risky))} of them "
            f"{'is' if len(risky) == 1 else 'are'} at risk")
    if "arr_at_risk" in r and len(risky):
        text += f", with {money(float(risky['arr_at_risk'].sum()), compact=True)} ARR at risk"
    if len(risky):
        first = risky.iloc[0]
        name = _md(first["account_name"] if pd.notna(first["account_name"]) else first["account_id"])
        text += (f". The first at-risk renewal is {name} on {day(first['renewal_date'])} "
                 f"(owner {_md(first['csm_owner'])})")
    return f"{text}.{monthly_text}"


def renewals_caption(result, shown: int, per_week: int = 0) -> str:
    """``per_week``: the table shows that many at-risk renewals of each week, the most ARR at risk (0: all)."""
    r = result.renewals
    risky = int(r["at_risk"].sum()) if len(r) else 0
    most = "the most ARR at risk" if result.has_model else "the lowest health score"
    what = (f"{count(shown)} of {count(risky)}: the {per_week} with {most} in each week" if per_week
            else f"all {count(risky)}")
    return (f"At-risk renewals in the next {result.renewals_window_days} days, soonest first, {what} "
            f"(every renewal in {result.renewals_table_name}.csv)")


def renewal_weeks_caption(result) -> str:
    return (f"Term renewals by week, next {result.renewals_window_days} days (weeks start on Monday; the first "
            "and last may be partial)")


def drivers_sentence(result) -> str:
    """What the drivers section rests on: the check behind it, or why there are no drivers."""
    if not result.has_model:
        return f"No drivers are ranked: no churn model could be fitted ({result.reasons.get('model', '')})."
    caveat = check_caveat(result)
    if caveat:
        return (f"The drivers below come from a model {caveat}. They are ranked across accounts, not forward in "
                f"time ({OPTIMISTIC}).")
    top = result.drivers.iloc[0] if len(result.drivers) else None
    if top is None:
        return "The model found no driver."
    return (f"Ranked on the last backtest month ({day(result.backtest.test_dates[-1])}, "
            f"{plural(int(result.importance_rows[1]), 'account')}): the strongest driver is {top['label']}.")


def backtest_sentence(result) -> str:
    if result.backtest is None:
        return f"The model could not be checked: {result.reasons.get('model', '')}."
    metrics, primary_model = result.backtest.metrics, result.primary_model
    pooled = metrics[metrics["test_date"] == "pooled"].set_index("model")
    if primary_model not in pooled.index:
        return "The backtest could not be run."
    r = pooled.loc[primary_model]
    other = [m for m in pooled.index if m != primary_model]
    comp = f" The {other[0]} model reaches AUC {_auc(pooled.loc[other[0]])}." if other else ""
    churners, rows = int(r["churners"]), int(r["test_accounts"])
    lift = with_interval(r["top_decile_lift"], r["top_decile_lift_low"], r["top_decile_lift_high"], churners, rows,
                         1, "x")
    how = ("Trained only on earlier months and tested on "
           f"{count(rows)} later account-observations ({count(churners)} churned)")
    caveat = check_caveat(result)
    if caveat:
        how = (f"With each account's observations predicted by a model trained on the other accounts "
               f"({count(rows)} account-observations, {count(churners)} churned; {caveat}; {OPTIMISTIC})")
    verdict = chance(r["auc_low"], r["auc_high"])
    verdict = f" It is {verdict}." if verdict else ""
    return (f"{how}, the {primary_model} model ranks a random churner above a random stayer {pct(r['auc'], 0)} of the "
            f"time (AUC {_auc(r, inline=True)}); its top 10% of accounts churn at {lift} the average rate.{verdict}{comp}")


def health_sentence(result) -> str:
    validation = result.validation
    if validation is None:
        if result.scores is None:
            return "The health score is skipped: none of its components' metrics is in the data."
        return f"The health score cannot be checked against churn: {result.reasons.get('health', '')}."
    auc, bands = validation.auc, validation.bands.set_index("band")
    parts = [f"The health score separates churners with AUC "
             f"{with_interval(auc[0], auc[1], auc[2], validation.churns, validation.rows)}."]
    red, green = bands.loc["red"], bands.loc["green"]
    if red["accounts"] and green["accounts"]:
        parts.append(f"Red accounts churned within {result.horizon_days} days at {rate(red['churn_rate'])} "
                     f"({interval(red['ci_low'], red['ci_high'], confidence=0.95)}) against "
                     f"{rate(green['churn_rate'])} for green accounts "
                     f"({interval(green['ci_low'], green['ci_high'], confidence=0.95)}): "
                     f"{gap(red['churn_rate'], green['churn_rate'])}.")
    if _finite(validation.red_share):
        typical = (f", typically for {number(validation.median_days_red, 0)} days before the churn date"
                   if _finite(validation.median_days_red) else "")
        parts.append(f"{pct(validation.red_share, 0)} of churned accounts were red at their last check before "
                     f"churning{typical}; against that, {pct(validation.stayers_red_share, 0)} of the observations "
                     f"that did not churn within {result.horizon_days} days were red.")
    return " ".join(parts)


def weights_sentence(result) -> str:
    """The suggested weights, where to find them and how to apply them (or why there are none)."""
    validation = result.validation
    if validation is None:
        return ""
    if validation.weights_reason:
        return f"No weights are suggested: {validation.weights_reason}."
    w = validation.weights.dropna(subset=["suggested_weight"]).sort_values("suggested_weight", ascending=False)
    if w.empty or not (w["suggested_weight"] > 0).any():
        return "No component's score goes with less churn in the data: no weights are suggested."
    top = w.iloc[0]
    zero = w.loc[w["suggested_weight"] <= 0, "component"].tolist()
    dropped = (f" {plural(len(zero), 'component')} would get no weight ({', '.join(zero).replace('_', ' ')})."
               if zero else "")
    applied = ""
    if _finite(validation.suggested_auc):
        applied = (f" With them the score would rank churners with AUC {number(validation.suggested_auc, 2)} on these "
                   f"same rows, against {number(validation.auc[0], 2)} now (fitted on these rows, so the gain is "
                   "optimistic).")
    return (f"A logistic regression of churn on the component scores gives {top['component'].replace('_', ' ')} the "
            f"largest weight ({number(top['suggested_weight'], 0)}% of the score, configured "
            f"{number(top['configured_weight'], 0)}%).{dropped}{applied} `csresearch health suggest > "
            "params/health_score.yml` writes these weights into the health-score file in one step.")


def profile_sentence(result) -> str:
    profile = result.profile
    loyal, churns = profile.attrs.get("loyal_accounts", 0), profile.attrs.get("churn_events", 0)
    tenure = result.settings.loyal_tenure_days
    if profile.empty:
        if not loyal:
            return (f"No account qualifies as loyal (paying for at least {plural(tenure, 'day')} with MRR above the MRR "
                    "its paying spell started at), so there is no loyal profile to compare churned accounts with.")
        return (f"Too few to compare: {plural(int(loyal), 'loyal account')} and {plural(int(churns), 'churn')} "
                "(each side needs at least 5).")
    top = profile.head(3)
    parts = [f"{r['label']} (median {num(r['loyal_median'])} vs {num(r['churned_median'])})" for _, r in top.iterrows()]
    who = f"{plural(int(loyal), 'long-lived, expanding account')} with {plural(int(churns), 'churn')}"
    return f"Comparing {who}, the biggest differences are in " + "; ".join(parts) + "."


def cohorts_sentence(result) -> str:
    """What the cohort charts rest on, or why there are none."""
    if result.deciles.empty and result.categories.empty:
        labelled = int(result.frame["churned"].notna().sum())
        return (f"No cohort can be compared yet: {plural(labelled, 'observation')} with a closed "
                f"{result.horizon_days}-day window, and a decile needs 100 per metric.")
    base = result.base_rate
    return (f"Each bar is the share of accounts that churned within {result.horizon_days} days of an observation "
            f"(dates one window apart, so each churn counts once); the dashed line is all of them, {pct(base)}.")


def thresholds_markdown(result, rows: int = 5) -> str:
    """The strongest thresholds as a bulleted list (the widest gap between the two sides' intervals first)."""
    found = result.thresholds
    if found.empty:
        dates = result.frame.loc[result.frame["churned"].notna(), "observation_date"].nunique()
        return ("No threshold can be chosen on earlier months and tested on later ones: that needs labelled "
                f"observations on at least 3 dates one window apart and 200 of them per metric in the earlier part "
                f"({plural(int(dates), 'labelled observation date')} here).")
    return "\n".join(f"- {threshold_statement(r)}" for _, r in found.head(rows).iterrows())


def expansion_skipped(result) -> str:
    if not result.expansion_skipped:
        return ""
    return f"Expansion list skipped: {result.reasons.get('expansion', 'no account to list')}."


# ==================================================================================================
# Method notes, sampling, conventions, KPIs
# ==================================================================================================
def _check_note(result) -> str:
    bt = result.backtest
    if bt is None:
        return (f"- *No model.* No churn model was fitted ({result.reasons.get('model', '')}); the list ranks by the "
                "health score alone, and nothing here is a churn probability.")
    if bt.kind == "cross-sectional":
        return (f"- *How the model was checked.* Not on later months: {bt.why_not_time_ordered}. Instead each account's "
                "observations are predicted by a model trained on the other accounts (folds grouped by account, "
                "stratified by churn); a fold's model may have learned from months after the ones it is tested on, so "
                "the AUC can be optimistic and the drivers are ranked across accounts, not forward in time.")
    return (f"- *How the model was checked.* A time-ordered backtest: each test month's model trains only on "
            f"observations whose {result.horizon_days}-day outcome was known before that month.")


def method_notes(result) -> str:
    """How leakage, censoring, multiple comparisons and selection bias are handled, in words."""
    n_dates = result.frame["observation_date"].nunique()
    lines = [
        "**How to read this report.**",
        "- *Leakage.* Every feature of an observation is computed from data strictly before its observation date "
        "(the first day after each month), in SQL with the date boundaries fixed in advance; a test moves events "
        "after the date and checks that no feature changes.",
        _check_note(result),
        f"- *Censoring.* An observation whose {result.horizon_days}-day window (after a {result.lead_days}-day lead "
        f"time) is not over at the report date has an unknown outcome: it is scored but never counted as retained. "
        f"Churn is the paying-spell definition of `csresearch.core.revenue.paying_spells` (reactivation window "
        f"{plural(int(result.frame.attrs.get('reactivation_window_days', 0)), 'day')}).",
        f"- *Repeated accounts.* Cohort rates and the health-score validation use observation dates spaced one "
        f"window apart, so each churn counts once; {plural(n_dates, 'monthly observation date')} feed the models.",
        "- *Multiple comparisons.* Attribute cohorts carry Holm-corrected chi-square p-values; thresholds are chosen "
        "on the earlier two thirds of the months and measured on the later third, so the search over cut points does "
        "not inflate them (selection bias).",
        "- *Drivers are predictive, not causal.* Importance is the AUC lost when a driver (a group of correlated "
        "metrics, shuffled together and named after the member that separates churners best on its own) is "
        "scrambled; its direction and size come from moving the group to its 25th vs 75th percentile for every "
        "account, the other factors held fixed, shown beside the observed rates at those two ends. An "
        "intervention's effect needs an experiment (report 04).",
        f"- *Intervals.* 95% bootstrap intervals are drawn where the rows hold at least {MIN_EVENTS_FOR_INTERVAL} "
        "churners and as many stayers; below that the report says there are too few.",
        "- *Selection.* Only accounts paying at an observation date are scored; accounts that joined and left "
        "between two dates are never seen.",
    ]
    if "onboarding_tracked" in result.frame:
        untracked = int((result.frame["onboarding_tracked"] == 0).sum())
        here = plural(untracked, "observation") if untracked else "none here"
        lines.append(f"- *Time to value.* An account with no row in the onboarding table has an unknown time to value "
                     f"({here}): it is never counted as not having reached value; "
                     "models see it as missing and the health score gives that component its missing score.")
    lines.extend(f"- {s}" for s in scale_notes(result))
    if result.notes:
        lines.append("- *Data gaps.* " + "; ".join(result.notes) + ".")
    return "\n".join(lines)


def scale_notes(result) -> list[str]:
    """Generated sentences saying which steps ran on samples (none on a small enough world)."""
    out = []
    final = result.sampling.get("final")
    backtest_words = _backtest_sampling_words(result.sampling)
    if final is not None:
        out.append("*Sampling (models).* " + sampling_sentence(final, "The final risk model") + " "
                   + "The backtest models are trained the same way on their own earlier rows"
                   + (f" ({backtest_words})" if backtest_words else "")
                   + "; every test row is scored and counted in the backtest metrics.")
    elif backtest_words:
        out.append("*Sampling (models).* " + backtest_words.capitalize()
                   + "; every test row is scored and counted in the backtest metrics.")
    expansion = result.sampling.get("expansion")
    if expansion is not None:
        out.append("*Sampling (expansion model).* " + sampling_sentence(expansion, "The expansion model"))
    if result.importance_rows and result.importance_rows[1] < result.importance_rows[0]:
        total, used = result.importance_rows
        out.append(f"*Sampling (drivers).* Driver importance and effects use a random {count(used)} of the "
                   f"{count(total)} test rows, stratified by outcome (the same churn share as all of them).")
    counts = [int(n) for n in result.backtest.metrics["test_accounts"]] if result.backtest is not None else []
    if result.validation is not None:
        counts.append(int(result.validation.rows))  # the health score's AUC rows
    cap = result.bootstrap_max_rows
    if cap is not None and counts and max(counts) > cap:
        out.append(f"*Intervals.* Metrics are computed on every row; where there are more than {count(cap)} rows (up "
                   f"to {count(max(counts))}) the 95% bootstrap interval resamples a random {count(cap)} of them, "
                   f"stratified by outcome, and its width is scaled by the square root of {count(cap)} / rows.")
    return out


def scale_notes_markdown(result) -> str:
    """The sampling notes as a bulleted list ('' when nothing was sampled)."""
    return "\n".join(f"- {s}" for s in scale_notes(result))


def _backtest_sampling_words(sampling: dict[str, Sampling | None]) -> str:
    parts = [(k.removeprefix("backtest "), v) for k, v in sampling.items()
             if k.startswith("backtest ") and v is not None]
    if not parts:
        return ""
    return "; ".join(f"the last fold's {kind} model: all {count(v.churned)} churned and {pct(v.share)} of "
                     f"{count(v.others)} others" for kind, v in parts)


def conventions(result) -> tuple[dict, dict]:
    """The conventions box: values and what each means here."""
    s = result.settings
    check = {"time-ordered": "time-ordered backtest", "cross-sectional": "across accounts (cross-validated)"}
    values = {
        "horizon_days": result.horizon_days, "lead_days": result.lead_days,
        "observation_date": f"{day(result.as_of)} (first day after the report month)",
        "usage windows (days)": _windows(result.frame.attrs.get("windows_days") or s.windows_days),
        "health score": s.health_score_file,
        "primary model": result.primary_model if result.has_model else "none fitted",
        "model checked": check.get(result.check_kind or "", "not checked (no model)"),
        **{k: getattr(s, k) for k in ("reactivation_window_days", "value_milestone", "count_same_month_churn",
                                      "annualisation", "churn_convention")},
        "model training rows": _training_rows_value(result, s.max_train_rows),
        "accounts at risk": (f"churn probability {pct(result.risk_threshold)} or more" if result.risk_threshold
                             is not None else "red on the health score (no model)"),
        "renewals calendar": f"the {result.renewals_window_days} days from {day(result.as_of)}",
    }
    notes = {
        "horizon_days": "label: churn within this many days after the lead time",
        "lead_days": "gap between the observation and the start of the churn window (time to act)",
        "observation_date": "features use data strictly before this date",
        "model checked": "on later months when the history allows, else across accounts (see the notes)",
        "reactivation_window_days": "a zero-MRR gap shorter than this is not a churn (csresearch.core.revenue)",
        "value_milestone": "onboarding milestone defining time to value",
        "count_same_month_churn": "not used: only accounts paying at an observation date are scored",
        "annualisation": "not used: rates here are over the horizon; ARR = 12 x MRR",
        "churn_convention": "labels use day-level paying spells (the contract's month-end rule)",
        "model training rows": "max_train_rows: above it, all churned rows + a stratified, weighted sample of the rest",
        "accounts at risk": ("likely churners: 1.5 times the churn rate the model learned from; ARR at risk sums "
                             "probability x ARR over every account"),
        "renewals calendar": "term contracts: the next anniversary of the main subscription line's start",
    }
    return values, notes


def _windows(days: tuple[int, int]) -> str:
    recent, prior = days
    return f"{recent} (recent), {prior} (the window before it, for trends)"


def _training_rows_value(result, cap) -> str:
    if not result.has_model:
        return "none (no model)"
    final = result.sampling.get("final")
    if final is not None:
        return (f"{count(final.rows)} of {count(final.churned + final.others)} "
                f"(cap {count(cap or final.rows)}; sampled, weighted)")
    return f"all (cap {count(cap)} not reached)" if cap else "all (no cap)"


def kpis(result) -> list[Kpi]:
    at_risk = result.at_risk
    arr, paying = float(at_risk["arr"].sum()), int(len(at_risk))
    out = []
    if result.has_model:
        arr_at_risk = float(at_risk["arr_at_risk"].sum())
        out.append(kpi("ARR at risk", arr_at_risk, f"{money(arr_at_risk)} of {money(arr)} ARR"))
        flagged = int(at_risk["at_risk"].sum())
        out.append(kpi("Accounts at risk", flagged, f"{count(flagged)} of {count(paying)} (churn risk "
                       f"{pct(result.risk_threshold)} or more)"))
    if _scored(result):
        red = _red(result)[0]
        out.append(kpi("Red accounts", red, f"{count(red)} of {count(paying)}"))
    pooled = result.pooled
    if pooled is not None:
        name = "Model AUC (backtest)" if result.check_kind == "time-ordered" else "Model AUC (across accounts)"
        out.append(kpi(name, float(pooled["auc"]), _auc(pooled)))
    return out
