"""Sentences of the experiments report, read from its result: the notebook's headings, the headline,
one set per experiment (the summary for a quarterly business review, why there is no estimate yet,
method notes, chart titles), the conventions box and the KPIs.

How one effect is written (its unit, its decimals, the verdict for each comparison with the control,
an outcome that cannot be measured) is in ``words_effects``; the sentences of each section of a
readout (design checks, survival, adjusted comparisons, uplift, targeting, power) in ``words_readout``;
the computed tables' machine values as a reader names them in ``words_terms``. An interval that
includes zero is reported as *no detectable effect at this sample size* with the smallest effect the
sample could have detected, never as "no effect"; a non-randomised estimate is worded as a difference
between comparable accounts, not as an effect. Every string is a catalog entry (``csresearch.i18n``).
"""

from __future__ import annotations

from typing import Sequence

import pandas as pd

from ...i18n import N_, _, join_sentences, ngettext
from ...text import day, month_label, number
from ..base import Kpi, Section, kpi
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
    paren,
    unmeasured_sentence,
    versus,
)
from .words_readout import (
    arms_sentence,
    balance_sentence,
    clauses,
    compliance_sentence,
    cuped_sentence,
    e_value_clause,
    listing,
    observational_sentence,
    power_sentence,
    pretrend_sentence,
    segment_sentence,
    sensitivity_sentence,
    srm_sentence,
    survival_sentence,
    targeting_sentence,
    uplift_sentence,
)
from .words_terms import term

__all__ = ["NOT_ESTIMABLE", "SECTIONS", "TITLE", "arm_value", "arms_sentence", "balance_sentence",
           "compliance_sentence", "conventions", "cuped_sentence", "decimals_for", "effect_interval",
           "effect_sentence", "effect_text", "headline", "is_detected", "is_missing", "kpis", "observational_sentence",
           "power_sentence", "pretrend_sentence", "segment_sentence", "sensitivity_sentence", "srm_sentence",
           "survival_sentence", "targeting_sentence", "unmeasured_sentence", "uplift_sentence"]

TITLE = N_("Experiments")  # Settings.title, shown by the runner

# the notebook's headings and the paragraphs under them: nb.section(words.section("windows"))
SECTIONS = {
    "intro": Section("experiments", N_("Experiments: did it work, for whom, and whom should we treat?"), N_(
        "One section per experiment running in the report month or recently ended. Each opens with a summary a CSM "
        "can put in a quarterly business review, then shows where every number comes from: design checks, average "
        "effects with intervals, churn over time, heterogeneous effects and targeting (randomised experiments) or "
        "naive-versus-adjusted comparisons (feature adoption and other non-randomised studies), and what the sample "
        "could detect. The first sentence below is generated from the numbers."), level=1),
    "quality": Section("data-quality", N_("Data quality"), N_(
        "Every row read is either used or rejected with a reason. This report needs the `experiments` table; outcomes "
        "come from `subscriptions` (retention, expansion) and `usage_events` (usage), covariates also from "
        "`support_tickets` when present.")),
    "windows": Section("experiments-in-the-data", N_("Experiments in the data"), N_(
        "Which experiments exist, when accounts were assigned, when each one's outcome window closes, and which of "
        "them this report reads out.")),
    "reading": Section("how-to-read", N_("How to read each experiment's section"), N_(
        "- **Summary for the quarterly business review**: the result in plain words, whether the design holds, who "
        "benefits and what it is worth. An interval that includes zero is reported as *no detectable effect at this "
        "sample size*, with the smallest effect the sample could have detected, never as \"no effect\".\n"
        "- **Design checks**: were the arms the intended sizes, alike before treatment, and actually treated?\n"
        "- **Average effects**: the difference the intervention made on each outcome with its 95% interval, and churn "
        "over time per arm.\n"
        "- Randomised experiments: **heterogeneous effects** (which accounts gain most, judged on held-out accounts) "
        "and **targeting and ROI** (whom to treat for the best return).\n"
        "- Non-randomised studies: the **naive comparison beside adjusted estimates**, each with the assumption it "
        "needs, and an **event study** checking the users' and non-users' trends before adoption.\n"
        "- **Power**: the smallest effect this sample could detect.")),
}


def section(key: str) -> Section:
    return SECTIONS[key]


def heading(level: int, text: str, body: str = "") -> str:
    """A markdown heading of an experiment's section (``level`` #s) in the run's language, with the
    paragraph under it."""
    return f"{'#' * level} {text}" + (f"\n{body}" if body else "")


def lead(label: str, text: str) -> str:
    """A paragraph that opens with a bold label: '**Result.** ...' (ja: '**結果**...')."""
    return join_sentences(label, text)


# ==================================================================================================
# Sentences of one readout
# ==================================================================================================
# the descriptions params/04_uplift_experiments.yml ships: read from the catalog in another language; a
# team's own description is shown as written (in any language)
SHIPPED_DESCRIPTIONS = frozenset((N_("Proactive CSM outreach"), N_("Workflow automation feature"),
                                  N_("E-mail campaign")))


def display_name(settings: ExperimentSettings) -> str:
    if settings.description in SHIPPED_DESCRIPTIONS:
        return _(settings.description)
    return settings.description or settings.experiment_id


def verdicts(readouts: Sequence[Readout]) -> dict[str, list[str]]:
    """The sentence for each estimate of each readout (:func:`effect_sentence`), then for each outcome
    that cannot be measured (:func:`unmeasured_sentence`), by experiment id: the verdict column of
    experiment_summary.csv."""
    out = {}
    for r in readouts:
        said = [effect_sentence(e, display_name(r.settings), r.alpha, r.power, r.settings.randomized)
                for _i, e in r.effects.iterrows()]
        said += [unmeasured_sentence(u, r.settings.control_arm, r.as_of) for _i, u in r.unmeasured.iterrows()]
        out[r.experiment_id] = said
    return out


def _usage_unit(r: Readout) -> str:
    rows = r.observational[r.observational["outcome"].str.startswith("usage")] if r.observational is not None else None
    if rows is None or rows.empty:
        return "seat"
    label = str(rows["outcome"].iloc[0])
    return "active user" if "per active user" in label else "seat" if "per seat" in label else "account"


def qbr_summary(r: Readout) -> str:
    """One page a CSM can paste into a quarterly business review (markdown)."""
    s, f = r.settings, r.frame
    name = display_name(s)
    arms = listing(_("{arm} {n}").format(arm=a, n=f"{n:,}") for a, n in f["arm"].value_counts().items())
    design = _("a randomised experiment") if s.randomized else _("an observational comparison (not randomised)")
    first, last = day(f["recorded_assigned_at"].min()), day(f["recorded_assigned_at"].max())
    assigned = (_("on {date}").format(date=first) if first == last
                else _("{first} to {last}").format(first=first, last=last))
    what = join_sentences(
        _("{name} (`{id}`), {design}: {arms} accounts, assigned {assigned}; status: {status}.").format(
            name=name, id=s.experiment_id, design=design, arms=arms, assigned=assigned, status=term(r.status)),
        _("Outcomes measured {h} days after assignment, as of {date}.").format(h=s.horizon_days, date=day(r.as_of)),
        _("Each of {k} treatment arms ({arms}) is compared with {control}.").format(
            k=len(r.arms), arms=listing(r.arms), control=s.control_arm)
        if s.randomized and len(r.arms) > 1 else "")
    lines = [lead(_("**What was tested.**"), what)]
    if r.effects.empty:
        lines.append(lead(_("**Result.**"), maturity_note(r)))
        if s.randomized and r.srm:
            lines.append(lead(_("**Can we trust it so far?**"), srm_sentence(r.srm)))
        return "\n\n".join(lines)
    prim = r.effects[r.effects["primary"]]
    main = prim[prim["outcome"] == s.primary]
    unmeasured = r.primary_unmeasured()
    if len(main):
        said = [effect_sentence(row, name, r.alpha, r.power, s.randomized) for _i, row in main.iterrows()]
        lines.append(lead(_("**Result.**"), join_sentences(
            *said, arms_sentence(r.arm_outcomes, s.primary, 1 - r.alpha, s.randomized))))
    elif unmeasured is not None:
        lines.append(lead(_("**Result.**"), unmeasured_sentence(unmeasured, s.control_arm, r.as_of)))
    others = [effect_sentence(row, name, r.alpha, r.power, s.randomized) for _i, row in prim.iterrows()
              if row["outcome"] != s.primary]
    others += [unmeasured_sentence(u, s.control_arm, r.as_of) for _i, u in r.unmeasured.iterrows()
               if unmeasured is None or u["outcome"] != s.primary or not pd.isna(u["arm"])]
    if others:
        lines.append(lead(_("**Other outcomes.**"), join_sentences(*others)))
    if s.randomized:
        trust = srm_sentence(r.srm)
        if r.compliance["exposure_known"].sum() == 0:
            trust = join_sentences(trust, _("Exposure was not recorded, so this reads the effect of assignment "
                                            "(intention to treat) only."))
        lines.append(lead(_("**Can we trust it?**"), trust))
    else:
        lines.append(lead(_("**Can we trust it?**"), join_sentences(
            _("Users chose to adopt, so this is not a controlled experiment."),
            observational_sentence(r.observational if r.observational is not None else pd.DataFrame(
                columns=["outcome", "estimator"]), 1 - r.alpha),
            sensitivity_sentence(r, heading=False) if r.trials else "")))
    main_row = r.primary_effect()
    if len(r.segments) and main_row is not None:
        lines.append(lead(_("**Who benefits.**"), segment_sentence(r.segments, main_row, 1 - r.alpha)))
    if r.targeting is not None and len(r.targeting):
        lines.append(lead(_("**What it is worth.**"), targeting_sentence(r.targeting, s.cost_per_treated_account,
                                                                        1 - r.alpha, s.horizon_days)))
    return "\n\n".join(lines)


def no_estimate_clause(r: Readout) -> str:
    """Why an experiment has no estimate of its primary outcome, as a clause of the headline."""
    s, f = r.settings, r.frame
    arms = f["arm"].value_counts()
    if s.control_arm not in arms:
        return _("not estimable, no account in the control arm ({control})").format(control=s.control_arm)
    if not r.arms:
        return _("not estimable, no account in a treatment arm")
    u = r.primary_unmeasured()
    if u is not None and u["reason"] != "not observed yet":
        sentence = unmeasured_sentence(u, s.control_arm, r.as_of, capital=False)
        # the first sentence, as a clause
        return sentence.split(_(". "))[0].rstrip(_("."))
    h = s.outcome(s.primary).horizon_days
    first = f["recorded_assigned_at"].min() + pd.Timedelta(days=h)
    if first > r.as_of:
        return _("too early to read, the {h}-day outcomes become observable from {date}").format(h=h, date=day(first))
    return _("too few accounts past the {h}-day horizon by {date} to read").format(h=h, date=day(r.as_of))


def maturity_note(r: Readout) -> str:
    """Why there is no estimate: outcomes not observable by the report date, outcomes that cannot be
    measured, or no comparison."""
    f, h = r.frame, r.settings.horizon_days
    if f.empty or f["treated"].nunique() < 2:
        return _("Not estimable: {notes}").format(notes=join_sentences(*r.notes))
    mature = int(f["mature"].sum())
    if len(r.unmeasured) and not (r.unmeasured["reason"] == "not observed yet").all():
        return join_sentences(*(unmeasured_sentence(u, r.settings.control_arm, r.as_of)
                                for _i, u in r.unmeasured.iterrows()))
    first = day(f["recorded_assigned_at"].min() + pd.Timedelta(days=h))
    last = day(f["recorded_assigned_at"].max() + pd.Timedelta(days=h))
    if mature == 0:
        return _("Too early to read: the {h}-day outcomes become observable from {first} (all by {last}); until then "
                 "this section shows the design checks and churn so far.").format(h=h, first=first, last=last)
    return _("Too few outcomes observed yet ({mature} of {n} accounts past the {h}-day horizon; all by {last}).").format(
        mature=f"{mature:,}", n=f"{len(f):,}", h=h, last=last)


def method_notes(r: Readout) -> str:
    """How censoring, leakage, multiple comparisons and selection bias are handled (markdown)."""
    s = r.settings
    k = len(r.comparisons)
    multiple = (_("- **Multiple comparisons**: {k} comparisons with {control}; each p-value is Holm-adjusted across them "
                  "(`p_holm`), a direction is claimed only when the adjusted p-value is below the significance level, "
                  "and the minimum detectable effect is stated at the {k}-comparison (Bonferroni) level.").format(
        k=k, control=s.control_arm) if k > 1 else
        _("- **Multiple comparisons**: one comparison with the control per outcome (`p_holm` equals the p-value)."))
    notes = [
        _("- **Censoring**: outcomes at {h} days use only accounts assigned at least {h} days before {date} (an event "
          "outcome: at least its own horizon); survival curves keep every account and censor those still paying at "
          "that date.").format(h=s.horizon_days, date=day(r.as_of)),
        _("- **Churn** is the project's one definition (`csresearch.core.revenue.paying_spells`: MRR to zero across a "
          "month end, with the reactivation window in the conventions box). Usage is counted per paying day and "
          "expansion is floored at zero, so a churn is counted once, in retention, not again as lost usage or MRR."),
        _("- **Leakage**: covariates and CUPED use only data from before each account's assignment; uplift models are "
          "cross-fitted (every prediction from a model that never saw the account), the model is chosen on one half "
          "of those predictions and judged on the other."),
        join_sentences(multiple, _("The primary outcome ({label}) is the one the headline reports; the others are "
                                   "secondary, and p-values of effects by segment are Holm-adjusted across "
                                   "segments.").format(label=s.outcome(s.primary).label)),
    ]
    if s.randomized and r.compliance["exposure_known"].sum() == 0:
        notes.append(_("- **Selection**: assignment was random. Exposure was not recorded, so every estimate is "
                       "intention to treat: the effect of being assigned, whether or not the account was reached."))
    elif s.randomized:
        notes.append(_("- **Selection**: assignment was random; partial exposure is handled by reporting intention to "
                       "treat and the effect on the exposed (assignment as instrument; assumes assignment changes the "
                       "outcome only through exposure)."))
    else:
        unit = "seat" if r.observational is None or not len(r.observational) else _usage_unit(r)
        notes.append(_(
            "- **Selection bias and immortal time**: users chose to adopt, and an account counts as a never-user only "
            "if it never adopted, a status the future decides. Retention is therefore read from a sequence of monthly "
            "trials: each month's adopters against the accounts paying on the same dates that had not adopted yet (a "
            "later adopter is a control until it adopts, then censored, with censoring weights), covariates measured "
            "on each index date, non-adopters weighted by their odds of adopting that month; the interval is a "
            "cluster bootstrap over accounts with the weights held as fitted. The adjustment covers measured usage, "
            "seats, MRR, tenure, tickets, NPS and account attributes only: see the sensitivity statement (E-value). "
            "{usage}").format(usage=_(_USAGE_DID[unit])))
    return "\n".join(notes)


_USAGE_DID = {
    "seat": N_("The usage comparison is a difference-in-differences of events per seat, with non-users given index "
               "dates drawn from the users' adoption dates."),
    "active user": N_("The usage comparison is a difference-in-differences of events per active user, with non-users "
                      "given index dates drawn from the users' adoption dates."),
    "account": N_("The usage comparison is a difference-in-differences of events per account, with non-users given "
                  "index dates drawn from the users' adoption dates."),
}


# the paragraph under each heading of an experiment's section: what the next chart or table answers
EXPLAIN = {  # shown as _(EXPLAIN[key])
    "design": N_("Before reading any effect, check the experiment is what we think it is. **Sample-ratio mismatch**: "
               "if the arms are not the sizes the design intended, assignment or tracking is broken and no estimate "
               "can be trusted. **Balance**: the chart compares the arms before treatment on usage, MRR, tenure, "
               "tickets and account attributes (dots inside the dashed lines are alike). **Exposure**: who in each "
               "arm actually received the intervention."),
    "effects": N_("Each dot is an estimate of the difference the intervention made (treated minus control), with its "
                "95% interval. A bar crossing zero means the data cannot tell the effect from zero at this sample "
                "size. Intention to treat answers 'what does assigning the programme achieve'; CUPED is the same "
                "question answered more precisely; the effect on the exposed answers 'what does it do for accounts "
                "it actually reached'."),
    "effects_observational": N_(
        "Each dot is an estimate of the difference between users and non-users (users minus non-users), with its "
        "95% interval. The naive comparison takes the groups as they are (never-users include accounts that churned "
        "before they could adopt, so it flatters the feature). For retention, the sequential-trial estimate compares "
        "each month's adopters with accounts paying on the same dates that had not adopted yet, weighted to look "
        "like the adopters on everything measured that day; it is the one used in the summary. Other outcomes are "
        "read by inverse-propensity weighting and the doubly robust estimate."),
    "arms": N_("Each arm on its own: the share of accounts with the outcome, or its mean per account, with its 95% "
             "interval. The differences above are these levels minus the control's."),
    "survival": N_("The share of accounts still paying, day by day after assignment, per arm. A gap that opens and "
                 "stays open is retained revenue; the numbers under the chart are the accounts still being followed."),
    "observational": N_("Users of a feature are not a random group: engaged accounts adopt more and churn less anyway, "
                      "so comparing users with non-users overstates the feature's value. The table sets the naive "
                      "comparison beside estimates that adjust for it, each with the assumption it needs."),
    "event_study": N_("Usage of users minus non-users, each period compared with the period just before adoption. "
                    "Before adoption (grey) the points should sit around zero: if they trend, users were already "
                    "diverging and the difference-in-differences after adoption (blue) is suspect."),
    "uplift": N_("Does the effect differ between accounts, and can a model find the accounts that benefit most? "
               "Several causal machine-learning models predict each account's uplift; each prediction comes from a "
               "model that never saw that account. The Qini curve counts the extra retained accounts as we target "
               "more accounts in the model's order: above the dashed random line means the ranking helps."),
    "segments": N_("The observed effect within each segment (treated minus control inside the segment), with 95% "
                 "intervals and p-values corrected for testing several segments."),
    "targeting": N_("If we roll the programme out to part of the base, whom should we treat? Net value is the retained "
                  "ARR the programme adds minus its cost, measured on held-out accounts, for three policies: the "
                  "accounts the model expects to gain most, the accounts most likely to churn, or a random share "
                  "(the same per account as treating everyone). The held-out accounts are split in two: the policy "
                  "and share are chosen on one half and valued on the other, so the value quoted is not the luckiest "
                  "of many noisy rows."),
    "power": N_("How big an effect could this experiment have seen? The curve is the chance of detecting a true effect "
              "of each size with this many accounts; the minimum detectable effect is where it crosses 80%."),
}


def configured_note(s: ExperimentSettings) -> str:
    return "" if s.configured else _(" · *no settings in params/04_uplift_experiments.yml: defaults used*")


def section_title(r: Readout) -> str:
    """The heading of one experiment's section: its name, id, design and status."""
    s = r.settings
    if not s.randomized:
        design = _("not randomised")
    elif len(r.arms) > 1:
        design = _("randomised, {n} arms").format(n=len(r.arms) + 1)
    else:
        design = _("randomised")
    return f"## {display_name(s)}\n`{s.experiment_id}` · {design} · {term(r.status)}{configured_note(s)}"


def interim_survival_note(r: Readout) -> str:
    s, survival = r.settings, r.survival
    if not survival:
        return ""
    return join_sentences(survival_sentence(survival, s, 1 - r.alpha), _(
        "These are interim curves, read at the {days} days of follow-up so far: the {h}-day outcome window is still "
        "open.").format(days=number(survival["horizon_days"], 0), h=s.horizon_days), _(
        "Stopping or deciding on an interim look raises the chance of a false positive: decide at the planned "
        "horizon."))


NO_UPLIFT_FOR_ADOPTION = N_("Heterogeneous-effect models and targeting need a randomised comparison: on self-selected "
                            "users their rankings would mostly rank engagement, so they are not shown for this study.")


def chart_titles(r: Readout) -> dict[str, str]:
    """The title of each chart of one experiment's section."""
    name = display_name(r.settings)
    titles = {
        "balance": _("Were the arms alike before treatment? ({name})"),
        "survival": _("Still paying after assignment, by arm ({name})"),
        "effects": _("What {name} changed, per outcome (95% intervals)"),
        "observational": _("Users vs non-users of {name}: naive and adjusted"),
        "event_study": _("Usage of users minus non-users around adoption ({name})"),
        "qini": _("Qini curves on the evaluation half ({name})"),
        "segments": _("Effect of {name} by segment"),
        "targeting": _("Net value of {name} by share treated and policy"),
    }
    titles = {k: v.format(name=name) for k, v in titles.items()}
    if r.uplift:
        titles["top_k"] = _("Observed uplift among the top k% by {model} prediction").format(model=term(r.uplift["chosen"]))
    main = r.primary_effect()
    if main is not None:
        which = versus(main)
        titles["power"] = (_("Power to detect an effect on {label} ({name}, {which})") if which else
                           _("Power to detect an effect on {label} ({name})")).format(
            label=main["outcome_label"], name=name, which=which)
    return titles


# ==================================================================================================
# The report: headline, experiments in the data, conventions, KPIs
# ==================================================================================================
def _clause(r: Readout) -> str:
    """One experiment's clause of the headline: its primary outcome, each comparison with the control."""
    name = display_name(r.settings)
    rows = r.primary_effects()
    if rows.empty:
        return _("{name}: {reason}").format(name=name, reason=no_estimate_clause(r))
    level = 1 - r.alpha
    if not r.settings.randomized:
        row = rows.iloc[0]
        trials = str(row["estimator"]).startswith("sequential trials")
        values = {"name": name, "label": row["outcome_label"], "ci": effect_interval(row, level),
                  "evalue": e_value_clause(r)}
        if is_detected(row, r.alpha):
            # the size without its sign: the direction is the word after it ("-57 pt lower" said it twice)
            values["size"] = effect_text(row, abs(row["estimate"]))
            higher = row["estimate"] > 0
            if trials:
                text = (_("{name} adopters had {label} {size} higher than comparable accounts not yet adopting ({ci}; "
                          "not randomised{evalue})") if higher else
                        _("{name} adopters had {label} {size} lower than comparable accounts not yet adopting ({ci}; "
                          "not randomised{evalue})"))
            else:
                text = (_("{name} adopters had {label} {size} higher than comparable non-users ({ci}; not "
                          "randomised{evalue})") if higher else
                        _("{name} adopters had {label} {size} lower than comparable non-users ({ci}; not "
                          "randomised{evalue})"))
            return text.format(**values)
        return (_("{name}: no detectable difference in {label} between adopters and comparable accounts not yet "
                  "adopting at this sample size") if trials else
                _("{name}: no detectable difference in {label} between adopters and comparable non-users at this "
                  "sample size")).format(**values)
    parts = []
    for _i, row in rows.iterrows():
        values = {"who": versus(row) or name, "label": row["outcome_label"],
                  "size": effect_text(row, abs(row["estimate"])), "ci": effect_interval(row, level),
                  "mde": effect_text(row, row["mde"])}
        if is_detected(row, r.alpha):
            text = (_("{who} raised {label} by {size} ({ci})") if row["estimate"] > 0 else
                    _("{who} lowered {label} by {size} ({ci})"))
        else:
            text = _("{who}: no detectable effect on {label} at this sample size (MDE {mde})")
        parts.append(text.format(**values))
    if len(rows) == 1 and not versus(rows.iloc[0]):
        return parts[0]
    return _("{name}: {parts} (Holm-adjusted across {k} comparisons)").format(name=name, parts=listing(parts),
                                                                              k=len(rows))


def headline(result: Result) -> str:
    """The report's first sentence: one clause per experiment, about its primary outcome."""
    readouts, when = result.readouts, month_label(result.month)
    if not result.has_experiments:
        return _("No experiments table in the data: no experiment to read out for {month}.").format(month=when)
    if not readouts:
        return _("No experiment was running or recently ended in {month}: nothing to read out.").format(month=when)
    n = len(readouts)
    text = ngettext("{n} experiment read out for {month}: {clauses}.", "{n} experiments read out for {month}: {clauses}.",
                    n).format(n=f"{n:,}", month=when, clauses=clauses(_clause(r) for r in readouts))
    srm = [display_name(r.settings) for r in readouts if r.srm.get("flagged")]
    if srm:
        text = join_sentences(text, _("Sample-ratio mismatch in {names}: check assignment first.").format(
            names=listing(srm)))
    return text


def windows_sentence(result: Result) -> str:
    if not result.has_experiments:
        return _("No `experiments` table in the data: there is nothing to read out. Add one (experiment_id, account_id, "
                 "arm, assigned_at, exposed) to get this report.")
    unconfigured = [r.experiment_id for r in result.readouts if not r.settings.configured]
    n = len(result.windows)
    text = ngettext("{n} experiment in the data; {k} read out below.", "{n} experiments in the data; {k} read out below.",
                    n).format(n=f"{n:,}", k=len(result.readouts))
    if unconfigured:
        text = join_sentences(text, _("No settings for {ids} in params/04_uplift_experiments.yml: read with the "
                                      "`experiment_defaults` (check the control arm, outcomes and horizon).").format(
            ids=listing(unconfigured)))
    return text


def conventions(result: Result) -> tuple[dict, dict]:
    """The conventions box: values and what each means."""
    values = {
        "reactivation_window_days": result.reactivation_window_days,
        "experiment_id": result.experiment_id or _("every experiment running or recently ended"),
        "ended_within_months": result.ended_within_months,
        "confidence": result.confidence,
        "power": result.power,
        "srm_alpha": result.srm_alpha,
    }
    notes = {
        "reactivation_window_days": _("a zero-MRR gap shorter than this is not a churn "
                                      "(csresearch.core.revenue.paying_spells)"),
        "experiment_id": _("which experiments this report reads out"),
        "ended_within_months": _("experiments whose outcome window closed within this many months before the report "
                                 "month are read"),
        "confidence": _("interval level; 1 - confidence is the significance level"),
        "power": _("power at which the minimum detectable effect is stated"),
        "srm_alpha": _("a sample-ratio mismatch is flagged below this chi-square p-value"),
    }
    return values, notes


def kpis(result: Result) -> list[Kpi]:
    """The primary estimate of each comparison of each experiment read, with its interval."""
    out = []
    for r in result.readouts:
        kind = "" if r.settings.randomized else paren(_("not randomised, adjusted"))
        for _i, row in r.primary_effects().iterrows():
            which = versus(row)
            name = (_("{name}: {label}").format(name=display_name(r.settings), label=row["outcome_label"]) + kind
                    + (paren(which) if which else ""))
            shown = _("{value} ({ci})").format(value=effect_text(row, signed=True), ci=effect_interval(row, 1 - r.alpha))
            out.append(kpi(name, float(row["estimate"]), shown, low=float(row["low"]), high=float(row["high"]),
                           experiment_id=r.experiment_id, arm=str(row["arm"]), outcome=str(row["outcome"])))
    return out
