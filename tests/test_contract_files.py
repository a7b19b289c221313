"""Files that are not what they claim, and times with UTC offsets (issue 14, items 7 and 8).

Each case is a tiny hand-made world (``conftest.tiny_tables``: accounts + subscriptions, usage events
where times matter) written as files, with one thing broken. Every broken file gets a named error
(table, file or column, rule, rows and examples where they apply) from ``open_dataset`` and from
``csresearch validate`` (exit 2, no traceback); nothing is read silently wrong.
"""

from __future__ import annotations

import random
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from conftest import tiny_tables, write_tables
from csresearch.cli import app
from csresearch.data import ContractError, open_dataset
from csresearch.data.load import DUPLICATE_SOURCE, MIXED_OFFSETS, NOT_UTF8
from engine_fixtures import spark, write_parquet  # noqa: F401  (spark: the session fixture)

WIDE = {"COLUMNS": "400"}  # rich wraps the error message at the terminal's width
OFFSET_TIMES = ["2025-08-11T11:42:11+05:30", "2025-08-11T23:00:00Z", "2025-08-12 01:30:00-0300", "2025-08-13 08:00:00+01"]
IN_UTC = ["2025-08-11 06:12:11", "2025-08-11 23:00:00", "2025-08-12 04:30:00", "2025-08-13 07:00:00"]


@pytest.fixture(autouse=True)
def private_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("CSRESEARCH_CACHE_DIR", str(tmp_path / "cache"))


def world(tmp_path: Path, events: bool = False, fmt: str = "csv", mutate=None) -> Path:
    """The minimal valid world (accounts, subscriptions; usage events if asked) as files."""
    tables = tiny_tables()
    if not events:
        tables.pop("usage_events")
    if mutate:
        mutate(tables)
    return write_tables(tables, tmp_path / ("w.duckdb" if fmt == "duckdb" else "w"), fmt)


def csv_text(tmp_path: Path, table: str) -> str:
    return (world(tmp_path) / f"{table}.csv").read_text()


def broken(info, table: str, column: str = "", file: str = ""):
    """The one violation of ``table`` (and ``column`` / ``file``) in a ContractError."""
    found = [v for v in info.value.violations if v.table == table and v.column == column and (not file or v.file == file)]
    assert len(found) == 1, f"expected one violation of {table}.{column or file}, got {info.value.violations}"
    return found[0]


def validate_fails(path: Path, *words: str, args: tuple = ()) -> str:
    """``csresearch validate PATH`` exits 2 with a one-message error naming ``words``, no traceback."""
    result = CliRunner().invoke(app, ["validate", str(path), *args], env=WIDE)
    text = " ".join(result.output.split())
    assert result.exit_code == 2, result.output
    assert isinstance(result.exception, SystemExit), result.exception
    assert "Traceback" not in result.output and "invalid:" in text
    for word in words:
        assert word in text, f"{word!r} not in {text!r}"
    return text


# --------------------------------------------------------------------------------------------------
# Item 7: times with a UTC offset
# --------------------------------------------------------------------------------------------------
def set_event_times(folder: Path, times: list[str]) -> None:
    events = pd.read_csv(folder / "usage_events.csv", dtype=str)
    events["event_time"] = times
    events.to_csv(folder / "usage_events.csv", index=False)


def test_offsets_convert_to_utc(tmp_path):
    folder = world(tmp_path, events=True)
    set_event_times(folder, OFFSET_TIMES)
    events = open_dataset(folder).table("usage_events")
    assert events["event_time"].tolist() == [pd.Timestamp(t) for t in IN_UTC]
    assert events["event_time"].dt.tz is None  # stored as naive UTC, like every contract timestamp


def test_naive_times_are_taken_as_utc_unchanged(tmp_path):
    expected = tiny_tables()["usage_events"]["event_time"].tolist()
    for fmt in ("csv", "parquet", "duckdb"):  # text, and TIMESTAMP columns typed by the source
        events = open_dataset(world(tmp_path / fmt, events=True, fmt=fmt)).table("usage_events")
        assert events["event_time"].tolist() == expected, fmt


def test_a_column_mixing_offset_and_naive_times_is_named(tmp_path):
    folder = world(tmp_path, events=True)
    set_event_times(folder, [OFFSET_TIMES[0], "2025-08-11 11:42:11", "2025-08-12 09:00:00", "2025-08-13 10:00:00"])
    for reject in (False, True):  # which kind is wrong is not for us to guess: rejecting does not help
        with pytest.raises(ContractError) as info:
            open_dataset(folder, reject_invalid_rows=reject)
        v = broken(info, "usage_events", "event_time")
        assert v.rule == MIXED_OFFSETS == "mixes times with and without a UTC offset"
        assert v.rows == 1  # the less common kind: one time with an offset among three without
        assert repr(OFFSET_TIMES[0]) in str(v) and "'2025-08-11 11:42:11'" in str(v)
    validate_fails(folder, "table 'usage_events'", "column 'event_time'", MIXED_OFFSETS, "1 row(s)", OFFSET_TIMES[0])


def test_a_column_of_timestamps_typed_by_the_source_is_cast_as_before(tmp_path):
    # a Parquet TIMESTAMP column with a time zone: DuckDB's session is UTC, so the UTC wall clock
    tables = tiny_tables()
    tables["usage_events"]["event_time"] = tables["usage_events"]["event_time"].dt.tz_localize("Asia/Kolkata")
    folder = write_tables(tables, tmp_path / "tz", "parquet")
    events = open_dataset(folder).table("usage_events")
    assert events["event_time"].tolist() == (tiny_tables()["usage_events"]["event_time"] - pd.Timedelta("5h30min")).tolist()


# --------------------------------------------------------------------------------------------------
# Item 8: files that are not what they claim
# --------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("encoding", ["latin-1", "shift_jis", "cp1252"])
def test_a_csv_that_is_not_utf8_is_named(tmp_path, encoding):
    folder = world(tmp_path)
    text = csv_text(tmp_path / "text", "accounts").replace("Globex", "Société Générale 日本" if encoding == "shift_jis"
                                                           else "Société Générale")
    if encoding != "shift_jis":
        text = text.replace("日本", "")
    (folder / "accounts.csv").write_bytes(text.encode(encoding, errors="ignore"))
    with pytest.raises(ContractError) as info:
        open_dataset(folder)
    v = broken(info, "accounts", file="accounts.csv")
    assert v.rule == NOT_UTF8 and "UTF-8" in v.rule and "BOM" in v.rule
    assert v.rows == 1 and v.examples[0]["line"] == 3  # the header is line 1; Globex is the second account
    validate_fails(folder, "table 'accounts'", "file 'accounts.csv'", "not UTF-8", "line=3")


def test_a_utf16_csv_is_named(tmp_path):
    folder = world(tmp_path)
    (folder / "subscriptions.csv").write_bytes(csv_text(tmp_path / "text", "subscriptions").encode("utf-16"))
    with pytest.raises(ContractError) as info:
        open_dataset(folder)
    assert "UTF-16, not UTF-8" in broken(info, "subscriptions", file="subscriptions.csv").rule


def test_a_utf8_csv_with_bom_is_read_header_included(tmp_path):
    folder = world(tmp_path)
    for name in ("accounts", "subscriptions"):
        path = folder / f"{name}.csv"
        path.write_bytes(b"\xef\xbb\xbf" + path.read_text().replace("Globex", "Société Générale").encode("utf-8"))
    ds = open_dataset(folder)
    accounts = ds.table("accounts")
    assert list(accounts.columns[:2]) == ["account_id", "created_at"]  # not '\ufeffaccount_id'
    assert accounts["account_id"].tolist() == ["A1", "A2", "A3"]
    assert accounts["account_name"].tolist() == ["Acme", "Société Générale", "Initech"]
    assert ds.table("subscriptions")["mrr"].sum() == pytest.approx(1400.0)


@pytest.mark.parametrize("fmt", ["csv", "parquet"])
def test_binary_garbage_is_not_a_readable_file(tmp_path, fmt):
    folder = world(tmp_path, fmt=fmt)
    (folder / f"subscriptions.{fmt}").write_bytes(random.Random(14).randbytes(5000))
    with pytest.raises(ContractError) as info:
        open_dataset(folder)
    kind = "CSV" if fmt == "csv" else "Parquet"
    v = broken(info, "subscriptions", file=f"subscriptions.{fmt}")
    assert v.rule.startswith(f"not a readable {kind} file")
    validate_fails(folder, "table 'subscriptions'", f"file 'subscriptions.{fmt}'", f"not a readable {kind} file")


def test_a_parquet_file_that_is_a_csv_or_truncated_is_named(tmp_path):
    folder = world(tmp_path, fmt="parquet")
    good = (folder / "accounts.parquet").read_bytes()
    (folder / "accounts.parquet").write_text("account_id,created_at\nA1,2024-01-05\n")
    with pytest.raises(ContractError, match="not a readable Parquet file"):
        open_dataset(folder)
    (folder / "accounts.parquet").write_bytes(good[:40] + good[-30:])  # magic bytes kept, the middle lost
    with pytest.raises(ContractError) as info:
        open_dataset(folder)
    assert broken(info, "accounts", file="accounts.parquet").rule.startswith("not a readable Parquet file")


def test_a_duckdb_file_that_is_not_a_database_is_named(tmp_path):
    path = tmp_path / "w.duckdb"
    path.write_bytes(random.Random(14).randbytes(5000))
    result = CliRunner().invoke(app, ["validate", str(path)], env=WIDE)
    assert result.exit_code == 2 and "Traceback" not in result.output
    assert "is not a readable DuckDB database" in " ".join(result.output.split())


@pytest.mark.parametrize("fmt", ["csv", "parquet", "duckdb"])
def test_a_missing_required_column_is_named_for_every_source(tmp_path, fmt):
    # accounts without created_at: the other tables' account rules cannot run, and do not crash
    path = world(tmp_path, events=True, fmt=fmt, mutate=lambda t: t["accounts"].drop(columns=["created_at"], inplace=True))
    with pytest.raises(ContractError) as info:
        open_dataset(path)
    assert broken(info, "accounts", "created_at").rule == "required column is missing from the source"
    assert [v.table for v in info.value.violations] == ["accounts"]
    validate_fails(path, "table 'accounts'", "column 'created_at'", "required column is missing")


@pytest.mark.parametrize("delimiter, named", [(";", "';'"), ("\t", "tab"), ("|", "'|'")])
def test_another_delimiter_is_named_not_read_as_one_wide_column(tmp_path, delimiter, named):
    folder = world(tmp_path)
    tiny_tables()["subscriptions"].to_csv(folder / "subscriptions.csv", index=False, sep=delimiter, decimal=",")
    with pytest.raises(ContractError) as info:
        open_dataset(folder)
    v = broken(info, "subscriptions", file="subscriptions.csv")
    assert v.rule.startswith(f"delimiter is {named}, expected ','")
    validate_fails(folder, "table 'subscriptions'", "file 'subscriptions.csv'", f"delimiter is {named}, expected ','")


def test_a_duplicated_header_is_named(tmp_path):
    folder = world(tmp_path)
    lines = csv_text(tmp_path / "text", "subscriptions").splitlines()
    lines[0] = lines[0].replace("seats", "mrr")  # two columns called mrr
    (folder / "subscriptions.csv").write_text("\n".join(lines) + "\n")
    with pytest.raises(ContractError) as info:
        open_dataset(folder)
    v = broken(info, "subscriptions", "mrr")
    assert v.rule.startswith("duplicated header") and v.file == "subscriptions.csv"
    validate_fails(folder, "table 'subscriptions'", "column 'mrr'", "duplicated header")


def test_a_duplicated_column_in_parquet_and_through_a_mapping_is_named(tmp_path):
    folder = world(tmp_path, fmt="parquet")
    subs = pa.Table.from_pandas(tiny_tables()["subscriptions"], preserve_index=False)
    pq.write_table(subs.append_column("MRR", pa.array([1.0] * 4)), folder / "subscriptions.parquet")
    with pytest.raises(ContractError) as info:
        open_dataset(folder)
    assert broken(info, "subscriptions", "mrr").rule.startswith("duplicated header")

    folder = world(tmp_path / "mapped", mutate=lambda t: t["subscriptions"].insert(0, "amount", 1.0))
    with pytest.raises(ContractError) as info:  # the mapping would make a second mrr: one is not dropped silently
        open_dataset(folder, mapping={"columns": {"subscriptions": {"amount": "mrr"}}})
    v = broken(info, "subscriptions", "mrr")
    assert v.rule == DUPLICATE_SOURCE and "amount, mrr" in str(v)


def test_a_line_with_too_many_fields_is_named_with_its_line(tmp_path):
    folder = world(tmp_path)
    text = csv_text(tmp_path / "text", "subscriptions").splitlines()
    text[2] += ",surplus"
    (folder / "subscriptions.csv").write_text("\n".join(text) + "\n")
    with pytest.raises(ContractError) as info:
        open_dataset(folder)
    v = broken(info, "subscriptions", file="subscriptions.csv")
    assert v.rule.startswith("not a readable CSV file") and "Columns" in v.rule and v.examples[0]["line"] == 3
    validate_fails(folder, "file 'subscriptions.csv'", "not a readable CSV file", "line=3")


@pytest.mark.parametrize("text", ["NaN", "nan", "inf", "-inf", "Infinity", "n/a", "-"])
def test_text_that_is_not_a_number_breaks_a_number_column(tmp_path, text):
    def mutate(t):
        t["subscriptions"]["mrr"] = t["subscriptions"]["mrr"].astype(object)
        t["subscriptions"].loc[2, "mrr"] = text
    folder = world(tmp_path, mutate=mutate)
    with pytest.raises(ContractError) as info:
        open_dataset(folder)
    v = broken(info, "subscriptions", "mrr")
    assert v.rule == "must parse as number" and v.rows == 1 and v.examples[0]["mrr"] == repr(text)
    validate_fails(folder, "table 'subscriptions'", "column 'mrr'", "must parse as number", f"mrr={text!r}")

    ds = open_dataset(folder, reject_invalid_rows=True)  # rejectable like any parse failure: dropped and counted
    q = ds.quality.set_index("table").loc["subscriptions"]
    assert (q["rows_read"], q["rows_used"], q["rows_rejected"]) == (4, 3, 1)
    assert "mrr: must parse as number" in q["reasons"]
    assert ds.table("subscriptions")["mrr"].tolist() == [100.0, 1000.0, 50.0]


def test_nan_in_a_typed_number_column_is_not_a_number_either(tmp_path):
    folder = world(tmp_path, fmt="parquet")
    subs = pa.Table.from_pandas(tiny_tables()["subscriptions"], preserve_index=False)
    mrr = pa.array([100.0, float("nan"), 250.0, float("inf")], from_pandas=False)
    pq.write_table(subs.set_column(subs.schema.get_field_index("mrr"), "mrr", mrr), folder / "subscriptions.parquet")
    with pytest.raises(ContractError) as info:
        open_dataset(folder)
    v = broken(info, "subscriptions", "mrr")
    assert v.rule == "must parse as number" and v.rows == 2


@pytest.mark.parametrize("fmt", ["csv", "parquet"])
def test_a_non_integer_in_an_integer_column_is_a_row_violation(tmp_path, fmt):
    def mutate(t):
        t["subscriptions"]["seats"] = [5.0, 2.5, 10.0, 10.0]  # a float column: 5.0 is a whole number, 2.5 is not
    folder = world(tmp_path, fmt=fmt, mutate=mutate)
    with pytest.raises(ContractError) as info:
        open_dataset(folder)
    v = broken(info, "subscriptions", "seats")
    assert v.rule == "must parse as integer" and v.rows == 1 and v.examples[0]["seats"] == "'2.5'"
    ds = open_dataset(folder, reject_invalid_rows=True)
    assert ds.quality.set_index("table").loc["subscriptions", "rows_rejected"] == 1
    assert ds.table("subscriptions")["seats"].tolist() == [5, 10, 10]
    validate_fails(folder, "column 'seats'", "must parse as integer")


def test_run_stops_with_the_named_error_too(tmp_path):
    folder = world(tmp_path)
    tiny_tables()["subscriptions"].to_csv(folder / "subscriptions.csv", index=False, sep=";")
    result = CliRunner().invoke(app, ["run", "--month", "2024-10", "--data", str(folder), "--only", "00_data_overview",
                                      "--reports", str(tmp_path / "reports")], env=WIDE)
    text = " ".join(result.output.split())
    assert result.exit_code == 2 and isinstance(result.exception, SystemExit), result.output
    assert "Traceback" not in result.output
    assert "table 'subscriptions', file 'subscriptions.csv': delimiter is ';', expected ','" in text
    assert not (tmp_path / "reports" / "2024-10").exists()


# --------------------------------------------------------------------------------------------------
# The same rules where the big table stays in PostgreSQL or Spark
# --------------------------------------------------------------------------------------------------
def text_events(times: list[str], quantity: str = "1") -> pd.DataFrame:
    events = tiny_tables()["usage_events"].astype(str)
    events["event_time"] = times
    events.loc[3, "quantity"] = quantity
    return events


@pytest.mark.postgres
def test_postgres_text_times_and_numbers_follow_the_same_rules(pg_url, tmp_path):
    import psycopg

    from csresearch.data.export import write_postgres

    def load(schema: str, events: pd.DataFrame) -> str:
        with psycopg.connect(pg_url, autocommit=True) as conn:
            conn.execute(f"DROP SCHEMA IF EXISTS {schema} CASCADE")
            conn.execute(f"CREATE SCHEMA {schema}")
        tables = tiny_tables()
        write_postgres({k: v for k, v in tables.items() if k != "usage_events"}, pg_url, schema=schema)
        with psycopg.connect(pg_url, autocommit=True) as conn:
            conn.execute(f"CREATE TABLE {schema}.usage_events (account_id text, user_id text, event_time text, "
                         "event_name text, quantity text)")
            with conn.cursor().copy(f"COPY {schema}.usage_events FROM STDIN") as copy:
                for row in events.itertuples(index=False):
                    copy.write_row(tuple(row))
        return f"{pg_url}?options=-csearch_path%3D{schema}"

    ds = open_dataset(load("csr_offsets", text_events(OFFSET_TIMES)))
    try:
        assert ds.engine == "postgres"
        assert sorted(ds.table("usage_events")["event_time"].tolist()) == [pd.Timestamp(t) for t in IN_UTC]
    finally:
        ds.close()
    mixed = text_events([OFFSET_TIMES[0], "2025-08-11 11:42:11", "2025-08-12 09:00:00", "2025-08-13 10:00:00"], "NaN")
    with pytest.raises(ContractError) as info:
        open_dataset(load("csr_mixed", mixed))
    assert broken(info, "usage_events", "event_time").rule == MIXED_OFFSETS
    assert broken(info, "usage_events", "quantity").rule == "must parse as number"
    csv = world(tmp_path, events=True)
    mixed.to_csv(csv / "usage_events.csv", index=False)
    with pytest.raises(ContractError) as in_duckdb:
        open_dataset(csv)
    assert [str(v) for v in info.value.violations] == [str(v) for v in in_duckdb.value.violations]


@pytest.mark.slow
def test_spark_text_times_and_numbers_follow_the_same_rules(spark, tmp_path):
    tables = tiny_tables()
    folder = write_parquet({**tables, "usage_events": text_events(OFFSET_TIMES)}, tmp_path / "offsets")
    in_spark, in_duckdb = open_dataset(folder, engine="spark"), open_dataset(folder)
    try:
        assert sorted(in_spark.table("usage_events")["event_time"].tolist()) == [pd.Timestamp(t) for t in IN_UTC]
        pd.testing.assert_frame_equal(in_spark.table("usage_events").sort_values("user_id").reset_index(drop=True),
                                      in_duckdb.table("usage_events").sort_values("user_id").reset_index(drop=True),
                                      check_dtype=False)
    finally:
        in_spark.close()
    mixed = text_events([OFFSET_TIMES[0], "2025-08-11 11:42:11", "2025-08-12 09:00:00", "2025-08-13 10:00:00"], "inf")
    folder = write_parquet({**tables, "usage_events": mixed}, tmp_path / "mixed")
    with pytest.raises(ContractError) as info:
        open_dataset(folder, engine="spark")
    with pytest.raises(ContractError) as in_duckdb:
        open_dataset(folder)
    assert [str(v) for v in info.value.violations] == [str(v) for v in in_duckdb.value.violations]
    assert {v.rule for v in info.value.violations} == {MIXED_OFFSETS, "must parse as number"}
