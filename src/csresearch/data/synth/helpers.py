"""Small numeric helpers of the synthetic world: sigmoid/logit, category draws, day and second
counts to datetime64, parameter merging and conversion of the truth to plain JSON types."""

from __future__ import annotations

import copy

import numpy as np


def _sigmoid(x):
    return 1.0 / (1.0 + np.exp(-x))


def _logit(p):
    return np.log(p / (1.0 - p))


def _vec(mapping: dict, keys) -> np.ndarray:
    return np.array([float(mapping[k]) for k in keys])


def _probs(mapping: dict, keys) -> np.ndarray:
    v = _vec(mapping, keys)
    return v / v.sum()


def _choice_by_row(rng, prob_rows: np.ndarray, idx: np.ndarray) -> np.ndarray:
    """Draw one category per element, with probabilities prob_rows[idx] (vectorised)."""
    cum = np.cumsum(prob_rows, axis=1)
    cum[:, -1] = 1.0
    u = rng.random(len(idx))
    return (u[:, None] > cum[idx]).sum(axis=1)


def _days_to_dt(days: np.ndarray) -> np.ndarray:
    """int days since epoch (-1 = missing) -> datetime64[ns] at midnight (NaT for missing)."""
    days = np.asarray(days, dtype=np.int64)
    out = days.astype("datetime64[D]").astype("datetime64[ns]")
    out[days < 0] = np.datetime64("NaT")
    return out


def _secs_to_dt(secs: np.ndarray) -> np.ndarray:
    """int seconds since epoch (-1 = missing) -> datetime64[ns]."""
    secs = np.asarray(secs, dtype=np.int64)
    out = secs.astype("datetime64[s]").astype("datetime64[ns]")
    out[secs < 0] = np.datetime64("NaT")
    return out


def _iso(day: int) -> str:
    return str(np.datetime64(int(day), "D"))


def _merge_params(base: dict, overrides: dict) -> dict:
    params = copy.deepcopy(base)
    for key, value in overrides.items():
        if key not in params:
            raise TypeError(f"build_world() got an unknown parameter {key!r}")
        if isinstance(params[key], dict) and isinstance(value, dict):
            unknown = set(value) - set(params[key])
            if unknown:
                raise ValueError(f"parameter {key!r}: unknown key(s) {sorted(unknown)}")
            params[key] = {**params[key], **value}
        else:
            params[key] = value
    return params


def _jsonable(obj):
    if isinstance(obj, dict):
        return {str(k): _jsonable(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_jsonable(v) for v in obj]
    if isinstance(obj, (np.integer,)):
        return int(obj)
    if isinstance(obj, (np.floating, float)):
        v = float(obj)
        return None if not np.isfinite(v) else v
    if isinstance(obj, np.bool_):
        return bool(obj)
    if isinstance(obj, np.ndarray):
        return _jsonable(obj.tolist())
    return obj
