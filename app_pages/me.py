"""Rep: my levers against my target and my own baseline, my pace, my streaks, my outputs."""

import streamlit as st

from ui import frame, rep_view, widgets

page = frame.start("My levers", "Your week at a glance: the levers you control, and where they lead.")
if page.user.rep_id is None:
    widgets.empty("Your account is not bound to a rep: ask an admin to link it.")
    st.stop()
rep_view.show(page, page.user.scope, you=True)
