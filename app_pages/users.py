"""Users (admins only): add users, bind them to a rep or a team, set roles, reset passwords."""

import streamlit as st

from kpi.auth import add_user, set_password, update_user
from kpi.engine import Scope
from kpi.schema import ROLES
from ui import data, session, widgets

st.title("Users")
st.caption("Who may sign in, and what each may see: an executive or admin everything, a manager "
           "their team, a rep only their own numbers. Passwords are stored as argon2 hashes.")
if session.user().role != "admin":
    st.error("Only admins manage users.")
    st.stop()
users = data.users()
team_names = dict(data.teams(Scope.everyone()))
lo, hi = data.data_range() if users else (None, None)
reps = {m.rep_id: m.name for m in data.members(Scope.everyone(), lo, hi)} if lo else {}

st.dataframe([{"user": u.user_id, "name": u.name, "role": u.role,
               "bound to": reps.get(u.rep_id or "", "") or team_names.get(u.team_id or "", "")}
              for u in users], hide_index=True, width="stretch")


def binding(prefix: str, role: str) -> tuple[str | None, str | None]:
    rep = team = None
    if role == "rep":
        rep = st.selectbox("Rep", list(reps), format_func=reps.get, key=f"{prefix}_rep")
    if role == "manager":
        team = st.selectbox("Team", list(team_names), format_func=team_names.get,
                            key=f"{prefix}_team")
    return rep, team


widgets.confirmation()

add, edit, reset = st.tabs(["Add a user", "Change role or binding", "Reset a password"])
with add:
    user_id = st.text_input("User id", key="add_id")
    name = st.text_input("Name", key="add_name")
    email = st.text_input("Email (for single sign-on)", key="add_email")
    role = st.selectbox("Role", ROLES, key="add_role")
    rep, team = binding("add", role)
    password = st.text_input("Password (10 characters or more)", type="password", key="add_pw")
    if st.button("Add user", type="primary"):
        widgets.save(lambda: add_user(session.writer(), user_id, name, role, password or None,
                                      email or None, rep, team),
                     f"Added {widgets.md(user_id)}.")

if not users:
    widgets.empty("No users yet.")
    st.stop()
by_id = {u.user_id: u for u in users}
with edit:
    chosen = st.selectbox("User", list(by_id), key="edit_user",
                          format_func=lambda i: f"{by_id[i].name} ({i})")
    current = by_id[chosen]
    role = st.selectbox("Role", ROLES, index=ROLES.index(current.role), key=f"edit_role_{chosen}")
    rep, team = binding(f"edit_{chosen}", role)
    if st.button("Save"):
        widgets.save(lambda: update_user(session.writer(), chosen, name=current.name, role=role,
                                         email=None, rep_id=rep, team_id=team),
                     f"Saved {widgets.md(chosen)}.")
with reset:
    chosen = st.selectbox("User", list(by_id), key="reset_user",
                          format_func=lambda i: f"{by_id[i].name} ({i})")
    password = st.text_input("New password", type="password", key="reset_pw")
    if st.button("Set password"):
        widgets.save(lambda: set_password(session.writer(), chosen, password),
                     f"Password set for {widgets.md(chosen)}; their failed sign-ins are cleared.")
