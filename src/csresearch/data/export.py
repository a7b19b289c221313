"""Write contract tables into a database: used to load a synthetic world into PostgreSQL for the
engine tests and for trying the workbook against a warehouse-like source."""

from __future__ import annotations

import io
from typing import Mapping
from urllib.parse import urlsplit

import pandas as pd

from .contract import SQL_TYPES, TABLES
from .load import SourceError

_PG_TYPES = {"VARCHAR": "TEXT", "DOUBLE": "DOUBLE PRECISION", "BIGINT": "BIGINT", "DATE": "DATE",
             "TIMESTAMP": "TIMESTAMP", "BOOLEAN": "BOOLEAN"}


def write_postgres(tables: Mapping[str, pd.DataFrame], url: str, schema: str = "public") -> None:
    """Replace each table in PostgreSQL (credentials from the environment, as for loading) via COPY."""
    if urlsplit(url).password:
        raise SourceError("the URL contains a password: use PGPASSWORD or ~/.pgpass")
    import psycopg

    with psycopg.connect(url.replace("postgresql+psycopg://", "postgresql://")) as conn:
        for name, frame in tables.items():
            spec = TABLES.get(name)
            types = {c.name: _PG_TYPES[SQL_TYPES[c.type]] for c in spec.columns} if spec else {}
            columns = ", ".join(f'"{c}" {types.get(c, _pg_type(frame[c]))}' for c in frame.columns)
            conn.execute(f'DROP TABLE IF EXISTS {schema}."{name}"')
            conn.execute(f'CREATE TABLE {schema}."{name}" ({columns})')
            buffer = io.StringIO()
            frame.to_csv(buffer, index=False, header=False, date_format="%Y-%m-%d %H:%M:%S")
            buffer.seek(0)
            cols = ", ".join(f'"{c}"' for c in frame.columns)
            with conn.cursor().copy(f'COPY {schema}."{name}" ({cols}) FROM STDIN WITH (FORMAT csv)') as copy:
                while chunk := buffer.read(1 << 20):
                    copy.write(chunk)
        conn.commit()


def _pg_type(series: pd.Series) -> str:
    if pd.api.types.is_bool_dtype(series):
        return "BOOLEAN"
    if pd.api.types.is_integer_dtype(series):
        return "BIGINT"
    if pd.api.types.is_float_dtype(series):
        return "DOUBLE PRECISION"
    if pd.api.types.is_datetime64_any_dtype(series):
        return "TIMESTAMP"
    return "TEXT"
