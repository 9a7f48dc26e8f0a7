"""Executive insights: did the rollout cause the change in the levers, and how sure are we."""

import streamlit as st

from kpi import charts
from kpi.periods import Window
from kpi.views import LEVERS
from ui import data, frame, honest, widgets

page = frame.start("Insights", "What the rollout caused — with how sure we can be.", card=False)
if page.initiative is None:
    honest.show(page.user.scope, Window(page.day.replace(year=page.day.year - 1), page.day), "all")
    st.stop()
initiative = page.initiative
levers = tuple(dict.fromkeys([*initiative.metric_ids(), *LEVERS, "calls"]))
with st.spinner("Estimating the rollout's effect on each lever..."):
    results = data.view("rollout_effects", initiative, levers)
if not results:
    widgets.empty("No lever of this initiative can be estimated yet.")
    st.stop()

st.subheader(f"Rollout effect: {initiative.name}")
st.caption("Teams that had adopted against teams that had not yet, week by week (a Poisson event "
           "study with rep and week effects). The placebo moves every adoption half a year back: "
           "it should find nothing.")
rows = []
for effect, placebo in results:
    target = initiative.target_on(effect.metric_id, page.day)
    rows.append({"lever": page.metric(effect.metric_id).label, "effect": effect.effect,
                 "90% low": effect.low, "90% high": effect.high,
                 "target": target.change_pct if target else None, "verdict": effect.message,
                 "placebo": placebo.message})
percent = st.column_config.NumberColumn(format="percent")
st.dataframe(rows, hide_index=True, width="stretch",
             column_config={"effect": percent, "90% low": percent, "90% high": percent,
                            "target": percent})
labels = {e.metric_id: page.metric(e.metric_id).label for e, _ in results}
chosen = widgets.choice("Event study for", list(labels), "lever", list(labels)[0],
                        format_func=labels.__getitem__)
effect = next(e for e, _ in results if e.metric_id == chosen)
if effect.event_study.empty:
    widgets.empty(effect.message)
else:
    widgets.chart(charts.event_study(effect.event_study, page.metric(chosen)), effect.event_study,
                  f"event_study_{chosen}")
    st.caption(f"{effect.reps} reps over {effect.weeks} weeks. Weeks before adoption should hover "
               "around zero (parallel trends); if they do not, read the effect with care.")
with st.expander("Method and caveats"):
    st.markdown(
        "- **Comparison**: in each week, teams that have adopted against teams that have not yet; "
        "rep effects take out each rep's level, week effects take out seasonality and anything "
        "that hit everyone at once (such as the reorganisation).\n"
        "- **Effect**: the change from week 8 after adoption on, when a ramp-up should be over; "
        "90% intervals clustered by rep.\n"
        "- **Assumes** teams would otherwise have moved in parallel, and adoption dates were not "
        "picked because of a coming change.\n"
        "- **Too little data** when fewer than two teams adopt, or too close together.\n"
        "- Outputs such as win rate move later than the last adoption and need a different "
        "design; they are not estimated here yet.\n\n"
        "The full method: `docs/insights.md` in the repository.")

honest.show(page.user.scope, Window(page.day.replace(year=page.day.year - 1), page.day), "all")
