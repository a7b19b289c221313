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

This module answers "what did we load?": :class:`Dataset`, :func:`open_dataset`, :func:`validate` and
the validation cache. The pieces it puts together live beside it: ``sources`` (attaching a folder,
DuckDB file, PostgreSQL or Spark; the engine; the column mapping; the credential checks), ``files``
(files that are not what they claim), ``casts`` (typed selects and parse checks), ``rules`` (row and
table rule checks) and ``violation`` (how a broken rule is reported). Their public names are
re-exported here.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any, Mapping

import duckdb
import pandas as pd

from ..errors import ContractError, SourceError
from .casts import DUPLICATE_SOURCE, OFFSET_PATTERN, _remote_typed_select, _typed_select
from .contract import REQUIRED_TABLES, ROW_RULES, TABLES
from .files import NOT_UTF8, _read_error
from .rules import MIXED_OFFSETS, _check_rows, _keyed
from .sources import (
    ENGINE_CHOICES,
    ENGINE_ENV,
    SECRET_KEYS,
    _attach_remote,
    _attach_source,
    read_mapping,
    redact,
    refuse_credentials,
    resolve_engine,
)
from .violation import EXAMPLES_SHOWN, Violation, _quote, _sql_str

__all__ = [  # what other code imports from here (the moved names are re-exported unchanged)
    "CHECKS_VERSION",
    "DUPLICATE_SOURCE",
    "ENGINE_CHOICES",
    "ENGINE_ENV",
    "EXAMPLES_SHOWN",
    "MIXED_OFFSETS",
    "NOT_UTF8",
    "OFFSET_PATTERN",
    "SECRET_KEYS",
    "ContractError",
    "Dataset",
    "SourceError",
    "Violation",
    "default_data_path",
    "open_dataset",
    "read_mapping",
    "redact",
    "refuse_credentials",
    "resolve_engine",
    "validate",
]

# Part of the validation cache's key: bump it when what the checks find changes (not only their text),
# so counts cached by an older version are not reused. 2: UTC offsets, NaN and non-integers.
CHECKS_VERSION = 2


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

    def data_coverage(self, data_as_of: str | pd.Timestamp | None = None):
        """The dates the data covers (:class:`csresearch.data.coverage.Coverage`)."""
        from .coverage import coverage

        return coverage(self.con, self.tables, data_as_of)

    def censor_subscriptions_at(self, day: pd.Timestamp) -> int:
        """A partial month: a subscription that ends on or after the export's last day simply stops
        where the export stops, so it is treated as still running (no churn is counted for it).
        Returns how many end dates were cleared."""
        count = self.con.execute('SELECT count(*) FROM subscriptions WHERE end_date >= ?', [day.date()]).fetchone()[0]
        self.con.execute('UPDATE subscriptions SET end_date = NULL WHERE end_date >= ?', [day.date()])
        self._cache.pop("subscriptions", None)
        return int(count)

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
        from .coverage import RECORD_DATES as date_cols

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
        file_problems: dict[str, list[Violation]] = {}
        found = _attach_source(con, source, {t: n for t, n in names.items() if t not in remote_relations},
                               formats, files, file_problems)
        found.update({t: names[t] for t in remote_relations})
        dataset_con = RoutedConnection(con, remote, remote_relations) if remote is not None else con
        cache_keys = {t: key for t in found
                      if (key := _validation_key(t, files, maps, reject_invalid_rows, formats)) is not None}
        quality, rejections, cached = _validate(con, dataset_con, remote, remote_relations, found, formats, names,
                                                maps, reject_invalid_rows, source, cache_keys, files, file_problems)
    except BaseException:
        if remote is not None:
            remote.close()
        con.close()
        raise
    return Dataset(con=dataset_con, source=redact(source), quality=quality, rejections=rejections,
                   engine=engine_name, cached_checks=cached, _cache_keys=cache_keys)


def _validate(con, dataset_con, remote, remote_relations, found, formats, names, maps, reject_invalid_rows,
              source, cache_keys, files=None, file_problems=None):
    from .engines import BIG_TABLES

    files, file_problems = files or {}, file_problems or {}
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
    available: set[str] = set()  # tables with a clean relation, which other tables' rules may read
    for table in [t for t in TABLES if t in found]:  # contract order: accounts first, for references
        if table in file_problems:  # a file that is not what it claims: named, never read
            violations += file_problems[table]
            continue
        spec = TABLES[table]
        columns_map = maps["columns"].get(table, {})
        is_remote = table in remote_relations
        # big tables from Parquet or a DuckDB file stay in place: a filtering view, not a copy
        in_place = not is_remote and table in BIG_TABLES and formats.get(table) in ("parquet", "duckdb") \
            and not spec.key
        try:
            if is_remote:
                select, parse_checks, zone_checks, problems = _remote_typed_select(
                    remote, table, names[table], columns_map)
                violations += problems
                if problems:
                    continue
                remote.run_native(f"CREATE OR REPLACE TEMP VIEW typed_{table} AS SELECT {select} "
                                  f"FROM {remote_relations[table]}")
                run, typed = run_remote, f"typed_{table}"
            else:
                select, parse_checks, zone_checks, problems = _typed_select(con, table, columns_map)
                violations += problems
                if problems:
                    continue
                # each parse check keeps the raw text too, so an example shows what failed to parse
                parse_flags = "".join(
                    f", ({pred}) AS _parse{i}, CAST({_quote(raw)} AS VARCHAR) AS _raw{i}"
                    for i, (_, pred, raw) in enumerate(parse_checks)
                ) + "".join(f", ({flag}) AS _tz{i}" for i, (_, flag) in enumerate(zone_checks))
                row_number = "" if in_place else "row_number() OVER () AS _row, "
                con.execute(f"CREATE TEMP VIEW typed_{table} AS SELECT {row_number}{select}{parse_flags} "
                            f"FROM raw_{table}")
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
                    run, table, typed, parse_checks, zone_checks, available, reject_invalid_rows)
                # only a check of the whole data is kept: with another table broken, a rule reading
                # it did not run
                if key and not broken and not violations:
                    _cache_write(key, "checks", json.dumps([rows_read, broken, rejected, keep, rows_used, reasons]))
            if is_remote and spec.required and rows_read == 0:
                violations.append(Violation(table, "", "required table is empty", 0))
                continue
            violations += broken
            rejection_rows += rejected
            spec_cols = [c for c in _columns_of(con, remote, table, is_remote) if c != "_row"
                         and not c.startswith(("_parse", "_raw", "_tz"))]
            cols = ", ".join(_quote(c) for c in spec_cols)
            # the clean relation exists even when rules broke, so later tables' rules can still run
            if is_remote:
                dataset_con.execute_remote(f"CREATE OR REPLACE TEMP VIEW {_quote(table)} AS SELECT {cols} "
                                           f"FROM {_keyed(table, typed)} WHERE {keep}")
            elif in_place:
                parse_flags = "".join(f", ({pred}) AS _parse{i}" for i, (_, pred, _) in enumerate(parse_checks))
                con.execute(f"CREATE VIEW {_quote(table)} AS SELECT {cols} FROM "
                            f"(SELECT {select}{parse_flags}, 1 AS _keycount FROM raw_{table}) AS _t WHERE {keep}")
            else:
                con.execute(f'CREATE TABLE "{table}" AS SELECT {cols} FROM {_keyed(table, typed)} '
                            f'WHERE {keep} ORDER BY _row')
        except (duckdb.InvalidInputException, duckdb.IOException) as exc:
            # a file DuckDB cannot read (a line with too many fields, an unterminated quote, a corrupt
            # Parquet page): named with its file and line, not a traceback
            if is_remote or formats.get(table) not in ("csv", "parquet"):
                raise
            violations.append(_read_error(table, formats[table], files.get(table) or [Path(names[table])], exc))
            continue
        available.add(table)
        quality_rows.append({
            "table": table, "rows_read": rows_read, "rows_used": rows_used,
            "rows_rejected": rows_read - rows_used, "reasons": reasons,
        })

    if "subscriptions" in available:
        currencies = con.sql(
            'SELECT currency, count(*) FROM "subscriptions" WHERE currency IS NOT NULL GROUP BY 1 ORDER BY 2 DESC'
        ).fetchall()
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
    payload = json.dumps([__version__, CHECKS_VERSION, table, stats, maps, reject_invalid_rows, rules, spec],
                         sort_keys=True, default=str)
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
