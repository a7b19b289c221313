"""Sentences of the sections of one experiment's readout, read from its numbers: design checks
(sample ratio, balance, exposure), churn over time, CUPED, parallel trends, the E-value, naive vs
adjusted, uplift models, segments, targeting, power and each arm's own outcome.

Every sentence is a catalog entry with named fields (a variant, such as higher or lower, is its own
sentence); :mod:`.words` assembles them into the report.
"""

from __future__ import annotations

from typing import Mapping

import pandas as pd

from ...i18n import N_, _, join_sentences, ngettext
from ...text import interval, money, number, p_value, pct, points
from .compute_readout import Readout
from .settings import ExperimentSettings
from .words_effects import arm_value, decimals_for, effect_interval, effect_text, is_missing, paren, versus
from .words_terms import covariate, term


def listing(items) -> str:
    """Items one after the other: 'a, b, c' (ja: a、b、c)."""
    # TRANSLATORS: the separator of a list of items
    return _(", ").join(str(i) for i in items)


def clauses(items) -> str:
    """Clauses of one sentence one after the other: 'a; b' (ja: a。b)."""
    # TRANSLATORS: the separator of clauses of one sentence
    return _("; ").join(str(i) for i in items)


def arm_counts(arms, counts) -> str:
    return listing(_("{arm} {n}").format(arm=a, n=f"{int(n):,}") for a, n in zip(arms, counts))


def srm_sentence(srm: Mapping) -> str:
    if not srm:
        return _("Not randomised: no sample-ratio check applies (arms chose themselves).")
    counts = arm_counts(srm["arms"], srm["observed"])
    shares = "/".join(pct(s, 0) for s in srm["expected_share"])
    planned = bool(srm.get("planned"))
    plan = (_("the planned {shares} split") if planned else _("an equal {shares} split")).format(shares=shares)
    assumed = "" if planned else _("no split planned in expected_split, so equal assumed; ")
    if srm.get("unplanned"):
        extra = listing(_("{arm} ({n})").format(arm=a, n=f"{n:,}") for a, n in zip(srm["unplanned"], srm["unplanned_counts"]))
        return _("**Sample-ratio mismatch**: accounts were assigned to arms the plan does not have: {arms}. Assignment or "
                 "logging is broken somewhere (or expected_split is out of date); treat every estimate below as suspect "
                 "until the cause is found.").format(arms=extra)
    if is_missing(srm.get("p_value")):
        return _("Arm sizes: {counts}; no sample-ratio test is possible against {plan}.").format(counts=counts, plan=plan)
    values = {"counts": counts, "plan": plan, "assumed": assumed, "p": p_value(srm["p_value"]),
              "alpha": f"{srm['alpha']:g}"}
    if srm["flagged"]:
        return _("**Sample-ratio mismatch**: {counts} is not {plan} ({assumed}chi-square {p}, below {alpha}). "
                 "Assignment or logging is broken somewhere; treat every estimate below as suspect until the cause is "
                 "found.").format(**values)
    return _("Arm sizes ({counts}) match {plan} ({assumed}chi-square {p}; flagged below {alpha}).").format(**values)


def balance_sentence(balance: pd.DataFrame, weighted: pd.DataFrame | None = None, randomized: bool = True) -> str:
    if balance.empty:
        return _("No covariates to compare.")
    several = "arm" in balance and balance["arm"].nunique() > 1
    n, bad = len(balance), int(balance["imbalanced"].sum())
    worst = balance.loc[balance["smd"].abs().idxmax()]
    values = {"bad": bad, "n": n, "covariate": covariate(worst["covariate"]), "arm": worst.get("arm", ""),
              "smd": number(worst["smd"], 2, signed=True)}
    text = (_("{bad} of {n} covariate-level comparisons differ by more than 0.1 standard deviations between a "
              "treatment arm and the control (largest: {covariate}, {arm}, SMD {smd}).") if several else
            _("{bad} of {n} covariate levels differ by more than 0.1 standard deviations between arms (largest: "
              "{covariate}, SMD {smd}).")).format(**values)
    if randomized:
        return join_sentences(text, _("With random assignment such gaps are chance; CUPED below adjusts for the "
                                      "pre-period ones.") if bad else
                              _("The arms look alike before treatment, as randomisation should make them."))
    if weighted is not None:
        wbad = int(weighted["imbalanced"].sum())
        return join_sentences(text, _("Users differ from non-users before adopting, which is why the naive comparison "
                                      "is biased."),
                              _("After propensity weighting {bad} of {n} still differ by more than 0.1.").format(
                                  bad=wbad, n=len(weighted)))
    return text


def compliance_sentence(compliance: pd.DataFrame, settings: ExperimentSettings) -> str:
    if compliance.empty or compliance["exposure_known"].sum() == 0:
        return _("Exposure was not recorded (no `exposed` values): the report estimates the effect of being assigned "
                 "(intention to treat) only, not the effect on accounts actually reached.")
    known = compliance[compliance["exposure_known"] > 0]
    parts = [_("{arm}: {share} exposed").format(arm=r.arm, share=pct(r.share_exposed, 0)) for r in known.itertuples()]
    unknown = [str(a) for a in compliance.loc[compliance["exposure_known"] == 0, "arm"]]
    if unknown:
        parts.append(_("exposure not recorded for {arms}").format(arms=listing(unknown)))
    treated = known[known["arm"] != settings.control_arm]["share_exposed"]
    if settings.randomized and len(treated) and treated.min() < 0.98:
        return _("{parts}. Exposure is partial, so the intention-to-treat effect (what assigning the programme achieves) "
                 "is smaller than the effect on accounts actually reached; the latter is estimated with the assignment "
                 "as an instrument.").format(parts=clauses(parts))
    return _("{parts}.").format(parts=clauses(parts))


def _still_paying(at_h: Mapping) -> str:
    shares = [_("{share} of {arm}").format(share=pct(v), arm=a) for a, v in at_h.items()]
    if len(shares) == 1:
        return shares[0]
    # TRANSLATORS: the last item of a list: "85.0% of treatment and 80.0% of control"
    return _("{items} and {last}").format(items=listing(shares[:-1]), last=shares[-1])


def survival_sentence(result: Mapping, settings: ExperimentSettings, confidence: float = 0.95) -> str:
    """Still paying at the horizon per arm, then each treatment arm's hazard ratio and RMST difference."""
    h = int(result.get("horizon_days", settings.horizon_days))
    at_h, control = result["survival_at_horizon"], result["control"]
    first = list(at_h)[0]
    values = {"h": h, "shares": _still_paying(at_h), "first": first}
    said = [(_("After {h} days {shares} accounts (reweighted to look like {first} accounts) were still paying "
               "(Kaplan-Meier).") if result.get("weighted") else
             _("After {h} days {shares} accounts were still paying (Kaplan-Meier).")).format(**values)]
    for c in result["contrasts"]:
        arm, rm = c["arm"], c["rmst_difference"]
        hr = {"arm": arm, "control": control, "hr": number(c["hazard_ratio"], 2)}
        if is_missing(c["hazard_ratio"]):
            hazard = _("{arm} vs {control}: one of the two arms had no churn, so no hazard ratio can be estimated")
        else:
            hr["ci"] = interval(c["hazard_ratio_low"], c["hazard_ratio_high"], "number", 2, confidence=confidence)
            hazard = (_("The churn hazard of {arm} accounts was {hr} times the {control} arm's ({ci}, Cox)")
                      if c["hazard_ratio_low"] > 1 or c["hazard_ratio_high"] < 1 else
                      _("{arm} vs {control}: no detectable difference in churn hazard (hazard ratio {hr}, {ci}, Cox)"))
        d = decimals_for(rm.low, rm.high, "number")
        rmst = _("over the {h} days an account in {arm} paid for {days} days more on average (restricted mean survival "
                 "time, {ci})").format(h=h, arm=arm, days=number(rm.estimate, d, signed=True),
                                       ci=interval(rm.low, rm.high, "number", d, confidence=confidence,
                                                   unit=_("days")))
        said.append(_("{hazard}; {rmst}.").format(hazard=hazard.format(**hr), rmst=rmst))
    return join_sentences(*said)


def cuped_sentence(effects: pd.DataFrame) -> str:
    rows = effects[effects["estimator"].str.startswith("CUPED")]
    if rows.empty:
        return ""
    parts = []
    for label, part in rows.groupby("outcome_label", sort=False):
        low, high = part["variance_reduction"].min(), part["variance_reduction"].max()
        parts.append(_("{label} {low}").format(label=label, low=pct(low, 0)) if round(low, 2) == round(high, 2)
                     else _("{label} {low} to {high} across arms").format(label=label, low=pct(low, 0),
                                                                           high=pct(high, 0)))
    return _("CUPED subtracts the part of each outcome predicted by pre-assignment usage, MRR and tenure, which narrows "
             "the interval without biasing it; variance of the estimate reduced by: {parts}.").format(
        parts=clauses(parts))


def pretrend_sentence(pretrend: Mapping | None) -> str:
    if not pretrend or not pretrend.get("periods") or is_missing(pretrend.get("p_value")):
        return _("Not enough pre-period data to check parallel trends.")
    p = pretrend["p_value"]
    values = {"df": pretrend["df"], "p": p_value(p)}
    if p < 0.05:
        return _("Warning: before adopting, users' usage already moved differently from non-users' (joint test of the "
                 "{df} pre-period coefficients, {p}); the difference-in-differences estimate may be biased.").format(
            **values)
    return _("Before adopting, users' and non-users' usage moved in parallel (joint test of the {df} pre-period "
             "coefficients, {p}): consistent with, though not proof of, the parallel-trends assumption.").format(**values)


def e_value_clause(r: Readout) -> str:
    te = r.trials
    if te is None or is_missing(te.e_value):
        return ""
    return _("; an unmeasured confounder would need a risk ratio of {e_value} with both adoption and churn to explain "
             "it away").format(e_value=number(te.e_value, 1))


def sensitivity_sentence(r: Readout, heading: bool = True) -> str:
    """The E-value statement of a non-randomised retention estimate (VanderWeele & Ding 2017)."""
    te = r.trials
    if te is None or any(is_missing(v) for v in (te.risk_ratio, te.risk_ratio_low, te.risk_ratio_high, te.e_value)):
        return ""
    level = 1 - r.alpha
    first = _("Adopters' chance of churning within {h} days is {rr} times that of comparable accounts not adopting yet "
              "({ci}).").format(h=te.horizon_days, rr=number(te.risk_ratio, 2),
                                ci=interval(te.risk_ratio_low, te.risk_ratio_high, "number", 2, confidence=level))
    values = {"e_value": number(te.e_value, 2), "e_interval": number(te.e_value_interval, 2)}
    second = (_("An unmeasured confounder would need a risk ratio of {e_value} with both adoption and churn, beyond the "
                "measured covariates, to explain this difference away (E-value, VanderWeele & Ding 2017); the "
                "interval already includes no difference.") if te.e_value_interval <= 1 else
              _("An unmeasured confounder would need a risk ratio of {e_value} with both adoption and churn, beyond the "
                "measured covariates, to explain this difference away (E-value, VanderWeele & Ding 2017), and "
                "{e_interval} to move its interval to include no difference.")).format(**values)
    third = _("Such a confounder could push the estimate up or down: the data cannot tell which, so this is neither an "
              "upper nor a lower bound.")
    return join_sentences(_("**Sensitivity.**") if heading else "", first, second, third)


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
        parts.append(_("on {outcome}, the naive comparison says {naive} but the {estimator} estimate is {adjusted} "
                       "({ci})").format(outcome=term(outcome), naive=show(n[col]), estimator=term(a["estimator"]),
                                        adjusted=show(a[col]), ci=bounds))
    if not parts:
        return ""
    return join_sentences(_("Users are not a random group: {parts}.").format(parts=clauses(parts)), _(
        "The adjusted estimates remove the measured differences only; anything unmeasured that drives both adoption "
        "and the outcome still biases them, in a direction the data cannot tell."))


def uplift_sentence(u: Mapping, confidence: float = 0.95) -> str:
    ev = u["evaluation"].set_index("model")
    chosen = u["chosen"]
    qi = u["qini_interval"]
    top = u["top_k"]
    lo, hi = qi.get("ci_lower"), qi.get("ci_upper")
    known = not (is_missing(lo) or is_missing(hi))
    values = {"model": term(chosen), "qini": number(ev.loc[chosen, "qini"], 3), "auuc": number(ev.loc[chosen, "auuc"], 2)}
    if known:
        values["ci"] = interval(lo, hi, "number", 3, confidence=confidence)
    said = [_("{model} was chosen (highest Qini on one random half of the held-out predictions)."
              ).format(**values),
            (_("On the other half its Qini coefficient is {qini} ({ci}; 0 = no better than random) and its AUUC {auuc}.")
             if known else
             _("On the other half its Qini coefficient is {qini} (its bootstrap interval could not be computed on this "
               "sample) and its AUUC {auuc}.")).format(**values)]
    if len(top):
        first = top.iloc[0]
        row = {"estimate": first["uplift"], "low": first["low"], "high": first["high"],
               "unit": u.get("unit", "points" if u.get("binary", True) else "number"), "unit_label": u.get("unit_label", "")}
        said.append(_("Among the top {share} by predicted uplift the observed uplift is {uplift} ({ci}).").format(
            share=pct(first["share_targeted"], 0), uplift=effect_text(row, signed=True),
            ci=effect_interval(row, confidence)))
    if not known or lo <= 0:
        said.append(_("The ranking's advantage over random targeting is not detectable at this sample size: use the "
                      "segment table, not individual scores, to decide whom to prioritise."))
    return join_sentences(*said)


def segment_sentence(segments: pd.DataFrame, unit: Mapping, confidence: float = 0.95) -> str:
    """The segment with the largest effect and which segments survive Holm; ``unit`` carries the
    outcome's unit and unit_label."""
    if segments.empty:
        return _("Too few accounts per segment to compare.")
    sig = segments[segments["p_holm"] < 0.05]
    best = segments.loc[segments["effect"].idxmax()]
    row = {"estimate": best["effect"], "low": best["low"], "high": best["high"], "unit": unit.get("unit", "points"),
           "unit_label": unit.get("unit_label", "")}
    text = _("The largest effect is in {segment} ({effect}, {ci}).").format(
        segment=best["segment"], effect=effect_text(row, signed=True), ci=effect_interval(row, confidence))
    k = len(segments)
    if len(sig):
        return join_sentences(text, ngettext("Detectable after Holm correction for testing {k} segment: {segments}.",
                                             "Detectable after Holm correction for testing {k} segments: {segments}.",
                                             k).format(k=k, segments=listing(sig["segment"])))
    return join_sentences(text, ngettext(
        "No segment's effect is detectable after Holm correction for testing {k} segment.",
        "No segment's effect is detectable after Holm correction for testing {k} segments.", k).format(k=k))


# how treating a share under each targeting policy is written ({share}: 20%)
_TREATING = {
    "top k% by predicted uplift": N_("treating the top {share} by predicted uplift"),
    "top k% by churn risk": N_("treating the top {share} by churn risk"),
    "random k%": N_("treating the random {share}"),
}


def targeting_sentence(table: pd.DataFrame, cost: float, confidence: float = 0.95,
                       horizon_days: int | None = None) -> str:
    """What treating everyone, and the one policy chosen on the selection half, are worth on the
    evaluation half (``compute_uplift.targeting_on_halves``), and the ARR horizon the values assume.
    The best of the table's rows is never quoted: it is the luckiest of ~15 noisy estimates."""
    if table is None or table.empty:
        return ""
    everyone = table[(table["policy"] == "random k%") & (table["share_treated"] == 1.0)]
    said = []
    if len(everyone):
        e = everyone.iloc[0]
        n = int(e["accounts_treated"])
        values = {"accounts": ngettext("{n} account", "{n} accounts", n).format(n=f"{n:,}"), "each": money(cost),
                  "ci": interval(e["incremental_arr_low"], e["incremental_arr_high"], "money", confidence=confidence),
                  "cost": money(e["cost"])}
        if e["incremental_arr"] >= 0:
            text = _("Treating everyone ({accounts} at {each} each) is expected to keep {arr} more ARR ({ci}) for "
                     "{cost}.").format(arr=money(e["incremental_arr"]), **values)
        else:
            text = _("Treating everyone ({accounts} at {each} each) is expected to keep {arr} less ARR (the estimate is "
                     "a loss) ({ci}) for {cost}.").format(arr=money(-e["incremental_arr"]), **values)
        said.append(text)
    chosen = table[table["chosen"].astype(bool)] if "chosen" in table else table.iloc[0:0]
    if len(chosen):
        c = chosen.iloc[0]
        share = pct(c["share_treated"], 0)
        if c["share_treated"] >= 1:
            how = _("treating everyone")
        elif c["policy"] in _TREATING:
            how = _(_TREATING[c["policy"]]).format(share=share)
        else:
            how = _("treating the {policy}").format(policy=str(c["policy"]).replace("k%", share))
        said.append(_("The policy with the best net value on one half of the held-out accounts is {how}; on the other "
                      "half, which played no part in choosing it, its net value is {value} ({ci}).").format(
            how=how, value=money(c["net_value"]),
            ci=interval(c["net_value_low"], c["net_value_high"], "money", confidence=confidence)))
        if c["net_value_low"] <= 0:
            said.append(_("Its interval includes a loss, so treat it as a lead to test, not a settled rule."))
    else:
        said.append(_("No policy could be compared on both halves of the held-out accounts, so none is recommended."))
    said.append(_("Values count one year of ARR (12 times MRR at assignment) for each extra account still paying at the "
                  "{h}-day horizon, as if it then pays for a full year: churn after the horizon and revenue after that "
                  "year are not counted.").format(h=horizon_days) if horizon_days else
                _("Values count one year of ARR (12 times MRR at assignment) for each extra account still paying at the "
                  "experiment's horizon, as if it then pays for a full year: churn after the horizon and revenue after "
                  "that year are not counted."))
    return join_sentences(*said)


def power_sentence(row: Mapping, power: float = 0.8) -> str:
    which = versus(row)
    k = int(row.get("comparisons", 1) or 1)
    values = {"treated": f"{int(row['n_treated']):,}", "control": f"{int(row['n_control']):,}",
              "where": paren(which) if which else "", "label": row["outcome_label"], "power": pct(power, 0), "k": k,
              "mde": effect_text(row, row["mde"]), "estimate": effect_text(row),
              "observed_power": pct(row["power_at_observed"], 0)}
    return (_("With {treated} treated and {control} control accounts{where}, the smallest effect on {label} this sample "
              "detects with {power} power at the {k}-comparison significance level is {mde}; its power for an effect "
              "the size of the estimate ({estimate}) is {observed_power} (power for the observed effect only restates "
              "the p-value; the MDE is the number to plan with).") if k > 1 else
            _("With {treated} treated and {control} control accounts{where}, the smallest effect on {label} this sample "
              "detects with {power} power is {mde}; its power for an effect the size of the estimate ({estimate}) is "
              "{observed_power} (power for the observed effect only restates the p-value; the MDE is the number to "
              "plan with).")).format(**values)


def arms_sentence(arm_outcomes: pd.DataFrame, outcome: str, confidence: float = 0.95, randomized: bool = True) -> str:
    """Each arm's own value of one outcome: 'Visit rate within 30 days by arm: no_email 10.2% (95% CI
    8.1–12.7%), email_a 18.3% (…), email_b 15.1% (…).'"""
    rows = arm_outcomes[arm_outcomes["outcome"] == outcome] if len(arm_outcomes) else arm_outcomes
    if rows.empty:
        return ""
    label = rows["outcome_label"].iloc[0]
    label = f"{label[0].upper()}{label[1:]}"
    parts = listing(_("{arm} {value}").format(arm=r["arm"], value=arm_value(r, confidence)) for _i, r in rows.iterrows())
    return (_("{label} by arm: {parts}.") if randomized else
            _("{label} by arm (as observed, before any adjustment): {parts}.")).format(label=label, parts=parts)
