"""Executive: the final outputs against baseline and last year, and their trends."""

import streamlit as st

from kpi import charts
from ui import data, frame, widgets

page = frame.start("Outputs", "Final outputs — the results the strategy must move.")
scope = page.user.scope

st.subheader("Period to date")
grain = widgets.grain(default="quarter")
outputs = page.shown("outputs")
cards = data.cards(outputs, grain, page.day, scope, page.initiative)
widgets.metric_cards(cards)

st.subheader("Trends")
window = widgets.date_range(page.default_window(), page.bounds)
rollout = page.initiative.rollout_date if page.initiative else None
left, right = st.columns(2)
for i, metric_id in enumerate(outputs):
    metric = page.metric(metric_id)
    table = data.trend(metric_id, grain, window, scope, page.initiative)
    with (left if i % 2 == 0 else right):
        if table.empty:
            widgets.empty(f"No {metric.label.lower()} in this range: widen the date range.")
            continue
        widgets.chart(widgets.figure(charts.progress, table, metric, rollout), table,
                      f"{metric_id}_{grain}", metric)
