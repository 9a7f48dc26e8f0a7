"""`python -m kpi ...`: the stable interface for scripts and checks.

Every command prints its result to stdout; every expected failure prints one line to stderr
(``error: what — how to fix it``) and exits with status 2.
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import json
import math
import os
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from kpi.catalog import load_catalog
from kpi.engine import Engine, MetricRequest
from kpi.errors import InvalidRequest, KpiError
from kpi.schema import GRAINS, ROLES
from kpi.store import DuckDBStore, Store
from kpi.store import describe as describe_db

FORMATS = ("table", "csv", "json")


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        return int(args.handler(args) or 0)
    except KpiError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except BrokenPipeError:
        return 0


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m kpi", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(required=True, metavar="COMMAND")

    p = sub.add_parser("metrics", help="list the metric catalog")
    p.add_argument("--kind", choices=("output", "lever"))
    p.add_argument("--format", choices=FORMATS, default="table")
    p.set_defaults(handler=_metrics)

    p = sub.add_parser("query", help="compute one metric by period and dimensions")
    p.add_argument("metric")
    _db(p)
    p.add_argument("--grain", choices=GRAINS, default="month")
    p.add_argument("--by", default="", help="comma-separated dimensions, e.g. team,region")
    p.add_argument("--from", dest="date_from", type=_date, help="first day, YYYY-MM-DD")
    p.add_argument("--to", dest="date_to", type=_date, help="last day, YYYY-MM-DD")
    p.add_argument("--filter", action="append", default=[], metavar="DIM=VALUE[,VALUE]",
                   help="keep only these values of a dimension (repeatable)")
    p.add_argument("--attribution", choices=("as_of", "current"), default="as_of",
                   help="credit history to the team at the time (as_of) or today's team")
    p.add_argument("--format", choices=FORMATS, default="table")
    p.add_argument("--sql", action="store_true", help="print the compiled SQL instead of running it")
    p.set_defaults(handler=_query)

    p = sub.add_parser("initiative", help="strategy rollouts: list, or report progress")
    p.add_argument("action", choices=("list", "report"))
    p.add_argument("name", nargs="?", help="initiative name or id (for report)")
    _db(p)
    p.add_argument("--as-of", type=_date, help="report as of this day (default: last data day)")
    p.add_argument("--format", choices=("table", "json"), default="table")
    p.set_defaults(handler=_initiative)

    p = sub.add_parser("import", help="load CRM exports (CSV or .xlsx) into a database")
    p.add_argument("sources", nargs="+", type=Path, metavar="FILE",
                   help="export files; a folder means every .csv/.xlsx in it")
    _db(p, "DuckDB file (created if missing) or SQLAlchemy URL", beside=False)
    p.add_argument("--preset", required=True, help="canonical, salesforce, hubspot, maven, or yours")
    p.add_argument("--on-error", choices=("stop", "skip"), default="stop",
                   help="stop: import nothing if any row is bad (default); skip: leave bad rows out")
    p.add_argument("--check", action="store_true",
                   help="validate and report only; write nothing (not even a new database file)")
    p.add_argument("--date-order", choices=("MDY", "DMY"),
                   help="how to read dates like 03/04/2025 when nothing in the export tells: "
                        "MDY (month first, US) or DMY (day first)")
    p.add_argument("--decimal", choices=("point", "comma"),
                   help="how to read numbers like 1,234 when nothing in the export tells: "
                        "point (1,234.50) or comma (1.234,50)")
    p.add_argument("--no-insights", action="store_true",
                   help="leave the Insights page's statistics to be computed later (by "
                        "`refresh`, or on the page's first visit)")
    p.set_defaults(handler=_import)

    p = sub.add_parser("refresh", help="compute the Insights page's statistics on the data as it "
                                       "is now (after loading it by other means than import)")
    _db(p)
    p.add_argument("--teams", action="store_true",
                   help="each team manager's questions too (else computed on their first visit)")
    p.set_defaults(handler=_refresh)

    p = sub.add_parser("user", help="local accounts: add, passwd, list")
    p.add_argument("action", choices=("add", "passwd", "list"))
    p.add_argument("user_id", nargs="?")
    _db(p)
    p.add_argument("--name", default="")
    p.add_argument("--email")
    p.add_argument("--role", choices=ROLES, default="admin")
    p.add_argument("--rep", help="the rep a rep user is (rep_id)")
    p.add_argument("--team", help="the team a manager manages (team_id)")
    p.add_argument("--password-stdin", action="store_true",
                   help="read the password from standard input instead of prompting")
    p.set_defaults(handler=_user)

    p = sub.add_parser("stages", help="the pipeline's stages: order, open/won/lost and role")
    _db(p)
    p.add_argument("--refresh", action="store_true",
                   help="derive them again from the data (after loading it by other means)")
    p.add_argument("--format", choices=FORMATS, default="table")
    p.set_defaults(handler=_stages)

    p = sub.add_parser("presets", help="list the import presets")
    p.set_defaults(handler=_presets)

    p = sub.add_parser("demo", help="build the seeded demo company database")
    _db(p, "the DuckDB file to write", beside=False)
    p.add_argument("--seed", type=int, default=7)
    p.add_argument("--reps", type=int, default=48)
    p.add_argument("--years", type=int, default=2)
    p.add_argument("--force", action="store_true", help="replace an existing file")
    p.set_defaults(handler=_demo)
    return parser


def _db(p: argparse.ArgumentParser, what: str = "DuckDB file or SQLAlchemy URL",
        beside: bool = True) -> None:
    """``--db``; by default the app's own database: KPI_DATABASE_URL, else KPI_DB; and, for a
    warehouse leverboard only reads, ``--app-db``: the DuckDB file beside it (KPI_APP_DB)."""
    default = os.environ.get("KPI_DATABASE_URL") or os.environ.get("KPI_DB")
    p.add_argument("--db", required=default is None, default=default,
                   help=f"{what} (default: KPI_DATABASE_URL, else KPI_DB)")
    if beside:
        p.add_argument("--app-db", default=os.environ.get("KPI_APP_DB") or None,
                       help="with a warehouse (Spark, Databricks) as --db: the DuckDB file beside "
                            "it that keeps the app's tables, the rollups and the kept insights "
                            "(default: KPI_APP_DB)")


def _store(args: argparse.Namespace, read_only: bool = True) -> Store:
    """The database of ``--db`` (beside ``--app-db`` when given)."""
    from kpi.store import connect

    return connect(args.db, read_only, app=getattr(args, "app_db", None))


def _date(text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date like 2025-01-31") from None


def _metrics(args: argparse.Namespace) -> None:
    rows = [{"id": m.id, "kind": m.kind, "unit": m.unit, "direction": m.direction,
             "roles": ",".join(m.roles), "formula": m.formula, "definition": m.definition}
            for m in load_catalog() if args.kind in (None, m.kind)]
    _emit_records(rows, args.format)


def _query(args: argparse.Namespace) -> None:
    with _store(args) as store:
        engine = Engine(store)
        request = MetricRequest.make(
            args.metric, grain=args.grain, by=[d.strip() for d in args.by.split(",") if d.strip()],
            date_from=args.date_from, date_to=args.date_to, filters=_filters(args.filter),
            attribution=args.attribution,
        )
        if args.sql:
            print(engine.compile(request).sql)
            return
        columns, rows = engine.rows(request)
        _emit_records([dict(zip(columns, r, strict=True)) for r in rows], args.format)


def _filters(items: list[str]) -> dict[str, list[str]]:
    filters: dict[str, list[str]] = {}
    for item in items:
        dim, sep, values = item.partition("=")
        if not sep or not values:
            raise InvalidRequest(f"--filter {item!r} is not DIM=VALUE", "e.g. --filter region=East")
        filters.setdefault(dim.strip(), []).extend(v.strip() for v in values.split(","))
    return filters


def _initiative(args: argparse.Namespace) -> None:
    from kpi.baseline import report
    from kpi.initiatives import get_initiative, list_initiatives

    with _store(args) as store:
        if args.action == "list":
            rows = [{"id": i.initiative_id, "name": i.name, "rollout_date": i.rollout_date,
                     "baseline_weeks": i.baseline_weeks, "target_date": i.target_date,
                     "teams": len(i.teams), "targets": ", ".join(i.metric_ids())}
                    for i in list_initiatives(store)]
            _emit_records(rows, args.format)
            return
        if not args.name:
            raise InvalidRequest("initiative report needs a NAME", "see `initiative list`")
        engine = Engine(store)
        initiative = get_initiative(store, args.name)
        result = report(engine, initiative, args.as_of or engine.data_range()[1])
    if args.format == "json":
        print(json.dumps(result, indent=2, default=str))
    else:
        _emit_records(result["metrics"], "table")


READ = (".csv", ".tsv", ".xlsx", ".xlsm")  # what a folder given to `import` is read for


def _files(paths: list[Path]) -> tuple[list[Path], list[str]]:
    """The files to read, and a note on the files of a folder that were not (.xls, .txt ...)."""
    found: list[Path] = []
    notes: list[str] = []
    for path in paths:
        if path.is_dir():
            inside = sorted(p for p in path.iterdir() if p.is_file()
                            and not p.name.startswith((".", "~$")))
            found += [p for p in inside if p.suffix.lower() in READ]
            other = [p.name for p in inside if p.suffix.lower() not in READ]
            if other:
                notes.append(f"not read from {path}: {', '.join(other)} (a folder is read for "
                             f"{', '.join(READ)} files; save .xls workbooks as .xlsx or CSV)")
        elif path.is_file():
            found.append(path)
        else:
            raise InvalidRequest(f"{path}: no such file or folder", "check the path")
    return found, notes


def _import(args: argparse.Namespace) -> int:
    try:
        return _run_import(args)
    except KpiError:
        raise
    except Exception as exc:  # noqa: BLE001 - an import ends in a report line, never a traceback
        print(f"error: the import stopped on an unexpected {type(exc).__name__}: {exc} — nothing "
              "was written; this is a bug in leverboard: please report it with the files",
              file=sys.stderr)
        return 2


def _open(args: argparse.Namespace, write: bool) -> Store | None:
    """The target database; None when it does not exist yet and nothing is to be written."""
    from kpi.store import SqlStore

    if "://" in args.db:
        return SqlStore.open_url(args.db, read_only=not write)
    if Path(args.db).is_file():
        return DuckDBStore.open(args.db, read_only=not write)
    return DuckDBStore.create(args.db) if write else None


def _run_import(args: argparse.Namespace) -> int:
    import dataclasses

    from kpi.ingest import Source, load, load_preset, plan_import
    from kpi.ingest.load import refusal
    from kpi.people import list_users

    preset = load_preset(args.preset)
    preset = dataclasses.replace(preset, date_order=args.date_order or preset.date_order,
                                 decimal=args.decimal or preset.decimal)
    paths, skipped = _files(args.sources)
    sources = [Source.from_path(p) for p in paths]
    if "://" in args.db and not args.check:  # a database that takes no writes: said before reading
        target = _open(args, write=True)
        if target is not None:
            try:
                with target.transaction():
                    pass
            finally:
                target.close()
    print(f"reading {len(sources)} file(s) with preset {preset.name!r}...", file=sys.stderr)
    store = _open(args, write=False)
    try:
        plan = plan_import(sources, preset, store)
    finally:
        if store is not None:
            store.close()
    plan.report.notes[:0] = skipped
    for note in plan.report.notes:
        print(f"note: {note}", file=sys.stderr)
    for line in plan.report.lines():
        print(f"problem: {line}", file=sys.stderr)
    if args.check:
        print(f"checked {plan.rows_read:,} rows: {len(plan.report.problems):,} problems "
              "(nothing written)")
        return 2 if plan.report.problems else 0
    refused = refusal(plan, args.on_error)
    if refused is not None:
        raise refused
    new_file = "://" not in args.db and not Path(args.db).exists()
    store = _open(args, write=True)
    assert store is not None
    try:
        result = load(store, plan, on_error=args.on_error, release=True,  # written once
                      progress=lambda share, text: print(f"[{share:4.0%}] {text}", file=sys.stderr,
                                                         flush=True))
        users = len(list_users(store))
    except BaseException:
        store.close()
        if new_file:  # a failed import into a new file leaves no file behind
            for path in (Path(args.db), Path(f"{args.db}.wal")):
                path.unlink(missing_ok=True)
        raise
    finally:
        store.close()
    del plan  # the rows read, no longer needed while the insights are computed
    loaded = ", ".join(f"{n:,} {t}" for t, n in result.rows_loaded.items())
    print(f"imported {result.rows_read:,} rows read: {loaded}; "
          f"{result.rows_skipped:,} left out (import {result.import_id})")
    for line in result.left_out:
        print(f"left out: {line}", file=sys.stderr)
    if not users:
        print(f"note: {args.db} has no users yet: create the first admin on the app's first-run "
              f"screen, or with `python -m kpi user add admin --db {args.db} --role admin`",
              file=sys.stderr)
    if not args.no_insights:
        _compute_insights(args.db, changed=False)
    return 0


def _refresh(args: argparse.Namespace) -> None:
    _compute_insights(args.db, changed=True, teams=args.teams, app=args.app_db)


def _compute_insights(db: str, changed: bool, teams: bool = False, app: str | None = None
                      ) -> None:
    """Compute and keep the Insights page's statistics on the current data (``changed``: first
    record that the data changed, so every kept insight counts as stale)."""
    from kpi import rollups, views
    from kpi.insights import stored
    from kpi.store import connect

    started = time.perf_counter()
    print("computing the Insights page's statistics on the new data...", file=sys.stderr,
          flush=True)
    with connect(db, read_only=False, app=app) as store:
        if changed:
            with store.transaction():
                rollups.refresh(store)  # data loaded by other tools: sum it again
                stored.bump(store, "python -m kpi refresh")
        try:
            took = views.refresh_insights(Engine(store), store, teams)
        except KpiError as exc:  # no data yet
            print(f"note: no insights computed: {exc}", file=sys.stderr)
            return
    each = ", ".join(f"{name} {seconds:.1f}s" for name, seconds in took.items()
                     if isinstance(seconds, float))
    print(f"insights computed in {time.perf_counter() - started:.1f}s ({each})", file=sys.stderr)
    for name, why in took.items():
        if isinstance(why, str):
            print(f"note: {name} not computed ({why}); the Insights page computes it on its "
                  "first visit", file=sys.stderr)


def _user(args: argparse.Namespace) -> None:
    from kpi.auth import add_user, set_password
    from kpi.people import list_users

    with _store(args, read_only=args.action == "list") as store:
        if args.action == "list":
            for u in list_users(store):
                binding = u.rep_id or u.team_id or ""
                print(f"{u.user_id:16} {u.role:10} {binding:8} {u.name}")
            return
        if not args.user_id:
            raise InvalidRequest(f"user {args.action} needs a user id")
        password = _password(args.password_stdin)
        if args.action == "add":
            user = add_user(store, args.user_id, args.name or args.user_id, args.role, password,
                            args.email, args.rep, args.team)
            print(f"added {user.user_id} ({user.role})")
        else:
            set_password(store, args.user_id, password)
            print(f"password set for {args.user_id}")


def _password(from_stdin: bool) -> str:
    import getpass

    if from_stdin:
        return sys.stdin.readline().rstrip("\n")
    first = getpass.getpass("password: ")
    if getpass.getpass("again: ") != first:
        raise InvalidRequest("the two passwords differ", "type the same password twice")
    return first


def _stages(args: argparse.Namespace) -> None:
    from kpi import stages

    with _store(args, read_only=not args.refresh) as store:
        if args.refresh:
            from kpi.insights import stored

            with store.transaction():
                table = stages.refresh(store)
                stored.bump(store, "python -m kpi stages")  # the forecast reads the stages
        else:
            table = stages.read(store)
    _emit_records(table.astype(object).where(table.notna(), None).to_dict("records"), args.format)
    print(stages.describe(table), file=sys.stderr)


def _presets(args: argparse.Namespace) -> None:
    from kpi.ingest import list_presets

    for preset in list_presets():
        kinds = ", ".join(dict.fromkeys(f.table for f in preset.files))
        print(f"{preset.name:12} {kinds}\n             {preset.description}")


def _demo(args: argparse.Namespace) -> None:
    from kpi import demo

    if "://" in args.db:
        raise InvalidRequest(f"the demo is written as a DuckDB file, not to {describe_db(args.db)}",
                             "give a file path, e.g. --db data/demo.duckdb; load it into another "
                             "database with `python -m kpi import`")
    args.db = Path(args.db)
    if args.db.exists() and not args.force:
        raise InvalidRequest(f"{args.db} already exists", "pass --force to rebuild it")
    if args.reps < 4 or args.years < 1:
        raise InvalidRequest("the demo needs at least 4 reps and 1 year")
    started = time.perf_counter()
    print(f"building demo company (seed {args.seed}, {args.reps} reps, {args.years} years)...",
          file=sys.stderr)
    config = demo.DemoConfig(seed=args.seed, reps=args.reps, years=args.years)
    counts = demo.build(args.db, config)
    summary = ", ".join(f"{n:,} {t}" for t, n in counts.items() if n)
    print(f"wrote {args.db} in {time.perf_counter() - started:.1f}s: {summary}", file=sys.stderr)
    _compute_insights(str(args.db), changed=False)


def _emit_records(records: list[dict[str, Any]], fmt: str) -> None:
    """Print records as csv, json (NaN as null, dates ISO) or an aligned table."""
    records = [{k: _cell(v) for k, v in r.items()} for r in records]
    if fmt == "json":
        print(json.dumps(records, indent=2, default=str))
    elif fmt == "csv":
        if records:
            writer = csv.DictWriter(sys.stdout, fieldnames=list(records[0]), lineterminator="\n")
            writer.writeheader()
            writer.writerows(records)
    elif not records:
        print("(no rows)")
    else:
        import pandas as pd

        print(pd.DataFrame(records).to_string(index=False))


def _cell(value: Any) -> Any:
    if isinstance(value, float) and math.isnan(value):
        return None
    return value.isoformat() if isinstance(value, dt.date) else value
