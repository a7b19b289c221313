"""One SQL text, three engines: DuckDB, PostgreSQL and Spark give the same answers.

Hand-computed small cases pin the portable definitions (month-end MRR, usage per day/week/month) and
the routing of queries; the small synthetic world then runs the contract rules, the usage
aggregation and the point-in-time feature table (features.account_features) on every engine and
compares the results with DuckDB's.
"""

from __future__ import annotations

import datetime as dt
import decimal

import duckdb
import numpy as np
import pandas as pd
import pytest
import sqlglot

from conftest import tiny_tables, tiny_tables_with_bad_events, write_tables
from csresearch.core import features
from csresearch.core.revenue import account_month_mrr as churn_account_month_mrr
from csresearch.data import ContractError, SourceError, engines, open_dataset
from csresearch.data.export import write_postgres
from csresearch.data.load import resolve_engine
from engine_fixtures import (  # noqa: F401 - fixtures
    assert_same,
    schema_url,
    small_parquet_path,
    spark,
    table_differences,
    world_tables,
    write_parquet,
)

OBSERVATIONS = features.observation_dates("2026-05", "2026-10")  # six month-end observation dates

# DuckDB list, series, interval and date-difference functions the notebooks use, on hand-made events
# whose times have fractions of a second and cross midnight (where engines' date differences differ)
SERIES_SQL = """
WITH weeks AS (
    SELECT unnest(generate_series(date_trunc('week', $start::DATE), date_trunc('week', $end::DATE),
                                  INTERVAL 7 DAY))::DATE AS week
),
offsets AS (SELECT unnest(generate_series(-$weeks, -1)) AS week),
picked AS (SELECT unnest($names) AS name),
nothing AS (SELECT unnest($empty) AS name)
SELECT 'weeks' AS what, count(*) AS n, min(week) AS first, max(week) AS last FROM weeks
UNION ALL SELECT 'offsets', count(*), NULL, NULL FROM offsets
UNION ALL SELECT 'picked', count(*), NULL, NULL FROM picked
UNION ALL SELECT 'nothing', count(*), NULL, NULL FROM nothing
"""
SERIES_PARAMS = {"start": dt.date(2026, 1, 1), "end": dt.date(2026, 2, 15), "weeks": 26, "names": ["login", "export"],
                 "empty": []}
PER_EVENT_SQL = """
SELECT user_id, date_diff('day', event_time, ref) AS days, date_diff('hour', event_time, ref) AS hours,
       date_diff('minute', event_time, ref) AS minutes, date_diff('second', event_time, ref) AS seconds,
       -1 - floor(date_diff('day', event_time::DATE, ref::DATE) / 7)::INT AS week,
       CASE WHEN len($names) = 0 OR list_contains($names, event_name) THEN quantity ELSE 0 END AS named,
       CASE WHEN len($empty) = 0 OR list_contains($empty, event_name) THEN quantity ELSE 0 END AS every,
       CASE WHEN event_time >= ref + INTERVAL 1 DAY - to_days(7 * $weeks) THEN 1 ELSE 0 END AS recent
FROM events
"""


def _events_with_fractions() -> pd.DataFrame:
    t = pd.Timestamp
    return pd.DataFrame({
        "user_id": ["u1", "u2", "u3", "u4", "u5"],
        "event_name": ["login", "export", "share", "login", "share"],
        "quantity": [1.0, 2.0, 3.0, 4.0, 5.0],
        "event_time": [t("2026-01-01 23:00:00.750"), t("2026-01-05 10:00:00.900"), t("2025-12-31 12:34:56"),
                       t("2026-01-03 00:00:00.500"), t("2025-07-01 08:00:00.250")],
        "ref": [t("2026-01-02 01:00:00.250"), t("2026-01-05 10:00:01.100"), t("2026-01-01 00:00:00"),
                t("2026-01-02 23:59:59.900"), t("2026-01-04 07:59:59.999")],
    })


def _same_answers_as_duckdb(engine: engines.Engine) -> None:
    local = engines.DuckDBEngine()
    events = _events_with_fractions()
    for sql, params in ((SERIES_SQL, SERIES_PARAMS), (PER_EVENT_SQL, {"names": ["login", "export"], "empty": [],
                                                                      "weeks": 26})):
        got = engine.query(sql, params, frames={"events": events})
        want = local.query(sql, params, frames={"events": events})
        assert table_differences(got, want) is None, (sql, table_differences(got, want))


# --------------------------------------------------------------------------------------------------
# Transpiling and routing (no server needed)
# --------------------------------------------------------------------------------------------------
def test_transpile_spells_out_group_by_all_and_inlines_parameters():
    sql = "SELECT account_id, lower(event_name) AS e, sum(quantity) FROM usage_events WHERE account_id = ? GROUP BY ALL"
    got = engines.transpile(sql, "postgres", ["O'Brien"])
    assert "GROUP BY 1, 2" in got
    assert "'O''Brien'" in got and "?" not in got and "%s" not in got
    spark_sql = engines.transpile("SELECT * FROM t WHERE d >= $day AND n = $n", "spark",
                                  {"day": dt.date(2026, 1, 31), "n": np.int64(3)})
    assert "CAST('2026-01-31' AS DATE)" in spark_sql and "n = 3" in spark_sql
    with pytest.raises(engines.EngineError, match="unknown engine"):
        engines.transpile("SELECT 1", "oracle")


def test_not_in_becomes_not_exists_for_spark_with_the_same_answer():
    """Spark plans NOT IN inside an expression as a nested-loop join; the rewrite must not change
    the answer, NULLs included (NOT IN gives NULL for a NULL id, so the row is not counted)."""
    con = duckdb.connect()
    con.execute("CREATE TABLE accounts AS SELECT * FROM (VALUES ('A1'), ('A2')) a(account_id)")
    con.execute("CREATE TABLE ev AS SELECT * FROM (VALUES ('A1'), ('A9'), (NULL), ('A9')) e(account_id)")
    sql = ("SELECT sum(CASE WHEN coalesce(account_id NOT IN (SELECT account_id FROM accounts), FALSE) "
           "THEN 1 ELSE 0 END) FROM (SELECT * FROM ev) AS _t")
    rewritten = engines._not_in_as_not_exists(sqlglot.parse_one(sql, read="duckdb")).sql("duckdb")
    assert "NOT EXISTS" in rewritten and " IN (" not in rewritten
    assert con.execute(sql).fetchone() == con.execute(rewritten).fetchone() == (2,)  # the two 'A9' rows


def test_duckdb_list_series_and_interval_functions_are_respelled_for_each_engine():
    """What the postmortem's timelines use: DuckDB's generate_series is a list (PostgreSQL's is rows),
    len() of a list, an empty list parameter, to_days(), and a cast around an unnest (Spark refuses
    a generator inside an expression)."""
    params = {**SERIES_PARAMS, "names": ["login"]}
    pg = engines.transpile(SERIES_SQL, "postgres", params) + engines.transpile(PER_EVENT_SQL, "postgres", params)
    assert "UNNEST(GENERATE_SERIES" not in pg and "GENERATE_SERIES(" in pg
    assert "CAST(ARRAY[] AS TEXT[])" in pg and "CARDINALITY(" in pg and "TO_DAYS" not in pg
    spark_sql = engines.transpile(SERIES_SQL, "spark", params) + engines.transpile(PER_EVENT_SQL, "spark", params)
    assert "CAST(EXPLODE" not in spark_sql and "EXPLODE(TRANSFORM(SEQUENCE(" in spark_sql
    assert "SIZE(" in spark_sql and "CAST(ARRAY() AS ARRAY<STRING>)" in spark_sql and "TO_DAYS" not in spark_sql
    # Spark's datediff(unit, ...) counts whole units elapsed; DuckDB counts boundaries crossed
    diff = engines.transpile("SELECT date_diff('day', a, b), date_diff('second', a, b) FROM t", "spark")
    assert "DATEDIFF(CAST(b AS DATE), CAST(a AS DATE))" in diff and "UNIX_SECONDS(" in diff
    assert "UNNEST(GENERATE_SERIES" in engines.transpile(SERIES_SQL, "duckdb", params)  # DuckDB: as written


def test_referenced_tables_leaves_out_the_querys_own_ctes():
    sql = ("WITH recent AS (SELECT * FROM usage_events e JOIN obs_1 o ON e.event_time < o.observation_date) "
           "SELECT * FROM recent JOIN accounts USING (account_id)")
    assert engines.referenced_tables(sql) == {"usage_events", "obs_1", "accounts"}


def test_results_look_like_duckdb_frames():
    raw = pd.DataFrame({"total": [decimal.Decimal("1.50"), None], "day": [dt.date(2026, 1, 2), None],
                        "n": pd.Series([3, None], dtype=object), "same": [1, 2]})
    raw.columns = ["total", "day", "n", "total"]  # PostgreSQL may repeat a column name
    got = engines.normalise_frame(raw)
    assert got.iloc[:, 0].tolist()[0] == 1.5 and np.isnan(got.iloc[1, 0])
    assert str(got["day"].dtype) == "datetime64[us]" and got["day"][0] == pd.Timestamp("2026-01-02")
    assert str(got["n"].dtype) == "Int64" and got["n"].isna()[1]


def test_account_month_mrr_matches_the_hand_computed_month_ends():
    subs = tiny_tables()["subscriptions"]
    engine = engines.DuckDBEngine()
    engine.put("subscriptions", subs)
    got = engines.account_month_mrr(engine, "2024-01", "2024-10")
    # A1: 100 from January until its subscription ends on 5 June (0 at the June month end and after);
    # A2: 1000 from February; A3: 250 from March, +50 add-on for April-August (ends 1 September).
    expected = {
        "A1": [100.0] * 5 + [0.0] * 5,
        "A2": [1000.0] * 9,
        "A3": [250.0] + [300.0] * 5 + [250.0] * 2,
    }
    for account, values in expected.items():
        rows = got[got["account_id"] == account]
        assert rows["mrr"].tolist() == values
        assert rows["month"].iloc[-1] == pd.Period("2024-10", "M")
    pd.testing.assert_frame_equal(got, churn_account_month_mrr(subs, "2024-01", "2024-10"), check_dtype=False)


def _hand_events() -> pd.DataFrame:
    t = pd.Timestamp
    return pd.DataFrame({
        "account_id": ["X", "X", "X", "X", "Y"],
        "user_id": ["u1", "u1", "u2", "u2", "v1"],
        "event_time": [t("2024-01-01 09:00"), t("2024-01-02 10:00"), t("2024-01-07 23:59"),
                       t("2024-01-08 00:00"), t("2024-02-15 12:00")],
        "event_name": ["login"] * 5,
        "quantity": [1.0, 1.0, 3.0, 1.0, 2.0],
    })


def test_usage_by_period_counts_days_weeks_and_months_by_hand():
    engine = engines.DuckDBEngine()
    engine.put("usage_events", _hand_events())
    weeks = engines.usage_by_period(engine, "week")
    # 1-7 January 2024 is Monday to Sunday: three events of X (quantity 5, users u1 and u2); the
    # event at midnight on Monday 8 January starts the next week.
    x = weeks[weeks["account_id"] == "X"]
    assert x["period_start"].tolist() == [pd.Timestamp("2024-01-01"), pd.Timestamp("2024-01-08")]
    assert x["events"].tolist() == [5.0, 1.0]
    assert x["event_rows"].tolist() == [3, 1]
    assert x["active_users"].tolist() == [2, 1]
    months = engines.usage_by_period(engine, "month")
    assert months.loc[months["account_id"] == "X", ["events", "event_rows", "active_users"]].values.tolist() == [[6.0, 4, 2]]
    days = engines.usage_by_period(engine, "day", start="2024-01-02", end="2024-01-08")
    assert days["period_start"].tolist() == [pd.Timestamp("2024-01-02"), pd.Timestamp("2024-01-07")]
    with pytest.raises(ValueError, match="grain"):
        engines.usage_by_period(engine, "fortnight")


def test_usage_by_period_in_account_batches_gives_the_same_table(small_dataset):
    # every group lies in one account, so splitting the accounts into ranges must change nothing
    whole = engines.usage_by_period(small_dataset, "week", batches=1)
    for n in (2, 7):
        batched = engines.usage_by_period(small_dataset, "week", batches=n)
        pd.testing.assert_frame_equal(batched, whole)
    # by hand: four accounts (A, O'Neil, X, Y) split at the ids a quarter and half way through; a
    # quote in a boundary id is escaped in the SQL
    engine = engines.DuckDBEngine()
    events = pd.concat([_hand_events(), _hand_events().assign(account_id="O'Neil"),
                        _hand_events().head(1).assign(account_id="A")], ignore_index=True)
    engine.put("usage_events", events)
    assert engines.account_batches(engine, 2) == [(None, "X"), ("X", None)]
    assert engines.account_batches(engine, 4) == [(None, "O'Neil"), ("O'Neil", "X"), ("X", "Y"), ("Y", None)]
    by_hand = engines.usage_by_period(engine, "month", batches=4)
    assert by_hand.groupby("account_id")["events"].sum().to_dict() == {"A": 1.0, "O'Neil": 8.0, "X": 6.0, "Y": 2.0}
    assert engines._auto_batches(engine) == 1, "a few events: one query"


def test_routed_connection_runs_big_table_queries_remotely_and_copies_their_inputs():
    local = duckdb.connect()
    local.execute("CREATE TABLE accounts AS SELECT * FROM (VALUES ('X', 'SMB'), ('Y', 'Enterprise')) a(account_id, segment)")
    remote = duckdb.connect()  # stands in for PostgreSQL or Spark: another engine, its own catalogue
    remote.register("usage_events", _hand_events())
    routed = engines.RoutedConnection(local, engines.DuckDBEngine(remote), ["usage_events"])

    assert routed.execute("SELECT count(*) FROM accounts").fetchone() == (2,)
    assert "accounts" not in {r[0] for r in remote.execute("SHOW TABLES").fetchall()}  # stayed local

    by_segment = routed.execute(
        "SELECT a.segment, sum(e.quantity) AS q FROM usage_events e JOIN accounts a USING (account_id) "
        "GROUP BY ALL ORDER BY 1").fetchall()
    assert by_segment == [("Enterprise", 2.0), ("SMB", 6.0)]

    routed.register("picks", pd.DataFrame({"account_id": ["X"]}))
    count = "SELECT count(*) FROM usage_events e JOIN picks p USING (account_id)"
    assert routed.execute(count).fetchone() == (4,)
    routed.register("picks", pd.DataFrame({"account_id": ["Y"]}))  # new content: copied again
    assert routed.sql(count).fetchone() == (1,)
    assert routed.execute("SELECT count(*) FROM usage_events WHERE quantity > ?", [1.5]).fetchone() == (2,)
    routed.unregister("picks")
    assert "picks" not in {r[0] for r in remote.execute("SHOW TABLES").fetchall()}


def test_query_log_keeps_each_engine_query_and_replays_it(monkeypatch, tmp_path):
    """$CSRESEARCH_QUERY_LOG: every query routed to the engine is kept with its parameters and the
    frames it read, and runs again on another connection with the same answer."""
    from csresearch.data import querylog

    local = duckdb.connect()
    remote = duckdb.connect()
    remote.register("usage_events", _hand_events())
    routed = engines.RoutedConnection(local, engines.DuckDBEngine(remote), ["usage_events"])
    monkeypatch.setenv(querylog.QUERY_LOG_ENV, str(tmp_path / "log"))
    routed.register("picks", pd.DataFrame({"account_id": ["X"], "since": [pd.Timestamp("2024-01-02")]}))
    sql = ("SELECT p.account_id, count(*) AS n FROM usage_events e JOIN picks p USING (account_id) "
           "WHERE e.event_time >= p.since AND e.event_name IN (SELECT unnest($names)) AND e.event_time < $until "
           "GROUP BY ALL")
    params = {"names": ["login"], "until": dt.date(2024, 2, 1)}
    answer = routed.execute(sql, params).df()
    assert routed.execute("SELECT count(*) FROM picks").fetchone() == (1,)  # local: not logged
    with pytest.raises(engines.EngineError):
        routed.execute("SELECT nonsense( FROM usage_events")
    logged = querylog.read(tmp_path / "log")
    assert len(logged) == 1, "the unparsable query never reached the engine"
    query = logged[0]
    assert query.sql == sql and query.params == params and set(query.frames) == {"picks"}
    assert query.rows == 1 and query.error is None and query.engine == "duckdb"
    assert query.callers == [], "sent by a test, not by the workbook's code"
    replay = duckdb.connect()
    replay.register("usage_events", _hand_events())
    assert table_differences(query.run(replay), answer) is None
    assert query.key() == querylog.read(tmp_path / "log")[0].key()
    assert querylog.decode(querylog.encode([pd.Timestamp("2024-01-02 03:04:05"), dt.date(2024, 1, 2), np.int64(3),
                                            float("nan"), {"a": [1, "b"]}]))[:3] == \
        [pd.Timestamp("2024-01-02 03:04:05"), dt.date(2024, 1, 2), 3]


def test_engine_choice(monkeypatch, tmp_path):
    monkeypatch.delenv("CSRESEARCH_ENGINE", raising=False)
    assert resolve_engine(None, str(tmp_path)) == "duckdb"
    assert resolve_engine(None, "postgresql://db.example/cs") == "postgres"
    assert resolve_engine("duckdb", "postgresql://db.example/cs") == "duckdb"
    monkeypatch.setenv("CSRESEARCH_ENGINE", "spark")
    assert resolve_engine(None, str(tmp_path)) == "spark"
    with pytest.raises(SourceError, match="folder"):
        resolve_engine("spark", str(tmp_path / "world.duckdb"))
    with pytest.raises(SourceError, match="postgresql://"):
        resolve_engine("postgres", str(tmp_path))
    with pytest.raises(SourceError, match="unknown engine"):
        resolve_engine("oracle", str(tmp_path))


# --------------------------------------------------------------------------------------------------
# PostgreSQL: the events stay in PostgreSQL
# --------------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def pg_small_url(pg_url, small_world_path):
    url = schema_url(pg_url, "csr_small")
    write_postgres(world_tables(small_world_path), pg_url, schema="csr_small")
    return url


@pytest.mark.postgres
@pytest.mark.slow
def test_postgres_keeps_events_there_and_answers_like_duckdb(pg_small_url, small_dataset):
    ds = open_dataset(pg_small_url)
    try:
        assert ds.engine == "postgres" and ds.remote_tables == {"usage_events"}
        assert not ds.con.local.execute("SELECT count(*) FROM duckdb_tables() WHERE table_name = 'usage_events'").fetchone()[0]
        assert_same(ds.quality, small_dataset.quality, ["table"])
        assert ds.fingerprint == small_dataset.fingerprint
        assert_same(engines.usage_by_period(ds, "week"), engines.usage_by_period(small_dataset, "week"),
                    ["account_id", "period_start", "event_name"])
        # the point-in-time feature table: usage blocks run in PostgreSQL, the rest in DuckDB
        assert_same(features.account_features(ds, OBSERVATIONS), features.account_features(small_dataset, OBSERVATIONS),
                    ["observation_date", "account_id"])
    finally:
        ds.close()


@pytest.mark.postgres
def test_every_feature_query_and_month_end_mrr_run_whole_in_postgres(pg_url, small_world_path, small_dataset):
    tables = world_tables(small_world_path)
    pg = engines.PostgresEngine(pg_url)
    local = engines.DuckDBEngine()
    try:
        for name, frame in tables.items():
            pg.put(name, frame)  # session tables: every query below runs entirely in PostgreSQL
            local.put(name, frame)
        obs = features._obs_frame(OBSERVATIONS, (30, 30))
        event_names = sorted(tables["usage_events"]["event_name"].unique())
        for block, sql in features.feature_queries(event_names).items():
            assert_same(pg.query(sql, frames={"obs": obs}), local.query(sql, frames={"obs": obs}),
                        ["observation_date", "account_id"])
        mrr = engines.account_month_mrr(pg, "2025-01", "2026-10")
        assert_same(mrr, churn_account_month_mrr(tables["subscriptions"], "2025-01", "2026-10"),
                    ["account_id", "month_end"])
    finally:
        pg.close()


@pytest.mark.postgres
def test_duckdb_list_series_and_date_functions_answer_like_duckdb_in_postgres(pg_url):
    pg = engines.PostgresEngine(pg_url)
    try:
        _same_answers_as_duckdb(pg)
    finally:
        pg.close()


@pytest.mark.postgres
def test_contract_rules_run_in_postgres_on_text_columns(pg_url, tmp_path):
    """A warehouse table typed as text: the parse rules run in PostgreSQL (no TRY_CAST there: a
    session function), name the bad text, and reject exactly the rows DuckDB rejects."""
    import psycopg

    tables = tiny_tables()
    url = schema_url(pg_url, "csr_text")
    write_postgres({k: v for k, v in tables.items() if k != "usage_events"}, pg_url, schema="csr_text")
    events = tables["usage_events"].astype(str)
    events.loc[1, "event_time"] = "not a time"
    events.loc[3, "quantity"] = "lots"
    with psycopg.connect(pg_url, autocommit=True) as conn:
        conn.execute("CREATE TABLE csr_text.usage_events (account_id text, user_id text, event_time text, "
                     "event_name text, quantity text)")
        with conn.cursor().copy("COPY csr_text.usage_events FROM STDIN") as copy:
            for row in events.itertuples(index=False):
                copy.write_row(tuple(row))

    with pytest.raises(ContractError, match="'not a time'") as info:
        open_dataset(url)
    rules = {(v.table, v.column, v.rule) for v in info.value.violations}
    assert rules == {("usage_events", "event_time", "must parse as timestamp"),
                     ("usage_events", "quantity", "must parse as number")}

    ds = open_dataset(url, reject_invalid_rows=True)
    csv = open_dataset(write_tables({**tables, "usage_events": events}, tmp_path / "csv"), reject_invalid_rows=True)
    try:
        assert_same(ds.quality, csv.quality, ["table"])
        assert ds.quality.set_index("table").loc["usage_events", "rows_used"] == 2
        assert_same(ds.table("usage_events"), csv.table("usage_events"), ["user_id"])
    finally:
        ds.close()


# --------------------------------------------------------------------------------------------------
# Spark: local mode, one session for the module
# --------------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def spark_small(spark, small_parquet_path):
    ds = open_dataset(small_parquet_path, engine="spark")
    yield ds
    ds.close()


@pytest.mark.slow
def test_spark_dataset_answers_like_duckdb(spark_small, small_parquet_path, small_dataset):
    assert spark_small.engine == "spark" and spark_small.remote_tables == {"usage_events"}
    assert_same(spark_small.quality, small_dataset.quality, ["table"])
    assert spark_small.fingerprint == small_dataset.fingerprint
    assert_same(engines.usage_by_period(spark_small, "month"), engines.usage_by_period(small_dataset, "month"),
                ["account_id", "period_start", "event_name"])
    dates = OBSERVATIONS[-2:]
    assert_same(features.account_features(spark_small, dates), features.account_features(small_dataset, dates),
                ["observation_date", "account_id"])


@pytest.mark.slow
def test_spark_engine_runs_month_end_mrr_and_the_subscription_features(spark, small_world_path):
    """The account-level SQL runs in Spark too (the Dataset test above covers the usage blocks)."""
    subscriptions = world_tables(small_world_path)["subscriptions"]
    engine = engines.SparkEngine(spark)
    local = engines.DuckDBEngine()
    try:
        engine.put("subscriptions", subscriptions)
        local.put("subscriptions", subscriptions)
        mrr = engines.account_month_mrr(engine, "2025-01", "2026-10")
        assert_same(mrr, churn_account_month_mrr(subscriptions, "2025-01", "2026-10"), ["account_id", "month_end"])
        obs = features._obs_frame(OBSERVATIONS, (30, 30))
        sql = features.feature_queries(tables=["subscriptions"])["subscriptions"]
        assert_same(engine.query(sql, frames={"obs": obs}), local.query(sql, frames={"obs": obs}),
                    ["observation_date", "account_id"])
    finally:
        engine.close()


@pytest.mark.slow
def test_duckdb_list_series_and_date_functions_answer_like_duckdb_in_spark(spark):
    engine = engines.SparkEngine(spark)
    try:
        _same_answers_as_duckdb(engine)
    finally:
        engine.close()


@pytest.mark.slow
def test_spark_rejects_the_rows_duckdb_rejects(spark, tmp_path):
    folder = write_parquet(tiny_tables_with_bad_events(), tmp_path / "bad")
    in_spark = open_dataset(folder, engine="spark", reject_invalid_rows=True)
    in_duckdb = open_dataset(folder, reject_invalid_rows=True)
    try:
        assert_same(in_spark.quality, in_duckdb.quality, ["table"])
        assert_same(in_spark.rejections, in_duckdb.rejections, ["column"])
        assert_same(in_spark.table("usage_events"), in_duckdb.table("usage_events"), ["user_id"])
    finally:
        in_spark.close()
