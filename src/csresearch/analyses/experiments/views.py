"""What the experiments report shows: the display tables (readable columns, formats) and one
experiment's section as blocks (markdown, tables and charts, in reading order) for
``display.show_blocks``."""

from __future__ import annotations

from typing import Mapping

import numpy as np
import pandas as pd

from ...text import day, interval, money, p_value, pct, points
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
    interim_survival_note,
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

# number formats of the tables' numeric columns; p-values are written as text first (:func:`_p_values`);
# effects are written per row in their outcome's unit (:func:`effects_display`)
FMT_EFFECTS = {"n_treated": "{:,}", "n_control": "{:,}"}
FMT_OBSERVATIONAL = {"estimate": "{:+.3f}", "low": "{:+.3f}", "high": "{:+.3f}", "relative": "{:+.1%}",
                     "relative_low": "{:+.1%}", "relative_high": "{:+.1%}"}
FMT_ADOPTION_SEGMENTS = {"retention_treated": "{:.3f}", "retention_control": "{:.3f}", "effect": "{:+.3f}",
                         "low": "{:+.3f}", "high": "{:+.3f}", "accounts": "{:,}", "n_treated": "{:,}",
                         "n_control": "{:,}"}

_POLICY_SHORT = {"top k% by predicted uplift": "highest predicted uplift", "top k% by churn risk": "highest churn risk",
                 "random k%": "random"}


def _p_values(table: pd.DataFrame) -> pd.DataFrame:
    """The table with its p-value columns as text (p < 0.001, p = 0.012); a missing one stays missing."""
    out = table.copy()
    for column in ("p_value", "p_holm"):
        if column in out:
            out[column] = out[column].map(p_value, na_action="ignore")
    return out


def _compliance_display(compliance: pd.DataFrame) -> pd.DataFrame:
    known = compliance["exposure_known"] > 0
    return pd.DataFrame({
        "arm": compliance["arm"],
        "accounts": [f"{int(n):,}" for n in compliance["accounts"]],
        "exposed": [f"{int(n):,}" if k else "not recorded" for n, k in zip(compliance["exposed"], known)],
        "share exposed": [pct(x, 1) if k else "not recorded" for x, k in zip(compliance["share_exposed"], known)],
    })


def windows_display(windows: pd.DataFrame) -> pd.DataFrame:
    """The month's experiments as a readable table."""
    if windows.empty:
        return pd.DataFrame(columns=["experiment", "arms", "accounts", "assigned", "outcome window ends", "status",
                                     "in this report"])
    return pd.DataFrame({
        "experiment": windows["experiment_id"],
        "arms": windows["arms"],
        "accounts": windows["accounts"],
        "assigned": [f"{day(a)} to {day(b)}" if a != b else day(a)
                     for a, b in zip(windows["first_assigned"], windows["last_assigned"])],
        "outcome window ends": [day(d) for d in windows["window_end"]],
        "status": windows["status"],
        "in this report": np.where(windows["selected"], "yes", "no"),
    })


def windows_table(result: Result) -> Table:
    return Table(windows_display(result.windows), "Experiments and their outcome windows")


def targeting_display(table: pd.DataFrame, confidence: float = 0.95) -> pd.DataFrame:
    """The targeting table for reading: one interval per cell, money as money."""
    level = pct(confidence, 0)
    out = pd.DataFrame({
        "policy": [_POLICY_SHORT.get(p, p) if s < 1 else "everyone" for p, s in zip(table["policy"], table["share_treated"])],
        "share treated": [pct(s, 0) for s in table["share_treated"]],
        "accounts": [f"{n:,}" for n in table["accounts_treated"]],
        f"retention uplift ({level} CI)": [f"{points(e, signed=True)} ({interval(lo, hi, 'points')})"
                                          for e, lo, hi in zip(table["retention_uplift"], table["retention_uplift_low"],
                                                               table["retention_uplift_high"])],
        "retained ARR added": [money(v) for v in table["incremental_arr"]],
        "cost": [money(v) for v in table["cost"]],
        f"net value ({level} CI)": [f"{money(v)} ({interval(lo, hi, 'money')})" for v, lo, hi in
                                   zip(table["net_value"], table["net_value_low"], table["net_value_high"])],
        "chosen": ["chosen on the other half" if c else "" for c in
                   (table["chosen"].astype(bool) if "chosen" in table else [False] * len(table))],
    })
    # 'everyone' appears once per policy: keep the chosen copy when one of them is the chosen row
    keep = (out.assign(_order=range(len(out))).sort_values("chosen", ascending=False, kind="stable")
               .drop_duplicates(subset=["policy", "share treated"]).sort_values("_order"))
    return keep.drop(columns="_order")


def uplift_models_display(uplift: Mapping) -> pd.DataFrame:
    """Each uplift model's AUUC and Qini on the selection half and on the evaluation half."""
    return uplift["selection"].merge(uplift["evaluation"], on="model",
                                     suffixes=("_selection_half", "_evaluation_half"))


def effects_display(effects: pd.DataFrame, confidence: float = 0.95) -> pd.DataFrame:
    """Every estimate as a readable table: each number in its outcome's unit, with the decimals its
    interval needs (so a small effect is never written as 0.0)."""
    rows = []
    for _, e in effects.iterrows():
        rows.append({
            "comparison": f"{e['arm']} vs {e['control_arm']}",
            "outcome": e["outcome_label"],
            "estimator": e["estimator"],
            "estimate": effect_text(e, signed=True),
            f"{pct(confidence, 0)} CI": effect_interval(e, confidence).removeprefix(f"{pct(confidence, 0)} CI "),
            "p_value": e["p_value"], "p_holm": e["p_holm"],
            "MDE": effect_text(e, e["mde"]),
            "variance reduction": pct(e["variance_reduction"], 1) if np.isfinite(e["variance_reduction"]) else "–",
            "n_treated": int(e["n_treated"]), "n_control": int(e["n_control"]),
        })
    out = _p_values(pd.DataFrame(rows))
    if effects["arm"].nunique() == 1:
        out = out.drop(columns="comparison")
    return out


def arms_display(arm_outcomes: pd.DataFrame, confidence: float = 0.95) -> pd.DataFrame:
    """Each arm's own value of each outcome, with its interval."""
    return pd.DataFrame({
        "outcome": arm_outcomes["outcome_label"],
        "arm": arm_outcomes["arm"],
        "accounts": [f"{int(n):,}" for n in arm_outcomes["n"]],
        f"value ({pct(confidence, 0)} CI)": [arm_value(r, confidence) for _, r in arm_outcomes.iterrows()],
    })


def srm_display(srm: Mapping) -> pd.DataFrame:
    """Accounts per arm against the planned split."""
    total = sum(srm["observed"])
    return pd.DataFrame({"arm": srm["arms"], "accounts": [f"{n:,}" for n in srm["observed"]],
                         "planned share": [pct(x, 1) for x in srm["expected_share"]],
                         "observed share": [pct(n / total, 1) if total else "–" for n in srm["observed"]]})


def readout_blocks(r: Readout, figures: Mapping[str, object]) -> list[Block]:
    """One experiment's section: summary for a quarterly business review, design checks, average
    effects, churn over time, then naive-versus-adjusted (not randomised) or heterogeneous effects and
    targeting (randomised), power and method notes.

    ``figures`` maps a chart's name to its figure (``charts.readout_figures(r)``); a chart is drawn
    only when the section shows it.
    """
    s = r.settings
    name = display_name(s)
    blocks: list[Block] = [section_title(r), "### Summary for the quarterly business review\n" + qbr_summary(r)]
    if r.compliance.empty:  # no arms to compare: nothing else to show
        return blocks + ["**Notes.** " + " ".join(r.notes)]

    blocks += ["### Design checks\n" + EXPLAIN["design"], srm_sentence(r.srm)]
    if r.srm and len(r.srm["arms"]) > 2:
        blocks.append(Table(srm_display(r.srm), "Accounts per arm against the planned split" if r.srm.get("planned")
                            else "Accounts per arm against an equal split (none planned)"))
    blocks += [Table(_compliance_display(r.compliance), "Accounts and exposure by arm"),
               compliance_sentence(r.compliance, s), figures["balance"],
               balance_sentence(r.balance, r.balance_weighted, s.randomized)]

    if r.effects.empty:  # still running, or nothing measurable: design checks and churn so far only
        if len(r.unmeasured):
            blocks.append(" ".join(unmeasured_sentence(u, s.control_arm, r.as_of) for _, u in r.unmeasured.iterrows()))
        if r.survival:
            blocks += ["### Churn so far\n" + EXPLAIN["survival"], figures["survival"], interim_survival_note(r)]
        return blocks + ["**Notes.** " + " ".join(r.notes)]

    prim = r.effects[r.effects["primary"]]
    confidence = 1 - r.alpha
    blocks += ["### Average effects\n" + (EXPLAIN["effects"] if s.randomized else EXPLAIN["effects_observational"]),
               figures["effects"],
               "\n\n".join(effect_sentence(row, name, r.alpha, r.power, s.randomized) for _, row in prim.iterrows())]
    if r.trials is not None:
        blocks += [sensitivity_sentence(r), Table(r.trials.trials, "The monthly trials: adopters, not-yet-adopters "
                                                  "compared with them, and later adopters censored when they adopted")]
    if len(r.unmeasured):
        blocks.append(" ".join(unmeasured_sentence(u, s.control_arm, r.as_of) for _, u in r.unmeasured.iterrows()))
    if s.randomized:
        blocks.append(cuped_sentence(r.effects))
    holm = ("Holm-adjusted across the comparisons with the control" if len(r.comparisons) > 1
            else "one comparison: equal to p_value")
    blocks.append(Table(effects_display(r.effects, confidence), f"Every estimate (p_holm: {holm})", FMT_EFFECTS))
    if len(r.arm_outcomes):
        blocks += ["#### Each arm's own outcome\n" + EXPLAIN["arms"],
                   Table(arms_display(r.arm_outcomes, confidence), "Outcome by arm (shares with Wilson intervals, "
                         "means with t intervals)"),
                   " ".join(arms_sentence(r.arm_outcomes, o, confidence, s.randomized)
                            for o in dict.fromkeys(r.arm_outcomes["outcome"]))]
    if r.survival:
        blocks += ["#### Churn over time\n" + EXPLAIN["survival"]
                   + ("" if s.randomized else " The non-users are reweighted to look like the users."),
                   figures["survival"], survival_sentence(r.survival, s, 1 - r.alpha)]

    if not s.randomized:
        blocks += _adoption_blocks(r, figures)
    elif r.uplift:
        blocks += _uplift_blocks(r, r.uplift, figures)

    main = r.primary_effect()
    if main is not None:
        blocks += ["### Power and what this sample can detect\n" + EXPLAIN["power"], figures["power"],
                   " ".join(power_sentence(row, r.power) for _, row in r.primary_effects().iterrows())]
    if r.notes:
        blocks.append("**Notes.** " + " ".join(r.notes))
    blocks.append("#### How this readout handles censoring, leakage, multiple comparisons and selection\n"
                  + method_notes(r))
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

    rows = []
    for _, g in segments.iterrows():
        e = {"estimate": g["effect"], "low": g["low"], "high": g["high"], "unit": unit.get("unit", "points"),
             "unit_label": unit.get("unit_label", "")}
        rows.append({"segment": g["segment"], "accounts": f"{int(g['accounts']):,}",
                     "treated": level(g["rate_treated"], e), "control": level(g["rate_control"], e),
                     f"effect ({pct(confidence, 0)} CI)": f"{effect_text(e, signed=True)} "
                                                          f"({effect_interval(e, confidence).split(' CI ', 1)[-1]})",
                     "p_value": g["p_value"], "p_holm": g["p_holm"],
                     "predicted uplift": effect_text(e, g["predicted_uplift"], signed=True)})
    return _p_values(pd.DataFrame(rows))


def _adoption_blocks(r: Readout, figures: Mapping[str, object]) -> list[Block]:
    blocks: list[Block] = ["### Not randomised: naive vs adjusted\n" + EXPLAIN["observational"]]
    if r.observational is not None and len(r.observational):
        blocks += [figures["observational"], observational_sentence(r.observational, 1 - r.alpha),
                   Table(_p_values(r.observational), "Estimates and the assumption each needs", FMT_OBSERVATIONAL)]
    if r.event_study is not None and len(r.event_study):
        blocks += ["#### Event study\n" + EXPLAIN["event_study"], figures["event_study"],
                   pretrend_sentence(r.pretrend)]
    if len(r.segments):
        how = "sequential trials" if r.trials is not None else "doubly robust"
        blocks += [f"#### Effect by segment ({how})\n" + EXPLAIN["segments"],
                   Table(_p_values(r.segments), "Effect on the treated by segment (p_holm: Holm-adjusted)",
                         FMT_ADOPTION_SEGMENTS),
                   segment_sentence(r.segments, _unit(r), 1 - r.alpha)]
    return blocks + [NO_UPLIFT_FOR_ADOPTION]


def _uplift_blocks(r: Readout, u: Mapping, figures: Mapping[str, object]) -> list[Block]:
    s, confidence = r.settings, 1 - r.alpha
    both = uplift_models_display(u)
    blocks: list[Block] = [
        "### Heterogeneous effects\n" + EXPLAIN["uplift"],
        Table(both, "Uplift models on held-out predictions (AUUC: random about 0.5; Qini: random = 0)",
              {c: "{:.3f}" for c in both.columns if c != "model"}),
        figures["qini"], figures["top_k"], uplift_sentence(u, confidence)]
    if len(r.segments):
        blocks += ["#### Effect by segment\n" + EXPLAIN["segments"], figures["segments"],
                   Table(segments_display(r.segments, u, confidence),
                         "Effect by segment (p_holm: Holm-adjusted; predicted uplift: the chosen model's mean)"),
                   segment_sentence(r.segments, u, confidence)]
    if r.targeting is not None and len(r.targeting):
        blocks += ["### Targeting and ROI\n" + EXPLAIN["targeting"]
                   + f" Cost per treated account: {money(s.cost_per_treated_account)} (params).",
                   figures["targeting"], targeting_sentence(r.targeting, s.cost_per_treated_account, confidence,
                                                                     s.horizon_days),
                   Table(targeting_display(r.targeting, confidence),
                         "Targeting policies, valued on the evaluation half of the held-out accounts (every column in "
                         "targeting.csv)")]
    return blocks
