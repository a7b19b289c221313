"""The call list a CSM works from: the at-risk list with each account's CSM owner and next renewal,
split into one list per owner, and the renewals of the next weeks with their churn risk.

"At risk" means a likely churner here: an account whose churn probability over the horizon is at
least the risk threshold of :func:`csresearch.core.risk.at_risk_list` (1.5x the churn rate of the
training observations: the point where the model's playbook takes over), or, with no model, an
account whose health score is red. The list itself holds every paying account, riskiest ARR first.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata

import numpy as np
import pandas as pd

from ...core import features as feat
from ...data import Dataset

UNASSIGNED = "unassigned"  # the owner of an account with no csm_owner (or no csm_owner column at all)
OWNER_FOLDER = "at_risk_by_owner"  # at_risk_by_owner/<owner-slug>.csv beside the report

# The call list's columns, first the ones a CSM reads, then the rest of core.risk.at_risk_list's
# (kept: other reports read them). Absent ones (no model: no probability) are left out.
CALL_LIST_COLUMNS = (
    "rank", "account_id", "account_name", "csm_owner", "segment", "arr", "billing_period", "renewal_date",
    "days_to_renewal", "at_risk", "churn_probability", "arr_at_risk", "top_reasons", "health_score", "health_band",
    "health_triggers", "playbook", "touch_tier", "suggested_touch_tier", "playbook_source", "observation_date", "mrr",
)
RENEWAL_COLUMNS = ("renewal_date", "week_of", "month", "days_to_renewal", "account_id", "account_name",
                   "csm_owner", "segment", "billing_period", "arr", "at_risk", "churn_probability", "arr_at_risk",
                   "health_score", "health_band", "playbook")
OWNER_COLUMNS = ("csm_owner", "file", "accounts", "at_risk_accounts", "arr", "arr_at_risk", "renewals_due",
                 "arr_renewing")


# --------------------------------------------------------------------------------------------------
# Renewal dates
# --------------------------------------------------------------------------------------------------
def _add_months(start: pd.Series, months: pd.Series) -> pd.Series:
    """``start`` plus whole ``months``, the day clamped to the target month's length (31 Jan + 1 = 28 Feb)."""
    index = start.dt.year * 12 + (start.dt.month - 1) + months.astype(int)
    year, month = index // 12, index % 12 + 1
    first = pd.to_datetime(pd.DataFrame({"year": year, "month": month, "day": 1}))
    day = np.minimum(start.dt.day, first.dt.days_in_month)
    return first + pd.to_timedelta(day - 1, unit="D")


def renewal_dates(ds: Dataset, as_of: pd.Timestamp) -> pd.DataFrame:
    """Each paying account's billing period and, for a term contract, the date of its next renewal
    on or after ``as_of`` (the observation date: the first day after the report month).

    The contract is the account's main subscription line (highest MRR) on the day before ``as_of``,
    read by the same query as the ``months_to_renewal`` feature (:mod:`csresearch.core.features`);
    the renewal is the next anniversary of that line's start, one billing period at a time (so the
    whole months to it equal the feature). A monthly plan (or an unknown period, which the feature
    reads as monthly) has no renewal date: it can be left at any month end."""
    as_of = pd.Timestamp(as_of).normalize()
    query = feat.feature_queries(tables=["subscriptions"])["subscriptions"]
    obs = feat._obs_frame([as_of], (30, 30))
    view = f"obs_renewals_{id(obs)}"
    ds.con.register(view, obs)
    try:
        rows = ds.con.execute(re.sub(r"\bobs\b", view, query)).df()
    finally:
        ds.con.unregister(view)
    if rows.empty:
        return pd.DataFrame({"account_id": pd.Series(dtype=object), "billing_period": pd.Series(dtype=object),
                             "renewal_date": pd.Series(dtype="datetime64[ns]"),
                             "days_to_renewal": pd.Series(dtype="Int64")})
    out = pd.DataFrame({"account_id": rows["account_id"].astype(str),
                        "billing_period": rows["billing_period"].fillna("unknown").astype(str)})
    start = pd.to_datetime(rows["main_start"]).astype("datetime64[ns]")
    state_day = as_of - pd.Timedelta(days=1)
    period = out["billing_period"].str.lower().map(feat.PERIOD_MONTHS)
    term = period.notna() & (out["billing_period"].str.lower() != "monthly")
    elapsed = ((state_day.year - start.dt.year) * 12 + state_day.month - start.dt.month
               - (state_day.day < start.dt.day).astype(int)).clip(lower=0)
    periods = period.fillna(1).astype(int)
    months = (elapsed // periods + 1) * periods
    renewal = _add_months(start, months)
    # a start late in a month clamps to a shorter one (31 Aug + 3 months = 30 Nov): an anniversary that
    # fell on the last day before as_of has passed, and the next one is a period later
    renewal = renewal.where(renewal >= as_of, _add_months(start, months + periods)).where(term)
    out["renewal_date"] = renewal.astype("datetime64[ns]")
    out["days_to_renewal"] = (out["renewal_date"] - as_of).dt.days.astype("Int64")
    return out.reset_index(drop=True)


# --------------------------------------------------------------------------------------------------
# Owners
# --------------------------------------------------------------------------------------------------
def owners(ds: Dataset, account_ids: pd.Series) -> np.ndarray:
    """Each account's CSM owner from the accounts table; :data:`UNASSIGNED` where it is missing or blank
    (and for every account when the table has no ``csm_owner`` column)."""
    accounts = ds.table("accounts")
    if "csm_owner" not in accounts:
        return np.full(len(account_ids), UNASSIGNED, dtype=object)
    owner = accounts.set_index("account_id")["csm_owner"].reindex(account_ids)
    text = owner.where(owner.notna(), "").astype(str).str.strip()
    return text.where(text != "", UNASSIGNED).to_numpy(dtype=object)


# Names Windows will not open as files, whatever the extension.
_RESERVED = {"con", "prn", "aux", "nul", *(f"com{i}" for i in range(10)), *(f"lpt{i}" for i in range(10))}
SLUG_MAX = 60  # characters (Japanese ones take 3 bytes: 180 of the 255 a file name may have)


def owner_slug(owner: str) -> str:
    """A file name stem that is safe on any file system and in a URL, from any owner string: Unicode
    letters and digits (Japanese included) kept, everything else (slashes, dots, spaces, ``=``, control
    and zero-width characters) a single ``-``; NFKC-normalised and case-folded; never empty, never a
    name Windows reserves, at most :data:`SLUG_MAX` characters. ``../x`` -> ``x``, ``=cmd`` -> ``cmd``."""
    text = unicodedata.normalize("NFKC", str(owner)).casefold()
    text = re.sub(r"[^\w]+|_+", "-", text).strip("-")
    text = text[:SLUG_MAX].strip("-") or "owner"
    return f"owner-{text}" if text in _RESERVED else text


def owner_files(names) -> dict[str, str]:
    """Each distinct owner's file stem (:func:`owner_slug`); owners whose stems would collide (``Ann
    Lee`` and ``ann-lee``) each get a short hash of the full name appended, so no file is shared."""
    names = list(dict.fromkeys(str(n) for n in names))
    slugs = {n: owner_slug(n) for n in names}
    taken = pd.Series(list(slugs.values())).value_counts()
    out = {}
    for n, s in slugs.items():
        if taken[s] > 1:
            s = f"{s[:SLUG_MAX - 7]}-{hashlib.sha256(n.encode()).hexdigest()[:6]}"
        out[n] = s
    return out


# --------------------------------------------------------------------------------------------------
# The call list, the owners' lists and the renewals calendar
# --------------------------------------------------------------------------------------------------
def call_list(at_risk: pd.DataFrame, ds: Dataset, as_of: pd.Timestamp) -> pd.DataFrame:
    """The at-risk list (:func:`csresearch.core.risk.at_risk_list` or the health-only list) with each
    account's ``csm_owner``, ``billing_period``, ``renewal_date`` and ``days_to_renewal`` and the
    ``at_risk`` flag (see the module docstring), its columns in :data:`CALL_LIST_COLUMNS` order. The
    row order (rank) is the list's. ``attrs["risk_threshold"]`` is the threshold (None: red band)."""
    out = at_risk.copy()
    out["csm_owner"] = owners(ds, out["account_id"])
    renewals = renewal_dates(ds, as_of).set_index("account_id")
    ids = out["account_id"].astype(str)
    out["billing_period"] = renewals["billing_period"].reindex(ids).fillna("unknown").to_numpy()
    out["renewal_date"] = renewals["renewal_date"].reindex(ids).to_numpy()
    out["days_to_renewal"] = pd.array(renewals["days_to_renewal"].reindex(ids), dtype="Int64")
    threshold = at_risk.attrs.get("risk_threshold")
    if "churn_probability" in out and threshold is not None:
        out["at_risk"] = out["churn_probability"] >= threshold
    else:
        threshold = None
        out["at_risk"] = out["health_band"] == "red"
    out = out[[c for c in CALL_LIST_COLUMNS if c in out] + [c for c in out if c not in CALL_LIST_COLUMNS]]
    out.attrs = {**at_risk.attrs, "risk_threshold": threshold}
    return out


def owner_lists(calls: pd.DataFrame) -> dict[str, pd.DataFrame]:
    """One list per CSM owner, keyed by owner, each in the call list's order (its rank kept); together
    they hold every row of ``calls`` exactly once. Owners in order of their ARR at risk (or, with no
    model, their count of red accounts), largest first, then by name."""
    key = "arr_at_risk" if "arr_at_risk" in calls else "at_risk"
    weight = calls.groupby("csm_owner", sort=False)[key].sum()
    order = sorted(weight.index, key=lambda o: (-float(weight[o]), str(o)))
    groups = dict(list(calls.groupby("csm_owner", sort=False)))
    return {o: groups[o].reset_index(drop=True) for o in order}


def renewals_calendar(calls: pd.DataFrame, as_of: pd.Timestamp, days: int = 90) -> pd.DataFrame:
    """Term contracts renewing in the ``days`` from ``as_of`` (inclusive of ``as_of``, exclusive of
    ``as_of + days``), soonest first (then largest ARR at risk), with the Monday of each renewal's week
    and its month (``YYYY-MM``)."""
    as_of = pd.Timestamp(as_of).normalize()
    due = calls["renewal_date"].notna() & (calls["renewal_date"] >= as_of) & \
        (calls["renewal_date"] < as_of + pd.Timedelta(days=days))
    out = calls[due].copy()
    out["week_of"] = (out["renewal_date"] - pd.to_timedelta(out["renewal_date"].dt.weekday, unit="D")).dt.normalize()
    out["month"] = out["renewal_date"].dt.strftime("%Y-%m")
    by = ["renewal_date", "arr_at_risk" if "arr_at_risk" in out else "health_score", "account_id"]
    ascending = [True, "arr_at_risk" not in out, True]
    out = out.sort_values(by, ascending=ascending)
    return out[[c for c in RENEWAL_COLUMNS if c in out]].reset_index(drop=True)


def owner_summary(lists: dict[str, pd.DataFrame], files: dict[str, str], renewals: pd.DataFrame) -> pd.DataFrame:
    """One row per owner, in :func:`owner_lists` order: the owner's file, accounts, accounts at risk,
    ARR, ARR at risk (missing with no model) and the term renewals due in the calendar's window
    (``renewals``: :func:`renewals_calendar`), their count and ARR."""
    due = renewals.groupby("csm_owner")["arr"].agg(["size", "sum"]) if len(renewals) else None
    rows = []
    for owner, d in lists.items():
        rows.append({
            "csm_owner": owner, "file": f"{OWNER_FOLDER}/{files[owner]}.csv", "accounts": len(d),
            "at_risk_accounts": int(d["at_risk"].sum()), "arr": float(d["arr"].sum()),
            "arr_at_risk": round(float(d["arr_at_risk"].sum()), 2) if "arr_at_risk" in d else np.nan,
            "renewals_due": int(due.loc[owner, "size"]) if due is not None and owner in due.index else 0,
            "arr_renewing": float(due.loc[owner, "sum"]) if due is not None and owner in due.index else 0.0,
        })
    return pd.DataFrame(rows, columns=list(OWNER_COLUMNS))
