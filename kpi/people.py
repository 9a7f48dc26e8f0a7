"""Who is looking: users, their role, and the scope of rows each role may read.

An executive or admin reads everything, a manager their team, a rep only their own rows. The
scope travels with every engine request, so the data layer (not the page) decides what is shown.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection
from dataclasses import dataclass

from kpi.engine import Scope, in_list
from kpi.errors import AccessRefused, NotFound
from kpi.schema import Role
from kpi.store import Store


@dataclass(frozen=True)
class User:
    user_id: str
    name: str
    role: Role
    rep_id: str | None = None
    team_id: str | None = None

    @property
    def scope(self) -> Scope:
        """The rows this user may read; a binding that is missing reads nothing."""
        if self.role in ("executive", "admin"):
            scope = Scope.everyone()
        elif self.role == "manager":
            scope = Scope.teams(*([self.team_id] if self.team_id else []))
        else:
            scope = Scope.reps(*([self.rep_id] if self.rep_id else []))
        return scope.seen_by(self.role)

    @property
    def can_edit_initiatives(self) -> bool:
        return self.role in ("executive", "admin")


@dataclass(frozen=True)
class Member:
    rep_id: str
    name: str


def list_users(store: Store) -> list[User]:
    """Every user, executives first, then managers by team, then reps by name."""
    _, rows = store.rows(
        """SELECT user_id, name, role, rep_id, team_id FROM users
           ORDER BY CASE role WHEN 'executive' THEN 0 WHEN 'admin' THEN 1 WHEN 'manager' THEN 2
                    ELSE 3 END, team_id, name""")
    return [User(*r) for r in rows]


def get_user(store: Store, user_id: str) -> User:
    _, rows = store.rows("SELECT user_id, name, role, rep_id, team_id FROM users "
                         "WHERE user_id = $u", {"u": user_id})
    if not rows:
        raise NotFound(f"no user {user_id!r}", "pick a user from the list, or add one")
    return User(*rows[0])


def teams(store: Store, scope: Scope) -> list[tuple[str, str]]:
    """(team_id, name) of the teams a scope may look at."""
    _, rows = store.rows("SELECT team_id, name FROM teams ORDER BY name")
    if scope.kind == "team":
        return [r for r in rows if r[0] in scope.ids]
    return [] if scope.kind == "rep" else [(r[0], r[1]) for r in rows]


def members(store: Store, scope: Scope, start: dt.date, end: dt.date) -> list[Member]:
    """Reps inside a scope at any time between ``start`` and ``end`` (for pickers and heat maps)."""
    if scope.kind == "rep":
        ids: dict[str, object] = {}
        sql = f"SELECT rep_id, name FROM reps WHERE {_in('rep_id', scope.ids, ids)} ORDER BY name"
        _, rows = store.rows(sql, ids)
        return [Member(*r) for r in rows]
    params: dict[str, object] = {"start": start, "end": end}
    teams_clause = "1 = 1" if scope.kind == "all" else _in("a.team_id", scope.ids, params)
    _, rows = store.rows(
        f"""SELECT DISTINCT r.rep_id, r.name FROM rep_assignments a JOIN reps r ON r.rep_id = a.rep_id
           WHERE a.valid_from <= $end AND (a.valid_to IS NULL OR a.valid_to > $start)
             AND (r.end_date IS NULL OR r.end_date >= $start) AND r.hire_date <= $end
             AND {teams_clause}
           ORDER BY r.name""", params)
    return [Member(*r) for r in rows]


def _in(column: str, values: tuple[str, ...], params: dict[str, object]) -> str:
    """``column IN (...)``, its values bound beside those ``params`` holds already."""
    return in_list(column, f"v{len(params)}", values, params)


def team_names(store: Store) -> dict[str, str]:
    """team_id -> name, of every team."""
    return dict(teams(store, Scope.everyone()))


def rep_names(store: Store) -> list[tuple[str, str]]:
    """(rep_id, name) of every rep."""
    _, rows = store.rows("SELECT rep_id, name FROM reps")
    return [(rep_id, name) for rep_id, name in rows]


def rep_count(store: Store) -> int:
    return int(store.scalar("SELECT count(*) FROM reps") or 0)


def hire_days(store: Store) -> dict[str, object]:
    """Each rep's hire date, by the name the engine shows for them (the id of a rep without a
    name; the latest hire date of two reps with one name)."""
    _, rows = store.rows("SELECT coalesce(name, rep_id), max(hire_date) FROM reps GROUP BY 1")
    return {name: hired for name, hired in rows}


def segments_on(store: Store, day: dt.date) -> dict[str, str]:
    """rep_id -> the segment of the rep's assignment on ``day``."""
    _, rows = store.rows(
        """SELECT rep_id, segment FROM rep_assignments
           WHERE valid_from <= $day AND (valid_to IS NULL OR valid_to > $day)""", {"day": day})
    return {rep_id: segment for rep_id, segment in rows}


def team_name(store: Store, team_id: str) -> str:
    return store.scalar("SELECT name FROM teams WHERE team_id = $t", {"t": team_id}) or team_id


def narrow(store: Store, scope: Scope, *, team_id: str | None = None,
           rep_id: str | None = None) -> Scope:
    """One team or one rep inside ``scope``; raises rather than ever widening it.

    A manager may narrow to any rep who has been in their team, and then sees only the days the
    rep spent in it (never what the rep did in another team).
    """
    if rep_id is not None:
        if not _rep_in(store, scope, rep_id):
            raise AccessRefused(f"rep {rep_id!r} is outside what you may see")
        if scope.kind == "team":
            return Scope.rep_in_teams(rep_id, *scope.ids).seen_by(scope.role)
        return Scope(scope.kind, (rep_id,), scope.within, scope.role) if scope.kind == "rep" \
            else Scope.reps(rep_id).seen_by(scope.role)
    if team_id is not None:
        if scope.kind == "rep" or (scope.kind == "team" and team_id not in scope.ids):
            raise AccessRefused(f"team {team_id!r} is outside what you may see")
        return Scope.teams(team_id).seen_by(scope.role)
    return scope


def _rep_in(store: Store, scope: Scope, rep_id: str) -> bool:
    if scope.kind == "all":
        return bool(store.scalar("SELECT count(*) FROM reps WHERE rep_id = $r", {"r": rep_id}))
    if scope.kind == "rep":
        return rep_id in scope.ids
    params: dict[str, object] = {"r": rep_id}
    return bool(store.scalar(
        f"SELECT count(*) FROM rep_assignments WHERE rep_id = $r AND {_in('team_id', scope.ids, params)}",
        params))


def active_days(store: Store, rep_id: str, start: dt.date, end: dt.date,
                within: tuple[str, ...] = ()) -> int:
    """Days between ``start`` and ``end`` (inclusive) on which the rep was employed (and, with
    ``within``, in one of those teams)."""
    return active_days_of(store, (rep_id,), start, end, within).get(rep_id, 0)


def active_days_of(store: Store, rep_ids: tuple[str, ...] | list[str], start: dt.date,
                   end: dt.date, within: tuple[str, ...] = ()) -> dict[str, int]:
    """:func:`active_days` of each rep (unknown reps left out), in two queries at most."""
    params: dict[str, object] = {}
    _, rows = store.rows(f"SELECT rep_id, hire_date, end_date FROM reps "
                         f"WHERE {_in('rep_id', tuple(rep_ids), params)}", params)
    employed = {}
    for rep_id, hired, left in rows:
        hired, left = _day(hired), _day(left)
        employed[rep_id] = (max(start, hired or start), min(end, left or end))
    if not within:
        return {r: max((last - first).days + 1, 0) for r, (first, last) in employed.items()}
    params = {}
    _, spans = store.rows(f"SELECT rep_id, valid_from, valid_to FROM rep_assignments "
                          f"WHERE {_in('rep_id', tuple(employed), params)} "
                          f"AND {_in('team_id', within, params)}", params)
    days = dict.fromkeys(employed, 0)
    for rep_id, valid_from, valid_to in spans:  # valid_to is the first day of the next assignment
        first, last = employed[rep_id]
        lo, until = max(first, _day(valid_from) or first), _day(valid_to)
        hi = min(last, (until - dt.timedelta(days=1)) if until else last)
        days[rep_id] += max((hi - lo).days + 1, 0)
    return days


# the assignment that names a rep's team on $d: the latest begun by then, else the first (one
# assignment per rep and day: the table's key)
_TEAM_ORDER = """CASE WHEN valid_from <= $d THEN 0 ELSE 1 END,
                 CASE WHEN valid_from <= $d THEN valid_from END DESC, valid_from"""


def team_of(store: Store, rep_id: str, day: dt.date) -> str | None:
    """The rep's team on ``day``, else their latest team before it, else their first one."""
    _, rows = store.rows(f"SELECT team_id FROM rep_assignments WHERE rep_id = $r "
                         f"ORDER BY {_TEAM_ORDER}", {"r": rep_id, "d": day})
    return rows[0][0] if rows else None


def teams_on(store: Store, rep_ids: Collection[str], day: dt.date) -> dict[str, str]:
    """:func:`team_of` of each of ``rep_ids``, in one query (a rep never assigned is absent)."""
    if not rep_ids:
        return {}
    params: dict[str, object] = {"d": day}
    _, rows = store.rows(
        f"""SELECT rep_id, team_id FROM (
              SELECT rep_id, team_id,
                     row_number() OVER (PARTITION BY rep_id ORDER BY {_TEAM_ORDER}) AS n
              FROM rep_assignments WHERE {_in('rep_id', tuple(sorted(rep_ids)), params)}) x
            WHERE n = 1""", params)
    return {rep: team for rep, team in rows}


def teams_of(store: Store, rep_id: str, since: dt.date) -> set[str]:
    """Every team the rep belonged to on or after ``since``."""
    _, rows = store.rows("SELECT DISTINCT team_id FROM rep_assignments WHERE rep_id = $r "
                         "AND (valid_to IS NULL OR valid_to > $s)", {"r": rep_id, "s": since})
    return {r[0] for r in rows}


def _day(value: object) -> dt.date | None:
    if value is None:
        return None
    return value.date() if isinstance(value, dt.datetime) else value  # type: ignore[return-value]
