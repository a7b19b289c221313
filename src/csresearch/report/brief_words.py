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

from ..text import interval, money, month_label, num, pct, plural, points, window_label

HEADLINE_WORDS = 25


def _ok(x: Any) -> TypeGuard[float]:
    try:
        return x is not None and math.isfinite(float(x))
    except (TypeError, ValueError):
        return False


def _month_name(month: pd.Period) -> str:
    """October, or October 2025 when the year differs from the report month's."""
    return month.strftime("%B")


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
                        else "no interval: too few accounts")
    change, c_low, c_high = series.get("change"), series.get("change_low"), series.get("change_high")
    before = _month_name(month - 1)
    if not _ok(change):
        card["change"], card["tone"] = f"no {before} figure to compare with", "flat"
        return card
    tone = change_class(change, c_low, c_high, higher_is_better)
    card["tone"] = tone
    card["change"] = f"{points(change, signed=True)} on {before}"
    if tone == "noise":
        card["change"] += ", within noise"
    if _ok(c_low) and _ok(c_high):
        card["change_interval"] = interval(c_low, c_high, "points", confidence=confidence)
    return card


def number_cards(series: Mapping, manifest: Mapping, previous: Mapping[str, Mapping]) -> list[dict]:
    """The six cards: logo churn, 12-month GRR, 12-month NRR, ARR, ARR at risk, new alerts. Each: ``label``,
    ``value`` (text) or ``why``; ``interval``; ``change`` and its ``tone``; ``series`` (numbers for the
    sparkline, whose last point is the card's number) or ``no_trend`` (why there is no line)."""
    from . import brief

    month = pd.Period(manifest["month"], "M")
    confidence = float((series.get("conventions") or {}).get("confidence") or 0.95)
    cards = []
    if series.get("error"):
        why = series["error"]
        cards += [{"key": k, "label": lab, "value": None, "why": why} for k, lab in
                  (("logo_churn", f"Logo churn, {month.strftime('%b %Y')}"), ("grr_12m", "GRR, 12-month cohort"),
                   ("nrr_12m", "NRR, 12-month cohort"), ("arr", "ARR"))]
    else:
        cards.append(_rate_card("logo_churn", f"Logo churn, {month.strftime('%b %Y')}", series["logo_churn"], month,
                                confidence, False, "no account was paying at the start of the month"))
        cards.append(_rate_card("grr_12m", "GRR, 12-month cohort", series["grr_12m"], month, confidence, True,
                                "no 12-month cohort"))
        cards.append(_rate_card("nrr_12m", "NRR, 12-month cohort", series["nrr_12m"], month, confidence, True,
                                "no 12-month cohort"))
        arr = series["arr"]
        card = {"key": "arr", "label": "ARR", "series": arr["value"], "value": money(arr["value"][-1], compact=True),
                "interval": f"{money(arr['value'][-1])} at month end"}
        if _ok(arr.get("change")):
            card["tone"] = change_class(arr["change"], None, None, True, exact=True)
            card["change"] = f"{money(arr['change'], compact=True, signed=True)} net on {_month_name(month - 1)}"
        else:
            card["tone"], card["change"] = "flat", f"no {_month_name(month - 1)} figure to compare with"
        cards.append(card)

    no_trend = "no trend line: the risk model is refitted each month, so its past figures are not replayed here"
    risk = brief.summary_of(manifest, brief.RISK_NOTEBOOK)
    card = {"key": "arr_at_risk", "label": "ARR at risk, next 90 days", "no_trend": no_trend}
    if _ok(risk.get("arr_at_risk")):
        horizon = risk.get("horizon_days")
        if _ok(horizon):
            card["label"] = f"ARR at risk, next {int(horizon)} days"
        card["value"] = money(risk["arr_at_risk"], compact=True)
        if _ok(risk.get("arr")) and risk["arr"] > 0:
            card["interval"] = f"{pct(risk['arr_at_risk'] / risk['arr'])} of ARR, expected churn (no interval)"
        before = (previous.get(brief.RISK_NOTEBOOK) or {}).get("arr_at_risk")
        if _ok(before):
            change = risk["arr_at_risk"] - before
            card["change"] = f"{money(change, compact=True, signed=True)} on {_month_name(month - 1)}'s report"
            # the model's expectation has no interval here: coloured by its direction, as a count is
            card["tone"] = change_class(change, None, None, higher_is_better=False, exact=True)
        else:
            card["change"], card["tone"] = f"no {_month_name(month - 1)} report to compare with", "flat"
    else:
        card["value"], card["why"] = None, _why_no_summary(manifest, brief.RISK_NOTEBOOK, "the churn drivers report")
    cards.append(card)

    post = brief.summary_of(manifest, brief.POSTMORTEM_NOTEBOOK)
    card = {"key": "new_alerts", "label": "New alerts", "no_trend": no_trend}
    if _ok(post.get("new_alerts")):
        card["value"] = f"{int(post['new_alerts']):,}"
        card["interval"] = plural(int(post["new_alerts"]), "account") + " entered the top risk band"
        types = post.get("alerts_by_type") or {}
        if len(types) > 1:
            card["interval"] = plural(int(post["new_alerts"]), "account") + " raised a new alert"
        before = (previous.get(brief.POSTMORTEM_NOTEBOOK) or {}).get("new_alerts")
        band = ((post.get("alert_rule_audit") or {}).get("band") or {})
        if _ok(before):
            change = int(post["new_alerts"]) - int(before)
            card["change"] = f"{'+' if change > 0 else ''}{num(change)} on {_month_name(month - 1)}"
            card["tone"] = change_class(change, None, None, higher_is_better=False, exact=True)
        elif _ok(band.get("alerts_per_month")) and band.get("first_month") and band.get("last_month"):
            card["change"] = (f"{num(round(band['alerts_per_month']))} a month on average, "
                              f"{window_label(pd.Period(band['first_month'], 'M'), pd.Period(band['last_month'], 'M'))}")
            card["tone"] = "flat"
        else:
            card["change"], card["tone"] = f"no {_month_name(month - 1)} report to compare with", "flat"
    else:
        card["value"], card["why"] = None, _why_no_summary(manifest, brief.POSTMORTEM_NOTEBOOK, "the churn postmortem")
    cards.append(card)
    return cards


def _why_no_summary(manifest: Mapping, notebook: str, what: str) -> str:
    from . import brief

    entry = brief.entries(manifest).get(notebook)
    if entry is None:
        return f"{what} was not run this month"
    if entry.get("status") == "not enough data":
        return f"{what} had not enough data this month"
    if entry.get("status") == "failed":
        return f"{what} failed this month"
    return f"{what} did not record this number"


# --- where to act ---------------------------------------------------------------------------------------

def driver_sentence(manifest: Mapping) -> str:
    """The segment whose churn moved the month's logo churn most, with its interval; 'within noise' when
    the interval holds 0."""
    from . import brief

    s = brief.summary_of(manifest, brief.CHURN_NOTEBOOK)
    driver = s.get("change_driver") or {}
    if not s:
        return _why_no_summary(manifest, brief.CHURN_NOTEBOOK, "The churn decomposition") + "."
    ci = driver.get("total_ci") or [None, None]
    if not driver.get("segment") or not _ok(driver.get("total_effect")):
        return "No segment can be named: the two churn windows have too few churns to compare."
    entry = brief.entries(manifest)[brief.CHURN_NOTEBOOK]
    params = entry.get("parameters") or {}
    confidence = float(params.get("confidence") or 0.95)
    window = int(s.get("window_months") or params.get("window_months") or 3)
    month = pd.Period(manifest["month"], "M")
    after = (month - window + 1, month)
    before = (month - 2 * window + 1, month - window)
    change = driver.get("total_change")
    text = (f"Logo churn moved {points(change, signed=True)} from {window_label(*before)} to {window_label(*after)}; "
            if _ok(change) else f"Logo churn from {window_label(*before)} to {window_label(*after)}: ")
    text += f"{driver['segment']} moved it most, {points(driver['total_effect'], signed=True)}"
    if _ok(ci[0]) and _ok(ci[1]):
        text += f" ({interval(ci[0], ci[1], 'points', confidence=confidence)})"
        if ci[0] <= 0 <= ci[1]:
            text += ", within noise"
    return text + "."


def experiment_lines(manifest: Mapping) -> list[str]:
    """One line per experiment that ended, from 04's KPIs (its primary estimate with its interval)."""
    from . import brief

    s = brief.summary_of(manifest, brief.EXPERIMENTS_NOTEBOOK)
    if not s:
        return [_why_no_summary(manifest, brief.EXPERIMENTS_NOTEBOOK, "The experiments report") + "."]
    ended = {e.get("experiment_id"): e for e in s.get("experiments") or []
             if str(e.get("status", "")).startswith("ended")}
    lines = []
    for kpi in s.get("kpis") or []:
        if kpi.get("experiment_id") in ended and kpi.get("display"):
            status = str(ended[kpi["experiment_id"]].get("status"))
            when = status.removeprefix("ended").strip()
            label = f", ended {pd.Period(when, 'M').strftime('%b %Y')}" if when else ""
            lines.append(f"{kpi['name']}: {kpi['display']}{label}.")
    if not lines and not s.get("experiments") and not s.get("experiments_in_data"):
        return ["No experiment in the data to read out."]
    if not lines:
        running = len(s.get("experiments") or [])
        month = pd.Period(manifest["month"], "M")
        lines.append(f"No experiment had ended by {month_label(month)}"
                     + (f"; {plural(running, 'experiment')} still running." if running else "."))
    return lines


def alerts_sentence(manifest: Mapping) -> str:
    from . import brief

    s = brief.summary_of(manifest, brief.POSTMORTEM_NOTEBOOK)
    if not _ok(s.get("new_alerts")):
        return _why_no_summary(manifest, brief.POSTMORTEM_NOTEBOOK, "The churn postmortem") + "."
    n = int(s["new_alerts"])
    if n == 0:
        return "No account raised a new alert this month."
    types = s.get("alerts_by_type") or {}
    kinds = "; ".join(f"{num(v)} {k}" for k, v in sorted(types.items(), key=lambda kv: -kv[1]) if _ok(v))
    return f"{plural(n, 'account')} raised a new alert" + (f": {kinds}." if kinds else ".")


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
    text = f"{plural(int(paying), 'paying account')} and {money(mrr)} MRR at the end of {month_label(month)}"
    if _ok(quality.get("rows_read")) and _ok(quality.get("rows_rejected")):
        rejected = int(quality["rows_rejected"])
        text += ("; every row read was usable" if rejected == 0
                 else f"; {num(rejected)} of {num(quality['rows_read'])} rows rejected")
    return text + "."


def _churn(s: Mapping, month: pd.Period) -> str | None:
    rate, ci = s.get("logo_churn_rate"), s.get("logo_churn_ci") or [None, None]
    if not _ok(rate):
        return None
    text = f"Logo churn {pct(rate)} in {month_label(month)}"
    if _ok(ci[0]) and _ok(ci[1]):
        text += f" ({interval(ci[0], ci[1], confidence=0.95)})"
    parts = [f"{name} {pct(s[key])}" for name, key in (("NRR", "nrr_12m"), ("GRR", "grr_12m")) if _ok(s.get(key))]
    if parts:
        text += "; 12-month cohort " + ", ".join(parts)
    return text + "."


def _survival(s: Mapping, month: pd.Period) -> str | None:
    overall = s.get("overall") or {}
    keep = overall.get("survival_12m")
    if not _ok(keep):
        return None
    text = f"{pct(keep, 0)} of accounts still pay at 12 months"
    hr = s.get("fast_value_hazard_ratio") or {}
    days = (s.get("ttv_buckets_days") or [None])[0]
    if _ok(hr.get("hazard_ratio")) and _ok(days):
        text += (f"; first value within {int(days)} days goes with a churn hazard ratio of {num(hr['hazard_ratio'])}"
                 + (f" ({interval(hr['lower'], hr['upper'], 'number', 2, confidence=0.95)})"
                    if _ok(hr.get("lower")) and _ok(hr.get("upper")) else ""))
    return text + "."


def _drivers(s: Mapping, month: pd.Period) -> str | None:
    at_risk, arr = s.get("arr_at_risk"), s.get("arr")
    if not _ok(at_risk):
        return None
    days = s.get("horizon_days")
    text = f"{money(at_risk, compact=True)}" + (f" of {money(arr, compact=True)}" if _ok(arr) else "") + \
        " ARR is expected to churn" + (f" within {int(days)} days" if _ok(days) else "")
    if _ok(s.get("red_accounts")) and _ok(s.get("paying_accounts")):
        text += f"; {num(s['red_accounts'])} of {num(s['paying_accounts'])} accounts are red"
    auc = ((s.get("backtest") or {}).get("gbm") or {}).get("auc")
    if _ok(auc):
        text += f"; backtest AUC {auc:.2f}"
    return text + "."


def _experiments(s: Mapping, month: pd.Period) -> str | None:
    experiments = s.get("experiments") or []
    kpis = [k for k in s.get("kpis") or [] if k.get("display")]
    if not experiments:
        return None
    text = f"{plural(len(experiments), 'experiment')} read out"
    if kpis:
        first = f"; {kpis[0]['name']}: {kpis[0]['display']}"
        if word_count(text + first) <= HEADLINE_WORDS:
            text += first
    return text + "."


def _postmortem(s: Mapping, month: pd.Period) -> str | None:
    churned = s.get("churned_accounts")
    if not _ok(churned):
        return None
    text = f"{plural(int(churned), 'account')} churned in {month_label(month)}"
    if _ok(s.get("arr_lost")):
        text += f", taking {money(s['arr_lost'], compact=True)} ARR"
    last = (s.get("warning_record") or {}).get("last_check") or {}
    if _ok(last.get("churns_flagged")) and _ok(last.get("churns")) and last["churns"] > 0:
        text += (f"; {num(last['churns_flagged'])} of {num(last['churns'])} were flagged at the last check "
                 "before they left")
    return text + "."


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
        return "This month's run failed; there is no earlier good report of this month to show."
    if status == "not enough data":
        return f"Not enough data: {_first_sentence(entry.get('error') or 'the data cannot support this report yet')}"
    maker = HEADLINES.get(entry.get("notebook", ""))
    text = maker(summary, month) if maker else None
    if text and word_count(text) <= HEADLINE_WORDS:
        return text
    own = str(summary.get("headline") or "")
    for candidate in (own, own.split(";")[0].rstrip(".") + "."):
        if candidate.strip(". ") and word_count(candidate) <= HEADLINE_WORDS:
            return candidate
    kpi = next((k for k in summary.get("kpis") or [] if k.get("display")), None)
    if kpi and word_count(f"{kpi['name']}: {kpi['display']}.") <= HEADLINE_WORDS:
        return f"{kpi['name']}: {kpi['display']}."
    return "The report recorded no number short enough for a headline; open it for its findings."


def _first_sentence(text: str) -> str:
    sentence = text.strip().split(". ")[0].rstrip(".")
    words = sentence.split()
    if len(words) > HEADLINE_WORDS - 3:
        sentence = " ".join(words[: HEADLINE_WORDS - 3]) + " …"
    return sentence + ("" if sentence.endswith("…") else ".")


STATUS = {"ok": "ok", "stale": "stale: this month's run failed, the last good report is shown",
          "failed": "failed", "not enough data": "not enough data"}


def status_line(manifest: Mapping) -> str:
    """All 6 reports are up to date. / 1 of 6 reports failed; 1 had not enough data."""
    notebooks = manifest.get("notebooks") or []
    n = len(notebooks)
    failed = [e for e in notebooks if e.get("status") in ("failed", "stale")]
    thin = [e for e in notebooks if e.get("status") == "not enough data"]
    if not failed and not thin:
        text = "The report is up to date." if n == 1 else f"All {n} reports are up to date."
    else:
        parts = []
        if failed:
            parts.append(f"{len(failed)} of {plural(n, 'report')} failed")
        if thin:
            parts.append(f"{len(thin)} of {plural(n, 'report')} had not enough data" if not failed
                         else f"{len(thin)} had not enough data")
        text = "; ".join(parts) + "."
    return text
