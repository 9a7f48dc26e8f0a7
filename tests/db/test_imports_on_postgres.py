"""Imports write into PostgreSQL too: same checks, same all-or-nothing transaction."""

from __future__ import annotations

from collections.abc import Iterator

import psycopg
import pytest

from kpi.cli import main
from kpi.engine import Engine, MetricRequest
from kpi.store import SqlStore
from tests.ingest.conftest import FIXTURES


@pytest.fixture
def empty_pg(pg_url: str) -> Iterator[str]:
    """A fresh, empty database on the throwaway server."""
    admin = pg_url.replace("postgresql+psycopg://", "postgresql://").rsplit("/", 1)[0] + "/postgres"
    with psycopg.connect(admin, autocommit=True) as con:
        con.execute("DROP DATABASE IF EXISTS imports_test WITH (FORCE)")
        con.execute("CREATE DATABASE imports_test")
    yield pg_url.rsplit("/", 1)[0] + "/imports_test"


def test_cli_import_into_postgres_is_idempotent(empty_pg: str, capsys: pytest.CaptureFixture) -> None:
    args = ["import", str(FIXTURES / "salesforce"), "--db", empty_pg, "--preset", "salesforce"]
    store = SqlStore.open_url(empty_pg, read_only=False)
    store.create_schema()
    assert main(args) == 0
    assert main(args) == 0  # the same export again
    assert "imported" in capsys.readouterr().out
    assert store.scalar("SELECT count(*) FROM opportunities") == 4
    assert store.scalar("SELECT count(*) FROM imports") == 2
    revenue = Engine(store).run(MetricRequest.make("revenue", grain="total"))
    assert revenue["value"].iloc[0] == 12500


def test_a_refused_import_leaves_postgres_unchanged(empty_pg: str,
                                                   capsys: pytest.CaptureFixture) -> None:
    store = SqlStore.open_url(empty_pg, read_only=False)
    store.create_schema()
    bad = FIXTURES.parent / "imports" / "canonical" / "reps.csv"
    assert main(["import", str(bad), str(FIXTURES / "hubspot" / "deals.csv"), "--db", empty_pg,
                 "--preset", "canonical"]) == 2
    assert "nothing was imported" in capsys.readouterr().err
    assert store.scalar("SELECT count(*) FROM reps") == 0


def test_every_command_reads_postgres_by_its_url_or_kpi_database_url(
        pg_demo: SqlStore, pg_url: str, demo_db: object, capsys: pytest.CaptureFixture,
        monkeypatch: pytest.MonkeyPatch) -> None:
    """query, initiative, stages and user list on the demo in PostgreSQL print what they print
    on the demo's DuckDB file: named by --db URL, or by KPI_DATABASE_URL alone."""
    commands = (["query", "win_rate", "--grain", "quarter", "--by", "team", "--format", "csv"],
                ["initiative", "list", "--format", "json"], ["stages", "--format", "csv"],
                ["user", "list"])
    for argv in commands:
        assert main([*argv, "--db", str(demo_db)]) == 0
        duck = capsys.readouterr().out
        assert main([*argv, "--db", pg_url]) == 0
        assert capsys.readouterr().out == duck, argv
        monkeypatch.setenv("KPI_DATABASE_URL", pg_url)
        assert main(argv) == 0
        assert capsys.readouterr().out == duck, argv
        monkeypatch.delenv("KPI_DATABASE_URL")
