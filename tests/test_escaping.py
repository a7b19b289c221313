"""Data never becomes markup: a world whose every free-text column carries script, event-handler,
javascript: link and entity payloads renders every report with none of them live.

What counts as live (what a browser would run): a <script> element holding a payload, any attribute
holding a payload (onerror=..., style=...), or a link whose target is a javascript: URL. Escaped
text (``&lt;script&gt;``) shows the payload as the harmless text it is.
"""

from __future__ import annotations

import json
from html.parser import HTMLParser
from pathlib import Path

import pytest

from conftest import write_tables

pytestmark = pytest.mark.slow

MARK = "CSR-XSS"
PAYLOADS = [
    f"<script>alert('{MARK}')</script>",
    f"<img src=x onerror=alert('{MARK}')>",
    f"[click me](javascript:alert('{MARK}'))",
    f"<a href=\"javascript:alert('{MARK}')\">x</a>",
    f"&lt;b&gt;{MARK}&lt;/b&gt; & <b onmouseover=alert('{MARK}')>bold</b>",
]
# free-text columns a CRM or billing export fills; enumerations the contract checks are left alone
POISON = {
    "accounts": ["account_name", "segment", "industry", "region", "acquisition_channel", "csm_owner"],
    "subscriptions": ["product"],
    "churn_reasons": ["sub_reason", "competitor", "comment"],
    "support_tickets": ["category"],
    "cs_activities": ["activity_type", "owner"],
}


class _LiveFinder(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.live: list[str] = []
        self._in_script = False

    def handle_starttag(self, tag, attrs):
        self._in_script = tag == "script"
        for name, value in attrs:
            value = value or ""
            if MARK in value:
                self.live.append(f"<{tag} {name}={value[:60]!r}>")
            if name in ("href", "src", "action", "formaction") and value.strip().lower().startswith("javascript:"):
                self.live.append(f"<{tag} {name}={value[:60]!r}>")

    def handle_endtag(self, tag):
        if tag == "script":
            self._in_script = False

    def handle_data(self, data):
        if self._in_script and MARK in data:
            self.live.append(f"<script>{data[:60]!r}")


def live_payloads(html: str) -> list[str]:
    finder = _LiveFinder()
    finder.feed(html)
    return finder.live


def test_the_finder_finds_what_a_browser_would_run():
    assert live_payloads(f"<p>{PAYLOADS[0]}</p>")
    assert live_payloads(f"<p>{PAYLOADS[1]}</p>")
    assert live_payloads(PAYLOADS[3])
    assert not live_payloads("<p>&lt;script&gt;alert('CSR-XSS')&lt;/script&gt;</p>")
    assert not live_payloads("<p>[click me](javascript:alert('CSR-XSS'))</p>"), "as text it is harmless"


def _poisoned(tables: dict) -> dict:
    out = {}
    for name, frame in tables.items():
        frame = frame.copy()
        for i, column in enumerate(POISON.get(name, [])):
            if column in frame:
                values = frame[column].dropna().astype(str).unique()
                mapping = {v: f"{v} {PAYLOADS[(i + j) % len(PAYLOADS)]}" for j, v in enumerate(values)}
                frame[column] = frame[column].map(lambda v, m=mapping: m.get(str(v), v) if v == v else v)
        out[name] = frame
    return out


def test_no_report_page_holds_a_live_payload(small_world_path, tmp_path, monkeypatch):
    import duckdb

    from conftest import ROOT
    from csresearch.report.run import run_month

    con = duckdb.connect(str(small_world_path), read_only=True)
    tables = {t: con.table(t).df() for (t,) in con.execute("SHOW TABLES").fetchall()}
    con.close()
    data = write_tables(_poisoned(tables), tmp_path / "poisoned", fmt="parquet")
    monkeypatch.chdir(ROOT)
    ok, folder = run_month(month="2026-10", data=str(data), reports_dir=tmp_path / "reports", jobs=2,
                           progress=lambda _: None)
    manifest = json.loads((folder / "manifest.json").read_text())
    failed = {n["notebook"]: n["error"] for n in manifest["notebooks"] if n["status"] != "ok"}
    assert not failed, f"reports failed on payload text: {failed}"
    pages = sorted(Path(folder).glob("*.html"))
    assert len(pages) >= 7
    found = {page.name: live_payloads(page.read_text()) for page in pages}
    assert not any(found.values()), {k: v[:3] for k, v in found.items() if v}
    shown = sum(page.read_text().count(MARK) for page in pages)
    assert shown > 0, "the payloads are in the data and shown as text somewhere (else the test proves nothing)"
