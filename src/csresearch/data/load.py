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
# Part of the validation cache's key: bump it when what the checks find changes (not only their text),
# so counts cached by an older version are not reused. 2: UTC offsets, NaN and non-integers.
CHECKS_VERSION = 2
# Engines a Dataset can keep its big table in; "auto": postgres for a postgresql:// URL, else duckdb.
ENGINE_CHOICES = ("auto", "duckdb", "postgres", "spark")
ENGINE_ENV = "CSRESEARCH_ENGINE"


# --------------------------------------------------------------------------------------------------
# Errors
# --------------------------------------------------------------------------------------------------
@dataclass
class Violation:
    """One broken rule: where (table, file, column), what (rule), how many rows and a few examples.
    ``rows`` is 0 for a rule about the table or file as a whole (a missing column, a file that is not
    UTF-8 text), and the message then leaves the row count out."""

    table: str
    column: str
    rule: str
    rows: int
    examples: list[dict] = field(default_factory=list)
    file: str = ""  # the source file, for rules about a file (encoding, delimiter, header, readability)

    def __str__(self) -> str:
        ex = "; ".join(", ".join(f"{k}={v}" for k, v in e.items()) for e in self.examples)
        where = [f"table '{self.table}'"]
        if self.file:
            where.append(f"file '{self.file}'")
        if self.column:
            where.append(f"column '{self.column}'")
        elif not self.file:
            where.append("table")
        count = f" — {self.rows:,} row(s) break it" if self.rows else ""
        return f"{', '.join(where)}: {self.rule}{count}" + (f" (e.g. {ex})" if ex else "")


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
                   formats: dict[str, str] | None = None, files: dict[str, list[Path]] | None = None,
                   problems: dict[str, list[Violation]] | None = None) -> dict[str, str]:
    """Create one view ``raw_<table>`` per contract table found in ``source``; return table -> view.
    ``formats`` (if given) receives each found table's storage: parquet, csv, duckdb or postgres;
    ``files`` the files it is read from (for the validation cache); ``problems`` the violations of
    files that are not what they claim (not UTF-8, binary, another delimiter, a duplicated header):
    such a table is found but gets no view."""
    found: dict[str, str] = {}
    formats = formats if formats is not None else {}
    files = files if files is not None else {}
    problems = problems if problems is not None else {}
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
        try:
            con.execute(f"ATTACH {_sql_str(str(path))} AS src (READ_ONLY)")
        except duckdb.Error as exc:  # binary garbage, a newer DuckDB's file, a file another process holds
            first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
            raise SourceError(f"{source!r} is not a readable DuckDB database: {first}") from None
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
            formats[table] = "parquet"
            files[table] = sorted(Path(p) for p in glob.glob(located))
            bad = _inspect_parquet(table, files[table])
            reader = f"read_parquet({_sql_str(located)})"
        elif csv.exists():
            formats[table] = "csv"
            files[table] = [csv]
            header, bad = _inspect_csv(table, csv)
            # the dialect is the contract's (comma, double quotes), not a sniffer's guess: a file in
            # another dialect is named, never read as one wide column; every value is text, so dates
            # that do not parse are found by the contract rules
            columns = "{" + ", ".join(f"{_sql_str(c)}: 'VARCHAR'" for c in header or []) + "}"
            reader = (f"read_csv({_sql_str(str(csv))}, header = true, auto_detect = false, delim = ',', "
                      f"quote = '\"', escape = '\"', columns = {columns})")
        else:
            continue
        found[table] = their
        if not bad:
            try:
                con.execute(f"CREATE VIEW raw_{table} AS SELECT * FROM {reader}")
            except duckdb.Error as exc:
                bad = [_read_error(table, formats[table], files[table], exc)]
        if bad:
            problems[table] = bad
    return found


# --------------------------------------------------------------------------------------------------
# Files that are not what they claim: checked before DuckDB reads them
# --------------------------------------------------------------------------------------------------
_SAMPLE_BYTES = 1 << 16
_CHUNK_BYTES = 1 << 20
_BINARY_MAGIC = {
    b"PAR1": "a Parquet file", b"PK\x03\x04": "a ZIP archive (an Excel .xlsx?)", b"\x1f\x8b": "gzip-compressed",
    b"\xd0\xcf\x11\xe0": "an Excel .xls file", b"%PDF": "a PDF",
}
_CONTROL_BYTES = bytes(b for b in range(32) if b not in (9, 10, 12, 13)) + b"\x7f"  # not in any text file
_OTHER_DELIMITERS = {";": "';'", "\t": "tab", "|": "'|'"}
NOT_UTF8 = "encoding is not UTF-8 (UTF-8 with or without a BOM is read): re-save the file as UTF-8"


def _inspect_csv(table: str, path: Path) -> tuple[list[str] | None, list[Violation]]:
    """The header of a CSV file, or the violations that stop it from being read as the contract's
    CSV: empty, binary, UTF-16 or another non-UTF-8 encoding, another delimiter, a duplicated column."""
    import codecs
    import csv
    import io

    def bad(rule: str, column: str = "", rows: int = 0, examples: list[dict] | None = None):
        return None, [Violation(table, column, rule, rows, examples or [], file=path.name)]

    with path.open("rb") as fh:
        head = fh.read(_SAMPLE_BYTES)
    if not head.removeprefix(b"\xef\xbb\xbf").strip():
        return bad("the file is empty: a CSV needs a header row")
    if head.startswith((b"\xff\xfe", b"\xfe\xff")) or _looks_utf16(head):
        return bad("encoding is UTF-16, not UTF-8 (UTF-8 with or without a BOM is read): re-save the file as UTF-8")
    kind = next((what for magic, what in _BINARY_MAGIC.items() if head.startswith(magic)), None)
    controls = len(head) - len(head.translate(None, _CONTROL_BYTES))
    if kind or b"\x00" in head or controls > 0.02 * len(head):
        return bad(f"not a readable CSV file: binary content ({kind or 'not text'}), not comma-separated UTF-8 text")

    decoder = codecs.getincrementaldecoder("utf-8")()
    try:
        with path.open("rb") as fh:
            while chunk := fh.read(_CHUNK_BYTES):
                decoder.decode(chunk)
            decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        lines = 0
        examples: list[dict] = []
        with path.open("rb") as fh:
            for number, line in enumerate(fh, start=1):
                try:
                    line.decode("utf-8")
                except UnicodeDecodeError:
                    lines += 1
                    if len(examples) < EXAMPLES_SHOWN:
                        text = line.rstrip(b"\r\n").decode("utf-8", errors="backslashreplace")
                        examples.append({"line": number, "text": f"'{text[:60]}'"})
        return bad(NOT_UTF8, rows=lines, examples=examples)

    text = head.decode("utf-8", errors="ignore").removeprefix("\ufeff")  # a BOM is fine
    first_line = text.splitlines()[0] if text.splitlines() else ""
    header = next(csv.reader(io.StringIO(text)), [])
    if len(header) <= 1:
        for delimiter, name in _OTHER_DELIMITERS.items():
            if delimiter in first_line:
                return bad(f"delimiter is {name}, expected ',' (the contract's CSV is comma-separated)",
                           examples=[{"header": repr(first_line[:80])}])
    seen: dict[str, str] = {}
    problems: list[Violation] = []
    for name in header:
        folded = name.lower()  # DuckDB's column names are case-insensitive
        if folded in seen and not any(v.column == seen[folded] for v in problems):
            problems.append(Violation(
                table, seen[folded], "duplicated header: more than one column has this name",
                0, [{"header": repr(first_line[:80])}], file=path.name))
        seen.setdefault(folded, name)
    return (None, problems) if problems else (header, [])


def _looks_utf16(head: bytes) -> bool:
    """UTF-16 text without a BOM: every other byte of its ASCII characters is NUL."""
    sample = head[:4096]
    return len(sample) >= 16 and max(sample[0::2].count(0), sample[1::2].count(0)) > 0.4 * len(sample) / 2


def _inspect_parquet(table: str, paths: list[Path]) -> list[Violation]:
    """Parquet files that are not Parquet (binary garbage, a CSV renamed, a truncated copy), or
    whose columns repeat a name."""
    problems = []
    for path in paths:
        try:
            size = path.stat().st_size
            with path.open("rb") as fh:
                head = fh.read(4)
                fh.seek(max(size - 4, 0))
                tail = fh.read(4)
        except OSError as exc:
            problems.append(Violation(table, "", f"not a readable Parquet file: {exc.strerror or exc}", 0, file=path.name))
            continue
        if size < 12 or head != b"PAR1" or tail != b"PAR1":
            problems.append(Violation(table, "", "not a readable Parquet file: it does not start and end with "
                                      "Parquet's magic bytes (binary garbage, another format, or a truncated copy)",
                                      0, file=path.name))
    if problems or not paths:
        return problems
    import pyarrow.parquet as pq

    try:
        names = pq.read_schema(paths[0]).names
    except Exception as exc:  # noqa: BLE001 - pyarrow raises several types for a broken footer
        return [Violation(table, "", f"not a readable Parquet file: {str(exc).splitlines()[0]}", 0, file=paths[0].name)]
    seen: dict[str, str] = {}
    for name in names:
        first = seen.setdefault(name.lower(), name)  # DuckDB's column names are case-insensitive
        if first != name or names.count(name) > 1:
            if not any(v.column == first for v in problems):
                problems.append(Violation(table, first, "duplicated header: more than one column has this name", 0,
                                          [{"columns": ", ".join(names)}], file=paths[0].name))
    return problems


def _read_error(table: str, fmt: str, paths: list[Path], exc: Exception) -> Violation:
    """A file DuckDB could not read, as a named violation: for CSV the line and what is wrong with it."""
    import re

    message = str(exc).replace("Invalid Input Error: ", "").replace("IO Error: ", "")
    lines = [line.strip() for line in message.splitlines()]
    name = paths[0].name if len(paths) == 1 else f"{paths[0].parent.name}/"
    for path in paths:
        if path.name in message:
            name = path.name if len(paths) == 1 else f"{path.parent.name}/{path.name}"
    kind = "CSV" if fmt == "csv" else "Parquet"
    at = re.search(r"CSV Error on Line: (\d+)", message)
    if fmt == "csv" and at:
        original = next((line.removeprefix("Original Line:").strip() for line in lines
                         if line.startswith("Original Line:")), "")
        fixes = next((i for i, line in enumerate(lines) if line.startswith("Possible")), len(lines))
        reason = next((line for line in reversed(lines[:fixes]) if line), "the line does not parse")
        # DuckDB stops at the first bad line: it is shown, without claiming how many more there are
        example = [{"line": int(at.group(1)), "text": repr(original[:80])}]
        if "not utf-8" in reason.lower():
            return Violation(table, "", NOT_UTF8, 0, example, file=name)
        return Violation(table, "", f"not a readable CSV file: {reason.rstrip('.')}", 0, example, file=name)
    first = next((line for line in lines if line), type(exc).__name__)
    return Violation(table, "", f"not a readable {kind} file: {first}", 0, file=name)


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
        bad = _inspect_parquet(table, sorted(Path(p) for p in glob.glob(located))) if located else []
        if bad:
            engine.close()
            raise ContractError(bad)
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
# A time that carries a UTC offset or a zone (Z, +05:30, +0530, +05, -03:00, " UTC", " Europe/Paris"):
# after a digit a plus sign or a letter (other than the T between date and time), or a minus sign
# after the minutes or seconds. A naive ISO-8601 time never matches. One regular expression that
# DuckDB (RE2), PostgreSQL and Spark (Java) read alike.
OFFSET_PATTERN = "[0-9] *([+A-SU-Za-z]|T[^0-9])|:[0-9]{1,2}([.,][0-9]+)? *-"
MIXED_OFFSETS = "mixes times with and without a UTC offset"
DUPLICATE_SOURCE = "more than one source column is this column (a duplicated name, or a column mapping onto a column that exists)"


def _contract_names(table: str, raw_cols: list[str], rename: Mapping[str, str]) -> tuple[dict[str, str], list[Violation]]:
    """Contract column -> source column, and a violation for every contract column two source columns claim."""
    spec = TABLES[table]
    as_contract: dict[str, str] = {}
    problems = []
    for c in raw_cols:
        ours = rename.get(c, c)
        if ours in as_contract and ours in spec.column_names:
            problems.append(Violation(table, ours, DUPLICATE_SOURCE, 0,
                                      [{"source columns": f"{as_contract[ours]}, {c}"}]))
        as_contract.setdefault(ours, c)
    return as_contract, problems


def _typed_select(con, table: str, columns_map: Mapping[str, str]):
    """SELECT list casting the source's columns to contract types; also which columns fail to parse
    (``parse_checks``: column, predicate, source column) and which text timestamps carry a UTC offset
    (``zone_checks``: column, SQL giving 1 with an offset, 0 without, NULL for NULL).

    Text is converted, never silently bent: a time with an offset becomes UTC (a naive one is taken
    as UTC), NaN and infinities are not numbers, 2.5 is not an integer. A column the source already
    types (TIMESTAMP in Parquet or DuckDB) is cast as it is."""
    spec = TABLES[table]
    described = con.sql(f"DESCRIBE raw_{table}").fetchall()
    raw_cols = [r[0] for r in described]
    types = {r[0]: r[1] for r in described}
    rename = dict(columns_map)
    as_contract, problems = _contract_names(table, raw_cols, rename)
    select, parse_checks, zone_checks = [], [], []
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
        is_text = _family(types[as_contract[col.name]]) == "string"
        number = f"TRY_CAST({src} AS DOUBLE)"
        if col.type == "boolean":
            expr = (f"CASE WHEN lower(CAST({src} AS VARCHAR)) IN ('true','t','1','yes','y') THEN TRUE "
                    f"WHEN lower(CAST({src} AS VARCHAR)) IN ('false','f','0','no','n') THEN FALSE END")
        elif col.type == "timestamp" and is_text:
            # a time with an offset converts to UTC (TIMESTAMPTZ, the session being in UTC); a naive
            # time is taken as UTC, cast as before (TIMESTAMPTZ's parser would cost twice the time)
            has_offset = f"regexp_matches({src}, {_sql_str(OFFSET_PATTERN)})"
            expr = (f"CASE WHEN {has_offset} THEN CAST(TRY_CAST({src} AS TIMESTAMPTZ) AS TIMESTAMP) "
                    f"ELSE TRY_CAST({src} AS TIMESTAMP) END")
            zone_checks.append((col.name, f"CASE WHEN {src} IS NULL THEN NULL WHEN {has_offset} THEN 1 ELSE 0 END"))
        elif col.type == "number":
            expr = f"CASE WHEN isfinite({number}) THEN {number} END"
        elif col.type == "integer":
            expr = f"CASE WHEN isfinite({number}) AND {number} = trunc({number}) THEN TRY_CAST({src} AS BIGINT) END"
        else:
            expr = f"TRY_CAST({src} AS {sql_type})"
        parse_checks.append((col.name, f"{src} IS NOT NULL AND ({expr}) IS NULL", as_contract[col.name]))
        if (table, col.name) == ("usage_events", "quantity"):
            expr = f"coalesce({expr}, 1.0)"
        select.append(f"{expr} AS {_quote(col.name)}")
    extras = [c for c in raw_cols if rename.get(c, c) not in spec.column_names]
    select += [_quote(c) for c in extras]
    return ", ".join(select), parse_checks, zone_checks, problems


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
# PostgreSQL 15 has no try-cast: a session function per type returns NULL where the cast fails. Text
# times go through timestamptz (an offset converts to UTC; the session, in UTC, reads a naive time
# as UTC); NaN and infinities are not numbers; an integer is a whole number.
_PG_TRY_BODY = {
    "timestamp": "RETURN value::timestamptz AT TIME ZONE 'UTC';",
    "number": "r := value::float8; IF r IN ('NaN'::float8, 'Infinity'::float8, '-Infinity'::float8) THEN "
              "RETURN NULL; END IF; RETURN r;",
    "integer": "n := value::numeric; IF n <> trunc(n) THEN RETURN NULL; END IF; RETURN n::bigint;",
}
_PG_TRY_CAST = """CREATE OR REPLACE FUNCTION pg_temp.csr_try_{name}(value TEXT) RETURNS {type}
LANGUAGE plpgsql IMMUTABLE AS $$ DECLARE r float8; n numeric;
BEGIN {body} EXCEPTION WHEN others THEN RETURN NULL; END $$"""


def _family(type_name: str) -> str:
    base = type_name.lower().split("(")[0].strip()
    for family, names in _FAMILIES.items():
        if base in names:
            return family
    return "other"


def _nonfinite(engine_name: str, value: str) -> str:
    """SQL TRUE where the double ``value`` is NaN or infinite (NULL stays NULL), in the engine's SQL."""
    if engine_name == "postgres":  # PostgreSQL's NaN equals NaN
        return f"({value} IN ('NaN'::float8, 'Infinity'::float8, '-Infinity'::float8))"
    return f"(isnan({value}) OR abs({value}) = CAST('Infinity' AS DOUBLE))"


def _remote_typed_select(engine, table: str, their: str, columns_map: Mapping[str, str]):
    """Like :func:`_typed_select`, in the engine's own SQL: a plain CAST where the source column's
    type converts without failing, a try-cast with a parse check where it can fail (text dates...).
    Text times, NaN and non-integers are treated as :func:`_typed_select` treats them."""
    spec = TABLES[table]
    raw = engine.table_columns(their if engine.name == "postgres" else f"raw_{table}")
    raw_cols = [c for c, _ in raw]
    types = dict(raw)
    as_contract, problems = _contract_names(table, raw_cols, columns_map)
    native = _NATIVE_TYPES[engine.name]
    select, parse_checks, zone_checks = [], [], []
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
        family = _family(types[as_contract[col.name]])
        if family in _COMPATIBLE[col.type] and col.type in ("number", "integer"):
            value = f"CAST({src} AS {native['number']})"
            nonfinite = _nonfinite(engine.name, value)
            whole = "" if col.type == "number" else f" AND {value} = floor({value})"
            expr = f"CASE WHEN NOT {nonfinite}{whole} THEN CAST({src} AS {target}) END"
            bad = f"{src} IS NOT NULL AND ({expr}) IS NULL"
        elif family in _COMPATIBLE[col.type]:
            expr, bad = f"CAST({src} AS {target})", None
        elif col.type == "boolean":
            expr = (f"CASE WHEN lower({text}) IN ('true','t','1','yes','y') THEN TRUE "
                    f"WHEN lower({text}) IN ('false','f','0','no','n') THEN FALSE END")
            bad = f"{src} IS NOT NULL AND ({expr}) IS NULL"
        elif engine.name == "spark":
            number = f"TRY_CAST({src} AS DOUBLE)"
            if col.type == "timestamp":  # the session is in UTC: an offset converts, a naive time is UTC
                expr = f"CAST(TRY_CAST({src} AS TIMESTAMP) AS {target})"
            elif col.type == "number":
                expr = f"CASE WHEN NOT {_nonfinite('spark', number)} THEN {number} END"
            elif col.type == "integer":
                expr = f"CASE WHEN NOT {_nonfinite('spark', number)} AND {number} = floor({number}) " \
                       f"THEN CAST({number} AS {target}) END"
            else:
                expr = f"TRY_CAST({src} AS {target})"
            bad = f"{src} IS NOT NULL AND ({expr}) IS NULL"
        else:
            try_casts.add(col.type)
            expr = f"pg_temp.csr_try_{col.type}({text})"
            bad = f"{src} IS NOT NULL AND {expr} IS NULL"
        if col.type == "timestamp" and family == "string":
            matches = f"{text} ~ {_sql_str(OFFSET_PATTERN)}" if engine.name == "postgres" else \
                f"{text} RLIKE {_sql_str(OFFSET_PATTERN)}"
            zone_checks.append((col.name, f"CASE WHEN {src} IS NULL THEN NULL WHEN {matches} THEN 1 ELSE 0 END"))
        if (table, col.name) == ("usage_events", "quantity"):
            expr = f"coalesce({expr}, 1.0)"
        select.append(f"{expr} AS {engine.quote(col.name)}")
        if bad:
            parse_checks.append((col.name, bad, as_contract[col.name]))
    for kind in sorted(try_casts):
        body = _PG_TRY_BODY.get(kind, f"RETURN value::{native[kind]};")
        engine.run_native(_PG_TRY_CAST.format(name=kind, type=native[kind], body=body))
    extras = [c for c in raw_cols if columns_map.get(c, c) not in spec.column_names]
    select += [engine.quote(c) for c in extras]
    raw_text = "".join(f", ({pred}) AS _parse{i}, CAST({engine.quote(raw_col)} AS {native['string']}) AS _raw{i}"
                       for i, (_, pred, raw_col) in enumerate(parse_checks))
    raw_text += "".join(f", ({flag}) AS _tz{i}" for i, (_, flag) in enumerate(zone_checks))
    return ", ".join(select) + raw_text, parse_checks, zone_checks, problems


def _rule_checks(table: str, parse_checks: list, available) -> list[tuple[str, str, str, str]]:
    """Every rule of ``table`` as (column, rule text, predicate over the typed relation, handling).
    A rule that reads another table runs only when that table is ``available`` (loaded and typed)."""
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
        if rule.table == table and all(n in available for n in rule.needs):
            checks.append((rule.column, rule.name, rule.bad_rows, rule.handling))
    return checks


def _keyed(table: str, typed: str) -> str:
    """The typed relation with ``_keycount``: how many rows share the row's unique key."""
    spec = TABLES[table]
    keycount = f"count(*) OVER (PARTITION BY {', '.join(_quote(k) for k in spec.key)})" if spec.key else "1"
    return f"(SELECT *, {keycount} AS _keycount FROM {typed}) AS _t"


def _shown_columns(table: str, column: str) -> list[str]:
    """The columns an example row shows: the key (or the first two columns), then ``column``."""
    spec = TABLES[table]
    shown = [c for c in ([*spec.key] or spec.column_names[:2]) if c != column] + [column.split(", ")[0]]
    return list(dict.fromkeys(c for c in shown if c in spec.column_names))


def _check_rows(run, table: str, typed: str, parse_checks: list, zone_checks: list, available,
                reject_invalid_rows: bool):
    """Count every rule's bad rows in one scan of ``typed`` (run by ``run``: DuckDB-dialect SQL ->
    rows, wherever the table lives). Returns (rows_read, violations, rejections, keep predicate,
    rows used, reasons).

    ``zone_checks`` (text timestamp columns) count the parsed values with and without a UTC offset
    in the same scan: a column with both breaks the rule ``MIXED_OFFSETS``, whatever
    ``reject_invalid_rows`` says (which of the two kinds is wrong is not for us to guess)."""
    checks = _rule_checks(table, parse_checks, available)
    relation = _keyed(table, typed)
    flags = [f"coalesce({pred}, FALSE)" for _, _, pred, _ in checks]
    rejectable = " OR ".join(f for f, (*_, handling) in zip(flags, checks) if handling == "reject") or "FALSE"
    parse_of = {column: i for i, (column, _, _) in enumerate(parse_checks)}
    zone_flags = [(f"_tz{i}", f"_parse{parse_of[column]}") for i, (column, _) in enumerate(zone_checks)]
    sums = "".join(f", sum(CASE WHEN {f} THEN 1 ELSE 0 END)" for f in flags)
    sums += "".join(f", sum(CASE WHEN {tz} = {kind} AND NOT {parsed} THEN 1 ELSE 0 END)"
                    for tz, parsed in zone_flags for kind in (1, 0))
    row = run(f"SELECT count(*){sums}, sum(CASE WHEN {rejectable} THEN 1 ELSE 0 END) FROM {relation}")[0]
    rows_read, rejected_rows = int(row[0]), int(row[-1] or 0)
    counts = [int(c or 0) for c in row[1:1 + len(flags)]]
    zone_counts = [int(c or 0) for c in row[1 + len(flags):-1]]

    violations, rejections, bad_flags, reasons = [], [], [], []
    for (column, rule_text, pred, handling), flag, n in zip(checks, flags, counts):
        if not n:
            continue
        shown = _shown_columns(table, column)
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

    for (column, _), (tz, parsed), (with_offset, without) in zip(
            zone_checks, zone_flags, zip(zone_counts[0::2], zone_counts[1::2])):
        if not (with_offset and without):
            continue
        # the rows of the less common kind are the ones counted; examples show both kinds
        minority = 0 if without <= with_offset else 1
        shown = _shown_columns(table, column)
        zone_sql = ", ".join(_quote(c) for c in shown[:-1] + [parsed.replace("_parse", "_raw")])
        examples = []
        for kind, limit in ((minority, EXAMPLES_SHOWN - 1), (1 - minority, 1)):
            for r in run(f"SELECT {zone_sql} FROM {relation} WHERE {tz} = {kind} AND NOT {parsed} LIMIT {limit}"):
                example = dict(zip(shown, r))
                example[column] = repr(example[column])
                examples.append({**example, "offset": "yes" if kind else "no"})
        violations.append(Violation(table, column, MIXED_OFFSETS, min(with_offset, without), examples))
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
