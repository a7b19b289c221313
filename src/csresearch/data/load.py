"""Load the contract tables from a folder, a DuckDB file or a SQL URL, validate them, and hand back a
:class:`Dataset` whose clean tables live in an in-memory DuckDB connection.

Why DuckDB in the middle: every source becomes SQL-queryable the same way, the contract rules run as
SQL over any size of table, and heavy event aggregation (``csresearch.features``) runs there instead
of in pandas. Only account-level results come back as DataFrames.
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any, Mapping
from urllib.parse import urlsplit

import duckdb
import pandas as pd
import yaml

from .contract import REQUIRED_TABLES, ROW_RULES, SQL_TYPES, TABLES, Rule

EXAMPLES_SHOWN = 3


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


class ContractError(ValueError):
    """The input breaks the data contract. ``violations`` lists every broken rule."""

    def __init__(self, violations: list[Violation]):
        self.violations = violations
        lines = "\n".join(f"  - {v}" for v in violations)
        super().__init__(
            f"The data breaks {len(violations)} contract rule(s):\n{lines}\n"
            "See docs/data-contract.md. Row-level problems can be rejected and counted instead of "
            "stopping the run with reject_invalid_rows: true."
        )


class SourceError(ValueError):
    """The data source cannot be read (missing path, unknown scheme, credentials in the URL...)."""


# --------------------------------------------------------------------------------------------------
# Dataset
# --------------------------------------------------------------------------------------------------
@dataclass
class Dataset:
    """Validated contract tables in an in-memory DuckDB connection, plus the data-quality record.

    ``quality`` has one row per table: rows_read = rows_used + rows_rejected, and the reasons.
    """

    con: duckdb.DuckDBPyConnection
    source: str
    quality: pd.DataFrame
    rejections: pd.DataFrame
    _cache: dict[str, pd.DataFrame] = field(default_factory=dict, repr=False)

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
        """A short hash of every clean table's content: two runs on the same data share it."""
        digest = hashlib.sha256()
        for name in self.tables:
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


def _attach_source(con: duckdb.DuckDBPyConnection, source: str, names: Mapping[str, str]) -> dict[str, str]:
    """Create one view ``raw_<table>`` per contract table found in ``source``; return table -> view."""
    found: dict[str, str] = {}
    scheme = urlsplit(source).scheme if "://" in source else ""
    if scheme.startswith("postgres"):
        return _attach_postgres(con, source, names)
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
        return found
    for table, their in names.items():
        parquet, csv, chunks = path / f"{their}.parquet", path / f"{their}.csv", path / their
        if parquet.exists():
            reader = f"read_parquet({_sql_str(str(parquet))})"
        elif chunks.is_dir() and any(chunks.glob("*.parquet")):
            reader = f"read_parquet({_sql_str(str(chunks / '*.parquet'))})"
        elif csv.exists():
            # all_varchar: dates that do not parse are found by the contract, not guessed by a sniffer
            reader = f"read_csv({_sql_str(str(csv))}, header = true, all_varchar = true)"
        else:
            continue
        con.execute(f"CREATE VIEW raw_{table} AS SELECT * FROM {reader}")
        found[table] = their
    return found


def _attach_postgres(con, url: str, names: Mapping[str, str]) -> dict[str, str]:
    parts = urlsplit(url)
    if parts.password:
        raise SourceError(
            "the data URL contains a password. Credentials come from the environment only "
            "(PGUSER, PGPASSWORD or ~/.pgpass), because parameters are printed in the report."
        )
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
def _typed_select(con, table: str, columns_map: Mapping[str, str]) -> tuple[str, list[str], list[Violation]]:
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


def _examples(con, relation: str, predicate: str, columns: list[str]) -> list[dict]:
    cols = ", ".join(_quote(c) for c in columns)
    rows = con.sql(f"SELECT {cols} FROM {relation} WHERE {predicate} LIMIT {EXAMPLES_SHOWN}").fetchall()
    return [{c: (v if not isinstance(v, float) else round(v, 4)) for c, v in zip(columns, r)} for r in rows]


def open_dataset(
    source: str | Path,
    mapping: str | Path | Mapping | None = None,
    reject_invalid_rows: bool = False,
    tables: list[str] | None = None,
) -> Dataset:
    """Read, validate and clean the contract tables of ``source``.

    Raises :class:`ContractError` listing every broken rule, unless ``reject_invalid_rows`` lets
    row-level rules drop their rows (counted in ``Dataset.quality``). Table-level rules (missing or
    empty required tables, missing required columns, mixed currencies) always stop the run.
    """
    source = str(source)
    maps = read_mapping(mapping)
    wanted = tables or list(TABLES)
    names = {t: maps["tables"].get(t, t) for t in wanted}
    con = duckdb.connect(":memory:")
    con.execute("SET TimeZone = 'UTC'")
    found = _attach_source(con, source, names)

    violations: list[Violation] = []
    for table in REQUIRED_TABLES:
        if table in names and table not in found:
            violations.append(Violation(table, "", f"required table is missing from {redact(source)}", 0))
    if violations:
        raise ContractError(violations)

    quality_rows, rejection_rows = [], []
    for table in [t for t in TABLES if t in found]:  # contract order: accounts first, for references
        spec = TABLES[table]
        select, parse_checks, problems = _typed_select(con, table, maps["columns"].get(table, {}))
        violations += problems
        if problems:
            continue
        # each parse check keeps the raw text too, so an example shows what failed to parse
        parse_flags = "".join(
            f", ({pred}) AS _parse{i}, CAST({_quote(raw)} AS VARCHAR) AS _raw{i}"
            for i, (_, pred, raw) in enumerate(parse_checks)
        )
        con.execute(f"CREATE TEMP VIEW typed_{table} AS SELECT row_number() OVER () AS _row, {select}{parse_flags} FROM raw_{table}")
        rows_read = con.execute(f"SELECT count(*) FROM raw_{table}").fetchone()[0]
        if spec.required and rows_read == 0:
            violations.append(Violation(table, "", "required table is empty", 0))
            continue

        # every rule as (column, rule text, predicate over the typed view, handling)
        checks: list[tuple[str, str, str, str]] = [
            (column, f"must parse as {spec.column(column).type}", f"_parse{i}", "reject")
            for i, (column, _, _) in enumerate(parse_checks)
        ]
        parse_flag = {column: f"_parse{i}" for i, (column, _, _) in enumerate(parse_checks)}
        for col in spec.columns:
            if col.not_null:  # a value that failed to parse is reported once, as unparseable
                unparsed = f" AND NOT {parse_flag[col.name]}" if col.name in parse_flag else ""
                checks.append((col.name, "must not be null", f"{_quote(col.name)} IS NULL{unparsed}", "reject"))
        keycount = "1"
        if spec.key:
            keycount = f"count(*) OVER (PARTITION BY {', '.join(_quote(k) for k in spec.key)})"
            checks.append((", ".join(spec.key), "must be unique", "_keycount > 1", "reject"))
        for rule in ROW_RULES:
            if rule.table == table and all(n in found for n in rule.needs):
                checks.append((rule.column, rule.name, rule.bad_rows, rule.handling))
        flags = "".join(f", coalesce({pred}, FALSE) AS _bad{i}" for i, (_, _, pred, _) in enumerate(checks))
        con.execute(
            f"CREATE TEMP VIEW checked_{table} AS SELECT *{flags} "
            f"FROM (SELECT *, {keycount} AS _keycount FROM typed_{table})"
        )
        counts = con.execute(
            f"SELECT {', '.join(f'count_if(_bad{i})' for i in range(len(checks)))} FROM checked_{table}"
        ).fetchone() if checks else ()
        bad_preds = []
        reasons = []
        for i, ((column, rule_text, pred, handling), n) in enumerate(zip(checks, counts)):
            if not n:
                continue
            shown = [c for c in ([*spec.key] or spec.column_names[:2]) if c != column] + [column.split(", ")[0]]
            shown = list(dict.fromkeys(c for c in shown if c in spec.column_names))
            examples = _examples(con, f"checked_{table}", f"_bad{i}", shown)
            if pred.startswith("_parse"):  # show the text that failed to parse, not the NULL it became
                raw = _examples(con, f"checked_{table}", f"_bad{i}", [pred.replace("_parse", "_raw")])
                for e, r in zip(examples, raw):
                    e[column] = repr(next(iter(r.values())))
            v = Violation(table, column, rule_text, int(n), examples)
            if reject_invalid_rows and handling == "reject":
                bad_preds.append(f"_bad{i}")
                reasons.append(f"{n:,} {column}: {rule_text}")
                rejection_rows.append({"table": table, "column": column, "rule": rule_text, "rows": int(n),
                                       "examples": "; ".join(map(str, v.examples))})
            else:
                violations.append(v)
        keep = " AND ".join(f"NOT {p}" for p in bad_preds) or "TRUE"
        cols = ", ".join(_quote(c) for c in con.sql(f"SELECT * FROM typed_{table} LIMIT 0").columns
                         if c != "_row" and not c.startswith(("_parse", "_raw")))
        con.execute(f'CREATE TABLE "{table}" AS SELECT {cols} FROM checked_{table} WHERE {keep} ORDER BY _row')
        rows_used = con.execute(f'SELECT count(*) FROM "{table}"').fetchone()[0]
        quality_rows.append({
            "table": table, "rows_read": rows_read, "rows_used": rows_used,
            "rows_rejected": rows_read - rows_used, "reasons": "; ".join(reasons),
        })

    if "subscriptions" in found and not any(v.table == "subscriptions" and "missing" in v.rule for v in violations):
        currencies = con.sql(
            'SELECT currency, count(*) FROM "subscriptions" WHERE currency IS NOT NULL GROUP BY 1 ORDER BY 2 DESC'
        ).fetchall() if con.execute("SELECT count(*) FROM duckdb_tables() WHERE table_name = 'subscriptions'").fetchone()[0] else []
        if len(currencies) > 1:
            violations.append(Violation(
                "subscriptions", "currency",
                "one reporting currency (no FX table): convert mrr before loading",
                sum(n for _, n in currencies[1:]),
                [{"currency": c, "rows": n} for c, n in currencies[:EXAMPLES_SHOWN]],
            ))
    if violations:
        con.close()
        raise ContractError(violations)

    for table in [t for t in TABLES if t in found]:
        for prefix in ("checked_", "typed_"):
            con.execute(f"DROP VIEW IF EXISTS {prefix}{table}")
    return Dataset(
        con=con,
        source=redact(source),
        quality=pd.DataFrame(quality_rows),
        rejections=pd.DataFrame(rejection_rows, columns=["table", "column", "rule", "rows", "examples"]),
    )


def validate(source: str | Path, mapping=None, reject_invalid_rows: bool = False) -> pd.DataFrame:
    """Validate only; return the data-quality table (raises :class:`ContractError` when broken)."""
    ds = open_dataset(source, mapping=mapping, reject_invalid_rows=reject_invalid_rows)
    quality = ds.quality
    ds.con.close()
    return quality


def default_data_path() -> str:
    """Where the demo world lives unless a run names other data."""
    return os.environ.get("CSRESEARCH_DATA", "data/demo.duckdb")
