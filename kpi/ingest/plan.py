"""Map export files onto canonical tables and check every row, without writing anything."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from kpi.ingest.presets import REQUIRED, FileMap, Preset
from kpi.ingest.read import RawFile, Unreadable, read
from kpi.ingest.report import Problem, Report
from kpi.ingest.stages import stage_notes
from kpi.schema import PRIMARY_KEYS
from kpi.store import Store

DATES = {"created_at", "closed_at", "expected_close_at", "hire_date", "end_date", "valid_from",
         "valid_to", "entered_at", "period_start", "period_end"}
TIMESTAMPS = {"occurred_at"}
NUMBERS = {"amount", "cost", "employees"}
BOOLEANS = {"is_closed", "is_won", "new_prospect"}
PSEUDO = {"team", "region", "segment", "motion"}  # on a reps file: its current assignment
ISO = ["%Y-%m-%d", "%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M", "%Y-%m-%dT%H:%M:%S.%f%z",
       "%Y-%m-%dT%H:%M:%S%z", "%Y-%m-%dT%H:%M:%S.%fZ", "%Y-%m-%dT%H:%M:%SZ", "%Y-%m-%dT%H:%M:%S"]
ORDERED = {"MDY": ["%m/%d/%Y", "%m/%d/%Y %H:%M", "%m/%d/%Y %I:%M %p", "%m/%d/%Y %H:%M:%S"],
           "DMY": ["%d/%m/%Y", "%d.%m.%Y", "%d/%m/%Y %H:%M", "%d.%m.%Y %H:%M"]}
TRUE, FALSE = {"true", "1", "yes", "y", "t", "x"}, {"false", "0", "no", "n", "f", ""}
STAGE_DEFAULTS = {"closed won": "won", "won": "won", "closed lost": "lost", "lost": "lost"}


@dataclass(frozen=True)
class Source:
    """One uploaded or named file."""

    name: str
    data: bytes

    @classmethod
    def from_path(cls, path: str | Path) -> Source:
        path = Path(path)
        if not path.is_file():
            raise FileNotFoundError(f"{path}: no such file")
        return cls(path.name, path.read_bytes())


@dataclass
class Plan:
    """What an import would write, and what is wrong with it."""

    preset: Preset
    tables: dict[str, pd.DataFrame]
    report: Report
    files: list[str] = field(default_factory=list)

    @property
    def rows_read(self) -> int:
        return sum(self.report.rows_read.values())

    def frames(self, skip_bad: bool = True) -> dict[str, pd.DataFrame]:
        """Canonical frames ready to load (rows with problems left out when ``skip_bad``)."""
        bad = self.report.bad_rows
        out = {}
        for table, frame in self.tables.items():
            keep = frame
            if skip_bad and bad:
                marks = [r in bad.get(f, ()) for f, r in zip(frame["_file"], frame["_row"], strict=True)]
                keep = frame[[not m for m in marks]]
            out[table] = keep.drop(columns=["_file", "_row"]).reset_index(drop=True)
        return out


def plan_import(sources: list[Source], preset: Preset, store: Store | None = None) -> Plan:
    """Read, map and check every file; nothing is written."""
    report = Report()
    parts: dict[str, list[pd.DataFrame]] = {}
    for source in sources:
        if source.name in preset.ignore:
            report.notes.append(f"{source.name}: nothing to load from it with preset "
                                f"{preset.name!r}; skipped")
            continue
        try:
            raw = read(source.name, source.data)
        except Unreadable as exc:
            report.add(exc.problem)
            continue
        frame = _map_file(raw, preset, report)
        if frame is not None:
            parts.setdefault(frame.attrs["table"], []).append(frame)
    tables = {t: pd.concat(f, ignore_index=True) for t, f in parts.items()}
    if not report.fatal:
        _derive(tables, preset, store, report)
        _check(tables, store, report)
        report.notes.extend(stage_notes(preset, tables, store))
    return Plan(preset, tables, report, [s.name for s in sources])


def _map_file(raw: RawFile, preset: Preset, report: Report) -> pd.DataFrame | None:
    header = [c for c in raw.frame.columns if c != "_row"]
    fmap = next((f for f in preset.files if f.matches(header)), None)
    if fmap is None:
        report.add(_unmatched(raw.name, header, preset))
        return None
    report.rows_read[raw.name] = len(raw.frame)
    out = pd.DataFrame({"_file": raw.name, "_row": raw.frame["_row"]})
    for canonical in fmap.columns:
        source = fmap.source(canonical, header)
        if source is not None:
            out[canonical] = raw.frame[source].map(_clean)
    for canonical, value in fmap.constants.items():
        out[canonical] = value
    missing = [c for c in REQUIRED[fmap.table] if c not in out.columns and not
               (c == "stage" and "is_closed" in out.columns)]
    if missing:
        names = "; ".join(f"{c} (from {' or '.join(fmap.columns.get(c, [c]))})" for c in missing)
        report.add(Problem(raw.name, 1, None, None, f"required columns missing: {names}",
                           "add them to the export, or map them in a custom preset", fatal=True))
        return None
    out = _normalise(out, fmap, raw.name, report)
    out = _typed(out, fmap, preset, raw.name, report)
    out.attrs["table"] = fmap.table
    out.attrs["rep_by"] = fmap.rep_by
    return out


def _unmatched(name: str, header: list[str], preset: Preset) -> Problem:
    """Say which table the file looks like and which columns it lacks, or list what fits."""
    def found(f: FileMap) -> int:
        return sum(bool(f.source(c, header)) for c in (f.match or REQUIRED[f.table]))

    closest = max(preset.files, key=found)
    if found(closest) >= 2:
        needed = closest.match or list(REQUIRED[closest.table])
        missing = [" or ".join(closest.columns.get(c, [c])) for c in needed
                   if not closest.source(c, header) and c not in closest.constants]
        return Problem(name, 1, None, None,
                       f"looks like {closest.table} but required columns are missing: "
                       f"{'; '.join(missing)}",
                       "add them to the export, or map them in a custom preset", fatal=True)
    expected = "; ".join(f"{f.table}: {f.expected()}" for f in preset.files)
    shown = ", ".join(header[:12]) + (" ..." if len(header) > 12 else "")
    return Problem(name, 1, None, None,
                   f"no file kind of preset {preset.name!r} matches these columns ({shown})",
                   f"expected columns — {expected}; or pick another preset", fatal=True)


def _clean(value: object) -> object:
    if value is None:
        return None
    text = str(value).strip()
    return text or None


def _normalise(out: pd.DataFrame, fmap: FileMap, name: str, report: Report) -> pd.DataFrame:
    for column, aliases in fmap.values.items():
        if column in out.columns:
            hits = out[column].isin(list(aliases))
            if hits.any():
                for alias, value in aliases.items():
                    n = int((out[column] == alias).sum())
                    if n and alias.lower() != str(value).lower():
                        report.notes.append(f"{name}: {n:,} rows: {column} {alias!r} read as {value!r}")
                out[column] = out[column].replace(aliases)
    for column in fmap.title_case:
        if column in out.columns:
            out[column] = out[column].map(lambda v: v.title() if isinstance(v, str) and v.islower()
                                          else v)
    for column in fmap.skip_if_missing:
        if column in out.columns:
            gone = out[column].isna()
            if gone.any():
                report.notes.append(f"{name}: {int(gone.sum()):,} rows have no {column} and were "
                                    f"not imported (nothing to date them by), e.g. row "
                                    f"{int(out.loc[gone, '_row'].iloc[0])}")
                out = out[~gone]
    return out.reset_index(drop=True)


def _typed(out: pd.DataFrame, fmap: FileMap, preset: Preset, name: str, report: Report
           ) -> pd.DataFrame:
    for column in out.columns:
        if column in DATES | TIMESTAMPS:
            out[column] = _dates(out, column, preset.date_order, name, report,
                                 keep_time=column in TIMESTAMPS)
        elif column in NUMBERS:
            out[column] = _numbers(out, column, name, report)
            if column == "employees":
                out[column] = out[column].map(lambda v: None if v is None else int(round(v)))
        elif column in BOOLEANS:
            out[column] = _booleans(out, column, name, report)
    if fmap.table == "opportunities":
        out = _deal_status(out, fmap, name, report)
    if fmap.table == "activities":
        out["type"] = out["type"].map(lambda v: v.lower() if isinstance(v, str) else v)
        if "new_prospect" not in out.columns:
            out["new_prospect"] = False
    return out


def _dates(out: pd.DataFrame, column: str, order: str, name: str, report: Report,
           keep_time: bool) -> pd.Series:
    text = out[column]
    parsed = pd.Series(pd.NaT, index=out.index, dtype="datetime64[ns, UTC]")
    for fmt in ISO + ORDERED.get(order, []):
        todo = parsed.isna() & text.notna()
        if not todo.any():
            break
        parsed[todo] = pd.to_datetime(text[todo], format=fmt, errors="coerce", utc=True)
    for i in out.index[parsed.isna() & text.notna()]:
        report.add(Problem(name, int(out.at[i, "_row"]), column, str(text[i]), "not a date",
                           f"write dates as YYYY-MM-DD ({'M/D/YYYY' if order == 'MDY' else 'D/M/YYYY'}"
                           " is read too)"))
    naive = parsed.dt.tz_localize(None)
    if keep_time:
        return naive.astype(object).where(naive.notna(), None)
    return naive.dt.date.astype(object).where(naive.notna(), None)


def _numbers(out: pd.DataFrame, column: str, name: str, report: Report) -> pd.Series:
    def number(value: object) -> float | None:
        if value is None:
            return None
        text = str(value).replace(",", "").replace(" ", "").lstrip("$€£")
        return float(text)

    values = []
    for i, value in zip(out.index, out[column], strict=True):
        try:
            parsed = number(value)
        except ValueError:
            report.add(Problem(name, int(out.at[i, "_row"]), column, str(value), "not a number",
                               "use plain numbers like 1234.50 (no text)"))
            parsed = None
        if parsed is not None and parsed < 0:
            report.add(Problem(name, int(out.at[i, "_row"]), column, str(value),
                               "negative amount", "amounts are zero or more; fix the sign"))
        values.append(parsed)
    return pd.Series(values, index=out.index, dtype=object)


def _booleans(out: pd.DataFrame, column: str, name: str, report: Report) -> pd.Series:
    values = []
    for i, value in zip(out.index, out[column], strict=True):
        text = "" if value is None else str(value).strip().lower()
        if text not in TRUE | FALSE:
            report.add(Problem(name, int(out.at[i, "_row"]), column, str(value), "not true/false",
                               "use true/false, yes/no or 1/0"))
        values.append(text in TRUE)
    return pd.Series(values, index=out.index, dtype=bool)


def _deal_status(out: pd.DataFrame, fmap: FileMap, name: str, report: Report) -> pd.DataFrame:
    if "is_closed" not in out.columns:
        stages = {**STAGE_DEFAULTS, **{k.lower(): v for k, v in fmap.stages.items()}}
        status = out["stage"].map(lambda s: stages.get(str(s).lower()) if s is not None else None)
        for i in out.index[status.isna()]:
            known = ", ".join(sorted(fmap.stages)) or "Closed Won, Closed Lost"
            report.add(Problem(name, int(out.at[i, "_row"]), "stage", out.at[i, "stage"],
                               "unknown stage", f"known stages: {known}; add it to the preset's "
                               "stages (won, lost or open)"))
        out["is_closed"] = status.isin(["won", "lost"])
        out["is_won"] = status == "won"
    if "is_won" not in out.columns:
        out["is_won"] = False
    if "stage" not in out.columns:
        out["stage"] = out["is_won"].map({True: "Closed Won", False: None})
        out.loc[out["is_closed"] & ~out["is_won"], "stage"] = "Closed Lost"
        out["stage"] = out["stage"].fillna("Open")
    if "closed_at" in out.columns:  # an open deal's close date is when it is expected to close
        open_ = ~out["is_closed"]
        if "expected_close_at" not in out.columns:
            out["expected_close_at"] = out["closed_at"].where(open_, None)
        out.loc[open_, "closed_at"] = None
    else:
        out["closed_at"] = None
    if "amount" not in out.columns or out["amount"].isna().any():
        blank = out["amount"].isna() if "amount" in out.columns else pd.Series(True, out.index)
        if blank.any():
            report.notes.append(f"{name}: {int(blank.sum()):,} deals have no amount; counted as 0")
        out["amount"] = out.get("amount", pd.Series(None, out.index)).where(~blank, 0.0)
    out["kind"] = out["kind"].fillna("new") if "kind" in out.columns else "new"
    return out


def _derive(tables: dict[str, pd.DataFrame], preset: Preset, store: Store | None,
            report: Report) -> None:
    """Rep names -> ids, reps created from names (if the preset says so), hire dates, teams."""
    known = _known_reps(tables, store)
    for table in ("opportunities", "activities"):
        frame = tables.get(table)
        if frame is None or frame.attrs.get("rep_by") != "name":
            continue
        if preset.create_reps:
            _create_reps(tables, frame, known, report)
            known = _known_reps(tables, store)
        frame["rep_id"] = frame["rep_id"].replace(known)
    reps = tables.get("reps")
    if reps is not None:
        _hire_dates(tables, reps, report)
        _assignments(tables, reps, report)


def _known_reps(tables: dict[str, pd.DataFrame], store: Store | None) -> dict[str, str]:
    """rep name -> rep id (and id -> id), from this import and the database."""
    found: dict[str, str] = {}
    if store is not None and "reps" in store.tables():
        _, rows = store.rows("SELECT rep_id, name FROM reps")
        found.update({name: rep_id for rep_id, name in rows})
        found.update({rep_id: rep_id for rep_id, _ in rows})
    reps = tables.get("reps")
    if reps is not None:
        found.update(dict(zip(reps["name"], reps["rep_id"], strict=True)))
        found.update({r: r for r in reps["rep_id"]})
    return found


def _create_reps(tables: dict[str, pd.DataFrame], frame: pd.DataFrame, known: dict[str, str],
                 report: Report) -> None:
    names = sorted({n for n in frame["rep_id"].dropna() if n not in known})
    if not names:
        return
    new = pd.DataFrame({"_file": frame["_file"].iloc[0], "_row": None, "rep_id": names,
                        "name": names, "team": "Unassigned"})
    tables["reps"] = pd.concat([tables.get("reps", pd.DataFrame()), new], ignore_index=True)
    report.notes.append(f"{len(names)} owners became reps with no team (e.g. {names[0]!r}); "
                        "import a reps file to set their teams")


def _hire_dates(tables: dict[str, pd.DataFrame], reps: pd.DataFrame, report: Report) -> None:
    if "hire_date" in reps.columns and reps["hire_date"].notna().all():
        return
    first: dict[str, dt.date] = {}
    for table, column in (("opportunities", "created_at"), ("activities", "occurred_at")):
        frame = tables.get(table)
        if frame is not None and len(frame):
            days = frame[column].map(lambda v: v.date() if isinstance(v, dt.datetime) else v)
            for rep, day in pd.DataFrame({"r": frame["rep_id"], "d": days}).dropna().groupby("r")["d"]:
                first[rep] = min(first.get(rep, day.min()), day.min())
    fallback = min(first.values(), default=dt.date.today())
    current = reps["hire_date"] if "hire_date" in reps.columns else pd.Series(None, reps.index)
    reps["hire_date"] = [h if h is not None and not pd.isna(h) else first.get(r, fallback)
                         for r, h in zip(reps["rep_id"], current, strict=True)]
    report.notes.append("hire dates are not in the export: each rep counts as active from their "
                        f"first deal or activity in it (reps with none: from {fallback})")


def _assignments(tables: dict[str, pd.DataFrame], reps: pd.DataFrame, report: Report) -> None:
    if "team" not in reps.columns:
        return
    named = reps[reps["team"].notna()]
    teams = sorted(set(named["team"]))
    tables["teams"] = pd.DataFrame({"_file": "(from reps)", "_row": None,
                                    "team_id": teams, "name": teams, "manager_id": None})
    assign = pd.DataFrame({
        "_file": named["_file"], "_row": named["_row"], "rep_id": named["rep_id"],
        "team_id": named["team"],
        "region": named["region"].fillna("(none)") if "region" in named else "(none)",
        "segment": named["segment"].fillna("generalist") if "segment" in named else "generalist",
        "motion": named["motion"].fillna("generalist") if "motion" in named else "generalist",
        "valid_from": named["hire_date"], "valid_to": None})
    tables["rep_assignments"] = assign.reset_index(drop=True)
    tables["reps"] = reps.drop(columns=[c for c in PSEUDO if c in reps.columns])
    report.notes.append(f"{len(teams)} teams from the reps' team column: {', '.join(teams[:6])}"
                        + (" ..." if len(teams) > 6 else ""))


def _check(tables: dict[str, pd.DataFrame], store: Store | None, report: Report) -> None:
    for table, frame in tables.items():
        keys = list(PRIMARY_KEYS.get(table, ()))
        if keys and all(k in frame.columns for k in keys) and "_row" in frame:
            dupes = frame[frame.duplicated(subset=keys, keep="first") & frame["_row"].notna()]
            for _, row in dupes.iterrows():
                report.add(Problem(row["_file"], int(row["_row"]), keys[0], str(row[keys[0]]),
                                   "duplicate id", "each row needs its own id: remove the repeat"))
    deals = tables.get("opportunities")
    if deals is not None:
        _check_deals(deals, report)
    known = _known_reps(tables, store)
    for table in ("opportunities", "activities"):
        frame = tables.get(table)
        if frame is None:
            continue
        for _, row in frame[~frame["rep_id"].isin(list(known))].iterrows():
            report.add(Problem(row["_file"], int(row["_row"]), "rep_id", str(row["rep_id"]),
                               "unknown rep", "import the users/reps file too, or fix the owner"))


def _check_deals(deals: pd.DataFrame, report: Report) -> None:
    created, closed = deals["created_at"], deals["closed_at"]
    for i in deals.index:
        row = int(deals.at[i, "_row"])
        if closed[i] is not None and created[i] is not None and closed[i] < created[i]:
            report.add(Problem(deals.at[i, "_file"], row, "closed_at", str(closed[i]),
                               "closed before it was created",
                               "check the close and created dates of this deal"))
        if bool(deals.at[i, "is_closed"]) and closed[i] is None:
            report.add(Problem(deals.at[i, "_file"], row, "closed_at", None,
                               "closed deal without a close date", "fill in its close date"))
    no_account = deals["account_id"].isna().sum() if "account_id" in deals else 0
    if no_account:
        report.notes.append(f"{int(no_account):,} deals have no account (kept; their industry "
                            "shows as '(unknown)')")
