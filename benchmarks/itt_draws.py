"""Where the outreach ITT's seed-to-seed error comes from (brief I: the 20 null worlds of
``coverage.py`` read -1.10 pt): the simulation's own treated-minus-control 182-day retention on many
seeds of coverage.py's worlds, split into its parts, without building the tables (~0.1 s a world).

Per seed and world (``null``: coverage.py's NULL_OVERRIDES, ``effect``: its effect world):

- ``diff``: realised retention, treated minus control (what ``experiment_frame``'s plain difference
  reads, to the last digit: checked on seeds 1-20 of both worlds);
- ``truth``: the truth's ``ate_retention_6m`` (mean of pi x (planted retention if exposed - if not));
- ``imbalance``: planted control retention, treated minus control (what the random split left
  between the arms before any exposure or churn draw);
- ``exposure``: planted retention under the hazards faced (exposure drawn), minus truth and imbalance;
- ``churn_draws``: realised minus planted retention, treated minus control.

diff = truth + imbalance + exposure + churn_draws. In a null world truth = exposure = 0.

Run::

    .venv/bin/python benchmarks/itt_draws.py --seeds 220          # ~1 minute, both worlds
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))

from coverage import EFFECT_TTV_HAZARD_RATIO, NULL_OVERRIDES, SYNTH_WORLD  # noqa: E402
from csresearch.data.synth.helpers import _merge_params  # noqa: E402
from csresearch.data.synth.params import DEFAULT_PARAMS  # noqa: E402
from csresearch.data.synth.world import _Builder  # noqa: E402


def simulated(seed: int, world: str) -> dict:
    overrides = dict(NULL_OVERRIDES) if world == "null" else {}
    ttv = overrides.pop("ttv_hazard_ratio", EFFECT_TTV_HAZARD_RATIO)
    p = _merge_params(DEFAULT_PARAMS, overrides)
    p.update(accounts=SYNTH_WORLD["accounts"], months=SYNTH_WORLD["months"], seed=seed,
             end_month=SYNTH_WORLD["end_month"], ttv_hazard_ratio=float(ttv))
    b = _Builder(p)
    b._accounts()
    b._onboarding_latent()
    b._latent_paths()
    b._simulate()
    ei = np.flatnonzero(b.in_exp)
    t = b.treat[ei]
    s, e, anc = np.full(len(ei), b.exp_day), np.full(len(ei), b.exp_end), b.anchor_at_exp[ei]
    in_window = (b.churns["day"] > b.exp_day) & (b.churns["day"] <= b.exp_end)
    retained = (~np.isin(ei, b.churns["acc"][in_window])).astype(float)
    r_ctl = b._survival(b.H_ctl, ei, s, e, anc)
    r_trt = b._survival(b.H_exp, ei, s, e, anc)
    r_real = b._survival(b.H_real, ei, s, e, anc)

    def diff(x):
        return float(x[t].mean() - x[~t].mean())

    truth = float((b.exp_pi[ei] * (r_trt - r_ctl)).mean())
    return {"seed": seed, "world": world, "assigned": len(ei), "diff": diff(retained), "truth": truth,
            "imbalance": diff(r_ctl), "exposure": diff(r_real) - truth - diff(r_ctl),
            "churn_draws": diff(retained - r_real), "z_imbalance": diff(b.z[ei])}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seeds", type=int, default=220)
    parser.add_argument("--first-seed", type=int, default=1)
    parser.add_argument("--block", type=int, default=20, help="seeds per block (coverage.py runs 20)")
    parser.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "out" / "itt_draws.csv")
    args = parser.parse_args(argv)
    rows = [simulated(seed, world) for seed in range(args.first_seed, args.first_seed + args.seeds)
            for world in ("null", "effect")]
    df = pd.DataFrame(rows)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    df.to_csv(args.out, index=False)
    df["error"] = df["diff"] - df["truth"]
    parts = ["error", "imbalance", "exposure", "churn_draws"]
    for world, g in df.groupby("world", sort=False):
        print(f"{world}: {len(g)} seeds, in points (mean (se))")
        print("  " + "  ".join(f"{c} {100 * g[c].mean():+.2f} ({100 * g[c].sem():.2f})" for c in parts))
        blocks = g.groupby((g["seed"] - args.first_seed) // args.block)["error"].mean()
        print(f"  error per block of {args.block} seeds: " + " ".join(f"{100 * m:+.2f}" for m in blocks)
              + f"  (se of a block ~{100 * g['error'].std() / np.sqrt(args.block):.2f})")
    print(f"rows in {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
