"""The churn list of a review: which churns (a month's, or named accounts'), with ARR lost, tenure,
segment, plan and the cancellation form's reason.

Churn is the project's one definition (:func:`csresearch.core.revenue.paying_spells`): the churn date
is the first unpaid day, and ARR lost is 12 x the MRR on the last paid day.
"""

from __future__ import annotations

from typing import Iterable, Sequence

import numpy as np
import pandas as pd

from ...core.revenue import paying_spells
from ...data import Dataset
from ...errors import UnknownAccountError
from ...period import DAYS_PER_MONTH, month_end

NOT_RECORDED = "not recorded"


def parse_account_ids(account_ids: str | Iterable[str] | None) -> list[str] | None:
    """``account_ids`` as given on the command line: None, a list, or a comma-separated string.

    >>> parse_account_ids("A00012, A00013")
    ['A00012', 'A00013']
    """
    if account_ids is None:
        return None
    if isinstance(account_ids, str):
        items = account_ids.split(",")
    else:
        items = [str(a) for a in account_ids]
    ids = list(dict.fromkeys(i.strip() for i in items if i and i.strip()))
    return ids or None


def check_accounts(ds: Dataset, account_ids: Sequence[str]) -> None:
    """Raise :class:`UnknownAccountError` naming every id that is not in ``accounts``."""
    known = ds.con.execute(
        "SELECT account_id FROM accounts WHERE account_id IN (SELECT unnest(?))", [list(account_ids)]
    ).df()["account_id"]
    missing = [a for a in account_ids if a not in set(known)]
    if missing:
        examples = ds.sql("SELECT account_id FROM accounts ORDER BY account_id LIMIT 2")["account_id"].tolist()
        raise UnknownAccountError(missing, examples)


TENURE_BANDS = [(0, 6, "under 6 months"), (6, 12, "6-12 months"), (12, 24, "1-2 years"), (24, np.inf, "2+ years")]


def tenure_band(months: pd.Series) -> pd.Series:
    edges = [b[0] for b in TENURE_BANDS] + [np.inf]
    return pd.cut(months, bins=edges, right=False, labels=[b[2] for b in TENURE_BANDS]).astype("object")


def plan_on(subscriptions: pd.DataFrame, points: pd.DataFrame) -> pd.Series:
    """The plan (``product`` of the largest-MRR subscription) active on each ``(account_id, day)``;
    None where nothing is active (equal MRRs: the first product by name). Returned in ``points`` order.
    Each point meets only its own account's subscriptions (a join on the account, then a filter)."""
    subs = subscriptions.loc[subscriptions["mrr"] > 0, ["account_id", "product", "start_date", "end_date", "mrr"]]
    pts = pd.DataFrame({"account_id": points["account_id"].to_numpy(),
                        "day": pd.to_datetime(points["day"]).to_numpy(), "pos": np.arange(len(points))})
    both = pts.merge(subs, on="account_id", how="inner")
    both = both[(both["start_date"] <= both["day"]) & (both["end_date"].isna() | (both["end_date"] > both["day"]))]
    both = both.sort_values(["pos", "mrr", "product"], ascending=[True, False, True], kind="stable")
    both = both.drop_duplicates("pos")
    plans = np.full(len(points), None, dtype=object)
    plans[both["pos"].to_numpy()] = both["product"].to_numpy()
    return pd.Series(plans, index=points.index)


def all_churns(ds: Dataset, as_of: pd.Timestamp, reactivation_window_days: int = 0,
               count_same_month_churn: bool = True) -> pd.DataFrame:
    """Every churn up to ``as_of`` by the project's one definition (:func:`csresearch.core.revenue.paying_spells`),
    with the account's attributes: ``account_id, spell, churn_date, start_date, tenure_months, mrr_lost,
    arr_lost, provisional, segment, plan, account_name, csm_owner, ...``.

    ``churn_date`` is the first unpaid day. ARR lost = 12 x the MRR on the last paid day.
    ``count_same_month_churn`` False drops spells that never paid at a month end (joined and left
    within one month), as the churn rates of the other reports do.
    """
    subs = ds.table("subscriptions")
    spells = paying_spells(subs, as_of, reactivation_window_days)
    churns = spells[spells["churned"]].copy()
    if not count_same_month_churn:
        churns = churns[churns["month_ends_paid"] > 0]
    churns = churns.rename(columns={"end_date": "churn_date"})
    churns["churn_date"] = pd.to_datetime(churns["churn_date"])
    churns["start_date"] = pd.to_datetime(churns["start_date"])
    churns["tenure_months"] = (churns["churn_date"] - churns["start_date"]).dt.days / DAYS_PER_MONTH
    churns["mrr_lost"] = churns["end_mrr"].astype(float)
    churns["arr_lost"] = 12 * churns["mrr_lost"]
    subs_typed = subs.assign(start_date=pd.to_datetime(subs["start_date"]), end_date=pd.to_datetime(subs["end_date"]))
    churns["plan"] = plan_on(subs_typed, churns.assign(day=churns["churn_date"] - pd.Timedelta(days=1)))
    accounts = ds.table("accounts")
    attrs = [c for c in accounts.columns if c not in ("created_at",)]
    out = churns.merge(accounts[attrs], on="account_id", how="left")
    if "segment" not in out:
        out["segment"] = None
    out["tenure_band"] = tenure_band(out["tenure_months"])
    keep = ["account_id", "spell", "churn_date", "start_date", "tenure_months", "tenure_band", "mrr_lost",
            "arr_lost", "provisional", "segment", "plan"]
    return out[keep + [c for c in out.columns if c not in keep and c not in spells.columns]].reset_index(drop=True)


def attach_reasons(churns: pd.DataFrame, ds: Dataset, match_days: int = 45) -> pd.DataFrame:
    """Add ``reason, sub_reason, competitor, comment`` from the cancellation form: for each churn, the
    form of the same account whose ``churn_date`` is nearest, within ``match_days`` (billing and CRM
    dates rarely agree to the day). No form, or no ``churn_reasons`` table: ``not recorded``.
    """
    fields = ["reason", "sub_reason", "competitor", "comment"]
    out = churns.copy()
    if out.empty or not ds.has("churn_reasons"):
        for f in fields:
            out[f] = NOT_RECORDED if f == "reason" else None
        return out
    forms = ds.table("churn_reasons")[["account_id", "churn_date", *fields]].copy()
    forms["form_date"] = pd.to_datetime(forms["churn_date"]).astype("datetime64[ns]")
    forms = forms.drop(columns="churn_date").dropna(subset=["form_date"]).sort_values("form_date")
    left = out.loc[out["churn_date"].notna(), ["account_id", "churn_date"]].reset_index().sort_values("churn_date")
    left["churn_date"] = pd.to_datetime(left["churn_date"]).astype("datetime64[ns]")  # merge_asof needs one unit
    matched = pd.merge_asof(left, forms, left_on="churn_date", right_on="form_date", by="account_id",
                            direction="nearest", tolerance=pd.Timedelta(days=match_days))
    matched = matched.set_index("index")
    for f in fields:
        out[f] = matched[f].reindex(out.index)
    out["reason"] = out["reason"].fillna(NOT_RECORDED).replace("", NOT_RECORDED)
    return out


def churned_accounts(ds: Dataset, month: pd.Period | str, account_ids: Sequence[str] | None = None,
                     reactivation_window_days: int = 0, count_same_month_churn: bool = True,
                     reason_match_days: int = 45, churns: pd.DataFrame | None = None,
                     churn_convention: str = "month_end") -> pd.DataFrame:
    """The churn list of a review.

    A month review (``account_ids`` None): every churn whose churn date falls in ``month``.
    An account review: each named account's latest churn up to the end of ``month``; an account that
    has not churned keeps one row with ``status`` ``active`` (or ``never paid``) and NaT churn date,
    so its timeline can still be reviewed. Unknown ids raise :class:`UnknownAccountError`.
    ``churns``: :func:`all_churns` output, if already computed. ``churn_convention`` decides which
    month a churn belongs to (:func:`churn_month`).
    Columns: ``account_id, status, churn_date, tenure_months, arr_lost, segment, plan, reason,
    competitor, comment, ...``, largest ARR lost first.
    """
    month = pd.Period(month, "M")
    as_of = month_end(month)
    if churns is None:
        churns = all_churns(ds, as_of, reactivation_window_days, count_same_month_churn)
    churns = churns.drop(columns=["reason", "sub_reason", "competitor", "comment"], errors="ignore")
    if account_ids is None:
        chosen = churns[churn_month(churns["churn_date"], churn_convention) == month].copy()
        chosen["status"] = "churned"
    else:
        check_accounts(ds, account_ids)
        latest = churns[churns["account_id"].isin(account_ids)].sort_values("churn_date").groupby("account_id").tail(1)
        chosen = latest.assign(status="churned")
        rest = [a for a in account_ids if a not in set(latest["account_id"])]
        if rest:
            others = _not_churned(ds, rest, as_of, reactivation_window_days)
            if len(chosen):
                columns = list(dict.fromkeys([*chosen.columns, *others.columns]))
                parts = [f.dropna(axis=1, how="all") for f in (chosen, others)]  # no all-NA dtype guessing
                chosen = pd.concat(parts, ignore_index=True).reindex(columns=columns)
            else:
                chosen = others
        chosen = chosen.set_index("account_id").loc[list(account_ids)].reset_index()
    chosen = attach_reasons(chosen, ds, reason_match_days)
    chosen = chosen.sort_values(["arr_lost", "account_id"], ascending=[False, True], na_position="last")
    lead = ["account_id", "status", "churn_date", "tenure_months", "tenure_band", "arr_lost", "mrr_lost",
            "segment", "plan", "reason", "sub_reason", "competitor", "comment"]
    return chosen[lead + [c for c in chosen.columns if c not in lead]].reset_index(drop=True)


def _not_churned(ds: Dataset, account_ids: Sequence[str], as_of: pd.Timestamp,
                 reactivation_window_days: int) -> pd.DataFrame:
    """Rows for reviewed accounts without a churn: still paying (``active``) or never paid."""
    subs = ds.table("subscriptions")
    mine = subs[subs["account_id"].isin(account_ids)]
    spells = paying_spells(mine, as_of, reactivation_window_days) if len(mine) else pd.DataFrame(
        columns=["account_id", "start_date", "end_mrr"])
    current = spells.sort_values("start_date").groupby("account_id").tail(1) if len(spells) else spells
    accounts = ds.table("accounts")
    rows = accounts[accounts["account_id"].isin(account_ids)].copy()
    rows = rows.merge(current[["account_id", "start_date", "end_mrr"]], on="account_id", how="left")
    rows["status"] = np.where(rows["start_date"].notna(), "active", "never paid")
    rows["churn_date"] = pd.NaT
    rows["start_date"] = pd.to_datetime(rows["start_date"])
    rows["tenure_months"] = (as_of - rows["start_date"]).dt.days / DAYS_PER_MONTH
    rows["tenure_band"] = tenure_band(rows["tenure_months"])
    rows["mrr_lost"] = 0.0
    rows["arr_lost"] = 0.0
    rows["current_mrr"] = rows["end_mrr"].fillna(0.0)
    subs_typed = mine.assign(start_date=pd.to_datetime(mine["start_date"]), end_date=pd.to_datetime(mine["end_date"]))
    rows["plan"] = plan_on(subs_typed, rows.assign(day=as_of)) if len(mine) else None
    if "segment" not in rows:
        rows["segment"] = None
    return rows.drop(columns=["end_mrr", "created_at"], errors="ignore")


def churn_month(churn_date: pd.Series, churn_convention: str = "month_end") -> pd.Series:
    """The month a churn belongs to. ``month_end`` (the contract): the month whose last day is the first
    at zero MRR, i.e. the month of the first unpaid day. ``period_start`` (Fighting Churn With Data):
    the month of the last paid day (active on its first day, not on the next month's first day)."""
    if churn_convention == "period_start":
        return (churn_date - pd.Timedelta(days=1)).dt.to_period("M")
    if churn_convention != "month_end":
        raise ValueError(f"churn_convention {churn_convention!r}: use month_end or period_start")
    return churn_date.dt.to_period("M")


def size_band(arr: pd.Series) -> pd.Series:
    """ARR quartile within the frame (by rank, so ties do not break the cut)."""
    labels = ["smallest quarter", "second quarter", "third quarter", "largest quarter"]
    if arr.notna().sum() < 4:
        return pd.Series("all", index=arr.index, dtype=object)
    return pd.qcut(arr.rank(method="first"), 4, labels=labels).astype(object)
