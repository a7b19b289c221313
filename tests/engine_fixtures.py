"""Fixtures for the engine tests: the small world as Parquet, in PostgreSQL, and a Spark session.

Import the fixtures into a test module (``from engine_fixtures import ...``): pytest finds fixtures
in the module's namespace.
"""

from __future__ import annotations

import os
from pathlib import Path

import duckdb
import pandas as pd
import pytest

from csresearch.data.contract import TABLES

os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")  # no "resolves to a loopback address" warning


def export_parquet(world: Path, folder: Path, event_chunks: int = 3) -> Path:
    """Copy every table of a world's .duckdb file to ``folder`` as Parquet (microsecond timestamps,
    which Spark reads; pandas' default nanoseconds it does not). ``usage_events`` is written as a
    folder of ``event_chunks`` files, the layout of a big table."""
    folder.mkdir(parents=True, exist_ok=True)
    con = duckdb.connect()
    con.execute(f"ATTACH '{world}' AS w (READ_ONLY)")
    for name in TABLES:
        if name == "usage_events":
            chunks = folder / name
            chunks.mkdir(exist_ok=True)
            for i in range(event_chunks):
                con.execute(f"COPY (SELECT * FROM w.usage_events WHERE hash(account_id) % {event_chunks} = {i}) "
                            f"TO '{chunks / f'part-{i}.parquet'}' (FORMAT parquet)")
        else:
            con.execute(f"COPY (SELECT * FROM w.{name}) TO '{folder / f'{name}.parquet'}' (FORMAT parquet)")
    con.close()
    return folder


def write_parquet(tables: dict[str, pd.DataFrame], folder: Path) -> Path:
    """Hand-made tables as Parquet with microsecond timestamps (readable by Spark)."""
    folder.mkdir(parents=True, exist_ok=True)
    for name, frame in tables.items():
        frame.to_parquet(folder / f"{name}.parquet", index=False, coerce_timestamps="us",
                         allow_truncated_timestamps=True)
    return folder


def world_tables(world: Path) -> dict[str, pd.DataFrame]:
    con = duckdb.connect(str(world), read_only=True)
    try:
        return {name: con.sql(f"SELECT * FROM {name}").df() for name in TABLES}
    finally:
        con.close()


def schema_url(url: str, schema: str) -> str:
    """``url`` with its own (new, empty) schema on the search path, so one module's tables do not meet
    another's in the same cluster."""
    import psycopg

    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(f"DROP SCHEMA IF EXISTS {schema} CASCADE")
        conn.execute(f"CREATE SCHEMA {schema}")
    return f"{url}?options=-csearch_path%3D{schema}"


def table_differences(got: pd.DataFrame, duckdb: pd.DataFrame) -> str | None:
    """Why an engine's answer to a query is not DuckDB's (None: the same table). Columns are matched
    by position, by name too where DuckDB's name is an alias (an engine names an unaliased
    ``min(x)`` its own way); rows up to order; floats to 1e-9 relative (engines sum in different
    orders); dtypes as :func:`csresearch.data.engines.normalise_frame` makes them."""
    from csresearch.data.engines import normalise_frame

    if got.shape[1] != duckdb.shape[1]:
        return f"columns {list(got.columns)}, DuckDB's {list(duckdb.columns)}"
    for mine, theirs in zip(got.columns, duckdb.columns):
        if mine != theirs and "(" not in str(theirs):
            return f"column {mine!r} where DuckDB's is {theirs!r}"
    if len(got) != len(duckdb):
        return f"{len(got)} rows, DuckDB's {len(duckdb)}"
    a, b = normalise_frame(got), normalise_frame(duckdb)
    a.columns = b.columns = [f"c{i}" for i in range(a.shape[1])]

    def in_order(frame: pd.DataFrame) -> pd.DataFrame:
        key = frame.copy()
        for col in key.columns:  # floats rounded for the sort only: the last bits may differ
            key[col] = key[col].round(6) if pd.api.types.is_float_dtype(key[col]) else key[col].astype(str)
        return frame.loc[key.sort_values(list(key.columns), kind="stable").index].reset_index(drop=True)

    try:
        pd.testing.assert_frame_equal(in_order(a), in_order(b), check_dtype=False, check_exact=False,
                                      rtol=1e-9, atol=1e-9)
    except AssertionError as exc:
        return str(exc)
    return None


def assert_same(left: pd.DataFrame, right: pd.DataFrame, keys: list[str]) -> None:
    """Equal up to row order and dtype. Floats to 1e-9 relative: engines sum in different orders,
    which changes only the last bits of a double."""
    assert sorted(left.columns) == sorted(right.columns)
    a = left.sort_values(keys).reset_index(drop=True)
    b = right[left.columns].sort_values(keys).reset_index(drop=True)
    pd.testing.assert_frame_equal(a, b, check_dtype=False, check_exact=False, rtol=1e-9, atol=1e-9)


@pytest.fixture(scope="session")
def small_parquet_path(small_world_path, tmp_path_factory) -> Path:
    return export_parquet(small_world_path, tmp_path_factory.mktemp("small_parquet"))


@pytest.fixture(scope="module")
def spark():
    """One Spark session per test module (it takes 10-30 s to start); skipped, with the reason
    printed, when pyspark or Java is missing."""
    from csresearch.data.engines import spark_session, spark_unavailable

    reason = spark_unavailable()
    if reason:
        print(f"Spark tests skipped: {reason}")
        pytest.skip(f"Spark tests skipped: {reason}")
    return spark_session(master="local[2]")
