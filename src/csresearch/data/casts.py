"""How does each source column become its contract type? The typed SELECT that casts a source's
columns (in DuckDB, or in the engine's own SQL for PostgreSQL and Spark) and the parse checks that
find the values which do not convert: text times with and without a UTC offset, NaN and infinities,
2.5 in an integer column, text that is no date; and two source columns claiming one contract column."""

from __future__ import annotations

from typing import Mapping

from .contract import SQL_TYPES, TABLES
from .violation import Violation, _quote, _sql_str

# A time that carries a UTC offset or a zone (Z, +05:30, +0530, +05, -03:00, " UTC", " Europe/Paris"):
# after a digit a plus sign or a letter (other than the T between date and time), or a minus sign
# after the minutes or seconds. A naive ISO-8601 time never matches. One regular expression that
# DuckDB (RE2), PostgreSQL and Spark (Java) read alike.
OFFSET_PATTERN = "[0-9] *([+A-SU-Za-z]|T[^0-9])|:[0-9]{1,2}([.,][0-9]+)? *-"
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
