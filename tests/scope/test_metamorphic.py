"""Metamorphic scope tests: change other people's data, and what a rep or a manager sees must not
change, except the aggregates kpi.disclosure declares to include others.

Every page a rep or a manager can open (tests/scope/pages.py replays their kpi.views calls with
the viewer's scope) is computed on the company of tests/scope/company.py and again after other
people's data changed. Viewers: an established rep (R1), a new rep compared with their team's
baseline (RN) and Atlas's manager. Results are compared whole and exactly: frames with
pandas.testing.assert_frame_equal, dataclasses field by field, after masking the fields that the
declared aggregates carry. Each declared aggregate must change somewhere under the changes that
reach its group, so none of this passes vacuously, and each test must have compared a minimum of
non-empty results.

By default the changes are applied in groups (the other teams' changes; the transfers; for a
rep, a teammate's too), which keeps the run short; ``LEVERBOARD_SCOPE_FULL=1`` runs each change
on its own, on every page of every viewer.
"""

from __future__ import annotations

import inspect
import os
from functools import cache

import pandas as pd
import pytest

from kpi import views
from kpi.disclosure import AGGREGATES
from kpi.engine import Engine

from . import company
from .compare import assert_same, carries, masked, non_empty, same
from .pages import PAGES, Page, Seen, Viewer

VIEWERS = {
    "rep_R1": Viewer("rep-r1", "rep", rep_id="R1"),
    "rep_RN": Viewer("rep-rn", "rep", rep_id="RN"),  # new: compared with the team's baseline
    "manager_T1": Viewer("mgr-t1", "manager", team_id="T1"),
}
NEW_REPS = frozenset({"RN"})
PAGES_OF = {key: list(PAGES[v.role]) for key, v in VIEWERS.items()}
# a new rep: the pages where their team's baseline shows (all of them with the full run)
PAGES_OF["rep_RN"] = (list(PAGES["rep"]) if os.environ.get("LEVERBOARD_SCOPE_FULL")
                      else ["my_levers", "insights", "views"])

# the aggregates each change must reach (and so may change); every other field must stay put
# (lead-lag reads every team too: test_lead_lags_read_every_team)
MUST_CHANGE: dict[str, frozenset[str]] = {
    "other_teams": frozenset({"lever_standard", "forecast_history"}),
    "new_rep_elsewhere": frozenset({"lever_standard", "forecast_history"}),
    "reorg_elsewhere": frozenset({"lever_standard"}),
    "later_elsewhere": frozenset({"data_dates"}),
    "after_leaving": frozenset({"lever_standard", "forecast_history"}),
    "before_joining": frozenset({"lever_standard", "forecast_history"}),
    "teammate": frozenset({"lever_standard", "team_average", "team_baseline"}),
}
# companies: the changes applied together (fast), or each alone with LEVERBOARD_SCOPE_FULL=1
ELSEWHERE = ("other_teams", "new_rep_elsewhere", "reorg_elsewhere", "later_elsewhere")
TRANSFERS = ("after_leaving", "before_joining")
if os.environ.get("LEVERBOARD_SCOPE_FULL"):
    VARIANTS = {p.key: (p.key,) for p in company.PERTURBATIONS}
    VARIANTS_OF = {"rep": list(VARIANTS),
                   "manager": [p.key for p in company.PERTURBATIONS if not p.for_reps_only]}
else:  # a teammate is outside a rep's scope only: reps see it with the other teams' changes
    VARIANTS = {"elsewhere": ELSEWHERE, "elsewhere_and_teammate": (*ELSEWHERE, "teammate"),
                "transfers": TRANSFERS}
    VARIANTS_OF = {"rep": ["elsewhere_and_teammate", "transfers"],
                   "manager": ["elsewhere", "transfers"]}
MIN_NON_EMPTY = {"my_levers": 15, "insights": 2, "rollouts": 10, "explore": 20, "views": 10,
                 "team_levers": 20, "coaching": 8, "coaching_moved": 12}


def _keys(variant: str) -> frozenset[str]:
    return frozenset().union(*(MUST_CHANGE[p] for p in VARIANTS[variant]))


@cache
def _built(changes: tuple[str, ...]) -> Engine:
    return company.build(*changes)


def _engine(variant: str) -> Engine:
    return _built(() if variant == "base" else VARIANTS[variant])


@cache
def _leads(changes: tuple[str, ...]) -> pd.DataFrame:
    """The lead-lag table the Insights page computes (only its win-rate rows are used there)."""
    engine = _built(changes)
    return views.lead_lags(engine, views.lead_pairs(engine.catalog)[0], ("win_rate",),
                           views.as_of(engine, company.TODAY))


def test_lead_lags_read_every_team() -> None:
    """The lead-lag table is declared company-wide (kpi.disclosure 'lead_lag'): it changes with
    the other teams' weeks. The pages' levers_to_push is given the base company's table before
    and after, so that it is held to the viewer's scope alone."""
    assert not same(_leads(()), _leads(ELSEWHERE))


@cache
def shown(viewer: str, page: str, variant: str) -> tuple[Seen, ...]:
    replay = Page(_engine(variant), VIEWERS[viewer], NEW_REPS)
    replayer = PAGES[VIEWERS[viewer].role][page]
    if page == "insights":
        replayer(replay, lambda day: _leads(()))
    else:
        replayer(replay)
    return tuple(replay.seen)


def _cases() -> list:
    cases = []
    for key, viewer in VIEWERS.items():
        for page in PAGES_OF[key]:
            for variant in VARIANTS_OF[viewer.role]:
                cases.append(pytest.param(key, page, variant, id=f"{key}-{page}-{variant}"))
    return cases


@pytest.mark.parametrize(("viewer", "page", "variant"), _cases())
def test_only_declared_aggregates_change(viewer: str, page: str, variant: str) -> None:
    before, after = shown(viewer, page, "base"), shown(viewer, page, variant)
    assert [s.label for s in before] == [s.label for s in after]
    role, keys = VIEWERS[viewer].role, _keys(variant)
    catalog = _engine("base").catalog
    compared = 0
    for b, a in zip(before, after, strict=True):
        assert_same(masked(b, keys, role, catalog), masked(a, keys, role, catalog),
                    f"{viewer} {page}: {b.label}")
        compared += non_empty(b.value) and non_empty(a.value)
    assert compared >= MIN_NON_EMPTY[page], f"only {compared} non-empty results compared"


def _aggregate_cases() -> list:
    return [pytest.param(viewer, variant, key, id=f"{viewer}-{variant}-{key}")
            for viewer, v in VIEWERS.items() for variant in VARIANTS_OF[v.role]
            for key in sorted(_keys(variant))
            if v.role in AGGREGATES[key].roles
            and (AGGREGATES[key].only_for != "new rep" or v.rep_id in NEW_REPS)]


@pytest.mark.parametrize(("viewer", "variant", "key"), _aggregate_cases())
def test_declared_aggregates_do_change(viewer: str, variant: str, key: str) -> None:
    """Unmask one declared aggregate (the others stay masked): it must differ somewhere."""
    role, others = VIEWERS[viewer].role, _keys(variant) - {key}
    catalog = _engine("base").catalog
    carriers = differ = 0
    for page in PAGES_OF[viewer]:
        for b, a in zip(shown(viewer, page, "base"), shown(viewer, page, variant), strict=True):
            if carries(b, key, role) and non_empty(b.value):
                carriers += 1
                differ += not same(masked(b, others, role, catalog),
                                   masked(a, others, role, catalog))
    assert carriers, f"no page of {viewer} shows {key}"
    assert differ, f"{key} did not change under {variant}: the scope test would be vacuous"


# kpi.views functions no rep or manager page reaches, and why
NOT_FOR_REPS_OR_MANAGERS = {
    "rollout_effects": "executive Insights only: the rollout's effect over its teams",
    "rollout_output_effects": "executive Insights only",
    "lead_lag_detail": "executive Insights only: one lever against one output, all teams",
    "lead_lag_review": "executive Insights only: the lead-lag at past quarter ends, all teams",
    "baseline_window": "a date window from an initiative: no data read",
    "rep_scope": "a rep id as a scope: no data read",
    "rollout_levers": "the levers of an initiative: no data read",
    "lead_pairs": "the catalog's lead-lag levers and outputs: no data read",
    "seen_leads": "rows of a lead-lag table by role: replayed inside levers_to_push",
    "last_year": "a date window: no data read",
    "insight_questions": "the executive's company-wide questions, computed after an import",
    "refresh_insights": "answers insight_questions after an import, for no viewer",
    "insights_current": "whether insight_questions are kept on the current data, for no viewer",
    "team_questions": "each manager's kept questions, computed after an import",
    "as_asked": "a kept question's arguments as asked (an admin's scope as the executive's): "
                "no data read",
    "initiatives_for": "replayed inside initiative_choice, whose result holds it",
    "default_initiative": "replayed inside initiative_choice, whose result holds it",
}


def test_every_view_is_replayed() -> None:
    """Each function of kpi.views is called by some replayed page, or listed above with why."""
    defined = {name for name, f in vars(views).items()
               if inspect.isfunction(f) and f.__module__.startswith("kpi.views.")
               and not name.startswith("_")}
    called = {s.view for key in VIEWERS for page in PAGES_OF[key]
              for s in shown(key, page, "base")} | {"lead_lags"}
    assert defined - called - set(NOT_FOR_REPS_OR_MANAGERS) == set()
    assert set(NOT_FOR_REPS_OR_MANAGERS) <= defined  # the list holds no stale names
