"""What every page starts with: who, as of when, and the initiative card."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import streamlit as st

from kpi.engine import Engine, Scope
from kpi.errors import KpiError
from kpi.initiatives import Initiative
from kpi.people import User
from kpi.periods import Window, shift_years
from ui import data, session, widgets

# the pages each role opens, in menu order (app.py builds the navigation from it)
ROLE_PAGES = {
    "executive": ("outputs", "segments", "insights", "team", "coaching", "rollouts", "explore",
                  "data"),
    "admin": ("outputs", "segments", "insights", "team", "coaching", "rollouts", "explore", "data",
              "users"),
    "manager": ("team", "coaching", "insights", "rollouts", "explore"),
    "rep": ("me", "insights", "rollouts", "explore"),
}


@dataclass(frozen=True)
class Page:
    engine: Engine
    user: User
    day: dt.date
    bounds: Window
    initiative: Initiative | None

    def default_window(self, years: int = 2) -> Window:
        start = max(self.bounds.start, shift_years(self.day, -years))
        return Window(start, self.day)

    def metric(self, metric_id: str):  # noqa: ANN201 - kpi.catalog.Metric
        return self.engine.catalog.get(metric_id)

    def shown(self, place: str) -> tuple[str, ...]:
        """The metrics the catalog shows in ``place`` to this page's viewer (its `shown_in`)."""
        return self.engine.catalog.shown(place, self.user.role)


def start(title: str, intro: str, scope: Scope | None = None, card: bool = True) -> Page:
    """Title, the initiative picker and card (within ``scope``), and the data's 'today'."""
    eng, user = session.engine(), session.user()
    st.title(title)
    st.caption(intro)
    try:
        lo, hi = data.data_range()
    except KpiError:
        st.info("No data yet. An administrator can import a CRM export on the **Data** page "
                "(or run `python -m kpi import FILES --db PATH --preset NAME`).", icon="ℹ️")
        st.stop()
    day = data.as_of()
    viewer = scope or user.scope
    offered, default = data.initiative_choice(viewer)
    initiative = widgets.initiative_picker(offered, default)
    if card:
        progress = (data.initiative_progress(initiative, day, viewer)
                    if initiative else [])
        names = dict(data.teams(Scope.everyone()))
        widgets.initiative_card(initiative, progress, {m.id: m for m in eng.catalog.metrics},
                                names)
    st.sidebar.caption(f"Data through **{day:%a %d %b %Y}**")
    return Page(eng, user, day, Window(lo, hi), initiative)
