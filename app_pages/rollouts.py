"""Strategy rollouts: the initiative card, its targets over time, reviews; create and edit."""

import datetime as dt

import streamlit as st

from kpi import charts
from kpi.engine import Scope
from kpi.initiatives import (
    Initiative,
    add_review,
    create_initiative,
    recalibrate,
    update_initiative,
)
from kpi.periods import Window
from ui import data, frame, session, widgets

page = frame.start("Strategy rollouts",
                   "One strategy, described the same way to everyone: what we want (outputs) "
                   "and how we get there (levers).")
eng, user = page.engine, page.user
team_names = dict(data.teams(Scope.everyone()))
initiative = page.initiative

if initiative is not None:
    st.subheader("Targets over time")
    grain = widgets.grain(default="month")
    window = Window(initiative.baseline_start, page.day)
    metric_ids = initiative.metric_ids()
    covered = (", ".join(widgets.md(team_names.get(t, t)) for t in initiative.team_ids)
               or "the whole company")
    st.caption(f"The initiative's teams ({covered}), within what you may see; the baseline and "
               "the targets are those of the same teams.")
    cols = st.columns(2)
    for i, metric_id in enumerate(metric_ids):
        table = data.initiative_trend(metric_id, grain, window, user.scope, initiative)
        with cols[i % 2]:
            if table.empty:
                widgets.empty("No data since the baseline started.")
                continue
            widgets.chart(widgets.figure(charts.progress, table, page.metric(metric_id),
                                         initiative.rollout_date),
                          table, f"{initiative.initiative_id}_{metric_id}_{grain}",
                          page.metric(metric_id))
    st.subheader("Target history and reviews")
    left, right = st.columns(2)
    left.dataframe(data.target_history(initiative), hide_index=True, width="stretch",
                   column_config={"target_change": st.column_config.NumberColumn(
                       "Target change", format="percent")})
    right.dataframe(data.review_history(initiative), hide_index=True, width="stretch")

if not user.can_edit_initiatives:
    st.stop()

st.divider()
st.subheader("Manage")


def _show(created: Initiative) -> None:
    """Pick the initiative just created, on this page and the next."""
    st.query_params["initiative"] = created.initiative_id
    st.session_state["pref:initiative"] = created.initiative_id
    st.session_state.pop("w:initiative", None)


widgets.confirmation()

catalog = eng.catalog
labels = {m.id: f"{m.label} ({m.kind})" for m in catalog.metrics}
tabs = st.tabs(["New initiative", "Edit card", "Re-calibrate a target", "Record a review"])

with tabs[0], st.container(border=True, key="create"):
    name = st.text_input("Name", placeholder="Win rate +25% through focus", key="new_name")
    strategy = st.text_area("What — the strategy (output goal)", key="new_strategy")
    tactics = st.text_area("How — the tactics (lever goals)", key="new_tactics")
    c1, c2, c3 = st.columns(3)
    rollout = c1.date_input("Rollout date", page.day, key="new_rollout")
    weeks = c2.number_input("Baseline weeks", 1, 52, 13, key="new_weeks")
    target_date = c3.date_input("Target date", page.day + dt.timedelta(weeks=52), key="new_target")
    chosen = st.multiselect("Teams (none = the whole company)", list(team_names),
                            format_func=team_names.__getitem__, key="new_teams")
    target_metrics = st.multiselect("Goals (metrics with a target)", list(labels),
                                    format_func=labels.__getitem__, key="new_metrics")
    changes = {m: st.number_input(f"Target change for {labels[m]} (%)", -99.0, 900.0, 10.0,
                                  key=f"new_change_{m}") / 100 for m in target_metrics}
    if st.button("Create initiative", type="primary"):
        widgets.save(lambda: create_initiative(
                         session.writer(), name=name, strategy=strategy, tactics=tactics,
                         rollout_date=rollout, baseline_weeks=int(weeks), target_date=target_date,
                         teams={t: rollout for t in chosen}, targets=changes, catalog=catalog),
                     lambda created: f"Created “{widgets.md(created.name)}”.", clear_cache=True,
                     then=_show)

if initiative is None:
    st.stop()

with tabs[1], st.form("edit"):
    name = st.text_input("Name", initiative.name)
    strategy = st.text_area("What — the strategy (output goal)", initiative.strategy)
    tactics = st.text_area("How — the tactics (lever goals)", initiative.tactics)
    c1, c2, c3 = st.columns(3)
    rollout = c1.date_input("Rollout date", initiative.rollout_date, key="edit_rollout")
    weeks = c2.number_input("Baseline weeks", 1, 52, initiative.baseline_weeks, key="edit_weeks")
    target_date = c3.date_input("Target date", initiative.target_date, key="edit_target")
    adopted = dict(initiative.teams)
    chosen = st.multiselect("Teams", list(team_names), list(adopted),
                            format_func=team_names.__getitem__, key="edit_teams")
    if st.form_submit_button("Save card", type="primary"):
        widgets.save(lambda: update_initiative(
                         session.writer(), initiative.initiative_id, name=name, strategy=strategy,
                         tactics=tactics, rollout_date=rollout, baseline_weeks=int(weeks),
                         target_date=target_date,
                         teams={t: adopted.get(t, rollout) for t in chosen}),
                     "Saved the initiative card.", clear_cache=True)

with tabs[2], st.form("recalibrate"):
    st.caption("A new version applies from its date; earlier targets stay in history and show "
               "as steps on the charts.")
    metric_id = st.selectbox("Metric", list(labels), format_func=labels.__getitem__,
                             key="re_metric")
    c1, c2 = st.columns(2)
    change = c1.number_input("New target change (%)", -99.0, 900.0, 25.0, key="re_change")
    effective = c2.date_input("Effective from", page.day, key="re_from")
    note = st.text_input("Why (shown in the history)", key="re_note")
    if st.form_submit_button("Re-calibrate", type="primary"):
        widgets.save(lambda: recalibrate(session.writer(), initiative.initiative_id, metric_id,
                                         change / 100, effective, note, catalog),
                     f"{labels[metric_id]}: target {change / 100:+.0%} from {effective:%d %b %Y}.",
                     clear_cache=True)

with tabs[3], st.form("review"):
    review_date = st.date_input("Review date", page.day, key="rv_date")
    learned = st.text_area("What we learned", key="rv_learned")
    if st.form_submit_button("Record review", type="primary"):
        widgets.save(lambda: add_review(session.writer(), initiative.initiative_id, review_date,
                                        learned, user.name),
                     "Review recorded.", clear_cache=True)
