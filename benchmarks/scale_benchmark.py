"""Scale benchmark: event aggregation DuckDB vs pandas, and the monthly run at 1M, 10M and 100M events.

    python benchmarks/scale_world.py                 # once: data/scale/e1m, e10m, e100m (~6 min)
    python benchmarks/scale_benchmark.py [--root data/scale] [--sizes e1m,e10m,e100m]
                                         [--pandas-sizes e1m,e10m] [--run-sizes e1m,e10m,e100m] [--jobs 2]

Prints, in one run:

1. Event aggregation, read from the Parquet chunks and returned as a DataFrame, DuckDB
   (``engines.usage_by_period``) vs a straightforward pandas version (``read_parquet`` +
   ``groupby().agg(sum, size, nunique)``): weekly usage per account (events, event rows, distinct
   users), and per account and event (a result almost as long as the input at these densities, so
   it measures moving rows as much as aggregating them; only where pandas runs). Each measurement
   runs in a fresh process, so its peak RSS is its own. pandas only up to ``--pandas-sizes`` (100M
   rows of strings do not fit comfortably in pandas on a laptop, which is the point).
2. The monthly run (``csresearch run`` of every notebook, ``--jobs`` at a time) against each world:
   wall time, and per notebook its time and the peak RSS of its kernel (kernel + the processes it
   starts, summed; sampled every 0.2 s), plus the peak of the run's own process (which validates the
   data once up front).
3. The targets and whether each holds: aggregation >= 10x faster than pandas at 10M events; monthly
   run < 10 min and every process < 4 GiB at 100M on 2 cores; time and memory growing no faster than
   the data (from each size to the next: ratio <= 1.5 x the size ratio).

The machine's load average is printed with the results: on a shared machine, timings are upper bounds.
Results also go to benchmarks/out/scale_results.json.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import os
import resource
import tempfile
import threading
import time
from pathlib import Path

GIB = 1024 ** 3
AGG_SPEEDUP_TARGET = 10
RUN_SECONDS_TARGET = 600
RUN_MEMORY_TARGET = 4 * GIB
GROWTH_ALLOWANCE = 1.5


# --------------------------------------------------------------------------------------------------
# 1. Aggregation, each in a fresh process
# --------------------------------------------------------------------------------------------------
AGGREGATIONS = {"account_week": False, "account_event_week": True}  # name: per event too?


def _duckdb_aggregation(folder: str, by_event: bool) -> dict:
    import duckdb

    from csresearch.data import engines

    started = time.perf_counter()
    con = duckdb.connect()
    con.execute("SET enable_progress_bar = false")
    con.execute(f"CREATE VIEW usage_events AS SELECT * FROM read_parquet('{folder}/usage_events/*.parquet')")
    out = engines.usage_by_period(engines.DuckDBEngine(con), "week", by_event=by_event)
    return {"seconds": time.perf_counter() - started, "rows": len(out), "events": float(out["events"].sum())}


def _pandas_aggregation(folder: str, by_event: bool) -> dict:
    import pandas as pd

    started = time.perf_counter()
    events = pd.read_parquet(f"{folder}/usage_events")
    read = time.perf_counter() - started
    day = events["event_time"].dt.normalize()
    events["period_start"] = day - pd.to_timedelta(day.dt.weekday, unit="D")  # Monday of the week
    keys = ["account_id", "period_start"] + (["event_name"] if by_event else [])
    out = (events.groupby(keys)
           .agg(events=("quantity", "sum"), event_rows=("quantity", "size"), active_users=("user_id", "nunique"))
           .reset_index()
           .sort_values(keys))
    return {"seconds": time.perf_counter() - started, "read_seconds": read, "rows": len(out),
            "events": float(out["events"].sum())}


def _measured(target, folder, by_event, queue):
    result = target(folder, by_event)
    result["peak_rss"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    queue.put(result)


def in_fresh_process(target, folder: Path, by_event: bool) -> dict:
    ctx = mp.get_context("spawn")
    queue = ctx.Queue()
    proc = ctx.Process(target=_measured, args=(target, str(folder), by_event, queue))
    proc.start()
    result = queue.get()
    proc.join()
    return result


def best_of(repeats: int, target, folder: Path, by_event: bool) -> dict:
    """The fastest of ``repeats`` runs, each in a fresh process (the timeit convention: the minimum
    is the run least disturbed by other work; the files are in the OS cache after the first)."""
    runs = [in_fresh_process(target, folder, by_event) for _ in range(repeats)]
    best = min(runs, key=lambda r: r["seconds"])
    return {**best, "runs_seconds": [r["seconds"] for r in runs]}


# --------------------------------------------------------------------------------------------------
# 2. The monthly run, with each notebook kernel's peak memory
# --------------------------------------------------------------------------------------------------
class PeakSampler:
    """Peak RSS of a process or of its descendants (summed), sampled in a thread."""

    def __init__(self, pid: int, descendants: bool, interval: float = 0.2):
        self.pid, self.descendants, self.interval = pid, descendants, interval
        self.peak = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _sample(self) -> int:
        import psutil

        try:
            root = psutil.Process(self.pid)
            procs = root.children(recursive=True) if self.descendants else [root]
        except psutil.Error:
            return 0
        total = 0
        for p in procs:
            try:
                total += p.memory_info().rss
            except psutil.Error:
                pass
        return total

    def _run(self):
        while not self._stop.is_set():
            self.peak = max(self.peak, self._sample())
            self._stop.wait(self.interval)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, self._sample())


_PEAKS_DIR: list[Path] = []  # where the wrapped worker writes; set before each run (workers fork)


def _install_kernel_sampler(peaks_dir: Path) -> None:
    """Wrap the run's per-notebook worker function so that it records its kernel's peak RSS.

    The workers are forked from this process, so they inherit the wrapper; it keeps the original's
    module and name, so the process pool pickles it by reference as usual."""
    from csresearch.report import run as run_module

    _PEAKS_DIR[:] = [peaks_dir]
    if getattr(run_module._execute_one, "_samples_peaks", False):
        return
    original = run_module._execute_one

    def _execute_one(notebook, *args, **kwargs):
        with PeakSampler(os.getpid(), descendants=True) as sampler:  # the kernel and what it starts
            outcome = original(notebook, *args, **kwargs)
        (_PEAKS_DIR[0] / f"{notebook}.json").write_text(json.dumps({"peak_rss": sampler.peak}))
        return outcome

    _execute_one.__module__, _execute_one.__qualname__ = original.__module__, original.__qualname__
    _execute_one._samples_peaks = True
    run_module._execute_one = _execute_one


def monthly_run(folder: Path, month: str, jobs: int) -> dict:
    from csresearch.report.paths import project_root
    from csresearch.report.run import run_month

    root = project_root(Path(__file__).resolve().parent)
    with tempfile.TemporaryDirectory() as tmp:
        peaks_dir = Path(tmp) / "peaks"
        peaks_dir.mkdir()
        _install_kernel_sampler(peaks_dir)
        # a cold validation cache, as on the first run after new data lands each month
        os.environ["CSRESEARCH_CACHE_DIR"] = str(Path(tmp) / "cache")
        started = time.perf_counter()
        with PeakSampler(os.getpid(), descendants=False) as parent:  # the run's own process only
            ok, report = run_month(month=month, data=str(folder), root=root, reports_dir=Path(tmp) / "reports",
                                   jobs=jobs, progress=lambda line: print(f"    {line}", flush=True))
        wall = time.perf_counter() - started
        manifest = json.loads((report / "manifest.json").read_text())
        notebooks = []
        for entry in manifest["notebooks"]:
            peak_file = peaks_dir / f"{entry['notebook']}.json"
            peak = json.loads(peak_file.read_text())["peak_rss"] if peak_file.exists() else None
            notebooks.append({"notebook": entry["notebook"], "seconds": entry["seconds"], "status": entry["status"],
                              "error": entry.get("error"), "peak_rss": peak})
    return {"ok": ok, "wall_seconds": wall, "run_process_peak_rss": parent.peak, "notebooks": notebooks}


# --------------------------------------------------------------------------------------------------
# Report
# --------------------------------------------------------------------------------------------------
def _gib(n) -> str:
    return "–" if n is None else f"{n / GIB:.2f}"


def _holds(ok: bool | None) -> str:
    return "n/a (not measured)" if ok is None else ("holds" if ok else "MISSED")


def _growth(values: dict[str, float], events: dict[str, int]) -> tuple[bool | None, str]:
    sizes = [s for s in values if values[s] is not None]
    if len(sizes) < 2:
        return None, ""
    ok, parts = True, []
    for small, big in zip(sizes, sizes[1:]):
        data_ratio = events[big] / events[small]
        ratio = values[big] / values[small] if values[small] else float("inf")
        ok &= ratio <= GROWTH_ALLOWANCE * data_ratio
        parts.append(f"{small}->{big}: x{ratio:.1f} for x{data_ratio:.0f} data")
    return ok, "; ".join(parts)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--root", type=Path, default=Path("data/scale"))
    parser.add_argument("--sizes", default="e1m,e10m,e100m", help="worlds for the aggregation benchmark")
    parser.add_argument("--pandas-sizes", default="e1m,e10m", help="worlds pandas is timed on")
    parser.add_argument("--run-sizes", default="e1m,e10m,e100m", help="worlds the monthly run is timed on ('' none)")
    parser.add_argument("--month", default="2026-10")
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--repeats", type=int, default=3, help="aggregation runs per engine and size; the fastest counts")
    parser.add_argument("--out", type=Path, default=Path("benchmarks/out/scale_results.json"))
    parser.add_argument("--print-only", action="store_true", help="print the tables of an earlier --out, measure nothing")
    parser.add_argument("--reuse-runs", action="store_true",
                        help="measure the aggregations only; keep the monthly runs of an earlier --out (said so in the output)")
    args = parser.parse_args()

    meta = json.loads((args.root / "scale.json").read_text())["worlds"]
    split = lambda text: [s for s in text.split(",") if s.strip()]  # noqa: E731
    sizes, pandas_sizes, run_sizes = split(args.sizes), set(split(args.pandas_sizes)), split(args.run_sizes)
    events = {name: meta[name]["events"] for name in meta}
    accounts = {name: meta[name]["accounts"] for name in meta}
    if args.print_only:
        results = json.loads(args.out.read_text())
        report(results, events, accounts, results["jobs"], args.out)
        return 0
    results: dict = {"cores": os.cpu_count(), "jobs": args.jobs, "aggregation": {}, "runs": {},
                     "load_average_at_start": os.getloadavg()}

    print(f"Scale benchmark: {os.cpu_count()} cores, load average at start {os.getloadavg()[0]:.1f}", flush=True)
    for kind, by_event in AGGREGATIONS.items():
        results["aggregation"][kind] = {}
        for size in sizes:
            if by_event and size not in pandas_sizes:
                continue  # the per-event result alone is tens of millions of rows at 100M events
            folder = args.root / size
            row = {"duckdb": best_of(args.repeats, _duckdb_aggregation, folder, by_event)}
            print(f"  {kind} {size}: duckdb {row['duckdb']['seconds']:.1f}s", flush=True)
            if size in pandas_sizes:
                row["pandas"] = best_of(args.repeats, _pandas_aggregation, folder, by_event)
                assert row["pandas"]["rows"] == row["duckdb"]["rows"], "pandas and DuckDB disagree on the groups"
                assert abs(row["pandas"]["events"] - row["duckdb"]["events"]) < 1e-6 * row["duckdb"]["events"]
                print(f"  {kind} {size}: pandas {row['pandas']['seconds']:.1f}s", flush=True)
            results["aggregation"][kind][size] = row
    if args.reuse_runs:
        earlier = json.loads(args.out.read_text())
        results["runs"] = earlier["runs"]
        results["runs_measured_at"] = earlier.get("measured_at") or time.strftime(
            "%Y-%m-%d %H:%M", time.gmtime(args.out.stat().st_mtime))
        run_sizes = []
    for size in run_sizes:
        print(f"  monthly run {size} ...", flush=True)
        results["runs"][size] = monthly_run(args.root / size, args.month, args.jobs)
    results["measured_at"] = time.strftime("%Y-%m-%d %H:%M", time.gmtime())
    results["load_average_at_end"] = os.getloadavg()
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, indent=2))
    report(results, events, accounts, args.jobs, args.out)
    return 0


def report(results: dict, events: dict, accounts: dict, jobs: int, out: Path) -> None:
    load = results.get("load_average_at_end")
    print(f"\nEvent aggregation, weekly (Parquet -> DataFrame); {results['cores']} cores"
          + (f", load average at the end {load[0]:.1f}" if load else ""))
    print(f"{'aggregation':<20}{'world':<7}{'events':>13}{'groups':>11}{'duckdb s':>10}{'peak GiB':>10}"
          f"{'pandas s':>10}{'(read s)':>10}{'peak GiB':>10}{'speed-up':>10}")
    for kind, by_size in results["aggregation"].items():
        for size, row in by_size.items():
            d, p = row["duckdb"], row.get("pandas")
            line = (f"{kind:<20}{size:<7}{events[size]:>13,}{d['rows']:>11,}{d['seconds']:>10.1f}"
                    f"{_gib(d['peak_rss']):>10}")
            if p:
                line += (f"{p['seconds']:>10.1f}{p['read_seconds']:>10.1f}{_gib(p['peak_rss']):>10}"
                         f"{p['seconds'] / d['seconds']:>9.1f}x")
            else:
                line += f"{'–':>10}{'–':>10}{'–':>10}{'–':>10}"
            print(line)

    if results.get("runs_measured_at"):
        print(f"\nMonthly runs: as measured at {results['runs_measured_at']} UTC (--reuse-runs)")
    for size, run in results["runs"].items():
        print(f"\nMonthly run, {size}: {accounts[size]:,} accounts, {events[size]:,} events, {jobs} notebooks "
              f"at a time: {run['wall_seconds']:.0f}s wall, run process peak {_gib(run['run_process_peak_rss'])} GiB")
        print(f"{'notebook':<28}{'seconds':>9}{'peak GiB':>10}  status")
        for nb in run["notebooks"]:
            status = nb["status"] + (f": {nb['error'][:80]}" if nb.get("error") else "")
            print(f"{nb['notebook']:<28}{nb['seconds']:>9.1f}{_gib(nb['peak_rss']):>10}  {status}")

    # ---- targets ----------------------------------------------------------------------------------
    print("\nTargets")
    for kind in AGGREGATIONS:
        agg10 = results["aggregation"][kind].get("e10m", {})
        speedup = agg10["pandas"]["seconds"] / agg10["duckdb"]["seconds"] if "pandas" in agg10 else None
        print(f"  {kind} aggregation >= {AGG_SPEEDUP_TARGET}x faster than pandas at 10M events: "
              f"{_holds(None if speedup is None else speedup >= AGG_SPEEDUP_TARGET)}"
              + (f" ({speedup:.1f}x)" if speedup else ""))
    big = results["runs"].get("e100m")
    if big:
        peak = max([big["run_process_peak_rss"]] + [nb["peak_rss"] or 0 for nb in big["notebooks"]])
        print(f"  monthly run < {RUN_SECONDS_TARGET // 60} min at 100M events: "
              f"{_holds(big['wall_seconds'] < RUN_SECONDS_TARGET and big['ok'])} ({big['wall_seconds'] / 60:.1f} min"
              f"{'' if big['ok'] else ', with failed notebooks'})")
        print(f"  every process < 4 GiB at 100M events: {_holds(peak < RUN_MEMORY_TARGET)} (largest {_gib(peak)} GiB)")
    else:
        print("  monthly run at 100M events: n/a (not measured)")
    agg_ok, agg_text = _growth({s: r["duckdb"]["seconds"] for s, r in results["aggregation"]["account_week"].items()},
                               events)
    print(f"  DuckDB account_week aggregation time grows linearly or slower: {_holds(agg_ok)} ({agg_text})")
    run_ok, run_text = _growth({s: r["wall_seconds"] for s, r in results["runs"].items()}, events)
    failed = [s for s, r in results["runs"].items() if not r["ok"]]
    if failed and run_ok:  # a timed-out notebook makes the time a lower bound: growth is not shown
        run_ok, run_text = False, f"{run_text}; notebooks failed at {', '.join(failed)}, so those times are lower bounds"
    print(f"  monthly run time grows linearly or slower: {_holds(run_ok)} ({run_text})")
    mem = {s: max([r["run_process_peak_rss"]] + [nb["peak_rss"] or 0 for nb in r["notebooks"]])
           for s, r in results["runs"].items()}
    mem_ok, mem_text = _growth(mem, events)
    print(f"  monthly run peak memory grows linearly or slower: {_holds(mem_ok)} ({mem_text})")
    print(f"\nResults: {out}")


if __name__ == "__main__":
    raise SystemExit(main())
