"""What real CRM exports do that hand-made files do not, each in a few lines of CSV.

Blank cells (NaN under pandas 3), Salesforce's 1/blank booleans, owner ids without a User export,
Contacts and Leads beside the sellers, Cases and custom objects in an org export, records loaded
after they closed, dates and numbers in every locale, report footers, tasks not done yet.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from kpi.cli import main
from kpi.ingest import Source, load_preset, plan_import
from kpi.store import DuckDBStore, Store
from tests.ingest.conftest import run_import

OPP = "Id,OwnerId,AccountId,StageName,Amount,CloseDate,CreatedDate,IsClosed,IsWon"


def csv(name: str, *lines: str) -> Source:
    return Source(name, ("\ufeff" + "\n".join(lines) + "\n").encode())


def opportunity(*rows: str, header: str = OPP) -> Source:
    return csv("Opportunity.csv", header, *rows)


def problems(files: list[Source], preset: str = "salesforce", **options: str) -> list[str]:
    chosen = load_preset(preset)
    if options:
        import dataclasses
        chosen = dataclasses.replace(chosen, **options)
    return [str(p) for p in plan_import(files, chosen).report.problems]


@pytest.fixture
def db(tmp_path: Path) -> Store:
    return DuckDBStore.create(tmp_path / "crm.duckdb")


# --- blank cells, booleans, owners ---------------------------------------------------------------

def test_blank_cells_booleans_and_owners(db: Store) -> None:
    """pandas 3 reads blank cells as NaN: blank employees, 1/blank booleans and blank owners."""
    accounts = csv("Account.csv", "Id,Name,Industry,NumberOfEmployees",
                   "001A,Acme,Retail,", "001B,Globex,,1200")
    deals = opportunity("006A,005X,001A,Closed Won,100,2024-03-01,2024-02-01,1,1",
                        "006B,,001B,Closed Lost,50,2024-03-02,2024-02-01,1,",
                        "006C,005X,,Prospecting,70,2024-05-01,2024-02-01,,")
    plan, _ = run_import(db, "salesforce", [accounts, deals])
    assert not plan.report.problems
    assert db.query("SELECT employees FROM accounts ORDER BY 1")["employees"].isna().tolist() \
        == [False, True]
    rows = db.query("SELECT opp_id, rep_id, is_closed, is_won FROM opportunities ORDER BY 1")
    assert rows.values.tolist() == [["006A", "005X", True, True], ["006B", "Unassigned", True, False],
                                    ["006C", "005X", False, False]]
    assert db.query("SELECT rep_id, name FROM reps ORDER BY 1").values.tolist() == \
        [["005X", "005X"], ["Unassigned", "Unassigned"]]
    assert any("1 opportunities have no owner" in n for n in plan.report.notes)


def test_a_year_typo_is_a_report_line_not_a_traceback() -> None:
    found = problems([opportunity("006A,005X,,Closed Won,100,3017-03-01,2024-02-01,1,1")])
    assert found == ["Opportunity.csv, row 2, column 'CloseDate': year 3017 is not plausible "
                     "(a typo?) (value '3017-03-01') — correct the year in the CRM, or in the file"]


def test_owner_ids_named_later_by_a_user_export(db: Store) -> None:
    """A rep made from an owner id gets its name and its real team (from its hire date, not from
    the day of the second import) once the User export comes."""
    run_import(db, "salesforce", [opportunity(
        "006A,005X,,Closed Won,100,2024-03-01,2024-02-01,1,1")])
    assert db.query("SELECT team_id FROM rep_assignments")["team_id"].tolist() == ["Unassigned"]
    users = csv("User.csv", "Id,Name,Email,CreatedDate,UserRole.Name",
                "005X,Ada Lovelace,ada@example.com,2023-05-01,Enterprise")
    run_import(db, "salesforce", [users])
    assert db.scalar("SELECT name FROM reps WHERE rep_id = '005X'") == "Ada Lovelace"
    rows = db.query("SELECT team_id, valid_from, valid_to FROM rep_assignments")
    assert rows["team_id"].tolist() == ["Enterprise"] and rows["valid_to"].isna().all()
    assert rows["valid_from"].iloc[0].date() == dt.date(2023, 5, 1)
    run_import(db, "salesforce", [opportunity(  # deals again: the known team stays
        "006B,005X,,Closed Won,100,2024-04-01,2024-02-01,1,1")])
    assert db.query("SELECT team_id FROM rep_assignments")["team_id"].tolist() == ["Enterprise"]


# --- which files are loaded ----------------------------------------------------------------------

def test_contacts_leads_cases_and_custom_objects_are_skipped(db: Store) -> None:
    contact = csv("Contact.csv", "Id,Name,Email,Department,AccountId",
                  "003A,Homer Simpson,homer@example.com,Safety,001A")
    lead = csv("Lead.csv", "Id,Name,Email,Company,Status", "00QA,Joe,joe@example.com,Moe's,New")
    people = csv("people.csv", "Id,Name,Email,LeadSource", "003B,Marge,marge@example.com,Web")
    case = csv("Case.csv", "Id,CaseNumber,Status", "500A,0001,New")
    campaign = csv("Campaign.csv", "Id,Name,Type,Status", "701A,Spring,Webinar,Planned")
    custom = csv("Widget__c.csv", "Id,Name,Colour__c", "a0B5g00000AbCdEFGH,Blue one,Blue")
    deals = opportunity("006A,005X,,Closed Won,100,2024-03-01,2024-02-01,1,1")
    plan, _ = run_import(db, "salesforce", [contact, lead, people, case, campaign, custom, deals])
    assert db.query("SELECT rep_id FROM reps")["rep_id"].tolist() == ["005X"]
    assert db.query("SELECT team_id FROM teams")["team_id"].tolist() == ["Unassigned"]
    notes = "\n".join(plan.report.notes)
    for name, what in (("Contact.csv", "Contact"), ("Lead.csv", "Lead"), ("Case.csv", "Case"),
                       ("Campaign.csv", "Campaign"), ("Widget__c.csv", "custom or other object"),
                       ("people.csv", "Contact")):
        assert f"{name}: {what} records" in notes, name


def test_a_folder_of_unknown_files_only_is_refused() -> None:
    found = problems([csv("Case.csv", "Id,CaseNumber", "500A,1")])
    assert found == ["Case.csv: nothing to import: Case records (ids 500...) hold nothing to load "
                     "with preset 'salesforce' — the preset reads opportunities, stage_history, "
                     "activities, reps, accounts"]


def test_header_only_files_are_said(db: Store) -> None:
    empty = csv("Event.csv", "Id,OwnerId,StartDateTime,Type")
    plan, _ = run_import(db, "salesforce", [
        empty, opportunity("006A,005X,,Closed Won,100,2024-03-01,2024-02-01,1,1")])
    assert any("Event.csv, row 1: the file has a header but no rows" in n for n in plan.report.notes)
    alone = problems([empty])
    assert alone == ["Event.csv, row 1: nothing to import: the file has a header but no rows (an "
                     "activities export) — export it again: the export or its filters returned no "
                     "records"] or "header but no rows" in alone[0]


def test_headers_match_whatever_their_case(db: Store) -> None:
    header = "ID,OWNERID,ACCOUNT ID,stagename,amount,close_date,CREATEDDATE,isclosed,IsWON"
    run_import(db, "salesforce", [opportunity(
        "006A,005X,,Closed Won,100,2024-03-01,2024-02-01,1,1", header=header)])
    assert db.scalar("SELECT amount FROM opportunities") == 100


def test_report_title_and_footer_lines_are_stripped(db: Store) -> None:
    report = csv("Opportunities report.csv", '"Opportunities with owners"', "",
                 '"Opportunity ID","Owner ID","Stage","Amount","Close Date","Created Date"',
                 '"006A","005X","Closed Won","1,500.00","3/15/2024","2/1/2024"',
                 '"006B","005X","Closed Lost","200.00","3/16/2024","2/1/2024"',
                 '""', '"Grand Totals (2 records)"',
                 '"Copyright (c) 2000-2024 salesforce.com, inc. All rights reserved."',
                 '"Confidential Information - Do Not Distribute"',
                 '"Generated By:  Ada Lovelace  3/20/2024 9:15 AM"', '"Acme Corp"')
    plan, _ = run_import(db, "salesforce", [report])
    assert db.scalar("SELECT sum(amount) FROM opportunities WHERE is_won") == 1500
    assert any("5 report footer line(s)" in n for n in plan.report.notes)
    assert any("1 title line(s)" in n for n in plan.report.notes)


# --- records loaded after they closed ------------------------------------------------------------

def test_deals_loaded_after_they_closed_start_at_their_history(db: Store) -> None:
    deals = opportunity("006A,005X,,Closed Won,100,2024-03-01,2024-07-11T10:00:00.000+0000,1,1",
                        "006B,005X,,Closed Won,100,2024-03-05,2024-07-11T10:00:00.000+0000,1,1",
                        "006C,005X,,Closed Won,100,2024-09-01,2024-07-11T10:00:00.000+0000,1,1")
    history = csv("OpportunityHistory.csv", "Id,OpportunityId,StageName,CreatedDate",
                  "008A,006A,Prospecting,2024-01-10T10:00:00.000+0000",
                  "008B,006A,Closed Won,2024-03-01T10:00:00.000+0000")
    plan, _ = run_import(db, "salesforce", [deals, history])
    start = db.query("SELECT opp_id, created_at FROM opportunities ORDER BY 1")
    assert [d.date().isoformat() for d in start["created_at"]] == \
        ["2024-01-10", "2024-03-05", "2024-07-11"]
    note = next(n for n in plan.report.notes if "created after they closed" in n)
    assert "2 of 3 closed deals" in note and "1 from OpportunityHistory" in note
    assert "1 from their close date" in note


def test_skipping_every_closed_deal_is_said(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    """Where created-after-closed stays a problem (canonical files), skipping says what it costs."""
    path = tmp_path / "opportunities.csv"
    path.write_text("opp_id,rep_id,created_at,closed_at,stage,is_closed,is_won,amount\n"
                    "o1,r1,2024-05-01,2024-03-01,Closed Won,true,true,100\n"
                    "o2,r1,2024-05-01,,Proposal,false,false,100\n")
    reps = tmp_path / "reps.csv"
    reps.write_text("rep_id,name,hire_date\nr1,Ada,2024-01-01\n")
    status = main(["import", str(reps), str(path), "--db", str(tmp_path / "c.duckdb"),
                   "--preset", "canonical", "--on-error", "skip"])
    err = capsys.readouterr().err
    assert status == 0
    assert ("left out: opportunities.csv: 1 of 2 opportunities rows, 1 of 1 closed deals — every "
            "closed deal: revenue and win rate from this file read 0") in err


# --- dates and numbers ---------------------------------------------------------------------------

@pytest.mark.parametrize(("close", "expected"), [
    ("02/23/26", "2026-02-23"), ("02/23/26 08:55 PM", "2026-02-23"),
    ("26-02-2018 19:58", "2018-02-26"), ("2018-02-26T23:30:00.000-0500", "2018-02-27"),
    ("26.02.2018", "2018-02-26"), ("Feb 26, 2018", "2018-02-26"), ("26-Feb-2018", "2018-02-26"),
])
def test_date_formats(db: Store, close: str, expected: str) -> None:
    deal = opportunity(f'006A,005X,,Closed Won,100,"{close}",2010-01-01,1,1')
    run_import(db, "salesforce", [deal])
    assert str(db.scalar("SELECT closed_at FROM opportunities")) == expected


def test_day_first_is_read_from_the_column(db: Store) -> None:
    """03/04/2024 alone could be either; 26/02/2024 in the same column says day first."""
    deals = opportunity("006A,005X,,Closed Won,1,03/04/2024,01/01/2024,1,1",
                        "006B,005X,,Closed Won,1,26/02/2024,01/01/2024,1,1")
    plan, _ = run_import(db, "salesforce", [deals])
    days = [str(d.date()) for d in db.query("SELECT closed_at FROM opportunities ORDER BY 1")
            ["closed_at"]]
    assert days == ["2024-02-26", "2024-04-03"]
    assert any("'CreatedDate' values like '01/01/2024'" not in n for n in plan.report.notes)


def test_an_ambiguous_column_is_refused_with_the_fix(tmp_path: Path,
                                                     capsys: pytest.CaptureFixture) -> None:
    path = tmp_path / "Opportunity.csv"
    path.write_text(OPP + "\n006A,005X,,Closed Won,1,03/04/2024,2024-01-01,1,1\n")
    db = tmp_path / "crm.duckdb"
    args = ["import", str(path), "--db", str(db), "--preset", "salesforce"]
    assert main(args) == 2
    err = capsys.readouterr().err
    assert ("Opportunity.csv, row 2, column 'CloseDate': dates like this read either day first "
            "(D/M/Y) or month first (M/D/Y), and nothing in the export tells which (value "
            "'03/04/2024') — import again with --date-order DMY or MDY") in err
    assert not db.exists()
    assert main([*args, "--date-order", "DMY"]) == 0
    with DuckDBStore.open(db) as store:
        assert str(store.scalar("SELECT closed_at FROM opportunities")) == "2024-04-03"


def test_a_column_in_two_orders_is_refused() -> None:
    found = problems([opportunity("006A,005X,,Closed Won,1,02/26/2024,2024-01-01,1,1",
                                  "006B,005X,,Closed Won,1,26/02/2024,2024-01-01,1,1")])
    assert found == ["Opportunity.csv, row 2, column 'CloseDate': dates are written both day first "
                     "(D/M/Y) (e.g. '26/02/2024') and month first (M/D/Y) (value '02/26/2024') — "
                     "export the file again with one format for the whole column"]


def test_other_columns_of_the_export_settle_the_order(db: Store) -> None:
    deals = opportunity("006A,005X,,Closed Won,1,03/04/2024,2024-01-01,1,1")
    users = csv("User.csv", "Id,Name,Email,CreatedDate", "005X,Ada,ada@example.com,13/01/2023")
    plan, _ = run_import(db, "salesforce", [deals, users])
    assert str(db.scalar("SELECT closed_at FROM opportunities")) == "2024-04-03"
    assert any("'CloseDate' values like '03/04/2024' read as day first (D/M/Y), as 'CreatedDate' "
               "of User.csv proves ('13/01/2023')" in n for n in plan.report.notes)


@pytest.mark.parametrize(("amounts", "expected"), [
    (["1.234,50", "99"], [1234.5, 99]), (["1,234.50", "7"], [1234.5, 7]),
    (["€ 1.234,50", "2.000"], [1234.5, 2000]), (["1 234,5", "12,25"], [1234.5, 12.25]),
    (["$2,500", "12.5"], [2500, 12.5]),
])
def test_decimal_marks(db: Store, amounts: list[str], expected: list[float]) -> None:
    deals = opportunity(*(f'006{i},005X,,Closed Won,"{a}",2024-03-01,2024-01-01,1,1'
                          for i, a in enumerate(amounts)))
    run_import(db, "salesforce", [deals])
    assert db.query("SELECT amount FROM opportunities ORDER BY opp_id")["amount"].tolist() == expected


def test_an_ambiguous_amount_is_refused_then_read_as_told() -> None:
    deal = opportunity('006A,005X,,Closed Won,"1,234",2024-03-01,2024-01-01,1,1')
    (found,) = problems([deal])
    assert "column 'Amount': numbers like this read either" in found and "--decimal" in found
    assert problems([deal], decimal="point") == []


# --- what --check must find ----------------------------------------------------------------------

@pytest.mark.parametrize(("row", "expected"), [
    (",005X,,Closed Won,1,2024-03-01,2024-01-01,1,1",
     "row 2, column 'Id': opp_id is blank — every deal needs its id"),
    ("006A,005X,,Closed Won,1,2024-03-01,,1,1",
     "row 2, column 'CreatedDate': created_at is blank — fill in the date the deal was created"),
    ("006A,005X,,Closed Won,1,2024-03-01,2024-01-01,,1",
     "row 2, column 'IsWon': won but not closed (value 'True')"),
    ("006A,005X,,Closed Won,1,,2024-01-01,1,1",
     "row 2, column 'CloseDate': closed deal without a close date"),
])
def test_check_finds_what_the_database_would_refuse(tmp_path: Path, row: str, expected: str,
                                                    capsys: pytest.CaptureFixture) -> None:
    path = tmp_path / "Opportunity.csv"
    path.write_text(OPP + "\n" + row + "\n")
    db = tmp_path / "new.duckdb"
    assert main(["import", str(path), "--db", str(db), "--preset", "salesforce", "--check"]) == 2
    assert expected in capsys.readouterr().err
    assert not db.exists(), "--check created the database file"


def test_a_folder_says_which_files_it_did_not_read(tmp_path: Path,
                                                   capsys: pytest.CaptureFixture) -> None:
    (tmp_path / "Opportunity.tsv").write_text(
        OPP.replace(",", "\t") + "\n" + "006A\t005X\t\tClosed Won\t5\t2024-03-01\t2024-01-01\t1\t1\n")
    (tmp_path / "Old.xls").write_bytes(b"\xd0\xcf\x11\xe0")
    (tmp_path / ".DS_Store").write_bytes(b"\x00")
    status = main(["import", str(tmp_path), "--db", str(tmp_path / "x.duckdb"), "--preset",
                   "salesforce"])
    err = capsys.readouterr().err
    assert status == 0, err
    assert f"not read from {tmp_path}: Old.xls (a folder is read for .csv, .tsv" in err
    assert ".DS_Store" not in err


# --- tasks and events ----------------------------------------------------------------------------

def test_tasks_are_typed_by_type_and_only_done_ones_count(db: Store) -> None:
    tasks = csv("Task.csv", "Id,OwnerId,WhatId,AccountId,ActivityDate,TaskSubtype,Type,Status,IsClosed",
                "00T1,005X,006A,,2024-02-05,Task,Email,Completed,1",
                "00T2,005X,001A,,2024-02-06,Task,Call,Completed,1",
                "00T3,005X,006A,,2024-02-07,Task,,Completed,1",
                "00T4,005X,006A,,2024-02-08,Call,,Not Started,",
                "00T5,005X,006A,,2024-02-09,Email,,Completed,1")
    deals = opportunity("006A,005X,001A,Closed Won,1,2024-03-01,2024-01-01,1,1")
    plan, _ = run_import(db, "salesforce", [tasks, deals])
    rows = db.query("SELECT activity_id, type, opp_id, account_id FROM activities ORDER BY 1")
    assert rows.astype(object).where(rows.notna(), None).values.tolist() == [
        ["00T1", "email", "006A", "001A"],  # the deal's account
        ["00T2", "call", None, "001A"],  # WhatId is the account
        ["00T3", "task", "006A", "001A"], ["00T5", "email", "006A", "001A"]]
    notes = "\n".join(plan.report.notes)
    assert "Task.csv: 1 rows with IsClosed" in notes
    assert "1 WhatId values are not opp_id ids" in notes


def test_hubspot_blank_owners_and_booleans(db: Store) -> None:
    deals = csv("deals.csv", "Record ID,Deal owner,Deal Stage,Amount,Create Date,Close Date",
                "1,Dana Lee,Closed won,100,2024-01-02,2024-02-01",
                "2,,Closed lost,50,2024-01-03,2024-02-02")
    calls = csv("activities.csv", "Activity ID,Activity assigned to,Activity date,Activity type,"
                "New prospect", "a1,,2024-01-05 10:00,CALL,", "a2,Dana Lee,2024-01-06 10:00,MEETING,true")
    plan, _ = run_import(db, "hubspot", [deals, calls])
    assert not plan.report.problems
    assert db.query("SELECT name FROM reps ORDER BY 1")["name"].tolist() == ["Dana Lee", "Unassigned"]
    assert db.scalar("SELECT count(*) FROM activities WHERE new_prospect") == 1


def test_a_report_export_names_owners(db: Store) -> None:
    """A Salesforce report gives the owner's name and the stage, not ids and IsClosed/IsWon."""
    report = csv("report.csv", "Opportunity ID,Opportunity Name,Opportunity Owner,Account Name,"
                  "Stage,Amount,Close Date,Created Date",
                  '006A,Big deal,Ada Lovelace,Acme,Closed Won,"1,200.00",3/15/2024,2/1/2024',
                  "006B,Small deal,Ada Lovelace,Acme,Proposal/Price Quote,300.00,6/30/2024,2/2/2024",
                  "006C,Lost deal,,Acme,Closed Lost,50.00,3/20/2024,2/3/2024")
    plan, _ = run_import(db, "salesforce", [report])
    assert not plan.report.problems
    rows = db.query("SELECT opp_id, rep_id, is_closed, is_won FROM opportunities ORDER BY 1")
    assert rows.values.tolist() == [["006A", "Ada Lovelace", True, True],
                                    ["006B", "Ada Lovelace", False, False],
                                    ["006C", "Unassigned", True, False]]


def test_objects_known_by_their_ids_need_only_the_table_s_columns(db: Store) -> None:
    """An Account export without Industry, a User export without Email: still what they are."""
    accounts = csv("Account.csv", "Id,Name,BillingCountry", "001A,Acme,US")
    users = csv("User.csv", "Id,Name,UserRole.Name", "005X,Ada Lovelace,Enterprise")
    run_import(db, "salesforce", [accounts, users])
    assert db.query("SELECT account_id, name FROM accounts").values.tolist() == [["001A", "Acme"]]
    assert db.query("SELECT rep_id, name FROM reps").values.tolist() == [["005X", "Ada Lovelace"]]


def test_deleted_rows_are_left_out(db: Store) -> None:
    deals = opportunity("006A,005X,,Closed Won,100,2024-03-01,2024-02-01,1,1,",
                        "006B,005X,,Closed Won,999,2024-03-01,2024-02-01,1,1,1",
                        header=OPP + ",IsDeleted")
    plan, _ = run_import(db, "salesforce", [deals])
    assert db.query("SELECT opp_id FROM opportunities")["opp_id"].tolist() == ["006A"]
    assert any("1 rows with IsDeleted '1' were not imported (deleted in Salesforce)" in n
               for n in plan.report.notes)


def test_a_report_s_short_ids_are_the_export_s_long_ones(db: Store) -> None:
    """Reports give 15-character ids, Data Loader 18: the same deal must not count twice."""
    report = csv("report.csv", "Opportunity ID,Owner ID,Stage,Amount,Close Date,Created Date",
                 "006Nq00000BGi8P,005Nq00000AU6zt,Closed Won,100,2024-03-01,2024-02-01")
    export = opportunity("006Nq00000BGi8PIAT,005Nq00000AU6ztIAD,,Closed Won,100,2024-03-01,"
                         "2024-02-01,1,1")
    run_import(db, "salesforce", [report])
    run_import(db, "salesforce", [export])
    assert db.query("SELECT opp_id, rep_id FROM opportunities").values.tolist() == \
        [["006Nq00000BGi8PIAT", "005Nq00000AU6ztIAD"]]


def test_closed_without_is_won_is_read_from_the_stage() -> None:
    header = "Id,OwnerId,StageName,Amount,CloseDate,CreatedDate,IsClosed"
    plan = plan_import([opportunity("006A,005X,Closed Won,1,2024-03-01,2024-02-01,1",
                                    "006B,005X,Closed Lost,1,2024-03-01,2024-02-01,1",
                                    "006C,005X,Signed,1,2024-03-01,2024-02-01,1", header=header)],
                       load_preset("salesforce"))
    assert plan.tables["opportunities"]["is_won"].tolist() == [True, False, False]
    assert [str(p) for p in plan.report.problems] == [
        "Opportunity.csv, row 4, column 'StageName': closed, but the stage does not say whether "
        "it was won (value 'Signed') — add the IsWon column to the export, or the stage to the "
        "preset's stages (won or lost)"]


def test_an_unreadable_file_the_preset_skips_anyway_does_not_block(db: Store) -> None:
    latin = Source("Case.csv", "Id,Subject\n500A,Caf\u00e9 machine\n".encode("latin-1"))
    broken = Source("ContentVersion.csv", b'Id,Title\n068A,"unclosed\n')
    deals = opportunity("006A,005X,,Closed Won,100,2024-03-01,2024-02-01,1,1")
    plan, _ = run_import(db, "salesforce", [latin, broken, deals])
    notes = "\n".join(plan.report.notes)
    assert "Case.csv: Case records hold nothing to load" in notes and "not UTF-8" in notes
    assert "ContentVersion.csv: ContentVersion records hold nothing to load" in notes
    latin_deals = Source("Opportunity.csv", (OPP + "\n006A,005X,,Clôturé,1,2024-03-01,2024-02-01,,"
                                             ).encode("latin-1"))
    assert "not UTF-8" in problems([latin_deals])[0]  # a file it needs is still refused


def test_report_filters_and_a_totals_row_with_sums_are_stripped(db: Store) -> None:
    report = csv("report.csv", "sep=,", '"Opportunities"', '"Filtered By:","Owner ID equals 005X"',
                 '"Opportunity ID","Owner ID","Account Name","Stage","Amount","Close Date","Created"',
                 '"006A","005X","Acme","Closed Won","1,500.00","3/15/2024","2/1/2024"',
                 '"006B","005X","Total Wine","Closed Lost","200.00","3/16/2024","2/1/2024"',
                 '"Grand Totals (2 records)","","","","1,700.00","",""', '""',
                 '"Confidential Information - Do Not Distribute"')
    plan = plan_import([report], load_preset("salesforce"))
    assert [str(p) for p in plan.report.problems] == [
        "report.csv, row 4: required columns missing: created_at (from CreatedDate or Created "
        "Date) — add them to the export, or map them in a custom preset"]  # the header's row
    plan = plan_import([Source(report.name, report.data.replace(b'"Created"', b'"Created Date"'))],
                       load_preset("salesforce"))
    assert plan.tables["opportunities"]["opp_id"].tolist() == ["006A", "006B"]
    assert any("3 title line(s)" in n for n in plan.report.notes)
    assert any("2 report footer line(s)" in n for n in plan.report.notes)


def test_a_whole_org_export_with_users_history_tasks_and_events(db: Store) -> None:
    """Data Loader layouts with their system columns: history rows that are not stage entries,
    group-event copies, recurring series, tasks without a date, a user with a role id only."""
    users = csv("User.csv", "Id,Username,LastName,FirstName,Name,CompanyName,Division,Department,"
                "Email,IsActive,UserRoleId,ProfileId,ManagerId,CreatedDate,ContactId,AccountId",
                "005000000000001AAA,ada@x.com,Lovelace,Ada,Ada Lovelace,Acme,East,Sales,"
                "ada@x.com,1,00E000000000001AAA,00e000000000001AAA,,2023-01-05T09:00:00.000+0000,,")
    deals = opportunity("006000000000001AAA,005000000000001AAA,,Closed Won,100,2024-03-01,"
                        "2024-01-02T10:00:00.000+0000,1,1")
    history = csv("OpportunityHistory.csv", "Id,OpportunityId,CreatedById,CreatedDate,StageName,"
                  "Amount,CloseDate,Probability,ForecastCategory,IsDeleted",
                  "008A,006000000000001AAA,005X,2024-01-02T10:00:00.000+0000,Prospecting,50,"
                  "2024-03-31,10,Pipeline,",
                  "008B,006000000000001AAA,005X,2024-01-02T15:00:00.000+0000,Prospecting,80,"
                  "2024-03-31,10,Pipeline,",
                  "008C,006000000000001AAA,005X,2024-02-01T10:00:00.000+0000,Proposal/Price Quote,"
                  "100,2024-03-31,75,Pipeline,",
                  "008D,006000000000001AAA,005X,2024-02-03T10:00:00.000+0000,Proposal/Price Quote,"
                  "100,2024-03-15,75,Pipeline,",
                  "008E,006000000000001AAA,005X,2024-03-01T10:00:00.000+0000,Closed Won,100,"
                  "2024-03-01,100,Closed,")
    tasks = csv("Task.csv", "Id,WhoId,WhatId,Subject,ActivityDate,Status,OwnerId,Type,IsDeleted,"
                "AccountId,IsClosed,CreatedDate,IsArchived,IsRecurrence,TaskSubtype,"
                "CompletedDateTime",
                "00T000000000001AAA,,006000000000001AAA,Call,2024-01-10,Completed,"
                "005000000000001AAA,Call,,001000000000001AAA,1,2024-01-09T10:00:00.000+0000,,,Call,",
                "00T000000000002AAA,,,Note,,Completed,005000000000001AAA,,,,1,"
                "2024-01-11T10:00:00.000+0000,,,Task,",
                "00T000000000003AAA,,,Weekly,2024-01-12,Completed,005000000000001AAA,,,,1,"
                "2024-01-11T10:00:00.000+0000,,1,Task,")
    events = csv("Event.csv", "Id,WhatId,Subject,ActivityDateTime,StartDateTime,OwnerId,Type,"
                 "IsChild,IsGroupEvent,EventSubtype,IsDeleted",
                 "00U000000000001AAA,006000000000001AAA,Demo,2024-02-01T15:00:00.000+0000,"
                 "2024-02-01T15:00:00.000+0000,005000000000001AAA,,,1,Event,",
                 "00U000000000002AAA,006000000000001AAA,Demo,2024-02-01T15:00:00.000+0000,"
                 "2024-02-01T15:00:00.000+0000,005000000000001AAA,,1,1,Event,")
    plan, _ = run_import(db, "salesforce", [users, deals, history, tasks, events])
    assert not plan.report.problems
    entries = db.query("SELECT stage, entered_at FROM stage_history ORDER BY entered_at")
    assert entries["stage"].tolist() == ["Prospecting", "Proposal/Price Quote", "Closed Won"]
    assert any("3 stage entries from 5 history rows" in n for n in plan.report.notes)
    acts = db.query("SELECT activity_id, type, occurred_at FROM activities ORDER BY 1")
    assert acts["activity_id"].tolist() == ["00T000000000001AAA", "00T000000000002AAA",
                                            "00U000000000001AAA"]
    assert acts["type"].tolist() == ["call", "task", "meeting"]
    assert str(acts["occurred_at"].iloc[1]) == "2024-01-11 10:00:00"  # no due date: created
    assert db.query("SELECT team_id FROM rep_assignments")["team_id"].tolist() == ["Sales"]


def test_a_file_of_another_crm_names_the_preset_to_use() -> None:
    hubspot = csv("deals.csv", "Record ID,Deal owner,Deal Stage,Amount,Create Date,Close Date",
                  "1,Dana Lee,Closed won,100,2024-01-02,2024-02-01")
    assert problems([hubspot]) == [
        "deals.csv, row 1: this is not a salesforce export: its columns are those of a hubspot "
        "export — import it with the preset 'hubspot'"]
    names = csv("notes.csv", "Name,Note", "Ada,likes tea")  # matches nothing in particular
    assert "nothing to import: no file kind of preset 'salesforce'" in problems([names])[0]


def test_a_repeated_column_the_preset_does_not_read_is_a_note() -> None:
    deal = opportunity("006A,005X,,Closed Won,100,2024-03-01,2024-02-01,1,1,a,b",
                       header=OPP + ",Notes,Notes")
    plan = plan_import([deal], load_preset("salesforce"))
    assert not plan.report.problems
    assert "Opportunity.csv: the header repeats Notes, which the preset does not read" in \
        plan.report.notes
