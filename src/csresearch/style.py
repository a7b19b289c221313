"""The one chart style: seaborn theme, palette and the axis formatters every report's charts share.

Charts are sized for an HTML report read on a laptop: titles say what the chart answers, axes carry
units, money is formatted as money and rates as percentages.
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import matplotlib.ticker as mticker
import pandas as pd
import seaborn as sns

PALETTE = ["#2E5A88", "#D1495B", "#EDAE49", "#00798C", "#66A182", "#8D6A9F", "#6C757D", "#F28F3B"]
MOVEMENT_COLORS = {
    "new": "#2E5A88",
    "expansion": "#66A182",
    "reactivation": "#00798C",
    "contraction": "#EDAE49",
    "churn": "#D1495B",
}


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
    ax.set_title(title)
    ax.set_xlabel("")
    ax.set_ylabel(ylabel)
    if fmt == "money":
        money(ax)
    elif fmt == "percent":
        percent(ax, decimals=1)
    return ax
