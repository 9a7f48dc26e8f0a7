"""Every KPI formula on a tiny company whose answers are computed by hand in the test."""

from __future__ import annotations

import math

import pytest

from kpi.engine import MetricRequest, Scope
from tests.conftest import Tiny, d


def one(tiny: Tiny, metric: str, start: str, end: str, **kw) -> dict:
    frame = tiny.engine.run(MetricRequest.make(metric, grain="total", date_from=d(start),
                                               date_to=d(end), **kw))
    assert len(frame) == 1
    return frame.iloc[0].to_dict()


@pytest.fixture
def two_teams(tiny: Tiny) -> Tiny:
    tiny.team("TA", "Alpha")
    tiny.team("TB", "Beta")
    tiny.rep("a1", "TA")
    tiny.rep("b1", "TB", region="West")
    return tiny


def test_win_rate_ignores_open_deals(two_teams: Tiny) -> None:
    t = two_teams
    for _ in range(3):
        t.deal("a1", "2025-01-02", "2025-01-20", won=True, amount=100)
    t.deal("a1", "2025-01-02", "2025-01-21", won=False, amount=50)
    t.deal("a1", "2025-01-02")  # open: not in the denominator
    t.deal("a1", "2025-01-05")  # open
    row = one(t, "win_rate", "2025-01-01", "2025-01-31")
    # won / (won + lost) = 3 / (3 + 1)
    assert (row["numerator"], row["denominator"]) == (3, 4)
    assert row["value"] == pytest.approx(0.75)
    # value-based: 300 / (300 + 50)
    assert one(t, "win_rate_value", "2025-01-01", "2025-01-31")["value"] == pytest.approx(300 / 350)


def test_ratio_is_sum_over_sum_across_teams(two_teams: Tiny) -> None:
    t = two_teams
    t.deal("a1", "2025-01-02", "2025-01-10", won=True, amount=10)  # Alpha: 1 of 1 = 100%
    t.deal("b1", "2025-01-02", "2025-01-10", won=True, amount=10)  # Beta: 1 of 4 = 25%
    for _ in range(3):
        t.deal("b1", "2025-01-02", "2025-01-11")
    by_team = t.engine.run(MetricRequest.make("win_rate", grain="total", by=["team"],
                                              date_from=d("2025-01-01"), date_to=d("2025-01-31")))
    assert dict(zip(by_team["team"], by_team["value"], strict=True)) == {"Alpha": 1.0, "Beta": 0.25}
    # all teams: (1 + 1) / (1 + 4) = 40%, not the 62.5% average of the two rates
    assert one(t, "win_rate", "2025-01-01", "2025-01-31")["value"] == pytest.approx(0.4)
    by_region = t.engine.run(MetricRequest.make("win_rate", grain="total", by=["region"],
                                                date_from=d("2025-01-01"), date_to=d("2025-01-31")))
    assert dict(zip(by_region["region"], by_region["value"], strict=True)) == {"East": 1.0, "West": 0.25}


def test_deal_size_margin_and_cycle(two_teams: Tiny) -> None:
    t = two_teams
    t.deal("a1", "2025-01-01", "2025-01-11", won=True, amount=100, cost=40)   # 10 days
    t.deal("a1", "2025-01-01", "2025-01-21", won=True, amount=200, cost=50)   # 20 days
    t.deal("a1", "2025-01-01", "2025-02-10", won=True, amount=900, cost=None)  # 40 days
    t.deal("a1", "2025-01-01", "2025-01-05", won=False, amount=5000)  # lost: in none of these
    args = ("2025-01-01", "2025-02-28")
    assert one(t, "revenue", *args)["value"] == 1200
    assert one(t, "avg_deal_size", *args)["value"] == pytest.approx(400)     # 1200 / 3
    assert one(t, "median_deal_size", *args)["value"] == pytest.approx(200)
    # over the won deals with a cost: (300 - (40 + 50)) / 300; the 900 without a cost is left out
    assert one(t, "gross_margin", *args)["value"] == pytest.approx(210 / 300)
    # no won deal with a cost in January's last ten days: no margin rather than 100%
    late = one(t, "gross_margin", "2025-01-22", "2025-02-28")
    assert (late["numerator"], late["denominator"]) == (0, 0) and late["value"] is None
    assert one(t, "sales_cycle_days", *args)["value"] == pytest.approx(20)   # median of 10, 20, 40


def test_quota_attainment_spreads_quota_over_days(two_teams: Tiny) -> None:
    t = two_teams
    t.quota("a1", "2025-01-01", "2025-03-31", 9000)  # 90 days -> 100 a day
    t.deal("a1", "2025-01-01", "2025-01-15", won=True, amount=1550)
    jan = one(t, "quota_attainment", "2025-01-01", "2025-01-31")
    assert jan["denominator"] == pytest.approx(3100)  # 31 days x 100
    assert jan["value"] == pytest.approx(0.5)
    assert one(t, "quota_attainment", "2025-01-01", "2025-03-31")["value"] == pytest.approx(1550 / 9000)


def test_new_logos_count_accounts_once(two_teams: Tiny) -> None:
    t = two_teams
    t.account("acme")
    t.account("globex")
    t.deal("a1", "2025-01-01", "2025-01-10", won=True, amount=1, account="acme")
    t.deal("a1", "2025-01-01", "2025-01-12", won=True, amount=1, account="acme")
    t.deal("a1", "2025-01-01", "2025-01-12", won=True, amount=1, account="globex", kind="expansion")
    t.deal("a1", "2025-01-01", "2025-01-12", won=False, amount=1, account="globex")
    assert one(t, "new_logos", "2025-01-01", "2025-01-31")["value"] == 1


def test_rep_joining_mid_month_is_normalised_by_rep_weeks(tiny: Tiny) -> None:
    tiny.team("T")
    tiny.rep("full", "T", hired="2024-06-01")
    tiny.rep("new", "T", hired="2025-01-17")  # 15 active days in January
    tiny.activity("full", "2025-01-10", n=10)
    tiny.activity("new", "2025-01-20", n=5)
    team = one(tiny, "meetings", "2025-01-01", "2025-01-31")
    # 15 meetings over (31 + 15) / 7 rep-weeks
    assert team["denominator"] == pytest.approx(46 / 7)
    assert team["value"] == pytest.approx(15 / (46 / 7))
    per_rep = tiny.engine.run(MetricRequest.make("meetings", grain="total", by=["rep"],
                                                 date_from=d("2025-01-01"), date_to=d("2025-01-31")))
    values = dict(zip(per_rep["rep"], per_rep["value"], strict=True))
    assert values["Rep new"] == pytest.approx(5 / (15 / 7))   # 2.33 a week: not a slacker
    assert values["Rep full"] == pytest.approx(10 / (31 / 7))


def test_rep_who_left_stops_counting_rep_weeks(tiny: Tiny) -> None:
    tiny.team("T")
    tiny.rep("gone", "T", hired="2024-01-01", left="2025-01-07")  # 7 days in January
    tiny.activity("gone", "2025-01-03", type="call", n=2)
    row = one(tiny, "calls", "2025-01-01", "2025-01-31")
    assert row["denominator"] == pytest.approx(1.0)
    assert row["value"] == pytest.approx(2.0)


def test_lever_filters_and_types(tiny: Tiny) -> None:
    tiny.team("T")
    tiny.rep("r", "T", hired="2024-01-01")
    tiny.activity("r", "2025-03-03", type="meeting", new_prospect=True, n=3)
    tiny.activity("r", "2025-03-04", type="meeting", n=4)
    tiny.activity("r", "2025-03-05", type="demo", n=2)
    tiny.activity("r", "2025-03-05", type="proposal", n=1)
    tiny.activity("r", "2025-03-06", type="email", n=6)
    week = ("2025-03-03", "2025-03-09")  # one rep, one week: values are plain counts
    assert one(tiny, "new_prospect_meetings", *week)["value"] == pytest.approx(3)
    assert one(tiny, "meetings", *week)["value"] == pytest.approx(7)
    assert one(tiny, "demos", *week)["value"] == pytest.approx(2)
    assert one(tiny, "proposals_sent", *week)["value"] == pytest.approx(1)
    assert one(tiny, "activities", *week)["value"] == pytest.approx(16)
    assert one(tiny, "calls", *week)["value"] == pytest.approx(0)


def test_opportunities_and_pipeline_created(tiny: Tiny) -> None:
    tiny.team("T")
    tiny.rep("r", "T", hired="2024-01-01")
    tiny.deal("r", "2025-03-04", amount=1000)
    tiny.deal("r", "2025-03-05", "2025-03-20", won=True, amount=3000)
    week = ("2025-03-03", "2025-03-09")
    assert one(tiny, "opps_created", *week)["value"] == pytest.approx(2)
    assert one(tiny, "pipeline_created", *week)["value"] == pytest.approx(4000)


def conversion(tiny: Tiny) -> tuple[int, int, float | None]:
    tiny.stages()  # as an import or the demo does once the deals are in
    row = one(tiny, "stage_conversion", "2025-01-01", "2025-01-31")
    value = None if row["value"] is None or math.isnan(row["value"]) else row["value"]
    return row["numerator"], row["denominator"], value


def test_stage_conversion(tiny: Tiny) -> None:
    """Two open stages: the first qualifies, the second is the proposal."""
    tiny.team("T")
    tiny.rep("r", "T")
    opps = [tiny.deal("r", "2025-01-02") for _ in range(4)]
    for opp in opps:
        tiny.stage(opp, "Qualification", "2025-01-05")
    tiny.stage(opps[0], "Proposal", "2025-01-20")
    tiny.stage(opps[1], "Proposal", "2025-01-25")
    assert conversion(tiny) == (2, 4, 0.5)


def test_stage_conversion_with_salesforce_stage_names(tiny: Tiny) -> None:
    """Salesforce's eight open stages: Prospecting comes first, so Qualification qualifies; the
    one before Negotiation/Review, Proposal/Price Quote, is the proposal stage."""
    tiny.team("T")
    tiny.rep("r", "T")
    tiny.walk("Prospecting@01-02, Qualification@01-03, Needs Analysis@01-06, "
         "Value Proposition@01-08, Id. Decision Makers@01-10, Perception Analysis@01-13, "
         "Proposal/Price Quote@01-15, Negotiation/Review@01-17, Closed Won@01-20", "01-20", True)
    tiny.walk("Prospecting@01-05, Qualification@01-07, Needs Analysis@01-09, "
         "Proposal/Price Quote@01-20")
    tiny.walk("Prospecting@01-06, Qualification@01-08, Closed Lost@01-15", "01-15")
    tiny.walk("Prospecting@01-10, Qualification@01-12")
    # 4 deals entered Qualification in January, 2 of them Proposal/Price Quote (the catalog's old
    # filter on a stage named 'Proposal' read 0 of 4)
    assert conversion(tiny) == (2, 4, 0.5)


def test_stage_conversion_with_hubspot_stage_names(tiny: Tiny) -> None:
    """HubSpot's internal stage names, five open stages: appointmentscheduled comes first, so
    qualifiedtobuy qualifies; decisionmakerboughtin (before contractsent) is the proposal stage."""
    tiny.team("T")
    tiny.rep("r", "T")
    tiny.walk("appointmentscheduled@01-02, qualifiedtobuy@01-04, presentationscheduled@01-08, "
         "decisionmakerboughtin@01-12, contractsent@01-16, closedwon@01-25", "01-25", True)
    tiny.walk("appointmentscheduled@01-03, qualifiedtobuy@01-06, presentationscheduled@01-10, "
         "decisionmakerboughtin@01-20")
    tiny.walk("appointmentscheduled@01-05, qualifiedtobuy@01-09, closedlost@01-15", "01-15")
    # 3 deals qualified to buy, 2 got the decision maker's buy-in (the old catalog: 0 of 0)
    assert conversion(tiny) == (2, 3, pytest.approx(2 / 3))


def test_stage_conversion_with_the_demo_stage_names(tiny: Tiny) -> None:
    """The demo's five open stages keep the roles they had by name: Qualification and Proposal."""
    tiny.team("T")
    tiny.rep("r", "T")
    tiny.walk("Prospecting@01-02, Qualification@01-04, Demo@01-08, Proposal@01-12, "
         "Negotiation@01-16, Closed Won@01-22", "01-22", True)
    tiny.walk("Prospecting@01-03, Qualification@01-05, Demo@01-09, Proposal@01-14")
    tiny.walk("Prospecting@01-04, Qualification@01-07, Demo@01-10, Closed Lost@01-18", "01-18")
    tiny.walk("Prospecting@01-05, Qualification@01-08")
    tiny.walk("Prospecting@01-06")
    assert conversion(tiny) == (2, 4, 0.5)
    roles = tiny.store.query("SELECT stage, role FROM stages WHERE role IS NOT NULL ORDER BY 1")
    assert dict(zip(roles["stage"], roles["role"], strict=True)) == {
        "Proposal": "propose", "Qualification": "qualify"}


def test_pipeline_coverage_counts_open_pipeline_due_in_period(tiny: Tiny) -> None:
    tiny.team("T")
    tiny.rep("r", "T")
    tiny.quota("r", "2025-04-01", "2025-06-30", 1000)
    tiny.deal("r", "2025-03-01", amount=500, expected="2025-05-15")              # open, due: counts
    tiny.deal("r", "2025-03-01", "2025-04-20", won=True, amount=700)             # open on Apr 1: counts
    tiny.deal("r", "2025-03-01", amount=900, expected="2025-08-01")              # due later: no
    tiny.deal("r", "2025-02-01", "2025-03-15", won=True, amount=800)             # closed before: no
    tiny.deal("r", "2025-04-10", amount=300, expected="2025-05-01")              # created after start
    row = tiny.engine.run(MetricRequest.make("pipeline_coverage", grain="quarter",
                                             date_from=d("2025-04-01"), date_to=d("2025-06-30")))
    assert row["numerator"].tolist() == [1200]
    assert row["value"].tolist() == [pytest.approx(1.2)]


def test_as_of_and_current_org_attribution_after_a_reorg(tiny: Tiny) -> None:
    tiny.team("TA", "Alpha")
    tiny.team("TB", "Beta")
    tiny.rep("r", "TA", hired="2024-01-01")
    tiny.move("r", "TB", on="2025-02-01", segment="Healthcare", motion="hunter")
    tiny.deal("r", "2025-01-02", "2025-01-15", won=True, amount=100)  # while in Alpha
    tiny.deal("r", "2025-02-02", "2025-02-15", won=True, amount=40)   # in Beta
    request = dict(grain="total", by=["team"], date_from=d("2025-01-01"), date_to=d("2025-02-28"))
    as_of = tiny.engine.run(MetricRequest.make("revenue", **request))
    assert dict(zip(as_of["team"], as_of["value"], strict=True)) == {"Alpha": 100, "Beta": 40}
    current = tiny.engine.run(MetricRequest.make("revenue", attribution="current", **request))
    assert dict(zip(current["team"], current["value"], strict=True)) == {"Beta": 140}
    motion = tiny.engine.run(MetricRequest.make("revenue", grain="total", by=["motion"],
                                                date_from=d("2025-01-01"), date_to=d("2025-02-28")))
    assert dict(zip(motion["motion"], motion["value"], strict=True)) == {"generalist": 100, "hunter": 40}


def test_empty_periods_are_explicit(tiny: Tiny) -> None:
    tiny.team("T")
    tiny.rep("r", "T")
    tiny.deal("r", "2025-01-02", "2025-01-15", won=True, amount=100)
    tiny.deal("r", "2025-03-02", "2025-03-15", won=False, amount=100)
    window = dict(grain="month", date_from=d("2025-01-01"), date_to=d("2025-03-31"))
    revenue = tiny.engine.run(MetricRequest.make("revenue", **window))
    assert revenue["period"].tolist() == [d("2025-01-01"), d("2025-02-01"), d("2025-03-01")]
    assert revenue["value"].tolist() == [100, 0, 0]
    win = tiny.engine.run(MetricRequest.make("win_rate", **window))
    assert win["value"].iloc[0] == 1.0 and math.isnan(win["value"].iloc[1]) and win["value"].iloc[2] == 0
    assert win["denominator"].tolist() == [1, 0, 1]
    cycle = tiny.engine.run(MetricRequest.make("sales_cycle_days", **window))
    assert cycle["value"].iloc[0] == 13 and cycle["value"].iloc[1:].isna().all()


def test_a_total_is_one_row_even_when_nothing_happened(tiny: Tiny) -> None:
    """A rep who had left, a scope of nobody, a window before any data: one row each, nothing
    counted over no rep-days (the pace view reads the first row without a check)."""
    tiny.team("T")
    tiny.rep("gone", "T", hired="2025-01-01", left="2025-02-01")
    tiny.rep("r", "T", hired="2025-01-01")
    tiny.activity("r", "2025-03-03", type="demo")
    for scope, start, end in ((Scope.reps("gone"), "2025-06-01", "2025-06-05"),
                              (Scope.reps("nobody"), "2025-03-01", "2025-03-05"),
                              (Scope.teams("T"), "2020-01-01", "2020-01-05")):
        got = tiny.engine.run(MetricRequest.make("demos", grain="total", scope=scope,
                                                 date_from=d(start), date_to=d(end)))
        assert [(r.period, r.numerator, r.denominator) for r in got.itertuples()] == [
            (d(start), 0, 0)]
        assert got["value"].isna().all()


def test_empty_groups_get_every_period(two_teams: Tiny) -> None:
    t = two_teams
    t.deal("a1", "2025-01-02", "2025-01-15", won=True, amount=100)
    t.deal("b1", "2025-02-02", "2025-02-15", won=True, amount=50)
    frame = t.engine.run(MetricRequest.make("revenue", grain="month", by=["team"],
                                            date_from=d("2025-01-01"), date_to=d("2025-02-28")))
    assert frame[["team", "value"]].values.tolist() == [["Alpha", 100], ["Beta", 0],
                                                       ["Alpha", 0], ["Beta", 50]]


def test_partial_periods_are_marked(tiny: Tiny) -> None:
    tiny.team("T")
    tiny.rep("r", "T")
    frame = tiny.engine.run(MetricRequest.make("revenue", grain="month", date_from=d("2025-01-15"),
                                               date_to=d("2025-03-31")))
    assert frame["is_partial"].tolist() == [True, False, False]


def test_weeks_start_on_monday(tiny: Tiny) -> None:
    tiny.team("T")
    tiny.rep("r", "T")
    tiny.deal("r", "2025-01-01", "2025-01-12", won=True, amount=10)  # a Sunday
    tiny.deal("r", "2025-01-01", "2025-01-13", won=True, amount=20)  # the next Monday
    frame = tiny.engine.run(MetricRequest.make("revenue", grain="week", date_from=d("2025-01-06"),
                                               date_to=d("2025-01-19")))
    assert frame[["period", "value"]].values.tolist() == [[d("2025-01-06"), 10], [d("2025-01-13"), 20]]


def test_scope_limits_rows_to_a_rep_or_team(two_teams: Tiny) -> None:
    t = two_teams
    t.deal("a1", "2025-01-02", "2025-01-15", won=True, amount=100)
    t.deal("b1", "2025-01-02", "2025-01-15", won=True, amount=7)
    window = ("2025-01-01", "2025-01-31")
    assert one(t, "revenue", *window, scope=Scope.reps("b1"))["value"] == 7
    assert one(t, "revenue", *window, scope=Scope.teams("TA"))["value"] == 100
    assert one(t, "revenue", *window, scope=Scope.teams())["value"] == 0
    by_rep = t.engine.run(MetricRequest.make("revenue", grain="total", by=["rep"], scope=Scope.reps("b1"),
                                             date_from=d(window[0]), date_to=d(window[1])))
    assert by_rep["rep"].tolist() == ["Rep b1"]


def test_filters_keep_only_the_named_values(two_teams: Tiny) -> None:
    t = two_teams
    t.deal("a1", "2025-01-02", "2025-01-15", won=True, amount=100, product="Core")
    t.deal("b1", "2025-01-02", "2025-01-15", won=True, amount=7, product="Platform")
    window = ("2025-01-01", "2025-01-31")
    assert one(t, "revenue", *window, filters={"team": ["Beta"]})["value"] == 7
    assert one(t, "revenue", *window, filters={"product": ["Core", "Platform"]})["value"] == 107


def test_split_by_team_over_several_periods_has_one_row_per_period_and_team(two_teams: Tiny) -> None:
    t = two_teams
    t.deal("a1", "2025-01-02", "2025-01-10", won=True, amount=100)
    t.deal("a1", "2025-02-02", "2025-02-10", won=True, amount=40)
    t.deal("b1", "2025-01-02", "2025-03-05", won=True, amount=7)
    frame = t.engine.run(MetricRequest.make("revenue", grain="month", by=["team"],
                                            date_from=d("2025-01-01"), date_to=d("2025-03-31")))
    rows = [(p.isoformat(), team, value) for p, team, value
            in zip(frame["period"], frame["team"], frame["value"], strict=True)]
    assert rows == [
        ("2025-01-01", "Alpha", 100.0), ("2025-01-01", "Beta", 0.0),
        ("2025-02-01", "Alpha", 40.0), ("2025-02-01", "Beta", 0.0),
        ("2025-03-01", "Alpha", 0.0), ("2025-03-01", "Beta", 7.0),
    ]
