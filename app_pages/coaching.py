"""Manager: one rep, for a coaching conversation."""

import streamlit as st

from ui import data, frame, rep_view, session, widgets

user = session.user()
page = frame.start("Coaching", "One rep's levers, pace and outputs — for a coaching conversation.",
                   card=False)
reps = data.members(user.scope, page.default_window(years=1).start, page.day)
if not reps:
    widgets.empty("No reps in your scope in the last year.")
    st.stop()
names = {m.rep_id: m.name for m in reps}
rep_id = widgets.choice("Rep", list(names), "rep", reps[0].rep_id, format_func=names.__getitem__,
                        where=st.sidebar)
scope = data.narrow(user.scope, rep_id=rep_id)
st.header(widgets.md(names[rep_id]))
if scope.within:
    st.caption("Only the days this rep spent in your team.")
rep_view.show(page, scope, you=False)
