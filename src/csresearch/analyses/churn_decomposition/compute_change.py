"""What drove the change in churn between two trailing windows: the mix-vs-rate split per segment,
an interval on each segment's contribution, and the intervals of the change.

The split (Kitagawa's symmetric, or midpoint, decomposition; for two factors it is also Das Gupta's
and the Shapley value) writes the overall rate as R = sum_i s_i r_i over segments i with shares s_i
of the base and churn rates r_i, and gives segment i

    rate part  (s0_i + s1_i)/2 x (r1_i - r0_i)
    mix part   (s1_i - s0_i)    x ((r0_i + r1_i)/2 - (R0 + R1)/2)

The mix part is measured against the overall rate: the shares sum to 1 in both windows, so the
shift sum_i (s1_i - s0_i) is 0 and subtracting the same overall rate from every segment changes no
total, yet a segment that grows while churning at the overall rate no longer gets credit for
moving it. (With absolute rates, segment A growing from 50% to 70% of the base at an unchanged 2%
churn would be credited +0.4 pt although it cannot move the rate at all.) Mix and rate parts add
up exactly to the change in the overall rate.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ...core.stats import ratio_interval
from .compute_segments import resample_counts, window_months_ending

METRICS = (("logo_churn", "at_risk", "churned"), ("gross_revenue_churn", "start", "lost"))
BOOTSTRAP_RESAMPLES = 1000
BOOTSTRAP_SEED = 20261


def mix_rate_split(share_before, rate_before, share_after, rate_after) -> tuple[np.ndarray, np.ndarray]:
    """Per segment, the mix and rate parts of the change in an overall rate sum(s r) (the module's
    formula): rate = (s0 + s1)/2 (r1 - r0), mix = (s1 - s0)((r0 + r1)/2 - (R0 + R1)/2) with R = sum(s r).
    ``mix + rate`` summed over segments is R1 - R0 exactly when each window's shares sum to 1. A
    segment absent in one window takes its rate from the other (all its change is mix). The last
    axis is the segment; leading axes (bootstrap resamples) are kept."""
    s0, s1 = np.asarray(share_before, float), np.asarray(share_after, float)
    r0, r1 = np.asarray(rate_before, float), np.asarray(rate_after, float)
    r0, r1 = np.where(np.isnan(r0), r1, r0), np.where(np.isnan(r1), r0, r1)
    r0, r1 = np.nan_to_num(r0), np.nan_to_num(r1)
    overall = ((s0 * r0).sum(axis=-1, keepdims=True) + (s1 * r1).sum(axis=-1, keepdims=True)) / 2
    return (s1 - s0) * ((r0 + r1) / 2 - overall), (r1 - r0) * (s0 + s1) / 2


def _contributions(w0, e0, w1, e1) -> np.ndarray:
    """Each segment's total contribution (mix + rate) from its weights and events per window; the
    last axis is the segment."""
    with np.errstate(invalid="ignore", divide="ignore"):
        s0 = w0 / w0.sum(axis=-1, keepdims=True)
        s1 = w1 / w1.sum(axis=-1, keepdims=True)
        r0, r1 = np.where(w0 > 0, e0 / w0, np.nan), np.where(w1 > 0, e1 / w1, np.nan)
    mix, rate = mix_rate_split(s0, r0, s1, r1)
    return mix + rate


def contribution_intervals(units: np.ndarray, confidence: float = 0.95,
                           n_resamples: int = BOOTSTRAP_RESAMPLES,
                           seed: int = BOOTSTRAP_SEED) -> tuple[np.ndarray, np.ndarray]:
    """Simultaneous intervals on every segment's contribution, by an account-level bootstrap.

    ``units`` is (accounts, 4, segments): per account, its weight and events before, its weight and
    events after (an account's months stay together, so the dependence of one account's months is
    kept). Intervals are the estimate +/- c x the bootstrap standard error, with c the ``confidence``
    quantile of max over segments of |bootstrap - estimate| / standard error: they cover every
    segment's contribution at once, so naming the segment with the largest one does not make its
    interval too narrow. A segment whose contribution never varies gets a zero-width interval."""
    units = np.asarray(units, float)
    point = _contributions(*units.sum(axis=0))
    draws = []
    for counts in resample_counts(units.shape[0], n_resamples, seed):
        sums = np.einsum("bn,nqk->bqk", counts, units)
        draws.append(_contributions(sums[:, 0], sums[:, 1], sums[:, 2], sums[:, 3]))
    boot = np.concatenate(draws)
    se = boot.std(axis=0, ddof=1)
    varies = se > 1e-15
    if not varies.any():
        return point.copy(), point.copy()
    t_max = (np.abs(boot[:, varies] - point[varies]) / se[varies]).max(axis=1)
    c = float(np.quantile(t_max, confidence))
    half = np.where(varies, c * se, 0.0)
    return point - half, point + half


def window_spans(month: pd.Period | str, window_months: int) -> tuple[list[pd.Period], list[pd.Period]]:
    """The trailing window ending at ``month`` and the window of the same length before it."""
    after = window_months_ending(month, window_months)
    return window_months_ending(after[0] - 1, window_months), after


def _window_rows(frame: pd.DataFrame, month: pd.Period | str, window_months: int, by: list[str]) -> pd.DataFrame:
    before, after = window_spans(month, window_months)
    work = frame[frame["month"].isin(before + after) & (frame["at_risk"] | (frame["prev_mrr"] > 0))].copy()
    work["window"] = np.where(work["month"].isin(after), "after", "before")
    work["segment"] = work[by].astype(str).agg(" · ".join, axis=1) if by else "all"
    delta = work["mrr"] - work["prev_mrr"]
    work["lost"] = np.where(work["movement"].isin(["churn", "contraction"]), -delta, 0.0)
    work["start"] = work["prev_mrr"]
    work["at_risk"] = work["at_risk"].astype(float)
    work["churned"] = work["churned"].astype(float)
    if "account_id" not in work:  # one unit per row when the frame does not name accounts
        work["account_id"] = np.arange(len(work))
    return work


def window_totals(frame: pd.DataFrame, month: pd.Period | str, window_months: int = 3) -> pd.DataFrame:
    """The two windows of the change, whatever the data holds: ``window`` (before, after), first and
    last month, ``accounts_at_risk`` (account-months), ``churned_accounts``, ``starting_mrr``,
    ``lost_mrr`` (churn + contraction)."""
    before, after = window_spans(month, window_months)
    work = _window_rows(frame, month, window_months, [])
    rows = []
    for name, span in (("before", before), ("after", after)):
        part = work[work["window"] == name]
        rows.append({"window": name, "first_month": span[0], "last_month": span[-1],
                     "accounts_at_risk": int(part["at_risk"].sum()), "churned_accounts": int(part["churned"].sum()),
                     "starting_mrr": float(part["start"].sum()), "lost_mrr": float(part["lost"].sum())})
    return pd.DataFrame(rows)


def churn_change_decomposition(frame: pd.DataFrame, by, month: pd.Period | str, window_months: int = 3,
                               confidence: float = 0.95, n_resamples: int = BOOTSTRAP_RESAMPLES,
                               seed: int = BOOTSTRAP_SEED) -> pd.DataFrame:
    """Change in logo churn and in gross revenue churn between the ``window_months`` ending at ``month``
    and the window before, per segment (the cells of the ``by`` columns), split into a mix part (the
    segment's share of the base moved, against the overall rate) and a rate part (its churn rate
    moved). Per metric, the segments' ``mix_effect + rate_effect`` sum exactly to ``total_change``
    (rate_after - rate_before); ``total_low``/``total_high`` are simultaneous bootstrap intervals on
    each segment's ``total_effect`` (:func:`contribution_intervals`). Rows sorted by the size of the
    contribution, largest first, per metric.

    Logo churn: shares of at-risk account-months, rates churned / at risk. Gross revenue churn:
    shares of starting MRR, rates (churn + contraction) / starting MRR. A metric whose base is empty
    in either window (nobody paying, or no starting MRR) has no rows: the change cannot be measured."""
    by = [by] if isinstance(by, str) else list(by)
    by = [c for c in by if c in frame]
    before, after = window_spans(month, window_months)
    work = _window_rows(frame, month, window_months, by)
    out = []
    accounts, account_codes = np.unique(work["account_id"].astype(str), return_inverse=True)
    segments, segment_codes = np.unique(work["segment"].to_numpy(str), return_inverse=True)
    after_rows = (work["window"] == "after").to_numpy()
    for metric, weight, event in METRICS:
        # per account: weight and events before, weight and events after, per segment
        units = np.zeros((len(accounts), 4, len(segments)))
        for q, (values, rows) in enumerate(((work[weight], ~after_rows), (work[event], ~after_rows),
                                            (work[weight], after_rows), (work[event], after_rows))):
            np.add.at(units, (account_codes[rows], q, segment_codes[rows]), values.to_numpy(float)[rows])
        w0, e0, w1, e1 = (pd.Series(units[:, q].sum(axis=0), index=segments) for q in range(4))
        if w0.sum() <= 0 or w1.sum() <= 0:
            continue
        low, high = contribution_intervals(units, confidence, n_resamples, seed)
        s0, s1 = w0 / w0.sum(), w1 / w1.sum()
        r0, r1 = (e0 / w0).where(w0 > 0), (e1 / w1).where(w1 > 0)
        mix, rate = mix_rate_split(s0.to_numpy(), r0.to_numpy(), s1.to_numpy(), r1.to_numpy())
        table = pd.DataFrame({
            "metric": metric, "segment": list(segments), "share_before": s0.values, "rate_before": r0.values,
            "share_after": s1.values, "rate_after": r1.values, "mix_effect": mix, "rate_effect": rate,
            "base_before": w0.values, "base_after": w1.values, "events_before": e0.values, "events_after": e1.values,
        })
        table["total_effect"] = table["mix_effect"] + table["rate_effect"]
        table["total_low"], table["total_high"] = low, high
        table["overall_before"] = e0.sum() / w0.sum()
        table["overall_after"] = e1.sum() / w1.sum()
        table["total_change"] = table["overall_after"] - table["overall_before"]
        table["share_of_change"] = table["total_effect"] / table["total_change"].where(table["total_change"] != 0)
        out.append(table.sort_values("total_effect", key=np.abs, ascending=False, kind="stable"))
    if not out:
        return pd.DataFrame()
    result = pd.concat(out, ignore_index=True)
    result.insert(1, "window_before", f"{before[0]}..{before[-1]}")
    result.insert(2, "window_after", f"{after[0]}..{after[-1]}")
    result.insert(3, "segmented_by", " x ".join(by) if by else "all")
    return result


def leading_segment(decomposition: pd.DataFrame, metric: str = "logo_churn") -> pd.Series | None:
    """The segment with the largest contribution (in size, either sign) to the change in ``metric``:
    the first row of the table shown (None when the decomposition has no row for it)."""
    if decomposition.empty:
        return None
    table = decomposition[decomposition["metric"] == metric]
    if table.empty:
        return None
    return table.iloc[int(table["total_effect"].abs().to_numpy().argmax())]


def change_interval(decomposition: pd.DataFrame, confidence: float = 0.95) -> tuple[float, float]:
    """Newcombe interval (statsmodels ``confint_proportions_2indep``) for the change in logo churn
    between the two windows of a decomposition (account-months treated as independent)."""
    from statsmodels.stats.proportion import confint_proportions_2indep

    if decomposition.empty:
        return np.nan, np.nan
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

    before, after = window_spans(month, window_months)
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
