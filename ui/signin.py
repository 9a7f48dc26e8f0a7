"""Sign in: a local account, single sign-on when configured, or (demo company only) a demo user.

Drawn by app.py instead of any page while nobody is signed in, so the address (page and view
in the URL) survives the sign-in: a shared link opens where it points once the user is in.
Nothing here writes to the database but the first administrator, and a visitor who is not
signed in never sees an error's details (a path, a process id): those go to the server log.
"""

from __future__ import annotations

import logging

import streamlit as st

from kpi.auth import SignInFailed
from kpi.errors import InvalidRequest
from ui import data, session, widgets

LOG = logging.getLogger("leverboard.signin")
UNAVAILABLE = ("leverboard is not available right now. Try again in a moment; if it lasts, the "
               "administrator will find the cause in the server log.")


def show() -> None:
    """The sign-in screen."""
    st.title("leverboard")
    st.caption("Is the sales strategy working? Sign in to see your outputs and levers.")
    if st.session_state.pop("auth:expired", False):
        st.info("You were signed out after a period without activity. Sign in again.")
    try:
        _screen()
    except Exception:  # noqa: BLE001 - before sign-in, no error shows its details
        LOG.exception("the sign-in screen failed")
        st.error(UNAVAILABLE)


def _screen() -> None:
    users = data.users()
    if not users:
        _first_admin()
        return

    left, right = st.columns([1, 1], gap="large")
    with left, st.form("sign_in"):
        st.subheader("Sign in")
        login = st.text_input("User id or email", max_chars=200)
        password = st.text_input("Password", type="password", max_chars=200)
        if st.form_submit_button("Sign in", type="primary"):
            try:
                user = data.authenticate(login, password)
            except SignInFailed as exc:
                st.error(str(exc))  # the app's own words, nothing from the data
            else:
                session.sign_in(user.user_id)
                st.rerun()

    if session.sso_configured():
        with left:
            if "auth:sso_error" in st.session_state:
                st.error(widgets.md(st.session_state.pop("auth:sso_error")))
                st.button("Sign out of single sign-on", on_click=st.logout)
            else:
                st.button("Sign in with single sign-on", on_click=st.login)

    if session.is_local() and data.is_demo():
        with right, st.container(border=True):
            st.subheader("Demo company")
            st.caption("This database is the generated demo company, so its users can be tried "
                       "without a password. A real database never offers this.")
            by_id = {u.user_id: u for u in users}
            picked = st.selectbox("Demo user", list(by_id), key="w:demo_user",
                                  format_func=lambda i: f"{by_id[i].name} — {by_id[i].role}"
                                  + (f", {by_id[i].team_id}" if by_id[i].team_id else ""))
            if st.button("Enter the demo as this user"):
                session.sign_in(picked)
                st.rerun()


def _first_admin() -> None:
    """The first-run screen of a database without users: its first admin, from this machine."""
    if not session.is_local():
        st.info("This database has no users yet. Create the first administrator from a browser "
                "on the server's own machine, or on the server with "
                "`python -m kpi user add admin --db FILE --role admin`.")
        return
    with st.form("first_admin"):
        st.subheader("Create the first administrator")
        st.caption("This database has no users yet. The first account is an admin, who can then "
                   "import data and add everyone else on the Users page.")
        user_id = st.text_input("User id", value="admin")
        name = st.text_input("Name")
        first = st.text_input("Password (10 characters or more)", type="password")
        again = st.text_input("Password again", type="password")
        if st.form_submit_button("Create and sign in", type="primary"):
            from kpi.auth import add_user

            try:
                if first != again:
                    raise InvalidRequest("the two passwords differ", "type the same password twice")
                created = add_user(session.writer(), user_id, name or user_id, "admin", first)
            except InvalidRequest as exc:
                st.error(widgets.md(exc))
            else:
                session.sign_in(created.user_id)
                st.rerun()
