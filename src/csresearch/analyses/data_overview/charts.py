"""Charts of the data overview, on the shared style."""

from __future__ import annotations

import matplotlib.pyplot as plt

from ... import style
from ...text import words as in_words
from . import words
from .result import ATTRIBUTES, Result


def mrr_trend(result: Result):
    trend = result.trend
    ax = style.line(trend, "month_end", "mrr", words.trend_title(result), "MRR", fmt="money")
    ax2 = ax.twinx()
    ax2.plot(trend["month_end"], trend["paying_accounts"], color="#6C757D", ls="--", label="paying accounts")
    ax2.set_ylabel("paying accounts (dashed)")
    ax2.grid(False)
    return ax


def accounts_by_attribute(result: Result):
    fig, axes = plt.subplots(1, len(ATTRIBUTES), figsize=(12, 3.6))
    for ax, column in zip(axes, ATTRIBUTES):
        counts = result.by_attribute[column]
        ax.barh(counts[column], counts["accounts"], color=style.PALETTE[0])
        ax.set_title(f"Accounts by {in_words(column)}")
        ax.set_xlabel("accounts")
        ax.invert_yaxis()
    fig.tight_layout()
    return fig
