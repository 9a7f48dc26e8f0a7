"""Every preset imports its fixture export and gives the right numbers, computed by hand."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pandas as pd
import pytest

from kpi.engine import Engine, MetricRequest
from kpi.ingest import Preset, list_presets, load_preset, recent_imports, save_preset
from kpi.store import DuckDBStore, Store
from tests.ingest.conftest import FIXTURES, MAVEN, run_import, snapshot, sources


def total(store: Store, metric: str, **kw: object) -> pd.DataFrame:
    return Engine(store).run(MetricRequest.make(metric, grain="total", **kw))


def value(store: Store, metric: str) -> float:
    return float(total(store, metric)["value"].iloc[0])


def counts(store: Store) -> dict[str, int]:
    return {t: store.scalar(f"SELECT count(*) FROM {t}") for t in
            ("teams", "reps", "rep_assignments", "accounts", "opportunities", "stage_history",
             "activities")}


def test_canonical(canonical_db: Store) -> None:
    assert counts(canonical_db) == {"teams": 1, "reps": 2, "rep_assignments": 2, "accounts": 2,
                                    "opportunities": 4, "stage_history": 0, "activities": 3}
    assert value(canonical_db, "revenue") == 4000
    assert value(canonical_db, "win_rate") == pytest.approx(2 / 3)
    assert value(canonical_db, "gross_margin") == pytest.approx((4000 - 1900) / 4000)
    motion = canonical_db.query("SELECT motion FROM rep_assignments ORDER BY rep_id")["motion"]
    assert motion.tolist() == ["hunter", "farmer"]
    open_deal = canonical_db.query("SELECT * FROM opportunities WHERE opp_id = 'o4'").iloc[0]
    assert not open_deal["is_closed"] and pd.isna(open_deal["closed_at"])


def test_salesforce(tmp_path: Path) -> None:
    store = DuckDBStore.create(tmp_path / "sf.duckdb")
    plan, _ = run_import(store, "salesforce", sources(FIXTURES / "salesforce"))
    assert counts(store) == {"teams": 2, "reps": 3, "rep_assignments": 3, "accounts": 3,
                             "opportunities": 4, "stage_history": 4, "activities": 5}
    assert value(store, "revenue") == 12500  # 10,000 + "$2,500.00"
    assert value(store, "win_rate") == pytest.approx(2 / 3)
    assert value(store, "avg_deal_size") == 6250
    assert value(store, "sales_cycle_days") == 45  # median of 43 and 47 days
    deals = store.query("SELECT opp_id, created_at, closed_at, expected_close_at, kind FROM "
                        "opportunities ORDER BY opp_id")
    assert deals["closed_at"].iloc[0] == pd.Timestamp("2024-03-15")  # US M/D/Y
    assert deals["created_at"].iloc[0] == pd.Timestamp("2024-02-01")  # ...T10:00:00.000+0000
    assert deals["expected_close_at"].iloc[3] == pd.Timestamp("2024-06-30")  # open: expected
    assert deals["kind"].tolist() == ["new", "new", "expansion", "new"]
    types = store.query("SELECT type, count(*) AS n FROM activities GROUP BY 1 ORDER BY 1")
    assert dict(zip(types["type"], types["n"], strict=True)) == {"call": 2, "demo": 1, "email": 1,
                                                                  "meeting": 1}
    hired = store.scalar("SELECT hire_date FROM reps WHERE rep_id = '005B'")
    assert hired == dt.date(2024, 1, 20)
    assert not plan.report.problems


def test_hubspot(tmp_path: Path) -> None:
    store = DuckDBStore.create(tmp_path / "hs.duckdb")
    plan, _ = run_import(store, "hubspot", sources(FIXTURES / "hubspot"))
    assert store.query("SELECT name FROM reps ORDER BY 1")["name"].tolist() == ["Dana Lee",
                                                                                "Eli Park"]
    assert value(store, "revenue") == 5000
    assert value(store, "win_rate") == pytest.approx(2 / 3)
    assert store.scalar("SELECT count(*) FROM activities WHERE type = 'meeting'") == 1
    assert any("owners became reps" in n for n in plan.report.notes)


def maven_reference() -> dict[str, object]:
    """The numbers computed straight from the export with pandas, independently of leverboard."""
    deals = pd.read_csv(MAVEN / "sales_pipeline.csv")
    teams = pd.read_csv(MAVEN / "sales_teams.csv")
    accounts = pd.read_csv(MAVEN / "accounts.csv")
    closed = deals[deals["deal_stage"].isin(["Won", "Lost"])].merge(teams, on="sales_agent")
    closed = closed.merge(accounts[["account", "sector"]], on="account", how="left")
    closed["won"] = closed["deal_stage"] == "Won"
    won = closed[closed["won"]]
    cycle = pd.to_datetime(won["close_date"]) - pd.to_datetime(won["engage_date"])
    sector = closed["sector"].replace({"technolgy": "technology"}).str.title()
    return {
        "revenue": won["close_value"].sum(),
        "win_rate": closed["won"].mean(),
        "avg_deal_size": won["close_value"].mean(),
        "sales_cycle_days": cycle.dt.days.median(),
        "by_manager": closed.groupby("manager")["won"].mean().to_dict(),
        "by_sector": closed.groupby(sector)["won"].mean().to_dict(),
    }


@pytest.fixture(scope="module")
def maven(tmp_path_factory: pytest.TempPathFactory) -> Store:
    store = DuckDBStore.create(tmp_path_factory.mktemp("maven") / "maven.duckdb")
    run_import(store, "maven", sources(MAVEN))
    return store


def test_maven_numbers_match_pandas(maven: Store) -> None:
    expected = maven_reference()
    assert value(maven, "revenue") == expected["revenue"] == 10_005_534
    for metric in ("win_rate", "avg_deal_size", "sales_cycle_days"):
        assert value(maven, metric) == pytest.approx(expected[metric])
    by_team = total(maven, "win_rate", by=["team"])
    assert dict(zip(by_team["team"], by_team["value"], strict=True)) == pytest.approx(
        expected["by_manager"])
    by_industry = total(maven, "win_rate", by=["industry"])
    assert dict(zip(by_industry["industry"], by_industry["value"], strict=True)) == pytest.approx(
        expected["by_sector"])


def test_maven_rows_and_quirks(maven: Store, tmp_path: Path) -> None:
    assert counts(maven)["opportunities"] == 8800 - 500  # Prospecting rows have no engage date
    assert counts(maven)["reps"] == 35 and counts(maven)["teams"] == 6
    assert maven.scalar("SELECT count(*) FROM opportunities WHERE product = 'GTXPro'") == 0
    deals = pd.read_csv(MAVEN / "sales_pipeline.csv")
    gtx_pro = ((deals["product"] == "GTXPro") & deals["engage_date"].notna()).sum()
    assert maven.scalar("SELECT count(*) FROM opportunities WHERE product = 'GTX Pro'") == gtx_pro
    assert maven.scalar("SELECT count(*) FROM accounts WHERE industry = 'Technology'") == 12
    region = maven.query("SELECT DISTINCT region FROM rep_assignments ORDER BY 1")["region"]
    assert region.tolist() == ["Central", "East", "West"]


def test_reimporting_the_same_export_changes_nothing(maven: Store) -> None:
    before = snapshot(maven)
    before.pop("imports")
    versions = len(before.pop("data_versions"))
    run_import(maven, "maven", sources(MAVEN))
    after = snapshot(maven)
    assert len(after.pop("imports")) == 2  # both imports are recorded
    assert len(after.pop("data_versions")) == versions + 1  # each a new version of the data
    assert all(before[t].equals(after[t]) for t in before)
    history = recent_imports(maven)
    assert history["preset"].tolist() == ["maven", "maven"]
    first, again = 6 + 35 + 35 + 85 + 8300, 6 + 35 + 85 + 8300  # assignments are unchanged
    assert history["rows_loaded"].tolist() == [again, first]


def test_a_custom_mapping_saved_as_a_preset(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KPI_PRESETS", str(tmp_path / "presets"))
    base = load_preset("canonical")
    mine = Preset(name="my-crm", description="our CRM", files=base.files[:2])
    save_preset(mine)
    assert load_preset("my-crm").files[1].table == "reps"
    assert "my-crm" in [p.name for p in list_presets()]
