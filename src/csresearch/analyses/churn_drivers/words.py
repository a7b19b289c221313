"""Sentences, the headline, the conventions box, the KPIs and the method notes of the churn-drivers
report, read from its result (or, for the sentence columns of its tables, from those tables)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from ...core.risk import Sampling, sampling_sentence
from ...text import count, day, format_each, interval, money, num, number, pct, plural
from ..base import Kpi, kpi
from .compute_health import HealthValidation


# ==================================================================================================
# Sentence columns of the tables (drivers.csv, expansion_candidates.csv) and list items
# ==================================================================================================
def _percentile_name(q: float) -> str:
    return {0.0: "lowest", 1.0: "highest"}.get(q, f"{int(round(q * 100))}th percentile")


def driver_statement(driver: pd.Series, horizon_days: int, target_words: str = "churn") -> str:
    """One driver's direction and size in plain words (a row of :func:`.compute_drivers.driver_table`)."""
    label, way = driver["driver_label"], driver["direction"]
    if way == "unclear":
        return f"{label}: no clear direction."
    if way == "by category":
        return (f"{label}: predicted {target_words} is highest for {driver['level_at_worse']} "
                f"({pct(driver['risk_at_worse'])} over {horizon_days} days) and lowest for "
                f"{driver['level_at_better']} ({pct(driver['risk_at_better'])}).")
    if way == "flat":
        return f"{label}: little change in predicted {target_words} across its range."
    worse = "low" if way.startswith("lower") else "high"
    p_w, p_b = driver["risk_at_worse"], driver["risk_at_better"]
    ratio = f", {number(p_w / p_b)}x" if p_b > 0 else ""
    return (f"{worse.capitalize()} {label} means more {target_words}: {pct(p_w)} predicted over {horizon_days} days "
            f"at {num(driver['value_at_worse'])} ({_percentile_name(driver['percentile_at_worse'])}) vs {pct(p_b)} "
            f"at {num(driver['value_at_better'])} ({_percentile_name(driver['percentile_at_better'])}){ratio}.")


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
    ci = (f" ({interval(r['ratio_low'], r['ratio_high'], 'number', confidence=0.95)}x)"
          if pd.notna(r["ratio_low"]) and pd.notna(r["ratio_high"]) else "")
    op = "at or under" if r["side"] == "under" else "at or over"
    return (f"Accounts {op} {num(r['threshold'])} {r['label']} ({pct(r['share_of_accounts'], 0)} of accounts) "
            f"churned at {number(r['rate_ratio'])}x the rate of the rest{ci}: {pct(r['churn_rate_risky'])} vs "
            f"{pct(r['churn_rate_rest'])}.")


# ==================================================================================================
# Sentences of the report
# ==================================================================================================
def headline(result, top_n: int = 20) -> str:
    """The report's first sentence: how much ARR is at risk, where, why, and how far to trust it."""
    at_risk, drivers = result.at_risk, result.drivers
    n = len(at_risk)
    red = int((at_risk["health_band"] == "red").sum())
    red_text = (f", and {plural(red, 'account')} {'is' if red == 1 else 'are'} red"
                if (at_risk["health_band"] != "unscored").any() else "")
    risk = float(at_risk["arr_at_risk"].sum())
    arr = float(at_risk["arr"].sum())
    top = float(at_risk["arr_at_risk"].head(top_n).sum())
    trust = ""
    r = result.pooled
    if r is not None:
        trust = f" Backtest AUC {_auc(r)}."
    why = ""
    if len(drivers):
        d = drivers.iloc[0]
        why = f" Strongest driver: {d['label']} ({d['direction']})."
    if not (arr > 0 and risk > 0):
        return f"No ARR at risk among {plural(n, 'paying account')}."
    return (f"{money(risk, compact=True)} of {money(arr, compact=True)} ARR ({pct(risk / arr)}) is expected to churn "
            f"in the next {result.horizon_days} days; the top {min(top_n, n)} of {plural(n, 'account')} hold "
            f"{pct(top / risk, 0)} of it{red_text}.{why}{trust}")


def _auc(r: pd.Series) -> str:
    """An AUC with its 95% interval (``auc``, ``auc_low``, ``auc_high`` of a backtest row):
    ``0.85 (95% CI 0.83–0.87)``."""
    return f"{number(r['auc'], 2)} ({interval(r['auc_low'], r['auc_high'], 'number', 2, confidence=0.95)})"


def at_risk_sentence(result, top_n: int = 10) -> str:
    top = result.at_risk.head(top_n)
    if top.empty:
        return "No paying accounts."
    first = top.iloc[0]
    plays = top["playbook"].value_counts()
    carry = "carries" if len(top) == 1 else "carry"
    return (f"The top {plural(len(top), 'account')} {carry} {money(top['arr_at_risk'].sum(), compact=True)} of "
            f"expected ARR loss; the first is {first['account_name']} ({money(first['arr'], compact=True)} ARR, "
            f"{pct(first['churn_probability'], 0)} churn probability: {first['top_reasons']}). Most common playbook "
            f"among them: \"{plays.index[0]}\" ({plural(int(plays.iloc[0]), 'account')}).")


def at_risk_caption(result) -> str:
    shown = result.settings.at_risk_rows_shown
    return (f"Top {shown} of {plural(len(result.at_risk), 'paying account')} by ARR at risk "
            f"({result.horizon_days}-day churn probability x ARR); every account in at_risk_accounts.csv")


def backtest_sentence(result) -> str:
    metrics, primary_model = result.backtest.metrics, result.primary_model
    pooled = metrics[metrics["test_date"] == "pooled"].set_index("model")
    if primary_model not in pooled.index:
        return "The backtest could not be run."
    r = pooled.loc[primary_model]
    other = [m for m in pooled.index if m != primary_model]
    comp = ""
    if other:
        o = pooled.loc[other[0]]
        comp = f" The {other[0]} model reaches AUC {_auc(o)}."
    lift = interval(r["top_decile_lift_low"], r["top_decile_lift_high"], "number", confidence=0.95)
    return (f"Trained only on earlier months and tested on {count(r['test_accounts'])} later account-observations "
            f"({count(r['churners'])} churned), the {primary_model} model ranks a random churner above a random "
            f"stayer {pct(r['auc'], 0)} of the time (AUC {number(r['auc'], 2)}, "
            f"{interval(r['auc_low'], r['auc_high'], 'number', 2, confidence=0.95)}); its top 10% of accounts churn at "
            f"{number(r['top_decile_lift'])}x the average rate ({lift}x).{comp}")


def health_sentence(result) -> str:
    validation: HealthValidation = result.validation
    auc, bands = validation.auc, validation.bands.set_index("band")
    red, green = bands.loc["red"], bands.loc["green"]
    parts = [f"The health score separates churners with AUC {number(auc[0], 2)} "
             f"({interval(auc[1], auc[2], 'number', 2, confidence=0.95)})."]
    if red["accounts"] and green["accounts"] and green["churn_rate"] > 0:
        parts.append(f"Red accounts churned within {result.horizon_days} days at {pct(red['churn_rate'])} "
                     f"({interval(red['ci_low'], red['ci_high'], confidence=0.95)}), "
                     f"{number(red['churn_rate'] / green['churn_rate'])}x green accounts ({pct(green['churn_rate'])}).")
    if pd.notna(validation.red_share):
        parts.append(f"{pct(validation.red_share, 0)} of churned accounts were red at their last check before churning"
                     + (f", typically for {number(validation.median_days_red, 0)} days before the churn date."
                        if pd.notna(validation.median_days_red) else "."))
    return " ".join(parts)


HEALTH_SKIPPED = ("**Health score skipped:** none of its components' metrics is in the data (see the notes at "
                  "the end).")


def profile_sentence(result) -> str:
    profile = result.profile
    if profile.empty:
        return "Too few loyal or churned accounts to compare."
    top = profile.head(3)
    parts = [f"{r['label']} (median {num(r['loyal_median'])} vs {num(r['churned_median'])})" for _, r in top.iterrows()]
    loyal, churns = profile.attrs.get("loyal_accounts"), profile.attrs.get("churn_events")
    who = (f"{plural(int(loyal), 'long-lived, expanding account')} with {plural(int(churns), 'churn')}"
           if loyal is not None and churns is not None else "long-lived, expanding accounts with churns")
    return f"Comparing {who}, the biggest differences are in " + "; ".join(parts) + "."


def thresholds_markdown(result, rows: int = 5) -> str:
    """The strongest thresholds as a bulleted list (those whose interval excludes 1 first)."""
    found = result.thresholds
    if found.empty:
        return "Not enough history to choose thresholds on earlier months and test them on later ones."
    return "\n".join(f"- {threshold_statement(r)}" for _, r in found.head(rows).iterrows())


def expansion_skipped(result) -> str:
    return "Expansion list skipped: " + "; ".join(n for n in result.notes if n.startswith("expansion"))


# ==================================================================================================
# Method notes, sampling, conventions, KPIs
# ==================================================================================================
def method_notes(result) -> str:
    """How leakage, censoring, multiple comparisons and selection bias are handled, in words."""
    n_dates = result.frame["observation_date"].nunique()
    lines = [
        "**How to read this report.**",
        f"- *Leakage.* Every feature of an observation is computed from data strictly before its observation date "
        f"(the first day after each month), in SQL with the date boundaries fixed in advance; a test moves events "
        f"after the date and checks that no feature changes. The backtest trains only on observations whose "
        f"{result.horizon_days}-day outcome was known before the test date.",
        f"- *Censoring.* An observation whose {result.horizon_days}-day window (after a {result.lead_days}-day lead "
        f"time) is not over at the report date has an unknown outcome: it is scored but never counted as retained. "
        f"Churn is the paying-spell definition of `csresearch.core.revenue.paying_spells` (reactivation window "
        f"{plural(int(result.frame.attrs.get('reactivation_window_days', 0)), 'day')}).",
        f"- *Repeated accounts.* Cohort rates and the health-score validation use observation dates spaced one "
        f"window apart, so each churn counts once; {plural(n_dates, 'monthly observation date')} feed the models.",
        "- *Multiple comparisons.* Attribute cohorts carry Holm-corrected chi-square p-values; thresholds are chosen "
        "on the earlier two thirds of the months and their rate ratios measured on the later third, so the search over "
        "cut points does not inflate them (selection bias).",
        "- *Drivers are predictive, not causal.* Importance is the AUC lost when a driver (a group of correlated "
        "metrics, shuffled together) is scrambled; the direction and size come from setting it to its 25th vs 75th "
        "percentile for every account. An intervention's effect needs an experiment (report 04).",
        "- *Selection.* Only accounts paying at an observation date are scored; accounts that joined and left "
        "between two dates are never seen.",
    ]
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
    else:
        sampled = [k for k, v in result.sampling.items() if v is not None]
        if sampled:
            out.append("*Sampling (models).* " + backtest_words.capitalize()
                       + "; every test row is scored and counted in the backtest metrics.")
    expansion = result.sampling.get("expansion")
    if expansion is not None:
        out.append("*Sampling (expansion model).* " + sampling_sentence(expansion, "The expansion model"))
    if result.importance_rows and result.importance_rows[1] < result.importance_rows[0]:
        total, used = result.importance_rows
        out.append(f"*Sampling (drivers).* Driver importance and effects use a random {count(used)} of the "
                   f"{count(total)} test rows, stratified by outcome (the same churn share as all of them).")
    counts = [int(n) for n in result.backtest.metrics.get("test_accounts", [])]
    if result.validation is not None:
        counts.append(int(result.validation.table["n"].iloc[0]))  # the health score's AUC rows
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
    values = {
        "horizon_days": result.horizon_days, "lead_days": result.lead_days,
        "observation_date": f"{day(result.as_of)} (first day after the report month)",
        "usage windows (days)": _windows(result.frame.attrs.get("windows_days") or s.windows_days),
        "health score": s.health_score_file, "primary model": result.primary_model,
        **{k: getattr(s, k) for k in ("reactivation_window_days", "value_milestone", "count_same_month_churn",
                                      "annualisation", "churn_convention")},
        "model training rows": _training_rows_value(result, s.max_train_rows),
    }
    notes = {
        "horizon_days": "label: churn within this many days after the lead time",
        "lead_days": "gap between the observation and the start of the churn window (time to act)",
        "observation_date": "features use data strictly before this date",
        "reactivation_window_days": "a zero-MRR gap shorter than this is not a churn (csresearch.core.revenue)",
        "value_milestone": "onboarding milestone defining time to value",
        "count_same_month_churn": "not used: only accounts paying at an observation date are scored",
        "annualisation": "not used: rates here are over the horizon; ARR = 12 x MRR",
        "churn_convention": "labels use day-level paying spells (the contract's month-end rule)",
        "model training rows": "max_train_rows: above it, all churned rows + a stratified, weighted sample of the rest",
    }
    return values, notes


def _windows(days: tuple[int, int]) -> str:
    recent, prior = days
    return f"{recent} (recent), {prior} (the window before it, for trends)"


def _training_rows_value(result, cap) -> str:
    final = result.sampling.get("final")
    if final is not None:
        return (f"{count(final.rows)} of {count(final.churned + final.others)} "
                f"(cap {count(cap or final.rows)}; sampled, weighted)")
    return f"all (cap {count(cap)} not reached)" if cap else "all (no cap)"


def kpis(result) -> list[Kpi]:
    at_risk = result.at_risk
    arr_at_risk, arr = float(at_risk["arr_at_risk"].sum()), float(at_risk["arr"].sum())
    red, paying = int((at_risk["health_band"] == "red").sum()), int(len(at_risk))
    out = [
        kpi("ARR at risk", arr_at_risk, f"{money(arr_at_risk)} of {money(arr)} ARR"),
        kpi("Red accounts", red, f"{count(red)} of {count(paying)}"),
    ]
    pooled = result.pooled
    if pooled is not None:
        out.append(kpi("Model AUC (backtest)", float(pooled["auc"]), _auc(pooled)))
    return out
