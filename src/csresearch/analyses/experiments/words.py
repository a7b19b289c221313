"""Sentences of the experiments report, read from its result: the headline, one set per experiment
(the summary for a quarterly business review, design, effects, survival, adoption, heterogeneity,
targeting, power), the conventions box and the KPIs.

How one effect is written (its unit, its decimals, the verdict for each comparison with the control,
an outcome that cannot be measured) is in ``words_effects``. An interval that includes zero is
reported as *no detectable effect at this sample size* with the smallest effect the sample could
have detected, never as "no effect"; a non-randomised estimate is worded as a difference between
comparable accounts, not as an effect.
"""

from __future__ import annotations

from typing import Mapping, Sequence

import pandas as pd

from ...text import day, interval, money, month_label, number, p_value, pct, plural, points
from ..base import Kpi, kpi
from .compute_readout import Readout
from .result import Result
from .settings import ExperimentSettings
from .words_effects import (
    NOT_ESTIMABLE,
    arm_value,
    decimals_for,
    effect_interval,
    effect_sentence,
    effect_text,
    is_detected,
    is_missing,
    unmeasured_sentence,
    versus,
)

__all__ = ["NOT_ESTIMABLE", "effect_interval", "effect_sentence", "effect_text", "headline", "kpis", "conventions"]


# ==================================================================================================
# Sentences of one readout
# ==================================================================================================
def display_name(settings: ExperimentSettings) -> str:
    return settings.description or settings.experiment_id


def verdicts(readouts: Sequence[Readout]) -> dict[str, list[str]]:
    """The sentence for each estimate of each readout (:func:`effect_sentence`), then for each outcome
    that cannot be measured (:func:`unmeasured_sentence`), by experiment id: the verdict column of
    experiment_summary.csv."""
    out = {}
    for r in readouts:
        said = [effect_sentence(e, display_name(r.settings), r.alpha, r.power, r.settings.randomized)
                for _, e in r.effects.iterrows()]
        said += [unmeasured_sentence(u, r.settings.control_arm, r.as_of) for _, u in r.unmeasured.iterrows()]
        out[r.experiment_id] = said
    return out


def srm_sentence(srm: Mapping) -> str:
    if not srm:
        return "Not randomised: no sample-ratio check applies (arms chose themselves)."
    counts = ", ".join(f"{a} {n:,}" for a, n in zip(srm["arms"], srm["observed"]))
    shares = "/".join(pct(s, 0) for s in srm["expected_share"])
    planned = bool(srm.get("planned"))
    plan = f"the planned {shares} split" if planned else f"an equal {shares} split"
    assumed = "" if planned else "no split planned in expected_split, so equal assumed; "
    if srm.get("unplanned"):
        extra = ", ".join(f"{a} ({n:,})" for a, n in zip(srm["unplanned"], srm["unplanned_counts"]))
        return (f"**Sample-ratio mismatch**: accounts were assigned to arms the plan does not have: {extra}. "
                "Assignment or logging is broken somewhere (or expected_split is out of date); treat every estimate "
                "below as suspect until the cause is found.")
    if is_missing(srm.get("p_value")):
        return f"Arm sizes: {counts}; no sample-ratio test is possible against {plan}."
    if srm["flagged"]:
        return (f"**Sample-ratio mismatch**: {counts} is not {plan} ({assumed}chi-square {p_value(srm['p_value'])}, below "
                f"{srm['alpha']:g}). Assignment or logging is broken somewhere; treat every estimate below as suspect "
                "until the cause is found.")
    return (f"Arm sizes ({counts}) match {plan} ({assumed}chi-square {p_value(srm['p_value'])}; flagged below "
            f"{srm['alpha']:g}).")


def balance_sentence(balance: pd.DataFrame, weighted: pd.DataFrame | None = None, randomized: bool = True) -> str:
    if balance.empty:
        return "No covariates to compare."
    several = "arm" in balance and balance["arm"].nunique() > 1
    n, bad = len(balance), int(balance["imbalanced"].sum())
    worst = balance.loc[balance["smd"].abs().idxmax()]
    where = f", {worst['arm']}" if several else ""
    between = "between a treatment arm and the control" if several else "between arms"
    levels = (f"{bad} of {n} covariate-level comparisons" if several else f"{bad} of {n} covariate levels")
    text = (f"{levels} differ by more than 0.1 standard deviations {between} "
            f"(largest: {worst['covariate']}{where}, SMD {number(worst['smd'], 2, signed=True)}).")
    if randomized:
        text += (" With random assignment such gaps are chance; CUPED below adjusts for the pre-period ones."
                 if bad else " The arms look alike before treatment, as randomisation should make them.")
    elif weighted is not None:
        wbad = int(weighted["imbalanced"].sum())
        text += (f" Users differ from non-users before adopting, which is why the naive comparison is biased. "
                 f"After propensity weighting {wbad} of {len(weighted)} still differ by more than 0.1.")
    return text


def compliance_sentence(compliance: pd.DataFrame, settings: ExperimentSettings) -> str:
    if compliance.empty or compliance["exposure_known"].sum() == 0:
        return ("Exposure was not recorded (no `exposed` values): the report estimates the effect of being assigned "
                "(intention to treat) only, not the effect on accounts actually reached.")
    known = compliance[compliance["exposure_known"] > 0]
    parts = [f"{r.arm}: {pct(r.share_exposed, 0)} exposed" for r in known.itertuples()]
    unknown = [str(a) for a in compliance.loc[compliance["exposure_known"] == 0, "arm"]]
    if unknown:
        parts.append(f"exposure not recorded for {', '.join(unknown)}")
    treated = known[known["arm"] != settings.control_arm]["share_exposed"]
    if settings.randomized and len(treated) and treated.min() < 0.98:
        return ("; ".join(parts) + ". Exposure is partial, so the intention-to-treat effect (what assigning the "
                "programme achieves) is smaller than the effect on accounts actually reached; the latter is "
                "estimated with the assignment as an instrument.")
    return "; ".join(parts) + "."


def survival_sentence(result: Mapping, settings: ExperimentSettings, confidence: float = 0.95) -> str:
    """Still paying at the horizon per arm, then each treatment arm's hazard ratio and RMST difference."""
    h = int(result.get("horizon_days", settings.horizon_days))
    at_h, control = result["survival_at_horizon"], result["control"]
    weighted = result.get("weighted")
    shares = [f"{pct(v)} of {a}" for a, v in at_h.items()]
    first = list(at_h)[0]
    text = (f"After {h} days {', '.join(shares[:-1])} and {shares[-1]} accounts "
            f"{'(reweighted to look like ' + first + ' accounts) ' if weighted else ''}were still paying "
            "(Kaplan-Meier).")
    for c in result["contrasts"]:
        arm, rm = c["arm"], c["rmst_difference"]
        if is_missing(c["hazard_ratio"]):
            text += f" {arm} vs {control}: one of the two arms had no churn, so no hazard ratio can be estimated"
        elif c["hazard_ratio_low"] > 1 or c["hazard_ratio_high"] < 1:
            hr = interval(c["hazard_ratio_low"], c["hazard_ratio_high"], "number", 2, confidence=confidence)
            text += (f" The churn hazard of {arm} accounts was {number(c['hazard_ratio'], 2)} times the {control} "
                     f"arm's ({hr}, Cox)")
        else:
            text += (f" {arm} vs {control}: no detectable difference in churn hazard (hazard ratio "
                     f"{number(c['hazard_ratio'], 2)}, "
                     f"{interval(c['hazard_ratio_low'], c['hazard_ratio_high'], 'number', 2, confidence=confidence)}, Cox)")
        d = decimals_for(rm.low, rm.high, "number")
        text += (f"; over the {h} days an account in {arm} paid for {number(rm.estimate, d, signed=True)} days more "
                 f"on average (restricted mean survival time, "
                 f"{interval(rm.low, rm.high, 'number', d, confidence=confidence, unit='days')}).")
    return text


def cuped_sentence(effects: pd.DataFrame) -> str:
    rows = effects[effects["estimator"].str.startswith("CUPED")]
    if rows.empty:
        return ""
    parts = []
    for label, part in rows.groupby("outcome_label", sort=False):
        low, high = part["variance_reduction"].min(), part["variance_reduction"].max()
        parts.append(f"{label} {pct(low, 0)}" if round(low, 2) == round(high, 2)
                     else f"{label} {pct(low, 0)} to {pct(high, 0)} across arms")
    return ("CUPED subtracts the part of each outcome predicted by pre-assignment usage, MRR and tenure, which "
            "narrows the interval without biasing it; variance of the estimate reduced by: " + "; ".join(parts) + ".")


def pretrend_sentence(pretrend: Mapping | None) -> str:
    if not pretrend or not pretrend.get("periods") or is_missing(pretrend.get("p_value")):
        return "Not enough pre-period data to check parallel trends."
    p = pretrend["p_value"]
    if p < 0.05:
        return (f"Warning: before adopting, users' usage already moved differently from non-users' (joint test of the "
                f"{pretrend['df']} pre-period coefficients, {p_value(p)}); the difference-in-differences estimate may "
                "be biased.")
    return (f"Before adopting, users' and non-users' usage moved in parallel (joint test of the {pretrend['df']} "
            f"pre-period coefficients, {p_value(p)}): consistent with, though not proof of, the parallel-trends "
            "assumption.")


def _usage_unit(r: Readout) -> str:
    rows = r.observational[r.observational["outcome"].str.startswith("usage")] if r.observational is not None else None
    if rows is None or rows.empty:
        return "seat"
    label = str(rows["outcome"].iloc[0])
    return "active user" if "per active user" in label else "seat" if "per seat" in label else "account"


def _e_value_clause(r: Readout) -> str:
    te = r.trials
    if te is None or is_missing(te.e_value):
        return ""
    return (f"; an unmeasured confounder would need a risk ratio of {number(te.e_value, 1)} with both adoption "
            "and churn to explain it away")


def sensitivity_sentence(r: Readout) -> str:
    """The E-value statement of a non-randomised retention estimate (VanderWeele & Ding 2017)."""
    te = r.trials
    if te is None or any(is_missing(v) for v in (te.risk_ratio, te.risk_ratio_low, te.risk_ratio_high, te.e_value)):
        return ""
    level = 1 - r.alpha
    rr = (f"{number(te.risk_ratio, 2)} times that of comparable accounts not adopting yet "
          f"({interval(te.risk_ratio_low, te.risk_ratio_high, 'number', 2, confidence=level)})")
    text = (f"**Sensitivity.** Adopters' chance of churning within {te.horizon_days} days is {rr}. An unmeasured "
            f"confounder would need a risk ratio of {number(te.e_value, 2)} with both adoption and churn, beyond the "
            "measured covariates, to explain this difference away (E-value, VanderWeele & Ding 2017)")
    if te.e_value_interval <= 1:
        text += "; the interval already includes no difference."
    else:
        text += f", and {number(te.e_value_interval, 2)} to move its interval to include no difference."
    return text + (" Such a confounder could push the estimate up or down: the data cannot tell which, so this is "
                   "neither an upper nor a lower bound.")


def observational_sentence(table: pd.DataFrame, confidence: float = 0.95) -> str:
    parts = []
    for outcome, rows in table.groupby("outcome", sort=False):
        naive = rows[rows["estimator"].str.startswith("naive")]
        adjusted = rows[~rows["estimator"].str.startswith("naive")]
        if naive.empty or adjusted.empty:
            continue
        relative = bool(naive["relative"].notna().all())
        col = "relative" if relative else "estimate"
        # the first adjusted row is the one whose assumption holds best: for usage the per-seat DiD
        # (parallel trends of each account against itself), not the propensity-weighted one, whose weights
        # compare adopters with never-adopters; for retention the sequential trials
        n, a = naive.iloc[0], adjusted.iloc[0]
        low, high = (a["relative_low"], a["relative_high"]) if relative else (a["low"], a["high"])
        if any(is_missing(v) for v in (n[col], a[col], low, high)):
            continue

        def show(v: float) -> str:
            return pct(v, 0, signed=True) if relative else points(v, 1, signed=True)

        bounds = (interval(low, high, "pct", 0, confidence=confidence) if relative
                  else interval(low, high, "points", decimals_for(low, high, "points"), confidence=confidence))
        parts.append(f"on {outcome}, the naive comparison says {show(n[col])} but the {a['estimator']} estimate is "
                     f"{show(a[col])} ({bounds})")
    if not parts:
        return ""
    return ("Users are not a random group: " + "; ".join(parts) + ". The adjusted estimates remove the measured "
            "differences only; anything unmeasured that drives both adoption and the outcome still biases them, in "
            "a direction the data cannot tell.")


def uplift_sentence(u: Mapping, confidence: float = 0.95) -> str:
    ev = u["evaluation"].set_index("model")
    chosen = u["chosen"]
    qi = u["qini_interval"]
    top = u["top_k"]
    lo, hi = qi.get("ci_lower"), qi.get("ci_upper")
    known = not (is_missing(lo) or is_missing(hi))
    ci = (f" ({interval(lo, hi, 'number', 3, confidence=confidence)}; 0 = no better than random)" if known
          else " (its bootstrap interval could not be computed on this sample)")
    text = (f"{chosen} was chosen (highest Qini on one random half of the held-out predictions). On the other half "
            f"its Qini coefficient is {number(ev.loc[chosen, 'qini'], 3)}{ci} and its AUUC "
            f"{number(ev.loc[chosen, 'auuc'], 2)}.")
    if len(top):
        first = top.iloc[0]
        row = {"estimate": first["uplift"], "low": first["low"], "high": first["high"],
               "unit": u.get("unit", "points" if u.get("binary", True) else "number"), "unit_label": u.get("unit_label", "")}
        text += (f" Among the top {pct(first['share_targeted'], 0)} by predicted uplift the observed uplift is "
                 f"{effect_text(row, signed=True)} ({effect_interval(row, confidence)}).")
    if not known or lo <= 0:
        text += (" The ranking's advantage over random targeting is not detectable at this sample size: use the "
                 "segment table, not individual scores, to decide whom to prioritise.")
    return text


def segment_sentence(segments: pd.DataFrame, unit: Mapping, confidence: float = 0.95) -> str:
    """The segment with the largest effect and which segments survive Holm; ``unit`` carries the
    outcome's unit and unit_label."""
    if segments.empty:
        return "Too few accounts per segment to compare."
    sig = segments[segments["p_holm"] < 0.05]
    best = segments.loc[segments["effect"].idxmax()]
    row = {"estimate": best["effect"], "low": best["low"], "high": best["high"], "unit": unit.get("unit", "points"),
           "unit_label": unit.get("unit_label", "")}
    text = (f"The largest effect is in {best['segment']} ({effect_text(row, signed=True)}, "
            f"{effect_interval(row, confidence)}).")
    if len(sig):
        text += (" Detectable after Holm correction for testing "
                 f"{len(segments)} segments: {', '.join(sig['segment'])}.")
    else:
        text += f" No segment's effect is detectable after Holm correction for testing {len(segments)} segments."
    return text


def targeting_sentence(table: pd.DataFrame, cost: float, confidence: float = 0.95,
                       horizon_days: int | None = None) -> str:
    """What treating everyone, and the one policy chosen on the selection half, are worth on the
    evaluation half (``compute_uplift.targeting_on_halves``), and the ARR horizon the values assume.
    The best of the table's rows is never quoted: it is the luckiest of ~15 noisy estimates."""
    if table is None or table.empty:
        return ""
    everyone = table[(table["policy"] == "random k%") & (table["share_treated"] == 1.0)]
    text = ""
    if len(everyone):
        e = everyone.iloc[0]
        keeps = (f"keep {money(e['incremental_arr'])} more ARR" if e["incremental_arr"] >= 0
                 else f"keep {money(-e['incremental_arr'])} less ARR (the estimate is a loss)")
        text += (f"Treating everyone ({plural(int(e['accounts_treated']), 'account')} at {money(cost)} each) is "
                 f"expected to {keeps} "
                 f"({interval(e['incremental_arr_low'], e['incremental_arr_high'], 'money', confidence=confidence)}) "
                 f"for {money(e['cost'])}. ")
    chosen = table[table["chosen"].astype(bool)] if "chosen" in table else table.iloc[0:0]
    if len(chosen):
        c = chosen.iloc[0]
        how = ("treating everyone" if c["share_treated"] >= 1 else
               f"treating the {c['policy'].replace('k%', pct(c['share_treated'], 0))}")
        text += (f"The policy with the best net value on one half of the held-out accounts is {how}; on the other "
                 f"half, which played no part in choosing it, its net value is {money(c['net_value'])} "
                 f"({interval(c['net_value_low'], c['net_value_high'], 'money', confidence=confidence)}).")
        if c["net_value_low"] <= 0:
            text += " Its interval includes a loss, so treat it as a lead to test, not a settled rule."
    else:
        text += "No policy could be compared on both halves of the held-out accounts, so none is recommended."
    horizon = f"the {horizon_days}-day horizon" if horizon_days else "the experiment's horizon"
    return text + (f" Values count one year of ARR (12 times MRR at assignment) for each extra account still paying at "
                   f"{horizon}, as if it then pays for a full year: churn after the horizon and revenue after that "
                   "year are not counted.")


def power_sentence(row: Mapping, power: float = 0.8) -> str:
    which = versus(row)
    where = f" ({which})" if which else ""
    k = int(row.get("comparisons", 1) or 1)
    level = f" at the {k}-comparison significance level" if k > 1 else ""
    return (f"With {int(row['n_treated']):,} treated and {int(row['n_control']):,} control accounts{where}, the smallest "
            f"effect on {row['outcome_label']} this sample detects with {pct(power, 0)} power{level} is "
            f"{effect_text(row, row['mde'])}; its power for an effect the size of the estimate ({effect_text(row)}) is "
            f"{pct(row['power_at_observed'], 0)} (power for the observed effect only restates the p-value; the MDE is "
            "the number to plan with).")


def arms_sentence(arm_outcomes: pd.DataFrame, outcome: str, confidence: float = 0.95, randomized: bool = True) -> str:
    """Each arm's own value of one outcome: 'Visit rate within 30 days by arm: no_email 10.2% (95% CI
    8.1–12.7%), email_a 18.3% (…), email_b 15.1% (…).'"""
    rows = arm_outcomes[arm_outcomes["outcome"] == outcome] if len(arm_outcomes) else arm_outcomes
    if rows.empty:
        return ""
    label = rows["outcome_label"].iloc[0]
    parts = [f"{r['arm']} {arm_value(r, confidence)}" for _, r in rows.iterrows()]
    observed = "" if randomized else " (as observed, before any adjustment)"
    return f"{label[0].upper()}{label[1:]} by arm{observed}: " + ", ".join(parts) + "."


def qbr_summary(r: Readout) -> str:
    """One page a CSM can paste into a quarterly business review (markdown)."""
    s, f = r.settings, r.frame
    name = display_name(s)
    arms = ", ".join(f"{a} {n:,}" for a, n in f["arm"].value_counts().items())
    design = "a randomised experiment" if s.randomized else "an observational comparison (not randomised)"
    first, last = day(f["recorded_assigned_at"].min()), day(f["recorded_assigned_at"].max())
    assigned = f"on {first}" if first == last else f"{first} to {last}"
    compared = (f" Each of {len(r.arms)} treatment arms ({', '.join(r.arms)}) is compared with {s.control_arm}."
                if s.randomized and len(r.arms) > 1 else "")
    lines = [f"**What was tested.** {name} (`{s.experiment_id}`), {design}: {arms} accounts, assigned "
             f"{assigned}; status: {r.status}. "
             f"Outcomes measured {s.horizon_days} days after assignment, as of {day(r.as_of)}.{compared}"]
    if r.effects.empty:
        lines.append("**Result.** " + maturity_note(r))
        if s.randomized and r.srm:
            lines.append("**Can we trust it so far?** " + srm_sentence(r.srm))
        return "\n\n".join(lines)
    prim = r.effects[r.effects["primary"]]
    main = prim[prim["outcome"] == s.primary]
    unmeasured = r.primary_unmeasured()
    if len(main):
        said = [effect_sentence(row, name, r.alpha, r.power, s.randomized) for _, row in main.iterrows()]
        lines.append("**Result.** " + " ".join(said) + " "
                     + arms_sentence(r.arm_outcomes, s.primary, 1 - r.alpha, s.randomized))
    elif unmeasured is not None:
        lines.append("**Result.** " + unmeasured_sentence(unmeasured, s.control_arm, r.as_of))
    others = [effect_sentence(row, name, r.alpha, r.power, s.randomized) for _, row in prim.iterrows()
              if row["outcome"] != s.primary]
    others += [unmeasured_sentence(u, s.control_arm, r.as_of) for _, u in r.unmeasured.iterrows()
               if unmeasured is None or u["outcome"] != s.primary or not pd.isna(u["arm"])]
    if others:
        lines.append("**Other outcomes.** " + " ".join(others))
    if s.randomized:
        trust = srm_sentence(r.srm)
        if r.compliance["exposure_known"].sum() == 0:
            trust += " Exposure was not recorded, so this reads the effect of assignment (intention to treat) only."
        lines.append("**Can we trust it?** " + trust)
    else:
        lines.append("**Can we trust it?** Users chose to adopt, so this is not a controlled experiment. "
                     + observational_sentence(r.observational if r.observational is not None else pd.DataFrame(
                         columns=["outcome", "estimator"]), 1 - r.alpha)
                     + (" " + sensitivity_sentence(r).replace("**Sensitivity.** ", "") if r.trials else ""))
    main_row = r.primary_effect()
    if len(r.segments) and main_row is not None:
        lines.append("**Who benefits.** " + segment_sentence(r.segments, main_row, 1 - r.alpha))
    if r.targeting is not None and len(r.targeting):
        lines.append("**What it is worth.** " + targeting_sentence(r.targeting, s.cost_per_treated_account,
                                                                   1 - r.alpha, s.horizon_days))
    return "\n\n".join(lines)


def no_estimate_clause(r: Readout) -> str:
    """Why an experiment has no estimate of its primary outcome, as a clause of the headline."""
    s, f = r.settings, r.frame
    arms = f["arm"].value_counts()
    if s.control_arm not in arms:
        return f"not estimable, no account in the control arm ({s.control_arm})"
    if not r.arms:
        return "not estimable, no account in a treatment arm"
    u = r.primary_unmeasured()
    if u is not None and u["reason"] != "not observed yet":
        return unmeasured_sentence(u, s.control_arm, r.as_of, capital=False).split(". ")[0].rstrip(".")
    h = s.outcome(s.primary).horizon_days
    first = f["recorded_assigned_at"].min() + pd.Timedelta(days=h)
    if first > r.as_of:
        return f"too early to read, the {h}-day outcomes become observable from {day(first)}"
    return f"too few accounts past the {h}-day horizon by {day(r.as_of)} to read"


def maturity_note(r: Readout) -> str:
    """Why there is no estimate: outcomes not observable by the report date, outcomes that cannot be
    measured, or no comparison."""
    f, h = r.frame, r.settings.horizon_days
    if f.empty or f["treated"].nunique() < 2:
        return "Not estimable: " + " ".join(r.notes)
    mature = int(f["mature"].sum())
    if len(r.unmeasured) and not (r.unmeasured["reason"] == "not observed yet").all():
        return " ".join(unmeasured_sentence(u, r.settings.control_arm, r.as_of) for _, u in r.unmeasured.iterrows())
    first = day(f["recorded_assigned_at"].min() + pd.Timedelta(days=h))
    last = day(f["recorded_assigned_at"].max() + pd.Timedelta(days=h))
    if mature == 0:
        return (f"Too early to read: the {h}-day outcomes become observable from {first} (all by {last}); until "
                "then this section shows the design checks and churn so far.")
    return (f"Too few outcomes observed yet ({mature:,} of {len(f):,} accounts past the {h}-day horizon; all by "
            f"{last}).")


def method_notes(r: Readout) -> str:
    """How censoring, leakage, multiple comparisons and selection bias are handled (markdown)."""
    s = r.settings
    k = len(r.comparisons)
    notes = [
        f"- **Censoring**: outcomes at {s.horizon_days} days use only accounts assigned at least {s.horizon_days} days "
        f"before {day(r.as_of)} (an event outcome: at least its own horizon); survival curves keep every account and "
        "censor those still paying at that date.",
        "- **Churn** is the project's one definition (`csresearch.core.revenue.paying_spells`: MRR to zero across a month "
        "end, with the reactivation window in the conventions box). Usage is counted per paying day and expansion "
        "is floored at zero, so a churn is counted once, in retention, not again as lost usage or MRR.",
        "- **Leakage**: covariates and CUPED use only data from before each account's assignment; uplift models are "
        "cross-fitted (every prediction from a model that never saw the account), the model is chosen on one half "
        "of those predictions and judged on the other.",
        (f"- **Multiple comparisons**: {k} comparisons with {s.control_arm}; each p-value is Holm-adjusted across "
         "them (`p_holm`), a direction is claimed only when the adjusted p-value is below the significance level, and "
         f"the minimum detectable effect is stated at the {k}-comparison (Bonferroni) level. " if k > 1 else
         "- **Multiple comparisons**: one comparison with the control per outcome (`p_holm` equals the p-value). ")
        + f"The primary outcome ({s.outcome(s.primary).label}) is the one the headline reports; the others are "
        "secondary, and p-values of effects by segment are Holm-adjusted across segments.",
    ]
    if s.randomized and r.compliance["exposure_known"].sum() == 0:
        notes.append("- **Selection**: assignment was random. Exposure was not recorded, so every estimate is "
                     "intention to treat: the effect of being assigned, whether or not the account was reached.")
    elif s.randomized:
        notes.append("- **Selection**: assignment was random; partial exposure is handled by reporting intention to "
                     "treat and the effect on the exposed (assignment as instrument; assumes assignment changes the "
                     "outcome only through exposure).")
    else:
        notes.append("- **Selection bias and immortal time**: users chose to adopt, and an account counts as a "
                     "never-user only if it never adopted, a status the future decides. Retention is therefore read "
                     "from a sequence of monthly trials: each month's adopters against the accounts paying on the "
                     "same dates that had not adopted yet (a later adopter is a control until it adopts, then "
                     "censored, with censoring weights), covariates measured on each index date, non-adopters "
                     "weighted by their odds of adopting that month; the interval is a cluster bootstrap over "
                     "accounts with the weights held as fitted. The adjustment covers measured usage, seats, MRR, "
                     "tenure, tickets, NPS and account attributes only: see the sensitivity statement (E-value). The "
                     "usage comparison is a difference-in-differences of events per "
                     + ("seat" if r.observational is None or not len(r.observational) else _usage_unit(r))
                     + ", with non-users given index dates drawn from the users' adoption dates.")
    return "\n".join(notes)


# the paragraph under each heading of an experiment's section: what the next chart or table answers
EXPLAIN = {
    "design": ("Before reading any effect, check the experiment is what we think it is. **Sample-ratio mismatch**: "
               "if the arms are not the sizes the design intended, assignment or tracking is broken and no estimate "
               "can be trusted. **Balance**: the chart compares the arms before treatment on usage, MRR, tenure, "
               "tickets and account attributes (dots inside the dashed lines are alike). **Exposure**: who in each "
               "arm actually received the intervention."),
    "effects": ("Each dot is an estimate of the difference the intervention made (treated minus control), with its "
                "95% interval. A bar crossing zero means the data cannot tell the effect from zero at this sample "
                "size. Intention to treat answers 'what does assigning the programme achieve'; CUPED is the same "
                "question answered more precisely; the effect on the exposed answers 'what does it do for accounts "
                "it actually reached'."),
    "effects_observational": (
        "Each dot is an estimate of the difference between users and non-users (users minus non-users), with its "
        "95% interval. The naive comparison takes the groups as they are (never-users include accounts that churned "
        "before they could adopt, so it flatters the feature). For retention, the sequential-trial estimate compares "
        "each month's adopters with accounts paying on the same dates that had not adopted yet, weighted to look "
        "like the adopters on everything measured that day; it is the one used in the summary. Other outcomes are "
        "read by inverse-propensity weighting and the doubly robust estimate."),
    "arms": ("Each arm on its own: the share of accounts with the outcome, or its mean per account, with its 95% "
             "interval. The differences above are these levels minus the control's."),
    "survival": ("The share of accounts still paying, day by day after assignment, per arm. A gap that opens and "
                 "stays open is retained revenue; the numbers under the chart are the accounts still being followed."),
    "observational": ("Users of a feature are not a random group: engaged accounts adopt more and churn less anyway, "
                      "so comparing users with non-users overstates the feature's value. The table sets the naive "
                      "comparison beside estimates that adjust for it, each with the assumption it needs."),
    "event_study": ("Usage of users minus non-users, each period compared with the period just before adoption. "
                    "Before adoption (grey) the points should sit around zero: if they trend, users were already "
                    "diverging and the difference-in-differences after adoption (blue) is suspect."),
    "uplift": ("Does the effect differ between accounts, and can a model find the accounts that benefit most? "
               "Several causal machine-learning models predict each account's uplift; each prediction comes from a "
               "model that never saw that account. The Qini curve counts the extra retained accounts as we target "
               "more accounts in the model's order: above the dashed random line means the ranking helps."),
    "segments": ("The observed effect within each segment (treated minus control inside the segment), with 95% "
                 "intervals and p-values corrected for testing several segments."),
    "targeting": ("If we roll the programme out to part of the base, whom should we treat? Net value is the retained "
                  "ARR the programme adds minus its cost, measured on held-out accounts, for three policies: the "
                  "accounts the model expects to gain most, the accounts most likely to churn, or a random share "
                  "(the same per account as treating everyone). The held-out accounts are split in two: the policy "
                  "and share are chosen on one half and valued on the other, so the value quoted is not the luckiest "
                  "of many noisy rows."),
    "power": ("How big an effect could this experiment have seen? The curve is the chance of detecting a true effect "
              "of each size with this many accounts; the minimum detectable effect is where it crosses 80%."),
}


def configured_note(s: ExperimentSettings) -> str:
    return "" if s.configured else " · *no settings in params/04_uplift_experiments.yml: defaults used*"


def section_title(r: Readout) -> str:
    """The heading of one experiment's section: its name, id, design and status."""
    s = r.settings
    design = "randomised" if s.randomized else "not randomised"
    if s.randomized and len(r.arms) > 1:
        design += f", {len(r.arms) + 1} arms"
    return f"## {display_name(s)}\n`{s.experiment_id}` · {design} · {r.status}{configured_note(s)}"


def interim_survival_note(r: Readout) -> str:
    s, survival = r.settings, r.survival
    if not survival:
        return ""
    return (survival_sentence(survival, s, 1 - r.alpha) + f" These are interim curves, read at the "
            f"{number(survival['horizon_days'], 0)} days of follow-up so far: the {s.horizon_days}-day outcome window is "
            "still open. Stopping or deciding on an interim look raises the chance of a false positive: decide at "
            "the planned horizon.")


NO_UPLIFT_FOR_ADOPTION = ("Heterogeneous-effect models and targeting need a randomised comparison: on self-selected "
                          "users their rankings would mostly rank engagement, so they are not shown for this study.")


def chart_titles(r: Readout) -> dict[str, str]:
    """The title of each chart of one experiment's section."""
    name = display_name(r.settings)
    titles = {
        "balance": f"Were the arms alike before treatment? ({name})",
        "survival": f"Still paying after assignment, by arm ({name})",
        "effects": f"What {name} changed, per outcome (95% intervals)",
        "observational": f"Users vs non-users of {name}: naive and adjusted",
        "event_study": f"Usage of users minus non-users around adoption ({name})",
        "qini": f"Qini curves on the evaluation half ({name})",
        "segments": f"Effect of {name} by segment",
        "targeting": f"Net value of {name} by share treated and policy",
    }
    if r.uplift:
        titles["top_k"] = f"Observed uplift among the top k% by {r.uplift['chosen']} prediction"
    main = r.primary_effect()
    if main is not None:
        which = versus(main)
        titles["power"] = f"Power to detect an effect on {main['outcome_label']} ({name}{', ' + which if which else ''})"
    return titles


# ==================================================================================================
# The report: headline, experiments in the data, conventions, KPIs
# ==================================================================================================
def _clause(r: Readout) -> str:
    """One experiment's clause of the headline: its primary outcome, each comparison with the control."""
    name = display_name(r.settings)
    rows = r.primary_effects()
    if rows.empty:
        return f"{name}: {no_estimate_clause(r)}"
    level = 1 - r.alpha
    if not r.settings.randomized:
        row = rows.iloc[0]
        who = "accounts not yet adopting" if str(row["estimator"]).startswith("sequential trials") else "non-users"
        if is_detected(row, r.alpha):
            # the size without its sign: the direction is the word after it ("-57 pt lower" said it twice)
            return (f"{name} adopters had {row['outcome_label']} {effect_text(row, abs(row['estimate']))} "
                    f"{'higher' if row['estimate'] > 0 else 'lower'} than comparable {who} "
                    f"({effect_interval(row, level)}; not randomised{_e_value_clause(r)})")
        return (f"{name}: no detectable difference in {row['outcome_label']} between adopters and comparable {who} "
                "at this sample size")
    parts = []
    for _, row in rows.iterrows():
        who = f"{row['arm']} vs {row['control_arm']}" if versus(row) else name
        if is_detected(row, r.alpha):
            parts.append(f"{who} {'raised' if row['estimate'] > 0 else 'lowered'} {row['outcome_label']} by "
                         f"{effect_text(row, abs(row['estimate']))} ({effect_interval(row, level)})")
        else:
            parts.append(f"{who}: no detectable effect on {row['outcome_label']} at this sample size "
                         f"(MDE {effect_text(row, row['mde'])})")
    if len(rows) == 1 and not versus(rows.iloc[0]):
        return parts[0]
    return f"{name}: " + ", ".join(parts) + f" (Holm-adjusted across {len(rows)} comparisons)"


def headline(result: Result) -> str:
    """The report's first sentence: one clause per experiment, about its primary outcome."""
    readouts, when = result.readouts, month_label(result.month)
    if not result.has_experiments:
        return f"No experiments table in the data: no experiment to read out for {when}."
    if not readouts:
        return f"No experiment was running or recently ended in {when}: nothing to read out."
    parts = [_clause(r) for r in readouts]
    srm = [display_name(r.settings) for r in readouts if r.srm.get("flagged")]
    tail = f" Sample-ratio mismatch in {', '.join(srm)}: check assignment first." if srm else ""
    return f"{plural(len(readouts), 'experiment')} read out for {when}: " + "; ".join(parts) + "." + tail


def windows_sentence(result: Result) -> str:
    if not result.has_experiments:
        return ("No `experiments` table in the data: there is nothing to read out. Add one (experiment_id, "
                "account_id, arm, assigned_at, exposed) to get this report.")
    unconfigured = [r.experiment_id for r in result.readouts if not r.settings.configured]
    text = f"{plural(len(result.windows), 'experiment')} in the data; {len(result.readouts)} read out below."
    if unconfigured:
        text += (f" No settings for {', '.join(unconfigured)} in params/04_uplift_experiments.yml: read with the "
                 "`experiment_defaults` (check the control arm, outcomes and horizon).")
    return text


def conventions(result: Result) -> tuple[dict, dict]:
    """The conventions box: values and what each means."""
    values = {
        "reactivation_window_days": result.reactivation_window_days,
        "experiment_id": result.experiment_id or "every experiment running or recently ended",
        "ended_within_months": result.ended_within_months,
        "confidence": result.confidence,
        "power": result.power,
        "srm_alpha": result.srm_alpha,
    }
    notes = {
        "reactivation_window_days": "a zero-MRR gap shorter than this is not a churn (csresearch.core.revenue.paying_spells)",
        "experiment_id": "which experiments this report reads out",
        "ended_within_months": ("experiments whose outcome window closed within this many months before the report "
                                "month are read"),
        "confidence": "interval level; 1 - confidence is the significance level",
        "power": "power at which the minimum detectable effect is stated",
        "srm_alpha": "a sample-ratio mismatch is flagged below this chi-square p-value",
    }
    return values, notes


def kpis(result: Result) -> list[Kpi]:
    """The primary estimate of each comparison of each experiment read, with its interval."""
    out = []
    for r in result.readouts:
        kind = "" if r.settings.randomized else " (not randomised, adjusted)"
        for _, row in r.primary_effects().iterrows():
            which = versus(row)
            name = f"{display_name(r.settings)}: {row['outcome_label']}{kind}" + (f" ({which})" if which else "")
            shown = f"{effect_text(row, signed=True)} ({effect_interval(row, 1 - r.alpha)})"
            out.append(kpi(name, float(row["estimate"]), shown, low=float(row["low"]), high=float(row["high"]),
                           experiment_id=r.experiment_id, arm=str(row["arm"]), outcome=str(row["outcome"])))
    return out
