"""Behavioural cohorts: churn by decile of each metric and by account attribute, the thresholds worth
acting on (chosen on earlier months, measured on later ones), and what long-lived, expanding
accounts share compared with churned ones."""

from __future__ import annotations

import numpy as np
import pandas as pd

from ...core import features as feat
from ...core.revenue import paying_spells
from ...core.stats import wilson_interval
from ...data import Dataset
from ...text import num
from .compute_backtest import test_dates_for

COHORT_METRICS = ("active_users_per_seat", "events_per_seat", "usage_trend", "days_since_last_activity",
                  "feature_breadth", "time_to_value_days", "high_priority_tickets_90d", "nps_score",
                  "cs_touches_90d", "tenure_days")
COHORT_ATTRIBUTES = ("segment", "billing_period", "touch_tier", "region", "industry", "acquisition_channel")


def independent_rows(frame: pd.DataFrame, target: str = "churned") -> pd.DataFrame:
    """Labelled rows at observation dates spaced at least one label window apart (newest first), so
    each churn is counted once and an account appears at most once per window."""
    dates = test_dates_for(frame, folds=10_000, target=target)
    return frame[frame["observation_date"].isin(dates) & frame[target].notna()]


def decile_cohorts(frame: pd.DataFrame, metrics: list[str], target: str = "churned", bins: int = 10) -> pd.DataFrame:
    """Churn rate by decile of each metric (ties kept together, so a metric with many zeros gets
    fewer bins), with Wilson 95% intervals. Uses :func:`independent_rows`."""
    rows = independent_rows(frame, target)
    out = []
    for metric in metrics:
        if metric not in rows or rows[metric].notna().sum() < bins * 10:
            continue
        values = rows[metric]
        ok = values.notna()
        cut = pd.qcut(values[ok], bins, duplicates="drop")
        grouped = rows.loc[ok].groupby(cut, observed=True)[target].agg(["size", "sum"])
        low, high = wilson_interval(grouped["sum"], grouped["size"], alpha=0.05)
        for i, (interval, g) in enumerate(grouped.iterrows()):
            out.append({"metric": metric, "label": feat.describe(metric), "bin": i + 1,
                        "value_low": float(values[ok][cut == interval].min()),
                        "value_high": float(values[ok][cut == interval].max()),
                        "accounts": int(g["size"]), "churned": int(g["sum"]),
                        "churn_rate": g["sum"] / g["size"], "ci_low": low[i], "ci_high": high[i]})
    return pd.DataFrame(out)


def categorical_cohorts(frame: pd.DataFrame, columns: list[str], target: str = "churned") -> pd.DataFrame:
    """Churn rate by level of each categorical attribute with Wilson 95% intervals, plus a chi-square
    test per attribute whose p-values are Holm-corrected across the attributes (multiple comparisons)."""
    from scipy.stats import chi2_contingency
    from statsmodels.stats.multitest import multipletests

    rows = independent_rows(frame, target)
    out, tests = [], {}
    for col in columns:
        if col not in rows:
            continue
        g = rows.groupby(rows[col].astype(str))[target].agg(["size", "sum"])
        g = g[g["size"] > 0]
        if len(g) < 2:
            continue
        table = np.column_stack([g["sum"], g["size"] - g["sum"]])
        tests[col] = chi2_contingency(table)[1] if (table.sum(axis=0) > 0).all() else 1.0
        low, high = wilson_interval(g["sum"], g["size"], alpha=0.05)
        for i, (level, r) in enumerate(g.iterrows()):
            out.append({"attribute": col, "level": level, "accounts": int(r["size"]), "churned": int(r["sum"]),
                        "churn_rate": r["sum"] / r["size"], "ci_low": low[i], "ci_high": high[i]})
    result = pd.DataFrame(out)
    if tests:
        adjusted = dict(zip(tests, multipletests(list(tests.values()), method="holm")[1]))
        result["p_value_holm"] = result["attribute"].map(adjusted)
    return result


def cohorts_table(deciles: pd.DataFrame, categories: pd.DataFrame) -> pd.DataFrame:
    """Deciles and categorical cohorts in one table (``cohorts.csv``; its header only when neither
    could be computed)."""
    cols = ["kind", "variable", "label", "cohort", "accounts", "churned", "churn_rate", "ci_low", "ci_high"]
    if deciles.empty and categories.empty:
        return pd.DataFrame(columns=[*cols, "bin", "p_value_holm"])
    if deciles.empty:
        deciles = pd.DataFrame(columns=["metric", "label", "bin", "value_low", "value_high", "accounts", "churned",
                                        "churn_rate", "ci_low", "ci_high"])
    if categories.empty:
        categories = pd.DataFrame(columns=["attribute", "level", "accounts", "churned", "churn_rate", "ci_low",
                                           "ci_high"])
    d = deciles.assign(kind="decile", cohort=lambda x: x["value_low"].map(num) + " to " + x["value_high"].map(num))
    d = d.rename(columns={"metric": "variable"})
    c = categories.assign(kind="category").rename(columns={"attribute": "variable", "level": "cohort"})
    c["label"] = c["variable"].map(feat.describe)
    parts = [p for p in (d.reindex(columns=cols + ["bin"]), c.reindex(columns=cols + ["p_value_holm"])) if len(p)]
    return pd.concat(parts, ignore_index=True).reindex(columns=[*cols, "bin", "p_value_holm"])


def thresholds(frame: pd.DataFrame, metrics: list[str], target: str = "churned", min_share: float = 0.05,
               max_share: float = 0.5) -> pd.DataFrame:
    """The threshold finder: for each metric, the cut ("under X active users per seat") whose accounts
    churn at the highest rate ratio to the rest, **chosen on the earlier two thirds of the
    observation dates and measured on the later third** (choosing and measuring on the same rows would
    overstate the ratio: selection bias over many candidate cuts). The ratio's 95% interval is
    statsmodels' ``confint_proportions_2indep`` (log method), each side's rate has its Wilson interval and
    ``difference`` is the gap in rates (a ratio explodes when the rest hardly churn). Strongest first:
    the widest gap between the risky side's lower bound and the rest's upper bound."""
    from statsmodels.stats.proportion import confint_proportions_2indep

    rows = independent_rows(frame, target)
    dates = sorted(rows["observation_date"].unique())
    if len(dates) < 3:
        return pd.DataFrame()
    split = dates[int(np.ceil(len(dates) * 2 / 3))]
    early, late = rows[rows["observation_date"] < split], rows[rows["observation_date"] >= split]
    out = []
    for metric in metrics:
        if metric not in rows or early[metric].notna().sum() < 200:
            continue
        e = early[[metric, target]].dropna()
        rho = e[metric].corr(e[target], method="spearman")
        if np.isnan(rho) or rho == 0:
            continue
        below = rho < 0  # low values are the risky side
        best = None
        for q in np.arange(min_share, max_share + 1e-9, 0.05):
            cut = e[metric].quantile(q if below else 1 - q)
            risky = e[metric] <= cut if below else e[metric] >= cut
            share = risky.mean()
            if not (min_share / 2 <= share <= max_share + 0.1) or risky.all():
                continue
            r1, r0 = e.loc[risky, target].mean(), e.loc[~risky, target].mean()
            if r0 <= 0 or r1 <= r0:
                continue
            low, _ = confint_proportions_2indep(e.loc[risky, target].sum(), risky.sum(), e.loc[~risky, target].sum(),
                                                (~risky).sum(), compare="ratio", method="log")
            if best is None or low > best[0]:
                best = (low, cut)
        if best is None:
            continue
        cut = best[1]
        lt = late[[metric, target]].dropna()
        risky = lt[metric] <= cut if below else lt[metric] >= cut
        n1, n0 = int(risky.sum()), int((~risky).sum())
        if n1 == 0 or n0 == 0:
            continue
        c1, c0 = int(lt.loc[risky, target].sum()), int(lt.loc[~risky, target].sum())
        r1, r0 = c1 / n1, c0 / n0
        if c0 > 0 and c1 > 0:
            low, high = confint_proportions_2indep(c1, n1, c0, n0, compare="ratio", method="log")
        else:
            low, high = np.nan, np.nan
        ratio = r1 / r0 if r0 > 0 else np.nan
        (risky_low, rest_low), (risky_high, rest_high) = wilson_interval([c1, c0], [n1, n0], alpha=0.05)
        out.append({"metric": metric, "label": feat.describe(metric), "side": "under" if below else "over",
                    "threshold": float(cut), "share_of_accounts": n1 / (n1 + n0), "churn_rate_risky": r1,
                    "risky_low": risky_low, "risky_high": risky_high, "churn_rate_rest": r0, "rest_low": rest_low,
                    "rest_high": rest_high, "difference": r1 - r0, "rate_ratio": ratio, "ratio_low": low,
                    "ratio_high": high, "holdout_rows": n1 + n0})
    result = pd.DataFrame(out)
    if not result.empty:  # strongest first: the lower bound of the risky side's rate over the rest's upper bound
        strength = result["risky_low"] - result["rest_high"]
        result = result.loc[strength.sort_values(ascending=False).index].reset_index(drop=True)
    return result


def loyal_vs_churned(ds: Dataset, frame: pd.DataFrame, metrics: list[str], loyal_tenure_days: int = 730,
                     reactivation_window_days: int = 0) -> pd.DataFrame:
    """What long-lived, expanding accounts share compared with churned ones.

    Loyal: paying at the report date, tenure at least ``loyal_tenure_days``, and MRR above the MRR its
    current paying spell started with. Churned: each churn's last observation before it (churned =
    1). Per metric: the two means and medians, and the difference in means with a Welch 95% interval.
    ``result.attrs`` holds ``loyal_accounts`` and ``churn_events``.
    """
    from statsmodels.stats.weightstats import CompareMeans, DescrStatsW

    T = frame.attrs.get("as_of", frame["observation_date"].max())
    spells = paying_spells(ds.table("subscriptions"), T - pd.Timedelta(days=1), reactivation_window_days)
    current = spells[spells["end_date"].isna()].set_index("account_id")
    now = frame[frame["observation_date"] == T]
    start_mrr = now["account_id"].map(current["start_mrr"])
    loyal = now[(now["tenure_days"] >= loyal_tenure_days) & (now["mrr"] > start_mrr)]
    churned = frame[frame["churned"] == 1].sort_values("observation_date").drop_duplicates(
        ["account_id", "churn_date"], keep="last")
    rows = []
    for m in metrics:
        if m not in frame:
            continue
        a, b = loyal[m].dropna().astype(float), churned[m].dropna().astype(float)
        if len(a) < 5 or len(b) < 5:
            continue
        if a.std() == 0 and b.std() == 0:
            low = high = float(a.mean() - b.mean())
        else:
            low, high = CompareMeans(DescrStatsW(a.to_numpy()), DescrStatsW(b.to_numpy())).tconfint_diff(usevar="unequal")
        pooled_sd = np.sqrt((a.var() + b.var()) / 2)
        rows.append({"metric": m, "label": feat.describe(m), "loyal_mean": a.mean(), "churned_mean": b.mean(),
                     "loyal_median": a.median(), "churned_median": b.median(), "difference": a.mean() - b.mean(),
                     "difference_low": low, "difference_high": high,
                     "standardised_difference": (a.mean() - b.mean()) / pooled_sd if pooled_sd > 0 else 0.0})
    out = pd.DataFrame(rows)
    if not out.empty:
        out = out.reindex(out["standardised_difference"].abs().sort_values(ascending=False).index).reset_index(drop=True)
    out.attrs.update(loyal_accounts=len(loyal), churn_events=len(churned))
    return out
