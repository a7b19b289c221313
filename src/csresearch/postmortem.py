"""Churn postmortem: what did we lose this month, why, did we see it coming, and what do we change?

One review covers either every churn of a month or a few named accounts. It builds on the shared
definitions and never re-derives them: churn and paying spells come from :mod:`csresearch.churn`,
point-in-time features from :mod:`csresearch.features`, and the health score, its bands, triggers,
playbooks and the at-risk list from :mod:`csresearch.drivers`.

The steps, each a function with plain DataFrames in and out:

- :func:`churned_accounts`: the churn list (ARR lost, tenure, segment, plan, reason, competitor);
- :func:`reasons_pareto`, :func:`reasons_by_segment`, :func:`comment_themes`: why they left;
- :func:`weekly_activity`, :func:`account_events`, :func:`health_history`: timelines (SQL in DuckDB);
- :func:`warning_audit`, :func:`lead_time_summary`, :func:`missed_profile`, :func:`false_alarms`:
  would the health score and risk list have warned us, how early, and how often wrongly;
- :func:`comparables`, :func:`trajectory_contrast`: retained look-alikes and how they differed;
- :func:`alerts`: accounts that turned red, dropped a band or crossed the risk threshold since last month;
- :func:`lessons`, :func:`rollup`: findings with the playbook each points to, and the recent trend.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Mapping, Sequence

import numpy as np
import pandas as pd

from .data import Dataset

NOT_RECORDED = "not recorded"
DAYS_PER_MONTH = 365.25 / 12


class UnknownAccountError(KeyError):
    """An account id asked for in a review does not exist in the ``accounts`` table."""

    def __init__(self, missing: Sequence[str], known_examples: Sequence[str] = ()):
        self.missing = list(missing)
        hint = f" (ids look like {', '.join(known_examples)})" if known_examples else ""
        super().__init__(
            f"unknown account id(s) {', '.join(map(repr, self.missing))}: not in the accounts table{hint}"
        )

    def __str__(self) -> str:  # KeyError would quote the whole message
        return self.args[0]


# --------------------------------------------------------------------------------------------------
# Scope of the review
# --------------------------------------------------------------------------------------------------
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


def month_end(month: pd.Period | str) -> pd.Timestamp:
    return pd.Period(month, "M").to_timestamp(how="end").normalize()


# --------------------------------------------------------------------------------------------------
# Reasons
# --------------------------------------------------------------------------------------------------
def reasons_pareto(churned: pd.DataFrame, by: str = "reason") -> pd.DataFrame:
    """Churns and ARR lost per reason, largest ARR first, with shares and cumulative shares.

    Reasons missing from the cancellation form count as ``not recorded`` rather than vanishing.
    Columns: ``<by>, churns, arr_lost, churn_share, arr_share, cum_churn_share, cum_arr_share``
    (the cumulative shares follow each chart's own order: by count, resp. by ARR).
    """
    cols = [by, "churns", "arr_lost", "churn_share", "arr_share", "cum_churn_share", "cum_arr_share"]
    if churned.empty:
        return pd.DataFrame(columns=cols)
    frame = churned.assign(**{by: churned[by].fillna(NOT_RECORDED).replace("", NOT_RECORDED)})
    table = frame.groupby(by, as_index=False).agg(churns=("account_id", "size"), arr_lost=("arr_lost", "sum"))
    table["churn_share"] = table["churns"] / table["churns"].sum()
    total_arr = table["arr_lost"].sum()
    table["arr_share"] = table["arr_lost"] / total_arr if total_arr > 0 else 0.0
    by_count = table.sort_values(["churns", "arr_lost", by], ascending=[False, False, True])
    table["cum_churn_share"] = by_count["churn_share"].cumsum().reindex(table.index)
    table = table.sort_values(["arr_lost", "churns", by], ascending=[False, False, True])
    table["cum_arr_share"] = table["arr_share"].cumsum()
    return table[cols].reset_index(drop=True)


def reasons_by_segment(churned: pd.DataFrame, value: str = "churns") -> pd.DataFrame:
    """Reason x segment: churn counts (``value='churns'``) or ARR lost (``value='arr_lost'``)."""
    if churned.empty:
        return pd.DataFrame()
    frame = churned.assign(reason=churned["reason"].fillna(NOT_RECORDED),
                           segment=churned["segment"].fillna("unknown"))
    if value == "churns":
        table = pd.crosstab(frame["reason"], frame["segment"])
    else:
        table = frame.pivot_table(index="reason", columns="segment", values=value, aggfunc="sum", fill_value=0)
    order = table.sum(axis=1).sort_values(ascending=False).index
    return table.loc[order]


@dataclass
class Themes:
    """Comment themes: ``themes`` one row per theme (label, top terms, comments, example),
    ``assignments`` one row per comment (account_id, theme)."""

    themes: pd.DataFrame
    assignments: pd.DataFrame
    method: str


def comment_themes(comments: pd.DataFrame, n_themes: int = 5, top_terms: int = 4,
                   random_state: int = 0) -> Themes:
    """Group free-text churn comments into themes, locally: TF-IDF (scikit-learn) then NMF.

    ``comments`` has ``account_id`` and ``comment``. Each comment goes to the theme with the largest
    NMF weight; a theme is labelled by its top terms. Fewer distinct comments than themes lowers the
    number of themes (NMF cannot find more themes than documents). No external service, no download.
    """
    from sklearn.decomposition import NMF
    from sklearn.feature_extraction.text import TfidfVectorizer

    empty = Themes(pd.DataFrame(columns=["theme", "terms", "comments", "example"]),
                   pd.DataFrame(columns=["account_id", "theme"]), "none")
    text = comments.dropna(subset=["comment"])
    text = text[text["comment"].str.strip().str.len() > 0]
    if text.empty:
        return empty
    vectorizer = TfidfVectorizer(stop_words="english", ngram_range=(1, 2), min_df=1, sublinear_tf=True,
                                 token_pattern=r"(?u)\b[a-zA-Z][a-zA-Z]+\b")
    try:
        matrix = vectorizer.fit_transform(text["comment"])
    except ValueError:  # only stop words
        return empty
    distinct = text["comment"].str.lower().str.strip().nunique()
    k = int(max(1, min(n_themes, distinct, matrix.shape[1])))
    terms = np.asarray(vectorizer.get_feature_names_out())
    if k == 1:
        weights = np.ones((matrix.shape[0], 1))
        components = np.asarray(matrix.sum(axis=0))
    else:
        model = NMF(n_components=k, init="nndsvda", random_state=random_state, max_iter=500)
        weights = model.fit_transform(matrix)
        components = model.components_
    labels: list[str] = []
    for row in components:
        ranked = [terms[i] for i in np.argsort(row)[::-1] if row[i] > 0]
        # skip a term already inside a chosen one, so labels are not "price, price increase"
        chosen: list[str] = []
        for term in ranked:
            if any(set(term.split()) & set(c.split()) for c in chosen):
                continue
            chosen.append(term)
            if len(chosen) == top_terms:
                break
        label = ", ".join(chosen) if chosen else "other"
        while label in labels:  # two themes with the same top terms stay distinguishable
            label += " (2)"
        labels.append(label)
    theme_of = weights.argmax(axis=1)
    theme_of[weights.max(axis=1) <= 0] = -1
    names = [labels[i] if i >= 0 else "other" for i in theme_of]
    assignments = pd.DataFrame({"account_id": text["account_id"].to_numpy(), "theme": names,
                                "comment": text["comment"].to_numpy()})
    rows = []
    for idx, label in enumerate(labels):
        members = np.where(theme_of == idx)[0]
        if len(members) == 0:
            continue
        strongest = members[np.argmax(weights[members, idx])]
        rows.append({"theme": label, "terms": label, "comments": len(members),
                     "example": text["comment"].iloc[strongest]})
    if (theme_of == -1).any():
        rows.append({"theme": "other", "terms": "", "comments": int((theme_of == -1).sum()),
                     "example": text["comment"].iloc[np.where(theme_of == -1)[0][0]]})
    themes = pd.DataFrame(rows).sort_values("comments", ascending=False).reset_index(drop=True)
    themes["share"] = themes["comments"] / themes["comments"].sum()
    return Themes(themes, assignments, "TF-IDF + NMF" if k > 1 else "TF-IDF (one theme)")


# --------------------------------------------------------------------------------------------------
# Timelines (event aggregation in DuckDB)
# --------------------------------------------------------------------------------------------------
def key_events(ds: Dataset, n: int = 3, as_of: pd.Timestamp | None = None) -> list[str]:
    """The ``n`` most used event names (by summed quantity) up to ``as_of``: the default key events."""
    if not ds.has("usage_events"):
        return []
    where = "WHERE event_time < ?" if as_of is not None else ""
    params = [pd.Timestamp(as_of) + pd.Timedelta(days=1)] if as_of is not None else None
    top = ds.sql(f"SELECT event_name, sum(quantity) AS q FROM usage_events {where} "
                 f"GROUP BY 1 ORDER BY q DESC, event_name LIMIT {int(n)}", params)
    return top["event_name"].tolist()


def weekly_activity(ds: Dataset, account_ids: Sequence[str], start: pd.Timestamp, end: pd.Timestamp,
                    events: Sequence[str] | None = None) -> pd.DataFrame:
    """Weekly usage per account in long form, zeros included: ``account_id, week, metric, value``.

    ``metric`` is each key event's name (summed quantity that week) plus ``active users`` (distinct
    users with any event that week). Weeks start on Monday; ``[start, end]`` is inclusive. Aggregated
    in DuckDB so the events never come into pandas. No ``usage_events`` table: an empty frame.
    """
    columns = ["account_id", "week", "metric", "value"]
    if not ds.has("usage_events") or not len(account_ids):
        return pd.DataFrame(columns=columns)
    events = list(events or [])
    frame = ds.sql(
        """
        WITH ids AS (SELECT unnest($ids) AS account_id),
        weeks AS (
            SELECT unnest(generate_series(date_trunc('week', $start::DATE), date_trunc('week', $end::DATE),
                                          INTERVAL 7 DAY))::DATE AS week
        ),
        metrics AS (SELECT unnest($events) AS metric UNION ALL SELECT 'active users'),
        ev AS (
            SELECT account_id, date_trunc('week', event_time)::DATE AS week, event_name, quantity, user_id
            FROM usage_events
            WHERE account_id IN (SELECT account_id FROM ids)
              AND event_time >= date_trunc('week', $start::DATE) AND event_time < $end::DATE + INTERVAL 1 DAY
        ),
        counted AS (
            SELECT account_id, week, event_name AS metric, sum(quantity) AS value
            FROM ev WHERE event_name IN (SELECT unnest($events)) GROUP BY ALL
            UNION ALL
            SELECT account_id, week, 'active users', count(DISTINCT user_id) FROM ev GROUP BY ALL
        )
        SELECT i.account_id, w.week, m.metric, coalesce(c.value, 0)::DOUBLE AS value
        FROM ids i CROSS JOIN weeks w CROSS JOIN metrics m
        LEFT JOIN counted c ON c.account_id = i.account_id AND c.week = w.week AND c.metric = m.metric
        ORDER BY 1, 2, 3
        """,
        {"ids": list(account_ids), "start": pd.Timestamp(start).date(), "end": pd.Timestamp(end).date(),
         "events": events},
    )
    frame["week"] = pd.to_datetime(frame["week"])
    return frame[columns]


def account_events(ds: Dataset, account_ids: Sequence[str], start: pd.Timestamp,
                   end: pd.Timestamp) -> dict[str, pd.DataFrame | None]:
    """Dated touchpoints of the accounts between ``start`` and ``end`` (inclusive), one frame each:

    - ``tickets``: ``account_id, month, priority, tickets`` (monthly counts by priority);
    - ``nps``: ``account_id, answered_at, score`` (NPS answers);
    - ``activities``: ``account_id, occurred_at, activity_type``.

    A table the data does not have maps to None (the report says so); no rows is an empty frame.
    """
    params = {"ids": list(account_ids), "start": pd.Timestamp(start).date(), "end": pd.Timestamp(end).date()}
    window = "account_id IN (SELECT unnest($ids)) AND {col} >= $start::DATE AND {col} < $end::DATE + INTERVAL 1 DAY"
    out: dict[str, pd.DataFrame | None] = {"tickets": None, "nps": None, "activities": None}
    if ds.has("support_tickets"):
        out["tickets"] = ds.sql(
            "SELECT account_id, date_trunc('month', created_at)::DATE AS month, "
            "coalesce(priority, 'unknown') AS priority, count(*) AS tickets FROM support_tickets "
            f"WHERE {window.format(col='created_at')} GROUP BY ALL ORDER BY 1, 2, 3", params)
    if ds.has("surveys"):
        out["nps"] = ds.sql(
            "SELECT account_id, answered_at, score FROM surveys "
            f"WHERE survey_type = 'nps' AND {window.format(col='answered_at')} ORDER BY 1, 2", params)
    if ds.has("cs_activities"):
        out["activities"] = ds.sql(
            "SELECT account_id, occurred_at, coalesce(activity_type, 'other') AS activity_type FROM cs_activities "
            f"WHERE {window.format(col='occurred_at')} ORDER BY 1, 2", params)
    for key, frame in out.items():
        if frame is not None:
            for col in ("month", "answered_at", "occurred_at"):
                if col in frame:
                    frame[col] = pd.to_datetime(frame[col])
    return out


# --------------------------------------------------------------------------------------------------
# Early-warning audit
# --------------------------------------------------------------------------------------------------
def warning_audit(churned: pd.DataFrame, flags: pd.DataFrame, lookback_days: int = 180) -> pd.DataFrame:
    """For each churned account: was it flagged before it churned, first when, and by what.

    ``churned``: ``account_id, churn_date`` (plus any attributes, kept). ``flags``: one row per
    account and check (``account_id, observation_date, flagged`` and optionally ``source, trigger,
    playbook``). Only checks in ``[churn_date - lookback_days, churn_date)`` count: a check on or
    after the churn date would be hindsight. Adds ``checks`` (how many checks saw the account),
    ``first_flagged``, ``lead_days`` (churn date minus first flag), ``flagged_by``, ``first_trigger``,
    ``first_playbook`` and ``outcome``: ``caught``, ``missed`` (checked, never flagged) or
    ``not checked`` (no check fell in the window, e.g. a churn in the first weeks).
    """
    audit = churned.copy()
    keep = ["account_id", "observation_date", "flagged"] + [c for c in ("source", "trigger", "playbook") if c in flags]
    merged = audit[["account_id", "churn_date"]].merge(flags[keep], on="account_id", how="inner")
    window = merged[(merged["observation_date"] < merged["churn_date"])
                    & (merged["observation_date"] >= merged["churn_date"] - pd.Timedelta(days=lookback_days))]
    checks = window.groupby(["account_id", "churn_date"]).size().rename("checks")
    hits = window[window["flagged"].astype(bool)].sort_values("observation_date")
    first = hits.groupby(["account_id", "churn_date"]).first()
    first = first.rename(columns={"observation_date": "first_flagged", "source": "flagged_by",
                                  "trigger": "first_trigger", "playbook": "first_playbook"})
    first = first.drop(columns=["flagged"])
    audit = audit.merge(checks.reset_index(), on=["account_id", "churn_date"], how="left")
    audit = audit.merge(first.reset_index(), on=["account_id", "churn_date"], how="left")
    audit["checks"] = audit["checks"].fillna(0).astype(int)
    for col in ("flagged_by", "first_trigger", "first_playbook"):
        if col not in audit:
            audit[col] = None
    audit["lead_days"] = (audit["churn_date"] - audit["first_flagged"]).dt.days
    audit["outcome"] = np.where(audit["first_flagged"].notna(), "caught",
                                np.where(audit["checks"] > 0, "missed", "not checked"))
    return audit


def wilson(successes: int, trials: int, alpha: float = 0.05) -> tuple[float, float, float]:
    """Share and Wilson interval (statsmodels); NaNs when there are no trials."""
    from statsmodels.stats.proportion import proportion_confint

    if trials == 0:
        return float("nan"), float("nan"), float("nan")
    low, high = proportion_confint(successes, trials, alpha=alpha, method="wilson")
    return successes / trials, float(low), float(high)


def median_interval(values: Sequence[float], confidence: float = 0.95,
                    random_state: int = 0) -> tuple[float, float, float]:
    """Median with a bootstrap percentile interval (scipy.stats.bootstrap); NaN bounds below 3 values."""
    from scipy.stats import bootstrap

    data = np.asarray(pd.Series(values).dropna(), dtype=float)
    if len(data) == 0:
        return float("nan"), float("nan"), float("nan")
    median = float(np.median(data))
    if len(data) < 3 or np.all(data == data[0]):
        return median, float("nan"), float("nan")
    res = bootstrap((data,), np.median, confidence_level=confidence, n_resamples=2000, method="percentile",
                    random_state=random_state)
    return median, float(res.confidence_interval.low), float(res.confidence_interval.high)


def lead_time_summary(audit: pd.DataFrame) -> dict:
    """Detection rate (Wilson 95% CI) and median lead time (bootstrap 95% CI) of an audit.

    Churns no check could see (``not checked``) are left out of the detection rate and counted apart.
    """
    checked = audit[audit["outcome"] != "not checked"]
    caught = int((checked["outcome"] == "caught").sum())
    rate, low, high = wilson(caught, len(checked))
    lead = checked.loc[checked["outcome"] == "caught", "lead_days"]
    median, mlow, mhigh = median_interval(lead)
    return {
        "churns": int(len(audit)),
        "checked": int(len(checked)),
        "not_checked": int(len(audit) - len(checked)),
        "caught": caught,
        "missed": int(len(checked) - caught),
        "detection_rate": rate, "detection_low": low, "detection_high": high,
        "median_lead_days": median, "median_lead_low": mlow, "median_lead_high": mhigh,
        "caught_30_days_ahead": int((lead >= 30).sum()),
    }


def false_alarms(flags: pd.DataFrame, churn_dates: pd.DataFrame, as_of: pd.Timestamp,
                 horizon_days: int = 90, window_days: int = 180) -> tuple[dict, pd.DataFrame]:
    """Among accounts flagged in the window, the share that did *not* churn within ``horizon_days``.

    Each account counts once, from its first flag in ``[as_of - horizon - window, as_of - horizon]``:
    only flags old enough for the horizon to have passed are judged (a younger flag is censored, not a
    false alarm). ``churn_dates``: ``account_id, churn_date`` for every churn. Returns the rate with its
    Wilson 95% CI and the per-account table (``account_id, first_flagged, churned_within_horizon``).
    A flag that led a CSM to save the account also counts as a false alarm here: the rate is an upper
    bound on wasted effort, not a pure measure of the score.
    """
    as_of = pd.Timestamp(as_of)
    last = as_of - pd.Timedelta(days=horizon_days)
    first_day = last - pd.Timedelta(days=window_days)
    hits = flags[flags["flagged"].astype(bool) & (flags["observation_date"] > first_day)
                 & (flags["observation_date"] <= last)]
    first = hits.groupby("account_id", as_index=False)["observation_date"].min()
    first = first.rename(columns={"observation_date": "first_flagged"})
    joined = first.merge(churn_dates[["account_id", "churn_date"]], on="account_id", how="left")
    joined["hit"] = (joined["churn_date"] > joined["first_flagged"]) & (
        joined["churn_date"] <= joined["first_flagged"] + pd.Timedelta(days=horizon_days))
    per_account = joined.groupby(["account_id", "first_flagged"], as_index=False)["hit"].any()
    per_account = per_account.rename(columns={"hit": "churned_within_horizon"})
    stayed = int((~per_account["churned_within_horizon"]).sum())
    rate, low, high = wilson(stayed, len(per_account))
    summary = {"flagged_accounts": int(len(per_account)), "stayed": stayed, "false_alarm_rate": rate,
               "false_alarm_low": low, "false_alarm_high": high, "horizon_days": horizon_days,
               "window_start": first_day.date(), "window_end": last.date()}
    return summary, per_account


def missed_profile(audit: pd.DataFrame, attributes: Sequence[str] = ("segment", "plan", "tenure_band",
                                                                     "size_band", "reason")) -> pd.DataFrame:
    """What missed churns had in common: for each attribute value, the share of churns with it among
    missed vs caught churns, Fisher's exact test of (has value) x (missed), and Holm-adjusted p-values
    across every value tested (many values are compared, so unadjusted p-values would mislead).
    """
    from scipy.stats import fisher_exact
    from statsmodels.stats.multitest import multipletests

    cols = ["attribute", "value", "missed", "caught", "share_of_missed", "share_of_caught", "p_value", "p_holm"]
    judged = audit[audit["outcome"].isin(["caught", "missed"])]
    is_missed = judged["outcome"].eq("missed")
    n_missed, n_caught = int(is_missed.sum()), int((~is_missed).sum())
    if n_missed == 0 or n_caught == 0:
        return pd.DataFrame(columns=cols)
    rows = []
    for attribute in attributes:
        if attribute not in judged:
            continue
        values = judged[attribute].astype("object").fillna(NOT_RECORDED).astype(str)
        for value in sorted(values.unique()):
            has = values.eq(value)
            a, b = int((has & is_missed).sum()), int((has & ~is_missed).sum())
            _, p = fisher_exact([[a, b], [n_missed - a, n_caught - b]])
            rows.append({"attribute": attribute, "value": value, "missed": a, "caught": b,
                         "share_of_missed": a / n_missed, "share_of_caught": b / n_caught, "p_value": p})
    table = pd.DataFrame(rows, columns=cols[:-1])
    if table.empty:
        return pd.DataFrame(columns=cols)
    table["p_holm"] = multipletests(table["p_value"], method="holm")[1]
    table["lift"] = table["share_of_missed"] - table["share_of_caught"]
    return table.sort_values(["p_holm", "lift"], ascending=[True, False]).reset_index(drop=True)


# --------------------------------------------------------------------------------------------------
# The churn list
# --------------------------------------------------------------------------------------------------
TENURE_BANDS = [(0, 6, "under 6 months"), (6, 12, "6-12 months"), (12, 24, "1-2 years"), (24, np.inf, "2+ years")]


def tenure_band(months: pd.Series) -> pd.Series:
    edges = [b[0] for b in TENURE_BANDS] + [np.inf]
    return pd.cut(months, bins=edges, right=False, labels=[b[2] for b in TENURE_BANDS]).astype("object")


def plan_on(subscriptions: pd.DataFrame, points: pd.DataFrame) -> pd.Series:
    """The plan (``product`` of the largest-MRR subscription) active on each ``(account_id, day)``;
    None where nothing is active. Returned in ``points`` order."""
    import duckdb

    con = duckdb.connect()
    con.register("subs", subscriptions[["account_id", "product", "start_date", "end_date", "mrr"]])
    con.register("pts", points[["account_id", "day"]].reset_index(drop=True).reset_index())
    got = con.execute(
        """
        SELECT p.index, arg_max(s.product, s.mrr) AS plan
        FROM pts p LEFT JOIN subs s
          ON s.account_id = p.account_id AND s.start_date <= p.day
         AND (s.end_date IS NULL OR s.end_date > p.day) AND s.mrr > 0
        GROUP BY p.index ORDER BY p.index
        """
    ).df()
    con.close()
    return pd.Series(got["plan"].to_numpy(), index=points.index)


def all_churns(ds: Dataset, as_of: pd.Timestamp, reactivation_window_days: int = 0,
               count_same_month_churn: bool = True) -> pd.DataFrame:
    """Every churn up to ``as_of`` by the project's one definition (:func:`csresearch.churn.paying_spells`),
    with the account's attributes: ``account_id, spell, churn_date, start_date, tenure_months, mrr_lost,
    arr_lost, provisional, segment, plan, account_name, csm_owner, ...``.

    ``churn_date`` is the first unpaid day. ARR lost = 12 x the MRR on the last paid day.
    ``count_same_month_churn`` False drops spells that never paid at a month end (joined and left
    within one month), as the churn rates of the other reports do.
    """
    from .churn import paying_spells

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
    forms["form_date"] = pd.to_datetime(forms["churn_date"])
    forms = forms.drop(columns="churn_date").dropna(subset=["form_date"]).sort_values("form_date")
    left = out.reset_index().sort_values("churn_date")
    matched = pd.merge_asof(left, forms, left_on="churn_date", right_on="form_date", by="account_id",
                            direction="nearest", tolerance=pd.Timedelta(days=match_days))
    matched = matched.set_index("index").sort_index()
    for f in fields:
        out[f] = matched[f].to_numpy()
    out["reason"] = out["reason"].fillna(NOT_RECORDED).replace("", NOT_RECORDED)
    return out


def churned_accounts(ds: Dataset, month: pd.Period | str, account_ids: Sequence[str] | None = None,
                     reactivation_window_days: int = 0, count_same_month_churn: bool = True,
                     reason_match_days: int = 45) -> pd.DataFrame:
    """The churn list of a review.

    A month review (``account_ids`` None): every churn whose churn date falls in ``month``.
    An account review: each named account's latest churn up to the end of ``month``; an account that
    has not churned keeps one row with ``status`` ``active`` (or ``never paid``) and NaT churn date,
    so its timeline can still be reviewed. Unknown ids raise :class:`UnknownAccountError`.
    Columns: ``account_id, status, churn_date, tenure_months, arr_lost, segment, plan, reason,
    competitor, comment, ...``, largest ARR lost first.
    """
    month = pd.Period(month, "M")
    as_of = month_end(month)
    churns = all_churns(ds, as_of, reactivation_window_days, count_same_month_churn)
    if account_ids is None:
        chosen = churns[churns["churn_date"].dt.to_period("M") == month].copy()
        chosen["status"] = "churned"
    else:
        check_accounts(ds, account_ids)
        latest = churns[churns["account_id"].isin(account_ids)].sort_values("churn_date").groupby("account_id").tail(1)
        chosen = latest.assign(status="churned")
        rest = [a for a in account_ids if a not in set(latest["account_id"])]
        if rest:
            others = _not_churned(ds, rest, as_of, reactivation_window_days)
            chosen = pd.concat([chosen, others], ignore_index=True) if len(chosen) else others
        chosen = chosen.set_index("account_id").loc[list(account_ids)].reset_index()
    chosen = attach_reasons(chosen, ds, reason_match_days)
    chosen = chosen.sort_values(["arr_lost", "account_id"], ascending=[False, True], na_position="last")
    lead = ["account_id", "status", "churn_date", "tenure_months", "tenure_band", "arr_lost", "mrr_lost",
            "segment", "plan", "reason", "sub_reason", "competitor", "comment"]
    return chosen[lead + [c for c in chosen.columns if c not in lead]].reset_index(drop=True)


def _not_churned(ds: Dataset, account_ids: Sequence[str], as_of: pd.Timestamp,
                 reactivation_window_days: int) -> pd.DataFrame:
    """Rows for reviewed accounts without a churn: still paying (``active``) or never paid."""
    from .churn import paying_spells

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


# --------------------------------------------------------------------------------------------------
# Comparable retained accounts
# --------------------------------------------------------------------------------------------------
def comparables(ds: Dataset, churned: pd.DataFrame, as_of: pd.Timestamp, k: int = 3,
                retained_days: int = 90, reactivation_window_days: int = 0) -> pd.DataFrame:
    """For each churned account, the ``k`` nearest accounts that stayed, seen on the same day.

    The reference day is the churned account's last paid day. A candidate paid that day and kept
    paying for ``retained_days`` after it (or until ``as_of``, whichever is first). Matching is exact
    on segment, on plan too when at least ``k`` candidates share it, and nearest on tenure at that day
    and MRR (log scale, standardised over the candidates; scikit-learn ``NearestNeighbors``).
    Columns: ``account_id`` (the churned one), ``comparable_id, rank, ref_date, tenure_months, mrr,
    segment, plan, same_plan, distance``.
    """
    from sklearn.neighbors import NearestNeighbors

    from .churn import account_month_mrr, paying_spells

    cols = ["account_id", "comparable_id", "rank", "ref_date", "tenure_months", "mrr", "segment", "plan",
            "same_plan", "distance"]
    todo = churned[churned["churn_date"].notna()] if "churn_date" in churned else churned.iloc[0:0]
    if todo.empty:
        return pd.DataFrame(columns=cols)
    subs = ds.table("subscriptions")
    subs_typed = subs.assign(start_date=pd.to_datetime(subs["start_date"]), end_date=pd.to_datetime(subs["end_date"]))
    spells = paying_spells(subs, as_of, reactivation_window_days)
    accounts = ds.table("accounts")
    segment_of = accounts.set_index("account_id")["segment"] if "segment" in accounts else pd.Series(dtype=object)
    spells["segment"] = spells["account_id"].map(segment_of)
    first_month = (todo["churn_date"].min() - pd.Timedelta(days=1)).to_period("M") - 1
    monthly = account_month_mrr(subs, first_month, pd.Timestamp(as_of).to_period("M"))
    rows = []
    for churn in todo.itertuples(index=False):
        ref = churn.churn_date - pd.Timedelta(days=1)
        horizon = min(ref + pd.Timedelta(days=retained_days), pd.Timestamp(as_of))
        pool = spells[(spells["start_date"] <= ref)
                      & (spells["end_date"].isna() | (spells["end_date"] > horizon))
                      & (spells["account_id"] != churn.account_id)]
        if pd.notna(churn.segment):
            pool = pool[pool["segment"] == churn.segment]
        if pool.empty:
            continue
        pool = pool.assign(tenure_months=(ref - pool["start_date"]).dt.days / DAYS_PER_MONTH)
        prev_end = (ref.to_period("M") - 1)
        size = monthly[monthly["month"] == prev_end].set_index("account_id")["mrr"]
        pool["mrr"] = pool["account_id"].map(size).fillna(0.0)
        pool["plan"] = plan_on(subs_typed, pool.assign(day=ref)).to_numpy()
        same = pool[pool["plan"] == churn.plan]
        if len(same) >= k:
            pool = same
        features = np.column_stack([np.log1p(pool["tenure_months"].clip(lower=0)), np.log1p(pool["mrr"])])
        target = np.array([[np.log1p(max(churn.tenure_months, 0)), np.log1p(churn.mrr_lost)]])
        scale = features.std(axis=0)
        scale[scale == 0] = 1.0
        centre = features.mean(axis=0)
        nn = NearestNeighbors(n_neighbors=min(k, len(pool))).fit((features - centre) / scale)
        dist, idx = nn.kneighbors((target - centre) / scale)
        for rank, (d, i) in enumerate(zip(dist[0], idx[0]), start=1):
            row = pool.iloc[i]
            rows.append({"account_id": churn.account_id, "comparable_id": row["account_id"], "rank": rank,
                         "ref_date": ref, "tenure_months": row["tenure_months"], "mrr": row["mrr"],
                         "segment": row["segment"], "plan": row["plan"], "same_plan": row["plan"] == churn.plan,
                         "distance": float(d)})
    return pd.DataFrame(rows, columns=cols)


def aligned_usage(ds: Dataset, pairs: pd.DataFrame, weeks: int = 26,
                  events: Sequence[str] | None = None) -> pd.DataFrame:
    """Weekly usage of each ``(account_id, ref_date)`` in the ``weeks`` weeks before ``ref_date``, aligned
    so that week -1 ends on the reference day: ``account_id, ref_date, week (-weeks..-1), events,
    active_users, index`` where ``index`` is events relative to the account's first-half mean (100 =
    as busy as it used to be; NaN when the account had no events in the first half).
    Only ``events`` count when given (active users always count every event). Aggregated in DuckDB.
    """
    cols = ["account_id", "ref_date", "week", "events", "active_users", "index"]
    if not ds.has("usage_events") or pairs.empty:
        return pd.DataFrame(columns=cols)
    keys = pairs[["account_id", "ref_date"]].drop_duplicates().copy()
    keys["ref_date"] = pd.to_datetime(keys["ref_date"]).dt.date
    ds.con.register("_pm_pairs", keys)
    try:
        frame = ds.sql(
            """
            WITH grid AS (
                SELECT p.account_id, p.ref_date, unnest(generate_series(-$weeks, -1)) AS week FROM _pm_pairs p
            ),
            ev AS (
                SELECT p.account_id, p.ref_date,
                       -1 - floor(date_diff('day', e.event_time::DATE, p.ref_date) / 7)::INT AS week,
                       e.user_id, CASE WHEN len($events) = 0 OR list_contains($events, e.event_name)
                                       THEN e.quantity ELSE 0 END AS q
                FROM usage_events e JOIN _pm_pairs p ON e.account_id = p.account_id
                WHERE e.event_time < p.ref_date + INTERVAL 1 DAY
                  AND e.event_time >= p.ref_date + INTERVAL 1 DAY - to_days(7 * $weeks)
            ),
            agg AS (SELECT account_id, ref_date, week, sum(q) AS events, count(DISTINCT user_id) AS active_users
                    FROM ev GROUP BY ALL)
            SELECT g.account_id, g.ref_date, g.week, coalesce(a.events, 0)::DOUBLE AS events,
                   coalesce(a.active_users, 0)::DOUBLE AS active_users
            FROM grid g LEFT JOIN agg a USING (account_id, ref_date, week)
            ORDER BY 1, 2, 3
            """,
            {"weeks": int(weeks), "events": list(events or [])},
        )
    finally:
        ds.con.unregister("_pm_pairs")
    frame["ref_date"] = pd.to_datetime(frame["ref_date"])
    first_half = frame[frame["week"] < -weeks // 2].groupby(["account_id", "ref_date"])["events"].mean()
    base = frame.set_index(["account_id", "ref_date"]).index.map(first_half)
    frame["index"] = 100 * frame["events"] / np.where(np.asarray(base, dtype=float) > 0, base, np.nan)
    return frame[cols]
