"""Where to grow: the expansion (upsell / cross-sell) priority list, from the same point-in-time
features as the churn model."""

from __future__ import annotations

import numpy as np
import pandas as pd

from ...core import features as feat
from ...core.risk import DEFAULT_MAX_TRAIN_ROWS, ChurnModel, _account_names, reasons
from ...data import Dataset

# the columns of expansion_candidates.csv, in order (``play`` and ``cross_sell`` are the keys
# :func:`.words.suggested_plays` turns into ``suggested_play``)
EXPANSION_COLUMNS = ("rank", "account_id", "account_name", "segment", "mrr", "arr", "expansion_probability",
                     "expected_expansion_arr", "seat_utilisation", "top_reasons", "health_band", "suggested_play",
                     "products")


def _products_held(ds: Dataset, day: pd.Timestamp) -> pd.Series:
    subs = ds.table("subscriptions")
    active = subs[(subs["start_date"] <= day) & (subs["end_date"].isna() | (subs["end_date"] > day)) & (subs["mrr"] > 0)]
    return active.groupby("account_id")["product"].agg(lambda s: sorted(set(s.astype(str))))


def _add_on_products(held: pd.Series) -> list[str]:
    """Products that are mostly bought alongside another product (add-ons), the cross-sell candidates."""
    exploded = held.explode()
    counts = held.map(len)
    out = []
    for product, accounts in exploded.groupby(exploded).groups.items():
        with_other = (counts.loc[accounts] > 1).mean()
        if with_other >= 0.5:
            out.append(str(product))
    return out


def expansion_candidates(ds: Dataset, as_of, frame: pd.DataFrame, health: pd.DataFrame | None = None,
                         model: ChurnModel | None = None, horizon_days: int = 90, lead_days: int = 0,
                         display_names: pd.Series | None = None, full_seats: float = 0.9,
                         max_rows: int | None = DEFAULT_MAX_TRAIN_ROWS,
                         groups: dict[str, list[str]] | None = None) -> pd.DataFrame:
    """The expansion (upsell / cross-sell) priority list for accounts paying at ``as_of``.

    A gradient-boosted model of ``expanded`` (an expansion movement within the horizon, per
    :func:`csresearch.core.revenue.movements`) gives each account's probability; expected expansion
    ARR = probability x the median expansion ARR of its segment in the training rows. The play
    (``play``): ``stabilise`` first when health is red; a ``seat upsell`` when at least ``full_seats``
    of the seats are active; otherwise a ``cross-sell`` of the add-on products the account lacks
    (``cross_sell``); else a ``plan upgrade`` conversation. The model trains on at most ``max_rows``
    rows (every expanded row, a stratified weighted sample of the others); ``result.attrs["sampling"]``
    says what it kept. Raises :class:`NotEnoughData` when the closed windows hold no expansion (or
    only expansions).
    """
    T = feat.observation_date_for(as_of)
    if model is None:
        closed = (frame["observation_date"] + pd.Timedelta(days=horizon_days + lead_days) <= T).to_numpy()
        model = ChurnModel("gbm", target="expanded").fit(frame, max_rows=max_rows, groups=groups, rows=closed)
    else:
        closed = np.ones(len(frame), dtype=bool)
    now = frame[frame["observation_date"] == T].copy()
    p = model.predict_proba(now)
    gained = frame[closed & (frame["expanded"] == 1).to_numpy()]
    seg = "segment" if "segment" in frame else None
    overall = float(gained["expansion_mrr"].median() * 12) if len(gained) else 0.0
    typical = (gained.groupby(seg)["expansion_mrr"].median() * 12) if seg else pd.Series(dtype=float)
    typical_arr = now[seg].map(typical).fillna(overall) if seg else pd.Series(overall, index=now.index)
    held = _products_held(ds, T - pd.Timedelta(days=1))
    add_ons = _add_on_products(held)
    out = pd.DataFrame({
        "account_id": now["account_id"],
        "account_name": _account_names(ds, now["account_id"], display_names),
        "segment": now.get("segment", pd.Series("unknown", index=now.index)),
        "mrr": now["mrr"], "arr": now["mrr"] * 12,
        "expansion_probability": np.round(p, 4),
        "expected_expansion_arr": np.round(p * typical_arr, 2),
        "seat_utilisation": now.get("active_users_per_seat", pd.Series(np.nan, index=now.index)).round(2),
    })
    out["top_reasons"] = reasons(model, now, 3)
    band = (health.set_index(["account_id", "observation_date"])["health_band"]
            .reindex(pd.MultiIndex.from_frame(now[["account_id", "observation_date"]])).to_numpy()
            if health is not None else np.full(len(now), "unknown"))
    out["health_band"] = band
    lacking = now["account_id"].map(lambda a: [x for x in add_ons if x not in held.get(a, [])])
    out["play"] = np.where(out["health_band"] == "red", "stabilise",
                           np.where(out["seat_utilisation"] >= full_seats, "seat upsell",
                                    np.where(lacking.map(len) > 0, "cross-sell", "plan upgrade")))
    out["cross_sell"] = lacking.map(lambda x: ", ".join(x))
    out["products"] = now["account_id"].map(lambda a: ", ".join(held.get(a, [])))
    out = out.sort_values(["expected_expansion_arr", "account_id"], ascending=[False, True]).reset_index(drop=True)
    out.insert(0, "rank", np.arange(1, len(out) + 1))
    out.attrs["sampling"] = model.sampling
    return out
