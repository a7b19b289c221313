"""Loading from a real PostgreSQL (a throwaway cluster on loopback) gives the same clean tables."""

from __future__ import annotations

import pandas as pd
import pytest

from conftest import tiny_tables, write_tables
from csresearch.data import ContractError, open_dataset
from csresearch.data.export import write_postgres

pytestmark = pytest.mark.postgres


def test_postgres_source_equals_duckdb_source(pg_url, tmp_path):
    tables = tiny_tables()
    write_postgres(tables, pg_url)
    from_pg = open_dataset(pg_url)
    from_duckdb = open_dataset(write_tables(tables, tmp_path / "w.duckdb", "duckdb"))
    for name in tables:
        left = from_pg.table(name).sort_values(from_pg.table(name).columns[0]).reset_index(drop=True)
        right = from_duckdb.table(name).sort_values(left.columns[0]).reset_index(drop=True)
        pd.testing.assert_frame_equal(left, right[left.columns], check_dtype=False)
    assert from_pg.fingerprint == from_duckdb.fingerprint


def test_postgres_source_is_validated_like_any_other(pg_url):
    tables = tiny_tables()
    tables["subscriptions"].loc[0, "mrr"] = -1.0
    write_postgres(tables, pg_url)
    with pytest.raises(ContractError, match="mrr must be >= 0"):
        open_dataset(pg_url)
