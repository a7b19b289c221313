"""Charts of the data overview, on the shared style (titles and labels in the run's language)."""

from __future__ import annotations

import matplotlib.pyplot as plt

from ... import style
from . import words
from .result import ATTRIBUTES, Result


def mrr_trend(result: Result):
    trend = result.trend
    ax = style.line(trend, "month_end", "mrr", words.trend_title(result), "MRR", fmt="money")
    ax2 = ax.twinx()
    ax2.plot(trend["month_end"], trend["paying_accounts"], color="#6C757D", ls="--", label=words.paying_accounts_label())
    ax2.set_ylabel(words.paying_accounts_axis())
    ax2.grid(False)
    return ax


def accounts_by_attribute(result: Result):
    fig, axes = plt.subplots(1, len(ATTRIBUTES), figsize=(12, 3.6))
    for ax, column in zip(axes, ATTRIBUTES):
        counts = result.by_attribute[column]
        ax.barh(counts[column], counts["accounts"], color=style.PALETTE[0])
        style.set_title(ax, words.attribute_title(column))
        ax.set_xlabel(words.accounts_axis())
        ax.invert_yaxis()
    fig.tight_layout()
    return fig
