"""Every import leaves a stages table read from its data: order, outcome and role, whatever the
CRM calls its stages, and kept consistent when a later import brings new stage names."""

from __future__ import annotations

import datetime as dt
from dataclasses import replace
from pathlib import Path

import pandas as pd
import pytest

from kpi import stages
from kpi.engine import Engine, MetricRequest
from kpi.errors import InvalidRequest
from kpi.ingest import Source, load_preset, plan_import, save_preset
from kpi.ingest.presets import _parse
from kpi.store import DuckDBStore, Store
from tests.ingest.conftest import FIXTURES, run_import, sources

SALESFORCE_PIPELINE = ("Qualification (qualifying stage) -> Proposal/Price Quote (proposal stage) "
                       "-> Negotiation/Review; won: Closed Won; lost: Closed Lost")


def conversion(store: Store) -> tuple[int, int]:
    row = Engine(store).run(MetricRequest.make("stage_conversion", grain="total",
                                               date_from=dt.date(2024, 1, 1),
                                               date_to=dt.date(2024, 12, 31))).iloc[0]
    return int(row["numerator"]), int(row["denominator"])


def csv(name: str, text: str) -> Source:
    return Source(name, text.encode())


@pytest.fixture
def salesforce(tmp_path: Path) -> Store:
    store = DuckDBStore.create(tmp_path / "sf.duckdb")
    run_import(store, "salesforce", sources(FIXTURES / "salesforce"))
    return store


def test_salesforce_stage_names_convert(salesforce: Store) -> None:
    """OpportunityHistory: 006A went Qualification -> Proposal/Price Quote -> Closed Won, 006D is
    in Qualification; Salesforce's stage list orders them, the rule gives the roles."""
    assert stages.describe(stages.read(salesforce)) == SALESFORCE_PIPELINE
    assert conversion(salesforce) == (1, 2)  # the catalog's old 'Proposal' filter read 0 of 2


def test_a_later_import_with_a_new_stage_name_is_placed_by_its_history(salesforce: Store) -> None:
    """The second import (canonical layout, no stage list) brings 'Discovery Call' between
    Qualification and Negotiation/Review for deal 006D; the first import's order stays."""
    run_import(salesforce, "canonical", [csv("stage_history.csv",
                                             "opp_id,stage,entered_at\n006D,Discovery Call,2024-03-05\n"
                                             "006D,Negotiation/Review,2024-03-20\n")])
    table = stages.read(salesforce)
    assert stages.describe(table) == (
        "Qualification (qualifying stage) -> Discovery Call -> Proposal/Price Quote (proposal stage) "
        "-> Negotiation/Review; won: Closed Won; lost: Closed Lost")
    assert dict(zip(table["stage"], table["ordered_by"], strict=True))["Discovery Call"] == "history"
    assert set(table.loc[table["stage"] != "Discovery Call", "ordered_by"]) == {"preset"}


def test_hubspot_internal_stage_names(tmp_path: Path) -> None:
    """Deals exported with HubSpot's internal stage names import, and the preset orders them."""
    store = DuckDBStore.create(tmp_path / "hs.duckdb")
    deals = ("Record ID,Deal Stage,Amount,Close Date,Create Date,Deal owner\n"
             "1,closedwon,100,2024-05-10,2024-04-01,Dana Lee\n"
             "2,closedlost,100,2024-05-12,2024-04-02,Dana Lee\n"
             "3,contractsent,100,2024-07-01,2024-04-15,Dana Lee\n"
             "4,qualifiedtobuy,100,2024-07-01,2024-04-16,Dana Lee\n"
             "5,presentationscheduled,100,2024-07-01,2024-04-17,Dana Lee\n")
    plan, _ = run_import(store, "hubspot", [csv("deals.csv", deals)])
    assert not plan.report.problems
    assert stages.describe(stages.read(store)) == (
        "qualifiedtobuy (qualifying stage) -> presentationscheduled (proposal stage) -> "
        "contractsent; won: closedwon; lost: closedlost")


def test_a_preset_can_name_the_stages_for_each_role(tmp_path: Path,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KPI_PRESETS", str(tmp_path / "presets"))
    base = load_preset("salesforce")
    files = [replace(f, stage_roles={"propose": "Negotiation/Review"}) if f.stages else f
             for f in base.files]
    save_preset(replace(base, name="my-sf", files=files))
    store = DuckDBStore.create(tmp_path / "mine.duckdb")
    run_import(store, "my-sf", sources(FIXTURES / "salesforce"))
    table = stages.read(store).set_index("stage")
    assert table.loc["Negotiation/Review", ["role", "role_by"]].tolist() == ["propose", "preset"]
    assert table.loc["Qualification", ["role", "role_by"]].tolist() == ["qualify", "rule"]
    assert pd.isna(table.loc["Proposal/Price Quote", "role"])
    text = (tmp_path / "presets" / "my-sf.yaml").read_text()
    with pytest.raises(InvalidRequest, match="stage_roles: unknown role"):
        _parse(text.replace("propose: Negotiation/Review", "proposal: Negotiation/Review"), "x")


def test_the_import_report_says_how_it_read_the_stages(tmp_path: Path) -> None:
    plan = plan_import(sources(FIXTURES / "salesforce"), load_preset("salesforce"),
                       DuckDBStore.create(tmp_path / "new.duckdb"))
    assert f"stages as read: {SALESFORCE_PIPELINE}" in plan.report.notes
