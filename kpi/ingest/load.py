"""Write a checked plan: one transaction, upserts by the CRM's ids, and a record of the import."""

from __future__ import annotations

import datetime as dt
import getpass
import json
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pandas as pd

from kpi import rollups, schema, stages
from kpi.errors import ImportRefused, InvalidRequest
from kpi.ingest.plan import UNASSIGNED, Plan, bad_marks
from kpi.ingest.presets import TABLES
from kpi.ingest.stages import TOUCHING, stage_lists
from kpi.ingest.values import blank
from kpi.insights import stored
from kpi.people import _day
from kpi.store import Store

ORDER = TABLES  # the order they are written in: referenced tables first
Progress = Callable[[float, str], None]


@dataclass(frozen=True)
class ImportResult:
    import_id: str
    rows_read: int
    rows_loaded: dict[str, int]
    rows_skipped: int
    left_out: tuple[str, ...] = ()  # per file: how many rows with problems were left out

    @property
    def total_loaded(self) -> int:
        return sum(self.rows_loaded.values())


def load(store: Store, plan: Plan, on_error: str = "stop", loaded_by: str | None = None,
         progress: Progress | None = None, release: bool = False) -> ImportResult:
    """Write the plan all or nothing. ``on_error='skip'`` leaves rows with problems out.

    ``release``: the plan is written once (the command line), so its rows are let go of as they
    are written and the sums after them have that memory; a released plan cannot be loaded
    again, even when this load fails (plan the files again).
    """
    if on_error not in ("stop", "skip"):
        raise InvalidRequest(f"unknown on_error {on_error!r}", "use 'stop' or 'skip'")
    refused = refusal(plan, on_error)
    if refused is not None:
        raise refused
    frames = {t: f for t, f in plan.frames(skip_bad=True).items() if len(f)}
    skipped, left_out = max(plan.rows_read - _file_rows_kept(plan), 0), _left_out(plan)
    touched = bool(set(TOUCHING) & set(frames))
    lists = stage_lists(plan.preset, frames) if touched else []
    if release:
        plan.tables.clear()  # what is left of the rows read: the frames being written
    tell = progress or (lambda share, text: None)
    started = dt.datetime.now().replace(microsecond=0)
    loaded: dict[str, int] = {}
    with store.transaction():
        for statement in schema.ddl():
            store.execute(statement)
        steps = [t for t in ORDER if t in frames]
        for i, table in enumerate(steps):
            tell(i / max(len(steps), 1), f"writing {table} ({len(frames[table]):,} rows)")
            loaded[table] = _write(store, table, frames.pop(table) if release else frames[table])
        if release:
            _hand_back_memory()
        if touched:  # stage names as the pipeline shows them, all data
            tell(0.95, "deriving the pipeline's stages")
            stages.refresh(store, lists)
        tell(0.97, "summing the new data per rep and day")
        rollups.refresh(store)
        result = ImportResult(uuid.uuid4().hex[:12], plan.rows_read, loaded, skipped, left_out)
        _record(store, plan, result, started, loaded_by)
        stored.bump(store, f"import {result.import_id}")  # kept insights are of older data now
    tell(1.0, "done")
    return result


def _hand_back_memory() -> None:
    """Return the memory of the rows let go of to the system (Arrow keeps freed buffers in its
    own pool, where the database's sums could not use them)."""
    import gc

    gc.collect()
    try:
        import pyarrow as pa

        pa.default_memory_pool().release_unused()
    except (ImportError, AttributeError):  # no pyarrow (nothing pooled), or one too old to say
        pass


def refusal(plan: Plan, on_error: str) -> ImportRefused | None:
    """Why this plan may not be written (None when it may): a file that cannot be read, or
    problems while the caller asked to stop on them."""
    report = plan.report
    if not (report.fatal or (report.problems and on_error == "stop")):
        return None
    lines = "\n  ".join(report.lines(12))
    return ImportRefused(f"nothing was imported; {len(report.problems):,} problems:\n  {lines}",
                         "fix the files, or import with --on-error skip to leave those rows out"
                         if not report.fatal else "fix the files and import again")


def _file_rows_kept(plan: Plan) -> int:
    """Rows of the files that are written (reps made from owners and teams do not count)."""
    bad = plan.report.bad_rows
    kept = 0
    for table, frame in plan.tables.items():
        if table in ("teams", "rep_assignments"):
            continue
        rows = frame.loc[frame["_row"].notna(), ["_file", "_row"]]
        kept += int((~bad_marks(rows, bad)).sum())
    return kept


def _left_out(plan: Plan) -> tuple[str, ...]:
    """Per file, the rows with problems that were left out; for deals, how many were closed
    (leaving out every closed deal makes revenue read 0, which must not pass unnoticed)."""
    bad = plan.report.bad_rows
    lines = []
    for table, frame in plan.tables.items():
        wanted = [c for c in ("_file", "_row", "is_closed") if c in frame.columns]
        for file, rows in frame.loc[frame["_row"].notna(), wanted].groupby("_file", sort=True):
            out = rows["_row"].isin(bad.get(str(file), ()))
            if not out.any():
                continue
            line = f"{file}: {int(out.sum()):,} of {len(rows):,} {table} rows"
            if table == "opportunities":
                closed = rows["is_closed"].astype(bool)
                line += f", {int((out & closed).sum()):,} of {int(closed.sum()):,} closed deals"
                if closed.any() and (out | ~closed).all():
                    line += " — every closed deal: revenue and win rate from this file read 0"
            lines.append(line)
    return tuple(lines)


def _write(store: Store, table: str, frame: pd.DataFrame) -> int:
    columns = [c for c in frame.columns if c in schema.columns(table)]
    frame = frame[columns]
    if table == "rep_assignments":
        return _merge_assignments(store, frame)
    repeated = frame.duplicated(subset=list(schema.PRIMARY_KEYS[table]), keep="last")
    return store.replace_rows(table, frame[~repeated] if repeated.any() else frame)


def _merge_assignments(store: Store, frame: pd.DataFrame) -> int:
    """Effective dating: a rep whose team or region changed gets a new assignment from today.

    Rows are taken in order, as if written one by one, but the open assignments are read once and
    new rows are written together (flushed before a statement that changes the same rep), so a
    first import of thousands of reps costs two statements, not two per rep."""
    today = dt.date.today()
    _, open_rows = store.rows("SELECT rep_id, team_id, region, segment, motion, valid_from "
                              "FROM rep_assignments WHERE valid_to IS NULL")
    current: dict[object, tuple[Any, ...] | None] = {row[0]: tuple(row[1:]) for row in open_rows}
    pending: list[dict[str, Any]] = []

    def run(sql: str, params: dict[str, Any]) -> None:
        if any(p["rep_id"] == params["r"] for p in pending):
            flush()
        store.execute(sql, params)

    def flush() -> None:
        if pending:
            store.insert_frame("rep_assignments", pd.DataFrame(pending, columns=frame.columns))
            pending.clear()

    written = 0
    for row in frame.to_dict("records"):
        rep = row["rep_id"]
        now = current.get(rep)
        wanted = (row["team_id"], row["region"], row["segment"], row["motion"])
        if now and tuple(now[:4]) == wanted:
            continue
        if now and row["team_id"] == UNASSIGNED:
            continue  # a rep made from an owner id: a team already known is not undone
        if now and now[0] == UNASSIGNED:  # a placeholder: the real team from the start
            run("DELETE FROM rep_assignments WHERE rep_id = $r AND team_id = $t",
                {"r": rep, "t": UNASSIGNED})
        elif now and _day(now[4]) < today:  # type: ignore[operator]  # valid_from is NOT NULL
            run("UPDATE rep_assignments SET valid_to = $d WHERE rep_id = $r AND valid_to IS NULL",
                {"d": today, "r": rep})
            row["valid_from"] = today
        elif now:
            run("DELETE FROM rep_assignments WHERE rep_id = $r AND valid_to IS NULL", {"r": rep})
        pending.append(row)
        current[rep] = (*wanted, row["valid_from"]) if blank(row["valid_to"]) else None
        written += 1
    flush()
    return written


def _record(store: Store, plan: Plan, result: ImportResult, started: dt.datetime,
            loaded_by: str | None) -> None:
    summary = json.dumps({"loaded": result.rows_loaded, "notes": plan.report.notes[:20]})
    store.execute(
        "INSERT INTO imports VALUES ($id, $started, $finished, $preset, $files, $read, $loaded, "
        "$skipped, $by, $summary)",
        {"id": result.import_id, "started": started,
         "finished": dt.datetime.now(), "preset": plan.preset.name,
         "files": ", ".join(plan.files), "read": result.rows_read, "loaded": result.total_loaded,
         "skipped": result.rows_skipped, "by": loaded_by or _whoami(), "summary": summary})


def _whoami() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "unknown"


def recent_imports(store: Store, limit: int = 20) -> pd.DataFrame:
    """The latest imports, newest first (empty when nothing was imported yet)."""
    if "imports" not in store.tables():
        return pd.DataFrame(columns=["finished_at", "preset", "files", "rows_read", "rows_loaded",
                                     "rows_skipped", "loaded_by"])
    return store.query(
        "SELECT finished_at, preset, files, rows_read, rows_loaded, rows_skipped, loaded_by "
        "FROM imports ORDER BY finished_at DESC LIMIT $n", {"n": limit})


def freshness(store: Store) -> dict[str, object]:
    """Rows per table, the last import and the last day with data (for the Data page)."""
    present = store.tables()
    counts = {t: int(store.scalar(f"SELECT count(*) FROM {t}")) for t in ORDER if t in present}
    last = recent_imports(store, 1)
    _, rows = store.rows("SELECT max(coalesce(closed_at, created_at)) FROM opportunities") \
        if "opportunities" in present else ([], [(None,)])
    return {"rows": counts, "last_import": None if last.empty else last.iloc[0].to_dict(),
            "data_through": rows[0][0]}
