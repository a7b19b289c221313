"""Sentences, captions and KPI text of the churn decomposition, read from its result.

Every number is written by :mod:`csresearch.text` (true minus signs, en-dash intervals, one decimal).
A number that cannot be computed (nobody paying, no starting MRR, one account, no earlier window) is
never printed: the sentence says why instead. Display tables are in :mod:`.views`.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ...core.risk import level_label
from ...i18n import N_, _, get_language, ngettext, pgettext
from ...text import confidence_label, day, interval, money, month_label, number, pct, points, window_label
from ..base import Kpi, Section, kpi
from .result import Result

SPLIT_LABELS = {
    "value_band": N_("contract value (ACV)"), "billing_period": N_("billing period"), "product": N_("plan"),
    "segment": N_("segment"), "touch_tier": N_("touch tier"), "region": N_("region"),
    "acquisition_cohort": N_("acquisition cohort"),
}
CORRECTION_NAMES = {"holm": "Holm", "bonferroni": "Bonferroni", "fdr_bh": "Benjamini-Hochberg"}
METRIC_NAMES = {"logo_churn": N_("Logo churn"), "gross_revenue_churn": N_("Gross revenue churn")}

# the notebook's headings and the paragraphs under them: nb.section(words.section("bridge"))
SECTIONS = {
    "intro": Section("churn-decomposition", N_('Churn decomposition'), N_(
        'How much revenue and how many customers we lose, where, and what drove the change. The first '
        'sentence below is generated from the numbers; everything after it shows where it comes from.'), level=1),
    "quality": Section("data-quality", N_('Data quality'), N_(
        'Every row read is either used or rejected with a reason. This report needs only `accounts` and '
        '`subscriptions`; the segment splits use whichever account attributes are present.')),
    "bridge": Section("mrr-bridge", N_("The MRR bridge: where this month's MRR change came from"), N_(
        'Starting MRR plus new business, expansion and returning customers, minus downgrades and churn, gives'
        ' ending MRR. The bars add up exactly (checked every month, in cents).')),
    "bridge_monthly": Section("mrr-movements", "", N_(
        'Month by month: gains above zero, losses below. A churn bar that grows while new business stays flat'
        ' is the pattern to watch.')),
    "rates": Section("churn-rates", N_('Churn rates: how much we lose'), N_(
        '**Logo churn** is the share of paying accounts lost in a month; **gross revenue churn** the share of'
        ' starting MRR lost to churn and downgrades; **net revenue churn** subtracts expansion and '
        'reactivation (below zero means the base grows on its own: negative churn); the quick ratio is MRR '
        'gained per dollar lost. Single months are noisy: read the trailing lines and the intervals. The '
        'monthly rates compounded to a year are shown for comparison only: the NRR and GRR that boards quote '
        'are the 12-month cohort figures below.')),
    "retention": Section("nrr-and-grr", N_("NRR and GRR: how much of last year's revenue we still bill"), N_(
        'The accounts paying twelve months ago, and their MRR then and now: **NRR** counts expansion, **GRR**'
        ' caps each account at its MRR then, so only losses count. New customers are not in the cohort, so '
        'they cannot flatter either figure.'), level=3),
    "splits": Section("churn-by-segment", N_('Where we lose: churn by segment'), N_(
        "Each panel splits the last trailing window's logo churn by one attribute, with its interval. Red "
        'bars churn significantly more than the rest of the base after correcting for the number of segments '
        'tested.')),
    "cohorts": Section("cohort-retention", N_('Cohort retention: do newer customers stay longer?'), N_(
        'Each row is the accounts that started paying in one month; each column, months since they started. '
        "Left: the share still paying. Right: their MRR against their first month's (above 100% means "
        'expansion outweighs churn). Compare rows at the same column: a darker row kept more customers.')),
    "decomposition": Section("mix-or-rate", N_('What drove the change: mix or rate?'), N_(
        'The change in overall churn between the last trailing window and the one before splits, per segment,'
        ' into a **mix** part (the segment became a bigger or smaller share of the base, which moves the '
        'overall rate only as far as the segment churns above or below it) and a **rate** part (its own churn'
        " moved). The parts add up exactly to the total change; each segment's total carries an interval that"
        ' holds for all segments at once.')),
}


def section(key: str) -> Section:
    return SECTIONS[key]


def split_label(column: str) -> str:
    """A split column as a reader names it (``value_band`` -> contract value (ACV)); others as they are."""
    return _(SPLIT_LABELS[column]) if column in SPLIT_LABELS else column


def value_label(column: str, value) -> str:
    """A split column's value as a reader names it (``billing_period`` ``annual`` -> 年次 in Japanese) through
    the one mapping :func:`csresearch.core.risk.level_label`; English and a company's own values unchanged."""
    return level_label(column, value)


def segment_label(segment, segmented_by) -> str:
    """A decomposition cell as a reader names it: ``SMB · monthly`` (cut by ``segment x billing_period``)
    with each part through :func:`value_label` (ja: ``SMB · 月次``); the CSV keeps the machine values. The one
    cell of a decomposition with no segment column (``all``) is every account."""
    if str(segmented_by) == "all":
        return pgettext("decomposition segment", "all")
    columns, parts = str(segmented_by).split(" x "), str(segment).split(" · ")
    if len(columns) != len(parts):  # a value holding the separator itself: shown as the data has it
        return str(segment)
    return " · ".join(value_label(column, part) for column, part in zip(columns, parts))


def metric_name(metric: str) -> str:
    return _(METRIC_NAMES[metric])


def per_month() -> str:
    """What follows a trailing-window rate: `` a month`` (ja: /月)."""
    return _(" a month")


def paren(text: str) -> str:
    """`` (text)`` after a number: a space and round brackets in English, full-width brackets in Japanese."""
    return _(" ({text})").format(text=text)


def _count(n: float) -> str:
    return f"{int(n):,}"


def _accounts(n: int) -> str:
    return ngettext("{n} account", "{n} accounts", n).format(n=_count(n))


def _months(span: str) -> list[pd.Period]:
    """The first and last month of a window written ``2026-06..2026-08``."""
    return [pd.Period(p, "M") for p in span.split("..")]


def span_label(span: str) -> str:
    """A window written ``2026-06..2026-08`` in words: Jun–Aug 2026."""
    return window_label(*_months(span))


def _missing(*values) -> bool:
    return any(v is None or pd.isna(v) for v in values)


def ci_text(low, high, confidence: float | None = None, kind: str = "pct") -> str | None:
    """``95% CI 2.0–2.6%`` with as many decimals (1 to 3) as it takes for the bounds to differ; None
    when the interval is missing or has no width at all (the caller says why in words)."""
    if _missing(low, high):
        return None
    fmt = points if kind == "points" else pct
    for decimals in (1, 2, 3):
        if fmt(low, decimals) != fmt(high, decimals):
            return interval(low, high, kind, decimals, confidence=confidence)
    return None


def _decimals(low, high, kind: str = "pct") -> int:
    """The decimals :func:`ci_text` uses for an interval (1 when there is none)."""
    fmt = points if kind == "points" else pct
    if _missing(low, high):
        return 1
    return next((d for d in (1, 2, 3) if fmt(low, d) != fmt(high, d)), 1)


def rate_with_ci(rate, low, high, confidence: float | None, why_no_interval: str, per: str = "") -> str:
    """``2.3% (95% CI 2.0–2.6%)``, or ``0.0% (why_no_interval)`` when the interval cannot be shown;
    ``per`` follows the rate (:func:`per_month`)."""
    text = ci_text(low, high, confidence)
    return f"{pct(rate)}{per}{paren(text or why_no_interval)}"


# --------------------------------------------------------------------------------------------------
# What drove the change (the headline)
# --------------------------------------------------------------------------------------------------
def _how(lead: pd.Series, metric: str) -> str:
    """Through its own rate or through its share of the base, with the numbers that show it."""
    if abs(lead["rate_effect"]) >= abs(lead["mix_effect"]):
        levels = dict(before=pct(lead["rate_before"], 2), after=pct(lead["rate_after"], 2))
        if metric == "logo_churn":
            text = (_("its own churn rate rose from {before} to {after}") if lead["rate_effect"] > 0
                    else _("its own churn rate fell from {before} to {after}"))
        else:
            text = (_("its own revenue churn rate rose from {before} to {after}") if lead["rate_effect"] > 0
                    else _("its own revenue churn rate fell from {before} to {after}"))
        return text.format(**levels)
    base = pgettext("share of", "the base") if metric == "logo_churn" else pgettext("share of", "starting MRR")
    grew = lead["share_after"] > lead["share_before"]
    rates = [r for r in (lead["rate_before"], lead["rate_after"]) if not pd.isna(r)]
    above = np.mean(rates) > (lead["overall_before"] + lead["overall_after"]) / 2
    text = (_("its share of {base} grew from {before} to {after} while it churns above the overall rate") if grew and above
            else _("its share of {base} grew from {before} to {after} while it churns below the overall rate") if grew
            else _("its share of {base} shrank from {before} to {after} while it churns above the overall rate")
            if above else _("its share of {base} shrank from {before} to {after} while it churns below the overall rate"))
    return text.format(base=base, before=pct(lead["share_before"]), after=pct(lead["share_after"]))


def _contribution(lead: pd.Series, confidence: float) -> str:
    """``+0.3 pt (95% CI +0.1 to +0.5 pt)``: a segment's contribution and its simultaneous interval."""
    low, high = lead.get("total_low"), lead.get("total_high")
    decimals = max(_decimals(low, high, "points"), 1 if abs(lead["total_effect"]) >= 0.0005 else 2)
    text = ci_text(low, high, confidence, "points")
    return points(lead["total_effect"], decimals, signed=True) + paren(
        text or _("no interval: the bootstrap never moved it"))


def _nobody(metric: str, window: str) -> str:
    if metric == "logo_churn":
        return _("no account was paying at the start of any month of {window}").format(window=window)
    return _("no MRR was billed at the start of any month of {window}").format(window=window)


def _no_comparison(metric: str, rates: pd.DataFrame, windows: pd.DataFrame | None, confidence: float) -> str:
    """Why the change in ``metric`` between the two windows cannot be measured."""
    name = metric_name(metric)
    if windows is None or windows.empty:
        return _("{name} cannot be compared with an earlier window: the data does not cover two windows.").format(
            name=name)
    w = windows.set_index("window")
    before = window_label(w.loc["before", "first_month"], w.loc["before", "last_month"])
    after_first, after_last = w.loc["after", "first_month"], w.loc["after", "last_month"]
    after = window_label(after_first, after_last)
    base = "accounts_at_risk" if metric == "logo_churn" else "starting_mrr"
    if w.loc["after", base] <= 0:
        return _("{name} cannot be measured for {window}: {nobody}.").format(
            name=name, window=after, nobody=_nobody(metric, after))
    months = (pd.Period(after_last, "M") - pd.Period(after_first, "M")).n + 1
    per = per_month() if months > 1 else ""
    if metric == "logo_churn":
        now = w.loc["after", "churned_accounts"] / w.loc["after", "accounts_at_risk"]
        row = rates[(rates["month"] == pd.Period(after_last, "M")) & (rates["window_months"] == months)]
        text = ci_text(row["logo_churn_low"].iloc[0], row["logo_churn_high"].iloc[0], confidence) if len(row) else None
        now_text, ci = pct(now), (paren(text) if text else "")
    else:
        now_text, ci = pct(w.loc["after", "lost_mrr"] / w.loc["after", "starting_mrr"]), ""
    return _("{name} was {rate}{per} in {window}{ci}; {nobody}, so there is no earlier window to compare it "
             "with.").format(name=name, rate=now_text, per=per, window=after, ci=ci, nobody=_nobody(metric, before))


def driver_sentence(decomposition: pd.DataFrame, rates: pd.DataFrame, metric: str = "logo_churn",
                    confidence: float = 0.95, change_ci: tuple[float, float] | None = None,
                    windows: pd.DataFrame | None = None) -> str:
    """Where the rate is, how it moved on the window before (with the window's interval for logo
    churn and the interval of the change), and the segment with the largest contribution to the
    change in the table shown below (its contribution with a simultaneous interval, and whether it
    came through its own churn rate or its share of the base). ``change_ci``: the interval of the
    change (:func:`.compute_change.change_interval` / ``revenue_change_interval``); None: not known,
    so the change is not called noise. ``windows``: the two windows' totals, which say why there is
    no comparison when the decomposition has no row for ``metric``."""
    table = decomposition[decomposition["metric"] == metric] if len(decomposition) else decomposition
    if table.empty:
        return _no_comparison(metric, rates, windows, confidence)
    name = metric_name(metric)
    before_win, after_win = _months(table["window_before"].iloc[0]), _months(table["window_after"].iloc[0])
    now_label, before_label = window_label(*after_win), window_label(*before_win)
    rate0, rate1 = table["overall_before"].iloc[0], table["overall_after"].iloc[0]
    change = rate1 - rate0
    window = (after_win[1] - after_win[0]).n + 1
    per = per_month() if window > 1 else ""
    rate_ci = ""
    if metric == "logo_churn":
        row = rates[(rates["month"] == after_win[1]) & (rates["window_months"] == window)]
        text = ci_text(row["logo_churn_low"].iloc[0], row["logo_churn_high"].iloc[0], confidence) if len(row) else None
        rate_ci = paren(text) if text else ""
    values = dict(name=name, rate=pct(rate1), per=per, now=now_label, ci=rate_ci, before=before_label)
    if table["events_before"].sum() == 0 and table["events_after"].sum() == 0:
        if metric == "logo_churn":
            lost = _("no paying account churned")
            base = _("{before} and {after} account-months at risk").format(
                before=f"{table['base_before'].sum():,.0f}", after=f"{table['base_after'].sum():,.0f}")
        else:
            lost = _("no MRR was lost to churn or contraction")
            base = _("{before} and {after} of starting MRR").format(
                before=money(table["base_before"].sum()), after=money(table["base_after"].sum()))
        return _("{name} was {rate}{per} in {now}{ci}, as in {before}: {lost} in either window ({base}), so there is "
                 "no change for a segment to explain.").format(lost=lost, base=base, **values)
    low, high = change_ci if change_ci is not None else (np.nan, np.nan)
    change_ci_text = ci_text(low, high, None, "points")
    change_text = (_("{ci_label} of the change {ci}").format(ci_label=confidence_label(confidence), ci=change_ci_text)
                   if change_ci_text else None)
    noise = change_text is not None and low <= 0 <= high
    noise_text = _(", a change within noise ({change_ci})").format(change_ci=change_text) if change_text else ""
    lead = table.iloc[int(table["total_effect"].abs().to_numpy().argmax())]
    values.update(change=points(change, signed=True))
    if table["segmented_by"].iloc[0] == "all":  # no segment columns in the data
        text = (_("{name} was {rate}{per} in {now}{ci}, {change} on {before}{noise}; the data has no segment columns "
                  "to say which customers drove it.") if noise else
                _("{name} rose to {rate}{per} in {now}{ci}, {change} on {before}{noise}; the data has no segment "
                  "columns to say which customers drove it.") if change > 0 else
                _("{name} fell to {rate}{per} in {now}{ci}, {change} on {before}{noise}; the data has no segment "
                  "columns to say which customers drove it.") if change < 0 else
                _("{name} held at {rate}{per} in {now}{ci}, {change} on {before}{noise}; the data has no segment "
                  "columns to say which customers drove it."))
        return text.format(noise=noise_text if noise else "", **values)
    if lead["total_effect"] == 0:
        return _("{name} held at {rate}{per} in {now}{ci}, as in {before}{noise}: no segment's share or churn rate "
                 "moved.").format(noise=noise_text, **values)
    contribution = _("{effect}: {how}").format(effect=_contribution(lead, confidence), how=_how(lead, metric))
    segment = segment_label(lead["segment"], lead["segmented_by"])
    if noise or change == 0:
        return _("{name} was {rate}{per} in {now}{ci}, {change} on {before}, a change within noise ({change_ci}); the "
                 "largest single contribution was {segment}'s, {contribution}.").format(
            change_ci=change_text, segment=segment, contribution=contribution, **values)
    change_part = (_("{change}, {change_ci}").format(change=values["change"], change_ci=change_text) if change_text
                   else values["change"])
    share = lead["total_effect"] / change
    if abs(share - 1) < 1e-9:  # one segment carried the whole change: floating sums land either side of 1
        share = 1.0
    rise = change > 0
    if share < 0:
        part = (_("the largest single contribution, {segment}'s, went against the rise: {contribution}; other segments "
                  "moved it more in total") if rise else
                _("the largest single contribution, {segment}'s, went against the fall: {contribution}; other segments "
                  "moved it more in total"))
    elif share > 1:
        part = (_("{segment} alone moved it {contribution}, more than the whole rise, while other segments moved it "
                  "the other way") if rise else
                _("{segment} alone moved it {contribution}, more than the whole fall, while other segments moved it "
                  "the other way"))
    else:
        part = (_("{share} of the rise came from {segment}, {contribution}") if rise else
                _("{share} of the fall came from {segment}, {contribution}"))
    part = part.format(segment=segment, contribution=contribution, share=pct(share, 0))
    text = (_("{name} rose to {rate}{per} in {now}{ci} from {rate_before} in {before} ({change_part}); {part}.") if rise
            else _("{name} fell to {rate}{per} in {now}{ci} from {rate_before} in {before} ({change_part}); {part}."))
    return text.format(rate_before=pct(rate0), change_part=change_part, part=part,
                       **{k: v for k, v in values.items() if k != "change"})


# --------------------------------------------------------------------------------------------------
# The report month in plain words
# --------------------------------------------------------------------------------------------------
def _logo_month(one: pd.DataFrame, month: pd.Period, confidence: float) -> str:
    if month not in one.index or one.loc[month, "accounts_at_risk"] == 0:
        return _("In {month} no account was paying at the start of the month, so there is no logo churn to "
                 "measure.").format(month=month_label(month))
    now = one.loc[month]
    at_risk = int(now["accounts_at_risk"])
    why = _("one paying account: no interval") if at_risk == 1 else _("no interval")
    previous = month - 1
    if previous in one.index and one.loc[previous, "accounts_at_risk"] > 0:
        change = now["logo_churn_rate"] - one.loc[previous, "logo_churn_rate"]
        compared = (_(", up {points} on {previous}") if change > 0 else _(", down {points} on {previous}") if change < 0
                    else _(", the same rate as in {previous}"))
        compared = compared.format(points=points(abs(change)), previous=month_label(previous))
    else:
        compared = _("; no account was paying at the start of {previous} to compare with").format(
            previous=month_label(previous))
    rate = rate_with_ci(now["logo_churn_rate"], now["logo_churn_low"], now["logo_churn_high"], confidence, why)
    return _("In {month} logo churn was {rate}: {churned} of {paying}{compared}.").format(
        month=month_label(month), rate=rate, churned=_count(now["churned_accounts"]),
        paying=ngettext("{n} paying account", "{n} paying accounts", at_risk).format(n=_count(at_risk)),
        compared=compared)


def _revenue_month(one: pd.DataFrame, month: pd.Period, confidence: float) -> str:
    if month not in one.index or one.loc[month, "starting_mrr"] <= 0:
        return _("No MRR was billed at the start of {month}, so revenue churn cannot be measured.").format(
            month=month_label(month))
    now = one.loc[month]
    accounts = int(now["accounts_at_risk"])
    why = (_("one paying account: no interval") if accounts < 2 else
           _("no paying account lost MRR") if now["lost_mrr"] == 0 else _("no interval"))
    gross = rate_with_ci(now["gross_revenue_churn_rate"], now["gross_revenue_churn_low"],
                         now["gross_revenue_churn_high"], confidence, why)
    net = now["net_revenue_churn_rate"]  # starting MRR > 0 here, so every ratio exists
    net_text = (_("net revenue churn {rate}") if net >= 0 else
                _("net revenue churn {rate} (negative churn: expansion and reactivation outweighed losses)"))
    quick = (_("quick ratio {ratio}").format(ratio=number(now["quick_ratio"])) if not pd.isna(now["quick_ratio"])
             else _("no quick ratio, since no MRR was lost"))
    return _("Gross revenue churn was {gross} of starting MRR, {net}; monthly NRR {nrr}, {quick}.").format(
        gross=gross, net=net_text.format(rate=pct(net)), nrr=pct(now["nrr"]), quick=quick)


def month_sentences(bridge: pd.DataFrame, rates: pd.DataFrame, month: pd.Period | str,
                    confidence: float = 0.95) -> list[str]:
    """The report month in plain words: logo churn with its interval and change on the month before,
    revenue churn, and the MRR bridge; what cannot be measured is said, not printed."""
    month = pd.Period(month, "M")
    one = rates[rates["window_months"] == 1].set_index("month") if len(rates) else pd.DataFrame()
    out = [_logo_month(one, month, confidence), _revenue_month(one, month, confidence)]
    row = bridge[bridge["month"] == month]
    if len(row):
        b = row.iloc[0]
        out.append(_("MRR went from {start} to {end}: new {new}, expansion {expansion}, reactivation {reactivation}, "
                     "contraction {contraction}, churn {churn}.").format(
            start=money(b["starting_mrr"]), end=money(b["ending_mrr"]),
            **{k: money(b[k]) for k in ("new", "expansion", "reactivation", "contraction", "churn")}))
    return out


def flagged_sentence(splits: pd.DataFrame, correction: str = "holm", confidence: float = 0.95) -> str:
    """Which segments churn significantly more than the rest of the base, after correction."""
    if splits.empty:
        return _("No account was paying in the window, or the data has no column to split by: no segment to compare.")
    n_tests = int(splits["p_value"].notna().sum())
    if n_tests == 0:
        return _("No account churned in the window, so no segment can churn more than the rest of the base.")
    flagged = splits[splits["flagged"]].sort_values("logo_churn_rate", ascending=False)
    values = dict(method=CORRECTION_NAMES.get(correction, correction), level=pct(1 - confidence, 0),
                  comparisons=ngettext("{n} comparison", "{n} comparisons", n_tests).format(n=_count(n_tests)))
    if flagged.empty:
        return _("No segment's logo churn is significantly above the rest of the base ({method} correction over "
                 "{comparisons}, {level} level).").format(**values)
    items = [_("{split} {value} ({rate} vs {rest})").format(split=split_label(r.split), value=value_label(r.split, r.value),
                                                            rate=pct(r.logo_churn_rate), rest=pct(r.rest_logo_churn_rate))
             for r in flagged.itertuples()]
    return _("Churn significantly above the rest of the base ({method}-corrected over {comparisons}, {level} level): "
             "{segments}.").format(segments=_("; ").join(items), **values)


# --------------------------------------------------------------------------------------------------
# 12-month cohort NRR and GRR
# --------------------------------------------------------------------------------------------------
def _retention_value(result: Result, name: str, group: str = "all") -> str:
    """``101.1% (95% CI 99.8–102.4%)`` for nrr or grr, the interval replaced by its reason."""
    value, low, high = (result.retention(c, group) for c in (name, f"{name}_low", f"{name}_high"))
    return rate_with_ci(value, low, high, result.settings.confidence,
                        no_retention_interval(name, value, result.retention("accounts_start", group)))


def no_retention_interval(name: str, value: float, accounts: float) -> str:
    """Why a 12-month NRR or GRR has no interval."""
    if accounts < 2:
        return _("one account: no interval")
    if value == 0:
        return _("every account has left: no interval")
    if name == "grr" and value >= 1:
        return _("no account lost MRR: no interval")
    return _("every account's MRR moved by the same factor: no interval")


def _no_cohort(result: Result) -> str:
    return _("no account was paying at the end of {then}, twelve months before {month}").format(
        then=month_label(result.month - 12), month=month_label(result.month))


def retention(result: Result) -> str:
    """The 12-month cohort NRR and GRR in a sentence."""
    if result.retention_12m.empty:
        return _("The 12-month NRR and GRR cannot be measured: {why}.").format(why=_no_cohort(result))
    n, still = int(result.retention("accounts_start")), int(result.retention("accounts_paying_now"))
    values = dict(mrr=money(result.retention("starting_mrr")), n=_count(n), then=month_label(result.month - 12),
                  mrr_now=money(result.retention("mrr_now")), month=month_label(result.month),
                  nrr=_retention_value(result, "nrr"), grr=_retention_value(result, "grr"))
    first = ngettext("Of the {mrr} MRR that {n} account paid at the end of {then}, the same account pays {mrr_now} at "
                     "the end of {month}: NRR {nrr}, expansion included; GRR {grr}, each account capped at its "
                     "starting MRR.",
                     "Of the {mrr} MRR that {n} accounts paid at the end of {then}, the same accounts pay {mrr_now} at "
                     "the end of {month}: NRR {nrr}, expansion included; GRR {grr}, each account capped at its "
                     "starting MRR.", n).format(**values)
    second = ngettext("{still} of {accounts} still pays; accounts that joined since are not counted.",
                      "{still} of {accounts} still pay; accounts that joined since are not counted.", still).format(
        still=_count(still), accounts=_accounts(n))
    # TRANSLATORS: two sentences one after the other (no space between them in Japanese)
    return _("{first} {second}").format(first=first, second=second)


def retention_caption(result: Result) -> str:
    return _("12-month cohort: accounts paying at the end of {then}, their MRR then and at the end of {month} "
             "(net_retention_12m.csv)").format(then=month_label(result.month - 12), month=month_label(result.month))


# --------------------------------------------------------------------------------------------------
# The report's words, from its result
# --------------------------------------------------------------------------------------------------
def headline(result: Result) -> str:
    """The report's first sentence: logo churn over the trailing window, its change on the window
    before, and the segment with the largest contribution to the change."""
    return driver_sentence(result.decomposition, result.rates, "logo_churn", result.settings.confidence,
                           change_ci=result.logo_change_ci, windows=result.change_windows)


def revenue_driver(result: Result) -> str:
    """The same sentence for gross revenue churn."""
    return driver_sentence(result.decomposition, result.rates, "gross_revenue_churn", result.settings.confidence,
                           change_ci=result.revenue_change_ci, windows=result.change_windows)


def flagged(result: Result) -> str:
    s = result.settings
    return flagged_sentence(result.splits, s.multiple_comparison_correction, s.confidence)


def month_summary(result: Result) -> str:
    """The report month in bullets: logo churn, revenue churn, the bridge, the 12-month cohort and
    the flagged segments."""
    sentences = month_sentences(result.bridge, result.rates, result.month, result.settings.confidence)
    return "\n".join(f"- {s}" for s in sentences + [retention(result), flagged(result)])


def drivers(result: Result) -> str:
    """What drove the change, for logo and for gross revenue churn, in two bullets."""
    return f"- {headline(result)}\n- {revenue_driver(result)}"


def skipped_splits(result: Result) -> str:
    if not result.skipped_splits:
        return _("Every split column asked for is in the data.")
    return _("Not in the data, so not split by: {columns}.").format(columns=_(", ").join(result.skipped_splits))


def cohorts_note(result: Result) -> str:
    """Why the cohort charts are empty, or nothing when they are not."""
    if len(result.cohorts):
        return ""
    first = result.month - (result.settings.trend_months - 1)
    return _("No account started paying between {first} and {last}, so there is no start-month cohort to "
             "follow.").format(first=month_label(first), last=month_label(result.month))


def conventions(result: Result) -> tuple[dict, dict]:
    """The conventions box: values and a plain-words note for each (the keys a reader does not set are
    in the run's language)."""
    s = result.settings
    window = int(s.reactivation_window_days or 0)
    same = result.same_month_churns
    mrr_rule, trailing, intervals, multiple = _("MRR rule"), _("trailing window"), _("intervals"), _("multiple comparisons")
    values = {
        mrr_rule: _("subscriptions active on the month's last day") if s.churn_convention == "month_end"
        else _("subscriptions active on the first day of the month and of the next"),
        "churn_convention": s.churn_convention,
        "reactivation_window_days": window,
        "count_same_month_churn": s.count_same_month_churn,
        "annualisation": s.annualisation,
        trailing: ngettext("{n} month", "{n} months", s.window_months).format(n=_count(s.window_months)),
        intervals: pct(s.confidence, 0),
        multiple: s.multiple_comparison_correction,
    }
    if window:
        window_note = _("a zero-MRR gap shorter than {days} days is not a churn: the drop is booked as a contraction "
                        "to 0 and the return as an expansion (the bridge still adds up); a gap still open at the end "
                        "of the data counts as a provisional churn until the account returns within the "
                        "window").format(days=window)
    else:
        window_note = _("every month end at zero MRR after a paying month end is a churn; a return is a reactivation")
    if s.churn_convention == "period_start":
        window_note = _("not used under period_start (the book's code has no reactivation window)")
    notes = {
        mrr_rule: _("the data contract's rule; a lapse that does not cover a month end is not a churn"),
        "churn_convention": _("month_end: churn = MRR > 0 at the end of the previous month and 0 at the end of this "
                              "one (contract). period_start: active on the 1st and not on the 1st of the next month "
                              "(Fighting Churn With Data)"),
        "reactivation_window_days": window_note,
        "count_same_month_churn": _("accounts that join and leave inside one month count in logo churn, numerator "
                                    "and denominator ({same} in the data shown); they never carry month-end MRR, "
                                    "so revenue figures are unaffected").format(same=_count(same))
        if s.count_same_month_churn else
        _("accounts that join and leave inside one month are left out (never paying at a month end)"),
        "annualisation": (_("annual = 1 - (1 - monthly)^12, for the monthly rates only; NRR and GRR are the 12-month "
                            "cohort figures") if s.annualisation == "compounded"
                          else _("annual = 12 x monthly, for the monthly rates only; NRR and GRR are the 12-month "
                                 "cohort figures")),
        trailing: _("splits and the change decomposition compare this window with the one before it"),
        intervals: _("Wilson for logo churn; delta-method (linearised ratio) for revenue churn, and for the 12-month "
                     "NRR and GRR on the log and logit scales; account-level bootstrap for each segment's "
                     "contribution to the change"),
        multiple: _("segments flagged above the rest after this correction across every segment tested; "
                    "the contributions' intervals hold for every segment at once"),
    }
    return values, notes


def book_comparison(result: Result) -> str:
    """The report month's logo churn under the other convention, for comparison with the book's code."""
    book = result.book_comparison
    month = month_label(result.month)
    start, end = day(result.month.to_timestamp()), day((result.month + 1).to_timestamp())
    if not book.get("start_accounts"):
        return _("*Fighting Churn With Data*'s code counts accounts active on {start}: none was, so its churn rate "
                 "cannot be computed for {month}.").format(start=start, month=month)
    ours = result.rate("logo_churn_rate")
    rates = dict(churn=pct(book["churn_rate"]), retention=pct(book["net_retention"]), mrr_churn=pct(book["mrr_churn"]),
                 month=month)
    if result.settings.churn_convention == "period_start":
        return _("Numbers follow *Fighting Churn With Data* (active on the 1st, not on the 1st of the next month): "
                 "churn rate {churn}, net retention {retention}, MRR churn {mrr_churn} for {month}.").format(**rates)
    ours_text = (_("this report's month-end rule gives {rate} logo churn for {month}").format(rate=pct(ours), month=month)
                 if not pd.isna(ours) else
                 _("this report's month-end rule finds no account paying at the start of {month}").format(month=month))
    return _("For comparison with *Fighting Churn With Data*'s code (active on {start}, not on {end}): churn rate "
             "{churn} ({churned} of {accounts}), net retention {retention}, MRR churn {mrr_churn}; {ours}.").format(
        start=start, end=end, churned=_count(book["churned_accounts"]), accounts=_count(book["start_accounts"]),
        ours=ours_text, **rates)


def method_notes(result: Result) -> str:
    """How censoring, multiple comparisons and the intervals are handled, in plain words."""
    s = result.settings
    provisional = ""
    if s.reactivation_window_days:
        provisional = " " + _("Churns in the last {days} days of the data are provisional: an account that comes back "
                              "within the window will be restated as contraction + expansion.").format(
            days=s.reactivation_window_days)
    return _(
        "**How these numbers are made.** "
        "Every rate counts an account-month as at risk when the account paid at the start of the month; accounts still "
        "paying at the end of {month} are censored, not counted as retained forever.{provisional} "
        "Logo churn intervals are Wilson intervals; revenue churn intervals are delta-method intervals for a ratio, "
        "which widen when a few large accounts carry the losses. Trailing-window rates pool account-months, and an "
        "account appears once per month, so their intervals are slightly too narrow. "
        "NRR and GRR are the 12-month cohort figures: the MRR now of the accounts paying twelve months ago over their "
        "MRR then (GRR caps each account at its MRR then), with delta-method intervals over those accounts drawn on "
        "the log (NRR) and logit (GRR) scales, so GRR stays within 0–100%; in a cohort of under about 100 accounts "
        "where a few large ones hold the MRR, they are narrower than stated. New accounts are not in the cohort. "
        "The monthly rates compounded to a year, in the rates table, are labelled as such and are not the same "
        "figure. Segments are flagged only when a "
        "one-sided Fisher exact test against the rest of the base stays significant after "
        "{correction} correction across every segment tested; segments are compared, "
        "not explained: a segment that churns more "
        "may differ in many ways (plan, size, tenure), so read flags as where to look, not as causes. Cohort retention "
        "counts only cohorts that started inside the lookback, so older, surviving customers cannot flatter it. The "
        "mix-vs-rate split is Kitagawa's midpoint decomposition with each segment's mix measured against the overall "
        "rate (a segment that grows while churning at the overall rate moves nothing), so mix and rate parts add up "
        "exactly to the change. Each segment's contribution carries a {level} interval from an "
        "account-level bootstrap (an account's months resampled together) that holds for all segments at once, so "
        "the segment named as the largest is not given a flattering interval for having been picked."
    ).format(month=month_label(result.month), provisional=provisional,
             correction=s.multiple_comparison_correction.title(), level=pct(s.confidence, 0))


def kpis(result: Result) -> list[Kpi]:
    """Headline numbers for the index page, with their intervals; a number that cannot be computed is
    None with the reason as its text."""
    conf = result.settings.confidence
    window = result.settings.window_months
    r = result.rate
    month = short_month(result.month)  # short, in the KPI names
    one_account = _("one paying account: no interval")
    logo_month = _("Logo churn, {month}").format(month=month)
    logo_window = ngettext("Logo churn, trailing {n} month", "Logo churn, trailing {n} months", window).format(n=window)
    out = []
    if r("accounts_at_risk") > 0:
        out.append(kpi(logo_month, r("logo_churn_rate"),
                       rate_with_ci(r("logo_churn_rate"), r("logo_churn_low"), r("logo_churn_high"), conf, one_account),
                       low=r("logo_churn_low"), high=r("logo_churn_high")))
    else:
        out.append(kpi(logo_month, None, _("no paying account at the start of the month")))
    if r("accounts_at_risk", window) > 0:
        out.append(kpi(logo_window, r("logo_churn_rate", window),
                       rate_with_ci(r("logo_churn_rate", window), r("logo_churn_low", window),
                                    r("logo_churn_high", window), conf, one_account, per_month()),
                       low=r("logo_churn_low", window), high=r("logo_churn_high", window)))
    else:
        out.append(kpi(logo_window, None, _("no paying account in the window")))
    gross = _("Gross revenue churn, {month}").format(month=month)
    if r("starting_mrr") > 0:
        why = (one_account if r("accounts_at_risk") < 2 else
               _("no paying account lost MRR") if r("lost_mrr") == 0 else _("no interval"))
        out.append(kpi(gross, r("gross_revenue_churn_rate"),
                       rate_with_ci(r("gross_revenue_churn_rate"), r("gross_revenue_churn_low"),
                                    r("gross_revenue_churn_high"), conf, why),
                       low=r("gross_revenue_churn_low"), high=r("gross_revenue_churn_high")))
    else:
        out.append(kpi(gross, None, _("no MRR at the start of the month")))
    for name in ("nrr", "grr"):
        label = _("{metric}, 12-month cohort").format(metric=name.upper())
        if result.retention_12m.empty:
            out.append(kpi(label, None, _("no account paying in {month}").format(month=short_month(result.month - 12))))
        else:
            out.append(kpi(label, result.retention(name), _retention_value(result, name),
                           low=result.retention(f"{name}_low"), high=result.retention(f"{name}_high")))
    net = result.net_mrr_change
    if net is not None:
        out.append(kpi(_("Net MRR change, {month}").format(month=month), net, money(net, signed=True)))
    return out


def short_month(month: pd.Period) -> str:
    """Nov 2026 (ja: 2026年11月): a month in a KPI name."""
    return month.strftime("%b %Y") if get_language() == "en" else month_label(month)


def tick_month(month: pd.Period) -> str:
    """Nov 26 (ja: 26/11): a month under a chart's bar."""
    return month.strftime("%b %y") if get_language() == "en" else month.strftime("%y/%m")


# --------------------------------------------------------------------------------------------------
# Captions of the display tables (the tables are in views.py; the numbers in the CSVs)
# --------------------------------------------------------------------------------------------------
def bridge_caption(result: Result) -> str:
    return _("MRR bridge, last 12 months (every month in mrr_bridge.csv)")


def rates_caption(result: Result) -> str:
    return _("Rates for {month} (intervals at {level}; all months in churn_rates.csv)").format(
        month=month_label(result.month), level=pct(result.settings.confidence, 0))


def splits_caption(result: Result) -> str:
    splits = result.splits
    if splits.empty:
        return _("Churn by segment (monthly rates)")
    return _("Churn by segment, {window} (monthly rates)").format(
        window=window_label(splits["first_month"].iloc[0], splits["last_month"].iloc[0]))


def decomposition_caption(result: Result) -> str:
    d = result.decomposition
    if d.empty:
        return _("Mix and rate effects")
    return _("Mix and rate effects, {before} to {after}, largest contribution first (intervals at {level}, for all "
             "segments at once)").format(before=span_label(d["window_before"].iloc[0]),
                                         after=span_label(d["window_after"].iloc[0]),
                                         level=pct(result.settings.confidence, 0))
