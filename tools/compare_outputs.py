"""Compare two report folders of the same month: every CSV and every summary.json.

    python tools/compare_outputs.py BEFORE AFTER [--ignore-key conventions] [--notebook 03_churn_drivers]

Used to keep a refactoring honest: a change that should not move any number is run on the demo
month before and after, and this script lists every CSV whose bytes differ (with the first differing
cells) and every summary.json value that differs (with its path in the JSON). Exit 0 when the two
folders hold identical outputs, 1 otherwise. Volatile keys (the data source's absolute path) are
ignored; ``--ignore-key`` ignores more (for an intended difference, named in the commit).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

import pandas as pd

VOLATILE = {"source"}


def _walk(before: Any, after: Any, path: str, ignore: set[str], out: list[str]) -> None:
    if isinstance(before, dict) and isinstance(after, dict):
        for key in sorted(set(before) | set(after)):
            if key in ignore:
                continue
            if key not in before or key not in after:
                out.append(f"{path}.{key}: only in {'after' if key not in before else 'before'}")
                continue
            _walk(before[key], after[key], f"{path}.{key}", ignore, out)
    elif isinstance(before, list) and isinstance(after, list):
        if len(before) != len(after):
            out.append(f"{path}: {len(before)} items before, {len(after)} after")
            return
        for i, (b, a) in enumerate(zip(before, after)):
            _walk(b, a, f"{path}[{i}]", ignore, out)
    elif before != after and not (before != before and after != after):  # NaN == NaN here
        out.append(f"{path}: {before!r} -> {after!r}")


def compare_csv(before: Path, after: Path) -> list[str]:
    if before.read_bytes() == after.read_bytes():
        return []
    b, a = pd.read_csv(before), pd.read_csv(after)
    if list(b.columns) != list(a.columns):
        return [f"{after.name}: columns {list(b.columns)} -> {list(a.columns)}"]
    if len(b) != len(a):
        return [f"{after.name}: {len(b)} rows -> {len(a)} rows"]
    diffs = []
    for column in b.columns:
        changed = ~((b[column] == a[column]) | (b[column].isna() & a[column].isna()))
        if changed.any():
            i = int(changed.to_numpy().nonzero()[0][0])
            diffs.append(f"{after.name}: column {column!r} differs in {int(changed.sum())} rows, "
                         f"first row {i}: {b[column].iloc[i]!r} -> {a[column].iloc[i]!r}")
    return diffs or [f"{after.name}: bytes differ (formatting only)"]


def compare(before: Path, after: Path, ignore: set[str], notebooks: list[str] | None = None) -> list[str]:
    problems = []
    folders = sorted(p.name for p in before.iterdir() if p.is_dir() and p.name[:2].isdigit())
    for name in folders:
        if notebooks and name not in notebooks:
            continue
        b, a = before / name, after / name
        if not a.exists():
            problems.append(f"{name}: missing after")
            continue
        names = sorted({p.name for p in b.glob("*.csv")} | {p.name for p in a.glob("*.csv")})
        for csv in names:
            if not (b / csv).exists() or not (a / csv).exists():
                problems.append(f"{name}/{csv}: only {'after' if not (b / csv).exists() else 'before'}")
                continue
            problems += [f"{name}/{d}" for d in compare_csv(b / csv, a / csv)]
        sb, sa = b / "summary.json", a / "summary.json"
        if sb.exists() and sa.exists():
            out: list[str] = []
            _walk(json.loads(sb.read_text()), json.loads(sa.read_text()), "summary", ignore | VOLATILE, out)
            problems += [f"{name}/{d}" for d in out]
    return problems


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("before", type=Path)
    parser.add_argument("after", type=Path)
    parser.add_argument("--ignore-key", action="append", default=[], help="a summary.json key to ignore")
    parser.add_argument("--notebook", action="append", default=None, help="compare only this notebook")
    args = parser.parse_args(argv)
    problems = compare(args.before, args.after, set(args.ignore_key), args.notebook)
    for line in problems:
        print(line)
    print("identical" if not problems else f"{len(problems)} difference(s)")
    return 0 if not problems else 1


if __name__ == "__main__":
    sys.exit(main())
