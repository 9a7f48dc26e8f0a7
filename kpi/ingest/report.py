"""What is wrong with an import, said so that a sales-ops person can fix it."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Problem:
    """One bad value (``row`` counts like a spreadsheet: the header is row 1)."""

    file: str
    row: int | None
    column: str | None
    value: str | None
    message: str
    fix: str
    fatal: bool = False  # the file cannot be read at all (skipping rows would not help)

    def where(self) -> str:
        parts = [self.file]
        if self.row is not None:
            parts.append(f"row {self.row}")
        if self.column:
            parts.append(f"column {self.column!r}")
        return ", ".join(parts)

    def __str__(self) -> str:
        value = "" if self.value is None else f" (value {self.value!r})"
        return f"{self.where()}: {self.message}{value} — {self.fix}"


@dataclass
class Report:
    """Problems (grouped when they repeat), notes on quirks handled, and row counts."""

    problems: list[Problem] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    rows_read: dict[str, int] = field(default_factory=dict)

    def add(self, problem: Problem) -> None:
        self.problems.append(problem)

    @property
    def fatal(self) -> bool:
        return any(p.fatal for p in self.problems)

    @property
    def bad_rows(self) -> dict[str, set[int]]:
        """file -> spreadsheet row numbers with at least one problem."""
        rows: dict[str, set[int]] = {}
        for p in self.problems:
            if p.row is not None:
                rows.setdefault(p.file, set()).add(p.row)
        return rows

    def groups(self) -> list[tuple[int, Problem]]:
        """(how many, first example) per file, column and kind of problem, most frequent first."""
        seen: dict[tuple[Any, ...], list[Problem]] = {}
        for p in self.problems:
            seen.setdefault((p.file, p.column, p.message, p.fatal), []).append(p)
        return sorted(((len(v), v[0]) for v in seen.values()), key=lambda g: (-g[1].fatal, -g[0]))

    def lines(self, limit: int = 50) -> list[str]:
        """The report as short lines: '412 rows: ... e.g. row 17 ...'."""
        out = []
        for count, p in self.groups()[:limit]:
            if count == 1:
                out.append(str(p))
            else:
                value = "" if p.value is None else f", value {p.value!r}"
                column = f" {p.column!r}" if p.column else ""
                out.append(f"{p.file}: {count:,} rows{column}: {p.message} — e.g. row {p.row}"
                           f"{value} — {p.fix}")
        return out
