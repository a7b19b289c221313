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

from ...i18n import N_, _, join_sentences, ngettext
from ...text import DASH, confidence_label, day, interval, money, number, p_value, pct, points
from .compute_arms import POOLED
from .settings import BUILTIN_OUTCOMES

NOT_ESTIMABLE = N_("not estimable")  # shown as _(NOT_ESTIMABLE)
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
        return _(NOT_ESTIMABLE)
    if unit == "points":
        return points(value, decimals, signed)
    if unit == "money":
        text = money(value, decimals=decimals, signed=signed)
    else:
        text = number(value, decimals, signed)
    return with_unit(text, unit_label)


def with_unit(value: str, unit_label: str) -> str:
    """A number followed by its unit: '0.083 visits per account' (ja: '0.083件/社', no space)."""
    # TRANSLATORS: a number and its unit ("0.083 visits per account", "$1.42 per account")
    return _("{value} {unit}").format(value=value, unit=unit_label) if unit_label else value


def amount_interval(low: Any, high: Any, unit: str, unit_label: str = "", decimals: int = 1,
                    level: float = 0.95) -> str:
    """An interval in an outcome's unit: '95% CI 2.7–7.8 pt', '95% CI −0.70 to +2.64 visits per account'."""
    if is_missing(low) or is_missing(high):
        return f"{confidence_label(level)} {_(NOT_ESTIMABLE)}"
    if unit == "points":
        return interval(low, high, "points", decimals, confidence=level)
    if unit == "money":  # text.interval's money kind writes whole dollars only
        lo, hi = float(low), float(high)
        same_sign = (lo < 0) == (hi < 0)
        first = money(lo, decimals=decimals, signed=not same_sign)
        second = money(hi, decimals=decimals, signed=not same_sign)
        # TRANSLATORS: an interval whose ends differ in sign, e.g. "−$0.70 to +$2.64"
        joined = f"{first}{DASH}{second}" if same_sign else _("{low} to {high}").format(low=first, high=second)
        return f"{confidence_label(level)} {with_unit(joined, unit_label)}"
    return with_unit(interval(low, high, "number", decimals, confidence=level), unit_label)


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
    return _("{arm} vs {control}").format(arm=_arm(row.get("arm")), control=row.get("control_arm"))


def _arm(arm: Any) -> Any:
    """An arm as the data names it; the pooled comparison the report makes itself, in the run's language."""
    return _(POOLED) if arm == POOLED else arm


def paren(text: str) -> str:
    """`` (text)``: a space and round brackets in English, full-width brackets in Japanese."""
    return _(" ({text})").format(text=text)


def _subject(row: Mapping, name: str) -> str:
    which = versus(row)
    return _("{name} ({which})").format(name=name, which=which) if which else name


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
    return _("Holm-adjusted {p} across {k} comparisons").format(p=p_value(row["p_holm"]), k=k) if k > 1 else ""


def _mde(row: Mapping, power: float, difference: bool = False) -> str:
    """The smallest effect (``difference``: difference, for a non-randomised comparison) the sample
    could detect, as a clause."""
    k = comparisons_of(row)
    values = {"power": pct(power, 0), "k": k, "mde": effect_text(row, row["mde"])}
    if difference:
        return (_("the smallest difference it could reliably detect ({power} power at the {k}-comparison significance "
                  "level) is {mde}") if k > 1 else
                _("the smallest difference it could reliably detect ({power} power) is {mde}")).format(**values)
    return (_("the smallest effect this sample could reliably detect ({power} power at the {k}-comparison "
              "significance level) is {mde}") if k > 1 else
            _("the smallest effect this sample could reliably detect ({power} power) is {mde}")).format(**values)


def effect_sentence(row: Mapping, name: str, alpha: float = 0.05, power: float = 0.8, randomized: bool = True) -> str:
    """The honest sentence for one estimate of one comparison with the control."""
    label = row["outcome_label"]
    if is_missing(row.get("estimate")):
        return _("{subject}: {label} could not be estimated.").format(subject=_subject(row, name), label=label)
    ci = effect_interval(row, 1 - alpha)
    if not randomized:
        trials = str(row.get("estimator", "")).startswith("sequential trials")
        values = {"name": name, "label": label, "size": effect_text(row), "ci": ci,
                  "signed": effect_text(row, signed=True), "mde": _mde(row, power, difference=True)}
        if is_detected(row, alpha):
            higher = row["estimate"] > 0
            if trials:
                text = (_("After adjusting for measured differences, accounts that adopted {name} had {label} {size} "
                          "higher than comparable accounts that had not adopted yet on the same dates ({ci}).") if higher
                        else _("After adjusting for measured differences, accounts that adopted {name} had {label} "
                               "{size} lower than comparable accounts that had not adopted yet on the same dates ({ci})."))
            else:
                text = (_("After adjusting for measured differences, users of {name} had {label} {size} higher than "
                          "comparable non-users ({ci}).") if higher
                        else _("After adjusting for measured differences, users of {name} had {label} {size} lower than "
                               "comparable non-users ({ci})."))
            return join_sentences(text.format(**values), _(
                "Not randomised: unmeasured differences such as engagement may remain, and they could move this in "
                "either direction."))
        if trials:
            return _("No detectable difference in {label} between accounts that adopted {name} and comparable accounts "
                     "that had not adopted yet on the same dates at this sample size: {signed} ({ci}); {mde}.").format(
                **values)
        return _("No detectable difference in {label} between users of {name} and comparable non-users at this sample "
                 "size: {signed} ({ci}); {mde}.").format(**values)
    subject = _subject(row, name)
    holm = _holm(row)
    values = {"subject": subject, "label": label, "size": effect_text(row), "ci": ci, "holm": holm,
              "signed": effect_text(row, signed=True), "k": comparisons_of(row), "mde": _mde(row, power)}
    if is_detected(row, alpha):
        exposed = str(row.get("estimator", "")).startswith("effect on the exposed")
        raised = row["estimate"] > 0
        if exposed:
            text = (_("Among the accounts it actually reached, {subject} raised {label} by {size}") if raised
                    else _("Among the accounts it actually reached, {subject} lowered {label} by {size}"))
        else:
            text = (_("{subject} raised {label} by {size}") if raised else _("{subject} lowered {label} by {size}"))
        # TRANSLATORS: {effect} is a sentence without its full stop; {ci} its interval, {holm} the adjusted p-value
        tail = (_("{effect} ({ci}; {holm}).") if holm else _("{effect} ({ci}).")).format(
            effect=text.format(**values), ci=ci, holm=holm)
        return tail
    if row["low"] > 0 or row["high"] < 0:  # the interval excludes zero, the correction for several arms does not
        return _("{subject}: the difference in {label} of {signed} ({ci}) is not detectable once corrected for comparing "
                 "{k} arms with the control ({holm}).").format(**values)
    return join_sentences(_("No detectable effect of {subject} on {label} at this sample size: the estimate is {signed} "
                            "({ci}), and {mde}.").format(**values), _("This is not evidence of no effect."))


def arm_value(row: Mapping, level: float = 0.95) -> str:
    """One arm's own outcome with its interval: '18.1% (95% CI 15.3–21.3%)', '$3.12 per account (…)'."""
    unit, label = unit_of(row)
    if is_missing(row.get("mean")):
        return _(NOT_ESTIMABLE)
    d = decimals_for(row.get("low"), row.get("high"), unit)
    if unit == "points":  # a share: written as a percentage
        ci = (interval(row["low"], row["high"], "pct", d, confidence=level) if not is_missing(row.get("low"))
              else f"{confidence_label(level)} {_(NOT_ESTIMABLE)}")
        return _("{value} ({ci})").format(value=pct(row["mean"], d), ci=ci)
    return _("{value} ({ci})").format(value=amount(row["mean"], unit, label, d),
                                      ci=amount_interval(row.get("low"), row.get("high"), unit, label, d, level))


# ==================================================================================================
# An outcome that cannot be measured
# ==================================================================================================
def _events(u: Mapping) -> str:
    return _(" or ").join(e.strip().replace("_", " ") for e in str(u.get("events") or "").split(",") if e.strip())


def _capital(label: str, capital: bool) -> str:
    return f"{label[0].upper()}{label[1:]}" if capital and label else label


def _accounts(n: int) -> str:
    return ngettext("{n} account", "{n} accounts", n).format(n=f"{n:,}")


def unmeasured_sentence(u: Mapping, control: str = "control", as_of: Any = None, capital: bool = True) -> str:
    """Why an outcome (or one comparison of it) cannot be measured, in one sentence (``capital``
    False: as a clause that does not start a sentence)."""
    label, reason, h = u["outcome_label"], u["reason"], int(u["horizon_days"])
    arm = u.get("arm")
    n = 0 if is_missing(u.get("accounts")) else int(u["accounts"])
    label = _capital(label, capital)
    if isinstance(arm, str) and arm:
        head = _("{label} cannot be measured for {arm} vs {control}").format(label=label, arm=_arm(arm), control=control)
    else:
        head = _("{label} cannot be measured").format(label=label)
    if reason == "no usage_events":
        return _("{head}: the data has no usage_events table to count it from.").format(head=head)
    if reason == "never-adopter comparison":
        text = _("{label} is not estimated for a self-selected group: the only comparison is with accounts that never "
                 "adopted, a group defined by what happened later (an account that would have adopted but churned "
                 "first counts as one), which biases the difference.").format(label=label)
        if u.get("kind") == "usage_change":
            text = join_sentences(text, _("Usage is read instead as events per seat by the difference-in-differences "
                                          "below, each account against its own usage before adoption."))
        return text
    if reason == "not observed yet":
        if isinstance(arm, str) and arm:
            head = _("{label} cannot be measured for {arm} vs {control} yet").format(label=label, arm=_arm(arm),
                                                                                     control=control)
        else:
            head = _("{label} cannot be measured yet").format(label=label)
        values = {"head": head, "accounts": _accounts(n), "h": h, "date": "" if as_of is None else day(as_of)}
        text = (ngettext("{head}: {accounts} had reached the {h}-day horizon by {date}, too few to compare",
                         "{head}: {accounts} had reached the {h}-day horizon by {date}, too few to compare", n)
                if as_of is not None else
                ngettext("{head}: {accounts} had reached the {h}-day horizon, too few to compare",
                         "{head}: {accounts} had reached the {h}-day horizon, too few to compare", n)).format(**values)
        if not pd.isna(u.get("observable_from")):
            text = _("{text} (the first reach it on {date}).").format(text=text, date=day(u["observable_from"]))
        else:
            text = _("{text}.").format(text=text)
        return text
    if reason == "too few in an arm":
        return _("{head}: one of the two arms has fewer than 2 accounts with the outcome observed.").format(head=head)
    if reason == "no variation within the arms":
        return _("{head}: every account within each arm has the same value, so there is no sampling variation to "
                 "judge the difference by.").format(head=head)
    value = float(u.get("value", float("nan")))
    kind, events = u.get("kind"), _events(u)
    values = {"accounts": _accounts(n), "h": h, "events": events, "value": number(value, 2)}
    if kind == "retention":
        what = (ngettext("none of the {accounts} churned within {h} days of assignment, so the arms have no churn to "
                         "differ on",
                         "none of the {accounts} churned within {h} days of assignment, so the arms have no churn to "
                         "differ on", n) if value == 1 else
                ngettext("every one of the {accounts} churned within {h} days of assignment",
                         "every one of the {accounts} churned within {h} days of assignment", n))
    elif kind == "expansion_mrr" and value == 0:
        what = ngettext("none of the {accounts} expanded within {h} days of assignment",
                        "none of the {accounts} expanded within {h} days of assignment", n)
    elif events and value == 0:
        what = ngettext("none of the {accounts} had a {events} event within {h} days of assignment",
                        "none of the {accounts} had a {events} event within {h} days of assignment", n)
    elif kind == "yes_no" and value == 1:
        what = ngettext("every one of the {accounts} had a {events} event within {h} days of assignment",
                        "every one of the {accounts} had a {events} event within {h} days of assignment", n)
    else:
        what = ngettext("every one of the {accounts} has the same value ({value})",
                        "every one of the {accounts} has the same value ({value})", n)
    return _("{head}: {what}. An outcome that does not vary cannot show a difference between arms.").format(
        head=head, what=what.format(**values))
