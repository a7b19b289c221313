"""Where does the SQL run? One query text for DuckDB, PostgreSQL and Spark.

Every query in the workbook is written once, in DuckDB's dialect. For another engine it is
transpiled with sqlglot (:mod:`csresearch.data.transpile`: placeholders inlined as literals,
``GROUP BY ALL`` spelled out, DuckDB's list and date functions respelled), so a feature or a contract
rule has one definition whatever holds the data.

Three pieces:

- :class:`Engine` and its three kinds (:class:`DuckDBEngine`, :class:`PostgresEngine`,
  :class:`SparkEngine`): ``put(name, frame)`` makes a small table visible to the engine (a temporary
  table or view), ``query(sql, frames=...)`` runs a DuckDB-dialect query there and returns pandas.
- :class:`RoutedConnection`: what ``Dataset.con`` is when the big table (``usage_events``) stays in
  PostgreSQL or Spark. It behaves like the DuckDB connection that holds the account-level tables:
  a query that reads only local tables runs in DuckDB unchanged; a query that reads the big table is
  transpiled and runs in the engine, after the small tables and registered frames it reads are
  copied there (once; a re-registered frame is copied again). Callers (``features``, ``postmortem``,
  ``uplift``...) need no change, and only account-level results travel back. With
  $CSRESEARCH_QUERY_LOG set, every such query is kept for replay (:mod:`csresearch.data.querylog`).
- The canonical engine-portable definitions: :func:`account_month_mrr` (the contract's month-end
  MRR, equal to ``churn.account_month_mrr``) and :func:`usage_by_period` (events per account, event
  and day or week). The point-in-time feature table is ``features.account_features``, whose SQL is
  written to the same rules; the engine tests run it on all three engines.

See docs/engines.md.
"""

from __future__ import annotations

import datetime as dt
import decimal
import glob
import itertools
import os
import re
import shutil
import time
from pathlib import Path
from typing import Any, Iterable, Mapping

import numpy as np
import pandas as pd

from ..errors import EngineError  # noqa: F401
from . import querylog
from .transpile import (  # noqa: F401 - re-exported: engines.transpile, engines.referenced_tables...
    _DIALECT,
    ENGINES,
    _duckdb_functions,
    _expand_group_by_all,
    _need_sqlglot,
    _not_in_as_not_exists,
    referenced_tables,
    transpile,
)

# Tables that stay where they are stored when the engine is PostgreSQL or Spark; every other
# contract table is account-level and is read into the local DuckDB connection.
BIG_TABLES = ("usage_events",)
GRAINS = ("day", "week", "month")


# --------------------------------------------------------------------------------------------------
# Results: make every engine's answer look like DuckDB's ``.df()``
# --------------------------------------------------------------------------------------------------
def _normalise_series(s: pd.Series) -> pd.Series:
    if pd.api.types.is_datetime64_any_dtype(s):
        return s.astype("datetime64[us]") if getattr(s.dt, "tz", None) is None else s
    if s.dtype != object:
        return s
    values = s.dropna()
    if values.empty:
        return s
    kinds = {type(v) for v in values}
    if kinds <= {decimal.Decimal}:
        return s.astype(float)
    if kinds <= {dt.date, dt.datetime, pd.Timestamp}:
        return pd.to_datetime(s).astype("datetime64[us]")
    if kinds <= {int, np.int64, np.int32}:
        return s.astype("Int64")
    if kinds <= {float, int, np.float64}:
        return s.astype(float)
    if kinds <= {bool, np.bool_}:
        return s.astype("boolean")
    return s


def normalise_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """Decimals -> float, dates -> datetime64, nullable ints -> Int64, timestamps in microseconds:
    every engine's answer looks like DuckDB's ``.df()`` (columns handled by position: an engine may
    repeat a name, e.g. PostgreSQL calls every unnamed ``sum(...)`` "sum")."""
    columns = list(frame.columns)
    out = pd.DataFrame({i: _normalise_series(frame.iloc[:, i]) for i in range(len(columns))}, index=frame.index)
    out.columns = columns
    return out


class FrameResult:
    """A query result that answers like a DuckDB result (``df``, ``fetchall``, ``fetchone``...)."""

    def __init__(self, frame: pd.DataFrame):
        self._frame = frame
        self._cursor = 0

    def df(self) -> pd.DataFrame:
        return self._frame

    fetchdf = fetch_df = df

    @property
    def columns(self) -> list[str]:
        return list(self._frame.columns)

    @property
    def description(self) -> list[tuple]:
        return [(c, str(t), None, None, None, None, None) for c, t in self._frame.dtypes.items()]

    def _rows(self) -> list[tuple]:
        frame = self._frame.astype(object).where(self._frame.notna(), None)
        return [tuple(r) for r in frame.itertuples(index=False, name=None)]

    def fetchall(self) -> list[tuple]:
        rows = self._rows()[self._cursor:]
        self._cursor += len(rows)
        return rows

    def fetchmany(self, size: int = 1) -> list[tuple]:
        rows = self._rows()[self._cursor:self._cursor + size]
        self._cursor += len(rows)
        return rows

    def fetchone(self) -> tuple | None:
        rows = self.fetchmany(1)
        return rows[0] if rows else None

    def fetchnumpy(self) -> dict[str, np.ndarray]:
        return {c: self._frame[c].to_numpy() for c in self._frame.columns}


# --------------------------------------------------------------------------------------------------
# Engines
# --------------------------------------------------------------------------------------------------
class Engine:
    """Runs DuckDB-dialect SQL somewhere. Subclasses implement ``run_native``, ``put`` and ``drop``."""

    name = "engine"

    def run_native(self, sql: str) -> pd.DataFrame | None:  # pragma: no cover - interface
        raise NotImplementedError

    def put(self, name: str, frame) -> None:  # pragma: no cover - interface
        """Make ``frame`` (pandas or Arrow) readable as table ``name`` for this session."""
        raise NotImplementedError

    def drop(self, name: str) -> None:  # pragma: no cover - interface
        raise NotImplementedError

    def quote(self, name: str) -> str:
        return '"' + name.replace('"', '""') + '"'

    def transpile(self, sql: str, params=None) -> str:
        return transpile(sql, self.name, params)

    def query(self, sql: str, params=None, frames: Mapping[str, Any] | None = None) -> pd.DataFrame:
        """Run a DuckDB-dialect query; ``frames`` are small tables made visible to it first."""
        for name, frame in (frames or {}).items():
            self.put(name, frame)
        try:
            result = self.run_native(self.transpile(sql, params))
        finally:
            for name in frames or {}:
                self.drop(name)
        return result if result is not None else pd.DataFrame()

    def execute(self, sql: str, params=None) -> None:
        """A DuckDB-dialect statement without a result (CREATE VIEW ...), transpiled."""
        self.run_native(self.transpile(sql, params))

    def close(self) -> None:
        pass


class DuckDBEngine(Engine):
    """DuckDB itself, or anything that answers like a DuckDB connection (``Dataset.con``)."""

    name = "duckdb"

    def __init__(self, con=None):
        import duckdb

        self.con = con if con is not None else duckdb.connect()

    def transpile(self, sql: str, params=None) -> str:
        return sql if params is None else transpile(sql, "duckdb", params)

    def run_native(self, sql: str) -> pd.DataFrame | None:
        result = self.con.execute(sql)
        if not result.description:
            return None
        if isinstance(result, FrameResult):  # a routed connection answered from another engine
            return result.df()
        # through Arrow: for a long result with strings about twice as fast as .df()
        return normalise_frame(result.arrow().read_all().to_pandas(date_as_object=False))

    def put(self, name: str, frame) -> None:
        self.con.register(name, frame)

    def drop(self, name: str) -> None:
        self.con.unregister(name)


def _arrow_table(frame):
    import pyarrow as pa

    if isinstance(frame, pa.Table):
        return frame
    if isinstance(frame, pa.RecordBatchReader):
        return frame.read_all()
    return pa.Table.from_pandas(frame, preserve_index=False)


def _pg_type(arrow_type) -> str:
    import pyarrow as pa

    t = arrow_type
    if pa.types.is_dictionary(t):
        return _pg_type(t.value_type)
    if pa.types.is_boolean(t):
        return "BOOLEAN"
    if pa.types.is_integer(t):
        return "BIGINT"
    if pa.types.is_floating(t):
        return "DOUBLE PRECISION"
    if pa.types.is_decimal(t):
        return "NUMERIC"
    if pa.types.is_date(t):
        return "DATE"
    if pa.types.is_timestamp(t):
        return "TIMESTAMPTZ" if t.tz else "TIMESTAMP"
    return "TEXT"


class PostgresEngine(Engine):
    """A PostgreSQL session (credentials from the environment: PGUSER, PGPASSWORD, ~/.pgpass).

    Frames put here become session-temporary tables, which shadow same-named tables of the
    database for this session only (PostgreSQL searches ``pg_temp`` first)."""

    name = "postgres"

    def __init__(self, url: str):
        import psycopg

        self.url = url.replace("postgresql+psycopg://", "postgresql://", 1).replace("postgres://", "postgresql://", 1)
        try:
            self.conn = psycopg.connect(self.url, autocommit=True)
        except psycopg.Error as exc:
            raise EngineError(f"cannot connect to PostgreSQL: {exc}".strip()) from exc
        # UTC like the DuckDB session; enough memory for NOT IN (accounts) to stay a hashed subplan
        self.conn.execute("SET TIME ZONE 'UTC'")
        self.conn.execute("SET work_mem = '256MB'")
        self.schema = self.conn.execute("SELECT current_schema()").fetchone()[0]  # type: ignore[index]

    def run_native(self, sql: str) -> pd.DataFrame | None:
        import psycopg

        try:
            with self.conn.cursor() as cur:
                cur.execute(sql)
                if cur.description is None:
                    return None
                columns = [d.name for d in cur.description]
                rows = cur.fetchall()
        except psycopg.Error as exc:
            raise EngineError(f"PostgreSQL: {str(exc).strip()}\nSQL: {sql[:2000]}") from exc
        # object columns first, so that integers with NULLs become Int64 (as DuckDB), not float
        frame = pd.DataFrame({i: pd.Series([r[i] for r in rows], dtype=object) for i in range(len(columns))})
        frame.columns = columns
        return normalise_frame(frame)

    def put(self, name: str, frame) -> None:
        table = _arrow_table(frame)
        columns = ", ".join(f"{self.quote(f.name)} {_pg_type(f.type)}" for f in table.schema)
        self.conn.execute(f"DROP TABLE IF EXISTS pg_temp.{self.quote(name)}")
        self.conn.execute(f"CREATE TEMP TABLE {self.quote(name)} ({columns})")
        names = ", ".join(self.quote(f.name) for f in table.schema)
        values = [c.to_pylist() for c in table.columns]
        with self.conn.cursor() as cur:
            with cur.copy(f"COPY pg_temp.{self.quote(name)} ({names}) FROM STDIN") as copy:
                for row in zip(*values):
                    copy.write_row(row)
        self.conn.execute(f"ANALYZE pg_temp.{self.quote(name)}")

    def drop(self, name: str) -> None:
        self.conn.execute(f"DROP TABLE IF EXISTS pg_temp.{self.quote(name)}")

    def table_columns(self, table: str) -> list[tuple[str, str]]:
        """(column, type) of a table of the session's schema, in order."""
        rows = self.conn.execute(
            "SELECT column_name, data_type FROM information_schema.columns "
            "WHERE table_schema = %s AND table_name = %s ORDER BY ordinal_position", (self.schema, table)).fetchall()
        return [(r[0], r[1]) for r in rows]

    def tables(self) -> set[str]:
        rows = self.conn.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = %s", (self.schema,)).fetchall()
        return {r[0] for r in rows}

    def close(self) -> None:
        if not self.conn.closed:
            self.conn.close()


def find_java() -> str | None:
    """A Java home for Spark: $JAVA_HOME, the ``java`` on PATH, or a JDK 17+ under /usr/lib/jvm."""
    if os.environ.get("JAVA_HOME") and Path(os.environ["JAVA_HOME"], "bin", "java").exists():
        return os.environ["JAVA_HOME"]
    on_path = shutil.which("java")
    if on_path:
        return str(Path(on_path).resolve().parents[1])
    for candidate in sorted(glob.glob("/usr/lib/jvm/*17*")) + sorted(glob.glob("/usr/lib/jvm/*")):
        if Path(candidate, "bin", "java").exists():
            return candidate
    return None


def spark_unavailable() -> str | None:
    """Why Spark cannot run here (None when it can): pyspark or Java missing."""
    try:
        import pyspark  # noqa: F401
    except ImportError:
        return "pyspark is not installed (pip install 'csresearch[spark]')"
    if find_java() is None:
        return "no Java runtime found (Spark needs Java 17+; set JAVA_HOME)"
    return None


def spark_session(master: str | None = None):
    """The active Spark session, or a new one: local mode unless ``master`` or
    $CSRESEARCH_SPARK_MASTER says otherwise. UTC, Arrow transfers, no UI, quiet logs."""
    reason = spark_unavailable()
    if reason:
        raise EngineError(f"Spark is not available: {reason}")
    if not os.environ.get("JAVA_HOME"):
        os.environ["JAVA_HOME"] = find_java() or ""
    from pyspark.sql import SparkSession

    active = SparkSession.getActiveSession()
    if active is not None:
        return active
    builder = (
        SparkSession.builder.master(master or os.environ.get("CSRESEARCH_SPARK_MASTER", "local[*]"))
        .appName("csresearch")
        .config("spark.sql.session.timeZone", "UTC")
        .config("spark.sql.execution.arrow.pyspark.enabled", "true")
        .config("spark.sql.ansi.enabled", "false")  # NULL on a bad cast or /0, as DuckDB's TRY_CAST
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")
        .config("spark.sql.shuffle.partitions", os.environ.get("CSRESEARCH_SPARK_SHUFFLE_PARTITIONS", "8"))
        .config("spark.driver.memory", os.environ.get("CSRESEARCH_SPARK_DRIVER_MEMORY", "2g"))
    )
    session = builder.getOrCreate()
    session.sparkContext.setLogLevel("ERROR")
    return session


class SparkEngine(Engine):
    """Spark SQL. Each engine gets its own session (``newSession``: shared SparkContext, separate
    temporary views), so two datasets in one process do not see each other's tables."""

    name = "spark"

    def __init__(self, session=None):
        base = session or spark_session()
        self.spark = base.newSession()

    def quote(self, name: str) -> str:
        return "`" + name.replace("`", "``") + "`"

    def run_native(self, sql: str) -> pd.DataFrame | None:
        try:
            frame = self.spark.sql(sql)
        except Exception as exc:  # noqa: BLE001 - pyspark raises many exception types
            raise EngineError(f"Spark: {str(exc).strip()[:2000]}\nSQL: {sql[:2000]}") from exc
        if not frame.columns:  # DDL
            return None
        return normalise_frame(frame.toPandas())

    def put(self, name: str, frame) -> None:
        table = _arrow_table(frame)
        try:
            df = self.spark.createDataFrame(table)
        except (TypeError, ValueError):  # older pyspark without Arrow-table input
            df = self.spark.createDataFrame(table.to_pandas())
        df.createOrReplaceTempView(name)

    def drop(self, name: str) -> None:
        self.spark.catalog.dropTempView(name)

    def read_parquet(self, name: str, path: str) -> None:
        """A temporary view ``name`` over a Parquet file or a folder of Parquet chunks."""
        self.spark.read.parquet(path).createOrReplaceTempView(name)

    def table_columns(self, table: str) -> list[tuple[str, str]]:
        return [(f.name, f.dataType.simpleString()) for f in self.spark.table(table).schema.fields]

    def close(self) -> None:
        for table in self.spark.catalog.listTables():
            if table.isTemporary:
                self.spark.catalog.dropTempView(table.name)


def connect(engine: str, url: str | None = None, session=None) -> Engine:
    """An engine by name: ``duckdb`` (in memory), ``postgres`` (``url``) or ``spark``."""
    if engine == "duckdb":
        return DuckDBEngine()
    if engine == "postgres":
        if not url:
            raise EngineError("the postgres engine needs a postgresql:// URL")
        return PostgresEngine(url)
    if engine == "spark":
        return SparkEngine(session)
    raise EngineError(f"unknown engine {engine!r}: use one of {', '.join(ENGINES)}")


# --------------------------------------------------------------------------------------------------
# Routing: the Dataset's connection when the big table lives in another engine
# --------------------------------------------------------------------------------------------------
class RoutedConnection:
    """Looks like the local DuckDB connection; queries that read a remote table run in the engine.

    ``remote_tables`` live only in the engine. Anything else a remote query reads (clean contract
    tables, frames registered with :meth:`register`) is copied into the engine first: contract tables
    once, registered frames again whenever they are registered anew.
    """

    def __init__(self, local, engine: Engine, remote_tables: Iterable[str]):
        self.local = local
        self.engine = engine
        self.remote_tables = {t.lower() for t in remote_tables}
        self._pattern = re.compile(r"\b(" + "|".join(map(re.escape, sorted(self.remote_tables))) + r")\b", re.I) \
            if self.remote_tables else None
        self._registered: dict[str, int] = {}
        self._shipped: dict[str, int] = {}
        self._version = itertools.count(1)

    # -- the DuckDB connection API the workbook uses --------------------------------------------------
    def register(self, name: str, obj) -> "RoutedConnection":
        self.local.register(name, obj)
        self._registered[name.lower()] = next(self._version)
        return self

    def unregister(self, name: str) -> "RoutedConnection":
        self.local.unregister(name)
        self._registered.pop(name.lower(), None)
        if self._shipped.pop(name.lower(), None) is not None:
            self.engine.drop(name)
        return self

    def execute(self, query: str, parameters=None):
        if self.reads_remote(query):
            return FrameResult(self._routed(query, parameters))
        return self.local.execute(query, parameters) if parameters is not None else self.local.execute(query)

    def sql(self, query: str, params=None):
        if self.reads_remote(query):
            return FrameResult(self._routed(query, params))
        return self.local.sql(query, params=params) if params is not None else self.local.sql(query)

    def close(self) -> None:
        try:
            self.engine.close()
        finally:
            self.local.close()

    def __getattr__(self, name):
        return getattr(self.local, name)

    # -- routing --------------------------------------------------------------------------------------
    def reads_remote(self, query: str) -> bool:
        if self._pattern is None or not self._pattern.search(query):
            return False
        try:
            return bool(referenced_tables(query) & self.remote_tables)
        except EngineError:
            raise
        except Exception as exc:  # noqa: BLE001 - sqlglot's ParseError / TokenError
            raise EngineError(
                f"this query reads {', '.join(sorted(self.remote_tables))}, which live in {self.engine.name}, "
                f"but it cannot be parsed to be transpiled: {exc}") from exc

    def _local_relations(self) -> set[str]:
        rows = self.local.execute(
            "SELECT table_name FROM duckdb_tables() WHERE database_name = 'memory' "
            "UNION SELECT view_name FROM duckdb_views() WHERE database_name = 'memory' AND NOT internal"
        ).fetchall()
        return {r[0].lower() for r in rows}

    def ship(self, query: str) -> None:
        """Copy into the engine the local tables and registered frames ``query`` reads."""
        needed = referenced_tables(query) - self.remote_tables
        if not needed:
            return
        local = None
        for name in sorted(needed):
            version = self._registered.get(name)
            if version is None:
                local = local if local is not None else self._local_relations()
                if name not in local:
                    continue  # the engine's own table, or a name the engine will complain about
                version = 0  # a clean contract table: immutable, copied once
            if self._shipped.get(name) == version:
                continue
            self.engine.put(name, self.local.execute(f"SELECT * FROM {_quote(name)}").arrow())
            self._shipped[name] = version

    def _routed(self, query: str, params=None) -> pd.DataFrame:
        """A caller's query that reads a remote table: run in the engine, and kept in the query log
        when $CSRESEARCH_QUERY_LOG names a folder (docs/engines.md)."""
        where = querylog.folder()
        if where is None:
            return self.query_remote(query, params)
        started, frame, error, native = time.perf_counter(), None, None, None
        try:
            native = self.engine.transpile(query, params)
            frame = self.query_remote(query, params)
            return frame
        except Exception as exc:
            error = f"{type(exc).__name__}: {exc}"
            raise
        finally:
            try:  # a log that cannot be written never fails the query
                frames = {name: _arrow_table(self.local.execute(f"SELECT * FROM {_quote(name)}").arrow())
                          for name in sorted(referenced_tables(query)) if name in self._registered}
                querylog.write(where, sql=query, params=params, engine=self.engine.name, engine_sql=native,
                               frames=frames, seconds=time.perf_counter() - started,
                               rows=None if frame is None else len(frame), error=error)
            except OSError:
                pass

    def query_remote(self, query: str, params=None) -> pd.DataFrame:
        self.ship(query)
        result = self.engine.run_native(self.engine.transpile(query, params))
        return result if result is not None else pd.DataFrame()

    def execute_remote(self, statement: str, params=None) -> None:
        """A DuckDB-dialect statement (CREATE VIEW ...) run in the engine, its inputs shipped."""
        self.ship(statement)
        self.engine.run_native(self.engine.transpile(statement, params))


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


# --------------------------------------------------------------------------------------------------
# Canonical engine-portable definitions
# --------------------------------------------------------------------------------------------------
def _as_engine(target) -> Engine:
    """An Engine from an Engine, a Dataset (its connection, routed or not) or a DuckDB connection."""
    if isinstance(target, Engine):
        return target
    con = getattr(target, "con", target)
    return DuckDBEngine(con)


ACCOUNT_MONTH_MRR_SQL = """
WITH active AS (
    SELECT s.account_id, e.month_end, sum(s.mrr) AS mrr
    FROM subscriptions s
    JOIN month_ends e ON s.start_date <= e.month_end AND (s.end_date IS NULL OR s.end_date > e.month_end)
    GROUP BY s.account_id, e.month_end
),
span AS (
    SELECT account_id, min(month_end) AS first_end FROM active WHERE mrr > 0 GROUP BY account_id
)
SELECT sp.account_id, e.month_end, coalesce(a.mrr, 0.0) AS mrr
FROM span sp
JOIN month_ends e ON e.month_end >= sp.first_end
LEFT JOIN active a ON a.account_id = sp.account_id AND a.month_end = e.month_end
ORDER BY sp.account_id, e.month_end
"""


def account_month_mrr(target, first_month, last_month, table: str = "subscriptions") -> pd.DataFrame:
    """Account MRR at the last day of each month from ``first_month`` to ``last_month`` (the data
    contract's rule), run by the engine that holds ``subscriptions``: one row per account and month
    from its first month with MRR > 0 in the window, zeros after a churn. Same columns and values as
    ``churn.account_month_mrr``: ``account_id``, ``month`` (Period[M]), ``month_end``, ``mrr``.

    ``target``: an :class:`Engine`, a ``Dataset`` or a DuckDB connection.
    """
    first, last = pd.Period(first_month, "M"), pd.Period(last_month, "M")
    ends = pd.period_range(first, last, freq="M").to_timestamp(how="end").normalize()
    month_ends = pd.DataFrame({"month_end": pd.Series(ends.date, dtype=object)})
    sql = ACCOUNT_MONTH_MRR_SQL if table == "subscriptions" else re.sub(r"\bsubscriptions\b", table, ACCOUNT_MONTH_MRR_SQL)
    name = f"month_ends_{id(month_ends):x}"
    frame = _as_engine(target).query(re.sub(r"\bmonth_ends\b", name, sql), frames={name: month_ends})
    frame["month_end"] = pd.to_datetime(frame["month_end"]).astype("datetime64[ns]")
    frame["mrr"] = frame["mrr"].astype(float)
    frame.insert(1, "month", frame["month_end"].dt.to_period("M"))
    return frame.sort_values(["account_id", "month_end"]).reset_index(drop=True)


def usage_by_period_sql(grain: str = "day", start=None, end=None, by_event: bool = True,
                        accounts: tuple[str | None, str | None] | None = None) -> str:
    """DuckDB-dialect SQL of :func:`usage_by_period` (weeks start on Monday in every engine);
    ``accounts=(low, high)`` keeps ``low <= account_id < high`` (either end None: open)."""
    if grain not in GRAINS:
        raise ValueError(f"grain must be one of {', '.join(GRAINS)}, not {grain!r}")
    period = "CAST(event_time AS DATE)" if grain == "day" else f"CAST(date_trunc('{grain}', event_time) AS DATE)"
    where = []
    if start is not None:
        where.append(f"event_time >= TIMESTAMP '{pd.Timestamp(start):%Y-%m-%d %H:%M:%S}'")
    if end is not None:
        where.append(f"event_time < TIMESTAMP '{pd.Timestamp(end):%Y-%m-%d %H:%M:%S}'")
    low, high = accounts or (None, None)
    if low is not None:
        where.append(f"account_id >= {_sql_string(low)}")
    if high is not None:
        where.append(f"account_id < {_sql_string(high)}")
    event = ", event_name" if by_event else ""
    # no ORDER BY: sorting a result nearly as long as the events costs more than the aggregation;
    # the caller sorts the frame
    return f"""
SELECT account_id, {period} AS period_start{event},
       sum(quantity) AS events, count(*) AS event_rows, count(DISTINCT user_id) AS active_users
FROM usage_events
{('WHERE ' + ' AND '.join(where)) if where else ''}
GROUP BY account_id, {period}{event}
""".strip()


BATCH_EVENTS = 10_000_000  # events per account batch when usage_by_period batches by itself


def _sql_string(value: str) -> str:
    return "'" + str(value).replace("'", "''") + "'"


def account_batches(target, batches: int) -> list[tuple[str | None, str | None]]:
    """``batches`` ranges of ``account_id`` (low inclusive, high exclusive; None is open) holding about
    equally many of the accounts that have events."""
    ids = _as_engine(target).query("SELECT DISTINCT account_id FROM usage_events ORDER BY account_id")["account_id"]
    edges = sorted({ids.iloc[i * len(ids) // batches] for i in range(1, batches)}) if len(ids) else []
    return list(zip([None] + edges, edges + [None]))


def _auto_batches(engine: Engine) -> int:
    """DuckDB on its own connection: one batch per BATCH_EVENTS events. A distinct count per group
    keeps a hash table of every (account, period, user): past ~10M events it outgrows the caches and
    then memory (100M events: 4.9 GiB and 20 s in one pass, 1 GiB and 13 s in ten; benchmarks/).
    Events exported in account order (as most are) let each batch read only its own row groups.
    Other engines (PostgreSQL, Spark, a routed connection) plan their own memory: one query."""
    import duckdb

    if not isinstance(engine, DuckDBEngine) or not isinstance(engine.con, duckdb.DuckDBPyConnection):
        return 1
    rows = engine.con.execute("SELECT count(*) FROM usage_events").fetchone()[0]  # type: ignore[index]
    return max(1, -(-rows // BATCH_EVENTS))


def usage_by_period(target, grain: str = "day", start=None, end=None, by_event: bool = True,
                    batches: int | None = None) -> pd.DataFrame:
    """Usage per account, event name and day (or ISO week starting Monday, or month), in the engine:
    ``account_id``, ``period_start`` (the day, Monday or first of the month), ``event_name``,
    ``events`` (sum of ``quantity``), ``event_rows`` and ``active_users`` (distinct ``user_id``).
    ``by_event=False``: per account and period only. ``start`` inclusive and ``end`` exclusive bound
    ``event_time``. ``batches``: run the query for that many ranges of accounts (every group lies in
    one account, so the result is the same); None decides from the data (``_auto_batches``)."""
    engine = _as_engine(target)
    n = _auto_batches(engine) if batches is None else batches
    ranges = account_batches(engine, n) if n > 1 else [None]
    frames = [engine.query(usage_by_period_sql(grain, start, end, by_event, accounts=r)) for r in ranges]
    frame = frames[0] if len(frames) == 1 else pd.concat(frames, ignore_index=True)
    frame["period_start"] = pd.to_datetime(frame["period_start"]).astype("datetime64[ns]")
    for col in ("event_rows", "active_users"):
        frame[col] = frame[col].astype("int64")
    frame["events"] = frame["events"].astype(float)
    keys = ["account_id", "period_start", "event_name"] if by_event else ["account_id", "period_start"]
    return frame.sort_values(keys).reset_index(drop=True)


def portable_digest_sql(table: str, columns: Mapping[str, str]) -> str:
    """DuckDB-dialect SQL of a content digest that every engine computes identically: the row count
    and, per column of contract type ``columns[name]``, non-null count and sums of lengths, first and
    last character codes (strings), epoch seconds (timestamps, dates) or value x 1000 (numbers).
    Cheap enough for 100M rows; a checksum for "same data?", not a cryptographic hash."""
    parts = ["count(*)"]
    for name, kind in columns.items():
        col = _quote(name)
        parts.append(f"count({col})")
        if kind == "string":
            parts += [f"sum(length({col}))", f"sum(ascii({col}))",
                      f"sum(ascii(substr({col}, length({col}), 1)))"]
        elif kind in ("timestamp", "date"):
            parts.append(f"sum(CAST(floor(epoch(CAST({col} AS TIMESTAMP))) AS BIGINT))")
        elif kind in ("number", "integer"):
            parts.append(f"sum(CAST(round({col} * 1000) AS BIGINT))")
        elif kind == "boolean":
            parts.append(f"sum(CASE WHEN {col} THEN 1 ELSE 0 END)")
    return f"SELECT {', '.join(parts)} FROM {_quote(table)}"
