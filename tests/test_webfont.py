"""Japanese pages carry a subset of IPAexGothic for exactly their characters (csresearch.report.webfont);
English pages are unchanged, byte for byte."""

from __future__ import annotations

import base64
import io
import logging
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from fontTools.ttLib import TTFont

from csresearch.report import render, webfont

pytestmark = pytest.mark.skipif(webfont.font_path() is None, reason="matplotlib-fontja is not installed")

JA_BODY = ("<h2>データ品質</h2><p>売上解約率は3.2%（95%信頼区間 2.1–4.5%）。</p>"
           "<table><tr><th>顧客</th><td>株式会社さくら &amp; 東京</td></tr></table>"
           "<img alt=\"月次経常収益の推移\" src=\"data:image/png;base64,AAAA\">"
           "<script>const label = \"\\u691c\\u7d22\";</script>")
# characters a reader sees on that page (the title is drawn by the browser, in its own font)
JA_SEEN = set("データ品質売上解約率は（信頼区間）。顧客株式会社さくら東京月次経常収益の推移検索")


def _face(page: str) -> tuple[TTFont, str, str]:
    """The embedded font of ``page``, its CSS format and its unicode-range."""
    faces = re.findall(r"@font-face \{[^}]*\}", page)
    assert len(faces) == 1, "one embedded face per page"
    data = re.search(r"url\(data:font/[a-z0-9]+;base64,([A-Za-z0-9+/=]+)\) format\(\"([a-z0-9]+)\"\)", faces[0])
    assert data is not None
    ranges = re.search(r"unicode-range: ([^;]+);", faces[0])
    assert ranges is not None
    return TTFont(io.BytesIO(base64.b64decode(data.group(1)))), data.group(2), ranges.group(1)


@pytest.fixture(scope="module")
def ja_page() -> str:
    """A report page (render.page, as the runner writes it) with Japanese text."""
    return render.page("データ概要", JA_BODY)


def test_text_a_reader_sees():
    text = webfont.page_text('<html><head><title>題名</title><style>p::after{content:"様"}</style></head>'
                             '<body><p>売&#x4E0A; &amp; 解約</p><img alt="推移"><input placeholder="検索">'
                             '<script>x = "\\u65e5" + "本";</script></body></html>')
    assert set(text) >= set("売上解約推移検索日本")
    assert not set(text) & set("題名様"), "title and CSS text are not drawn in the page's fonts"


def test_japanese_page_embeds_a_subset_of_exactly_its_characters(ja_page):
    page = ja_page
    font, fmt, ranges = _face(page)
    cmap = {chr(c) for c in font.getBestCmap()}
    seen_cjk = {c for c in webfont.page_text(page) if webfont.is_cjk(c)}
    assert seen_cjk == JA_SEEN  # the planted text is what the parser read, the title's 概要 not
    assert seen_cjk <= cmap, f"no glyph for {sorted(seen_cjk - cmap)}"
    # a subset, not the font: no CJK character the page does not show (猫 is in IPAexGothic, not on the page)
    assert {c for c in cmap if webfont.is_cjk(c)} == seen_cjk
    assert "猫" not in cmap and "猫" in {chr(c) for c in TTFont(webfont.font_path()).getBestCmap()}
    assert not any(c < 128 for c in font.getBestCmap()), "ASCII stays with the Latin fonts"
    assert fmt == ("woff2" if webfont.woff2_available() else "woff")
    # the face is used for every character it has: each code point lies in the unicode-range
    spans = [tuple(int(x, 16) for x in part.strip().removeprefix("U+").split("-")) for part in ranges.split(",")]
    for code in font.getBestCmap():
        assert any(s[0] <= code <= s[-1] for s in spans), hex(code)
    # the licence and the copyright travel with the subset
    assert "opensource.org/licenses/IPA" in (font["name"].getDebugName(13) or "")
    assert "IPA" in (font["name"].getDebugName(0) or "")


def test_fallback_order_latin_then_system_japanese_then_embedded(ja_page):
    page = ja_page
    styles = "".join(re.findall(r"<style\b[^>]*>(.*?)</style>", page, re.S))
    declarations = [d for d in re.findall(r"font-family\s*:\s*([^;}]+)", styles) if "@font-face" not in d]
    # a control that inherits its font (font-family: inherit) takes the page's stack, fallback included
    stacks = [[f.strip() for f in d.split(",")] for d in declarations
              if f'"{webfont.FAMILY}"' != d.strip() and d.strip() not in ("inherit", "initial", "unset")]
    assert len(stacks) >= 2  # the page's body stack and the monospaced one
    body = next(s for s in stacks if s[0] == "-apple-system")
    # the Latin stack as the page had it, whole and first (its generic family included) ...
    assert body[: body.index("sans-serif") + 1] == ["-apple-system", '"Segoe UI"', "Helvetica", "Arial",
                                                    '"Noto Sans"', "sans-serif"]
    for stack in stacks:
        assert stack[-1] == f'"{webfont.FAMILY}"', "the embedded face last: any installed font wins"
        for system in ('"Hiragino Sans"', '"Yu Gothic"', "Meiryo", '"Noto Sans CJK JP"'):
            assert stack.index(system) < len(stack) - 1
    assert "monospace" in next(s for s in stacks if s[0] == "monospace")
    # the face starts loading while the head is parsed (see webfont._PRELOAD), with a character it has
    head = page.split("</head>")[0]
    assert re.search(r"document\.fonts\.load\('1em \"csresearch-ja\"', '\\u[0-9a-f]{4}'\)", head)


def test_english_page_is_unchanged_byte_for_byte():
    body = "<h2>Data quality</h2><p>Revenue churn 3.2% (95% interval 2.1–4.5%) — €, ¥ and − are not CJK.</p>"
    page = render.page("Data overview", body)
    assert "@font-face" not in page and webfont.FAMILY not in page
    assert webfont.embed(page) is page
    assert webfont.embed(page).encode() == page.encode()


def test_embedding_twice_embeds_once(ja_page):
    page = ja_page
    assert webfont.embed(page) == page


def test_css_keywords_and_font_faces_are_left_alone():
    css = ('p { font-family: inherit; } @font-face { font-family: "X"; src: url(x.woff2); } '
           'h1 { font-family: Arial, sans-serif !important }')
    out = webfont.with_fallback(css)
    assert "font-family: inherit;" in out and '@font-face { font-family: "X";' in out
    assert f'font-family: Arial, sans-serif, {webfont.FALLBACK} !important }}' in out


def test_page_without_a_font_family_gets_the_default_font_then_japanese():
    page = webfont.embed("<!doctype html><html><head><title>t</title></head><body><p>解約</p></body></html>")
    assert f"html {{ font-family: serif, {webfont.FALLBACK}; }}" in page
    assert page.index("@font-face") < page.index("</head>")


def test_no_font_package_leaves_the_page_and_says_so(monkeypatch, caplog):
    monkeypatch.setattr(webfont, "font_path", lambda: None)
    page = "<html><head><style>body { font-family: Arial; }</style></head><body>解約</body></html>"
    with caplog.at_level(logging.WARNING, logger="csresearch.report.webfont"):
        assert webfont.embed(page) is page
    assert "matplotlib_fontja is not installed" in caplog.text


def _chromium() -> str | None:
    return shutil.which("chromium") or shutil.which("chromium-browser")


def _has_japanese_font() -> bool:
    listed = subprocess.run(["fc-list", ":lang=ja"], capture_output=True, text=True) if shutil.which("fc-list") else None
    return bool(listed and listed.stdout.strip())


def _ink_heights(page: str, folder: Path) -> list[int]:
    """Headless Chromium's drawing of ``page`` (one line of 一 at 60 px per ``<p>``): the height in pixels
    of the ink of each line. 一 is one horizontal stroke (about 0.1 em high); a missing glyph's box is a
    rectangle about 0.8 em high."""
    import numpy as np
    from PIL import Image

    path, shot = folder / "page.html", folder / "shot.png"
    path.write_text(page, encoding="utf-8")
    subprocess.run([_chromium(), "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
                    "--hide-scrollbars", f"--screenshot={shot}", "--window-size=600,400", path.as_uri()],
                   capture_output=True, timeout=120, check=True)
    ink = np.asarray(Image.open(shot).convert("L")) < 128
    heights = []
    for top in (0, 100, 200):  # each <p> is a 100 px band
        rows = np.flatnonzero(ink[top:top + 100].any(axis=1))
        heights.append(int(rows[-1] - rows[0] + 1) if rows.size else 0)
    return heights


@pytest.mark.skipif(_chromium() is None, reason="Debian's chromium is not installed")
@pytest.mark.skipif(_has_japanese_font(), reason="this machine has a Japanese system font: it would draw 一 anyway")
def test_chromium_draws_the_embedded_glyphs_not_boxes(tmp_path):
    style = ("<style>body { font-family: Arial, sans-serif; margin: 0; } "
             "p { font-size: 60px; line-height: 100px; height: 100px; margin: 0; }</style>")
    plain = ("<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">" + style + "</head><body>"
             + "<p>一一一</p>" * 3 + "</body></html>")
    # the check sees boxes: with no Japanese font and none embedded, every line is a row of boxes
    assert all(h > 36 for h in _ink_heights(plain, tmp_path)), "60 px boxes are about 48 px high"
    # embedded: every line is drawn with the subset's stroke (about 6 px high at 60 px). Without the script
    # that loads the face in the head (webfont._PRELOAD = "") this page draws 40 px boxes on every line.
    assert all(0 < h < 15 for h in _ink_heights(webfont.embed(plain), tmp_path))
