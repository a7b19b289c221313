"""The month's index page: headline KPIs, then one card per report with status, duration and link."""

from __future__ import annotations

import html
from pathlib import Path

_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Customer success reports — {month}</title>
<style>
 body {{ font-family: -apple-system, Segoe UI, Helvetica, Arial, sans-serif; max-width: 1000px; margin: 24px auto;
        color: #222; padding: 0 12px; }}
 h1 {{ font-size: 24px; margin-bottom: 4px; }} .sub {{ color: #666; margin-top: 0; }}
 .card {{ border: 1px solid #ddd; border-radius: 8px; padding: 12px 16px; margin: 12px 0; }}
 .card h2 {{ font-size: 17px; margin: 0 0 6px 0; }} .card h2 a {{ color: #2E5A88; text-decoration: none; }}
 .ok {{ color: #2f7d32; font-weight: 600; }} .failed {{ color: #D1495B; font-weight: 600; }}
 .stale {{ color: #B26B00; font-weight: 600; }}
 .kpis {{ display: flex; flex-wrap: wrap; gap: 10px; margin: 8px 0; }}
 .kpi {{ background: #f5f7fa; border-radius: 6px; padding: 6px 10px; min-width: 150px; }}
 .kpi .n {{ font-size: 12px; color: #555; }} .kpi .v {{ font-size: 15px; font-weight: 600; }}
 .meta {{ color: #777; font-size: 12px; }} .headline {{ font-size: 15px; margin: 4px 0 8px 0; }}
 .files a {{ font-size: 12px; margin-right: 8px; }}
</style></head><body>
<h1>Customer success reports — {month}</h1>
<p class="sub">{status_line}</p>
{cards}
<p class="meta">Data: {source} (fingerprint {fingerprint})
 · rows read {rows_read:,} = used {rows_used:,} + rejected {rows_rejected:,}
 · generated {generated} · <a href="manifest.json">manifest.json</a></p>
</body></html>
"""

TITLES = {
    "00_data_overview": "Data overview",
    "01_churn_decomposition": "Churn decomposition",
    "02_onboarding_survival": "Onboarding and survival",
    "03_churn_drivers": "Churn drivers and at-risk accounts",
    "04_uplift_experiments": "Experiments",
    "05_churn_postmortem": "Churn postmortem",
}


STATUS_TEXT = {"ok": "✓ ok", "failed": "✗ failed", "stale": "⚠ stale: this run failed, last good report shown",
               "not enough data": "– not enough data"}


def _adhoc_list(runs: list[dict]) -> str:
    if not runs:
        return ""
    items = "".join(
        f'<li><a href="{html.escape(r["path"])}/index.html">{html.escape(r["path"])}</a> '
        f'<span class="meta">{html.escape(r["generated_at"])} · '
        f'{html.escape(", ".join(f"{k}={v}" for k, v in r["parameters"].items() if k != "output_dir"))}</span></li>'
        for r in runs)
    return f'<div class="card"><h2>Reviews and ad-hoc runs this month</h2><ul>{items}</ul></div>'


def _card(entry: dict) -> str:
    name, status = entry["notebook"], entry["status"]
    summary = entry.get("summary") or {}
    title = summary.get("title") or TITLES.get(name, name)
    kpis = "".join(
        f'<div class="kpi"><div class="n">{html.escape(str(k["name"]))}</div>'
        f'<div class="v">{html.escape(str(k["display"]))}</div></div>'
        for k in summary.get("kpis", [])[:6]
    )
    files = "".join(f'<a href="{name}/{html.escape(f)}">{html.escape(f)}</a>' for f in summary.get("tables", []))
    links = summary.get("links", [])
    files += "".join(f'<a href="{html.escape(link["href"])}">{html.escape(link["text"])}</a>' for link in links)
    headline = summary.get("headline")
    return (
        f'<div class="card"><h2><a href="{html.escape(entry["html"])}">{html.escape(title)}</a></h2>'
        f'<span class="{status}">{STATUS_TEXT.get(status, status)}</span>'
        f' <span class="meta">{entry["seconds"]:.0f}s · {name}</span>'
        + (f'<p class="headline">{html.escape(headline)}</p>' if headline else "")
        + (f'<p class="failed">{html.escape(entry["error"] or "")}</p>' if status == "failed" else "")
        + (f'<p class="meta">{html.escape(entry["error"] or "")}</p>' if status == "not enough data" else "")
        + (f'<p class="failed">This month\'s run of this report failed ({html.escape(entry["error"] or "")}); '
           f'the report shown is the last good one ({html.escape(str(entry.get("kept_from") or "an earlier run"))}). '
           f'<a href="{html.escape(entry.get("failed_html") or "")}">The failure</a>.</p>' if status == "stale" else "")
        + (f'<div class="kpis">{kpis}</div>' if kpis else "")
        + (f'<div class="files">Tables: {files}</div>' if files else "")
        + "</div>"
    )


def write(path: Path, manifest: dict, adhoc: list[dict] | None = None) -> Path:
    notebooks = manifest["notebooks"]
    failed = [n["notebook"] for n in notebooks if n["status"] not in ("ok", "not enough data")]
    status_line = (f"All {len(notebooks)} reports rendered." if not failed
                   else f"{len(failed)} of {len(notebooks)} reports failed: {', '.join(failed)}.")
    cover = (manifest.get("data") or {}).get("coverage") or {}
    if cover.get("partial_month"):
        status_line = (f"Partial month: the data covers {manifest['month']} only to {cover.get('last')}; "
                       "every number is to that day. ") + status_line
    if manifest.get("adhoc"):
        status_line = f"Ad-hoc run ({manifest['adhoc']}), published apart from the monthly reports. " + status_line
    quality = manifest["data"].get("quality") or []
    path.write_text(_PAGE.format(
        month=html.escape(manifest["month"]),
        status_line=html.escape(status_line),
        cards="".join(_card(n) for n in notebooks) + _adhoc_list(adhoc or []),
        source=html.escape(str(manifest["data"]["source"])),
        fingerprint=manifest["data"].get("fingerprint"),
        rows_read=sum(q["rows_read"] for q in quality),
        rows_used=sum(q["rows_used"] for q in quality),
        rows_rejected=sum(q["rows_rejected"] for q in quality),
        generated=manifest["generated_at"],
    ), encoding="utf-8")
    return path
