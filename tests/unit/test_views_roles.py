"""A metric the catalog shows to some roles only stays out of the other roles' insights: the
lead-lag rows a viewer sees, the levers a rep is told to push, and the levers whose rollout effect
the executive's Insights page estimates."""

from __future__ import annotations

import dataclasses

import pandas as pd

from kpi.catalog import Catalog, load_catalog
from kpi.engine import Engine, Scope
from kpi.initiatives import Initiative
from kpi.views import levers_to_push, rollout_levers, seen_leads
from tests.conftest import Tiny, d


def catalog_with(**roles: tuple[str, ...]) -> Catalog:
    """The shipped catalog with some metrics shown to other roles."""
    return Catalog(tuple(dataclasses.replace(m, roles=roles.get(m.id, m.roles))
                         for m in load_catalog().metrics))


def lead(lever: str, output: str = "win_rate", leads: bool = True) -> dict[str, object]:
    return {"lever": lever, "output": output, "leads": leads, "verdict": "leads by ~2 weeks"}


LEADS = pd.DataFrame([lead("calls"), lead("demos"), lead("demos", "revenue")])


def pairs(table: pd.DataFrame) -> list[tuple[str, str]]:
    return list(zip(table["lever"], table["output"], strict=True))


def test_each_role_sees_the_rows_whose_lever_and_output_it_is_shown() -> None:
    catalog = catalog_with(calls=("manager",), revenue=("executive",))
    assert pairs(seen_leads(catalog, LEADS, "executive")) == [("demos", "win_rate"),
                                                              ("demos", "revenue")]
    assert pairs(seen_leads(catalog, LEADS, "manager")) == [("calls", "win_rate"),
                                                            ("demos", "win_rate")]
    assert pairs(seen_leads(catalog, LEADS, "rep")) == [("demos", "win_rate")]
    assert pairs(seen_leads(catalog, LEADS, "admin")) == pairs(LEADS)
    assert pairs(seen_leads(catalog, LEADS, None)) == pairs(LEADS)  # the app's own computations


def test_a_rep_is_never_told_to_push_a_lever_not_shown_to_reps(tiny: Tiny) -> None:
    tiny.team("T1")
    tiny.rep("R1", "T1")
    for day in ("2025-05-26", "2025-06-02"):
        tiny.activity("R1", day, type="demo")
    engine = Engine(tiny.store, catalog_with(calls=("executive", "manager")))
    table = levers_to_push(engine, Scope.reps("R1").seen_by("rep"), d("2025-06-29"), None, LEADS)
    assert pairs(table) == [("demos", "win_rate")]


def test_the_executives_rollout_levers_leave_out_those_shown_to_managers_only() -> None:
    initiative = Initiative("i1", "Focus", "", "", d("2025-03-03"), 8, d("2025-12-31"))
    everyone = rollout_levers(load_catalog(), initiative)
    assert everyone == ("new_prospect_meetings", "demos", "proposals_sent", "opps_created",
                        "pipeline_created", "stage_conversion", "calls")
    # stage conversion is on the lever pages only, calls in the lead-lag tests only
    managers_only = catalog_with(stage_conversion=("manager",), calls=("manager", "rep"))
    assert rollout_levers(managers_only, initiative) == (
        "new_prospect_meetings", "demos", "proposals_sent", "opps_created", "pipeline_created")
