"""What the import plan says, word for word, about a file it cannot read as any table, a file
that lacks columns, and closed deals whose stage must say whether they were won. The reports
name the file and the header's row (title lines above it counted), list every missing column
with the names the preset would take for it, and show at most the first 12 columns of a header.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from kpi.ingest import Source, load_preset, plan_import
from kpi.ingest.presets import Preset

ADD = "add them to the export, or map them in a custom preset"
CANONICAL = ("teams: team_id, name; reps: rep_id, name, hire_date; rep_assignments: rep_id, "
             "team_id, region, valid_from; accounts: account_id, name; opportunities: opp_id, "
             "rep_id, created_at; stage_history: opp_id, stage, entered_at; activities: "
             "activity_id, rep_id, occurred_at, type; quotas: quota_id, period_start, "
             "period_end, amount")


def plan(preset: str | Preset, *files: tuple[str, str]):  # noqa: ANN201 - an ImportPlan
    chosen = load_preset(preset) if isinstance(preset, str) else preset
    return plan_import([Source(name, text.encode()) for name, text in files], chosen)


def problems(preset: str | Preset, *files: tuple[str, str]) -> list[tuple[str, bool]]:
    return [(str(p), p.fatal) for p in plan(preset, *files).report.problems]


def test_a_file_that_looks_like_deals_names_each_missing_column_and_its_names() -> None:
    assert problems("salesforce", ("opps.csv", "Id,Amount\n006A,1\n")) == [
        ("opps.csv, row 1: looks like opportunities but required columns are missing: OwnerId "
         f"or Owner ID or Opportunity Owner ID; StageName or Stage — {ADD}", True)]


def test_the_row_is_the_headers_below_a_reports_title() -> None:
    report = '"Opportunities"\n"Opportunity ID","Opportunity Owner","Amount"\n"006A","Bo","1"\n'
    assert problems("salesforce", ("opps.csv", report)) == [
        ("opps.csv, row 2: looks like opportunities but required columns are missing: Stage or "
         f"StageName — {ADD}", True)]


def test_people_with_a_name_and_email_are_reps_without_an_id() -> None:
    assert problems("salesforce", ("people.csv", "Name,Email\nAda,a@x.com\n")) == [
        (f"people.csv, row 1: looks like reps but required columns are missing: Id or User ID — "
         f"{ADD}", True)]


def test_a_lead_source_says_these_people_are_leads_not_reps() -> None:
    """A column that only Leads and Contacts have: the file matches nothing (and alone, nothing
    is imported)."""
    [(message, fatal)] = problems("salesforce",
                                  ("people.csv", "Name,Email,LeadSource\nAda,a@x.com,Web\n"))
    assert message.startswith("people.csv, row 1: nothing to import: no file kind of preset "
                              "'salesforce' matches these columns (Name, Email, LeadSource) — "
                              "expected columns — opportunities: Id or Opportunity ID, ")
    assert message.endswith("reps: Id or User ID, Name or Full Name, Email; accounts: Id or "
                            "Account ID, Name or Account Name, Industry; or pick another preset")
    assert fatal


def test_a_header_that_matches_nothing_shows_its_first_twelve_columns() -> None:
    twelve, thirteen = [f"c{i}" for i in range(12)], [f"c{i}" for i in range(13)]
    for header, shown in ((twelve, ", ".join(twelve)), (thirteen, ", ".join(twelve) + " ...")):
        text = ",".join(header) + "\n" + ",".join("1" * len(header)) + "\n"
        assert problems("canonical", ("stuff.csv", text)) == [
            (f"stuff.csv, row 1: nothing to import: no file kind of preset 'canonical' matches "
             f"these columns ({shown}) — expected columns — {CANONICAL}; or pick another preset",
             True)]


def test_beside_a_file_that_imports_a_file_that_matches_nothing_is_skipped_with_a_note() -> None:
    got = plan("canonical", ("deals.csv", "opp_id,rep_id,created_at,closed_at,stage,amount\n"
                                          "O1,R1,2024-01-01,2024-02-01,Closed Won,5\n"),
               ("x.csv", '"Report"\na,b\n1,2\n'))
    assert "x.csv, row 2: no file kind of preset 'canonical' matches these columns (a, b); " \
           "skipped" in got.report.notes
    assert not [p for p in got.report.problems if p.fatal]


DEALS = "opp_id,rep_id,created_at,closed_at,is_closed,{}amount\n"


def test_closed_deals_without_is_won_or_a_stage_count_as_lost_and_say_so() -> None:
    got = plan("canonical", ("deals.csv", DEALS.format("") + "O1,R1,2024-01-01,2024-02-01,true,5\n"
                             "O2,R1,2024-01-01,2024-03-01,false,5\n"
                             "O3,R1,2024-01-01,2024-02-03,true,5\n"))
    assert "deals.csv: no IsWon and no stage column: its 2 closed deals count as lost" \
        in got.report.notes
    deals = got.tables["opportunities"]
    assert [(r.opp_id, r.is_closed, r.is_won, r.stage) for r in deals.itertuples()] == [
        ("O1", True, False, "Closed Lost"), ("O2", False, False, "Open"),
        ("O3", True, False, "Closed Lost")]
    assert deals["is_won"].map(type).eq(bool).all()


def test_open_deals_only_without_is_won_need_no_note() -> None:
    got = plan("canonical", ("deals.csv", DEALS.format("") + "O1,R1,2024-01-01,2024-03-01,false,5\n"))
    assert not [n for n in got.report.notes if "IsWon" in n]
    assert got.tables["opportunities"]["is_won"].tolist() == [False]


def test_without_is_won_the_stage_says_which_closed_deals_were_won() -> None:
    """The preset's stages, in any case (the preset writes 'Signed', the export 'SIGNED'); a
    closed deal whose stage says neither is a problem on its row."""
    canonical = load_preset("canonical")
    files = [dataclasses.replace(f, stages={"Signed": "won", "Gone": "lost"})
             if f.table == "opportunities" else f for f in canonical.files]
    preset = dataclasses.replace(canonical, files=files)
    got = plan(preset, ("deals.csv", DEALS.format("stage,") +
                        "O1,R1,2024-01-01,2024-02-01,true,SIGNED,5\n"
                        "O2,R1,2024-01-01,2024-02-02,true,gone,5\n"
                        "O3,R1,2024-01-01,2024-03-01,false,Talking,5\n"
                        "O4,R1,2024-01-01,2024-02-03,true,Parked,5\n"))
    deals = got.tables["opportunities"]
    assert [(r.opp_id, r.is_closed, r.is_won) for r in deals.itertuples()] == [
        ("O1", True, True), ("O2", True, False), ("O3", False, False), ("O4", True, False)]
    assert [str(p) for p in got.report.problems if p.column == "stage"] == [
        "deals.csv, row 5, column 'stage': closed, but the stage does not say whether it was won "
        "(value 'Parked') — add the IsWon column to the export, or the stage to the preset's "
        "stages (won or lost)"]


def _tasks_preset() -> Preset:
    """Salesforce's preset with activity types of a company's own: three aliases, and any other
    value read as 'other'."""
    salesforce = load_preset("salesforce")
    files = [dataclasses.replace(f, values={"type": {"Call": "call", "ListEmail": "email",
                                                     "Event": "meeting", "*": "other"}})
             if f.table == "activities" else f for f in salesforce.files]
    return dataclasses.replace(salesforce, files=files)


def _tasks(kinds: list[tuple[str, int]]) -> str:
    rows, n = ["Id,OwnerId,ActivityDate,Type,IsClosed"], 0
    for kind, count in kinds:
        for _ in range(count):
            n += 1
            rows.append(f"00T{n:04d},005X,2024-03-01,{kind},true")
            if n == 3:  # a task not done yet, left out: the rows after it keep their own types
                rows.append("00T9999,005X,2024-03-01,Fax,false")
    return "\n".join(rows) + "\n"


def test_values_read_as_others_are_listed_most_frequent_first_eight_at_most() -> None:
    kinds = [("Call", 2), ("", 1), ("Call", 3), ("ListEmail", 4), ("Event", 3), ("Lunch", 6),
             ("Golf", 2), ("Fax", 7), ("Webinar", 8), ("Dinner", 9), ("Visit", 10), ("Text", 11),
             ("OTHER", 1)]
    got = plan(_tasks_preset(), ("Task.csv", _tasks(kinds)))
    unknown = ", not a value the preset knows)"
    assert [n for n in got.report.notes if "read as" in n] == [
        f"Task.csv: Type read as 'Text' -> 'other' (11{unknown}, 'Visit' -> 'other' (10{unknown}, "
        f"'Dinner' -> 'other' (9{unknown}, 'Webinar' -> 'other' (8{unknown}, 'Fax' -> 'other' "
        f"(7{unknown}, 'Lunch' -> 'other' (6{unknown}, 'ListEmail' -> 'email' (4), 'Event' -> "
        "'meeting' (3) ...", "Task.csv: 1 rows have no Type; read as 'other'"]
    types = got.tables["activities"].set_index("activity_id")["type"]
    expected = [t for kind, count in kinds for t in [
        {"Call": "call", "ListEmail": "email", "Event": "meeting"}.get(kind, "other")] * count]
    assert types.tolist() == expected
    assert "00T9999" not in types.index


def test_eight_values_read_as_others_are_all_listed() -> None:
    kinds = [("Call", 1), ("ListEmail", 2), ("Event", 3), ("Lunch", 4), ("Golf", 5), ("Fax", 6),
             ("Webinar", 7), ("Dinner", 8), ("Visit", 9)]
    got = plan(_tasks_preset(), ("Task.csv", _tasks(kinds)))
    [note] = [n for n in got.report.notes if "read as" in n]
    assert note.endswith("'ListEmail' -> 'email' (2)")
    assert note.count(" -> ") == 8


OPP = "Id,OwnerId,AccountId,StageName,Amount,CloseDate,CreatedDate,IsClosed,IsWon"
DEAL = Source("Opportunity.csv", f"{OPP}\n006A,005X,,Closed Won,100,2024-03-01,2024-02-01,1,1\n"
              .encode())
NOT_UTF8 = ("the file is not UTF-8 (byte {}, line 2: b'\\x{}') — export it again as UTF-8 "
            "(Excel: Save As > CSV UTF-8; Salesforce: choose the UTF-8 encoding when exporting), "
            "or convert it")


def test_a_file_not_in_utf8_that_holds_records_the_preset_skips_is_a_note() -> None:
    """Its name says nothing (export (3).csv); read as Windows-1252 only to see what it holds,
    its ids are a Case export's: skipped with a note, the deals import."""
    case = Source("export (3).csv", "Id,Subject\n500A,Caf\u00e9 machine\n".encode("latin-1"))
    got = plan_import([case, DEAL], load_preset("salesforce"))
    assert got.report.problems == []
    assert ("export (3).csv: Case records hold nothing to load with preset 'salesforce' (and the "
            "file cannot be read: the file is not UTF-8 (byte 19, line 2: b'\\xe9')); skipped"
            ) in got.report.notes
    assert got.tables["opportunities"]["opp_id"].tolist() == ["006A"]


def test_alone_a_file_not_in_utf8_that_the_preset_skips_says_what_to_import_instead() -> None:
    case = Source("export (3).csv", "Id,Subject\n500A,Caf\u00e9 machine\n".encode("latin-1"))
    got = plan_import([case], load_preset("salesforce"))
    assert [(str(p), p.fatal) for p in got.report.problems] == [
        ("export (3).csv: nothing to import: Case records hold nothing to load with preset "
         "'salesforce' (and the file cannot be read: the file is not UTF-8 (byte 19, line 2: "
         "b'\\xe9')) — import the records the preset loads: Account, Event, Opportunity, Task, "
         "User", True)]


def test_a_file_not_in_utf8_that_the_preset_reads_or_cannot_place_is_refused() -> None:
    unknown = Source("export (3).csv", "Name,Note\nBo,Caf\u00e9\n".encode("latin-1"))
    deals = Source("export (4).csv", f"{OPP}\n006B,005X,,Clôturé,1,2024-03-01,2024-02-01,,\n"
                   .encode("latin-1"))
    for source, at in ((unknown, (16, "e9")), (deals, (88, "f4"))):
        got = plan_import([source, DEAL], load_preset("salesforce"))
        assert [(str(p), p.fatal) for p in got.report.problems] == [
            (f"{source.name}, row 2: " + NOT_UTF8.format(*at), True)]


HISTORY = "OpportunityId,StageName,Amount,CreatedDate\n"


def test_stage_entries_are_the_rows_where_a_deals_stage_changes_in_time_order() -> None:
    """Two OpportunityHistory files, rows out of time order. 006A: Prospecting on 1 February
    (row 3), an amount change in Prospecting on 3 February (row 4, not an entry), Negotiation
    at the same moment twice (rows 2 and 5: the first row is the entry), won on 1 March. 006B:
    Prospecting, Qualification, and on 6 February back to Prospecting, Qualification and
    Prospecting again (the second return to Prospecting that day is not a new entry); two
    rows without a date are each reported and kept as entries (they cannot be ordered)."""
    first = Source("OpportunityHistory.csv", (
        HISTORY + "006A,Negotiation,100,2024-02-10T10:00:00Z\n"
        "006A,Prospecting,100,2024-02-01T09:00:00Z\n006A,Prospecting,200,2024-02-03T09:00:00Z\n"
        "006A,Negotiation,150,2024-02-10T10:00:00Z\n006A,Closed Won,100,2024-03-01T10:00:00Z\n"
    ).encode())
    second = Source("OpportunityHistory2.csv", (
        HISTORY + "006B,Prospecting,100,2024-02-01T09:00:00Z\n"
        "006B,Qualification,100,2024-02-05T09:00:00Z\n006B,Prospecting,100,2024-02-06T09:00:00Z\n"
        "006B,Qualification,100,\n006B,Qualification,100,2024-02-06T10:00:00Z\n"
        "006B,Qualification,100,\n006B,Prospecting,100,2024-02-06T11:00:00Z\n"
    ).encode())
    deals = Source("Opportunity.csv", (
        f"{OPP}\n006A,005X,,Closed Won,100,2024-03-01,2024-02-01,1,1\n"
        "006B,005X,,Prospecting,100,2024-05-01,2024-02-01,0,0\n").encode())
    got = plan_import([deals, first, second], load_preset("salesforce"))
    history = got.tables["stage_history"]
    assert [(file[-5], row, opp, stage, entered and str(entered)) for file, row, opp, stage, entered
            in history[["_file", "_row", "opp_id", "stage", "entered_at"]].itertuples(
                index=False, name=None)] == [
        ("y", 2, "006A", "Negotiation", "2024-02-10"), ("y", 3, "006A", "Prospecting", "2024-02-01"),
        ("y", 6, "006A", "Closed Won", "2024-03-01"), ("2", 2, "006B", "Prospecting", "2024-02-01"),
        ("2", 3, "006B", "Qualification", "2024-02-05"), ("2", 4, "006B", "Prospecting", "2024-02-06"),
        ("2", 5, "006B", "Qualification", None), ("2", 6, "006B", "Qualification", "2024-02-06"),
        ("2", 7, "006B", "Qualification", None)]
    assert ("OpportunityHistory.csv, OpportunityHistory2.csv: 9 stage entries from 12 history rows "
            "(the other 3 record changes within a stage, or a return to a stage on the same day)"
            ) in got.report.notes
    assert [str(p) for p in got.report.problems] == [
        f"OpportunityHistory2.csv, row {n}, column 'CreatedDate': entered_at is blank — fill it in"
        for n in (5, 7)]


def _skipped(*files: tuple[str, str]) -> list[str]:
    got = plan_import([Source(n, t.encode()) for n, t in files] + [DEAL], load_preset("salesforce"))
    assert not [p for p in got.report.problems if p.fatal]
    return [n for n in got.report.notes if n.startswith(files[0][0])]


def test_a_file_is_the_object_whose_id_prefix_at_least_half_its_ids_carry() -> None:
    half = "Id,Subject\n500A00000000001,a\n500A00000000002,b\na01A00000000001,c\na02A00000000001,d\n"
    third = "Id,Subject\n500A00000000001,a\na01A00000000001,c\na02A00000000001,d\n"
    assert _skipped(("things.csv", half)) == [
        "things.csv: Case records (ids 500...) hold nothing to load with preset 'salesforce'; "
        "skipped"]
    assert _skipped(("things.csv", third)) == [
        "things.csv, row 1: no file kind of preset 'salesforce' matches these columns (Id, "
        "Subject); skipped"]


def test_an_unknown_prefix_is_a_custom_object_when_half_its_ids_look_like_salesforce_ids() -> None:
    """15 or 18 letters and digits: a0XA00000000001 does, a0X-short and a0X-x do not."""
    assert _skipped(("things.csv", "Id,Subject\na0XA00000000001,a\na0X-short,b\n")) == [
        "things.csv: custom or other object records (ids a0X...) hold nothing to load with preset "
        "'salesforce'; skipped"]
    assert _skipped(("things.csv", "Id,Subject\na0XA00000000001,a\na0X-short,b\na0X-x,c\n")) == [
        "things.csv, row 1: no file kind of preset 'salesforce' matches these columns (Id, "
        "Subject); skipped"]


def test_a_file_another_preset_reads_by_two_columns_names_that_preset() -> None:
    """Maven's accounts file is matched by its account and sector columns."""
    got = plan_import([Source("accounts.csv", b"account,sector\nAcme,tech\n"), DEAL],
                      load_preset("salesforce"))
    assert [(str(p), p.fatal) for p in got.report.problems] == [
        ("accounts.csv, row 1: this is not a salesforce export: its columns are those of a maven "
         "export — import it with the preset 'maven'", True)]


def test_owners_without_a_user_become_reps_active_from_their_first_deal_or_activity() -> None:
    """005X's first deal (20 January) is before its first task (25 January), 005Y's first task
    (10 January) before its deal; 005Z only has a task; two deals in two files have no owner.
    Wes Hall, from the User export, has no hire date and nothing of his own: he counts from the
    first day of the export, 10 January."""
    opps = Source("Opportunity.csv", (
        f"{OPP}\n006A,005X,,Closed Won,100,2024-03-01,2024-02-01,1,1\n"
        "006B,,,Closed Won,100,2024-03-01,2024-02-05,1,1\n"
        "006C,005Y,,Closed Won,100,2024-03-01,2024-02-07,1,1\n"
        "006D,005X,,Closed Won,100,2024-03-01,2024-01-20,1,1\n").encode())
    more = Source("Opportunity2.csv",
                  f"{OPP}\n006E,,,Closed Won,100,2024-03-01,2024-02-05,1,1\n".encode())
    tasks = Source("Task.csv", b"Id,OwnerId,ActivityDate,Type,IsClosed\n"
                   b"00T1,005X,2024-01-25,Call,true\n00T2,005Y,2024-01-10,Call,true\n"
                   b"00T3,005Z,2024-01-15,Call,true\n")
    users = Source("User.csv", b"Id,Name,Email,UserRole.Name\n005W,Wes Hall,w@x.com,East\n")
    got = plan_import([opps, more, tasks, users], load_preset("salesforce"))
    reps = got.tables["reps"]
    assert [(r.rep_id, r.name, str(r.hire_date)) for r in reps.itertuples()] == [
        ("005W", "Wes Hall", "2024-01-10"), ("005X", "005X", "2024-01-20"),
        ("005Y", "005Y", "2024-01-10"), ("Unassigned", "Unassigned", "2024-02-05"),
        ("005Z", "005Z", "2024-01-15")]
    assert [(r.rep_id, r.team_id) for r in got.tables["rep_assignments"].itertuples()] == [
        ("005W", "East"), ("005X", "Unassigned"), ("005Y", "Unassigned"),
        ("Unassigned", "Unassigned"), ("005Z", "Unassigned")]
    assert got.tables["opportunities"]["rep_id"].tolist() == [
        "005X", "Unassigned", "005Y", "005X", "Unassigned"]
    assert got.report.notes[:3] == [
        "Opportunity.csv, Opportunity2.csv: 2 opportunities have no owner; they go to the rep "
        "'Unassigned'",
        "2 owner ids have no user in the export or the database: they became reps named by their "
        "id (e.g. '005X'), team 'Unassigned'; import the User export to name them and set their "
        "teams",
        "1 owner ids have no user in the export or the database: they became reps named by their "
        "id (e.g. '005Z'), team 'Unassigned'; import the User export to name them and set their "
        "teams"]
    only_tasks = plan_import([tasks], load_preset("salesforce")).tables["reps"]
    assert [(r.rep_id, str(r.hire_date)) for r in only_tasks.itertuples()] == [
        ("005X", "2024-01-25"), ("005Y", "2024-01-10"), ("005Z", "2024-01-15")]


def test_a_reports_15_character_ids_are_the_18_character_ids_of_an_export() -> None:
    """Real ids from tests/fixtures/real (Salesforce's own checksum), chosen to hold an A and a Z
    in their first 15 characters; anything else is left as it is."""
    import pandas as pd

    from kpi.ingest.plan import salesforce_18

    real = ["001f4000003NkdAAAS", "003Nq00000MXrUAIA1", "003f4000003d69AAAQ",
            "001Nq00000J1MwZIAV", "001Nq00000J1ZlZIAV", "001Nq00000J1ZlaIAF"]
    others = ["001Nq00000J1Zl-", "short", None, "001Nq00000J1ZlaIAF"]
    got = salesforce_18(pd.Series([r[:15] for r in real] + others, dtype=object))
    assert got.tolist() == real + others
    assert salesforce_18(pd.Series(["006A", None], dtype=object)).tolist() == ["006A", None]


REPORT = '"Opportunity ID","Opportunity Owner","Stage","Amount","Close Date","Created Date"\n'


def test_owners_named_in_a_report_become_reps_and_bad_rows_of_every_file_stay_out() -> None:
    """Two report exports (owners by name, 15-character ids), each with a negative amount."""
    first = Source("report.csv", (
        REPORT + '"006A00000000001","Bo Lee","Closed Won","100","3/13/2024","2/1/2024"\n'
        '"006A00000000002","Ann Ray","Closed Won","100","3/1/2024","2/1/2024"\n'
        '"006A00000000003","Bo Lee","Closed Lost","-5","3/1/2024","2/14/2024"\n').encode())
    second = Source("report2.csv", (
        REPORT + '"006A00000000004","Bo Lee","Closed Won","-100","3/13/2024","2/1/2024"\n'
        '"006A00000000005","Ann Ray","Closed Won","100","3/1/2024","2/1/2024"\n').encode())
    got = plan_import([first, second], load_preset("salesforce"))
    assert [str(p) for p in got.report.problems] == [
        "report.csv, row 4, column 'Amount': negative amount (value '-5.0') — amounts are zero "
        "or more; fix the sign",
        "report2.csv, row 2, column 'Amount': negative amount (value '-100.0') — amounts are "
        "zero or more; fix the sign"]
    assert ("2 owners became reps with no team (e.g. 'Ann Ray'); import a reps file to set "
            "their teams") in got.report.notes
    frames = got.frames(skip_bad=True)
    deals = frames["opportunities"]
    assert deals["opp_id"].tolist() == ["006A00000000001IAA", "006A00000000002IAA",
                                        "006A00000000005IAA"]
    assert deals.index.tolist() == [0, 1, 2]
    assert list(deals.columns) == ["opp_id", "rep_id", "created_at", "closed_at", "stage",
                                   "amount", "is_closed", "is_won", "expected_close_at", "kind"]
    assert [(r.rep_id, r.name) for r in frames["reps"].itertuples()] == [
        ("Ann Ray", "Ann Ray"), ("Bo Lee", "Bo Lee")]
    assert list(frames["reps"].columns) == ["rep_id", "name", "hire_date"]


def test_a_source_from_a_missing_path_names_it(tmp_path: Path) -> None:
    missing = tmp_path / "nope.csv"
    with pytest.raises(FileNotFoundError, match=f"^{missing}: no such file$"):
        Source.from_path(missing)


TASK = Source("Task.csv", b"Id,OwnerId,ActivityDate,Type,IsClosed\n00T1,005X,2024-01-25,Call,true\n")


def test_a_file_the_preset_reads_is_refused_when_it_is_not_utf8_whatever_its_name() -> None:
    """Named Opportunity.csv (its records load) or holding bytes Windows-1252 cannot read either:
    refused, not skipped."""
    deals = Source("Opportunity.csv", f"{OPP}\n006B,005X,,Clôturé,1,2024-03-01,2024-02-01,,\n"
                   .encode("latin-1"))
    garbled = Source("export (5).csv", b"Id,Subject\n500A,\x81x\n")
    for source, at in ((deals, (88, "f4")), (garbled, (16, "81"))):
        got = plan_import([source, TASK], load_preset("salesforce"))
        assert [(str(p), p.fatal) for p in got.report.problems] == [
            (f"{source.name}, row 2: " + NOT_UTF8.format(*at), True)]


def test_a_required_column_the_preset_does_not_map_is_named_as_the_table_calls_it() -> None:
    """The canonical preset's activities file has no match list: the required columns decide;
    a custom preset that maps no column to an activity's type names 'type' itself."""
    assert problems("canonical", ("acts.csv", "activity_id,rep_id,type\nA1,R1,call\n")) == [
        (f"acts.csv, row 1: looks like activities but required columns are missing: "
         f"occurred_at — {ADD}", True)]
    salesforce = load_preset("salesforce")
    files = [dataclasses.replace(f, columns={k: v for k, v in f.columns.items() if k != "type"})
             if f.table == "activities" else f for f in salesforce.files]
    custom = dataclasses.replace(salesforce, files=files)
    assert problems(custom, ("acts.csv", "Id,OwnerId,ActivityDate\n00T1,005X,2024-01-25\n")) == [
        (f"acts.csv, row 1: looks like activities but required columns are missing: type — "
         f"{ADD}", True)]


def test_owners_by_id_and_by_name_are_counted_apart() -> None:
    named = Source("report.csv", (
        REPORT + '"006A00000000001","Bo Lee","Closed Won","100","3/13/2024","2/1/2024"\n'
        '"006A00000000002","Ann Ray","Closed Won","100","3/1/2024","2/1/2024"\n').encode())
    by_id = Source("Opportunity.csv",
                   f"{OPP}\n006A00000000009AAA,005X,,Closed Won,100,2024-03-01,2024-02-01,1,1\n"
                   .encode())
    notes = plan_import([named, by_id], load_preset("salesforce")).report.notes
    assert [n for n in notes if "owner" in n] == [
        "1 owner ids have no user in the export or the database: they became reps named by their "
        "id (e.g. '005X'), team 'Unassigned'; import the User export to name them and set their "
        "teams",
        "2 owners became reps with no team (e.g. 'Ann Ray'); import a reps file to set their teams"]


def test_a_name_two_teams_share_and_an_unknown_owner_are_named_on_their_rows() -> None:
    got = problems("canonical", ("teams.csv", "team_id,name\nT1,East\nT2,East\nT3,West\nT4,\n"
                                              "T5,\n"),
                   ("reps.csv", "rep_id,name,hire_date\nR1,Ada,2023-01-02\n"),
                   ("deals.csv", "opp_id,rep_id,created_at,is_closed,amount\n"
                                 "O1,R9,2024-01-01,false,1\nO2,R1,2024-01-01,false,3\n"))
    assert [p for p, _ in got if "repeats" in p or "unknown rep" in p] == [
        "teams.csv, row 3, column 'name': name repeats (value 'East') — each name must be unique",
        "deals.csv, row 2, column 'rep_id': unknown rep (value 'R9') — import the users/reps file "
        "too, or fix the owner"]


def test_a_rule_on_a_column_the_file_lacks_names_that_column_on_each_row() -> None:
    """A quota file with a team_id column but no rep_id column, two quotas for neither."""
    text = ("quota_id,team_id,period_start,period_end,amount\nQ1,,2024-01-01,2024-03-31,100\n"
            "Q2,T1,2024-04-01,2024-06-30,50\nQ3,,2024-07-01,2024-09-30,50\n")
    assert problems("canonical", ("quotas.csv", text)) == [
        (f"quotas.csv, row {row}, column 'rep_id': a quota is for one rep or one team — fill in "
         "exactly one of rep_id and team_id", False) for row in (2, 4)]
