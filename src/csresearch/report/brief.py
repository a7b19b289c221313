"""The numbers of the monthly brief (the index page): the month's headline figures as 12-month series
computed from the run's data, and what the reports' outputs say about where to act.

Series (one point per month end, the last the report month), from the package's own definitions, so
the brief's last point is the churn decomposition report's number:
- logo churn: churned / paying-at-start accounts in the month
  (:func:`..analyses.churn_decomposition.compute_rates.churn_rates`, Wilson interval);
- 12-month cohort GRR and NRR (:func:`..analyses.churn_decomposition.compute_retention.cohort_retention_12m`,
  its delta-method intervals);
- ARR: 12 x the MRR billed on the month's last day (:mod:`..core.revenue` through the same
  account-month table).

The change on last month comes with an interval, so the page can say when it is within noise:
- logo churn: Newcombe's interval for a difference of two proportions (statsmodels);
- GRR and NRR: the two cohorts share most accounts, so their difference is one ratio-of-sums contrast
  over the union of accounts (delta method, accounts the unit), see :func:`ratio_difference_interval`;
- ARR is a count of money billed, with no sampling error: its change is exact.

ARR at risk and new alerts come from the risk model (03, 05), which is refitted month by month; replaying
it for 12 months would be twelve runs of report 03, so those two cards carry no trend line and say so;
their change on last month reads the previous month's published summary when there is one.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any, Mapping

import numpy as np
import pandas as pd

from ..i18n import _
from ..text import month_label

SERIES_MONTHS = 12
CHURN_NOTEBOOK = "01_churn_decomposition"
RISK_NOTEBOOK = "03_churn_drivers"
POSTMORTEM_NOTEBOOK = "05_churn_postmortem"
EXPERIMENTS_NOTEBOOK = "04_uplift_experiments"
# the churn conventions the series take from report 01's parameters (the rest of its settings do not move them)
CONVENTION_KEYS = ("churn_convention", "reactivation_window_days", "count_same_month_churn", "confidence")


def _finite(x: Any) -> float | None:
    """A plain float for JSON, or None for anything missing or not finite."""
    try:
        value = float(x)
    except (TypeError, ValueError):
        return None
    return value if math.isfinite(value) else None


def ratio_difference_interval(num_a, den_a, num_b, den_b, confidence: float = 0.95) -> tuple[float | None, float | None]:
    """Interval for sum(num_a)/sum(den_a) - sum(num_b)/sum(den_b) when both ratios are taken over the
    same units (accounts; a unit outside one ratio has 0 in its arrays there).

    Delta method with the unit as the sampling unit: each unit's contribution to the difference is
    z_i = (num_a_i - R_a den_a_i) / D_a - (num_b_i - R_b den_b_i) / D_b, and
    Var(R_a - R_b) ~ n / (n - 1) * sum(z_i^2). Shared units make the two ratios move together, so the
    interval is narrower than treating the cohorts as independent. (None, None) with fewer than two units.
    """
    from scipy.stats import norm

    arrays = [np.asarray(a, dtype=float) for a in (num_a, den_a, num_b, den_b)]
    n = len(arrays[0])
    d_a, d_b = arrays[1].sum(), arrays[3].sum()
    if n < 2 or d_a <= 0 or d_b <= 0:
        return None, None
    r_a, r_b = arrays[0].sum() / d_a, arrays[2].sum() / d_b
    z = (arrays[0] - r_a * arrays[1]) / d_a - (arrays[2] - r_b * arrays[3]) / d_b
    se = math.sqrt(n / (n - 1) * float(np.sum(z**2)))
    half = float(norm.ppf(0.5 + confidence / 2)) * se
    return r_a - r_b - half, r_a - r_b + half


def _cohort_pair(frame: pd.DataFrame, month: pd.Period, confidence: float) -> dict:
    """The change of 12-month NRR and GRR between the cohorts ending ``month - 1`` and ``month``."""
    from ..analyses.churn_decomposition.compute_retention import cohort_accounts

    now, before = cohort_accounts(frame, month), cohort_accounts(frame, month - 1)
    if now.empty or before.empty:
        return {}
    both = now.merge(before, on="account_id", how="outer", suffixes=("_a", "_b")).fillna(
        {c: 0.0 for c in ("mrr_then_a", "mrr_now_a", "retained_mrr_a", "mrr_then_b", "mrr_now_b", "retained_mrr_b")})
    out = {}
    for name, column in (("nrr_12m", "mrr_now"), ("grr_12m", "retained_mrr")):
        low, high = ratio_difference_interval(both[f"{column}_a"], both["mrr_then_a"], both[f"{column}_b"],
                                              both["mrr_then_b"], confidence)
        out[name] = (low, high)
    return out


def month_series(subscriptions: pd.DataFrame, accounts: pd.DataFrame | None, month: pd.Period | str,
                 parameters: Mapping[str, Any] | None = None, months: int = SERIES_MONTHS) -> dict:
    """The brief's trend lines as plain JSON values: ``months`` (labels "2026-11"), and for each of
    ``logo_churn``, ``grr_12m``, ``nrr_12m``, ``arr``: ``value`` (one per month, None where it is not
    defined), ``low``/``high`` (where it has an interval), ``change`` (last minus previous point) with
    ``change_low``/``change_high`` (None when exact or not computable), and ``why`` (a sentence when the
    last point cannot be computed). ``parameters`` are report 01's (its churn conventions)."""
    from ..analyses.churn_decomposition.compute_frame import account_month_churn
    from ..analyses.churn_decomposition.compute_rates import churn_rates
    from ..analyses.churn_decomposition.compute_retention import COHORT_MONTHS, cohort_retention_12m
    from ..analyses.churn_decomposition.settings import Settings

    given = {k: v for k, v in (parameters or {}).items() if k in CONVENTION_KEYS}
    s = Settings.model_validate(given)
    month = pd.Period(month, "M")
    shown = [month - k for k in range(months - 1, -1, -1)]
    first = shown[0] - COHORT_MONTHS  # the first cohort's own month
    out: dict[str, Any] = {"months": [str(m) for m in shown], "conventions": {k: getattr(s, k) for k in CONVENTION_KEYS}}
    paid = subscriptions[(subscriptions["mrr"] > 0) & (subscriptions["start_date"] < (month + 1).to_timestamp())]
    if paid.empty:
        why = _("no subscription with MRR above zero started by the end of {month}").format(month=month_label(month))
        return {**out, **{k: {"value": [None] * months, "why": why} for k in ("logo_churn", "grr_12m", "nrr_12m", "arr")}}
    frame = account_month_churn(subscriptions, accounts, first, month, convention=s.churn_convention,
                                reactivation_window_days=s.reactivation_window_days,
                                count_same_month_churn=s.count_same_month_churn)

    # logo churn, month by month
    rates = churn_rates(frame, shown, windows=(1,), confidence=s.confidence)
    by = rates.set_index("month") if len(rates) else pd.DataFrame()
    logo: dict[str, Any] = {"value": [], "low": [], "high": [], "churned": [], "at_risk": []}
    for m in shown:
        row = by.loc[m] if m in by.index else None
        logo["value"].append(_finite(row["logo_churn_rate"]) if row is not None else None)
        logo["low"].append(_finite(row["logo_churn_low"]) if row is not None else None)
        logo["high"].append(_finite(row["logo_churn_high"]) if row is not None else None)
        logo["churned"].append(int(row["churned_accounts"]) if row is not None else 0)
        logo["at_risk"].append(int(row["accounts_at_risk"]) if row is not None else 0)
    logo.update(_change(logo["value"]))
    if logo["value"][-1] is not None and logo["value"][-2] is not None:
        from statsmodels.stats.proportion import confint_proportions_2indep

        low, high = confint_proportions_2indep(logo["churned"][-1], logo["at_risk"][-1], logo["churned"][-2],
                                               logo["at_risk"][-2], method="newcomb", compare="diff",
                                               alpha=1 - s.confidence)
        logo["change_low"], logo["change_high"] = _finite(low), _finite(high)
    if logo["value"][-1] is None:
        logo["why"] = _("no account was paying at the start of {month}").format(month=month_label(month))
    out["logo_churn"] = logo

    # 12-month cohort NRR and GRR, as of each month end
    retention: dict[str, dict[str, Any]] = {name: {"value": [], "low": [], "high": []} for name in ("grr_12m", "nrr_12m")}
    for m in shown:
        table = cohort_retention_12m(frame, m, confidence=s.confidence)
        row = table[table["group"] == "all"].iloc[0] if len(table) else None
        for name, column in (("grr_12m", "grr"), ("nrr_12m", "nrr")):
            for key, suffix in (("value", ""), ("low", "_low"), ("high", "_high")):
                retention[name][key].append(_finite(row[column + suffix]) if row is not None else None)
    pair = _cohort_pair(frame, month, s.confidence)
    for name, series in retention.items():
        series.update(_change(series["value"]))
        if series.get("change") is not None and name in pair:
            series["change_low"], series["change_high"] = (_finite(x) for x in pair[name])
        if series["value"][-1] is None:
            series["why"] = _("no account was paying at the end of {month}, so there is no 12-month cohort").format(
                month=month_label(month - COHORT_MONTHS))
        out[name] = series

    # ARR at each month end (exact: no interval)
    ends = frame[~frame["same_month"]].groupby("month")["mrr"].sum()
    arr = {"value": [_finite(12 * ends.get(m, 0.0)) for m in shown]}
    arr.update(_change(arr["value"]))
    out["arr"] = arr
    return out


def _change(values: list) -> dict:
    last, before = values[-1], values[-2] if len(values) > 1 else None
    change = last - before if last is not None and before is not None else None
    return {"change": change, "change_low": None, "change_high": None}


def safe_month_series(subscriptions, accounts, month, parameters=None) -> dict:
    """:func:`month_series`, or ``{"error": sentence}`` when it cannot be computed: the brief never stops
    a monthly run; the page says the trend lines are missing and why."""
    from ..errors import CsresearchError

    try:
        return month_series(subscriptions, accounts, month, parameters)
    except CsresearchError as exc:
        return {"error": str(exc)}
    except Exception as exc:  # noqa: BLE001 - a bug here must not cost the month's reports; it is shown
        return {"error": _("the trend lines could not be computed ({error})").format(error=f"{type(exc).__name__}: {exc}")}


# --- what the reports' outputs say --------------------------------------------------------------------

def entries(manifest: Mapping) -> dict[str, dict]:
    return {n["notebook"]: n for n in manifest.get("notebooks", [])}


def summary_of(manifest: Mapping, notebook: str) -> dict:
    """The notebook's summary.json values when this month has them (ok or the last good, stale), else {}."""
    entry = entries(manifest).get(notebook)
    if not entry or entry.get("status") not in ("ok", "stale"):
        return {}
    return entry.get("summary") or {}


def read_table(folder: Path, manifest: Mapping, notebook: str, name: str) -> pd.DataFrame | None:
    """A CSV the notebook recorded this month (None when the notebook did not end ok or stale, or the
    file is missing or unreadable)."""
    if not summary_of(manifest, notebook):
        return None
    path = folder / notebook / name
    if not path.is_file():
        return None
    try:
        return pd.read_csv(path, dtype=str, keep_default_na=False)
    except (OSError, ValueError, pd.errors.ParserError):
        return None


def call_list(table: pd.DataFrame | None, top: int = 5) -> list[dict]:
    """The first ``top`` flagged accounts of 03's at-risk list (by its rank: ARR at risk): name, id, owner,
    renewal date, ARR at risk, the first two reasons; a column the list does not carry is None (the page
    says it is not in the list)."""
    if table is None or table.empty:
        return []
    if "at_risk" in table:  # the list may hold every paying account, flagged or not: call the flagged ones
        table = table[table["at_risk"].str.strip().str.lower().isin(["true", "1", "yes"])]
    if "rank" in table:
        table = table.assign(_rank=pd.to_numeric(table["rank"], errors="coerce")).sort_values("_rank", kind="stable")
    rows = []
    for _index, row in table.head(top).iterrows():
        def get(column: str):
            value = row.get(column)
            return None if value is None or str(value).strip() == "" else str(value)

        reasons = [r.strip() for r in (get("top_reasons") or "").split(";") if r.strip()]
        rows.append({"account_id": get("account_id"), "account_name": get("account_name"),
                     "csm_owner": get("csm_owner"), "renewal_date": get("renewal_date"),
                     "billing_period": get("billing_period"),
                     "arr_at_risk": _finite(get("arr_at_risk")), "churn_probability": _finite(get("churn_probability")),
                     "reasons": reasons[:2], "has_owner": "csm_owner" in table, "has_renewal": "renewal_date" in table})
    return rows


def previous_summary(reports: Path, month: pd.Period | str, notebook: str) -> dict:
    """The previous month's published summary.json of ``notebook`` ({} when that month was not published
    here or the notebook had no summary)."""
    path = reports / str(pd.Period(month, "M") - 1) / notebook / "summary.json"
    try:
        return json.loads(path.read_text()) if path.is_file() else {}
    except (OSError, ValueError):
        return {}


def earlier_months(reports: Path, month: pd.Period | str) -> list[str]:
    """Months before ``month`` with a published index in ``reports``, newest first."""
    month = pd.Period(month, "M")
    found = []
    if reports.is_dir():
        for folder in reports.iterdir():
            try:
                other = pd.Period(folder.name, "M")
            except (ValueError, TypeError):
                continue
            if folder.name == str(other) and other < month and (folder / "index.html").is_file():
                found.append(other)
    return [str(m) for m in sorted(found, reverse=True)]
