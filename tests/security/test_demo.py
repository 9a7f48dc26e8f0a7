"""High 3: the demo's password-free sign-in must not survive real data or reach other machines.

Importing an export into the demo database kept "Demo company — enter as Avery Admin" on the
sign-in screen (``is_demo`` only looked at ``demo_truth``), and ``make run`` listened on every
interface, so anyone on the network could enter as the demo's admin.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from kpi.auth import is_demo
from kpi.ingest import Source, load, load_preset, plan_import
from kpi.store import DuckDBStore
from tests.app.conftest import APP
from ui import session

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def demo_copy(demo_db: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    db = tmp_path / "demo.duckdb"
    shutil.copy(demo_db, db)
    monkeypatch.setenv("KPI_DB", str(db))
    return db


def sign_in_screen(monkeypatch: pytest.MonkeyPatch, local: bool | None) -> str:
    """The signed-out screen as text, for a visitor on this machine or not (None: as the
    test runner is, with no browser connection at all)."""
    if local is not None:
        monkeypatch.setattr(session, "is_local", lambda: local)
    at = AppTest.from_file(APP, default_timeout=60).run()
    assert not at.exception
    return "\n".join(e.value for e in (*at.subheader, *at.caption, *at.markdown))


def import_accounts(db: Path) -> None:
    files = [Source("accounts.csv", b"account_id,name\nacme,Acme\n")]
    with DuckDBStore.open(db, read_only=False) as store:
        plan = plan_import(files, load_preset("canonical"), store)
        load(store, plan, loaded_by="someone")


def test_demo_users_are_offered_only_to_a_browser_on_this_machine(
        demo_copy: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    assert "Demo company" in sign_in_screen(monkeypatch, local=True)
    assert "Demo company" not in sign_in_screen(monkeypatch, local=False)


def test_with_no_known_connection_the_demo_users_are_not_offered(
        demo_copy: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    assert "Demo company" not in sign_in_screen(monkeypatch, local=None)  # fails closed


def test_a_demo_database_that_received_an_import_is_not_a_demo(
        demo_copy: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with DuckDBStore.open(demo_copy) as store:
        assert is_demo(store)
    import_accounts(demo_copy)
    with DuckDBStore.open(demo_copy) as store:
        assert not is_demo(store)
    assert "Demo company" not in sign_in_screen(monkeypatch, local=True)


@pytest.mark.parametrize(("peer", "headers", "local"), [
    ("127.0.0.1", {"Host": "localhost:8501"}, True),
    ("::1", {"Host": "[::1]:8501"}, True),
    ("127.0.0.1", {"Host": "127.0.0.1"}, True),
    ("10.1.2.3", {"Host": "localhost:8501"}, False),            # another machine
    ("127.0.0.1", {"Host": "localhost:8501", "X-Forwarded-For": "203.0.113.9"}, False),  # proxy
    ("127.0.0.1", {"Host": "localhost", "Forwarded": "for=203.0.113.9"}, False),
    ("127.0.0.1", {"Host": "dashboard.example.com"}, False),    # proxy keeping the public name
    ("127.0.0.1", {"Host": "attacker.example:8501"}, False),    # DNS rebinding
    ("127.0.0.1", {}, False),
    (None, {"Host": "localhost:8501"}, False),                  # no connection known
    ("not an address", {"Host": "localhost"}, False),
])
def test_what_counts_as_this_machine(peer: str | None, headers: dict[str, str],
                                     local: bool) -> None:
    assert session.local_visitor(peer, headers) is local


def test_make_run_listens_on_this_machine_unless_told_otherwise() -> None:
    def run_line(*extra: str) -> str:
        out = subprocess.run(["make", "-n", "run", *extra], cwd=ROOT, capture_output=True,
                             text=True, check=True).stdout
        return " ".join(out.replace("\\\n", " ").split())

    assert "--server.address 127.0.0.1 " in run_line()
    assert "--server.address 0.0.0.0 " in run_line("ADDRESS=0.0.0.0")
    readme = (ROOT / "README.md").read_text()
    assert "ADDRESS=0.0.0.0" in readme
