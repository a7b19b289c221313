"""Japanese text on a page with no Japanese font on the machine: an embedded subset of IPAexGothic.

A reader's laptop has a Japanese font (Hiragino on a Mac, Yu Gothic or Meiryo on Windows), a fresh
server or CI runner usually has none, and headless Chromium there draws every kana and kanji as a box.
The charts are fine (:mod:`csresearch.style` registers IPAexGothic from ``matplotlib-fontja``); this
module does the same for the HTML pages, offline. :func:`embed` reads a finished page and, when its
text holds CJK characters, subsets IPAexGothic with fontTools to exactly the characters of the page
(beyond ASCII) that the font has, embeds it once as an ``@font-face`` data URL (WOFF2 when ``brotli``
is installed, else WOFF), and appends the Japanese families to every ``font-family`` of the page's
stylesheets::

    font-family: <the page's Latin stack>, "Hiragino Sans", "Hiragino Kaku Gothic ProN", "Yu Gothic",
                 Meiryo, "Noto Sans CJK JP", "Noto Sans JP", "csresearch-ja"

Order matters and is tested: Latin letters keep the page's Latin fonts (they come first and have the
glyphs; the generic ``sans-serif`` ends the Latin stack and Chromium goes on past it for a character
it lacks), an installed Japanese system font wins over the embedded one (named before it), and the
embedded subset comes last, so it draws only what no font before it has. Naming the Japanese families
also gives kanji their Japanese forms on a ``lang="en"`` page, where the browser's own fallback may pick
a Chinese font. The face's ``unicode-range`` is the Unicode blocks its characters come from, so the
browser never decodes it for a character it cannot draw. IPAexGothic has one weight; bold headings are
set in the browser's synthetic bold. Form controls (the table search box) keep the browser's own font.

A page with no CJK character is returned unchanged, byte for byte; so is a page when
``matplotlib-fontja`` is not installed (with a warning: its Japanese text then needs the reader's font).

Licence: IPAexGothic is under the IPA Font License v1.0 (shipped beside the font as
``IPA_Font_License_Agreement_v1.0.txt``; OSI-approved). Article 2.2 lets a recipient use the font "with
or without modification ... in Digital Content"; Article 1.5 calls a file in which a part of the font is
embedded for displaying that file's own text a "Digital Document File" (the font so embedded: "Embedded
Fonts"), and Article 2.5 says that distributing such a file carries no further obligation. A subset
embedded in one page, used only by that page, is exactly that; the font's ``fsType`` is 0 (installable
embedding), and the subset keeps the font's copyright and licence-URL name records.

The face is asked for by a one-line script in the head (``document.fonts.load``), so it has loaded
before the first layout: Chromium 150 (headless, no Japanese font on the machine) that first meets the
face as a fallback while laying out, before it has loaded, keeps drawing part of the text it shaped
meanwhile as boxes (a relayout does not mend it; which parts varies run to run). With JavaScript off
the face still loads on first use, with that risk; a reader's own Japanese font is not affected.

Cost, measured on the Japanese demo month (800 accounts, 2026-11): the data-overview page grows from
62.9 KB to 83.7 KB (+20.9 KB: 140 CJK characters, a 15.2 KB WOFF2 subset, 19.1 KB as WOFF), the
index from 8.2 KB to 29.2 KB (+21.0 KB, 137 CJK characters): about 150 bytes of base64 per distinct
character. Each page takes 0.25-0.5 s of one core, most of it fontTools reading the 6 MB font.
"""

from __future__ import annotations

import base64
import functools
import importlib.util
import io
import logging
import re
from html.parser import HTMLParser
from pathlib import Path
from typing import Iterable

log = logging.getLogger(__name__)

FAMILY = "csresearch-ja"
FONT_PACKAGE = "matplotlib_fontja"  # the package csresearch.style takes its chart font from
FONT_FILE = "ipaexg.ttf"
# Japanese system fonts, before the embedded one so an installed font wins: macOS (Hiragino Sans; ProN
# on macOS before 10.11), Windows (Yu Gothic, Meiryo), Linux and Android (Noto Sans CJK JP, Noto Sans JP).
SYSTEM_FAMILIES = ('"Hiragino Sans"', '"Hiragino Kaku Gothic ProN"', '"Yu Gothic"', "Meiryo",
                   '"Noto Sans CJK JP"', '"Noto Sans JP"')
FALLBACK = ", ".join((*SYSTEM_FAMILIES, f'"{FAMILY}"'))

# CJK radicals .. unified ideographs (kana, CJK punctuation, enclosed and compatibility forms included),
# compatibility ideographs, vertical and compatibility forms, half- and full-width forms, ideographs
# beyond the BMP: a page with one of these needs a Japanese font.
CJK_BLOCKS = ((0x2E80, 0x9FFF), (0xF900, 0xFAFF), (0xFE10, 0xFE1F), (0xFE30, 0xFE4F), (0xFF00, 0xFFEF),
              (0x20000, 0x3FFFF))
# Blocks whose characters Japanese text also uses (※ → ① ○ ★ ― …, Greek and Cyrillic in JIS X 0208):
# with the CJK blocks, what the face's unicode-range is made of.
RANGE_BLOCKS = ((0x0080, 0x024F), (0x0370, 0x04FF), (0x2000, 0x2BFF)) + CJK_BLOCKS


def is_cjk(char: str) -> bool:
    code = ord(char)
    return any(low <= code <= high for low, high in CJK_BLOCKS)


class _Text(HTMLParser):
    """The characters a reader can see: text nodes (not ``<title>``, which the browser draws in its own
    font, nor ``<style>``), ``alt``/``placeholder``/``value`` attributes, and the string literals of
    scripts (text the page writes at run time; JSON escapes ``\\uXXXX`` read as characters)."""

    SHOWN_ATTRIBUTES = ("alt", "placeholder", "value")

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._inside: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("script", "style", "title"):
            self._inside.append(tag)
        self.parts.extend(value for name, value in attrs if name in self.SHOWN_ATTRIBUTES and value)

    def handle_endtag(self, tag: str) -> None:
        if self._inside and self._inside[-1] == tag:
            self._inside.pop()

    def handle_data(self, data: str) -> None:
        where = self._inside[-1] if self._inside else None
        if where is None:
            self.parts.append(data)
        elif where == "script":
            self.parts.append(_unescape_js(data))


def _unescape_js(script: str) -> str:
    """The non-ASCII characters a script holds, its ``\\uXXXX`` escapes included (surrogates skipped)."""
    escaped = (chr(int(h, 16)) for h in re.findall(r"\\u([0-9a-fA-F]{4})", script))
    return "".join(c for c in script if ord(c) > 127) + "".join(c for c in escaped if not 0xD800 <= ord(c) <= 0xDFFF)


def page_text(page: str) -> str:
    """The text of ``page`` a reader sees (see :class:`_Text`), entities decoded."""
    parser = _Text()
    parser.feed(page)
    parser.close()
    return "".join(parser.parts)


@functools.lru_cache(maxsize=1)
def font_path() -> Path | None:
    """IPAexGothic as ``matplotlib-fontja`` ships it, found by the package's location without importing it
    (importing it would switch matplotlib's default font, as :func:`csresearch.style.cjk_font` explains)."""
    spec = importlib.util.find_spec(FONT_PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        return None
    folder = Path(next(iter(spec.submodule_search_locations))) / "fonts"
    path = folder / FONT_FILE
    if path.is_file():
        return path
    found = sorted(folder.glob("*.ttf"))
    return found[0] if found else None


def woff2_available() -> bool:
    """fontTools writes WOFF2 only with the ``brotli`` package (a dependency; WOFF when it is missing)."""
    return importlib.util.find_spec("brotli") is not None


# Horizontal text only: the vertical-writing features and metrics would add glyphs no page draws.
_VERTICAL = ("vert", "vrt2", "vkna", "vkrn", "vpal", "vhal", "valt")


def subset_font(characters: Iterable[str], flavor: str | None = "auto") -> tuple[bytes, str, set[str]]:
    """IPAexGothic cut to ``characters``: ``(font bytes, CSS format, characters the font had)``.

    ``flavor`` is "woff2", "woff" or None (TrueType); "auto": WOFF2 when brotli is installed, else WOFF. Hinting
    is dropped (browsers on today's screens do not use it, and it is a third of the bytes); the name
    records kept are the font's names, copyright and licence URL."""
    from fontTools import subset
    from fontTools.ttLib import TTFont

    path = font_path()
    if path is None:
        raise FileNotFoundError(f"{FONT_PACKAGE} is not installed: no Japanese font to embed")
    if flavor == "auto":
        flavor = "woff2" if woff2_available() else "woff"
    font = TTFont(path, recalcTimestamp=False)
    covered = set(characters) & {chr(code) for code in font.getBestCmap()}
    options = subset.Options()
    options.flavor = flavor
    options.hinting = False
    options.layout_features = [f for f in options.layout_features if f not in _VERTICAL]
    options.drop_tables += ["vhea", "vmtx", "BASE"]
    options.name_IDs = [0, 1, 2, 3, 4, 5, 6, 13, 14]
    subsetter = subset.Subsetter(options)
    subsetter.populate(unicodes=sorted(ord(c) for c in covered))
    subsetter.subset(font)
    out = io.BytesIO()
    subset.save_font(font, out, options)
    font.close()
    return out.getvalue(), {"woff2": "woff2", "woff": "woff"}.get(flavor or "", "truetype"), covered


def unicode_range(characters: Iterable[str]) -> str:
    """The CSS ``unicode-range`` of ``characters``: each of :data:`RANGE_BLOCKS` that holds one of them, and
    any other character by itself."""
    codes = sorted({ord(c) for c in characters})
    parts: list[str] = []
    for low, high in RANGE_BLOCKS:
        if any(low <= code <= high for code in codes):
            parts.append(f"U+{low:X}-{high:X}")
    parts += [f"U+{code:X}" for code in codes if not any(low <= code <= high for low, high in RANGE_BLOCKS)]
    return ", ".join(parts)


def font_face(characters: Iterable[str]) -> tuple[str, set[str]]:
    """The ``@font-face`` rule of the subset for ``characters`` and the characters it covers."""
    data, fmt, covered = subset_font(characters)
    mime = {"woff2": "font/woff2", "woff": "font/woff", "truetype": "font/ttf"}[fmt]
    url = f"data:{mime};base64,{base64.b64encode(data).decode()}"
    return (f'@font-face {{ font-family: "{FAMILY}"; src: url({url}) format("{fmt}"); font-weight: 400; '
            f"font-style: normal; font-display: block; unicode-range: {unicode_range(covered)}; }}"), covered


_STYLE = re.compile(r"(<style\b[^>]*>)(.*?)(</style>)", re.S | re.I)
_FAMILY_DECLARATION = re.compile(r"(font-family\s*:\s*)([^;{}!]+?)(\s*(?:!important\s*)?(?:;|}))", re.I)
_FONT_FACE = re.compile(r"(@font-face\s*\{[^}]*\})", re.I)
_KEYWORDS = {"inherit", "initial", "unset", "revert", "revert-layer"}


def with_fallback(css: str) -> str:
    """``css`` with the Japanese families appended to each ``font-family`` declaration (not to a CSS-wide
    keyword such as ``inherit``, nor twice)."""
    def one(match: re.Match) -> str:
        families = match.group(2).strip()
        if families.lower() in _KEYWORDS or FAMILY in families:
            return match.group(0)
        return f"{match.group(1)}{families}, {FALLBACK}{match.group(3)}"

    # an @font-face rule's font-family names a face: it is left as it is
    pieces = _FONT_FACE.split(css)
    return "".join(piece if _FONT_FACE.fullmatch(piece) else _FAMILY_DECLARATION.sub(one, piece) for piece in pieces)


# Start loading the face while the head is parsed (see the module's docstring: Chromium draws boxes for
# text it shaped with the face still loading). The character is a \uXXXX escape of one the face has.
_PRELOAD = "<script>document.fonts && document.fonts.load('1em \"%s\"', '__CHAR__');</script>" % FAMILY


def embed(page: str) -> str:
    """``page`` with an embedded Japanese subset and the Japanese fallback families, when its text has a
    CJK character; otherwise ``page`` itself (an English page is unchanged, byte for byte)."""
    text = page_text(page)
    if not any(is_cjk(c) for c in text) or f'font-family: "{FAMILY}"' in page:
        return page
    if font_path() is None:
        log.warning("the page has Japanese text but %s is not installed: it shows only where the reader "
                    "has a Japanese font", FONT_PACKAGE)
        return page
    wanted = {c for c in text if ord(c) > 127}
    face, covered = font_face(wanted)
    missing = sorted(c for c in wanted - covered if is_cjk(c))
    if missing:
        log.warning("IPAexGothic has no glyph for %d character(s) of the page: %s", len(missing),
                    "".join(missing[:20]))
    # Monospaced text (code, a traceback) keeps the browser's monospaced font, with the same fallback.
    rules = [face, f"pre, code, kbd, samp {{ font-family: monospace, {FALLBACK}; }}"]
    styled = _STYLE.sub(lambda m: m.group(1) + with_fallback(m.group(2)) + m.group(3), page)
    if not any(_FAMILY_DECLARATION.search(m.group(2)) for m in _STYLE.finditer(page)):
        rules.append(f"html {{ font-family: serif, {FALLBACK}; }}")  # the browser's default font, then ours
    first = min(c for c in covered if is_cjk(c)) if any(is_cjk(c) for c in covered) else min(covered)
    style = "<style>" + "\n".join(rules) + "</style>" + _PRELOAD.replace("__CHAR__", f"\\u{ord(first):04x}")
    page = styled
    head = re.search(r"<style\b|</head>", page, re.I)
    if head is None:
        log.warning("the page has no <head>: no Japanese font embedded")
        return page
    # Before the page's own stylesheet, so a rule of the page for pre or code still wins (with the fallback).
    return page[: head.start()] + style + page[head.start():]


__all__ = ["FAMILY", "FALLBACK", "embed", "font_face", "font_path", "is_cjk", "page_text", "subset_font",
           "unicode_range", "with_fallback"]
