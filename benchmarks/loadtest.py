"""Concurrent sessions against the running app: errors, page times and server memory.

Starts ``--servers`` Streamlit processes on 127.0.0.1 (never another interface) over one copy of
a demo database, then runs each count of ``--sessions`` for ``--seconds``: every session is a
websocket client that speaks Streamlit's own protocol (the messages a browser sends), signs in
as a demo user (the mix of the security issue: per 20 sessions 1 executive, 1 admin, 6 managers,
12 reps), then opens its role's pages at random with 0.2-1 s of thinking between them. A page
view is timed from the request until its script has finished on the server and every message of
it has arrived. Errors are failed connections, timeouts, tracebacks and error boxes on a page.

    python benchmarks/loadtest.py --db data/demo.duckdb                 # 20 and 50 sessions, 60 s
    python benchmarks/loadtest.py --db data/demo.duckdb --servers 2     # two server processes
    python benchmarks/loadtest.py --db data/demo.duckdb --write         # into benchmarks/RESULTS.md

No browser draws the pages, so the times are the server's share of a visit (what grows with the
number of sessions); the browser's drawing adds a roughly constant part (see the Chromium
tables). The clients run in this process and share the two cores with the servers.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import random
import shutil
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import websockets
from streamlit.proto.BackMsg_pb2 import BackMsg
from streamlit.proto.ForwardMsg_pb2 import ForwardMsg

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.e2e.conftest import AppServer  # noqa: E402

# per 20 sessions, as measured in the security issue
MIX = ["executive", "admin"] + ["manager"] * 6 + ["rep"] * 12
TIMEOUT = 120.0  # seconds a page view may take before it counts as an error
FINISHED = ForwardMsg.ScriptFinishedStatus.FINISHED_SUCCESSFULLY
RERUN = ForwardMsg.ScriptFinishedStatus.FINISHED_EARLY_FOR_RERUN
ERROR_FORMAT = 2  # Alert.Format.ERROR in Streamlit's Alert proto


class LoadError(Exception):
    """A page view that went wrong, in words."""


@dataclass
class Tally:
    times: list[float] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    sign_ins: list[float] = field(default_factory=list)


@dataclass
class Run:
    """What one script run sent: its widgets, the pages of the navigation, problems."""

    widgets: dict[str, tuple[str, object]] = field(default_factory=dict)  # label -> (id, proto)
    pages: dict[str, str] = field(default_factory=dict)  # page name -> script hash
    problems: list[str] = field(default_factory=list)


async def _script_run(ws: websockets.ClientConnection, request: BackMsg) -> Run:
    """Send ``request`` and read until a script run has finished (not one cut short by
    ``st.rerun``, whose next run follows)."""
    run = Run()
    await ws.send(request.SerializeToString())
    while True:
        message = ForwardMsg()
        message.ParseFromString(await ws.recv())
        kind = message.WhichOneof("type")
        if kind == "navigation":
            run.pages = {p.page_name: p.page_script_hash for p in message.navigation.app_pages}
        elif kind == "delta" and message.delta.WhichOneof("type") == "new_element":
            element = message.delta.new_element
            which = element.WhichOneof("type")
            if which == "exception":
                run.problems.append(f"traceback: {element.exception.message[:200]}")
            elif which == "alert" and element.alert.format == ERROR_FORMAT:
                run.problems.append(f"error box: {element.alert.body[:200]}")
            elif which in ("selectbox", "button"):
                widget = getattr(element, which)
                run.widgets[widget.label] = (widget.id, widget)
        elif kind == "script_finished":
            if message.script_finished == RERUN:
                continue
            if message.script_finished != FINISHED:
                run.problems.append(f"script finished with status {message.script_finished}")
            return run


def _rerun(page_hash: str = "", **states: object) -> BackMsg:
    request = BackMsg()
    request.rerun_script.query_string = ""
    request.rerun_script.page_script_hash = page_hash
    for widget_id, value in states.items():
        state = request.rerun_script.widget_states.widgets.add()
        state.id = widget_id
        if value is True:
            state.trigger_value = True
        else:
            state.string_value = str(value)
    return request


async def _session(url: str, role: str, rng: random.Random, until: float, tally: Tally) -> None:
    """One visitor: sign in as a demo user of ``role``, then open pages until ``until``."""
    try:
        async with websockets.connect(url, subprotocols=["streamlit"], max_size=None,
                                      open_timeout=TIMEOUT) as ws:
            start = time.perf_counter()
            screen = await asyncio.wait_for(_script_run(ws, _rerun()), TIMEOUT)
            picker, button = screen.widgets.get("Demo user"), screen.widgets.get(
                "Enter the demo as this user")
            if picker is None or button is None:
                raise LoadError("the sign-in screen offers no demo users (not a demo database?)")
            labels = [o for o in picker[1].options if o.split(" — ")[-1].split(",")[0] == role]
            signed = await asyncio.wait_for(
                _script_run(ws, _rerun(**{picker[0]: rng.choice(labels), button[0]: True})),
                TIMEOUT)
            if not signed.pages or signed.problems:
                raise LoadError(f"sign-in as a {role} failed: {signed.problems or 'no pages'}")
            tally.sign_ins.append(time.perf_counter() - start)
            pages = list(signed.pages.values())
            while time.perf_counter() < until:
                await asyncio.sleep(rng.uniform(0.2, 1.0))
                begun = time.perf_counter()
                try:
                    shown = await asyncio.wait_for(_script_run(ws, _rerun(rng.choice(pages))),
                                                   TIMEOUT)
                except TimeoutError:
                    tally.errors.append(f"{role}: a page took over {TIMEOUT:.0f} s")
                    return
                tally.times.append(time.perf_counter() - begun)
                tally.errors.extend(f"{role}: {p}" for p in shown.problems)
    except (OSError, TimeoutError, LoadError, websockets.WebSocketException) as exc:
        tally.errors.append(f"{role}: {type(exc).__name__}: {exc}")


def _proc(pid: int) -> tuple[float, float]:
    """A process's CPU seconds (user + system) and resident memory in MB, from /proc."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    cpu = (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    rss = int(fields[21]) * os.sysconf("SC_PAGE_SIZE") / 2**20
    return cpu, rss


async def _watch(pids: list[int], stop: asyncio.Event, samples: list[float]) -> None:
    """The servers' memory together, every half second."""
    while not stop.is_set():
        samples.append(sum(_proc(p)[1] for p in pids))
        await asyncio.sleep(0.5)


async def _load(urls: list[str], sessions: int, seconds: float, pids: list[int],
                seed: int) -> dict[str, object]:
    tally, memory, stop = Tally(), [], asyncio.Event()
    cpu_before = sum(_proc(p)[0] for p in pids)
    memory_before = sum(_proc(p)[1] for p in pids)
    watcher = asyncio.create_task(_watch(pids, stop, memory))
    until = time.perf_counter() + seconds
    await asyncio.gather(*(
        _session(urls[i % len(urls)], MIX[i % len(MIX)], random.Random(seed * 1000 + i), until,
                 tally) for i in range(sessions)))
    stop.set()
    await watcher
    cpu = sum(_proc(p)[0] for p in pids) - cpu_before
    views = len(tally.times)
    drawn = views + len(tally.sign_ins)  # a sign-in draws the role's first page
    quantiles = (statistics.quantiles(tally.times, n=20, method="inclusive") if views >= 2
                 else [float("nan")] * 19)
    return {"sessions": sessions, "servers": len(urls), "views": views,
            "errors": len(tally.errors), "examples": sorted(set(tally.errors))[:5],
            "p50": statistics.median(tally.times) if views else float("nan"),
            "p95": quantiles[18], "max": max(tally.times, default=float("nan")),
            "sign_in_p50": statistics.median(tally.sign_ins) if tally.sign_ins else float("nan"),
            "rss_start": memory_before, "rss_end": memory[-1] if memory else memory_before,
            "rss_peak": max(memory, default=memory_before),
            "cpu_per_view": cpu / drawn if drawn else float("nan"),
            "views_per_s": views / seconds}


def table(results: list[dict[str, object]], seconds: float, db: Path) -> str:
    from importlib.metadata import version

    when = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    lines = [
        "## Concurrent sessions", "",
        f"Run {when} on {os.cpu_count()} cores, Linux {platform.release()}; Python "
        f"{platform.python_version()}, Streamlit {version('streamlit')}, DuckDB {version('duckdb')}"
        f". `make loadtest`: the demo database ({db.name}), {seconds:.0f} s per row, sessions "
        "signed in as demo users (per 20: 1 executive, 1 admin, 6 managers, 12 reps) opening "
        "their role's pages at random with 0.2-1 s between them, over websockets on 127.0.0.1 "
        "(no browser drawing; the clients share the cores). Server memory: every server process "
        "together, before / at the end / at its peak. CPU per view: the servers' CPU seconds "
        "over the pages drawn (a sign-in draws the role's first page). The first row starts on "
        "cold caches, as a Monday morning does.", "",
        "| sessions | servers | page views | views/s | errors | p50 (s) | p95 (s) | max (s) | "
        "server RSS start / end / peak (MB) | server CPU per view (s) |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|---|---:|"]
    for r in results:
        lines.append(
            f"| {r['sessions']} | {r['servers']} | {r['views']} | {r['views_per_s']:.1f} | "
            f"{r['errors']} | {r['p50']:.2f} | {r['p95']:.2f} | {r['max']:.2f} | "
            f"{r['rss_start']:.0f} / {r['rss_end']:.0f} / {r['rss_peak']:.0f} | "
            f"{r['cpu_per_view']:.3f} |")
    examples = sorted({e for r in results for e in r["examples"]})  # type: ignore[attr-defined]
    if examples:
        lines += ["", "Errors seen (first of each kind): " + "; ".join(examples)]
    return "\n".join(lines) + "\n"


def replace_section(path: Path, section: str) -> None:
    """Put ``section`` into RESULTS.md in place of the one with its heading (or at the end)."""
    text = path.read_text() if path.exists() else "# Benchmark results\n"
    heading = section.splitlines()[0]
    if heading in text:
        before, rest = text.split(heading, 1)
        after = rest.split("\n## ", 1)
        text = before + section + ("\n## " + after[1] if len(after) > 1 else "")
    else:
        text = text.rstrip("\n") + "\n\n" + section
    path.write_text(text)


def _with_servers(source: Path, servers: int, counts: list[int], seconds: float,
                  seed: int) -> list[dict[str, object]]:
    """Each count of sessions against ``servers`` fresh server processes on one copy of
    ``source`` (the first count starts on cold caches)."""
    results = []
    with tempfile.TemporaryDirectory(prefix="leverboard-load-") as tmp:
        db = Path(tmp) / "demo.duckdb"
        shutil.copy(source, db)
        apps = []
        for i in range(servers):
            workdir = Path(tmp) / f"server{i}"
            workdir.mkdir()
            apps.append(AppServer(db, workdir))
        try:
            for app in apps:
                app.start()
            urls = [f"ws://127.0.0.1:{a.port}/_stcore/stream" for a in apps]
            pids = [a.proc.pid for a in apps if a.proc is not None]
            for n in counts:
                result = asyncio.run(_load(urls, n, seconds, pids, seed))
                print(f"{servers} server(s), {n} sessions: {result['views']} views, "
                      f"{result['errors']} errors, p50 {result['p50']:.2f} s, "
                      f"p95 {result['p95']:.2f} s", flush=True)
                results.append(result)
        finally:
            for app in apps:
                app.stop()
    return results


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--db", type=Path, default=ROOT / "data" / "demo.duckdb")
    parser.add_argument("--sessions", default="20,50", help="session counts, separated by commas")
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--servers", default="1",
                        help="server processes on one database, several counts separated by commas")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--write", action="store_true", help="update benchmarks/RESULTS.md")
    args = parser.parse_args(argv)
    if not args.db.exists():
        print(f"no database at {args.db}: build the demo with `make demo`", file=sys.stderr)
        return 2
    counts = [int(n) for n in args.sessions.split(",")]
    server_counts = [int(n) for n in args.servers.split(",")]
    if not 1 <= min(server_counts) <= max(server_counts) <= 8 or args.seconds > 600 or max(counts) > 200:
        print("at most 8 servers, 200 sessions and 600 s", file=sys.stderr)
        return 2
    results = []
    for servers in server_counts:
        results += _with_servers(args.db, servers, counts, args.seconds, args.seed)
    section = table(results, args.seconds, args.db)
    print(section)
    if args.write:
        replace_section(ROOT / "benchmarks" / "RESULTS.md", section)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
