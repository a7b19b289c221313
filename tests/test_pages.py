"""What a reader's browser gets. One monthly run on a world whose every free-text column carries
script, event-handler, javascript: link and entity payloads; then: no payload is live in any page,
every page is light (index < 100 KB, each report < 1 MB), titled with its report and month, links back
to the index, and opens in headless Chromium (Debian's ``chromium``, when installed) with the network
blocked without one request to another host, without a console message, and with every long table
made interactive.

Before the run, fast checks on hand-made pages: column headers in words, which tables are interactive
and how they sort, where the status line, the conventions and the data quality go, the table of
contents, the one embedded script, WebP charts; and that the browser check itself catches a planted
request and a planted console error.

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


@pytest.mark.slow
def test_every_report_renders_on_payload_text(poisoned_month):
    manifest = json.loads((poisoned_month / "manifest.json").read_text())
    failed = {n["notebook"]: n["error"] for n in manifest["notebooks"] if n["status"] != "ok"}
    assert not failed, f"reports failed on payload text: {failed}"


@pytest.mark.slow
def test_no_report_page_holds_a_live_payload(poisoned_month):
    pages = sorted(Path(poisoned_month).glob("*.html"))
    assert len(pages) >= 7
    found = {page.name: live_payloads(page.read_text()) for page in pages}
    assert not any(found.values()), {k: v[:3] for k, v in found.items() if v}
    shown = sum(page.read_text().count(MARK) for page in pages)
    assert shown > 0, "the payloads are in the data and shown as text somewhere (else the test proves nothing)"


@pytest.mark.slow
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
               "https://www.google.com/async/", "https://android.clients.google.com/checkin")


def _chromium() -> str | None:
    import shutil

    return shutil.which("chromium") or shutil.which("chromium-browser")


needs_chromium = pytest.mark.skipif(_chromium() is None,
                                    reason="Debian's chromium is not installed: the browser check is skipped")


def open_offline(page: Path, folder: Path) -> tuple[list[str], list[str], str]:
    """Open ``page`` in headless Chromium with every host name unresolvable (the network blocked) and
    let its scripts run to the end (30 s of virtual time: timers and the tables' set-up all finish);
    returns ``(requests to another host, console messages, the DOM after the scripts ran)``."""
    import subprocess

    log = folder / f"{page.stem}.netlog.json"
    done = subprocess.run(
        [_chromium(), "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--disable-default-apps", "--host-resolver-rules=MAP * ~NOTFOUND",  # the network is blocked
         f"--log-net-log={log}", "--enable-logging=stderr", "--v=0", "--virtual-time-budget=30000",
         "--dump-dom", page.as_uri()],
        capture_output=True, text=True, timeout=180)
    requested = set(re.findall(r'"url":"([^"]+)"', log.read_text())) if log.exists() else set()
    external = sorted(u for u in requested if u.startswith(("http://", "https://", "ws://", "wss://"))
                      and not u.startswith(BROWSER_OWN))
    # a report's page writes nothing to the console: any message (log, warning, error, uncaught) counts
    console = [line for line in done.stderr.splitlines() if ":CONSOLE" in line]
    return external, console, done.stdout


@pytest.mark.slow
@needs_chromium
def test_pages_open_offline_without_requests_or_console_errors(poisoned_month, tmp_path):
    pages = sorted(poisoned_month.glob("*.html"))
    interactive = 0
    for page in pages:
        external, console, dom = open_offline(page, tmp_path)
        assert not external, f"{page.name} asked another host for {external[:5]}"
        assert not console, f"{page.name}: {console[:3]}"
        assert "</body>" in dom, f"{page.name} did not load"
        # every long table was made interactive by the page's one script (it counts what it set up)
        wanted = page.read_text().count('class="csr-interactive"')
        made = re.search(r'data-csr-tables="(\d+)"', dom)
        assert (int(made.group(1)) if made else 0) == wanted, f"{page.name}: {wanted} tables, {made}"
        assert not live_payloads(dom), f"{page.name}: a payload is live after the scripts ran"
        interactive += wanted
    assert interactive > 0, "some report has a long table (else the interactive path is untested)"


# ---- fast checks on hand-made pages ---------------------------------------------------------------

def test_headers_are_words_and_the_csv_names_stay():
    from csresearch.notebook.headers import header, human_headers

    assert header("arr_at_risk") == "ARR at risk"
    assert header("csm_owner") == "CSM owner"
    assert header("rows_read") == "Rows read", "fallback: snake_case in sentence case"
    assert header("mrr_lost_share") == "MRR lost share", "acronyms stay in capitals in the fallback"
    assert header("segment") == "Segment"
    assert header("why (model)") == "Why (model)", "words keep their words, with a capital"
    assert header("ARR at risk") == "ARR at risk"
    assert header("p-value") == "p-value", "a one-letter symbol keeps its case"
    assert header(3) == 3
    # two machine names that would read alike keep their machine names rather than collide
    assert human_headers(["accounts", "n_accounts", "arr"]) == {"accounts": "accounts", "n_accounts": "n_accounts",
                                                                 "arr": "ARR"}


def _frame(rows: int):
    import pandas as pd

    return pd.DataFrame({"account_name": [f"A{i} {PAYLOADS[i % len(PAYLOADS)]}" for i in range(rows)],
                         "arr_at_risk": [950_000.0 if i == 0 else 1_200_000.0 - i for i in range(rows)],
                         "renewal_date": pd.to_datetime(["2026-11-03"] * rows)})


def test_long_tables_are_interactive_and_sort_by_their_numbers():
    from csresearch.notebook.display import INTERACTIVE_MIN_ROWS, table_html

    short = table_html(_frame(INTERACTIVE_MIN_ROWS - 1), formats={"arr_at_risk": "${:,.0f}"})
    long = table_html(_frame(INTERACTIVE_MIN_ROWS), "Caption <b>", formats={"arr_at_risk": "${:,.0f}"})
    assert "csr-interactive" not in short and 'class="csr-interactive"' in long
    assert "<th" in long and ">ARR at risk<" in long and ">Renewal date<" in long and "arr_at_risk" not in long
    # "$950,000" sorts by 950000 (as text it would sort above "$1,199,999"); dates by their ISO form
    assert 'data-order="950000.0" >$950,000<' in long
    assert 'data-order="2026-11-03T00:00:00"' in long
    assert not live_payloads(long) and MARK in long and "Caption &lt;b&gt;" in long


def _notebook(folder: Path, rows: int = 30) -> Path:
    import nbformat
    import pandas as pd
    from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_output

    from csresearch.notebook.display import markdown_html, table_html

    def out(markup: str):
        return new_output("display_data", data={"text/html": markup})

    quality = pd.DataFrame({"table": ["accounts"], "rows_read": [10], "rows_used": [10], "rows_rejected": [0]})
    nb = new_notebook(cells=[
        new_markdown_cell("# Churn drivers\nWho is at risk."),
        new_code_cell(outputs=[out("<h3>The headline.</h3>")]),
        new_code_cell(outputs=[out('<div class="csr-conventions" data-csr-appendix><b>Conventions</b>'
                                   "<table><tr><td>CONVENTIONS-BOX</td></tr></table></div>"),
                               out("<p>METHOD-NOTE stays where it is</p>")]),
        new_markdown_cell("## Data quality\nEvery row read is either used or rejected."),
        new_code_cell(outputs=[out('<p class="csr-status">Data: 10 rows read, all used; through 30 Nov 2026 · '
                                   '<a href="#csr-appendix">conventions and data quality at the end</a></p>'),
                               out('<div class="csr-quality" data-csr-appendix>' + table_html(quality) + "</div>"),
                               out("<p>DATA-NOTE goes with its section</p>")]),
        new_markdown_cell("## Whom to call"),
        new_code_cell(outputs=[out(markdown_html("## A heading the code wrote")),
                               out(table_html(_frame(rows), "The call list", {"arr_at_risk": "${:,.0f}"}))]),
    ])
    path = folder / "03_churn_drivers.ipynb"
    nbformat.write(nb, path)
    return path


@pytest.fixture(scope="module")
def hand_made_page(tmp_path_factory) -> Path:
    from csresearch.report.render import render_html

    folder = tmp_path_factory.mktemp("page")
    return render_html(_notebook(folder), folder / "03_churn_drivers.html", title="Churn drivers — November 2026")


def test_status_on_top_conventions_and_data_quality_collapsed_at_the_end(hand_made_page):
    text = hand_made_page.read_text()
    main = text.index("<main>")
    assert text.index('class="csr-status"') < main, "the data status is the page's first line"
    assert text.count('class="csr-status"') == 1
    details = text.index('<details class="csr-appendix" id="csr-appendix">')
    for moved in ("CONVENTIONS-BOX", "Every row read is either used or rejected", ">Rows read<", "DATA-NOTE"):
        assert text.index(moved) > details, f"{moved} is in the collapsed section at the end"
    assert main < text.index("METHOD-NOTE") < details, "the rest of the conventions cell stays"
    assert main < text.index("The headline.") < text.index('<h2 id="Whom-to-call"') < details


def test_the_table_of_contents_lists_code_written_headings(hand_made_page):
    text = hand_made_page.read_text()
    toc = re.search(r'<div class="csr-toc">(.*?)</div>', text).group(1)
    anchors = re.findall(r'href="#([^"]+)"', toc)
    assert anchors == ["Whom-to-call", "a-heading-the-code-wrote", "csr-appendix"], anchors
    for anchor in anchors:
        assert f'id="{anchor}"' in text, f"#{anchor} leads somewhere"
    assert "Data-quality" not in anchors, "the data quality is reached through the collapsed section"


def test_one_script_for_the_tables_and_no_data_in_any_script(hand_made_page, tmp_path):
    from csresearch.report.render import render_html

    text = hand_made_page.read_text()
    assert text.count("<script type=\"module\">") == 1 and text.count("const inflate") == 1
    scripts = re.findall(r"<script[^>]*>(.*?)</script>", text, re.S)
    assert not any(MARK in s or "A1 " in s for s in scripts), "table data stays in the escaped cells"
    assert not live_payloads(text) and MARK in text
    assert hand_made_page.stat().st_size < 300_000, "the bundle is gzipped: ~256 KB, not itables' 968 KB"
    # a page with no long table carries no table script at all
    short = render_html(_notebook(tmp_path, rows=5), tmp_path / "short.html", title="Short — November 2026")
    assert "DecompressionStream" not in short.read_text() and short.stat().st_size < 40_000


def test_charts_are_lossless_webp_of_the_palette_image():
    import base64
    import io

    import matplotlib.pyplot as plt
    from PIL import Image, features

    from csresearch.report.render import shrink_images

    if not features.check("webp"):
        pytest.skip("Pillow without WebP: charts stay palette PNG")
    fig, ax = plt.subplots(figsize=(6, 3), dpi=200)
    ax.plot(range(10), [x * x for x in range(10)])
    ax.set_title("a chart")
    raw = io.BytesIO()
    fig.savefig(raw, format="png")
    plt.close(fig)
    body = f'<img src="data:image/png;base64,{base64.b64encode(raw.getvalue()).decode()}">'
    shrunk = shrink_images(body)
    data = base64.b64decode(re.search(r"data:image/webp;base64,([^\"]+)", shrunk).group(1))
    webp = Image.open(io.BytesIO(data)).convert("RGB")
    palette = Image.open(io.BytesIO(raw.getvalue())).convert("RGB").quantize(
        colors=256, method=Image.Quantize.FASTOCTREE, dither=Image.Dither.NONE).convert("RGB")
    assert webp.size == palette.size == (1200, 600), "full resolution kept"
    assert webp.tobytes() == palette.tobytes(), "lossless: every pixel of the palette image"
    assert len(data) < len(raw.getvalue())


@needs_chromium
def test_the_browser_check_catches_requests_and_console_messages(tmp_path):
    page = tmp_path / "planted.html"
    page.write_text('<!doctype html><html><body><img src="https://cdn.example.com/x.png">'
                    '<script>console.error("planted")</script></body></html>')
    external, console, _ = open_offline(page, tmp_path)
    assert any("cdn.example.com" in u for u in external)
    assert any("planted" in line for line in console)


@needs_chromium
def test_a_long_table_becomes_interactive_offline(hand_made_page, tmp_path):
    external, console, dom = open_offline(hand_made_page, tmp_path)
    assert not external and not console, (external, console)
    assert 'data-csr-tables="1"' in dom and "dt-container" in dom, "DataTables set the table up"
    assert "dt-search" in dom and "dt-column-control" in dom.lower() or "dtcc" in dom, "search and column controls"
    assert not live_payloads(dom) and MARK in dom


@needs_chromium
def test_a_click_on_a_header_sorts_by_the_numbers_not_the_text(hand_made_page):
    """In the browser: "$950,000" sorts below "$1,199,999" (its data-order), which text order would not."""
    import importlib.util
    import time

    from conftest import ROOT

    spec = importlib.util.spec_from_file_location("screenshots", ROOT / "tools" / "screenshots.py")
    screenshots = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(screenshots)
    browser = screenshots.Browser(_chromium())

    def run(expression: str):
        return browser.call("Runtime.evaluate", session=True, expression=expression)["result"].get("value")

    column = ("JSON.stringify([...document.querySelectorAll('table.csr-interactive tbody tr td:nth-child(2)')]"
              ".map(td => td.textContent))")
    header = "[...document.querySelectorAll('table.csr-interactive thead th')][1].click()"
    try:
        browser.call("Page.navigate", session=True, url=hand_made_page.as_uri())
        browser.wait_for("Page.loadEventFired")
        for _ in range(100):
            if run("document.documentElement.dataset.csrTables"):
                break
            time.sleep(0.2)
        before = json.loads(run(column))
        run(header)
        time.sleep(0.5)
        ascending = json.loads(run(column))
        run(header)
        time.sleep(0.5)
        descending = json.loads(run(column))
    finally:
        browser.close()
    assert before[0] == "$950,000", "the report's own order first (no initial re-ordering)"
    # as text "$950,000" would sort after every "$1,199,9xx"; by its number it is first, then 1,200,000 - 29
    assert ascending[:2] == ["$950,000", "$1,199,971"], ascending[:3]
    assert descending[:2] == ["$1,199,999", "$1,199,998"], descending[:3]


# ---- the page's own words in the run's language (issue 18.1) --------------------------------------

# the English words of the page around a report: none of them may be left on a Japanese page
CHROME_EN = ("On this page", "All reports this month", "The same report", "Conventions and data quality",
             "This report failed", "Other reports of this run", "Not enough data for this report")


def _japanese_notebook(folder: Path) -> Path:
    """The hand-made notebook as a Japanese run leaves it: papermill records ``language: ja`` among the
    parameters it injected (the page is rendered in a worker process that has no language of its own)."""
    import nbformat

    path = _notebook(folder)
    nb = nbformat.read(path, as_version=4)
    nb.metadata["papermill"] = {"parameters": {"language": "ja", "month": "2026-11"}}
    out = folder / "03_churn_drivers_ja.ipynb"
    nbformat.write(nb, out)
    return out


@pytest.fixture(scope="module")
def japanese_page(tmp_path_factory) -> Path:
    from csresearch.i18n import get_language
    from csresearch.report.render import render_html

    folder = tmp_path_factory.mktemp("page_ja")
    page = render_html(_japanese_notebook(folder), folder / "03_churn_drivers.html",
                       title="解約ドライバー — 2026年11月", previous_href="../2026-10/03_churn_drivers.html",
                       previous_label="2026年10月")
    assert get_language() == "en", "rendering a Japanese page leaves the process's language as it was"
    return page


def _options(text: str) -> dict:
    """The options the page's loader gives every interactive table (the JSON after structuredClone)."""
    found = re.search(r"structuredClone\((\{.*?\})\);\n", text)
    assert found, "the page's loader carries its table options"
    return json.loads(found.group(1))


def test_a_japanese_page_speaks_japanese_around_the_report(japanese_page):
    text = japanese_page.read_text()
    assert '<html lang="ja">' in text
    for english in CHROME_EN:
        assert english not in text, f"{english!r} left on a Japanese page"
    # hand-written expectations (the catalog's words for the navigation, contents and collapsed section)
    assert ">← 今月のレポート一覧</a>" in text and ">2026年10月の同じレポート</a>" in text
    assert "<span>目次：</span>" in text and '<a href="#csr-appendix">集計ルールとデータ品質</a>' in text
    assert "<summary>集計ルールとデータ品質</summary>" in text
    # the anchors are the same in every language (links from other pages keep working)
    toc = re.search(r'<div class="csr-toc">(.*?)</div>', text).group(1)
    assert re.findall(r'href="#([^"]+)"', toc) == ["Whom-to-call", "a-heading-the-code-wrote", "csr-appendix"]


def test_the_table_controls_speak_the_page_language_from_the_catalog(japanese_page, hand_made_page):
    ja = _options(japanese_page.read_text())["language"]
    assert ja["search"] == "検索：" and ja["zeroRecords"] == "一致する行はありません"
    # DataTables fills its own tokens in: they survive translation (the catalog's {fields} become them)
    assert ja["info"] == "全_TOTAL_行中 _START_〜_END_行目を表示" and "_MENU_" in ja["lengthMenu"]
    assert "_MAX_" in ja["infoFiltered"] and ja["lengthLabels"] == {"-1": "すべて"}
    assert ja["columnControl"]["orderAsc"] == "昇順に並べ替え"
    assert set(ja["columnControl"]["search"]) == {"text", "number", "datetime"}
    assert _options(japanese_page.read_text())["lengthMenu"][-1] == {"label": "すべて", "value": -1}
    # every word is a string from the catalog: none is English (DataTables' own) or empty
    def leaves(value):
        return [w for v in value.values() for w in leaves(v)] if isinstance(value, dict) else [value]
    words = leaves(ja)
    assert all(words) and not [w for w in words if re.search(r"[A-Za-z]{2,}", re.sub(r"_[A-Z]+_", "", w))]
    # an English page keeps DataTables' own words: no language option, the menu's "All" as before
    en = _options(hand_made_page.read_text())
    assert "language" not in en and en["lengthMenu"][-1] == {"label": "All", "value": -1}
    assert '<html lang="en">' in hand_made_page.read_text()


def test_failure_pages_and_titles_in_the_run_language():
    import pandas as pd

    from csresearch.i18n import _, using
    from csresearch.report.render import failure_page
    from csresearch.report.run import page_title

    with using("ja"):
        failed = failure_page(page_title("01_churn_decomposition", pd.Period("2026-11", "M")), "WorkerDied: killed")
        title = _("Churn decomposition")
    assert title != "Churn decomposition", "the report's title is in the catalog"
    assert f"<title>{title} — 2026年11月</title>" in failed and '<html lang="ja">' in failed
    assert "このレポートは作成できませんでした。" in failed and "WorkerDied: killed" in failed
    assert not [w for w in CHROME_EN if w in failed]
    english = failure_page(page_title("01_churn_decomposition", pd.Period("2026-11", "M")), "WorkerDied: killed")
    assert "<title>Churn decomposition — November 2026</title>" in english and "This report failed." in english


def test_value_labels_in_tables_not_in_csvs():
    import pandas as pd

    from csresearch.i18n import using
    from csresearch.notebook.display import table_html

    frame = pd.DataFrame({"account_name": ["Acme", "Beta"], "touch_tier": ["high", "tech"],
                          "billing_period": ["annual", "monthly"], "health_band": ["red", "green"],
                          "segment": ["high", "red"]})
    with using("ja"):
        ja = table_html(frame)
    for label in ("ハイタッチ", "テックタッチ", "年次", "月次", "レッド", "グリーン"):
        assert f">{label}<" in ja, label
    assert ">high<" in ja and ">red<" in ja, "only the three coded columns: a segment named 'high' stays"
    assert list(frame["touch_tier"]) == ["high", "tech"], "the frame (and so its CSV) keeps the machine values"
    english = table_html(frame)
    assert ">high<" in english and ">annual<" in english and "ハイタッチ" not in english


@needs_chromium
def test_the_japanese_table_controls_show_in_the_browser(japanese_page, tmp_path):
    """Chromium draws the controls from the language option: a wrong key would leave DataTables' English."""
    external, console, dom = open_offline(japanese_page, tmp_path)
    assert not external and not console, (external, console)
    assert 'data-csr-tables="1"' in dom
    visible = re.sub(r"<script.*?</script>|<style.*?</style>", "", dom, flags=re.S)
    assert "全30行中 1〜20行目を表示" in visible, "the info line, with DataTables' numbers in it"
    assert "検索：" in visible and "1ページに" in visible and "行表示" in visible
    for english in ("Showing 1 to", "entries", "Search:", "per page"):
        assert english not in visible, f"DataTables' English {english!r} is on the page"


@pytest.mark.parametrize("error, said", [
    ("ValueError: boom", "このレポートは作成できませんでした。"),
    ("NotEnoughData: 6 months of history", "このレポートに必要なデータが足りません。"),
])
def test_a_failed_or_data_short_report_page_in_japanese(tmp_path, error, said):
    from csresearch.report.render import render_html

    page = render_html(_japanese_notebook(tmp_path), tmp_path / "failed.html", title="解約ドライバー — 2026年11月",
                       error=error).read_text()
    banner = re.search(r'<div class="csr-error"[^>]*>(.*?)</div>', page, re.S).group(1)
    assert said in banner and error.removeprefix("NotEnoughData: ") in banner
    assert not [w for w in CHROME_EN if w in page] and '<html lang="ja">' in page
    english = render_html(_notebook(tmp_path), tmp_path / "failed_en.html", title="Churn drivers — November 2026",
                          error=error).read_text()
    assert ("This report failed." if error.startswith("ValueError") else "Not enough data for this report.") in english


@needs_chromium
def test_the_table_controls_are_drawn_in_the_page_fonts(japanese_page):
    """Form controls do not inherit the page's fonts: without the page's rule the rows-per-page menu
    ("すべて") and the column menu's words are drawn in the browser's own font, boxes on a machine with no
    Japanese font. In Chromium, the menu, the search box and the column menu's buttons carry the page's
    Japanese fallback (the embedded face last)."""
    import importlib.util
    import time

    from conftest import ROOT
    from csresearch.report.webfont import FAMILY

    spec = importlib.util.spec_from_file_location("screenshots", ROOT / "tools" / "screenshots.py")
    screenshots = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(screenshots)
    browser = screenshots.Browser(_chromium())

    def run(expression: str):
        return browser.call("Runtime.evaluate", session=True, expression=expression)["result"].get("value")

    try:
        browser.call("Page.navigate", session=True, url=japanese_page.as_uri())
        browser.wait_for("Page.loadEventFired")
        for _ in range(100):
            if run("document.documentElement.dataset.csrTables"):
                break
            time.sleep(0.2)
        run("document.querySelector('div.dt-container thead .dtcc-button').click()")
        time.sleep(0.5)
        fonts = json.loads(run("JSON.stringify(['.dt-length select', '.dt-search input', '.dtcc-dropdown button']"
                               ".map(s => [s, getComputedStyle(document.querySelector(s)).fontFamily]))"))
        menu = run("document.querySelector('.dtcc-dropdown').innerText")
    finally:
        browser.close()
    assert "昇順に並べ替え" in menu and "降順に並べ替え" in menu, menu
    for selector, family in fonts:
        assert FAMILY in family, f"{selector} is drawn in {family}"


def test_the_conventions_box_says_yes_or_no_in_the_run_language(monkeypatch, tmp_path):
    import pandas as pd

    from csresearch.i18n import using
    from csresearch.notebook import session

    shown: list[str] = []
    monkeypatch.setattr(session, "show_html", shown.append)
    nb = session.Session(notebook="x", output_dir=tmp_path, month=pd.Period("2026-11", "M"))
    conventions = {"count_same_month_churn": True, "reactivation_window_days": 0, "集計期間": "3か月"}
    with using("ja"):
        nb.show_conventions(conventions)
    nb.show_conventions({"count_same_month_churn": False})
    assert "<td style=\"text-align:left\">はい</td>" in shown[0] and ">True<" not in shown[0]
    assert "このレポートの集計ルール" in shown[0] and ">0<" in shown[0] and ">3か月<" in shown[0]
    # a setting's name (what -p takes) is code; a name in words is text
    assert "<code>count_same_month_churn</code>" in shown[0] and '<td style="text-align:left">集計期間</td>' in shown[0]
    assert ">False<" in shown[1], "English shows the setting as it always did"
    assert nb.summary["conventions"] == {"count_same_month_churn": False}, "summary.json keeps the machine value"


def test_a_cut_table_says_how_many_rows_it_shows_in_the_run_language(monkeypatch):
    from csresearch.i18n import using
    from csresearch.notebook import display

    said: list[str] = []
    monkeypatch.setattr(display, "show_html", lambda markup: None)
    monkeypatch.setattr(display, "md", said.append)
    with using("ja"):
        display.show_table(_frame(1234), max_rows=40)
    display.show_table(_frame(1234), max_rows=40)
    assert said == ["*全1,234行のうち40行を表示しています。全体はこのレポートと同じフォルダのCSVにあります。*",
                    "*40 of 1,234 rows shown; the full table is in the CSV beside this report.*"]


def test_no_catalog_call_of_the_page_hides_inside_an_f_string():
    """Babel's extractor reads an f-string (Python 3.11) as one string token: a ``_("...")`` inside one never
    reaches the catalog, and the page keeps it in English (it happened: "On this page:" was one)."""
    import ast

    from conftest import ROOT

    src = ROOT / "src" / "csresearch"
    hidden = []
    for path in (src / "report" / "render.py", src / "report" / "run.py", src / "notebook" / "display.py",
                 src / "notebook" / "session.py", src / "notebook" / "headers.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.JoinedStr):
                hidden += [f"{path.name}:{call.lineno}" for call in ast.walk(node) if isinstance(call, ast.Call)
                           and getattr(call.func, "id", getattr(call.func, "attr", None)) in
                           ("_", "ngettext", "pgettext") and call.args and isinstance(call.args[-1], ast.Constant)]
    assert hidden == []


def test_a_chart_has_alt_text_in_the_run_language_not_nbconverts_english(tmp_path):
    """nbconvert gives every image output the English alt text NBCONVERT_ALT; the report page replaces it
    (a screen reader on a Japanese page reads グラフ). The first assertion fails if nbconvert changes its text."""
    import base64

    import nbformat
    from nbconvert import HTMLExporter

    from csresearch import i18n
    from csresearch.report import render

    png = base64.b64encode(bytes.fromhex(
        "89504e470d0a1a0a0000000d49484452000000010000000108060000001f15c4890000000d4944415478da63f8cfc0f01f0005000"
        "1ff5b8a8c4b0000000049454e44ae426082")).decode()
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("", outputs=[nbformat.v4.new_output(
        "display_data", data={"image/png": png})])])
    body, _ = HTMLExporter(template_name="basic").from_notebook_node(nb)
    assert render.NBCONVERT_ALT in body
    with i18n.using("ja"):
        page = render._report_page(nb, "t", None, None, None, None)
    assert render.NBCONVERT_ALT not in page and 'alt="グラフ"' in page
