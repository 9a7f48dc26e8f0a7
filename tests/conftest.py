"""Shared fixtures: tiny hand-made databases and one demo company per test session."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest

from kpi.demo import DemoConfig, build
from kpi.engine import Engine
from kpi.initiatives import Initiative
from kpi.stages import StageList, refresh
from kpi.store import DuckDBStore

# `make test-fast` runs the tests not marked slow: the unit tests of kpi/ and the import rules,
# under a minute on two cores. Everything else is slow by default, so a new folder (app, e2e, db,
# ...) never lands in the developer's loop by accident; a quick test elsewhere is listed in FAST.
FAST = ("tests/unit/", *(f"tests/ingest/test_{name}.py" for name in (
    "row_numbers", "bad_input", "crm_quirks", "presets", "stages", "reimport", "mapping",
    "real_exports", "fast_read", "fast_dates", "plan_messages", "plan_derived", "plan_mutants")))
SLOW = ("tests/unit/test_fuzz.py", "tests/unit/test_demo.py")  # hypothesis runs, whole demo companies
DEMO_FIXTURES = {"demo_db", "demo_engine"}  # building the demo company takes seconds
ROOT = Path(__file__).resolve().parents[1]


NEEDS = {"browser": "browser", "pg_url": "postgres", "spark_url": "spark"}  # fixture -> its marker


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        path = item.path.resolve().relative_to(ROOT).as_posix()
        if not path.startswith(FAST) or path.startswith(SLOW) or DEMO_FIXTURES & set(item.fixturenames):
            item.add_marker(pytest.mark.slow)
        for fixture, marker in NEEDS.items():  # e.g. `pytest -m "not browser"` without Chromium
            if fixture in item.fixturenames:
                item.add_marker(getattr(pytest.mark, marker))


@pytest.fixture(autouse=True)
def _background_done(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The insights a test started computing in the background (an app's server start, an
    import's refresh) are done before its patches are undone and the next test begins."""
    yield
    from kpi.insights import stored

    assert stored.wait_idle(60), "the background insights did not end within a minute"


@pytest.fixture(autouse=True)
def _no_user_catalog(monkeypatch: pytest.MonkeyPatch) -> None:
    """A developer's own extra metrics never leak into tests."""
    monkeypatch.delenv("KPI_EXTRA_METRICS", raising=False)


@pytest.fixture(autouse=True)
def _no_failed_sign_ins() -> None:
    """Failed sign-ins are throttled per process: one test's failures never delay another's."""
    from kpi.auth import THROTTLE

    THROTTLE.clear()


def d(text: str) -> dt.date:
    return dt.date.fromisoformat(text)


class Tiny:
    """A tiny in-memory company whose answers can be computed with a pencil."""

    def __init__(self) -> None:
        self.store = DuckDBStore.create()
        self._n = 0

    def _id(self, prefix: str) -> str:
        self._n += 1
        return f"{prefix}{self._n}"

    def _put(self, table: str, **row: object) -> None:
        with self.store.transaction():
            self.store.insert_frame(table, pd.DataFrame([row]))

    def team(self, team_id: str, name: str | None = None) -> str:
        self._put("teams", team_id=team_id, name=name or team_id, manager_id=None)
        return team_id

    def rep(self, rep_id: str, team_id: str, hired: str = "2024-01-01", left: str | None = None,
            region: str = "East", segment: str = "generalist", motion: str = "generalist") -> str:
        self._put("reps", rep_id=rep_id, name=f"Rep {rep_id}", email=None,
                  hire_date=d(hired), end_date=d(left) if left else None)
        self.assign(rep_id, team_id, hired, region=region, segment=segment, motion=motion)
        return rep_id

    def assign(self, rep_id: str, team_id: str, valid_from: str, valid_to: str | None = None,
               region: str = "East", segment: str = "generalist", motion: str = "generalist") -> None:
        self._put("rep_assignments", rep_id=rep_id, team_id=team_id, region=region,
                  segment=segment, motion=motion, valid_from=d(valid_from),
                  valid_to=d(valid_to) if valid_to else None)

    def move(self, rep_id: str, team_id: str, on: str, **kw: str) -> None:
        """End the rep's open assignment the day before ``on`` and start a new one."""
        with self.store.transaction():
            self.store.execute("UPDATE rep_assignments SET valid_to = $on "
                               "WHERE rep_id = $r AND valid_to IS NULL", {"on": d(on), "r": rep_id})
        self.assign(rep_id, team_id, on, **kw)

    def account(self, account_id: str, industry: str = "Retail") -> str:
        self._put("accounts", account_id=account_id, name=account_id, industry=industry,
                  region="East", employees=100)
        return account_id

    def deal(self, rep_id: str, created: str, closed: str | None = None, won: bool = False,
             amount: float = 0.0, cost: float | None = None, account: str | None = None,
             product: str = "Core", kind: str = "new", expected: str | None = None,
             stage: str | None = None) -> str:
        opp_id = self._id("O")
        self._put("opportunities", opp_id=opp_id, rep_id=rep_id, account_id=account,
                  created_at=d(created), closed_at=d(closed) if closed else None,
                  expected_close_at=d(expected) if expected else None,
                  stage=stage or ("Closed Won" if won else ("Closed Lost" if closed else "Proposal")),
                  is_closed=closed is not None, is_won=won, amount=float(amount), cost=cost,
                  product=product, kind=kind)
        return opp_id

    def stage(self, opp_id: str, stage: str, on: str) -> None:
        self._put("stage_history", opp_id=opp_id, stage=stage, entered_at=d(on))

    def walk(self, path: str, closed: str | None = None, won: bool = False,
             rep_id: str = "r") -> str:
        """A deal created on 2 January 2025 that entered each ``stage@MM-DD`` of ``path`` (2025)
        and sits in the last one now (closed on ``closed``, won or lost, when that is given)."""
        steps = [step.split("@") for step in path.split(", ")]
        opp = self.deal(rep_id, "2025-01-02", f"2025-{closed}" if closed else None, won=won,
                        stage=steps[-1][0])
        for stage, day in steps:
            self.stage(opp, stage, f"2025-{day}")
        return opp

    def stages(self, *lists: StageList) -> pd.DataFrame:
        """Derive the stages table from the deals so far, as an import does after writing."""
        with self.store.transaction():
            return refresh(self.store, lists)

    def activity(self, rep_id: str, on: str, type: str = "meeting", new_prospect: bool = False,
                 n: int = 1) -> None:
        rows = pd.DataFrame([
            {"activity_id": self._id("A"), "rep_id": rep_id, "account_id": None, "opp_id": None,
             "occurred_at": pd.Timestamp(on) + pd.Timedelta(hours=10), "type": type,
             "new_prospect": new_prospect} for _ in range(n)])
        with self.store.transaction():
            self.store.insert_frame("activities", rows)

    def meet_more(self) -> Initiative:
        """Team T's initiative "Meet more" (rolled out Monday 3 March 2025 on two baseline weeks,
        meetings raised by 50% by 30 June), as it is stored."""
        from kpi.initiatives import create_initiative, get_initiative

        create_initiative(self.store, name="Meet more", strategy="win more", tactics="meet more",
                          rollout_date=d("2025-03-03"), baseline_weeks=2,
                          target_date=d("2025-06-30"), teams={"T": d("2025-03-03")},
                          targets={"meetings": 0.5})
        return get_initiative(self.store, "meet-more")

    def quota(self, rep_id: str, start: str, end: str, amount: float) -> None:
        self._put("quotas", quota_id=self._id("Q"), rep_id=rep_id, team_id=None,
                  period_start=d(start), period_end=d(end), amount=float(amount))

    @property
    def engine(self) -> Engine:
        return Engine(self.store)


@pytest.fixture
def tiny() -> Iterator[Tiny]:
    company = Tiny()
    yield company
    company.store.close()


DEMO = DemoConfig()


@pytest.fixture(scope="session")
def demo_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The demo company as `python -m kpi demo` writes it: with its insights computed."""
    from kpi.views import refresh_insights

    path = tmp_path_factory.mktemp("demo") / "demo.duckdb"
    build(path, DEMO)
    with DuckDBStore.open(path, read_only=False) as store:
        refresh_insights(Engine(store), store)
    return path


@pytest.fixture(scope="session")
def demo_engine(demo_db: Path) -> Iterator[Engine]:
    store = DuckDBStore.open(demo_db)
    yield Engine(store)
    store.close()


def _pg_bin() -> Path:
    found = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"))
    if not found:
        pytest.fail("PostgreSQL server binaries not found under /usr/lib/postgresql: run `make test` "
                    "(it installs Debian's postgresql as root) or `sudo apt-get install postgresql`")
    return found[-1].parent


@pytest.fixture(scope="session")
def pg_url() -> Iterator[str]:
    """A throwaway PostgreSQL server for this test session (as root, it runs as user postgres)."""
    import os
    import shutil
    import socket
    import subprocess
    import tempfile

    import psycopg

    bin_dir = _pg_bin()
    root = Path(tempfile.mkdtemp(prefix="leverboard-pg-"))  # outside pytest's root-only tmp dirs
    data, sock = root / "data", root / "sock"
    sock.mkdir()
    as_postgres = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
    if as_postgres:
        shutil.chown(root, "postgres")
        shutil.chown(sock, "postgres")
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    run = lambda *cmd: subprocess.run([*as_postgres, *cmd], check=True, capture_output=True)  # noqa: E731
    run(str(bin_dir / "initdb"), "-D", str(data), "-U", "postgres", "-A", "trust", "-E", "UTF8")
    run(str(bin_dir / "pg_ctl"), "-D", str(data), "-l", str(root / "log"), "-w", "-o",
        f"-c listen_addresses=127.0.0.1 -p {port} -k {sock} -c fsync=off", "start")
    try:
        with psycopg.connect(f"host=127.0.0.1 port={port} user=postgres dbname=postgres",
                             autocommit=True) as con:
            con.execute("CREATE DATABASE leverboard")
        yield f"postgresql+psycopg://postgres@127.0.0.1:{port}/leverboard"
    finally:
        run(str(bin_dir / "pg_ctl"), "-D", str(data), "-m", "fast", "-w", "stop")
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture(scope="session")
def spark_url() -> Iterator[str]:
    """A throwaway Spark Thrift Server for this test session, reached as SQLAlchemy's ``hive://``
    URL: Spark SQL in one local JVM with two threads, or with LEVERBOARD_SPARK_WORKERS=N (`make
    test-cluster`) on a standalone cluster of a master and N workers, each a JVM of its own."""
    import os
    import shutil

    try:
        import pyhive  # noqa: F401 - the driver behind hive:// URLs
        import pyspark
    except ImportError:
        pytest.fail("pyspark or PyHive is not installed: run `make test` (it installs them and "
                    "Java) or `make spark`")
    if shutil.which("java") is None:
        pytest.fail("Java not found: run `make test` (as root it installs Debian's "
                    "openjdk-17-jre-headless) or `sudo apt-get install openjdk-17-jre-headless`")
    from tests.db.spark import SparkProcesses

    spark = SparkProcesses(Path(pyspark.__file__).parent)
    try:
        workers = int(os.environ.get("LEVERBOARD_SPARK_WORKERS", "0"))
        yield spark.thrift_server(spark.cluster(workers) if workers else "local[2]")
    except RuntimeError as exc:
        pytest.fail(str(exc))
    finally:
        spark.stop()


@pytest.fixture(scope="session")
def browser() -> Iterator[object]:
    """One Chromium for every browser test of the session (tests/e2e, tests/security)."""
    from tests.e2e.conftest import open_browser

    yield from open_browser()
