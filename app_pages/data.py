"""Data: bring in CRM exports (upload, check, map, load) and see how fresh the data is."""

import streamlit as st

from kpi.errors import KpiError
from kpi.ingest import (
    ImportRefused,
    Source,
    list_presets,
    load,
    mapping,
    save_preset,
)
from kpi.ingest.presets import REQUIRED
from kpi.ingest.read import Unreadable, read
from ui import data, session, widgets

st.title("Data")
imports = data.takes_imports()
if imports:
    st.caption("Import CRM exports (CSV or Excel) into the canonical tables. Every import is "
               "checked first and written all or nothing; importing the same export again "
               "changes nothing.")
else:
    st.caption("The data is read from a warehouse that its own pipelines load; leverboard keeps "
               "its rollups, users and Insights beside it.")

state = data.freshness()
cols = st.columns(4)
cols[0].metric("Opportunities", f"{state['rows'].get('opportunities', 0):,}")
cols[1].metric("Activities", f"{state['rows'].get('activities', 0):,}")
cols[2].metric("Reps", f"{state['rows'].get('reps', 0):,}")
cols[3].metric("Data through", str(state["data_through"] or "—"))
last = state["last_import"]
if not imports:
    change = data.last_change()
    st.caption("Last refresh: " + (f"{change['changed_at']:%d %b %Y %H:%M} "
                                   f"({widgets.md(change['why'])})" if change else "none yet"))
else:
    st.caption("Last import: " + (f"{last['finished_at']:%d %b %Y %H:%M} by "
                                  f"{widgets.md(last['loaded_by'])} ({widgets.md(last['preset'])}: "
                                  f"{widgets.md(last['files'])})" if last else "none yet"))

st.subheader("Import")
if not imports:
    st.info("This database is a warehouse that leverboard only reads: load CRM exports into it "
            "with your own pipelines (the canonical tables' names and columns), then run "
            "`python -m kpi refresh` with the same database, so the rollups and the Insights "
            "follow the new rows.")
    st.stop()
presets = {p.name: p for p in list_presets()}
if st.session_state.get("preset_pick") in presets:  # a preset just saved below
    st.session_state["w:preset"] = st.session_state.pop("preset_pick")
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
            st.session_state["import_plan"] = data.plan(sources, presets[preset_name])

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
        st.dataframe({"problem": report.lines(200)}, hide_index=True, width="stretch", placeholder="—")
    else:
        st.success("No problems found.")
    with st.expander("Preview of what will be written"):
        for table, frame in plan.frames(skip_bad=True).items():
            st.markdown(f"**{table}** — {len(frame):,} rows")
            st.dataframe(frame.head(20), hide_index=True, width="stretch", placeholder="—")
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
            session.refresh_insights()
            widgets.saved(f"Imported {result.total_loaded:,} rows ({result.rows_skipped:,} left out)."
                          + left + " The Insights page's statistics are being computed on the new "
                          "data; until they are, it shows the last ones.", clear_cache=True)

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
            required, optional = mapping.columns(table)
            guess = mapping.suggest(table, header)
            same_value = "(one value for every row)"
            picked: dict[str, str] = {}
            constants: dict[str, str] = {}
            left, right = st.columns(2)
            for i, column in enumerate(required + optional):
                place = left if i % 2 == 0 else right
                label = f"{column} (required)" if column in required else column
                options = ["—", same_value, *header]
                default = options.index(guess[column]) if column in guess else 0
                pick = place.selectbox(label, options, index=default, key=f"map_{table}_{column}")
                if pick == same_value:
                    constants[column] = place.text_input(f"{column}: the value",
                                                         key=f"map_{table}_{column}_value")
                elif pick != "—":
                    picked[column] = pick
            stages: list[tuple[str, str]] = []
            if table == "opportunities" and picked.get("stage"):
                st.markdown("**Stages**, in pipeline order: which are won, lost or still open")
                found = mapping.stage_values(raw, picked["stage"])
                edited = st.data_editor(
                    [{"order": i + 1, "stage": stage, "role": role, "deals": n}
                     for i, (stage, role, n) in enumerate(found)],
                    column_config={
                        "order": st.column_config.NumberColumn("Order", min_value=1, step=1),
                        "stage": st.column_config.TextColumn("Stage", disabled=True),
                        "role": st.column_config.SelectboxColumn("Role", options=list(mapping.ROLES),
                                                                 required=True),
                        "deals": st.column_config.NumberColumn("Deals", disabled=True)},
                    hide_index=True, key=f"map_stages_{chosen}")
                stages = mapping.ordered(edited)
            left, right = st.columns(2)
            date_order = left.selectbox("Dates like 03/04/2025", ["auto", "MDY", "DMY"],
                                        format_func={"auto": "decided by the values (refuse if unclear)",
                                                     "MDY": "month first (US)",
                                                     "DMY": "day first"}.get, key="map_dates")
            decimal = right.selectbox("Numbers like 1,234", ["auto", "point", "comma"],
                                      format_func={"auto": "decided by the values (refuse if unclear)",
                                                   "point": "1,234.50", "comma": "1.234,50"}.get,
                                      key="map_decimal")
            create_reps = st.checkbox("Owners not in a reps file become reps (named by their id until "
                                      "a reps file names them)", value=table in ("opportunities",
                                                                                 "activities"),
                                      key="map_create_reps")
            form = mapping.Mapping(table=table, columns=picked, constants=constants, stages=stages,
                                   create_reps=create_reps, date_order=date_order, decimal=decimal)
            st.caption("The first rows as this mapping reads them")
            st.dataframe(mapping.preview(raw, form), hide_index=True, width="stretch", placeholder="—")
            name = st.text_input("Preset name", placeholder="my-crm", key="map_name")
            if st.button("Save preset"):
                widgets.save(lambda: save_preset(mapping.custom_preset(name, chosen, form)),
                             lambda path: f"Saved the preset {widgets.md(name)} "
                                          f"({widgets.md(path)}) and picked it above: check the "
                                          "files with it.",
                             then=lambda _: st.session_state.update(preset_pick=name))

st.subheader("Import history")
history = data.recent_imports()
if history.empty:
    widgets.empty("No imports yet.")
else:
    st.dataframe(history, hide_index=True, width="stretch", placeholder="—")
