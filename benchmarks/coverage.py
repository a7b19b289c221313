"""Coverage runs (issue 16): do the key estimators find a planted truth, and do their 95% intervals
cover it 95% of the time?

For each estimator, N seeds of an **effect world** (a planted, non-zero truth) and a **null world**
(the same world with the effect switched off), and per estimator and world: the truth, the mean
estimate, the bias, the root mean squared error, the share of 95% intervals that cover the truth,
the mean interval width and the estimator's mean runtime per seed.

Estimators (``--estimators``, comma-separated; default all):

- ``adoption``: the experiments report's non-randomised feature-adoption study (``read_experiment``
  with the report's settings for ``feature_workflow_automation``, ``primary_effect()``): effect on
  365-day retention of the adopters; truth ``expected_retention_effect_on_adopters`` of the synthetic
  world (its planted adoption hazard ratio 0.85, or 1 in the null world: truth exactly 0).
- ``itt``: the randomised CS-outreach experiment's primary estimate (CUPED-adjusted intention to
  treat on 182-day retention); truth ``ate_retention_6m`` (the planted hazard multipliers, or 1 in the
  null world: truth exactly 0).
- ``ttv_hr``: the onboarding-survival report's hazard ratio of churn, first value within 30 days vs
  none by day 90 (``tests/survival_coverage.py``); truth 1 / planted ``ttv_hazard_ratio`` (1.8; 1 in
  the null world).
- ``mix``: the churn decomposition's contribution of the segment it names (the largest contribution,
  ``leading_segment``) to the change in logo churn between two 3-month windows, with its simultaneous
  bootstrap interval; a generator with planted segment shares and monthly churn rates per window
  (:data:`MIX_WORLDS`); truth = the same decomposition applied to the expected shares and the planted
  rates.
- ``nrr`` and ``grr``: the churn decomposition's 12-month cohort NRR and GRR (``cohort_retention_12m``
  on the account-month table ``account_month_churn`` builds from subscriptions); a generator of
  monthly churn, expansion and contraction (:data:`NRR_WORLDS`) with lognormal starting MRR, whose
  population NRR = ((1 - churn)(1 + p_up x up - p_down x down))^12 and GRR (the expected capped ratio,
  summed exactly over the number of ups and downs).

The three estimators read from a synthetic world (adoption, itt, ttv_hr) share one world per seed and
kind: the effect world is ``build_world(accounts=2000, months=36, seed, ttv_hazard_ratio=1.8)`` (the
world ``tests/survival_coverage.py`` uses, cached like every test world), the null world the same with
every planted effect off (:data:`NULL_OVERRIDES`). Worlds are built once and cached under
``.pytest_cache/worlds``.

Run::

    .venv/bin/python benchmarks/coverage.py --seeds 20                      # every estimator
    .venv/bin/python benchmarks/coverage.py --seeds 3 --estimators mix,nrr  # a few

It prints one line per replicate and the table, and writes ``benchmarks/out/coverage_runs.csv`` (one
row per replicate) and ``benchmarks/out/coverage.csv`` (the table). Not a timed test: ``tests/
test_coverage_runs.py`` runs three seeds of it with bounds from their sampling error.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import math
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

OUT = ROOT / "benchmarks" / "out"
END_MONTH = "2026-10"
AS_OF = pd.Timestamp("2026-10-31")
OUTREACH, ADOPTION = "exp_cs_outreach_2026", "feature_workflow_automation"
WORLDS = ("effect", "null")

# The synthetic world of the three report estimators: tests/survival_coverage.py's (2000 accounts, 36
# months; the demo world has 5000): an effect world per seed is shared with the survival tests' cache.
SYNTH_WORLD = dict(accounts=2000, months=36, end_month=END_MONTH)
EFFECT_TTV_HAZARD_RATIO = 1.8
# The null world: every effect an estimator here reads is off (selection into adoption, the
# experiment's randomisation and exposure, and everything else stay as they are).
NULL_OVERRIDES = {
    "ttv_hazard_ratio": 1.0,
    "adoption_hazard_ratio": 1.0,
    "experiment_hazard_multiplier_by_segment": {"SMB": 1.0, "Mid-Market": 1.0, "Enterprise": 1.0},
}

# Mix-vs-rate: per segment (share of accounts, monthly churn) before and after. Effect world: the
# issue's case, A grows at an unchanged rate while B's rate rises (B drives the change, +0.40 pt of
# +0.18 pt; A and C move only mix); null world: nothing changes (every contribution 0).
MIX_WORLDS = {
    "effect": {"A": (0.50, 0.020, 0.65, 0.020), "B": (0.30, 0.020, 0.25, 0.035), "C": (0.20, 0.040, 0.10, 0.040)},
    "null": {"A": (0.50, 0.020, 0.50, 0.020), "B": (0.30, 0.025, 0.30, 0.025), "C": (0.20, 0.040, 0.20, 0.040)},
}
MIX_ACCOUNTS_PER_WINDOW = 4000
MIX_WINDOW_MONTHS = 3

# NRR: monthly churn, P(expansion) and its size, P(contraction) and its size, for 12 months after the
# cohort month. Null world: expansion exactly offsets churn and contraction (population NRR 100%).
NRR_ACCOUNTS = 1000
NRR_MRR_LOG_SD = 1.0   # lognormal starting MRR: a few large accounts hold much of it, as in real books
_NULL_EXPAND = (0.01 * 0.20 + 0.01 / (1 - 0.01)) / 0.25
NRR_WORLDS = {
    "effect": dict(churn=0.015, p_up=0.03, up=0.30, p_down=0.015, down=0.20),
    "null": dict(churn=0.01, p_up=_NULL_EXPAND, up=0.25, p_down=0.01, down=0.20),
}


@dataclass
class Replicate:
    estimate: float
    low: float
    high: float
    truth: float
    seconds: float     # wall time of the estimator alone (the world built and opened before)
    cpu: float = math.nan  # CPU time of this process over the same call (all its threads)
    note: str = ""


class _Clock:
    """Wall and CPU seconds of a block: ``with _Clock() as c: ...``, then ``c.wall``, ``c.cpu``."""

    def __enter__(self) -> _Clock:
        self._wall, self._cpu = time.perf_counter(), time.process_time()
        return self

    def __exit__(self, *exc) -> None:
        self.wall, self.cpu = time.perf_counter() - self._wall, time.process_time() - self._cpu


# ---- the synthetic worlds of the report estimators ---------------------------------------------------
def synth_world_path(seed: int, world: str) -> Path:
    """The DuckDB file of the effect or null synthetic world of ``seed`` (built once, cached)."""
    from filelock import FileLock

    from conftest import CACHE, world_path
    from csresearch.data.synth import SYNTH_VERSION, build_world, save_world

    if world == "effect":
        return world_path(**SYNTH_WORLD, seed=seed, ttv_hazard_ratio=EFFECT_TTV_HAZARD_RATIO)
    params = {**SYNTH_WORLD, **NULL_OVERRIDES, "seed": seed}
    digest = hashlib.sha1(json.dumps(params, sort_keys=True).encode()).hexdigest()[:10]
    key = f"v{SYNTH_VERSION}-coverage-null-accounts{SYNTH_WORLD['accounts']}-seed{seed}-{digest}"
    CACHE.mkdir(parents=True, exist_ok=True)
    path = CACHE / f"{key}.duckdb"
    with FileLock(str(path) + ".lock"):
        if not path.exists():
            tmp = CACHE / f"{key}.building.duckdb"
            save_world(build_world(**params), tmp)
            tmp.with_name(f"{key}.building.truth.json").rename(path.with_name(f"{key}.truth.json"))
            tmp.rename(path)
    return path


_OPEN: dict[tuple[int, str], tuple] = {}


def synth_world(seed: int, world: str):
    """(dataset, truth) of a synthetic world, opened once per process (the estimators share it)."""
    if (seed, world) not in _OPEN:
        from conftest import truth_of
        from csresearch.data import open_dataset

        _OPEN.clear()  # one world open at a time: seeds run in order
        path = synth_world_path(seed, world)
        _OPEN[(seed, world)] = (open_dataset(path), truth_of(path))
    return _OPEN[(seed, world)]


def _primary(readout) -> tuple[float, float, float, str]:
    row = readout.primary_effect()
    if row is None:
        return math.nan, math.nan, math.nan, "no primary estimate: " + " ".join(readout.notes)[:200]
    return float(row["estimate"]), float(row["low"]), float(row["high"]), str(row["estimator"])


def adoption_run(seed: int, world: str) -> Replicate:
    """The adoption study's primary retention effect, as the report reads it (its params file's entry:
    not randomised, matched index dates for the non-adopters, 365-day horizon)."""
    from csresearch.analyses.experiments import compute_readout
    from csresearch.analyses.experiments.settings import settings_for

    ds, truth = synth_world(seed, world)
    t = truth["experiments"][ADOPTION]
    settings = settings_for(ADOPTION, {ADOPTION: {
        "randomized": False, "control_arm": "non_adopter", "treatment_arm": "adopter",
        "horizon_days": t["retention_horizon_days"], "control_index_date": "matched", "outcomes": ["retention"]}})
    with _Clock() as clock:
        readout = compute_readout.read_experiment(ds, settings, AS_OF, uplift_models=())
    est, low, high, note = _primary(readout)
    return Replicate(est, low, high, float(t["expected_retention_effect_on_adopters"]), clock.wall, clock.cpu, note)


def itt_run(seed: int, world: str) -> Replicate:
    """The randomised outreach experiment's primary retention effect (intention to treat)."""
    from csresearch.analyses.experiments import compute_readout
    from csresearch.analyses.experiments.settings import settings_for

    ds, truth = synth_world(seed, world)
    t = truth["experiments"][OUTREACH]
    settings = settings_for(OUTREACH, {OUTREACH: {"horizon_days": t["horizon_days"], "outcomes": ["retention"]}})
    with _Clock() as clock:
        readout = compute_readout.read_experiment(ds, settings, AS_OF, uplift_models=())
    est, low, high, note = _primary(readout)
    return Replicate(est, low, high, float(t["ate_retention_6m"]), clock.wall, clock.cpu, note)


def ttv_run(seed: int, world: str) -> Replicate:
    """The onboarding-survival report's hazard ratio, fast first value vs none by day 90."""
    from survival_coverage import ttv_hazard_ratio_on

    ds, truth = synth_world(seed, world)
    with _Clock() as clock:
        est, low, high, true_hr = ttv_hazard_ratio_on(ds, END_MONTH, truth)
    return Replicate(est, low, high, true_hr, clock.wall, clock.cpu)


# ---- mix vs rate -------------------------------------------------------------------------------------
def _expected_months_at_risk(rate: np.ndarray, months: int) -> np.ndarray:
    return sum((1 - rate) ** k for k in range(months))


def mix_truth(world: str, months: int = MIX_WINDOW_MONTHS) -> pd.Series:
    """Each segment's true contribution to the change in logo churn: the decomposition applied to the
    expected shares of at-risk account-months (share of accounts x expected months at risk, an account
    leaving at its churn) and the planted monthly rates (churns / months at risk in expectation)."""
    from csresearch.analyses.churn_decomposition.compute_change import mix_rate_split

    plan = MIX_WORLDS[world]
    pi0, r0, pi1, r1 = (np.array([v[q] for v in plan.values()]) for q in range(4))
    s0 = pi0 * _expected_months_at_risk(r0, months)
    s1 = pi1 * _expected_months_at_risk(r1, months)
    mix, rate = mix_rate_split(s0 / s0.sum(), r0, s1 / s1.sum(), r1)
    return pd.Series(mix + rate, index=list(plan))


def mix_frame(seed: int, world: str, accounts: int = MIX_ACCOUNTS_PER_WINDOW,
              months: int = MIX_WINDOW_MONTHS) -> pd.DataFrame:
    """Account-month rows (the columns ``churn_change_decomposition`` reads) of two windows of
    ``months`` months ending at END_MONTH: in each window ``accounts`` accounts, their segment drawn
    with the planted shares, each at risk from the window's first month until it churns (monthly
    probability: its segment's planted rate) or the window ends, at $100 MRR."""
    from csresearch.analyses.churn_decomposition.compute_change import window_spans

    rng = np.random.default_rng([seed, 77])
    plan = MIX_WORLDS[world]
    names = np.array(list(plan))
    parts = []
    for w, span in enumerate(window_spans(END_MONTH, months)):
        shares = np.array([v[2 * w] for v in plan.values()])
        rates = np.array([v[2 * w + 1] for v in plan.values()])
        seg = rng.choice(len(names), size=accounts, p=shares)
        churn_at = rng.geometric(rates[seg])            # month (1-based) of the churn
        at_risk_months = np.minimum(churn_at, months)
        acc = np.repeat(np.arange(accounts), at_risk_months)
        k = np.concatenate([np.arange(m) for m in at_risk_months])
        churned = (k + 1) == churn_at[acc]
        parts.append(pd.DataFrame({
            "account_id": [f"w{w}-{a}" for a in acc],
            "month": [span[i] for i in k],
            "prev_mrr": 100.0, "mrr": np.where(churned, 0.0, 100.0),
            "movement": np.where(churned, "churn", "flat"),
            "at_risk": True, "churned": churned, "segment": names[seg[acc]],
        }))
    return pd.concat(parts, ignore_index=True)


def mix_run(seed: int, world: str) -> Replicate:
    """The contribution of the segment the report names (largest in size) and its simultaneous
    interval; truth: that segment's true contribution. The note says whether the report named the
    segment with the largest true contribution and whether every segment's interval covered."""
    from csresearch.analyses.churn_decomposition.compute_change import churn_change_decomposition, leading_segment

    frame = mix_frame(seed, world)
    truth = mix_truth(world)
    with _Clock() as clock:
        table = churn_change_decomposition(frame, "segment", END_MONTH, MIX_WINDOW_MONTHS)
        lead = leading_segment(table, "logo_churn")
    rows = table[table["metric"] == "logo_churn"].set_index("segment")
    all_covered = bool(((rows["total_low"] <= truth[rows.index]) & (truth[rows.index] <= rows["total_high"])).all())
    true_lead = truth.abs().idxmax() if truth.abs().max() > 0 else ""
    note = f"named {lead['segment']}" + (f" (true lead {true_lead})" if true_lead else "") + \
        f"; every segment covered: {'yes' if all_covered else 'no'}"
    return Replicate(float(lead["total_effect"]), float(lead["total_low"]), float(lead["total_high"]),
                     float(truth[lead["segment"]]), clock.wall, clock.cpu, note)


# ---- 12-month cohort NRR / GRR ----------------------------------------------------------------------
def nrr_truth(world: str, months: int = 12) -> tuple[float, float]:
    """Population NRR and GRR of the generator: E[MRR_12] / E[MRR_0] and E[min(MRR_12, MRR_0)] /
    E[MRR_0]. Each month an account churns (for good) with probability c, else grows by ``up`` with
    p_up or shrinks by ``down`` with p_down, independently of its MRR, so both are expectations of the
    account's factor: NRR = ((1-c)(1 + p_up up - p_down down))^12, and GRR sums min(factor, 1) over
    the multinomial number of ups and downs among survivors."""
    p = NRR_WORLDS[world]
    c, pu, u, pd_, d = p["churn"], p["p_up"], p["up"], p["p_down"], p["down"]
    nrr = ((1 - c) * (1 + pu * u - pd_ * d)) ** months
    grr = 0.0
    for a in range(months + 1):
        for b in range(months + 1 - a):
            ways = math.comb(months, a) * math.comb(months - a, b)
            prob = ways * pu ** a * pd_ ** b * (1 - pu - pd_) ** (months - a - b)
            grr += prob * min((1 + u) ** a * (1 - d) ** b, 1.0)
    return float(nrr), float((1 - c) ** months * grr)


def nrr_subscriptions(seed: int, world: str, accounts: int = NRR_ACCOUNTS, months: int = 12) -> pd.DataFrame:
    """Subscriptions of ``accounts`` accounts paying since 2025-06-01 (lognormal MRR, median $300)
    whose MRR moves on the 1st of each of the ``months`` months after the cohort month (2025-10) as
    :data:`NRR_WORLDS` says: one subscription row per MRR level, ended at a change or the churn."""
    p = NRR_WORLDS[world]
    rng = np.random.default_rng([seed, 12])
    cohort_month = pd.Period(END_MONTH, "M") - months
    changes = [(cohort_month + k).to_timestamp() for k in range(1, months + 1)]   # 1st of each month
    start = pd.Timestamp("2025-06-01")
    mrr = np.round(300 * np.exp(NRR_MRR_LOG_SD * rng.standard_normal(accounts)), 2)
    rows = []
    for i in range(accounts):
        level, since = mrr[i], start
        for day in changes:
            u = rng.random()
            if u < p["churn"]:
                rows.append((i, since, day, level))
                level = 0.0
                break
            v = rng.random()
            new = level * (1 + p["up"]) if v < p["p_up"] else level * (1 - p["down"]) if v < p["p_up"] + p["p_down"] \
                else level
            if new != level:
                rows.append((i, since, day, level))
                level, since = round(new, 2), day
        if level > 0:
            rows.append((i, since, pd.NaT, level))
    subs = pd.DataFrame(rows, columns=["account", "start_date", "end_date", "mrr"])
    subs.insert(0, "subscription_id", [f"s{k}" for k in range(len(subs))])
    subs.insert(1, "account_id", [f"a{a}" for a in subs.pop("account")])
    subs["product"] = "Growth"
    subs["billing_period"] = "monthly"
    return subs


_NRR_CACHE: dict[tuple[int, str], tuple[pd.DataFrame, _Clock]] = {}


def _nrr_table(seed: int, world: str) -> tuple[pd.DataFrame, _Clock]:
    """cohort_retention_12m's table on the generator's subscriptions (computed once for NRR and GRR)."""
    if (seed, world) not in _NRR_CACHE:
        from csresearch.analyses.churn_decomposition.compute_frame import account_month_churn
        from csresearch.analyses.churn_decomposition.compute_retention import cohort_retention_12m

        subs = nrr_subscriptions(seed, world)
        with _Clock() as clock:
            frame = account_month_churn(subs, None, pd.Period(END_MONTH, "M") - 13, END_MONTH)
            table = cohort_retention_12m(frame, END_MONTH)
        _NRR_CACHE.clear()
        _NRR_CACHE[(seed, world)] = (table.set_index("group"), clock)
    return _NRR_CACHE[(seed, world)]


def nrr_run(seed: int, world: str) -> Replicate:
    table, clock = _nrr_table(seed, world)
    row = table.loc["all"]
    return Replicate(float(row["nrr"]), float(row["nrr_low"]), float(row["nrr_high"]), nrr_truth(world)[0],
                     clock.wall, clock.cpu)


def grr_run(seed: int, world: str) -> Replicate:
    table, clock = _nrr_table(seed, world)
    row = table.loc["all"]
    return Replicate(float(row["grr"]), float(row["grr_low"]), float(row["grr_high"]), nrr_truth(world)[1],
                     clock.wall, clock.cpu)


# ---- the harness --------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Estimator:
    label: str
    unit: str          # how the table prints it: "pt" (x100, points), "%" (x100) or "x" (a ratio)
    run: Callable[[int, str], Replicate]


ESTIMATORS: dict[str, Estimator] = {
    "adoption": Estimator("adoption effect on 365-day retention (not randomised)", "pt", adoption_run),
    "itt": Estimator("randomised outreach ITT on 182-day retention", "pt", itt_run),
    "ttv_hr": Estimator("time-to-value hazard ratio (fast vs none by day 90)", "x", ttv_run),
    "mix": Estimator("mix-vs-rate: the named segment's contribution", "pt", mix_run),
    "nrr": Estimator("12-month cohort NRR", "%", nrr_run),
    "grr": Estimator("12-month cohort GRR", "%", grr_run),
}


def run(seeds, estimators=tuple(ESTIMATORS), worlds=WORLDS, log: Callable[[str], None] | None = None,
        save_to: Path | None = None) -> pd.DataFrame:
    """One row per (estimator, world, seed): estimate, low, high, truth, covered, width, seconds, note.
    Seeds run in order, each world's estimators together (one synthetic world open at a time). With
    ``save_to`` (a CSV path) the rows so far are written after every replicate: a long run stopped
    early keeps what it measured."""
    unknown = [e for e in estimators if e not in ESTIMATORS]
    if unknown:
        raise SystemExit(f"unknown estimator(s): {', '.join(unknown)} (known: {', '.join(ESTIMATORS)})")
    rows = []
    for seed in seeds:
        for world in worlds:
            for name in estimators:
                r = ESTIMATORS[name].run(seed, world)
                rows.append({"estimator": name, "world": world, "seed": seed, "estimate": r.estimate, "low": r.low,
                             "high": r.high, "truth": r.truth, "covered": bool(r.low <= r.truth <= r.high),
                             "width": r.high - r.low, "seconds": r.seconds, "cpu_seconds": r.cpu, "note": r.note})
                if log:
                    log(_replicate_line(rows[-1]))
                if save_to is not None:
                    pd.DataFrame(rows).to_csv(save_to, index=False)
    return pd.DataFrame(rows)


def summarise(runs: pd.DataFrame) -> pd.DataFrame:
    """Per estimator and world: runs, mean truth, mean estimate, bias (mean of estimate - truth), its
    standard error across seeds, RMSE, coverage (share of intervals holding the truth), mean width and
    mean runtime per seed."""
    out = []
    for (name, world), g in runs.groupby(["estimator", "world"], sort=False):
        err = g["estimate"] - g["truth"]
        out.append({
            "estimator": name, "world": world, "runs": len(g), "truth": g["truth"].mean(),
            "mean_estimate": g["estimate"].mean(), "bias": err.mean(),
            "bias_se": err.std(ddof=1) / math.sqrt(len(g)) if len(g) > 1 else math.nan,
            "rmse": math.sqrt((err ** 2).mean()), "covered": int(g["covered"].sum()),
            "coverage": g["covered"].mean(), "mean_width": g["width"].mean(), "seconds": g["seconds"].mean(),
            "cpu_seconds": g["cpu_seconds"].mean(),
        })
    order = {name: i for i, name in enumerate(ESTIMATORS)}
    return (pd.DataFrame(out).sort_values(["estimator", "world"], key=lambda c: c.map(order) if c.name == "estimator"
                                          else c.map(WORLDS.index), kind="stable").reset_index(drop=True))


def _scaled(value: float, unit: str, signed: bool = False) -> str:
    if not math.isfinite(value):
        return "-"
    if unit == "x":
        return f"{value:+.3f}" if signed else f"{value:.3f}"
    return f"{100 * value:+.2f}" if signed else f"{100 * value:.2f}"


def _replicate_line(row: dict) -> str:
    unit = ESTIMATORS[row["estimator"]].unit
    return (f"{row['estimator']:8s} {row['world']:6s} seed {row['seed']:>3}: {_scaled(row['estimate'], unit)} "
            f"({_scaled(row['low'], unit)} to {_scaled(row['high'], unit)}) truth {_scaled(row['truth'], unit)} "
            f"{'covered' if row['covered'] else 'MISSED'}  {row['seconds']:.1f}s wall {row['cpu_seconds']:.1f}s cpu  "
            f"{row['note']}")


def format_table(summary: pd.DataFrame) -> str:
    """The table as text: effects in points (pt), NRR/GRR in %, the hazard ratio as a ratio (x)."""
    head = (f"{'estimator':9s} {'world':6s} {'unit':4s} {'runs':>4s} {'truth':>8s} {'mean est':>8s} {'bias':>7s} "
            f"{'(se)':>6s} {'RMSE':>6s} {'coverage':>12s} {'width':>7s} {'wall s':>6s} {'cpu s':>6s}")
    lines = [head, "-" * len(head)]
    for _, r in summary.iterrows():
        unit = ESTIMATORS[r["estimator"]].unit
        se = _scaled(r["bias_se"], unit)
        lines.append(
            f"{r['estimator']:9s} {r['world']:6s} {unit:4s} {r['runs']:>4d} {_scaled(r['truth'], unit):>8s} "
            f"{_scaled(r['mean_estimate'], unit):>8s} {_scaled(r['bias'], unit, True):>7s} {se:>6s} "
            f"{_scaled(r['rmse'], unit):>6s} {r['covered']:>3d}/{r['runs']:<3d}{100 * r['coverage']:>4.0f}% "
            f"{_scaled(r['mean_width'], unit):>7s} {r['seconds']:>6.1f} {r['cpu_seconds']:>6.1f}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seeds", type=int, default=20, help="seeds per world (default 20)")
    parser.add_argument("--first-seed", type=int, default=1)
    parser.add_argument("--estimators", default=",".join(ESTIMATORS),
                        help=f"comma-separated, of: {', '.join(ESTIMATORS)}")
    parser.add_argument("--out", type=Path, default=OUT, help="folder of the CSVs (default benchmarks/out)")
    parser.add_argument("--worlds", default=",".join(WORLDS), help="effect, null or both (default)")
    parser.add_argument("--combine", type=Path, nargs="+", metavar="CSV",
                        help="run nothing: the table of these replicate CSVs (coverage_runs.csv of runs split by "
                             "seeds or estimators), the first row of a repeated (estimator, world, seed) kept")
    args = parser.parse_args(argv)
    if args.combine:
        # keep_default_na off: the world "null" is a name, not a missing value
        runs = pd.concat([pd.read_csv(f, keep_default_na=False, na_values=[""]) for f in args.combine],
                         ignore_index=True)
        runs = runs.drop_duplicates(["estimator", "world", "seed"]).sort_values(["seed"], kind="stable")
        summary = summarise(runs)
        args.out.mkdir(parents=True, exist_ok=True)
        runs.to_csv(args.out / "coverage_runs.csv", index=False)
        summary.to_csv(args.out / "coverage.csv", index=False)
        print(format_table(summary))
        return 0
    estimators = [e.strip() for e in args.estimators.split(",") if e.strip()]
    started = time.perf_counter()
    worlds = [w.strip() for w in args.worlds.split(",") if w.strip() in WORLDS]
    args.out.mkdir(parents=True, exist_ok=True)
    runs = run(range(args.first_seed, args.first_seed + args.seeds), estimators, worlds,
               log=lambda s: print(s, flush=True), save_to=args.out / "coverage_runs.csv")
    summary = summarise(runs)
    summary.to_csv(args.out / "coverage.csv", index=False)
    print()
    print(format_table(summary))
    print(f"\n{args.seeds} seeds x {len(worlds)} worlds in {time.perf_counter() - started:.0f} s "
          f"(worlds built or opened included); CSVs in {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
