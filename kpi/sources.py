"""Fact sources the metric catalog can aggregate: one row per event, dated by ``event_date``.

Each source is SQL over the canonical tables, owned by the project (never by the user). Metrics in
the catalog name a source and aggregate its ``columns``; the engine adds dimensions (as-of team,
region, segment, motion, industry, product), the date range, scope and filters around it.
Sources may use ``$date_from``/``$date_to`` and, when ``needs_spine`` is set, the ``spine`` CTE
(one row per period window: ``period``, ``window_start``, ``window_end`` exclusive).
"""

from __future__ import annotations

from dataclasses import dataclass

REP_DIMENSIONS = frozenset({"rep", "team", "region", "segment", "motion"})
ALL_DIMENSIONS = REP_DIMENSIONS | {"industry", "product"}
# an event's industry: its account's, read through ACCOUNT_JOIN (over the fact alias ``f``)
INDUSTRY = "coalesce(acc.industry, '(unknown)')"
ACCOUNT_JOIN = "LEFT JOIN accounts acc ON acc.account_id = f.account_id"

_OPP_COLUMNS = frozenset(
    {"opp_id", "account_id", "amount", "cost", "is_won", "is_closed", "kind", "stage",
     "product", "cycle_days"}
)
_OPP_SELECT = """o.rep_id, o.account_id, o.product, o.opp_id, o.amount, o.cost, o.is_won,
       o.is_closed, o.kind, o.stage, date_diff('day', o.created_at, o.closed_at) AS cycle_days"""

_CALENDAR = """generate_series(CAST($date_from AS TIMESTAMP), CAST($date_to AS TIMESTAMP),
                         INTERVAL 1 DAY) AS cal(day)"""


@dataclass(frozen=True)
class Source:
    """A fact table the catalog can aggregate."""

    name: str
    description: str
    sql: str
    columns: frozenset[str]
    dimensions: frozenset[str]
    needs_spine: bool = False
    lean_sql: str | None = None  # the same rows without the join that only ``product`` needs

    def sql_for(self, uses_product: bool) -> str:
        """The cheapest SQL that still has what the request uses."""
        return self.sql if uses_product or self.lean_sql is None else self.lean_sql


SOURCES: dict[str, Source] = {
    s.name: s
    for s in (
        Source(
            "opps_closed",
            "Closed opportunities (won and lost), dated by close date.",
            f"SELECT o.closed_at AS event_date, {_OPP_SELECT} FROM opportunities o "
            "WHERE o.is_closed",
            _OPP_COLUMNS,
            ALL_DIMENSIONS,
        ),
        Source(
            "opps_created",
            "All opportunities, dated by creation date.",
            f"SELECT o.created_at AS event_date, {_OPP_SELECT} FROM opportunities o",
            _OPP_COLUMNS,
            ALL_DIMENSIONS,
        ),
        Source(
            "activities",
            "Logged activities (calls, emails, meetings, demos, proposals), dated by occurrence.",
            """SELECT CAST(a.occurred_at AS DATE) AS event_date, a.rep_id, a.account_id,
                      o.product, a.opp_id, a.type, a.new_prospect
               FROM activities a LEFT JOIN opportunities o ON o.opp_id = a.opp_id""",
            frozenset({"type", "new_prospect", "opp_id", "account_id", "product"}),
            ALL_DIMENSIONS,
            lean_sql="""SELECT CAST(a.occurred_at AS DATE) AS event_date, a.rep_id, a.account_id,
                      CAST(NULL AS VARCHAR) AS product, a.opp_id, a.type, a.new_prospect
               FROM activities a""",
        ),
        Source(
            "stage_entries",
            "Each time an opportunity entered a stage, dated by entry, with what the stage is in "
            "the pipeline (kpi.stages): stage_role ('qualify', 'propose' or NULL), stage_position "
            "and stage_outcome ('open', 'won', 'lost'; NULL for a stage not derived yet).",
            """SELECT h.entered_at AS event_date, o.rep_id, o.account_id, o.product, h.opp_id,
                      h.stage, s.role AS stage_role, s.position AS stage_position,
                      s.outcome AS stage_outcome
               FROM stage_history h JOIN opportunities o ON o.opp_id = h.opp_id
               LEFT JOIN stages s ON s.stage = h.stage""",
            frozenset({"stage", "stage_role", "stage_position", "stage_outcome", "opp_id",
                       "account_id", "product"}),
            ALL_DIMENSIONS,
        ),
        Source(
            "rep_days",
            "One row per rep per calendar day between hire and end date (active rep-days).",
            f"""SELECT CAST(cal.day AS DATE) AS event_date, r.rep_id
               FROM reps r JOIN {_CALENDAR}
                 ON CAST(cal.day AS DATE) >= r.hire_date
                AND (r.end_date IS NULL OR CAST(cal.day AS DATE) <= r.end_date)""",
            frozenset({"rep_id"}),
            REP_DIMENSIONS,
        ),
        Source(
            "quota_days",
            "Rep quotas spread evenly over the days of their quota period.",
            f"""SELECT CAST(cal.day AS DATE) AS event_date, q.rep_id,
                      q.amount / (date_diff('day', q.period_start, q.period_end) + 1) AS daily_quota
               FROM quotas q JOIN {_CALENDAR}
                 ON CAST(cal.day AS DATE) BETWEEN q.period_start AND q.period_end
               WHERE q.rep_id IS NOT NULL""",
            frozenset({"daily_quota"}),
            REP_DIMENSIONS,
        ),
        Source(
            "pipeline_open",
            "Opportunities open at the start of each period window and due to close inside it.",
            """SELECT s.window_start AS event_date, o.rep_id, o.account_id, o.product, o.opp_id,
                      o.amount
               FROM spine s JOIN opportunities o
                 ON o.created_at < s.window_start
                AND (o.closed_at IS NULL OR o.closed_at >= s.window_start)
                AND coalesce(o.expected_close_at, o.closed_at) >= s.window_start
                AND coalesce(o.expected_close_at, o.closed_at) < s.window_end""",
            frozenset({"amount", "opp_id", "account_id", "product"}),
            ALL_DIMENSIONS,
            needs_spine=True,
        ),
    )
}
