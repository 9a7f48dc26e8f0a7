"""Insights per role: executives see what the rollout caused, where the quarter will land and
which levers lead; managers see which levers matter for their team; reps which of theirs to push."""

import streamlit as st

from kpi.views import last_year
from ui import frame, honest, insights

INTRO = {
    "manager": "Which levers lead win rate, and where your team stands on them.",
    "rep": "Which of your levers lead win rate, and which to push this week.",
}
page = frame.start("Insights", INTRO.get(page_role := st.session_state["user"].role,
                                         "Where the quarter will land, what the rollout caused and "
                                         "which levers lead — with how sure we can be."), card=False)
year = last_year(page.day)
if page_role == "rep":
    if page.user.rep_id is None:
        st.info("Your account is not bound to a rep: ask an admin to link it.")
        st.stop()
    insights.levers_to_push(page, page.user.scope, " this week")
elif page_role == "manager":
    insights.levers_to_push(page, page.user.scope, " in your team")
    insights.where_we_land(page, page.user.scope, "your team")
    honest.show(page.user.scope, year, "team_insights")
else:
    insights.where_we_land(page, page.user.scope, "we")
    insights.rollout(page)
    insights.lead_lag(page)
    honest.show(page.user.scope, year, "all")
