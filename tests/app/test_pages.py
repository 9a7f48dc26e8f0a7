"""Every page as each role on the demo company, and the numbers shown are the engine's."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

from kpi.catalog import load_catalog as demo_catalog
from kpi.engine import Engine, MetricRequest, Scope
from kpi.initiatives import get_initiative
from kpi.people import get_user, list_users, members
from kpi.store import DuckDBStore
from kpi.summary import format_value
from kpi.views import (
    as_of,
    cards,
    initiatives_for,
    lead_lags,
    lever_weeks,
    levers_to_push,
)
from tests.app.conftest import APP, Opener, _opener
from ui.frame import ROLE_PAGES

# what the shipped catalog shows (its `shown_in`), written out: the pages must show exactly these
OUTPUTS = ("revenue", "quota_attainment", "win_rate", "avg_deal_size", "gross_margin",
           "sales_cycle_days", "new_logos")
CONSEQUENCES = ("revenue", "win_rate", "avg_deal_size", "sales_cycle_days")
LEAD_LEVERS = ("new_prospect_meetings", "demos", "proposals_sent", "opps_created",
               "pipeline_created", "calls")
LEAD_OUTPUTS = ("win_rate", "revenue")

USERS = {"exec": "executive", "admin": "admin", "mgr-t1": "manager", "rep-r002": "rep"}
ROLES = {user: ROLE_PAGES[role] for user, role in USERS.items()}
CASES = [(user, page) for user, pages in ROLES.items() for page in pages]


def shown(at: AppTest) -> dict[str, str]:
    return {m.label: m.value for m in at.metric}


@pytest.mark.parametrize(("user", "page"), CASES, ids=[f"{u}-{p}" for u, p in CASES])
def test_every_page_opens_for_every_role(open_page: Opener, user: str, page: str) -> None:
    at = open_page(user, page)
    assert at.title, "every page has a title"
    assert not at.error


def test_a_rep_cannot_open_manager_or_executive_pages(open_page: Opener) -> None:
    at = open_page("rep-r002", "me")
    for page in ("outputs", "segments", "team", "coaching", "data", "users"):
        with pytest.raises(ValueError, match="Could not find a navigation page"):
            at.switch_page(f"app_pages/{page}.py")


def test_executive_outputs_equal_the_engine(open_page: Opener, demo_engine: Engine) -> None:
    at = open_page("exec", "outputs")
    day = as_of(demo_engine)
    initiative = initiatives_for(demo_engine, Scope.everyone())[0]
    expected = cards(demo_engine, OUTPUTS, "quarter", day, Scope.everyone(), initiative)
    values = shown(at)
    for card in expected:
        assert values[card.label] == format_value(card.value, card.unit)
    # and the card is the engine's plain quarter-to-date number
    revenue = demo_engine.run(MetricRequest.make("revenue", grain="total",
                                                 date_from=expected[0].window.start, date_to=day))
    assert values["Revenue"] == format_value(float(revenue["value"].iloc[0]), "currency")
    deltas = {m.label: m.delta for m in at.metric}
    assert deltas["Win rate"].endswith("vs baseline")


def test_grain_comes_from_the_link(open_page: Opener, demo_engine: Engine) -> None:
    at = open_page("exec", "outputs", grain="month")
    assert at.segmented_control(key="w:grain").value == "month"
    day = as_of(demo_engine)
    (revenue,) = cards(demo_engine, ["revenue"], "month", day, Scope.everyone(),
                       initiatives_for(demo_engine, Scope.everyone())[0])
    assert shown(at)["Revenue"] == format_value(revenue.value, "currency")
    at.segmented_control(key="w:grain").set_value("year").run()
    assert at.query_params["grain"] == "year"


def test_manager_sees_their_team(open_page: Opener, demo_engine: Engine) -> None:
    at = open_page("mgr-t1", "team", tables=True)
    assert "Atlas" in at.title[0].value
    assert [o for o in at.selectbox(key="w:team").options] == ["Atlas"]
    day = as_of(demo_engine)
    initiative = initiatives_for(demo_engine, Scope.teams("T1"))[0]
    for card in cards(demo_engine, CONSEQUENCES,
                      "quarter", day, Scope.teams("T1"), initiative):
        assert shown(at)[card.label] == format_value(card.value, card.unit)
    heat = lever_weeks(demo_engine, "new_prospect_meetings", Scope.teams("T1"), day, 12, initiative)
    table = at.dataframe[0].value
    assert sorted(table["rep"].unique()) == sorted(heat["rep"].unique())
    assert table["value"].sum() == pytest.approx(heat["value"].sum())
    team_reps = {m.name for m in members(demo_engine.store, Scope.teams("T1"), heat["period"].min(),
                                         day)}
    assert set(table["rep"]) <= team_reps


def test_rep_sees_only_their_own_numbers(open_page: Opener, demo_engine: Engine) -> None:
    at = open_page("rep-r002", "me", tables=True)
    user = get_user(demo_engine.store, "rep-r002")
    day = as_of(demo_engine)
    initiative = initiatives_for(demo_engine, Scope.reps(user.rep_id))[0]
    for card in cards(demo_engine, ("revenue", "win_rate"), "quarter", day,
                      Scope.reps(user.rep_id), initiative):
        assert shown(at)[card.label] == format_value(card.value, card.unit)
    text = " ".join([m.value for m in at.markdown] + [str(d.value) for d in at.dataframe])
    others = [u.name for u in list_users(demo_engine.store) if u.role == "rep" and u.user_id != "rep-r002"]
    assert not [name for name in others if name in text]
    assert "pace" in " ".join(m.value for m in at.markdown)


def test_coaching_lists_only_the_managers_reps(open_page: Opener, demo_engine: Engine) -> None:
    at = open_page("mgr-t2", "coaching")
    options = at.selectbox(key="w:rep").options
    day = as_of(demo_engine)
    allowed = {m.name for m in members(demo_engine.store, Scope.teams("T2"),
                                       day.replace(year=day.year - 1), day)}
    assert options and set(options) <= allowed


def test_explore_is_scoped_for_a_rep(open_page: Opener, demo_engine: Engine) -> None:
    at = open_page("rep-r002", "explore", tables=True, metric="revenue", grain="quarter")
    assert "rep" not in at.selectbox(key="w:by").options
    user = get_user(demo_engine.store, "rep-r002")
    table = at.dataframe[0].value
    lo, hi = table["period"].min(), as_of(demo_engine)
    mine = demo_engine.run(MetricRequest.make("revenue", grain="quarter", date_from=lo, date_to=hi,
                                              scope=Scope.reps(user.rep_id)))
    assert table["value"].sum() == pytest.approx(mine["value"].sum())


def test_explore_offers_a_rep_only_the_reps_metrics(open_page: Opener) -> None:
    """The engine refuses the others too (tests/security/test_metric_roles.py)."""
    at = open_page("rep-r002", "explore", metric="gross_margin", grain="quarter")
    options = at.selectbox(key="w:metric").options  # the labels shown
    labels = {m.label for m in demo_catalog().metrics}
    hidden = {demo_catalog().get(m).label for m in ("gross_margin", "median_deal_size",
                                                    "win_rate_value")}
    assert [o for o in options if o.rsplit(" (", 1)[0] in hidden] == []
    assert "Win rate (output)" in options and len(options) == len(labels) - 3
    assert at.selectbox(key="w:metric").value == "win_rate"  # the URL's gross_margin is ignored
    assert not at.error and not at.exception


def test_creating_and_recalibrating_survive_a_restart(writable_app: Path) -> None:
    at = _opener("exec", "rollouts")
    at.text_input(key="new_name").input("Demo push")
    at.text_area(key="new_strategy").input("More revenue from demos.")
    at.text_area(key="new_tactics").input("+30% demos per rep-week.")
    at.multiselect(key="new_metrics").select("demos").run()
    at.number_input(key="new_change_demos").set_value(30.0)
    at.button[0].click().run()
    assert not at.exception
    assert "Created" in at.success[0].value
    at.selectbox(key="re_metric").set_value("demos")
    at.number_input(key="re_change").set_value(40.0)
    at.text_input(key="re_note").input("ahead of plan")
    next(b for b in at.button if b.label == "Re-calibrate").click().run()
    assert not at.exception, [e.message for e in at.exception]

    restarted = _opener("exec", "rollouts", initiative="demo-push")
    assert any("Demo push" in m.value for m in restarted.markdown)
    with DuckDBStore.open(writable_app) as store:
        initiative = get_initiative(store, "Demo push")
    assert [t.change_pct for t in initiative.target_history("demos")] == [0.3, 0.4]


def test_a_missing_database_says_what_to_do(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from ui import session

    monkeypatch.setenv("KPI_DB", str(tmp_path / "none.duckdb"))
    at = AppTest.from_file(APP, default_timeout=30).run()
    assert "make run" not in at.error[0].value  # a visitor from elsewhere learns nothing
    monkeypatch.setattr(session, "is_local", lambda: True)  # the operator, on the machine
    at = AppTest.from_file(APP, default_timeout=30).run()
    assert "make run" in at.error[0].value


def test_every_page_works_before_any_initiative_exists(writable_app: Path) -> None:
    with DuckDBStore.open(writable_app, read_only=False) as store, store.transaction():
        for table in ("reviews", "initiative_targets", "initiative_teams", "initiatives"):
            store.execute(f"DELETE FROM {table}")
    for user, pages in (("exec", ROLES["exec"]), ("mgr-t1", ["team"]), ("rep-r002", ["me"])):
        for page in pages:
            at = _opener(user, page)
            assert not at.error
            if page in ("outputs", "team", "me"):
                assert any("No strategy rollout yet" in i.value for i in at.info)
                assert at.metric, "the numbers still show, compared with last year"


def test_executive_insights_show_which_levers_lead(open_page: Opener, demo_engine: Engine) -> None:
    at = open_page("exec", "insights")
    assert "Which levers lead the outputs" in [h.value for h in at.subheader]
    expected = lead_lags(demo_engine, LEAD_LEVERS, LEAD_OUTPUTS, as_of(demo_engine))
    table = next(d.value for d in at.dataframe if "verdict" in d.value and "p" in d.value)
    assert table["verdict"].tolist() == expected["verdict"].tolist()
    assert table["lag (weeks)"].tolist() == expected["lag"].tolist()
    through = f"on data through {demo_engine.data_range()[1]:%d %b %Y}."
    assert sum(c.value.startswith("Computed ") and c.value.endswith(through)
               for c in at.caption) == 3  # the forecast, the rollout, the lead-lag table


@pytest.mark.parametrize(("user", "title"), [("rep-r002", "Which levers to push this week"),
                                             ("mgr-t1", "Which levers to push in your team")])
def test_reps_and_managers_see_which_levers_to_push(open_page: Opener, demo_engine: Engine,
                                                    user: str, title: str) -> None:
    at = open_page(user, "insights")
    assert title in [h.value for h in at.subheader]
    viewer = get_user(demo_engine.store, user)
    day = as_of(demo_engine)
    leads = lead_lags(demo_engine, LEAD_LEVERS, LEAD_OUTPUTS, day)
    initiative = initiatives_for(demo_engine, viewer.scope)[0]
    expected = levers_to_push(demo_engine, viewer.scope, day, initiative, leads)
    table = next(d.value for d in at.dataframe if "vs goal" in d.value)
    assert table["lever"].tolist() == expected["lever_label"].tolist()
    assert table["vs goal"].tolist() == pytest.approx((expected["vs_goal"] * 100).tolist(),
                                                      nan_ok=True)  # percent points, signed
    pushed = expected[expected["push"]]["lever_label"].tolist()
    bullets = " ".join(m.value for m in at.markdown)
    assert all(f"**{name}**" in bullets for name in pushed)


def test_every_number_on_a_page_names_its_window(open_page: Opener, demo_engine: Engine) -> None:
    """The initiative card (latest complete weeks) and the team's cards (quarter to date) show
    two win rates: each says which days it covers."""
    at = open_page("mgr-t1", "team")
    initiative = initiatives_for(demo_engine, Scope.teams("T1"))[0]
    day = as_of(demo_engine)
    captions = [c.value for c in at.caption]
    assert any(c.startswith("Latest 13 weeks after the rollout (29 Jun–27 Sep 2026) against the "
                            f"baseline ({initiative.baseline_start:%d %b}–") for c in captions)
    assert any(c.startswith(f"01 Jul–{day:%d %b %Y} · same days last year") for c in captions)


def test_a_team_initiative_is_no_one_elses_default(writable_app: Path) -> None:
    with DuckDBStore.open(writable_app, read_only=False) as store:
        from kpi.initiatives import create_initiative

        day = as_of(Engine(store))
        create_initiative(store, name="Delta only", strategy="s", tactics="t", rollout_date=day,
                          baseline_weeks=13, target_date=day.replace(year=day.year + 1),
                          teams={"T4": day}, targets={"demos": 0.3})
    executive = _opener("exec", "outputs")
    assert executive.selectbox(key="w:initiative").value != "delta-only"
    assert "Delta only" in executive.selectbox(key="w:initiative").options  # still on offer
    other_team = _opener("mgr-t2", "team")
    assert other_team.selectbox(key="w:initiative").options == ["Win rate +25% through focus"]
    delta = _opener("mgr-t4", "team")
    assert delta.selectbox(key="w:initiative").value == "delta-only"
    # created today: its card reads "too early to tell", not one day as the current trend
    assert any(m.value == "—" and m.delta.startswith("too early to tell") for m in delta.metric)


def test_a_server_on_insights_of_other_code_computes_them_in_the_background(
        writable_app: Path) -> None:
    """After an upgrade the kept insights are another code's: the first page a server draws
    starts computing this code's, so the first visit to Insights reads them."""
    from kpi import views
    from kpi.insights import stored

    with DuckDBStore.open(writable_app, read_only=False) as store:
        store.execute("UPDATE stored_insights SET insight_key = 'old:' || insight_key")
        assert not views.insights_current(Engine(store))
    at = _opener("rep-r002", "me")
    assert not at.exception and not at.error
    assert stored.wait_idle(120)
    assert views.insights_current(Engine(DuckDBStore.shared(writable_app)))


def _drawn(at: AppTest) -> list[tuple[str, np.ndarray]]:
    """Each chart's value line: its name and y values (decoded from Plotly's typed arrays)."""
    out = []
    for chart in at.get("plotly_chart"):
        trace = json.loads(chart.proto.spec)["data"][-1]  # the value line is drawn last
        y = trace["y"]
        values = (np.frombuffer(base64.b64decode(y["bdata"]), dtype=y["dtype"]) if isinstance(y, dict)
                  else np.asarray(y, dtype=float))
        out.append((trace["name"], values.astype(float)))
    return out


def test_each_chart_draws_its_own_viewers_table_after_others_drew_theirs(open_page: Opener) -> None:
    """Figures are built once per distinct input and shared between viewers: each chart must
    still draw the numbers of the table beside it, for the viewer who opened the page, after other
    viewers (another rep, the executive) have had theirs built in the same process."""
    first: dict[str, list[tuple[str, np.ndarray]]] = {}
    for user, page in (("rep-r002", "me"), ("rep-r003", "me"), ("exec", "outputs"),
                       ("mgr-t1", "coaching"), ("rep-r002", "me")):
        at = open_page(user, page, tables=True)
        drawn = _drawn(at)
        assert drawn, f"{user} on {page}: no chart"
        for (name, y), frame in zip(drawn, at.dataframe[:len(drawn)], strict=True):
            table = frame.value["value"].to_numpy(dtype=float)
            assert np.allclose(y, table, equal_nan=True), (user, page, name)
        if user in first:  # the same viewer, the same charts
            assert [n for n, _ in first[user]] == [n for n, _ in drawn]
            assert all(np.allclose(a, b, equal_nan=True) for (_, a), (_, b) in
                       zip(first[user], drawn, strict=True))
        first.setdefault(user, drawn)
    assert not np.allclose(first["rep-r002"][0][1], first["rep-r003"][0][1], equal_nan=True)


@pytest.mark.parametrize("user", ["exec", "admin"])
def test_the_executives_and_the_admins_insights_read_what_was_kept(
        open_page: Opener, monkeypatch: pytest.MonkeyPatch, user: str) -> None:
    """The statistics computed after the import answer both on their first visit: nothing is
    computed while the page is drawn (an admin reads the company as the executive does)."""
    from kpi.insights import stored

    computed: list[str] = []
    timed = stored._timed

    def computing(engine: object, fn: object, args: tuple[object, ...]) -> object:
        computed.append(getattr(fn, "__name__", str(fn)))
        return timed(engine, fn, args)  # type: ignore[arg-type]

    monkeypatch.setattr(stored, "_timed", computing)
    at = open_page(user, "insights")
    assert not at.exception and not at.error
    assert [m.label for m in at.metric][:2] == ["Booked so far", "Expected at quarter end"]
    assert computed == []
