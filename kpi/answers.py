"""The views' answers a process has computed, kept for as long as the database stays as it was.

A page's numbers change when the data changes (an import, ``python -m kpi refresh``: the data
version of :mod:`kpi.insights.stored`) or when a strategy rollout is edited (an initiative, its
teams, targets or reviews, by this process or another). :func:`state` reads both; an answer is
kept under its question (the database, that state, the view and its arguments, the viewer's
scope among them), so a later visit only reads, and an import or an edit by any process shows
within :data:`STATE_SECONDS` (data loaded by other tools shows after ``python -m kpi refresh``).

The app asks every view through :data:`ANSWERS` (ui/data.py, which also keeps the Insights
page's statistics in the database: kpi.insights.stored); :func:`ask` is the same door for a
script or a notebook, and for the benchmarks, which time the pages as the app serves them.
"""

from __future__ import annotations

import hashlib
import pickle
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from typing import Any

from kpi.insights import stored
from kpi.store import Store, identity

STATE_SECONDS = 5.0  # how long a process trusts the state it read of a database
# the tables the app edits (kpi.initiatives); every other table a view reads changes only with
# the data version (an import, `python -m kpi refresh` or `python -m kpi stages`)
EDITED_TABLES = ("initiatives", "initiative_teams", "initiative_targets", "reviews")


def digest(question: object) -> bytes:
    """A key for ``question``: the digest of its pickle (equal bytes are equal questions; two
    equal questions that pickle differently only cost a second computation)."""
    return hashlib.blake2b(pickle.dumps(question, protocol=5), digest_size=32).digest()


def state(store: Store) -> tuple[int, str]:
    """What the answers of ``store`` depend on besides the question: the data version and a
    digest of the strategy rollouts' tables (a few rows each; a table the database does not hold
    counts as empty, and a read that fails raises: a failure never passes for "no edits")."""
    edits = hashlib.blake2b(digest_size=16)
    held = store.tables()
    for table in EDITED_TABLES:
        rows = store.rows(f"SELECT * FROM {table}")[1] if table in held else []
        edits.update(f"{table}:{sorted(map(repr, rows))!r}".encode())
    return stored.version(store), edits.hexdigest()


class Recent:
    """At most ``entries`` values by key, the least recently read going first, each for at most
    ``seconds`` (None: until it goes); safe to share between threads."""

    def __init__(self, entries: int, seconds: float | None = None) -> None:
        self.entries, self.seconds = entries, seconds
        self._kept: OrderedDict[Any, tuple[float, Any]] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: Any) -> Any | None:
        with self._lock:
            kept = self._kept.get(key)
            if kept is None:
                return None
            if kept[0] < time.monotonic():
                del self._kept[key]
                return None
            self._kept.move_to_end(key)
            return kept[1]

    def put(self, key: Any, value: Any) -> None:
        until = float("inf") if self.seconds is None else time.monotonic() + self.seconds
        with self._lock:
            self._kept[key] = (until, value)
            while len(self._kept) > self.entries:
                self._kept.popitem(last=False)

    def __len__(self) -> int:
        return len(self._kept)

    def clear(self) -> None:
        with self._lock:
            self._kept.clear()


class Answers:
    """Answers shared by every thread of the process: each kept as the pickle of the result (every
    caller gets its own copy) under a digest of the pickled question. A question asked while
    another thread computes it waits for that answer instead of computing it again."""

    def __init__(self, entries: int = 2000, seconds: float = 3600.0) -> None:
        self._kept = Recent(entries, seconds)  # pickled answers
        self._lock = threading.Lock()
        self._working: dict[bytes, threading.Lock] = {}
        self._generation = 0  # one more at each clear: work begun before it is not kept

    def get(self, question: tuple[Any, ...], compute: Callable[[], Any]) -> Any:
        key = digest(question)
        found = self._kept.get(key)
        if found is not None:
            return pickle.loads(found)
        with self._lock:
            working = self._working.setdefault(key, threading.Lock())
        with working:
            found = self._kept.get(key)  # computed by the thread that held the lock
            if found is not None:
                return pickle.loads(found)
            with self._lock:
                generation = self._generation
            try:
                payload = pickle.dumps(compute(), protocol=5)
                with self._lock:
                    if generation == self._generation:  # no edit since the work began
                        self._kept.put(key, payload)
            finally:
                with self._lock:
                    if self._working.get(key) is working:
                        del self._working[key]
        return pickle.loads(payload)

    def clear(self) -> None:
        with self._lock:
            self._kept.clear()
            self._working.clear()
            self._generation += 1


ANSWERS = Answers()
_STATES = Recent(64, STATE_SECONDS)  # database -> its state, read again after STATE_SECONDS


def current_state(store: Store, read: Callable[[], object] | None = None) -> tuple[int, str]:
    """:func:`state`, read at most once every :data:`STATE_SECONDS` per database (``read`` is
    called before each new reading)."""
    found = _STATES.get(identity(store))
    if found is None:
        if read is not None:
            read()
        found = state(store)
        _STATES.put(identity(store), found)
    return found


def forget() -> None:
    """Drop every answer and state of this process (after an edit saved by this process: it
    shows at once, not after STATE_SECONDS)."""
    ANSWERS.clear()
    _STATES.clear()


def ask(engine: Any, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    """``fn(engine, *args, **kwargs)``, computed once per state of the database (the app's
    answers: a page's later visits only read)."""
    name = f"{getattr(fn, '__module__', '')}.{getattr(fn, '__qualname__', '')}"
    now = current_state(engine.store, engine.forget_rollups)  # an import rebuilds the rollups
    question = (identity(engine.store), now, name, args,
                tuple(sorted(kwargs.items())))
    return ANSWERS.get(question, lambda: fn(engine, *args, **kwargs))
