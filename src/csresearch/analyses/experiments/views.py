"""What the experiments report shows: the display tables (readable columns, formats) and one
experiment's section as blocks (markdown, tables and charts, in reading order) for
``display.show_blocks``."""

from __future__ import annotations

from typing import Mapping

import numpy as np
import pandas as pd

from ...i18n import N_, _, join_sentences
from ...text import confidence_label, day, interval, money, p_value, pct, points
from ..base import Block, Table
from .compute_readout import Readout
from .result import Result
from .words import (
    EXPLAIN,
    NO_UPLIFT_FOR_ADOPTION,
    arms_sentence,
    balance_sentence,
    compliance_sentence,
    cuped_sentence,
    display_name,
    effect_sentence,
    heading,
    interim_survival_note,
    lead,
    method_notes,
    observational_sentence,
    power_sentence,
    pretrend_sentence,
    qbr_summary,
    section_title,
    segment_sentence,
    sensitivity_sentence,
    srm_sentence,
    survival_sentence,
    targeting_sentence,
    uplift_sentence,
)
from .words_effects import arm_value, effect_interval, effect_text, unmeasured_sentence
from .words_terms import term, terms

# number formats of the tables' numeric columns; p-values are written as text first (:func:`_p_values`);
# effects are written per row in their outcome's unit (:func:`effects_display`)
FMT_EFFECTS = {"n_treated": "{:,}", "n_control": "{:,}"}
FMT_OBSERVATIONAL = {"estimate": "{:+.3f}", "low": "{:+.3f}", "high": "{:+.3f}", "relative": "{:+.1%}",
                     "relative_low": "{:+.1%}", "relative_high": "{:+.1%}"}
FMT_ADOPTION_SEGMENTS = {"retention_treated": "{:.3f}", "retention_control": "{:.3f}", "effect": "{:+.3f}",
                         "low": "{:+.3f}", "high": "{:+.3f}", "accounts": "{:,}", "n_treated": "{:,}",
                         "n_control": "{:,}"}

# the machine columns of the computed tables this report shows as they are, as a reader names them
# (the English is what notebook.headers would make of the name; the CSVs keep the machine names)
COLUMNS = {
    "p_holm": N_("p holm"), "n_treated": N_("N treated"), "n_control": N_("N control"), "outcome": N_("Outcome"),
    "estimator": N_("Estimator"), "estimate": N_("Estimate"), "low": N_("Low"), "high": N_("High"),
    "relative": N_("Relative"), "relative_low": N_("Relative low"), "relative_high": N_("Relative high"),
    "assumption": N_("Assumption"), "trial": N_("Trial"), "adopters": N_("Adopters"), "controls": N_("Controls"),
    "later_adopters_censored": N_("Later adopters censored"), "retention_treated": N_("Retention treated"),
    "retention_control": N_("Retention control"), "effect": N_("Effect"), "model": N_("Model"),
    "auuc_selection_half": N_("AUUC selection half"), "qini_selection_half": N_("Qini selection half"),
    "auuc_evaluation_half": N_("AUUC evaluation half"), "qini_evaluation_half": N_("Qini evaluation half"),
    "arm": N_("Arm"), "accounts": N_("Accounts"), "segment": N_("Segment"), "p_value": N_("p-value"),
}
# the columns whose values are the report's own words (estimators, assumptions, models), not data
_TERM_COLUMNS = ("outcome", "estimator", "assumption", "model")

_POLICY_SHORT = {"top k% by predicted uplift": N_("highest predicted uplift"),
                 "top k% by churn risk": N_("highest churn risk"), "random k%": N_("random")}


def shown(table: pd.DataFrame, caption: str, formats: Mapping[str, str] | None = None) -> Table:
    """A computed table as the page shows it: its machine columns named in the run's language (their
    formats follow them), the report's own words in its cells translated, data as written."""
    out = table.copy()
    for column in _TERM_COLUMNS:
        if column in out:
            out[column] = terms(out[column])
    names = {c: _(COLUMNS[c]) for c in out.columns if c in COLUMNS}
    fmt = {names.get(k, k): v for k, v in (formats or {}).items()}
    return Table(out.rename(columns=names), caption, fmt or None)


def _p_values(table: pd.DataFrame) -> pd.DataFrame:
    """The table with its p-value columns as text (p < 0.001, p = 0.012); a missing one stays missing."""
    out = table.copy()
    for column in ("p_value", "p_holm"):
        if column in out:
            out[column] = out[column].map(p_value, na_action="ignore")
    return out


def _compliance_display(compliance: pd.DataFrame) -> pd.DataFrame:
    known = compliance["exposure_known"] > 0
    not_recorded = _("not recorded")
    return pd.DataFrame({
        _("arm"): compliance["arm"],
        _("accounts"): [f"{int(n):,}" for n in compliance["accounts"]],
        _("exposed"): [f"{int(n):,}" if k else not_recorded for n, k in zip(compliance["exposed"], known)],
        _("share exposed"): [pct(x, 1) if k else not_recorded for x, k in zip(compliance["share_exposed"], known)],
    })


def windows_display(windows: pd.DataFrame) -> pd.DataFrame:
    """The month's experiments as a readable table."""
    columns = [_("experiment"), _("arms"), _("accounts"), _("assigned"), _("outcome window ends"), _("status"),
               _("in this report")]
    if windows.empty:
        return pd.DataFrame(columns=columns)
    return pd.DataFrame(dict(zip(columns, [
        windows["experiment_id"],
        windows["arms"],
        windows["accounts"],
        [_("{first} to {last}").format(first=day(a), last=day(b)) if a != b else day(a)
         for a, b in zip(windows["first_assigned"], windows["last_assigned"])],
        [day(d) for d in windows["window_end"]],
        terms(windows["status"]),
        np.where(windows["selected"], _("yes"), _("no")),
    ])))


def windows_table(result: Result) -> Table:
    return Table(windows_display(result.windows), _("Experiments and their outcome windows"))


def targeting_display(table: pd.DataFrame, confidence: float = 0.95) -> pd.DataFrame:
    """The targeting table for reading: one interval per cell, money as money."""
    level = confidence_label(confidence)
    policy, share, chosen = _("policy"), _("share treated"), _("chosen")
    out = pd.DataFrame({
        policy: [(_(_POLICY_SHORT[p]) if p in _POLICY_SHORT else p) if s < 1 else _("everyone")
                 for p, s in zip(table["policy"], table["share_treated"])],
        share: [pct(s, 0) for s in table["share_treated"]],
        _("accounts"): [f"{n:,}" for n in table["accounts_treated"]],
        _("retention uplift ({ci})").format(ci=level): [
            _("{value} ({ci})").format(value=points(e, signed=True), ci=interval(lo, hi, "points"))
            for e, lo, hi in zip(table["retention_uplift"], table["retention_uplift_low"],
                                 table["retention_uplift_high"])],
        _("retained ARR added"): [money(v) for v in table["incremental_arr"]],
        _("cost"): [money(v) for v in table["cost"]],
        _("net value ({ci})").format(ci=level): [
            _("{value} ({ci})").format(value=money(v), ci=interval(lo, hi, "money"))
            for v, lo, hi in zip(table["net_value"], table["net_value_low"], table["net_value_high"])],
        chosen: [_("chosen on the other half") if c else "" for c in
                 (table["chosen"].astype(bool) if "chosen" in table else [False] * len(table))],
    })
    # 'everyone' appears once per policy: keep the chosen copy when one of them is the chosen row
    keep = (out.assign(_order=range(len(out))).sort_values(chosen, ascending=False, kind="stable")
               .drop_duplicates(subset=[policy, share]).sort_values("_order"))
    return keep.drop(columns="_order")


def uplift_models_display(uplift: Mapping) -> pd.DataFrame:
    """Each uplift model's AUUC and Qini on the selection half and on the evaluation half."""
    return uplift["selection"].merge(uplift["evaluation"], on="model",
                                     suffixes=("_selection_half", "_evaluation_half"))


def effects_display(effects: pd.DataFrame, confidence: float = 0.95) -> pd.DataFrame:
    """Every estimate as a readable table: each number in its outcome's unit, with the decimals its
    interval needs (so a small effect is never written as 0.0)."""
    level = confidence_label(confidence)
    rows = []
    for _i, e in effects.iterrows():
        rows.append({
            _("comparison"): _("{arm} vs {control}").format(arm=term(e["arm"]), control=e["control_arm"]),
            _("outcome"): e["outcome_label"],
            _("estimator"): term(e["estimator"]),
            _("estimate"): effect_text(e, signed=True),
            level: effect_interval(e, confidence).removeprefix(f"{level} "),
            "p_value": e["p_value"], "p_holm": e["p_holm"],
            "MDE": effect_text(e, e["mde"]),
            _("variance reduction"): pct(e["variance_reduction"], 1) if np.isfinite(e["variance_reduction"]) else "–",
            "n_treated": int(e["n_treated"]), "n_control": int(e["n_control"]),
        })
    out = _p_values(pd.DataFrame(rows))
    if effects["arm"].nunique() == 1:
        out = out.drop(columns=_("comparison"))
    return out


def arms_display(arm_outcomes: pd.DataFrame, confidence: float = 0.95) -> pd.DataFrame:
    """Each arm's own value of each outcome, with its interval."""
    return pd.DataFrame({
        _("outcome"): arm_outcomes["outcome_label"],
        _("arm"): terms(arm_outcomes["arm"]),
        _("accounts"): [f"{int(n):,}" for n in arm_outcomes["n"]],
        _("value ({ci})").format(ci=confidence_label(confidence)): [arm_value(r, confidence)
                                                                  for _i, r in arm_outcomes.iterrows()],
    })


def srm_display(srm: Mapping) -> pd.DataFrame:
    """Accounts per arm against the planned split."""
    total = sum(srm["observed"])
    return pd.DataFrame({_("arm"): srm["arms"], _("accounts"): [f"{n:,}" for n in srm["observed"]],
                         _("planned share"): [pct(x, 1) for x in srm["expected_share"]],
                         _("observed share"): [pct(n / total, 1) if total else "–" for n in srm["observed"]]})


def _notes(r: Readout) -> str:
    return lead(_("**Notes.**"), join_sentences(*r.notes))


def readout_blocks(r: Readout, figures: Mapping[str, object]) -> list[Block]:
    """One experiment's section: summary for a quarterly business review, design checks, average
    effects, churn over time, then naive-versus-adjusted (not randomised) or heterogeneous effects and
    targeting (randomised), power and method notes.

    ``figures`` maps a chart's name to its figure (``charts.readout_figures(r)``); a chart is drawn
    only when the section shows it.
    """
    s = r.settings
    name = display_name(s)
    blocks: list[Block] = [section_title(r), heading(3, _("Summary for the quarterly business review"), qbr_summary(r))]
    if r.compliance.empty:  # no arms to compare: nothing else to show
        return blocks + [_notes(r)]

    blocks += [heading(3, _("Design checks"), _(EXPLAIN["design"])), srm_sentence(r.srm)]
    if r.srm and len(r.srm["arms"]) > 2:
        blocks.append(Table(srm_display(r.srm), _("Accounts per arm against the planned split") if r.srm.get("planned")
                            else _("Accounts per arm against an equal split (none planned)")))
    blocks += [Table(_compliance_display(r.compliance), _("Accounts and exposure by arm")),
               compliance_sentence(r.compliance, s), figures["balance"],
               balance_sentence(r.balance, r.balance_weighted, s.randomized)]

    unmeasured = join_sentences(*(unmeasured_sentence(u, s.control_arm, r.as_of) for _i, u in r.unmeasured.iterrows()))
    if r.effects.empty:  # still running, or nothing measurable: design checks and churn so far only
        if len(r.unmeasured):
            blocks.append(unmeasured)
        if r.survival:
            blocks += [heading(3, _("Churn so far"), _(EXPLAIN["survival"])), figures["survival"],
                       interim_survival_note(r)]
        return blocks + [_notes(r)]

    prim = r.effects[r.effects["primary"]]
    confidence = 1 - r.alpha
    blocks += [heading(3, _("Average effects"), _(EXPLAIN["effects"] if s.randomized else EXPLAIN["effects_observational"])),
               figures["effects"],
               "\n\n".join(effect_sentence(row, name, r.alpha, r.power, s.randomized) for _i, row in prim.iterrows())]
    if r.trials is not None:
        blocks += [sensitivity_sentence(r), shown(r.trials.trials, _(
            "The monthly trials: adopters, not-yet-adopters compared with them, and later adopters censored when they "
            "adopted"))]
    if len(r.unmeasured):
        blocks.append(unmeasured)
    if s.randomized:
        blocks.append(cuped_sentence(r.effects))
    holm = (_("Every estimate (p_holm: Holm-adjusted across the comparisons with the control)") if len(r.comparisons) > 1
            else _("Every estimate (p_holm: one comparison: equal to p_value)"))
    blocks.append(shown(effects_display(r.effects, confidence), holm, FMT_EFFECTS))
    if len(r.arm_outcomes):
        blocks += [heading(4, _("Each arm's own outcome"), _(EXPLAIN["arms"])),
                   Table(arms_display(r.arm_outcomes, confidence), _("Outcome by arm (shares with Wilson intervals, "
                                                                     "means with t intervals)")),
                   join_sentences(*(arms_sentence(r.arm_outcomes, o, confidence, s.randomized)
                                    for o in dict.fromkeys(r.arm_outcomes["outcome"])))]
    if r.survival:
        explain = _(EXPLAIN["survival"])
        if not s.randomized:
            explain = join_sentences(explain, _("The non-users are reweighted to look like the users."))
        blocks += [heading(4, _("Churn over time"), explain), figures["survival"],
                   survival_sentence(r.survival, s, 1 - r.alpha)]

    if not s.randomized:
        blocks += _adoption_blocks(r, figures)
    elif r.uplift:
        blocks += _uplift_blocks(r, r.uplift, figures)

    main = r.primary_effect()
    if main is not None:
        blocks += [heading(3, _("Power and what this sample can detect"), _(EXPLAIN["power"])), figures["power"],
                   join_sentences(*(power_sentence(row, r.power) for _i, row in r.primary_effects().iterrows()))]
    if r.notes:
        blocks.append(_notes(r))
    blocks.append(heading(4, _("How this readout handles censoring, leakage, multiple comparisons and selection"),
                          method_notes(r)))
    return blocks


def _unit(r: Readout) -> dict:
    spec = r.settings.outcome(r.settings.primary)
    return {"unit": spec.unit, "unit_label": spec.unit_label}


def segments_display(segments: pd.DataFrame, unit: Mapping, confidence: float = 0.95) -> pd.DataFrame:
    """The effect-by-segment table for reading: each arm's level and the effect in the outcome's unit."""
    def level(v: float, row: Mapping) -> str:
        if unit.get("unit") == "points":
            return pct(v, 1)
        return effect_text({**row, "unit": unit.get("unit"), "unit_label": unit.get("unit_label", "")}, v)

    ci = confidence_label(confidence)
    rows = []
    for _i, g in segments.iterrows():
        e = {"estimate": g["effect"], "low": g["low"], "high": g["high"], "unit": unit.get("unit", "points"),
             "unit_label": unit.get("unit_label", "")}
        rows.append({"segment": g["segment"], _("accounts"): f"{int(g['accounts']):,}",
                     _("treated"): level(g["rate_treated"], e), _("control"): level(g["rate_control"], e),
                     _("effect ({ci})").format(ci=ci): _("{value} ({ci})").format(
                         value=effect_text(e, signed=True), ci=effect_interval(e, confidence).removeprefix(f"{ci} ")),
                     "p_value": g["p_value"], "p_holm": g["p_holm"],
                     _("predicted uplift"): effect_text(e, g["predicted_uplift"], signed=True)})
    return _p_values(pd.DataFrame(rows))


def _adoption_blocks(r: Readout, figures: Mapping[str, object]) -> list[Block]:
    blocks: list[Block] = [heading(3, _("Not randomised: naive vs adjusted"), _(EXPLAIN["observational"]))]
    if r.observational is not None and len(r.observational):
        blocks += [figures["observational"], observational_sentence(r.observational, 1 - r.alpha),
                   shown(_p_values(r.observational), _("Estimates and the assumption each needs"), FMT_OBSERVATIONAL)]
    if r.event_study is not None and len(r.event_study):
        blocks += [heading(4, _("Event study"), _(EXPLAIN["event_study"])), figures["event_study"],
                   pretrend_sentence(r.pretrend)]
    if len(r.segments):
        title = (_("Effect by segment (sequential trials)") if r.trials is not None
                 else _("Effect by segment (doubly robust)"))
        blocks += [heading(4, title, _(EXPLAIN["segments"])),
                   shown(_p_values(r.segments), _("Effect on the treated by segment (p_holm: Holm-adjusted)"),
                         FMT_ADOPTION_SEGMENTS),
                   segment_sentence(r.segments, _unit(r), 1 - r.alpha)]
    return blocks + [_(NO_UPLIFT_FOR_ADOPTION)]


def _uplift_blocks(r: Readout, u: Mapping, figures: Mapping[str, object]) -> list[Block]:
    s, confidence = r.settings, 1 - r.alpha
    both = uplift_models_display(u)
    blocks: list[Block] = [
        heading(3, _("Heterogeneous effects"), _(EXPLAIN["uplift"])),
        shown(both, _("Uplift models on held-out predictions (AUUC: random about 0.5; Qini: random = 0)"),
              {c: "{:.3f}" for c in both.columns if c != "model"}),
        figures["qini"], figures["top_k"], uplift_sentence(u, confidence)]
    if len(r.segments):
        blocks += [heading(4, _("Effect by segment"), _(EXPLAIN["segments"])), figures["segments"],
                   shown(segments_display(r.segments, u, confidence),
                         _("Effect by segment (p_holm: Holm-adjusted; predicted uplift: the chosen model's mean)")),
                   segment_sentence(r.segments, u, confidence)]
    if r.targeting is not None and len(r.targeting):
        blocks += [heading(3, _("Targeting and ROI"), join_sentences(
                       _(EXPLAIN["targeting"]),
                       _("Cost per treated account: {cost} (params).").format(cost=money(s.cost_per_treated_account)))),
                   figures["targeting"], targeting_sentence(r.targeting, s.cost_per_treated_account, confidence,
                                                            s.horizon_days),
                   Table(targeting_display(r.targeting, confidence),
                         _("Targeting policies, valued on the evaluation half of the held-out accounts (every column in "
                           "targeting.csv)"))]
    return blocks
