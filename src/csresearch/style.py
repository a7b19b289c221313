"""The one chart style: seaborn theme, palette and the axis formatters every report's charts share.

Charts are sized for an HTML report read on a laptop: titles say what the chart answers, axes carry
units, money is formatted as money and rates as percentages.

**One colour meaning** in every chart: :data:`WORSE` (vermillion) is worse for the business (churn,
risk, a loss, an effect that hurts), :data:`BETTER` (bluish green) is better (retention, gains, an
effect that helps), :data:`NEUTRAL` (grey) is neutral or no change within noise, and :data:`CAUTION`
(amber) sits between (a yellow health band, a normal-priority ticket). They are Okabe & Ito's
colour-blind-safe shades: vermillion and bluish green differ on the blue-yellow axis too, so a
reader with red-green colour blindness still tells them apart (tests/test_style.py simulates it).
:data:`PALETTE`, for series whose colour means nothing (segments, arms, models, cohorts), holds no
red and no green, so a series is never read as good or bad by its colour. :func:`change_color`
picks the colour of an estimate from its interval.

**Any language**: the theme registers IPAexGothic (shipped by the ``matplotlib-fontja`` package, so
no system font is assumed) as a fallback after the Latin font: English charts look as before and
Japanese glyphs render. :func:`set_title` and :func:`set_suptitle` wrap titles by display width (a
CJK character is two columns wide and a line may break between two of them) instead of letting a
long title run into the next panel.
"""

from __future__ import annotations

import importlib.util
import logging
import math
import unicodedata
from functools import lru_cache
from pathlib import Path

import matplotlib.pyplot as plt
import matplotlib.ticker as mticker
import pandas as pd
import seaborn as sns
from matplotlib import font_manager
from matplotlib.colors import LinearSegmentedColormap

from .i18n import _

# Semantic colours (Okabe & Ito 2008, colour-blind safe): one meaning each, in every chart.
WORSE = "#D55E00"          # worse for the business: churn, risk, losses, a harmful effect
WORSE_LIGHT = "#EBA07E"    # a milder loss (contraction beside churn)
WORSE_DARK = "#8F3F00"     # the most severe (urgent tickets)
BETTER = "#009E73"         # better: retention, gains, a helpful effect
BETTER_LIGHT = "#7FCEB9"   # a milder gain (reactivation)
BETTER_DARK = "#00664A"    # new business
NEUTRAL = "#8C939A"        # neutral, or no change within noise
CAUTION = "#E69F00"        # in between: a yellow health band
REFERENCE = "#333333"      # reference lines: zero, the overall rate, a threshold

# Series whose colour means nothing (segments, arms, models, cohorts): no red, no green. Index 6 stays
# grey, the control arm / a baseline series.
PALETTE = ["#2E5A88", "#56B4E9", "#8D6A9F", "#A6761D", "#332288", "#DDAA33", "#6C757D", "#AA4499"]
MOVEMENT_COLORS = {
    "new": BETTER_DARK,
    "expansion": BETTER,
    "reactivation": BETTER_LIGHT,
    "contraction": WORSE_LIGHT,
    "churn": WORSE,
}
# Health bands (and any red/yellow/green traffic light) read with the same meaning.
BAND_COLORS = {"green": BETTER, "yellow": CAUTION, "amber": CAUTION, "orange": CAUTION, "red": WORSE}
# Sequential maps: more is worse (churn counts), more is better; diverging: better below, worse above.
WORSE_CMAP = LinearSegmentedColormap.from_list("csresearch_worse", ["#FFFFFF", WORSE_LIGHT, WORSE, WORSE_DARK])
BETTER_CMAP = LinearSegmentedColormap.from_list("csresearch_better", ["#FFFFFF", BETTER_LIGHT, BETTER, BETTER_DARK])
BETTER_WORSE_CMAP = LinearSegmentedColormap.from_list("csresearch_better_worse", [BETTER, "#F7F7F7", WORSE])


def change_color(low: float, high: float, higher_is_worse: bool = True) -> str:
    """The colour of a change or effect read from its interval: grey when the interval holds zero
    (no change within noise), else worse or better as the direction and ``higher_is_worse`` say."""
    if not (math.isfinite(low) and math.isfinite(high)) or low <= 0 <= high:
        return NEUTRAL
    up = low > 0
    return WORSE if up == higher_is_worse else BETTER


# ----------------------------------------------------------------------------------------------------
# Fonts: a Latin font first, IPAexGothic after it for the glyphs it lacks
# ----------------------------------------------------------------------------------------------------
CJK_FONT_PACKAGE = "matplotlib_fontja"


@lru_cache(maxsize=1)
def cjk_font() -> str | None:
    """Register the Japanese font shipped by ``matplotlib-fontja`` and return its family name.

    Found through the package's location, not imported: importing it would switch every chart to
    the Japanese font (its import sets ``font.family``), which changes how English charts look.
    None when the package is not installed (then Japanese text renders as boxes, with matplotlib's
    missing-glyph warning).
    """
    spec = importlib.util.find_spec(CJK_FONT_PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        return None
    fonts = sorted(Path(next(iter(spec.submodule_search_locations))).glob("fonts/*.ttf"))
    if not fonts:
        return None
    for path in fonts:
        font_manager.fontManager.addfont(str(path))
    family = font_manager.FontProperties(fname=str(fonts[0])).get_name()
    # IPAexGothic has one weight: bold titles use it at its own weight. Say so once here rather than
    # in every report's log ("findfont: Failed to find font weight bold for IPAexGothic").
    logging.getLogger("matplotlib.font_manager").addFilter(
        lambda record: not (family in record.getMessage() and "Failed to find font weight" in record.getMessage()))
    return family


def set_theme() -> None:
    sns.set_theme(style="whitegrid", palette=PALETTE, context="notebook")
    plt.rcParams.update({
        "figure.figsize": (9, 4.2),
        "figure.dpi": 96,
        "axes.titlesize": 12,
        "axes.titleweight": "bold",
        "axes.titlelocation": "left",
        "axes.spines.top": False,
        "axes.spines.right": False,
        "legend.frameon": False,
        "savefig.bbox": "tight",
    })
    family = cjk_font()
    if family is not None:  # matplotlib >= 3.6 falls back along a family list glyph by glyph
        plt.rcParams["font.family"] = ["sans-serif", family]


def money(ax, axis: str = "y", thousands: bool = False) -> None:
    """Money ticks in the run's currency with a true minus sign: \u2212$20k, $1.2M, 2.6億円 (``thousands``:
    always $1,750k / 175万円); see :func:`csresearch.text.money_tick`."""
    from .text import money_tick

    def fmt(x, _):
        return money_tick(x, thousands)
    (ax.yaxis if axis == "y" else ax.xaxis).set_major_formatter(mticker.FuncFormatter(fmt))


def percent(ax, axis: str = "y", decimals: int = 0) -> None:
    (ax.yaxis if axis == "y" else ax.xaxis).set_major_formatter(mticker.PercentFormatter(1.0, decimals=decimals))


def line(df: pd.DataFrame, x: str, y: str, title: str, ylabel: str, hue: str | None = None,
         fmt: str = "number", ax=None):
    """A labelled line chart; ``fmt`` is number, money or percent."""
    if ax is None:
        _, ax = plt.subplots()
    sns.lineplot(data=df, x=x, y=y, hue=hue, marker="o", markersize=3, ax=ax)
    set_title(ax, title)
    ax.set_xlabel("")
    ax.set_ylabel(ylabel)
    if fmt == "money":
        money(ax)
    elif fmt == "percent":
        percent(ax, decimals=1)
    return ax


# ----------------------------------------------------------------------------------------------------
# Titles that wrap instead of running into the next panel, in any script
# ----------------------------------------------------------------------------------------------------
# Characters a line never starts with (the basic set of Japanese line-breaking rules, kinsoku shori,
# plus Latin closing punctuation), and those it never ends with.
_NO_LINE_START = frozenset("、。，．・：；？！ー）」』】〉》〕］｝ぁぃぅぇぉっゃゅょゎァィゥェォッャュョヮヵヶ々,.:;!?)]}%")
_NO_LINE_END = frozenset("（「『【〈《〔［｛([{")


def _is_wide(ch: str) -> bool:
    return unicodedata.east_asian_width(ch) in ("W", "F")


def display_width(text: str) -> int:
    """Columns a text takes in a monospaced view: East Asian wide and full-width characters count two."""
    return sum(2 if _is_wide(ch) else 1 for ch in text)


def _units(paragraph: str) -> list[tuple[str, bool]]:
    """Unbreakable pieces of a line and whether a space precedes each: a Latin word is one piece, each
    CJK character is one, and punctuation stays with its neighbour as the line-breaking rules say."""
    units: list[tuple[str, bool]] = []
    space = False
    word = ""
    for ch in paragraph:
        if ch.isspace():
            if word:
                units.append((word, space))
                word = ""
            space = True
            continue
        if _is_wide(ch):
            if word:
                units.append((word, space))
                word, space = "", False
            units.append((ch, space))
            space = False
        else:
            word += ch
    if word:
        units.append((word, space))
    merged: list[tuple[str, bool]] = []
    for text, spaced in units:
        glue = merged and not spaced and (text[0] in _NO_LINE_START or merged[-1][0][-1] in _NO_LINE_END)
        if glue:
            merged[-1] = (merged[-1][0] + text, merged[-1][1])
        else:
            merged.append((text, spaced))
    return merged


def wrap_text(text: str, width: float, measure=display_width) -> str:
    """``text`` broken into lines no wider than ``width`` as ``measure`` counts (columns by default):
    between words at spaces, and between two CJK characters, which have no spaces between them. A
    piece wider than a line stays whole on its own line; existing line breaks are kept."""
    lines: list[str] = []
    for paragraph in text.split("\n"):
        current = ""
        for piece, spaced in _units(paragraph):
            candidate = current + (" " if spaced and current else "") + piece
            if current and measure(candidate) > width:
                lines.append(current)
                current = piece
            else:
                current = candidate
        lines.append(current)
    return "\n".join(lines)


@lru_cache(maxsize=4)
def _renderer(dpi: float):
    from matplotlib.backends.backend_agg import RendererAgg

    return RendererAgg(1, 1, dpi)


def _wrap_to(text_artist, available_px: float) -> None:
    """Wrap a title artist's text so its rendered width (its own font, with the fallback fonts) fits.

    A title with CJK characters is set in the regular weight: IPAexGothic has no bold, and a bold
    title whose Latin letters and digits are bold while its Japanese is not reads as patchy."""
    if any(_is_wide(ch) for ch in text_artist.get_text()):
        text_artist.set_fontweight("normal")
    prop = text_artist.get_fontproperties()
    renderer = _renderer(text_artist.figure.dpi)

    def measure(s: str) -> float:
        return renderer.get_text_width_height_descent(s, prop, ismath=False)[0]

    text_artist.set_text(wrap_text(text_artist.get_text(), available_px, measure))


def _room_right_of(ax) -> float:
    """Figure fraction from the axes' left edge to the next panel's left edge in its row (or the
    figure's right edge): the width a left-aligned title can take without touching its neighbour."""
    box = ax.get_position()
    right = 1.0
    for other in ax.figure.axes:
        ob = other.get_position()
        if other is ax or ob.x0 <= box.x0 + 1e-9 or ob.y1 <= box.y0 or ob.y0 >= box.y1:
            continue
        right = min(right, ob.x0)
    return right - box.x0


def set_title(ax, text: str, **kwargs):
    """``ax.set_title`` whose text wraps to the room it has (up to the next panel on its right, or the
    axes' width when centred), measured in its own font: Japanese titles wrap between characters."""
    artist = ax.set_title(text, **kwargs)
    loc = kwargs.get("loc", plt.rcParams["axes.titlelocation"])
    share = ax.get_position().width if loc == "center" else _room_right_of(ax)
    _wrap_to(artist, 0.97 * share * ax.figure.get_figwidth() * ax.figure.dpi)
    return artist


def set_suptitle(fig, text: str, **kwargs):
    """``fig.suptitle`` that wraps to the figure's width (from its x position when left-aligned)."""
    artist = fig.suptitle(text, **kwargs)
    left_aligned = kwargs.get("ha", kwargs.get("horizontalalignment")) == "left"
    share = 1 - kwargs.get("x", 0.01) if left_aligned else 0.96
    _wrap_to(artist, 0.97 * share * fig.get_figwidth() * fig.dpi)
    return artist


def translate_at_risk(fig) -> None:
    """lifelines writes its at-risk table's row heading in English (as tick labels of a twin axis): the
    run's language instead."""
    shown = _("At risk")
    if shown == "At risk":
        return
    for axis in fig.axes:
        ticks = axis.get_xticks()
        labels = [t.get_text() for t in axis.get_xticklabels()]
        if any("At risk" in label for label in labels):
            axis.set_xticks(ticks, [label.replace("At risk", shown) for label in labels])
