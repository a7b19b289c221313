"""Which experiments to read this month, one frame per experiment, and the design checks.

- the month's experiments: each one's arms, assignment dates and outcome window, and whether it is
  read (running in the month, or its outcome window closed within ``ended_within_months``);
- one row per assigned account: arm, exposure, pre-period covariates and the outcomes at the horizon
  (churn from :func:`csresearch.core.revenue.paying_spells`, the project's one definition; usage
  aggregated on the engine);
- design checks: sample-ratio mismatch (chi-square), covariate balance (standardised mean
  differences), exposure per arm.
"""

from __future__ import annotations

import itertools
import math
from typing import Any, Mapping, Sequence

import numpy as np
import pandas as pd

from ...core.revenue import paying_spells
from .settings import Experiment, ExperimentSettings, settings_for

_NAMES = itertools.count()  # unique names for frames registered on a shared DuckDB connection


def srm_test(counts: Mapping[str, int], expected_split: Mapping[str, float] | None = None,
             alpha: float = 0.001) -> dict:
    """Sample-ratio mismatch: chi-square goodness of fit of the arm counts to the planned split.

    ``expected_split`` maps arm -> planned share (normalised; equal split if None). An arm of the
    plan with no account is counted as 0 observed; an arm found in the data but absent from the plan
    is a mismatch by itself (``unplanned``, flagged whatever the p-value: nobody should be there).
    ``alpha`` is strict (0.001 by convention) because SRM is checked on every experiment and a flag
    stops the read.
    """
    from scipy.stats import chisquare

    planned = dict(expected_split) if expected_split else {a: 1.0 for a in counts}
    arms = list(dict.fromkeys([*planned, *counts]))
    unplanned = [a for a in counts if a not in planned and counts[a] > 0]
    tested = [a for a in arms if a in planned]
    observed = np.array([counts.get(a, 0) for a in tested], dtype=float)
    shares = np.array([planned[a] for a in tested], dtype=float)
    shares = shares / shares.sum()
    expected = shares * observed.sum()
    if observed.sum() > 0 and (expected > 0).all():
        stat, p = chisquare(observed, expected)
    else:  # no account in the planned arms, or a planned share of 0: no test, only the plain mismatch
        stat, p = float("nan"), float("nan")
    flagged = bool(unplanned) or bool(np.isfinite(p) and p < alpha)
    return {"arms": tested, "observed": observed.astype(int).tolist(), "expected_share": shares.tolist(),
            "planned": expected_split is not None, "unplanned": unplanned,
            "unplanned_counts": [int(counts[a]) for a in unplanned],
            "chi2": float(stat), "p_value": float(p), "alpha": alpha, "flagged": flagged}


def standardized_differences(frame: pd.DataFrame, treated: str, covariates: Sequence[str],
                             weights: np.ndarray | None = None, threshold: float = 0.1) -> pd.DataFrame:
    """Standardised mean difference per covariate (categoricals: per level), treated minus control.

    SMD = (mean_t - mean_c) / sqrt((var_t + var_c) / 2), with the *unweighted* variances in the
    denominator, so weighting changes only the numerator (Austin 2009). |SMD| > ``threshold`` flags
    imbalance. ``weights`` (e.g. inverse-propensity) gives the balance after weighting.
    """
    t = frame[treated].to_numpy().astype(bool)
    w = np.ones(len(frame)) if weights is None else np.asarray(weights, dtype=float)
    rows = []
    for col in covariates:
        if col not in frame:
            continue
        values = frame[col]
        if not pd.api.types.is_numeric_dtype(values) or pd.api.types.is_bool_dtype(values):
            levels = values.fillna("unknown").astype(str)
            columns = {f"{col} = {lvl}": (levels == lvl).astype(float).to_numpy() for lvl in sorted(levels.unique())}
        else:
            x = values.astype(float).to_numpy()
            if np.isnan(x).all():
                continue
            columns = {col: np.where(np.isnan(x), np.nanmean(x), x)}
        for name, x in columns.items():
            mt, mc = np.average(x[t], weights=w[t]), np.average(x[~t], weights=w[~t])
            vt, vc = x[t].var(ddof=1), x[~t].var(ddof=1)
            sd = math.sqrt((vt + vc) / 2)
            smd = (mt - mc) / sd if sd > 0 else 0.0
            rows.append({"covariate": name, "mean_treated": mt, "mean_control": mc, "smd": smd,
                         "imbalanced": abs(smd) > threshold})
    return pd.DataFrame(rows, columns=["covariate", "mean_treated", "mean_control", "smd", "imbalanced"])


def compliance_table(frame: pd.DataFrame, arms: Sequence[str] | None = None) -> pd.DataFrame:
    """Accounts and exposure per arm, in the order of ``arms``. ``exposed`` is 1/0, or NaN where it
    was not recorded; ``share_exposed`` is among the accounts whose exposure is known (NaN if none)."""
    exposed = frame["exposed"].astype(float)
    out = (frame.assign(_known=exposed.notna(), _exposed=exposed.fillna(0.0))
                .groupby("arm", sort=False)
                .agg(accounts=("account_id", "size"), exposed=("_exposed", "sum"), exposure_known=("_known", "sum")))
    if arms is not None:
        out = out.reindex([a for a in arms if a in out.index])
    out["exposed"] = out["exposed"].astype(int)
    out["exposure_known"] = out["exposure_known"].astype(int)
    out["share_exposed"] = np.where(out["exposure_known"] > 0, out["exposed"] / out["exposure_known"].clip(lower=1),
                                    np.nan)
    return out.reset_index()


def assigned_arms(ds, experiment_id: str, as_of: pd.Timestamp) -> pd.Series:
    """Accounts per arm of one experiment assigned by ``as_of`` (every arm, read or not)."""
    counts = ds.sql("SELECT arm, count(*) AS accounts FROM experiments WHERE experiment_id = ? AND assigned_at <= ? "
                    "GROUP BY arm ORDER BY arm", [experiment_id, pd.Timestamp(as_of).date()])
    return counts.set_index("arm")["accounts"].astype(int)


def treatment_arms(settings: ExperimentSettings, arms_found: Sequence[str]) -> list[str]:
    """The treatment arms read: the ones the settings list (in their order), or every arm found but
    the control (sorted)."""
    listed = settings.treatment_arms_listed
    if listed:
        return [a for a in listed if a in set(arms_found)]
    return sorted(a for a in arms_found if a != settings.control_arm)


def experiment_windows(ds, experiments: Mapping[str, Experiment | Mapping] | None = None,
                       defaults: Experiment | Mapping[str, Any] | None = None) -> pd.DataFrame:
    """Every experiment in the ``experiments`` table with its arms, accounts, assignment dates and
    outcome window end (last assignment + the experiment's horizon)."""
    if not ds.has("experiments"):
        empty = pd.DataFrame({"experiment_id": pd.Series(dtype=object), "accounts": pd.Series(dtype=int),
                              "arms": pd.Series(dtype=object), "configured": pd.Series(dtype=bool)})
        for col in ("first_assigned", "last_assigned", "window_end"):
            empty[col] = pd.Series(dtype="datetime64[ns]")
        return empty
    frame = ds.sql(
        """
        SELECT experiment_id, count(*) AS accounts, string_agg(DISTINCT arm, ', ' ORDER BY arm) AS arms,
               min(assigned_at) AS first_assigned, max(assigned_at) AS last_assigned,
               avg(CAST(exposed AS DOUBLE)) AS share_exposed
        FROM experiments GROUP BY experiment_id ORDER BY experiment_id
        """
    )
    horizons = [settings_for(e, experiments, defaults).horizon_days for e in frame["experiment_id"]]
    frame["first_assigned"] = pd.to_datetime(frame["first_assigned"])
    frame["last_assigned"] = pd.to_datetime(frame["last_assigned"])
    frame["window_end"] = frame["last_assigned"] + pd.to_timedelta(horizons, unit="D")
    frame["configured"] = [e in (experiments or {}) for e in frame["experiment_id"]]
    return frame


def experiments_in_month(ds, month: pd.Period, experiments: Mapping[str, Experiment | Mapping] | None = None,
                         defaults: Experiment | Mapping[str, Any] | None = None, experiment_id: str | None = None,
                         ended_within_months: int = 0) -> pd.DataFrame:
    """Experiments to report for ``month``, with a ``status`` and whether they are ``selected``.

    Selected: running in the month (assigned by its end, outcome window still open), or ended (outcome
    window closed) in the month or the ``ended_within_months`` months before it, so a final readout stays
    in the monthly report long enough for a quarterly review to use it. ``experiment_id`` selects
    that experiment whatever its dates (and nothing else).
    """
    windows = experiment_windows(ds, experiments, defaults)
    start, end = month.start_time.normalize(), month.end_time.normalize()
    earliest = (month - int(ended_within_months)).start_time.normalize()
    ended_month = windows["window_end"].dt.to_period("M").astype(str)
    windows["status"] = np.select(
        [windows["first_assigned"] > end, windows["window_end"] > end, windows["window_end"] >= start,
         windows["window_end"] >= earliest],
        ["not started by the month end", "running (outcome window open)", "ended in the month",
         "ended " + ended_month],
        default="ended " + ended_month + " (before the look-back)")
    if experiment_id is not None:
        windows["selected"] = windows["experiment_id"] == experiment_id
    else:
        windows["selected"] = (windows["first_assigned"] <= end) & (windows["window_end"] >= earliest)
    return windows


def experiment_frame(ds, settings: ExperimentSettings, as_of: pd.Timestamp,
                     reactivation_window_days: int = 0, segment_column: str = "segment",
                     categorical: Sequence[str] = ("segment", "touch_tier", "region", "industry"),
                     seed: int = 0) -> pd.DataFrame:
    """One row per assigned account: arm, ``treated`` (0/1), exposure, pre-period covariates and the
    outcomes at the horizon. Outcomes are NaN for accounts whose horizon ends after ``as_of`` (not
    yet observable) and retention is NaN for accounts not paying when assigned.

    - retention: still in the paying spell that covered the assignment date ``horizon_days`` later
      (churn from :func:`csresearch.core.revenue.paying_spells`, so the reactivation window applies);
    - usage_change: events per 30 days in [assigned, +horizon) minus in [assigned - pre, assigned);
    - expansion_mrr: MRR increase from assignment to the horizon, floored at 0 (a churned account
      expanded by 0; the loss is the retention outcome's);
    - survival: days from assignment to churn, censored at ``as_of``;
    - each event outcome (``settings.event_outcomes``): yes/no, count or amount of the named events in
      [assigned, assigned + its horizon), for every assigned account (paying or not), NaN until that
      horizon has passed by ``as_of`` (and when there is no ``usage_events`` table).

    Arms read: the control and the treatment arms (:func:`treatment_arms`); ``treated`` is 1 for
    every treatment arm. ``exposed`` is 1/0, NaN where not recorded.

    With ``control_index_date="matched"`` the control arm's index dates are drawn from the treated
    arm's (see :class:`ExperimentSettings`); ``recorded_assigned_at`` keeps the table's date.
    """
    as_of = pd.Timestamp(as_of).normalize()
    h, pre = int(settings.horizon_days), int(settings.cuped_pre_days)
    asg = ds.sql("SELECT account_id, arm, assigned_at, exposed FROM experiments WHERE experiment_id = ?",
                 [settings.experiment_id])
    asg["assigned_at"] = pd.to_datetime(asg["assigned_at"])
    asg = asg[asg["assigned_at"] <= as_of].reset_index(drop=True)
    # exposure is 1/0, or NaN where not recorded (the column may be missing from the data altogether)
    asg["exposed"] = asg["exposed"].astype("Float64").astype(float) if "exposed" in asg else np.nan
    read = [settings.control_arm, *treatment_arms(settings, asg["arm"].unique())]
    asg = asg[asg["arm"].isin(read)].reset_index(drop=True)
    asg["treated"] = (asg["arm"] != settings.control_arm).astype(int)
    asg["recorded_assigned_at"] = asg["assigned_at"]
    if settings.control_index_date == "matched" and asg["treated"].any():
        # immortal time: a user had to stay a customer until adopting, so compare from the same kind
        # of date: each non-user gets an index date drawn from the users' dates (Zhou et al. 2005)
        control = asg["treated"] == 0
        dates = asg.loc[~control, "assigned_at"].to_numpy()
        drawn = np.random.default_rng(seed).choice(dates, size=int(control.sum()))
        asg.loc[control, "assigned_at"] = np.maximum(pd.to_datetime(drawn), asg.loc[control, "assigned_at"])
    name = f"_uplift_assignments_{next(_NAMES)}"
    ds.con.register(name, asg[["account_id", "assigned_at"]])
    try:
        mrr = ds.sql(
            f"""
            SELECT a.account_id,
                   coalesce(sum(s.mrr) FILTER (WHERE s.start_date <= a.assigned_at
                        AND (s.end_date IS NULL OR s.end_date > a.assigned_at)), 0) AS mrr_at_assignment,
                   coalesce(sum(s.mrr) FILTER (WHERE s.start_date <= a.assigned_at + INTERVAL {h} DAY
                        AND (s.end_date IS NULL OR s.end_date > a.assigned_at + INTERVAL {h} DAY)), 0) AS mrr_at_horizon,
                   coalesce(sum(s.mrr) FILTER (WHERE s.start_date <= a.assigned_at - INTERVAL {pre} DAY
                        AND (s.end_date IS NULL OR s.end_date > a.assigned_at - INTERVAL {pre} DAY)), 0) AS mrr_pre,
                   min(s.start_date) AS first_paid
            FROM {name} a LEFT JOIN subscriptions s ON s.account_id = a.account_id AND s.mrr > 0
            GROUP BY a.account_id
            """
        )
        if ds.has("usage_events"):
            usage = ds.sql(
                f"""
                SELECT a.account_id,
                       count(*) FILTER (WHERE e.event_time < a.assigned_at) AS events_pre,
                       count(*) FILTER (WHERE e.event_time >= a.assigned_at) AS events_post,
                       count(DISTINCT e.user_id) FILTER (WHERE e.event_time < a.assigned_at) AS users_pre
                FROM {name} a JOIN usage_events e ON e.account_id = a.account_id
                 AND e.event_time >= a.assigned_at - INTERVAL {pre} DAY
                 AND e.event_time < a.assigned_at + INTERVAL {h} DAY
                GROUP BY a.account_id
                """
            )
        else:
            usage = pd.DataFrame(columns=["account_id", "events_pre", "events_post", "users_pre"])
        if ds.has("support_tickets"):
            tickets = ds.sql(
                f"""
                SELECT a.account_id, count(*) AS tickets_pre
                FROM {name} a JOIN support_tickets t ON t.account_id = a.account_id
                 AND t.created_at >= a.assigned_at - INTERVAL {pre} DAY AND t.created_at < a.assigned_at
                GROUP BY a.account_id
                """
            )
        else:
            tickets = pd.DataFrame(columns=["account_id", "tickets_pre"])
        events = _event_outcomes(ds, settings, name)
    finally:
        ds.con.unregister(name)

    accounts = ds.table("accounts")
    keep_cols = ["account_id", "created_at"] + [c for c in categorical if c in accounts and c != "account_id"]
    if segment_column in accounts and segment_column not in keep_cols:
        keep_cols.append(segment_column)
    frame = (asg.merge(accounts[keep_cols], on="account_id", how="left")
                .merge(mrr, on="account_id", how="left")
                .merge(usage, on="account_id", how="left")
                .merge(tickets, on="account_id", how="left")
                .merge(events, on="account_id", how="left"))
    first_paid = pd.to_datetime(frame["first_paid"]).fillna(pd.to_datetime(frame["created_at"]))
    frame["tenure_days"] = (frame["assigned_at"] - first_paid).dt.days.clip(lower=0)
    frame["tickets_pre"] = frame["tickets_pre"].fillna(0) if ds.has("support_tickets") else np.nan
    frame["arr_at_assignment"] = 12 * frame["mrr_at_assignment"]
    mature = (frame["assigned_at"] + pd.Timedelta(days=h)) <= as_of
    frame["mature"] = mature

    # churn from the one definition: the paying spell covering the assignment date
    spells = paying_spells(ds.table("subscriptions"), as_of, reactivation_window_days)
    spells = spells[spells["account_id"].isin(frame["account_id"])]
    cover = frame[["account_id", "assigned_at"]].merge(spells, on="account_id", how="inner")
    cover = cover[(cover["start_date"] <= cover["assigned_at"])
                  & (cover["end_date"].isna() | (cover["end_date"] > cover["assigned_at"]))]
    cover = cover.drop_duplicates("account_id", keep="last").set_index("account_id")
    paying = frame["account_id"].isin(cover.index)
    end = frame["account_id"].map(cover["end_date"])
    churned = frame["account_id"].map(cover["churned"].astype(bool)).eq(True)
    frame["paying_at_assignment"] = paying
    frame["churn_date"] = end.where(churned)
    frame["duration_days"] = np.where(paying, ((end.where(churned).fillna(as_of)) - frame["assigned_at"]).dt.days, np.nan)
    frame["churn_event"] = np.where(paying, churned.astype(int), np.nan)
    horizon_date = frame["assigned_at"] + pd.Timedelta(days=h)
    retained = ~(churned & (end <= horizon_date))
    frame["retention"] = np.where(paying & mature, retained.astype(float), np.nan)
    frame["retained_arr"] = frame["retention"] * frame["arr_at_assignment"]
    expansion = (frame["mrr_at_horizon"] - frame["mrr_at_assignment"]).clip(lower=0)
    frame["expansion_mrr"] = np.where(mature & paying, expansion, np.nan)

    if ds.has("usage_events"):
        # usage is a rate per paying day: the pre window is cut at the account's first payment and
        # the post window at its churn, so usage does not double-count churn (retention's job)
        pre_days = np.minimum(pre, frame["tenure_days"].fillna(pre)).clip(lower=1)
        stop = pd.concat([frame["churn_date"].fillna(horizon_date), horizon_date], axis=1).min(axis=1)
        post_days = (stop - frame["assigned_at"]).dt.days
        frame["usage_pre"] = frame["events_pre"].fillna(0) / pre_days * 30
        frame["users_pre"] = frame["users_pre"].fillna(0)
        frame["usage_post"] = np.where(post_days >= 1, frame["events_post"].fillna(0) / post_days.clip(lower=1) * 30, np.nan)
        frame["usage_change"] = np.where(mature & paying, frame["usage_post"] - frame["usage_pre"], np.nan)
    else:
        frame["usage_pre"] = frame["users_pre"] = frame["usage_post"] = frame["usage_change"] = np.nan
    for outcome in settings.event_outcomes:
        spec = settings.outcome(outcome)
        observable = (frame["assigned_at"] + pd.Timedelta(days=spec.horizon_days)) <= as_of
        count = pd.to_numeric(frame.pop(f"_count_{outcome}")).fillna(0.0)
        amount = pd.to_numeric(frame.pop(f"_amount_{outcome}")).fillna(0.0)
        value = (count > 0).astype(float) if spec.kind == "yes_no" else count if spec.kind == "count" else amount
        frame[spec.column] = value.where(observable & ds.has("usage_events"))
    if segment_column in frame:
        frame["segment_for_report"] = frame[segment_column].fillna("unknown").astype(str)
    else:
        frame["segment_for_report"] = "all"
    return frame.drop(columns=["events_pre", "events_post", "first_paid"])


def _event_outcomes(ds, settings: ExperimentSettings, assignments: str) -> pd.DataFrame:
    """Per account, for each event outcome: how many of its events, and the sum of their quantity,
    fell in [assigned_at, assigned_at + its horizon) (aggregated on the engine)."""
    specs = [settings.outcome(o) for o in settings.event_outcomes]
    columns = ["account_id"] + [f"_{k}_{s.name}" for s in specs for k in ("count", "amount")]
    if not specs or not ds.has("usage_events"):
        return pd.DataFrame({c: pd.Series(dtype=object if c == "account_id" else float) for c in columns})

    def names(events) -> str:
        return ", ".join("'" + e.replace("'", "''") + "'" for e in events)

    parts = []
    for i, s in enumerate(specs):
        where = f"e.event_name IN ({names(s.events)}) AND e.event_time < a.assigned_at + INTERVAL {int(s.horizon_days)} DAY"
        parts.append(f"count(*) FILTER (WHERE {where}) AS _c{i}, "
                     f"coalesce(sum(coalesce(e.quantity, 1)) FILTER (WHERE {where}), 0) AS _a{i}")
    longest = max(int(s.horizon_days) for s in specs)
    every = sorted({e for s in specs for e in s.events})
    out = ds.sql(
        f"""
        SELECT a.account_id, {", ".join(parts)}
        FROM {assignments} a JOIN usage_events e ON e.account_id = a.account_id
         AND e.event_time >= a.assigned_at AND e.event_time < a.assigned_at + INTERVAL {longest} DAY
         AND e.event_name IN ({names(every)})
        GROUP BY a.account_id
        """
    )
    return out.rename(columns={f"_{k[0]}{i}": f"_{k}_{s.name}" for i, s in enumerate(specs)
                               for k in ("count", "amount")})[columns]


def usage_panel(ds, frame: pd.DataFrame, as_of: pd.Timestamp, periods_before: int = 6, periods_after: int = 6,
                period_days: int = 30) -> pd.DataFrame:
    """Events per account in ``period_days`` bins relative to assignment (period 0 = the first bin
    after it), aggregated in DuckDB, divided by the account's size in that bin: its seats on the bin's
    first day (``subscriptions.seats``), or else its active users in the bin (distinct ``user_id``),
    or else nothing (raw events). Adopters also add seats, so raw counts would credit the feature
    with growth it did not cause. ``panel.attrs["per"]`` says which ("seat", "active user" or "").

    A bin is NaN (unobserved, not zero) when it starts before the account's first payment, ends after
    its churn or ends after ``as_of``: the panel measures usage while a customer, so churn (a
    different outcome) does not masquerade as a usage drop."""
    as_of = pd.Timestamp(as_of).normalize()
    asg = frame[["account_id", "assigned_at", "treated", "tenure_days", "churn_date"]].copy()
    has_seats = "seats" in ds.table("subscriptions").columns and ds.table("subscriptions")["seats"].notna().any()
    has_users = "user_id" in ds.table("usage_events").columns
    per = "seat" if has_seats else "active user" if has_users else ""
    grid = pd.MultiIndex.from_product([asg["account_id"], range(-periods_before, periods_after)],
                                      names=["account_id", "period"]).to_frame(index=False)
    grid = grid.merge(asg[["account_id", "assigned_at"]], on="account_id")
    grid["bin_start"] = grid["assigned_at"] + pd.to_timedelta(grid["period"] * period_days, unit="D")
    name = f"_uplift_panel_{next(_NAMES)}"
    bins = f"_uplift_bins_{next(_NAMES)}"
    ds.con.register(name, asg[["account_id", "assigned_at"]])
    ds.con.register(bins, grid[["account_id", "period", "bin_start"]])
    try:
        users = "count(DISTINCT e.user_id)" if has_users else "NULL"
        counts = ds.sql(
            f"""
            SELECT a.account_id,
                   CAST(floor(date_diff('second', CAST(a.assigned_at AS TIMESTAMP), e.event_time)
                        / ({period_days} * 86400.0)) AS INTEGER) AS period,
                   count(*) AS events, {users} AS active_users
            FROM {name} a JOIN usage_events e ON e.account_id = a.account_id
             AND e.event_time >= a.assigned_at - INTERVAL {period_days * periods_before} DAY
             AND e.event_time < a.assigned_at + INTERVAL {period_days * periods_after} DAY
            GROUP BY 1, 2
            """
        )
        if has_seats:
            seats = ds.sql(
                f"""
                SELECT b.account_id, b.period, max(s.seats) AS seats
                FROM {bins} b JOIN subscriptions s ON s.account_id = b.account_id AND s.mrr > 0
                 AND s.start_date <= b.bin_start AND (s.end_date IS NULL OR s.end_date > b.bin_start)
                GROUP BY 1, 2
                """
            )
        else:
            seats = pd.DataFrame(columns=["account_id", "period", "seats"])
    finally:
        ds.con.unregister(name)
        ds.con.unregister(bins)
    panel = (grid.merge(asg[["account_id", "treated", "tenure_days", "churn_date"]], on="account_id")
                 .merge(counts, on=["account_id", "period"], how="left")
                 .merge(seats, on=["account_id", "period"], how="left"))
    events = panel["events"].astype(float).fillna(0.0)
    if per == "seat":
        size = pd.to_numeric(panel["seats"], errors="coerce").astype(float)
    elif per == "active user":
        size = pd.to_numeric(panel["active_users"], errors="coerce").astype(float)
    else:
        size = pd.Series(1.0, index=panel.index)
    # a bin without seats (or without a single active user) has no rate to compare
    panel["y"] = events / size.where(size > 0)
    bin_start_days = panel["period"] * period_days
    bin_end = panel["assigned_at"] + pd.to_timedelta(bin_start_days + period_days, unit="D")
    unobserved = ((bin_start_days < -panel["tenure_days"].fillna(0)) | (bin_end > as_of)
                  | (panel["churn_date"].notna() & (bin_end > panel["churn_date"])))
    panel.loc[unobserved, "y"] = np.nan
    out = panel[["account_id", "treated", "period", "y"]].copy()
    out.attrs["per"] = per
    return out
