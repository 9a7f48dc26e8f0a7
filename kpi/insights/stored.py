"""Insights kept in the database: computed once per version of the data, read by every visit.

The statistics of the Insights page (lead-lag tests, rollout effects, the forecast) take seconds
to minutes on a large company. Each answer is kept in ``stored_insights`` under its question
(the function and its arguments, the viewer's scope among them) with the data version it was
computed on. ``data_versions`` gets a row each time the data changes (every import, and
``python -m kpi refresh`` for data loaded by other tools).

- A kept answer of the current version is read, never recomputed.
- A kept answer of an older version is shown while a background thread computes the new one.
- With no kept answer the question is computed now; storing it happens in the background, so a
  page never waits for a write (a DuckDB file busy in another program just leaves it unstored).

Answers are pickled; reading one accepts only the classes and rebuild functions that numpy,
pandas, the standard library's dates and leverboard's own result types need, so a tampered row
can never run code: it is recomputed like a missing one.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import functools
import hashlib
import importlib
import io
import logging
import pickle
import threading
import time
from collections.abc import Callable
from typing import Any

from kpi import schema
from kpi.errors import KpiError
from kpi.store import Store

log = logging.getLogger(__name__)

Compute = Callable[..., Any]


@dataclasses.dataclass(frozen=True)
class Kept:
    """When a kept answer was computed, on which data, and whether that data is still current."""

    computed_at: dt.datetime
    data_through: dt.date | None
    version: int
    current: int
    seconds: float

    @property
    def fresh(self) -> bool:
        return self.version == self.current


# --- the data version --------------------------------------------------------------------------

def version(store: Store) -> int:
    """The data's version: 0 before the first recorded change (or in a database without the
    table)."""
    try:
        found = store.scalar("SELECT max(version) FROM data_versions")
    except KpiError:
        return 0
    return int(found or 0)


def bump(store: Store, why: str) -> int:
    """Record a change of the data (inside the caller's transaction); the new version."""
    store.execute(schema.ddl_for("data_versions"))
    new = version(store) + 1
    store.execute("INSERT INTO data_versions VALUES ($v, $at, $why)",
                  {"v": new, "at": dt.datetime.now().replace(microsecond=0), "why": why})
    return new


# --- asking --------------------------------------------------------------------------------------

def key(fn: Compute, args: tuple) -> str:
    """The question: the function's name and a digest of its arguments' repr (dataclasses,
    tuples, dates and texts, whose repr is their value)."""
    return f"{fn.__name__}:{hashlib.sha256(repr(args).encode()).hexdigest()[:40]}"


def answer(engine: Any, fn: Compute, *args: Any, keeper: Store | None = None,
           background: bool = True) -> Any:
    """``fn(engine, *args)``, from the kept answer when there is one.

    ``keeper`` is a store that may write (None: nothing is stored, as on a read-only database);
    with ``background`` a stale answer is returned at once while a thread computes the new one,
    and a new answer is stored by a thread.
    """
    question = key(fn, args)
    current = version(engine.store)
    kept = _read(engine.store, question)
    if kept is not None:
        info, value = kept
        if info.version == current:
            return value
        if background and keeper is not None:
            _in_background(question, lambda: _compute_and_keep(engine, fn, args, keeper, current))
            return value
    value, seconds = _timed(engine, fn, args)
    if keeper is not None:
        save = functools.partial(_save, keeper, question, fn.__name__, current, value, seconds,
                                 _data_through(engine))
        if background:
            _in_background(question, save)
        else:
            save()
    return value


def status(engine: Any, fn: Compute, *args: Any) -> Kept | None:
    """When the answer to this question was computed (None: it is not kept)."""
    kept = _read(engine.store, key(fn, args), load=False)
    return None if kept is None else kept[0]


def refresh(engine: Any, keeper: Store, questions: list[tuple[Compute, tuple]]
            ) -> dict[str, float | str]:
    """Compute and keep each question on the current data (the work after an import): seconds
    per question name, or why it could not be answered (the others are answered all the same;
    a page asks it again on its first visit)."""
    current = version(engine.store)
    took: dict[str, float | str] = {}
    for fn, args in questions:
        try:
            seconds = _compute_and_keep(engine, fn, args, keeper, current)
        except Exception as exc:  # one question's failure never stops the others
            log.warning("insight %s not computed: %s", fn.__name__, exc)
            took[fn.__name__] = str(exc) if isinstance(exc, KpiError) else \
                f"{type(exc).__name__}: {exc}"
            continue
        done = took.get(fn.__name__, 0.0)
        took[fn.__name__] = (done if isinstance(done, float) else 0.0) + seconds
    return took


def refresh_in_background(engine: Any, keeper: Store,
                          questions: Callable[[], list[tuple[Compute, tuple]]]) -> None:
    """:func:`refresh` in a thread (after an import in the app: pages keep answering, with the
    last kept answers until the new ones are in)."""
    _in_background("refresh", lambda: refresh(engine, keeper, questions()))


# --- inside --------------------------------------------------------------------------------------

_RUNNING: set[str] = set()
_RUNNING_LOCK = threading.Lock()


def _in_background(question: str, work: Callable[[], object]) -> None:
    """Run ``work`` in a thread, once per question at a time."""
    with _RUNNING_LOCK:
        if question in _RUNNING:
            return
        _RUNNING.add(question)

    def run() -> None:
        try:
            work()
        except Exception:  # a background failure must not end the app; the next visit retries
            log.exception("computing a stored insight failed")
        finally:
            with _RUNNING_LOCK:
                _RUNNING.discard(question)

    threading.Thread(target=run, name=f"insight {question}", daemon=True).start()


def wait_idle(seconds: float = 600.0) -> bool:
    """Wait for the background work to end (tests, the CLI); whether it did."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        with _RUNNING_LOCK:
            if not _RUNNING:
                return True
        time.sleep(0.02)
    return False


def _timed(engine: Any, fn: Compute, args: tuple) -> tuple[Any, float]:
    started = time.perf_counter()
    value = fn(engine, *args)
    return value, time.perf_counter() - started


def _compute_and_keep(engine: Any, fn: Compute, args: tuple, keeper: Store, current: int
                      ) -> float:
    value, seconds = _timed(engine, fn, args)
    _save(keeper, key(fn, args), fn.__name__, current, value, seconds, _data_through(engine))
    return seconds


def _data_through(engine: Any) -> dt.date | None:
    try:
        return engine.data_range()[1]  # type: ignore[no-any-return]
    except KpiError:
        return None


def _save(keeper: Store, question: str, name: str, current: int, value: Any, seconds: float,
          through: dt.date | None) -> None:
    payload = pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL)
    try:
        with keeper.transaction():
            keeper.execute(schema.ddl_for("stored_insights"))
            keeper.execute("DELETE FROM stored_insights WHERE insight_key = $k", {"k": question})
            keeper.execute("INSERT INTO stored_insights VALUES ($k, $name, $v, $at, $through, "
                           "$s, $payload)",
                           {"k": question, "name": name, "v": current,
                            "at": dt.datetime.now().replace(microsecond=0), "through": through,
                            "s": round(seconds, 3), "payload": payload})
    except KpiError as exc:  # read-only or busy database: the answer is just not kept
        log.info("insight %s not stored: %s", question, exc)


def _read(store: Store, question: str, load: bool = True) -> tuple[Kept, Any] | None:
    try:
        rows = store.rows("SELECT version, computed_at, data_through, seconds"
                          + (", payload" if load else "")
                          + " FROM stored_insights WHERE insight_key = $k", {"k": question})[1]
    except KpiError:
        return None
    if not rows:
        return None
    row = rows[0]
    info = Kept(_datetime(row[1]), _date(row[2]), int(row[0]), version(store), float(row[3]))
    if not load:
        return info, None
    try:
        return info, _Restricted(io.BytesIO(bytes(row[4]))).load()
    except Exception:  # unreadable or refused: recomputed like a missing answer
        log.warning("stored insight %s could not be read; computing it again", question)
        return None


def _datetime(value: Any) -> dt.datetime:
    return value if isinstance(value, dt.datetime) else dt.datetime.fromisoformat(str(value))


def _date(value: Any) -> dt.date | None:
    if value is None or isinstance(value, dt.date):
        return value
    return dt.date.fromisoformat(str(value)[:10])


# What a kept answer may be made of: leverboard's result dataclasses, the classes that hold
# numpy arrays, pandas frames and dates (none that opens a file, as numpy.memmap would), and the
# few functions pickle uses to rebuild them.
_CLASSES_FROM = ("numpy", "numpy.dtypes", "numpy.core.multiarray", "numpy._core.multiarray",
                 "pandas", "pandas.arrays", "pandas.core.frame", "pandas.core.series", "pandas.core.indexes.",
                 "pandas.core.internals.", "pandas.core.arrays.", "pandas.core.dtypes.",
                 "pandas._libs.", "datetime", "collections", "zoneinfo", "decimal")
_NOT_CLASSES = {"memmap"}
_BUILTINS = {"bool", "bytearray", "bytes", "complex", "dict", "float", "frozenset", "int", "list",
             "object", "range", "set", "slice", "str", "tuple"}
_REBUILD = {
    ("copyreg", "_reconstructor"), ("_codecs", "encode"),
    ("numpy.core.multiarray", "_reconstruct"), ("numpy._core.multiarray", "_reconstruct"),
    ("numpy.core.multiarray", "scalar"), ("numpy._core.multiarray", "scalar"),
    ("numpy.core.numeric", "_frombuffer"), ("numpy._core.numeric", "_frombuffer"),
    ("pandas._libs.internals", "_unpickle_block"), ("pandas.core.indexes.base", "_new_Index"),
    ("pyarrow.lib", "_restore_array"), ("pyarrow.lib", "type_for_alias"),
    ("pyarrow.lib", "py_buffer"),
    ("pandas.core.internals.blocks", "new_block"),
    ("pandas._libs.arrays", "__pyx_unpickle_NDArrayBacked"),
    ("pandas._libs.tslibs.timestamps", "_unpickle_timestamp"),
    ("pandas._libs.tslibs.timedeltas", "_timedelta_unpickle"),
    ("pandas._libs.tslibs.nattype", "__nat_unpickle"),
}


def _allowed_class(module: str, name: str) -> type | None:
    if name in _NOT_CLASSES or not any(
            module == m or (m.endswith(".") and module.startswith(m)) for m in _CLASSES_FROM):
        return None
    found = getattr(importlib.import_module(module), name, None)
    return found if isinstance(found, type) else None


class _Restricted(pickle.Unpickler):
    def find_class(self, module: str, name: str) -> Any:
        if module == "builtins" and name in _BUILTINS or (module, name) in _REBUILD:
            return super().find_class(module, name)
        if module.startswith("kpi."):
            found = getattr(importlib.import_module(module), name, None)
            if isinstance(found, type) and dataclasses.is_dataclass(found):
                return found
        elif (allowed := _allowed_class(module, name)) is not None:
            return allowed
        raise pickle.UnpicklingError(f"a stored insight may not hold {module}.{name}")
