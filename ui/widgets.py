"""Widgets that own their state key; view state is mirrored in the URL so a link reproduces it."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Sequence
from typing import Any

import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from kpi.baseline import Progress
from kpi.catalog import Metric
from kpi.errors import KpiError
from kpi.export import csv_bytes
from kpi.initiatives import Initiative
from kpi.periods import Window
from kpi.schema import PERIOD_GRAINS
from kpi.summary import format_change, format_value
from kpi.views import Card
from ui import data


def md(text: object) -> str:
    """Text from data (a rep's or a team's name, an initiative's words, an import note) for a
    Markdown element, shown as written: no image loads, no link, no icon, colour or formula.

    Every ASCII punctuation mark is escaped; a word joiner after ':' and '@' and in 'www.'
    keeps Streamlit from turning addresses into links; line breaks stay line breaks.
    """
    text = re.sub(r"(?i)(www)(?=\.)", "\\1\u2060", str(text))
    text = text.replace(":", ":\u2060").replace("@", "@\u2060")
    return re.sub(r"([!-/:-@\[-`{-~])", r"\\\1", text).replace("\n", "  \n")


def _remembered(key: str, default: Any, parse: Callable[[str], Any]) -> Any:
    """The preference under ``key``: kept across pages, seeded once from the URL."""
    pref = f"pref:{key}"
    if pref not in st.session_state:
        raw = st.query_params.get(key)
        try:
            st.session_state[pref] = parse(raw) if raw is not None else default
        except (TypeError, ValueError):
            st.session_state[pref] = default
    return st.session_state[pref]


def _seed(widget_key: str, value: Any, valid: Callable[[Any], bool] = lambda v: True) -> None:
    """Give a widget its remembered value, unless it already holds a valid one of its own."""
    current = st.session_state.get(widget_key)
    if current is None or not valid(current):
        st.session_state[widget_key] = value


def _remember(key: str, value: Any, text: str) -> None:
    st.session_state[f"pref:{key}"] = value
    st.query_params[key] = text


def choice(label: str, options: Sequence[str], key: str, default: str,
           format_func: Callable[[str], str] = str, where: Any = st, help: str | None = None) -> str:
    """A selectbox whose value lives in the URL as ``?key=value``."""
    value = _remembered(key, default, str)
    _seed(f"w:{key}", value if value in options else default, lambda v: v in options)
    picked = where.selectbox(label, list(options), key=f"w:{key}", format_func=format_func,
                             help=help)
    _remember(key, picked, picked)
    return picked


def grain(default: str = "month", where: Any = st) -> str:
    """Week / month / quarter / year (``?grain=``)."""
    value = _remembered("grain", default, str)
    _seed("w:grain", value if value in PERIOD_GRAINS else default)
    picked = where.segmented_control("Grain", PERIOD_GRAINS, key="w:grain",
                                     format_func=str.capitalize) or default
    _remember("grain", picked, picked)
    return picked


def date_range(default: Window, bounds: Window, where: Any = st) -> Window:
    """A from-to date range inside the data (``?from=YYYY-MM-DD&to=YYYY-MM-DD``)."""
    start = _remembered("from", default.start, dt.date.fromisoformat)
    end = _remembered("to", default.end, dt.date.fromisoformat)
    start, end = max(start, bounds.start), min(end, bounds.end)
    if start > end:
        start, end = default.start, default.end
    _seed("w:range", (start, end))
    picked = where.date_input("Date range", key="w:range", min_value=bounds.start,
                              max_value=bounds.end, format="YYYY-MM-DD",
                              help="Periods cut by the range are marked as partial (hollow).")
    if isinstance(picked, tuple | list) and len(picked) == 2:
        start, end = picked
    _remember("from", start, start.isoformat())
    _remember("to", end, end.isoformat())
    return Window(start, end)


def initiative_picker(initiatives: list[Initiative],
                      default: Initiative | None) -> Initiative | None:
    """Which strategy rollout heads the page (``?initiative=``); opens on ``default``, which
    may be none (an executive when only team initiatives exist)."""
    if not initiatives:
        return None
    names = {i.initiative_id: i.name for i in initiatives}
    if default is None:
        names = {"": "No initiative", **names}
    picked = choice("Initiative", list(names), "initiative",
                    default.initiative_id if default else "",
                    format_func=names.__getitem__, where=st.sidebar)
    return next((i for i in initiatives if i.initiative_id == picked), None)


def initiative_card(initiative: Initiative | None, progress: list[Progress],
                    metrics: dict[str, Metric], team_names: dict[str, str]) -> None:
    """The same card heads every role's page: name, what, how, progress."""
    if initiative is None:
        st.info("No strategy rollout yet. An executive can create one on **Strategy rollouts**: "
                "its output goal, its lever goals, the teams and the rollout date.")
        return
    with st.container(border=True, key="initiative_card"):
        st.markdown(f"#### :material/flag: {md(initiative.name)}")
        what, how = st.columns(2)
        what.markdown(f"**What (strategy)** — {md(initiative.strategy)}")
        how.markdown(f"**How (tactics)** — {md(initiative.tactics)}")
        adoption = ", ".join(f"{md(team_names.get(t, t))} {d:%d %b}" for t, d in initiative.teams)
        st.caption(f"Rollout {initiative.rollout_date:%d %b %Y} · baseline: the "
                   f"{initiative.baseline_weeks} weeks before · target by "
                   f"{initiative.target_date:%d %b %Y}" + (f" · teams adopting: {adoption}"
                                                           if adoption else ""))
        if progress:
            cols = st.columns(len(progress))
            for col, p in zip(cols, progress, strict=True):
                _progress_metric(col, p, metrics[p.metric_id])
            st.caption(_progress_windows(progress[0]))


def _progress_windows(p: Progress) -> str:
    """Which days the card's numbers compare (so no one reads them against another window)."""
    if p.window is None or p.baseline_window is None:
        return sentence(md(p.note) if p.note else "too early to tell")
    weeks = f"{p.window.days / 7:.1f}".rstrip("0").rstrip(".")
    return (f"Latest {weeks} weeks after the rollout ({_span(p.window)}) against the baseline "
            f"({_span(p.baseline_window)})" + (", as weekly rates" if p.per_week else "") + "."
            + (f" {sentence(md(p.note))}" if p.note else ""))


def sentence(text: str) -> str:
    """A note as a sentence: first letter up, names left as they are, a full stop."""
    return text[:1].upper() + text[1:] + ("" if text.endswith(".") else ".")


def _span(window: Window) -> str:
    return f"{window.start:%d %b}–{window.end:%d %b %Y}"


def _progress_metric(col: Any, p: Progress, metric: Metric) -> None:
    pace = {True: "on pace", False: "behind pace", None: "pace unknown"}[p.on_pace]
    target = "no target" if p.target_change_pct is None else f"target {p.target_change_pct:+.0%}"
    change = "too early to tell" if p.window is None else f"{format_change(p.change_pct)} vs baseline"
    unit = " / week" if p.per_week else ""
    col.metric(
        metric.label, "—" if p.current is None else format_value(p.current, metric.unit) + unit,
        f"{change} · {target}",
        delta_color="off" if p.change_pct is None else (
            "normal" if metric.direction == "up" else "inverse"),
        delta_arrow="auto" if p.change_pct is not None else "off",
        help=f"{metric.definition} Baseline {format_value(p.baseline, metric.unit)}{unit}; {pace}."
             + (f" {sentence(md(p.note))}" if p.note and p.window is not None else ""),
    )


def metric_cards(cards: list[Card], per_row: int = 4) -> None:
    """Period-to-date numbers with change vs baseline (delta) and vs the same days last year."""
    for start in range(0, len(cards), per_row):
        cols = st.columns(per_row)
        for col, card in zip(cols, cards[start:start + per_row], strict=False):
            _card(col, card)


def _card(col: Any, card: Card) -> None:
    delta = None if card.vs_baseline is None else f"{card.vs_baseline:+.1%} vs baseline"
    if delta is None and card.vs_last_year is not None:
        delta = f"{card.vs_last_year:+.1%} vs last year"
    value = card.missing if card.value is None else format_value(card.value, card.unit)
    col.metric(card.label, value, delta,
               delta_color="normal" if card.direction == "up" else "inverse",
               help=f"{card.definition}  \nFormula: {card.formula}  \nCompared with the "
                    "baseline's same weekdays and with the same days last year.",
               border=True)
    bits = [_span(card.window) + (f" ({card.window.days} of {card.period_days} days)"
                                  if card.partial else ""),
            f"same days last year {format_value(card.last_year, card.unit)} "
            f"({format_change(card.vs_last_year)})"]
    if card.note:
        bits.append(md(card.note))
    if card.target_change is not None:
        bits.append(f"target {card.target_change:+.0%}")
    col.caption(" · ".join(bits))


class Built(go.Figure):
    """A figure that is never changed once built, so its dict (what st.plotly_chart sends, after
    a deep copy and a base64 conversion of every array) is made once, not on every page view.
    A built go.Figure becomes one in place (:func:`_built`): copying it would check every
    property again."""

    _spec: dict[str, Any] | None = None

    def to_dict(self) -> dict[str, Any]:
        if self._spec is None:
            self._spec = super().to_dict()
        return self._spec


def _built(fig: go.Figure) -> Built:
    if type(fig) is not go.Figure:  # a subclass's own state would be lost
        raise TypeError(f"a chart must build a plotly Figure, not {type(fig).__name__}")
    fig.__class__ = Built
    return fig  # type: ignore[return-value]


_figures = data.Recent(1000)  # figures kept; the least recently drawn goes first


def figure(build: Callable[..., go.Figure], *args: Any, **kwargs: Any) -> go.Figure:
    """``build(*args, **kwargs)`` (a kpi.charts function), built once per distinct input and
    shared: Plotly checks every property of a figure as it is built, which took two thirds of
    a warm page's time. The figure is never changed after it is built (st.plotly_chart only
    reads it), and its input holds the data, so two viewers share one only when they would see
    the same chart. The input is told apart by a digest of its pickle (equal bytes are equal
    data), several times quicker than Streamlit's own hashing of DataFrames."""
    name = f"{build.__module__}.{build.__qualname__}"
    key = data.digest((name, args, sorted(kwargs.items())))
    found: Built | None = _figures.get(key)
    if found is not None:
        return found
    built = _built(build(*args, **kwargs))
    _figures.put(key, built)
    return built


def chart(fig: go.Figure, table: pd.DataFrame, name: str, metric: Metric | None = None) -> None:
    """A chart with its definition, the table behind it and a CSV download of that table."""
    st.plotly_chart(fig, width="stretch", config={"displaylogo": False})
    if metric is not None:
        st.caption(f"**{metric.label}** = {metric.formula}. {metric.definition}")
    table_and_csv(table, name)


def table_and_csv(table: pd.DataFrame, name: str) -> None:
    """The table behind a chart and its CSV, in an expander whose content is drawn only while it
    is open: a closed one sends the browser nothing to lay out (a page of seven charts drew
    seven hidden tables on every visit)."""
    box = st.expander("Table and CSV", key=f"table:{name}", on_change="rerun")
    with box:
        if box.open:
            st.dataframe(table, hide_index=True, width="stretch", placeholder="—")
            download_csv(table, name)


def download_csv(table: pd.DataFrame, name: str) -> None:
    """The one way a table leaves the app (the tables' own export is off in config.toml): CSV
    whose text cells a spreadsheet shows as text, never runs as formulas. The file is made when
    the button is pressed, not on every page view."""
    st.download_button("Download CSV", lambda: csv_bytes(table), f"{name}.csv", "text/csv",
                       key=f"csv:{name}", on_click="ignore")


def save(write: Callable[[], Any], message: str | Callable[[Any], str],
         clear_cache: bool = False, then: Callable[[Any], None] | None = None) -> None:
    """Run ``write``; on a refusal show why (nothing was saved), else ``then(its result)`` and
    rerun the page confirming ``message`` (or ``message(its result)``)."""
    try:
        result = write()
    except KpiError as exc:
        st.error(md(exc))
        return
    if then is not None:
        then(result)
    saved(message(result) if callable(message) else message, clear_cache)


def saved(message: str, clear_cache: bool = False) -> None:
    """Rerun the page and confirm a change there (a rerun drops what this run drew)."""
    if clear_cache:
        data.forget_answers()
        st.cache_data.clear()
    st.session_state["flash"] = message
    st.rerun()


def confirmation() -> None:
    """The confirmation :func:`saved` left for this run, if any."""
    if "flash" in st.session_state:
        st.success(st.session_state.pop("flash"))


def empty(message: str) -> None:
    st.info(message, icon="ℹ️")
