"""Coverage runs of the onboarding-survival report's time-to-value hazard ratio (issue 16).

The synthetic world multiplies the churn hazard by ``ttv_hazard_ratio`` for churn dates more than
``ttv_threshold_days`` (30) after the first subscription start, for accounts that had not reached
first value by then (or never do); ``truth["churn"]["ttv_hazard_ratio"]`` records it
(docs/synthetic-world.md). The report's hazard ratio compares accounts that reached first value in
0-30 days with those with no first value by day 90, both still paying on day 90: the second group is
entirely "slow", the first entirely "fast", so the quantity it estimates is
``1 / truth["churn"]["ttv_hazard_ratio"]``.

:func:`ttv_hazard_ratio_run` is one replicate (one seed); ``benchmarks/coverage.py`` and
``tests/test_survival.py`` call it. Run as a script for a table over many seeds::

    .venv/bin/python tests/survival_coverage.py --seeds 20 --hazard-ratio 1.8 1.0
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from conftest import truth_of, world_path  # noqa: E402

# Small enough to build and analyse in well under a minute, large enough that the landmark groups
# hold a few hundred accounts (the 20-seed table was run at this size).
WORLD = dict(accounts=2000, months=36, end_month="2026-10")


def ttv_hazard_ratio_run(seed: int, ttv_hazard_ratio: float = 1.8, **world) -> tuple[float, float, float, float]:
    """(estimate, low, high, truth) of the report's adjusted hazard ratio of churn for first value
    within 30 days vs none by day 90, on a synthetic world of ``seed`` with a planted
    ``ttv_hazard_ratio``; the report runs with its default settings (concordance bootstrap off: it
    does not touch the hazard ratio). The world is cached like every test world."""
    from csresearch.data import open_dataset

    params = {**WORLD, **world, "seed": seed, "ttv_hazard_ratio": ttv_hazard_ratio}
    path = world_path(**params)
    return ttv_hazard_ratio_on(open_dataset(path), params["end_month"], truth_of(path))


def ttv_hazard_ratio_on(ds, end_month: str, truth: dict) -> tuple[float, float, float, float]:
    """:func:`ttv_hazard_ratio_run` on a dataset already open (``truth``: the world's truth JSON), for
    callers that read several estimators from one world (``benchmarks/coverage.py``)."""
    import pandas as pd

    from csresearch.analyses.onboarding_survival import report

    result = report.build(ds, pd.Period(end_month, "M"), report.Settings(), concordance_boot=0)
    hr = result.fast_hazard_ratio()
    return hr["hazard_ratio"], hr["lower"], hr["upper"], 1.0 / truth["churn"]["ttv_hazard_ratio"]


def summarise(runs: list[tuple[float, float, float, float]]) -> dict[str, float]:
    """Bias (ratio and log scale), root mean squared error of the log, interval coverage and width."""
    est, low, high, truth = (np.array(x, dtype=float) for x in zip(*runs))
    return {
        "runs": len(runs),
        "truth": float(truth[0]),
        "mean_estimate": float(est.mean()),
        "bias": float((est - truth).mean()),
        "log_bias": float((np.log(est) - np.log(truth)).mean()),
        "log_rmse": float(np.sqrt(((np.log(est) - np.log(truth)) ** 2).mean())),
        "coverage": float(((low <= truth) & (truth <= high)).mean()),
        "median_width_ratio": float(np.median(high / low)),
    }


def main(argv: list[str] | None = None) -> None:
    import argparse

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seeds", type=int, default=20)
    parser.add_argument("--first-seed", type=int, default=1)
    parser.add_argument("--hazard-ratio", type=float, nargs="+", default=[1.8, 1.0])
    args = parser.parse_args(argv)
    for planted in args.hazard_ratio:
        runs = []
        for seed in range(args.first_seed, args.first_seed + args.seeds):
            runs.append(ttv_hazard_ratio_run(seed, planted))
            e, lo, hi, t = runs[-1]
            print(f"planted {planted:g} seed {seed}: {e:.3f} ({lo:.3f}-{hi:.3f}) truth {t:.3f}", flush=True)
        print({k: round(v, 4) for k, v in summarise(runs).items()}, flush=True)


if __name__ == "__main__":
    main()
