"""Local accounts: argon2 password hashes, sign-in with throttling, and user administration.

Passwords are hashed with argon2id and never stored or logged in clear. Failed sign-ins are
throttled with growing delays, never a hard lock that a stranger could keep a user under: by
client and login (a login's id and email are one login), by client (one machine trying many
logins) and, gently, by login alone (many machines trying one). Sign-in only reads the
database: the failures are kept in this process, so a notebook holding the file, or a flood of
wrong passwords, never makes sign-in wait for the write lock.
"""

from __future__ import annotations

import datetime as dt
import re
import threading
from dataclasses import dataclass

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from kpi import schema
from kpi.errors import InvalidRequest, NotFound, SignInFailed
from kpi.people import User, get_user
from kpi.schema import ROLES
from kpi.store import Store

WINDOW_MINUTES = 15  # failures older than this are forgotten
MIN_PASSWORD = 10
_HASHER = PasswordHasher()


@dataclass(frozen=True)
class Rule:
    """Failures past ``free`` within the window delay the next try by 1, 2, 4 ... s, at most
    ``cap`` s after the latest failure."""

    free: int
    cap: float

    def delay(self, failures: int) -> float:
        return 0.0 if failures < self.free else min(self.cap, 2.0 ** (failures - self.free))


# (what is counted, its rule): a client's tries at one login; a client's tries at any login;
# every client's tries at one login, capped low so that no stranger can keep a user out
RULES = {"client+login": Rule(free=3, cap=15 * 60), "client": Rule(free=20, cap=15 * 60),
         "login": Rule(free=20, cap=10)}
MAX_TRACKED = 100_000  # keys kept at most (the oldest go first): memory stays bounded


class Throttle:
    """Failed sign-ins of this process, by key, within the last ``WINDOW_MINUTES``."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._failures: dict[tuple[str, ...], list[dt.datetime]] = {}
        self._purged = dt.datetime.min

    def wait(self, client: str, login: str, now: dt.datetime) -> float:
        """Seconds before this client may try this login again (0: now)."""
        with self._lock:
            waits = [0.0]
            for key, rule in self._rules(client, login):
                times = self._recent(key, now)
                if times:
                    ready = times[-1] + dt.timedelta(seconds=rule.delay(len(times)))
                    waits.append((ready - now).total_seconds())
            return max(waits)

    def failed(self, client: str, login: str, now: dt.datetime) -> None:
        with self._lock:
            for key, _ in self._rules(client, login):
                self._failures[key] = [*self._recent(key, now), now]
                self._failures[key] = self._failures.pop(key)  # newest last, for the purge
            self._purge(now)

    def succeeded(self, client: str, login: str) -> None:
        with self._lock:
            self._failures.pop(("client+login", client, login), None)

    def clear(self, login: str | None = None) -> None:
        """Forget every failure (``login=None``) or those at one login (a password was reset)."""
        with self._lock:
            for key in list(self._failures):
                if login is None or key[-1] == login:
                    del self._failures[key]

    def tracked(self) -> int:
        return len(self._failures)

    @staticmethod
    def _rules(client: str, login: str) -> list[tuple[tuple[str, ...], Rule]]:
        return [(("client+login", client, login), RULES["client+login"]),
                (("client", client), RULES["client"]), (("login", login), RULES["login"])]

    def _recent(self, key: tuple[str, ...], now: dt.datetime) -> list[dt.datetime]:
        since = now - dt.timedelta(minutes=WINDOW_MINUTES)
        return [t for t in self._failures.get(key, ()) if t > since]

    def _purge(self, now: dt.datetime) -> None:
        """Forget keys with no failure in the window (once a minute), then the oldest keys
        beyond ``MAX_TRACKED``."""
        if now - self._purged > dt.timedelta(minutes=1):
            self._purged = now
            since = now - dt.timedelta(minutes=WINDOW_MINUTES)
            for key in [k for k, v in self._failures.items() if not v or v[-1] <= since]:
                del self._failures[key]
        while len(self._failures) > MAX_TRACKED:
            del self._failures[next(iter(self._failures))]


THROTTLE = Throttle()


def hash_password(password: str) -> str:
    if len(password) < MIN_PASSWORD:
        raise InvalidRequest(f"the password is too short (at least {MIN_PASSWORD} characters)",
                             "use a longer passphrase")
    return _HASHER.hash(password)


def authenticate(store: Store, login: str, password: str, now: dt.datetime | None = None,
                 client: str | None = None, throttle: Throttle = THROTTLE) -> User:
    """The user for a login (user id or email) and password; raises :class:`SignInFailed`.

    Only reads the database. ``client`` names where the attempt comes from (an IP address).
    """
    now = now or dt.datetime.now()
    client = client or "unknown"
    login = login.strip().lower()[:200]
    _, rows = store.rows("SELECT user_id, password_hash FROM users WHERE lower(user_id) = $l "
                         "OR lower(email) = $l ORDER BY lower(user_id) = $l DESC LIMIT 1",
                         {"l": login})
    counted = rows[0][0].lower() if rows else login  # an id and its email are one login
    wait = throttle.wait(client, counted, now)
    if wait > 0:
        raise SignInFailed(f"too many failed sign-ins: wait {_seconds(wait)}, then try again",
                           "or ask an admin to reset your password")
    stored = rows[0][1] if rows else None
    if not _verify(stored, password):
        throttle.failed(client, counted, now)
        raise SignInFailed("wrong login or password", "check both, or ask an admin to reset it")
    throttle.succeeded(client, counted)
    return get_user(store, rows[0][0])


def _seconds(wait: float) -> str:
    whole = max(int(wait + 0.999), 1)
    if whole >= 120:
        return f"{(whole + 59) // 60} minutes"
    return f"{whole} second" + ("s" if whole > 1 else "")


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
        purge_failures(store, dt.datetime.now(), user_id)
    THROTTLE.clear(user_id.lower())


def purge_failures(store: Store, now: dt.datetime, user_id: str) -> None:
    """Delete the old rows of ``login_failures`` and those of ``user_id``, inside the caller's
    transaction (earlier versions wrote them; sign-in now keeps its failures in memory)."""
    store.execute(schema.ddl_for("login_failures"))
    store.execute("DELETE FROM login_failures WHERE failed_at <= $since OR login = lower($u)",
                  {"since": now - dt.timedelta(minutes=WINDOW_MINUTES), "u": user_id})


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
