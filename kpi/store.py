"""The only module that talks to the database.

:class:`Store` is the seam: what the rest of kpi/ may ask of a database, whatever it is. One
class per backend implements it: :class:`DuckDBStore` (a file or memory, the embedded default)
and :class:`SqlStore` (any database SQLAlchemy reaches). What differs between databases beyond
that is one row of :data:`DIALECTS` (as Superset's engine specs): the sqlglot dialect the
engine's SQL is translated to, and how rows are bulk-loaded.

Read-only by default: reading a metric can never change data. Writes go through
:meth:`Store.transaction`, which commits all or nothing. Every SQL value is a bound parameter
(``$name`` placeholders); the engine only splices catalog fragments and whitelisted identifiers.
"""

from __future__ import annotations

import datetime as dt
import re
import threading
import time
import uuid
import weakref
from collections.abc import Callable, Iterator, Mapping
from contextlib import AbstractContextManager, contextmanager, nullcontext, suppress
from dataclasses import dataclass
from decimal import Decimal
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

import duckdb
import sqlglot
from sqlglot import exp

if TYPE_CHECKING:  # pandas is imported on first use: the CLI's csv/json path never needs it
    import pandas as pd

from kpi import schema
from kpi.errors import DatabaseError, DatabaseNotFound

MEMORY = ":memory:"
_SHARED: dict[str, _SharedFile] = {}
_SHARED_LOCK = threading.Lock()
READ_WAIT = 120.0  # seconds a read waits for a write (an import) before it gives up
WRITE_WAIT = 30.0  # seconds a write waits for running reads
REOPEN_WAIT = 1.0  # seconds a read or a write retries a file another program holds


_MEMORY_NAMES: weakref.WeakKeyDictionary[Any, str] = weakref.WeakKeyDictionary()
_MEMORY_LOCK = threading.Lock()


def identity(store: Store) -> str:
    """A name for the database ``store`` reaches, for what a process keeps about it: its path
    (a URL with the password masked), or for an in-memory database a name no other store is
    ever given (an ``id()`` is given again once its store is gone)."""
    if store.path != MEMORY:
        return store.path
    with _MEMORY_LOCK:
        return _MEMORY_NAMES.setdefault(store, f"memory:{uuid.uuid4().hex}")


class _SharedFile:
    """One database file shared by every thread of a process (the app's sessions).

    It is held read-only, so other programs (the CLI, a notebook) can read it while the app runs.
    A write takes it over: it waits for running reads, reopens the file for writing, and reopens
    it read-only afterwards; reads wait meanwhile. Each thread reads through its own cursor.

    DuckDB lets one program write a file and nobody else open it meanwhile, so another program
    can take the file in the moment a write lets go of it. Nothing here then waits for good: the
    write fails with a clear error, the read-only connection is reopened by the next read (which
    fails with a clear error while the other program holds the file), and every wait is bounded.
    """

    def __init__(self, path: str) -> None:
        self.path = path
        self.cond = threading.Condition()
        self.readers = 0
        self.writing = False
        self.waiting_writers = 0  # reads let a waiting write in first, so writes are not starved
        self.generation = 0
        self.con: duckdb.DuckDBPyConnection | None = _connect(path, read_only=True)

    @contextmanager
    def reading(self) -> Iterator[duckdb.DuckDBPyConnection]:
        with self.cond:
            con = self._reader()
            self.readers += 1
        try:
            yield con
        finally:
            with self.cond:
                self.readers -= 1
                self.cond.notify_all()

    def _reader(self) -> duckdb.DuckDBPyConnection:
        """The read-only connection once no write runs or waits (with ``cond`` held); reopened
        when a write could not hand it back, retried for ``REOPEN_WAIT`` s, then a clear error."""
        deadline = time.monotonic() + REOPEN_WAIT
        while True:
            self._wait(lambda: not self.writing and not self.waiting_writers, READ_WAIT,
                       "a write has held the database for too long")
            if self.con is not None:
                return self.con
            try:
                self.con = _connect(self.path, read_only=True)
                self.generation += 1
                return self.con
            except DatabaseError as exc:
                if time.monotonic() >= deadline:
                    raise DatabaseError(
                        "the database file is in use by another program, which is writing it",
                        "the app reads it again by itself as soon as that program is done; "
                        "reload the page in a moment") from exc
            self.cond.wait(0.05)

    def _wait(self, ready: Callable[[], bool], seconds: float, why: str) -> None:
        if not self.cond.wait_for(ready, timeout=seconds):
            raise DatabaseError(f"the database is busy: {why}", "try again in a moment")

    @contextmanager
    def writing_connection(self) -> Iterator[duckdb.DuckDBPyConnection]:
        with self.cond:
            self.waiting_writers += 1
            try:
                self._wait(lambda: not self.writing and self.readers == 0, WRITE_WAIT,
                           "reads did not finish in time to write")
            finally:
                self.waiting_writers -= 1
                self.cond.notify_all()
            self.writing = True
        try:
            if self.con is not None:
                self.con.close()
                self.con = None
            con = _connect_for_writing(self.path)
            try:
                yield con
            finally:
                con.close()
        finally:
            with self.cond:
                self.generation += 1
                with suppress(DatabaseError):  # else the next read reopens it
                    self.con = _connect(self.path, read_only=True)
                self.writing = False
                self.cond.notify_all()


def _connect_for_writing(path: str) -> duckdb.DuckDBPyConnection:
    """A writable connection, retried briefly: another program may hold the file for a moment."""
    deadline = time.monotonic() + REOPEN_WAIT
    while True:
        try:
            return duckdb.connect(path)
        except duckdb.Error as exc:
            if time.monotonic() >= deadline:
                raise DatabaseError(
                    "nothing was saved: another program has the database file open "
                    "(a notebook, the command line or an import)",
                    "the app goes on reading; save again once that program has closed the "
                    "file") from exc
            time.sleep(0.05)


def _connect(path: str, read_only: bool) -> duckdb.DuckDBPyConnection:
    try:
        return duckdb.connect(path, read_only=read_only and path != MEMORY)
    except duckdb.Error as exc:
        raise DatabaseError(f"cannot open {path}: {_first_line(exc)}",
                            "another program has it open (the app, an import or a notebook); "
                            "close it and retry") from exc


class Store(Protocol):
    """A leverboard database, as the engine, the imports and the app use it.

    ``path`` names it in messages (a URL with its password masked); ``dialect`` is its row of
    :data:`DIALECTS`. SQL is written in DuckDB's dialect with ``$name`` parameters; a backend
    translates it. Writing methods work inside :meth:`transaction` on a store opened with
    ``read_only=False`` and raise :class:`~kpi.errors.DatabaseError` otherwise; every failure of
    the database is a ``DatabaseError`` with its first meaningful line.
    """

    path: str
    read_only: bool
    dialect: Dialect

    def query(self, sql: str, params: Mapping[str, Any] | None = None) -> pd.DataFrame:
        """One SELECT, its rows as a DataFrame."""
        ...

    def rows(self, sql: str, params: Mapping[str, Any] | None = None
             ) -> tuple[list[str], list[tuple[Any, ...]]]:
        """One SELECT, as (column names, plain tuples), without pandas."""
        ...

    def scalar(self, sql: str, params: Mapping[str, Any] | None = None) -> Any:
        """A query's one value (None when it returns no row)."""
        ...

    def execute(self, sql: str, params: Mapping[str, Any] | None = None) -> None:
        """One writing statement."""
        ...

    def insert_frame(self, table: str, frame: pd.DataFrame) -> int:
        """Append a DataFrame to a canonical table by column name; returns the row count."""
        ...

    def replace_rows(self, table: str, frame: pd.DataFrame) -> int:
        """Upsert by the table's primary key; returns the row count."""
        ...

    def transaction(self) -> AbstractContextManager[Store]:
        """All or nothing: commit when the block ends, roll back on any exception."""
        ...

    def tables(self) -> set[str]:
        """The names of the tables the database holds."""
        ...

    def create_schema(self) -> None:
        """Create every canonical table that does not exist yet, in one transaction."""
        ...

    def headroom(self, extra_mb: int) -> AbstractContextManager[None]:
        """Within the block, the database process may use at most ``extra_mb`` more memory than
        it holds when the block starts, spilling the rest to disk (the embedded DuckDB; a
        server manages its own memory)."""
        ...

    def close(self) -> None:
        ...

    def __enter__(self) -> Store:
        ...

    def __exit__(self, *exc: object) -> None:
        ...


Rewrite = Callable[[exp.Expression], exp.Expression]


@dataclass(frozen=True)
class Dialect:
    """What differs between databases: ``name``, the sqlglot dialect the engine's SQL (DuckDB's)
    is translated to; ``bulk``, how rows are loaded: "frame" (the database reads the DataFrame
    itself), "copy" (PostgreSQL's COPY) or "insert" (batched INSERT statements); ``rewrites``,
    what sqlglot does not translate by itself, applied to each node of a statement before it is
    written in the dialect; ``tables_sql``, how to list the tables when SQLAlchemy's inspector
    cannot (with the position of the name in its rows); ``writes``, whether leverboard may write
    there at all."""

    name: str
    bulk: str = "insert"
    rewrites: tuple[Rewrite, ...] = ()
    tables_sql: tuple[str, int] | None = None
    writes: bool = True  # False: a warehouse leverboard only reads (no transaction to undo a
    # half-done write), whose tables the customer's own pipelines keep


def _series_as_subquery(node: exp.Expression) -> exp.Expression:
    """``generate_series(a, b, step) AS cal(day)`` in FROM or JOIN -> ``(SELECT
    EXPLODE(SEQUENCE(a, b, step)) AS day) AS cal``: Spark has no table-valued generate_series, and
    sqlglot's own translation (``EXPLODE(...), _u(cal)``) names a routine that does not exist."""
    if not (isinstance(node, exp.Table) and isinstance(node.this, exp.GenerateSeries)):
        return node
    series, alias = node.this, node.args.get("alias")
    if alias is None or len(alias.columns) != 1:
        return node
    parts = ", ".join(series.args[k].sql("spark") for k in ("start", "end", "step"))
    select = f"SELECT EXPLODE(SEQUENCE({parts})) AS {alias.columns[0].sql('spark')}"
    return exp.Subquery(this=sqlglot.parse_one(select, read="spark"),
                        alias=exp.TableAlias(this=alias.this.copy()))


# SQLAlchemy's dialect name -> what differs in that database
SPARK = Dialect("spark", rewrites=(_series_as_subquery,), tables_sql=("SHOW TABLES", 1),
                writes=False)
DIALECTS = {
    "duckdb": Dialect("duckdb", bulk="frame"), "postgresql": Dialect("postgres", bulk="copy"),
    "mysql": Dialect("mysql"), "mariadb": Dialect("mysql"), "sqlite": Dialect("sqlite"),
    "trino": Dialect("trino"), "presto": Dialect("presto"), "snowflake": Dialect("snowflake"),
    "bigquery": Dialect("bigquery"), "hive": SPARK, "spark": SPARK,
    "databricks": Dialect("databricks", rewrites=SPARK.rewrites, writes=False),
    "mssql": Dialect("tsql"), "oracle": Dialect("oracle"), "redshift": Dialect("redshift"),
}


class _Base:
    """What both backends do alike: the name, read-only by default, the schema, closing."""

    def __init__(self, path: str, read_only: bool) -> None:
        self.path = path
        self.read_only = read_only
        self._local = threading.local()

    def create_schema(self) -> None:
        """Create every canonical table that does not exist yet, in one transaction."""
        with self.transaction():
            for statement in schema.ddl():
                self.execute(statement)

    def transaction(self) -> AbstractContextManager[Store]:
        raise NotImplementedError

    def execute(self, sql: str, params: Mapping[str, Any] | None = None) -> None:
        raise NotImplementedError

    def close(self) -> None:
        raise NotImplementedError

    def __enter__(self) -> Store:
        return self  # type: ignore[return-value]  # each backend is a Store

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _require_writable(self) -> None:
        if self.read_only:
            raise DatabaseError(
                f"{self.path} is open read-only", "open it with read_only=False to change data"
            )

    def headroom(self, extra_mb: int) -> AbstractContextManager[None]:
        return nullcontext()


class DuckDBStore(_Base):
    """A connection to one leverboard database in DuckDB (a file, or in memory)."""

    dialect = DIALECTS["duckdb"]

    def __init__(self, con: duckdb.DuckDBPyConnection | None, path: str, read_only: bool,
                 shared: _SharedFile | None = None) -> None:
        super().__init__(path, read_only)
        self._con = con
        self._shared = shared

    @classmethod
    def open(cls, path: str | Path, read_only: bool = True) -> DuckDBStore:
        """Open an existing database; never creates a file by reading."""
        path = str(path)
        if path != MEMORY and not Path(path).is_file():
            raise DatabaseNotFound(
                f"database not found: {path}",
                "build the demo with `python -m kpi demo --db data/demo.duckdb` or `make run`",
            )
        return cls(_connect(path, read_only), path, read_only)

    @classmethod
    def shared(cls, path: str | Path, read_only: bool = True) -> DuckDBStore:
        """A store on the process-wide, thread-safe connection to ``path`` (the app's way in).

        DuckDB refuses a read-only and a writable connection to the same file in one process and
        a connection must not serve two threads at once; see :class:`_SharedFile`. A store made
        with ``read_only=False`` writes inside :meth:`transaction` only.
        """
        if str(path) != MEMORY and not Path(path).is_file():
            cls.open(path)  # the same clear error as opening a missing file
        key = str(Path(path).resolve())
        with _SHARED_LOCK:
            if key not in _SHARED:
                _SHARED[key] = _SharedFile(str(path))
        return cls(None, str(path), read_only, shared=_SHARED[key])

    @classmethod
    def create_file(cls, path: str | Path) -> None:
        """An empty database file (no table), its folder made if need be."""
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        duckdb.connect(str(path)).close()

    @classmethod
    def create(cls, path: str | Path = MEMORY) -> DuckDBStore:
        """Create (or open for writing) a database and make sure every canonical table exists."""
        path = str(path)
        if path != MEMORY:
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        store = cls(duckdb.connect(path), path, read_only=False)
        store.create_schema()
        return store

    def close(self) -> None:
        if self._con is not None:
            self._con.close()

    @contextmanager
    def _using(self) -> Iterator[duckdb.DuckDBPyConnection]:
        """The connection for one statement on this thread."""
        if self._shared is None:
            assert self._con is not None
            yield self._con
            return
        writer = getattr(self._local, "writer", None)
        if writer is not None:  # inside this thread's own transaction
            yield writer
            return
        with self._shared.reading() as con:
            cursor, generation = getattr(self._local, "cursor", (None, -1))
            if cursor is None or generation != self._shared.generation:
                cursor = con.cursor()
                self._local.cursor = (cursor, self._shared.generation)
            yield cursor

    def query(self, sql: str, params: Mapping[str, Any] | None = None) -> pd.DataFrame:
        """Run one SELECT and return its rows as a DataFrame."""
        try:
            with self._using() as db:
                return db.execute(sql, dict(params or {})).df()
        except duckdb.Error as exc:
            raise DatabaseError(f"query failed: {_first_line(exc)}") from exc

    def rows(self, sql: str, params: Mapping[str, Any] | None = None
             ) -> tuple[list[str], list[tuple[Any, ...]]]:
        """Run one SELECT and return (column names, plain tuples), without pandas."""
        try:
            with self._using() as db:
                cursor = db.execute(sql, dict(params or {}))
                return [d[0] for d in cursor.description], cursor.fetchall()
        except duckdb.Error as exc:
            raise DatabaseError(f"query failed: {_first_line(exc)}") from exc

    def scalar(self, sql: str, params: Mapping[str, Any] | None = None) -> Any:
        """Run a query that returns one value."""
        try:
            with self._using() as db:
                row = db.execute(sql, dict(params or {})).fetchone()
        except duckdb.Error as exc:
            raise DatabaseError(f"query failed: {_first_line(exc)}") from exc
        return None if row is None else row[0]

    def execute(self, sql: str, params: Mapping[str, Any] | None = None) -> None:
        """Run one writing statement (only inside :meth:`transaction` on a writable store)."""
        self._require_writable()
        try:
            with self._using() as db:
                db.execute(sql, dict(params or {}))
        except duckdb.Error as exc:
            raise DatabaseError(f"write failed: {_first_line(exc)}") from exc

    @contextmanager
    def headroom(self, extra_mb: int) -> Iterator[None]:
        """DuckDB's memory limit set, within the block, to what it holds now plus ``extra_mb``
        (it spills the rest to "<file>.tmp"), and reset afterwards: the rollups summed beside an
        import of millions of rows stay within a laptop's means, while what the import holds
        (a table key's index cannot be spilled) is never squeezed. A database in memory has
        nowhere to spill: unbounded."""
        if self.path == MEMORY:
            yield
            return
        with self._using() as db:
            held = db.execute("SELECT coalesce(sum(memory_usage_bytes), 0) "
                              "FROM duckdb_memory()").fetchone()
            db.execute(f"SET memory_limit = '{int(held[0] if held else 0) // 2**20 + extra_mb}MiB'")
        try:
            yield
        finally:
            with self._using() as db:
                db.execute("RESET memory_limit")

    def insert_frame(self, table: str, frame: pd.DataFrame) -> int:
        """Append a DataFrame to a canonical table by column name; returns the row count."""
        self._require_writable()
        if table not in schema.TABLES:
            raise DatabaseError(f"unknown table {table!r}", f"one of: {', '.join(schema.TABLES)}")
        columns = ", ".join(frame.columns)
        self._with_frame(table, frame, f"INSERT INTO {table} ({columns}) SELECT {columns} "
                                       "FROM _leverboard_rows")
        return len(frame)

    def replace_rows(self, table: str, frame: pd.DataFrame) -> int:
        """Upsert by the table's key: rows with the same key are replaced, others appended.

        Rows equal to the stored ones are left alone, so importing the same file again writes
        nothing (and does not grow the file)."""
        self._require_writable()
        keys = schema.PRIMARY_KEYS[table]
        columns = ", ".join(frame.columns)
        match = " AND ".join(f"{table}.{k} = _stage.{k}" for k in keys)
        with self._using() as db:
            types = [row[:2] for row in db.execute(f"DESCRIBE {table}").fetchall()]
            differs = " OR ".join(f"{table}.{c} IS DISTINCT FROM _stage.{c}" for c, _ in types
                                  if c not in keys) or "false"
            spec = ", ".join(f"{c} {t}" for c, t in types)
            (limit,) = db.execute("SELECT current_setting('memory_limit')").fetchone() or ("",)
            try:
                db.execute(f"SET memory_limit = '{LOAD_MEMORY}'")  # joins spill beyond it
                db.execute(f"CREATE OR REPLACE TEMP TABLE _stage ({spec})")
                _leverboard_rows = frame  # noqa: F841 - read by its name (see _with_frame)
                db.execute(f"INSERT INTO _stage ({columns}) SELECT {columns} FROM _leverboard_rows")
                del _leverboard_rows
                db.execute(f"DELETE FROM {table} WHERE EXISTS (SELECT 1 FROM _stage WHERE "
                           f"{match} AND ({differs}))")
                db.execute(f"INSERT INTO {table} SELECT * FROM _stage WHERE NOT EXISTS "
                           f"(SELECT 1 FROM {table} WHERE {match})")
            except duckdb.Error as exc:
                raise DatabaseError(f"cannot load {table}: {_first_line(exc)}") from exc
            finally:
                with suppress(duckdb.Error):
                    db.execute("DROP TABLE IF EXISTS _stage")
                with suppress(duckdb.Error):
                    db.execute(f"SET memory_limit = '{limit}'")
        return len(frame)

    def stage_frame(self, name: str, frame: pd.DataFrame, columns: list[tuple[str, str]]
                    ) -> None:
        """Keep ``frame`` as the temporary table ``name`` with ``columns`` (name, type), read by
        this connection's later statements (those of a transaction: its own)."""
        self._require_writable()
        spec = ", ".join(f'"{c}" {t}' for c, t in columns)
        with self._using() as db:
            try:
                db.execute(f"CREATE OR REPLACE TEMP TABLE {name} ({spec})")
            except duckdb.Error as exc:
                raise DatabaseError(f"cannot keep {name}: {_first_line(exc)}") from exc
        self._with_frame(name, frame, f"INSERT INTO {name} SELECT * FROM _leverboard_rows")

    def _with_frame(self, table: str, frame: pd.DataFrame, sql: str) -> None:
        """Run one statement that reads ``frame`` as ``_leverboard_rows`` (a name no table of a
        leverboard database has: a table or view of that name would be read instead).

        The statement finds the frame by its variable's name (DuckDB's replacement scan), not as
        a registered view: DuckDB holds a registered frame until the transaction ends, even
        once it is unregistered, so an import's frames would all stay in memory while the
        rollups are summed in the same transaction."""
        with self._using() as db:
            _leverboard_rows = frame  # noqa: F841 - read by its name
            try:
                db.execute(sql)
            except duckdb.Error as exc:
                raise DatabaseError(f"cannot load {table}: {_first_line(exc)}") from exc

    @contextmanager
    def transaction(self) -> Iterator[Store]:
        """All or nothing: commit when the block ends, roll back on any exception."""
        self._require_writable()
        if self._shared is not None and getattr(self._local, "writer", None) is None:
            with self._shared.writing_connection() as con:
                self._local.writer = con
                try:
                    with self.transaction():
                        yield self
                finally:
                    self._local.writer = None
            return
        with self._using() as db:
            db.execute("BEGIN TRANSACTION")
            try:
                yield self
            except BaseException:
                db.execute("ROLLBACK")
                raise
            db.execute("COMMIT")

    def tables(self) -> set[str]:
        with self._using() as db:
            rows = db.execute("SELECT table_name FROM information_schema.tables").fetchall()
        return {r[0] for r in rows}


_PARAM = re.compile(r"__param_([A-Za-z0-9_]+)__")


class SqlStore(_Base):
    """Any database SQLAlchemy can reach. The engine's SQL (DuckDB dialect, ``$name`` params) is
    transpiled once per statement by sqlglot and runs *in* that database: nothing is pulled into
    pandas but the result."""

    def __init__(self, engine: Any, url: str, read_only: bool) -> None:
        super().__init__(url, read_only)
        self._engine = engine
        self.dialect = DIALECTS.get(engine.dialect.name, Dialect(engine.dialect.name))

    @classmethod
    def open_url(cls, url: str, read_only: bool = True) -> SqlStore:
        """Connect to ``url`` (a write to a warehouse leverboard only reads is refused by the
        transaction that would make it, before anything is written)."""
        import sqlalchemy

        try:
            engine = sqlalchemy.create_engine(url, pool_pre_ping=True)
            with engine.connect():
                pass
        except Exception as exc:  # noqa: BLE001 - drivers raise their own types
            raise DatabaseError(f"cannot connect to {_masked(url)}: {_first_line(exc)}",
                                "check KPI_DATABASE_URL (driver, host, port, user, password)") from exc
        return cls(engine, _masked(url), read_only)

    def _require_writable(self) -> None:
        if not self.dialect.writes:
            raise DatabaseError(
                f"{self.path} is a {self._engine.dialect.name} warehouse: leverboard reads it and "
                "writes nothing there (it cannot undo a half-done write); nothing was written",
                "keep its tables (or views) with your own pipelines, with the canonical "
                "tables' names and columns (kpi/schema.py), or import into a DuckDB file or "
                "PostgreSQL instead (--db data/leverboard.duckdb)")
        super()._require_writable()

    def close(self) -> None:
        self._engine.dispose()

    def translate(self, sql: str) -> str:
        """DuckDB SQL with ``$name`` parameters -> this database's SQL with ``:name`` binds."""
        return _translate(sql, self.dialect)

    @contextmanager
    def _connection(self) -> Iterator[Any]:
        con = getattr(self._local, "con", None)
        if con is not None:
            yield con
            return
        with self._engine.connect() as con:
            yield con

    def _run(self, sql: str, params: Mapping[str, Any] | None
             ) -> tuple[list[str], list[tuple[Any, ...]]]:
        import sqlalchemy

        try:
            with self._connection() as con:
                result = con.execute(sqlalchemy.text(self.translate(sql)), dict(params or {}))
                if not result.returns_rows:
                    return [], []
                convert = _converters(result.cursor.description)
                return list(result.keys()), [tuple(c(_py(v)) for c, v in zip(convert, r, strict=True))
                                             for r in result]
        except sqlalchemy.exc.SQLAlchemyError as exc:
            raise DatabaseError(f"query failed: {_first_line(getattr(exc, 'orig', None) or exc)}"
                                ) from exc
        except sqlglot.errors.SqlglotError as exc:
            raise DatabaseError(f"the query cannot be written in {self.dialect.name}'s SQL: "
                                f"{_first_line(exc)}") from exc
        except _connection_errors() as exc:  # a driver's own, not wrapped by SQLAlchemy
            raise DatabaseError(f"lost the connection to {self.path}: {_first_line(exc)}",
                                "check that the database server is running and reachable, "
                                "then try again") from exc

    def query(self, sql: str, params: Mapping[str, Any] | None = None) -> pd.DataFrame:
        import pandas as pd

        columns, rows = self._run(sql, params)
        return pd.DataFrame.from_records(rows, columns=columns)

    def rows(self, sql: str, params: Mapping[str, Any] | None = None
             ) -> tuple[list[str], list[tuple[Any, ...]]]:
        return self._run(sql, params)

    def scalar(self, sql: str, params: Mapping[str, Any] | None = None) -> Any:
        _, rows = self._run(sql, params)
        return rows[0][0] if rows else None

    def execute(self, sql: str, params: Mapping[str, Any] | None = None) -> None:
        self._require_writable()
        self._run(sql, params)

    def insert_frame(self, table: str, frame: pd.DataFrame) -> int:
        """Append rows (PostgreSQL: COPY, fast; others: batched INSERTs)."""
        self._require_writable()
        if table not in schema.TABLES:
            raise DatabaseError(f"unknown table {table!r}", f"one of: {', '.join(schema.TABLES)}")
        clean = frame.astype(object).where(frame.notna(), None)
        records = [tuple(_py(v) for v in row) for row in clean.itertuples(index=False, name=None)]
        with self._connection() as con:
            raw = con.connection.driver_connection
            if self.dialect.bulk == "copy" and hasattr(raw, "cursor"):
                with raw.cursor() as cur, cur.copy(
                        f"COPY {table} ({', '.join(frame.columns)}) FROM STDIN") as copy:
                    for record in records:
                        copy.write_row(record)
            else:
                import sqlalchemy

                names = ", ".join(f":{c}" for c in frame.columns)
                con.execute(sqlalchemy.text(
                    f"INSERT INTO {table} ({', '.join(frame.columns)}) VALUES ({names})"),
                    [dict(zip(frame.columns, r, strict=True)) for r in records])
        return len(frame)

    def replace_rows(self, table: str, frame: pd.DataFrame) -> int:
        """Upsert by the table's key (delete the same keys, then append), in the caller's
        transaction."""
        import sqlalchemy

        self._require_writable()
        keys = schema.PRIMARY_KEYS[table]
        where = " AND ".join(f"{k} = :{k}" for k in keys)
        pairs = frame[list(keys)].astype(object).where(frame[list(keys)].notna(), None)
        with self._connection() as con:
            if len(pairs):
                con.execute(sqlalchemy.text(f"DELETE FROM {table} WHERE {where}"),
                            [{k: _py(v) for k, v in zip(keys, row, strict=True)}
                             for row in pairs.itertuples(index=False, name=None)])
        return self.insert_frame(table, frame)

    @contextmanager
    def transaction(self) -> Iterator[Store]:
        self._require_writable()
        if getattr(self._local, "con", None) is not None:
            yield self
            return
        with self._engine.begin() as con:
            self._local.con = con
            try:
                yield self
            finally:
                self._local.con = None

    def tables(self) -> set[str]:
        import sqlalchemy

        if self.dialect.tables_sql is not None:  # Spark's inspector names the namespace
            sql, column = self.dialect.tables_sql
            with self._connection() as con:
                return {row[column] for row in con.execute(sqlalchemy.text(sql))}
        return set(sqlalchemy.inspect(self._engine).get_table_names())


@lru_cache(maxsize=4096)
def _translate(sql: str, dialect: Dialect) -> str:
    tree = sqlglot.parse_one(sql, read="duckdb")
    tree = tree.transform(lambda n: exp.var(f"__param_{n.name}__")
                          if isinstance(n, exp.Placeholder) and n.name else n)
    for rewrite in dialect.rewrites:
        tree = tree.transform(rewrite)
    return _PARAM.sub(r":\1", tree.sql(dialect=dialect.name))


def _py(value: Any) -> Any:
    """Driver and pandas types -> plain Python (Decimal sums become floats)."""
    if isinstance(value, Decimal):
        return float(value)
    if hasattr(value, "to_pydatetime"):
        return value.to_pydatetime()
    if hasattr(value, "item") and not isinstance(value, str | bytes):
        return value.item()
    return value


def _converters(description: Any) -> list[Callable[[Any], Any]]:
    """Per column, what turns a driver's text back into the type the column has (PyHive sends
    Spark's DATE and TIMESTAMP columns as ISO text); the identity elsewhere."""
    def convert(type_code: Any) -> Callable[[Any], Any]:
        named = str(type_code).upper()
        if "TIMESTAMP" in named:
            return lambda v: dt.datetime.fromisoformat(v) if isinstance(v, str) else v
        if "DATE" in named:
            return lambda v: dt.date.fromisoformat(v) if isinstance(v, str) else v
        return lambda v: v
    return [convert(column[1]) for column in description or ()]


def _masked(url: str) -> str:
    return re.sub(r"://([^:/@]+):[^@]+@", r"://\1:***@", url)


def describe(target: str) -> str:
    """How to name a database in messages and cache keys: never with its password."""
    return _masked(target)


def connect(target: str | Path, read_only: bool = True, app: str | Path | None = None
            ) -> Store:
    """A DuckDB file (a path or ``duckdb:///path``) or any SQLAlchemy URL; with ``app``, that
    database read as a warehouse beside the DuckDB file ``app``, which holds what leverboard
    writes (:mod:`kpi.split`)."""
    text = str(target)
    if app is not None:
        from kpi.split import open_split

        return open_split(connect(text), str(app), read_only)
    if text.startswith("duckdb:///"):
        return DuckDBStore.open(text.removeprefix("duckdb:///"), read_only)
    if "://" in text:
        return SqlStore.open_url(text, read_only)
    return DuckDBStore.open(text, read_only)


_SHELL_LOCK = threading.Lock()


@lru_cache(maxsize=1)
def _shell() -> duckdb.DuckDBPyConnection:
    """An empty DuckDB with every canonical table: it says which types a query's columns have."""
    con = duckdb.connect()
    for statement in schema.ddl():
        con.execute(statement)
    return con


def column_types(sql: str, params: Mapping[str, Any] | None = None) -> list[tuple[str, str]]:
    """The (name, DuckDB type) of each column ``sql`` returns, as DuckDB would type them."""
    with _SHELL_LOCK:
        try:
            rows = _shell().execute(f"DESCRIBE {sql}", dict(params or {})).fetchall()
        except duckdb.Error as exc:
            raise DatabaseError(f"cannot keep the rows of this query beside the warehouse: "
                                f"{str(exc).splitlines()[0]}") from exc
    return [(str(r[0]), str(r[1])) for r in rows]


LOAD_MEMORY = "512MB"  # DuckDB's share of a bulk load; the rest of an import is pandas frames


# Spark's "[ERROR_CLASS] what went wrong", which its Thrift server sends inside a Java stack trace
_ERROR_CLASS = re.compile(r"\[([A-Z][A-Z0-9_]*(?:\.[A-Z0-9_]+)*)\] ")
_JAVA_CLASS = re.compile(r"[a-z][\w.]*\.[A-Z]\w*(Exception|Error)\b")
_MESSAGE_END = re.compile(r" SQLSTATE: |\\n|\n")


def _connection_errors() -> tuple[type[BaseException], ...]:
    """What a dropped connection raises through SQLAlchemy: OSError, and the Thrift transport's
    error of the Hive/Spark driver (not a DB-API error, so SQLAlchemy passes it on as it is)."""
    try:
        from thrift.transport.TTransport import TTransportException  # type: ignore[import-untyped,import-not-found,unused-ignore]
    except ImportError:
        return (OSError,)
    return (OSError, TTransportException)


def _first_line(exc: BaseException) -> str:
    """The first line that says what went wrong (from a Java stack: the error class and its
    message, not the frames)."""
    text = str(exc).strip()
    for found in _ERROR_CLASS.finditer(text):
        rest = text[found.end():]
        if not _JAVA_CLASS.match(rest):
            message = _MESSAGE_END.split(rest, maxsplit=1)[0].strip().rstrip(";")
            return f"[{found.group(1)}] {message}"[:500]
    return text.splitlines()[0][:500] if text else type(exc).__name__
