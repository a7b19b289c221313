"""The whole month in Japanese and yen (issue 18, "Done when").

One run of every notebook on the small synthetic world built with ``locale="ja"`` (Japanese company,
CSM and plan names, Japanese churn comments and survey answers, yen prices), with ``language=ja`` and
``currency=JPY``. The run is made with matplotlib's missing-glyph warning turned into an error in every
kernel (``PYTHONWARNINGS``), so a chart that would draw a □ fails its notebook and this test.

Checked on every page the reader opens (the visible text: tags, scripts and styles removed):
- every notebook succeeded (so no chart lacked a glyph);
- no dollar sign anywhere, in pages or CSVs; yen amounts are shown;
- no untranslated user-facing English: no run of two or more lower-case English words (names, ids,
  acronyms such as NRR or CSM, and names the data holds, such as product event names, are not sentences);
- the CSVs open in Japanese Excel (UTF-8 with a byte-order mark);
- the postmortem found its comment themes in Japanese words.
"""

from __future__ import annotations

import json
import os
import re
from html.parser import HTMLParser
from pathlib import Path

import pytest

from conftest import ROOT, SMALL, world_path

pytestmark = pytest.mark.slow

# Two or more lower-case English words in a row is a sentence fragment nobody translated. Single words
# are allowed: acronyms, units and product words (SSO, Salesforce) appear in Japanese prose too.
ENGLISH_RUN = re.compile(r"\b[a-z]{3,}(?:[ \-][a-z]{3,})+\b")


class _VisibleText(HTMLParser):
    """The prose a reader sees: everything outside <script>, <style>, <head> and <code> (a command such as
    `csresearch health suggest` is typed as written, in any language)."""

    HIDDEN = {"script", "style", "head", "title", "code"}

    def __init__(self) -> None:
        super().__init__()
        self.depth = 0
        self.parts: list[str] = []

    def handle_starttag(self, tag, attrs):
        if tag in self.HIDDEN:
            self.depth += 1

    def handle_endtag(self, tag):
        if tag in self.HIDDEN and self.depth:
            self.depth -= 1

    def handle_data(self, data):
        if not self.depth and data.strip():
            self.parts.append(data.strip())


def visible_text(page: str) -> list[str]:
    parser = _VisibleText()
    parser.feed(page)
    return parser.parts


@pytest.fixture(scope="module")
def japanese_month(tmp_path_factory):
    from csresearch.report.run import run_month

    data = world_path(**SMALL, locale="ja")
    reports = tmp_path_factory.mktemp("ja") / "reports"
    cwd, warnings_before = os.getcwd(), os.environ.get("PYTHONWARNINGS")
    os.environ["PYTHONWARNINGS"] = "error:Glyph:UserWarning"  # a missing glyph fails the notebook
    os.chdir(ROOT)
    try:
        ok, folder = run_month(month=SMALL["end_month"], data=str(data), reports_dir=reports, jobs=2,
                               overrides={"language": "ja", "currency": "JPY"}, progress=lambda _: None)
    finally:
        os.chdir(cwd)
        if warnings_before is None:
            os.environ.pop("PYTHONWARNINGS", None)
        else:
            os.environ["PYTHONWARNINGS"] = warnings_before
    return folder


def test_every_report_renders_in_japanese(japanese_month):
    manifest = json.loads((japanese_month / "manifest.json").read_text())
    failed = {n["notebook"]: n.get("error") for n in manifest["notebooks"] if n["status"] != "ok"}
    assert not failed, f"reports failed in Japanese (a missing glyph fails its notebook): {failed}"


def test_no_dollar_sign_and_yen_is_shown(japanese_month):
    pages = sorted(japanese_month.glob("*.html"))
    assert len(pages) >= 7
    # a page may carry '$' inside embedded JavaScript (a library's code), never in what a reader sees
    seen = {p.name: [t for t in visible_text(p.read_text(encoding="utf-8")) if "$" in t] for p in pages}
    assert not any(seen.values()), {k: v[:3] for k, v in seen.items() if v}
    csv_dollars = [c.name for c in japanese_month.rglob("*.csv") if "$" in c.read_text(encoding="utf-8-sig")]
    assert not csv_dollars, csv_dollars
    text = " ".join(visible_text((japanese_month / "index.html").read_text(encoding="utf-8")))
    assert "円" in text or "¥" in text, "the brief shows no yen amount"


def _data_names() -> set[str]:
    """Names the data itself holds in English (product event names such as ``report_view``), shown as
    written (with spaces for underscores): data, not a sentence anybody forgot to translate."""
    import duckdb

    con = duckdb.connect(str(world_path(**SMALL, locale="ja")), read_only=True)
    events = [e for (e,) in con.execute("select distinct event_name from usage_events").fetchall()]
    con.close()
    return {str(e).replace("_", " ") for e in events}


def test_no_untranslated_english_on_any_page(japanese_month):
    found, data_names = {}, _data_names()
    for page in sorted(japanese_month.glob("*.html")):
        runs = [m.group(0) for t in visible_text(page.read_text(encoding="utf-8")) for m in ENGLISH_RUN.finditer(t)
                if m.group(0) not in data_names]
        if runs:
            found[page.name] = sorted(set(runs))[:12]
    assert not found, f"English left in a Japanese run: {found}"


def test_csvs_open_in_japanese_excel(japanese_month):
    csvs = sorted(japanese_month.rglob("*.csv"))
    assert csvs
    without_bom = [c.name for c in csvs if not c.read_bytes().startswith(b"\xef\xbb\xbf")]
    assert not without_bom, without_bom


def test_churn_comments_fall_into_japanese_themes():
    """The postmortem's theme finder on the Japanese world's churn comments: themes named in Japanese words,
    and no single theme swallowing the comments (before Japanese support, all of them fell into one)."""
    import duckdb

    from csresearch.core.themes import comment_themes

    con = duckdb.connect(str(world_path(**SMALL, locale="ja")), read_only=True)
    comments = con.execute("select account_id, comment from churn_reasons").df()
    con.close()
    found = comment_themes(comments, n_themes=5)
    table = found.themes
    japanese = re.compile(r"[\u3040-\u30ff\u4e00-\u9fff]")
    assert len(table) >= 3
    assert all(japanese.search(str(t)) for t in table["terms"]), table["terms"].tolist()
    share = table["comments"] / table["comments"].sum()
    assert share.max() < 0.6, table[["theme", "comments"]].to_string()
