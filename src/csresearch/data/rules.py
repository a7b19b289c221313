"""Which rows break the contract's rules? Every rule of a table (values that must parse, not null, a
unique key, the contract's row rules) counted in one scan wherever the table lives, with a few example
rows; which rows to reject; and the text time columns that mix times with and without a UTC offset."""

from __future__ import annotations

from .contract import ROW_RULES, TABLES
from .violation import EXAMPLES_SHOWN, Violation, _quote

MIXED_OFFSETS = "mixes times with and without a UTC offset"


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
