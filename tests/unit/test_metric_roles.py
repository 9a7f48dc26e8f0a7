"""The catalog's roles, enforced by the engine on a tiny company: what each viewer's scope may
read, the words of a refusal, and narrowing that keeps the viewer's role."""

from __future__ import annotations

import pytest

from kpi.engine import MetricRequest, Scope
from kpi.errors import AccessRefused
from kpi.people import narrow
from tests.conftest import Tiny


@pytest.fixture
def sold(tiny: Tiny) -> Tiny:
    tiny.team("T")
    tiny.rep("R", "T", hired="2025-01-01")
    tiny.deal("R", "2025-02-01", "2025-02-20", won=True, amount=1000, cost=600)
    return tiny


def margin(tiny: Tiny, scope: Scope) -> list[tuple]:
    frame = tiny.engine.run(MetricRequest.make("gross_margin", grain="quarter", scope=scope,
                                               date_from=None, date_to=None))
    return [(str(r.period), r.value) for r in frame.itertuples()]


def test_a_rep_is_refused_a_metric_the_catalog_keeps_from_reps(sold: Tiny) -> None:
    with pytest.raises(AccessRefused) as refused:
        margin(sold, Scope.reps("R").seen_by("rep"))
    assert (refused.value.message, refused.value.hint) == (
        "Gross margin is not shown to the rep role",
        "the catalog shows it to: executive, manager")


@pytest.mark.parametrize("role", ["manager", "executive", "admin", None])
def test_the_roles_it_is_shown_to_read_it(sold: Tiny, role: str | None) -> None:
    """(1000 - 600) / 1000 in the first quarter of 2025; None: the app's own computations."""
    assert margin(sold, Scope.teams("T").seen_by(role)) == [("2025-01-01", 0.4)]


def test_a_rep_reads_what_reps_are_shown(sold: Tiny) -> None:
    frame = sold.engine.run(MetricRequest.make("revenue", grain="quarter",
                                               scope=Scope.reps("R").seen_by("rep")))
    assert frame["value"].tolist() == [1000.0]


def test_narrowing_keeps_the_viewers_role(sold: Tiny) -> None:
    store = sold.store
    assert narrow(store, Scope.teams("T").seen_by("manager"), rep_id="R") == Scope(
        "rep", ("R",), ("T",), "manager")
    assert narrow(store, Scope.reps("R").seen_by("rep"), rep_id="R") == Scope(
        "rep", ("R",), (), "rep")
    assert narrow(store, Scope.everyone().seen_by("executive"), rep_id="R") == Scope(
        "rep", ("R",), (), "executive")
    assert narrow(store, Scope.everyone().seen_by("executive"), team_id="T") == Scope(
        "team", ("T",), (), "executive")
