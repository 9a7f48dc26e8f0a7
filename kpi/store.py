"""The only module that talks to the database.

Read-only by default: reading a metric can never change data. Writes go through
:meth:`Store.transaction`, which commits all or nothing. Every SQL value is a bound parameter
(``$name`` placeholders); the engine only splices catalog fragments and whitelisted identifiers.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

import duckdb

if TYPE_CHECKING:  # pandas is imported on first use: the CLI's csv/json path never needs it
    import pandas as pd

from kpi import schema
from kpi.errors import DatabaseError, DatabaseNotFound

MEMORY = ":memory:"


class Store:
    """A connection to one leverboard database (DuckDB file or in-memory)."""

    def __init__(self, con: duckdb.DuckDBPyConnection, path: str, read_only: bool) -> None:
        self._con = con
        self.path = path
        self.read_only = read_only

    @classmethod
    def open(cls, path: str | Path, read_only: bool = True) -> Store:
        """Open an existing database; never creates a file by reading."""
        path = str(path)
        if path != MEMORY and not Path(path).is_file():
            raise DatabaseNotFound(
                f"database not found: {path}",
                "build the demo with `python -m kpi demo --db data/demo.duckdb` or `make run`",
            )
        try:
            con = duckdb.connect(path, read_only=read_only and path != MEMORY)
        except duckdb.Error as exc:
            raise DatabaseError(f"cannot open {path}: {exc}", "is another process writing it?") from exc
        return cls(con, path, read_only)

    @classmethod
    def create(cls, path: str | Path = MEMORY) -> Store:
        """Create (or open for writing) a database and make sure every canonical table exists."""
        path = str(path)
        if path != MEMORY:
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        store = cls(duckdb.connect(path), path, read_only=False)
        with store.transaction():
            for statement in schema.ddl():
                store.execute(statement)
        return store

    def close(self) -> None:
        self._con.close()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def query(self, sql: str, params: Mapping[str, Any] | None = None) -> pd.DataFrame:
        """Run one SELECT and return its rows as a DataFrame."""
        try:
            return self._con.execute(sql, dict(params or {})).df()
        except duckdb.Error as exc:
            raise DatabaseError(f"query failed: {_first_line(exc)}") from exc

    def rows(self, sql: str, params: Mapping[str, Any] | None = None
             ) -> tuple[list[str], list[tuple]]:
        """Run one SELECT and return (column names, plain tuples), without pandas."""
        try:
            cursor = self._con.execute(sql, dict(params or {}))
            return [d[0] for d in cursor.description], cursor.fetchall()
        except duckdb.Error as exc:
            raise DatabaseError(f"query failed: {_first_line(exc)}") from exc

    def scalar(self, sql: str, params: Mapping[str, Any] | None = None) -> Any:
        """Run a query that returns one value."""
        try:
            row = self._con.execute(sql, dict(params or {})).fetchone()
        except duckdb.Error as exc:
            raise DatabaseError(f"query failed: {_first_line(exc)}") from exc
        return None if row is None else row[0]

    def execute(self, sql: str, params: Mapping[str, Any] | None = None) -> None:
        """Run one writing statement (only inside :meth:`transaction` on a writable store)."""
        self._require_writable()
        try:
            self._con.execute(sql, dict(params or {}))
        except duckdb.Error as exc:
            raise DatabaseError(f"write failed: {_first_line(exc)}") from exc

    def insert_frame(self, table: str, frame: pd.DataFrame) -> int:
        """Append a DataFrame to a canonical table by column name; returns the row count."""
        self._require_writable()
        if table not in schema.TABLES:
            raise DatabaseError(f"unknown table {table!r}", f"one of: {', '.join(schema.TABLES)}")
        columns = ", ".join(frame.columns)
        self._con.register("_incoming", frame)
        try:
            self._con.execute(
                f"INSERT INTO {table} ({columns}) SELECT {columns} FROM _incoming"
            )
        except duckdb.Error as exc:
            raise DatabaseError(f"cannot load {table}: {_first_line(exc)}") from exc
        finally:
            self._con.unregister("_incoming")
        return len(frame)

    @contextmanager
    def transaction(self) -> Iterator[Store]:
        """All or nothing: commit when the block ends, roll back on any exception."""
        self._require_writable()
        self._con.execute("BEGIN TRANSACTION")
        try:
            yield self
        except BaseException:
            self._con.execute("ROLLBACK")
            raise
        self._con.execute("COMMIT")

    def tables(self) -> set[str]:
        rows = self._con.execute("SELECT table_name FROM information_schema.tables").fetchall()
        return {r[0] for r in rows}

    def _require_writable(self) -> None:
        if self.read_only:
            raise DatabaseError(
                f"{self.path} is open read-only", "open it with read_only=False to change data"
            )


def _first_line(exc: BaseException) -> str:
    return str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
