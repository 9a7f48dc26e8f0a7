"""Medium 7 and 8: sign-in without the write lock, generic errors, throttling without lockout.

Sign-in wrote each failure (and cleared them on success) through the write lock, so a notebook
reading the file broke sign-in and the visitor saw DuckDB's error with the path and a process
id. Five wrong passwords in 15 minutes locked a login for anyone, repeatably (a stranger could
keep the chief executive out), the id and the email were counted apart, and the
``login_failures`` rows were never purged.
"""

from __future__ import annotations

import datetime as dt
import logging
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from kpi import auth
from kpi.auth import SignInFailed, Throttle, authenticate, set_password
from kpi.errors import DatabaseError
from kpi.store import DuckDBStore, Store
from tests.app.conftest import APP
from tests.security.conftest import PASSWORD, Holder

T0 = dt.datetime(2026, 1, 5, 9, 0)
ATTACKER, USER = "203.0.113.9", "198.51.100.7"


def wrong(store: Store, login: str, now: dt.datetime, client: str, throttle: Throttle) -> str:
    with pytest.raises(SignInFailed) as failed:
        authenticate(store, login, "not the password", now, client=client, throttle=throttle)
    return str(failed.value)


# --- Medium 7: no write lock, no details before sign-in -------------------------------------

def test_sign_in_only_reads(company_db: Path) -> None:
    with DuckDBStore.open(company_db) as store:  # read-only: any write would raise
        assert "wrong login or password" in wrong(store, "boss", T0, USER, Throttle())
        assert authenticate(store, "boss", PASSWORD, T0, client=USER).user_id == "boss"


def test_sign_in_works_while_a_notebook_reads_the_file(
        shared: Store, company_db: Path, holders: list[Holder]) -> None:
    notebook = Holder(company_db, "read")
    holders.append(notebook)
    notebook.take()
    throttle = Throttle()
    assert "wrong login or password" in wrong(shared, "boss", T0, USER, throttle)
    assert authenticate(shared, "boss", PASSWORD, T0, client=USER, throttle=throttle).role == "admin"


def sign_in(at: AppTest, login: str, password: str) -> AppTest:
    at.text_input[0].input(login)
    at.text_input[1].input(password)
    return at.button[0].click().run()


def test_the_sign_in_screen_works_while_a_notebook_reads_the_file(
        company_db: Path, holders: list[Holder], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KPI_DB", str(company_db))
    notebook = Holder(company_db, "read")
    holders.append(notebook)
    notebook.take()
    at = sign_in(AppTest.from_file(APP, default_timeout=60).run(), "boss", "a wrong one")
    assert [e.value for e in at.error] == ["wrong login or password — check both, or ask an "
                                           "admin to reset it"]
    at = sign_in(at, "BOSS@example.com", PASSWORD)
    assert not at.exception and not at.error
    assert "Signed in as **Boss**" in "".join(c.value for c in at.sidebar.caption)


def test_before_sign_in_errors_say_nothing_of_the_database(
        company_db: Path, holders: list[Holder], monkeypatch: pytest.MonkeyPatch,
        caplog: pytest.LogCaptureFixture) -> None:
    """Another program writes the file: the visitor reads a generic message, the server log
    has the details."""
    monkeypatch.setenv("KPI_DB", str(company_db))
    writer = Holder(company_db, "write")
    holders.append(writer)
    writer.take()
    with caplog.at_level(logging.ERROR, logger="leverboard"):
        at = AppTest.from_file(APP, default_timeout=60).run()
    shown = "\n".join(e.value for e in (*at.error, *at.markdown, *at.caption))
    assert "not available right now" in shown and not at.exception
    for detail in (str(company_db), "PID", "IO Error", "duckdb"):
        assert detail not in shown
    assert str(company_db) in caplog.text  # the operator can still find out why


def test_a_database_error_while_signing_in_is_generic(
        company_db: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KPI_DB", str(company_db))
    at = AppTest.from_file(APP, default_timeout=60).run()

    def broken(*args: object, **kw: object) -> None:
        raise DatabaseError(f"cannot open {company_db}: IO Error: lock held by PID 4242")

    monkeypatch.setattr("kpi.auth.authenticate", broken)
    at = sign_in(at, "boss", PASSWORD)
    shown = "\n".join(e.value for e in at.error)
    assert "not available right now" in shown
    assert "PID" not in shown and str(company_db) not in shown


# --- Medium 8: throttling by client and login, growing delays, no lockout -------------------

def test_delays_grow_for_one_client_at_one_login_and_never_lock(company_db: Path) -> None:
    throttle, now, waits = Throttle(), T0, []
    with DuckDBStore.open(company_db) as store:
        for i in range(12):
            now += dt.timedelta(seconds=throttle.wait(ATTACKER, "boss", now))
            if i < 4:
                wrong(store, "boss", now, ATTACKER, throttle)
            else:  # the same, without argon2's work
                throttle.failed(ATTACKER, "boss", now)
            waits.append(throttle.wait(ATTACKER, "boss", now))
        assert waits[:2] == [0, 0] and waits[2] > 0
        assert all(b >= a for a, b in zip(waits, waits[1:], strict=False)) and waits[-1] > waits[3]
        assert "too many failed sign-ins: wait" in wrong(store, "boss", now, ATTACKER, throttle)
        later = now + dt.timedelta(seconds=waits[-1])  # no lock: once the wait is over, it works
        assert authenticate(store, "boss", PASSWORD, later, client=ATTACKER,
                            throttle=throttle).user_id == "boss"


def test_a_stranger_cannot_keep_a_user_out(company_db: Path) -> None:
    """An attacker guesses the chief executive's password as fast as allowed for an hour, from
    one machine and then from many; the executive, from their own machine, waits 10 s at most."""
    throttle, now = Throttle(), T0
    with DuckDBStore.open(company_db) as store:
        wrong(store, "boss@example.com", now, ATTACKER, throttle)
        for i in range(400):  # the same as wrong() each time, without argon2's work
            client = ATTACKER if i < 200 else f"203.0.113.{i % 50}"
            now += dt.timedelta(seconds=max(throttle.wait(client, "boss", now), 9))
            throttle.failed(client, "boss", now)
        assert throttle.wait(USER, "boss", now) <= 10
        assert throttle.wait(USER, "boss@example.com", now) <= 10
        then = now + dt.timedelta(seconds=throttle.wait(USER, "boss", now))
        assert authenticate(store, "boss", PASSWORD, then, client=USER,
                            throttle=throttle).user_id == "boss"


def test_the_id_and_its_email_are_one_login(company_db: Path) -> None:
    throttle = Throttle()
    with DuckDBStore.open(company_db) as store:
        for login in ("boss", "Boss@Example.com", "boss"):
            wrong(store, login, T0, ATTACKER, throttle)
        assert "too many failed sign-ins" in wrong(store, "boss@example.com", T0, ATTACKER,
                                                   throttle)


def test_one_client_trying_many_logins_is_slowed(company_db: Path) -> None:
    throttle = Throttle()
    with DuckDBStore.open(company_db) as store:
        for i in range(auth.RULES["client"].free - 1):
            throttle.failed(ATTACKER, f"user{i}", T0)  # each login only once
        wrong(store, "ann", T0, ATTACKER, throttle)
        assert throttle.wait(ATTACKER, "someone-else", T0) > 0
        assert throttle.wait(USER, "someone-else", T0) == 0


def test_old_failures_are_forgotten_and_memory_stays_bounded(
        company_db: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    throttle = Throttle()
    for i in range(300):
        throttle.failed(f"10.0.{i // 250}.{i % 250}", f"user{i}", T0)
    assert throttle.tracked() == 3 * 300  # (client, login), client and login
    later = T0 + dt.timedelta(minutes=auth.WINDOW_MINUTES + 2)
    throttle.failed(ATTACKER, "boss", later)
    assert throttle.tracked() == 3
    monkeypatch.setattr(auth, "MAX_TRACKED", 50)
    for i in range(300):
        throttle.failed(ATTACKER, f"user{i}", later)
    assert throttle.tracked() <= 50


def test_old_login_failures_rows_are_purged(company_db: Path) -> None:
    with DuckDBStore.open(company_db, read_only=False) as store:
        with store.transaction():
            for login, minutes in (("ann", 600), ("mallory", 60 * 24 * 30), ("boss", 1)):
                store.execute("INSERT INTO login_failures VALUES ($l, $t)",
                              {"l": login, "t": dt.datetime.now() - dt.timedelta(minutes=minutes)})
        set_password(store, "boss", "a new long passphrase")
        assert store.scalar("SELECT count(*) FROM login_failures") == 0
