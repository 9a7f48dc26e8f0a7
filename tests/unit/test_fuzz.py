"""Hostile values in every input that reaches the engine: no SQL error leaks, no wider scope, no
data change."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kpi.auth import SignInFailed, add_user, authenticate
from kpi.catalog import load_catalog
from kpi.engine import GRAINS, Engine, MetricRequest, Scope
from kpi.errors import DatabaseError, KpiError
from kpi.sources import ALL_DIMENSIONS
from tests.conftest import Tiny

HOSTILE = st.one_of(
    st.text(max_size=40),
    st.sampled_from(["' OR 1=1 --", "rep; DROP TABLE reps", "Rep B", "R2", "T2", "\x00", "%",
                     "$scope_0", "\\'", "rep) OR (1=1", "*", "NULL"]),
)
METRICS = st.one_of(st.sampled_from(load_catalog().ids()), HOSTILE)
DIMENSIONS = st.one_of(st.sampled_from(sorted(ALL_DIMENSIONS)), HOSTILE)
DATES = st.one_of(st.none(), st.dates(dt.date(1900, 1, 1), dt.date(2100, 1, 1)))
FUZZ = settings(max_examples=150, deadline=None,
                suppress_health_check=[HealthCheck.function_scoped_fixture])


@pytest.fixture(scope="module")
def company() -> Tiny:
    tiny = Tiny()
    tiny.team("T1")
    tiny.team("T2")
    tiny.rep("R1", "T1")
    tiny.rep("R2", "T2")
    tiny.account("acc", "Retail")
    for rep in ("R1", "R2"):
        tiny.deal(rep, "2025-01-05", "2025-02-01", won=True, amount=100, account="acc")
        tiny.activity(rep, "2025-01-10", type="meeting", n=2)
    add_user(tiny.store, "ann", "Ann", "rep", "correct horse battery", rep_id="R1")
    return tiny


def contents(tiny: Tiny) -> dict[str, pd.DataFrame]:
    return {t: tiny.store.query(f"SELECT * FROM {t} ORDER BY ALL")
            for t in ("reps", "opportunities", "activities", "users")}


@FUZZ
@given(metric=METRICS, grain=st.one_of(st.sampled_from(GRAINS), HOSTILE),
       by=st.lists(DIMENSIONS, max_size=2), filters=st.dictionaries(DIMENSIONS, st.lists(HOSTILE,
       max_size=2), max_size=2), date_from=DATES, date_to=DATES)
def test_engine_requests_stay_in_scope(company: Tiny, metric: str, grain: str, by: list[str],
                                       filters: dict[str, list[str]], date_from: dt.date | None,
                                       date_to: dt.date | None) -> None:
    before = contents(company)
    request = MetricRequest.make(metric, grain=grain, by=by, filters=filters, date_from=date_from,
                                 date_to=date_to, scope=Scope.reps("R1"))
    try:
        frame = Engine(company.store).run(request)
    except DatabaseError as exc:  # a SQL error reached the user
        pytest.fail(f"SQL error leaked for {request}: {exc}")
    except KpiError:
        frame = None
    if frame is not None and "rep" in frame.columns:
        assert set(frame["rep"].dropna()) <= {"Rep R1"}
    if frame is not None and len(frame) and metric == "revenue" and not filters:
        assert frame["value"].fillna(0).sum() <= 100  # R2's deal never counts
    after = contents(company)
    assert all(before[t].equals(after[t]) for t in before)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(login=HOSTILE, password=HOSTILE)
def test_sign_in_fields(company: Tiny, login: str, password: str) -> None:
    users = company.store.query("SELECT * FROM users ORDER BY ALL")
    with pytest.raises(SignInFailed):
        authenticate(company.store, login, password)
    assert users.equals(company.store.query("SELECT * FROM users ORDER BY ALL"))
    with company.store.transaction():
        company.store.execute("DELETE FROM login_failures")
