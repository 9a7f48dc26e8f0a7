"""The sections of the Insights page: did the rollout work, which levers lead, what to push.

Every section computes in kpi.views (through the cache) and keeps its method one click away.
"""

from __future__ import annotations

import streamlit as st

from kpi import charts, views
from kpi.engine import Scope
from kpi.insights.stored import Kept
from kpi.views import ROLLOUT_OUTPUTS
from ui import data, widgets
from ui.frame import Page

PERCENT = st.column_config.NumberColumn(format="percent")


def computed(kept: Kept | None) -> None:
    """When the statistics above were computed, and on which data (``data.<view>.kept(...)``)."""
    if kept is None:
        return
    through = f" on data through {kept.data_through:%d %b %Y}" if kept.data_through else ""
    text = f"Computed {kept.computed_at:%d %b %Y %H:%M}{through}"
    st.caption(text + ("." if kept.fresh else " — being computed again on the newest data; "
                       "these are the last results meanwhile."))


def lead_table(page: Page):  # noqa: ANN201 - pandas.DataFrame
    """The lead-lag tests of every lever and output the viewer's role sees (one kept table)."""
    catalog = page.engine.catalog
    with st.spinner("Testing which levers lead which outputs (one year, all teams)..."):
        table = data.lead_lags(*views.lead_pairs(catalog), page.day)
    return views.seen_leads(catalog, table, page.user.role)


def rollout(page: Page) -> None:
    """Executive: the rollout's effect on each lever, the event study and the placebo."""
    initiative = page.initiative
    if initiative is None:
        widgets.empty("No strategy rollout yet: create one on **Strategy rollouts** to see what "
                      "it caused.")
        return
    levers = views.rollout_levers(page.engine.catalog, initiative)
    with st.spinner("Estimating the rollout's effect on each lever and on win rate..."):
        results = data.rollout_effects(initiative, levers)
        outputs = data.rollout_output_effects(initiative, ROLLOUT_OUTPUTS)
    st.subheader(f"Did the rollout work? {widgets.md(initiative.name)}")
    computed(data.rollout_effects.kept(initiative, levers))
    if not results and not outputs:
        widgets.empty("No lever of this initiative can be estimated yet.")
        return
    st.caption("Each rep (for win rate, each team) against its own weeks before the team "
               "adopted, month by month against the same months of the year before (a Poisson "
               "model with unit and calendar-month effects). The effect is the change from week "
               "8 after adoption to today (win rate, which moves later: from week 16). The "
               "placebo moves every adoption half a year back, within the weeks before the "
               "rollout: it should find nothing.")
    rows = []
    method = {"staggered": "teams not yet adopted", "time series": "own weeks before adoption"}
    for effect, placebo in [*results, *outputs]:
        target = initiative.target_on(effect.metric_id, page.day)
        rows.append({"metric": page.metric(effect.metric_id).label, "effect": effect.effect,
                     "90% low": effect.low, "90% high": effect.high,
                     "target": target.change_pct if target else None, "verdict": effect.message,
                     "compared with": method[effect.design], "placebo": placebo.message})
    results = [*results, *outputs]
    st.dataframe(rows, hide_index=True, width="stretch", placeholder="—",
                 column_config={"effect": PERCENT, "90% low": PERCENT, "90% high": PERCENT,
                                "target": PERCENT})
    labels = {e.metric_id: page.metric(e.metric_id).label for e, _ in results}
    chosen = widgets.choice("Event study for", list(labels), "lever", list(labels)[0],
                            format_func=labels.__getitem__)
    effect = next(e for e, _ in results if e.metric_id == chosen)
    if effect.event_study.empty:
        widgets.empty(effect.message)
    else:
        last = int(effect.event_study["week_since_adoption"].iloc[-1])
        axis = f"weeks since adoption, 4-week windows ({last} = {last} and after)"
        widgets.chart(widgets.figure(charts.event_study, effect.event_study, page.metric(chosen), axis),
                      effect.event_study, f"event_study_{chosen}")
        st.caption(f"{effect.reps} {effect.unit}s over {effect.weeks} weeks. Weeks before adoption should "
                   "hover around zero (no trend before adoption); if not, read the effect with care.")
    with st.expander("Method and caveats: rollout effect"):
        st.markdown(
            "- **Comparison**: each rep (for win rate, each team) against its own weeks before "
            "the team adopted; calendar-month effects, measured on the year before as well, take "
            "out seasonality. No other lever is used as a control.\n"
            "- **Effect**: the change from week 8 after adoption on (win rate: week 16), when a "
            "ramp-up should be over, averaged over every week since; 90% intervals from errors "
            "clustered by team (never below the rep-clustered ones), t with teams - 1 degrees of "
            "freedom.\n"
            "- **Assumes** nothing else would have moved the lever from the adoption on (no "
            "trend, no other programme), and adoption dates were not picked because of a coming "
            "change. The placebo and the weeks before adoption in the event study are the "
            "checks.\n"
            "- **Too little data** without half a year before adoption and 16 weeks after it "
            "(win rate: 24).\n\n"
            "The full method: `docs/insights.md` in the repository.")


def lead_lag(page: Page) -> None:
    """Executive: every lever against every output, the curve by lag, the quarterly reviews."""
    st.subheader("Which levers lead the outputs")
    table = lead_table(page)
    computed(data.lead_lags.kept(*views.lead_pairs(page.engine.catalog), page.day))
    if table.empty:
        widgets.empty("Not enough weeks of data to test which levers lead.")
        return
    st.caption(f"The last 52 complete weeks to {page.day:%d %b %Y}, all teams. A lever *leads* "
               "when its ups and downs against the other teams are followed by the output's, "
               "better than chance; the lag is the one that predicts a held-out team best.")
    if table["stopped"].any():
        names = ", ".join(f"{r.lever_label} → {r.output_label}"
                          for r in table[table["stopped"]].itertuples())
        st.warning(f"Stopped predicting since the review on {table['previous'].iloc[0]:%d %b %Y}:"
                   f" {names}.", icon=":material/warning:")
    shown = table[["lever_label", "output_label", "verdict", "lag", "strength", "p_value",
                   "led_before"]].rename(columns={
                       "lever_label": "lever", "output_label": "output",
                       "lag": "lag (weeks)", "strength": "correlation", "p_value": "p",
                       "led_before": "led at last review"})
    st.dataframe(shown, hide_index=True, width="stretch", placeholder="—",
                 column_config={"correlation": st.column_config.NumberColumn(format="%+.2f"),
                                "p": st.column_config.NumberColumn(format="%.3f")})
    left, right = st.columns(2)
    levers, outputs = list(dict.fromkeys(table["lever"])), list(dict.fromkeys(table["output"]))
    lever = widgets.choice("Lever", levers, "lead_lever", levers[0],
                           format_func=lambda m: page.metric(m).label, where=left)
    output = widgets.choice("Output", outputs, "lead_output", outputs[0],
                            format_func=lambda m: page.metric(m).label, where=right)
    detail = data.lead_lag_detail(lever, output, page.day)
    if detail.curve.empty:
        widgets.empty(detail.message)
    else:
        fig = widgets.figure(charts.lead_lag, detail.curve, page.metric(lever), page.metric(output),
                             detail.lag)
        widgets.chart(fig, detail.curve, f"lead_lag_{lever}_{output}")
        st.caption(f"{page.metric(lever).label}: {detail.message}.")
    reviews = st.expander("Quarterly reviews: did it lead at each quarter end?",
                          key="lead_reviews", on_change="rerun")
    with reviews:  # the tests re-run at every quarter end only when asked
        if reviews.open:
            with st.spinner("Re-running at each quarter end..."):
                history = data.lead_lag_review(lever, output, page.day)
            st.dataframe(history, hide_index=True, width="stretch", placeholder="—",
                         column_config={"strength": st.column_config.NumberColumn(format="%+.2f"),
                                        "p_value": st.column_config.NumberColumn(format="%.3f")})
    _lead_method()


def _lead_method() -> None:
    with st.expander("Method and caveats: which levers lead"):
        st.markdown(
            "- **Data**: team × week over the last year; the lever as a rate per rep-week (a "
            "centred three-week rate), the output per week (win rate weighted by its deals).\n"
            "- **Fixed effects**: team effects take out each team's level, week effects take out "
            "seasonality and company-wide shifts such as the rollout step itself; what is left "
            "is a team moving against the other teams.\n"
            "- **Lag**: for 0–12 weeks, the lever in week t against the output in week t + lag; "
            "the lag whose slope, fitted on the other teams, best predicts a held-out team.\n"
            "- **Evidence**: the same search with each team's output paired to another team's "
            "(199 shuffles); a lever leads when fewer than 10% of shuffles fit as well. The "
            "correlation's 90% interval and the range of likely lags come from a bootstrap of "
            "four-week blocks.\n"
            "- **Caveats**: leading is predicting, not proving cause; with few teams the test is "
            "weak, so 'no evidence' is not evidence of no effect. Re-run each quarter: a lever "
            "that stopped leading is flagged.\n\n"
            "The full method: `docs/insights.md` in the repository.")


def levers_to_push(page: Page, scope: Scope, who: str) -> None:
    """Manager and rep: the levers that lead win rate, against this scope's goal."""
    table = lead_table(page)
    if table.empty:
        widgets.empty("Not enough weeks of data to tell which levers lead win rate.")
        return
    push = data.levers_to_push(scope, page.day, page.initiative, table)
    st.subheader(f"Which levers to push{who}")
    first = push[push["push"]]
    if first.empty:
        st.success("No lever that leads win rate is below its goal: keep doing what works.",
                   icon=":material/check_circle:")
    else:
        for row in first.itertuples():
            st.markdown(f"- **{row.lever_label}**: {-row.vs_goal:.0%} below {row.goal_kind} "
                        f"in the last four weeks; on win rate it {row.verdict}.")
    st.caption(f"Evidence from all teams over the last year; the level in {push['weeks'].iloc[0]}"
               ". Goal: the rollout's target, else the baseline level.")
    if push["vs_goal"].notna().any():
        st.plotly_chart(widgets.figure(charts.levers_vs_goal, push), width="stretch",
                        config={"displaylogo": False})
    shown = push[["lever_label", "push", "verdict", "recent", "goal", "goal_kind",
                  "vs_goal_points"]]
    st.dataframe(shown.rename(columns={"lever_label": "lever", "recent": "last 4 weeks",
                                       "goal_kind": "goal is", "vs_goal_points": "vs goal"}),
                 hide_index=True, width="stretch", placeholder="—",
                 column_config={"last 4 weeks": st.column_config.NumberColumn(format="compact"),
                                "goal": st.column_config.NumberColumn(format="compact"),
                                "vs goal": st.column_config.NumberColumn(format="%+.1f%%")})
    st.caption("Levers are per rep-week.")
    _lead_method()


def where_we_land(page: Page, scope: Scope, who: str) -> None:
    """Executive and manager: the quarter's revenue and attainment forecast, coverage needed."""
    from kpi.summary import format_money_short as money

    with st.spinner("Forecasting the quarter from today's pipeline..."):
        result = data.quarter_forecast(scope, page.day)
        needed = data.pipeline_coverage_needed(scope, page.day)
    q = result.quarter
    st.subheader(f"Where will {who} land by {q.end:%d %b %Y}?")
    computed(data.quarter_forecast.kept(scope, page.day))
    st.caption(f"Quarter {q.start:%d %b}–{q.end:%d %b %Y}, as of {page.day:%d %b %Y}: "
               f"{result.message}.")
    cols = st.columns(4)
    cols[0].metric("Booked so far", money(result.booked), border=True)
    cols[1].metric("Expected at quarter end", money(result.expected),
                   f"80% range {money(result.low)}–{money(result.high)}", delta_color="off",
                   delta_arrow="off", border=True)
    attainment = result.attainment(result.expected)
    cols[2].metric("Quota attainment (expected)",
                   "no quota" if attainment is None else f"{attainment:.0%}",
                   None if attainment is None else
                   f"80% range {result.attainment(result.low):.0%}–"
                   f"{result.attainment(result.high):.0%}", delta_color="off", delta_arrow="off",
                   border=True)
    cols[3].metric("Open deals", f"{result.open_deals:,}",
                   f"{result.created_recently:,} created in the last 4 weeks", delta_color="off",
                   delta_arrow="off", border=True)
    fig = widgets.figure(charts.forecast, result.booked, result.open_expected, result.new_expected,
                         result.low, result.high, result.quota,
                         "Booked, expected and the 80% range against quota")
    widgets.chart(fig, result.by_stage, f"forecast_{page.day}")
    if not needed.empty:
        st.markdown("**Pipeline needed per segment** — the rest of the quarter's quota divided "
                    "by the segment's own win rate (by value, last four quarters).")
        st.dataframe(needed, hide_index=True, width="stretch", placeholder="—", column_config={
            "win_rate": st.column_config.NumberColumn("win rate", format="percent"),
            "needed_coverage": st.column_config.NumberColumn("coverage needed", format="%.1fx"),
            "coverage": st.column_config.NumberColumn("coverage now", format="%.1fx"),
            **{c: st.column_config.NumberColumn(c.replace("_", " "), format="compact")
               for c in ("quota", "booked", "remaining", "pipeline_needed", "open_pipeline",
                         "gap")}})
    with st.expander("Method and caveats: the forecast"):
        st.markdown(
            "- **Open deals**: each deal open today wins by quarter end with the odds that deals "
            "in the same stage (and equally due or not due by quarter end) had in the last four "
            "quarters, seen the same number of days before each quarter's end — so the "
            "quarter-end rush is included. The odds are scaled by how today's win rate (last 13 "
            "weeks) compares with those quarters'.\n"
            "- **New deals**: the opportunities created in the last four weeks (the lever) times "
            "the revenue each one brought in past quarters by the quarter end.\n"
            "- **Range**: 4,000 simulated quarters, each replaying one of the last four quarters "
            "and winning or losing every open deal; 10th to 90th percentile.\n"
            "- **Coverage needed** = 1 / the segment's win rate by value; the gap is the pipeline "
            "due this quarter still missing.\n"
            "- **Caveats**: a team improving fast outruns a forecast built on past quarters "
            "(on the demo, 15 of 26 two-weekly backtests fell inside the 80% range). Deals without "
            "an expected close date count as not due.\n\n"
            "The full method: `docs/insights.md` in the repository.")
