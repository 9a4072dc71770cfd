"""Named SQL: each query lives in `sql/<name>.sql` beside this module."""

from __future__ import annotations

from functools import cache
from importlib import resources

from psycopg import sql as pgsql


@cache
def sql(name: str) -> pgsql.SQL:
    """The query stored in `runloom/store/sql/{name}.sql`, read once per process."""
    text = resources.files("runloom.store").joinpath("sql", f"{name}.sql").read_text("utf-8")
    return pgsql.SQL(text.strip())
