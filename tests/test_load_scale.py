"""What keeps loading cheap at 100M events: the big table stays in place, and is not rescanned.

From Parquet or a DuckDB file, ``usage_events`` is a view over the source that filters out rejected
rows (nothing copied into memory); its rule counts are cached against the files they came from, so
the notebooks of a run, which each open the data, scan 100M rows once, not once each.
"""

from __future__ import annotations

import os

import pandas as pd
import pytest

from conftest import tiny_tables, tiny_tables_with_bad_events, write_tables
from csresearch.data import ContractError, open_dataset


@pytest.fixture(autouse=True)
def private_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("CSRESEARCH_CACHE_DIR", str(tmp_path / "cache"))


def _in_memory(ds, kind: str) -> set[str]:
    column = "view_name" if kind == "views" else "table_name"
    return {r[0] for r in ds.con.execute(
        f"SELECT {column} FROM duckdb_{kind}() WHERE database_name = 'memory'").fetchall()}


@pytest.mark.parametrize("fmt", ["parquet", "duckdb"])
def test_big_table_from_parquet_or_duckdb_stays_in_place(tmp_path, fmt):
    path = write_tables(tiny_tables_with_bad_events(), tmp_path / ("w.duckdb" if fmt == "duckdb" else "w"), fmt)
    ds = open_dataset(path, reject_invalid_rows=True)
    assert "usage_events" in _in_memory(ds, "views") and "usage_events" not in _in_memory(ds, "tables")
    assert "accounts" in _in_memory(ds, "tables")  # account-level tables are held in memory
    q = ds.quality.set_index("table")
    assert (q.loc["usage_events", "rows_read"], q.loc["usage_events", "rows_rejected"]) == (4, 2)
    assert sorted(ds.table("usage_events")["user_id"]) == ["u1", "u4"]  # the two clean rows


def test_csv_events_are_parsed_once_into_memory(tmp_path):
    ds = open_dataset(write_tables(tiny_tables(), tmp_path / "csv", "csv"))
    assert "usage_events" in _in_memory(ds, "tables")


def test_unchanged_files_are_not_scanned_again_and_changed_ones_are(tmp_path):
    folder = write_tables(tiny_tables_with_bad_events(), tmp_path / "w", "parquet")
    first = open_dataset(folder, reject_invalid_rows=True)
    second = open_dataset(folder, reject_invalid_rows=True)
    assert first.cached_checks == [] and second.cached_checks == ["usage_events"]
    pd.testing.assert_frame_equal(first.quality, second.quality)
    pd.testing.assert_frame_equal(first.rejections, second.rejections)
    pd.testing.assert_frame_equal(first.table("usage_events"), second.table("usage_events"))
    assert first.fingerprint == second.fingerprint

    # the rules read accounts too: without A3 its event becomes an unknown-account row
    accounts = tiny_tables()["accounts"].iloc[:2]
    accounts.to_parquet(folder / "accounts.parquet", index=False)
    os.utime(folder / "accounts.parquet", ns=(1, 1))  # a new modification time even on a coarse clock
    third = open_dataset(folder, reject_invalid_rows=True)
    assert third.cached_checks == []
    assert third.quality.set_index("table").loc["usage_events", "rows_rejected"] == 3

    # the reject setting is part of the key: without it the same files fail the contract
    with pytest.raises(ContractError, match="account_id must exist in accounts"):
        open_dataset(folder)


def test_cache_can_be_switched_off(tmp_path, monkeypatch):
    monkeypatch.setenv("CSRESEARCH_CACHE_DIR", "off")
    folder = write_tables(tiny_tables(), tmp_path / "w", "parquet")
    open_dataset(folder)
    assert open_dataset(folder).cached_checks == []
