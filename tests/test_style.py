"""The shared chart style (issues 18.3 and 17.6): Japanese glyphs render from a font installed with the
package, titles wrap by display width instead of running into the next panel, and colours carry one
meaning (red worse, green better, grey no change within noise) that colour-blind readers can see."""

from __future__ import annotations

import colorsys
import io
import re
import warnings
from pathlib import Path
from types import SimpleNamespace

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402
from matplotlib import font_manager  # noqa: E402
from matplotlib.colors import to_rgb  # noqa: E402

from csresearch import style  # noqa: E402

SRC = Path(__file__).resolve().parents[1] / "src" / "csresearch"


@pytest.fixture
def themed():
    with plt.rc_context():
        style.set_theme()
        yield
    plt.close("all")


def _render(fig) -> None:
    fig.savefig(io.BytesIO(), format="png")


def _japanese_figure():
    fig, axes = plt.subplots(1, 2, figsize=(9, 3.4))
    axes[0].bar(["価格", "サポート", "競合"], [3, 2, 1], color=[style.WORSE, style.NEUTRAL, style.BETTER], label="解約数")
    axes[0].set_xlabel("解約理由（キャンセルフォーム）")
    axes[0].set_ylabel("解約アカウント数")
    axes[0].legend(title="凡例")
    axes[0].annotate("最多：価格", (0, 3))
    style.set_title(axes[0], "セグメント別の解約率：直近3か月と前年同期の比較（95%信頼区間）")
    axes[1].plot([1, 2, 3], [0.02, 0.03, 0.025], label="ロゴ解約率")
    axes[1].legend()
    style.set_title(axes[1], "ネット売上維持率 (NRR) の推移")
    style.set_suptitle(fig, "2026年11月のMRRブリッジ：期首MRRから期末MRRまで", x=0.01, ha="left")
    fig.tight_layout()
    return fig


# --------------------------------------------------------------------------------------------------
# Fonts
# --------------------------------------------------------------------------------------------------
def test_theme_puts_the_japanese_font_after_the_latin_one(themed):
    assert style.cjk_font() == "IPAexGothic"
    assert plt.rcParams["font.family"] == ["sans-serif", "IPAexGothic"]
    # English text is still set in the Latin font the theme had before: the first family resolves
    # to DejaVu Sans (matplotlib's own, seaborn's sans-serif list), not to the Japanese font
    first = font_manager.findfont(font_manager.FontProperties(family=["sans-serif"]))
    assert Path(first).name.startswith("DejaVuSans")
    # and the Japanese font file comes from the installed package, not from the system
    ja = font_manager.findfont(font_manager.FontProperties(family=["IPAexGothic"]), fallback_to_default=False)
    assert "matplotlib_fontja" in ja


def test_japanese_titles_labels_and_legends_render_without_missing_glyphs(themed):
    fig = _japanese_figure()
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # "Glyph 20385 (...) missing from font(s) DejaVu Sans." fails here
        _render(fig)


def test_without_the_fallback_the_same_chart_warns(themed):
    """The check above can fail: the same chart without the Japanese font warns of missing glyphs."""
    plt.rcParams["font.family"] = ["sans-serif"]
    with pytest.warns(UserWarning, match="missing from font"):
        _render(_japanese_figure())


def test_postmortem_themes_chart_in_japanese(themed):
    """A report chart drawn from Japanese themes (labels wrapped by display width) has every glyph."""
    from csresearch.analyses.churn_postmortem import charts

    table = pd.DataFrame({"theme": ["価格、予算、高い、削減", "サポート、遅い、不具合、返信、問い合わせ、放置、修正、対応"],
                          "comments": [12, 7]})
    result = SimpleNamespace(is_month=True, themes=SimpleNamespace(themes=table))
    fig = charts.themes(result, title="解約コメントのテーマ（コメント数）")
    labels = [t.get_text() for t in fig.axes[0].get_yticklabels()]
    assert any("\n" in label for label in labels)  # 58 columns: wrapped at 40
    assert all(style.display_width(line) <= 40 for label in labels for line in label.split("\n"))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        _render(fig)


# --------------------------------------------------------------------------------------------------
# Titles
# --------------------------------------------------------------------------------------------------
def test_display_width_counts_wide_characters_twice():
    assert style.display_width("MRR") == 3
    assert style.display_width("解約率") == 6
    assert style.display_width("NRR（12か月）") == 3 + 2 + 2 + 2 + 2 + 2  # N R R, （, 1 2, か, 月, ）: brackets are wide


def test_wrap_text_breaks_japanese_between_characters():
    assert style.wrap_text("解約率が高いセグメント", 8) == "解約率が\n高いセグ\nメント"
    assert style.wrap_text("解約率が高い", 20) == "解約率が高い"


def test_wrap_text_keeps_japanese_punctuation_off_the_start_of_a_line():
    wrapped = style.wrap_text("価格、サポート。競合", 4)
    assert wrapped == "価\n格、\nサ\nポー\nト。\n競合"
    assert not any(line[0] in "、。ー" for line in wrapped.split("\n"))
    # an opening bracket never ends a line, a closing one never starts one
    assert style.wrap_text("理由は「価格」です", 6) == "理由は\n「価\n格」で\nす"


def test_wrap_text_breaks_english_at_spaces_only():
    assert style.wrap_text("Logo churn by segment", 10) == "Logo churn\nby segment"
    assert style.wrap_text("supercalifragilistic ok", 5) == "supercalifragilistic\nok"  # never mid-word
    assert style.wrap_text("line one\nline two", 40) == "line one\nline two"


def test_long_title_wraps_before_the_next_panel(themed):
    fig, (left, right) = plt.subplots(1, 2, figsize=(9, 3))
    title = style.set_title(left, "ヘルススコア別の解約率と、解約の何日前に赤になったか（早期警告の実績）")
    short = style.set_title(right, "Churn by band")
    fig.tight_layout()
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    assert "\n" in title.get_text()
    assert title.get_window_extent(renderer).x1 < right.get_window_extent(renderer).x0
    assert short.get_text() == "Churn by band"  # a title that fits is left alone
    # the Japanese font has one weight: a Japanese title is regular throughout, an English one stays bold
    assert title.get_fontweight() == "normal" and short.get_fontweight() == "bold"


def test_suptitle_wraps_to_the_figure(themed):
    fig, ax = plt.subplots(figsize=(6, 3))
    sup = style.set_suptitle(fig, "解約理由とセグメント別の解約アカウント数、直近12か月の推移と前年同期との比較",
                             x=0.01, ha="left")
    fig.canvas.draw()
    assert "\n" in sup.get_text()
    assert sup.get_window_extent(fig.canvas.get_renderer()).x1 <= fig.bbox.width


# --------------------------------------------------------------------------------------------------
# One colour meaning
# --------------------------------------------------------------------------------------------------
def test_change_color_reads_the_interval():
    assert style.change_color(0.01, 0.03) == style.WORSE  # churn up beyond noise
    assert style.change_color(-0.03, -0.01) == style.BETTER  # churn down beyond noise
    assert style.change_color(-0.01, 0.02) == style.NEUTRAL  # the interval holds zero
    assert style.change_color(0.01, 0.03, higher_is_worse=False) == style.BETTER  # retention up
    assert style.change_color(float("nan"), 0.03) == style.NEUTRAL  # no interval: no claim


def _hue_class(color: str) -> str:
    h, lightness, s = colorsys.rgb_to_hls(*to_rgb(color))
    if s < 0.25 or lightness > 0.93:
        return "grey"
    degrees = h * 360
    if degrees < 30 or degrees >= 335:  # vermillion (26 degrees) is a red
        return "red"
    if 85 <= degrees < 175:
        return "green"
    return "other"


def test_semantic_colours_are_red_green_and_grey():
    assert _hue_class(style.WORSE) == "red" and _hue_class(style.BETTER) == "green"
    assert _hue_class(style.NEUTRAL) == "grey"
    assert style.BAND_COLORS["red"] == style.WORSE and style.BAND_COLORS["green"] == style.BETTER
    assert style.MOVEMENT_COLORS["churn"] == style.WORSE
    assert {_hue_class(style.MOVEMENT_COLORS[m]) for m in ("new", "expansion", "reactivation")} == {"green"}


def test_meaningless_series_colours_are_neither_red_nor_green():
    assert {_hue_class(c) for c in style.PALETTE} <= {"other", "grey"}, [(c, _hue_class(c)) for c in style.PALETTE]


def test_no_chart_hard_codes_a_red_or_green():
    """Charts take red and green from the style, so the two mean worse and better everywhere."""
    found = []
    for path in sorted(SRC.glob("analyses/*/charts*.py")):
        text = path.read_text()
        for literal in re.findall(r"#[0-9A-Fa-f]{6}\b", text):
            if _hue_class(literal) in ("red", "green"):
                found.append(f"{path.parent.name}/{path.name}: {literal}")
        for name in re.findall(r"""(?:color|cmap)\s*=\s*["'](red|green|Reds|Greens|RdYlGn|RdBu|tab:red|tab:green)["']""",
                               text):
            found.append(f"{path.parent.name}/{path.name}: {name}")
    assert not found, found


# Machado, Oliveira & Fernandes (2009) simulation matrices (severity 1.0), on linear RGB
DEUTERANOPIA = np.array([[0.367322, 0.860646, -0.227968], [0.280085, 0.672501, 0.047413],
                         [-0.011820, 0.042940, 0.968881]])
PROTANOPIA = np.array([[0.152286, 1.052583, -0.204868], [0.114503, 0.786281, 0.099216],
                       [-0.003882, -0.048116, 1.051998]])


def _lab(linear_rgb: np.ndarray) -> np.ndarray:
    xyz = np.array([[0.4124, 0.3576, 0.1805], [0.2126, 0.7152, 0.0722], [0.0193, 0.1192, 0.9505]]) @ linear_rgb
    x, y, z = xyz / np.array([0.95047, 1.0, 1.08883])

    def f(t):
        return np.cbrt(t) if t > 0.008856 else 7.787 * t + 16 / 116

    return np.array([116 * f(y) - 16, 500 * (f(x) - f(y)), 200 * (f(y) - f(z))])


def _linear(color: str) -> np.ndarray:
    c = np.array(to_rgb(color))
    return np.where(c <= 0.04045, c / 12.92, ((c + 0.055) / 1.055) ** 2.4)


@pytest.mark.parametrize("vision", [DEUTERANOPIA, PROTANOPIA], ids=["deuteranopia", "protanopia"])
def test_worse_and_better_stay_apart_for_colour_blind_readers(vision):
    """Worse and better differ by CIELAB delta-E >= 30 under simulated red-green colour blindness.
    Why 30: ten times the just-noticeable difference (2.3), as chart marks are small; the pair this
    replaced (#D1495B / #66A182) scored 18 and 21, matplotlib's tab:red / tab:green 7 and 38."""
    worse, better = (_lab(vision @ _linear(c)) for c in (style.WORSE, style.BETTER))
    assert np.linalg.norm(worse - better) >= 30
