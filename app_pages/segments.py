"""Executive: where we win more, faster, at better margins, and where our pipeline sits."""

import streamlit as st

from kpi import charts
from kpi.summary import format_value
from kpi.views import SEGMENT_DIMENSIONS
from ui import data, frame, widgets

page = frame.start("Segments", "Where we win — and whether our pipeline sits there.", card=False)
labels = {"industry": "Industry", "region": "Region", "motion": "Hunter / farmer",
          "product": "Product"}
left, right = st.columns([1, 2])
dimension = widgets.choice("Segment by", SEGMENT_DIMENSIONS, "segment", "industry",
                           format_func=labels.__getitem__, where=left)
with right:
    window = widgets.date_range(page.default_window(years=1), page.bounds)
table = data.segments(dimension, window, page.user.scope, page.day)
if table.empty:
    widgets.empty("No closed deals in this range: widen the date range or import opportunities.")
    st.stop()
st.caption(f"Deals closed {window.start:%d %b %Y}–{window.end:%d %b %Y}; open pipeline as of "
           f"{page.day:%d %b %Y} (total {format_value(table['open_pipeline'].sum(), 'currency')}).")
widgets.chart(widgets.figure(charts.segment_bars, table, dimension), table, f"segments_{dimension}")
st.caption("Win rate = won / (won + lost) closed in the range · sales cycle = median days from "
           "created to closed, won deals · share of open pipeline = open amount due within a year.")
