"""Load the contract tables from a folder, a DuckDB file or a SQL URL, validate them, and hand back a
:class:`Dataset` whose clean tables live in an in-memory DuckDB connection.

Why DuckDB in the middle: every source becomes SQL-queryable the same way, the contract rules run as
SQL over any size of table, and heavy event aggregation (``csresearch.features``) runs there instead
of in pandas. Only account-level results come back as DataFrames.

The big table (``usage_events``) is never copied into memory when it does not have to be:

- from Parquet or a DuckDB file it stays where it is, and the clean table is a view over the source
  that filters out rejected rows (CSV is parsed once into memory: reparsing text on every query
  would cost more than the memory);
- with ``engine="postgres"`` (the default for a postgresql:// URL) or ``engine="spark"`` (a folder
  of Parquet) it stays in that engine: its contract rules run there as transpiled SQL, the clean
  table is a temporary view there, and ``Dataset.con`` is a :class:`csresearch.engines.RoutedConnection`
  that sends every query reading it to the engine (see docs/engines.md).
"""

from __future__ import annotations

import glob
import hashlib
import json
import os
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any, Mapping
from urllib.parse import urlsplit

import duckdb
import pandas as pd
import yaml

from ..errors import ContractError, SourceError  # noqa: F401  (raised here, defined in errors)
from .contract import REQUIRED_TABLES, ROW_RULES, SQL_TYPES, TABLES

EXAMPLES_SHOWN = 3
# Engines a Dataset can keep its big table in; "auto": postgres for a postgresql:// URL, else duckdb.
ENGINE_CHOICES = ("auto", "duckdb", "postgres", "spark")
ENGINE_ENV = "CSRESEARCH_ENGINE"


# --------------------------------------------------------------------------------------------------
# Errors
# --------------------------------------------------------------------------------------------------
@dataclass
class Violation:
    table: str
    column: str
    rule: str
    rows: int
    examples: list[dict] = field(default_factory=list)

    def __str__(self) -> str:
        ex = "; ".join(", ".join(f"{k}={v}" for k, v in e.items()) for e in self.examples)
        column = f"column '{self.column}'" if self.column else "table"
        return (
            f"table '{self.table}', {column}: {self.rule} — {self.rows:,} row(s) break it"
            + (f" (e.g. {ex})" if ex else "")
        )


# --------------------------------------------------------------------------------------------------
# Dataset
# --------------------------------------------------------------------------------------------------
@dataclass
class Dataset:
    """Validated contract tables in an in-memory DuckDB connection, plus the data-quality record.

    ``quality`` has one row per table: rows_read = rows_used + rows_rejected, and the reasons.
    """

    con: Any  # duckdb.DuckDBPyConnection, or engines.RoutedConnection when a table lives in an engine
    source: str
    quality: pd.DataFrame
    rejections: pd.DataFrame
    engine: str = "duckdb"
    # tables whose rule checks came from the validation cache (unchanged files: no rescan)
    cached_checks: list[str] = field(default_factory=list)
    _cache: dict[str, pd.DataFrame] = field(default_factory=dict, repr=False)
    _cache_keys: dict[str, str] = field(default_factory=dict, repr=False)

    @property
    def remote_tables(self) -> set[str]:
        """Tables that live in the engine (PostgreSQL or Spark), not in the local DuckDB connection."""
        return set(getattr(self.con, "remote_tables", ()))

    def close(self) -> None:
        self.con.close()

    @property
    def tables(self) -> list[str]:
        return [t for t in TABLES if t in set(self.quality["table"])]

    def has(self, table: str) -> bool:
        return table in self.tables

    def table(self, name: str) -> pd.DataFrame:
        """The clean table as a DataFrame (cached; do not mutate it). Use :meth:`sql` for big tables."""
        if not self.has(name):
            raise KeyError(f"no '{name}' table in {self.source}")
        if name not in self._cache:
            self._cache[name] = self.con.sql(f'SELECT * FROM "{name}"').df()
        return self._cache[name]

    def sql(self, query: str, params: list | dict | None = None) -> pd.DataFrame:
        return self.con.execute(query, params).df() if params else self.con.sql(query).df()

    def rows(self, name: str) -> int:
        row = self.quality.loc[self.quality["table"] == name, "rows_used"]
        return int(row.iloc[0]) if len(row) else 0

    @cached_property
    def fingerprint(self) -> str:
        """A short hash of every clean table's content: two runs on the same data share it, whichever
        engine holds it. Account-level tables: DuckDB's row hashes. The big table: a digest every engine
        computes identically (``engines.portable_digest_sql``: counts and sums per column)."""
        from .engines import BIG_TABLES, portable_digest_sql

        digest = hashlib.sha256()
        for name in self.tables:
            if name in BIG_TABLES:
                key = self._cache_keys.get(name)
                text = _cache_read(key, "digest") if key else None
                if text is None:
                    kinds = {c.name: c.type for c in TABLES[name].columns}
                    values = self.con.execute(portable_digest_sql(name, kinds)).fetchone()
                    text = ":".join(str(int(v or 0)) for v in values)
                    if key:
                        _cache_write(key, "digest", text)
                digest.update(f"{name}:{text};".encode())
                continue
            cols = ", ".join(f'"{c}"' for c in self.con.table(name).columns)
            count, total = self.con.execute(
                f'SELECT count(*), coalesce(sum(hash({cols})), 0) FROM "{name}"'
            ).fetchone()
            digest.update(f"{name}:{count}:{total};".encode())
        return digest.hexdigest()[:16]

    def coverage(self) -> pd.DataFrame:
        """Rows and date range per table, for the overview's 'what did we get' table."""
        date_cols = {
            "accounts": "created_at",
            "subscriptions": "start_date",
            "usage_events": "event_time",
            "onboarding": "achieved_at",
            "support_tickets": "created_at",
            "cs_activities": "occurred_at",
            "surveys": "answered_at",
            "experiments": "assigned_at",
            "churn_reasons": "churn_date",
        }
        out = []
        for name in self.tables:
            col = date_cols[name]
            first, last = self.con.execute(f'SELECT min("{col}"), max("{col}") FROM "{name}"').fetchone()
            out.append(
                {
                    "table": name,
                    "rows": self.rows(name),
                    "date_column": col,
                    "first": pd.Timestamp(first).date() if first is not None else None,
                    "last": pd.Timestamp(last).date() if last is not None else None,
                }
            )
        return pd.DataFrame(out)


# --------------------------------------------------------------------------------------------------
# Sources
# --------------------------------------------------------------------------------------------------
def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _scheme(source: str) -> str:
    return urlsplit(source).scheme if "://" in source else ""


def resolve_engine(engine: str | None, source: str) -> str:
    """The engine a source is opened with: the argument, else $CSRESEARCH_ENGINE, else ``auto``
    (postgres for a postgresql:// URL, duckdb otherwise)."""
    choice = (engine or os.environ.get(ENGINE_ENV) or "auto").lower()
    if choice not in ENGINE_CHOICES:
        raise SourceError(f"unknown engine {choice!r}: use one of {', '.join(ENGINE_CHOICES)}")
    is_postgres = _scheme(source).startswith("postgres")
    if choice == "auto":
        return "postgres" if is_postgres else "duckdb"
    if choice == "postgres" and not is_postgres:
        raise SourceError(f"engine 'postgres' needs a postgresql:// URL as data source, not {redact(source)!r}")
    if choice == "spark" and (_scheme(source) or not Path(source).is_dir()):
        raise SourceError(f"engine 'spark' reads a folder of Parquet files; {redact(source)!r} is not a folder")
    return choice


def _attach_source(con: duckdb.DuckDBPyConnection, source: str, names: Mapping[str, str],
                   formats: dict[str, str] | None = None, files: dict[str, list[Path]] | None = None) -> dict[str, str]:
    """Create one view ``raw_<table>`` per contract table found in ``source``; return table -> view.
    ``formats`` (if given) receives each found table's storage: parquet, csv, duckdb or postgres;
    ``files`` the files it is read from (for the validation cache)."""
    found: dict[str, str] = {}
    formats = formats if formats is not None else {}
    files = files if files is not None else {}
    scheme = _scheme(source)
    if scheme.startswith("postgres"):
        found = _attach_postgres(con, source, names)
        formats.update({t: "postgres" for t in found})
        return found
    if scheme:
        raise SourceError(
            f"unknown data source scheme '{scheme}://' in {source!r}: use a folder, a .duckdb file "
            "or a postgresql:// URL"
        )
    path = Path(source)
    if not path.exists():
        raise SourceError(f"data source {source!r} does not exist")
    if path.is_file():
        if path.suffix not in (".duckdb", ".db"):
            raise SourceError(f"{source!r} is a file but not a DuckDB database (.duckdb)")
        con.execute(f"ATTACH {_sql_str(str(path))} AS src (READ_ONLY)")
        present = {r[0] for r in con.sql("SELECT table_name FROM duckdb_tables() WHERE database_name = 'src'").fetchall()}
        present |= {r[0] for r in con.sql("SELECT view_name FROM duckdb_views() WHERE database_name = 'src'").fetchall()}
        for table, their in names.items():
            if their in present:
                con.execute(f"CREATE VIEW raw_{table} AS SELECT * FROM src.main.{_quote(their)}")
                found[table] = their
                formats[table] = "duckdb"
                files[table] = [path]
        return found
    for table, their in names.items():
        located = _parquet_location(path, their)
        csv = path / f"{their}.csv"
        if located:
            reader = f"read_parquet({_sql_str(located)})"
            formats[table] = "parquet"
            files[table] = sorted(Path(p) for p in glob.glob(located))
        elif csv.exists():
            # all_varchar: dates that do not parse are found by the contract, not guessed by a sniffer
            reader = f"read_csv({_sql_str(str(csv))}, header = true, all_varchar = true)"
            formats[table] = "csv"
            files[table] = [csv]
        else:
            continue
        con.execute(f"CREATE VIEW raw_{table} AS SELECT * FROM {reader}")
        found[table] = their
    return found


def _parquet_location(folder: Path, name: str) -> str | None:
    """``<name>.parquet``, or the glob of a folder ``<name>/`` of Parquet chunks; None if neither."""
    parquet, chunks = folder / f"{name}.parquet", folder / name
    if parquet.exists():
        return str(parquet)
    if chunks.is_dir() and any(chunks.glob("*.parquet")):
        return str(chunks / "*.parquet")
    return None


def _attach_postgres(con, url: str, names: Mapping[str, str]) -> dict[str, str]:
    _refuse_password(url)
    import sqlalchemy as sa

    engine_url = url.replace("postgresql://", "postgresql+psycopg://", 1).replace(
        "postgres://", "postgresql+psycopg://", 1
    )
    engine = sa.create_engine(engine_url)
    found: dict[str, str] = {}
    with engine.connect() as conn:
        present = set(sa.inspect(conn).get_table_names())
        for table, their in names.items():
            if their in present:
                frame = pd.read_sql_table(their, conn)
                con.register(f"_pg_{table}", frame)
                con.execute(f"CREATE TABLE raw_{table} AS SELECT * FROM _pg_{table}")
                con.unregister(f"_pg_{table}")
                found[table] = their
    engine.dispose()
    return found


SECRET_KEYS = ("password", "sslpassword")


def _conninfo(source: str) -> dict[str, str] | None:
    """A PostgreSQL URL or key=value DSN parsed the way libpq parses it (psycopg's parser), or None
    when ``source`` is neither (a path)."""
    text = str(source).strip()
    is_url = _scheme(text).startswith("postgres")
    looks_like_dsn = "=" in text and "://" not in text and not Path(text).exists()
    if not (is_url or looks_like_dsn):
        return None
    from psycopg.conninfo import conninfo_to_dict

    try:
        return {k: str(v) for k, v in conninfo_to_dict(text).items()}
    except Exception:  # noqa: BLE001 - not a DSN after all (a path with '=' in it)
        return None if not is_url else {}


def refuse_credentials(source: str | Path | None) -> None:
    """Refuse a data source that carries a password in any form libpq accepts (``user:pw@`` in the
    URL, ``?password=`` or ``?sslpassword=`` in its query, ``password=`` in a key=value DSN), before
    anything is printed or written: parameters and the data source appear in every report.
    Credentials come from the environment (PGPASSWORD) or ~/.pgpass."""
    if source is None:
        return
    info = _conninfo(str(source))
    if info is None:
        return
    found = [k for k in SECRET_KEYS if info.get(k)]
    if found or (_scheme(str(source)).startswith("postgres") and urlsplit(str(source)).password):
        raise SourceError(
            f"the data source carries a {'/'.join(found) or 'password'}; credentials come from the environment only "
            "(PGUSER, PGPASSWORD or ~/.pgpass), because the data source is printed in every report and the manifest"
        )


def _refuse_password(url: str) -> None:
    refuse_credentials(url)


def _attach_remote(engine_name: str, source: str, names: Mapping[str, str]):
    """Open the engine and find the big tables in it: returns (engine, {table: source relation})."""
    from . import engines

    engine: Any
    try:
        if engine_name == "postgres":
            _refuse_password(source)
            engine = engines.PostgresEngine(source)
            present = engine.tables()
            relations = {t: f"{engine.quote(engine.schema)}.{engine.quote(their)}"
                         for t, their in names.items() if their in present}
            return engine, relations
        engine = engines.SparkEngine()
    except engines.EngineError as exc:
        raise SourceError(str(exc)) from exc
    relations = {}
    for table, their in names.items():
        located = _parquet_location(Path(source), their)
        if located:
            engine.read_parquet(f"raw_{table}", located.removesuffix("*.parquet").rstrip("/"))
            relations[table] = f"raw_{table}"
        elif (Path(source) / f"{their}.csv").exists():
            engine.close()
            raise SourceError(f"engine 'spark' reads Parquet: convert {their}.csv to Parquet (or use engine duckdb)")
    return engine, relations


def _sql_str(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def redact(source: str) -> str:
    """The source as it may be printed: never a password."""
    if "://" not in source:
        return source
    parts = urlsplit(source)
    if parts.password:
        netloc = parts.netloc.replace(f":{parts.password}@", ":***@")
        return parts._replace(netloc=netloc).geturl()
    return source


# --------------------------------------------------------------------------------------------------
# Column mapping
# --------------------------------------------------------------------------------------------------
def read_mapping(mapping: str | Path | Mapping | None) -> dict[str, Any]:
    """A column mapping renames a source's own tables and columns to the contract's.

    YAML shape::

        tables:            # contract table: the source's table (or file) name
          subscriptions: billing_export
        columns:
          subscriptions:   # contract table: {source column: contract column}
            customer: account_id
            monthly_amount: mrr
    """
    if mapping is None:
        return {"tables": {}, "columns": {}}
    if not isinstance(mapping, Mapping):
        path = Path(mapping)
        if not path.exists():
            raise SourceError(f"column mapping file {str(path)!r} does not exist")
        mapping = yaml.safe_load(path.read_text()) or {}
    unknown = set(mapping) - {"tables", "columns"}
    if unknown:
        raise SourceError(f"column mapping: unknown key(s) {sorted(unknown)}; expected 'tables' and 'columns'")
    for section in ("tables", "columns"):
        for table in (mapping.get(section) or {}):
            if table not in TABLES:
                raise SourceError(f"column mapping '{section}': '{table}' is not a contract table ({', '.join(TABLES)})")
    return {"tables": dict(mapping.get("tables") or {}), "columns": dict(mapping.get("columns") or {})}


# --------------------------------------------------------------------------------------------------
# Validation
# --------------------------------------------------------------------------------------------------
def _typed_select(con, table: str, columns_map: Mapping[str, str]) -> tuple[str, list[tuple[str, str, Any]], list[Violation]]:
    """SELECT list casting the source's columns to contract types; also which columns fail to parse."""
    spec = TABLES[table]
    raw_cols = [r[0] for r in con.sql(f"DESCRIBE raw_{table}").fetchall()]
    rename = {their: ours for their, ours in columns_map.items()}
    as_contract = {rename.get(c, c): c for c in raw_cols}
    problems: list[Violation] = []
    select, parse_checks = [], []
    for col in spec.columns:
        sql_type = SQL_TYPES[col.type]
        if col.name not in as_contract:
            if col.required:
                problems.append(
                    Violation(table, col.name, "required column is missing from the source", 0,
                              [{"columns found": ", ".join(raw_cols)}])
                )
            default = "1.0" if (table, col.name) == ("usage_events", "quantity") else "NULL"
            select.append(f"CAST({default} AS {sql_type}) AS {_quote(col.name)}")
            continue
        src = _quote(as_contract[col.name])
        expr = f"TRY_CAST({src} AS {sql_type})"
        if col.type == "boolean":
            expr = (f"CASE WHEN lower(CAST({src} AS VARCHAR)) IN ('true','t','1','yes','y') THEN TRUE "
                    f"WHEN lower(CAST({src} AS VARCHAR)) IN ('false','f','0','no','n') THEN FALSE END")
        if (table, col.name) == ("usage_events", "quantity"):
            expr = f"coalesce({expr}, 1.0)"
            parse_checks.append((col.name, f"{src} IS NOT NULL AND TRY_CAST({src} AS DOUBLE) IS NULL", as_contract[col.name]))
        else:
            parse_checks.append((col.name, f"{src} IS NOT NULL AND ({expr}) IS NULL", as_contract[col.name]))
        select.append(f"{expr} AS {_quote(col.name)}")
    extras = [c for c in raw_cols if rename.get(c, c) not in spec.column_names]
    select += [_quote(c) for c in extras]
    return ", ".join(select), parse_checks, problems


# Source column types by family, to decide where a cast can fail (engines spell types differently).
_FAMILIES = {
    "string": ("text", "character varying", "character", "varchar", "string", "name", "char"),
    "timestamp": ("timestamp", "timestamp without time zone", "timestamp with time zone", "timestamp_ntz",
                  "timestamp_ltz", "timestamptz"),
    "date": ("date",),
    "number": ("double precision", "real", "numeric", "integer", "bigint", "smallint", "double", "float",
               "int", "tinyint", "decimal"),
    "boolean": ("boolean",),
}
_NATIVE_TYPES = {
    "postgres": {"string": "TEXT", "date": "DATE", "timestamp": "TIMESTAMP", "number": "DOUBLE PRECISION",
                 "integer": "BIGINT", "boolean": "BOOLEAN"},
    "spark": {"string": "STRING", "date": "DATE", "timestamp": "TIMESTAMP_NTZ", "number": "DOUBLE",
              "integer": "BIGINT", "boolean": "BOOLEAN"},
}
_COMPATIBLE = {  # contract type: source families a plain CAST converts without failing
    "string": set(_FAMILIES), "timestamp": {"timestamp", "date"}, "date": {"timestamp", "date"},
    "number": {"number"}, "integer": {"number"}, "boolean": {"boolean"},
}
_PG_TRY_CAST = """CREATE OR REPLACE FUNCTION pg_temp.csr_try_{name}(value TEXT) RETURNS {type}
LANGUAGE plpgsql IMMUTABLE AS $$ BEGIN RETURN value::{type}; EXCEPTION WHEN others THEN RETURN NULL; END $$"""


def _family(type_name: str) -> str:
    base = type_name.lower().split("(")[0].strip()
    for family, names in _FAMILIES.items():
        if base in names:
            return family
    return "other"


def _remote_typed_select(engine, table: str, their: str, columns_map: Mapping[str, str]):
    """Like :func:`_typed_select`, in the engine's own SQL: a plain CAST where the source column's
    type converts without failing, a try-cast with a parse check where it can fail (text dates...)."""
    spec = TABLES[table]
    raw = engine.table_columns(their if engine.name == "postgres" else f"raw_{table}")
    raw_cols = [c for c, _ in raw]
    types = dict(raw)
    as_contract = {columns_map.get(c, c): c for c in raw_cols}
    native = _NATIVE_TYPES[engine.name]
    problems: list[Violation] = []
    select, parse_checks = [], []
    try_casts: set[str] = set()
    for col in spec.columns:
        target = native[col.type]
        if col.name not in as_contract:
            if col.required:
                problems.append(Violation(table, col.name, "required column is missing from the source", 0,
                                          [{"columns found": ", ".join(raw_cols)}]))
            default = "1.0" if (table, col.name) == ("usage_events", "quantity") else "NULL"
            select.append(f"CAST({default} AS {target}) AS {engine.quote(col.name)}")
            continue
        src = engine.quote(as_contract[col.name])
        text = f"CAST({src} AS {native['string']})"
        if _family(types[as_contract[col.name]]) in _COMPATIBLE[col.type]:
            expr, bad = f"CAST({src} AS {target})", None
        elif col.type == "boolean":
            expr = (f"CASE WHEN lower({text}) IN ('true','t','1','yes','y') THEN TRUE "
                    f"WHEN lower({text}) IN ('false','f','0','no','n') THEN FALSE END")
            bad = f"{src} IS NOT NULL AND ({expr}) IS NULL"
        elif engine.name == "spark":
            expr = f"TRY_CAST({src} AS {target})"
            bad = f"{src} IS NOT NULL AND {expr} IS NULL"
        else:  # PostgreSQL 15 has no try-cast: a session function returns NULL where the cast fails
            try_casts.add(col.type)
            expr = f"pg_temp.csr_try_{col.type}({text})"
            bad = f"{src} IS NOT NULL AND {expr} IS NULL"
        if (table, col.name) == ("usage_events", "quantity"):
            expr = f"coalesce({expr}, 1.0)"
        select.append(f"{expr} AS {engine.quote(col.name)}")
        if bad:
            parse_checks.append((col.name, bad, as_contract[col.name]))
    for kind in sorted(try_casts):
        engine.run_native(_PG_TRY_CAST.format(name=kind, type=native[kind]))
    extras = [c for c in raw_cols if columns_map.get(c, c) not in spec.column_names]
    select += [engine.quote(c) for c in extras]
    raw_text = "".join(f", ({pred}) AS _parse{i}, CAST({engine.quote(raw_col)} AS {native['string']}) AS _raw{i}"
                       for i, (_, pred, raw_col) in enumerate(parse_checks))
    return ", ".join(select) + raw_text, parse_checks, problems


def _rule_checks(table: str, parse_checks: list, found) -> list[tuple[str, str, str, str]]:
    """Every rule of ``table`` as (column, rule text, predicate over the typed relation, handling)."""
    spec = TABLES[table]
    checks: list[tuple[str, str, str, str]] = [
        (column, f"must parse as {spec.column(column).type}", f"_parse{i}", "reject")
        for i, (column, _, _) in enumerate(parse_checks)
    ]
    parse_flag = {column: f"_parse{i}" for i, (column, _, _) in enumerate(parse_checks)}
    for col in spec.columns:
        if col.not_null:  # a value that failed to parse is reported once, as unparseable
            unparsed = f" AND NOT {parse_flag[col.name]}" if col.name in parse_flag else ""
            checks.append((col.name, "must not be null", f"{_quote(col.name)} IS NULL{unparsed}", "reject"))
    if spec.key:
        checks.append((", ".join(spec.key), "must be unique", "_keycount > 1", "reject"))
    for rule in ROW_RULES:
        if rule.table == table and all(n in found for n in rule.needs):
            checks.append((rule.column, rule.name, rule.bad_rows, rule.handling))
    return checks


def _keyed(table: str, typed: str) -> str:
    """The typed relation with ``_keycount``: how many rows share the row's unique key."""
    spec = TABLES[table]
    keycount = f"count(*) OVER (PARTITION BY {', '.join(_quote(k) for k in spec.key)})" if spec.key else "1"
    return f"(SELECT *, {keycount} AS _keycount FROM {typed}) AS _t"


def _check_rows(run, table: str, typed: str, parse_checks: list, found, reject_invalid_rows: bool):
    """Count every rule's bad rows in one scan of ``typed`` (run by ``run``: DuckDB-dialect SQL ->
    rows, wherever the table lives). Returns (rows_read, violations, rejections, keep predicate,
    rows used)."""
    spec = TABLES[table]
    checks = _rule_checks(table, parse_checks, found)
    relation = _keyed(table, typed)
    flags = [f"coalesce({pred}, FALSE)" for _, _, pred, _ in checks]
    rejectable = " OR ".join(f for f, (*_, handling) in zip(flags, checks) if handling == "reject") or "FALSE"
    sums = "".join(f", sum(CASE WHEN {f} THEN 1 ELSE 0 END)" for f in flags)
    row = run(f"SELECT count(*){sums}, sum(CASE WHEN {rejectable} THEN 1 ELSE 0 END) FROM {relation}")[0]
    rows_read, counts, rejected_rows = int(row[0]), [int(c or 0) for c in row[1:-1]], int(row[-1] or 0)

    violations, rejections, bad_flags, reasons = [], [], [], []
    for (column, rule_text, pred, handling), flag, n in zip(checks, flags, counts):
        if not n:
            continue
        shown = [c for c in ([*spec.key] or spec.column_names[:2]) if c != column] + [column.split(", ")[0]]
        shown = list(dict.fromkeys(c for c in shown if c in spec.column_names))
        if pred.startswith("_parse"):  # show the text that failed to parse, not the NULL it became
            shown_sql = shown[:-1] + [pred.replace("_parse", "_raw")]
        else:
            shown_sql = shown
        rows = run(f"SELECT {', '.join(_quote(c) for c in shown_sql)} FROM {relation} WHERE {flag} LIMIT {EXAMPLES_SHOWN}")
        examples = [{c: (v if not isinstance(v, float) else round(v, 4)) for c, v in zip(shown, r)} for r in rows]
        if pred.startswith("_parse"):
            for e in examples:
                e[column] = repr(e[column])
        v = Violation(table, column, rule_text, n, examples)
        if reject_invalid_rows and handling == "reject":
            bad_flags.append(flag)
            reasons.append(f"{n:,} {column}: {rule_text}")
            rejections.append({"table": table, "column": column, "rule": rule_text, "rows": n,
                               "examples": "; ".join(map(str, v.examples))})
        else:
            violations.append(v)
    keep = " AND ".join(f"NOT {f}" for f in bad_flags) or "TRUE"
    rows_used = rows_read - (rejected_rows if bad_flags else 0)
    return rows_read, violations, rejections, keep, rows_used, "; ".join(reasons)


def open_dataset(
    source: str | Path,
    mapping: str | Path | Mapping | None = None,
    reject_invalid_rows: bool = False,
    tables: list[str] | None = None,
    engine: str | None = None,
) -> Dataset:
    """Read, validate and clean the contract tables of ``source``.

    Raises :class:`ContractError` listing every broken rule, unless ``reject_invalid_rows`` lets
    row-level rules drop their rows (counted in ``Dataset.quality``). Table-level rules (missing or
    empty required tables, missing required columns, mixed currencies) always stop the run.

    ``engine`` (default: $CSRESEARCH_ENGINE, else ``auto``) says where the big table lives:
    ``duckdb`` (in place for Parquet and DuckDB files, in memory for CSV and PostgreSQL),
    ``postgres`` (stays in PostgreSQL; the default for a postgresql:// URL) or ``spark`` (a folder
    of Parquet read by Spark). Account-level tables are always validated and held in DuckDB.
    """
    from .engines import BIG_TABLES, RoutedConnection

    source = str(source)
    refuse_credentials(source)
    engine_name = resolve_engine(engine, source)
    maps = read_mapping(mapping)
    wanted = tables or list(TABLES)
    names = {t: maps["tables"].get(t, t) for t in wanted}
    con = duckdb.connect(":memory:")
    con.execute("SET TimeZone = 'UTC'")
    try:  # a bar on stderr would land in the reports; inside Jupyter DuckDB may refuse the setting
        con.execute("SET enable_progress_bar = false")
    except duckdb.Error:
        pass
    if os.environ.get("CSRESEARCH_DUCKDB_MEMORY_LIMIT"):
        con.execute(f"SET memory_limit = {_sql_str(os.environ['CSRESEARCH_DUCKDB_MEMORY_LIMIT'])}")
    remote, remote_relations = None, {}
    try:
        if engine_name in ("postgres", "spark"):
            remote, remote_relations = _attach_remote(engine_name, source, {t: n for t, n in names.items()
                                                                            if t in BIG_TABLES})
        formats: dict[str, str] = {}
        files: dict[str, list[Path]] = {}
        found = _attach_source(con, source, {t: n for t, n in names.items() if t not in remote_relations},
                               formats, files)
        found.update({t: names[t] for t in remote_relations})
        dataset_con = RoutedConnection(con, remote, remote_relations) if remote is not None else con
        cache_keys = {t: key for t in found
                      if (key := _validation_key(t, files, maps, reject_invalid_rows, formats)) is not None}
        quality, rejections, cached = _validate(con, dataset_con, remote, remote_relations, found, formats, names,
                                                maps, reject_invalid_rows, source, cache_keys)
    except BaseException:
        if remote is not None:
            remote.close()
        con.close()
        raise
    return Dataset(con=dataset_con, source=redact(source), quality=quality, rejections=rejections,
                   engine=engine_name, cached_checks=cached, _cache_keys=cache_keys)


def _validate(con, dataset_con, remote, remote_relations, found, formats, names, maps, reject_invalid_rows,
              source, cache_keys):
    from .engines import BIG_TABLES

    violations: list[Violation] = []
    for table in REQUIRED_TABLES:
        if table in names and table not in found:
            violations.append(Violation(table, "", f"required table is missing from {redact(source)}", 0))
    if violations:
        raise ContractError(violations)

    def run_local(sql: str) -> list[tuple]:
        return con.execute(sql).fetchall()

    def run_remote(sql: str) -> list[tuple]:
        from .engines import FrameResult

        return FrameResult(dataset_con.query_remote(sql)).fetchall()

    quality_rows, rejection_rows, cached = [], [], []
    for table in [t for t in TABLES if t in found]:  # contract order: accounts first, for references
        spec = TABLES[table]
        columns_map = maps["columns"].get(table, {})
        is_remote = table in remote_relations
        # big tables from Parquet or a DuckDB file stay in place: a filtering view, not a copy
        in_place = not is_remote and table in BIG_TABLES and formats.get(table) in ("parquet", "duckdb") \
            and not spec.key
        if is_remote:
            select, parse_checks, problems = _remote_typed_select(remote, table, names[table], columns_map)
            violations += problems
            if problems:
                continue
            remote.run_native(f"CREATE OR REPLACE TEMP VIEW typed_{table} AS SELECT {select} "
                              f"FROM {remote_relations[table]}")
            run, typed = run_remote, f"typed_{table}"
        else:
            select, parse_checks, problems = _typed_select(con, table, columns_map)
            violations += problems
            if problems:
                continue
            # each parse check keeps the raw text too, so an example shows what failed to parse
            parse_flags = "".join(
                f", ({pred}) AS _parse{i}, CAST({_quote(raw)} AS VARCHAR) AS _raw{i}"
                for i, (_, pred, raw) in enumerate(parse_checks)
            )
            row_number = "" if in_place else "row_number() OVER () AS _row, "
            con.execute(f"CREATE TEMP VIEW typed_{table} AS SELECT {row_number}{select}{parse_flags} FROM raw_{table}")
            run, typed = run_local, f"typed_{table}"
            if spec.required and run(f"SELECT count(*) FROM raw_{table}")[0][0] == 0:
                violations.append(Violation(table, "", "required table is empty", 0))
                continue

        # an in-place big table whose files (and the accounts it refers to) have not changed since
        # a clean validation is not scanned again: each notebook of a run opens the data anew
        key = cache_keys.get(table) if in_place else None
        hit = _cache_read(key, "checks") if key else None
        if hit is not None:
            rows_read, broken, rejected, keep, rows_used, reasons = json.loads(hit)
            cached.append(table)
        else:
            rows_read, broken, rejected, keep, rows_used, reasons = _check_rows(
                run, table, typed, parse_checks, found, reject_invalid_rows)
            if key and not broken:
                _cache_write(key, "checks", json.dumps([rows_read, broken, rejected, keep, rows_used, reasons]))
        if is_remote and spec.required and rows_read == 0:
            violations.append(Violation(table, "", "required table is empty", 0))
            continue
        violations += broken
        rejection_rows += rejected
        spec_cols = [c for c in _columns_of(con, remote, table, is_remote) if c != "_row"
                     and not c.startswith(("_parse", "_raw"))]
        cols = ", ".join(_quote(c) for c in spec_cols)
        # the clean relation exists even when rules broke, so later tables' rules can still run
        if is_remote:
            dataset_con.execute_remote(
                f"CREATE OR REPLACE TEMP VIEW {_quote(table)} AS SELECT {cols} FROM {_keyed(table, typed)} WHERE {keep}")
        elif in_place:
            parse_flags = "".join(f", ({pred}) AS _parse{i}" for i, (_, pred, _) in enumerate(parse_checks))
            con.execute(f"CREATE VIEW {_quote(table)} AS SELECT {cols} FROM "
                        f"(SELECT {select}{parse_flags}, 1 AS _keycount FROM raw_{table}) AS _t WHERE {keep}")
        else:
            con.execute(f'CREATE TABLE "{table}" AS SELECT {cols} FROM {_keyed(table, typed)} WHERE {keep} ORDER BY _row')
        quality_rows.append({
            "table": table, "rows_read": rows_read, "rows_used": rows_used,
            "rows_rejected": rows_read - rows_used, "reasons": reasons,
        })

    if "subscriptions" in found and not any(v.table == "subscriptions" and "missing" in v.rule for v in violations):
        currencies = con.sql(
            'SELECT currency, count(*) FROM "subscriptions" WHERE currency IS NOT NULL GROUP BY 1 ORDER BY 2 DESC'
        ).fetchall() if con.execute("SELECT count(*) FROM duckdb_tables() WHERE database_name = 'memory' "
                       "AND table_name = 'subscriptions'").fetchone()[0] else []
        if len(currencies) > 1:
            violations.append(Violation(
                "subscriptions", "currency",
                "one reporting currency (no FX table): convert mrr before loading",
                sum(n for _, n in currencies[1:]),
                [{"currency": c, "rows": n} for c, n in currencies[:EXAMPLES_SHOWN]],
            ))
    if violations:
        raise ContractError(violations)

    for table in [t for t in TABLES if t in found and t not in remote_relations]:
        if con.execute(f"SELECT count(*) FROM duckdb_views() WHERE database_name = 'memory' "
                       f"AND view_name = {_sql_str(table)}").fetchone()[0]:
            continue  # an in-place view reads raw_<table>, so keep that chain
        for prefix in ("checked_", "typed_"):
            con.execute(f"DROP VIEW IF EXISTS {prefix}{table}")
    return (pd.DataFrame(quality_rows),
            pd.DataFrame(rejection_rows, columns=["table", "column", "rule", "rows", "examples"]), cached)


# --------------------------------------------------------------------------------------------------
# Validation cache: the big table's rule counts, keyed by the files they were computed from
# --------------------------------------------------------------------------------------------------
def _cache_dir() -> Path | None:
    """$CSRESEARCH_CACHE_DIR (``off`` disables the cache), else $XDG_CACHE_HOME/csresearch."""
    configured = os.environ.get("CSRESEARCH_CACHE_DIR")
    if configured and configured.lower() in ("off", "none", "0", "false"):
        return None
    base = Path(configured) if configured else Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "csresearch"
    return base / "validation"


def _validation_key(table: str, files: Mapping[str, list[Path]], maps, reject_invalid_rows: bool,
                    formats: Mapping[str, str]) -> str | None:
    """A key that changes when any input of the table's checks changes: its files and the accounts
    files (size and modification time), the column mapping, the reject setting, the rules' text and
    the package version. None when the table is not read from files in place."""
    from .. import __version__
    from .engines import BIG_TABLES

    if table not in BIG_TABLES or formats.get(table) not in ("parquet", "duckdb") or table not in files:
        return None
    stats = []
    for name in sorted({table, "accounts"} & set(files)):
        for path in files[name]:
            st = path.stat()
            stats.append([name, str(path.resolve()), st.st_size, st.st_mtime_ns])
    rules = [[r.table, r.column, r.name, r.bad_rows, r.handling] for r in ROW_RULES if r.table == table]
    spec = [[c.name, c.type, c.required, c.not_null] for c in TABLES[table].columns]
    payload = json.dumps([__version__, table, stats, maps, reject_invalid_rows, rules, spec], sort_keys=True, default=str)
    return hashlib.sha256(payload.encode()).hexdigest()[:32]


def _cache_read(key: str, kind: str) -> str | None:
    folder = _cache_dir()
    path = folder / f"{key}.{kind}" if folder else None
    try:
        return path.read_text() if path and path.exists() else None
    except OSError:
        return None


def _cache_write(key: str, kind: str, text: str) -> None:
    folder = _cache_dir()
    if folder is None:
        return
    try:
        folder.mkdir(parents=True, exist_ok=True)
        tmp = folder / f".{key}.{kind}.{os.getpid()}"
        tmp.write_text(text)
        tmp.replace(folder / f"{key}.{kind}")
    except OSError:  # a read-only home: validate every time
        pass


def _columns_of(con, remote, table: str, is_remote: bool) -> list[str]:
    if is_remote:
        return [c for c, _ in remote.table_columns(f"typed_{table}")] if remote.name == "spark" else \
            list(remote.run_native(f"SELECT * FROM typed_{table} LIMIT 0").columns)
    return list(con.sql(f"SELECT * FROM typed_{table} LIMIT 0").columns)


def validate(source: str | Path, mapping=None, reject_invalid_rows: bool = False,
             engine: str | None = None) -> pd.DataFrame:
    """Validate only; return the data-quality table (raises :class:`ContractError` when broken)."""
    ds = open_dataset(source, mapping=mapping, reject_invalid_rows=reject_invalid_rows, engine=engine)
    quality = ds.quality
    ds.con.close()
    return quality


def default_data_path() -> str:
    """Where the demo world lives unless a run names other data."""
    return os.environ.get("CSRESEARCH_DATA", "data/demo.duckdb")
