"""Unit-test fixtures."""

from __future__ import annotations

import dataclasses

import pytest

from kpi.disclosure import AGGREGATES


@pytest.fixture
def small_groups(monkeypatch: pytest.MonkeyPatch) -> None:
    """Aggregates over any number of reps, for formulas worked by hand on teams of two or three
    (the minimum groups themselves are held by tests/scope/test_min_groups.py)."""
    for key, aggregate in list(AGGREGATES.items()):
        monkeypatch.setitem(AGGREGATES, key, dataclasses.replace(aggregate, min_group=1))
