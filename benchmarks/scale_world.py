"""Write a large synthetic world as Parquet without holding the events in memory.

    python benchmarks/scale_world.py --out data/scale [--accounts 100000] [--events 100000000]
                                     [--subsets 1000000,10000000]

Layout (what ``open_dataset`` reads as a folder source)::

    data/scale/e100m/accounts.parquet, subscriptions.parquet, onboarding.parquet, ...
    data/scale/e100m/usage_events/part-00000.parquet ... part-00099.parquet
    data/scale/e10m/ ...   the first 10% of the accounts and exactly their events (hard links)
    data/scale/e1m/  ...

How: the account-level tables come from the project's own generator (``synth.build_world``) in
batches of ``--batch-accounts`` accounts with different seeds, their ids renumbered so that they are
unique. The events are generated here, one chunk of ``--chunk-accounts`` accounts at a time (numpy),
and written with a ``pyarrow.parquet.ParquetWriter`` as one file per chunk: a chunk's events are
spread over the days on which its accounts pay (a subscription with ``mrr > 0`` is active), in
proportion to ``seats ** 0.9`` x a per-account engagement factor x 0.3 on weekends, with
business-hours times, a skewed user pool per account and the synthetic world's feature mix. Every
chunk gets exactly ``events * chunk_accounts / accounts`` events, so the subset made of the first k
chunks has exactly k times that many: the smaller worlds are prefixes of the big one.

The events are not the planted-truth events of ``build_world`` (which simulates them per
account-day in memory): use this world to measure speed and memory, not to recover truths.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from csresearch.data.synth import DEFAULT_PARAMS, FEATURES, build_world

SMALL_TABLES = ("accounts", "subscriptions", "onboarding", "support_tickets", "cs_activities", "surveys",
                "experiments", "churn_reasons")
DATE_COLUMNS = {"accounts": ["created_at"], "subscriptions": ["start_date", "end_date"],
                "onboarding": ["achieved_at"], "experiments": ["assigned_at"], "churn_reasons": ["churn_date"]}
TIMESTAMP_COLUMNS = {"support_tickets": ["created_at", "resolved_at"], "cs_activities": ["occurred_at"],
                     "surveys": ["answered_at"]}
EVENT_SCHEMA = pa.schema([("account_id", pa.string()), ("user_id", pa.string()),
                          ("event_time", pa.timestamp("us")), ("event_name", pa.string()),
                          ("quantity", pa.float64())])
# local business-hours profile of event times (relative weights per hour of the day)
HOUR_WEIGHTS = np.array([1, 1, 1, 1, 1, 2, 4, 8, 14, 16, 15, 13, 11, 14, 15, 14, 12, 9, 6, 4, 3, 2, 2, 1], float)
ROW_GROUP = 262_144


def _label(events: int) -> str:
    for size, unit in ((1_000_000_000, "b"), (1_000_000, "m"), (1_000, "k")):
        if events % size == 0:
            return f"e{events // size}{unit}"
    return f"e{events}"


def account_tables(accounts: int, batch_accounts: int, months: int, end_month: str, seed: int) -> dict[str, pd.DataFrame]:
    """The account-level tables of ``accounts`` accounts, built by ``build_world`` in batches.

    Account ``A000001`` .. ``A100000`` in order (batch b holds a contiguous range); every other id
    (subscription, ticket, activity, user) is prefixed with its batch so that it stays unique."""
    parts: dict[str, list[pd.DataFrame]] = {t: [] for t in SMALL_TABLES}
    width = max(6, len(str(accounts)))
    done = 0
    batch = 0
    while done < accounts:
        n = min(batch_accounts, accounts - done)
        world = build_world(accounts=max(n, 10), months=months, seed=seed + batch, end_month=end_month)
        old = world.tables["accounts"]["account_id"].to_numpy()[:n]
        new = np.array([f"A{done + i + 1:0{width}d}" for i in range(n)], dtype=object)
        rename = dict(zip(old, new))
        for table in SMALL_TABLES:
            frame = world.tables[table]
            frame = frame[frame["account_id"].isin(rename)].copy()
            frame["account_id"] = frame["account_id"].map(rename)
            for col in ("subscription_id", "ticket_id", "activity_id"):
                if col in frame:
                    frame[col] = f"B{batch:03d}-" + frame[col].astype(str)
            if table == "surveys" and "user_id" in frame:
                frame["user_id"] = frame["account_id"] + "-" + frame["user_id"].str.split("-").str[-1]
            parts[table].append(frame)
        del world
        done += n
        batch += 1
    return {t: pd.concat(frames, ignore_index=True) for t, frames in parts.items()}


def _arrow(name: str, frame: pd.DataFrame) -> pa.Table:
    table = pa.Table.from_pandas(frame, preserve_index=False)
    for col in DATE_COLUMNS.get(name, []):
        table = table.set_column(table.schema.get_field_index(col), col,
                                 table.column(col).cast(pa.timestamp("s")).cast(pa.date32()))
    for col in TIMESTAMP_COLUMNS.get(name, []):
        table = table.set_column(table.schema.get_field_index(col), col, table.column(col).cast(pa.timestamp("us")))
    return table


def paying_days(subs: pd.DataFrame, account_index: dict, window: tuple[int, int]) -> tuple[np.ndarray, np.ndarray]:
    """(account position, day number) of every day inside ``window`` on which an account pays."""
    paying = subs[subs["mrr"] > 0]
    first, last = window  # day numbers (days since 1970-01-01), last inclusive
    start = paying["start_date"].to_numpy("datetime64[D]").astype(np.int64)
    end = paying["end_date"].to_numpy("datetime64[D]")
    end = np.where(np.isnat(end), np.int64(last + 1), end.astype(np.int64))
    start, end = np.maximum(start, first), np.minimum(end, last + 1)
    keep = end > start
    acc = paying["account_id"].map(account_index).to_numpy(np.int64)[keep]
    start, end = start[keep], end[keep]
    lengths = end - start
    row = np.repeat(np.arange(len(start)), lengths)
    day = start[row] + (np.arange(lengths.sum()) - np.repeat(np.cumsum(lengths) - lengths, lengths))
    key = np.unique(acc[row] * 1_000_000 + day)  # overlapping subscriptions count a day once
    return key // 1_000_000, key % 1_000_000


def write_event_chunk(path: Path, rng: np.random.Generator, account_ids: np.ndarray, subs: pd.DataFrame,
                      events: int, window: tuple[int, int], mix: np.ndarray) -> int:
    """Generate exactly ``events`` events for the accounts of one chunk and write them to ``path``."""
    index = {a: i for i, a in enumerate(account_ids)}
    acc, day = paying_days(subs, index, window)
    if len(acc) == 0 or events == 0:
        pq.write_table(pa.table({f.name: pa.array([], f.type) for f in EVENT_SCHEMA}, schema=EVENT_SCHEMA), path)
        return 0
    seats = subs.groupby("account_id")["seats"].max().reindex(account_ids).fillna(1).clip(lower=1).to_numpy(float)
    engagement = rng.lognormal(0.0, 0.6, size=len(account_ids))
    weekday = (day + 3) % 7  # 1970-01-01 was a Thursday; 0 = Monday
    weight = seats[acc] ** 0.9 * engagement[acc] * np.where(weekday >= 5, 0.3, 1.0)
    counts = rng.multinomial(events, weight / weight.sum())
    which = np.repeat(np.arange(len(acc)), counts)
    ev_acc, ev_day = acc[which], day[which]
    hour = rng.choice(24, size=events, p=HOUR_WEIGHTS / HOUR_WEIGHTS.sum())
    seconds = ev_day * 86_400 + hour * 3_600 + rng.integers(0, 3_600, size=events)
    users = np.ceil(seats).astype(np.int64)
    user = np.floor(users[ev_acc] * rng.random(events) ** 1.5).astype(np.int64)  # low numbers: heavy users
    feature = np.searchsorted(np.cumsum(mix)[:-1], rng.random(events), side="right")
    order = np.lexsort((seconds, ev_acc))
    ev_acc, seconds, user, feature = ev_acc[order], seconds[order], user[order], feature[order]

    key = ev_acc * 100_000 + user
    uniq, inverse = np.unique(key, return_inverse=True)
    user_names = pa.array([f"{account_ids[k // 100_000]}-U{k % 100_000 + 1:04d}" for k in uniq], pa.string())
    table = pa.table({
        "account_id": pa.array(account_ids.astype(str), pa.string()).take(pa.array(ev_acc)),
        "user_id": user_names.take(pa.array(inverse.ravel())),
        "event_time": pa.array(seconds * 1_000_000, pa.int64()).cast(pa.timestamp("us")),
        "event_name": pa.array(FEATURES, pa.string()).take(pa.array(feature)),
        "quantity": pa.array(np.ones(events)),
    }, schema=EVENT_SCHEMA)
    with pq.ParquetWriter(path, EVENT_SCHEMA, compression="zstd") as writer:
        for start in range(0, events, ROW_GROUP):
            writer.write_table(table.slice(start, ROW_GROUP))
    return events


def write_world(out: Path, accounts: int, events: int, chunk_accounts: int, batch_accounts: int,
                months: int, end_month: str, seed: int, subsets: list[int], log=None) -> dict:
    log = log or (lambda text: print(text, flush=True))
    if accounts % chunk_accounts:
        raise SystemExit("--accounts must be a multiple of --chunk-accounts")
    chunks = accounts // chunk_accounts
    if events % chunks:
        raise SystemExit(f"--events must be a multiple of the number of chunks ({chunks})")
    per_chunk = events // chunks
    for size in subsets:
        if size % per_chunk or not 0 < size < events:
            raise SystemExit(f"subset {size:,}: must be a multiple of {per_chunk:,} events and below {events:,}")

    started = time.perf_counter()
    tables = account_tables(accounts, batch_accounts, months, end_month, seed)
    log(f"account tables: {', '.join(f'{t} {len(f):,}' for t, f in tables.items())} "
        f"({time.perf_counter() - started:.0f}s)")
    full = out / _label(events)
    if full.exists():
        shutil.rmtree(full)
    (full / "usage_events").mkdir(parents=True)
    for name, frame in tables.items():
        pq.write_table(_arrow(name, frame), full / f"{name}.parquet")

    end = pd.Period(end_month, "M")
    window = (int((end - months + 1).to_timestamp().value // 86_400_000_000_000),
              int(end.to_timestamp(how="end").normalize().value // 86_400_000_000_000))
    mix = np.array([DEFAULT_PARAMS["feature_mix"][f] for f in FEATURES], float)
    mix /= mix.sum()
    account_ids = tables["accounts"]["account_id"].to_numpy()
    subs = tables["subscriptions"][["account_id", "start_date", "end_date", "mrr", "seats"]]
    subs_by_chunk = subs.assign(_chunk=subs["account_id"].map({a: i // chunk_accounts for i, a in enumerate(account_ids)}))
    groups = dict(tuple(subs_by_chunk.groupby("_chunk")))
    rng = np.random.default_rng(seed)
    for c in range(chunks):
        ids = account_ids[c * chunk_accounts:(c + 1) * chunk_accounts]
        chunk_subs = groups.get(c, subs.iloc[:0])
        write_event_chunk(full / "usage_events" / f"part-{c:05d}.parquet", rng, ids, chunk_subs, per_chunk, window, mix)
        if (c + 1) % max(1, chunks // 10) == 0:
            log(f"  events: {(c + 1) * per_chunk:,} of {events:,} ({time.perf_counter() - started:.0f}s)")

    written = {_label(events): {"path": str(full), "accounts": accounts, "events": events}}
    for size in subsets:
        k = size // per_chunk
        folder = out / _label(size)
        if folder.exists():
            shutil.rmtree(folder)
        (folder / "usage_events").mkdir(parents=True)
        keep = set(account_ids[:k * chunk_accounts])
        for name, frame in tables.items():
            pq.write_table(_arrow(name, frame[frame["account_id"].isin(keep)]), folder / f"{name}.parquet")
        for c in range(k):
            src = full / "usage_events" / f"part-{c:05d}.parquet"
            dst = folder / "usage_events" / src.name
            try:
                os.link(src, dst)
            except OSError:
                shutil.copy2(src, dst)
        written[_label(size)] = {"path": str(folder), "accounts": k * chunk_accounts, "events": size}
    meta = {"generated_in_seconds": round(time.perf_counter() - started, 1), "seed": seed, "months": months,
            "end_month": end_month, "chunk_accounts": chunk_accounts, "worlds": written}
    (out / "scale.json").write_text(json.dumps(meta, indent=2))
    return meta


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, default=Path("data/scale"))
    parser.add_argument("--accounts", type=int, default=100_000)
    parser.add_argument("--events", type=int, default=100_000_000)
    parser.add_argument("--subsets", default="1000000,10000000",
                        help="comma-separated event counts of the smaller (prefix) worlds; '' for none")
    parser.add_argument("--chunk-accounts", type=int, default=1_000)
    parser.add_argument("--batch-accounts", type=int, default=5_000)
    parser.add_argument("--months", type=int, default=36)
    parser.add_argument("--end-month", default="2026-10")
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    subsets = [int(s) for s in args.subsets.split(",") if s.strip()]
    meta = write_world(args.out, args.accounts, args.events, args.chunk_accounts, args.batch_accounts,
                       args.months, args.end_month, args.seed, subsets)
    print(json.dumps(meta, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
