"""Comparable retained accounts: for each churned account, the accounts most like it that stayed,
seen on the same day; how their usage and their last check before the churn differed."""

from __future__ import annotations

import numpy as np
import pandas as pd

from ...core.revenue import account_month_mrr, paying_spells
from ...data import Dataset
from ...period import DAYS_PER_MONTH
from .compute_audit import median_interval


def _plans_on(subscriptions: pd.DataFrame, day: pd.Timestamp, presorted: bool = False) -> pd.Series:
    """The plan (``product`` of the largest-MRR paying subscription) of every account active on ``day``,
    indexed by account id: :func:`plan_on` for one day and all accounts at once (equal MRRs: the first
    product by name). ``presorted``: ``subscriptions`` already in :func:`_by_plan_order`."""
    if not presorted:
        subscriptions = _by_plan_order(subscriptions)
    active = subscriptions[(subscriptions["start_date"] <= day)
                           & (subscriptions["end_date"].isna() | (subscriptions["end_date"] > day))
                           & (subscriptions["mrr"] > 0)]
    return active.drop_duplicates("account_id").set_index("account_id")["product"]


def _by_plan_order(subscriptions: pd.DataFrame) -> pd.DataFrame:
    return subscriptions.sort_values(["account_id", "mrr", "product"], ascending=[True, False, True], kind="stable")


def comparables(ds: Dataset, churned: pd.DataFrame, as_of: pd.Timestamp, k: int = 3,
                retained_days: int = 90, reactivation_window_days: int = 0) -> pd.DataFrame:
    """For each churned account, the ``k`` nearest accounts that stayed, seen on the same day.

    The reference day is the churned account's last paid day. A candidate paid that day and kept
    paying for ``retained_days`` after it (or until ``as_of``, whichever is first). Matching is exact
    on segment, on plan too when at least ``k`` candidates share it, and nearest on tenure at that day
    and MRR (log scale, standardised over the candidates; scikit-learn ``NearestNeighbors``).
    Columns: ``account_id`` (the churned one), ``comparable_id, rank, ref_date, tenure_months, mrr,
    segment, plan, same_plan, distance``.

    Linear in accounts: the churns are grouped by reference day (at most 31 in a month review); each
    day's candidates (tenure, MRR, plan) are computed once, and one nearest-neighbour search per
    segment and plan answers every churn of the group.
    """
    from sklearn.neighbors import NearestNeighbors

    cols = ["account_id", "comparable_id", "rank", "ref_date", "tenure_months", "mrr", "segment", "plan",
            "same_plan", "distance"]
    todo = churned[churned["churn_date"].notna()] if "churn_date" in churned else churned.iloc[0:0]
    if todo.empty:
        return pd.DataFrame(columns=cols)
    todo = todo.reset_index(drop=True)
    as_of = pd.Timestamp(as_of)
    subs = ds.table("subscriptions")
    subs_typed = _by_plan_order(subs[["account_id", "product", "start_date", "end_date", "mrr"]].assign(
        start_date=pd.to_datetime(subs["start_date"]), end_date=pd.to_datetime(subs["end_date"])))
    spells = paying_spells(subs, as_of, reactivation_window_days)
    accounts = ds.table("accounts")
    segment_of = accounts.set_index("account_id")["segment"] if "segment" in accounts else pd.Series(dtype=object)
    spells = spells[["account_id", "start_date", "end_date"]].assign(segment=spells["account_id"].map(segment_of))
    refs = todo["churn_date"] - pd.Timedelta(days=1)
    first_month = refs.min().to_period("M") - 1
    monthly = account_month_mrr(subs, first_month, as_of.to_period("M"))
    mrr_by_month = {m: part.set_index("account_id")["mrr"] for m, part in monthly.groupby("month")}
    parts = []
    for ref, cases in todo.groupby(refs, sort=True):
        horizon = min(ref + pd.Timedelta(days=retained_days), as_of)
        pool = spells[(spells["start_date"] <= ref) & (spells["end_date"].isna() | (spells["end_date"] > horizon))]
        if cases["segment"].notna().all():  # only the segments asked for (a churn without one sees every segment)
            pool = pool[pool["segment"].isin(cases["segment"].unique())]
        if pool.empty:
            continue
        # size: MRR at the month end before the reference day; plan: on the reference day
        prev = mrr_by_month.get(ref.to_period("M") - 1, pd.Series(dtype=float))
        pool = pool.assign(tenure_months=(ref - pool["start_date"]).dt.days / DAYS_PER_MONTH,
                           mrr=pool["account_id"].map(prev).fillna(0.0).astype(float),
                           plan=pool["account_id"].map(_plans_on(subs_typed, ref, presorted=True)).astype(object))
        pool["plan"] = pool["plan"].where(pool["plan"].notna(), None)
        pool = pool.reset_index(drop=True)
        segment_key = cases["segment"].astype(object).where(cases["segment"].notna(), None)
        for (segment, plan), group in cases.groupby([segment_key, cases["plan"].astype(object)], dropna=False,
                                                     sort=False):
            candidates = pool if pd.isna(segment) else pool[pool["segment"] == segment]
            same = candidates[candidates["plan"] == plan]
            if len(same) >= k:
                candidates = same
            own = group["account_id"].isin(set(candidates["account_id"]))
            for members, shared in ((group[~own], True), *(((group.loc[[i]]), False) for i in group.index[own])):
                if members.empty:
                    continue
                # a churned account is never its own look-alike (possible only with retained_days 0)
                chosen = candidates if shared else candidates[candidates["account_id"] != members["account_id"].iat[0]]
                if chosen.empty:
                    continue
                parts.append(_nearest(chosen, members, ref, k, NearestNeighbors))
    if not parts:
        return pd.DataFrame(columns=cols)
    out = pd.concat(parts, ignore_index=True).sort_values(["case", "rank"], kind="stable")
    return out[cols].reset_index(drop=True)


def _nearest(pool: pd.DataFrame, cases: pd.DataFrame, ref: pd.Timestamp, k: int, NearestNeighbors) -> pd.DataFrame:
    """The ``k`` nearest rows of ``pool`` to each case (log tenure and log MRR, standardised over the pool)."""
    features = np.column_stack([np.log1p(pool["tenure_months"].clip(lower=0)), np.log1p(pool["mrr"])])
    target = np.column_stack([np.log1p(cases["tenure_months"].clip(lower=0).to_numpy(dtype=float)),
                              np.log1p(cases["mrr_lost"].to_numpy(dtype=float))])
    scale = features.std(axis=0)
    scale[scale == 0] = 1.0
    centre = features.mean(axis=0)
    n = min(k, len(pool))
    nn = NearestNeighbors(n_neighbors=n).fit((features - centre) / scale)
    dist, idx = nn.kneighbors((target - centre) / scale)
    picked = pool.iloc[idx.ravel()]
    return pd.DataFrame({
        "case": np.repeat(cases.index.to_numpy(), n),
        "account_id": np.repeat(cases["account_id"].to_numpy(), n),
        "comparable_id": picked["account_id"].to_numpy(),
        "rank": np.tile(np.arange(1, n + 1), len(cases)),
        "ref_date": ref,
        "tenure_months": picked["tenure_months"].to_numpy(),
        "mrr": picked["mrr"].to_numpy(),
        "segment": picked["segment"].to_numpy(),
        "plan": picked["plan"].to_numpy(),
        "same_plan": picked["plan"].to_numpy() == np.repeat(cases["plan"].to_numpy(), n),
        "distance": dist.ravel().astype(float),
    })


CONTRAST_METRICS = {
    "events_per_seat": "events per seat (30 days)",
    "usage_trend": "usage trend (last vs prior 30 days)",
    "active_users_per_seat": "active users per seat",
    "high_priority_tickets_90d": "high-priority tickets (90 days)",
    "nps_score": "NPS answer (180 days)",
    "cs_touches_90d": "CSM touches (90 days)",
    "health_score": "health score",
    "churn_probability": "churn risk (model)",
}


def last_check_before(checks: pd.DataFrame, pairs: pd.DataFrame, frame: pd.DataFrame) -> pd.DataFrame:
    """Each churned account's last monthly check before its churn, and the same check of each of its
    comparables: one row per account seen (``role`` churned / comparable) with the contrast metrics."""
    if pairs.empty:
        return pd.DataFrame(columns=["account_id", "comparable_of", "role", "observation_date", *CONTRAST_METRICS])
    metrics = [m for m in CONTRAST_METRICS if m in frame.columns]
    involved = set(pairs["account_id"]) | set(pairs["comparable_id"])
    frame = frame.loc[frame["account_id"].isin(involved), ["account_id", "observation_date", *metrics]]
    checks = checks[checks["account_id"].isin(involved)]
    seen = frame.merge(
        checks[["account_id", "observation_date", "health_score", "churn_probability"]],
        on=["account_id", "observation_date"], how="left")
    churned = pairs[["account_id", "ref_date"]].drop_duplicates()
    dates = np.array(sorted(seen["observation_date"].unique()), dtype="datetime64[ns]")
    # the last check on or before the last paid day (observation dates are 00:00: data before that day)
    pos = np.searchsorted(dates, churned["ref_date"].to_numpy(dtype="datetime64[ns]"), side="right") - 1
    churned = churned.assign(observation_date=[pd.Timestamp(dates[p]) if p >= 0 else pd.NaT for p in pos])
    rows = [churned.assign(comparable_of=churned["account_id"], role="churned")]
    comp = pairs.merge(churned[["account_id", "observation_date"]], on="account_id")
    rows.append(comp.assign(comparable_of=comp["account_id"], account_id=comp["comparable_id"], role="comparable")
                [["account_id", "ref_date", "observation_date", "comparable_of", "role"]])
    table = pd.concat(rows, ignore_index=True).merge(seen, on=["account_id", "observation_date"], how="left")
    return table[["account_id", "comparable_of", "role", "observation_date",
                  *[m for m in CONTRAST_METRICS if m in table.columns]]]


def trajectory_contrast(seen: pd.DataFrame) -> pd.DataFrame:
    """Per metric: the median over churned accounts, over their comparables, and the median paired
    difference (churned minus the mean of its own comparables) with a bootstrap 95% CI, plus a
    Wilcoxon signed-rank test with Holm correction across the metrics (several metrics are compared,
    so unadjusted p-values would overstate the differences)."""
    from scipy.stats import wilcoxon
    from statsmodels.stats.multitest import multipletests

    cols = ["metric", "label", "churned_median", "comparables_median", "paired_difference", "difference_low",
            "difference_high", "pairs", "p_value", "p_holm"]
    if seen.empty:
        return pd.DataFrame(columns=cols)
    rows = []
    for metric, label in CONTRAST_METRICS.items():
        if metric not in seen or seen[metric].notna().sum() == 0:
            continue
        own = seen[seen["role"] == "churned"].set_index("comparable_of")[metric]
        peers = seen[seen["role"] == "comparable"].groupby("comparable_of")[metric].mean()
        diff = (own - peers.reindex(own.index)).dropna()
        med, low, high = median_interval(diff)
        p = float("nan")
        if len(diff) >= 6 and (diff != 0).any():
            p = float(wilcoxon(diff).pvalue)
        rows.append({"metric": metric, "label": label, "churned_median": own.median(),
                     "comparables_median": seen.loc[seen["role"] == "comparable", metric].median(),
                     "paired_difference": med, "difference_low": low, "difference_high": high,
                     "pairs": int(len(diff)), "p_value": p})
    table = pd.DataFrame(rows, columns=cols[:-1])
    tested = table["p_value"].notna()
    table["p_holm"] = np.nan
    if tested.any():
        table.loc[tested, "p_holm"] = multipletests(table.loc[tested, "p_value"], method="holm")[1]
    return table


def usage_retained_share(aligned: pd.DataFrame, last_weeks: int = 4) -> pd.DataFrame:
    """Per group (churned / retained look-alikes): the median over accounts of usage in the last
    ``last_weeks`` weeks as a share of the account's own first-half level."""
    if aligned.empty:
        return pd.DataFrame(columns=["group", "accounts", "median_share"])
    recent = aligned[aligned["week"] >= -last_weeks].groupby(["group", "account_id", "ref_date"])["index"].mean() / 100
    per = recent.dropna().groupby("group")
    return pd.DataFrame({"accounts": per.size(), "median_share": per.median()}).reset_index()
