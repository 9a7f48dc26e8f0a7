"""What the import plan says, word for word, about a file it cannot read as any table, a file
that lacks columns, and closed deals whose stage must say whether they were won. The reports
name the file and the header's row (title lines above it counted), list every missing column
with the names the preset would take for it, and show at most the first 12 columns of a header.
"""

from __future__ import annotations

import dataclasses

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
