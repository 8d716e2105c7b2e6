"""The backend for a connection, chosen by its database vendor."""

from __future__ import annotations

from django.db import connection
from django.db.backends.base.base import BaseDatabaseWrapper

from helpcenter.search.base import Backend
from helpcenter.search.postgres import PostgresBackend
from helpcenter.search.sqlite import SqliteBackend

_BACKENDS: dict[str, Backend] = {
    "postgresql": PostgresBackend(),
    "sqlite": SqliteBackend(),
}


def backend_for(using: BaseDatabaseWrapper | None = None) -> Backend:
    vendor = (using or connection).vendor
    try:
        return _BACKENDS[vendor]
    except KeyError:
        raise RuntimeError(f"search supports PostgreSQL and SQLite, not {vendor}") from None
