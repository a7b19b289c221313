"""Churn drivers: which accounts will churn, why, and whom should a CSM call first?

The pieces, in the order the report uses them:

- :func:`observations`: point-in-time rows (features from :mod:`csresearch.features`, data strictly
  before each observation date) labelled with churn within ``horizon_days`` after ``lead_days``, from
  :func:`csresearch.churn.paying_spells` (the one definition of churn). A label whose window is not
  over by the report date is unknown (NaN), never "did not churn": that is how censoring is handled.
- :class:`ChurnModel`: a gradient-boosted model (``gbm``) or a regularised logistic regression on
  scaled, log-transformed features with correlated metrics grouped (``logistic``);
  :func:`backtest` trains on earlier observations and tests on later ones.
- :func:`driver_table`: drivers ranked by grouped permutation importance, with direction and size in
  plain words; :meth:`ChurnModel.contributions`: per-account SHAP contributions.
- :func:`load_health_config` / :func:`health_scores`: the transparent 0-100 health score from
  ``params/health_score.yml``; :func:`validate_health_score` checks it against realised churn.
- :func:`at_risk_list` / :func:`expansion_candidates`: the lists a CS team works from, for any month.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd
import yaml
from sklearn.base import BaseEstimator, TransformerMixin
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from . import features as feat
from .churn import movements, paying_spells
from .data import Dataset

DEFAULT_HEALTH_CONFIG = Path(__file__).resolve().parents[2] / "params" / "health_score.yml"
BANDS = ("green", "yellow", "red")


def _threads():
    """OpenMP thread limit for model fitting: one thread. OpenMP sizes its pool from the host's CPU
    count, not the container's quota, and on a shared 2-core machine the oversubscribed pool made a
    5,000-row fit 40x slower (27 s vs 0.6 s)."""
    from threadpoolctl import threadpool_limits

    return threadpool_limits(limits=1, user_api="openmp")


# ==================================================================================================
# Health-score configuration
# ==================================================================================================
class HealthConfigError(ValueError):
    """A health-score YAML is wrong. Names the file, the component, the field and the broken rule."""

    def __init__(self, file: str, component: str | None, field: str | None, rule: str):
        self.file, self.component, self.field, self.rule = file, component, field, rule
        where = f"component '{component}'" if component else "top level"
        super().__init__(f"{file}: {where}, field '{field or '-'}': {rule}")


class _Component(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str = Field(min_length=1)
    metric: str
    bad_when: Literal["below", "above"]
    red: float
    green: float
    weight: float = Field(gt=0)
    playbook: str = Field(min_length=1)
    reason: str | None = None
    missing_score: float = Field(default=50.0, ge=0, le=100)

    @field_validator("metric")
    @classmethod
    def _known_metric(cls, metric: str) -> str:
        if not feat.is_known_feature(metric) or metric in feat.CATEGORICAL:
            close = difflib.get_close_matches(metric, [m for m in feat.FEATURES if m not in feat.CATEGORICAL], n=1)
            hint = f" (did you mean '{close[0]}'?)" if close else ""
            raise ValueError(f"unknown metric '{metric}'{hint}; metrics are the numeric columns of "
                             "csresearch.features.FEATURES or usage_<event>_per_seat / _per_active_user")
        return metric

    @model_validator(mode="after")
    def _thresholds_in_order(self):
        if self.bad_when == "below" and not self.red < self.green:
            raise ValueError(f"bad_when 'below' needs red < green (got red {self.red}, green {self.green})")
        if self.bad_when == "above" and not self.red > self.green:
            raise ValueError(f"bad_when 'above' needs red > green (got red {self.red}, green {self.green})")
        return self


class _Bands(BaseModel):
    model_config = ConfigDict(extra="forbid")
    green: float = Field(default=70, ge=0, le=100)
    yellow: float = Field(default=40, ge=0, le=100)

    @model_validator(mode="after")
    def _ordered(self):
        if not self.yellow < self.green:
            raise ValueError(f"bands need yellow < green (got yellow {self.yellow}, green {self.green})")
        return self


class _HealthFile(BaseModel):
    model_config = ConfigDict(extra="forbid")
    bands: _Bands = _Bands()
    default_playbook: str = "Healthy: keep the usual cadence."
    components: list[_Component] = Field(min_length=1)

    @model_validator(mode="after")
    def _unique_names(self):
        names = [c.name for c in self.components]
        dupes = sorted({n for n in names if names.count(n) > 1})
        if dupes:
            raise ValueError(f"component names must be unique; repeated: {dupes}")
        return self


@dataclass(frozen=True)
class HealthComponent:
    name: str
    metric: str
    bad_when: str
    red: float
    green: float
    weight: float
    playbook: str
    reason: str
    missing_score: float = 50.0

    def score(self, values: pd.Series) -> pd.Series:
        """0 at (or beyond) ``red``, 100 at (or beyond) ``green``, linear between; missing -> missing_score."""
        raw = (values.astype(float) - self.red) / (self.green - self.red)
        return (raw.clip(0, 1) * 100).fillna(self.missing_score)

    def triggered(self, values: pd.Series) -> pd.Series:
        v = values.astype(float)
        return (v <= self.red) if self.bad_when == "below" else (v >= self.red)


@dataclass(frozen=True)
class HealthConfig:
    components: tuple[HealthComponent, ...]
    green_from: float = 70.0
    yellow_from: float = 40.0
    default_playbook: str = "Healthy: keep the usual cadence."
    source: str = "<dict>"

    @property
    def weights(self) -> pd.Series:
        w = pd.Series({c.name: c.weight for c in self.components}, dtype=float)
        return w / w.sum()

    def band(self, score: pd.Series) -> pd.Series:
        return pd.Series(np.select([score >= self.green_from, score >= self.yellow_from], ["green", "yellow"], "red"),
                         index=score.index)


def _config_error(file: str, raw: Any, exc: ValidationError) -> HealthConfigError:
    err = exc.errors()[0]
    loc = list(err["loc"])
    component, field_name = None, None
    if loc and loc[0] == "components" and len(loc) > 1 and isinstance(loc[1], int):
        index = loc[1]
        try:
            component = str(raw["components"][index].get("name") or f"#{index + 1}")
        except (KeyError, IndexError, TypeError, AttributeError):
            component = f"#{index + 1}"
        field_name = str(loc[2]) if len(loc) > 2 else None
    elif loc:
        field_name = ".".join(str(x) for x in loc)
    rule = err["msg"].removeprefix("Value error, ")
    if err["type"] == "extra_forbidden":
        rule = "unknown field (typo?)"
    if field_name is None and component is not None and "red" in rule:
        field_name = "red/green"
    return HealthConfigError(file, component, field_name, rule)


def parse_health_config(raw: Any, source: str = "<dict>") -> HealthConfig:
    """Validate a health-score definition already read into Python (see ``params/health_score.yml``)."""
    if not isinstance(raw, dict):
        raise HealthConfigError(source, None, None, "expected a mapping with 'components' (and 'bands')")
    try:
        parsed = _HealthFile.model_validate(raw)
    except ValidationError as exc:
        raise _config_error(source, raw, exc) from None
    comps = tuple(
        HealthComponent(c.name, c.metric, c.bad_when, c.red, c.green, c.weight, c.playbook,
                        c.reason or feat.describe(c.metric), c.missing_score)
        for c in parsed.components
    )
    return HealthConfig(comps, parsed.bands.green, parsed.bands.yellow, parsed.default_playbook, source)


def load_health_config(path: str | Path | None = None) -> HealthConfig:
    """Read and validate the health-score YAML (default ``params/health_score.yml``).

    A bad file raises :class:`HealthConfigError` naming the file, the component, the field and the
    rule, e.g. ``params/health_score.yml: component 'seat_adoption', field 'metric': unknown metric
    'active_user_per_seat' (did you mean 'active_users_per_seat'?)``.
    """
    path = Path(path) if path is not None else DEFAULT_HEALTH_CONFIG
    if not path.exists():
        raise HealthConfigError(str(path), None, None, "file does not exist")
    try:
        raw = yaml.safe_load(path.read_text())
    except yaml.YAMLError as exc:
        raise HealthConfigError(str(path), None, None, f"not valid YAML: {exc}") from None
    return parse_health_config(raw, str(path))


# ==================================================================================================
# Health score
# ==================================================================================================
def health_scores(features: pd.DataFrame, config: HealthConfig) -> pd.DataFrame:
    """The health score of every row of ``features`` (one row per account and observation date).

    Returns ``account_id``, ``observation_date``, ``health_score`` (0-100, weighted mean of the
    component scores), ``health_band`` (green / yellow / red), ``triggered`` (the components at or
    beyond their red threshold, in plain words with the value), ``playbook`` (the playbook of the
    heaviest triggered component, else the default), then one ``score_<component>`` column each.
    Components whose metric is absent (optional table missing) are skipped and listed in
    ``result.attrs["skipped_components"]``; the remaining weights are re-normalised.
    """
    used = [c for c in config.components if c.metric in features.columns]
    skipped = [c.name for c in config.components if c.metric not in features.columns]
    if not used:
        raise HealthConfigError(config.source, None, "components",
                                "none of the components' metrics is in the data (missing optional tables?)")
    total_weight = sum(c.weight for c in used)
    out = features[["account_id", "observation_date"]].copy()
    scores = pd.DataFrame({c.name: c.score(features[c.metric]) for c in used}, index=features.index)
    weights = np.array([c.weight / total_weight for c in used])
    out["health_score"] = (scores.to_numpy() @ weights).round(1)
    out["health_band"] = config.band(out["health_score"])

    # plain-word triggers, heaviest first; the playbook is the heaviest triggered component's
    fired = pd.DataFrame({c.name: c.triggered(features[c.metric]).to_numpy() for c in used}, index=features.index)
    by_weight = sorted(used, key=lambda c: -c.weight)
    texts = []
    for c in by_weight:
        values = features[c.metric].astype(float)
        text = c.reason + " (" + feat.describe(c.metric) + " " + values.map(_fmt) + \
            f"; red {'at or below' if c.bad_when == 'below' else 'at or above'} {_fmt(c.red)})"
        texts.append(text.where(fired[c.name], ""))
    joined = pd.concat(texts, axis=1).apply(lambda r: "; ".join(t for t in r if t), axis=1) if texts else ""
    out["triggered"] = joined
    playbook = pd.Series(config.default_playbook, index=features.index)
    for c in reversed(by_weight):  # the heaviest triggered component is written last
        playbook = playbook.mask(fired[c.name], c.playbook)
    out["playbook"] = playbook
    for c in used:
        out[f"score_{c.name}"] = scores[c.name].round(1)
    out.attrs["skipped_components"] = skipped
    return out.reset_index(drop=True)


def _fmt(x: float) -> str:
    if x is None or (isinstance(x, float) and np.isnan(x)):
        return "n/a"
    a = abs(x)
    if a >= 100:
        return f"{x:,.0f}"
    if a >= 10:
        return f"{x:.0f}" if float(x).is_integer() else f"{x:.1f}"
    return f"{x:.0f}" if float(x).is_integer() else f"{x:.2f}"


# ==================================================================================================
# Point-in-time observations and labels
# ==================================================================================================
def observations(ds: Dataset, as_of, horizon_days: int = 90, lead_days: int = 0, every_months: int = 1,
                 history_months: int = 24, windows_days: tuple[int, int] = (30, 30),
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
        raise ValueError(f"no observation date between the start of the data and {T.date()}")
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
    k = max(1, int(round(int(horizon_days) / 30.4375)))
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
    """(numeric, categorical) columns a model may use: features only, never labels or keys."""
    numeric = [c for c in feat.numeric_features(frame) if c not in LABELS]
    numeric = [c for c in numeric if frame[c].notna().any()]
    return numeric, feat.categorical_features(frame)


# ==================================================================================================
# Models
# ==================================================================================================
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


def group_label(name: str, members: list[str]) -> str:
    """A group's name in plain words: its lead metric, plus how many related ones move with it."""
    text = feat.describe(name)
    return text if len(members) == 1 else f"{text} (+{len(members) - 1} related)"


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
    max_iter: int = 200
    learning_rate: float = 0.05
    max_leaf_nodes: int = 15
    min_samples_leaf: int = 40
    group_threshold: float = 0.7
    random_state: int = 0
    numeric_: list[str] = field(default_factory=list, repr=False)
    categorical_: list[str] = field(default_factory=list, repr=False)
    levels_: dict[str, list[str]] = field(default_factory=dict, repr=False)
    groups_: dict[str, list[str]] = field(default_factory=dict, repr=False)
    column_group_: dict[str, str] = field(default_factory=dict, repr=False)
    estimator_: Any = field(default=None, repr=False)
    reference_: pd.Series | None = field(default=None, repr=False)

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
            categorical: list[str] | None = None) -> "ChurnModel":
        train = frame[frame[self.target].notna()]
        auto_numeric, auto_categorical = model_features(train)
        self.numeric_ = [c for c in (numeric if numeric is not None else auto_numeric) if train[c].notna().any()]
        self.categorical_ = list(categorical if categorical is not None else auto_categorical)
        self.levels_ = {}
        for col in self.categorical_:
            counts = train[col].astype(str).value_counts()
            self.levels_[col] = [lvl for lvl in counts.index if counts[lvl] >= 30][:12]
        y = train[self.target].astype(int).to_numpy()
        if len(np.unique(y)) < 2:
            raise ValueError(f"cannot fit a model: every training row has {self.target} = {y[0] if len(y) else '?'}")
        X = self.matrix(train)
        self.groups_ = correlated_groups(train, self.numeric_, self.group_threshold)
        self.groups_.update({col: [f"{col}={lvl}" for lvl in self.levels_[col]] for col in self.categorical_})
        self.column_group_ = {m: g for g, ms in self.groups_.items() for m in ms}
        self.reference_ = X.median()
        if self.kind == "gbm":
            from sklearn.ensemble import HistGradientBoostingClassifier

            with _threads():
                self.estimator_ = HistGradientBoostingClassifier(
                    max_iter=self.max_iter, learning_rate=self.learning_rate, max_leaf_nodes=self.max_leaf_nodes,
                    min_samples_leaf=self.min_samples_leaf, l2_regularization=1.0, random_state=self.random_state,
                ).fit(X, y)
        elif self.kind == "logistic":
            self.estimator_ = self._logistic_pipeline(train).fit(X, y)
        else:
            raise ValueError(f"unknown model kind {self.kind!r}: use 'gbm' or 'logistic'")
        return self

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
    def predict_matrix(self, X: pd.DataFrame) -> np.ndarray:
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
            import shap

            with _threads():
                explainer = shap.TreeExplainer(self.estimator_)
                values = pd.DataFrame(np.asarray(explainer.shap_values(X)), columns=X.columns, index=frame.index)
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
# Reasons and the at-risk list
# ==================================================================================================
def reasons(model: ChurnModel, frame: pd.DataFrame, top: int = 3, contributions: pd.DataFrame | None = None,
            direction: int = 1) -> pd.Series:
    """The ``top`` drivers pushing each row's prediction up (``direction`` 1) in plain words, each
    with the account's value and the typical (median) value, e.g. "active users per seat 0.21
    (typical 0.75)". Only drivers that raise the risk are named."""
    contrib = contributions if contributions is not None else model.contributions(frame)
    X = model.matrix(frame)
    out = []
    values = contrib.to_numpy() * direction
    names = np.array(contrib.columns)
    order = np.argsort(-values, axis=1)[:, :top]
    for i, idx in enumerate(order):
        parts = []
        for j in idx:
            if values[i, j] <= 0.02:  # ~2% in odds: too small to be a reason
                break
            parts.append(_reason_text(model, names[j], X.iloc[i], frame.iloc[i]))
        out.append("; ".join(parts) if parts else "no single driver stands out")
    return pd.Series(out, index=frame.index)


def _reason_text(model: ChurnModel, group: str, x: pd.Series, row: pd.Series) -> str:
    if group in model.categorical_:
        return f"{feat.describe(group)}: {row[group]}"
    value = x[group]
    if group == "months_to_renewal":
        return f"renewal due in {_fmt(value)} month{'s' if value != 1 else ''}"
    typical = model.reference_.get(group, np.nan)
    return f"{feat.describe(group)} {_fmt(value)} (typical {_fmt(typical)})"


def suggest_touch_tier(arr: pd.Series, risk: pd.Series, high_value_quantile: float = 0.8,
                       low_value_quantile: float = 0.4, high_risk: float = 0.2) -> pd.Series:
    """A suggested touch tier from value and risk: ``high`` for the top ``1 - high_value_quantile`` of
    ARR, or above-median ARR with churn risk >= ``high_risk``; ``tech`` for the bottom
    ``low_value_quantile`` of ARR at lower risk; ``low`` otherwise."""
    hi, lo, mid = arr.quantile(high_value_quantile), arr.quantile(low_value_quantile), arr.median()
    return pd.Series(np.select(
        [(arr >= hi) | ((arr >= mid) & (risk >= high_risk)), (arr < lo) & (risk < high_risk)],
        ["high", "tech"], "low"), index=arr.index)


def _as_frame_config(health_config) -> HealthConfig:
    if isinstance(health_config, HealthConfig):
        return health_config
    return load_health_config(health_config)


def at_risk_list(ds: Dataset, as_of, horizon_days: int = 90, lead_days: int = 0,
                 health_config: HealthConfig | str | Path | None = None, model: ChurnModel | None = None,
                 frame: pd.DataFrame | None = None, display_names: pd.Series | None = None,
                 **observation_settings) -> pd.DataFrame:
    """Every account paying at ``as_of`` (a month like ``"2026-09"``, or a date), riskiest ARR first.

    Works for any ``as_of``: the model is trained only on observations whose churn window closed
    before it, so last month's list can be recomputed as it would have looked then. Pass ``frame``
    (from :func:`observations`) and a fitted ``model`` to reuse them.

    Columns: account_id, account_name, segment, observation_date, mrr, arr, churn_probability,
    arr_at_risk (ARR x probability), health_score, health_band, top_reasons (model, plain words),
    health_triggers (health-score components that fired), touch_tier (current), suggested_touch_tier,
    playbook.
    """
    config = _as_frame_config(health_config)
    if frame is None:
        frame = observations(ds, as_of, horizon_days, lead_days, **observation_settings)
    T = feat.observation_date_for(as_of)
    if model is None:
        train = frame[(frame["observation_date"] + pd.Timedelta(days=horizon_days + lead_days) <= T)]
        model = ChurnModel("gbm").fit(train)
    now = frame[frame["observation_date"] == T].copy()
    if now.empty:
        raise ValueError(f"no account is paying at {T.date()}")
    now["churn_probability"] = model.predict_proba(now)
    contrib = model.contributions(now)
    now["top_reasons"] = reasons(model, now, 3, contrib)
    health = health_scores(now, config).set_index(now.index)
    accounts = ds.table("accounts").set_index("account_id")
    out = pd.DataFrame({
        "account_id": now["account_id"],
        "account_name": (display_names.reindex(now["account_id"]).to_numpy() if display_names is not None
                         else accounts.get("account_name", pd.Series(dtype=str)).reindex(now["account_id"]).to_numpy()),
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
    out["playbook"] = health["playbook"]
    out = out.sort_values(["arr_at_risk", "account_id"], ascending=[False, True]).reset_index(drop=True)
    out.insert(0, "rank", np.arange(1, len(out) + 1))
    out.attrs["horizon_days"] = horizon_days
    return out
