"""The churn-risk model and the at-risk list: point-in-time observations labelled with churn,
the model (gradient boosting or a regularised logistic regression), stated sampling at scale,
per-account reasons in words, the playbook to run and the suggested touch tier.

- :func:`observations`: point-in-time rows (features from :mod:`csresearch.core.features`, data
  strictly before each observation date) labelled with churn within ``horizon_days`` after
  ``lead_days``, from :func:`csresearch.core.revenue.paying_spells` (the one definition of churn). A
  label whose window is not over by the report date is unknown (NaN), never "did not churn": that is
  how censoring is handled.
- :class:`ChurnModel`: ``gbm`` or ``logistic`` on scaled, log-transformed features with correlated
  metrics grouped; :meth:`ChurnModel.contributions`: per-account SHAP contributions.
- :func:`training_sample`: every churned row plus a stratified, weighted sample of the others.
- :func:`at_risk_list`: the list a CS team works from, for any month.
"""

from __future__ import annotations

from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, TransformerMixin

from ..data import Dataset
from ..errors import NotEnoughData
from ..i18n import _, ngettext, pgettext
from ..period import DAYS_PER_MONTH
from ..text import count
from . import features as feat
from .health import HealthConfig, scores_or_none
from .revenue import movements, paying_spells
from .risk_reasons import (  # noqa: F401 (re-exported: callers read them as risk.X)
    MONTHLY_REASON,
    RENEWAL_PLAYBOOK,
    RISK_PLAYBOOK,
    _as_frame_config,
    _level,
    _measured,
    _on_plan,
    _reason_text,
    _reason_texts,
    _renewal_due,
    level_label,
    model_playbook,
    reasons,
    suggest_touch_tier,
)
from .stats import _allocate

_THREADS_LIMITED = False


@contextmanager
def _threads():
    """OpenMP thread limit for model fitting and prediction: one thread. OpenMP sizes its pool from
    the host's CPU count, not the container's quota, and on a shared 2-core machine the oversubscribed
    pool made a 5,000-row gradient-boosting fit 40x slower (27 s vs 0.6 s). Re-entrant and cheap when
    nested, so loops can hold it once."""
    global _THREADS_LIMITED
    if _THREADS_LIMITED:
        yield
        return
    from threadpoolctl import threadpool_limits

    with threadpool_limits(limits=1, user_api="openmp"):
        _THREADS_LIMITED = True
        try:
            yield
        finally:
            _THREADS_LIMITED = False


# ==================================================================================================
# Point-in-time observations and labels
# ==================================================================================================
def observations(ds: Dataset, as_of, horizon_days: int = 90, lead_days: int = 0, every_months: int = 1,
                 history_months: int = 18, windows_days: tuple[int, int] = (30, 30),
                 reactivation_window_days: int = 0, value_milestone: str = "first_value") -> pd.DataFrame:
    """Point-in-time observations up to ``as_of`` (a report month like ``"2026-10"`` or a date).

    One row per account paying at each observation date (the first day after each month, every
    ``every_months`` months, going back ``history_months``), with :func:`features.account_features`
    and the labels:

    - ``churned``: 1 if the account's paying spell ends (per :func:`churn.paying_spells`) in
      ``[t + lead_days, t + lead_days + horizon_days)``, 0 if it does not and that window is over by
      ``as_of``, NaN if the window is not over yet (censored: unknown, never counted as retained)
      or the account churned inside the lead time (too late to act on);
    - ``churn_date``: the end of the current spell when it is known by ``as_of``;
    - ``expanded`` / ``expansion_mrr``: an expansion movement (per :func:`churn.movements`) at a month
      end in the horizon's months after the lead time; NaN while that window is open.

    Observation dates earlier than the first usage event plus both usage windows are dropped: their
    usage features would be zero for lack of data, not lack of use.
    """
    T = feat.observation_date_for(as_of)
    data_end = T - pd.Timedelta(days=1)
    dates = [T - pd.DateOffset(months=k) for k in range(0, int(history_months) + 1, int(every_months))]
    subs = ds.table("subscriptions")
    earliest = pd.Timestamp(subs["start_date"].min()) + pd.Timedelta(days=1)
    if ds.has("usage_events"):
        first_event = ds.con.execute("SELECT min(event_time) FROM usage_events").fetchone()[0]
        if first_event is not None:
            earliest = max(earliest, pd.Timestamp(first_event).normalize() + pd.Timedelta(days=sum(windows_days)))
    dates = sorted(pd.Timestamp(d).normalize() for d in dates if d >= earliest)
    if not dates:
        raise NotEnoughData(f"no observation date between the start of the data and {T.date()}: the data "
                            "must hold at least one paid day (and, with usage events, both usage windows) "
                            "before it")
    frame = feat.account_features(ds, dates, windows_days, value_milestone)
    missing_tables = frame.attrs.get("missing_tables", [])
    event_names = frame.attrs.get("event_names", [])

    lead, horizon = pd.Timedelta(days=int(lead_days)), pd.Timedelta(days=int(horizon_days))
    t = frame["observation_date"]
    # churn: the end of the spell the account is in at t (spells from the one definition of churn)
    spells = paying_spells(subs, data_end, reactivation_window_days)
    ended = spells.loc[spells["churned"], ["account_id", "start_date", "end_date"]]
    rows = frame[["account_id", "observation_date"]].reset_index()
    cur = rows.merge(ended, on="account_id", how="inner")
    cur = cur[(cur["start_date"] < cur["observation_date"]) & (cur["end_date"] >= cur["observation_date"])]
    cur = cur.sort_values("end_date").drop_duplicates("index").set_index("index")
    frame["churn_date"] = cur["end_date"].reindex(frame.index)
    c = frame["churn_date"]
    in_window = (c >= t + lead) & (c < t + lead + horizon)
    in_lead = c < t + lead
    over = (t + lead + horizon) <= T
    frame["churned"] = np.where(in_lead, np.nan, np.where(in_window, 1.0, np.where(over, 0.0, np.nan)))
    frame.loc[~over, "churned"] = np.nan  # an open window is unknown, even when a churn is already seen

    # expansion: month ends in the first k months after the lead time (k = horizon in months)
    k = max(1, int(round(int(horizon_days) / DAYS_PER_MONTH)))
    start = t + lead
    stop = (start - pd.Timedelta(days=1)) + pd.offsets.MonthEnd(k) + pd.Timedelta(days=1)
    moves = movements(subs, (dates[0] - pd.Timedelta(days=1)).to_period("M"), data_end.to_period("M"),
                      reactivation_window_days)
    exp = moves.loc[moves["movement"] == "expansion", ["account_id", "month_end", "mrr", "prev_mrr"]]
    exp = exp.assign(delta=exp["mrr"] - exp["prev_mrr"])
    rows = frame[["account_id"]].assign(start=start, stop=stop).reset_index()
    hit = rows.merge(exp, on="account_id")
    hit = hit[(hit["month_end"] >= hit["start"]) & (hit["month_end"] < hit["stop"])]
    gained = hit.groupby("index")["delta"].sum()
    exp_over = stop <= T
    frame["expansion_mrr"] = gained.reindex(frame.index).fillna(0.0).where(exp_over)
    frame["expanded"] = (frame["expansion_mrr"] > 0).astype(float).where(exp_over)
    frame.attrs.update(missing_tables=missing_tables, event_names=event_names, as_of=T,
                       horizon_days=int(horizon_days), lead_days=int(lead_days),
                       windows_days=tuple(windows_days), reactivation_window_days=int(reactivation_window_days))
    return frame


LABELS = ("churned", "churn_date", "expanded", "expansion_mrr")


def model_features(frame: pd.DataFrame) -> tuple[list[str], list[str]]:
    """(numeric, categorical) columns a model may use: features only, never labels, keys or the
    health score's restatements of other features (:data:`features.SCORE_ONLY`)."""
    numeric = [c for c in feat.numeric_features(frame) if c not in LABELS and c not in feat.SCORE_ONLY]
    numeric = [c for c in numeric if frame[c].notna().any()]
    return numeric, feat.categorical_features(frame)


# ==================================================================================================
# Training samples: every churned row, a stratified sample of the others, weights that undo it
# ==================================================================================================
DEFAULT_MAX_TRAIN_ROWS = 100_000


@dataclass(frozen=True)
class Sampling:
    """What a model was trained on when its training rows were sampled (:func:`training_sample`)."""

    rows: int            # training rows kept (churned + others_kept)
    churned: int         # target == 1 rows: all kept
    others: int          # target != 1 rows available
    others_kept: int     # of which kept (stratified, proportional per stratum)
    weight: float        # others / others_kept: the average weight of a kept other row
    strata: tuple[str, ...]  # the columns whose combinations were sampled proportionally
    target: str = "churned"  # the label whose positive rows were all kept

    @property
    def share(self) -> float:
        return self.others_kept / self.others if self.others else 1.0



def training_sample(frame: pd.DataFrame, max_rows: int | None, target: str = "churned",
                    strata: tuple[str, ...] = ("segment", "observation_date"),
                    random_state: int = 0) -> tuple[pd.DataFrame, np.ndarray | None, Sampling | None]:
    """At most ``max_rows`` training rows where possible: every row with ``target == 1`` plus a
    stratified random sample of the others, proportional per stratum (combinations of the ``strata``
    columns present in ``frame``), with sample weights that undo the sampling: 1 for the churned rows,
    stratum size / rows kept in that stratum for the others (so each stratum's weights sum to its
    size and predicted probabilities stay calibrated).

    Returns ``(frame, None, None)`` unchanged when ``max_rows`` is None or ``len(frame) <= max_rows``.
    When the churned rows alone reach ``max_rows``, half of ``max_rows`` others are kept beside them
    (the result is then larger than ``max_rows``: every churned row is always kept). The kept rows
    are in their original order; weights are aligned with them.
    """
    if max_rows is None or len(frame) <= max_rows:
        return frame, None, None
    if max_rows < 2:
        raise ValueError(f"max_rows must be at least 2 (got {max_rows})")
    positive = (frame[target] == 1).to_numpy()
    n_pos = int(positive.sum())
    other_pos = np.flatnonzero(~positive)
    n_others = len(other_pos)
    budget = max_rows - n_pos if max_rows - n_pos >= max_rows // 2 else max_rows // 2
    used = tuple(c for c in strata if c in frame.columns)
    if used:  # only the stratum columns are read (no copy of the feature columns)
        others = frame[list(used)].iloc[other_pos]
        codes = others.groupby(list(used), sort=True, dropna=False, observed=True).ngroup().to_numpy()
    else:
        codes = np.zeros(n_others, dtype=np.int64)
    sizes = np.bincount(codes) if n_others else np.zeros(0, dtype=np.int64)
    kept_per = _allocate(sizes, budget)
    rng = np.random.default_rng(random_state)
    order = np.lexsort((rng.random(n_others), codes))  # by stratum, random within
    starts = np.r_[0, np.cumsum(sizes)[:-1]] if len(sizes) else np.zeros(0, dtype=np.int64)
    rank = np.empty(n_others, dtype=np.int64)
    rank[order] = np.arange(n_others) - np.repeat(starts, sizes)
    keep_other = rank < kept_per[codes]
    keep = positive.copy()
    keep[other_pos[keep_other]] = True
    stratum_weight = np.divide(sizes, kept_per, out=np.zeros(len(sizes)), where=kept_per > 0)
    weights_all = np.ones(len(frame))
    weights_all[other_pos] = stratum_weight[codes]
    rows = np.flatnonzero(keep)
    kept_others = int(keep_other.sum())
    sampling = Sampling(rows=len(rows), churned=n_pos, others=n_others, others_kept=kept_others,
                        weight=n_others / kept_others if kept_others else float("nan"), strata=used,
                        target=target)
    return frame.iloc[rows], weights_all[rows], sampling


GROUP_MAX_ROWS = 100_000       # rows behind the correlation that groups the features
IMPORTANCE_MAX_ROWS = 10_000   # test rows behind the permutation importance and the driver effects
BOOTSTRAP_MAX_ROWS = 20_000    # rows each bootstrap interval resamples (its width is rescaled to all rows)


def _row_sample(frame: pd.DataFrame, max_rows: int | None, random_state: int = 0) -> pd.DataFrame:
    """A simple random sample of at most ``max_rows`` rows (in their original order), or ``frame``."""
    if max_rows is None or len(frame) <= max_rows:
        return frame
    rows = np.sort(np.random.default_rng(random_state).choice(len(frame), max_rows, replace=False))
    return frame.iloc[rows]



def sampling_sentence(sampling: Sampling | None, what: str = "The models") -> str:
    """The sentence a report prints where it states its method: "" when nothing was sampled."""
    if sampling is None:
        return ""
    share = sampling.share
    pct = f"{share:.1%}" if share >= 0.001 else f"{share:.2%}"
    strata = " x ".join(feat.describe(s) for s in sampling.strata)
    by = _(" (proportional within each {strata})").format(strata=strata) if strata else ""
    positive = {"churned": pgettext("observations", "churned"), "expanded": pgettext("observations", "expanded")}.get(
        sampling.target, f"{sampling.target} = 1")
    text = (_("{what} were fitted on all {churned} {positive} observations and a stratified {share} sample of the "
              "{others} others{by}, {rows} rows in all; the sampled rows are weighted by {weight} on average (stratum "
              "size / rows kept) so probabilities stay calibrated.") if what.rstrip().endswith("s") else
            _("{what} was fitted on all {churned} {positive} observations and a stratified {share} sample of the "
              "{others} others{by}, {rows} rows in all; the sampled rows are weighted by {weight} on average (stratum "
              "size / rows kept) so probabilities stay calibrated."))
    return text.format(what=what, churned=f"{sampling.churned:,}", positive=positive, share=pct,
                       others=count(sampling.others), by=by, rows=f"{sampling.rows:,}", weight=f"{sampling.weight:.1f}")


# ==================================================================================================
# Models
# ==================================================================================================
def _weighted_bins(values: np.ndarray, weights: np.ndarray, max_bins: int = 255) -> dict[int, np.ndarray]:
    """Bin thresholds at weighted quantiles for each column with more distinct values than
    ``max_bins`` (value x falls in bin i when thresholds[i - 1] < x <= thresholds[i], the gradient
    boosting's own rule; missing values stay missing).

    The gradient boosting bins a weighted fit at weighted quantiles itself, but scikit-learn 1.9 does
    it with one full sort per quantile (254 per column: 10 s of a 14 s fit on 40,000 rows); one sort
    per column here gives bins of the same kind, and columns with few distinct values keep its exact
    binning (every distinct value its own bin)."""
    out = {}
    for j in range(values.shape[1]):
        col = values[:, j]
        ok = ~np.isnan(col)
        v, w = col[ok], weights[ok]
        if len(np.unique(v)) <= max_bins:
            continue
        order = np.argsort(v, kind="stable")
        v, cumulative = v[order], np.cumsum(w[order])
        targets = cumulative[-1] * np.arange(1, max_bins) / max_bins
        out[j] = np.unique(v[np.minimum(np.searchsorted(cumulative, targets), len(v) - 1)])
    return out


def _restrict_groups(groups: dict[str, list[str]], columns: list[str]) -> dict[str, list[str]]:
    """``groups`` limited to ``columns`` (a group whose lead metric is gone is led by its next member);
    a column in no group is its own group."""
    columns = list(columns)
    wanted = set(columns)
    out: dict[str, list[str]] = {}
    for name, members in groups.items():
        members = [m for m in members if m in wanted]
        if members:
            lead = name if name in members else members[0]
            out[lead] = [lead] + [m for m in members if m != lead]
    covered = {m for ms in out.values() for m in ms}
    out.update({c: [c] for c in columns if c not in covered})
    return out


def _weighted_median(X: pd.DataFrame, weights: np.ndarray) -> pd.Series:
    """Each column's median with rows weighted (missing values skipped): the typical value of the
    population a weighted sample stands for."""
    out = {}
    for col in X.columns:
        v = X[col].to_numpy(dtype=float)
        ok = ~np.isnan(v)
        if not ok.any():
            out[col] = np.nan
            continue
        v, w = v[ok], weights[ok]
        order = np.argsort(v, kind="stable")
        v, cum = v[order], np.cumsum(w[order])
        half = cum[-1] / 2
        i = int(np.searchsorted(cum, half))
        # an exact tie at the half-way point averages the two middle values, as an unweighted median does
        out[col] = (v[i] + v[i + 1]) / 2 if np.isclose(cum[i], half) and i + 1 < len(v) else v[i]
    return pd.Series(out, dtype=float)


def correlated_groups(frame: pd.DataFrame, columns: list[str], threshold: float = 0.7) -> dict[str, list[str]]:
    """Group features whose absolute Spearman correlation is at least ``threshold`` (average linkage
    on 1 - |rho|), so that metrics measuring the same thing are read, shuffled and explained together.
    Each group is named after its medoid (the member most correlated with the others)."""
    from scipy.cluster.hierarchy import fcluster, linkage
    from scipy.spatial.distance import squareform

    columns = list(columns)
    if len(columns) < 2:
        return {c: [c] for c in columns}
    rho = frame[columns].astype(float).corr(method="spearman").abs().fillna(0.0).to_numpy()
    np.fill_diagonal(rho, 1.0)
    distance = np.clip(1.0 - (rho + rho.T) / 2, 0, None)
    np.fill_diagonal(distance, 0.0)
    labels = fcluster(linkage(squareform(distance, checks=False), "average"), t=1.0 - threshold,
                      criterion="distance")
    groups: dict[str, list[str]] = {}
    for label in dict.fromkeys(labels):
        idx = [i for i, lab in enumerate(labels) if lab == label]
        medoid = idx[int(np.argmax(rho[np.ix_(idx, idx)].sum(axis=1)))]
        groups[columns[medoid]] = [columns[medoid]] + [columns[i] for i in idx if i != medoid]
    return groups


def feature_groups(frame: pd.DataFrame, threshold: float = 0.7, max_rows: int | None = GROUP_MAX_ROWS,
                   random_state: int = 0) -> dict[str, list[str]]:
    """:func:`correlated_groups` of every model feature of an observation frame, once for all the
    models fitted on it, on a random sample of at most ``max_rows`` rows (a correlation estimate
    needs thousands of rows, not millions). Features only, never labels; a fit keeps the members it
    uses (:class:`ChurnModel` ``groups=``)."""
    numeric, _ = model_features(frame)
    return correlated_groups(_row_sample(frame, max_rows, random_state), numeric, threshold)


def group_label(name: str, members: list[str]) -> str:
    """A group's name in plain words: its lead metric, plus how many related ones move with it."""
    text = feat.describe(name)
    if len(members) == 1:
        return text
    return ngettext("{metric} (+{n} related)", "{metric} (+{n} related)", len(members) - 1).format(
        metric=text, n=len(members) - 1)


class _GroupAverager(TransformerMixin, BaseEstimator):
    """sklearn-style step of the logistic pipeline: the sign-aligned mean of each group's standardised
    members, so correlated metrics enter as one term instead of fighting over one effect."""

    def __init__(self, groups: dict[str, list[str]] | None = None):
        self.groups = groups

    def fit(self, X: pd.DataFrame, y=None):
        self.signs_ = {}
        for name, members in (self.groups or {}).items():
            lead = X[name]
            self.signs_[name] = {m: (1.0 if m == name or X[m].corr(lead) >= 0 or np.isnan(X[m].corr(lead)) else -1.0)
                                 for m in members if m in X}
        grouped = {m for ms in (self.groups or {}).values() for m in ms}
        self.passthrough_ = [c for c in X.columns if c not in grouped]
        return self

    def transform(self, X: pd.DataFrame) -> pd.DataFrame:
        out = {name: sum(X[m] * s for m, s in signs.items()) / len(signs) for name, signs in self.signs_.items()}
        frame = pd.DataFrame(out, index=X.index)
        return pd.concat([frame, X[self.passthrough_]], axis=1)

    def set_output(self, *, transform=None):
        return self  # already returns pandas


def _check_two_classes(y: np.ndarray, target: str) -> None:
    """:class:`NotEnoughData` unless the training labels ``y`` hold both outcomes."""
    if not len(y):
        raise NotEnoughData(f"cannot fit a model: no training row has a known {target} outcome yet")
    if len(np.unique(y)) < 2:
        outcome = {"churned": ("churned", "stayed"), "expanded": ("expanded", "did not expand")}.get(
            target, (f"have {target} = 1", f"have {target} = 0"))[0 if y[0] == 1 else 1]
        raise NotEnoughData(f"cannot fit a model: only one class in the training rows (all {len(y):,} {outcome})")


@dataclass
class ChurnModel:
    """One model, scikit-learn style: construct with settings, :meth:`fit`, then :meth:`predict_proba`
    and :meth:`contributions` (per-account, per-driver log-odds contributions).

    ``kind="gbm"``: scikit-learn's HistGradientBoostingClassifier on raw features (missing values
    handled natively, monotone transforms irrelevant), explained with SHAP (TreeExplainer).
    ``kind="logistic"``: L2-regularised logistic regression (``C``) on features that are log1p-
    transformed when skewed, median-imputed (with missing indicators), standardised, and averaged
    within correlated groups; contributions are the model's own linear terms.
    """

    kind: Literal["gbm", "logistic"] = "gbm"
    target: str = "churned"
    C: float = 0.1
    max_iter: int = 100
    learning_rate: float = 0.1
    max_leaf_nodes: int = 15
    min_samples_leaf: int = 40
    group_threshold: float = 0.7
    random_state: int = 0
    numeric_: list[str] = field(default_factory=list, repr=False)
    categorical_: list[str] = field(default_factory=list, repr=False)
    levels_: dict[str, list[str]] = field(default_factory=dict, repr=False)
    groups_: dict[str, list[str]] = field(default_factory=dict, repr=False)
    column_group_: dict[str, str] = field(default_factory=dict, repr=False)
    columns_: list[str] = field(default_factory=list, repr=False)
    estimator_: Any = field(default=None, repr=False)
    reference_: Any = field(default=None, repr=False)  # pd.Series of typical values once fitted
    sampling: Sampling | None = field(default=None, repr=False)
    bins_: dict[int, np.ndarray] | None = field(default=None, repr=False)

    # ---- design matrix ---------------------------------------------------------------------------
    def matrix(self, frame: pd.DataFrame) -> pd.DataFrame:
        """Numeric features plus one-hot categoricals (levels fixed at fit), as floats."""
        X = frame[self.numeric_].astype(float).copy()
        for col in self.categorical_:
            values = frame[col].astype(str)
            for level in self.levels_[col]:
                X[f"{col}={level}"] = (values == level).astype(float)
        return X

    def fit(self, frame: pd.DataFrame, numeric: list[str] | None = None,
            categorical: list[str] | None = None, max_rows: int | None = None,
            groups: dict[str, list[str]] | None = None, rows: np.ndarray | None = None) -> "ChurnModel":
        """Fit on the rows of ``frame`` whose target is known (and, given ``rows``, a boolean mask over
        ``frame``, only those rows: the same fit as on ``frame[rows]`` without copying it).

        ``max_rows``: when there are more labelled rows, train on every positive row plus a stratified
        sample of the others with sample weights (:func:`training_sample`); ``self.sampling`` says
        what was kept (None when nothing was sampled, and then the fit is exactly the unsampled one).
        ``groups``: correlated feature groups computed once elsewhere (:func:`feature_groups`); by
        default they are computed on this training frame (on at most 100,000 of its rows).
        """
        known = frame[self.target].notna().to_numpy()
        if rows is not None:
            known &= np.asarray(rows, dtype=bool)
        _check_two_classes(frame[self.target].to_numpy()[known], self.target)
        if max_rows is None or int(known.sum()) <= max_rows:
            train, weights, self.sampling = frame[known], None, None
        else:  # sample on the label and strata columns, then copy only the kept rows
            keys = frame[[c for c in dict.fromkeys([self.target, "segment", "observation_date"]) if c in frame]]
            keys = keys.assign(_position=np.arange(len(frame)))[known]
            kept, weights, self.sampling = training_sample(keys, max_rows, self.target,
                                                           random_state=self.random_state)
            train = frame.iloc[kept["_position"].to_numpy()]
            del keys, kept
        auto_numeric, auto_categorical = model_features(train)
        # constant columns carry no information (e.g. an optional attribute the source does not have)
        self.numeric_ = [c for c in (numeric if numeric is not None else auto_numeric)
                         if train[c].notna().any() and train[c].nunique(dropna=False) > 1]
        self.levels_ = {}
        for col in list(categorical if categorical is not None else auto_categorical):
            counts = train[col].astype(str).value_counts()
            levels = [lvl for lvl in counts.index if counts[lvl] >= 30][:12]
            if len(counts) > 1 and levels:
                self.levels_[col] = levels
        self.categorical_ = list(self.levels_)
        y = train[self.target].astype(int).to_numpy()
        X = self.matrix(train)
        self.columns_ = list(X.columns)
        if groups is None:
            self.groups_ = correlated_groups(_row_sample(train, GROUP_MAX_ROWS, self.random_state), self.numeric_,
                                             self.group_threshold)
        else:  # precomputed once for the observation frame: the members this fit uses
            self.groups_ = _restrict_groups(groups, self.numeric_)
        self.groups_.update({col: [f"{col}={lvl}" for lvl in self.levels_[col]] for col in self.categorical_})
        self.column_group_ = {m: g for g, ms in self.groups_.items() for m in ms}
        self.reference_ = X.median() if weights is None else _weighted_median(X, weights)
        if self.kind == "gbm":
            from sklearn.ensemble import HistGradientBoostingClassifier

            values = X.to_numpy(dtype=float)
            self.bins_ = None
            if weights is not None:  # weighted quantile bins, computed here (see _weighted_bins)
                self.bins_ = _weighted_bins(values, weights)
                values = self._binned(values)
            with _threads():  # fitted on a plain array: prediction in tight loops skips pandas checks
                self.estimator_ = HistGradientBoostingClassifier(
                    max_iter=self.max_iter, learning_rate=self.learning_rate, max_leaf_nodes=self.max_leaf_nodes,
                    min_samples_leaf=self.min_samples_leaf, l2_regularization=1.0, random_state=self.random_state,
                ).fit(values, y, sample_weight=weights)
        elif self.kind == "logistic":
            pipe = self._logistic_pipeline(train)
            fit_params = {} if weights is None else {"scale__sample_weight": weights, "model__sample_weight": weights}
            self.estimator_ = pipe.fit(X, y, **fit_params)
        else:
            raise ValueError(f"unknown model kind {self.kind!r}: use 'gbm' or 'logistic'")
        return self

    def _binned(self, values: np.ndarray) -> np.ndarray:
        """The gbm's input: the values themselves, or their bin numbers when the fit binned them."""
        if not self.bins_:
            return values
        values = values.copy()
        for j, thresholds in self.bins_.items():
            col = values[:, j]
            missing = np.isnan(col)
            values[:, j] = np.searchsorted(thresholds, col, side="left")
            values[missing, j] = np.nan
        return values

    def _logistic_pipeline(self, train: pd.DataFrame):
        from sklearn.compose import ColumnTransformer
        from sklearn.impute import SimpleImputer
        from sklearn.linear_model import LogisticRegression
        from sklearn.pipeline import Pipeline
        from sklearn.preprocessing import FunctionTransformer, StandardScaler

        values = train[self.numeric_].astype(float)
        skewed = [c for c in self.numeric_ if values[c].min() >= 0 and values[c].skew() > 1.0]
        self.skewed_ = skewed
        numeric_groups = {g: ms for g, ms in self.groups_.items() if g in self.numeric_}
        log = ColumnTransformer([("log1p", FunctionTransformer(np.log1p, feature_names_out="one-to-one"), skewed)],
                                remainder="passthrough", verbose_feature_names_out=False)
        pipe = Pipeline([
            ("log", log),
            ("impute", SimpleImputer(strategy="median", add_indicator=True, keep_empty_features=True)),
            ("scale", StandardScaler()),
            ("group", _GroupAverager(numeric_groups)),
            ("model", LogisticRegression(C=self.C, max_iter=2000)),
        ])
        pipe.set_output(transform="pandas")
        return pipe

    # ---- prediction and explanation --------------------------------------------------------------
    def predict_matrix(self, X: pd.DataFrame | np.ndarray) -> np.ndarray:
        """Probabilities for a design matrix (:meth:`matrix`, or its values in the same column order)."""
        if self.kind == "gbm":
            X = self._binned(np.asarray(X, dtype=float))
        elif not isinstance(X, pd.DataFrame):
            X = pd.DataFrame(X, columns=self.columns_)
        with _threads():
            return self.estimator_.predict_proba(X)[:, 1]

    def predict_proba(self, frame: pd.DataFrame) -> np.ndarray:
        """Probability of the target (e.g. churn within the horizon) for each row."""
        return self.predict_matrix(self.matrix(frame))

    def contributions(self, frame: pd.DataFrame) -> pd.DataFrame:
        """Per-row log-odds contribution of each driver group (columns = group names); they add up,
        with ``attrs["base"]``, to the model's log-odds. SHAP for ``gbm``; linear terms for ``logistic``."""
        X = self.matrix(frame)
        if self.kind == "gbm":
            import warnings

            with warnings.catch_warnings():  # shap's import warns about matplotlib colormap APIs
                warnings.simplefilter("ignore")
                import shap

            with _threads():
                explainer = shap.TreeExplainer(self.estimator_)
                values = pd.DataFrame(np.asarray(explainer.shap_values(self._binned(X.to_numpy(dtype=float)))),
                                      columns=X.columns, index=frame.index)
            base = float(np.ravel(explainer.expected_value)[0])
            by_column = values
        else:
            steps = self.estimator_.named_steps
            Z = self.estimator_[:-1].transform(X)
            coef = pd.Series(steps["model"].coef_[0], index=Z.columns)
            by_column = Z * coef
            base = float(steps["model"].intercept_[0])
            # missing indicators and grouped terms belong to their feature's group
            rename = {c: c.removeprefix("missingindicator_") for c in by_column.columns}
            by_column = by_column.rename(columns=rename)
            by_column = by_column.T.groupby(level=0).sum().T
        groups = by_column.T.groupby(lambda c: self.column_group_.get(c, c)).sum().T
        groups.attrs["base"] = base
        return groups


# ==================================================================================================
# The at-risk list (reasons and playbooks: csresearch.core.risk_reasons)
# ==================================================================================================
def _account_names(ds: Dataset, account_ids: pd.Series, display_names: pd.Series | None) -> np.ndarray:
    """Names as the report shows them: the caller's display names (pseudonyms) or the CRM's."""
    if display_names is not None:
        return display_names.reindex(account_ids).to_numpy()
    accounts = ds.table("accounts").set_index("account_id")
    return accounts.get("account_name", pd.Series(dtype=str)).reindex(account_ids).to_numpy()

def at_risk_list(ds: Dataset, as_of, horizon_days: int = 90, lead_days: int = 0,
                 health_config: HealthConfig | str | Path | None = None, model: ChurnModel | None = None,
                 frame: pd.DataFrame | None = None, display_names: pd.Series | None = None,
                 risk_threshold: float | None = None, max_rows: int | None = DEFAULT_MAX_TRAIN_ROWS,
                 **observation_settings) -> pd.DataFrame:
    """Every account paying at ``as_of`` (a month like ``"2026-09"``, or a date), riskiest ARR first.

    Works for any ``as_of``: the model is trained only on observations whose churn window closed
    before it, so last month's list can be recomputed as it would have looked then. Pass ``frame``
    (from :func:`observations`) and a fitted ``model`` to reuse them.

    Columns: account_id, account_name, segment, observation_date, mrr, arr, churn_probability,
    arr_at_risk (ARR x probability), health_score, health_band, top_reasons (model, plain words),
    health_triggers (health-score components that fired), touch_tier (current), suggested_touch_tier,
    playbook, playbook_source. The playbook is the health score's when a component fired; when none
    did but the churn probability is at least ``risk_threshold`` (default: 1.5x the churn rate of
    the training rows) it follows the model's strongest reason (:func:`model_playbook`). A model
    fitted here trains on at most ``max_rows`` rows (:func:`training_sample`).
    """
    config = _as_frame_config(health_config)
    if frame is None:
        frame = observations(ds, as_of, horizon_days, lead_days, **observation_settings)
    T = feat.observation_date_for(as_of)
    closed = (frame["observation_date"] + pd.Timedelta(days=horizon_days + lead_days) <= T).to_numpy()
    if model is None:
        model = ChurnModel("gbm").fit(frame, max_rows=max_rows, rows=closed)
    if risk_threshold is None:
        known = frame["churned"][closed]
        risk_threshold = 1.5 * float(known.mean()) if known.notna().any() else 0.2
    now = frame[frame["observation_date"] == T].copy()
    if now.empty:
        raise NotEnoughData(f"no account paying at {T.date()}: there is no one to list")
    now["churn_probability"] = model.predict_proba(now)
    contrib = model.contributions(now)
    now["top_reasons"] = reasons(model, now, 3, contrib)
    health = scores_or_none(now, config)
    if health is None:  # no health-score metric in the data: the list still ranks by the model
        health = pd.DataFrame({"health_score": np.nan, "health_band": "unscored", "triggered": "",
                               "playbook": config.default_playbook}, index=now.index)
    else:
        health = health.set_index(now.index)
    out = pd.DataFrame({
        "account_id": now["account_id"],
        "account_name": _account_names(ds, now["account_id"], display_names),
        "segment": now.get("segment", pd.Series("unknown", index=now.index)),
        "observation_date": now["observation_date"],
        "mrr": now["mrr"],
        "arr": now["mrr"] * 12,
        "churn_probability": now["churn_probability"].round(4),
    })
    out["arr_at_risk"] = (out["arr"] * out["churn_probability"]).round(2)
    out["health_score"] = health["health_score"]
    out["health_band"] = health["health_band"]
    out["top_reasons"] = now["top_reasons"]
    out["health_triggers"] = health["triggered"].replace("", "none")
    out["touch_tier"] = now.get("touch_tier", pd.Series("unknown", index=now.index))
    out["suggested_touch_tier"] = suggest_touch_tier(out["arr"], out["churn_probability"])
    fired = health["triggered"] != ""
    risky = now["churn_probability"] >= risk_threshold
    monthly = now.get("billing_period", pd.Series("", index=now.index)).astype(str) == "monthly"
    out["playbook"] = health["playbook"].where(fired | ~risky, model_playbook(model, contrib, config, monthly))
    out["playbook_source"] = np.select([fired, risky], ["health score", "risk model"], "none (healthy)")
    out = out.sort_values(["arr_at_risk", "account_id"], ascending=[False, True]).reset_index(drop=True)
    out.insert(0, "rank", np.arange(1, len(out) + 1))
    out.attrs["horizon_days"] = horizon_days
    out.attrs["risk_threshold"] = float(risk_threshold)  # at or above it an account is "at risk" (a likely churner)
    return out


