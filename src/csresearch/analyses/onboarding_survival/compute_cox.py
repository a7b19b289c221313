"""The Cox model of churn after the landmark: covariates adjusted for, proportional hazards tested
(a violating adjustment variable becomes a stratum), concordance with a bootstrap interval, and the
naive day-0 comparison the report shows only as a warning.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np
import pandas as pd

from ...errors import NotEnoughData
from ...text import plural
from .compute_km import _quiet

NUMERIC = {"seats"}


@dataclass
class CoxResult:
    """A fitted landmark Cox model and the checks the report prints."""

    fitter: object
    summary: pd.DataFrame  # covariate, variable, hazard_ratio, lower, upper, p_value
    ph_tests: pd.DataFrame  # per covariate: test statistic, p, Holm-adjusted p, violated (first fit)
    strata: list[str]
    concordance: float
    concordance_lower: float
    concordance_upper: float
    accounts: int
    events: int
    landmark_days: int
    reference: dict


def cox_sample(sample: pd.DataFrame, compared: Sequence[str], exposure: str = "outcome", min_accounts: int = 30,
               min_events: int = 10) -> pd.DataFrame:
    """The landmark sample a Cox model can use: :class:`NotEnoughData` unless each of the two
    ``compared`` exposure levels has at least ``min_accounts`` accounts and ``min_events`` churns after
    the landmark. Accounts of any other level with fewer than ``min_accounts`` accounts are left out
    (a hazard ratio of a handful of accounts is noise; ``attrs["left_out"]`` counts them)."""
    levels = sample[exposure].astype(str)
    size = levels.value_counts()
    churns = sample.groupby(levels, observed=True)["churned"].sum()
    for level in compared:
        n, d = int(size.get(level, 0)), int(churns.get(level, 0))
        if n < min_accounts or d < min_events:
            raise NotEnoughData(
                f"Too few accounts for a Cox model: '{level}' has {plural(n, 'account')} and "
                f"{plural(d, 'churn')} after the landmark (a model needs {min_accounts} accounts and "
                f"{min_events} churns in each compared group).")
    small = levels.isin([k for k, n in size.items() if n < min_accounts and k not in compared])
    out = sample[~small].reset_index(drop=True)
    out.attrs["left_out"] = {k: int(n) for k, n in size.items() if n < min_accounts and k not in compared}
    return out


def design_matrix(frame: pd.DataFrame, exposure: str, covariates: Sequence[str], min_level_accounts: int = 30,
                  exposure_reference: str | None = None) -> tuple[pd.DataFrame, dict, dict]:
    """Dummy-coded covariates: each categorical against its most common level (levels with fewer
    than ``min_level_accounts`` accounts pooled as 'other'); seats as log2(1 + seats) (per doubling).
    Returns the matrix, the reference level of each categorical, and column -> variable name."""
    cols, reference, variable_of = {}, {}, {}
    for name in [exposure, *covariates]:
        if name in NUMERIC:
            cols[f"{name} (per doubling)"] = np.log2(1 + frame[name].fillna(frame[name].median()).clip(lower=0))
            variable_of[f"{name} (per doubling)"] = name
            continue
        values = frame[name].astype(object).where(frame[name].notna(), "unknown").astype(str)
        counts = values.value_counts()
        # the exposure's levels are never pooled (cox_sample leaves its small levels out instead)
        small = counts[counts < min_level_accounts].index if name != exposure else counts.index[:0]
        values = values.where(~values.isin(small), "other")
        counts = values.value_counts()
        ref = exposure_reference if (name == exposure and exposure_reference in counts.index) else counts.index[0]
        reference[name] = ref
        for level in sorted(counts.index):
            if level == ref:
                continue
            col = f"{name}: {level}"
            cols[col] = (values == level).astype(float)
            variable_of[col] = name
    x = pd.DataFrame(cols, index=frame.index)
    x = x.loc[:, x.std() > 0]
    return x, reference, {c: variable_of[c] for c in x.columns}


def _concordance_interval(time, event, risk, boot: int, seed: int) -> tuple[float, float, float]:
    from lifelines.utils import concordance_index

    time, event, risk = map(np.asarray, (time, event, risk))
    est = concordance_index(time, -risk, event)
    rng = np.random.default_rng(seed)
    draws = []
    for _ in range(boot):
        i = rng.integers(0, len(time), len(time))
        if event[i].sum() == 0:
            continue
        draws.append(concordance_index(time[i], -risk[i], event[i]))
    lo, hi = np.percentile(draws, [2.5, 97.5]) if draws else (np.nan, np.nan)
    return float(est), float(lo), float(hi)


def cox_model(sample: pd.DataFrame, covariates: Sequence[str], exposure: str = "outcome",
              exposure_reference: str | None = None, landmark_days: int = 0, alpha: float = 0.05,
              min_level_accounts: int = 30, concordance_boot: int = 200, seed: int = 0,
              strata: Sequence[str] = ()) -> CoxResult:
    """Cox proportional hazards model (lifelines) of churn after the landmark, on ``time_after``.

    Proportional hazards are tested per covariate (lifelines' Schoenfeld-residual test, rank time),
    with Holm's correction across covariates (statsmodels). A violating adjustment variable is moved
    to a stratum (seats: by tertile) and the model refitted; a violating exposure is reported, not
    hidden (its hazard ratio is then an average over follow-up). Concordance has a bootstrap interval
    over accounts, with the model held fixed (optimistic: no refit per resample)."""
    from lifelines import CoxPHFitter
    from lifelines.exceptions import ConvergenceError
    from lifelines.statistics import proportional_hazard_test
    from statsmodels.stats.multitest import multipletests

    covariates = [c for c in covariates if c not in strata]
    x, reference, variable_of = design_matrix(sample, exposure, covariates, min_level_accounts, exposure_reference)
    base = pd.DataFrame({"time_after": sample["time_after"].clip(lower=1e-3), "churned": sample["churned"].astype(int)})

    def fit(strata: list[str]):
        try:
            return _fit(strata)
        except ConvergenceError as exc:  # e.g. a covariate that separates churners from the rest
            raise NotEnoughData(f"The Cox model did not converge on these {len(sample):,} accounts "
                                f"({int(base['churned'].sum()):,} churns after the landmark).") from exc

    def _fit(strata: list[str]):
        keep = [c for c in x.columns if variable_of[c] not in strata]
        df = pd.concat([base, x[keep]], axis=1)
        strata_cols = []
        for s in strata:
            col = f"stratum_{s}"
            if s in NUMERIC:
                df[col] = pd.qcut(sample[s].rank(method="first"), 3, labels=False)
            else:
                df[col] = sample[s].astype(str).fillna("unknown")
                df[col] = df[col].astype("category").cat.codes
            strata_cols.append(col)
        cph = CoxPHFitter(alpha=alpha, penalizer=1e-4)
        cph.fit(df, "time_after", "churned", strata=strata_cols or None)
        return cph, df

    with _quiet():
        fixed = list(strata)
        cph, df = fit(fixed)
        test = proportional_hazard_test(cph, df, time_transform="rank")
        tests = test.summary.reset_index().rename(columns={"index": "covariate", "p": "p_value"})
        tests = tests[["covariate", "test_statistic", "p_value"]]
        tests["p_holm"] = multipletests(tests["p_value"], method="holm")[1]
        tests["variable"] = tests["covariate"].map(variable_of)
        tests["violated"] = tests["p_holm"] < alpha
        moved = sorted({v for v in tests.loc[tests["violated"], "variable"] if v != exposure})
        strata = fixed + moved
        if moved:
            cph, df = fit(strata)
    summary = cph.summary
    out = pd.DataFrame({
        "covariate": summary.index,
        "variable": [variable_of[c] for c in summary.index],
        "hazard_ratio": summary["exp(coef)"].to_numpy(),
        "lower": summary[f"exp(coef) lower {100 * (1 - alpha):g}%"].to_numpy(),
        "upper": summary[f"exp(coef) upper {100 * (1 - alpha):g}%"].to_numpy(),
        "p_value": summary["p"].to_numpy(),
    })
    out["reference"] = out["variable"].map(reference).fillna("")
    risk = cph.predict_log_partial_hazard(df)
    c, c_lo, c_hi = _concordance_interval(df["time_after"], df["churned"], risk, concordance_boot, seed)
    return CoxResult(cph, out.reset_index(drop=True), tests, strata, c, c_lo, c_hi, int(len(df)),
                     int(df["churned"].sum()), landmark_days, reference)


def exposure_hazard_ratio(result: CoxResult, level: str, exposure: str = "outcome") -> dict:
    """The hazard ratio of one exposure level against the reference, from :func:`cox_model`."""
    row = result.summary[result.summary["covariate"] == f"{exposure}: {level}"]
    if row.empty:
        return {"hazard_ratio": np.nan, "lower": np.nan, "upper": np.nan, "p_value": np.nan}
    r = row.iloc[0]
    return {"hazard_ratio": float(r["hazard_ratio"]), "lower": float(r["lower"]), "upper": float(r["upper"]),
            "p_value": float(r["p_value"])}


def naive_hazard_ratio(frame: pd.DataFrame, within_days: int | None = None) -> dict:
    """The immortal-time mistake, for contrast: 'reached value' (ever, or within ``within_days``),
    known only by looking ahead, used as a baseline covariate with the clock starting at day 0, so an
    account that reached value on day 200 counts as 'reached' for the 200 days it had to survive to
    get there. Biased towards onboarding looking protective; the report shows it only as a warning.
    Empty when it cannot be fitted (no churn, or every account on one side)."""
    from lifelines import CoxPHFitter
    from lifelines.exceptions import ConvergenceError

    reached = frame["ttv_days"].notna() if within_days is None else frame["ttv_days"] <= within_days
    df = pd.DataFrame({"t": frame["duration_months"].clip(lower=1e-3), "e": frame["churned"].astype(int),
                       "fast_value": reached.astype(float)})
    if df["e"].sum() == 0 or df["fast_value"].nunique() < 2:
        return {}
    with _quiet():
        try:
            s = CoxPHFitter().fit(df, "t", "e").summary.loc["fast_value"]
        except ConvergenceError:  # all churns on one side: no finite hazard ratio
            return {}
    return {"hazard_ratio": float(s["exp(coef)"]), "lower": float(s["exp(coef) lower 95%"]),
            "upper": float(s["exp(coef) upper 95%"]), "p_value": float(s["p"])}
