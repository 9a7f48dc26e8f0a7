"""Unit-test fixtures."""

from __future__ import annotations

import dataclasses

import pytest

from kpi.disclosure import AGGREGATES
from tests.conftest import Tiny


@pytest.fixture
def small_groups(monkeypatch: pytest.MonkeyPatch) -> None:
    """Aggregates over any number of reps, for formulas worked by hand on teams of two or three
    (the minimum groups themselves are held by tests/scope/test_min_groups.py)."""
    for key, aggregate in list(AGGREGATES.items()):
        monkeypatch.setitem(AGGREGATES, key, dataclasses.replace(aggregate, min_group=1))


@pytest.fixture
def org(tiny: Tiny) -> Tiny:
    """Teams T (Alpha) and U (Beta). A joined T on 1 Jan 2025. B joined U on 1 Feb 2025 and left
    on 15 Mar 2025. C joined T on 1 Jan 2025 and moved to U on 10 Feb 2025."""
    tiny.team("T", "Alpha")
    tiny.team("U", "Beta")
    tiny.rep("A", "T", hired="2025-01-01")
    tiny.rep("B", "U", hired="2025-02-01", left="2025-03-15")
    tiny.rep("C", "T", hired="2025-01-01")
    tiny.move("C", "U", "2025-02-10")
    return tiny


@pytest.fixture
def newcomer(tiny: Tiny) -> Tiny:
    """Team T: A, hired 1 January 2025, holds 2 meetings on Tuesday 18 February; N is hired on
    Wednesday 26 February, 5 of the 14 baseline days of T's "Meet more" (meetings +50%). Two reps
    are too few for one standard, and T too small to stand in for N: N has no baseline to raise."""
    tiny.team("T")
    tiny.rep("A", "T", hired="2025-01-01")
    tiny.rep("N", "T", hired="2025-02-26")
    tiny.activity("A", "2025-02-18", n=2)
    return tiny
