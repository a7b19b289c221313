"""Time `synth` of the demo world and the monthly run per notebook; print a table and the targets.

    python benchmarks/time_demo.py [--accounts 5000] [--months 36] [--jobs 2]
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import time
from pathlib import Path

from csresearch.data.synth import build_world, save_world
from csresearch.report.paths import project_root
from csresearch.report.run import run_month

SYNTH_TARGET_S = 60
RUN_TARGET_S = 120


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--accounts", type=int, default=5000)
    parser.add_argument("--months", type=int, default=36)
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--month", default="2026-10")
    args = parser.parse_args()

    root = project_root(Path(__file__).resolve().parent)
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "demo.duckdb"
        started = time.perf_counter()
        world = build_world(accounts=args.accounts, months=args.months, seed=7, end_month=args.month)
        save_world(world, out)
        synth_s = time.perf_counter() - started
        events = len(world.tables.get("usage_events", []))
        del world

        started = time.perf_counter()
        ok, folder = run_month(month=args.month, data=str(out), root=root, reports_dir=Path(tmp) / "reports",
                               jobs=args.jobs, progress=lambda _: None)
        run_s = time.perf_counter() - started
        manifest = json.loads((folder / "manifest.json").read_text())

    print(f"\nDemo world: {args.accounts:,} accounts x {args.months} months, {events:,} usage events, "
          f"{os.cpu_count()} cores, {args.jobs} notebooks at a time\n")
    print(f"{'step':<30}{'seconds':>10}  status")
    print(f"{'synth (build + save)':<30}{synth_s:>10.1f}  {'ok' if synth_s < SYNTH_TARGET_S else 'over target'}")
    for entry in manifest["notebooks"]:
        print(f"{entry['notebook']:<30}{entry['seconds']:>10.1f}  {entry['status']}")
    print(f"{'monthly run (wall)':<30}{run_s:>10.1f}  {'ok' if ok else 'FAILED'}")
    print()
    print(f"target synth < {SYNTH_TARGET_S}s: {'holds' if synth_s < SYNTH_TARGET_S else 'MISSED'} ({synth_s:.0f}s)")
    print(f"target monthly run < {RUN_TARGET_S}s: {'holds' if run_s < RUN_TARGET_S else 'MISSED'} ({run_s:.0f}s)")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
