"""Fuzzed metric requests, mostly valid: every valid one returns one row per key within its
scope, every invalid one is refused with a typed error that says what is wrong; no SQL error
leaks and no data changes. Hostile values in the sign-in fields change nothing either.

Four requests in five are valid (a catalog metric, a grain, dimensions and known filter values
the metric allows, dates inside the data, a scope); the fifth has exactly one defect. The test
fails unless at least half of the requests returned a frame and the scope and group checks ran.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections import Counter

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kpi.auth import SignInFailed, add_user, authenticate
from kpi.catalog import Metric, load_catalog
from kpi.engine import Engine, MetricRequest, Scope
from kpi.errors import DatabaseError, InvalidRequest, KpiError, UnknownDimension, UnknownMetric
from kpi.periods import next_period, period_start
from kpi.schema import ATTRIBUTIONS, GRAINS, SCOPE_KINDS
from kpi.sources import ALL_DIMENSIONS, SOURCES
from tests.conftest import Tiny, d

HOSTILE = st.one_of(
    st.text(max_size=40),
    st.sampled_from(["' OR 1=1 --", "rep; DROP TABLE reps", "Rep R2", "R2", "T2", "\x00", "%",
                     "$scope_0", "\\'", "rep) OR (1=1", "*", "NULL"]),
)
CATALOG = load_catalog()
FIRST, LAST = d("2025-01-01"), d("2025-03-31")
TEAMS = {"T1": "Atlas", "T2": "Borealis"}
SCOPES = (Scope.everyone(), Scope.teams("T1"), Scope.teams("T2"), Scope.reps("R1"),
          Scope.reps("R4"), Scope.rep_in_teams("R4", "T1"))
EXAMPLES = 120


@pytest.fixture(scope="module")
def company() -> Tiny:
    """Two teams; R4 moves from Atlas to Borealis on 10 February; a quarter of weekly activity
    of every type, deals won, lost and open in two products, accounts in three industries."""
    tiny = Tiny()
    for team, name in TEAMS.items():
        tiny.team(team, name)
    tiny.rep("R1", "T1", hired="2024-06-01", region="East", segment="Retail", motion="hunter")
    tiny.rep("R2", "T1", hired="2025-02-03", region="West", motion="farmer")
    tiny.rep("R3", "T2", hired="2024-06-01", region="West", segment="Health")
    tiny.rep("R4", "T1", hired="2024-06-01", region="East", motion="farmer")
    tiny.move("R4", "T2", "2025-02-10", region="North", motion="farmer")
    for account, industry in (("A1", "Retail"), ("A2", "Health"), ("A3", "Finance")):
        tiny.account(account, industry)
    activities = []
    for i, rep in enumerate(("R1", "R2", "R3", "R4")):
        for week in range(13):
            day = FIRST + dt.timedelta(weeks=week, days=(week + i) % 5)
            for kind in ("meeting", "demo", "call", "proposal", "email")[: 2 + (week + i) % 4]:
                activities.append({"activity_id": f"A{len(activities)}", "rep_id": rep,
                                   "account_id": None, "opp_id": None, "type": kind,
                                   "occurred_at": pd.Timestamp(day) + pd.Timedelta(hours=9),
                                   "new_prospect": kind == "meeting" and week % 2 == 0})
            if week % 3 == i % 3:
                _deal(tiny, rep, day, week, i)
        tiny.quota(rep, "2025-01-01", "2025-03-31", 30_000)
    with tiny.store.transaction():
        tiny.store.insert_frame("activities", pd.DataFrame(activities))
    tiny.stages()
    add_user(tiny.store, "ann", "Ann", "rep", "correct horse battery", rep_id="R1")
    return tiny


def _deal(tiny: Tiny, rep: str, day: dt.date, week: int, i: int) -> None:
    created = day - dt.timedelta(days=20)
    closed = None if week > 9 else (day + dt.timedelta(days=5)).isoformat()
    opp = tiny.deal(rep, created.isoformat(), closed, won=closed is not None and (week + i) % 2 == 0,
                    amount=1000 * (week + 1), cost=None if week % 4 == 0 else 300.0 * week,
                    account=f"A{1 + (week + i) % 3}", product=("Core", "Plus")[week % 2],
                    kind=("new", "expansion")[i % 2], expected=(LAST - dt.timedelta(days=week)
                                                                ).isoformat())
    tiny.stage(opp, "Qualification", created.isoformat())
    tiny.stage(opp, "Proposal", (created + dt.timedelta(days=7)).isoformat())


def contents(tiny: Tiny) -> dict[str, pd.DataFrame]:
    return {t: tiny.store.query(f"SELECT * FROM {t} ORDER BY ALL")
            for t in ("reps", "rep_assignments", "opportunities", "activities", "users")}


def allowed(metric: Metric) -> list[str]:
    return sorted(frozenset.intersection(*(SOURCES[m.source].dimensions for m in metric.measures)))


@dataclasses.dataclass(frozen=True)
class Case:
    request: MetricRequest
    defect: str | None = None  # None: a valid request


DEFECTS = {  # defect -> the error it must raise
    "metric": UnknownMetric, "grain": InvalidRequest, "attribution": InvalidRequest,
    "scope": InvalidRequest, "inverted": InvalidRequest, "not_a_date": InvalidRequest,
    "repeated": InvalidRequest, "dimension": UnknownDimension, "filter_value": InvalidRequest,
    "no_filter_value": InvalidRequest,
}


@st.composite
def cases(draw: st.DrawFn, values: dict[str, list[str]]) -> Case:
    metric = CATALOG.get(draw(st.sampled_from(CATALOG.ids())))
    dims = allowed(metric)
    by = draw(st.lists(st.sampled_from(dims), max_size=2, unique=True))
    filters: dict[str, tuple[str, ...]] = {}
    if draw(st.integers(0, 2)) == 0:
        dim = draw(st.sampled_from(dims))
        filters[dim] = tuple(draw(st.lists(st.sampled_from(values[dim]), min_size=1, max_size=2,
                                           unique=True)))
    date_from = draw(st.one_of(st.none(), st.dates(FIRST, LAST)))
    date_to = draw(st.one_of(st.none(), st.dates(date_from or FIRST, LAST)))
    fields = {"metric": metric.id, "grain": draw(st.sampled_from(GRAINS)), "by": tuple(by),
              "date_from": date_from, "date_to": date_to, "filters": tuple(filters.items()),
              "scope": draw(st.sampled_from(SCOPES)),
              "attribution": draw(st.sampled_from(ATTRIBUTIONS))}
    defect = None if draw(st.integers(0, 9)) < 8 else draw(st.sampled_from(sorted(DEFECTS)))
    if defect is not None:
        _break(draw, fields, defect, metric, values)
    return Case(MetricRequest(**fields), defect)


def _break(draw: st.DrawFn, fields: dict, defect: str, metric: Metric,
           values: dict[str, list[str]]) -> None:
    """Give a valid request exactly one defect."""
    not_in = lambda known: HOSTILE.filter(lambda s: s not in known)  # noqa: E731
    if defect == "metric":
        fields["metric"] = draw(not_in(CATALOG.ids()))
    elif defect in ("grain", "attribution"):
        fields[defect] = draw(not_in({"grain": GRAINS, "attribution": ATTRIBUTIONS}[defect]))
    elif defect == "scope":
        fields["scope"] = Scope(draw(not_in(SCOPE_KINDS)), ("R1",))
    elif defect == "inverted":
        fields["date_from"], fields["date_to"] = LAST, FIRST
    elif defect == "not_a_date":
        fields["date_from"] = draw(st.sampled_from(["2025-01-01", "yesterday", 20250101]))
    elif defect == "repeated":
        dim = draw(st.sampled_from(allowed(metric)))
        fields["by"] = (dim, dim)
    elif defect == "dimension":
        others = sorted(ALL_DIMENSIONS - set(allowed(metric)))
        dim = draw(st.sampled_from(others) if others else not_in(ALL_DIMENSIONS))
        fields["by"] = (dim,) if draw(st.booleans()) else ()
        fields["filters"] = () if fields["by"] else ((dim, (draw(HOSTILE),)),)
    elif defect == "filter_value":
        dim = draw(st.sampled_from(allowed(metric)))
        fields["filters"] = ((dim, (draw(not_in(values[dim])),)),)
    else:
        fields["filters"] = ((draw(st.sampled_from(allowed(metric))), ()),)


def columns(request: MetricRequest) -> list[str]:
    ratio = ["numerator", "denominator"] if CATALOG.get(request.metric).is_ratio else []
    return ["period", *request.by, "value", *ratio, "is_partial"]


def periods(request: MetricRequest, lo: dt.date, hi: dt.date) -> list[dt.date]:
    start, end = request.date_from or lo, request.date_to or hi
    if request.grain == "total":
        return [start]
    found, period = [], period_start(start, request.grain)
    while period <= end:
        found.append(period)
        period = next_period(period, request.grain)
    return found


def as_filters(request: MetricRequest, names: dict[str, str]) -> MetricRequest | None:
    """The same request read by everyone, filtered to the scope's reps and teams instead; None
    when the filters cannot say the same (a team read by today's team, or a filter already on
    the scope's dimension)."""
    scope, filters = request.scope, dict(request.filters)
    extra: dict[str, tuple[str, ...]] = {}
    if scope.kind == "rep":
        extra["rep"] = tuple(names[r] for r in scope.ids)
    if scope.kind == "team" or scope.within:
        extra["team"] = tuple(TEAMS[t] for t in (scope.ids if scope.kind == "team"
                                                 else scope.within))
    dims = allowed(CATALOG.get(request.metric))
    if ("team" in extra and request.attribution != "as_of") or any(
            k in filters or k not in dims for k in extra):
        return None
    return dataclasses.replace(request, scope=Scope.everyone(),
                               filters=(*request.filters, *extra.items()))


def check_groups_add_up(engine: Engine, request: MetricRequest, frame: pd.DataFrame) -> bool:
    """Split by one dimension, every period's groups add up to the unsplit request."""
    metric = CATALOG.get(request.metric)
    if len(request.by) != 1 or not all(m.additive for m in metric.measures):
        return False
    total = engine.run(dataclasses.replace(request, by=())).set_index("period")
    parts = ["numerator", "denominator"] if metric.is_ratio else ["value"]
    summed = frame.groupby("period")[parts].sum().reindex(total.index, fill_value=0)
    pd.testing.assert_frame_equal(summed.astype(float), total[parts].astype(float),
                                  check_exact=False, rtol=1e-9, check_names=False)
    return True


def test_requests(company: Tiny) -> None:
    engine = Engine(company.store)
    values = {dim: engine.dimension_values(dim) for dim in ALL_DIMENSIONS}
    names = dict(zip(*company.store.query("SELECT rep_id, name FROM reps").to_dict("list").values(),
                     strict=True))
    lo, hi = engine.data_range()
    before, seen = contents(company), Counter()

    @settings(max_examples=EXAMPLES, deadline=None, database=None, derandomize=True,
              suppress_health_check=[HealthCheck.too_slow])
    @given(case=cases(values))
    def one(case: Case) -> None:
        seen["requests"] += 1
        request = case.request
        if case.defect is not None:
            with pytest.raises(KpiError) as refused:
                engine.run(request)
            assert not isinstance(refused.value, DatabaseError), f"SQL error leaked: {request}"
            assert isinstance(refused.value, DEFECTS[case.defect]), (case.defect, refused.value)
            assert refused.value.message.strip(), request
            return
        if (request.date_from or lo) > (request.date_to or hi):  # a start after the data ends
            with pytest.raises(InvalidRequest, match="date range is inverted"):
                engine.run(request)
            return
        frame = engine.run(request)
        seen["frames"] += 1
        assert list(frame.columns) == columns(request)
        keys = ["period", *request.by]
        assert not frame.duplicated(keys).any(), f"more than one row per key: {request}"
        groups = frame[list(request.by)].drop_duplicates() if request.by else [()]
        if len(groups):  # split: every group that occurred, in every period (a cross join)
            assert sorted(set(frame["period"])) == periods(request, lo, hi)
            assert len(frame) == len(periods(request, lo, hi)) * len(groups)
        if request.scope.kind == "rep" and "rep" in frame.columns:
            assert set(frame["rep"]) <= {names[r] for r in request.scope.ids}
        filtered = as_filters(request, names)
        if filtered is not None and request.scope.kind != "all":
            pd.testing.assert_frame_equal(frame, engine.run(filtered), check_exact=True,
                                          obj=f"{request} against {filtered}")
            seen[f"scope {request.scope.kind}"] += 1
        seen["groups add up"] += check_groups_add_up(engine, request, frame)

    one()
    assert seen["frames"] >= seen["requests"] / 2, seen
    assert seen["scope rep"] >= 10 and seen["scope team"] >= 5, seen  # the scope check ran
    assert seen["groups add up"] >= 10, seen
    after = contents(company)
    for table, rows in before.items():
        pd.testing.assert_frame_equal(rows, after[table], obj=table)


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(login=HOSTILE, password=HOSTILE)  # each one hashes a password (argon2): a few suffice
def test_sign_in_fields(company: Tiny, login: str, password: str) -> None:
    users = company.store.query("SELECT * FROM users ORDER BY ALL")
    with pytest.raises(SignInFailed):
        authenticate(company.store, login, password)
    assert users.equals(company.store.query("SELECT * FROM users ORDER BY ALL"))
    with company.store.transaction():
        company.store.execute("DELETE FROM login_failures")
