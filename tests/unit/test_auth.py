"""Local accounts: hashes only, sign-in by id or email, lockout, bindings, and the CLI."""

from __future__ import annotations

import datetime as dt
import io
from pathlib import Path

import pytest

from kpi.auth import (
    SignInFailed,
    Throttle,
    add_user,
    authenticate,
    set_password,
    update_user,
    user_for_email,
)
from kpi.cli import main
from kpi.errors import InvalidRequest, NotFound
from kpi.store import DuckDBStore
from tests.conftest import Tiny

PASSWORD = "correct horse battery"


@pytest.fixture
def org(tiny: Tiny) -> Tiny:
    tiny.team("T")
    tiny.rep("r1", "T")
    add_user(tiny.store, "ann", "Ann", "rep", PASSWORD, "Ann@Example.com", rep_id="r1")
    return tiny


def test_passwords_are_stored_as_argon2_hashes_only(org: Tiny) -> None:
    stored = org.store.scalar("SELECT password_hash FROM users WHERE user_id = 'ann'")
    assert stored.startswith("$argon2id$") and PASSWORD not in stored
    set_password(org.store, "ann", "another long one")
    assert org.store.scalar("SELECT password_hash FROM users WHERE user_id = 'ann'") != stored


def test_sign_in_by_id_or_email(org: Tiny) -> None:
    assert authenticate(org.store, "ann", PASSWORD).rep_id == "r1"
    assert authenticate(org.store, "  ANN@example.com ", PASSWORD).user_id == "ann"
    assert user_for_email(org.store, "ann@EXAMPLE.com").user_id == "ann"
    with pytest.raises(SignInFailed, match="wrong login or password"):
        authenticate(org.store, "ann", "wrong password")
    with pytest.raises(SignInFailed, match="wrong login or password"):  # same words: no probing
        authenticate(org.store, "nobody", PASSWORD)
    with pytest.raises(NotFound):
        user_for_email(org.store, "stranger@example.com")


def test_a_user_without_a_password_cannot_sign_in(org: Tiny) -> None:
    add_user(org.store, "boss", "Boss", "executive")
    with pytest.raises(SignInFailed):
        authenticate(org.store, "boss", "")


def test_repeated_failures_delay_the_next_try(org: Tiny) -> None:
    now, throttle = dt.datetime(2026, 1, 5, 9, 0), Throttle()
    for _ in range(3):
        with pytest.raises(SignInFailed, match="wrong"):
            authenticate(org.store, "ann", "guess", now, throttle=throttle)
    with pytest.raises(SignInFailed, match="too many failed sign-ins: wait 1 second,"):
        authenticate(org.store, "ann", PASSWORD, now, throttle=throttle)  # even the right one
    later = now + dt.timedelta(seconds=throttle.wait("unknown", "ann", now))
    assert authenticate(org.store, "ann", PASSWORD, later, throttle=throttle).user_id == "ann"
    assert throttle.wait("unknown", "ann", later) == 0  # cleared on success


def test_bindings_and_input_are_checked(org: Tiny) -> None:
    with pytest.raises(InvalidRequest, match="needs an existing rep"):
        add_user(org.store, "bob", "Bob", "rep", PASSWORD, rep_id="r99")
    with pytest.raises(InvalidRequest, match="needs an existing team"):
        add_user(org.store, "meg", "Meg", "manager", PASSWORD)
    with pytest.raises(InvalidRequest, match="too short"):
        add_user(org.store, "kim", "Kim", "admin", "short")
    with pytest.raises(InvalidRequest, match="not usable"):
        add_user(org.store, "'; DROP TABLE users; --", "x", "admin")
    with pytest.raises(InvalidRequest, match="already exists"):
        add_user(org.store, "ann", "Ann", "admin")
    manager = update_user(org.store, "ann", name="Ann", role="manager", email=None, rep_id=None,
                          team_id="T")
    assert (manager.role, manager.team_id, manager.rep_id) == ("manager", "T", None)
    assert org.store.scalar("SELECT email FROM users WHERE user_id = 'ann'") == "Ann@Example.com"


def test_cli_adds_users_without_echoing_passwords(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                  capsys: pytest.CaptureFixture) -> None:
    db = tmp_path / "x.duckdb"
    DuckDBStore.create(db).close()
    monkeypatch.setattr("sys.stdin", io.StringIO(PASSWORD + "\n"))
    assert main(["user", "add", "root", "--db", str(db), "--role", "admin", "--password-stdin"]) == 0
    monkeypatch.setattr("sys.stdin", io.StringIO("a different passphrase\n"))
    assert main(["user", "passwd", "root", "--db", str(db), "--password-stdin"]) == 0
    assert main(["user", "list", "--db", str(db)]) == 0
    out = capsys.readouterr()
    assert "root" in out.out and "admin" in out.out
    assert PASSWORD not in out.out + out.err and "argon2" not in out.out
    with DuckDBStore.open(db, read_only=False) as store:
        assert authenticate(store, "root", "a different passphrase").role == "admin"
