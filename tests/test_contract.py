"""The data contract: every rule, broken by a tiny bad fixture, gives its named error; sources agree."""

from __future__ import annotations

import pandas as pd
import pytest

from conftest import tiny_tables, write_tables
from csresearch.data import ContractError, SourceError, open_dataset


def broken(tmp_path, mutate, fmt="csv"):
    tables = tiny_tables()
    mutate(tables)
    target = tmp_path / ("world.duckdb" if fmt == "duckdb" else "world")
    return write_tables(tables, target, fmt)


def violation(exc: ContractError, table: str, column: str):
    matches = [v for v in exc.violations if v.table == table and v.column == column]
    assert matches, f"no violation for {table}.{column} in {exc.violations}"
    return matches[0]


def test_valid_world_loads_and_counts_every_row(tmp_path):
    ds = open_dataset(broken(tmp_path, lambda t: None))
    q = ds.quality.set_index("table")
    assert q.loc["subscriptions", "rows_read"] == 4
    assert (q["rows_read"] == q["rows_used"] + q["rows_rejected"]).all()
    assert q["rows_rejected"].sum() == 0
    # extra columns are kept
    assert "employees" in ds.table("accounts").columns
    # types follow the contract
    subs = ds.table("subscriptions")
    assert pd.api.types.is_datetime64_any_dtype(subs["start_date"])
    assert pd.api.types.is_float_dtype(subs["mrr"])


@pytest.mark.parametrize(
    "table, column, rule_words, mutate",
    [
        ("subscriptions", "account_id", "exist in accounts",
         lambda t: t["subscriptions"].loc.__setitem__((0, "account_id"), "A404")),
        ("subscriptions", "subscription_id", "unique",
         lambda t: t["subscriptions"].loc.__setitem__((1, "subscription_id"), "S1")),
        ("subscriptions", "end_date", "after start_date",
         lambda t: t["subscriptions"].loc.__setitem__((0, "end_date"), pd.Timestamp("2023-12-01"))),
        ("subscriptions", "mrr", ">= 0",
         lambda t: t["subscriptions"].loc.__setitem__((2, "mrr"), -10.0)),
        ("accounts", "account_id", "unique",
         lambda t: t["accounts"].loc.__setitem__((1, "account_id"), "A1")),
        ("accounts", "created_at", "must not be null",
         lambda t: t["accounts"].loc.__setitem__((2, "created_at"), pd.NaT)),
        ("usage_events", "account_id", "exist in accounts",
         lambda t: t["usage_events"].loc.__setitem__((3, "account_id"), "A999")),
        ("usage_events", "quantity", ">= 0",
         lambda t: t["usage_events"].loc.__setitem__((0, "quantity"), -1.0)),
    ],
)
def test_each_row_rule_names_table_column_rule_and_count(tmp_path, table, column, rule_words, mutate):
    with pytest.raises(ContractError) as info:
        open_dataset(broken(tmp_path, mutate))
    v = violation(info.value, table, column)
    assert rule_words in v.rule
    assert v.rows >= 1 and v.examples, "a violation shows how many rows and a few examples"
    message = str(info.value)
    assert f"table '{table}'" in message and column in message and "row(s)" in message


def test_unparseable_date_shows_the_text_that_failed(tmp_path):
    def mutate(t):
        t["subscriptions"]["start_date"] = t["subscriptions"]["start_date"].astype(str)
        t["subscriptions"].loc[3, "start_date"] = "2024-13-45"
    with pytest.raises(ContractError) as info:
        open_dataset(broken(tmp_path, mutate))
    v = violation(info.value, "subscriptions", "start_date")
    assert v.rule == "must parse as date" and v.rows == 1
    assert "2024-13-45" in str(v)


def test_mixed_currencies_is_an_error_even_when_rejecting(tmp_path):
    def mutate(t):
        t["subscriptions"].loc[1, "currency"] = "EUR"
    with pytest.raises(ContractError) as info:
        open_dataset(broken(tmp_path, mutate), reject_invalid_rows=True)
    v = violation(info.value, "subscriptions", "currency")
    assert "one reporting currency" in v.rule and v.rows == 1


def test_empty_and_missing_required_tables(tmp_path):
    with pytest.raises(ContractError, match="required table is empty"):
        open_dataset(broken(tmp_path / "a", lambda t: t.__setitem__("subscriptions", t["subscriptions"].iloc[0:0])))
    with pytest.raises(ContractError, match="required table is missing"):
        open_dataset(broken(tmp_path / "b", lambda t: t.pop("subscriptions")))


def test_missing_required_column_is_named(tmp_path):
    with pytest.raises(ContractError) as info:
        open_dataset(broken(tmp_path, lambda t: t["subscriptions"].drop(columns=["mrr"], inplace=True)))
    v = violation(info.value, "subscriptions", "mrr")
    assert "required column is missing" in v.rule


def test_reject_mode_drops_and_counts_rows_with_reasons(tmp_path):
    def mutate(t):
        t["usage_events"].loc[3, "account_id"] = "A999"
        t["subscriptions"].loc[2, "mrr"] = -5.0
    ds = open_dataset(broken(tmp_path, mutate), reject_invalid_rows=True)
    q = ds.quality.set_index("table")
    assert q.loc["usage_events", "rows_rejected"] == 1 and q.loc["usage_events", "rows_used"] == 3
    assert q.loc["subscriptions", "rows_rejected"] == 1
    assert "exist in accounts" in q.loc["usage_events", "reasons"]
    assert len(ds.table("usage_events")) == 3
    assert set(ds.rejections["table"]) == {"usage_events", "subscriptions"}


def test_csv_parquet_and_duckdb_give_equal_frames(tmp_path):
    tables = tiny_tables()
    sources = [
        write_tables(tables, tmp_path / "csv", "csv"),
        write_tables(tables, tmp_path / "parquet", "parquet"),
        write_tables(tables, tmp_path / "w.duckdb", "duckdb"),
    ]
    loaded = [open_dataset(s) for s in sources]
    for name in ("accounts", "subscriptions", "usage_events"):
        frames = [ds.table(name).sort_index(axis=1) for ds in loaded]
        for other in frames[1:]:
            # CSV keeps extra columns as text (no schema to type them); contract columns must agree
            contract_cols = [c for c in frames[0].columns if c != "employees"]
            pd.testing.assert_frame_equal(frames[0][contract_cols], other[contract_cols], check_dtype=False)
    assert len({ds.fingerprint for ds in loaded[1:]}) == 1


def test_column_mapping_renames_a_sources_columns(tmp_path):
    tables = tiny_tables()
    tables["billing_export"] = tables.pop("subscriptions").rename(columns={"account_id": "customer", "mrr": "monthly_amount"})
    folder = write_tables(tables, tmp_path / "src")
    mapping = tmp_path / "mapping.yml"
    mapping.write_text(
        "tables:\n  subscriptions: billing_export\n"
        "columns:\n  subscriptions:\n    customer: account_id\n    monthly_amount: mrr\n"
    )
    ds = open_dataset(folder, mapping=mapping)
    assert ds.table("subscriptions")["mrr"].sum() == pytest.approx(1400.0)
    with pytest.raises(ContractError, match="required table is missing"):
        open_dataset(folder)


def test_bad_mapping_and_sources_are_named(tmp_path):
    bad = tmp_path / "m.yml"
    bad.write_text("columns:\n  subscription:\n    a: b\n")
    with pytest.raises(SourceError, match="'subscription' is not a contract table"):
        open_dataset(write_tables(tiny_tables(), tmp_path / "w"), mapping=bad)
    with pytest.raises(SourceError, match="does not exist"):
        open_dataset(tmp_path / "nowhere")
    with pytest.raises(SourceError, match="password"):
        open_dataset("postgresql://analyst:hunter2@localhost/crm")
    with pytest.raises(SourceError, match="unknown data source scheme"):
        open_dataset("ftp://example/data")
