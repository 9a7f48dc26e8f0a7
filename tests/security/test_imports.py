"""High 2 and the import findings of the Low list.

An executive may import CRM exports; only an admin manages users. A users.csv uploaded on the
Data page rewrote the users table (roles changed, password hashes became NULL: the admin was
locked out and, with single sign-on, the executive signed in as admin), and a users.csv with a
team_id column was taken for teams.csv. A command-line import into a new file created an
``admin`` with no password, and failed imports left empty database files behind.
"""

from __future__ import annotations

import dataclasses
import io
from contextlib import suppress
from pathlib import Path

import pandas as pd
import pytest

from kpi import schema
from kpi.auth import authenticate
from kpi.cli import main
from kpi.errors import KpiError
from kpi.ingest import Source, load, load_preset, plan_import
from kpi.ingest.presets import FileMap
from kpi.store import DuckDBStore, Store
from tests.security.conftest import PASSWORD

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "imports" / "canonical"
APP_TABLES = ("users", "login_failures", "initiatives", "initiative_teams", "initiative_targets",
              "reviews")


def csv(name: str, *lines: str) -> Source:
    return Source(name, ("\n".join(lines) + "\n").encode())


def snapshot(store: Store, tables: tuple[str, ...]) -> dict[str, pd.DataFrame]:
    return {t: store.query(f"SELECT * FROM {t} ORDER BY ALL") for t in tables}


def fixture_files() -> list[Source]:
    return [Source.from_path(p) for p in sorted(FIXTURES.glob("*.csv"))]


def import_all(store: Store, files: list[Source], preset: str = "canonical", **kw: object) -> str:
    """Plan and load as the Data page does (rows with problems left out); the notes."""
    plan = plan_import(files, kw.pop("chosen", None) or load_preset(preset), store)
    if not plan.report.fatal:
        load(store, plan, on_error="skip", loaded_by="an executive")
    return "\n".join(plan.report.notes + plan.report.lines())


USERS = ("user_id,name,email,role",
         "boss,Boss,boss@example.com,rep",
         "mallory,Mallory,mallory@example.com,admin")
USERS_WITH_TEAMS = ("user_id,name,email,role,rep_id,team_id",
                    "boss,Mallory Owns This,boss@example.com,manager,,T",
                    "mallory,Mallory,,admin,,")


@pytest.mark.parametrize("users", [USERS, USERS_WITH_TEAMS], ids=["users", "with_team_id"])
def test_an_import_never_touches_the_users_or_teams_through_a_users_file(
        company_db: Path, users: tuple[str, ...]) -> None:
    with DuckDBStore.open(company_db, read_only=False) as store:
        before = snapshot(store, (*APP_TABLES, "teams"))
        notes = import_all(store, [*fixture_files(), csv("users.csv", *users)])
        after = snapshot(store, (*APP_TABLES, "teams"))
        for table in APP_TABLES:
            assert after[table].equals(before[table]), table
        assert "Mallory" not in after["teams"].to_csv()  # a users file is not a teams file
        assert "users.csv" in notes and "Users page" in notes  # and the import says why
        assert store.scalar("SELECT count(*) FROM opportunities") == 4  # the rest imported
        assert authenticate(store, "boss", PASSWORD).role == "admin"


def test_only_a_users_file_imports_nothing(company_db: Path) -> None:
    with DuckDBStore.open(company_db, read_only=False) as store:
        before = snapshot(store, APP_TABLES)
        plan = plan_import([csv("users.csv", *USERS)], load_preset("canonical"), store)
        assert plan.report.fatal and "Users page" in "\n".join(plan.report.lines())
        with pytest.raises(KpiError):
            load(store, plan, on_error="skip")
        after = snapshot(store, APP_TABLES)
        assert all(after[t].equals(before[t]) for t in APP_TABLES)


RENAMED = ("Login,Full name,Mail,Access", "boss,Boss,boss@example.com,rep",
           "mallory,Mallory,mallory@example.com,admin")


@pytest.mark.parametrize("table", ["users", "initiatives", "reviews", "login_failures"])
@pytest.mark.parametrize("renamed", [False, True], ids=["own_columns", "renamed_columns"])
def test_a_custom_preset_cannot_write_the_apps_own_tables(company_db: Path, table: str,
                                                          renamed: bool) -> None:
    """Even a hand-made preset that maps a file onto an app table is refused."""
    columns = {"user_id": ["user_id"], "name": ["name"], "role": ["role"], "email": ["email"]}
    if renamed:
        columns = {"user_id": ["Login"], "name": ["Full name"], "role": ["Access"],
                   "email": ["Mail"]}
    fmap = FileMap(table="users", columns=columns)
    if table != "users":
        fmap = dataclasses.replace(fmap, table=table, match=["user_id"])
    canonical = load_preset("canonical")
    mine = dataclasses.replace(canonical, name="mine", files=[fmap, *canonical.files])
    with DuckDBStore.open(company_db, read_only=False) as store:
        before = snapshot(store, APP_TABLES)
        with suppress(KpiError):  # refusing the whole import is as good as leaving it out
            import_all(store, [*fixture_files(), csv("people.csv", *(RENAMED if renamed
                                                                      else USERS))], chosen=mine)
        after = snapshot(store, APP_TABLES)
        for name in APP_TABLES:
            assert after[name].equals(before[name]), name


def test_a_preset_file_naming_an_app_table_is_not_valid(tmp_path: Path,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KPI_PRESETS", str(tmp_path))
    (tmp_path / "sneaky.yaml").write_text(
        "name: sneaky\ndescription: users from a file\nfiles:\n  - table: users\n"
        "    columns: {user_id: Login, name: Name, role: Access}\n")
    with pytest.raises(KpiError, match="unknown table 'users'"):
        load_preset("sneaky")


def test_every_app_table_is_named_as_never_imported() -> None:
    assert set(APP_TABLES) <= set(schema.APP_TABLES)
    from kpi.ingest.load import ORDER

    assert not set(ORDER) & set(schema.APP_TABLES)


def test_a_cli_import_into_a_new_file_creates_no_passwordless_admin(
        tmp_path: Path, capsys: pytest.CaptureFixture, monkeypatch: pytest.MonkeyPatch) -> None:
    db = tmp_path / "new.duckdb"
    assert main(["import", str(FIXTURES), "--db", str(db), "--preset", "canonical"]) == 0
    said = capsys.readouterr()
    with DuckDBStore.open(db) as store:
        assert store.scalar("SELECT count(*) FROM users") == 0
    assert "kpi user add" in said.out + said.err and "first-run" in said.out + said.err
    monkeypatch.setattr("sys.stdin", io.StringIO(PASSWORD + "\n"))
    assert main(["user", "add", "admin", "--db", str(db), "--role", "admin",
                 "--password-stdin"]) == 0  # not "already exists"


def test_a_check_run_leaves_no_database_file(tmp_path: Path) -> None:
    db = tmp_path / "checked.duckdb"
    main(["import", str(FIXTURES), "--db", str(db), "--preset", "canonical", "--check"])
    assert not db.exists() and not list(tmp_path.iterdir())


def test_a_refused_import_leaves_no_database_file(tmp_path: Path) -> None:
    bad = tmp_path / "bad"
    bad.mkdir()
    (bad / "opportunities.csv").write_text("opp_id,rep_id,created_at,stage\no1,r9,someday,Won\n")
    db = tmp_path / "refused.duckdb"
    assert main(["import", str(bad), "--db", str(db), "--preset", "canonical"]) == 2
    assert not db.exists() and not db.with_suffix(".duckdb.wal").exists()


def test_an_import_that_fails_while_writing_leaves_no_database_file(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from kpi.errors import DatabaseError

    def fail(*args: object, **kw: object) -> None:
        raise DatabaseError("write failed: disk full")

    import kpi.ingest

    monkeypatch.setattr(kpi.ingest, "load", fail)  # the CLI's load, after the file is created
    db = tmp_path / "failed.duckdb"
    assert main(["import", str(FIXTURES), "--db", str(db), "--preset", "canonical"]) == 2
    assert sorted(p.name for p in tmp_path.iterdir()) == []
