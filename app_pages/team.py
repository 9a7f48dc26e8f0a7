"""Manager: the team's levers, who is off track now, and the team's outputs as the consequence."""

import streamlit as st

from kpi import charts
from kpi.views import last_year
from ui import data, frame, honest, session, widgets

user = session.user()
allowed = data.teams(user.scope)
if not allowed:
    st.title("Team levers")
    widgets.empty("You are not bound to a team yet: ask an admin to set your team.")
    st.stop()
names = dict(allowed)
team_id = widgets.choice("Team", list(names), "team", allowed[0][0],
                         format_func=names.__getitem__, where=st.sidebar)
scope = data.narrow(user.scope, team_id=team_id)
page = frame.start(f"Team levers — {widgets.md(names[team_id])}",
                   "The levers that move first. Act on these before the outputs show it.", scope)

levers = page.shown("levers")
if not levers:
    widgets.empty("The metric catalog shows no lever to your role.")
    st.stop()
left, mid, right = st.columns([2, 1, 1])
lever = widgets.choice("Lever", levers, "lever", levers[0],
                       format_func=lambda m: page.metric(m).label, where=left)
weeks = mid.slider("Weeks", 4, 26, 12, key="w:weeks")
against = right.radio("Compare with", ["target", "own"], key="w:against", horizontal=True,
                      format_func={"target": "Target", "own": "Own baseline"}.__getitem__)
heat = data.lever_weeks(lever, scope, page.day, weeks, page.initiative, against)
if heat.empty:
    widgets.empty("No activity for this team in these weeks: check the date or import activities.")
else:
    widgets.chart(widgets.figure(charts.heatmap, heat, page.metric(lever)), heat, f"{lever}_{team_id}_weeks",
                  page.metric(lever))

st.subheader("Off track now")
st.caption("Reps with a lever below target or below their own baseline in each of the last "
           "complete weeks, two weeks or more in a row — worst first.")
off = data.off_track(levers[:3], scope, page.day, page.initiative)
if off.empty:
    st.success("Nobody is off track on the key levers: every rep is at target or their own "
               "baseline in at least one of the last two weeks.")
else:
    st.dataframe(off, hide_index=True, width="stretch", placeholder="—", column_config={
        "weeks_below": st.column_config.NumberColumn("Weeks below", format="%d"),
        "last_week": st.column_config.NumberColumn("Last week", format="%.1f"),
        "target": st.column_config.NumberColumn("Target / rep-week", format="%.1f"),
        "own_baseline": st.column_config.NumberColumn("Own baseline", format="%.1f"),
        "shortfall": st.column_config.ProgressColumn("Shortfall", format="percent", min_value=0,
                                                     max_value=1)})
    widgets.download_csv(off, f"off_track_{team_id}")

st.subheader("Team outputs — the consequence")
cards = data.cards(page.shown("consequences"), "quarter", page.day, scope, page.initiative)
widgets.metric_cards(cards)

honest.show(scope, last_year(page.day), team_id)
