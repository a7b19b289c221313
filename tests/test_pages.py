"""What a reader's browser gets. One monthly run on a world whose every free-text column carries
script, event-handler, javascript: link and entity payloads; then: no payload is live in any page,
every page is light (index < 100 KB, each report < 1 MB), titled with its report and month, links back
to the index, and opens in headless Chromium (Debian's ``chromium``, when installed) with the network
blocked without one request to another host and without a console error.

Data never becomes markup:
What counts as live (what a browser would run): a <script> element holding a payload, any attribute
holding a payload (onerror=..., style=...), or a link whose target is a javascript: URL. Escaped
text (``&lt;script&gt;``) shows the payload as the harmless text it is.
"""

from __future__ import annotations

import json
import re
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


@pytest.fixture(scope="module")
def poisoned_month(small_world_path, tmp_path_factory):
    import duckdb

    from conftest import ROOT
    from csresearch.report.run import run_month

    tmp_path = tmp_path_factory.mktemp("pages")
    con = duckdb.connect(str(small_world_path), read_only=True)
    tables = {t: con.table(t).df() for (t,) in con.execute("SHOW TABLES").fetchall()}
    con.close()
    data = write_tables(_poisoned(tables), tmp_path / "poisoned", fmt="parquet")
    import os

    cwd = os.getcwd()
    os.chdir(ROOT)
    try:
        ok, folder = run_month(month="2026-10", data=str(data), reports_dir=tmp_path / "reports", jobs=2,
                               progress=lambda _: None)
    finally:
        os.chdir(cwd)
    return folder


def test_every_report_renders_on_payload_text(poisoned_month):
    manifest = json.loads((poisoned_month / "manifest.json").read_text())
    failed = {n["notebook"]: n["error"] for n in manifest["notebooks"] if n["status"] != "ok"}
    assert not failed, f"reports failed on payload text: {failed}"


def test_no_report_page_holds_a_live_payload(poisoned_month):
    pages = sorted(Path(poisoned_month).glob("*.html"))
    assert len(pages) >= 7
    found = {page.name: live_payloads(page.read_text()) for page in pages}
    assert not any(found.values()), {k: v[:3] for k, v in found.items() if v}
    shown = sum(page.read_text().count(MARK) for page in pages)
    assert shown > 0, "the payloads are in the data and shown as text somewhere (else the test proves nothing)"


def test_pages_are_light_titled_and_linked(poisoned_month):
    index = poisoned_month / "index.html"
    assert index.stat().st_size < 100_000
    for page in sorted(poisoned_month.glob("[0-9][0-9]_*.html")):
        text = page.read_text()
        assert page.stat().st_size < 1_000_000, f"{page.name}: {page.stat().st_size:,} bytes"
        assert re.search(r"<title>[^<]+ — October 2026</title>", text), page.name
        assert 'href="index.html"' in text, page.name
        assert not re.search(r"""<(script|link|img|iframe)[^>]+(src|href)=["']https?://""", text), page.name


# requests Chromium makes for itself on start-up whatever the page (clock check, account list, its start
# page's async fragment): not the page's, so not counted; anything else to another host is
BROWSER_OWN = ("http://clients2.google.com/time/", "https://accounts.google.com/ListAccounts",
               "https://www.google.com/async/")


def _chromium() -> str | None:
    import shutil

    return shutil.which("chromium") or shutil.which("chromium-browser")


@pytest.mark.skipif(_chromium() is None, reason="Debian's chromium is not installed: the browser check is skipped")
def test_pages_open_offline_without_requests_or_console_errors(poisoned_month, tmp_path):
    import subprocess

    for page in sorted(poisoned_month.glob("*.html")):
        log = tmp_path / f"{page.stem}.netlog.json"
        done = subprocess.run(
            [_chromium(), "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
             "--disable-background-networking", "--disable-component-update", "--disable-sync",
             "--disable-default-apps", "--host-resolver-rules=MAP * ~NOTFOUND",  # the network is blocked
             f"--log-net-log={log}", "--enable-logging=stderr", "--v=0", "--dump-dom", page.as_uri()],
            capture_output=True, text=True, timeout=120)
        requested = set(re.findall(r'"url":"([^"]+)"', log.read_text())) if log.exists() else set()
        external = sorted(u for u in requested if u.startswith(("http://", "https://", "ws://", "wss://"))
                          and not u.startswith(BROWSER_OWN))
        assert not external, f"{page.name} asked another host for {external[:5]}"
        console = [line for line in done.stderr.splitlines() if "CONSOLE" in line and
                   ("Uncaught" in line or "Error" in line or "error" in line)]
        assert not console, f"{page.name}: {console[:3]}"
        assert "</body>" in done.stdout, f"{page.name} did not load"
