"""Broken exports get a clear error naming file, row and column — and the database is unchanged."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from kpi.ingest import Source, load, load_preset, plan_import
from kpi.ingest.load import ImportRefused
from kpi.store import DuckDBStore, Store
from tests.ingest.conftest import FIXTURES, run_import, same, snapshot

OPPS = (FIXTURES / "canonical" / "opportunities.csv").read_text()
HEADER = OPPS.splitlines()[0]
GOOD = "o9,r1,a1,2024-04-01,2024-04-20,Closed Won,true,true,700,,Core"


def opps(*rows: str, header: str = HEADER) -> Source:
    return Source("opportunities.csv", "\n".join([header, *rows]).encode())


def refused(store: Store, files: list[Source], preset: str = "canonical") -> str:
    """Import must be refused with nothing written; returns the message."""
    before = snapshot(store)
    with pytest.raises(ImportRefused) as caught:
        run_import(store, preset, files)
    assert same(before, snapshot(store)), "a refused import changed the database"
    return str(caught.value)


@pytest.mark.parametrize(("row", "expected"), [
    ("o9,r1,a1,2024-13-45,,Proposal,false,false,700,,Core", "row 2, column 'created_at': not a date"),
    ("o9,r1,a1,2024-04-01,,Proposal,false,false,-5,,Core", "column 'amount': negative amount"),
    ("o9,r1,a1,2024-04-01,,Proposal,false,false,lots,,Core", "column 'amount': not a number"),
    ("o9,r1,a1,2024-04-01,2024-03-01,Closed Won,true,true,7,,Core",
     "column 'closed_at': closed before it was created"),
    ("o9,r99,a1,2024-04-01,,Proposal,false,false,7,,Core", "column 'rep_id': unknown rep"),
    ("o9,r1,a1,2024-04-01,,Closed Won,true,maybe,7,,Core", "column 'is_won': not true/false"),
    ("o9,r1,a1,2024-04-01,,Closed Won,true,true,7,,Core", "closed deal without a close date"),
])
def test_bad_values_are_named_and_nothing_is_written(canonical_db: Store, row: str,
                                                     expected: str) -> None:
    message = refused(canonical_db, [opps(GOOD, row)])
    assert "opportunities.csv" in message and expected in message.replace("row 3", "row 2")
    assert "--on-error skip" in message


def test_duplicate_ids(canonical_db: Store) -> None:
    message = refused(canonical_db, [opps(GOOD, GOOD)])
    assert "opportunities.csv, row 3, column 'opp_id': duplicate id (value 'o9')" in message


def test_unknown_stage(canonical_db: Store) -> None:
    header = "Id,OwnerId,AccountId,StageName,Amount,CloseDate,CreatedDate"
    file = Source("Opportunity.csv", f"{header}\n006Z,005Q,,Won-ish,5,2024-03-01,2024-02-01".encode())
    message = refused(canonical_db, [file], preset="salesforce")
    assert "row 2, column 'StageName': unknown stage (value 'Won-ish')" in message
    assert "Closed Won" in message  # the fix lists the stages it knows


def test_missing_required_column(canonical_db: Store) -> None:
    header = HEADER.replace("created_at,", "")
    message = refused(canonical_db, [opps("o9,r1,a1,,Proposal,false,false,7,,Core", header=header)])
    assert "looks like opportunities but required columns are missing: created_at" in message


def test_repeats_are_grouped(canonical_db: Store) -> None:
    rows = [f"q{i},r1,a1,01/02/20x4,,Proposal,false,false,7,,Core" for i in range(412)]
    plan = plan_import([opps(*rows)], load_preset("canonical"), canonical_db)
    (line,) = plan.report.lines()
    assert line.startswith("opportunities.csv: 412 rows 'created_at': not a date — e.g. row 2")


@pytest.mark.parametrize(("data", "expected"), [
    (b"", "the file is empty"),
    (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)) * 4, "not a text CSV file"),
    (HEADER.encode() + b"\no9,r1,a1,2024-04-01,,Caf\xe9,false,false,7,,Core\n", "not UTF-8"),
    ((HEADER + '\no9,r1,"a1,2024-04-01,,Proposal,false,false,7').encode(), "cut off or malformed"),
    ((HEADER + "\no9,r1,a1,2024-04-01,,Proposal,false\n").encode(), "row 2 has 7 fields"),
    ((",".join(f"c{i}" for i in range(1000)) + "\n" + ",".join("1" * 1000)).encode(),
     "1,000 columns"),
    (b"just some text without any columns\n", "no file kind of preset"),
])
def test_unreadable_files(canonical_db: Store, data: bytes, expected: str) -> None:
    message = refused(canonical_db, [Source("opportunities.csv", data)])
    assert expected in message and "opportunities.csv" in message


def test_semicolons_and_excel_are_read(canonical_db: Store, tmp_path: Path) -> None:
    semi = OPPS.replace(",", ";").splitlines()[0] + "\n" + GOOD.replace(",", ";")
    run_import(canonical_db, "canonical", [Source("opportunities.csv", semi.encode())])
    assert canonical_db.scalar("SELECT amount FROM opportunities WHERE opp_id = 'o9'") == 700
    path = tmp_path / "deals.xlsx"
    pd.DataFrame([GOOD.replace("o9", "o10").split(",")], columns=HEADER.split(",")).to_excel(
        path, index=False)
    run_import(canonical_db, "canonical", [Source.from_path(path)])
    assert canonical_db.scalar("SELECT amount FROM opportunities WHERE opp_id = 'o10'") == 700


def test_skip_leaves_bad_rows_out(canonical_db: Store) -> None:
    bad = "o8,r1,a1,not-a-date,,Proposal,false,false,7,,Core"
    plan, result = run_import(canonical_db, "canonical", [opps(GOOD, bad)], on_error="skip")
    assert canonical_db.scalar("SELECT count(*) FROM opportunities WHERE opp_id = 'o9'") == 1
    assert canonical_db.scalar("SELECT count(*) FROM opportunities WHERE opp_id = 'o8'") == 0
    assert result.rows_skipped == 1
    assert canonical_db.scalar("SELECT rows_skipped FROM imports ORDER BY finished_at DESC "
                               "LIMIT 1") == 1


def test_a_write_failure_rolls_everything_back(canonical_db: Store) -> None:
    before = snapshot(canonical_db)
    plan = plan_import([opps(GOOD)], load_preset("canonical"), canonical_db)
    plan.tables["opportunities"]["kind"] = "upsell"  # violates the table's CHECK at write time
    with pytest.raises(Exception, match="cannot load opportunities"):
        load(canonical_db, plan)
    assert same(before, snapshot(canonical_db))


@pytest.mark.slow  # a child process killed in the middle of a load
def test_a_load_killed_midway_leaves_the_database_as_before(canonical_db: Store,
                                                            tmp_path: Path) -> None:
    """A real process is killed (SIGKILL) while it writes; the database must be as before."""
    path = Path(canonical_db.path)
    before = snapshot(canonical_db)
    canonical_db.close()
    rows = 600_000
    frame = pd.DataFrame({"activity_id": [f"k{i}" for i in range(rows)], "rep_id": "r1",
                          "account_id": "a1", "opp_id": "", "occurred_at": "2024-02-02 10:00",
                          "type": "call", "new_prospect": "false"})
    big = tmp_path / "activities.csv"
    frame.to_csv(big, index=False)
    reps = FIXTURES / "canonical" / "reps.csv"
    proc = subprocess.Popen([sys.executable, "-m", "kpi", "import", str(reps), str(big), "--db",
                             str(path), "--preset", "canonical"],
                            stderr=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
                            env={**os.environ, "PYTHONUNBUFFERED": "1"})
    assert proc.stderr is not None
    for line in proc.stderr:
        if line.startswith("[") and "writing" in line:  # inside the transaction
            proc.send_signal(signal.SIGKILL)
            break
    proc.wait(timeout=60)
    assert proc.returncode == -signal.SIGKILL, "the import finished before it could be killed"
    with DuckDBStore.open(path) as reopened:
        assert same(before, snapshot(reopened))
