"""Why they left: cancellation reasons ranked by accounts and by ARR (Pareto), by segment, and the
themes of the free-text comments (TF-IDF + NMF, computed locally, in English, Japanese or both:
:mod:`csresearch.core.themes`, where the tokenizer choice is explained)."""

from __future__ import annotations

import pandas as pd

from ...core.themes import COMMENT_FILLER_WORDS, Themes, comment_themes
from .compute_churns import NOT_RECORDED

__all__ = ["COMMENT_FILLER_WORDS", "Themes", "comment_themes", "reasons_by_segment", "reasons_pareto"]


def reasons_pareto(churned: pd.DataFrame, by: str = "reason") -> pd.DataFrame:
    """Churns and ARR lost per reason, largest ARR first, with shares and cumulative shares.

    Reasons missing from the cancellation form count as ``not recorded`` rather than vanishing.
    Columns: ``<by>, churns, arr_lost, churn_share, arr_share, cum_churn_share, cum_arr_share``
    (the cumulative shares follow each chart's own order: by count, resp. by ARR).
    """
    cols = [by, "churns", "arr_lost", "churn_share", "arr_share", "cum_churn_share", "cum_arr_share"]
    if churned.empty:
        return pd.DataFrame(columns=cols)
    frame = churned.assign(**{by: churned[by].fillna(NOT_RECORDED).replace("", NOT_RECORDED)})
    table = frame.groupby(by, as_index=False).agg(churns=("account_id", "size"), arr_lost=("arr_lost", "sum"))
    table["churn_share"] = table["churns"] / table["churns"].sum()
    total_arr = table["arr_lost"].sum()
    table["arr_share"] = table["arr_lost"] / total_arr if total_arr > 0 else 0.0
    by_count = table.sort_values(["churns", "arr_lost", by], ascending=[False, False, True])
    table["cum_churn_share"] = by_count["churn_share"].cumsum().reindex(table.index)
    table = table.sort_values(["arr_lost", "churns", by], ascending=[False, False, True])
    table["cum_arr_share"] = table["arr_share"].cumsum()
    return table[cols].reset_index(drop=True)


def reasons_by_segment(churned: pd.DataFrame, value: str = "churns") -> pd.DataFrame:
    """Reason x segment: churn counts (``value='churns'``) or ARR lost (``value='arr_lost'``)."""
    if churned.empty:
        return pd.DataFrame()
    frame = churned.assign(reason=churned["reason"].fillna(NOT_RECORDED),
                           segment=churned["segment"].fillna("unknown"))
    if value == "churns":
        table = pd.crosstab(frame["reason"], frame["segment"])
    else:
        table = frame.pivot_table(index="reason", columns="segment", values=value, aggfunc="sum", fill_value=0)
    order = table.sum(axis=1).sort_values(ascending=False).index
    return table.loc[order]
