"""The simulation's shared core: the calendar grid (window months, billing boundaries), the random
streams and the containers for the tables and the truth. Every stage of the builder (population,
simulate, tables_*, truth) is a mixin on this base."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from .params import _RNG_STREAMS
from .vocab import Vocab, vocab_for


class _BuilderBase:
    # state set by one stage and read by the typed helpers of another
    bday_dom: np.ndarray
    bd: np.ndarray
    annual: np.ndarray
    at_risk: np.ndarray
    H_static: np.ndarray
    ad_day: np.ndarray
    exp_day: int
    exp_end: int
    exp_mult: np.ndarray

    OFF = 12  # grid column of window month 0; the grid starts 12 months before the window

    def __init__(self, p: dict):
        self.p = p
        self.vocab: Vocab = vocab_for(p.get("locale", "en"))  # labels and currency only, never a draw
        self.n = p["accounts"]
        self.months = p["months"]
        end_m = np.datetime64(p["end_month"], "M")
        self.m0 = end_m - (self.months - 1)
        self.ws = int(self.m0.astype("datetime64[D]").astype(np.int64))
        self.we = int((end_m + 1).astype("datetime64[D]").astype(np.int64)) - 1  # last day, inclusive
        self.J = self.OFF + self.months + 26
        self.gs = np.arange(self.J) - self.OFF  # window month index of each grid column
        self.month_start = (self.m0 + self.gs).astype("datetime64[D]").astype(np.int64)
        seqs = np.random.SeedSequence(p["seed"]).spawn(len(_RNG_STREAMS))
        self.rng = {name: np.random.default_rng(s) for name, s in zip(_RNG_STREAMS, seqs)}
        self.tables: dict[str, pd.DataFrame] = {}
        self.truth: dict[str, Any] = {}

    # window month index of a month string / day
    def _month_index(self, month: str) -> int:
        return int(np.datetime64(month, "M") - self.m0)

    def _day_month_index(self, days: np.ndarray) -> np.ndarray:
        return (np.asarray(days).astype("datetime64[D]").astype("datetime64[M]") - self.m0).astype(np.int64)

    def _bday_at(self, idx: np.ndarray, g: np.ndarray) -> np.ndarray:
        """Boundary day of accounts idx in window month g (g may be any int)."""
        ms = (self.m0 + np.asarray(g, dtype=np.int64)).astype("datetime64[D]").astype(np.int64)
        return ms + self.bday_dom[idx] - 1
