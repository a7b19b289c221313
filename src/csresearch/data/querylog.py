"""What ran in the engine: a log of the queries a routed connection sends to PostgreSQL or Spark.

Set ``$CSRESEARCH_QUERY_LOG`` to a folder and every query that reads the big table through
``Dataset.con`` (a :class:`csresearch.data.engines.RoutedConnection`) is kept there, one folder per
query: ``query.json`` (the DuckDB-dialect text as the workbook wrote it, the engine's text,
parameters, where in the workbook it came from, rows, seconds, the error if it failed) and each frame
the query read that the caller had registered (``<name>.parquet``). Contract tables are not copied:
they are the dataset's.

A logged query can be run again on any dataset: :func:`read` and :meth:`LoggedQuery.run`. The
engine tests replay every query the six notebooks sent to PostgreSQL on DuckDB, PostgreSQL and Spark.
The log holds account-level data (the registered frames): point it at a private folder.
"""

from __future__ import annotations

import datetime as dt
import decimal
import itertools
import json
import os
import traceback
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping

import numpy as np
import pandas as pd

QUERY_LOG_ENV = "CSRESEARCH_QUERY_LOG"
_COUNTER = itertools.count(1)
_RUN = uuid.uuid4().hex[:8]


def folder() -> Path | None:
    """The log folder ($CSRESEARCH_QUERY_LOG), or None when queries are not logged."""
    value = os.environ.get(QUERY_LOG_ENV)
    return Path(value) if value else None


def encode(value: Any) -> Any:
    """A parameter as JSON that :func:`decode` turns back into the same Python value."""
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and np.isnan(value):
        return {"$nan": True}
    if isinstance(value, (pd.Timestamp, dt.datetime)):
        return {"$timestamp": pd.Timestamp(value).isoformat()}
    if isinstance(value, dt.date):
        return {"$date": value.isoformat()}
    if isinstance(value, decimal.Decimal):
        return {"$decimal": str(value)}
    if isinstance(value, Mapping):
        return {"$map": {str(k): encode(v) for k, v in value.items()}}
    if isinstance(value, (list, tuple, np.ndarray, pd.Series)):
        return [encode(v) for v in value]
    return value


def decode(value: Any) -> Any:
    if isinstance(value, list):
        return [decode(v) for v in value]
    if isinstance(value, dict):
        if "$map" in value:
            return {k: decode(v) for k, v in value["$map"].items()}
        if "$timestamp" in value:
            return pd.Timestamp(value["$timestamp"])
        if "$date" in value:
            return dt.date.fromisoformat(value["$date"])
        if "$decimal" in value:
            return decimal.Decimal(value["$decimal"])
        if "$nan" in value:
            return float("nan")
    return value


_PACKAGE = Path(__file__).resolve().parents[1]  # .../csresearch
_PLUMBING = {"data/engines.py", "data/querylog.py"}


def callers(limit: int = 8) -> list[str]:
    """Where a query came from: the workbook's frames (``csresearch/...py:line function``), innermost
    first, leaving out the routing's own."""
    out = []
    for frame in reversed(traceback.extract_stack()[:-1]):
        try:
            relative = Path(frame.filename).resolve().relative_to(_PACKAGE).as_posix()
        except ValueError:  # not the package's code (a test, a notebook cell, a library)
            continue
        if relative in _PLUMBING:
            continue
        out.append(f"csresearch/{relative}:{frame.lineno} {frame.name}")
        if len(out) == limit:
            break
    return out


def write(where: Path, *, sql: str, params: Any, engine: str, engine_sql: str | None, frames: Mapping[str, Any],
          seconds: float, rows: int | None, error: str | None) -> Path:
    """Keep one query (and the registered frames it read) in a new folder under ``where``."""
    import pyarrow.parquet as pq

    target = where / f"{os.getpid()}-{_RUN}-{next(_COUNTER):05d}"
    target.mkdir(parents=True, exist_ok=True)
    for name, table in frames.items():
        pq.write_table(table, target / f"{name}.parquet")
    record = {"sql": sql, "params": encode(params) if params is not None else None, "engine": engine,
              "engine_sql": engine_sql, "frames": sorted(frames), "callers": callers(), "seconds": round(seconds, 4),
              "rows": rows, "error": error, "pid": os.getpid()}
    (target / "query.json").write_text(json.dumps(record, indent=1, default=str))
    return target


@dataclass
class LoggedQuery:
    """One logged query: run it again with :meth:`run` on any dataset's connection."""

    path: Path
    sql: str
    params: Any
    engine: str
    engine_sql: str | None
    callers: list[str]
    seconds: float
    rows: int | None
    error: str | None
    frames: dict[str, Any] = field(default_factory=dict)  # name -> pyarrow.Table

    @property
    def analysis(self) -> str | None:
        """The analysis (``csresearch.analyses.<name>``) that sent the query, if one did."""
        for place in self.callers:
            if place.startswith("csresearch/analyses/"):
                return place.split("/")[2]
        return None

    def key(self) -> str:
        """Same text, parameters and frames: the same query (a notebook may send one several times)."""
        import hashlib

        digest = hashlib.sha256(self.sql.encode())
        digest.update(json.dumps(encode(self.params), sort_keys=True, default=str).encode())
        for name in sorted(self.frames):
            digest.update(name.encode())
            digest.update(self.frames[name].to_pandas().to_csv(index=False).encode())
        return digest.hexdigest()

    def run(self, con) -> pd.DataFrame:
        """The query's answer on ``con`` (a DuckDB connection or a routed one), its frames registered
        under their names for the time of the query."""
        for name, table in self.frames.items():
            con.register(name, table)
        try:
            result = con.execute(self.sql, self.params) if self.params is not None else con.execute(self.sql)
            return result.df()
        finally:
            for name in self.frames:
                con.unregister(name)


def read(where: str | Path) -> list[LoggedQuery]:
    """Every query logged under ``where``, in the order each process sent them."""
    import pyarrow.parquet as pq

    out = []
    for record_path in sorted(Path(where).glob("*/query.json")):
        record = json.loads(record_path.read_text())
        frames = {name: pq.read_table(record_path.parent / f"{name}.parquet") for name in record["frames"]}
        out.append(LoggedQuery(path=record_path.parent, sql=record["sql"],
                               params=decode(record["params"]) if record["params"] is not None else None,
                               engine=record["engine"], engine_sql=record["engine_sql"], callers=record["callers"],
                               seconds=record["seconds"], rows=record["rows"], error=record["error"], frames=frames))
    return out
