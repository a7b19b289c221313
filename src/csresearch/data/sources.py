"""Where do the contract tables come from, and under which names? Attaching a source (a folder of
CSV or Parquet, a .duckdb file, a postgresql:// URL) as one ``raw_<table>`` view per contract table,
or the big table kept in PostgreSQL or Spark; the engine a source is opened with; the column mapping
from a source's own names to the contract's; and the credential checks: a data source never carries
a password (``refuse_credentials``), and what is printed of it is redacted (``redact``)."""

from __future__ import annotations

import glob
import os
from pathlib import Path
from typing import Any, Mapping
from urllib.parse import urlsplit

import duckdb
import pandas as pd
import yaml

from ..errors import ContractError, SourceError
from .contract import TABLES
from .files import _inspect_csv, _inspect_parquet, _read_error
from .violation import Violation, _quote, _sql_str

# Engines a Dataset can keep its big table in; "auto": postgres for a postgresql:// URL, else duckdb.
ENGINE_CHOICES = ("auto", "duckdb", "postgres", "spark")
ENGINE_ENV = "CSRESEARCH_ENGINE"


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
