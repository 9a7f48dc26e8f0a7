"""Typed errors: each one says what went wrong and what to do about it, in one line."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from kpi.ingest.report import Problem


class KpiError(Exception):
    """Base of every error the engine raises on purpose; the CLI prints it as one line."""

    def __init__(self, message: str, hint: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        return f"{self.message} — {self.hint}" if self.hint else self.message


class DatabaseNotFound(KpiError):
    """The database file does not exist (and the engine never creates one by reading)."""


class DatabaseError(KpiError):
    """The database refused a statement; the original driver error is chained."""


class UnknownMetric(KpiError):
    """A metric id that is not in the catalog."""


class UnknownDimension(KpiError):
    """A group-by or filter dimension outside the whitelist, or not available for a metric."""


class InvalidRequest(KpiError):
    """A request that can never be answered as asked (inverted dates, bad grain, bad value)."""


class CatalogError(KpiError):
    """The metric catalog YAML breaks one or more validation rules."""


class NotFound(KpiError):
    """A named object (initiative, rep, team) that does not exist."""


class AccessRefused(KpiError):
    """A request for something the viewer's role may not see (a metric the catalog keeps for
    other roles)."""


class SignInFailed(KpiError):
    """Wrong login or password (deliberately not saying which), or too many tries too fast."""


class ImportRefused(InvalidRequest):
    """The plan has problems and the caller asked to stop on them; nothing was written."""


class Unreadable(KpiError):
    """A file that cannot be read as a table; ``problem`` names the file, the row and the fix."""

    def __init__(self, problem: Problem) -> None:
        super().__init__(str(problem))
        self.problem = problem
