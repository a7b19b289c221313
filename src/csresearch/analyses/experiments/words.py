"""Sentences of the experiments report, read from its result: the headline, one set per experiment
(the summary for a quarterly business review, design, effects, survival, adoption, heterogeneity,
targeting, power), the conventions box and the KPIs.

An interval that includes zero is reported as *no detectable effect at this sample size* with the
smallest effect the sample could have detected, never as "no effect"; a non-randomised estimate is
worded as a difference between comparable accounts, not as an effect.
"""

from __future__ import annotations

from typing import Mapping, Sequence

import numpy as np
import pandas as pd

from ...text import DASH, day, interval, money, month_label, number, p_value, pct, plural, points
from ..base import Kpi, kpi
from .compute_readout import Readout
from .result import Result
from .settings import ExperimentSettings

# ==================================================================================================
# An effect in its outcome's unit (the numbers themselves are written by csresearch.text)
# ==================================================================================================
NOT_ESTIMABLE = "not estimable"


def _missing(value: float | None) -> bool:
    return value is None or not np.isfinite(value)


def effect_text(outcome: str, value: float | None, signed: bool = False) -> str:
    """An effect in its outcome's unit: retention in percentage points, usage in events, money in $."""
    if _missing(value):
        return NOT_ESTIMABLE
    if outcome == "retention":
        return points(value, 1, signed)
    if outcome == "expansion_mrr":
        return money(value, decimals=2, signed=signed) + " MRR per account"
    return number(value, 1, signed) + " events per 30 days"


def effect_interval(outcome: str, low: float | None, high: float | None, level: float = 0.95) -> str:
    """An effect's interval in its outcome's unit: '95% CI 2.7–7.8 pt', '95% CI −0.7 to +2.6 events per 30 days'."""
    if low is None or high is None or _missing(low) or _missing(high):
        return f"{pct(level, 0)} CI {NOT_ESTIMABLE}"
    if outcome == "retention":
        return interval(low, high, "points", 1, confidence=level)
    if outcome == "expansion_mrr":
        return _cents_interval(low, high, level) + " MRR per account"
    return interval(low, high, "number", 1, confidence=level, unit="events per 30 days")


def _cents_interval(low: float, high: float, level: float) -> str:
    """A money interval in cents, joined the way :func:`csresearch.text.interval` joins (its money kind
    writes whole dollars only, too coarse for MRR per account)."""
    same_sign = (low < 0) == (high < 0)
    first, second = money(low, decimals=2, signed=not same_sign), money(high, decimals=2, signed=not same_sign)
    return f"{pct(level, 0)} CI " + (f"{first}{DASH}{second}" if same_sign else f"{first} to {second}")


# ==================================================================================================
# Sentences of one readout
# ==================================================================================================
def display_name(settings: ExperimentSettings) -> str:
    return settings.description or settings.experiment_id


def verdicts(readouts: Sequence[Readout]) -> dict[str, list[str]]:
    """The sentence for each estimate of each readout (:func:`effect_sentence`), by experiment id: the
    verdict column of experiment_summary.csv."""
    return {r.experiment_id: [effect_sentence(e, display_name(r.settings), r.alpha, r.power, r.settings.randomized)
                              for _, e in r.effects.iterrows()] for r in readouts}


def effect_sentence(row: Mapping, name: str, alpha: float = 0.05, power: float = 0.8, randomized: bool = True) -> str:
    """The honest sentence for one estimate: a direction only when the interval excludes zero;
    otherwise 'no detectable effect at this sample size' with the minimum detectable effect. A
    non-randomised estimate is worded as a difference between comparable accounts, not as an effect."""
    outcome, label = row["outcome"], row["outcome_label"]
    ci = effect_interval(outcome, row["low"], row["high"], 1 - alpha)
    if not np.isfinite(row["estimate"]):
        return f"{name}: {label} could not be estimated."
    detected = row["low"] > 0 or row["high"] < 0
    if not randomized:
        if detected:
            more = "higher" if row["estimate"] > 0 else "lower"
            return (f"After adjusting for measured differences, users of {name} had {label} "
                    f"{effect_text(outcome, row['estimate'])} {more} than comparable non-users ({ci}). Not randomised: "
                    "unmeasured differences such as engagement may remain and usually inflate this.")
        return (f"No detectable difference in {label} between users of {name} and comparable non-users at this "
                f"sample size: {effect_text(outcome, row['estimate'], signed=True)} ({ci}); the smallest difference it "
                f"could reliably detect ({pct(power, 0)} power) is {effect_text(outcome, row['mde'])}.")
    if detected:
        verb = "raised" if row["estimate"] > 0 else "lowered"
        among = ("Among the accounts it actually reached, " if str(row.get("estimator", "")).startswith("effect on the exposed")
                 else "")
        return f"{among}{name} {verb} {label} by {effect_text(outcome, row['estimate'])} ({ci})."
    mde = effect_text(outcome, row["mde"])
    return (f"No detectable effect of {name} on {label} at this sample size: the estimate is "
            f"{effect_text(outcome, row['estimate'], signed=True)} ({ci}), and the smallest effect this "
            f"sample could reliably detect ({pct(power, 0)} power) is {mde}. This is not evidence of no effect.")


def srm_sentence(srm: Mapping) -> str:
    if not srm:
        return "Not randomised: no sample-ratio check applies (arms chose themselves)."
    counts = ", ".join(f"{a} {n:,}" for a, n in zip(srm["arms"], srm["observed"]))
    shares = ", ".join(pct(s, 0) for s in srm["expected_share"])
    if srm["flagged"]:
        return (f"**Sample-ratio mismatch**: {counts} is not the intended {shares} split (chi-square "
                f"{p_value(srm['p_value'])}, below {srm['alpha']:g}). Assignment or logging is broken somewhere; treat every "
                "estimate below as suspect until the cause is found.")
    return (f"Arm sizes ({counts}) match the intended {shares} split (chi-square {p_value(srm['p_value'])}; "
            f"flagged below {srm['alpha']:g}).")


def balance_sentence(balance: pd.DataFrame, weighted: pd.DataFrame | None = None, randomized: bool = True) -> str:
    if balance.empty:
        return "No covariates to compare."
    n, bad = len(balance), int(balance["imbalanced"].sum())
    worst = balance.loc[balance["smd"].abs().idxmax()]
    text = (f"{bad} of {n} covariate levels differ by more than 0.1 standard deviations between arms "
            f"(largest: {worst['covariate']}, SMD {number(worst['smd'], 2, signed=True)}).")
    if randomized:
        text += (" With random assignment such gaps are chance; CUPED below adjusts for the pre-period ones."
                 if bad else " The arms look alike before treatment, as randomisation should make them.")
    elif weighted is not None:
        wbad = int(weighted["imbalanced"].sum())
        text += (f" Users differ from non-users before adopting, which is why the naive comparison is biased. "
                 f"After propensity weighting {wbad} of {n} still differ by more than 0.1.")
    return text


def compliance_sentence(compliance: pd.DataFrame, settings: ExperimentSettings) -> str:
    if compliance.empty or compliance["exposure_known"].sum() == 0:
        return "Exposure was not recorded: the report estimates the effect of being assigned (intention to treat)."
    parts = [f"{r.arm}: {pct(r.share_exposed, 0)} exposed" for r in compliance.itertuples()]
    treated = compliance[compliance["arm"] != settings.control_arm]["share_exposed"]
    if settings.randomized and len(treated) and treated.min() < 0.98:
        return ("; ".join(parts) + ". Exposure is partial, so the intention-to-treat effect (what assigning the "
                "programme achieves) is smaller than the effect on accounts actually reached; the latter is "
                "estimated with the assignment as an instrument.")
    return "; ".join(parts) + "."


def survival_sentence(result: Mapping, settings: ExperimentSettings, confidence: float = 0.95) -> str:
    hr, lo, hi = result["hazard_ratio"], result["hazard_ratio_low"], result["hazard_ratio_high"]
    rm = result["rmst_difference"]
    treat, ctrl = list(result["survival_at_horizon"])
    h = int(result.get("horizon_days", settings.horizon_days))
    weighted = result.get("weighted")
    text = (f"After {h} days {pct(result['survival_at_horizon'][treat])} of {treat} accounts and "
            f"{pct(result['survival_at_horizon'][ctrl])} of {ctrl} accounts "
            f"{'(reweighted to look like ' + treat + ' accounts) ' if weighted else ''}were still paying "
            "(Kaplan-Meier). ")
    if lo > 1 or hi < 1:
        text += (f"The churn hazard of {treat} accounts was {number(hr, 2)} times the {ctrl} arm's "
                 f"({interval(lo, hi, 'number', 2, confidence=confidence)}, Cox)")
    else:
        text += (f"No detectable difference in churn hazard (hazard ratio {number(hr, 2)}, "
                 f"{interval(lo, hi, 'number', 2, confidence=confidence)}, Cox)")
    text += (f"; over the {h} days an account in {treat} paid for {number(rm.estimate, 1, signed=True)} days more "
             f"on average (restricted mean survival time, "
             f"{interval(rm.low, rm.high, 'number', 1, confidence=confidence, unit='days')}).")
    return text


def cuped_sentence(effects: pd.DataFrame) -> str:
    rows = effects[effects["estimator"].str.startswith("CUPED")]
    if rows.empty:
        return ""
    parts = [f"{r.outcome_label} {pct(r.variance_reduction, 0)}" for r in rows.itertuples()]
    return ("CUPED subtracts the part of each outcome predicted by pre-assignment usage, MRR and tenure, which "
            "narrows the interval without biasing it; variance of the estimate reduced by: " + "; ".join(parts) + ".")


def pretrend_sentence(pretrend: Mapping | None) -> str:
    if not pretrend or not pretrend.get("periods"):
        return "Not enough pre-period data to check parallel trends."
    p = pretrend["p_value"]
    if p < 0.05:
        return (f"Warning: before adopting, users' usage already moved differently from non-users' (joint test of the "
                f"{pretrend['df']} pre-period coefficients, {p_value(p)}); the difference-in-differences estimate may "
                "be biased.")
    return (f"Before adopting, users' and non-users' usage moved in parallel (joint test of the {pretrend['df']} "
            f"pre-period coefficients, {p_value(p)}): consistent with, though not proof of, the parallel-trends "
            "assumption.")


def observational_sentence(table: pd.DataFrame, confidence: float = 0.95) -> str:
    parts = []
    for outcome, rows in table.groupby("outcome", sort=False):
        naive = rows[rows["estimator"].str.startswith("naive")]
        adjusted = rows[~rows["estimator"].str.startswith("naive")]
        if naive.empty or adjusted.empty:
            continue
        relative = naive["relative"].notna().all()
        col = "relative" if relative else "estimate"

        def show(v: float) -> str:
            return pct(v, 0, signed=True) if relative else points(v, 1, signed=True)

        n, a = naive.iloc[0], adjusted.iloc[-1]
        low, high = (a["relative_low"], a["relative_high"]) if relative else (a["low"], a["high"])
        bounds = (interval(low, high, "pct", 0, confidence=confidence) if relative
                  else interval(low, high, "points", confidence=confidence))
        parts.append(f"on {outcome}, the naive comparison says {show(n[col])} but the {a['estimator']} estimate is "
                     f"{show(a[col])} ({bounds})")
    if not parts:
        return ""
    return ("Users are not a random group: " + "; ".join(parts) + ". The adjusted estimates remove the measured "
            "differences only; anything unmeasured that drives both adoption and the outcome still biases them, "
            "usually upwards.")


def uplift_sentence(u: Mapping, binary: bool = True, confidence: float = 0.95) -> str:
    ev = u["evaluation"].set_index("model")
    chosen = u["chosen"]
    qi = u["qini_interval"]
    top = u["top_k"]
    first = top.iloc[0] if len(top) else None
    text = (f"{chosen} was chosen (highest Qini on one random half of the held-out predictions). On the other half "
            f"its Qini coefficient is {number(ev.loc[chosen, 'qini'], 3)} "
            f"({interval(qi.get('ci_lower'), qi.get('ci_upper'), 'number', 3, confidence=confidence)}; 0 = no better than "
            f"random) and its AUUC {number(ev.loc[chosen, 'auuc'], 2)}.")
    if first is not None:
        kind = "points" if binary else "number"
        uplift = points(first["uplift"], 1, signed=True) if binary else number(first["uplift"], 1, signed=True)
        text += (f" Among the top {pct(first['share_targeted'], 0)} by predicted uplift the observed uplift is "
                 f"{uplift} ({interval(first['low'], first['high'], kind, confidence=confidence)}).")
    if qi.get("ci_lower", -1) <= 0:
        text += (" The ranking's advantage over random targeting is not detectable at this sample size: use the "
                 "segment table, not individual scores, to decide whom to prioritise.")
    return text


def segment_sentence(segments: pd.DataFrame, outcome: str, confidence: float = 0.95) -> str:
    if segments.empty:
        return "Too few accounts per segment to compare."
    sig = segments[segments["p_holm"] < 0.05]
    best = segments.loc[segments["effect"].idxmax()]
    text = (f"The largest effect is in {best['segment']} ({effect_text(outcome, best['effect'], True)}, "
            f"{effect_interval(outcome, best['low'], best['high'], confidence)}).")
    if len(sig):
        text += (" Detectable after Holm correction for testing "
                 f"{len(segments)} segments: {', '.join(sig['segment'])}.")
    else:
        text += f" No segment's effect is detectable after Holm correction for testing {len(segments)} segments."
    return text


def targeting_sentence(table: pd.DataFrame, cost: float, confidence: float = 0.95) -> str:
    if table is None or table.empty:
        return ""
    everyone = table[(table["policy"] == "random k%") & (table["share_treated"] == 1.0)]
    best = table.loc[table["net_value"].idxmax()]
    text = ""
    if len(everyone):
        e = everyone.iloc[0]
        text += (f"Treating everyone ({plural(int(e['accounts_treated']), 'account')} at {money(cost)} each) is "
                 f"expected to keep {money(e['incremental_arr'])} of ARR "
                 f"({interval(e['incremental_arr_low'], e['incremental_arr_high'], 'money', confidence=confidence)}) "
                 f"for {money(e['cost'])}. ")
    how = ("treating everyone" if best["share_treated"] >= 1 else
           f"treating the {best['policy'].replace('k%', pct(best['share_treated'], 0))}")
    text += (f"The best net value measured is {how}: {money(best['net_value'])} "
             f"({interval(best['net_value_low'], best['net_value_high'], 'money', confidence=confidence)}).")
    if best["net_value_low"] <= 0:
        text += " Its interval includes a loss, so treat it as a lead to test, not a settled rule."
    return text


def power_sentence(row: Mapping, power: float = 0.8) -> str:
    o = row["outcome"]
    return (f"With {row['n_treated']:,} treated and {row['n_control']:,} control accounts, the smallest effect on "
            f"{row['outcome_label']} this sample detects with {pct(power, 0)} power is {effect_text(o, row['mde'])}; "
            f"its power for an effect the size of the estimate ({effect_text(o, row['estimate'])}) is "
            f"{pct(row['power_at_observed'], 0)} (power for the observed effect only restates the p-value; the MDE is "
            "the number to plan with).")


def qbr_summary(r: Readout) -> str:
    """One page a CSM can paste into a quarterly business review (markdown)."""
    s, f = r.settings, r.frame
    name = display_name(s)
    arms = ", ".join(f"{a} {n:,}" for a, n in f["arm"].value_counts().items())
    design = "a randomised experiment" if s.randomized else "an observational comparison (not randomised)"
    first, last = day(f["recorded_assigned_at"].min()), day(f["recorded_assigned_at"].max())
    assigned = f"on {first}" if first == last else f"{first} to {last}"
    lines = [f"**What was tested.** {name} (`{s.experiment_id}`), {design}: {arms} accounts, assigned "
             f"{assigned}; status: {r.status}. "
             f"Outcomes measured {s.horizon_days} days after assignment, as of {day(r.as_of)}."]
    if r.effects.empty:
        lines.append("**Result.** " + maturity_note(r))
        if s.randomized and r.srm:
            lines.append("**Can we trust it so far?** " + srm_sentence(r.srm))
        return "\n\n".join(lines)
    prim = r.effects[r.effects["primary"]]
    main = prim[prim["outcome"] == s.primary]
    if len(main):
        lines.append("**Result.** " + effect_sentence(main.iloc[0], name, r.alpha, r.power, s.randomized))
    others = [effect_sentence(row, name, r.alpha, r.power, s.randomized) for _, row in prim.iterrows()
              if row["outcome"] != s.primary]
    if others:
        lines.append("**Other outcomes.** " + " ".join(others))
    if s.randomized:
        lines.append("**Can we trust it?** " + srm_sentence(r.srm))
    else:
        lines.append("**Can we trust it?** Users chose to adopt, so this is not a controlled experiment. "
                     + observational_sentence(r.observational if r.observational is not None else pd.DataFrame(
                         columns=["outcome", "estimator"]), 1 - r.alpha))
    if len(r.segments):
        lines.append("**Who benefits.** " + segment_sentence(r.segments, s.primary, 1 - r.alpha))
    if r.targeting is not None and len(r.targeting):
        lines.append("**What it is worth.** " + targeting_sentence(r.targeting, s.cost_per_treated_account,
                                                                   1 - r.alpha))
    return "\n\n".join(lines)


def maturity_note(r: Readout) -> str:
    """Why there is no estimate yet: outcomes not observable by the report date, or no comparison."""
    f, h = r.frame, r.settings.horizon_days
    if f.empty or f["treated"].nunique() < 2:
        return "Not estimable: " + " ".join(r.notes)
    mature = int(f["mature"].sum())
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
    notes = [
        f"- **Censoring**: outcomes at {s.horizon_days} days use only accounts assigned at least {s.horizon_days} days "
        f"before {day(r.as_of)}; survival curves keep every account and censor those still paying at that date.",
        "- **Churn** is the project's one definition (`csresearch.core.revenue.paying_spells`: MRR to zero across a month "
        "end, with the reactivation window in the conventions box). Usage is counted per paying day and expansion "
        "is floored at zero, so a churn is counted once, in retention, not again as lost usage or MRR.",
        "- **Leakage**: covariates and CUPED use only data from before each account's assignment; uplift models are "
        "cross-fitted (every prediction from a model that never saw the account), the model is chosen on one half "
        "of those predictions and judged on the other.",
        "- **Multiple comparisons**: p-values of the primary estimator across outcomes and across segments are "
        "Holm-adjusted (`p_holm` in the tables).",
    ]
    if s.randomized:
        notes.append("- **Selection**: assignment was random; partial exposure is handled by reporting intention to "
                     "treat and the effect on the exposed (assignment as instrument; assumes assignment changes the "
                     "outcome only through exposure).")
    else:
        notes.append("- **Selection bias**: users chose to adopt. Non-users get index dates drawn from the users' "
                     "adoption dates (so neither group gets 'immortal' time), and the estimates adjust for pre-period "
                     "usage, MRR, tenure, tickets and account attributes only; unmeasured engagement still biases them.")
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
        "95% interval. The naive comparison takes the groups as they are; inverse-propensity weighting reweights "
        "non-users to look like users on everything measured before adoption; the doubly robust estimate also "
        "models the outcome, and is right if either model is. Only the blue (doubly robust) one is used in the "
        "summary."),
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
                  "(the same per account as treating everyone)."),
    "power": ("How big an effect could this experiment have seen? The curve is the chance of detecting a true effect "
              "of each size with this many accounts; the minimum detectable effect is where it crosses 80%."),
}


def configured_note(s: ExperimentSettings) -> str:
    return "" if s.configured else " · *no settings in params/04_uplift_experiments.yml: defaults used*"


def section_title(r: Readout) -> str:
    """The heading of one experiment's section: its name, id, design and status."""
    s = r.settings
    design = "randomised" if s.randomized else "not randomised"
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
        titles["power"] = f"Power to detect an effect on {main['outcome_label']} ({name})"
    return titles


# ==================================================================================================
# The report: headline, experiments in the data, conventions, KPIs
# ==================================================================================================
def headline(result: Result) -> str:
    """The report's first sentence: one clause per experiment, about its primary outcome."""
    readouts, when = result.readouts, month_label(result.month)
    if not result.has_experiments:
        return f"No experiments table in the data: no experiment to read out for {when}."
    if not readouts:
        return f"No experiment was running or recently ended in {when}: nothing to read out."
    parts = []
    for r in readouts:
        row = r.primary_effect()
        name = display_name(r.settings)
        if row is None:
            parts.append(f"{name}: not estimable yet")
            continue
        o = row["outcome"]
        ci = effect_interval(o, row["low"], row["high"], 1 - r.alpha)
        detected = row["low"] > 0 or row["high"] < 0
        if not r.settings.randomized:
            if detected:
                parts.append(f"{name} users had {row['outcome_label']} {effect_text(o, row['estimate'])} "
                             f"{'higher' if row['estimate'] > 0 else 'lower'} than comparable non-users ({ci}; not "
                             "randomised, so an upper bound more than a proof)")
            else:
                parts.append(f"{name}: no detectable difference in {row['outcome_label']} between users and "
                             f"comparable non-users at this sample size")
        elif detected:
            parts.append(f"{name} {'raised' if row['estimate'] > 0 else 'lowered'} {row['outcome_label']} by "
                         f"{effect_text(o, row['estimate'])} ({ci})")
        else:
            parts.append(f"{name}: no detectable effect on {row['outcome_label']} at this sample size "
                         f"(MDE {effect_text(o, row['mde'])})")
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
    """The primary estimate of each experiment read, with its interval."""
    out = []
    for r in result.readouts:
        row = r.primary_effect()
        if row is None:
            continue
        o = row["outcome"]
        kind = "" if r.settings.randomized else " (not randomised, adjusted)"
        shown = f"{effect_text(o, row['estimate'], signed=True)} ({effect_interval(o, row['low'], row['high'], 1 - r.alpha)})"
        out.append(kpi(f"{display_name(r.settings)}: {row['outcome_label']}{kind}", float(row["estimate"]), shown,
                       low=float(row["low"]), high=float(row["high"]), experiment_id=r.experiment_id))
    return out
