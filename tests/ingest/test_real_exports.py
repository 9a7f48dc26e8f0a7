"""Two real, public Salesforce org exports import as downloaded and give the numbers pandas gives.

The folders are imported as they are (Contact, Lead, Case, the licence and provenance files
included) through the command line, the way a new user would; the reference numbers are computed
straight from the raw CSVs, without leverboard.
"""

from __future__ import annotations

import contextlib
import io
import shutil
from collections.abc import Callable
from pathlib import Path

import pandas as pd
import pytest

from kpi.cli import main
from kpi.engine import Engine, MetricRequest
from kpi.store import DuckDBStore, Store
from tests.ingest.conftest import REAL

EXPORTS = ["salesforce_genai_demo", "salesforce_migration_pack"]


def reference(folder: Path) -> dict[str, float]:
    """Won revenue, count win rate, open deals and median cycle, from the raw Opportunity.csv.

    A deal created after it closed (records loaded into the org later) starts at its close date:
    the export holds no earlier date for it (no OpportunityHistory, no activities).
    """
    deals = pd.read_csv(folder / "Opportunity.csv", dtype=str, keep_default_na=False)
    won, closed = deals["IsWon"] == "1", deals["IsClosed"] == "1"
    created = pd.to_datetime(deals["CreatedDate"].str[:10])
    close = pd.to_datetime(deals["CloseDate"])
    start = created.where(created <= close, close)
    return {"revenue": pd.to_numeric(deals.loc[won, "Amount"]).sum(),
            "win_rate": won.sum() / closed.sum(),
            "open_deals": int((~closed).sum()),
            "sales_cycle_days": (close - start).dt.days[won].median(),
            "late": int((closed & (close < created)).sum())}


def import_into(db: Path, name: str) -> str:
    """Import the export as a new user does (the command line); what it wrote to stderr."""
    err = io.StringIO()
    with contextlib.redirect_stderr(err):
        status = main(["import", str(REAL / name), "--db", str(db), "--preset", "salesforce"])
    assert status == 0, err.getvalue()
    return err.getvalue()


@pytest.fixture(scope="session")
def _first_imports(tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[Path, str]]:
    """Each export imported once per test process, on first use: (database file, report)."""
    return {}


@pytest.fixture
def imported(tmp_path: Path, _first_imports: dict[str, tuple[Path, str]],
             tmp_path_factory: pytest.TempPathFactory) -> Callable[[str], tuple[Store, str]]:
    """A copy of the database a first import of the export made, and that import's report."""
    def open_copy(name: str) -> tuple[Store, str]:
        if name not in _first_imports:
            first = tmp_path_factory.mktemp(name) / f"{name}.duckdb"
            _first_imports[name] = first, import_into(first, name)
        first, err = _first_imports[name]
        shutil.copy(first, tmp_path / first.name)
        return DuckDBStore.open(tmp_path / first.name), err
    return open_copy


@pytest.mark.parametrize("name", EXPORTS)
def test_numbers_match_pandas(imported: Callable[[str], tuple[Store, str]], name: str) -> None:
    store, _ = imported(name)
    expected = reference(REAL / name)
    engine = Engine(store)
    for metric in ("revenue", "win_rate", "sales_cycle_days"):
        got = engine.run(MetricRequest.make(metric, grain="total"))["value"].iloc[0]
        assert got == pytest.approx(expected[metric]), metric
    assert store.scalar("SELECT count(*) FROM opportunities WHERE NOT is_closed") == \
        expected["open_deals"]
    raw = pd.read_csv(REAL / name / "Opportunity.csv", dtype=str, keep_default_na=False)
    assert store.scalar("SELECT count(*) FROM opportunities") == len(raw)  # none left out


@pytest.mark.parametrize("name", EXPORTS)
def test_only_sellers_become_reps(imported: Callable[[str], tuple[Store, str]], name: str) -> None:
    """Contacts and Leads (Id, Name, Email) are people at customers: never reps, never teams.
    The one owner id, with no User export, becomes a rep named by its id."""
    store, err = imported(name)
    owners = pd.read_csv(REAL / name / "Opportunity.csv", dtype=str)["OwnerId"].unique()
    assert store.query("SELECT rep_id, name FROM reps")["rep_id"].tolist() == list(owners)
    assert store.query("SELECT team_id FROM teams")["team_id"].tolist() == ["Unassigned"]
    assert "Contact.csv: Contact records (ids 003...)" in err
    assert "they never become reps" in err
    assert "owner ids have no user" in err


def test_the_report_says_what_was_skipped_and_adjusted(
        imported: Callable[[str], tuple[Store, str]]) -> None:
    store, err = imported("salesforce_genai_demo")
    for skipped in ("Case.csv: Case records", "Lead.csv: Lead records", "LICENSE.txt"):
        assert skipped in err
    late = reference(REAL / "salesforce_genai_demo")["late"]
    assert late == 10
    assert f"Opportunity.csv: {late} of 34 closed deals were created after they closed" in err
    assert "58 of 58 deals were created on 2024-07-11 (a data load?)" in err
    assert "problem:" not in err
    # the rep counts as active from the earliest deal start, not from the day of the data load
    assert store.scalar("SELECT hire_date FROM reps") == store.scalar(
        "SELECT min(created_at) FROM opportunities")
    store.close()


def test_migration_pack_types_are_said(imported: Callable[[str], tuple[Store, str]]) -> None:
    store, err = imported("salesforce_migration_pack")
    assert "'Installation Services' -> 'new' (9, not a value the preset knows)" in err
    kinds = store.query("SELECT kind, count(*) AS n FROM opportunities GROUP BY 1 ORDER BY 1")
    assert kinds["n"].tolist() == [148 + 119 + 36, 452 + 9 + 7 + 3]
    assert store.scalar("SELECT count(*) FROM accounts") == 83


def test_reimporting_changes_nothing(imported: Callable[[str], tuple[Store, str]],
                                    tmp_path: Path) -> None:
    store, _ = imported("salesforce_migration_pack")
    before = store.query("SELECT * FROM opportunities ORDER BY opp_id")
    store.close()
    db = tmp_path / "salesforce_migration_pack.duckdb"  # the copy, imported into again
    import_into(db, "salesforce_migration_pack")
    with DuckDBStore.open(db) as store:
        assert store.scalar("SELECT count(*) FROM imports") == 2
        assert store.query("SELECT * FROM opportunities ORDER BY opp_id").equals(before)
        assert store.scalar("SELECT count(*) FROM rep_assignments") == 1
