"""Everything the database enforces, checked on the planned rows before anything is written.

A load must never stop on a constraint error that names no file or row: each NOT NULL column,
key and CHECK of :mod:`kpi.schema` has a rule here that finds the offending rows and says how to
fix them (a test holds this list and the schema's CHECKs to each other).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd

from kpi import schema

Mask = Callable[[pd.DataFrame], pd.Series]


@dataclass(frozen=True)
class Rule:
    table: str
    check: str  # the CHECK as the schema writes it
    column: str  # the column the report names
    message: str
    fix: str
    broken: Mask  # rows that break it (NULLs pass, as in SQL)


def _day(frame: pd.DataFrame, column: str) -> pd.Series:
    if column not in frame:
        return pd.Series(pd.NaT, index=frame.index, dtype="datetime64[ns]")
    return pd.to_datetime(frame[column], errors="coerce")


def _before(later: str, earlier: str, strict: bool = False) -> Mask:
    """Rows where ``later`` falls before ``earlier`` (or on it, when ``strict``)."""
    def broken(frame: pd.DataFrame) -> pd.Series:
        a, b = _day(frame, later), _day(frame, earlier)
        return ((a <= b) if strict else (a < b)).fillna(False).astype(bool)
    return broken


def _negative(column: str) -> Mask:
    def broken(frame: pd.DataFrame) -> pd.Series:
        values = pd.to_numeric(frame.get(column, pd.Series(np.nan, frame.index)), errors="coerce")
        return (values < 0).fillna(False).astype(bool)
    return broken


def _not_in(column: str, allowed: tuple[str, ...]) -> Mask:
    def broken(frame: pd.DataFrame) -> pd.Series:
        values = frame.get(column, pd.Series(None, frame.index, dtype=object))
        return values.notna() & ~values.isin(list(allowed))
    return broken


def _flag(frame: pd.DataFrame, column: str) -> pd.Series:
    return frame.get(column, pd.Series(False, frame.index)).fillna(False).astype(bool)


def _blank(frame: pd.DataFrame, column: str) -> pd.Series:
    return frame.get(column, pd.Series(None, frame.index, dtype=object)).isna()


RULES: list[Rule] = [
    Rule("reps", "end_date IS NULL OR end_date >= hire_date", "end_date",
         "left before they were hired", "check the rep's hire and end dates",
         _before("end_date", "hire_date")),
    Rule("rep_assignments", f"motion IN {schema.MOTIONS}", "motion",
         "not a sales motion", f"use one of {', '.join(schema.MOTIONS)}",
         _not_in("motion", schema.MOTIONS)),
    Rule("rep_assignments", "valid_to IS NULL OR valid_to > valid_from", "valid_to",
         "ends before it starts", "valid_to must come after valid_from",
         _before("valid_to", "valid_from", strict=True)),
    Rule("users", f"role IN {schema.ROLES}", "role", "not a role",
         f"use one of {', '.join(schema.ROLES)}", _not_in("role", schema.ROLES)),
    Rule("users", "role <> 'rep' OR rep_id IS NOT NULL", "rep_id", "a rep user without a rep",
         "fill in the rep_id this user is",
         lambda f: f.get("role", pd.Series(None, f.index)).eq("rep") & _blank(f, "rep_id")),
    Rule("users", "role <> 'manager' OR team_id IS NOT NULL", "team_id",
         "a manager user without a team", "fill in the team_id this user manages",
         lambda f: f.get("role", pd.Series(None, f.index)).eq("manager") & _blank(f, "team_id")),
    Rule("accounts", "employees IS NULL OR employees >= 0", "employees", "negative head count",
         "employees are zero or more; fix the sign", _negative("employees")),
    Rule("opportunities", "amount >= 0", "amount", "negative amount",
         "amounts are zero or more; fix the sign", _negative("amount")),
    Rule("opportunities", "cost IS NULL OR cost >= 0", "cost", "negative cost",
         "costs are zero or more; fix the sign", _negative("cost")),
    Rule("opportunities", f"kind IN {schema.OPP_KINDS}", "kind", "not a kind of deal",
         f"use {' or '.join(schema.OPP_KINDS)}, or map the value in the preset's values",
         _not_in("kind", schema.OPP_KINDS)),
    Rule("opportunities", "NOT is_won OR is_closed", "is_won", "won but not closed",
         "a won deal is closed: set IsClosed (is_closed) to true, or IsWon (is_won) to false",
         lambda f: _flag(f, "is_won") & ~_flag(f, "is_closed")),
    Rule("opportunities", "NOT is_closed OR closed_at IS NOT NULL", "closed_at",
         "closed deal without a close date", "fill in its close date",
         lambda f: _flag(f, "is_closed") & _blank(f, "closed_at")),
    Rule("opportunities", "closed_at IS NULL OR closed_at >= created_at", "closed_at",
         "closed before it was created", "check the close and created dates of this deal",
         _before("closed_at", "created_at")),
    Rule("quotas", "amount >= 0", "amount", "negative quota", "quotas are zero or more",
         _negative("amount")),
    Rule("quotas", "(rep_id IS NULL) <> (team_id IS NULL)", "rep_id",
         "a quota is for one rep or one team", "fill in exactly one of rep_id and team_id",
         lambda f: _blank(f, "rep_id") == _blank(f, "team_id")),
    Rule("quotas", "period_end >= period_start", "period_end", "ends before it starts",
         "period_end must not come before period_start", _before("period_end", "period_start")),
]

BLANK_FIX = {
    "opp_id": "every deal needs its id (Id): export it again with the id column filled",
    "activity_id": "every activity needs its id",
    "rep_id": "fill in the owner",
    "created_at": "fill in the date the deal was created",
    "occurred_at": "fill in when it happened",
    "stage": "fill in the stage",
    "type": "fill in the activity type",
    "name": "fill in the name",
    "hire_date": "fill in the hire date",
}


def schema_checks(table: str) -> list[str]:
    """The CHECK expressions of one table as the schema writes them (whitespace collapsed)."""
    body, found, start = schema.TABLES[table], [], 0
    while (at := body.find("CHECK (", start)) >= 0:
        depth, i = 0, at + len("CHECK ")
        for i in range(at + len("CHECK "), len(body)):  # noqa: B007 - i is used after the loop
            depth += {"(": 1, ")": -1}.get(body[i], 0)
            if depth == 0:
                break
        found.append(" ".join(body[at + len("CHECK ("):i].split()))
        start = i
    return found


def not_null(table: str) -> dict[str, bool]:
    """Columns that may not be NULL -> whether they have a DEFAULT (used when left out)."""
    out: dict[str, bool] = {}
    for line in schema.TABLES[table].strip().splitlines():
        words = line.split()
        if not words:
            continue
        if words[0] == "PRIMARY":
            for key in re.findall(r"\w+", line.split("(", 1)[1]):
                out.setdefault(key, False)
        elif words[0] not in ("CHECK", "UNIQUE") and ("NOT NULL" in line or "PRIMARY KEY" in line):
            out[words[0]] = "DEFAULT" in line
    return out


def unique_columns(table: str) -> list[str]:
    return [line.split()[0] for line in schema.TABLES[table].strip().splitlines()
            if " UNIQUE" in line and not line.strip().startswith(("CHECK", "UNIQUE"))]
