"""The app runs on PostgreSQL through KPI_DATABASE_URL and shows the same numbers as on DuckDB."""

from __future__ import annotations

import pytest

from kpi.engine import Engine, Scope
from kpi.store import SqlStore
from kpi.summary import format_value
from kpi.views import as_of, cards, initiatives_for
from tests.app.conftest import _opener


@pytest.mark.parametrize(("user", "page"), [("exec", "outputs"), ("mgr-t1", "team"),
                                            ("rep-r002", "me"), ("exec", "segments")])
def test_pages_on_postgres(pg_demo: SqlStore, pg_url: str, demo_engine: Engine,
                           monkeypatch: pytest.MonkeyPatch, user: str, page: str) -> None:
    monkeypatch.setenv("KPI_DATABASE_URL", pg_url)
    at = _opener(user, page)
    assert not at.error
    if page == "outputs":
        day = as_of(demo_engine)
        initiative = initiatives_for(demo_engine, Scope.everyone())[0]
        shown = {m.label: m.value for m in at.metric}
        outputs = demo_engine.catalog.shown("outputs")
        for card in cards(demo_engine, outputs, "quarter", day, Scope.everyone(), initiative):
            assert shown[card.label] == format_value(card.value, card.unit)


def test_the_url_can_come_from_streamlit_secrets(pg_demo: SqlStore, pg_url: str,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    from streamlit.testing.v1 import AppTest

    from tests.app.conftest import APP

    monkeypatch.delenv("KPI_DATABASE_URL", raising=False)
    monkeypatch.setenv("KPI_DB", "/nonexistent.duckdb")
    at = AppTest.from_file(APP, default_timeout=60)
    at.secrets["connections"] = {"sql": {"url": pg_url}}
    at.session_state["auth:user"] = "exec"
    at.run()
    at.switch_page("app_pages/outputs.py")
    at.run()
    assert not at.exception and not at.error
    assert "Revenue" in [m.label for m in at.metric]


def test_insights_agree_on_postgres(pg_demo: SqlStore, demo_engine: Engine) -> None:
    """The forecast's SQL (stage as of a day, FILTER) and the insights' inputs run on PostgreSQL
    and give the DuckDB answers."""
    import datetime as dt

    from kpi.insights.forecast import forecast
    from kpi.periods import Window
    from kpi.views import lead_lags, rep_win_rates

    pg = Engine(pg_demo)
    day = dt.date(2026, 8, 15)
    for scope in (Scope.everyone(), Scope.teams("T1")):
        a, b = forecast(demo_engine, scope, day, draws=500), forecast(pg, scope, day, draws=500)
        assert (a.booked, a.open_deals, a.created_recently) == (b.booked, b.open_deals,
                                                                b.created_recently)
        assert (a.open_expected, a.new_expected, a.low, a.high) == pytest.approx(
            (b.open_expected, b.new_expected, b.low, b.high))
    duck = lead_lags(demo_engine, ("demos", "calls"), ("win_rate",), day)
    assert duck.equals(lead_lags(pg, ("demos", "calls"), ("win_rate",), day))
    year = Window(day - dt.timedelta(days=364), day)
    assert rep_win_rates(demo_engine, Scope.everyone(), year).equals(
        rep_win_rates(pg, Scope.everyone(), year))


def test_insights_are_kept_in_postgres_and_are_duckdbs(pg_demo: SqlStore, demo_engine: Engine
                                                       ) -> None:
    """PostgreSQL keeps its own insights (bytea payloads): computed there, read back, equal to
    the ones the demo's DuckDB file keeps (to rounding: the two databases add up in their own
    order)."""
    from kpi import views
    from kpi.insights import stored
    from tests.insights.test_stored_on_demo import same

    pg = Engine(pg_demo)
    took = views.refresh_insights(pg, pg_demo)
    assert all(isinstance(seconds, float) for seconds in took.values()), took
    for fn, args in views.insight_questions(pg):
        kept = stored.status(pg, fn, *args)
        assert kept is not None and kept.fresh, fn.__name__
        same(stored.answer(pg, fn, *args), stored.answer(demo_engine, fn, *args), fn.__name__,
             rtol=1e-9)
