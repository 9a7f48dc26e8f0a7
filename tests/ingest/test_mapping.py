"""A mapping made by hand on the Data page: every column, the stages, constants, creating reps and
the formats are saved as a preset, and a file of another CRM imports with it, closed deals too."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from kpi.errors import InvalidRequest
from kpi.ingest import Source, load_preset, save_preset
from kpi.ingest import mapping as m
from kpi.ingest.read import read
from kpi.store import DuckDBStore
from tests.ingest.conftest import REAL, run_import

EXPORT = (b"Deal,Owner,Opened,Phase,Closed on,Value,Notes\n"
          b"D1,ann,03/04/2025,Discovery,,1.000,\n"
          b"D2,ann,03/04/2025,Signed,20/04/2025,2.500,\n"
          b"D3,bob,05/04/2025,Dropped,25/04/2025,700,\n"
          b"D4,bob,06/04/2025,Signed,30/04/2025,\"1.250,50\",\n")


def form(**changes: object) -> m.Mapping:
    base = dict(table="opportunities",
                columns={"opp_id": "Deal", "rep_id": "Owner", "created_at": "Opened",
                         "stage": "Phase", "closed_at": "Closed on", "amount": "Value"},
                constants={"product": "Widgets"},
                stages=[("Discovery", "open"), ("Signed", "won"), ("Dropped", "lost")],
                create_reps=True, date_order="DMY", decimal="comma")
    base.update(changes)
    return m.Mapping(**base)  # type: ignore[arg-type]


@pytest.fixture
def presets(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "presets"
    monkeypatch.setenv("KPI_PRESETS", str(folder))
    return folder


def test_every_column_of_the_table_can_be_mapped() -> None:
    required, optional = m.columns("opportunities")
    assert required == ["opp_id", "rep_id", "created_at", "stage"]
    assert optional == ["account_id", "closed_at", "expected_close_at", "is_closed", "is_won",
                        "amount", "cost", "product", "kind"]
    assert m.columns("reps")[1] == ["email", "hire_date", "end_date", "team", "region", "segment",
                                    "motion"]


def test_the_saved_preset_imports_closed_deals(presets: Path, tmp_path: Path) -> None:
    path = save_preset(m.custom_preset("other-crm", "deals.csv", form()))
    assert path.parent == presets
    preset = load_preset("other-crm")
    assert preset == m.custom_preset("other-crm", "deals.csv", form())  # all of it saved
    assert (preset.create_reps, preset.date_order, preset.decimal) == (True, "DMY", "comma")
    assert list(preset.files[0].stages.items()) == [("Discovery", "open"), ("Signed", "won"),
                                                    ("Dropped", "lost")]
    with DuckDBStore.create(tmp_path / "other.duckdb") as store:
        run_import(store, "other-crm", [Source("deals.csv", EXPORT)])
        rows = store.rows("SELECT opp_id, rep_id, created_at, closed_at, stage, is_closed, is_won, "
                          "amount, product FROM opportunities ORDER BY opp_id")[1]
        reps = store.rows("SELECT rep_id FROM reps ORDER BY rep_id")[1]
    d = dt.date
    assert rows == [
        ("D1", "ann", d(2025, 4, 3), None, "Discovery", False, False, 1000.0, "Widgets"),
        ("D2", "ann", d(2025, 4, 3), d(2025, 4, 20), "Signed", True, True, 2500.0, "Widgets"),
        ("D3", "bob", d(2025, 4, 5), d(2025, 4, 25), "Dropped", True, False, 700.0, "Widgets"),
        ("D4", "bob", d(2025, 4, 6), d(2025, 4, 30), "Signed", True, True, 1250.5, "Widgets")]
    assert reps == [("ann",), ("bob",)]


def test_a_mapped_column_wins_over_a_constant() -> None:
    preset = m.custom_preset("x-crm", "f.csv", form(constants={"amount": "5", "product": " "}))
    assert preset.files[0].constants == {}
    assert preset.files[0].columns["amount"] == ["Value"]


@pytest.mark.parametrize(("changes", "message"), [
    ({"columns": {"opp_id": "Deal", "rep_id": "Owner", "stage": "Phase"}},
     "created_at must come from a column of the file"),
    ({"constants": {"colour": "red"}}, "opportunities has no column 'colour'"),
    ({"stages": [("Signed", "booked")]}, "stage 'Signed': 'booked' is not a stage role"),
    ({"date_order": "YMD"}, "date order 'YMD' is unknown"),
    ({"decimal": "dot"}, "decimal mark 'dot' is unknown"),
])
def test_an_incomplete_mapping_is_refused_with_the_fix(changes: dict, message: str) -> None:
    with pytest.raises(InvalidRequest, match=message):
        m.custom_preset("x-crm", "f.csv", form(**changes))


def test_a_required_column_may_be_one_value_for_every_row(presets: Path, tmp_path: Path) -> None:
    columns = {k: v for k, v in form().columns.items() if k != "rep_id"}
    save_preset(m.custom_preset("one-rep", "deals.csv",
                                form(columns=columns, constants={"rep_id": "solo"})))
    with DuckDBStore.create(tmp_path / "one.duckdb") as store:
        run_import(store, "one-rep", [Source("deals.csv", EXPORT)])
        assert store.rows("SELECT DISTINCT rep_id FROM opportunities")[1] == [("solo",)]


def test_stages_come_in_pipeline_order_with_their_roles() -> None:
    raw = read("Opportunity.csv", (REAL / "salesforce_migration_pack" / "Opportunity.csv"))
    found = m.stage_values(raw, "StageName")
    # Salesforce's default stages in their order, then won and lost; deals per stage counted
    # from the file (grep -c): 27 Prospecting ... 640 Closed Won, 39 Closed Lost
    assert [(s, r) for s, r, _ in found] == [
        ("Prospecting", "open"), ("Qualification", "open"), ("Needs Analysis", "open"),
        ("Value Proposition", "open"), ("Id. Decision Makers", "open"),
        ("Perception Analysis", "open"), ("Proposal/Price Quote", "open"),
        ("Negotiation/Review", "open"), ("Closed Won", "won"), ("Closed Lost", "lost")]
    assert sum(n for _, _, n in found) == 774
    unknown = read("x.csv", b"Id,Phase\n1,Signed\n2,Lost to rival\n3,Talking\n4,Talking\n")
    # names no preset knows: 'Signed' reads as won, 'Lost ...' as lost, the rest open, first
    assert m.stage_values(unknown, "Phase") == [("Talking", "open", 2), ("Signed", "won", 1),
                                                ("Lost to rival", "lost", 1)]


def test_the_editor_order_decides_the_pipeline() -> None:
    rows = [{"order": 3, "stage": "C", "role": "won"}, {"order": 1, "stage": "A", "role": "open"},
            {"order": None, "stage": "Z", "role": "lost"}, {"order": 2, "stage": "B", "role": "open"}]
    assert m.ordered(rows) == [("A", "open"), ("B", "open"), ("C", "won"), ("Z", "lost")]


def test_suggestions_come_from_the_shipped_presets() -> None:
    header = ["Id", "OwnerId", "CreatedDate", "StageName", "CloseDate", "Amount", "Type", "Notes"]
    assert m.suggest("opportunities", header) == {
        "opp_id": "Id", "rep_id": "OwnerId", "created_at": "CreatedDate", "stage": "StageName",
        "closed_at": "CloseDate", "amount": "Amount"}  # Type needs the preset's table of names


def test_the_preview_shows_the_mapped_columns() -> None:
    raw = read("deals.csv", EXPORT)
    shown = m.preview(raw, form(), rows=2)
    assert shown.to_dict("records") == [
        {"opp_id": "D1", "rep_id": "ann", "created_at": "03/04/2025", "stage": "Discovery",
         "closed_at": "", "amount": "1.000", "product": "Widgets"},
        {"opp_id": "D2", "rep_id": "ann", "created_at": "03/04/2025", "stage": "Signed",
         "closed_at": "20/04/2025", "amount": "2.500", "product": "Widgets"}]
