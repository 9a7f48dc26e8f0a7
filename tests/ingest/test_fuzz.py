"""Broken exports, one way each: every one ends in a report line (file, row, column, the fix),
exit status 2 and the database's tables exactly as they were — never a traceback, never rows
loaded wrong.

Each variant starts from a good export and breaks one thing, the way real files break: other
encodings, delimiters, cut-off downloads, header-only reports, dates and numbers in a form that
cannot be read or could be read two ways, spreadsheet formulas, blank keys, and every rule the
database enforces.
"""

from __future__ import annotations

import io
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from kpi.cli import main
from kpi.ingest.presets import TABLES
from kpi.ingest.rules import RULES, schema_checks
from kpi.store import DuckDBStore
from tests.ingest.conftest import FIXTURES, REAL, run_import, same, snapshot, sources

SF = "Id,OwnerId,AccountId,StageName,Amount,CloseDate,CreatedDate,IsClosed,IsWon"
GOOD = "006Q,005A,001A,Closed Won,100,2024-03-01,2024-02-01,1,1"
CANON = (FIXTURES / "canonical" / "opportunities.csv").read_text().splitlines()[0]
CANON_GOOD = "o9,r1,a1,2024-04-01,2024-04-20,Closed Won,true,true,700,,Core"


def sf(*rows: str, header: str = SF) -> bytes:
    return ("\n".join([header, *rows]) + "\n").encode()


def canon(*rows: str) -> bytes:
    return ("\n".join([CANON, *rows]) + "\n").encode()


def zipped() -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr("Opportunity.csv", sf(GOOD))
    return out.getvalue()


# (id, preset, file name, bytes, what the report must say: file, row, column, message)
VARIANTS = [
    ("latin-1", "salesforce", "Opportunity.csv", sf("006Q,005A,001A,Clôture,1,2024-03-01,"
                                                    "2024-02-01,,").replace("ô".encode(), b"\xf4"),
     "Opportunity.csv, row 2: the file is not UTF-8"),
    ("utf-16 cut in half", "salesforce", "Opportunity.csv",
     "\ufeff".encode("utf-16-le")[:2] + sf(GOOD).decode().encode("utf-16-le")[:-1],
     "Opportunity.csv, row 2: the file is not UTF-16"),
    ("binary", "salesforce", "Opportunity.csv", b"\x89PNG\r\n\x1a\n\x00\x00" + bytes(range(256)),
     "Opportunity.csv: this is not a text CSV file"),
    ("zip", "salesforce", "Opportunity.csv", zipped(), "Opportunity.csv: this is not a text CSV"),
    ("NUL bytes", "salesforce", "Opportunity.csv", sf(GOOD).replace(b"100", b"1\x0000"),
     "Opportunity.csv: this is not a text CSV file"),
    ("empty", "salesforce", "Opportunity.csv", b"", "Opportunity.csv: the file is empty"),
    ("blank lines", "salesforce", "Opportunity.csv", b"\n \n\n", "Opportunity.csv: the file is empty"),
    ("header only", "salesforce", "Opportunity.csv", sf(),
     "Opportunity.csv, row 1: nothing to import: the file has a header but no rows"),
    ("wrong delimiter", "salesforce", "Opportunity.csv", sf(GOOD, header=SF.replace(",", ";")),
     "Opportunity.csv, row 2: row 2 is separated by ',', the header by ';'"),
    ("extra field", "salesforce", "Opportunity.csv", sf(GOOD, GOOD.replace("006Q", "006R") + ",x"),
     "Opportunity.csv, row 3: row 3 has 10 fields but the header has 9"),
    ("missing field", "salesforce", "Opportunity.csv", sf(GOOD, "006R,005A,001A,Closed Won,1"),
     "Opportunity.csv, row 3: row 3 has 5 fields but the header has 9"),
    ("unclosed quote", "salesforce", "Opportunity.csv", sf(GOOD, '006R,005A,"001A,Closed Won,1'),
     "Opportunity.csv, row 3: the file is cut off or malformed"),
    ("cut off download", "salesforce", "Opportunity.csv", sf(GOOD, GOOD)[:-30],
     "Opportunity.csv, row 3: row 3 has 5 fields but the header has 9"),
    ("1,000 columns", "salesforce", "Opportunity.csv",
     (",".join(f"c{i}" for i in range(1000)) + "\n" + ",".join("1" * 1000)).encode(),
     "Opportunity.csv, row 1: the file has 1,000 columns"),
    ("repeated header", "salesforce", "Opportunity.csv", sf(GOOD + ",1", header=SF + ",Amount"),
     "Opportunity.csv, row 1: the header repeats column(s) Amount"),
    ("no owner column", "salesforce", "Opportunity.csv",
     sf("006Q,001A,Closed Won,100,2024-03-01,2024-02-01,1,1", header=SF.replace("OwnerId,", "")),
     "Opportunity.csv, row 1: looks like opportunities but required columns are missing: "
     "OwnerId or Owner ID or Opportunity Owner ID"),
    ("blank id", "salesforce", "Opportunity.csv", sf(GOOD, "," + GOOD.split(",", 1)[1]),
     "Opportunity.csv, row 3, column 'Id': opp_id is blank — every deal needs its id"),
    ("repeated id", "salesforce", "Opportunity.csv", sf(GOOD, GOOD),
     "Opportunity.csv, row 3, column 'Id': duplicate id (value '006Q')"),
    ("blank created date", "salesforce", "Opportunity.csv", sf(GOOD.replace("2024-02-01", "")),
     "Opportunity.csv, row 2, column 'CreatedDate': created_at is blank"),
    ("won not closed", "salesforce", "Opportunity.csv", sf(GOOD.replace(",1,1", ",,1")),
     "Opportunity.csv, row 2, column 'IsWon': won but not closed"),
    ("closed without date", "salesforce", "Opportunity.csv", sf(GOOD.replace("2024-03-01", "")),
     "Opportunity.csv, row 2, column 'CloseDate': closed deal without a close date"),
    ("negative amount", "salesforce", "Opportunity.csv", sf(GOOD.replace(",100,", ",(100),")),
     "Opportunity.csv, row 2, column 'Amount': negative amount (value '-100.0')"),
    ("text amount", "salesforce", "Opportunity.csv", sf(GOOD.replace(",100,", ",lots,")),
     "Opportunity.csv, row 2, column 'Amount': not a number (value 'lots')"),
    ("formula amount", "salesforce", "Opportunity.csv",
     sf(GOOD.replace(",100,", ',"=HYPERLINK(""http://x"",""1"")",')),
     "Opportunity.csv, row 2, column 'Amount': not a number (value '=HYPERLINK"),
    ("formula date", "salesforce", "Opportunity.csv", sf(GOOD.replace("2024-03-01", "=TODAY()")),
     "Opportunity.csv, row 2, column 'CloseDate': not a date (value '=TODAY()')"),
    ("amount 1,234 only", "salesforce", "Opportunity.csv", sf(GOOD.replace(",100,", ',"1,234",')),
     "Opportunity.csv, row 2, column 'Amount': numbers like this read either"),
    ("amount with two marks", "salesforce", "Opportunity.csv",
     sf(GOOD.replace(",100,", ',"1.234,56",'), GOOD.replace("006Q", "006R").replace(
         ",100,", ',"1,234.56",')),
     "Opportunity.csv, row 3, column 'Amount': numbers are written both"),
    ("not a date", "salesforce", "Opportunity.csv", sf(GOOD.replace("2024-03-01", "next week")),
     "Opportunity.csv, row 2, column 'CloseDate': not a date (value 'next week')"),
    ("year typo", "salesforce", "Opportunity.csv", sf(GOOD.replace("2024-03-01", "3024-03-01")),
     "Opportunity.csv, row 2, column 'CloseDate': year 3024 is not plausible"),
    ("30 February", "salesforce", "Opportunity.csv", sf(GOOD.replace("2024-03-01", "2024-02-30")),
     "Opportunity.csv, row 2, column 'CloseDate': not a date (no such day)"),
    ("hour 25", "salesforce", "Opportunity.csv",
     sf(GOOD.replace("2024-02-01", "2024-02-01T25:00:00.000+0000")),
     "Opportunity.csv, row 2, column 'CreatedDate': not a date (no such time of day)"),
    ("two-digit years either way", "salesforce", "Opportunity.csv",
     sf(GOOD.replace("2024-03-01", "03/04/24")),
     "Opportunity.csv, row 2, column 'CloseDate': dates like this read either"),
    ("day first and month first", "salesforce", "Opportunity.csv",
     sf(GOOD.replace("2024-03-01", "13/03/2024"), GOOD.replace("006Q", "006R").replace(
         "2024-03-01", "03/13/2024")),
     "Opportunity.csv, row 3, column 'CloseDate': dates are written both"),
    ("task date", "salesforce", "Task.csv",
     b"Id,OwnerId,ActivityDate,Type,Status\n00T9,005A,someday,Call,Completed\n",
     "Task.csv, row 2, column 'ActivityDate': not a date (value 'someday')"),
    ("not true/false", "salesforce", "Opportunity.csv", sf(GOOD.replace(",1,1", ",maybe,1")),
     "Opportunity.csv, row 2, column 'IsClosed': not true/false (value 'maybe')"),
    ("unknown stage", "salesforce", "Opportunity.csv",
     sf("006Q,005A,001A,Won-ish,100,2024-03-01,2024-02-01", header=SF.rsplit(",", 2)[0]),
     "Opportunity.csv, row 2, column 'StageName': unknown stage (value 'Won-ish')"),
    ("broken workbook", "salesforce", "Opportunity.xlsx", b"PK\x03\x04 not really a workbook",
     "Opportunity.xlsx: the workbook cannot be read"),
    ("old Excel", "salesforce", "Opportunity.xls", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1",
     "Opportunity.xls: old Excel 97-2003 (.xls) files are not read"),
    ("not an export", "salesforce", "notes.csv", b"just some text\nwithout columns\n",
     "notes.csv, row 1: nothing to import: no file kind of preset 'salesforce' matches"),
    ("created after closed", "canonical", "opportunities.csv",
     canon(CANON_GOOD.replace("2024-04-01", "2024-05-01")),
     "opportunities.csv, row 2, column 'closed_at': closed before it was created"),
    ("kind of deal", "canonical", "opportunities.csv",
     f"{CANON},kind\n{CANON_GOOD},upsell\n".encode(),
     "opportunities.csv, row 2, column 'kind': not a kind of deal (value 'upsell')"),
    ("unknown rep", "canonical", "opportunities.csv", canon(CANON_GOOD.replace(",r1,", ",r99,")),
     "opportunities.csv, row 2, column 'rep_id': unknown rep (value 'r99')"),
    ("motion", "canonical", "reps.csv",
     b"rep_id,name,hire_date,team,region,motion\nr7,Zoe,2024-01-01,T1,East,closer\n",
     "reps.csv, row 2, column 'motion': not a sales motion (value 'closer')"),
    ("left before hired", "canonical", "reps.csv",
     b"rep_id,name,hire_date,end_date\nr7,Zoe,2024-05-01,2024-01-01\n",
     "reps.csv, row 2, column 'end_date': left before they were hired"),
    ("negative head count", "canonical", "accounts.csv",
     b"account_id,name,industry,employees\na7,Zeta,Retail,-40\n",
     "accounts.csv, row 2, column 'employees': negative head count (value '-40')"),
    ("stage history without a day", "canonical", "stage_history.csv",
     b"opp_id,stage,entered_at\no1,Proposal,\n",
     "stage_history.csv, row 2, column 'entered_at': entered_at is blank"),
    ("quota ends first", "canonical", "quotas.csv",
     b"quota_id,rep_id,team_id,period_start,period_end,amount\nq1,r1,,2024-03-31,2024-01-01,5\n",
     "quotas.csv, row 2, column 'period_end': ends before it starts"),
    ("quota for both", "canonical", "quotas.csv",
     b"quota_id,rep_id,team_id,period_start,period_end,amount\nq1,r1,T1,2024-01-01,2024-03-31,5\n",
     "quotas.csv, row 2, column 'rep_id': a quota is for one rep or one team"),
]


@pytest.fixture(scope="module")
def databases(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Path]]:
    """A database per preset, filled by a good import, closed (the command line opens it)."""
    folder = tmp_path_factory.mktemp("fuzz")
    paths = {}
    for preset in ("salesforce", "canonical"):
        path = folder / f"{preset}.duckdb"
        with DuckDBStore.create(path) as store:
            run_import(store, preset, sources(FIXTURES / preset))
        paths[preset] = path
    yield paths


def tables(path: Path) -> dict:
    with DuckDBStore.open(path) as store:
        return snapshot(store)


def test_there_are_enough_variants() -> None:
    assert len(VARIANTS) >= 30
    assert len({v[0] for v in VARIANTS}) == len(VARIANTS)


@pytest.mark.parametrize(("preset", "name", "data", "expected"), [v[1:] for v in VARIANTS],
                         ids=[v[0] for v in VARIANTS])
def test_a_broken_file_is_refused_with_the_fix(databases: dict[str, Path], tmp_path: Path,
                                               preset: str, name: str, data: bytes, expected: str,
                                               capsys: pytest.CaptureFixture) -> None:
    db = databases[preset]
    before = tables(db)
    path = tmp_path / name
    path.write_bytes(data)
    status = main(["import", str(path), "--db", str(db), "--preset", preset])
    err = capsys.readouterr().err
    assert status == 2, err
    assert expected in err, err
    problem = next(line for line in err.splitlines() if expected in line)
    assert " — " in problem, "the line must say how to fix it"
    assert "Traceback" not in err and "bug in leverboard" not in err
    assert same(before, tables(db)), "a refused import changed the database"


def test_every_rule_the_database_enforces_is_checked_in_the_plan() -> None:
    """A CHECK added to the schema without a rule here would fail a load on rows nobody named."""
    for table in TABLES:
        assert sorted(schema_checks(table)) == sorted(r.check for r in RULES if r.table == table)


WEIRD = ["", " ", "nan", "None", "#N/A", "=1+1", "-0", "1e5", "2024-13-01", "31/02/2024", "9999-12-31",
         "1/1/1", "12:00", "TRUE", "∞", "1,2,3", " 2024-03-01 ", "3017-01-01", "2024-03-01T25:61:00Z",
         "(", "-", "1.2.3", "006", "a" * 300, "\u00a0", "2,5", "1 000", "02/23/26 08:55 PM", "'", '"',
         "1;2", "\n"]


@pytest.mark.parametrize("seed", range(40))
def test_random_damage_never_ends_in_a_traceback(seed: int) -> None:
    """A real export with random cells, bytes or lines damaged: a plan (and a load of what it
    allows) always, with every problem naming its file and a fix."""
    import csv
    import random

    from kpi.ingest import load, load_preset, plan_import
    from kpi.ingest.load import refusal
    from kpi.ingest.plan import Source

    rng = random.Random(seed)
    text = (REAL / "salesforce_genai_demo" / "Opportunity.csv").read_text(encoding="utf-8-sig")
    rows = list(csv.reader(io.StringIO(text)))
    for _ in range(rng.randint(1, 8)):
        rows[rng.randrange(1, len(rows))][rng.randrange(len(rows[0]))] = rng.choice(WEIRD)
    out = io.StringIO()
    csv.writer(out).writerows(rows)
    data = out.getvalue().encode()
    if seed % 4 == 1:
        data = data[:rng.randrange(len(data))]
    elif seed % 4 == 2:
        damaged = bytearray(data)
        damaged[rng.randrange(len(damaged))] = rng.randrange(256)
        data = bytes(damaged)
    preset = load_preset(rng.choice(["salesforce", "canonical", "hubspot"]))
    plan = plan_import([Source("Opportunity.csv", data)], preset)
    assert all(p.file and p.fix and "bug in leverboard" not in p.fix for p in plan.report.problems)
    if refusal(plan, "skip") is None:
        with DuckDBStore.create() as store:
            load(store, plan, on_error="skip")
