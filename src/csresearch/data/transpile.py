"""Transpiling: one DuckDB-dialect query text for PostgreSQL and Spark SQL (sqlglot).

Placeholders are inlined as literals (engines disagree on parameter styles), ``GROUP BY ALL`` is
spelled out, DuckDB functions sqlglot leaves in a form another engine rejects or answers differently
are respelled with DuckDB's answer (:func:`_duckdb_functions`), and for Spark a key ``NOT IN`` becomes
``NOT EXISTS``. See docs/engines.md ("Write SQL that transpiles").
"""

from __future__ import annotations

import datetime as dt
from typing import Any, Mapping

import numpy as np
import pandas as pd

from ..errors import EngineError

try:  # only PostgreSQL and Spark need it: DuckDB runs the SQL as written
    import sqlglot
    from sqlglot import exp
except ImportError:  # pragma: no cover - sqlglot is a dependency; this keeps DuckDB-only installs working
    sqlglot = exp = None  # type: ignore[assignment]

ENGINES = ("duckdb", "postgres", "spark")
_DIALECT = {"duckdb": "duckdb", "postgres": "postgres", "spark": "spark"}

def _need_sqlglot() -> None:
    if sqlglot is None:
        raise EngineError("PostgreSQL and Spark need sqlglot to translate the SQL: pip install sqlglot")


def _literal(value: Any) -> exp.Expr:
    if isinstance(value, np.generic):
        value = value.item()
    if value is None or (isinstance(value, float) and np.isnan(value)) or value is pd.NaT:
        return exp.Null()
    if isinstance(value, pd.Timestamp):
        value = value.to_pydatetime()
    if isinstance(value, dt.datetime):
        return exp.cast(exp.Literal.string(value.isoformat(sep=" ")), "TIMESTAMP")
    if isinstance(value, dt.date):
        return exp.cast(exp.Literal.string(value.isoformat()), "DATE")
    return exp.convert(value)


def _inline_parameters(tree: exp.Expr, params: list | tuple | Mapping | None) -> exp.Expr:
    """Replace ``?``, ``$1`` and ``$name`` placeholders by literals (engines differ in param styles)."""
    if params is None:
        return tree
    positional = iter(params) if not isinstance(params, Mapping) else iter(())

    def replace(node):
        if not isinstance(node, exp.Placeholder):
            return node
        name = node.name
        if name in ("", "?"):
            return _literal(next(positional))
        if isinstance(params, Mapping):
            return _literal(params[name])
        if name.isdigit():
            return _literal(params[int(name) - 1])
        raise EngineError(f"named parameter ${name} given positional parameters")

    return tree.transform(replace)


def _expand_group_by_all(tree: exp.Expr) -> exp.Expr:
    """``GROUP BY ALL`` (DuckDB) -> ``GROUP BY 1, 2, ...``: the select items without aggregates."""
    for select in tree.find_all(exp.Select):
        group = select.args.get("group")
        if not group or not (group.args.get("all") or any(
                isinstance(e, exp.Column) and e.name.upper() == "ALL" and not e.table for e in group.expressions)):
            continue
        positions = [
            exp.Literal.number(i + 1) for i, item in enumerate(select.expressions)
            if not any(isinstance(n, exp.AggFunc) for n in item.find_all(exp.AggFunc))
            and not item.find(exp.Window)
        ]
        select.set("group", exp.Group(expressions=positions) if positions else None)
    return tree


def _from(select: exp.Select):
    """A SELECT's FROM clause (sqlglot names the argument ``from_`` or, in older versions, ``from``)."""
    return select.args.get("from_") or select.args.get("from")


def _not_in_as_not_exists(tree: exp.Expr) -> exp.Expr:
    """``x NOT IN (SELECT k FROM t)`` -> ``x IS NOT NULL AND NOT EXISTS (SELECT 1 FROM t WHERE t.k = x)``.

    Same answer for a non-null ``k`` (a key), but Spark plans it as a hash anti-join: a NOT IN
    inside an expression becomes a nested-loop join there (10x slower on 270k x 600 rows). Only
    where ``x`` is a column qualified by, or qualifiable with, the single aliased source of its query.
    """
    def rewrite(node):
        if not (isinstance(node, exp.Not) and isinstance(node.this, exp.In)):
            return node
        inner = node.this
        query = inner.args.get("query")
        subquery = query.this if isinstance(query, exp.Subquery) else query
        column = inner.this
        if not (isinstance(subquery, exp.Select) and isinstance(column, exp.Column)
                and len(subquery.expressions) == 1 and isinstance(subquery.expressions[0], exp.Column)
                and isinstance(_from(subquery), exp.From) and not subquery.args.get("where")
                and not subquery.args.get("joins")):
            return node
        if not column.table:
            outer = node.find_ancestor(exp.Select)
            source = _from(outer) if outer is not None else None
            alias = source.this.alias if source is not None else ""
            if not alias or outer.args.get("joins"):
                return node
            column = exp.column(column.name, table=alias)
        table = _from(subquery).this
        key = subquery.expressions[0].name
        probe = exp.select("1").from_(exp.alias_(table.copy(), "_key_side", table=True)).where(
            exp.EQ(this=exp.column(key, table="_key_side"), expression=column.copy()))
        return exp.paren(exp.and_(exp.Not(this=exp.Is(this=column.copy(), expression=exp.Null())),
                                  exp.Not(this=exp.Exists(this=probe))))

    return tree.transform(rewrite)


def _is_list(node) -> bool:
    """A list literal (a list parameter once inlined), possibly cast."""
    while isinstance(node, (exp.Cast, exp.Paren)):
        node = node.this
    return isinstance(node, exp.Array)


def _day_interval(days: exp.Expr) -> exp.Expr:
    return exp.paren(exp.Mul(this=exp.paren(days.copy(), copy=False),
                             expression=exp.Interval(this=exp.Literal.string("1"), unit=exp.var("DAY"))), copy=False)


def _epoch_seconds_spark(node: exp.Expr) -> exp.Expr:
    """Whole seconds since 1970 of a timestamp (or timestamp without time zone) in Spark SQL."""
    return exp.Anonymous(this="UNIX_SECONDS", expressions=[
        exp.cast(node.copy(), exp.DataType.build("TIMESTAMPLTZ"))])


_SECONDS = {"SECOND": 1, "MINUTE": 60, "HOUR": 3600}


def _duckdb_functions(tree: exp.Expr, engine: str) -> exp.Expr:
    """DuckDB functions sqlglot leaves in a form the engine rejects or answers differently, spelled
    the engine's way with DuckDB's answer:

    - ``unnest(generate_series(a, b, step))`` (DuckDB's series is a list): PostgreSQL's
      ``generate_series`` is itself the set of rows; Spark's ``explode(sequence(...))`` is kept, and a
      cast around it (``unnest(...)::DATE``) moves inside (Spark refuses a generator in an expression);
    - ``len(list)``: ``cardinality`` / ``size`` (``length`` is the string function there);
    - an empty list (an empty list parameter): a typed empty text array (PostgreSQL cannot type
      ``ARRAY[]``);
    - ``to_days(n)``: ``n * INTERVAL '1' DAY``;
    - ``date_diff(unit, a, b)`` in Spark counts the unit boundaries crossed, as DuckDB does (Spark's
      ``datediff(unit, ...)`` counts whole units elapsed: 23:00 to 01:00 is 0 days there, 1 in DuckDB).
    """
    def typed_empty_list(node):
        if isinstance(node, exp.Array) and not node.expressions and not isinstance(node.parent, exp.Cast):
            return exp.cast(node, exp.DataType.build("ARRAY<TEXT>", dialect="duckdb"))
        return node

    def rewrite(node):
        if isinstance(node, exp.Length) and _is_list(node.this):
            if engine == "postgres":
                return exp.Anonymous(this="CARDINALITY", expressions=[node.this])
            return exp.ArraySize(this=node.this)
        if isinstance(node, getattr(exp, "ToDays", ())):  # older sqlglot: an anonymous function
            return _day_interval(node.this)
        if isinstance(node, exp.Anonymous) and node.name.lower() == "to_days" and len(node.expressions) == 1:
            return _day_interval(node.expressions[0])
        if engine == "postgres" and isinstance(node, exp.Explode) and isinstance(node.this, exp.GenerateSeries):
            return node.this
        if engine == "spark" and isinstance(node, exp.Cast) and type(node.this) is exp.Explode:
            var = exp.to_identifier("_v")
            element = exp.cast(exp.column(var), node.to.copy())
            return exp.Explode(this=exp.Transform(this=node.this.this, expression=exp.Lambda(
                this=element, expressions=[var.copy()])))
        if engine == "spark" and isinstance(node, exp.DateDiff):
            unit = (node.text("unit") or "DAY").upper()
            later, earlier = node.this, node.expression
            if unit == "DAY":
                return exp.Anonymous(this="DATEDIFF", expressions=[
                    exp.cast(later.copy(), "DATE"), exp.cast(earlier.copy(), "DATE")])
            if unit in _SECONDS:
                size = exp.Literal.number(_SECONDS[unit])

                def whole(x):
                    return exp.Floor(this=exp.Div(this=_epoch_seconds_spark(x), expression=size.copy()))

                if unit == "SECOND":
                    return exp.paren(exp.Sub(this=_epoch_seconds_spark(later), expression=_epoch_seconds_spark(earlier)))
                return exp.cast(exp.Sub(this=whole(later), expression=whole(earlier)), "BIGINT")
        return node

    return tree.transform(typed_empty_list).transform(rewrite)


def transpile(sql: str, engine: str, params: list | tuple | Mapping | None = None) -> str:
    """A DuckDB-dialect query in ``engine``'s dialect, with parameters inlined as literals."""
    if engine not in _DIALECT:
        raise EngineError(f"unknown engine {engine!r}: use one of {', '.join(ENGINES)}")
    _need_sqlglot()
    trees = [t for t in sqlglot.parse(sql, read="duckdb") if t is not None]
    if len(trees) != 1:
        raise EngineError(f"expected one SQL statement, got {len(trees)}")
    tree = _inline_parameters(trees[0], params)
    if engine != "duckdb":
        tree = _expand_group_by_all(tree)
        tree = _duckdb_functions(tree, engine)
    if engine == "spark":
        tree = _not_in_as_not_exists(tree)
    return tree.sql(dialect=_DIALECT[engine])


def referenced_tables(sql: str) -> set[str]:
    """Lower-cased names of the tables and views a query reads (its own CTE names excluded)."""
    _need_sqlglot()
    tree = sqlglot.parse_one(sql, read="duckdb")
    ctes = {c.alias_or_name.lower() for c in tree.find_all(exp.CTE)}
    return {t.name.lower() for t in tree.find_all(exp.Table) if t.name and t.name.lower() not in ctes}
