"""High 1: a write-lock conflict with another program must not hang the app.

DuckDB lets one program write a file and nobody else open it meanwhile. The app holds the file
read-only and lets go of it for a moment to write; a second program that takes the write lock
in that moment (the CLI retrying an import, say) used to leave the app's shared connection
marked "writing" for good, so every later read waited forever.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import duckdb
import pytest

from kpi.errors import DatabaseError
from kpi.store import Store
from tests.security.conftest import Holder

COUNT_USERS = "SELECT count(*) FROM users"


def within(seconds: float, call: Callable[[], Any]) -> tuple[bool, Any]:
    """(finished, result or exception) of ``call`` run in a thread for at most ``seconds``."""
    box: list[Any] = []

    def run() -> None:
        try:
            box.append(call())
        except Exception as exc:  # noqa: BLE001 - the test inspects it
            box.append(exc)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    thread.join(seconds)
    return (not thread.is_alive(), box[0] if box else None)


def take_when_the_app_writes(monkeypatch: pytest.MonkeyPatch, path: Path, holder: Holder) -> None:
    """Let the second program take the write lock in the moment the app has let go of the
    file and is about to open it for writing (the race, made certain)."""
    real = duckdb.connect
    armed = [True]

    def connect(database: str = ":memory:", read_only: bool = False, *args: Any, **kw: Any
                ) -> duckdb.DuckDBPyConnection:
        if armed[0] and not read_only and Path(database) == path:
            armed[0] = False
            holder.take()
        return real(database, read_only, *args, **kw)

    monkeypatch.setattr(duckdb, "connect", connect)


def add_team(store: Store, team_id: str) -> None:
    with store.transaction():
        store.execute("INSERT INTO teams VALUES ($t, $t, NULL)", {"t": team_id})


def test_the_app_recovers_by_itself_after_another_program_took_the_write_lock(
        shared: Store, company_db: Path, holders: list[Holder],
        monkeypatch: pytest.MonkeyPatch) -> None:
    assert shared.scalar(COUNT_USERS) == 2
    holder = Holder(company_db, "write")
    holders.append(holder)
    take_when_the_app_writes(monkeypatch, company_db, holder)

    done, write = within(10, lambda: add_team(shared, "T2"))
    assert done and isinstance(write, DatabaseError), "the write hung"

    # while the other program writes the file, a read fails at once with a clear message
    done, read = within(10, lambda: shared.scalar(COUNT_USERS))
    assert done, "a read hung after the lock conflict (the app would hang for good)"
    assert isinstance(read, DatabaseError) and "another program" in str(read)
    assert "nothing was saved" in str(write)
    assert str(company_db) not in str(write) + str(read) and "PID" not in str(write) + str(read)

    holder.release()
    released = time.monotonic()
    done, outcome = within(10, lambda: shared.scalar(COUNT_USERS))
    recovered = time.monotonic() - released
    assert done and outcome == 2, outcome
    print(f"reads recovered {recovered * 1000:.0f} ms after the other program let go")
    assert recovered < 2
    add_team(shared, "T3")  # and writes work again
    assert shared.scalar("SELECT count(*) FROM teams") == 2


def test_a_write_fails_clearly_while_a_notebook_reads_and_reads_go_on(
        shared: Store, company_db: Path, holders: list[Holder]) -> None:
    assert shared.scalar(COUNT_USERS) == 2
    notebook = Holder(company_db, "read")
    holders.append(notebook)
    notebook.take()
    started = time.monotonic()
    with pytest.raises(DatabaseError) as failed:
        add_team(shared, "T2")
    assert time.monotonic() - started < 5
    message = str(failed.value)
    assert "nothing was saved" in message and "another program" in message
    assert str(company_db) not in message and "PID" not in message
    assert shared.scalar(COUNT_USERS) == 2  # reads go on, with no wait
    notebook.release()
    add_team(shared, "T2")
    assert shared.scalar("SELECT count(*) FROM teams") == 2


def test_many_readers_and_a_conflicting_writer_never_deadlock(
        shared: Store, company_db: Path, holders: list[Holder]) -> None:
    """Eight threads read while writes are tried against a notebook that opens and closes
    the file: every call ends (with a result or a clear error) and the app then works."""
    notebook = Holder(company_db, "read")
    holders.append(notebook)
    stop = threading.Event()
    errors: list[BaseException] = []

    def read() -> None:
        while not stop.is_set():
            try:
                assert shared.scalar(COUNT_USERS) == 2
            except DatabaseError:
                pass
            except BaseException as exc:  # noqa: BLE001
                errors.append(exc)

    threads = [threading.Thread(target=read, daemon=True) for _ in range(8)]
    for t in threads:
        t.start()
    for i in range(6):
        if i % 2 == 0:
            notebook.take()
        done, _ = within(10, lambda i=i: add_team(shared, f"X{i}"))
        assert done
        if i % 2 == 0:
            notebook.release()
    stop.set()
    for t in threads:
        t.join(10)
        assert not t.is_alive()
    assert not errors
    assert shared.scalar(COUNT_USERS) == 2
