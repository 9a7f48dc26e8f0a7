"""leverboard — is the sales strategy working? (engine preview: one metric at a time)."""

from __future__ import annotations

import os
from pathlib import Path

import streamlit as st

from kpi import charts
from kpi.engine import GRAINS, Engine, MetricRequest
from kpi.errors import KpiError
from kpi.sources import ALL_DIMENSIONS
from kpi.store import Store
from kpi.summary import format_value, headlines, period_label

DB_PATH = Path(os.environ.get("KPI_DB", "data/demo.duckdb"))
HEADLINE_METRICS = ["revenue", "win_rate", "avg_deal_size", "gross_margin", "sales_cycle_days",
                    "new_logos"]

st.set_page_config(page_title="leverboard", page_icon="📈", layout="wide")


@st.cache_resource
def engine(path: str) -> Engine:
    return Engine(Store.open(path))


@st.cache_data(show_spinner=False)
def metric_table(path: str, request: MetricRequest):
    return engine(path).run(request)


@st.cache_data(show_spinner=False)
def headline_cards(path: str, grain: str):
    return headlines(engine(path), HEADLINE_METRICS, grain)


st.title("leverboard")
if not DB_PATH.is_file():
    st.error(f"No database at `{DB_PATH}`. Build the demo with `make run` "
             "or `python -m kpi demo --db data/demo.duckdb`.")
    st.stop()

eng = engine(str(DB_PATH))
catalog = eng.catalog

cards = headline_cards(str(DB_PATH), "quarter")
st.subheader(f"Final outputs, {period_label(cards[0].period, 'quarter')} (last complete quarter)")
cols = st.columns(len(HEADLINE_METRICS))
for col, card in zip(cols, cards, strict=True):
    delta = None if card.change_pct is None else f"{card.change_pct:+.1%} vs previous quarter"
    col.metric(card.label, format_value(card.value, card.unit), delta,
               delta_color="normal" if card.direction == "up" else "inverse", help=card.definition)

st.subheader("Explore a metric")
left, mid, right = st.columns([2, 1, 2])
metric_id = left.selectbox("Metric", catalog.ids(), key="metric",
                           format_func=lambda m: f"{catalog.get(m).label} ({catalog.get(m).kind})")
grain = mid.selectbox("Grain", [g for g in GRAINS if g != "total"], index=2, key="grain")
by = right.selectbox("Split by", ["(none)", *sorted(ALL_DIMENSIONS)], key="by")
metric = catalog.get(metric_id)
st.caption(f"**{metric.label}**: {metric.definition}  Formula: `{metric.formula}`")

request = MetricRequest.make(metric_id, grain=grain, by=[] if by == "(none)" else [by])
try:
    table = metric_table(str(DB_PATH), request)
except KpiError as exc:
    st.warning(str(exc))
    st.stop()
if table.empty:
    st.info("No data for this metric yet: import your CRM export or build the demo database.")
    st.stop()
st.plotly_chart(charts.trend(table, metric, None if by == "(none)" else by), width="stretch")
with st.expander("Table"):
    st.dataframe(table, hide_index=True, width="stretch")
st.download_button("Download CSV", table.to_csv(index=False), f"{metric_id}_{grain}.csv", "text/csv")
