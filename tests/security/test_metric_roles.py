"""The catalog's `roles` are enforced by the engine for a signed-in viewer's scope, not only by the
Explore page's list: a rep cannot read gross margin by editing the URL or calling the view."""

from __future__ import annotations

import pytest

from kpi.catalog import load_catalog
from kpi.engine import Engine, MetricRequest, Scope
from kpi.errors import AccessRefused
from kpi.people import User, get_user, narrow

REP_ONLY_HIDDEN = {"gross_margin", "median_deal_size", "win_rate_value"}  # [executive, manager]


def test_the_catalog_keeps_three_metrics_from_reps() -> None:
    catalog = load_catalog()
    hidden = {m.id for m in catalog.metrics if m.id not in {x.id for x in catalog.for_role("rep")}}
    assert hidden == REP_ONLY_HIDDEN
    assert [m.id for m in catalog.for_role("executive")] == catalog.ids()
    assert [m.id for m in catalog.for_role("admin")] == catalog.ids()


@pytest.mark.parametrize("metric", sorted(REP_ONLY_HIDDEN))
def test_a_reps_request_for_a_managers_metric_is_refused(demo_engine: Engine, metric: str) -> None:
    rep = get_user(demo_engine.store, "rep-r002")
    with pytest.raises(AccessRefused, match="is not shown to the rep role"):
        demo_engine.run(MetricRequest.make(metric, grain="quarter", scope=rep.scope))
    # the same rows without a viewer's role (the app's own computations) are answered
    assert len(demo_engine.run(MetricRequest.make(metric, grain="quarter",
                                                  scope=Scope.reps(rep.rep_id or ""))))


def test_managers_executives_and_admins_read_them(demo_engine: Engine) -> None:
    for user_id in ("mgr-t1", "exec", "admin"):
        user = get_user(demo_engine.store, user_id)
        table = demo_engine.run(MetricRequest.make("gross_margin", grain="quarter",
                                                   scope=user.scope))
        assert len(table), user_id


def test_narrowing_keeps_the_viewers_role(demo_engine: Engine) -> None:
    manager = get_user(demo_engine.store, "mgr-t1")
    rep_id = demo_engine.store.rows(
        "SELECT rep_id FROM rep_assignments WHERE team_id = $t LIMIT 1",
        {"t": manager.team_id})[1][0][0]
    assert narrow(demo_engine.store, manager.scope, rep_id=rep_id).role == "manager"
    rep = User("u", "Rae", "rep", rep_id=rep_id)
    assert narrow(demo_engine.store, rep.scope, rep_id=rep_id).role == "rep"
