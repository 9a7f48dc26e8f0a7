"""What the import plan fills in that an export leaves out, value by value: a deal's stage from
IsClosed/IsWon, its missing close date, amount and kind; the reps' hire dates; the start of
deals that were loaded into the CRM after they closed; and the notes that say so, word for word.
"""

from __future__ import annotations

import dataclasses
import datetime as dt

from kpi.ingest import Source, load_preset, plan_import
from kpi.ingest.presets import Preset

REPS = ("reps.csv", "rep_id,name,hire_date\nR1,Ada,2023-01-02\n")
OPP = "Id,OwnerId,AccountId,StageName,Amount,CloseDate,CreatedDate,IsClosed,IsWon"


def plan(preset: str | Preset, *files: tuple[str, str]):  # noqa: ANN201 - an ImportPlan
    chosen = load_preset(preset) if isinstance(preset, str) else preset
    return plan_import([Source(name, text.encode()) for name, text in files], chosen)


def _d(text: str) -> dt.date:
    return dt.date.fromisoformat(text)


def deals(got, *columns: str) -> list[tuple]:  # noqa: ANN001 - an ImportPlan
    frame = got.tables["opportunities"]
    return [tuple(row) for row in frame[["opp_id", *columns]].itertuples(index=False)]


def test_without_a_stage_column_is_closed_and_is_won_name_the_stage() -> None:
    got = plan("canonical", REPS, ("deals.csv", "opp_id,rep_id,created_at,closed_at,is_closed,"
                                                "is_won,amount\n"
                                                "O1,R1,2024-01-01,2024-02-01,false,false,5\n"
                                                "O2,R1,2024-01-01,2024-02-01,true,true,5\n"
                                                "O3,R1,2024-01-01,2024-02-01,true,false,5\n"))
    assert got.report.problems == []
    assert deals(got, "is_closed", "is_won", "stage") == [
        ("O1", False, False, "Open"), ("O2", True, True, "Closed Won"),
        ("O3", True, False, "Closed Lost")]


def test_an_open_deals_close_date_is_its_expected_close_unless_the_export_gives_one() -> None:
    head = "opp_id,rep_id,created_at,closed_at,is_closed,is_won,amount"
    got = plan("canonical", REPS, ("deals.csv", f"{head}\nO1,R1,2024-01-01,2024-02-01,0,0,5\n"
                                                "O2,R1,2024-01-01,2024-02-02,1,1,5\n"))
    assert got.report.problems == []
    assert deals(got, "closed_at", "expected_close_at") == [
        ("O1", None, _d("2024-02-01")), ("O2", _d("2024-02-02"), None)]
    given = plan("canonical", REPS, ("deals.csv", f"{head},expected_close_at\n"
                                                  "O1,R1,2024-01-01,2024-02-01,0,0,5,2024-05-01\n"
                                                  "O2,R1,2024-01-01,2024-02-02,1,1,5,\n"))
    assert given.report.problems == []
    assert deals(given, "closed_at", "expected_close_at") == [
        ("O1", None, _d("2024-05-01")), ("O2", _d("2024-02-02"), None)]


def test_without_close_dates_amounts_or_kinds_deals_are_open_worth_0_and_new() -> None:
    got = plan("canonical", REPS, ("deals.csv", "opp_id,rep_id,created_at,is_closed\n"
                                                "O1,R1,2024-01-01,false\nO2,R1,2024-01-03,0\n"))
    assert got.report.problems == []
    assert deals(got, "stage", "closed_at", "amount", "kind") == [
        ("O1", "Open", None, 0.0, "new"), ("O2", "Open", None, 0.0, "new")]
    assert "deals.csv: 2 deals have no amount; counted as 0" in got.report.notes


def test_a_blank_amount_counts_0_and_a_blank_kind_is_new() -> None:
    got = plan("canonical", REPS, ("deals.csv", "opp_id,rep_id,created_at,is_closed,amount,kind\n"
                                                "O1,R1,2024-01-01,false,,expansion\n"
                                                "O2,R1,2024-01-03,false,7.5,\n"))
    assert got.report.problems == []
    assert deals(got, "amount", "kind") == [("O1", 0.0, "expansion"), ("O2", 7.5, "new")]
    assert [n for n in got.report.notes if "amount" in n] == [
        "deals.csv: 1 deal has no amount; counted as 0"]
    whole = plan("canonical", REPS, ("deals.csv", "opp_id,rep_id,created_at,is_closed,amount\n"
                                                  "O1,R1,2024-01-01,false,3\n"))
    assert not [n for n in whole.report.notes if "amount" in n]


def test_an_unknown_stage_lists_the_presets_stages_or_the_default_ones() -> None:
    canonical = load_preset("canonical")
    files = [dataclasses.replace(f, stages={"Signed": "won", "Gone": "lost"})
             if f.table == "opportunities" else f for f in canonical.files]
    own = dataclasses.replace(canonical, files=files)
    text = "opp_id,rep_id,created_at,closed_at,stage,amount\nO1,R1,2024-01-01,2024-02-01,Parked,5\n"
    for preset, known in ((canonical, "Closed Won, Closed Lost"), (own, "Gone, Signed")):
        assert [str(p) for p in plan(preset, REPS, ("deals.csv", text)).report.problems] == [
            f"deals.csv, row 2, column 'stage': unknown stage (value 'Parked') — known stages: "
            f"{known}; add it to the preset's stages (won, lost or open)"]


def _created(days: list[str]) -> tuple[str, str]:
    rows = "".join(f"O{i},R1,{day},false,1\n" for i, day in enumerate(days))
    return ("deals.csv", "opp_id,rep_id,created_at,is_closed,amount\n" + rows)


def _bulk_notes(days: list[str]) -> list[str]:
    return [n for n in plan("canonical", REPS, _created(days)).report.notes if "data load" in n]


def test_half_of_ten_or_more_deals_created_on_one_day_is_called_a_data_load() -> None:
    others = [f"2024-02-{d:02d}" for d in range(1, 11)]
    assert _bulk_notes(["2024-01-05"] * 5 + others[:5]) == [
        "5 of 10 deals were created on 2024-01-05 (a data load?): sales cycles measured from "
        "that day are only as true as that date"]
    assert _bulk_notes(["2024-01-05"] * 4 + others[:6]) == []
    assert _bulk_notes(["2024-01-05"] * 9) == []
    assert _bulk_notes(["2024-01-05"] * 6 + others[:5]) == [
        "6 of 11 deals were created on 2024-01-05 (a data load?): sales cycles measured from "
        "that day are only as true as that date"]


def test_hire_dates_in_the_export_are_kept_and_only_blank_ones_come_from_the_data() -> None:
    text = ("opp_id,rep_id,created_at,is_closed,amount\nO1,R1,2024-01-01,false,1\n"
            "O2,R2,2024-03-04,false,1\n")
    both = plan("canonical", ("reps.csv", "rep_id,name,hire_date\nR1,Ada,2023-01-02\n"
                                          "R2,Bo,2023-06-01\n"), ("deals.csv", text))
    assert [(r.rep_id, r.hire_date) for r in both.tables["reps"].itertuples()] == [
        ("R1", _d("2023-01-02")), ("R2", _d("2023-06-01"))]
    assert not [n for n in both.report.notes if "hire dates" in n]
    one = plan("canonical", ("reps.csv", "rep_id,name,hire_date\nR1,Ada,2023-01-02\nR2,Bo,\n"),
               ("deals.csv", text))
    assert [(r.rep_id, r.hire_date) for r in one.tables["reps"].itertuples()] == [
        ("R1", _d("2023-01-02")), ("R2", _d("2024-03-04"))]
    assert [n for n in one.report.notes if "hire dates" in n] == [
        "hire dates are not in the export: each rep counts as active from their first deal or "
        "activity in it (reps with none: from 2024-01-01)"]


LATE = Source("Opportunity.csv", (
    f"{OPP}\n006A,005X,,Closed Won,100,2024-03-01,2024-02-01,1,1\n"  # created before it closed
    "006B,005X,,Closed Won,100,2024-03-01,2024-06-01,1,1\n"    # history from 10 February
    "006C,005X,,Closed Lost,100,2024-03-01,2024-06-01,1,0\n"   # a task (20 Feb) before its history
    "006D,005X,,Closed Lost,100,2024-03-01,2024-06-01,1,0\n"   # history on its close date
    "006E,005X,,Closed Lost,100,2024-03-01,2024-06-01,1,0\n").encode())  # nothing else
HISTORY = Source("OpportunityHistory.csv", b"OpportunityId,StageName,CreatedDate\n"
                 b"006B,Prospecting,2024-02-10T10:00:00.000Z\n006C,Prospecting,2024-02-25\n"
                 b"006D,Prospecting,2024-03-01\n")
TASK = Source("Task.csv", b"Id,OwnerId,WhatId,ActivityDate,Type,IsClosed\n"
              b"00T1,005X,006C,2024-02-20,Call,true\n")
LATE_NOTE = ("Opportunity.csv: 4 of 5 closed deals were created after they closed (the records "
             "were loaded into the CRM later, e.g. 2024-06-01): each starts at the earliest date "
             "the export gives — ")


def _late(*sources: Source) -> tuple[list[tuple], list[str]]:
    got = plan_import([LATE, *sources], load_preset("salesforce"))
    assert got.report.problems == []
    return deals(got, "created_at"), [n for n in got.report.notes if "created after" in n]


def test_a_deal_created_after_it_closed_starts_at_its_earliest_history_or_activity() -> None:
    starts, notes = _late(HISTORY, TASK)
    assert starts == [("006A", _d("2024-02-01")), ("006B", _d("2024-02-10")),
                      ("006C", _d("2024-02-20")), ("006D", _d("2024-03-01")),
                      ("006E", _d("2024-03-01"))]
    assert notes == [LATE_NOTE + "2 from their close date, 1 from OpportunityHistory, 1 from "
                     "activities; the 2 started at their close date count 0 days in the sales "
                     "cycle"]


def test_without_a_stage_history_the_activities_still_date_a_late_deal() -> None:
    starts, notes = _late(TASK)
    assert starts == [("006A", _d("2024-02-01")), ("006B", _d("2024-03-01")),
                      ("006C", _d("2024-02-20")), ("006D", _d("2024-03-01")),
                      ("006E", _d("2024-03-01"))]
    assert notes == [LATE_NOTE + "3 from their close date, 1 from activities; the 3 started at "
                     "their close date count 0 days in the sales cycle"]


def test_activities_without_deals_leave_late_deals_at_their_close_date() -> None:
    tasks = Source("Task.csv", b"Id,OwnerId,ActivityDate,Type,IsClosed\n"
                   b"00T1,005X,2024-01-20,Call,true\n")
    starts, notes = _late(tasks)
    assert starts == [("006A", _d("2024-02-01"))] + [
        (o, _d("2024-03-01")) for o in ("006B", "006C", "006D", "006E")]
    assert notes == [LATE_NOTE + "4 from their close date; the 4 started at their close date "
                     "count 0 days in the sales cycle"]


def test_late_deals_all_dated_by_their_history_say_nothing_of_0_day_cycles() -> None:
    history = Source("OpportunityHistory.csv", b"OpportunityId,StageName,CreatedDate\n"
                     b"006B,Prospecting,2024-02-10\n006C,Prospecting,2024-02-11\n"
                     b"006D,Prospecting,2024-02-12\n006E,Prospecting,2024-02-13\n")
    starts, notes = _late(history)
    assert [s for _, s in starts] == [_d(f"2024-02-{d}") for d in ("01", "10", "11", "12", "13")]
    assert notes == [LATE_NOTE + "4 from OpportunityHistory"]




def test_a_blank_stage_is_unknown_even_where_a_stage_is_called_none() -> None:
    canonical = load_preset("canonical")
    files = [dataclasses.replace(f, stages={"None": "open"})
             if f.table == "opportunities" else f for f in canonical.files]
    own = dataclasses.replace(canonical, files=files)
    text = ("opp_id,rep_id,created_at,closed_at,stage,amount\nO1,R1,2024-01-01,2024-02-01,,5\n"
            "O2,R1,2024-01-01,2024-02-01,none,5\n")
    assert [str(p) for p in plan(own, REPS, ("deals.csv", text)).report.problems] == [
        "deals.csv, row 2, column 'stage': unknown stage — known stages: None; add it to the "
        "preset's stages (won, lost or open)"]


def test_late_deals_of_two_files_name_both() -> None:
    more = Source("Opportunity2.csv",
                  f"{OPP}\n006F,005X,,Closed Won,100,2024-03-01,2024-06-01,1,1\n".encode())
    starts, notes = _late(HISTORY, more)
    assert starts[-1] == ("006F", _d("2024-03-01"))
    assert notes == [LATE_NOTE.replace("Opportunity.csv: 4 of 5", "Opportunity.csv, "
                                       "Opportunity2.csv: 5 of 6") +
                     "3 from their close date, 2 from OpportunityHistory; the 3 started at their "
                     "close date count 0 days in the sales cycle"]


TEAM_REPS = ("reps.csv", "rep_id,name,hire_date,team,region,segment\n"
                         "R1,Ada,2023-01-02,East,EMEA,enterprise\nR2,Bo,2023-02-01,,,\n"
                         "R3,Cy,2023-03-01,West,,smb\n")


def test_a_reps_team_column_makes_the_teams_and_fills_blank_assignments_with_defaults() -> None:
    got = plan("canonical", TEAM_REPS)
    assert got.report.problems == []
    teams = got.tables["teams"]
    assert teams.drop(columns="_row").to_dict("records") == [
        {"_file": "(from reps)", "team_id": t, "name": t, "manager_id": None}
        for t in ("East", "Unassigned", "West")]
    assign = got.tables["rep_assignments"]
    assert [tuple(r) for r in assign[["rep_id", "team_id", "region", "segment", "motion",
                                      "valid_from", "valid_to"]].itertuples(index=False)] == [
        ("R1", "East", "EMEA", "enterprise", "generalist", _d("2023-01-02"), None),
        ("R2", "Unassigned", "(none)", "generalist", "generalist", _d("2023-02-01"), None),
        ("R3", "West", "(none)", "smb", "generalist", _d("2023-03-01"), None)]
    assert "2 teams from the reps' team column: East, West" in got.report.notes


def test_a_team_from_the_reps_file_whose_name_another_team_holds_is_a_problem_of_that_file(
) -> None:
    from kpi.store import DuckDBStore

    store = DuckDBStore.create()
    store.execute("INSERT INTO teams VALUES ('T1', 'East', NULL)")
    got = plan_import([Source(*[TEAM_REPS[0], TEAM_REPS[1].encode()])], load_preset("canonical"),
                      store)
    assert [str(p) for p in got.report.problems] == [
        "(from reps), column 'name': team name already used by another team in the database "
        "(value 'East') — rename the team, or use the same team id"]


REPORT = '"Opportunity ID","Opportunity Owner","Stage","Amount","Close Date","Created Date"\n'


def test_owners_named_in_a_report_are_the_users_of_the_export_or_the_reps_stored() -> None:
    """Bo Lee is a rep in the database, Ann Ray a user of this export; Cy New is neither."""
    from kpi.store import DuckDBStore

    store = DuckDBStore.create()
    with store.transaction():
        store.execute("INSERT INTO reps VALUES ('R7', 'Bo Lee', NULL, DATE '2023-01-02', NULL)")
    users = Source("User.csv", b"Id,Name,Email\n005A,Ann Ray,a@x.com\n")
    report = Source("report.csv", (
        REPORT + '"006A00000000001","Bo Lee","Closed Won","100","3/13/2024","2/1/2024"\n'
        '"006A00000000002","Ann Ray","Closed Won","100","3/1/2024","2/1/2024"\n'
        '"006A00000000003","Cy New","Closed Lost","5","3/1/2024","2/14/2024"\n').encode())
    got = plan_import([users, report], load_preset("salesforce"), store)
    assert got.report.problems == []
    assert deals(got, "rep_id") == [("006A00000000001IAA", "R7"), ("006A00000000002IAA", "005A"),
                                    ("006A00000000003IAA", "Cy New")]
    assert [(r.rep_id, r.name) for r in got.tables["reps"].itertuples()] == [
        ("005A", "Ann Ray"), ("Cy New", "Cy New")]


def test_seven_teams_from_a_reps_file_are_named_six_and_more() -> None:
    for n, listed in ((6, "A, B, C, D, E, F"), (7, "A, B, C, D, E, F ...")):
        rows = "".join(f"R{i},Rep {i},2023-01-02,{t}\n" for i, t in enumerate("ABCDEFG"[:n]))
        got = plan("canonical", ("reps.csv", "rep_id,name,hire_date,team\n" + rows))
        assert [x for x in got.report.notes if "teams from" in x] == [
            f"{n} teams from the reps' team column: {listed}"]
        assert list(got.tables["rep_assignments"].columns) == [
            "_file", "_row", "rep_id", "team_id", "region", "segment", "motion", "valid_from",
            "valid_to"]


def test_an_activity_on_a_deal_listed_twice_takes_the_first_rows_account() -> None:
    deals_text = ("opp_id,rep_id,account_id,created_at,is_closed,amount\n"
                  "O1,R1,A1,2024-01-01,false,1\nO1,R1,A2,2024-01-01,false,1\n")
    acts = "activity_id,rep_id,opp_id,occurred_at,type\nX1,R1,O1,2024-01-05,call\n"
    got = plan("canonical", REPS, ("accounts.csv", "account_id,name\nA1,One\nA2,Two\n"),
               ("deals.csv", deals_text), ("acts.csv", acts))
    assert got.tables["activities"]["account_id"].tolist() == ["A1"]
    assert "1 activities on a deal take the deal's account" in got.report.notes


def test_without_creating_reps_an_owner_named_but_unknown_is_a_problem_that_names_them() -> None:
    salesforce = load_preset("salesforce")
    strict = dataclasses.replace(salesforce, create_reps=False)
    report = Source("report.csv", (
        REPORT + '"006A00000000003","Cy New","Closed Lost","5","3/1/2024","2/14/2024"\n').encode())
    got = plan_import([report], strict)
    assert [str(p) for p in got.report.problems] == [
        "report.csv, row 2, column 'Opportunity Owner': unknown rep (value 'Cy New') — import "
        "the users/reps file too, or fix the owner"]


def test_a_user_row_without_an_id_does_not_stand_for_its_name() -> None:
    users = Source("User.csv", b"Id,Name,Email\n,Ann Ray,a@x.com\n005B,Bo Lee,b@x.com\n")
    report = Source("report.csv", (
        REPORT + '"006A00000000002","Ann Ray","Closed Won","100","3/1/2024","2/1/2024"\n'
        '"006A00000000001","Bo Lee","Closed Won","100","3/13/2024","2/1/2024"\n').encode())
    got = plan_import([users, report], load_preset("salesforce"))
    assert deals(got, "rep_id") == [("006A00000000002IAA", "Ann Ray"),
                                    ("006A00000000001IAA", "005B")]
