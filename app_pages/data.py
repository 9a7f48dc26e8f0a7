"""Data: bring in CRM exports (upload, check, map, load) and see how fresh the data is."""

import streamlit as st

from kpi.errors import KpiError
from kpi.ingest import (
    ImportRefused,
    Preset,
    Source,
    freshness,
    list_presets,
    load,
    plan_import,
    recent_imports,
    save_preset,
)
from kpi.ingest.presets import REQUIRED, FileMap
from kpi.ingest.read import Unreadable, read
from ui import session, widgets

st.title("Data")
st.caption("Import CRM exports (CSV or Excel) into the canonical tables. Every import is checked "
           "first and written all or nothing; importing the same export again changes nothing.")
eng = session.engine()

state = freshness(eng.store)
cols = st.columns(4)
cols[0].metric("Opportunities", f"{state['rows'].get('opportunities', 0):,}")
cols[1].metric("Activities", f"{state['rows'].get('activities', 0):,}")
cols[2].metric("Reps", f"{state['rows'].get('reps', 0):,}")
cols[3].metric("Data through", str(state["data_through"] or "—"))
last = state["last_import"]
st.caption("Last import: " + (f"{last['finished_at']:%d %b %Y %H:%M} by "
                              f"{widgets.md(last['loaded_by'])} ({widgets.md(last['preset'])}: "
                              f"{widgets.md(last['files'])})" if last else "none yet"))

st.subheader("Import")
presets = {p.name: p for p in list_presets()}
preset_name = st.selectbox("Preset", list(presets), key="w:preset",
                           index=list(presets).index("canonical") if "canonical" in presets else 0,
                           format_func=lambda n: f"{n} — {presets[n].description[:90]}")
files = st.file_uploader("Export files", type=["csv", "xlsx"], accept_multiple_files=True,
                         key="w:upload", help="Several files of one export at once, e.g. "
                         "Opportunity.csv, User.csv and Task.csv.")
if not files:
    widgets.empty("Upload one or more export files, pick the preset that matches your CRM, "
                  "then check them. Nothing is written until you press Load.")
else:
    sources = [Source(f.name, f.getvalue()) for f in files]
    if st.button("Check files", type="primary"):
        with st.spinner("Reading and checking..."):
            st.session_state["import_plan"] = plan_import(sources, presets[preset_name], eng.store)

plan = st.session_state.get("import_plan")
if plan is not None and files:
    report = plan.report
    st.markdown(f"**{plan.rows_read:,} rows read** from {widgets.md(', '.join(plan.files))} "
                f"with preset {widgets.md(plan.preset.name)}.")
    for note in report.notes:
        st.caption(f"• {widgets.md(note)}")
    if report.problems:
        st.error(f"{len(report.problems):,} problems" + (" — the files cannot be imported as they "
                 "are." if report.fatal else "."))
        st.dataframe({"problem": report.lines(200)}, hide_index=True, width="stretch")
    else:
        st.success("No problems found.")
    with st.expander("Preview of what will be written"):
        for table, frame in plan.frames(skip_bad=True).items():
            st.markdown(f"**{table}** — {len(frame):,} rows")
            st.dataframe(frame.head(20), hide_index=True, width="stretch")
    on_error = st.radio("Rows with problems", ["stop", "skip"], horizontal=True, key="w:on_error",
                        format_func={"stop": "Import nothing", "skip": "Leave them out"}.get,
                        disabled=report.fatal or not report.problems)
    if st.button("Load", disabled=report.fatal):
        bar = st.progress(0.0, "starting...")
        try:
            result = load(session.writer(), plan, on_error=on_error, loaded_by=session.user().name,
                          progress=lambda share, text: bar.progress(share, text))
        except ImportRefused as exc:
            st.error(widgets.md(exc))
        except KpiError as exc:
            st.error(f"Nothing was imported: {widgets.md(exc)}")
        else:
            st.session_state.pop("import_plan", None)
            left = "".join(f" Left out: {line}." for line in result.left_out)
            widgets.saved(f"Imported {result.total_loaded:,} rows ({result.rows_skipped:,} left out)."
                          + left, clear_cache=True)

widgets.confirmation()

with st.expander("Map columns yourself and save the mapping as a preset"):
    if not files:
        st.caption("Upload a file first.")
    else:
        chosen = st.selectbox("File", [f.name for f in files], key="map_file")
        try:
            raw = read(chosen, next(f for f in files if f.name == chosen).getvalue())
        except Unreadable as exc:
            st.error(widgets.md(exc))
        else:
            header = [c for c in raw.frame.columns if c != "_row"]
            table = st.selectbox("It holds", list(REQUIRED), index=list(REQUIRED).index("opportunities"),
                                 key="map_table")
            mapping = {}
            for column in REQUIRED[table]:
                pick = st.selectbox(f"{column} (required)", ["—", *header], key=f"map_{table}_{column}")
                if pick != "—":
                    mapping[column] = [pick]
            name = st.text_input("Preset name", placeholder="my-crm", key="map_name")
            if st.button("Save preset"):
                try:
                    path = save_preset(Preset(name=name, description=f"custom mapping of {chosen}",
                                              files=[FileMap(table=table, columns=mapping)]))
                except KpiError as exc:
                    st.error(widgets.md(exc))
                else:
                    st.success(f"Saved {path}; pick it as the preset above.")

st.subheader("Import history")
history = recent_imports(eng.store)
if history.empty:
    widgets.empty("No imports yet.")
else:
    st.dataframe(history, hide_index=True, width="stretch")
