"""'Win rates, honestly': the funnel plot and the table with intervals and shrunk rates."""

from __future__ import annotations

import streamlit as st

from kpi import charts
from kpi.engine import Scope
from kpi.periods import Window
from ui import data, widgets


def show(scope: Scope, window: Window, key: str) -> None:
    st.subheader("Win rates, honestly")
    st.caption("A rep with 3 deals is not the best closer. Each point sits inside the dashed funnel "
               "if chance alone could explain it; the shrunk rate pulls small samples towards the "
               "group's rate. Deals closed " f"{window.start:%d %b %Y}–{window.end:%d %b %Y}.")
    table = data.rep_win_rates(scope, window)
    if table.empty:
        widgets.empty("No closed deals in this period.")
        return
    widgets.chart(widgets.figure(charts.funnel, table), table, f"win_rates_{key}")
