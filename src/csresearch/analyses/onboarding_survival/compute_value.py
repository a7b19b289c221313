"""Time to value without immortal-time bias: landmark groups fixed on day L from what was known by
then, and reaching value as a time-to-event with churn before value as a competing risk.

An account has to stay to reach value, so comparing "reached value" with "did not" from day 0
flatters onboarding. At the landmark day L every account still paying is classified by what it had
reached by L, and survival is followed from L on (Kaplan-Meier with ``entry=L``, Cox on time since L).
"""

from __future__ import annotations

from typing import Mapping, Sequence

import numpy as np
import pandas as pd

from ...errors import NotEnoughData
from ...period import DAYS_PER_MONTH
from ...text import plural
from .compute_km import _at, _quiet


def bucket_labels(buckets_days: Sequence[int]) -> list[str]:
    """Outcome groups for time-to-value bucket edges, e.g. [30, 90] ->
    ['value in 0-30 days', 'value in 31-90 days', 'no value by day 90']."""
    edges = sorted(int(b) for b in buckets_days)
    labels, low = [], 0
    for edge in edges:
        labels.append(f"value in {low}-{edge} days")
        low = edge + 1
    labels.append(f"no value by day {edges[-1]}")
    return labels


def onboarding_outcome(ttv_days: pd.Series, buckets_days: Sequence[int]) -> pd.Series:
    """The bucket of each time to value, with everything past the last edge (later or never)
    in the last group: at the landmark nobody can tell 'later' from 'never'."""
    edges = sorted(int(b) for b in buckets_days)
    labels = bucket_labels(edges)
    bins = [-np.inf, *edges, np.inf]
    ttv = ttv_days.fillna(np.inf)
    out = pd.cut(ttv, bins=bins, labels=labels, right=True)
    return pd.Categorical(out, categories=labels, ordered=True)


def landmark(frame: pd.DataFrame, landmark_days: int, buckets_days: Sequence[int]) -> pd.DataFrame:
    """Accounts still paying and observed on day ``landmark_days`` (duration beyond it), with
    ``outcome`` (time-to-value bucket, using only what was known by the landmark), ``value_by_landmark``
    and ``time_after`` (months since the landmark, for models that start the clock there).

    Accounts that churned or were censored before the landmark are left out: they could not be
    classified without looking ahead, which is the immortal-time trap."""
    if max(buckets_days) > landmark_days:
        raise ValueError("the landmark must be on or after the last time-to-value bucket edge")
    at_risk = frame[frame["duration_days"] > landmark_days].copy()
    known = at_risk["ttv_days"].where(at_risk["ttv_days"] <= landmark_days)
    at_risk["outcome"] = onboarding_outcome(known, buckets_days)
    at_risk["value_by_landmark"] = known.notna()
    at_risk["time_after"] = (at_risk["duration_days"] - landmark_days) / DAYS_PER_MONTH
    return at_risk.reset_index(drop=True)


def value_events(frame: pd.DataFrame) -> pd.DataFrame:
    """Time-to-value data: ``ttv_time`` in days to the first of value, churn or cut-off; ``ttv_event``
    1 = value reached, 2 = churned before value (competing risk), 0 = neither yet (censored)."""
    ttv = frame["ttv_days"]
    reached = ttv.notna() & (ttv < frame["duration_days"])  # value on or after the churn day: churn first
    out = frame.copy()
    out["ttv_time"] = np.where(reached, ttv, frame["duration_days"]).astype(float)
    out["ttv_event"] = np.where(reached, 1, np.where(frame["churned"], 2, 0))
    return out


def fit_value_incidence(frame: pd.DataFrame, by: str | None = "cohort", seed: int = 0,
                        min_accounts: int = 1) -> dict:
    """Aalen-Johansen cumulative incidence of reaching value (lifelines), churn before value as the
    competing event, per group of ``by`` with at least ``min_accounts`` accounts and one account that
    reached value. Tied times are jittered by lifelines with a fixed seed."""
    from lifelines import AalenJohansenFitter

    data = value_events(frame)
    # day-0 value (reached in a trial) would sit at the origin; half a day keeps the order of events
    data["ttv_time"] = data["ttv_time"].clip(lower=0.5)
    groups = [("all accounts", data)] if by is None else [(str(k), g) for k, g in data.groupby(by, sort=True)]
    fitters = {}
    with _quiet():
        for label, g in groups:
            if len(g) < min_accounts or not (g["ttv_event"] == 1).any():
                continue
            fitters[label] = AalenJohansenFitter(seed=seed).fit(g["ttv_time"], g["ttv_event"], event_of_interest=1,
                                                                 label=label)
    return fitters


def value_by_cohort(frame: pd.DataFrame, fitters: Mapping, days: Sequence[int] = (30, 90)) -> pd.DataFrame:
    """Per cohort: accounts, value reached, churned before value, and the cumulative incidence of
    value by each of ``days`` with its 95% interval (NaN where the cohort's follow-up is shorter),
    plus the day by which half the cohort reached value (NaN if not yet)."""
    data = value_events(frame)
    rows = []
    for label, g in data.groupby("cohort", sort=True):
        row = {"cohort": label, "accounts": int(len(g)), "value_reached": int((g["ttv_event"] == 1).sum()),
               "churned_before_value": int((g["ttv_event"] == 2).sum())}
        ajf = fitters.get(str(label))
        for d in days:
            value = lo = hi = np.nan
            if ajf is not None and g["ttv_time"].max() >= d:
                value = float(_at(ajf.cumulative_density_, d).iloc[0])
                ci = _at(ajf.confidence_interval_, d)
                lo, hi = float(ci.iloc[0]), float(ci.iloc[1])
            row.update({f"value_by_{d}d": value, f"value_by_{d}d_lower": lo, f"value_by_{d}d_upper": hi})
        median = np.nan
        if ajf is not None:
            cif = ajf.cumulative_density_.iloc[:, 0]
            reached = cif[cif >= 0.5]
            median = float(np.ceil(reached.index[0])) if len(reached) else np.nan
        row["median_days_to_value"] = median
        rows.append(row)
    return pd.DataFrame(rows)


def onboarding_trend(frame: pd.DataFrame, min_accounts: int = 1, min_events: int = 1) -> dict:
    """Is onboarding getting faster? Cause-specific Cox model (lifelines) of reaching value, churn
    before value censored, on the cohort's order (0, 1, 2, ...): a hazard ratio above 1 per cohort
    means each cohort reaches value faster than the one before.

    Uses the cohorts of at least ``min_accounts`` accounts; :class:`NotEnoughData` when fewer than two
    are left or fewer than ``min_events`` of their accounts reached value."""
    from lifelines import CoxPHFitter

    data = value_events(frame)
    sizes = data["cohort"].value_counts()
    cohorts = sorted(sizes[sizes >= min_accounts].index)
    if len(cohorts) < 2:
        have = "No onboarding cohort has" if not cohorts else "Only one onboarding cohort has"
        raise NotEnoughData(f"{have} at least {min_accounts} accounts: a trend in onboarding speed needs two.")
    data = data[data["cohort"].isin(cohorts)]
    reached = int((data["ttv_event"] == 1).sum())
    if reached < min_events:
        raise NotEnoughData(f"{plural(reached, 'account')} of the onboarding cohorts reached value: a trend in "
                            f"onboarding speed needs at least {min_events}.")
    df = pd.DataFrame({"t": data["ttv_time"].clip(lower=0.5), "e": (data["ttv_event"] == 1).astype(int),
                       "cohort_step": data["cohort"].map({c: i for i, c in enumerate(cohorts)})})
    with _quiet():
        cph = CoxPHFitter().fit(df, "t", "e")
    s = cph.summary.loc["cohort_step"]
    return {"hazard_ratio": float(s["exp(coef)"]), "lower": float(s["exp(coef) lower 95%"]),
            "upper": float(s["exp(coef) upper 95%"]), "p_value": float(s["p"]), "cohorts": len(cohorts)}
