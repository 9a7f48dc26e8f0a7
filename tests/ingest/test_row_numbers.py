"""Each validation rule names the exact row it found, and `--on-error skip` leaves out exactly that
row: the good rows on either side of it load, the bad one does not.

Every file below is a header and three rows: good, bad, good. Rows count like a spreadsheet (the
header is row 1), so the bad row is row 3 in every case; a rule that reported row 2 or row 4
would make a skip drop a good row and keep the bad one.
"""

from __future__ import annotations

import pytest

from kpi.ingest import Source, load, load_preset, plan_import
from kpi.store import DuckDBStore, Store

REPS = ("rep_id,name,email,hire_date,team,region,motion",
        "r1,Ann Lee,,2024-01-01,North,EMEA,hunter", "r2,Ben Ode,,2024-01-01,North,EMEA,farmer")
OPPS = "opp_id,rep_id,account_id,created_at,closed_at,stage,is_closed,is_won,amount,cost,product,kind"
WON = "{id},r1,,2024-02-01,2024-03-01,Closed Won,true,true,100,10,Core,new"
ACTS = "activity_id,rep_id,account_id,opp_id,occurred_at,type,new_prospect"
CALL = "{id},r1,,,2024-02-02 10:00,call,false"
ACCOUNTS = "account_id,name,industry,region,employees"
FIRM = "{id},Firm {id},Retail,EMEA,10"
QUOTAS = "quota_id,rep_id,team_id,period_start,period_end,amount"
QUOTA = "{id},r1,,2024-01-01,2024-03-31,1000"
ASSIGN = "rep_id,team_id,region,segment,motion,valid_from,valid_to"
TEAMS = ("team_id,name,manager_id", "T1,East,", "T2,West,")

# (case, file, table, header, the bad row with {id}, column, message)
CASES = [
    ("negative amount", "opportunities.csv", "opportunities", OPPS,
     "{id},r1,,2024-02-01,2024-03-01,Closed Won,true,true,-5,10,Core,new", "amount", "negative amount"),
    ("negative cost", "opportunities.csv", "opportunities", OPPS,
     "{id},r1,,2024-02-01,2024-03-01,Closed Won,true,true,100,-1,Core,new", "cost", "negative cost"),
    ("kind of deal", "opportunities.csv", "opportunities", OPPS,
     "{id},r1,,2024-02-01,2024-03-01,Closed Won,true,true,100,10,Core,upsell", "kind",
     "not a kind of deal"),
    ("won but open", "opportunities.csv", "opportunities", OPPS,
     "{id},r1,,2024-02-01,,Negotiation,false,true,100,10,Core,new", "is_won", "won but not closed"),
    ("closed without a date", "opportunities.csv", "opportunities", OPPS,
     "{id},r1,,2024-02-01,,Closed Won,true,true,100,10,Core,new", "closed_at",
     "closed deal without a close date"),
    ("closed before created", "opportunities.csv", "opportunities", OPPS,
     "{id},r1,,2024-02-01,2024-01-15,Closed Won,true,true,100,10,Core,new", "closed_at",
     "closed before it was created"),
    ("unknown rep", "opportunities.csv", "opportunities", OPPS,
     "{id},r9,,2024-02-01,2024-03-01,Closed Won,true,true,100,10,Core,new", "rep_id", "unknown rep"),
    ("blank created date", "opportunities.csv", "opportunities", OPPS,
     "{id},r1,,,2024-03-01,Closed Won,true,true,100,10,Core,new", "created_at",
     "created_at is blank"),
    ("not a date", "opportunities.csv", "opportunities", OPPS,
     "{id},r1,,2024-13-45,2024-03-01,Closed Won,true,true,100,10,Core,new", "created_at",
     "not a date (no such day)"),
    ("not a number", "opportunities.csv", "opportunities", OPPS,
     "{id},r1,,2024-02-01,2024-03-01,Closed Won,true,true,lots,10,Core,new", "amount",
     "not a number"),
    ("not true/false", "opportunities.csv", "opportunities", OPPS,
     "{id},r1,,2024-02-01,2024-03-01,Closed Won,true,maybe,100,10,Core,new", "is_won",
     "not true/false"),
    ("activity of an unknown rep", "activities.csv", "activities", ACTS,
     "{id},r9,,,2024-02-02 10:00,call,false", "rep_id", "unknown rep"),
    ("activity without a type", "activities.csv", "activities", ACTS,
     "{id},r1,,,2024-02-02 10:00,,false", "type", "type is blank"),
    ("negative head count", "accounts.csv", "accounts", ACCOUNTS, "{id},Firm {id},Retail,EMEA,-3",
     "employees", "negative head count"),
    ("negative quota", "quotas.csv", "quotas", QUOTAS, "{id},r1,,2024-01-01,2024-03-31,-1000",
     "amount", "negative quota"),
    ("quota for nobody", "quotas.csv", "quotas", QUOTAS, "{id},,,2024-01-01,2024-03-31,1000",
     "rep_id", "a quota is for one rep or one team"),
    ("quota ends before it starts", "quotas.csv", "quotas", QUOTAS,
     "{id},r1,,2024-03-31,2024-01-01,1000", "period_end", "ends before it starts"),
]
GOOD = {"opportunities.csv": WON, "activities.csv": CALL, "accounts.csv": FIRM,
        "quotas.csv": QUOTA}
KEY = {"opportunities": "opp_id", "activities": "activity_id", "accounts": "account_id",
       "quotas": "quota_id"}


def csv(name: str, *lines: str) -> Source:
    return Source(name, ("\n".join(lines) + "\n").encode())


def planned(*files: Source) -> tuple[Store, object]:
    store = DuckDBStore.create()
    return store, plan_import(list(files), load_preset("canonical"), store)


def found(plan: object) -> list[tuple[str, int | None, str | None, str]]:
    return [(p.file, p.row, p.column, p.message) for p in plan.report.problems]  # type: ignore[attr-defined]


@pytest.mark.parametrize(("file", "table", "header", "bad", "column", "message"),
                         [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_the_bad_row_is_named_and_only_it_is_left_out(file: str, table: str, header: str, bad: str,
                                                      column: str, message: str) -> None:
    good = GOOD[file]
    store, plan = planned(csv("reps.csv", *REPS),
                          csv(file, header, good.format(id="g1"), bad.format(id="b2"),
                              good.format(id="g3")))
    assert found(plan) == [(file, 3, column, message)]
    result = load(store, plan, on_error="skip")
    assert result.rows_skipped == 1
    ids = store.query(f"SELECT {KEY[table]} FROM {table} ORDER BY 1")[KEY[table]].tolist()
    assert ids == ["g1", "g3"]
    store.close()


def test_a_repeated_id_names_the_repeat_and_keeps_the_first() -> None:
    store, plan = planned(csv("reps.csv", *REPS),
                          csv("opportunities.csv", OPPS, WON.format(id="o1"),
                              WON.format(id="o1").replace(",100,", ",999,"), WON.format(id="o3")))
    assert found(plan) == [("opportunities.csv", 3, "opp_id", "duplicate id")]
    load(store, plan, on_error="skip")
    rows = store.query("SELECT opp_id, amount FROM opportunities ORDER BY 1")
    assert rows.values.tolist() == [["o1", 100.0], ["o3", 100.0]]
    store.close()


def test_a_rep_who_left_before_being_hired() -> None:
    store, plan = planned(csv("reps.csv", "rep_id,name,email,hire_date,end_date",
                              "r1,Ann,,2024-01-01,", "r2,Ben,,2024-05-01,2024-02-01",
                              "r3,Cat,,2024-01-01,2024-12-31"))
    assert found(plan) == [("reps.csv", 3, "end_date", "left before they were hired")]
    load(store, plan, on_error="skip")
    assert store.query("SELECT rep_id FROM reps ORDER BY 1")["rep_id"].tolist() == ["r1", "r3"]
    store.close()


@pytest.mark.parametrize(("bad", "column", "message"), [
    ("r2,T2,EMEA,generalist,closer,2024-01-01,", "motion", "not a sales motion"),
    ("r2,T2,EMEA,generalist,hunter,2024-03-01,2024-03-01", "valid_to", "ends before it starts"),
], ids=["motion", "ends before it starts"])
def test_a_bad_assignment(bad: str, column: str, message: str) -> None:
    store, plan = planned(csv("teams.csv", *TEAMS),
                          csv("reps.csv", "rep_id,name,email,hire_date", "r1,Ann,,2024-01-01",
                              "r2,Ben,,2024-01-01", "r3,Cat,,2024-01-01"),
                          csv("rep_assignments.csv", ASSIGN, "r1,T1,EMEA,generalist,hunter,2024-01-01,",
                              bad, "r3,T2,EMEA,generalist,farmer,2024-01-01,"))
    assert found(plan) == [("rep_assignments.csv", 3, column, message)]
    load(store, plan, on_error="skip")
    kept = store.query("SELECT rep_id, team_id FROM rep_assignments ORDER BY 1").values.tolist()
    assert kept == [["r1", "T1"], ["r3", "T2"]]
    store.close()
