"""The monthly brief's sentences: short, each generated from the numbers of :mod:`.brief` or of a
report's ``summary.json``, with the formatters of :mod:`csresearch.text`.

A number that cannot be computed is said in words (why), never printed as a blank, nan or n/a. A change
is coloured by what it means: ``better`` (green), ``worse`` (red), ``noise`` (grey: its interval holds 0)
or ``flat`` (grey: no change, or nothing to compare with).
"""

from __future__ import annotations

import math
from typing import Any, Mapping, TypeGuard

import pandas as pd

from ..i18n import N_, _, get_language, ngettext, pgettext
from ..text import interval, money, month_label, num, pct, points, window_label

HEADLINE_WORDS = 25


def _ok(x: Any) -> TypeGuard[float]:
    try:
        return x is not None and math.isfinite(float(x))
    except (TypeError, ValueError):
        return False


def _month_name(month: pd.Period) -> str:
    """October (ja: 10月): the month before the report month, in a change's comparison."""
    if get_language() == "en":
        return month.strftime("%B")
    from babel.dates import format_skeleton

    return str(format_skeleton("MMMM", month.start_time.date(), locale=get_language()))


def month_short(month: pd.Period | str) -> str:
    """Nov 2026 (ja: 2026年11月)."""
    month = pd.Period(month, "M")
    return month.strftime("%b %Y") if get_language() == "en" else month_label(month)


def sentence(clause: str) -> str:
    """A clause ended as a sentence: ``clause.`` (ja: ``clause。``)."""
    # TRANSLATORS: a clause and its full stop (Japanese: 。)
    return _("{clause}.").format(clause=clause)


def clauses(first: str, *more: str) -> str:
    """Clauses of one finding: ``a; b`` in English, two sentences in Japanese (``a。b``)."""
    out = first
    for clause in more:
        # TRANSLATORS: two clauses of one finding; in Japanese two sentences (a。b)
        out = _("{first}; {second}").format(first=out, second=clause)
    return out


def listed(items: list[str], separator: str = "; ") -> str:
    """Items of a list in a sentence: ``a; b`` or ``a, b`` (ja: ``a、b``)."""
    if separator == ", ":
        # TRANSLATORS: between the items of a short list (Japanese: 、)
        joiner = pgettext("list separator", ", ")
    else:
        # TRANSLATORS: between the items of a list of phrases (Japanese: 、)
        joiner = pgettext("list separator", "; ")
    return joiner.join(items)


def _accounts(n: int) -> str:
    return ngettext("{n} account", "{n} accounts", n).format(n=f"{n:,}")


def word_count(text: str) -> int:
    return len(text.split())


# --- the six numbers -----------------------------------------------------------------------------------

def change_class(change: float | None, low: float | None, high: float | None, higher_is_better: bool,
                 exact: bool = False) -> str:
    """better / worse / noise / flat. A change whose interval holds 0 is noise; a change with no interval
    is coloured only when it is exact (a count of money or accounts, with no sampling error)."""
    if not _ok(change) or change == 0:
        return "flat"
    if not exact:
        if not (_ok(low) and _ok(high)):
            return "flat"
        if low <= 0 <= high:  # type: ignore[operator]
            return "noise"
    return "better" if (change > 0) == higher_is_better else "worse"  # type: ignore[operator]


def _no_figure(month: pd.Period) -> str:
    return _("no {month} figure to compare with").format(month=_month_name(month))


def _on(change: str, month: pd.Period) -> str:
    # TRANSLATORS: a number's change on the month before, e.g. "+0.6 pt on October"
    return _("{change} on {month}").format(change=change, month=_month_name(month))


def _rate_card(key: str, label: str, series: Mapping, month: pd.Period, confidence: float,
               higher_is_better: bool, why_missing: str) -> dict:
    values = series.get("value") or []
    last = values[-1] if values else None
    card: dict[str, Any] = {"key": key, "label": label, "series": values, "months": None}
    if not _ok(last):
        return {**card, "value": None, "why": series.get("why") or why_missing}
    card["value"] = pct(last)
    low, high = (series.get("low") or [None])[-1], (series.get("high") or [None])[-1]
    card["interval"] = (interval(low, high, "pct", confidence=confidence) if _ok(low) and _ok(high) and low != high
                        else _("no interval: too few accounts"))
    change, c_low, c_high = series.get("change"), series.get("change_low"), series.get("change_high")
    if not _ok(change):
        card["change"], card["tone"] = _no_figure(month - 1), "flat"
        return card
    tone = change_class(change, c_low, c_high, higher_is_better)
    card["tone"] = tone
    if tone == "noise":
        # TRANSLATORS: a change on the month before whose interval holds 0
        card["change"] = _("{change} on {month}, within noise").format(change=points(change, signed=True),
                                                                       month=_month_name(month - 1))
    else:
        card["change"] = _on(points(change, signed=True), month - 1)
    if _ok(c_low) and _ok(c_high):
        card["change_interval"] = interval(c_low, c_high, "points", confidence=confidence)
    return card


LOGO_CHURN_LABEL = N_("Logo churn, {month}")
GRR_LABEL = N_("GRR, 12-month cohort")
NRR_LABEL = N_("NRR, 12-month cohort")
NO_TREND = N_("no trend line: the risk model is refitted each month, so its past figures are not replayed here")


def number_cards(series: Mapping, manifest: Mapping, previous: Mapping[str, Mapping]) -> list[dict]:
    """The six cards: logo churn, 12-month GRR, 12-month NRR, ARR, ARR at risk, new alerts. Each: ``label``,
    ``value`` (text) or ``why``; ``interval``; ``change`` and its ``tone``; ``series`` (numbers for the
    sparkline, whose last point is the card's number) or ``no_trend`` (why there is no line)."""
    from . import brief

    month = pd.Period(manifest["month"], "M")
    confidence = float((series.get("conventions") or {}).get("confidence") or 0.95)
    logo_label = _(LOGO_CHURN_LABEL).format(month=month_short(month))
    cards = []
    if series.get("error"):
        why = series["error"]
        cards += [{"key": k, "label": lab, "value": None, "why": why} for k, lab in
                  (("logo_churn", logo_label), ("grr_12m", _(GRR_LABEL)), ("nrr_12m", _(NRR_LABEL)), ("arr", "ARR"))]
    else:
        cards.append(_rate_card("logo_churn", logo_label, series["logo_churn"], month, confidence, False,
                                _("no account was paying at the start of the month")))
        cards.append(_rate_card("grr_12m", _(GRR_LABEL), series["grr_12m"], month, confidence, True,
                                _("no 12-month cohort")))
        cards.append(_rate_card("nrr_12m", _(NRR_LABEL), series["nrr_12m"], month, confidence, True,
                                _("no 12-month cohort")))
        arr = series["arr"]
        card = {"key": "arr", "label": "ARR", "series": arr["value"], "value": money(arr["value"][-1], compact=True),
                "interval": _("{amount} at month end").format(amount=money(arr["value"][-1]))}
        if _ok(arr.get("change")):
            card["tone"] = change_class(arr["change"], None, None, True, exact=True)
            # TRANSLATORS: ARR's net change on the month before, e.g. "+$1.2M net on October"
            card["change"] = _("{change} net on {month}").format(change=money(arr["change"], compact=True, signed=True),
                                                                 month=_month_name(month - 1))
        else:
            card["tone"], card["change"] = "flat", _no_figure(month - 1)
        cards.append(card)

    no_trend = _(NO_TREND)
    risk = brief.summary_of(manifest, brief.RISK_NOTEBOOK)
    label = _("ARR at risk, next {days} days")
    card = {"key": "arr_at_risk", "label": label.format(days=90), "no_trend": no_trend}
    if _ok(risk.get("arr_at_risk")):
        horizon = risk.get("horizon_days")
        if _ok(horizon):
            card["label"] = label.format(days=int(horizon))
        card["value"] = money(risk["arr_at_risk"], compact=True)
        if _ok(risk.get("arr")) and risk["arr"] > 0:
            card["interval"] = _("{share} of ARR, expected churn (no interval)").format(
                share=pct(risk["arr_at_risk"] / risk["arr"]))
        before = (previous.get(brief.RISK_NOTEBOOK) or {}).get("arr_at_risk")
        if _ok(before):
            change = risk["arr_at_risk"] - before
            card["change"] = _("{change} on {month}'s report").format(change=money(change, compact=True, signed=True),
                                                                      month=_month_name(month - 1))
            # the model's expectation has no interval here: coloured by its direction, as a count is
            card["tone"] = change_class(change, None, None, higher_is_better=False, exact=True)
        else:
            card["change"], card["tone"] = _no_report(month - 1), "flat"
    else:
        card["value"], card["why"] = None, _why_no_summary(manifest, brief.RISK_NOTEBOOK, _("the churn drivers report"))
    cards.append(card)

    post = brief.summary_of(manifest, brief.POSTMORTEM_NOTEBOOK)
    card = {"key": "new_alerts", "label": _("New alerts"), "no_trend": no_trend}
    if _ok(post.get("new_alerts")):
        n = int(post["new_alerts"])
        card["value"] = f"{n:,}"
        card["interval"] = ngettext("{n} account entered the top risk band", "{n} accounts entered the top risk band",
                                    n).format(n=f"{n:,}")
        types = post.get("alerts_by_type") or {}
        if len(types) > 1:
            card["interval"] = ngettext("{n} account raised a new alert", "{n} accounts raised a new alert",
                                        n).format(n=f"{n:,}")
        before = (previous.get(brief.POSTMORTEM_NOTEBOOK) or {}).get("new_alerts")
        band = ((post.get("alert_rule_audit") or {}).get("band") or {})
        if _ok(before):
            change = n - int(before)
            card["change"] = _on(f"{'+' if change > 0 else ''}{num(change)}", month - 1)
            card["tone"] = change_class(change, None, None, higher_is_better=False, exact=True)
        elif _ok(band.get("alerts_per_month")) and band.get("first_month") and band.get("last_month"):
            window = window_label(pd.Period(band["first_month"], "M"), pd.Period(band["last_month"], "M"))
            card["change"] = _("{n} a month on average, {window}").format(n=num(round(band["alerts_per_month"])),
                                                                          window=window)
            card["tone"] = "flat"
        else:
            card["change"], card["tone"] = _no_report(month - 1), "flat"
    else:
        card["value"], card["why"] = None, _why_no_summary(manifest, brief.POSTMORTEM_NOTEBOOK,
                                                           _("the churn postmortem"))
    cards.append(card)
    return cards


def _no_report(month: pd.Period) -> str:
    return _("no {month} report to compare with").format(month=_month_name(month))


def _why_no_summary(manifest: Mapping, notebook: str, what: str) -> str:
    """Why a report's number is missing; ``what`` names the report (already in the run's language)."""
    from . import brief

    entry = brief.entries(manifest).get(notebook)
    if entry is None:
        return _("{what} was not run this month").format(what=what)
    if entry.get("status") == "not enough data":
        return _("{what} had not enough data this month").format(what=what)
    if entry.get("status") == "failed":
        return _("{what} failed this month").format(what=what)
    return _("{what} did not record this number").format(what=what)


# --- where to act ---------------------------------------------------------------------------------------

def driver_sentence(manifest: Mapping) -> str:
    """The segment whose churn moved the month's logo churn most, with its interval; 'within noise' when
    the interval holds 0."""
    from . import brief

    s = brief.summary_of(manifest, brief.CHURN_NOTEBOOK)
    driver = s.get("change_driver") or {}
    if not s:
        return sentence(_why_no_summary(manifest, brief.CHURN_NOTEBOOK, _("The churn decomposition")))
    ci = driver.get("total_ci") or [None, None]
    if not driver.get("segment") or not _ok(driver.get("total_effect")):
        return _("No segment can be named: the two churn windows have too few churns to compare.")
    entry = brief.entries(manifest)[brief.CHURN_NOTEBOOK]
    params = entry.get("parameters") or {}
    confidence = float(params.get("confidence") or 0.95)
    window = int(s.get("window_months") or params.get("window_months") or 3)
    month = pd.Period(manifest["month"], "M")
    after = window_label(month - window + 1, month)
    before = window_label(month - 2 * window + 1, month - window)
    effect = points(driver["total_effect"], signed=True)
    if _ok(ci[0]) and _ok(ci[1]):
        band = interval(ci[0], ci[1], "points", confidence=confidence)
        effect = (_("{effect} ({interval}), within noise") if ci[0] <= 0 <= ci[1]
                  else _("{effect} ({interval})")).format(effect=effect, interval=band)
    change = driver.get("total_change")
    if _ok(change):
        text = _("Logo churn moved {change} from {before} to {after}; {segment} moved it most, {effect}.")
    else:
        text = _("Logo churn from {before} to {after}: {segment} moved it most, {effect}.")
    return text.format(change=points(change, signed=True) if _ok(change) else "", before=before, after=after,
                       segment=_segment(driver), effect=effect)


def _segment(driver: Mapping) -> str:
    """The segment that moved churn as report 01 names it (``SMB · monthly`` -> ``SMB · 月次`` in Japanese);
    a summary from before 01 recorded how it was cut is shown as the data has it."""
    from ..analyses.churn_decomposition.words import segment_label

    if "segmented_by" not in driver:
        return str(driver["segment"])
    return segment_label(driver["segment"], driver["segmented_by"])


def experiment_lines(manifest: Mapping) -> list[str]:
    """One line per experiment that ended, from 04's KPIs (its primary estimate with its interval)."""
    from . import brief

    s = brief.summary_of(manifest, brief.EXPERIMENTS_NOTEBOOK)
    if not s:
        return [sentence(_why_no_summary(manifest, brief.EXPERIMENTS_NOTEBOOK, _("The experiments report")))]
    ended = {e.get("experiment_id"): e for e in s.get("experiments") or []
             if str(e.get("status", "")).startswith("ended")}
    lines = []
    for kpi in s.get("kpis") or []:
        if kpi.get("experiment_id") in ended and kpi.get("display"):
            status = str(ended[kpi["experiment_id"]].get("status"))
            when = status.removeprefix("ended").strip()
            if when:
                lines.append(_("{name}: {result}, ended {month}.").format(
                    name=kpi["name"], result=kpi["display"], month=month_short(when)))
            else:
                lines.append(_("{name}: {result}.").format(name=kpi["name"], result=kpi["display"]))
    if not lines and not s.get("experiments") and not s.get("experiments_in_data"):
        return [_("No experiment in the data to read out.")]
    if not lines:
        running = len(s.get("experiments") or [])
        month = month_label(pd.Period(manifest["month"], "M"))
        if running:
            still = ngettext("{n} experiment still running", "{n} experiments still running", running).format(
                n=f"{running:,}")
            lines.append(_("No experiment had ended by {month}; {running}.").format(month=month, running=still))
        else:
            lines.append(_("No experiment had ended by {month}.").format(month=month))
    return lines


ALERT_TYPES = {  # the alert kinds report 05 records (summary.json's alerts_by_type keys), in the run's language
    "entered the top risk band": N_("entered the top risk band"),
    "in the top risk band at first score": N_("in the top risk band at first score"),
}


def alerts_sentence(manifest: Mapping) -> str:
    from . import brief

    s = brief.summary_of(manifest, brief.POSTMORTEM_NOTEBOOK)
    if not _ok(s.get("new_alerts")):
        return sentence(_why_no_summary(manifest, brief.POSTMORTEM_NOTEBOOK, _("The churn postmortem")))
    n = int(s["new_alerts"])
    if n == 0:
        return _("No account raised a new alert this month.")
    types = s.get("alerts_by_type") or {}
    # TRANSLATORS: how many accounts raised one kind of alert, e.g. "41 entered the top risk band"
    kinds = listed([_("{n} {alert}").format(n=num(v), alert=_(ALERT_TYPES.get(k, k)))
                    for k, v in sorted(types.items(), key=lambda kv: -kv[1]) if _ok(v)])
    if kinds:
        return ngettext("{n} account raised a new alert: {kinds}.", "{n} accounts raised a new alert: {kinds}.",
                        n).format(n=f"{n:,}", kinds=kinds)
    return ngettext("{n} account raised a new alert.", "{n} accounts raised a new alert.", n).format(n=f"{n:,}")


# --- one sentence per report ------------------------------------------------------------------------------

def _kpi(summary: Mapping, starts: str, key: str | None = None) -> dict:
    """A report's KPI by its machine ``key`` (the same in every language) or, without one, its name's start."""
    return next((k for k in summary.get("kpis") or []
                 if (key is not None and k.get("key") == key) or str(k.get("name", "")).startswith(starts)), {})


def _data_overview(s: Mapping, month: pd.Period) -> str | None:
    mrr, paying = _kpi(s, "MRR", "mrr").get("value"), _kpi(s, "Paying", "paying_accounts").get("value")
    quality = s.get("data_quality") or {}
    if not (_ok(mrr) and _ok(paying)):
        return None
    n = int(paying)
    text = ngettext("{n} paying account and {mrr} MRR at the end of {month}",
                    "{n} paying accounts and {mrr} MRR at the end of {month}", n).format(
        n=f"{n:,}", mrr=money(mrr), month=month_label(month))
    if _ok(quality.get("rows_read")) and _ok(quality.get("rows_rejected")):
        rejected = int(quality["rows_rejected"])
        text = clauses(text, _("every row read was usable") if rejected == 0 else
                       _("{rejected} of {read} rows rejected").format(rejected=num(rejected),
                                                                      read=num(quality["rows_read"])))
    return sentence(text)


def _churn(s: Mapping, month: pd.Period) -> str | None:
    rate, ci = s.get("logo_churn_rate"), s.get("logo_churn_ci") or [None, None]
    if not _ok(rate):
        return None
    if _ok(ci[0]) and _ok(ci[1]):
        text = _("Logo churn {rate} in {month} ({interval})").format(
            rate=pct(rate), month=month_label(month), interval=interval(ci[0], ci[1], confidence=0.95))
    else:
        text = _("Logo churn {rate} in {month}").format(rate=pct(rate), month=month_label(month))
    parts = [f"{name} {pct(s[key])}" for name, key in (("NRR", "nrr_12m"), ("GRR", "grr_12m")) if _ok(s.get(key))]
    if parts:
        # TRANSLATORS: {values} is e.g. "NRR 94.9%, GRR 78.4%"
        text = clauses(text, _("12-month cohort {values}").format(values=listed(parts, ", ")))
    return sentence(text)


def _survival(s: Mapping, month: pd.Period) -> str | None:
    overall = s.get("overall") or {}
    keep = overall.get("survival_12m")
    if not _ok(keep):
        return None
    text = _("{share} of accounts still pay at 12 months").format(share=pct(keep, 0))
    hr = s.get("fast_value_hazard_ratio") or {}
    days = (s.get("ttv_buckets_days") or [None])[0]
    if _ok(hr.get("hazard_ratio")) and _ok(days):
        if _ok(hr.get("lower")) and _ok(hr.get("upper")):
            value = _("first value within {days} days goes with a churn hazard ratio of {ratio} ({interval})").format(
                days=int(days), ratio=num(hr["hazard_ratio"]),
                interval=interval(hr["lower"], hr["upper"], "number", 2, confidence=0.95))
        else:
            value = _("first value within {days} days goes with a churn hazard ratio of {ratio}").format(
                days=int(days), ratio=num(hr["hazard_ratio"]))
        text = clauses(text, value)
    return sentence(text)


def _drivers(s: Mapping, month: pd.Period) -> str | None:
    at_risk, arr = s.get("arr_at_risk"), s.get("arr")
    if not _ok(at_risk):
        return None
    days = s.get("horizon_days")
    if _ok(arr) and _ok(days):
        text = _("{at_risk} of {arr} ARR is expected to churn within {days} days")
    elif _ok(arr):
        text = _("{at_risk} of {arr} ARR is expected to churn")
    elif _ok(days):
        text = _("{at_risk} ARR is expected to churn within {days} days")
    else:
        text = _("{at_risk} ARR is expected to churn")
    text = text.format(at_risk=money(at_risk, compact=True), arr=money(arr, compact=True) if _ok(arr) else "",
                       days=int(days) if _ok(days) else "")
    if _ok(s.get("red_accounts")) and _ok(s.get("paying_accounts")):
        text = clauses(text, _("{red} of {paying} accounts are red").format(red=num(s["red_accounts"]),
                                                                            paying=num(s["paying_accounts"])))
    auc = ((s.get("backtest") or {}).get("gbm") or {}).get("auc")
    if _ok(auc):
        text = clauses(text, _("backtest AUC {auc}").format(auc=f"{auc:.2f}"))
    return sentence(text)


def _experiments(s: Mapping, month: pd.Period) -> str | None:
    experiments = s.get("experiments") or []
    kpis = [k for k in s.get("kpis") or [] if k.get("display")]
    if not experiments:
        return None
    n = len(experiments)
    text = ngettext("{n} experiment read out", "{n} experiments read out", n).format(n=f"{n:,}")
    if kpis:
        longer = clauses(text, _("{name}: {result}").format(name=kpis[0]["name"], result=kpis[0]["display"]))
        if word_count(longer) <= HEADLINE_WORDS:
            text = longer
    return sentence(text)


def _postmortem(s: Mapping, month: pd.Period) -> str | None:
    churned = s.get("churned_accounts")
    if not _ok(churned):
        return None
    n = int(churned)
    if _ok(s.get("arr_lost")):
        text = ngettext("{n} account churned in {month}, taking {arr} ARR",
                        "{n} accounts churned in {month}, taking {arr} ARR", n).format(
            n=f"{n:,}", month=month_label(month), arr=money(s["arr_lost"], compact=True))
    else:
        text = ngettext("{n} account churned in {month}", "{n} accounts churned in {month}", n).format(
            n=f"{n:,}", month=month_label(month))
    last = (s.get("warning_record") or {}).get("last_check") or {}
    if _ok(last.get("churns_flagged")) and _ok(last.get("churns")) and last["churns"] > 0:
        # a detection rate is never shown without its false-alarm comparator (issue 16.2)
        if _ok(last.get("false_alarm_rate")):
            text = clauses(text, _("{flagged} of {churns} had been flagged (vs {rate} of the accounts that "
                                   "stayed)").format(flagged=num(last["churns_flagged"]), churns=num(last["churns"]),
                                                     rate=pct(last["false_alarm_rate"], decimals=0)))
    return sentence(text)


HEADLINES = {
    "00_data_overview": _data_overview,
    "01_churn_decomposition": _churn,
    "02_onboarding_survival": _survival,
    "03_churn_drivers": _drivers,
    "04_uplift_experiments": _experiments,
    "05_churn_postmortem": _postmortem,
}


def report_headline(entry: Mapping, month: pd.Period | str) -> str:
    """One sentence (under ~25 words) for a report's card, from its summary numbers; for a report this
    module does not know, its own headline's first clause or its first KPI; for a failed report, why."""
    month = pd.Period(month, "M")
    status = entry.get("status")
    summary = entry.get("summary") or {}
    if status == "failed":
        return _("This month's run failed; there is no earlier good report of this month to show.")
    if status == "not enough data":
        why = entry.get("error") or _("the data cannot support this report yet")
        return _("Not enough data: {reason}").format(reason=_first_sentence(why))
    maker = HEADLINES.get(entry.get("notebook", ""))
    text = maker(summary, month) if maker else None
    if text and word_count(text) <= HEADLINE_WORDS:
        return text
    own = str(summary.get("headline") or "")
    for candidate in (own, own.split(";")[0].rstrip(".") + "."):
        if candidate.strip(". ") and word_count(candidate) <= HEADLINE_WORDS:
            return candidate
    kpi = next((k for k in summary.get("kpis") or [] if k.get("display")), None)
    if kpi:
        line = _("{name}: {result}.").format(name=kpi["name"], result=kpi["display"])
        if word_count(line) <= HEADLINE_WORDS:
            return line
    return _("The report recorded no number short enough for a headline; open it for its findings.")


def _first_sentence(text: str) -> str:
    """The first sentence of a message (a Japanese one ends at 。), cut to a headline's length."""
    text = text.strip()
    if "\u3002" in text:
        return text.split("\u3002")[0] + "\u3002"
    sentence_ = text.split(". ")[0].rstrip(".")
    words = sentence_.split()
    if len(words) > HEADLINE_WORDS - 3:
        sentence_ = " ".join(words[: HEADLINE_WORDS - 3]) + " …"
    return sentence_ if sentence_.endswith("…") else sentence(sentence_)


def status_line(manifest: Mapping) -> str:
    """All 6 reports are up to date. / 1 of 6 reports failed; 1 had not enough data."""
    notebooks = manifest.get("notebooks") or []
    n = len(notebooks)
    failed = [e for e in notebooks if e.get("status") in ("failed", "stale")]
    thin = [e for e in notebooks if e.get("status") == "not enough data"]
    if not failed and not thin:
        if n == 1:
            return _("The report is up to date.")
        return ngettext("All {n} report is up to date.", "All {n} reports are up to date.", n).format(n=f"{n:,}")
    parts = []
    if failed:
        parts.append(ngettext("{failed} of {n} report failed", "{failed} of {n} reports failed", n).format(
            failed=len(failed), n=f"{n:,}"))
    if thin and not failed:
        parts.append(ngettext("{thin} of {n} report had not enough data", "{thin} of {n} reports had not enough data",
                              n).format(thin=len(thin), n=f"{n:,}"))
    elif thin:
        parts.append(_("{thin} had not enough data").format(thin=len(thin)))
    return sentence(clauses(*parts))
