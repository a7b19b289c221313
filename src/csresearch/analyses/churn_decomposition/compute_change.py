"""What drove the change in churn between two trailing windows: the mix-vs-rate split per segment,
and the intervals of the change."""

from __future__ import annotations

import numpy as np
import pandas as pd

from ...core.stats import ratio_interval
from .compute_segments import window_months_ending


def mix_rate_split(share_before, rate_before, share_after, rate_after) -> tuple[np.ndarray, np.ndarray]:
    """Symmetric (midpoint) split of each segment's change in contribution s*r to an overall rate:
    mix = (s1 - s0)(r0 + r1)/2, rate = (r1 - r0)(s0 + s1)/2, so mix + rate = s1 r1 - s0 r0 exactly and
    the segments sum to the change in the overall rate. A segment absent in one window takes its rate
    from the other (all its change is mix)."""
    s0, s1 = np.asarray(share_before, float), np.asarray(share_after, float)
    r0, r1 = np.asarray(rate_before, float), np.asarray(rate_after, float)
    r0 = np.where(np.isnan(r0), r1, r0)
    r1 = np.where(np.isnan(r1), r0, r1)
    r0, r1 = np.nan_to_num(r0), np.nan_to_num(r1)
    return (s1 - s0) * (r0 + r1) / 2, (r1 - r0) * (s0 + s1) / 2


def churn_change_decomposition(frame: pd.DataFrame, by, month: pd.Period | str,
                               window_months: int = 3) -> pd.DataFrame:
    """Change in logo churn and in gross revenue churn between the ``window_months`` ending at ``month``
    and the window before, per segment (the cells of the ``by`` columns), split into a mix part (the
    segment's share of the base moved) and a rate part (its churn rate moved). Per metric, the
    segments' ``mix_effect + rate_effect`` sum exactly to ``total_change`` (rate_after - rate_before).

    Logo churn: shares of at-risk account-months, rates churned / at risk. Gross revenue churn:
    shares of starting MRR, rates (churn + contraction) / starting MRR."""
    by = [by] if isinstance(by, str) else list(by)
    by = [c for c in by if c in frame]
    after = window_months_ending(month, window_months)
    before = window_months_ending(after[0] - 1, window_months)
    work = frame[frame["month"].isin(before + after) & (frame["at_risk"] | (frame["prev_mrr"] > 0))].copy()
    work["window"] = np.where(work["month"].isin(after), "after", "before")
    work["segment"] = work[by].astype(str).agg(" · ".join, axis=1) if by else "all"
    delta = work["mrr"] - work["prev_mrr"]
    work["lost"] = np.where(work["movement"].isin(["churn", "contraction"]), -delta, 0.0)
    work["start"] = work["prev_mrr"]
    out = []
    for metric, weight, event in (("logo_churn", "at_risk", "churned"),
                                  ("gross_revenue_churn", "start", "lost")):
        cells = work.groupby(["segment", "window"])[[weight, event]].sum().unstack("window")
        cells = cells.reindex(columns=pd.MultiIndex.from_product([[weight, event], ["before", "after"]]),
                              fill_value=0).fillna(0)
        w0, w1 = cells[(weight, "before")].astype(float), cells[(weight, "after")].astype(float)
        e0, e1 = cells[(event, "before")].astype(float), cells[(event, "after")].astype(float)
        s0, s1 = w0 / w0.sum(), w1 / w1.sum()
        r0, r1 = (e0 / w0).where(w0 > 0), (e1 / w1).where(w1 > 0)
        mix, rate = mix_rate_split(s0, r0, s1, r1)
        table = pd.DataFrame({
            "metric": metric, "segment": cells.index, "share_before": s0.values, "rate_before": r0.values,
            "share_after": s1.values, "rate_after": r1.values, "mix_effect": mix, "rate_effect": rate,
            "base_before": w0.values, "base_after": w1.values, "events_before": e0.values, "events_after": e1.values,
        })
        table["total_effect"] = table["mix_effect"] + table["rate_effect"]
        table["overall_before"] = e0.sum() / w0.sum() if w0.sum() else np.nan
        table["overall_after"] = e1.sum() / w1.sum() if w1.sum() else np.nan
        table["total_change"] = table["overall_after"] - table["overall_before"]
        table["share_of_change"] = table["total_effect"] / table["total_change"].where(table["total_change"] != 0)
        out.append(table.sort_values("total_effect", key=np.abs, ascending=False))
    result = pd.concat(out, ignore_index=True)
    result.insert(1, "window_before", f"{before[0]}..{before[-1]}")
    result.insert(2, "window_after", f"{after[0]}..{after[-1]}")
    result.insert(3, "segmented_by", " x ".join(by) if by else "all")
    return result


def leading_segment(decomposition: pd.DataFrame, metric: str = "logo_churn") -> pd.Series | None:
    """The segment that moved ``metric`` most in the direction of its overall change (None when the
    decomposition has no row for it)."""
    table = decomposition[decomposition["metric"] == metric]
    if table.empty:
        return None
    direction = 1 if table["total_change"].iloc[0] >= 0 else -1
    return table.iloc[int((table["total_effect"] * direction).to_numpy().argmax())]


def change_interval(decomposition: pd.DataFrame, confidence: float = 0.95) -> tuple[float, float]:
    """Newcombe interval (statsmodels ``confint_proportions_2indep``) for the change in logo churn
    between the two windows of a decomposition (account-months treated as independent)."""
    from statsmodels.stats.proportion import confint_proportions_2indep

    table = decomposition[decomposition["metric"] == "logo_churn"]
    e0, e1 = table["events_before"].sum(), table["events_after"].sum()
    n0, n1 = table["base_before"].sum(), table["base_after"].sum()
    if not (n0 and n1):
        return np.nan, np.nan
    low, high = confint_proportions_2indep(e1, n1, e0, n0, method="newcomb", compare="diff",
                                           alpha=1 - confidence)
    return float(low), float(high)


def revenue_change_interval(frame: pd.DataFrame, month: pd.Period | str, window_months: int = 3,
                            confidence: float = 0.95) -> tuple[float, float]:
    """Interval for the change in gross revenue churn between the window ending at ``month`` and the
    one before: the two windows' delta-method standard errors combined as if independent."""
    from scipy.stats import norm

    after = window_months_ending(month, window_months)
    before = window_months_ending(after[0] - 1, window_months)
    z = norm.ppf(0.5 + confidence / 2)
    estimates = []
    for span in (before, after):
        rows = frame[frame["month"].isin(span)]
        delta = (rows["mrr"] - rows["prev_mrr"]).to_numpy(float)
        loss = np.where(rows["movement"].isin(["churn", "contraction"]), -delta, 0.0)
        ratio, low, high = ratio_interval(loss, rows["prev_mrr"].to_numpy(float), confidence)
        estimates.append((ratio, (high - low) / (2 * z)))
    (r0, se0), (r1, se1) = estimates
    if pd.isna(r0) or pd.isna(r1):
        return np.nan, np.nan
    se = np.hypot(se0, se1)
    return float(r1 - r0 - z * se), float(r1 - r0 + z * se)
