"""How the experiments report writes one effect: its number in the outcome's unit with as many
decimals as its interval needs, the honest sentence for one comparison with the control, and why an
outcome cannot be measured.

- **Units**: a yes/no outcome's effect in percentage points (8.3 pt), a count or mean in its unit
  (0.083 visits per account), money in dollars ($1.42 per account).
- **Decimals** come from the interval's width: enough that the width shows two significant digits
  (an interval 0.0015 wide is written 0.0831–0.0846, one 5.1 points wide 2.7–7.8 pt), so no interval
  is ever rounded to zero ("+0.0 to +0.0").
- **Verdicts**: a direction is claimed only when the interval excludes zero and, when an experiment
  compares several arms with the control, the Holm-adjusted p-value is below the significance level;
  otherwise "no detectable effect at this sample size" with the smallest effect the sample could
  detect, never "no effect". An outcome that does not vary cannot show a difference: it "cannot be
  measured", with the reason.
"""

from __future__ import annotations

import math
from typing import Any, Mapping

import numpy as np
import pandas as pd

from ...text import DASH, day, interval, money, number, p_value, pct, plural, points
from .compute_arms import POOLED
from .settings import BUILTIN_OUTCOMES

NOT_ESTIMABLE = "not estimable"
MAX_DECIMALS = 6


def is_missing(value: Any) -> bool:
    try:
        return value is None or not np.isfinite(float(value))
    except (TypeError, ValueError):
        return True


def unit_of(row: Mapping) -> tuple[str, str]:
    """(unit, unit label) of an effect row; a row without them is a built-in outcome's."""
    if "unit" in row and isinstance(row.get("unit"), str):
        return row["unit"], str(row.get("unit_label") or "")
    _, _, unit, label = BUILTIN_OUTCOMES.get(str(row.get("outcome")), (False, "", "number", ""))
    return unit, label


def decimals_for(low: Any, high: Any, unit: str) -> int:
    """Decimals that show an interval's width with two significant digits (at least one decimal for
    points and numbers; cents for money below $1,000)."""
    floor = 1 if unit in ("points", "number") else 0
    if unit == "money" and not (is_missing(low) or is_missing(high)) and max(abs(float(low)), abs(float(high))) < 1000:
        floor = 2
    if is_missing(low) or is_missing(high):
        return max(floor, 1)
    width = abs(float(high) - float(low)) * (100 if unit == "points" else 1)
    if width <= 0:
        return max(floor, 1)
    return int(min(MAX_DECIMALS, max(floor, 1 - math.floor(math.log10(width)))))


def amount(value: Any, unit: str, unit_label: str = "", decimals: int = 1, signed: bool = False) -> str:
    """A number in an outcome's unit: 8.3 pt, 0.083 visits per account, $1.42 per account."""
    if is_missing(value):
        return NOT_ESTIMABLE
    if unit == "points":
        return points(value, decimals, signed)
    if unit == "money":
        text = money(value, decimals=decimals, signed=signed)
    else:
        text = number(value, decimals, signed)
    return f"{text} {unit_label}".rstrip()


def amount_interval(low: Any, high: Any, unit: str, unit_label: str = "", decimals: int = 1,
                    level: float = 0.95) -> str:
    """An interval in an outcome's unit: '95% CI 2.7–7.8 pt', '95% CI −0.70 to +2.64 visits per account'."""
    if is_missing(low) or is_missing(high):
        return f"{pct(level, 0)} CI {NOT_ESTIMABLE}"
    if unit == "points":
        return interval(low, high, "points", decimals, confidence=level)
    if unit == "money":  # text.interval's money kind writes whole dollars only
        lo, hi = float(low), float(high)
        same_sign = (lo < 0) == (hi < 0)
        first = money(lo, decimals=decimals, signed=not same_sign)
        second = money(hi, decimals=decimals, signed=not same_sign)
        joined = f"{first}{DASH}{second}" if same_sign else f"{first} to {second}"
        return f"{pct(level, 0)} CI {joined} {unit_label}".rstrip()
    return interval(low, high, "number", decimals, confidence=level, unit=unit_label)


def effect_text(row: Mapping, value: Any = None, signed: bool = False) -> str:
    """A number of an effect row (its estimate unless ``value`` is given) in the row's unit, with the
    decimals its interval needs."""
    unit, label = unit_of(row)
    value = row["estimate"] if value is None else value
    return amount(value, unit, label, decimals_for(row.get("low"), row.get("high"), unit), signed)


def effect_interval(row: Mapping, level: float = 0.95) -> str:
    """The interval of an effect row in its unit, with the decimals its width needs."""
    unit, label = unit_of(row)
    return amount_interval(row.get("low"), row.get("high"), unit, label,
                           decimals_for(row.get("low"), row.get("high"), unit), level)


def comparisons_of(row: Mapping) -> int:
    value = row.get("comparisons", 1)
    return 1 if is_missing(value) else int(value)


def versus(row: Mapping) -> str:
    """'email_a vs no_email' for a row of an experiment that compares several arms (else '')."""
    if comparisons_of(row) <= 1 and row.get("arm") != POOLED:
        return ""
    return f"{row.get('arm')} vs {row.get('control_arm')}"


def _subject(row: Mapping, name: str) -> str:
    which = versus(row)
    return f"{name} ({which})" if which else name


def is_detected(row: Mapping, alpha: float = 0.05) -> bool:
    """A direction is claimed: the interval excludes zero and, with several comparisons with the
    control, the Holm-adjusted p-value is below alpha."""
    if is_missing(row.get("low")) or is_missing(row.get("high")):
        return False
    excludes = row["low"] > 0 or row["high"] < 0
    if comparisons_of(row) > 1:
        return bool(excludes and not is_missing(row.get("p_holm")) and row["p_holm"] < alpha)
    return bool(excludes)


def _holm(row: Mapping) -> str:
    k = comparisons_of(row)
    return f"Holm-adjusted {p_value(row['p_holm'])} across {k} comparisons" if k > 1 else ""


def _mde(row: Mapping, power: float, what: str = "effect this sample") -> str:
    k = comparisons_of(row)
    level = f" at the {k}-comparison significance level" if k > 1 else ""
    return (f"the smallest {what} could reliably detect ({pct(power, 0)} power{level}) is "
            f"{effect_text(row, row['mde'])}")


def effect_sentence(row: Mapping, name: str, alpha: float = 0.05, power: float = 0.8, randomized: bool = True) -> str:
    """The honest sentence for one estimate of one comparison with the control."""
    label = row["outcome_label"]
    if is_missing(row.get("estimate")):
        return f"{_subject(row, name)}: {label} could not be estimated."
    ci = effect_interval(row, 1 - alpha)
    if not randomized:
        trials = str(row.get("estimator", "")).startswith("sequential trials")
        users = f"accounts that adopted {name}" if trials else f"users of {name}"
        others = ("comparable accounts that had not adopted yet on the same dates" if trials
                  else "comparable non-users")
        if is_detected(row, alpha):
            more = "higher" if row["estimate"] > 0 else "lower"
            return (f"After adjusting for measured differences, {users} had {label} {effect_text(row)} {more} than "
                    f"{others} ({ci}). Not randomised: unmeasured differences such as engagement may remain, and "
                    "they could move this in either direction.")
        return (f"No detectable difference in {label} between {users} and {others} at this sample size: "
                f"{effect_text(row, signed=True)} ({ci}); {_mde(row, power, 'difference it')}.")
    subject = _subject(row, name)
    holm = _holm(row)
    if is_detected(row, alpha):
        verb = "raised" if row["estimate"] > 0 else "lowered"
        among = ("Among the accounts it actually reached, " if str(row.get("estimator", "")).startswith("effect on the exposed")
                 else "")
        return f"{among}{subject} {verb} {label} by {effect_text(row)} ({ci}{'; ' + holm if holm else ''})."
    if row["low"] > 0 or row["high"] < 0:  # the interval excludes zero, the correction for several arms does not
        return (f"{subject}: the difference in {label} of {effect_text(row, signed=True)} ({ci}) is not detectable "
                f"once corrected for comparing {comparisons_of(row)} arms with the control ({holm}).")
    return (f"No detectable effect of {subject} on {label} at this sample size: the estimate is "
            f"{effect_text(row, signed=True)} ({ci}), and {_mde(row, power)}. This is not evidence of no effect.")


def arm_value(row: Mapping, level: float = 0.95) -> str:
    """One arm's own outcome with its interval: '18.1% (95% CI 15.3–21.3%)', '$3.12 per account (…)'."""
    unit, label = unit_of(row)
    if is_missing(row.get("mean")):
        return NOT_ESTIMABLE
    d = decimals_for(row.get("low"), row.get("high"), unit)
    if unit == "points":  # a share: written as a percentage
        ci = (interval(row["low"], row["high"], "pct", d, confidence=level) if not is_missing(row.get("low"))
              else f"{pct(level, 0)} CI {NOT_ESTIMABLE}")
        return f"{pct(row['mean'], d)} ({ci})"
    return f"{amount(row['mean'], unit, label, d)} ({amount_interval(row.get('low'), row.get('high'), unit, label, d, level)})"


# ==================================================================================================
# An outcome that cannot be measured
# ==================================================================================================
def _events(u: Mapping) -> str:
    return " or ".join(e.strip().replace("_", " ") for e in str(u.get("events") or "").split(",") if e.strip())


def unmeasured_sentence(u: Mapping, control: str = "control", as_of: Any = None, capital: bool = True) -> str:
    """Why an outcome (or one comparison of it) cannot be measured, in one sentence (``capital``
    False: as a clause that does not start a sentence)."""
    label, reason, h = u["outcome_label"], u["reason"], int(u["horizon_days"])
    arm = u.get("arm")
    where = f" for {arm} vs {control}" if isinstance(arm, str) and arm else ""
    n = 0 if is_missing(u.get("accounts")) else int(u["accounts"])
    head = f"{label[0].upper() if capital else label[0]}{label[1:]} cannot be measured{where}"
    if reason == "no usage_events":
        return f"{head}: the data has no usage_events table to count it from."
    if reason == "never-adopter comparison":
        usage = (" Usage is read instead as events per seat by the difference-in-differences below, each "
                 "account against its own usage before adoption." if u.get("kind") == "usage_change" else "")
        return (f"{label[0].upper() if capital else label[0]}{label[1:]} is not estimated for a self-selected "
                f"group: the only comparison is with accounts that never adopted, a group defined by what happened "
                "later (an account that would have adopted but churned first counts as one), which biases the "
                "difference." + usage)
    if reason == "not observed yet":
        when = f" (the first reach it on {day(u['observable_from'])})" if not pd.isna(u.get("observable_from")) else ""
        by = f" by {day(as_of)}" if as_of is not None else ""
        return (f"{head} yet: {plural(n, 'account')} had reached the {h}-day horizon{by}, too few to compare"
                f"{when}.")
    if reason == "too few in an arm":
        return f"{head}: one of the two arms has fewer than 2 accounts with the outcome observed."
    if reason == "no variation within the arms":
        return (f"{head}: every account within each arm has the same value, so there is no sampling variation to "
                "judge the difference by.")
    value = float(u.get("value", float("nan")))
    kind, events = u.get("kind"), _events(u)
    if kind == "retention":
        what = (f"none of the {plural(n, 'account')} churned within {h} days of assignment, so the arms have no "
                "churn to differ on" if value == 1 else
                f"every one of the {plural(n, 'account')} churned within {h} days of assignment")
    elif kind == "expansion_mrr" and value == 0:
        what = f"none of the {plural(n, 'account')} expanded within {h} days of assignment"
    elif events and value == 0:
        what = f"none of the {plural(n, 'account')} had a {events} event within {h} days of assignment"
    elif kind == "yes_no" and value == 1:
        what = f"every one of the {plural(n, 'account')} had a {events} event within {h} days of assignment"
    else:
        what = f"every one of the {plural(n, 'account')} has the same value ({number(value, 2)})"
    return f"{head}: {what}. An outcome that does not vary cannot show a difference between arms."
