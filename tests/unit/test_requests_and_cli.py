"""Bad requests get one clear error and change nothing; the CLI is a stable interface."""

from __future__ import annotations

import ast
import csv
import hashlib
import io
import json
from pathlib import Path

import pytest

from kpi.cli import main
from kpi.engine import MetricRequest
from kpi.errors import DatabaseError, DatabaseNotFound, InvalidRequest, UnknownDimension, UnknownMetric
from kpi.store import DuckDBStore
from tests.conftest import Tiny, d

HOSTILE = "team'; drop table reps; --"


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def run_cli(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture
def company(tiny: Tiny) -> Tiny:
    tiny.team("T1", "Alpha")
    tiny.rep("r1", "T1")
    tiny.deal("r1", "2025-01-02", "2025-01-10", won=True, amount=10)
    return tiny


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        (dict(metric="nope"), UnknownMetric, "valid metrics: revenue"),
        (dict(metric="revenue", by=["colour"]), UnknownDimension, "unknown dimension 'colour'"),
        (dict(metric="revenue", by=[HOSTILE]), UnknownDimension, "unknown dimension"),
        (dict(metric="revenue", by=["team", "team"]), InvalidRequest, "repeated"),
        (dict(metric="revenue", filters={"team": [HOSTILE]}), InvalidRequest, "unknown team"),
        (dict(metric="revenue", filters={HOSTILE: ["x"]}), UnknownDimension, "unknown dimension"),
        (dict(metric="revenue", grain="fortnight"), InvalidRequest, "unknown grain"),
        (dict(metric="revenue", date_from=d("2025-02-01"), date_to=d("2025-01-01")),
         InvalidRequest, "inverted"),
        (dict(metric="meetings", by=["industry"]), UnknownDimension,
         "meetings cannot be split by industry"),
        (dict(metric="revenue", attribution="future"), InvalidRequest, "unknown attribution"),
    ],
)
def test_bad_requests_raise_one_clear_error(company: Tiny, kwargs: dict, error: type, message: str) -> None:
    with pytest.raises(error, match=message):
        company.engine.run(MetricRequest.make(**kwargs))
    assert company.store.scalar("SELECT count(*) FROM reps") == 1


def test_read_only_store_refuses_writes(tmp_path: Path) -> None:
    path = tmp_path / "x.duckdb"
    DuckDBStore.create(path).close()
    with DuckDBStore.open(path) as store, pytest.raises(DatabaseError, match="read-only"):
        store.execute("DELETE FROM reps")


def test_missing_database_says_how_to_create_it(tmp_path: Path) -> None:
    with pytest.raises(DatabaseNotFound, match="python -m kpi demo"):
        DuckDBStore.open(tmp_path / "missing.duckdb")
    assert not (tmp_path / "missing.duckdb").exists()


def test_cli_query_csv_has_the_documented_columns(demo_db: Path, capsys) -> None:
    code, out, err = run_cli(capsys, "query", "win_rate", "--db", str(demo_db), "--grain", "quarter",
                             "--by", "team", "--format", "csv")
    assert code == 0 and err == ""
    rows = list(csv.DictReader(io.StringIO(out)))
    assert list(rows[0]) == ["period", "team", "value", "numerator", "denominator", "is_partial"]
    assert len({r["team"] for r in rows}) == 6
    for r in rows:
        if int(r["denominator"]):
            assert float(r["value"]) == pytest.approx(int(r["numerator"]) / int(r["denominator"]))


def test_cli_json_and_filters(demo_db: Path, capsys) -> None:
    code, out, _ = run_cli(capsys, "query", "revenue", "--db", str(demo_db), "--grain", "year",
                           "--filter", "region=East", "--format", "json")
    assert code == 0
    east = json.loads(out)
    code, out, _ = run_cli(capsys, "query", "revenue", "--db", str(demo_db), "--grain", "year",
                           "--format", "json")
    total = json.loads(out)
    assert [r["period"] for r in east] == [r["period"] for r in total]
    assert all(0 < e["value"] < t["value"] for e, t in zip(east, total, strict=True))


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["query", "nope"], "error: unknown metric 'nope' — valid metrics:"),
        (["query", "win_rate", "--by", HOSTILE], "error: unknown dimension"),
        (["query", "win_rate", "--filter", f"team={HOSTILE}"], "error: unknown team"),
        (["query", "win_rate", "--from", "2026-01-01", "--to", "2025-01-01"],
         "error: date range is inverted"),
        (["query", "win_rate", "--filter", "team"], "error: --filter 'team' is not DIM=VALUE"),
        (["initiative", "report", "--name", "nothing"], "error: no initiative named 'nothing'"),
    ],
)
def test_cli_errors_are_one_line_and_change_nothing(demo_db: Path, capsys, argv: list[str],
                                                   message: str) -> None:
    before = digest(demo_db)
    argv = [a for a in argv if a != "--name"]
    code, out, err = run_cli(capsys, *argv, "--db", str(demo_db))
    assert code == 2 and out == ""
    assert err.startswith(message) and err.count("\n") == 1
    assert digest(demo_db) == before


def test_cli_missing_database(tmp_path: Path, capsys) -> None:
    code, _, err = run_cli(capsys, "query", "win_rate", "--db", str(tmp_path / "none.duckdb"))
    assert code == 2 and "database not found" in err and "python -m kpi demo" in err


def test_cli_metrics_lists_the_catalog(capsys) -> None:
    code, out, _ = run_cli(capsys, "metrics", "--kind", "lever", "--format", "json")
    ids = [m["id"] for m in json.loads(out)]
    assert code == 0 and "new_prospect_meetings" in ids and "revenue" not in ids


def test_cli_demo_refuses_to_overwrite(demo_db: Path, capsys) -> None:
    code, _, err = run_cli(capsys, "demo", "--db", str(demo_db))
    assert code == 2 and "already exists" in err and "--force" in err


def test_cli_initiative_list_and_report(demo_db: Path, capsys) -> None:
    code, out, _ = run_cli(capsys, "initiative", "list", "--db", str(demo_db), "--format", "json")
    assert code == 0 and json.loads(out)[0]["id"] == "focus-2025"
    code, out, _ = run_cli(capsys, "initiative", "report", "Win rate +25% through focus",
                           "--db", str(demo_db), "--format", "json")
    result = json.loads(out)
    assert code == 0 and result["rollout_date"] == "2025-10-06"
    assert [m["metric_id"] for m in result["metrics"]] == ["win_rate", "new_prospect_meetings", "demos"]
    assert len(result["target_history"]) == 4


def test_kpi_never_imports_streamlit() -> None:
    root = Path(__file__).resolve().parents[2] / "kpi"
    offenders = []
    for path in root.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else \
                [node.module or ""] if isinstance(node, ast.ImportFrom) else []
            offenders += [f"{path.name}: {n}" for n in names if n.split(".")[0] == "streamlit"]
    assert offenders == []


def test_period_labels() -> None:
    from kpi.summary import period_label

    assert period_label(d("2026-07-01"), "quarter") == "Q3 2026"
    assert period_label(d("2026-03-01"), "month") == "Mar 2026"
    assert period_label(None, "quarter") == "no complete period yet"


def test_without_db_a_command_reads_the_apps_database(demo_db: Path, capsys,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    code, named, _ = run_cli(capsys, "query", "win_rate", "--grain", "total", "--db", str(demo_db))
    monkeypatch.delenv("KPI_DATABASE_URL", raising=False)
    monkeypatch.setenv("KPI_DB", str(demo_db))
    assert run_cli(capsys, "query", "win_rate", "--grain", "total") == (0, named, "")
    monkeypatch.delenv("KPI_DB")
    with pytest.raises(SystemExit):  # argparse: --db is required then
        main(["query", "win_rate"])
    assert "the following arguments are required: --db" in capsys.readouterr().err


def test_the_demo_is_a_duckdb_file(capsys) -> None:
    code, _, err = run_cli(capsys, "demo", "--db", "postgresql+psycopg://u:secret@h/db")
    assert code == 2 and "secret" not in err
    assert err.startswith("error: the demo is written as a DuckDB file, not to "
                          "postgresql+psycopg://u:***@h/db — give a file path")
