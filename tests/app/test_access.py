"""Who may see what, through the app: sign-in, timeouts, and tampering that must not widen scope."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from streamlit.testing.v1 import AppTest

from kpi.auth import THROTTLE, set_password
from kpi.engine import Engine, Scope
from kpi.people import get_user, list_users, members
from kpi.store import DuckDBStore
from kpi.views import as_of
from tests.app.conftest import APP, Opener, _opener, open_tables
from ui.frame import ROLE_PAGES

PASSWORD = "correct horse battery"


def signed_out(**query: str) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=60)
    for key, value in query.items():
        at.query_params[key] = value
    return at.run()


def all_text(at: AppTest) -> str:
    """Everything a page shows as text: markdown, captions, metrics, tables, picker options."""
    parts = [e.value for e in (*at.markdown, *at.caption, *at.title, *at.header, *at.subheader)]
    parts += [f"{m.label} {m.value}" for m in at.metric]
    parts += [d.value.to_csv() for d in at.dataframe]
    parts += [" ".join(map(str, s.options)) for s in at.selectbox]
    return "\n".join(parts)


def names_outside(engine: Engine, scope: Scope, text: str) -> list[str]:
    day = as_of(engine)
    inside = {m.name for m in members(engine.store, scope, dt.date(2000, 1, 1), day)}
    everyone = {m.name for m in members(engine.store, Scope.everyone(), dt.date(2000, 1, 1), day)}
    return sorted(n for n in everyone - inside if n in text)


def test_nothing_shows_before_sign_in(open_page: Opener, monkeypatch: pytest.MonkeyPatch) -> None:
    from ui import session

    monkeypatch.setattr(session, "is_local", lambda: True)  # a browser on this machine
    at = signed_out()
    assert at.title[0].value == "leverboard"
    assert not at.metric and not at.dataframe
    assert at.text_input[0].label == "User id or email"
    assert "Demo company" in all_text(at)  # the demo database offers demo users, labelled


def test_sign_in_with_a_password_and_throttling(writable_app: Path) -> None:
    store = DuckDBStore.shared(writable_app, read_only=False)  # the app's own way in to the file
    set_password(store, "mgr-t1", PASSWORD)
    at = signed_out()
    at.text_input[0].input("mgr-t1")
    at.text_input[1].input("not the password")
    at.button[0].click().run()
    assert "wrong login or password" in at.error[0].value
    for _ in range(2):
        at.text_input[1].input("still wrong")
        at.button[0].click().run()
        assert "wrong login or password" in at.error[0].value
    for _ in range(8):  # and more, faster than a slow machine runs the app
        THROTTLE.failed("unknown", "mgr-t1", dt.datetime.now())
    at.text_input[1].input(PASSWORD)
    at.button[0].click().run()
    assert "too many failed sign-ins: wait" in at.error[0].value
    THROTTLE.clear()  # the wait is over
    at.button[0].click().run()
    assert not at.exception and "Signed in as **Atlas Manager**" in all_text(at)


def test_a_real_database_offers_no_demo_users(writable_app: Path,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    from ui import session

    monkeypatch.setattr(session, "is_local", lambda: True)  # even on this machine
    store = DuckDBStore.shared(writable_app, read_only=False)
    with store.transaction():
        store.execute("DELETE FROM demo_truth")
    assert "Demo company" not in all_text(signed_out())


def test_an_idle_session_is_signed_out(open_page: Opener) -> None:
    at = AppTest.from_file(APP, default_timeout=60)
    at.session_state["auth:user"] = "exec"
    at.session_state["auth:seen"] = dt.datetime.now() - dt.timedelta(hours=3)
    at.run()
    assert "signed out after a period without activity" in all_text(at) + at.info[0].value
    assert not at.metric


def test_a_deleted_user_is_signed_out(open_page: Opener) -> None:
    at = AppTest.from_file(APP, default_timeout=60)
    at.session_state["auth:user"] = "no-such-user"
    at.run()
    assert at.text_input[0].label == "User id or email"


MANAGER_PAGES = ROLE_PAGES["manager"]


@pytest.mark.parametrize("page", MANAGER_PAGES)
def test_a_manager_sees_no_rep_outside_the_team(open_page: Opener, demo_engine: Engine,
                                                page: str) -> None:
    at = open_page("mgr-t1", page, tables=True, team="T2", rep="R001", by="rep")  # tampered link
    assert not names_outside(demo_engine, Scope.teams("T1"), all_text(at))


REP_PAGES = ROLE_PAGES["rep"]


@pytest.mark.parametrize("page", REP_PAGES)
def test_a_rep_sees_only_their_own_name(open_page: Opener, demo_engine: Engine, page: str) -> None:
    at = open_page("rep-r002", page, tables=True, team="T1", rep="R001", by="rep",
                   metric="activities")
    user = get_user(demo_engine.store, "rep-r002")
    assert not names_outside(demo_engine, Scope.reps(user.rep_id), all_text(at))


def test_tampered_session_state_does_not_widen_scope(demo_engine: Engine, open_page: Opener) -> None:
    at = AppTest.from_file(APP, default_timeout=60)
    at.session_state["auth:user"] = "mgr-t1"
    at.session_state["pref:team"] = "T2"
    at.session_state["w:team"] = "T2"
    at.run()
    at.switch_page("app_pages/team.py")
    at.run()
    open_tables(at)
    assert "Atlas" in at.title[0].value and at.selectbox(key="w:team").options == ["Atlas"]
    assert not names_outside(demo_engine, Scope.teams("T1"), all_text(at))


def test_every_user_of_the_demo_can_open_their_first_page(demo_engine: Engine,
                                                          open_page: Opener) -> None:
    first = {"executive": "outputs", "admin": "outputs", "manager": "team", "rep": "me"}
    for user in list_users(demo_engine.store)[::9]:
        at = _opener(user.user_id, first[user.role])
        assert not at.error, user


PARAMS = st.dictionaries(
    st.sampled_from(["team", "rep", "by", "metric", "grain", "from", "to", "initiative", "lever",
                     "segment", "as", "user"]),
    st.one_of(st.text(max_size=30), st.sampled_from(["T2", "R001", "rep", "team", "2099-01-01",
                                                     "1900-13-45", "' OR 1=1 --", "exec"])),
    max_size=5)


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(params=PARAMS, page=st.sampled_from(REP_PAGES))
def test_hostile_links_for_a_rep(open_page: Opener, demo_engine: Engine, params: dict[str, str],
                                 page: str) -> None:
    at = open_page("rep-r002", page, tables=True, **params)  # opens without an exception (asserted inside)
    user = get_user(demo_engine.store, "rep-r002")
    assert not names_outside(demo_engine, Scope.reps(user.rep_id), all_text(at))


def test_single_sign_on_is_offered_when_configured(open_page: Opener) -> None:
    at = AppTest.from_file(APP, default_timeout=60)
    at.secrets["auth"] = {"redirect_uri": "http://localhost:8501/oauth2callback",
                          "cookie_secret": "x" * 32, "client_id": "id", "client_secret": "secret",
                          "server_metadata_url": "https://idp.example.com/.well-known/openid-configuration"}
    at.run()
    assert "Sign in with single sign-on" in [b.label for b in at.button]
    assert "Sign in with single sign-on" not in [b.label for b in signed_out().button]


def test_an_admin_adds_a_user_and_resets_a_password(writable_app: Path) -> None:
    at = _opener("admin", "users")
    at.text_input(key="add_id").input("casey")
    at.text_input(key="add_name").input("Casey Ops")
    at.selectbox(key="add_role").set_value("executive")
    at.text_input(key="add_pw").input(PASSWORD)
    next(b for b in at.button if b.label == "Add user").click().run()
    assert "Added casey." in at.success[0].value
    at.selectbox(key="reset_user").set_value("casey")
    at.text_input(key="reset_pw").input("another passphrase")
    next(b for b in at.button if b.label == "Set password").click().run()
    assert not at.exception
    store = DuckDBStore.shared(writable_app, read_only=False)
    stored = store.scalar("SELECT password_hash FROM users WHERE user_id = 'casey'")
    assert stored.startswith("$argon2id$") and PASSWORD not in stored
    from kpi.auth import authenticate

    assert authenticate(store, "casey", "another passphrase").role == "executive"


def test_only_admins_reach_the_users_page(open_page: Opener) -> None:
    at = open_page("exec", "outputs")
    with pytest.raises(ValueError, match="Could not find a navigation page"):
        at.switch_page("app_pages/users.py")
