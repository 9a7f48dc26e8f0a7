"""The stages table: order, outcome and role read from the data, on pipelines worked out by hand."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from kpi.cli import main
from kpi.sources import SOURCES
from kpi.stages import Evidence, StageList, describe, pipeline_roles, read, stage_table
from kpi.store import DuckDBStore
from tests.conftest import Tiny


def pipeline(table: pd.DataFrame) -> list[tuple]:
    """(stage, outcome, role or None, ordered_by) in position order."""
    rows = table.sort_values("position")
    return [(s, o, r if isinstance(r, str) else None, b) for s, o, r, b in
            rows[["stage", "outcome", "role", "ordered_by"]].itertuples(index=False, name=None)]


@pytest.fixture
def rep(tiny: Tiny) -> Tiny:
    tiny.team("T")
    tiny.rep("r", "T")
    return tiny


def test_order_from_stage_history_and_outcome_from_is_closed_is_won(rep: Tiny) -> None:
    """Stage names that sort differently from the pipeline, closed stages with no telling name."""
    rep.walk("Discovery@01-02, Scoping@01-05, Quote@01-10, Legal@01-15, Signed@01-20", "01-20",
             won=True)
    rep.walk("Discovery@01-03, Scoping@01-06, Dead@01-12", "01-12")
    rep.walk("Discovery@01-04, Scoping@01-04, Quote@01-09")  # same day: says nothing
    rep.walk("Discovery@01-05, Quote@01-07, Scoping@01-08")  # skipped Scoping, came back
    # first entries, deal by deal: Discovery before Scoping 3 times (Scoping before Discovery
    # never), Scoping before Quote 2 times against 1, Quote before Legal once
    assert pipeline(rep.stages()) == [
        ("Discovery", "open", "qualify", "history"), ("Scoping", "open", None, "history"),
        ("Quote", "open", "propose", "history"), ("Legal", "open", None, "history"),
        ("Signed", "won", None, "outcome"), ("Dead", "lost", None, "outcome")]


def test_the_roles_by_position_among_the_open_stages() -> None:
    """First open stage qualifies (second from five open stages on); the proposal stage is the
    one before the last, never at or before the qualifying stage; one open stage: no roles."""
    def roles(n: int) -> list[str]:
        found = pipeline_roles([f"s{i}" for i in range(1, n + 1)])
        return [f"{stage}={role}" for stage, (role, _) in sorted(found.items())]

    assert roles(1) == []
    assert roles(2) == ["s1=qualify", "s2=propose"]
    assert roles(3) == ["s1=qualify", "s2=propose"]
    assert roles(4) == ["s1=qualify", "s3=propose"]
    assert roles(5) == ["s2=qualify", "s4=propose"]
    assert roles(8) == ["s2=qualify", "s7=propose"]
    named = pipeline_roles(["a", "b", "c", "d"], {"propose": ("b", "preset")})
    assert named == {"a": ("qualify", "rule"), "b": ("propose", "preset")}


def test_a_stage_with_no_history_is_placed_by_its_probability() -> None:
    """Salesforce's default list knows Qualification and Needs Analysis; an org's own Proposal and
    Negotiation are placed by their deals' Probability (no stage history in the export)."""
    evidence = Evidence(pd.DataFrame({"stage": ["Negotiation", "Proposal", "Needs Analysis",
                                                "Qualification", "Closed Won"],
                                      "deals": [12, 2, 6, 4, 34], "closed": [0, 0, 0, 0, 34],
                                      "won": [0, 0, 0, 0, 34]}))
    preset = StageList(pd.DataFrame({"stage": ["Prospecting", "Qualification", "Needs Analysis",
                                               "Closed Won"],
                                     "outcome": ["open", "open", "open", "won"]}), "preset")
    deals = StageList(pd.DataFrame({"stage": ["Negotiation", "Proposal", "Needs Analysis",
                                              "Qualification", "Closed Won"],
                                    "probability": [90, 75, 35, 10, 100],
                                    "forecast_category": ["Commit", "Best Case", "Pipeline",
                                                          "Pipeline", "Closed"]}),
                      "data", ordered=False)
    table = stage_table(evidence, [preset, deals])
    assert pipeline(table) == [
        ("Qualification", "open", "qualify", "preset"), ("Needs Analysis", "open", None, "preset"),
        ("Proposal", "open", "propose", "probability"),
        ("Negotiation", "open", None, "probability"), ("Closed Won", "won", None, "preset")]
    by_stage = table.set_index("stage")
    assert by_stage.loc["Proposal", "probability"] == pytest.approx(0.75)
    assert by_stage.loc["Proposal", "forecast_category"] == "best_case"
    assert by_stage.loc["Negotiation", "forecast_category"] == "commit"


def test_a_stated_order_and_roles_win_and_stay_through_later_imports(rep: Tiny) -> None:
    """A preset's order beats what the history says, a role it names beats the rule, and both
    are kept when a later import (without that preset) re-derives the table."""
    rep.walk("Intro@01-02, Pitch@01-03, Offer@01-05, Terms@01-08")
    preset = StageList(pd.DataFrame({"stage": ["Intro", "Offer", "Pitch", "Terms"],
                                     "role": [None, None, "propose", None]}), "preset")
    expected = [("Intro", "open", "qualify", "preset"), ("Offer", "open", None, "preset"),
                ("Pitch", "open", "propose", "preset"), ("Terms", "open", None, "preset")]
    assert pipeline(rep.stages(preset)) == expected
    assert pipeline(rep.stages()) == expected


def test_new_stage_names_from_a_later_import_move_the_roles(rep: Tiny) -> None:
    rep.walk("Lead@01-02, Qualified@01-04, Proposal@01-08")
    assert describe(rep.stages()) == ("Lead (qualifying stage) -> Qualified (proposal stage) -> "
                                      "Proposal; won: none; lost: none")
    rep.walk("Lead@01-03, Qualified@01-05, Demo@01-06, Proposal@01-09, Contract@01-12")
    rep.walk("Lead@01-04, Demo@01-05, Won@01-20", closed="01-20", won=True)
    # five open stages now: the second qualifies, the fourth is the proposal stage
    assert describe(rep.stages()) == (
        "Lead -> Qualified (qualifying stage) -> Demo -> Proposal (proposal stage) -> Contract; "
        "won: Won; lost: none")
    assert describe(read(rep.store)) == describe(rep.stages())  # what is stored is what is derived


def test_stage_names_seen_only_in_history(rep: Tiny) -> None:
    """A stage no deal sits in now is open, unless it is named like a closed one."""
    rep.walk("New@01-02, Closed Won@01-04, Working@01-09")  # won, then reopened
    table = rep.stages().set_index("stage")
    assert table.loc["New", "outcome"] == "open" and table.loc["Closed Won", "outcome"] == "won"
    assert table.loc["Closed Won", "forecast_category"] == "closed"
    assert table.loc["New", "forecast_category"] == "pipeline"


def test_the_stage_entries_source_reads_the_roles(rep: Tiny) -> None:
    rep.walk("Qualification@01-02, Proposal@01-05")
    opp = rep.walk("Qualification@01-03, Proposal@01-04, Nurture@01-07")  # 3rd stage: no role
    rep.stages()
    rep.stage(opp, "Not derived yet", "2025-01-09")  # arrived after the table was derived
    rows = rep.store.query(f"SELECT stage, stage_role, stage_position FROM "
                           f"({SOURCES['stage_entries'].sql}) f ORDER BY 1, 2")
    assert [[None if pd.isna(v) else v for v in r] for r in rows.values.tolist()] == [
        ["Not derived yet", None, None], ["Nurture", None, 3], ["Proposal", "propose", 2],
        ["Proposal", "propose", 2], ["Qualification", "qualify", 1],
        ["Qualification", "qualify", 1]]


def test_cli_derives_the_stages_of_a_database_filled_by_other_means(tmp_path: Path,
                                                                     capsys: pytest.CaptureFixture
                                                                     ) -> None:
    path = tmp_path / "older.duckdb"
    with DuckDBStore.create(path) as store, store.transaction():
        store.execute("DROP TABLE stages")  # built before the table existed, or by a pipeline
        store.execute("INSERT INTO opportunities (opp_id, rep_id, created_at, stage, is_closed, "
                      "is_won) VALUES ('o1', 'r', DATE '2025-01-02', 'Pitch', FALSE, FALSE)")
        store.execute("INSERT INTO stage_history VALUES ('o1', 'Intro', DATE '2025-01-02'), "
                      "('o1', 'Pitch', DATE '2025-01-05')")
    assert main(["stages", "--db", str(path), "--refresh", "--format", "csv"]) == 0
    out, err = capsys.readouterr()
    assert out.splitlines()[1:] == ["Intro,1,open,qualify,pipeline,,history,rule",
                                    "Pitch,2,open,propose,pipeline,,history,rule"]
    assert err.strip() == "Intro (qualifying stage) -> Pitch (proposal stage); won: none; lost: none"
