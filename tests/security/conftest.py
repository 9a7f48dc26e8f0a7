"""The security layer: each test reproduces one finding of an attack or fault review."""

from __future__ import annotations

import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from kpi.auth import add_user
from kpi.store import DuckDBStore, Store

PASSWORD = "correct horse battery"


class Holder:
    """A second process that opens the database file when told to (see holder.py)."""

    def __init__(self, path: Path, mode: str) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, str(Path(__file__).with_name("holder.py")), str(path), mode],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)

    def _say(self, command: str, expect: str) -> None:
        assert self.proc.stdin is not None and self.proc.stdout is not None
        self.proc.stdin.write(command + "\n")
        self.proc.stdin.flush()
        answer = self.proc.stdout.readline().strip()
        assert answer == expect, f"{command}: {answer}"

    def take(self) -> None:
        self._say("take", "held")

    def release(self) -> None:
        self._say("release", "released")

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait(5)


@pytest.fixture
def holders() -> Iterator[list[Holder]]:
    started: list[Holder] = []
    yield started
    for holder in started:
        holder.stop()


@pytest.fixture
def company_db(tmp_path: Path) -> Path:
    """A small database file: one team, one rep, an admin and a rep user with passwords."""
    import datetime as dt

    import pandas as pd

    path = tmp_path / "company.duckdb"
    with DuckDBStore.create(path) as store:
        with store.transaction():
            store.insert_frame("teams", pd.DataFrame([{"team_id": "T", "name": "Atlas",
                                                       "manager_id": None}]))
            store.insert_frame("reps", pd.DataFrame([{
                "rep_id": "r1", "name": "Ann Rep", "email": None,
                "hire_date": dt.date(2024, 1, 1), "end_date": None}]))
        add_user(store, "boss", "Boss", "admin", PASSWORD, "boss@example.com")
        add_user(store, "ann", "Ann", "rep", PASSWORD, "ann@example.com", rep_id="r1")
    return path


@pytest.fixture
def shared(company_db: Path) -> Iterator[Store]:
    """The app's way in to the file: the process-wide shared store, writable in transactions."""
    from kpi import store as store_module

    yield DuckDBStore.shared(company_db, read_only=False)
    held = store_module._SHARED.pop(str(company_db.resolve()), None)
    if held is not None and held.con is not None:
        held.con.close()


EVIL = ("![b](http://127.0.0.1:9/beacon.png) [x](http://evil.example/) "
        "<a href='http://evil.example/'>a</a> :red[r] :material/flag: www.evil.example $x$")


@pytest.fixture
def hostile(demo_db: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The demo with hostile names: a rep, a team, an industry, the initiative, a manager."""
    db = tmp_path / "hostile.duckdb"
    shutil.copy(demo_db, db)
    with DuckDBStore.open(db, read_only=False) as store, store.transaction():
        store.execute("UPDATE reps SET name = 'Yara ' || $e WHERE rep_id = 'R001'", {"e": EVIL})
        store.execute("UPDATE teams SET name = 'Atlas ' || $e WHERE team_id = 'T1'", {"e": EVIL})
        store.execute("UPDATE accounts SET industry = 'Retail ' || $e WHERE industry = 'Retail'",
                      {"e": EVIL})
        store.execute("UPDATE users SET name = 'Boss ' || $e WHERE user_id = 'mgr-t1'",
                      {"e": EVIL})
        store.execute("UPDATE initiatives SET name = name || $e, strategy = strategy || $e, "
                      "tactics = $e || '\n# not a heading\n- nor a list'", {"e": EVIL})
    monkeypatch.setenv("KPI_DB", str(db))
    return db
