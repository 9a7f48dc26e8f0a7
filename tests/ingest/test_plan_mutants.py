"""The import plan's words and values where its mutation run found no test looking: a header that
repeats a column, a key that repeats beside a blank one, a table left without a column that has
a default, an id prefix that half the file carries, numbers and dates whose format the file
decides, head counts, activity types, what a preset fills in, title-cases or skips, ids that are
not of the kind a column holds, owners named by their id or their name, and the export column
names the notes use. Each expectation is whole: every problem word for word with its file, row
and column, every note of the kind, every value of the rows the plan keeps.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from typing import Any

import pandas as pd

from kpi.ingest import Source, load_preset, plan_import
from kpi.ingest.presets import Preset

USER = "005000000000001AAA"  # a Salesforce User id (18 characters)
REPS = ("reps.csv", "rep_id,name,hire_date\nR1,Ada,2023-01-02\n")
DUPLICATE = "duplicate id", "each row needs its own id: remove the repeat"


def plan(preset: str | Preset, *files: tuple[str, str]):  # noqa: ANN201 - an ImportPlan
    chosen = load_preset(preset) if isinstance(preset, str) else preset
    return plan_import([Source(name, text.encode()) for name, text in files], chosen)


def problems(got) -> list[tuple[str, bool]]:  # noqa: ANN001 - an ImportPlan
    return [(str(p), p.fatal) for p in got.report.problems]


def rows(got, table: str, *columns: str) -> list[tuple]:  # noqa: ANN001 - an ImportPlan
    return [tuple(r) for r in got.tables[table][list(columns)].itertuples(index=False)]


def with_file(preset: str, table: str, **changes: Any) -> Preset:
    """``preset`` with the file kinds of ``table`` changed as a user's own preset would be."""
    base = load_preset(preset)
    return dataclasses.replace(base, files=[dataclasses.replace(f, **changes) if f.table == table
                                            else f for f in base.files])


def _d(text: str) -> dt.date:
    return dt.date.fromisoformat(text)


# --- a header that repeats a column --------------------------------------------------------------

def test_a_repeated_column_the_preset_reads_is_named_below_the_title_and_nothing_loads() -> None:
    """'Account ID' is read together with WhatId (coalesced) and has a space in its name; both
    repeated columns are named, in the header's order, on the header's own row (2, below the
    report's title)."""
    got = plan("salesforce", ("tasks.csv", '"Tasks"\n'
                              "Id,OwnerId,ActivityDate,Type,Type,Account ID,Account ID,WhatId\n"
                              f"00T000000000001AAA,{USER},2024-01-02,Call,Call,"
                              "001000000000001AAA,001000000000001AAA,006000000000001AAA\n"))
    assert problems(got) == [
        ("tasks.csv, row 2: the header repeats column(s) Account ID, Type — rename or remove "
         "the duplicate columns", True)]
    assert list(got.tables) == []
    assert got.report.notes == ["tasks.csv: 1 title line(s) above the header ignored"]


def test_repeated_columns_the_preset_does_not_read_are_a_note_and_the_file_loads() -> None:
    got = plan("canonical", REPS, ("deals.csv", "opp_id,rep_id,created_at,stage,note,x,note,x\n"
                                                "O1,R1,2024-01-01,Closed Won,a,b,c,d\n"))
    assert [n for n in got.report.notes if "repeats" in n] == [
        "deals.csv: the header repeats note, x, which the preset does not read"]
    assert rows(got, "opportunities", "opp_id", "stage") == [("O1", "Closed Won")]


# --- what the database needs -------------------------------------------------------------------

def test_assignments_without_segment_or_motion_take_the_default_and_blanks_after_are_named() -> None:
    """segment and motion have a DEFAULT: a file without them is fine, and valid_from (checked
    after them) is still checked for blanks."""
    got = plan("canonical", ("assign.csv", "rep_id,team_id,region,valid_from\n"
                                           "R1,T1,EMEA,2024-01-01\nR2,T1,EMEA,\n"))
    assert problems(got) == [
        ("assign.csv, row 3, column 'valid_from': valid_from is blank — fill it in", False)]


def test_a_repeated_id_is_named_even_when_another_row_has_no_id() -> None:
    got = plan("canonical", REPS, ("deals.csv", "opp_id,rep_id,created_at,closed_at,stage\n"
                                                "O1,R1,2024-01-01,2024-02-01,Closed Won\n"
                                                "O1,R1,2024-01-02,2024-02-01,Closed Won\n"
                                                ",R1,2024-01-03,2024-02-01,Closed Won\n"))
    assert problems(got) == [
        ("deals.csv, row 3, column 'opp_id': duplicate id (value 'O1') — each row needs its own "
         "id: remove the repeat", False),
        ("deals.csv, row 4, column 'opp_id': opp_id is blank — every deal needs its id (Id): "
         "export it again with the id column filled", False)]


# --- which kind of file ------------------------------------------------------------------------

def test_a_file_whose_ids_are_half_opportunities_is_an_opportunity_export() -> None:
    """Exactly half the ids carry 006 (the first one does not): still the deals file."""
    got = plan("salesforce", ("opps.csv", "Id,OwnerId,StageName,CreatedDate,Amount\n"
                                          f"00Q000000000001AAA,{USER},Prospecting,2024-01-01,1\n"
                                          f"006000000000002AAA,{USER},Prospecting,2024-01-01,2\n"))
    assert [p for p in got.report.problems if p.fatal] == []
    assert rows(got, "opportunities", "opp_id", "amount") == [
        ("00Q000000000001AAA", 1.0), ("006000000000002AAA", 2.0)]


def test_an_empty_export_says_to_export_again() -> None:
    got = plan("canonical", ("deals.csv", "opp_id,rep_id,created_at,stage\n"))
    assert problems(got) == [
        ("deals.csv, row 1: nothing to import: the file has a header but no rows (a "
         "opportunities export) — export it again: the export or its filters returned no "
         "records", True)]


# --- formats ------------------------------------------------------------------------------------

def test_numbers_that_read_either_way_stop_the_import_and_name_the_option() -> None:
    got = plan("salesforce", ("opps.csv", "Id,OwnerId,StageName,CreatedDate,Amount\n"
                                          f'006000000000001AAA,{USER},Prospecting,2024-01-01,"1,234"\n'))
    assert problems(got) == [
        ("opps.csv, row 2, column 'Amount': numbers like this read either decimal comma "
         "(1.234,50) or decimal point (1,234.50), and nothing in the export tells which (value "
         "'1,234') — import again with --decimal comma or point (decimal in the preset)", True)]


def test_dates_that_read_either_way_stop_the_import() -> None:
    got = plan("salesforce", ("opps.csv", "Id,OwnerId,StageName,CreatedDate\n"
                                          f"006000000000001AAA,{USER},Prospecting,03/04/2024\n"))
    assert problems(got) == [
        ("opps.csv, row 2, column 'CreatedDate': dates like this read either day first (D/M/Y) "
         "or month first (M/D/Y), and nothing in the export tells which (value '03/04/2024') — "
         "import again with --date-order DMY or MDY (date_order in the preset)", True)]


def test_a_number_that_reads_either_way_follows_another_files_decimal_comma() -> None:
    got = plan("canonical", REPS,
               ("a.csv", 'opp_id,rep_id,created_at,is_closed,amount\nO1,R1,2024-01-01,false,"2,5"\n'),
               ("b.csv", 'opp_id,rep_id,created_at,is_closed,amount\nO2,R1,2024-01-01,false,"1,234"\n'))
    assert got.report.problems == []
    assert got.report.notes[0] == ("b.csv: 'amount' values like '1,234' read as decimal comma "
                                   "(1.234,50), as 'amount' of a.csv proves ('2,5')")
    assert rows(got, "opportunities", "opp_id", "amount") == [("O1", 2.5), ("O2", 1.234)]


def test_stage_history_in_the_presets_date_order_keeps_only_stage_changes() -> None:
    """03/04/2024 could be either order; the canonical preset says month first, and the
    history's order within a deal follows those dates."""
    got = plan("canonical", ("history.csv", "opp_id,stage,entered_at\nO1,Prospecting,03/04/2024\n"
                                            "O1,Prospecting,03/05/2024\nO1,Negotiation,03/06/2024\n"))
    assert got.report.problems == []
    assert rows(got, "stage_history", "_row", "stage", "entered_at") == [
        (2, "Prospecting", _d("2024-03-04")), (4, "Negotiation", _d("2024-03-06"))]
    assert "history.csv: 2 stage entries from 3 history rows (the other 1 record changes within " \
           "a stage, or a return to a stage on the same day)" in got.report.notes


def test_stage_changes_on_one_day_are_ordered_by_their_time() -> None:
    """B at 15:00 follows A at 09:00, so B the next day is no new entry, whatever the file's
    row order."""
    got = plan("canonical", ("history.csv", "opp_id,stage,entered_at\nO1,B,2024-03-04 15:00\n"
                                            "O1,A,2024-03-04 09:00\nO1,B,2024-03-05 10:00\n"))
    assert got.report.problems == []
    assert rows(got, "stage_history", "_row", "stage", "entered_at") == [
        (2, "B", _d("2024-03-04")), (3, "A", _d("2024-03-04"))]


# --- typed values -------------------------------------------------------------------------------

def test_head_counts_are_whole_numbers_and_a_blank_one_stays_blank() -> None:
    got = plan("canonical", ("accounts.csv", "account_id,name,employees\nA1,Acme,10.6\nA2,Beta,\n"))
    assert got.report.problems == []
    assert rows(got, "accounts", "account_id", "employees") == [("A1", 11), ("A2", None)]
    assert [type(v) for v in got.tables["accounts"]["employees"]] == [int, type(None)]


def test_activity_types_are_lower_case_and_no_prospect_column_means_not_new() -> None:
    got = plan("canonical", REPS, ("acts.csv", "activity_id,rep_id,occurred_at,type\n"
                                               "X1,R1,2024-01-02 10:00,CALL\n"
                                               "X2,R1,2024-01-03 11:00,Meeting\n"))
    assert got.report.problems == []
    assert rows(got, "activities", "activity_id", "type", "new_prospect") == [
        ("X1", "call", False), ("X2", "meeting", False)]
    assert list(got.tables["activities"].columns) == [
        "_file", "_row", "activity_id", "rep_id", "occurred_at", "type", "_by_name",
        "new_prospect"]


# --- what the preset fills in -------------------------------------------------------------------

def test_a_constant_the_preset_aliases_is_named_by_its_column_in_the_note() -> None:
    preset = with_file("canonical", "opportunities", constants={"kind": "Upsell"},
                       values={"kind": {"Upsell": "expansion"}})
    got = plan(preset, REPS, ("deals.csv", "opp_id,rep_id,created_at,is_closed,amount\n"
                                           "O1,R1,2024-01-01,false,5\n"))
    assert got.report.problems == []
    assert got.report.notes[0] == "deals.csv: kind read as 'Upsell' -> 'expansion' (1)"
    assert rows(got, "opportunities", "opp_id", "kind") == [("O1", "expansion")]


def test_a_blank_constant_the_preset_fills_is_named_by_its_column_in_the_note() -> None:
    preset = with_file("canonical", "accounts", constants={"industry": None},
                       fill={"industry": "other"})
    got = plan(preset, ("accounts.csv", "account_id,name\nA1,Acme\n"))
    assert got.report.problems == []
    assert got.report.notes == ["accounts.csv: 1 rows have no industry; read as 'other'"]
    assert rows(got, "accounts", "account_id", "industry") == [("A1", "other")]


def test_rows_must_have_a_column_the_preset_sets_blank_so_none_is_imported() -> None:
    preset = with_file("canonical", "accounts", constants={"industry": None},
                       skip_if_missing=["industry"])
    got = plan(preset, REPS, ("accounts.csv", "account_id,name\nA1,Acme\nA2,Beta\n"))
    assert got.report.problems == []
    assert got.report.notes == ["accounts.csv: 2 rows have no industry and were not imported "
                                "(nothing to date them by), e.g. row 2"]
    assert rows(got, "accounts", "account_id") == []


def test_a_fill_for_a_column_the_file_lacks_gives_every_row_the_value() -> None:
    preset = with_file("canonical", "accounts", fill={"region": "(none)", "industry": "other"})
    got = plan(preset, ("accounts.csv", "account_id,name,industry\nA1,Acme,\nA2,Beta,Retail\n"))
    assert got.report.problems == []
    assert rows(got, "accounts", "account_id", "industry", "region") == [
        ("A1", "other", "(none)"), ("A2", "Retail", "(none)")]


def test_title_case_changes_only_all_lower_case_values() -> None:
    got = plan("maven", ("accounts.csv", "account,sector,office_location,employees\n"
                                         "Acme,retail,US,5\nBeta,SaaS,US,6\nGamma,,US,7\n"))
    assert got.report.problems == []
    industries = got.tables["accounts"]["industry"].tolist()
    assert industries[:2] == ["Retail", "SaaS"]
    assert pd.isna(industries[2])


def test_deals_without_an_engage_date_are_left_out_and_the_first_is_named() -> None:
    got = plan("maven", ("sales_teams.csv", "sales_agent,manager,regional_office\nAda,Mo,East\n"),
               ("sales_pipeline.csv", "opportunity_id,sales_agent,product,account,deal_stage,"
                                      "engage_date,close_date,close_value\n"
                                      "P1,Ada,GTX,Acme,Engaging,,,\n"
                                      "P2,Ada,GTX,Acme,Engaging,2024-01-02,,\n"
                                      "P3,Ada,GTX,Acme,Engaging,,,\n"))
    assert got.report.problems == []
    assert [n for n in got.report.notes if "were not imported" in n] == [
        "sales_pipeline.csv: 2 rows have no engage_date and were not imported (nothing to date "
        "them by), e.g. row 2"]
    assert rows(got, "opportunities", "opp_id") == [("P2",)]


# --- ids of the kind a column holds -------------------------------------------------------------

def test_a_deal_id_without_the_opportunity_prefix_is_kept_as_the_deals_id() -> None:
    """The key column's prefix says what the file is (two of three ids are 006); it never
    blanks one of its ids."""
    got = plan("salesforce", ("opps.csv", "Id,OwnerId,StageName,CreatedDate,Amount\n"
                                          f"006000000000001AAA,{USER},Prospecting,2024-01-01,1\n"
                                          f"00Q000000000002AAA,{USER},Prospecting,2024-01-01,1\n"
                                          f"006000000000003AAA,{USER},Prospecting,2024-01-01,1\n"))
    assert got.report.problems == []
    assert rows(got, "opportunities", "opp_id") == [
        ("006000000000001AAA",), ("00Q000000000002AAA",), ("006000000000003AAA",)]
    assert not [n for n in got.report.notes if "not opp_id ids" in n]


TASKS = ("Id,OwnerId,ActivityDate,Type,WhatId\n"
         f"00T000000000001AAA,{USER},2024-01-02,Call,001000000000009AAA\n"
         f"00T000000000002AAA,{USER},2024-01-03,Call,0Q0000000000001AAA\n"
         f"00T000000000003AAA,{USER},2024-01-04,Call,\n")


def test_what_ids_of_other_objects_are_blank_opportunities_and_accounts() -> None:
    got = plan("salesforce", ("tasks.csv", TASKS))
    assert got.report.problems == []
    assert got.report.notes[:2] == [
        "tasks.csv: 1 WhatId values are not account_id ids (no 001 prefix, e.g. "
        "'0Q0000000000001AAA'); not used as account_id",
        "tasks.csv: 2 WhatId values are not opp_id ids (no 006 prefix, e.g. "
        "'001000000000009AAA'); not used as opp_id"]
    assert rows(got, "activities", "activity_id", "account_id", "opp_id") == [
        ("00T000000000001AAA", "001000000000009AAA", None),
        ("00T000000000002AAA", None, None), ("00T000000000003AAA", None, None)]


def test_a_column_with_two_id_prefixes_names_both() -> None:
    preset = with_file("salesforce", "activities",
                       prefixes={"activity_id": ["00T", "00U"], "opp_id": ["006", "0Q0"],
                                 "account_id": ["001"]})
    got = plan(preset, ("tasks.csv", TASKS))
    assert got.report.problems == []
    assert got.report.notes[:2] == [
        "tasks.csv: 1 WhatId values are not account_id ids (no 001 prefix, e.g. "
        "'0Q0000000000001AAA'); not used as account_id",
        "tasks.csv: 1 WhatId values are not opp_id ids (no 006/0Q0 prefix, e.g. "
        "'001000000000009AAA'); not used as opp_id"]
    assert rows(got, "activities", "activity_id", "opp_id") == [
        ("00T000000000001AAA", None), ("00T000000000002AAA", "0Q0000000000001AAA"),
        ("00T000000000003AAA", None)]


# --- owners by id and by name -------------------------------------------------------------------

def test_an_owner_name_of_fifteen_letters_is_not_taken_for_a_short_id() -> None:
    got = plan("salesforce", ("opps.csv", "Opportunity ID,Opportunity Owner,Stage,Created Date,"
                                          "Amount\n006000000000001,Christophersons,Prospecting,"
                                          "2024-01-01,1\n"))
    assert got.report.problems == []
    assert rows(got, "opportunities", "opp_id", "rep_id") == [
        ("006000000000001AAA", "Christophersons")]
    assert rows(got, "reps", "rep_id", "name") == [("Christophersons", "Christophersons")]


def test_a_fifteen_character_owner_id_is_the_users_eighteen_character_id() -> None:
    got = plan("salesforce", ("users.csv", f"Id,Name,Email\n{USER},Ada,a@x.com\n"),
               ("opps.csv", "Id,OwnerId,StageName,CreatedDate,Amount\n"
                            "006000000000001AAA,005000000000001,Prospecting,2024-01-01,1\n"))
    assert got.report.problems == []
    assert rows(got, "opportunities", "opp_id", "rep_id") == [("006000000000001AAA", USER)]
    assert rows(got, "reps", "rep_id", "name") == [(USER, "Ada")]


# --- rows the preset skips ----------------------------------------------------------------------

def test_tasks_not_done_are_left_out_and_the_note_shows_four_of_their_statuses() -> None:
    statuses = ["Completed", "Not Started", "In Progress", "Waiting on someone else", "Deferred",
                "Open", "Not Started"]
    text = "Id,OwnerId,ActivityDate,Type,Status\n" + "".join(
        f"00T00000000000{i}AAA,{USER},2024-01-0{i},Call,{s}\n" for i, s in enumerate(statuses, 1))
    got = plan("salesforce", ("tasks.csv", text))
    assert got.report.problems == []
    assert got.report.notes[0] == (
        "tasks.csv: 6 rows with Status 'Deferred', 'In Progress', 'Not Started', 'Open' were not "
        "imported (tasks not done yet)")
    assert rows(got, "activities", "activity_id") == [("00T000000000001AAA",)]


def test_a_skip_rule_given_as_a_plain_list_skips_without_a_reason() -> None:
    preset = with_file("salesforce", "activities", skip_rows={"Status": ["Open", "Deferred"]})
    got = plan(preset, ("tasks.csv", "Id,OwnerId,ActivityDate,Type,Status\n"
                                     f"00T000000000001AAA,{USER},2024-01-02,Call,Completed\n"
                                     f"00T000000000002AAA,{USER},2024-01-03,Call,open\n"))
    assert got.report.problems == []
    assert got.report.notes[0] == "tasks.csv: 1 rows with Status 'open' were not imported"
    assert rows(got, "activities", "activity_id") == [("00T000000000001AAA",)]


# --- export columns -----------------------------------------------------------------------------

def test_a_column_mapped_from_an_export_column_named_row_reads_that_column() -> None:
    """The spreadsheet row numbers are kept apart from the export's own columns."""
    preset = with_file("canonical", "opportunities",
                       columns={**load_preset("canonical").files[4].columns, "product": ["Row"]})
    got = plan(preset, REPS, ("deals.csv", "opp_id,rep_id,created_at,is_closed,amount\n"
                                           "O1,R1,2024-01-01,false,5\n"))
    assert got.report.problems == []
    assert "product" not in got.tables["opportunities"].columns
    given = plan(preset, REPS, ("deals.csv", "opp_id,rep_id,created_at,is_closed,amount,ROW\n"
                                             "O1,R1,2024-01-01,false,5,Core\n"))
    assert rows(given, "opportunities", "opp_id", "product") == [("O1", "Core")]


def test_a_rep_without_a_hire_date_is_not_dated_by_the_next_column_the_preset_knows() -> None:
    """Hire_Date__c is the hire date; CreatedDate only when the export has no Hire_Date__c. A
    blank Hire_Date__c is not read from CreatedDate (only coalesced columns are read per row):
    the rep counts from their first deal."""
    got = plan("salesforce",
               ("users.csv", "Id,Name,Email,Hire_Date__c,CreatedDate\n"
                             f"{USER},Ada,a@x.com,,2020-05-05\n"
                             "005000000000002AAA,Bo,b@x.com,2022-02-02,2020-05-05\n"),
               ("opps.csv", "Id,OwnerId,StageName,CreatedDate,Amount\n"
                            f"006000000000001AAA,{USER},Prospecting,2024-01-01,1\n"))
    assert got.report.problems == []
    assert rows(got, "reps", "rep_id", "hire_date") == [
        (USER, _d("2024-01-01")), ("005000000000002AAA", _d("2022-02-02"))]


def test_a_blank_activity_type_is_named_by_both_export_columns_it_is_read_from() -> None:
    got = plan("salesforce", ("tasks.csv", "Id,OwnerId,ActivityDate,Type,TaskSubtype\n"
                                           f"00T000000000001AAA,{USER},2024-01-02,,\n"
                                           f"00T000000000002AAA,{USER},2024-01-03,,Call\n"))
    assert got.report.problems == []
    assert got.report.notes[0] == "tasks.csv: 1 rows have no Type / TaskSubtype; read as 'other'"
    assert rows(got, "activities", "activity_id", "type") == [
        ("00T000000000001AAA", "other"), ("00T000000000002AAA", "call")]


# --- a file that lacks required columns ---------------------------------------------------------

def test_deals_without_a_stage_or_is_closed_lack_the_stage() -> None:
    got = plan("canonical", REPS, ("deals.csv", "opp_id,rep_id,created_at,amount\n"
                                                "O1,R1,2024-01-01,5\n"))
    assert problems(got) == [
        ("deals.csv, row 1: required columns missing: stage (from stage) — add them to the "
         "export, or map them in a custom preset", True)]
    assert list(got.tables) == ["reps"]


def test_every_missing_column_is_named_with_the_names_the_preset_takes() -> None:
    """A preset of one's own that matches deals by their id alone and maps no stage column."""
    canonical = load_preset("canonical").files[4]
    preset = with_file("canonical", "opportunities", match=["opp_id"],
                       columns={k: v for k, v in canonical.columns.items() if k != "stage"})
    got = plan(preset, REPS, ("deals.csv", "opp_id,amount\nO1,5\n"))
    assert problems(got) == [
        ("deals.csv, row 1: required columns missing: rep_id (from rep_id); created_at (from "
         "created_at); stage (from stage) — add them to the export, or map them in a custom "
         "preset", True)]


# --- the app's own records -------------------------------------------------------------------------

USERS = ("users.csv", "user_id,name,role,team_id\nu1,Ann,manager,T1\n")
OWN_USERS = ("leverboard's own users (id, role): an import never changes users; admins add and "
             "change them on the Users page or with `python -m kpi user add`")


def test_the_apps_own_users_and_initiatives_are_skipped_beside_a_crm_file() -> None:
    got = plan("canonical", REPS, USERS, ("initiatives.csv", "initiative_id,name\ni1,Focus\n"))
    assert problems(got) == []
    assert got.report.notes == [
        f"users.csv: {OWN_USERS}; skipped",
        "initiatives.csv: leverboard's own initiatives: an import never changes them; executives "
        "edit them on the Strategy rollouts page; skipped"]
    assert rows(got, "reps", "rep_id") == [("R1",)]


def test_a_users_file_alone_is_nothing_to_import_and_says_what_to_do() -> None:
    assert problems(plan("canonical", USERS)) == [
        (f"users.csv: nothing to import: {OWN_USERS} — leave this file out of the import", True)]


def test_a_contacts_export_under_a_preset_with_a_file_kind_without_id_prefixes() -> None:
    """A user's Salesforce preset whose accounts file kind names no id prefix still tells a
    Contact export (ids 003...) from the files it reads, and says why contacts never load."""
    preset = with_file("salesforce", "accounts", prefixes={})
    got = plan(preset, ("Contact.csv", "Id,Name,AccountId\n003000000000001AAA,Bo,001000000000001AAA\n"))
    assert problems(got) == [(
        "Contact.csv: nothing to import: Contact records (ids 003...) hold nothing to load with "
        "preset 'salesforce' (people at customers, not sellers: they never become reps) — the "
        "preset reads opportunities, stage_history, activities, reps, accounts", True)]
    assert got.report.notes == []


def test_a_users_file_is_told_by_a_password_hash_alone_or_by_exactly_an_id_and_a_role() -> None:
    for header in ("email,password_hash\na@x.com,$argon2id$x\n", "user_id,role\nu1,rep\n"):
        got = plan("canonical", REPS, ("users.csv", header))
        assert problems(got) == [], header
        assert got.report.notes == [f"users.csv: {OWN_USERS}; skipped"], header


# --- the pipeline already in the database, and a failure of leverboard's own -----------------------

def test_the_stages_note_follows_the_order_the_database_already_states() -> None:
    from kpi.store import DuckDBStore

    store = DuckDBStore.create()
    stated = {"forecast_category": None, "probability": None, "ordered_by": "preset",
              "role_by": "preset", "outcome": "open"}
    with store.transaction():
        store.insert_frame("stages", pd.DataFrame([
            {"stage": "Beta", "position": 1, "role": "qualify", **stated},
            {"stage": "Alpha", "position": 2, "role": "propose", **stated}]))
    deals = Source("deals.csv", b"opp_id,rep_id,created_at,stage,amount\n"
                                b"O3,R1,2024-01-02,Alpha,5\nO4,R1,2024-01-03,Beta,5\n")
    notes = [n for n in plan_import([deals], load_preset("canonical"), store).report.notes
             if n.startswith("stages as read")]
    assert notes == ["stages as read: Beta (qualifying stage) -> Alpha (proposal stage); "
                     "won: none; lost: none"]
    store.close()


def test_a_failure_while_checking_is_one_fatal_problem_naming_every_file(monkeypatch) -> None:  # noqa: ANN001
    from kpi.ingest import plan as plan_module

    def broken(*args: object) -> None:
        raise RuntimeError("boom")

    monkeypatch.setattr(plan_module, "_derive", broken)
    got = plan("canonical", REPS, ("deals.csv", "opp_id,rep_id,created_at,stage\nO1,R1,2024-01-02,"
                                                 "Closed Won\n"))
    assert problems(got) == [(
        "reps.csv, deals.csv: could not be checked (RuntimeError: boom) — this is a bug in "
        "leverboard: please report it with the files", True)]
    assert got.tables == {}
    assert got.files == ["reps.csv", "deals.csv"]


def test_a_failure_while_reading_one_file_is_a_fatal_problem_naming_it(monkeypatch) -> None:  # noqa: ANN001
    from kpi.ingest import plan as plan_module

    real = plan_module.read

    def broken(name: str, *args: object, **kwargs: object) -> object:
        if name == "deals.csv":
            raise RuntimeError("boom")
        return real(name, *args, **kwargs)

    monkeypatch.setattr(plan_module, "read", broken)
    got = plan("canonical", REPS, ("deals.csv", "opp_id\nO1\n"))
    assert problems(got) == [(
        "deals.csv: could not be read (RuntimeError: boom) — this is a bug in leverboard: please "
        "report it with the file", True)]
    assert got.files == ["reps.csv", "deals.csv"]


def test_a_file_the_preset_knows_holds_nothing_is_a_note_or_alone_the_problem() -> None:
    dictionary = ("data_dictionary.csv", "Table,Field,Description\naccounts,account,name\n")
    got = plan("maven", dictionary)
    assert problems(got) == [(
        "data_dictionary.csv: nothing to import: nothing to load from it with preset 'maven' — "
        "import the files that hold the accounts, opportunities, reps with it", True)]
    assert got.report.notes == []
    got = plan("maven", dictionary, ("sales_teams.csv", "sales_agent,manager,regional_office\n"
                                                        "Ann,Bo,West\n"))
    assert not got.report.fatal
    assert "data_dictionary.csv: nothing to load from it with preset 'maven'; skipped" in (
        got.report.notes)
