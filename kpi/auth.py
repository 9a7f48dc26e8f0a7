"""Local accounts: argon2 password hashes, sign-in with lockout, and user administration.

Passwords are hashed with argon2id and never stored or logged in clear. After ``MAX_FAILURES``
failed sign-ins for one login within ``LOCK_MINUTES``, that login is locked for the rest of the
window, whatever the password (rate limiting against guessing).
"""

from __future__ import annotations

import datetime as dt
import re

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from kpi import schema
from kpi.errors import InvalidRequest, KpiError, NotFound
from kpi.people import ROLES, User, get_user
from kpi.store import Store

MAX_FAILURES = 5
LOCK_MINUTES = 15
MIN_PASSWORD = 10
_HASHER = PasswordHasher()


class SignInFailed(KpiError):
    """Wrong login or password (deliberately not saying which), or a locked login."""


def hash_password(password: str) -> str:
    if len(password) < MIN_PASSWORD:
        raise InvalidRequest(f"the password is too short (at least {MIN_PASSWORD} characters)",
                             "use a longer passphrase")
    return _HASHER.hash(password)


def authenticate(store: Store, login: str, password: str,
                 now: dt.datetime | None = None) -> User:
    """The user for a login (user id or email) and password; raises :class:`SignInFailed`."""
    now = now or dt.datetime.now()
    login = login.strip().lower()[:200]
    if _locked(store, login, now):
        raise SignInFailed(f"too many failed sign-ins: try again in {LOCK_MINUTES} minutes",
                           "or ask an admin to reset your password")
    _, rows = store.rows("SELECT user_id, password_hash FROM users WHERE lower(user_id) = $l "
                         "OR lower(email) = $l", {"l": login})
    stored = rows[0][1] if rows else None
    if not _verify(stored, password):
        _record_failure(store, login, now)
        raise SignInFailed("wrong login or password", "check both, or ask an admin to reset it")
    _clear_failures(store, login)
    return get_user(store, rows[0][0])


def user_for_email(store: Store, email: str) -> User:
    """The user a single-sign-on identity maps to (by email, case-insensitive)."""
    _, rows = store.rows("SELECT user_id FROM users WHERE lower(email) = $e",
                         {"e": email.strip().lower()})
    if not rows:
        raise NotFound(f"no leverboard user has the email {email!r}",
                       "ask an admin to add you (Users page or `python -m kpi user add`)")
    return get_user(store, rows[0][0])


def _verify(stored: str | None, password: str) -> bool:
    if not stored:
        _HASHER.hash("timing-equaliser")  # the same work whether or not the login exists
        return False
    try:
        return _HASHER.verify(stored, password)
    except (VerificationError, InvalidHashError):
        return False


def _locked(store: Store, login: str, now: dt.datetime) -> bool:
    if "login_failures" not in store.tables():
        return False
    since = now - dt.timedelta(minutes=LOCK_MINUTES)
    failures = store.scalar("SELECT count(*) FROM login_failures WHERE login = $l AND "
                            "failed_at > $since", {"l": login, "since": since})
    return failures >= MAX_FAILURES


def _record_failure(store: Store, login: str, now: dt.datetime) -> None:
    with store.transaction():
        store.execute(schema.ddl_for("login_failures"))
        store.execute("INSERT INTO login_failures VALUES ($l, $t)", {"l": login, "t": now})


def _clear_failures(store: Store, login: str) -> None:
    if "login_failures" in store.tables():
        with store.transaction():
            store.execute("DELETE FROM login_failures WHERE login = $l", {"l": login})


def add_user(store: Store, user_id: str, name: str, role: str, password: str | None = None,
             email: str | None = None, rep_id: str | None = None,
             team_id: str | None = None) -> User:
    """Create a user bound to a rep (role rep) or a team (role manager)."""
    if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9._@-]{1,63}", user_id):
        raise InvalidRequest(f"user id {user_id!r} is not usable",
                             "2-64 letters, digits, '.', '_', '-' or '@'")
    _check_binding(store, role, rep_id, team_id)
    if store.scalar("SELECT count(*) FROM users WHERE user_id = $u", {"u": user_id}):
        raise InvalidRequest(f"user {user_id!r} already exists", "pick another id, or edit it")
    hashed = hash_password(password) if password else None
    with store.transaction():
        store.execute("INSERT INTO users (user_id, name, email, role, rep_id, team_id, "
                      "password_hash) VALUES ($u, $n, $e, $r, $rep, $team, $h)",
                      {"u": user_id, "n": name.strip() or user_id, "e": email or None, "r": role,
                       "rep": rep_id if role == "rep" else None,
                       "team": team_id if role == "manager" else None, "h": hashed})
    return get_user(store, user_id)


def update_user(store: Store, user_id: str, *, name: str, role: str, email: str | None,
                rep_id: str | None, team_id: str | None) -> User:
    """Change a user's role and binding (``email=None`` keeps the email)."""
    get_user(store, user_id)
    _check_binding(store, role, rep_id, team_id)
    with store.transaction():
        store.execute("UPDATE users SET name = $n, email = coalesce($e, email), role = $r, "
                      "rep_id = $rep, "
                      "team_id = $team WHERE user_id = $u",
                      {"u": user_id, "n": name, "e": email or None, "r": role,
                       "rep": rep_id if role == "rep" else None,
                       "team": team_id if role == "manager" else None})
    return get_user(store, user_id)


def set_password(store: Store, user_id: str, password: str) -> None:
    get_user(store, user_id)
    hashed = hash_password(password)
    with store.transaction():
        store.execute("UPDATE users SET password_hash = $h WHERE user_id = $u",
                      {"h": hashed, "u": user_id})
        store.execute(schema.ddl_for("login_failures"))
        store.execute("DELETE FROM login_failures WHERE login = lower($u)", {"u": user_id})


def _check_binding(store: Store, role: str, rep_id: str | None, team_id: str | None) -> None:
    if role not in ROLES:
        raise InvalidRequest(f"unknown role {role!r}", f"use one of {', '.join(ROLES)}")
    if role == "rep" and not store.scalar("SELECT count(*) FROM reps WHERE rep_id = $r",
                                          {"r": rep_id or ""}):
        raise InvalidRequest(f"a rep user needs an existing rep (got {rep_id!r})",
                             "pick the rep this user is")
    if role == "manager" and not store.scalar("SELECT count(*) FROM teams WHERE team_id = $t",
                                              {"t": team_id or ""}):
        raise InvalidRequest(f"a manager needs an existing team (got {team_id!r})",
                             "pick the team this user manages")


def is_demo(store: Store) -> bool:
    """The generated demo company (`python -m kpi demo`) as it was built: one-click demo users
    allowed. A database that has received any import holds real data, so it never is."""
    tables = store.tables()
    if "demo_truth" not in tables or not store.scalar("SELECT count(*) FROM demo_truth"):
        return False
    return "imports" not in tables or not store.scalar("SELECT count(*) FROM imports")
