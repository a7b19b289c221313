"""The month's index page is the monthly brief a head of Customer Success opens first: the month in six
numbers (each with its change on last month, its interval and a 12-month line), where to act this month,
one card per report with a one-sentence headline and its status, and links to earlier months.

Numbers come from :mod:`.brief` (series computed from the run's data, the reports' summaries and CSVs);
sentences from :mod:`.brief_words`. Every data value is escaped; the page makes no request to another
host (inline CSS and SVG, no script).
"""

from __future__ import annotations

import html
from pathlib import Path
from typing import Any, Mapping

import pandas as pd

from .. import style
from ..i18n import N_, _, get_language, join_sentences, ngettext, pgettext
from ..notebook.headers import HEADERS
from ..text import day, money, month_label, pct
from . import brief, webfont
from . import brief_words as words

TITLES = {
    "00_data_overview": N_("Data overview"),
    "01_churn_decomposition": N_("Churn decomposition"),
    "02_onboarding_survival": N_("Onboarding and survival"),
    "03_churn_drivers": N_("Churn drivers and at-risk accounts"),
    "04_uplift_experiments": N_("Experiments"),
    "05_churn_postmortem": N_("Churn postmortem"),
}

# worse / better / within noise or nothing to compare with: the charts' one colour meaning (csresearch.style),
# for the trend line's last dot; the change's words take the dark shade of the same hue (see _CSS)
TONE = {"better": style.BETTER, "worse": style.WORSE, "noise": style.NEUTRAL, "flat": style.NEUTRAL}

# headings and short words of the page, marked here (a call inside an f-string is not extracted for the catalog)
WORDS = {
    "trend_too_short": N_("Too few months of data for a trend line."),
    "no_owner": N_("no owner"),
    "not_scored": N_("not scored"),
    "no_reason": N_("no reason recorded"),
    "at_risk_report": N_("the at-risk report"),
    "what_moved": N_("What moved churn"),
    "experiments_ended": N_("Experiments that ended"),
    "alerts_raised": N_("Alerts raised"),
    "what_failed": N_("What failed"),
    "error": N_("Error"),
    "adhoc_runs": N_("Reviews and ad-hoc runs this month"),
    "earlier_months": N_("Earlier months"),
    "no_earlier": N_("No earlier month has been published in this folder."),
    "where_to_act": N_("Where to act this month"),
    "call_first": N_("Accounts to call first"),
    "reports": N_("The reports"),
}

_CSS = """
 * { box-sizing: border-box; }
 body { font-family: -apple-system, "Segoe UI", Helvetica, Arial, sans-serif; color: #1f2328; margin: 0;
        padding: 10px 20px 24px; max-width: 1340px; margin: 0 auto; font-size: 14px; line-height: 1.35; }
 a { color: #1d4f91; }
 header { display: flex; align-items: baseline; gap: 14px; flex-wrap: wrap; margin-bottom: 6px; }
 h1 { font-size: 21px; margin: 0; } .status { color: #4b5563; font-size: 13px; }
 h2 { font-size: 15px; margin: 12px 0 6px; text-transform: uppercase; letter-spacing: .04em; color: #374151; }
 .nums { display: grid; grid-template-columns: repeat(6, 1fr); gap: 8px; }
 .num { border: 1px solid #e5e7eb; border-radius: 8px; padding: 7px 10px 6px; background: #fafafa; }
 .lab { font-size: 12px; color: #4b5563; } .big { font-size: 24px; font-weight: 650; margin: 1px 0; }
 .ci { font-size: 11.5px; color: #4b5563; min-height: 15px; } .chg { font-size: 12.5px; font-weight: 600; margin-top: 2px; }
 .why { font-size: 11.5px; color: #6b7280; margin-top: 3px; } svg.spark { display: block; margin-top: 3px; }
 .better { color: @better_dark@; } .worse { color: @worse_dark@; } .noise, .flat { color: #6b7280; }
 .act { display: grid; grid-template-columns: 1.6fr 1fr; gap: 16px; }
 table { border-collapse: collapse; width: 100%; font-size: 12.5px; }
 th { text-align: left; font-weight: 600; color: #4b5563; border-bottom: 1px solid #d1d5db; padding: 3px 6px; }
 td { border-bottom: 1px solid #eef0f2; padding: 3px 6px; vertical-align: top; text-align: left; }
 td.n, th.n, td.nw { text-align: right; white-space: nowrap; } td.nw { text-align: left; }
 .id { color: #6b7280; font-size: 11.5px; }
 .side p { margin: 0 0 7px; } .side h3 { font-size: 13px; margin: 0 0 2px; color: #374151; }
 .note { font-size: 12px; color: #6b7280; margin: 4px 0 0; }
 .reports { display: grid; grid-template-columns: repeat(3, 1fr); gap: 8px; }
 .card { border: 1px solid #e5e7eb; border-radius: 8px; padding: 8px 12px; }
 .card h3 { font-size: 14px; margin: 0 0 3px; } .card h3 a { text-decoration: none; }
 .card p { margin: 3px 0 0; font-size: 13px; }
 .badge { font-size: 11px; font-weight: 600; border-radius: 10px; padding: 1px 8px; margin-left: 6px; }
 .b-ok { background: #e6f5f0; color: @better_dark@; } .b-failed { background: #fbece3; color: @worse_dark@; }
 .b-stale { background: #fff4e5; color: #8a4b00; } .b-thin { background: #f3f4f6; color: #4b5563; }
 details { font-size: 12px; color: #4b5563; margin-top: 4px; }
 .months a { margin-right: 10px; } .meta { color: #6b7280; font-size: 11.5px; margin-top: 14px; }
 @media print { .nums { grid-template-columns: repeat(3, 1fr); } .act, .reports { grid-template-columns: 1fr 1fr; } }
"""
# a change's words in the dark shade of the same hue: 12.5 px text needs 4.5:1 on the card (WCAG AA), which
# BETTER (3.3:1), WORSE (3.7:1) and NEUTRAL (3.0:1) do not reach; the dark shades give 6.2-6.6:1 and the grey 4.6:1
for _name, _colour in (("better_dark", style.BETTER_DARK), ("worse_dark", style.WORSE_DARK)):
    _CSS = _CSS.replace(f"@{_name}@", _colour)


def _e(value: Any) -> str:
    return html.escape(str(value), quote=True)


def _template(sentence: str) -> str:
    """A translated sentence escaped as element text, its ``{fields}`` left for markup (links) and escaped values."""
    return html.escape(sentence, quote=False)


def _w(key: str) -> str:
    """One of :data:`WORDS` in the run's language, escaped."""
    return _e(_(WORDS[key]))


def sparkline(values: list, tone: str, label: str, months: list[str], fmt, width: int = 150,
              height: int = 30) -> str:
    """An inline SVG line of ``values`` (None breaks the line), its last point a dot in the change's colour.
    Its title names the first and last months' values, for a reader hovering and for screen readers."""
    points = [(i, v) for i, v in enumerate(values) if v is not None]
    if len(points) < 2:
        return ""
    low, high = min(v for _, v in points), max(v for _, v in points)
    span = (high - low) or abs(high) or 1.0
    pad = 3

    def xy(i: int, v: float) -> tuple[float, float]:
        x = pad + i * (width - 2 * pad) / max(len(values) - 1, 1)
        y = height - pad - (v - low) / span * (height - 2 * pad) if high != low else height / 2
        return round(x, 1), round(y, 1)

    runs: list[list[tuple[float, float]]] = []
    run: list[tuple[float, float]] = []
    for i, v in enumerate(values):
        if v is None:
            if run:
                runs.append(run)
            run = []
        else:
            run.append(xy(i, v))
    if run:
        runs.append(run)
    lines = "".join(f'<polyline fill="none" stroke="#5b6b82" stroke-width="1.5" points="{" ".join(f"{x},{y}" for x, y in r)}"/>'
                    for r in runs if len(r) > 1)
    x, y = xy(*points[-1])
    first_i, first_v = points[0]
    # TRANSLATORS: a trend line's description, e.g. "ARR: Dec 2025 $1.2M, lowest $1.1M, highest $1.4M, Nov 2026 $1.4M"
    title = _("{label}: {first_month} {first}, lowest {low}, highest {high}, {last_month} {last}").format(
        label=label, first_month=_month_short(months[first_i]), first=fmt(first_v), low=fmt(low), high=fmt(high),
        last_month=_month_short(months[points[-1][0]]), last=fmt(points[-1][1]))
    return (f'<svg class="spark" width="{width}" height="{height}" viewBox="0 0 {width} {height}" role="img" '
            f'aria-label="{_e(title)}"><title>{_e(title)}</title>{lines}'
            f'<circle cx="{x}" cy="{y}" r="3" fill="{TONE.get(tone, TONE["flat"])}"/></svg>')


def _month_short(month: str) -> str:
    return words.month_short(month)


_FORMAT = {"logo_churn": pct, "grr_12m": pct, "nrr_12m": pct, "arr": lambda v: money(v, compact=True)}


def _number_card(card: Mapping, months: list[str]) -> str:
    tone = card.get("tone", "flat")
    parts = [f'<div class="num"><div class="lab">{_e(card["label"])}</div>']
    if card.get("value") is None:
        why = _("Not computed: {why}.").format(why=card.get("why"))
        parts.append(f'<div class="big flat">—</div><div class="why">{_e(why)}</div></div>')
        return "".join(parts)
    parts.append(f'<div class="big">{_e(card["value"])}</div>')
    parts.append(f'<div class="ci">{_e(card.get("interval") or "")}</div>')
    change = _e(card.get("change") or "")
    if card.get("change_interval"):
        change = f'<span title="{_e(card["change_interval"])}">{change}</span>'
    parts.append(f'<div class="chg {tone}">{change}</div>')
    if card.get("series") and months:
        line = sparkline(card["series"], tone, card["label"], months, _FORMAT.get(card["key"], str))
        span = f'<div class="why">{_e(_month_short(months[0]))} – {_e(_month_short(months[-1]))}</div>'
        parts.append(line + span if line else f'<div class="why">{_w("trend_too_short")}</div>')
    elif card.get("no_trend"):
        parts.append(f'<div class="why">{_e(words.sentence(card["no_trend"][0].upper() + card["no_trend"][1:]))}</div>')
    parts.append("</div>")
    return "".join(parts)


def _call_table(rows: list[dict], manifest: Mapping) -> str:
    risk = brief.entries(manifest).get(brief.RISK_NOTEBOOK)
    if not rows:
        why = words._why_no_summary(manifest, brief.RISK_NOTEBOOK, _("the churn drivers report"))
        if risk and risk.get("status") in ("ok", "stale"):
            why = _("the churn drivers report recorded no at-risk list this month")
        said = _("No accounts to list: {why}.").format(why=why)
        return f'<p class="note">{_e(said)}</p>'
    owner, renewal = rows[0]["has_owner"], rows[0]["has_renewal"]
    # column headers: the shared mapping of the pages' tables (notebook/headers.py), two of the call list's own
    renewal_head, why_head = pgettext("call list column", "Renewal"), pgettext("call list column", "Why")
    head = (f"<tr><th>{_e(_(HEADERS['account_name']))}</th>"
            + (f"<th>{_e(_(HEADERS['csm_owner']))}</th>" if owner else "")
            + (f"<th>{_e(renewal_head)}</th>" if renewal else "")
            + f'<th class="n">{_e(_(HEADERS["arr_at_risk"]))}</th>'
            + f"<th>{_e(why_head)}</th></tr>")
    body = []
    for r in rows:
        name = _e(r["account_name"] or r["account_id"] or _("unnamed account"))
        ident = f' <span class="id">{_e(r["account_id"])}</span>' if r["account_name"] and r["account_id"] else ""
        cells = [f'<td class="nw">{name}{ident}</td>']
        if owner:
            no_owner = f"<span class=id>{_w('no_owner')}</span>"
            cells.append(f'<td class="nw">{_e(r["csm_owner"]) if r["csm_owner"] else no_owner}</td>')
        if renewal:
            cells.append(f'<td class="nw">{_e(_renewal(r["renewal_date"], r.get("billing_period")))}</td>')
        at_risk = money(r["arr_at_risk"]) if r["arr_at_risk"] is not None else _(WORDS["not_scored"])
        cells.append(f'<td class="n">{_e(at_risk)}</td>')
        cells.append(f"<td>{_e(words.listed(r['reasons']) or _(WORDS['no_reason']))}</td>")
        body.append("<tr>" + "".join(cells) + "</tr>")
    missing = (_("The at-risk list carries no CSM owner or renewal date yet.") if not (owner or renewal) else
               _("The at-risk list carries no CSM owner yet.") if not owner else
               _("The at-risk list carries no renewal date yet.") if not renewal else "")
    note = f'<p class="note">{_e(missing)}</p>' if missing else ""
    page = (risk or {}).get("html") or f"{brief.RISK_NOTEBOOK}.html"
    # the sentence is escaped first, then the links (markup) go into its fields
    link = ('<p class="note">' + _template(_("The top {n} by ARR at risk; the full list: {report} · {csv}")).format(
        n=len(rows), report=f'<a href="{_e(page)}">{_w("at_risk_report")}</a>',
        csv=f'<a href="{_e(brief.RISK_NOTEBOOK)}/at_risk_accounts.csv">at_risk_accounts.csv</a>') + "</p>")
    return f"<table>{head}{''.join(body)}</table>{note}{link}"


def _renewal(value: str | None, billing_period: str | None = None) -> str:
    if not value:
        return _("monthly, no term") if billing_period == "monthly" else _("none on file")
    try:
        return day(value)
    except (ValueError, TypeError):
        return value


def _side(manifest: Mapping) -> str:
    post = brief.summary_of(manifest, brief.POSTMORTEM_NOTEBOOK)
    alerts = _e(words.alerts_sentence(manifest))
    if post and post.get("new_alerts"):
        alerts += f' <a href="{_e(brief.POSTMORTEM_NOTEBOOK)}/alerts.csv">alerts.csv</a>'
    experiments = "".join(f"<p>{_e(line)}</p>" for line in words.experiment_lines(manifest))
    return (f'<div class="side"><h3>{_w("what_moved")}</h3><p>{_e(words.driver_sentence(manifest))}</p>'
            f'<h3>{_w("experiments_ended")}</h3>{experiments}'
            f'<h3>{_w("alerts_raised")}</h3><p>{alerts}</p></div>')


def _report_card(entry: Mapping, month: str) -> str:
    name, status = entry["notebook"], entry["status"]
    summary = entry.get("summary") or {}
    # a report's own title, or the name this page knows it by; either in the run's language when the catalog has it
    title = _(summary.get("title") or TITLES.get(name, name))
    badge = (_badge(status))
    text = words.report_headline(entry, month)
    extra = ""
    if status == "stale":
        kept = entry.get("kept_from")
        said = (_("This month's run failed; the last good report (from {day}) is shown. {link}.") if kept else
                _("This month's run failed; the last good report is shown. {link}."))
        link = f'<a href="{_e(entry.get("failed_html") or "")}">{_w("what_failed")}</a>'
        extra = f'<p class="note">{_template(said).format(day=_e(day(kept)) if kept else "", link=link)}</p>'
    if status in ("failed", "stale") and entry.get("error"):
        extra += f"<details><summary>{_w('error')}</summary>{_e(entry['error'])}</details>"
    return (f'<div class="card"><h3><a href="{_e(entry["html"])}">{_e(title)}</a>'
            f'<span class="badge {badge[0]}">{_e(badge[1])}</span></h3><p>{_e(text)}</p>{extra}</div>')


def _badge(status: str) -> tuple[str, str]:
    """The status badge's class and word (the manifest's status is a key, the same in every language)."""
    if status == "ok":
        return "b-ok", pgettext("report status", "ok")
    if status == "stale":
        return "b-stale", pgettext("report status", "stale")
    if status == "failed":
        return "b-failed", pgettext("report status", "failed")
    if status == "not enough data":
        return "b-thin", pgettext("report status", "not enough data")
    return "b-thin", status


def _adhoc_list(runs: list[dict]) -> str:
    if not runs:
        return ""
    items = "".join(
        f'<li><a href="{_e(r["path"])}/index.html">{_e(r["path"])}</a> '
        f'<span class="id">{_e(r["generated_at"])} · '
        f'{_e(", ".join(f"{k}={v}" for k, v in r["parameters"].items() if k != "output_dir"))}</span></li>'
        for r in runs)
    return f"<h2>{_w('adhoc_runs')}</h2><ul>{items}</ul>"


def _earlier(months: list[str], up: str) -> str:
    heading = f"<h2>{_w('earlier_months')}</h2>"
    if not months:
        return heading + f'<p class="note">{_w("no_earlier")}</p>'
    links = "".join(f'<a href="{_e(up)}{_e(m)}/index.html">{_e(month_label(m))}</a>' for m in months)
    return heading + f'<p class="months">{links}</p>'


def render(manifest: Mapping, folder: Path, reports: Path | None = None, adhoc: list[dict] | None = None) -> str:
    """The page for ``manifest``; ``folder`` holds the month's outputs (CSVs read for the call list),
    ``reports`` the published months (earlier months, last month's summaries)."""
    month = manifest["month"]
    period = pd.Period(month, "M")
    series = manifest.get("brief") or {"error": _("this run recorded no trend lines")}
    previous = {}
    if reports is not None:
        previous = {nb: brief.previous_summary(reports, period, nb)
                    for nb in (brief.RISK_NOTEBOOK, brief.POSTMORTEM_NOTEBOOK)}
    cards = words.number_cards(series, manifest, previous)
    months = series.get("months") or []
    status = words.status_line(manifest)
    cover = (manifest.get("data") or {}).get("coverage") or {}
    if cover.get("partial_month"):
        status = join_sentences(_("Partial month: the data covers {month} only to {day}.").format(
            month=month_label(period), day=day(cover.get("last"))), status)
    if manifest.get("adhoc"):
        status = join_sentences(_("Ad-hoc run ({name}), published apart from the monthly reports.").format(
            name=manifest["adhoc"]), status)
    table = brief.read_table(folder, manifest, brief.RISK_NOTEBOOK, "at_risk_accounts.csv")
    rows = brief.call_list(table)
    quality = (manifest.get("data") or {}).get("quality") or []
    read = sum(q["rows_read"] for q in quality)
    used = sum(q["rows_used"] for q in quality)
    rejected = sum(q["rows_rejected"] for q in quality)
    up = "../../../" if manifest.get("adhoc") else "../"
    earlier = brief.earlier_months(reports, period) if reports is not None and not manifest.get("adhoc") else []
    title = _("Customer success brief — {month}").format(month=month_label(period))
    data = manifest.get("data") or {}
    rows_said = ngettext("{n} row read = {used} used + {rejected} rejected",
                         "{n} rows read = {used} used + {rejected} rejected", read).format(
        n=f"{read:,}", used=f"{used:,}", rejected=f"{rejected:,}")
    # the sentence is escaped first, then the values (escaped) and the link go into its fields
    meta = _template(_("Data: {source} (fingerprint {fingerprint}) · {rows} · generated {when} · {manifest}")).format(
        source=_e(data.get("source")), fingerprint=_e(data.get("fingerprint")), rows=_e(rows_said),
        when=_e(manifest.get("generated_at")), manifest='<a href="manifest.json">manifest.json</a>')
    body = (
        f'<header><h1>{_e(title)}</h1>'
        f'<span class="status">{_e(status)}</span></header>'
        f'<div class="nums">{"".join(_number_card(c, months) for c in cards)}</div>'
        f'<h2>{_w("where_to_act")}</h2><div class="act"><div><h3 style="font-size:13px;margin:0 0 2px">'
        f'{_w("call_first")}</h3>{_call_table(rows, manifest)}</div>{_side(manifest)}</div>'
        f'<h2>{_w("reports")}</h2><div class="reports">'
        + "".join(_report_card(e, month) for e in manifest.get("notebooks") or []) + "</div>"
        + _adhoc_list(adhoc or []) + (_earlier(earlier, up) if not manifest.get("adhoc") else "")
        + f'<p class="meta">{meta}</p>'
    )
    return (f'<!doctype html>\n<html lang="{_e(get_language())}"><head><meta charset="utf-8">'
            f'<meta name="viewport" content="width=device-width, initial-scale=1">'
            f"<title>{_e(title)}</title><style>{_CSS}</style></head>"
            f"<body>{body}</body></html>\n")


def write(path: Path, manifest: dict, adhoc: list[dict] | None = None, reports: Path | None = None) -> Path:
    """Write the brief for ``manifest`` to ``path`` (the month's outputs are beside it)."""
    path.write_text(webfont.embed(render(manifest, path.parent, reports, adhoc)), encoding="utf-8")
    return path
