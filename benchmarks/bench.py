"""`make bench`: leverboard's engine against a straightforward pandas reference, at company scale.

For each size (activities; one opportunity per ten), builds the scale database if missing
(``benchmarks/out``, git-ignored), then runs each workload in a fresh process, several times:

* the page workload of each role (every kpi.views call its page makes, for one user), engine only,
  asked as the app asks (kpi.answers): computed on the first visit after a start or a change of
  the data, read by the later visits;
* the *core* workload of each role (the numbers at the heart of the page) through the engine and
  as plain pandas (load the tables, merge, group by), asserting both give the same numbers;

and records time (first run = cold, median of the rest = warm; for a page, the first visit, the
same page computed again on the warm database, and a later visit) and each process's peak RSS; then
times importing a 2.7-million-deal Salesforce export twice (benchmarks/import_export.py).
Writes ``benchmarks/RESULTS.md``.

    python benchmarks/bench.py --sizes 1,10          # millions of activities
"""

from __future__ import annotations

import argparse
import datetime as dt
import functools
import os
import pickle
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "benchmarks" / "out"
sys.path.insert(0, str(ROOT))

import pandas as pd  # noqa: E402

from benchmarks.rss import peak_rss_mb  # noqa: E402
from benchmarks.scale import build  # noqa: E402
from kpi import answers, views  # noqa: E402
from kpi.answers import ask  # noqa: E402
from kpi.engine import Engine, MetricRequest, Scope  # noqa: E402
from kpi.periods import Window, period_start, shift_years  # noqa: E402
from kpi.store import DuckDBStore, Store  # noqa: E402

TEAM, REP = "T1", "R0001"


# --- the workloads -------------------------------------------------------------------------------

def context(engine: Engine) -> dict:
    day = ask(engine, views.as_of)
    initiative = ask(engine, views.initiatives_for, Scope.everyone())[0]
    return {"day": day, "initiative": initiative,
            "window": Window(shift_years(day, -2) + dt.timedelta(days=1), day)}


def page_executive(engine: Engine) -> None:
    c = context(engine)
    everyone = Scope.everyone()
    ask(engine, views.initiative_progress, c["initiative"], c["day"], everyone)
    ask(engine, views.cards, engine.catalog.shown("outputs"), "quarter", c["day"], everyone,
        c["initiative"])
    for metric in engine.catalog.shown("outputs"):
        ask(engine, views.trend, metric, "quarter", c["window"], everyone, c["initiative"])
    ask(engine, views.segments, "industry", c["window"], everyone, c["day"])


def page_manager(engine: Engine) -> None:
    c = context(engine)
    team = Scope.teams(TEAM)
    ask(engine, views.initiative_progress, c["initiative"], c["day"], team)
    ask(engine, views.lever_weeks, "new_prospect_meetings", team, c["day"], 12, c["initiative"])
    ask(engine, views.off_track, engine.catalog.shown("levers")[:3], team, c["day"],
        c["initiative"])
    ask(engine, views.cards, engine.catalog.shown("consequences"), "quarter", c["day"], team,
        c["initiative"])


def page_rep(engine: Engine) -> None:
    c = context(engine)
    rep = Scope.reps(REP)
    ask(engine, views.initiative_progress, c["initiative"], c["day"], rep)
    ask(engine, views.pace, rep, engine.catalog.shown("levers"), c["day"], c["initiative"])
    ask(engine, views.streaks, rep, engine.catalog.shown("levers")[:3], c["day"], c["initiative"])
    ask(engine, views.rep_trend, rep, "new_prospect_meetings", "week",
        Window(c["day"] - dt.timedelta(days=364), c["day"]), c["initiative"])
    ask(engine, views.cards, engine.catalog.shown("consequences"), "quarter", c["day"], rep,
        c["initiative"])


def core_windows(engine: Engine) -> dict[str, Window]:
    day = views.as_of(engine)
    week = period_start(day, "week")
    return {"exec": Window(shift_years(day, -1) + dt.timedelta(days=1), day),
            "manager": Window(week - dt.timedelta(weeks=11), day),
            "rep": Window(week - dt.timedelta(weeks=51), day)}


def core_engine(engine: Engine, role: str, asked: bool = False) -> dict[str, pd.DataFrame]:
    """The role's core numbers computed by the engine (``asked``: asked as the app asks, through
    the answers this process keeps per state of the database)."""
    w = core_windows(engine)[role]

    def run(metric: str, **kw: object) -> pd.DataFrame:
        request = MetricRequest.make(metric, date_from=w.start, date_to=w.end, **kw)
        return ask(engine, views.run, request) if asked else engine.run(request)

    if role == "exec":
        return {"revenue": run("revenue", grain="month"), "win_rate": run("win_rate", grain="month"),
                "avg_deal_size": run("avg_deal_size", grain="month"),
                "win_rate_team": run("win_rate", grain="quarter", by=["team"])}
    if role == "manager":
        return {"meetings": run("new_prospect_meetings", grain="week", by=["rep"],
                                scope=Scope.teams(TEAM))}
    return {"meetings": run("new_prospect_meetings", grain="week", scope=Scope.reps(REP))}


class Tables:
    """What a pandas user starts from: the raw tables in memory."""

    def __init__(self, store: Store, role: str) -> None:
        self.opps = store.query("SELECT * FROM opportunities") if role == "exec" else None
        self.activities = store.query("SELECT * FROM activities") if role != "exec" else None
        self.assignments = store.query("SELECT * FROM rep_assignments")
        self.reps = store.query("SELECT * FROM reps")
        self.teams = store.query("SELECT * FROM teams")


def as_of_team(frame: pd.DataFrame, day_column: str, t: Tables) -> pd.DataFrame:
    """Attach the team each row's rep was in on that day."""
    joined = frame.merge(t.assignments[["rep_id", "team_id", "valid_from", "valid_to"]], on="rep_id")
    day = pd.to_datetime(joined[day_column])
    keep = (day >= pd.to_datetime(joined["valid_from"])) & (
        joined["valid_to"].isna() | (day < pd.to_datetime(joined["valid_to"])))
    return joined[keep]


def core_pandas(t: Tables, role: str, w: Window) -> dict[str, pd.DataFrame]:
    lo, hi = pd.Timestamp(w.start), pd.Timestamp(w.end)
    if role == "exec":
        o = t.opps
        closed = o[o["is_closed"] & (pd.to_datetime(o["closed_at"]) >= lo)
                   & (pd.to_datetime(o["closed_at"]) <= hi)].copy()
        closed["period"] = pd.to_datetime(closed["closed_at"]).dt.to_period("M").dt.start_time
        won = closed[closed["is_won"]]
        monthly = pd.DataFrame({"revenue": won.groupby("period")["amount"].sum(),
                                "won": won.groupby("period").size(),
                                "closed": closed.groupby("period").size()}).fillna(0)
        teamed = as_of_team(closed, "closed_at", t).merge(t.teams, on="team_id")
        teamed["period"] = pd.to_datetime(teamed["closed_at"]).dt.to_period("Q").dt.start_time
        by_team = teamed.groupby(["period", "name"]).agg(won=("is_won", "sum"),
                                                         closed=("is_won", "size"))
        return {"revenue": monthly["revenue"], "win_rate": monthly["won"] / monthly["closed"],
                "avg_deal_size": monthly["revenue"] / monthly["won"],
                "win_rate_team": by_team["won"] / by_team["closed"]}
    a = t.activities
    day = pd.to_datetime(a["occurred_at"]).dt.normalize()
    hits = a[(a["type"] == "meeting") & a["new_prospect"] & (day >= lo) & (day <= hi)].copy()
    hits["day"] = day[hits.index]
    days = pd.DataFrame({"day": pd.date_range(lo, hi)})
    reps = t.reps.merge(days, how="cross")
    active = reps[(reps["day"] >= pd.to_datetime(reps["hire_date"])) & (
        reps["end_date"].isna() | (reps["day"] <= pd.to_datetime(reps["end_date"])))]
    if role == "manager":
        hits = as_of_team(hits, "day", t)
        hits = hits[hits["team_id"] == TEAM]
        active = as_of_team(active, "day", t)
        active = active[active["team_id"] == TEAM]
    else:
        hits, active = hits[hits["rep_id"] == REP], active[active["rep_id"] == REP]
    keys = ["period", "name"] if role == "manager" else ["period"]
    for frame in (hits, active):
        frame["period"] = frame["day"].dt.to_period("W-SUN").dt.start_time
    count = hits.merge(t.reps[["rep_id", "name"]], on="rep_id").groupby(keys).size()
    weeks = active.groupby(keys).size() / 7
    return {"meetings": count.reindex(weeks.index, fill_value=0) / weeks}


def comparable(engine_result: dict[str, pd.DataFrame], pandas_result: dict[str, pd.Series]) -> None:
    """Assert both give the same numbers (periods with data; NaN where nothing to divide)."""
    for name, series in pandas_result.items():
        frame = engine_result[name]
        keys = [c for c in ("rep", "team") if c in frame.columns]
        eng = frame.set_index(["period", *keys])["value"]
        eng.index = pd.MultiIndex.from_arrays(
            [pd.to_datetime(eng.index.get_level_values(0)),
             *[eng.index.get_level_values(i) for i in range(1, eng.index.nlevels)]]) \
            if keys else pd.to_datetime(eng.index)
        mine = series.dropna()
        theirs = eng.reindex(mine.index)
        assert len(mine), f"{name}: the reference found nothing to compare"
        bad = ~((theirs - mine).abs() <= 1e-9 * mine.abs().clip(lower=1))
        both = pd.DataFrame({"engine": theirs, "pandas": mine})
        assert not bad.any(), f"{name}: engine and pandas differ:\n{both[bad].head()}"
        extra = eng.dropna()
        extra = extra[(extra != 0) & ~extra.index.isin(mine.index)]
        assert extra.empty, f"{name}: engine has values pandas has not:\n{extra.head()}"


def page_insights(engine: Engine) -> None:
    """The executive's Insights page: forecast, rollout effects, lead-lag table and detail, win
    rates, each read from the insights kept after the last import (as the page reads them)."""
    for fn, args in ask(engine, views.insight_questions):
        ask(engine, kept_answer, fn, args)


def kept_answer(engine: Engine, fn: Callable, args: tuple) -> object:
    from kpi.insights import stored

    return stored.answer(engine, fn, *args)


def refresh_insights(db: Path) -> float:
    """The work after an import: the rollups summed again from the raw rows (all of them: what
    a first import does), then every question of the executive's Insights page computed on the
    new data and kept (the data version bumped first, so nothing kept counts)."""
    from kpi import rollups
    from kpi.insights import stored

    with DuckDBStore.open(db, read_only=False) as store:
        started = time.perf_counter()
        with store.transaction():
            store.execute(f"DROP TABLE IF EXISTS {rollups.INDEX}")  # rebuilt whole
            rollups.refresh(store)
            stored.bump(store, "benchmark")
        summed = time.perf_counter() - started
        took = views.refresh_insights(Engine(store), store)
        seconds = time.perf_counter() - started
    failed = {name: why for name, why in took.items() if isinstance(why, str)}
    if failed:
        raise SystemExit(f"insights not computed: {failed}")
    print(f"  rollups {summed:.1f} s, insights {seconds - summed:.1f} s", file=sys.stderr)
    return seconds


class Counted:
    """A store that counts the queries made through it."""

    def __init__(self, store: Store) -> None:
        self.queries, self._rows = 0, store.rows

        def rows(sql: str, params: object = None) -> object:
            self.queries += 1
            return self._rows(sql, params)

        store.rows = rows  # type: ignore[method-assign]


# --- running one task in its own process ---------------------------------------------------------

TASKS: dict[str, Callable] = {"page-executive": page_executive, "page-manager": page_manager,
                              "page-rep": page_rep, "page-insights": page_insights}
SLOW_TASKS: dict[str, int] = {}  # runs at most, for a task of minutes per run


def worker(db: Path, task: str, runs: int, out: Path) -> None:
    times, result, queries = [], None, None
    for _ in range(runs):
        started = time.perf_counter()
        if task == "refresh":
            refresh_insights(db)
        elif task.startswith("page-"):
            answers.forget()  # as after a start or new data: computed
            with DuckDBStore.open(db) as store:
                counted = Counted(store)
                TASKS[task](Engine(store))
                queries = counted.queries
        elif task.startswith("engine-"):
            with DuckDBStore.open(db) as store:
                result = core_engine(Engine(store), task.split("-", 1)[1])
        else:
            role = task.split("-", 1)[1]
            with DuckDBStore.open(db) as store:
                window = core_windows(Engine(store))[role]
                if result is None:  # cold: load the tables (a notebook keeps them afterwards)
                    tables = Tables(store, role)
            result = core_pandas(tables, role, window)
        times.append(time.perf_counter() - started)
    later = []
    if task.startswith(("page-", "engine-")):  # asked again: the state read, then the answers
        work = TASKS.get(task) or functools.partial(core_engine, role=task.split("-", 1)[1],
                                                    asked=True)
        with DuckDBStore.open(db) as store:  # open, as the app's connection is
            for n in range(runs + 1):
                answers._STATES.clear()
                started = time.perf_counter()
                work(Engine(store))
                if n:  # the first may compute (the core numbers were computed without answers)
                    later.append(time.perf_counter() - started)
    out.write_bytes(pickle.dumps({"times": times, "result": result, "rss_mb": peak_rss_mb(),
                                  "queries": queries, "later": later}))


def run_task(db: Path, task: str, runs: int) -> dict:
    with tempfile.NamedTemporaryFile(suffix=".pkl", delete=False) as f:
        out = Path(f.name)
    proc = subprocess.Popen([sys.executable, __file__, "worker", str(db), task, str(runs), str(out)],
                            cwd=ROOT)
    if proc.wait() != 0:
        raise SystemExit(f"{task} on {db} failed")
    data = pickle.loads(out.read_bytes())
    out.unlink()
    times = data["times"]
    return {"cold": times[0], "warm": statistics.median(times[1:]) if len(times) > 1 else times[0],
            "rss_mb": data["rss_mb"], "result": data["result"], "queries": data.get("queries"),
            "later": statistics.median(data["later"]) if data.get("later") else None}


def bench(sizes: list[float], runs: int, pandas_limit: float) -> list[dict]:
    rows = []
    for millions in sizes:
        db = OUT / f"scale-{millions:g}m.duckdb"
        if not db.exists():
            OUT.mkdir(parents=True, exist_ok=True)
            print(f"building {db.name}...", file=sys.stderr, flush=True)
            print(f"  built in {build(db, int(millions * 1_000_000)):.1f} s", file=sys.stderr)
        print(f"{millions:g}M insights after an import...", file=sys.stderr, flush=True)
        rows.append({"size": millions, "task": "refresh", **run_task(db, "refresh", 1)})
        for task in TASKS:
            print(f"{millions:g}M {task}...", file=sys.stderr, flush=True)
            times = min(runs, SLOW_TASKS.get(task, runs))
            rows.append({"size": millions, "task": task, **run_task(db, task, times)})
        for role in ("exec", "manager", "rep"):
            print(f"{millions:g}M core {role}...", file=sys.stderr, flush=True)
            eng = run_task(db, f"engine-{role}", runs)
            row = {"size": millions, "task": f"core-{role}", "engine": eng}
            if millions <= pandas_limit:
                ref = run_task(db, f"pandas-{role}", runs)
                comparable(eng["result"], ref["result"])
                row["pandas"] = ref
            rows.append(row)
    return rows


def report(rows: list[dict], sizes: list[float]) -> str:
    import duckdb
    import streamlit

    lines = [
        "# Benchmark results", "",
        f"Run {dt.datetime.now():%Y-%m-%d %H:%M} on {os.cpu_count()} cores, "
        f"{os.sysconf('SC_PAGE_SIZE') * os.sysconf('SC_PHYS_PAGES') / 2**30:.0f} GiB RAM, "
        f"{platform.platform()}; Python {platform.python_version()}, DuckDB {duckdb.__version__}, "
        f"pandas {pd.__version__}, Streamlit {streamlit.__version__}. Sizes in millions of "
        "activities (opportunities: a tenth of that; 2,000 reps in 200 teams, two years). "
        "Cold = the first run in a fresh process (opening the database; for pandas, loading the "
        "tables); warm = median of the later runs. Peak RSS per process.", "",
        "## Page workloads through the engine (every query a page makes for one user)", "",
        "Each page asks its views as the app does (kpi.answers): a view is computed once per "
        "state of the database (its data version and the strategy rollouts' edits) and a later "
        "visit reads the answer. First visit = computed in a fresh process (after a start or an "
        "import); computed again = the same on the warm database (the median of the later runs "
        "after dropping the answers); later visit = reading the database's state (5 small "
        "queries) and the answers, on a database kept open as the app keeps it. Queries: "
        "what a computed visit sends (a page section's metrics go in one; the rest are the "
        "state's 5 reads and small reads of people, teams and kept insights).", "",
        "| activities | page | queries | first visit (s) | computed again (s) | later visit (s) "
        "| peak RSS (MB) |",
        "|---:|---|---:|---:|---:|---:|---:|"]
    for r in rows:
        if r["task"].startswith("page-"):
            lines.append(f"| {r['size']:g}M | {r['task'][5:]} | {r['queries']} | {r['cold']:.2f} | "
                         f"{r['warm']:.2f} | {r['later']:.3f} | {r['rss_mb']:.0f} |")
    lines += ["", "The insights page reads the answers kept after the last import; the work after "
              "an import is summing the rollups again and computing them:", "",
              "| activities | import to fresh insights (s) | peak RSS (MB) |", "|---:|---:|---:|"]
    for r in rows:
        if r["task"] == "refresh":
            lines.append(f"| {r['size']:g}M | {r['cold']:.1f} | {r['rss_mb']:.0f} |")
    lines += ["", "## Core numbers: engine against a pandas reference (same numbers, asserted)", "",
              "Engine cold and warm: computed (each run opens the database); asked again: as the "
              "app asks, from the answers the process keeps for the database's state (read "
              "again each run), the database kept open as the app keeps it. Pandas warm: the "
              "tables kept in memory, computed again. So the last speed-up compares pandas computing "
              "again with the engine reading what it computed: what a later visit costs in each.", "",
              "| activities | role | engine cold (s) | engine warm (s) | engine asked again (s) | "
              "engine RSS (MB) | pandas cold (s) | pandas warm (s) | pandas RSS (MB) | "
              "speed-up (cold) | pandas warm / engine asked again | memory |",
              "|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for r in rows:
        if not r["task"].startswith("core-"):
            continue
        e, p = r["engine"], r.get("pandas")
        cells = [f"{r['size']:g}M", r["task"][5:], f"{e['cold']:.2f}", f"{e['warm']:.3f}",
                 f"{e['later']:.3f}", f"{e['rss_mb']:.0f}"]
        if p:
            cells += [f"{p['cold']:.2f}", f"{p['warm']:.3f}", f"{p['rss_mb']:.0f}",
                      f"{p['cold'] / e['cold']:.1f}x", f"{p['warm'] / e['later']:.1f}x",
                      f"{e['rss_mb'] / p['rss_mb']:.2f}"]
        else:
            cells += ["—", "—", "—", "—", "—", "—"]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "worker":
        worker(Path(sys.argv[2]), sys.argv[3], int(sys.argv[4]), Path(sys.argv[5]))
        return
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1,10", help="millions of activities, e.g. 1,10,50")
    parser.add_argument("--runs", type=int, default=4)
    parser.add_argument("--pandas-limit", type=float, default=20,
                        help="largest size (millions) to run the pandas reference at")
    parser.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "RESULTS.md")
    parser.add_argument("--import-rows", type=int, default=2_700_000,
                        help="deals in the Salesforce export whose import is timed (0: skip)")
    parser.add_argument("--pages", type=Path, nargs="*", default=[],
                        help="also time the pages in Chromium on these databases ('scale' = the "
                             "largest size up to 10M)")
    args = parser.parse_args()
    sizes = [float(s) for s in args.sizes.split(",")]
    rows = bench(sizes, args.runs, args.pandas_limit)
    text = report(rows, sizes)
    scale = OUT / f"scale-{max(s for s in sizes if s <= 10):g}m.duckdb"
    for db in args.pages:
        target = scale.relative_to(ROOT) if str(db) == "scale" else db
        text += "\n## Pages in headless Chromium\n\n" + page_times(target)
    if args.import_rows:
        from benchmarks.import_export import run as import_run

        print(f"import of a {args.import_rows:,}-deal export...", file=sys.stderr, flush=True)
        text += "\n" + import_run(args.import_rows)
    args.out.write_text(text + kept_sections(args.out, text))
    print(text)


def kept_sections(path: Path, text: str) -> str:
    """The sections of the results file this run does not write (the load test's, Spark's),
    as they were."""
    if not path.exists():
        return ""
    written = {line for line in text.splitlines() if line.startswith("## ")}
    kept = [part for part in path.read_text().split("\n## ")[1:]
            if f"## {part.splitlines()[0]}" not in written]
    return "".join(f"\n## {part.rstrip()}\n" for part in kept)


def page_times(db: Path) -> str:
    print(f"page times on {db}...", file=sys.stderr, flush=True)
    done = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "page_times.py"), "--db",
                           str(db)], capture_output=True, text=True, cwd=ROOT, check=True)
    return done.stdout


if __name__ == "__main__":
    main()
