"""A warehouse leverboard only reads, beside a small DuckDB file that holds what leverboard writes.

Spark and Databricks keep the company's rows (their own pipelines fill the canonical tables) but
cannot undo a half-done write, and every query there is a job of a second or more. So the app's
own tables (users, initiatives, targets, reviews, kept insights), the rollups and a copy of the
warehouse's small tables (teams, reps, assignments, accounts, quotas, stages: :data:`MIRRORED`)
live in a DuckDB file beside it. ``python -m kpi refresh`` sums the rollups *in the warehouse*
(one aggregate query per rollup) and keeps the sums, and the copies, in that file.

:class:`SplitStore` is one :class:`~kpi.store.Store` over both: a query that reads only tables the
file holds runs there (a page's rollups, people and kept insights, in milliseconds); any other
query (a median over the deals, a request outside the rollups) runs in the warehouse. Every write
goes to the file, and a write to one of the warehouse's tables (an import) is refused before
anything is written.
"""

from __future__ import annotations

import time
from collections.abc import Iterator, Mapping
from contextlib import AbstractContextManager, contextmanager
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

import sqlglot
from sqlglot import exp

from kpi import schema
from kpi.errors import DatabaseError
from kpi.store import DuckDBStore, Store, column_types

if TYPE_CHECKING:
    import pandas as pd

# the warehouse's tables small enough to keep a copy of beside it (a rollup is read with them)
MIRRORED = ("teams", "reps", "rep_assignments", "accounts", "quotas", "stages")
# the warehouse's own rows, never read from the file even where a table of that name is there
FACTS = frozenset(schema.IMPORTED) - frozenset(MIRRORED)
# what the file may hold: the app's tables (the stages are the warehouse's), the copies, rollups
OWN_TABLES = tuple(t for t in schema.APP_TABLES if t not in MIRRORED)
WAREHOUSE_TABLES_TTL = 60.0  # seconds the warehouse's list of tables is kept
OWN_TABLES_TTL = 5.0  # seconds the file's list is kept (another process may add a table)


@lru_cache(maxsize=4096)
def tables_read(sql: str) -> frozenset[str]:
    """The tables a statement reads (its WITH names aside), lower-cased."""
    try:
        tree = sqlglot.parse_one(sql, read="duckdb")
    except sqlglot.errors.SqlglotError:
        return frozenset({"?"})  # unreadable here: the warehouse says what is wrong
    named = {cte.alias_or_name.lower() for cte in tree.find_all(exp.CTE)}
    return frozenset(t.name.lower() for t in tree.find_all(exp.Table) if t.name) - named


class SplitStore:
    """The warehouse for its rows, the DuckDB file ``app`` for everything leverboard writes."""

    def __init__(self, warehouse: Store, app: DuckDBStore) -> None:
        self.warehouse = warehouse
        self.app = app
        self.path = f"{warehouse.path} (with {app.path})"
        self.read_only = app.read_only
        self.dialect = app.dialect
        self._own: tuple[float, frozenset[str]] | None = None
        self._theirs: tuple[float, set[str]] | None = None

    # --- where a statement runs ------------------------------------------------------------

    def own_tables(self) -> frozenset[str]:
        """The tables read from the file: all it holds but a warehouse's rows (listed again
        after this store writes, and every few seconds for what another process wrote)."""
        now = time.monotonic()
        if self._own is None or now - self._own[0] > OWN_TABLES_TTL:
            self._own = (now, frozenset(t.lower() for t in self.app.tables()) - FACTS)
        return self._own[1]

    def runs_in(self, sql: str) -> Store:
        """The file when every table ``sql`` reads is there, the warehouse otherwise."""
        return self.app if tables_read(sql) <= self.own_tables() else self.warehouse

    def runs_whole(self, sql: str) -> bool:
        """Whether one database holds every table ``sql`` reads (a rollup read with a
        warehouse's rows does not run anywhere)."""
        read = tables_read(sql)
        return read <= self.own_tables() or read <= self._warehouse_tables()

    def _wrote(self) -> None:
        self._own = None

    # --- reading ---------------------------------------------------------------------------

    def query(self, sql: str, params: Mapping[str, Any] | None = None) -> pd.DataFrame:
        return self.runs_in(sql).query(sql, params)

    def rows(self, sql: str, params: Mapping[str, Any] | None = None
             ) -> tuple[list[str], list[tuple[Any, ...]]]:
        return self.runs_in(sql).rows(sql, params)

    def scalar(self, sql: str, params: Mapping[str, Any] | None = None) -> Any:
        return self.runs_in(sql).scalar(sql, params)

    def tables(self) -> set[str]:
        return self._warehouse_tables() | set(self.own_tables())

    def _warehouse_tables(self) -> set[str]:
        now = time.monotonic()
        if self._theirs is None or now - self._theirs[0] > WAREHOUSE_TABLES_TTL:
            self._theirs = (now, {t.lower() for t in self.warehouse.tables()})
        return set(self._theirs[1])

    # --- writing: the file only -------------------------------------------------------------

    def execute(self, sql: str, params: Mapping[str, Any] | None = None) -> None:
        try:
            self.app.execute(sql, params)
        finally:
            self._wrote()

    def insert_frame(self, table: str, frame: pd.DataFrame) -> int:
        self._refuse(table)
        return self.app.insert_frame(table, frame)  # rows only: the file's tables stay the same

    def replace_rows(self, table: str, frame: pd.DataFrame) -> int:
        self._refuse(table)
        return self.app.replace_rows(table, frame)

    def _refuse(self, table: str) -> None:
        if table in schema.IMPORTED or table in MIRRORED:
            raise DatabaseError(
                f"{table} is kept in the warehouse {self.warehouse.path}: leverboard reads it "
                "and writes nothing there; nothing was written",
                "load it with your own pipelines, then run `python -m kpi refresh` with the same "
                "--db and --app-db, or import into a DuckDB file or PostgreSQL instead")

    @contextmanager
    def transaction(self) -> Iterator[Store]:
        try:
            with self.app.transaction():
                yield self  # a SplitStore is a Store
        finally:
            self._wrote()

    def create_schema(self) -> None:
        """The app's own tables in the file (never the warehouse's)."""
        with self.transaction():
            for table in OWN_TABLES:
                self.app.execute(schema.ddl_for(table))

    def headroom(self, extra_mb: int) -> AbstractContextManager[None]:
        return self.app.headroom(extra_mb)

    # --- what `python -m kpi refresh` keeps in the file ----------------------------------------

    def mirror(self) -> dict[str, int]:
        """Copy each of :data:`MIRRORED` the warehouse holds into the file, afresh (inside the
        caller's transaction); rows copied per table."""
        theirs = self.warehouse.tables()
        copied = {}
        for table in MIRRORED:
            self.app.execute(f"DROP TABLE IF EXISTS {table}")
            if table not in theirs:
                continue
            self.app.execute(schema.ddl_for(table))
            columns = ", ".join(schema.columns(table))
            copied[table] = self.app.insert_frame(
                table, self.warehouse.query(f"SELECT {columns} FROM {table}"))
        self._wrote()
        return copied

    def stage(self, sql: str, params: Mapping[str, Any] | None = None) -> str:
        """Run ``sql`` in the warehouse and keep its rows in the file's temporary table
        ``staged`` (with the column types DuckDB gives that query); the SELECT reading them."""
        typed = column_types(sql, params)
        frame = self.warehouse.query(sql, params)
        if len(frame.columns) != len(typed):
            raise DatabaseError(f"the warehouse returned {len(frame.columns)} columns where "
                                f"{len(typed)} were expected: {', '.join(frame.columns)}")
        frame.columns = [name for name, _ in typed]
        self.app.stage_frame("staged", frame, typed)
        self._wrote()
        return "SELECT * FROM staged"

    def close(self) -> None:
        try:
            self.warehouse.close()
        finally:
            self.app.close()

    def __enter__(self) -> Store:
        return self  # a SplitStore is a Store

    def __exit__(self, *exc: object) -> None:
        self.close()


def takes_imports(store: Store) -> bool:
    """Whether an import may write the canonical tables of ``store`` (a warehouse's are kept by
    its own pipelines)."""
    return not isinstance(store, SplitStore) and store.dialect.writes


def open_split(warehouse: Store, app_path: str, read_only: bool = True,
               shared: bool = False) -> SplitStore:
    """The warehouse beside the DuckDB file ``app_path``; written to (with ``read_only=False``),
    the file is created with the app's tables if it does not exist yet."""
    if not Path(app_path).is_file():
        if read_only:
            raise DatabaseError(
                f"the app's database {app_path} beside {warehouse.path} does not exist yet",
                f"create it and sum the rollups: python -m kpi refresh --db URL --app-db {app_path}")
        DuckDBStore.create_file(app_path)
    app = DuckDBStore.shared(app_path, read_only) if shared else DuckDBStore.open(app_path, read_only)
    split = SplitStore(warehouse, app)
    if not read_only:
        split.create_schema()
    return split
