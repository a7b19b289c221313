"""Writing a world: one DuckDB file, or a folder of Parquet or CSV files, plus the truth JSON
(dates as DATE, event times as naive UTC TIMESTAMP)."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pandas as pd

from .params import DATE_COLUMNS, TABLE_NAMES, TIMESTAMP_COLUMNS
from .world import World


def _to_arrow(name: str, df: pd.DataFrame):
    import pyarrow as pa

    table = pa.Table.from_pandas(df, preserve_index=False)
    for col in DATE_COLUMNS.get(name, []):
        i = table.schema.get_field_index(col)
        table = table.set_column(i, col, table.column(col).cast(pa.timestamp("s")).cast(pa.date32()))
    for col in TIMESTAMP_COLUMNS.get(name, []):
        i = table.schema.get_field_index(col)
        table = table.set_column(i, col, table.column(col).cast(pa.timestamp("us")))
    return table


def _for_csv(name: str, df: pd.DataFrame) -> pd.DataFrame:
    out = df.copy()
    for col in DATE_COLUMNS.get(name, []):
        out[col] = out[col].dt.strftime("%Y-%m-%d")
    for col in TIMESTAMP_COLUMNS.get(name, []):
        out[col] = out[col].dt.strftime("%Y-%m-%d %H:%M:%S")
    return out


def save_world(world: World, out: str | Path, fmt: str | None = None) -> Path:
    """Write the tables and the truth.

    ``out`` ending ``.duckdb``: one DuckDB file, one table per contract table (an existing file is
    replaced), truth in ``<stem>.truth.json`` beside it. Otherwise ``out`` is a folder of
    ``<table>.parquet`` (``fmt="parquet"``, the default) or ``<table>.csv`` (``fmt="csv"``) plus
    ``truth.json``. Dates are stored as DATE, event times as TIMESTAMP (UTC, naive).
    Returns the path written (file or folder).
    """
    out = Path(out)
    if out.suffix == ".duckdb":
        if fmt not in (None, "duckdb"):
            raise ValueError(f"fmt={fmt!r} does not apply to a .duckdb file")
        import duckdb

        out.parent.mkdir(parents=True, exist_ok=True)
        tmp = out.with_name(out.name + ".writing")
        for p in (tmp, Path(str(tmp) + ".wal")):
            if p.exists():
                p.unlink()
        con = duckdb.connect(str(tmp))
        try:
            for name in TABLE_NAMES:
                arrow = _to_arrow(name, world.tables[name])
                con.register("_synth_src", arrow)
                con.execute(f'CREATE TABLE "{name}" AS SELECT * FROM _synth_src')
                con.unregister("_synth_src")
            con.execute("CHECKPOINT")
        finally:
            con.close()
        stale_wal = Path(str(out) + ".wal")
        if stale_wal.exists():
            stale_wal.unlink()
        os.replace(tmp, out)
        truth_path = out.with_suffix(".truth.json")
    else:
        fmt = fmt or "parquet"
        if fmt not in ("parquet", "csv"):
            raise ValueError(f"fmt must be 'parquet' or 'csv', not {fmt!r}")
        out.mkdir(parents=True, exist_ok=True)
        other = "csv" if fmt == "parquet" else "parquet"
        for name in TABLE_NAMES:
            stale = out / f"{name}.{other}"
            if stale.exists():  # the loader prefers parquet: never leave a stale twin behind
                stale.unlink()
            if fmt == "parquet":
                import pyarrow.parquet as pq

                pq.write_table(_to_arrow(name, world.tables[name]), out / f"{name}.parquet")
            else:
                _for_csv(name, world.tables[name]).to_csv(out / f"{name}.csv", index=False)
        truth_path = out / "truth.json"
    truth_path.write_text(json.dumps(world.truth, indent=1, sort_keys=False))
    return out
