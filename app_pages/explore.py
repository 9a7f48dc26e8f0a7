"""Any metric of the catalog, by any grain and split, within what the viewer may see."""

import streamlit as st

from kpi import charts
from kpi.engine import MetricRequest
from kpi.errors import KpiError
from kpi.sources import ALL_DIMENSIONS
from ui import data, frame, widgets

page = frame.start("Explore", "Any metric, any grain, any split — within what you may see.",
                   card=False)
catalog = page.engine.catalog
allowed = sorted(ALL_DIMENSIONS - ({"rep", "team"} if page.user.role == "rep" else set()))
left, right = st.columns([2, 1])
shown = [m.id for m in catalog.for_role(page.user.role)]  # the engine refuses the others too
metric_id = widgets.choice("Metric", shown, "metric", "win_rate",
                           format_func=lambda m: f"{catalog.get(m).label} ({catalog.get(m).kind})",
                           where=left)
by = widgets.choice("Split by", ["none", *allowed], "by", "none", where=right)
grain = widgets.grain(default="month")
window = widgets.date_range(page.default_window(), page.bounds)
metric = catalog.get(metric_id)
request = MetricRequest.make(metric_id, grain=grain, by=[] if by == "none" else [by],
                             date_from=window.start, date_to=window.end, scope=page.user.scope)
try:
    table = data.run(request)
except KpiError as exc:
    st.warning(widgets.md(exc))
    st.stop()
if table.empty:
    widgets.empty("No data for this metric in this range: widen the range or import data.")
    st.stop()
widgets.chart(widgets.figure(charts.trend, table, metric, None if by == "none" else by), table,
              f"{metric_id}_{grain}", metric)
