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
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable, Mapping, Sequence

import numpy as np
import pandas as pd

from .data import Dataset
from .errors import UnknownAccountError
from .period import DAYS_PER_MONTH, month_end
from .text import money as _money, pct as _pct

NOT_RECORDED = "not recorded"
# Words that carry no theme in cancellation comments: courtesy phrases and the fragments that
# contractions leave behind ("weren't" -> "weren"), on top of scikit-learn's English stop words.
COMMENT_FILLER_WORDS = frozenset({
    "thanks", "thank", "please", "honestly", "frank", "feedback", "admin", "hard", "feelings", "later", "come",
    "cancel", "term", "end", "help", "just", "really", "per", "weren", "wasn", "don", "didn", "doesn", "isn",
    "aren", "couldn", "wouldn", "won", "ll", "ve", "re", "we", "us", "our",
    # CRM form boilerplate ("per the account owner")
    "account", "owner",
})


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
    from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS

    stop_words = sorted(ENGLISH_STOP_WORDS | COMMENT_FILLER_WORDS)
    vectorizer = TfidfVectorizer(stop_words=stop_words, ngram_range=(1, 2), min_df=1, sublinear_tf=True,
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
    ``first_flagged``, ``lead_days`` (churn date minus first flag), ``flagged_since`` and
    ``standing_lead_days`` (the start of the unbroken run of flags still standing at the last check
    before the churn; NaT when that check was not flagged), ``flagged_by``, ``first_trigger``,
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
    # the warning still standing at the last check: the start of the unbroken run of flags ending there
    ordered = window.sort_values("observation_date")
    run_break = (~ordered["flagged"].astype(bool)).groupby([ordered["account_id"], ordered["churn_date"]]).cumsum()
    last_break = run_break.groupby([ordered["account_id"], ordered["churn_date"]]).transform("max")
    standing = ordered[ordered["flagged"].astype(bool) & (run_break == last_break)]
    since = standing.groupby(["account_id", "churn_date"])["observation_date"].min().rename("flagged_since")
    audit = audit.merge(since.reset_index(), on=["account_id", "churn_date"], how="left")
    for col in ("flagged_by", "first_trigger", "first_playbook"):
        if col not in audit:
            audit[col] = None
    audit["lead_days"] = (audit["churn_date"] - audit["first_flagged"]).dt.days
    audit["standing_lead_days"] = (audit["churn_date"] - audit["flagged_since"]).dt.days
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
    """Every churn up to ``as_of`` by the project's one definition (:func:`csresearch.churn.paying_spells`),
    with the account's attributes: ``account_id, spell, churn_date, start_date, tenure_months, mrr_lost,
    arr_lost, provisional, segment, plan, account_name, csm_owner, ...``.

    ``churn_date`` is the first unpaid day. ARR lost = 12 x the MRR on the last paid day.
    ``count_same_month_churn`` False drops spells that never paid at a month end (joined and left
    within one month), as the churn rates of the other reports do.
    """
    from .core.revenue import paying_spells

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
    from .core.revenue import paying_spells

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

    from .core.revenue import account_month_mrr, paying_spells

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


# --------------------------------------------------------------------------------------------------
# Checks: when did the health score or the risk list flag each account
# --------------------------------------------------------------------------------------------------
@dataclass
class Checks:
    """Monthly point-in-time checks of every paying account, as the CS team would have seen them.

    ``scores``: one row per account and check date (``observation_date``, the first day after each
    month: data strictly before it) with ``health_score, health_band, triggered, playbook`` (from
    :func:`csresearch.health.health_scores`), ``churn_probability`` (the risk model as it stood
    then), ``risk_threshold`` (the list's threshold at that check), ``flagged`` (band red or probability
    at or above the threshold), ``source``, ``trigger``.
    ``frame``: the :func:`csresearch.risk.observations` rows behind them (features + labels).
    ``models``: the risk model fitted at each check date, for :func:`csresearch.risk.at_risk_list`.
    ``fits``: the check dates at which the model was refitted, each with its
    :class:`csresearch.risk.Sampling` (None: fitted on every closed observation).
    """

    scores: pd.DataFrame
    frame: pd.DataFrame
    models: dict
    thresholds: dict
    refit_months: int
    fits: dict = field(default_factory=dict)
    max_train_rows: int | None = None


def run_checks(ds: Dataset, month: pd.Period | str, config, months_back: int = 12, horizon_days: int = 90,
               risk_threshold: float | None = None, refit_months: int = 6, training_months: int = 9,
               reactivation_window_days: int = 0, value_milestone: str = "first_value",
               max_train_rows: int | None = None) -> Checks:
    """Health score and risk-model checks at each month's observation date for the last ``months_back``
    months up to ``month``.

    The risk model (drivers' :class:`~csresearch.risk.ChurnModel`) is refitted at the report month,
    the month before, and every ``refit_months`` before that, each time only on observations whose
    ``horizon_days`` churn window had closed by then, so a past check never uses later outcomes
    (no leakage). ``training_months`` of history feed the earliest fit. ``risk_threshold`` None uses
    the at-risk list's own rule at each check: 1.5 x the churn rate of the observations known by then.
    ``max_train_rows``: a fit with more closed observations trains on all churned ones and a stratified,
    weighted sample of the others (:func:`csresearch.risk.training_sample`; ``Checks.fits`` says
    what was kept); None fits on every closed observation.
    """
    from .core import health, risk

    month = pd.Period(month, "M")
    horizon_months = int(np.ceil(horizon_days / DAYS_PER_MONTH))
    frame = risk.observations(ds, month, horizon_days=horizon_days,
                                 history_months=months_back + horizon_months + training_months,
                                 reactivation_window_days=reactivation_window_days, value_milestone=value_milestone)
    dates = sorted(frame["observation_date"].unique())
    last = pd.Timestamp(dates[-1])
    check_dates = [pd.Timestamp(d) for d in dates if pd.Timestamp(d) > last - pd.DateOffset(months=months_back + 1)]
    on_check = frame["observation_date"].isin(check_dates).to_numpy()
    # the health score only at the checks (the older observations only train the risk model)
    scores = health.health_scores(frame[on_check], config)
    scores.index = frame.index[on_check]
    probability = pd.Series(np.nan, index=frame.index)
    threshold = pd.Series(np.nan, index=frame.index)
    models: dict[pd.Timestamp, object] = {}
    thresholds: dict[pd.Timestamp, float] = {}
    fits: dict[pd.Timestamp, object] = {}
    model = None
    horizon = pd.Timedelta(days=horizon_days)
    label = frame["churned"]
    for i, when in enumerate(check_dates):
        from_end = len(check_dates) - 1 - i
        closed = (frame["observation_date"] + horizon <= when).to_numpy()
        known = label[closed].dropna()
        thresholds[when] = float(risk_threshold) if risk_threshold is not None else (
            1.5 * float(known.mean()) if len(known) else 0.2)
        threshold[frame["observation_date"] == when] = thresholds[when]
        if model is None or from_end <= 1 or from_end % max(refit_months, 1) == 0:
            # train only on the observations whose window had closed by this check (a row mask: the
            # frame, the largest object of the report, is not copied)
            try:
                model = risk.ChurnModel("gbm").fit(frame, max_rows=max_train_rows, rows=closed)
                fits[when] = model.sampling
            except ValueError:  # too little closed history yet: no risk score at this check
                model = None
        if model is not None:
            rows = frame["observation_date"] == when
            probability[rows] = model.predict_proba(frame[rows])
            models[when] = model
    out = frame.loc[on_check, ["account_id", "observation_date"]].copy()
    for col in ("health_score", "health_band", "triggered", "playbook"):
        out[col] = scores[col]
    out["churn_probability"] = probability[on_check]
    out["risk_threshold"] = threshold[on_check]
    red = out["health_band"].eq("red")
    risky = out["churn_probability"].ge(out["risk_threshold"])
    out["flagged"] = red | risky
    out["source"] = np.select([red & risky, red, risky], ["health score and risk list", "health score", "risk list"], "")
    risk_text = "churn risk " + (100 * out["churn_probability"]).round(0).astype("Int64").astype(str) + "% (risk model)"
    out["trigger"] = np.where(red & risky, out["triggered"] + "; " + risk_text,
                              np.where(red, out["triggered"], np.where(risky, risk_text, "")))
    return Checks(out.reset_index(drop=True), frame, models, thresholds, refit_months, fits, max_train_rows)


def health_timeline(ds: Dataset, account_ids: Sequence[str], start: pd.Timestamp, end: pd.Timestamp, config,
                    every_days: int = 7, value_milestone: str = "first_value") -> pd.DataFrame:
    """Health score of a few accounts every ``every_days`` days (for a single-account page): the same
    :func:`csresearch.health.health_scores` on :func:`csresearch.features.account_features`, finer."""
    from .core import features, health

    dates = list(pd.date_range(pd.Timestamp(start).normalize(), pd.Timestamp(end).normalize(), freq=f"{every_days}D"))
    if not dates:
        return pd.DataFrame(columns=["account_id", "observation_date", "health_score", "health_band", "triggered",
                                     "playbook"])
    feats = features.account_features(ds, dates, value_milestone=value_milestone)
    feats = feats[feats["account_id"].isin(account_ids)]
    if feats.empty:
        return pd.DataFrame(columns=["account_id", "observation_date", "health_score", "health_band", "triggered",
                                     "playbook"])
    return health.health_scores(feats.reset_index(drop=True), config)


# --------------------------------------------------------------------------------------------------
# Alerts going forward
# --------------------------------------------------------------------------------------------------
BAND_RANK = {"green": 2, "yellow": 1, "red": 0}


def alerts(current: pd.DataFrame, previous: pd.DataFrame, risk_threshold: float | None = None) -> pd.DataFrame:
    """Accounts whose warning got worse since the previous month's at-risk list.

    ``current`` / ``previous``: at-risk lists (:func:`csresearch.risk.at_risk_list` columns:
    ``account_id, churn_probability, health_score, health_band, health_triggers, top_reasons,
    playbook`` ...). An account alerts when it ``turned red`` (red now, not red before), ``dropped green
    to yellow``, or ``crossed the risk threshold`` (probability at or above the threshold now, below
    it before). Each list's threshold is its ``risk_threshold`` column when it has one (the list's own
    threshold that month), else ``risk_threshold``. Accounts not on the previous list (new customers)
    alert only if red or above the threshold now (``red at first score`` / ``above the risk threshold
    at first score``). Each alert carries its ``trigger`` (the health components that fired and/or the
    model's top reasons) and the list's ``playbook``.
    """
    cols = ["account_id", "alert", "trigger", "playbook", "health_band_before", "health_band",
            "health_score_before", "health_score", "churn_probability_before", "churn_probability"]
    def threshold_of(frame: pd.DataFrame) -> pd.Series:
        if "risk_threshold" in frame:
            return frame["risk_threshold"].astype(float)
        if risk_threshold is None:
            raise ValueError("alerts need a risk_threshold (argument or column)")
        return pd.Series(float(risk_threshold), index=frame.index)

    before = previous[["account_id", "health_band", "health_score", "churn_probability"]].assign(
        risk_threshold=threshold_of(previous)).rename(columns=lambda c: c if c == "account_id" else f"{c}_before")
    merged = current.drop(columns="risk_threshold", errors="ignore").assign(risk_threshold=threshold_of(current))
    merged = merged.merge(before, on="account_id", how="left")
    now_risky = merged["churn_probability"].ge(merged["risk_threshold"])
    known = merged["health_band_before"].notna()
    before_rank = merged["health_band_before"].map(BAND_RANK)
    turned_red = known & merged["health_band"].eq("red") & before_rank.gt(0)
    to_yellow = known & merged["health_band"].eq("yellow") & merged["health_band_before"].eq("green")
    crossed = known & now_risky & merged["churn_probability_before"].lt(merged["risk_threshold_before"])
    first_red = ~known & merged["health_band"].eq("red")
    first_risky = ~known & now_risky
    kinds = [(turned_red, "turned red"), (to_yellow, "dropped green to yellow"),
             (crossed, "crossed the risk threshold"), (first_red, "red at first score"),
             (first_risky, "above the risk threshold at first score")]
    labels = pd.Series([[] for _ in range(len(merged))], index=merged.index)
    for mask, name in kinds:
        labels = labels.where(~mask, labels.map(lambda ls, n=name: ls + [n]))
    merged["alert"] = labels.map("; ".join)
    out = merged[merged["alert"] != ""].copy()
    band_alert = out["alert"].str.contains("red|yellow")
    risk_alert = out["alert"].str.contains("threshold")
    health_text = out.get("health_triggers", pd.Series("", index=out.index)).fillna("").replace("none", "")
    model_text = "model: " + out.get("top_reasons", pd.Series("", index=out.index)).fillna("")
    out["trigger"] = np.where(band_alert & risk_alert & (health_text != ""), health_text + "; " + model_text,
                              np.where(band_alert & (health_text != ""), health_text,
                                       np.where(risk_alert, model_text, "health score fell (no single component red)")))
    out["severity"] = out["alert"].str.contains("red").astype(int) * 2 + risk_alert.astype(int)
    extra = [c for c in ("account_name", "segment", "arr", "arr_at_risk", "touch_tier") if c in out]
    out = out.sort_values(["severity", "arr_at_risk" if "arr_at_risk" in out else "churn_probability"],
                          ascending=[False, False])
    return out[["account_id", *extra, *cols[1:]]].reset_index(drop=True)


def risk_band(frame: pd.DataFrame, top_share: float, max_accounts: int | None = None) -> pd.DataFrame:
    """The top risk band of an at-risk list: ``risk_rank`` (1 = highest churn probability; equal
    probabilities by account id) and ``in_band`` (rank within the top ``top_share`` of the accounts
    with a probability, rounded up, and at most ``max_accounts``). Returned in ``frame``'s order."""
    p = frame["churn_probability"].astype(float)
    scored = frame.loc[p.notna(), ["account_id"]].assign(p=p[p.notna()])
    order = scored.sort_values(["p", "account_id"], ascending=[False, True], kind="stable").index
    rank = pd.Series(np.nan, index=frame.index)
    rank[order] = np.arange(1, len(order) + 1)
    size = int(np.ceil(top_share * len(order)))
    if max_accounts is not None:
        size = min(size, int(max_accounts))
    return pd.DataFrame({"risk_rank": rank, "in_band": rank.le(size)}, index=frame.index)


def band_alerts(current: pd.DataFrame, previous: pd.DataFrame, top_share: float = 0.02,
                max_accounts: int | None = None) -> pd.DataFrame:
    """The postmortem's alert rule: accounts that entered the top risk band since the previous list.

    The band is the ``top_share`` of paying accounts with the highest churn probability (at most
    ``max_accounts``; :func:`risk_band`). An account alerts when it is in the band now and was not
    on the previous list's (``entered the top risk band``), or when it is in the band at its first
    score (``in the top risk band at first score``). A list that already carries ``in_band`` and
    ``risk_rank`` (its band computed over every account) is read as is, so ``current`` may hold
    only some accounts. Health-band changes are shown beside each alert but raise none by
    themselves: on past months they were barely more often followed by a churn than no alert at all
    (see :func:`alert_audit`). Columns as :func:`alerts`, plus ``risk_rank``.
    """
    cols = ["account_id", "alert", "trigger", "playbook", "risk_rank", "health_band_before", "health_band",
            "health_score_before", "health_score", "churn_probability_before", "churn_probability"]

    def banded(frame: pd.DataFrame) -> pd.DataFrame:
        if {"in_band", "risk_rank"} <= set(frame.columns):
            return frame
        return frame.drop(columns=["in_band", "risk_rank"], errors="ignore").join(
            risk_band(frame, top_share, max_accounts))

    before = banded(previous)[["account_id", "health_band", "health_score", "churn_probability", "in_band"]]
    before = before.rename(columns=lambda c: c if c == "account_id" else f"{c}_before")
    merged = banded(current).merge(before, on="account_id", how="left")
    known = merged["in_band_before"].notna()
    in_band = merged["in_band"].astype(bool)
    entered = in_band & known & ~merged["in_band_before"].astype("boolean").fillna(False).astype(bool)
    first = in_band & ~known
    merged["alert"] = np.select([entered, first], ["entered the top risk band", "in the top risk band at first score"],
                                "")
    out = merged[merged["alert"] != ""].copy()
    health_text = out.get("health_triggers", pd.Series("", index=out.index)).fillna("").replace("none", "")
    model_text = "model: " + out.get("top_reasons", pd.Series("", index=out.index)).fillna("")
    out["trigger"] = np.where(health_text != "", model_text + "; " + health_text, model_text)
    extra = [c for c in ("account_name", "segment", "arr", "arr_at_risk", "touch_tier") if c in out]
    out = out.sort_values(["arr_at_risk" if "arr_at_risk" in out else "churn_probability", "risk_rank"],
                          ascending=[False, True], kind="stable")
    return out[["account_id", *extra, *cols[1:]]].reset_index(drop=True)


def alert_audit(checks: Checks, churn_dates: pd.DataFrame, as_of: pd.Timestamp, horizon_days: int = 90,
                top_share: float = 0.02, max_accounts: int | None = None) -> tuple[pd.DataFrame, dict]:
    """How often each alert rule's alerts were false on the past months whose horizon has passed.

    For every check whose ``horizon_days`` window closed by ``as_of`` (and the check before it, both
    with a risk model), the alerts each rule would have raised then, from the checks alone: the band
    rule (:func:`band_alerts`) and the previous health-or-threshold rule (:func:`alerts`). An alert is
    borne out when the account churned within ``horizon_days`` of the check (``[check, check +
    horizon)``, the risk model's own label), else it is a false alarm (a save by a CSM counts as one
    too). Returns one row per month and rule (``month, rule, alerts, churned, paying``) and a summary
    per rule (``alerts, churned, false_alarms, false_alarm_rate`` with its Wilson 95% CI, ``months``,
    and ``base_rate``: the share of all paying accounts that churned within the horizon).
    """
    as_of = pd.Timestamp(as_of)
    horizon = pd.Timedelta(days=int(horizon_days))
    dates = sorted(checks.models)
    rows = []
    for before, when in zip(dates, dates[1:]):
        if when + horizon > as_of + pd.Timedelta(days=1):
            continue
        now, prev = checked_list(checks, when), checked_list(checks, before)
        churned_ids = set(churn_dates.loc[(churn_dates["churn_date"] >= when)
                                          & (churn_dates["churn_date"] < when + horizon), "account_id"])
        month = (when - pd.Timedelta(days=1)).to_period("M")
        paying_churned = int(now["account_id"].isin(churned_ids).sum())
        for rule, table in (("band", band_alerts(now.assign(playbook=""), prev, top_share, max_accounts)),
                            ("previous", alerts(now.assign(playbook=""), prev))):
            rows.append({"month": month, "rule": rule, "alerts": int(len(table)),
                         "churned": int(table["account_id"].isin(churned_ids).sum()),
                         "paying": int(len(now)), "paying_churned": paying_churned})
    table = pd.DataFrame(rows, columns=["month", "rule", "alerts", "churned", "paying", "paying_churned"])
    summary = {}
    for rule in ("band", "previous"):
        part = table[table["rule"] == rule]
        n, hit = int(part["alerts"].sum()), int(part["churned"].sum())
        rate, low, high = wilson(n - hit, n)
        summary[rule] = {"months": int(len(part)), "alerts": n, "churned": hit, "false_alarms": n - hit,
                         "false_alarm_rate": rate, "false_alarm_low": low, "false_alarm_high": high,
                         "alerts_per_month": n / len(part) if len(part) else float("nan"),
                         "base_rate": (part["paying_churned"].sum() / part["paying"].sum()) if len(part) else float("nan"),
                         "first_month": str(part["month"].min()) if len(part) else None,
                         "last_month": str(part["month"].max()) if len(part) else None}
    return table, summary


def previous_list_from_run(output_dir: str | Path | None, month: pd.Period,
                           notebook: str = "03_churn_drivers") -> Path | None:
    """The previous month's at-risk list written by an earlier run, if one exists: the CSV named
    ``at_risk*.csv`` in ``<reports>/<previous month>/<notebook>/`` (``output_dir`` is this report's
    own folder, ``<reports>/<month or its staging folder>/05_churn_postmortem``)."""
    if not output_dir:
        return None
    reports = Path(output_dir).resolve().parent.parent
    folder = reports / str(pd.Period(month, "M") - 1) / notebook
    found = sorted(folder.glob("at_risk*.csv")) if folder.is_dir() else []
    return found[0] if found else None


def read_previous_list(path: Path) -> pd.DataFrame | None:
    """An earlier run's at-risk list, if it has the columns an alert needs (else None: recompute)."""
    frame = pd.read_csv(path)
    needed = {"account_id", "health_band", "health_score", "churn_probability"}
    return frame if needed <= set(frame.columns) else None


def checked_list(checks: Checks, when: pd.Timestamp) -> pd.DataFrame | None:
    """The columns of an at-risk list that an alert compares (``account_id, health_band, health_score,
    churn_probability, risk_threshold``) for every account checked at ``when``, as the check saw them:
    the same numbers :func:`csresearch.risk.at_risk_list` gives with that check's model (probability
    rounded as the list rounds it). None when no risk model stood at that check."""
    when = pd.Timestamp(when)
    if when not in checks.models:
        return None
    rows = checks.scores[checks.scores["observation_date"] == when]
    out = rows[["account_id", "health_band", "health_score", "churn_probability", "risk_threshold"]].copy()
    out["churn_probability"] = out["churn_probability"].round(4)
    return out.reset_index(drop=True)


def month_alerts(ds: Dataset, checks: Checks, month: pd.Period, horizon_days: int, config,
                 names: pd.Series | None = None, previous_list: pd.DataFrame | None = None,
                 top_share: float | None = 0.02, max_accounts: int | None = None
                 ) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """This month's alerts: ``(current, previous, alerts)``.

    ``top_share`` set: the band rule (:func:`band_alerts`: entered the top ``top_share`` of accounts by
    churn probability, at most ``max_accounts``); None: the previous rule (:func:`alerts`: turned red,
    green to yellow, crossed the risk threshold). Which accounts alert follows from the checks alone
    (band, probability and threshold at this month's and the previous month's check, or
    ``previous_list`` from an earlier run); the at-risk list's full rows
    (:func:`csresearch.risk.at_risk_list`: reasons, playbook, ARR) are built only for the accounts
    that alert, so ``current`` holds those rows. The alerts are the ones the full lists would give:
    every alert column is computed row by row, and the band over every account checked.
    """
    from .core import risk

    def rule(current: pd.DataFrame, previous: pd.DataFrame) -> pd.DataFrame:
        if top_share is None:
            return alerts(current, previous)
        return band_alerts(current, previous, top_share, max_accounts)

    month = pd.Period(month, "M")
    T = pd.Timestamp(month.to_timestamp(how="start") + pd.offsets.MonthBegin(1))
    T_prev = pd.Timestamp((month - 1).to_timestamp(how="start") + pd.offsets.MonthBegin(1))
    thr_now, thr_before = checks.thresholds.get(T), checks.thresholds.get(T_prev)
    prev_list = previous_list
    if prev_list is None:
        prev_list = checked_list(checks, T_prev)
    if prev_list is None:  # no model at last month's check: the list fits its own, as the drivers report would
        prev_list = risk.at_risk_list(ds, month - 1, horizon_days, health_config=config, frame=checks.frame,
                                         model=checks.models.get(T_prev), display_names=names,
                                         risk_threshold=thr_before)
    if "risk_threshold" not in prev_list:
        prev_list = prev_list.assign(risk_threshold=thr_before)
    frame = checks.frame
    now = checked_list(checks, T)
    if now is not None:
        if top_share is not None:
            now = now.join(risk_band(now, top_share, max_accounts))
        which = rule(now.assign(playbook=""), prev_list)  # who alerts: band and probability suffice
        if which.empty:
            return now.iloc[0:0], prev_list, which
        frame = frame[(frame["observation_date"] == T) & frame["account_id"].isin(set(which["account_id"]))]
    current = risk.at_risk_list(ds, month, horizon_days, health_config=config, frame=frame,
                                   model=checks.models.get(T), display_names=names,
                                   risk_threshold=thr_now).assign(risk_threshold=thr_now)
    if now is not None and top_share is not None:
        current = current.merge(now[["account_id", "risk_rank", "in_band"]], on="account_id", how="left")
    return current, prev_list, rule(current, prev_list)


# --------------------------------------------------------------------------------------------------
# How the churned accounts differed from their retained look-alikes
# --------------------------------------------------------------------------------------------------
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


# --------------------------------------------------------------------------------------------------
# Roll-up and lessons
# --------------------------------------------------------------------------------------------------
def rollup(churns: pd.DataFrame, audit: pd.DataFrame, month: pd.Period, months: int = 6) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The last ``months`` months up to ``month``: churns and ARR lost by reason per month, and the
    share of (checked) churns never flagged per month with its Wilson 95% CI."""
    month = pd.Period(month, "M")
    first = month - (months - 1)
    frame = churns.assign(month=churns["churn_month"] if "churn_month" in churns else churns["churn_date"].dt.to_period("M"))
    frame = frame[(frame["month"] >= first) & (frame["month"] <= month)]
    by_reason = frame.groupby(["month", "reason"], as_index=False).agg(churns=("account_id", "size"),
                                                                      arr_lost=("arr_lost", "sum"))
    judged = audit[audit["outcome"].isin(["caught", "missed"])]
    judged = judged.assign(month=judged["churn_month"] if "churn_month" in judged else judged["churn_date"].dt.to_period("M"))
    rows = []
    for m in pd.period_range(first, month, freq="M"):
        part = judged[judged["month"] == m]
        share, low, high = wilson(int((part["outcome"] == "missed").sum()), len(part))
        rows.append({"month": m, "checked_churns": len(part), "missed": int((part["outcome"] == "missed").sum()),
                     "missed_share": share, "missed_low": low, "missed_high": high})
    return by_reason, pd.DataFrame(rows)


def resolve_playbook(key: str | None, config, reason_playbooks: Mapping[str, str] | None = None) -> str:
    """A playbook text from a churn reason or a health component name: ``reason_playbooks`` maps a
    reason to a component name (its playbook in the health config) or to a playbook text."""
    reason_playbooks = reason_playbooks or {}
    target = reason_playbooks.get(key, key) if key is not None else None
    for component in getattr(config, "components", ()):
        if component.name == target:
            return component.playbook
    if target is not None and target != key:
        return str(target)
    return "No playbook mapped: add this reason to reason_playbooks in params/05_churn_postmortem.yml."


def _p(p: float) -> str:
    return "p < 0.001" if p < 0.001 else f"p = {p:.3f}"






def lessons(pareto: pd.DataFrame, audit_summary: Mapping, missed: pd.DataFrame, audit: pd.DataFrame,
            contrast: pd.DataFrame, false_alarm: Mapping, config, reason_playbooks: Mapping[str, str] | None = None,
            alpha: float = 0.05) -> pd.DataFrame:
    """Findings generated from the numbers, each with the playbook it points to and an empty
    ``owner`` to fill in at the review meeting."""
    rows: list[dict] = []
    recorded = pareto[pareto.iloc[:, 0] != NOT_RECORDED] if not pareto.empty else pareto
    if not recorded.empty:
        top = recorded.iloc[0]
        rows.append({"finding": f"'{_words(top.iloc[0])}' is the costliest churn reason",
                     "evidence": f"{_money(top['arr_lost'])} ARR ({_pct(top['arr_share'])} of ARR lost), "
                                 f"{int(top['churns'])} churn(s)",
                     "playbook": resolve_playbook(top.iloc[0], config, reason_playbooks)})
    checked = audit_summary.get("checked", 0)
    if checked:
        caught_first = audit[audit["outcome"] == "caught"]
        common = caught_first["first_playbook"].dropna()
        playbook = common.mode().iloc[0] if len(common) else getattr(config, "default_playbook", "")
        late = int((caught_first["lead_days"] < 30).sum())
        rows.append({
            "finding": (f"The warnings caught {_pct(audit_summary['detection_rate'])} of churns"
                        + (f", a median {audit_summary['median_lead_days']:.0f} days ahead"
                           if audit_summary.get("caught") else "")),
            "evidence": (f"{audit_summary['caught']} of {checked} checked churns flagged "
                         f"(95% CI {_pct(audit_summary['detection_low'])}-{_pct(audit_summary['detection_high'])}); "
                         f"{late} flagged less than 30 days ahead"),
            "playbook": playbook,
        })
    if audit_summary.get("missed"):
        missed_reasons = audit.loc[audit["outcome"] == "missed", "reason"].replace(NOT_RECORDED, np.nan).dropna()
        top_reason = missed_reasons.mode().iloc[0] if len(missed_reasons) else None
        significant = missed[missed["p_holm"] < alpha] if not missed.empty else missed
        if len(significant):
            s = significant.iloc[0]
            rows.append({"finding": f"Missed churns were concentrated in {s['attribute'].replace('_', ' ')} = {_words(s['value'])}",
                         "evidence": f"{_pct(s['share_of_missed'])} of missed vs {_pct(s['share_of_caught'])} of caught "
                                     f"churns (Holm-adjusted {_p(s['p_holm'])})",
                         "playbook": "Score review: add or retune a health component for these accounts "
                                     "(params/health_score.yml); " + resolve_playbook(top_reason, config, reason_playbooks)})
        else:
            rows.append({"finding": f"{audit_summary['missed']} churn(s) were never flagged, with no shared trait that stands out",
                         "evidence": "no segment, plan, tenure, size or reason differs between missed and caught churns "
                                     f"after Holm correction (alpha {alpha})"
                                     + (f"; most common reason among them: {_words(top_reason)}" if top_reason else ""),
                         "playbook": resolve_playbook(top_reason, config, reason_playbooks) if top_reason
                         else getattr(config, "default_playbook", "")})
    if not contrast.empty:
        usage = contrast[contrast["metric"].isin(["events_per_seat", "usage_trend", "active_users_per_seat"])]
        usage = usage.dropna(subset=["paired_difference"])
        if len(usage):
            u = usage.sort_values("p_holm", na_position="last").iloc[0]
            sig = pd.notna(u["p_holm"]) and u["p_holm"] < alpha
            rows.append({"finding": f"Before churning, {u['label']} was {'lower' if u['paired_difference'] < 0 else 'higher'} "
                                    "than at retained look-alikes" + ("" if sig else " (not significant)"),
                         "evidence": f"median paired difference {u['paired_difference']:.2f} ("
                                     + (f"95% CI {u['difference_low']:.2f} to {u['difference_high']:.2f}, "
                                        if pd.notna(u["difference_low"]) else "")
                                     + f"{int(u['pairs'])} pair(s)"
                                     + (f", Holm {_p(u['p_holm'])})" if pd.notna(u["p_holm"]) else ")"),
                         "playbook": resolve_playbook("usage_decline", config)})
    if false_alarm.get("flagged_accounts"):
        rows.append({"finding": f"{_pct(false_alarm['false_alarm_rate'])} of flagged accounts stayed for "
                                f"{false_alarm['horizon_days']} days",
                     "evidence": f"{false_alarm['stayed']} of {false_alarm['flagged_accounts']} accounts first flagged "
                                 f"{false_alarm['window_start']} to {false_alarm['window_end']} "
                                 f"(95% CI {_pct(false_alarm['false_alarm_low'])}-{_pct(false_alarm['false_alarm_high'])}); "
                                 "saves by CSMs count here too",
                     "playbook": "Threshold review: if CSMs cannot work every alert, raise the risk threshold or the red "
                                 "band (params) and watch the detection rate above."})
    table = pd.DataFrame(rows, columns=["finding", "evidence", "playbook"])
    table["owner"] = ""
    return table


def _words(value) -> str:
    return str(value).replace("_", " ")


# --------------------------------------------------------------------------------------------------
# Generated sentences
# --------------------------------------------------------------------------------------------------
def _date(value) -> str:
    return pd.Timestamp(value).strftime("%-d %b %Y")


def month_headline(month: pd.Period, churned: pd.DataFrame, pareto: pd.DataFrame, summary: Mapping,
                   new_alerts: int | None, severe_alerts: int | None = None) -> str:
    """The month review's first sentence: churns and ARR lost, the costliest reason, how many the
    warnings caught and how early, and the new alerts."""
    name = pd.Period(month, "M").strftime("%B %Y")
    alert_text = ""
    if new_alerts is not None and severe_alerts is not None:
        alert_text = (f"; {severe_alerts:,} paying account{'s' if severe_alerts != 1 else ''} turned red or crossed "
                      f"the risk threshold this month ({new_alerts:,} alert{'s' if new_alerts != 1 else ''} in all)")
    elif new_alerts is not None:
        alert_text = f"; {new_alerts:,} paying account{'s' if new_alerts != 1 else ''} raised a new alert this month"
    if churned.empty:
        return f"No account churned in {name}{alert_text}."
    n, arr = len(churned), float(churned["arr_lost"].sum())
    text = f"{n:,} account{'s' if n != 1 else ''} churned in {name}, taking {_money(arr)} ARR"
    recorded = pareto[pareto["reason"] != NOT_RECORDED] if not pareto.empty else pareto
    if len(recorded):
        top = recorded.iloc[0]
        text += f"; '{_words(top['reason'])}' cost the most ({_pct(top['arr_share'])} of ARR lost)"
    if summary.get("checked"):
        text += (f". The health score or risk list flagged {summary['caught']} of {summary['checked']} "
                 f"({_pct(summary['detection_rate'])}, 95% CI {_pct(summary['detection_low'])}-"
                 f"{_pct(summary['detection_high'])})")
        if summary.get("caught"):
            text += f" a median {summary['median_lead_days']:.0f} days before they left"
    return text + alert_text + "."


def account_sentence(row: Mapping, audit_row: Mapping | None, lookback_months: int) -> str:
    """One sentence per reviewed account: what happened, why, and whether we saw it coming."""
    label = row.get("account_name") or row["account_id"]
    label = f"{label} ({row['account_id']})" if label != row["account_id"] else label
    status = row.get("status", "churned")
    if status == "never paid":
        return f"{label} never had a paying subscription up to the report month: there is no churn to review."
    if status == "active":
        return (f"{label} has not churned: it is still paying {_money(float(row.get('current_mrr') or 0))} MRR "
                f"after {row['tenure_months']:.0f} months.")
    reason = row.get("reason")
    why = f" (reason: {_words(reason)}" + (f", to {row['competitor']}" if row.get("competitor") else "") + ")" \
        if reason and reason != NOT_RECORDED else " (no cancellation reason recorded)"
    text = (f"{label} churned on {_date(row['churn_date'])} after {row['tenure_months']:.0f} months, taking "
            f"{_money(float(row['arr_lost']))} ARR{why}")
    if audit_row is None or audit_row.get("outcome") == "not checked":
        return text + "; no monthly check fell before its churn, so no warning could be judged."
    if audit_row.get("outcome") == "caught":
        return (text + f"; first flagged {int(audit_row['lead_days'])} days before "
                f"({_date(audit_row['first_flagged'])}, by the {audit_row['flagged_by']}).")
    return text + f"; never flagged by the health score or the risk list in the {lookback_months} months before."


def accounts_headline(churned: pd.DataFrame, audit: pd.DataFrame, lookback_months: int) -> str:
    """The account review's first sentence (one account: its story; several: the tally)."""
    audit_of = audit.set_index(["account_id", "churn_date"]) if len(audit) else None
    def audit_row(r):
        if audit_of is None or pd.isna(r["churn_date"]) or (r["account_id"], r["churn_date"]) not in audit_of.index:
            return None
        return audit_of.loc[(r["account_id"], r["churn_date"])].to_dict()
    if len(churned) == 1:
        row = churned.iloc[0].to_dict()
        return account_sentence(row, audit_row(row), lookback_months)
    gone = churned[churned["status"] == "churned"]
    caught = sum(1 for _, r in gone.iterrows() if (audit_row(r) or {}).get("outcome") == "caught")
    return (f"{len(churned)} accounts reviewed: {len(gone)} churned, taking {_money(float(gone['arr_lost'].sum()))} "
            f"ARR; {caught} of {len(gone)} were flagged before they left.")


# --------------------------------------------------------------------------------------------------
# The whole review
# --------------------------------------------------------------------------------------------------
@dataclass
class Settings:
    """The review's parameters (``params/05_churn_postmortem.yml`` and the shared conventions)."""

    lookback_months: int = 6
    rollup_months: int = 6
    horizon_days: int = 90
    risk_threshold: float | None = None
    refit_months: int = 6
    training_months: int = 9
    comparables_per_account: int = 3
    retained_days: int = 90
    comment_themes: int = 5
    key_event_count: int = 3
    reason_match_days: int = 45
    account_health_every_days: int = 7
    reactivation_window_days: int = 0
    count_same_month_churn: bool = True
    churn_convention: str = "month_end"
    value_milestone: str = "first_value"
    reason_playbooks: Mapping[str, str] | None = None
    max_train_rows: int | None = 100_000
    alert_top_share: float | None = 0.02
    alert_max_accounts: int | None = None


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


@dataclass
class Review:
    """Everything a postmortem shows, computed once (see :func:`build_review`)."""

    month: pd.Period
    account_ids: list[str] | None
    settings: Settings
    config: object
    churns: pd.DataFrame            # every churn up to the month end, with reasons
    churned: pd.DataFrame           # the churn list of this review
    pareto: pd.DataFrame
    by_segment: pd.DataFrame
    themes: Themes
    checks: Checks
    audit: pd.DataFrame             # churns of the roll-up window (and reviewed accounts)
    audit_summary: dict             # this review's churns
    audit_summary_all: dict         # the whole roll-up window
    missed: pd.DataFrame
    false_alarm: dict
    key_events: list[str]
    weekly: pd.DataFrame
    events: dict
    mrr: pd.DataFrame
    health: pd.DataFrame
    window: tuple[pd.Timestamp, pd.Timestamp]
    pairs: pd.DataFrame
    aligned: pd.DataFrame
    contrast: pd.DataFrame
    current_list: pd.DataFrame | None
    previous_list: pd.DataFrame | None
    previous_source: str
    alerts: pd.DataFrame | None
    lessons: pd.DataFrame
    rollup_reasons: pd.DataFrame
    rollup_missed: pd.DataFrame
    notes: list[str]
    alert_rule_audit: pd.DataFrame | None = None   # past months: alerts and churns per rule
    alert_rule_summary: dict = field(default_factory=dict)

    @property
    def is_month(self) -> bool:
        return self.account_ids is None

    @property
    def as_of(self) -> pd.Timestamp:
        return month_end(self.month)

    def headline(self) -> str:
        if self.is_month:
            n = severe = None
            if self.alerts is not None:
                n = len(self.alerts)
                if self.settings.alert_top_share is None:  # the previous rule: its severe kinds
                    severe = int(self.alerts["alert"].str.contains("red|threshold").sum())
            return month_headline(self.month, self.churned, self.pareto, self.audit_summary, n, severe)
        return accounts_headline(self.churned, self.audit, self.settings.lookback_months)

    def review_audit(self) -> pd.DataFrame:
        """The audit rows of this review's churns."""
        keys = self.churned.loc[self.churned["churn_date"].notna(), ["account_id", "churn_date"]]
        return self.audit.merge(keys, on=["account_id", "churn_date"])

    def label(self, account_id: str) -> str:
        row = self.churned.set_index("account_id").get("account_name", pd.Series(dtype=object)).get(account_id)
        return f"{row} ({account_id})" if isinstance(row, str) and row and row != account_id else account_id

    def key_event_usage(self) -> pd.DataFrame:
        """Weekly key-event total per reviewed account: ``account_id, week, value``."""
        usage = self.weekly[self.weekly["metric"] != "active users"]
        return usage.groupby(["account_id", "week"], as_index=False)["value"].sum()

    def small_multiples_data(self, max_panels: int = 24) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
        """Panels (largest ARR lost first, at most ``max_panels``), weekly key-event usage, health flags."""
        audit = self.review_audit()[["account_id", "churn_date", "first_flagged"]]
        panels = self.churned[self.churned["status"] == "churned"].merge(audit, on=["account_id", "churn_date"], how="left")
        panels = panels.head(max_panels)
        panels = panels.assign(label=[f"{self.label(a)} · {_money(v)} ARR" for a, v in
                                      zip(panels["account_id"], panels["arr_lost"])])
        return panels[["account_id", "label", "churn_date", "first_flagged"]], self.key_event_usage(), self.health

    def page_data(self, account_id: str) -> dict:
        """Keyword arguments of :func:`csresearch.plots.postmortem.account_page` for one account."""
        row = self.churned.set_index("account_id").loc[account_id]
        audit = self.review_audit().set_index("account_id")
        first = audit["first_flagged"].get(account_id) if account_id in audit.index else pd.NaT
        events = {k: (None if v is None else v[v["account_id"] == account_id]) for k, v in self.events.items()}
        status = "" if row["status"] == "churned" else f" · {row['status']}"
        reason = f" · reason: {_words(row['reason'])}" if row.get("reason") not in (None, NOT_RECORDED) else ""
        value = f"{_money(float(row['arr_lost']))} ARR lost" if row["status"] == "churned" else ""
        mrr = self.mrr[self.mrr["account_id"] == account_id][["month_end", "mrr"]]
        if pd.notna(row["churn_date"]):  # month-end MRR would carry the last month past the churn: end it there
            mrr = pd.concat([mrr[mrr["month_end"] < row["churn_date"]],
                             pd.DataFrame({"month_end": [row["churn_date"]], "mrr": [0.0]})], ignore_index=True)
        return {
            "label": f"{self.label(account_id)}{status} · {value}{reason}".replace(" ·  ·", " ·").strip(" ·"),
            "mrr": mrr,
            "weekly": self.weekly[self.weekly["account_id"] == account_id],
            "events": events,
            "health": self.health[self.health["account_id"] == account_id],
            "churn_date": row["churn_date"], "first_flagged": first,
            "start": self.window[0], "end": self.window[1],
        }

    def scope_text(self) -> str:
        if self.is_month:
            return f"in {self.month.strftime('%B %Y')}"
        return "of the reviewed account(s)"

    def window_text(self) -> str:
        first = self.month - (self.settings.rollup_months - 1)
        return f"over the {self.settings.rollup_months} months {first.strftime('%b %Y')}-{self.month.strftime('%b %Y')}"

    def audit_table(self) -> pd.DataFrame:
        """The early-warning audit as published (``warning_audit.csv``): one row per churn audited."""
        cols = ["account_id", "account_name", "churn_date", "churn_month", "in_review", "outcome", "checks",
                "first_flagged", "lead_days", "flagged_by", "first_trigger", "first_playbook", "flagged_since",
                "standing_lead_days", "arr_lost", "tenure_months", "tenure_band", "size_band", "segment", "plan",
                "reason"]
        out = self.audit[[c for c in cols if c in self.audit]].copy()
        out["tenure_months"] = out["tenure_months"].round(1)
        return out.sort_values(["churn_date", "account_id"], ascending=[False, True]).reset_index(drop=True)

    def alerts_table(self) -> pd.DataFrame:
        """The alerts as published (``alerts.csv``)."""
        cols = ["account_id", "account_name", "segment", "arr", "alert", "risk_rank", "trigger", "playbook",
                "health_band_before",
                "health_band", "health_score_before", "health_score", "churn_probability_before", "churn_probability",
                "touch_tier"]
        if self.alerts is None:
            return pd.DataFrame(columns=cols)
        return self.alerts[[c for c in cols if c in self.alerts]].reset_index(drop=True)

    def churn_list(self) -> pd.DataFrame:
        """The churn list as published (``churned_accounts.csv``)."""
        cols = ["account_id", "account_name", "status", "churn_date", "arr_lost", "tenure_months", "segment", "plan",
                "reason", "sub_reason", "competitor", "comment"]
        out = self.churned[[c for c in cols if c in self.churned]].copy()
        audit = self.review_audit()[["account_id", "churn_date", "outcome", "first_flagged", "lead_days", "flagged_by"]]
        out = out.merge(audit, on=["account_id", "churn_date"], how="left")
        theme = self.themes.assignments.drop_duplicates("account_id").set_index("account_id")["theme"]
        out["comment_theme"] = out["account_id"].map(theme)
        out["tenure_months"] = out["tenure_months"].round(1)
        return out


def build_review(ds: Dataset, month: pd.Period | str, account_ids=None, settings: Settings | None = None,
                 health_config=None, names: pd.Series | None = None, previous_list: pd.DataFrame | None = None,
                 previous_source: str | None = None) -> Review:
    """Compute a postmortem: a month's churns (``account_ids`` None) or a few accounts' story.

    ``names``: display names by account id (pseudonyms when the report pseudonymises). ``previous_list``:
    the previous month's at-risk list from an earlier run, if any (otherwise recomputed as of then).
    """
    from .core import health
    from .core.revenue import account_month_mrr

    s = settings or Settings()
    month = pd.Period(month, "M")
    ids = parse_account_ids(account_ids)
    as_of = month_end(month)
    config = health_config if isinstance(health_config, health.HealthConfig) else health.load_health_config(health_config)
    notes: list[str] = []
    for table, what in (("churn_reasons", "churn reasons, competitors and comments"),
                        ("usage_events", "usage timelines and usage comparisons"),
                        ("support_tickets", "ticket timelines"), ("surveys", "NPS timelines"),
                        ("cs_activities", "CSM activity timelines")):
        if not ds.has(table):
            notes.append(f"no `{table}` table: {what} skipped")

    # the churn list and every churn (for the roll-up and the audit)
    if ids is not None:
        check_accounts(ds, ids)
    churns = all_churns(ds, as_of, s.reactivation_window_days, s.count_same_month_churn)
    churned = churned_accounts(ds, month, ids, s.reactivation_window_days, s.count_same_month_churn,
                               s.reason_match_days, churns=churns, churn_convention=s.churn_convention)
    all_c = attach_reasons(churns, ds, s.reason_match_days)
    all_c["churn_month"] = churn_month(all_c["churn_date"], s.churn_convention)
    if names is not None:
        for frame in (churned, all_c):
            frame["account_name"] = frame["account_id"].map(names)
    pareto = reasons_pareto(churned[churned["status"] == "churned"])
    by_segment = reasons_by_segment(churned[churned["status"] == "churned"])
    themes = comment_themes(churned[["account_id", "comment"]], s.comment_themes) if "comment" in churned else \
        comment_themes(pd.DataFrame(columns=["account_id", "comment"]))

    # checks: far enough back for every audited churn's look-back
    first_rollup = month - (s.rollup_months - 1)
    oldest = first_rollup.to_timestamp()
    reviewed_churns = churned.loc[churned["churn_date"].notna(), "churn_date"]
    if len(reviewed_churns):
        oldest = min(oldest, reviewed_churns.min())
    months_back = (month - (oldest.to_period("M") - s.lookback_months)).n
    checks = run_checks(ds, month, config, months_back=months_back, horizon_days=s.horizon_days,
                        risk_threshold=s.risk_threshold, refit_months=s.refit_months,
                        training_months=s.training_months, reactivation_window_days=s.reactivation_window_days,
                        value_milestone=s.value_milestone, max_train_rows=s.max_train_rows)
    flags = checks.scores

    # timelines of the reviewed accounts
    lookback = pd.DateOffset(months=s.lookback_months)
    reviewed = churned["account_id"].tolist()
    ends = churned["churn_date"].fillna(as_of)
    start = (ends.min() - lookback) if len(churned) else as_of - lookback
    end = min(ends.max() + pd.Timedelta(days=14), as_of) if len(churned) else as_of
    key = key_events(ds, s.key_event_count, as_of)
    weekly = weekly_activity(ds, reviewed, start, end, key)
    events = account_events(ds, reviewed, start, end)
    subs = ds.table("subscriptions")
    mine = subs[subs["account_id"].isin(reviewed)]
    mrr = account_month_mrr(mine, start.to_period("M"), end.to_period("M")) if len(mine) else \
        pd.DataFrame(columns=["account_id", "month", "month_end", "mrr"])
    if ids is not None and s.account_health_every_days:
        health = health_timeline(ds, reviewed, start, end, config, s.account_health_every_days, s.value_milestone)
        fine = health.merge(flags[["account_id", "observation_date", "churn_probability", "risk_threshold"]],
                            on=["account_id", "observation_date"], how="left")
        fine["flagged"] = fine["health_band"].eq("red") | fine["churn_probability"].ge(fine["risk_threshold"])
        fine["source"] = np.where(fine["health_band"].eq("red"), "health score", "risk list")
        fine["trigger"] = fine["triggered"]
        risk_only = flags[flags["account_id"].isin(reviewed) & flags["churn_probability"].ge(flags["risk_threshold"])
                          & ~flags["health_band"].eq("red")]
        health = pd.concat([fine, risk_only[fine.columns.intersection(risk_only.columns)]], ignore_index=True)
        health = health.sort_values(["account_id", "observation_date"]).reset_index(drop=True)
        flags = pd.concat([flags[~flags["account_id"].isin(reviewed)], health], ignore_index=True)
    else:
        health = flags[flags["account_id"].isin(reviewed)].reset_index(drop=True)

    # the early-warning audit over the roll-up window (plus the reviewed accounts' churns)
    in_window = all_c[(all_c["churn_month"] >= first_rollup) & (all_c["churn_month"] <= month)]
    extra = churned[churned["churn_date"].notna()][["account_id", "churn_date"]].merge(all_c, on=["account_id", "churn_date"])
    audited = pd.concat([in_window, extra], ignore_index=True).drop_duplicates(["account_id", "churn_date"])
    audited = audited.assign(size_band=size_band(audited["arr_lost"]))
    audit = warning_audit(audited, flags, lookback_days=int(s.lookback_months * DAYS_PER_MONTH))
    keys = churned.loc[churned["churn_date"].notna(), ["account_id", "churn_date"]]
    review_rows = audit.merge(keys, on=["account_id", "churn_date"])
    audit["in_review"] = audit.set_index(["account_id", "churn_date"]).index.isin(
        keys.set_index(["account_id", "churn_date"]).index)
    audit_summary = lead_time_summary(review_rows)
    audit_summary_all = lead_time_summary(audit)
    missed = missed_profile(audit)
    false_alarm, _ = false_alarms(checks.scores, all_c[["account_id", "churn_date"]], as_of + pd.Timedelta(days=1),
                                  horizon_days=s.horizon_days,
                                  window_days=int(s.rollup_months * DAYS_PER_MONTH))

    # comparable retained accounts and how they differed
    pairs = comparables(ds, churned[churned["status"] == "churned"], as_of, s.comparables_per_account,
                        s.retained_days, s.reactivation_window_days)
    aligned = pd.DataFrame(columns=["account_id", "ref_date", "week", "events", "active_users", "index", "group"])
    if len(pairs):
        churned_refs = pairs[["account_id", "ref_date"]].drop_duplicates()
        comp_refs = pairs[["comparable_id", "ref_date"]].rename(columns={"comparable_id": "account_id"}).drop_duplicates()
        both = pd.concat([churned_refs.assign(group="churned"), comp_refs.assign(group="retained look-alikes")])
        got = aligned_usage(ds, both, weeks=26, events=key)
        if len(got):
            aligned = got.merge(both, on=["account_id", "ref_date"])
    seen = last_check_before(checks.scores, pairs, checks.frame)
    contrast = trajectory_contrast(seen)

    # alerts going forward: this month's at-risk list against the previous month's
    source = previous_source or "recomputed as of the previous month (no earlier run found)"
    current_list = prev_list = alerts_table = None
    try:
        current_list, prev_list, alerts_table = month_alerts(ds, checks, month, s.horizon_days, config, names,
                                                             previous_list, s.alert_top_share, s.alert_max_accounts)
    except ValueError as exc:  # e.g. too little history to fit the risk model
        notes.append(f"alerts skipped: {exc}")
    rule_audit, rule_summary = alert_audit(checks, all_c[["account_id", "churn_date"]], as_of, s.horizon_days,
                                           s.alert_top_share or 0.02, s.alert_max_accounts)
    T = pd.Timestamp(month.to_timestamp(how="start") + pd.offsets.MonthBegin(1))
    now = checked_list(checks, T)
    if now is not None and s.alert_top_share is not None:
        band = risk_band(now, s.alert_top_share, s.alert_max_accounts)
        inside = now.loc[band["in_band"], "churn_probability"]
        rule_summary["this_month"] = {"paying": int(now["churn_probability"].notna().sum()),
                                      "band": int(len(inside)),
                                      "min_probability": float(inside.min()) if len(inside) else float("nan")}

    lesson_table = lessons(pareto, audit_summary_all, missed, audit, contrast, false_alarm, config,
                           s.reason_playbooks)
    roll_reasons, roll_missed = rollup(all_c, audit, month, s.rollup_months)
    return Review(month, ids, s, config, all_c, churned, pareto, by_segment, themes, checks, audit, audit_summary,
                  audit_summary_all, missed, false_alarm, key, weekly, events, mrr, health, (start, end), pairs,
                  aligned, contrast, current_list, prev_list, source, alerts_table, lesson_table, roll_reasons,
                  roll_missed, notes, rule_audit, rule_summary)



def names_by_id(nb, ds: Dataset) -> pd.Series:
    """Display names (pseudonyms when the report pseudonymises) indexed by account id."""
    accounts = ds.table("accounts")
    return pd.Series(nb.display_names(accounts).to_numpy(), index=accounts["account_id"].to_numpy())


def earlier_run_list(output_dir: str | Path | None, month: pd.Period) -> tuple[pd.DataFrame | None, str | None]:
    """The previous month's at-risk list from an earlier run, and where it came from (None, None if
    there is no usable earlier run: the list is then recomputed as of the previous month)."""
    path = previous_list_from_run(output_dir, month)
    if path is None:
        return None, None
    frame = read_previous_list(path)
    if frame is None:
        return None, None
    return frame, f"the earlier run's list ({path.parent.parent.name}/{path.parent.name}/{path.name})"


# --------------------------------------------------------------------------------------------------
# Generated section sentences
# --------------------------------------------------------------------------------------------------
def churn_list_sentence(churned: pd.DataFrame) -> str:
    gone = churned[churned["status"] == "churned"]
    if gone.empty:
        return "No churn to list."
    seg = gone["segment"].fillna("unknown").value_counts()
    parts = ", ".join(f"{n} {s}" for s, n in seg.items())
    competitor = gone["competitor"].notna().sum() if "competitor" in gone else 0
    return (f"{len(gone)} churn(s), {_money(float(gone['arr_lost'].sum()))} ARR lost in total ({parts}); median "
            f"tenure {gone['tenure_months'].median():.0f} months; the largest single loss was "
            f"{_money(float(gone['arr_lost'].max()))}."
            + (f" {competitor} left for a named competitor." if competitor else ""))


def reasons_sentence(pareto: pd.DataFrame) -> str:
    if pareto.empty:
        return "No churn, so no reasons to rank."
    top = pareto.sort_values("arr_lost", ascending=False)
    needed = int((top["cum_arr_share"] < 0.8).sum()) + 1
    named = ", ".join(_words(r) for r in top["reason"].head(needed))
    by_count = pareto.sort_values(["churns", "arr_lost"], ascending=False).iloc[0]
    unknown = pareto.loc[pareto["reason"] == NOT_RECORDED, "churns"].sum()
    text = (f"{needed} reason(s) account for at least 80% of the ARR lost: {named}. By number of accounts, "
            f"'{_words(by_count['reason'])}' leads ({int(by_count['churns'])} of {int(pareto['churns'].sum())}).")
    if unknown:
        text += f" {int(unknown)} churn(s) have no cancellation reason recorded: they are kept as 'not recorded'."
    return text


def themes_sentence(themes: Themes) -> str:
    if themes.themes.empty:
        return "No free-text comments to group."
    top = themes.themes.iloc[0]
    return (f"{int(themes.themes['comments'].sum())} comments fall into {len(themes.themes)} theme(s) ({themes.method}, "
            f"computed locally); the largest, '{top['theme']}', holds {int(top['comments'])}, e.g. \u201c{top['example']}\u201d")


def audit_sentence(summary: Mapping, audit: pd.DataFrame, scope: str) -> str:
    if not summary.get("churns"):
        return f"No churn {scope} to audit."
    if not summary.get("checked"):
        return f"No check fell before the churns {scope}, so the warnings cannot be judged."
    text = (f"Of {summary['checked']} churn(s) {scope} that a check saw, the health score or the risk list "
            f"flagged {summary['caught']} ({_pct(summary['detection_rate'])}, 95% CI {_pct(summary['detection_low'])}"
            f"-{_pct(summary['detection_high'])}) at least once in the look-back")
    if summary.get("caught"):
        text += f", first a median {summary['median_lead_days']:.0f} days before the churn"
        if not np.isnan(summary.get("median_lead_low", np.nan)):
            text += f" (95% CI {summary['median_lead_low']:.0f}-{summary['median_lead_high']:.0f})"
        standing = audit.loc[audit["outcome"] == "caught", "standing_lead_days"].dropna()
        if len(standing):
            text += (f". The warning still standing at the last check before the churn began a median "
                     f"{standing.median():.0f} days before it ({len(standing)} accounts)")
    if summary.get("not_checked"):
        text += f". {summary['not_checked']} churn(s) fell before any check and are left out"
    return text + "."


def missed_sentence(missed: pd.DataFrame, summary: Mapping, alpha: float = 0.05) -> str:
    if not summary.get("missed"):
        return "No churn was missed: every checked churn was flagged at least once."
    if missed.empty:
        return f"{summary['missed']} churn(s) were never flagged; too few caught or missed churns to compare them."
    significant = missed[missed["p_holm"] < alpha]
    if significant.empty:
        lead = missed.iloc[0]
        return (f"{summary['missed']} churn(s) were never flagged. No segment, plan, tenure, size or reason sets them "
                f"apart after Holm correction across {len(missed)} comparisons; the largest gap is "
                f"{lead['attribute'].replace('_', ' ')} = {_words(lead['value'])} ({_pct(lead['share_of_missed'])} of "
                f"missed vs {_pct(lead['share_of_caught'])} of caught, Holm {_p(lead['p_holm'])}).")
    s = significant.iloc[0]
    return (f"{summary['missed']} churn(s) were never flagged; they are over-represented in "
            f"{s['attribute'].replace('_', ' ')} = {_words(s['value'])} ({_pct(s['share_of_missed'])} of missed vs "
            f"{_pct(s['share_of_caught'])} of caught, Holm-adjusted {_p(s['p_holm'])}).")


def false_alarm_sentence(fa: Mapping) -> str:
    if not fa.get("flagged_accounts"):
        return "No flag is old enough to judge whether it was a false alarm."
    return (f"Of {fa['flagged_accounts']:,} accounts first flagged between {fa['window_start']} and {fa['window_end']}, "
            f"{fa['stayed']:,} ({_pct(fa['false_alarm_rate'])}, 95% CI {_pct(fa['false_alarm_low'])}-"
            f"{_pct(fa['false_alarm_high'])}) were still customers {fa['horizon_days']} days later. Flags younger "
            f"than {fa['horizon_days']} days are not judged yet (censored), and an account a CSM saved counts as a "
            "false alarm here, so this is an upper bound on wasted effort.")


def contrast_sentence(contrast: pd.DataFrame, aligned: pd.DataFrame, alpha: float = 0.05) -> str:
    share = usage_retained_share(aligned)
    text = ""
    if len(share) == 2:
        s = share.set_index("group")["median_share"]
        text = (f"In the last 4 weeks before the churn, churned accounts used the product at a median "
                f"{_pct(s.get('churned'))} of their own level 4-6 months earlier; their retained look-alikes, on the "
                f"same weeks, at {_pct(s.get('retained look-alikes'))}. ")
    if contrast.empty:
        return text + "No comparable retained accounts were found." if not text else text
    sig = contrast[contrast["p_holm"] < alpha]
    if sig.empty:
        return text + "No single metric differs significantly after Holm correction."
    names = ", ".join(f"{r.label} ({'lower' if r.paired_difference < 0 else 'higher'})" for r in sig.itertuples())
    return text + f"At the last check before the churn, they differed from their look-alikes in: {names} (Holm p < {alpha})."


def alerts_sentence(alerts_table: pd.DataFrame | None, month: pd.Period, source: str) -> str:
    if alerts_table is None:
        return "Alerts could not be computed (see the notes above)."
    if alerts_table.empty:
        return f"No paying account's warning got worse in {pd.Period(month, 'M').strftime('%B %Y')}."
    kinds = alerts_table["alert"].str.split("; ").explode().value_counts()
    parts = ", ".join(f"{n} {k}" for k, n in kinds.items())
    arr = f", {_money(float(alerts_table['arr'].sum()))} ARR" if "arr" in alerts_table else ""
    return (f"{len(alerts_table):,} paying accounts{arr} raised a new alert in {pd.Period(month, 'M').strftime('%B %Y')}: "
            f"{parts}. Compared with the previous month's at-risk list, {source}.")


def alert_rule_text(s: Settings) -> str:
    if s.alert_top_share is None:
        return "turned red, dropped green to yellow, or crossed the risk threshold since last month"
    cap = f", at most {s.alert_max_accounts:,} accounts" if s.alert_max_accounts is not None else ""
    return (f"entered the top {s.alert_top_share:.0%} of paying accounts by churn probability{cap} since last month "
            "(or is in it at its first score)")


def alert_rule_sentence(review: Review) -> str:
    """The alert rule in words and how often its alerts, and the previous rule's, were false on the past
    months whose horizon has passed (:func:`alert_audit`), generated from the numbers."""
    s, summary = review.settings, review.alert_rule_summary
    text = f"An account alerts when it {alert_rule_text(s)}."
    now = summary.get("this_month")
    if now and now["band"]:
        text += (f" This month the band holds the {now['band']:,} riskiest of {now['paying']:,} paying accounts "
                 f"(churn probability {_pct(now['min_probability'])} or more).")
    band, previous = summary.get("band", {}), summary.get("previous", {})
    if not band.get("months"):
        return text + " No past month's alerts can be judged yet (their horizon has not passed)."

    def judged(part: Mapping) -> str:
        return (f"{part['alerts']:,} alerts ({part['alerts_per_month']:,.0f} a month), of which {part['false_alarms']:,} "
                f"({_pct(part['false_alarm_rate'])}, 95% CI {_pct(part['false_alarm_low'])}-"
                f"{_pct(part['false_alarm_high'])}) were false alarms")

    months = (f"{pd.Period(band['first_month']).strftime('%b %Y')}-{pd.Period(band['last_month']).strftime('%b %Y')}"
              if band["months"] > 1 else pd.Period(band["first_month"]).strftime("%b %Y"))
    current, other = ("band", "previous") if s.alert_top_share is not None else ("previous", "band")
    other_words = ("the previous rule (turned red, green to yellow, crossed the risk threshold)" if other == "previous"
                   else f"the top-{(s.alert_top_share or 0.02):.0%} band rule")
    parts = {"band": band, "previous": previous}
    text += (f" On the {band['months']} past month(s) whose {s.horizon_days} days have passed ({months}), it raised "
             f"{judged(parts[current])}: still paying {s.horizon_days} days later. {other_words[0].upper() + other_words[1:]} "
             f"raised {judged(parts[other])}. Among all paying accounts, {_pct(band['base_rate'])} churned within "
             f"{s.horizon_days} days of a check; a save by a CSM counts as a false alarm here.")
    return text


def conventions(review: Review) -> dict:
    """The conventions box of the report."""
    s = review.settings
    health_every = ("monthly" if review.is_month or not s.account_health_every_days
                    else f"every {s.account_health_every_days} days (reviewed accounts), monthly (others)")
    return {
        "review": f"every churn of {review.month.strftime('%B %Y')}" if review.is_month
        else f"accounts {', '.join(review.account_ids)} (as of the end of {review.month.strftime('%B %Y')})",
        "churn definition": "paying spells (csresearch.churn.paying_spells): churn date = first unpaid day",
        "churn_convention": s.churn_convention,
        "reactivation_window_days": s.reactivation_window_days,
        "count_same_month_churn": s.count_same_month_churn,
        "value_milestone": s.value_milestone,
        "ARR lost": "12 x MRR on the last paid day",
        "health score": _relative(getattr(review.config, "source", "params/health_score.yml")),
        "flagged": "health band red, or churn risk within {} days >= {}".format(
            s.horizon_days, f"{s.risk_threshold:.0%}" if s.risk_threshold is not None else
            "1.5 x the churn rate known at the check (the at-risk list's rule; "
            f"{review.checks.thresholds.get(max(review.checks.thresholds), float('nan')):.1%} this month)"
            if review.checks.thresholds else "1.5 x the churn rate known at the check"),
        "checks": f"risk list monthly (model refitted every {s.refit_months} months); health score {health_every}",
        "alerts": f"an account {alert_rule_text(s)}",
        "lookback_months": s.lookback_months,
        "rollup_months": s.rollup_months,
        "comparables": f"{s.comparables_per_account} per churn, retained >= {s.retained_days} days",
        "reason_match_days": s.reason_match_days,
    }


def _relative(path: str) -> str:
    from .config import project_root

    try:
        return str(Path(path).resolve().relative_to(project_root()))
    except ValueError:
        return str(path)


def convention_notes(review: Review) -> dict:
    return {
        "churn_convention": "month_end: a churn belongs to the month of its first unpaid day; period_start: of its last paid day",
        "reactivation_window_days": "a gap shorter than this is not a churn",
        "count_same_month_churn": "false drops accounts that joined and left within one month",
        "checks": "each check uses only data from before its date",
        "reason_match_days": "a cancellation form within this many days of the billing churn date is its reason",
    }


def method_notes(review: Review) -> str:
    """How censoring, leakage, multiple comparisons and selection bias are handled, in a few lines."""
    s = review.settings
    return (
        "**How to read the numbers.** "
        f"*Leakage:* every check uses only data from before its date, and the risk model at each check learned only "
        f"from outcomes known by then (churn windows of {s.horizon_days} days already closed). "
        f"*Censoring:* a flag younger than {s.horizon_days} days is not judged a hit or a false alarm yet; churns are "
        "read as of the report month's end, so a later reactivation can restate them. "
        "*Multiple comparisons:* what missed churns have in common, and how churned accounts differ from their "
        "look-alikes, are tested across many values at once, so p-values are Holm-corrected. "
        "*Selection bias:* cancellation reasons are self-reported; look-alikes are matched on what we observe, not on "
        "why accounts differ; a flag that prompted a CSM save counts as a false alarm. "
        "Rates carry Wilson 95% intervals; medians bootstrap 95% intervals. "
        f"*Sampling:* {sampling_text(review.checks)}"
    )


def sampling_text(checks: Checks) -> str:
    """What the risk model's refits were trained on, generated from the fits (a sample is stated with
    its numbers: :func:`csresearch.risk.sampling_sentence`)."""
    from .core import risk

    fits = checks.fits
    if not fits:
        return "No risk model could be fitted (too little closed history)."
    cap = f"{checks.max_train_rows:,}" if checks.max_train_rows is not None else "no cap"
    sampled = {when: s for when, s in fits.items() if s is not None}
    if not sampled:
        return (f"Each of the risk model's {len(fits)} refits was trained on every closed observation (the cap, "
                f"max_train_rows, is {cap} rows).")
    latest = max(sampled)
    return (risk.sampling_sentence(sampled[latest], "The risk models").rstrip(".")
            + f" (numbers of the refit at the {latest:%d %b %Y} check; {len(sampled)} of the {len(fits)} refits were "
            f"sampled this way, max_train_rows = {cap}).")


def notes_text(review: Review) -> str:
    if not review.notes:
        return "Every optional table this report uses is present."
    return "**Sections switched off or limited:** " + "; ".join(review.notes) + "."


def account_sentences(review: Review) -> str:
    audit = review.review_audit().set_index(["account_id", "churn_date"])
    lines = []
    for _, row in review.churned.iterrows():
        key = (row["account_id"], row["churn_date"])
        audit_row = audit.loc[key].to_dict() if pd.notna(row["churn_date"]) and key in audit.index else None
        lines.append("- " + account_sentence(row.to_dict(), audit_row, review.settings.lookback_months))
    return "\n".join(lines)


def timeline_sentence(review: Review, max_panels: int) -> str:
    gone = review.churned[review.churned["status"] == "churned"]
    if review.is_month:
        if gone.empty:
            return "No churn this month, so no timelines."
        shown = min(len(gone), max_panels)
        text = f"{shown} of {len(gone)} churned accounts drawn (largest ARR lost first)."
        if not review.key_events:
            return text + " No usage data: the panels show only the flags."
        return text + f" Usage counts the key events: {', '.join(_words(e) for e in review.key_events)}."
    return (f"Key events: {', '.join(_words(e) for e in review.key_events) or 'none (no usage data)'}. "
            f"Health score every {review.settings.account_health_every_days or 30} days; "
            "crosses mark the checks that flagged the account.")


def rollup_sentence(rollup_missed: pd.DataFrame) -> str:
    judged = rollup_missed[rollup_missed["checked_churns"] > 0]
    if judged.empty:
        return "No checked churn in these months."
    total, missed = int(judged["checked_churns"].sum()), int(judged["missed"].sum())
    share, low, high = wilson(missed, total)
    worst = judged.sort_values("missed_share", ascending=False).iloc[0]
    return (f"Over these {len(rollup_missed)} months, {missed} of {total} checked churns ({_pct(share)}, 95% CI "
            f"{_pct(low)}-{_pct(high)}) were never flagged; the highest monthly share was {worst['month']} "
            f"({int(worst['missed'])} of {int(worst['checked_churns'])}). Monthly shares rest on few churns: read "
            "their intervals before calling a trend.")


def record(nb, review: Review) -> None:
    """Headline numbers into summary.json and onto the index page (with the link to alerts.csv)."""
    s, fa = review.audit_summary, review.false_alarm
    gone = review.churned[review.churned["status"] == "churned"]
    n_alerts = 0 if review.alerts is None else int(len(review.alerts))
    if review.is_month:
        nb.kpi("Churned accounts", int(len(gone)), f"{len(gone):,}")
        nb.kpi("ARR lost", float(gone["arr_lost"].sum()), _money(float(gone["arr_lost"].sum())))
    else:
        nb.kpi("Accounts reviewed", int(len(review.churned)), f"{len(review.churned)} ({len(gone)} churned)")
    if s.get("checked"):
        nb.kpi("Flagged before churn", s["detection_rate"],
               f"{s['caught']} of {s['checked']} ({_pct(s['detection_rate'])}, 95% CI {_pct(s['detection_low'])}-"
               f"{_pct(s['detection_high'])})")
    if s.get("caught"):
        ci = "" if np.isnan(s["median_lead_low"]) else f" (95% CI {s['median_lead_low']:.0f}-{s['median_lead_high']:.0f})"
        nb.kpi("Median warning lead", s["median_lead_days"], f"{s['median_lead_days']:.0f} days{ci}")
    nb.kpi("New alerts", n_alerts, f"{n_alerts:,} accounts", link=f"{nb.notebook}/alerts.csv")
    rule = review.alert_rule_summary.get("band" if review.settings.alert_top_share is not None else "previous", {})
    if rule.get("alerts"):
        nb.kpi("Alert false alarms (past months)", rule["false_alarm_rate"],
               f"{_pct(rule['false_alarm_rate'])} (95% CI {_pct(rule['false_alarm_low'])}-{_pct(rule['false_alarm_high'])})")
    if fa.get("flagged_accounts"):
        nb.kpi("False-alarm rate", fa["false_alarm_rate"],
               f"{_pct(fa['false_alarm_rate'])} (95% CI {_pct(fa['false_alarm_low'])}-{_pct(fa['false_alarm_high'])})")
    nb.record(
        title="Churn postmortem" if review.is_month else "Churn postmortem: account review",
        mode="month" if review.is_month else "accounts",
        account_ids=review.account_ids,
        churned_accounts=int(len(gone)),
        arr_lost=float(gone["arr_lost"].sum()),
        audit=dict(s), audit_window=dict(review.audit_summary_all), false_alarm=dict(fa),
        new_alerts=n_alerts,
        alerts_by_type=({} if review.alerts is None else
                        review.alerts["alert"].str.split("; ").explode().value_counts().to_dict()),
        previous_list_source=review.previous_source,
        lessons=int(len(review.lessons)),
        notes=review.notes,
        risk_model_sampling=sampling_text(review.checks),
        alert_rule=alert_rule_text(review.settings),
        alert_rule_audit=review.alert_rule_summary,
        risk_model_fits={str(when.date()): (None if s is None else {"rows": s.rows, "churned": s.churned,
                                                                     "others": s.others, "others_kept": s.others_kept,
                                                                     "weight": s.weight})
                         for when, s in review.checks.fits.items()},
        links=[{"href": f"{nb.notebook}/alerts.csv", "text": f"alerts.csv ({n_alerts:,} new alerts)"}],
    )


# --------------------------------------------------------------------------------------------------
# Tables as shown in the report (the CSVs keep every column)
# --------------------------------------------------------------------------------------------------
def churn_list_display(churn_list: pd.DataFrame) -> pd.DataFrame:
    cols = ["account_id", "account_name", "churn_date", "arr_lost", "tenure_months", "segment", "plan", "reason",
            "competitor", "outcome", "lead_days"]
    out = churn_list[[c for c in cols if c in churn_list]].copy()
    if "reason" in out:
        out["reason"] = out["reason"].map(_words)
    return out.rename(columns={"outcome": "warning", "lead_days": "flagged days ahead", "arr_lost": "ARR lost",
                               "tenure_months": "tenure (months)", "churn_date": "churn date",
                               "account_name": "account", "account_id": "id"})


def playbook_name(text: str) -> str:
    """The playbook's short name: the words before its first colon ("Adoption drive: ..." -> "Adoption drive")."""
    text = str(text or "")
    return text.split(":", 1)[0] if ":" in text[:60] else text[:60]


def first_trigger(text) -> str:
    """The first of "; "-separated triggers (separators inside parentheses do not count), without its
    closing "(metric value; red threshold)" details."""
    text = "" if text is None or (isinstance(text, float) and np.isnan(text)) else str(text)
    depth, cut = 0, len(text)
    for i, ch in enumerate(text):
        depth += (ch == "(") - (ch == ")")
        if depth == 0 and text.startswith("; ", i):
            cut = i
            break
    return re.sub(r"\s*\([^()]*\)$", "", text[:cut]).strip()


def alerts_display(alerts_table: pd.DataFrame, rows: int = 20) -> pd.DataFrame:
    """The most severe, largest alerts, one readable line each (the CSV has the full triggers)."""
    if alerts_table.empty:
        return pd.DataFrame(columns=["id", "account", "segment", "ARR", "alert", "health", "churn risk",
                                     "first trigger", "playbook"])
    top = alerts_table.head(rows)
    band = top["health_band_before"].fillna("new") + " \u2192 " + top["health_band"].astype(str)
    before = top["churn_probability_before"].map(lambda p: "new" if pd.isna(p) else f"{p:.0%}")
    risk = before + " \u2192 " + top["churn_probability"].map(lambda p: f"{p:.0%}")
    trigger = top["trigger"].map(first_trigger)
    return pd.DataFrame({
        "id": top["account_id"], "account": top.get("account_name", top["account_id"]),
        "segment": top.get("segment", ""), "ARR": top.get("arr", np.nan), "alert": top["alert"],
        "health": band, "churn risk": risk, "first trigger": trigger,
        "playbook": top["playbook"].map(playbook_name),
    })


def contrast_display(contrast: pd.DataFrame) -> pd.DataFrame:
    if contrast.empty:
        return pd.DataFrame(columns=["metric", "churned (median)", "look-alikes (median)",
                                     "difference (95% CI)", "pairs", "Holm p"])
    diff = [f"{d:+.2f} ({lo:+.2f} to {hi:+.2f})" if pd.notna(lo) else f"{d:+.2f}"
            for d, lo, hi in zip(contrast["paired_difference"], contrast["difference_low"], contrast["difference_high"])]
    return pd.DataFrame({
        "metric": contrast["label"], "churned (median)": contrast["churned_median"].round(2),
        "look-alikes (median)": contrast["comparables_median"].round(2), "difference (95% CI)": diff,
        "pairs": contrast["pairs"],
        "Holm p": contrast["p_holm"].map(lambda p: "–" if pd.isna(p) else ("< 0.001" if p < 0.001 else f"{p:.3f}")),
    })


def missed_display(missed: pd.DataFrame, rows: int = 8) -> pd.DataFrame:
    if missed.empty:
        return pd.DataFrame(columns=["attribute", "value", "missed", "caught", "share of missed", "share of caught",
                                     "Holm p"])
    top = missed.head(rows)
    return pd.DataFrame({
        "attribute": top["attribute"].str.replace("_", " "), "value": top["value"].map(_words),
        "missed": top["missed"], "caught": top["caught"], "share of missed": top["share_of_missed"],
        "share of caught": top["share_of_caught"],
        "Holm p": top["p_holm"].map(lambda p: "< 0.001" if p < 0.001 else f"{p:.3f}"),
    })


DISPLAY_FORMATS = {"ARR lost": "${:,.0f}", "ARR": "${:,.0f}", "tenure (months)": "{:.0f}",
                   "flagged days ahead": "{:.0f}", "churn date": "{:%Y-%m-%d}", "share of missed": "{:.0%}",
                   "share of caught": "{:.0%}", "share": "{:.0%}", "mrr": "${:,.0f}", "tenure_months": "{:.0f}",
                   "distance": "{:.2f}", "ref_date": "{:%Y-%m-%d}", "churned (median)": "{:.2f}",
                   "look-alikes (median)": "{:.2f}"}
