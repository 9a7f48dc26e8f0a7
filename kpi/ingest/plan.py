"""Map export files onto canonical tables and check every row, without writing anything.

The steps: read each file; say which kind of file it is (or skip it with a note: a Contact or a
Case export holds nothing to load); take its columns as text; decide each date and number
column's format from all the export's values; type the values; derive what the export leaves out
(reps from owner ids, teams, start dates of deals loaded after they closed); then check every
rule the database enforces, so that a load never fails on a row the report did not name.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from kpi.errors import KpiError, Unreadable
from kpi.ingest import rules
from kpi.ingest.presets import REQUIRED, FileMap, Preset, header_key, list_presets
from kpi.ingest.read import RawFile, read
from kpi.ingest.report import Problem, Report
from kpi.ingest.stages import stage_notes
from kpi.ingest.values import (
    COMMA,
    DAY_FIRST,
    MONTH_FIRST,
    POINT,
    Bad,
    DateColumn,
    Evidence,
    NumberColumn,
    blank,
    booleans,
    resolve,
    text_column,
)
from kpi.people import rep_names, team_names
from kpi.schema import PRIMARY_KEYS
from kpi.store import Store

DATES = {"created_at", "closed_at", "expected_close_at", "hire_date", "end_date", "valid_from",
         "valid_to", "entered_at", "period_start", "period_end"}
TIMESTAMPS = {"occurred_at"}
NUMBERS = {"amount", "cost", "employees"}
BOOLEANS = {"is_closed", "is_won", "new_prospect"}
PSEUDO = {"team", "region", "segment", "motion"}  # on a reps file: its current assignment
STAGE_DEFAULTS = {"closed won": "won", "won": "won", "closed lost": "lost", "lost": "lost"}
UNASSIGNED = "Unassigned"  # the rep (and team) of records whose owner is blank
ORDER_NAMES: dict[str | None, str] = {DAY_FIRST: "day first (D/M/Y)", MONTH_FIRST: "month first (M/D/Y)"}
DECIMAL_NAMES: dict[str | None, str] = {COMMA: "decimal comma (1.234,50)", POINT: "decimal point (1,234.50)"}
NOT_SELLERS = {"Contact", "Lead"}
IDS = {"opp_id", "rep_id", "account_id", "activity_id"}  # record ids (Salesforce: 15 or 18 chars)
_CHECKSUM = "ABCDEFGHIJKLMNOPQRSTUVWXYZ012345"


@dataclass(frozen=True)
class Source:
    """One uploaded or named file: its bytes, or the path they are read from when needed (so a
    large export is not held in memory while it is checked and written)."""

    name: str
    content: bytes | None = field(default=None, repr=False)
    path: Path | None = None

    @property
    def raw(self) -> bytes | Path:
        """The bytes when they are held, else the path to read them from."""
        if self.content is not None or self.path is None:
            return self.content or b""
        return self.path

    @property
    def data(self) -> bytes:
        raw = self.raw
        return raw.read_bytes() if isinstance(raw, Path) else raw

    @classmethod
    def from_path(cls, path: str | Path) -> Source:
        path = Path(path)
        if not path.is_file():
            raise FileNotFoundError(f"{path}: no such file")
        return cls(path.name, path=path)


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
                keep = frame[~bad_marks(frame, bad)]
            out[table] = keep.drop(columns=[c for c in keep.columns if c.startswith("_")]
                                   ).reset_index(drop=True)
        return out


def bad_marks(frame: pd.DataFrame, bad: dict[str, set[int]]) -> np.ndarray:
    """Which rows of ``frame`` (by its _file and _row) are among the ``bad`` rows."""
    marks = np.zeros(len(frame), dtype=bool)
    for file, rows in bad.items():
        marks |= (frame["_file"].eq(file) & frame["_row"].isin(list(rows))).to_numpy(dtype=bool)
    return marks


@dataclass
class Mapped:
    """One file's rows as canonical columns of text, before typing."""

    name: str
    fmap: FileMap
    frame: pd.DataFrame
    sources: dict[str, str]  # canonical column -> the export column(s) it came from
    dates: dict[str, DateColumn] = field(default_factory=dict)
    numbers: dict[str, NumberColumn] = field(default_factory=dict)


def plan_import(sources: list[Source], preset: Preset, store: Store | None = None) -> Plan:
    """Read, map and check every file; nothing is written."""
    report = Report()
    skipped: list[Problem] = []
    mapped = [m for m in (_read_one(s, preset, report, skipped) for s in sources) if m is not None]
    try:
        tables = _tables(mapped, preset, report, skipped)
        if not report.fatal:
            _derive(tables, preset, store, report)
            _check(tables, store, report)
            report.notes.extend(stage_notes(preset, tables, store))
    except Exception as exc:  # noqa: BLE001 - an import ends in a report line, never a traceback
        tables = {}
        report.add(Problem(", ".join(s.name for s in sources), None, None, None,
                           f"could not be checked ({type(exc).__name__}: {exc})",
                           "this is a bug in leverboard: please report it with the files",
                           fatal=True))
    _name_export_columns(report, mapped)
    return Plan(preset, tables, report, [s.name for s in sources])


def _read_one(source: Source, preset: Preset, report: Report, skipped: list[Problem]
              ) -> Mapped | None:
    if source.name in preset.ignore:  # a note when other files import; else the problem
        tables = ", ".join(sorted({f.table for f in preset.files}))
        skipped.append(Problem(source.name, None, None, None,
                               f"nothing to load from it with preset {preset.name!r}",
                               f"import the files that hold the {tables} with it"))
        return None
    try:
        raw = read(source.name, source.raw)
        report.notes.extend(raw.notes)
        return _map_file(raw, preset, report, skipped)
    except Unreadable as exc:
        if not _not_needed(source, preset, exc.problem, skipped):
            report.add(exc.problem)
    except Exception as exc:  # noqa: BLE001 - a file must end in a report line, never a traceback
        report.add(Problem(source.name, None, None, None,
                           f"could not be read ({type(exc).__name__}: {exc})",
                           "this is a bug in leverboard: please report it with the file",
                           fatal=True))
    return None


def _tables(mapped: list[Mapped], preset: Preset, report: Report, skipped: list[Problem]
            ) -> dict[str, pd.DataFrame]:
    """The typed rows of every file, by canonical table."""
    formats = _formats(mapped, preset, report)
    parts: dict[str, list[pd.DataFrame]] = {}
    for m in mapped:
        parts.setdefault(m.fmap.table, []).append(_typed(m, formats, report))
    tables = {t: pd.concat(f, ignore_index=True) for t, f in parts.items()}
    _nothing_to_import(tables, skipped, report)
    return tables


def _nothing_to_import(tables: dict[str, pd.DataFrame], skipped: list[Problem],
                       report: Report) -> None:
    """Skipped files are notes when others import; when nothing would, they are the problem."""
    if any(len(f) for f in tables.values()) or report.fatal:
        report.notes.extend(f"{p.where()}: {p.message}; skipped" for p in skipped)
        return
    for p in skipped or [Problem("(no files)", None, None, None, "no files to import",
                                 "name the export files or the folder that holds them")]:
        report.add(dataclasses.replace(p, message=f"nothing to import: {p.message}", fatal=True))


# --- which kind of file ------------------------------------------------------------------------

def _not_needed(source: Source, preset: Preset, problem: Problem, skipped: list[Problem]) -> bool:
    """An unreadable file the preset would skip anyway (a Case export in another encoding, a
    broken ContentVersion.csv in an org export) is a note, not a reason to refuse the rest."""
    loadable = {preset.objects.get(p) for f in preset.files for p in f.prefixes.get(f.key_column(), [])}
    skippable = {o.casefold(): o for o in preset.objects.values() if o not in loadable}
    thing = skippable.get(Path(source.name).stem.casefold())
    if thing is None and "UTF" in problem.message:
        try:  # read it as Windows-1252 only to see what it holds
            raw = read(source.name, source.data, encoding="cp1252")
            header = [c for c in raw.frame.columns if c != "_row"]
            found = None if any(f.matches(header) for f in preset.files) else \
                _salesforce_object(raw, header, preset)
            thing = found[1] if found and found[1] in skippable.values() else None
        except Unreadable:
            thing = None
    if thing is None:
        return False
    wanted = ", ".join(sorted(o for o in loadable if o))
    skipped.append(Problem(source.name, None, None, None,
                           f"{thing} records hold nothing to load with preset {preset.name!r} "
                           f"(and the file cannot be read: {problem.message})",
                           f"import the records the preset loads: {wanted}"))
    return True


def _map_file(raw: RawFile, preset: Preset, report: Report, skipped: list[Problem]
              ) -> Mapped | None:
    header = [c for c in raw.frame.columns if c != "_row"]
    fmap = _identify(raw, header, preset, report, skipped)
    if fmap is None:
        return None
    if raw.frame.empty:
        skipped.append(Problem(raw.name, raw.header_row, None, None,
                               f"the file has a header but no rows (a {fmap.table} export)",
                               "export it again: the export or its filters returned no records"))
        return None
    report.rows_read[raw.name] = len(raw.frame)
    out, used = _text_columns(raw, _skip_rows(raw, fmap, header, report), fmap, report)
    if _repeated(raw, used, report) or _lacks_columns(raw, fmap, out, report):
        return None
    if preset.salesforce_ids:
        for canonical in IDS - ({"rep_id"} if fmap.rep_by == "name" else set()):
            if canonical in out.columns:
                out[canonical] = salesforce_18(out[canonical])
    out = _normalise(out, fmap, raw.name, used, report)
    out["_by_name"] = fmap.rep_by == "name"
    return Mapped(raw.name, fmap, out, used)


def _text_columns(raw: RawFile, rows: pd.DataFrame, fmap: FileMap, report: Report
                  ) -> tuple[pd.DataFrame, dict[str, str]]:
    """The canonical columns as text, and the export column(s) each one came from."""
    header = [c for c in raw.frame.columns if c != "_row"]
    out = pd.DataFrame({"_file": raw.name, "_row": rows["_row"].to_numpy()})
    used: dict[str, str] = {}
    for canonical in fmap.columns:
        columns = fmap.sources(canonical, header)
        if columns:
            columns = columns if canonical in fmap.coalesce else columns[:1]
            out[canonical] = _column(rows, columns, fmap, canonical, raw.name, report)
            used[canonical] = " / ".join(columns)
    for canonical, value in fmap.constants.items():
        out[canonical] = value
    return out, used


def _lacks_columns(raw: RawFile, fmap: FileMap, out: pd.DataFrame, report: Report) -> bool:
    missing = [c for c in REQUIRED[fmap.table] if c not in out.columns and not
               (c == "stage" and "is_closed" in out.columns)]
    if missing:
        names = "; ".join(f"{c} (from {' or '.join(fmap.columns.get(c, [c]))})" for c in missing)
        report.add(Problem(raw.name, raw.header_row, None, None,
                           f"required columns missing: {names}",
                           "add them to the export, or map them in a custom preset", fatal=True))
    return bool(missing)


def _identify(raw: RawFile, header: list[str], preset: Preset, report: Report,
              skipped: list[Problem]) -> FileMap | None:
    """The preset's file kind this file is, or None (with a note or a problem saying why)."""
    owned = _app_owned(header)
    if owned is not None:  # a users.csv with a team_id column is not a teams file
        skipped.append(Problem(raw.name, None, None, None, owned, "leave this file out of the import"))
        return None
    fits = [f for f in preset.files if f.matches(header) and _prefix_fits(f, raw, header)]
    if fits:
        return fits[0]
    thing = _salesforce_object(raw, header, preset)
    meant = next((f for f in preset.files if thing and thing[0] in f.prefixes.get(f.key_column(), [])),
                 None)  # an Opportunity export that lacks a column the preset needs
    if meant is not None and all(meant.source(c, header) or c in meant.constants
                                 for c in REQUIRED[meant.table]):
        return meant  # its ids say what it is; a column the preset matches by (Industry) is optional
    if thing is not None and meant is None:
        prefix, name = thing
        why = (" (people at customers, not sellers: they never become reps)"
               if name in NOT_SELLERS else "")
        kinds = ", ".join(dict.fromkeys(f.table for f in preset.files))
        skipped.append(Problem(raw.name, None, None, None,
                               f"{name} records (ids {prefix}...) hold nothing to load with preset "
                               f"{preset.name!r}{why}", f"the preset reads {kinds}"))
        return None
    problem = _unmatched(raw.name, header, preset, meant, raw.header_row)
    if not problem.fatal:
        problem = _other_preset(raw, header, preset) or problem
    if problem.fatal:
        report.add(problem)
    else:
        skipped.append(problem)
    return None


def _app_owned(header: list[str]) -> str | None:
    """Why a file that holds the app's own records (its users, its initiatives) is never
    imported, whatever the preset: an import must not change who may sign in or see what."""
    keys = {header_key(h) for h in header}
    if "passwordhash" in keys or {"userid", "role"} <= keys:
        return ("leverboard's own users (id, role): an import never changes users; admins add "
                "and change them on the Users page or with `python -m kpi user add`")
    if "initiativeid" in keys:
        return ("leverboard's own initiatives: an import never changes them; executives edit "
                "them on the Strategy rollouts page")
    return None


def _other_preset(raw: RawFile, header: list[str], preset: Preset) -> Problem | None:
    """A file another preset reads (a HubSpot deals export under 'salesforce') is not skipped:
    the wrong preset was picked, and the user must hear which one fits."""
    try:
        others = [p for p in list_presets() if p.name != preset.name]
    except KpiError:  # a broken user preset says so where presets are listed
        return None
    def reads(f: FileMap) -> bool:  # by two columns at least: 'Name' alone proves nothing
        needed = f.match or list(REQUIRED[f.table])
        used = {f.source(c, header) for c in needed} - {None}
        return f.matches(header) and len(used) >= 2 and _prefix_fits(f, raw, header)

    fits = next((p for p in others if any(reads(f) for f in p.files)), None)
    if fits is None:
        return None
    return Problem(raw.name, raw.header_row, None, None,
                   f"this is not a {preset.name} export: its columns are those of a {fits.name} "
                   "export", f"import it with the preset {fits.name!r}", fatal=True)


def _ids(raw: RawFile, column: str | None) -> pd.Series:
    if column is None:
        return pd.Series([], dtype=object)
    return text_column(raw.frame[column]).dropna()


def _prefix_fits(fmap: FileMap, raw: RawFile, header: list[str]) -> bool:
    """A file whose ids carry another object's prefix (a Contact's 003 for a User's 005) is not
    this kind, however alike the columns."""
    key = fmap.key_column()
    wanted = fmap.prefixes.get(key)
    ids = _ids(raw, fmap.source(key, header))
    if not wanted or ids.empty:
        return True
    return bool(ids.str.startswith(tuple(wanted)).mean() >= 0.5)


def _salesforce_object(raw: RawFile, header: list[str], preset: Preset) -> tuple[str, str] | None:
    """(prefix, object name) from the Id column, for presets that know record id prefixes."""
    if not preset.objects:
        return None
    column = next((h for h in header if header_key(h) == "id"), None)
    ids = _ids(raw, column)
    if ids.empty:
        return None
    prefix, count = Counter(v[:3] for v in ids).most_common(1)[0]
    if count < len(ids) / 2:
        return None
    if prefix in preset.objects:
        return prefix, preset.objects[prefix]
    if ids.str.fullmatch(r"[A-Za-z0-9]{15}|[A-Za-z0-9]{18}").mean() >= 0.5:
        return prefix, "custom or other object"
    return None


def _unmatched(name: str, header: list[str], preset: Preset, meant: FileMap | None = None,
               row: int = 1) -> Problem:
    """Say which table the file looks like and which columns it lacks (a problem: the user meant
    to import it), or that it matches nothing (skipped, unless nothing else imports)."""
    def found(f: FileMap) -> int:
        return sum(bool(f.source(c, header)) for c in (f.match or REQUIRED[f.table]))

    closest = meant or max(preset.files, key=found)
    keys = {header_key(h) for h in header}
    rejected = any(header_key(r) in keys for r in closest.reject)
    if meant is not None or (found(closest) >= 2 and not rejected):
        needed = closest.match or list(REQUIRED[closest.table])
        missing = [" or ".join(closest.columns.get(c, [c])) for c in needed
                   if not closest.source(c, header) and c not in closest.constants]
        if missing:
            return Problem(name, row, None, None,
                           f"looks like {closest.table} but required columns are missing: "
                           f"{'; '.join(missing)}",
                           "add them to the export, or map them in a custom preset", fatal=True)
    expected = "; ".join(f"{f.table}: {f.expected()}" for f in preset.files)
    shown = ", ".join(header[:12]) + (" ..." if len(header) > 12 else "")
    return Problem(name, row, None, None,
                   f"no file kind of preset {preset.name!r} matches these columns ({shown})",
                   f"expected columns — {expected}; or pick another preset")


# --- columns as text ---------------------------------------------------------------------------

def _repeated(raw: RawFile, used: dict[str, str], report: Report) -> bool:
    """A column the preset reads that the header has twice: which one holds the data?"""
    if not raw.repeated:
        return False
    read_ = {c for sources in used.values() for c in sources.split(" / ")}
    clash = [h for h in raw.repeated if h in read_]
    if clash:
        report.add(Problem(raw.name, raw.header_row, None, None,
                           f"the header repeats column(s) {', '.join(clash)}",
                           "rename or remove the duplicate columns", fatal=True))
        return True
    report.notes.append(f"{raw.name}: the header repeats {', '.join(raw.repeated)}, which the "
                        "preset does not read")
    return False


def _skip_rows(raw: RawFile, fmap: FileMap, header: list[str], report: Report) -> pd.DataFrame:
    """Leave out rows the preset says hold nothing yet (a Task that is 'Not Started')."""
    rows = raw.frame
    keys = {header_key(h): h for h in reversed(header)}
    for column, rule in fmap.skip_rows.items():
        source = keys.get(header_key(column))
        if source is None:
            continue
        values, why = (rule["values"], rule["why"]) if isinstance(rule, dict) else (rule, "")
        text = text_column(rows[source], rows.index).fillna("").str.casefold()
        drop = text.isin([str(v).casefold() for v in values]).to_numpy()
        if drop.any():
            shown = ", ".join(repr(v) for v in sorted(set(rows.loc[drop, source]))[:4])
            report.notes.append(f"{raw.name}: {int(drop.sum()):,} rows with {source} {shown} "
                                f"were not imported{f' ({why})' if why else ''}")
            rows = rows[~drop]
    return rows


def _column(rows: pd.DataFrame, columns: list[str], fmap: FileMap, canonical: str, name: str,
            report: Report) -> pd.Series:
    """One canonical column: the first source column, or per row the first that is not blank;
    values without the id prefix this column needs are left blank (a WhatId of an account is not
    an opportunity id)."""
    index = pd.RangeIndex(len(rows))
    result = pd.Series(None, index=index, dtype=object)
    wanted = tuple(fmap.prefixes.get(canonical, ())) if canonical != fmap.key_column() else ()
    for column in columns:
        text = text_column(rows[column], index)
        if wanted:
            other = text.notna() & ~text.fillna("").str.startswith(wanted)
            if other.any() and column == columns[0]:  # a fallback column's others are expected
                report.notes.append(f"{name}: {int(other.sum()):,} {column} values are not "
                                    f"{canonical} ids (no {'/'.join(wanted)} prefix, e.g. "
                                    f"{text[other].iloc[0]!r}); not used as {canonical}")
            text = text.where(~other, None)
        result = pd.Series(np.where(result.isna(), text, result), index=index, dtype=object)
    return result


def salesforce_18(ids: pd.Series) -> pd.Series:
    """15-character Salesforce ids (report exports) -> the 18-character form (API exports), so
    that both name the same record: 3 checksum letters, one per 5 characters, from which of
    them are upper case."""
    def long(value: object) -> object:
        if not isinstance(value, str) or len(value) != 15 or not value.isalnum():
            return value
        return value + "".join(_CHECKSUM[sum(1 << i for i, c in enumerate(value[k:k + 5])
                                             if "A" <= c <= "Z")] for k in (0, 5, 10))
    short = ids.str.len().eq(15).fillna(False).to_numpy(dtype=bool)
    if not short.any():
        return ids
    out = ids.copy()
    out[short] = [long(v) for v in ids[short]]
    return out


def _normalise(out: pd.DataFrame, fmap: FileMap, name: str, used: dict[str, str],
               report: Report) -> pd.DataFrame:
    for column, aliases in fmap.values.items():
        if column in out.columns:
            out[column] = _aliased(out[column], aliases, name, used.get(column, column), report)
    for column, value in fmap.fill.items():
        if column in out.columns and out[column].isna().any():
            gone = out[column].isna()
            report.notes.append(f"{name}: {int(gone.sum()):,} rows have no {used.get(column, column)}"
                                f"; read as {value!r}")
            out[column] = out[column].where(~gone, value)
        elif column not in out.columns:
            out[column] = value
    for column in fmap.title_case:
        if column in out.columns:
            out[column] = out[column].map(lambda v: v.title() if isinstance(v, str) and v.islower()
                                          else v).astype(object)
    for column in fmap.skip_if_missing:
        if column in out.columns:
            gone = out[column].isna()
            if gone.any():
                report.notes.append(f"{name}: {int(gone.sum()):,} rows have no "
                                    f"{used.get(column, column)} and were not imported (nothing "
                                    f"to date them by), e.g. row {int(out.loc[gone, '_row'].iloc[0])}")
                out = out[~gone]
    return out.reset_index(drop=True)


def _aliased(text: pd.Series, aliases: dict[str, str], name: str, source: str,
             report: Report) -> pd.Series:
    """Replace aliases (case-insensitively); '*' stands for any other value."""
    lower = {str(k).casefold(): v for k, v in aliases.items() if k != "*"}
    targets = set(lower.values())
    other = aliases.get("*")
    result: list[str | None] = []
    changed: Counter[tuple[str, str]] = Counter()
    for value in text:
        if value is None:
            result.append(None)
            continue
        new = lower.get(value.casefold(), value)
        if new == value and value not in targets and other is not None:
            new = other
        if str(new).casefold() != value.casefold():
            changed[(value, new)] += 1
        result.append(new)
    if changed:
        top = sorted(changed.items(), key=lambda kv: -kv[1])
        shown = ", ".join(f"{value!r} -> {new!r} ({n:,}"
                          + (", not a value the preset knows)" if value.casefold() not in lower
                             else ")") for (value, new), n in top[:8])
        report.notes.append(f"{name}: {source} read as {shown}" + (" ..." if len(top) > 8 else ""))
    return pd.Series(result, index=text.index, dtype=object)


# --- formats and types -------------------------------------------------------------------------

Key = tuple[str, str]


def _formats(mapped: list[Mapped], preset: Preset, report: Report) -> dict[Key, str | None]:
    """Day/month order of every date column and decimal mark of every number column."""
    dates: dict[Key, Evidence] = {}
    numbers: dict[Key, Evidence] = {}
    for m in mapped:
        for column in m.frame.columns:
            if column in DATES | TIMESTAMPS:
                m.dates[column] = DateColumn(m.frame[column])
                dates[(m.name, column)] = m.dates[column].evidence()
            elif column in NUMBERS:
                m.numbers[column] = NumberColumn(m.frame[column])
                numbers[(m.name, column)] = m.numbers[column].evidence()
    by_name = {m.name: m for m in mapped}
    chosen: dict[Key, str | None] = {}
    for evidence, pinned, names, what in (
            (dates, preset.date_order, ORDER_NAMES, "dates"),
            (numbers, preset.decimal, DECIMAL_NAMES, "numbers")):
        labels = {k: by_name[k[0]].sources[k[1]] for k in evidence}
        picked, notes = resolve(evidence, None if pinned == "auto" else pinned, names, labels)
        report.notes.extend(notes)
        for key, found in evidence.items():
            problem = _undecided(by_name[key[0]], key[1], found, picked[key], names, what)
            if problem is not None:
                report.add(problem)
            elif found.proven and pinned not in ("auto", picked[key]):
                report.notes.append(f"{key[0]}: {by_name[key[0]].sources[key[1]]!r} read as "
                                    f"{names[picked[key]]}, as its values prove "
                                    f"({next(iter(found.proven.values()))!r}), not as the preset says")
        chosen.update(picked)
    return chosen


def _undecided(m: Mapped, column: str, found: Evidence, picked: str | None,
               names: Mapping[str | None, str], what: str) -> Problem | None:
    def row_of(example: str) -> int:
        return int(m.frame.loc[m.frame[column] == example, "_row"].iloc[0])

    option = "--date-order DMY or MDY (date_order" if what == "dates" else \
        "--decimal comma or point (decimal"
    if found.mixed:
        (a, x), (b, y) = list(found.proven.items())[:2]
        return Problem(m.name, row_of(y), m.sources[column], y,
                       f"{what} are written both {names[a]} (e.g. {x!r}) and {names[b]}",
                       "export the file again with one format for the whole column", fatal=True)
    if picked is None and found.ambiguous is not None:
        return Problem(m.name, row_of(found.ambiguous), m.sources[column], found.ambiguous,
                       f"{what} like this read either {' or '.join(names.values())}, and "
                       "nothing in the export tells which",
                       f"import again with {option} in the preset)", fatal=True)
    return None


def _typed(m: Mapped, formats: dict[Key, str | None], report: Report) -> pd.DataFrame:
    out = m.frame
    if m.fmap.table == "stage_history" and "entered_at" in m.dates:  # the order within a day
        out["_at"], _ = m.dates["entered_at"].parse(formats.get((m.name, "entered_at")), True)
    for column in list(out.columns):
        bad: list[Bad] = []
        if column in m.dates:
            out[column], bad = m.dates[column].parse(formats.get((m.name, column)),
                                                     keep_time=column in TIMESTAMPS)
        elif column in m.numbers:
            out[column], bad = m.numbers[column].parse(formats.get((m.name, column)))
            if column == "employees":
                out[column] = pd.Series([None if blank(v) else int(round(v)) for v in out[column]],
                                        index=out.index, dtype=object)
        elif column in BOOLEANS:
            out[column], bad = booleans(out[column])
        for b in bad:
            if b.message not in ("day and month order unknown",
                                 "decimal mark unknown (1,234 or 1.234 could be either)"):
                report.add(Problem(m.name, int(out["_row"].iloc[b.position]), column, b.value,
                                   b.message, b.fix))
    if m.fmap.table == "opportunities":
        out = _deal_status(out, m.fmap, m.name, report)
    if m.fmap.table == "activities":
        out["type"] = out["type"].map(lambda v: v.lower() if isinstance(v, str) else None
                                      ).astype(object)
        if "new_prospect" not in out.columns:
            out["new_prospect"] = False
    return out


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
    if "is_won" not in out.columns:  # IsClosed without IsWon: the stage says which were won
        out["is_won"] = _won_by_stage(out, fmap, name, report)
    if "stage" not in out.columns:
        out["stage"] = out["is_won"].map({True: "Closed Won", False: None}).astype(object)
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
        blank_ = out["amount"].isna() if "amount" in out.columns else pd.Series(True, out.index)
        if blank_.any():
            n = int(blank_.sum())
            report.notes.append(f"{name}: {n:,} {'deal has' if n == 1 else 'deals have'} no "
                                "amount; counted as 0")
        out["amount"] = out.get("amount", pd.Series(None, out.index)).where(~blank_, 0.0)
    out["kind"] = out["kind"].fillna("new") if "kind" in out.columns else "new"
    return out


def _won_by_stage(out: pd.DataFrame, fmap: FileMap, name: str, report: Report) -> pd.Series:
    closed = out["is_closed"].astype(bool)
    if "stage" not in out.columns:
        if closed.any():
            report.notes.append(f"{name}: no IsWon and no stage column: its {int(closed.sum()):,} "
                                "closed deals count as lost")
        return pd.Series(False, index=out.index)
    stages = {**STAGE_DEFAULTS, **{k.lower(): v for k, v in fmap.stages.items()}}
    status = out["stage"].map(lambda s: stages.get(str(s).lower()) if s is not None else None)
    unknown = closed & ~status.isin(["won", "lost"])
    for i in out.index[unknown]:
        report.add(Problem(name, int(out.at[i, "_row"]), "stage", out.at[i, "stage"],
                           "closed, but the stage does not say whether it was won",
                           "add the IsWon column to the export, or the stage to the preset's "
                           "stages (won or lost)"))
    return closed & status.eq("won")


# --- what the export leaves out ----------------------------------------------------------------

def _derive(tables: dict[str, pd.DataFrame], preset: Preset, store: Store | None,
            report: Report) -> None:
    """Owners -> reps (created when the preset says so), hire dates, teams, deal start dates."""
    known = _known_reps(tables, store)
    for table in ("opportunities", "activities"):
        frame = tables.get(table)
        if frame is None:
            continue
        if preset.create_reps:
            _unassigned(frame, table, report)
            _create_reps(tables, frame, known, report)
            known = _known_reps(tables, store)
        by_name = frame["_by_name"].astype(bool)
        names = frame.loc[by_name, "rep_id"]
        frame.loc[by_name, "rep_id"] = [known.get(r, r) if r is not None else None for r in names]
    if "stage_history" in tables:
        tables["stage_history"] = _stage_entries(tables["stage_history"], report)
    _accounts_of_activities(tables, report)
    if "opportunities" in tables:  # before hire dates: a rep is active from a deal's true start
        _loaded_later(tables, preset, report)
    reps = tables.get("reps")
    if reps is not None:
        _hire_dates(tables, reps, report)
        _assignments(tables, tables["reps"], report)


def _accounts_of_activities(tables: dict[str, pd.DataFrame], report: Report) -> None:
    """An activity on a deal, with no account of its own, is with the deal's account."""
    acts, deals = tables.get("activities"), tables.get("opportunities")
    if acts is None or deals is None or "opp_id" not in acts or "account_id" not in deals:
        return
    if "account_id" not in acts:
        acts["account_id"] = None
    gap = acts["account_id"].isna() & acts["opp_id"].notna()
    found = acts.loc[gap, "opp_id"].map(deals.dropna(subset=["opp_id"]).drop_duplicates("opp_id")
                                        .set_index("opp_id")["account_id"])
    found = found[found.notna()]
    if len(found):
        acts.loc[found.index, "account_id"] = found
        report.notes.append(f"{len(found):,} activities on a deal take the deal's account")


def _stage_entries(history: pd.DataFrame, report: Report) -> pd.DataFrame:
    """A stage history export (OpportunityHistory) logs every change of amount or close date
    too; a deal *enters* a stage only when the stage differs from its previous row."""
    if "_at" not in history or history.empty:
        return history
    ordered = history.assign(_key=pd.to_datetime(history["_at"], errors="coerce")).sort_values(
        ["opp_id", "_key", "_row"], kind="stable")
    previous = ordered.groupby("opp_id", sort=False)["stage"].shift()
    entry = ordered["stage"].ne(previous) | ordered["_key"].isna()
    entries = ordered[entry]
    again = entries.duplicated(subset=["opp_id", "stage", "entered_at"], keep="first") & \
        entries[["opp_id", "stage", "entered_at"]].notna().all(axis=1)
    kept = entries[~again].drop(columns=["_key"])
    dropped = len(history) - len(kept)
    if dropped:
        files = ", ".join(sorted(set(history["_file"])))
        report.notes.append(f"{files}: {len(kept):,} stage entries from {len(history):,} history "
                            f"rows (the other {dropped:,} record changes within a stage, or a "
                            "return to a stage on the same day)")
    return kept.sort_index()


def _known_reps(tables: dict[str, pd.DataFrame], store: Store | None) -> dict[str, str]:
    """rep name -> rep id (and id -> id), from this import and the database."""
    found: dict[str, str] = {}
    if store is not None and "reps" in store.tables():
        rows = rep_names(store)
        found.update({name: rep_id for rep_id, name in rows})
        found.update({rep_id: rep_id for rep_id, _ in rows})
    reps = tables.get("reps")
    if reps is not None:
        found.update({n: r for n, r in zip(reps["name"], reps["rep_id"], strict=True)
                      if n is not None and r is not None})
        found.update({r: r for r in reps["rep_id"] if r is not None})
    return found


def _unassigned(frame: pd.DataFrame, table: str, report: Report) -> None:
    gone = frame["rep_id"].isna()
    if gone.any():
        frame.loc[gone, "rep_id"] = UNASSIGNED
        frame.loc[gone, "_by_name"] = False
        files = ", ".join(sorted(set(frame.loc[gone, "_file"])))
        report.notes.append(f"{files}: {int(gone.sum()):,} {table} have no owner; they go to the "
                            f"rep {UNASSIGNED!r}")


def _create_reps(tables: dict[str, pd.DataFrame], frame: pd.DataFrame, known: dict[str, str],
                 report: Report) -> None:
    unknown = frame[~frame["rep_id"].isin(list(known))]
    if unknown.empty:
        return
    owners = unknown.drop_duplicates("rep_id")
    owners = owners.sort_values("rep_id")
    names = [UNASSIGNED if r == UNASSIGNED else r for r in owners["rep_id"]]
    new = pd.DataFrame({"_file": owners["_file"].to_numpy(), "_row": None,
                        "rep_id": owners["rep_id"].to_numpy(), "name": names, "team": UNASSIGNED})
    tables["reps"] = pd.concat([tables.get("reps", pd.DataFrame()), new], ignore_index=True)
    real = owners[owners["rep_id"] != UNASSIGNED]
    if real.empty:
        return
    by_id = real[~real["_by_name"].astype(bool)]
    if len(by_id):
        report.notes.append(f"{len(by_id)} owner ids have no user in the export or the database: "
                            f"they became reps named by their id (e.g. {by_id['rep_id'].iloc[0]!r}),"
                            f" team {UNASSIGNED!r}; import the User export to name them and set "
                            "their teams")
    if len(by_id) < len(real):
        example = real[real["_by_name"].astype(bool)]["rep_id"].iloc[0]
        report.notes.append(f"{len(real) - len(by_id)} owners became reps with no team (e.g. "
                            f"{example!r}); import a reps file to set their teams")


def _hire_dates(tables: dict[str, pd.DataFrame], reps: pd.DataFrame, report: Report) -> None:
    if "hire_date" in reps.columns and reps["hire_date"].notna().all():
        return
    first = _first_seen(tables)
    fallback = min(first.values(), default=pd.Timestamp.today().date())
    current = reps["hire_date"] if "hire_date" in reps.columns else pd.Series(None, reps.index)
    reps["hire_date"] = pd.Series([h if not blank(h) else first.get(r, fallback)
                                   for r, h in zip(reps["rep_id"], current, strict=True)],
                                  index=reps.index, dtype=object)
    report.notes.append("hire dates are not in the export: each rep counts as active from their "
                        f"first deal or activity in it (reps with none: from {fallback})")


def _first_seen(tables: dict[str, pd.DataFrame]) -> dict[str, dt.date]:
    first: dict[str, dt.date] = {}
    for table, column in (("opportunities", "created_at"), ("activities", "occurred_at")):
        frame = tables.get(table)
        if frame is None or not len(frame):
            continue
        days = pd.to_datetime(frame[column], errors="coerce").dt.date
        seen = pd.DataFrame({"r": frame["rep_id"], "d": days}).dropna().groupby("r")["d"].min()
        for rep, day in seen.items():
            first[rep] = min(first.get(rep, day), day)
    return first


def _assignments(tables: dict[str, pd.DataFrame], reps: pd.DataFrame, report: Report) -> None:
    if "team" not in reps.columns:
        return
    reps = reps.assign(team=reps["team"].where(reps["team"].notna(), UNASSIGNED))
    teams = sorted(set(reps["team"]))
    tables["teams"] = pd.DataFrame({"_file": "(from reps)", "_row": None,
                                    "team_id": teams, "name": teams, "manager_id": None})
    def pick(column: str, default: str) -> object:
        return reps[column].where(reps[column].notna(), default) if column in reps else default

    assign = pd.DataFrame({
        "_file": reps["_file"], "_row": reps["_row"], "rep_id": reps["rep_id"],
        "team_id": reps["team"], "region": pick("region", "(none)"),
        "segment": pick("segment", "generalist"), "motion": pick("motion", "generalist"),
        "valid_from": reps["hire_date"], "valid_to": None})
    tables["rep_assignments"] = assign.reset_index(drop=True)
    tables["reps"] = reps.drop(columns=[c for c in PSEUDO if c in reps.columns])
    real = [t for t in teams if t != UNASSIGNED]
    if real:
        report.notes.append(f"{len(real)} teams from the reps' team column: {', '.join(real[:6])}"
                            + (" ..." if len(real) > 6 else ""))


def _loaded_later(tables: dict[str, pd.DataFrame], preset: Preset, report: Report) -> None:
    """Deals created after they closed: records loaded into a CRM later than they happened."""
    deals = tables["opportunities"]
    created, closed = pd.to_datetime(deals["created_at"], errors="coerce"), \
        pd.to_datetime(deals["closed_at"], errors="coerce")
    _bulk_load_note(deals, created, report)
    late = (closed < created).fillna(False).to_numpy()
    if preset.created_after_close != "earliest" or not late.any():
        return
    start = closed.copy()
    found = pd.Series("their close date", index=deals.index, dtype=object)
    for table, column, what in (("stage_history", "entered_at", "OpportunityHistory"),
                                ("activities", "occurred_at", "activities")):
        frame = tables.get(table)
        if frame is None or "opp_id" not in frame or not len(frame):
            continue
        earliest = pd.to_datetime(frame[column], errors="coerce").groupby(frame["opp_id"]).min()
        seen = deals["opp_id"].map(earliest)
        better = late & (seen < start).fillna(False).to_numpy()
        start[better], found[better] = seen[better].dt.normalize(), what
    deals.loc[late, "created_at"] = pd.Series(start[late].dt.date, index=deals.index[late],
                                              dtype=object)
    counts = Counter(found[late])
    used = ", ".join(f"{n:,} from {what}" for what, n in counts.most_common())
    zero = counts.get("their close date", 0)
    report.notes.append(
        f"{', '.join(sorted(set(deals.loc[late, '_file'])))}: {int(late.sum()):,} of "
        f"{int(closed.notna().sum()):,} closed deals were created after they closed (the records "
        f"were loaded into the CRM later, e.g. {created[late].min().date()}): each starts at the "
        f"earliest date the export gives — {used}" +
        (f"; the {zero:,} started at their close date count 0 days in the sales cycle" if zero
         else ""))


def _bulk_load_note(deals: pd.DataFrame, created: pd.Series, report: Report) -> None:
    days = created.dt.date.dropna()
    if len(days) < 10:
        return
    day, n = Counter(days).most_common(1)[0]
    if n >= len(days) / 2:
        report.notes.append(f"{n:,} of {len(days):,} deals were created on {day} (a data load?): "
                            "sales cycles measured from that day are only as true as that date")


# --- what the database enforces ----------------------------------------------------------------

def _check(tables: dict[str, pd.DataFrame], store: Store | None, report: Report) -> None:
    for table, frame in tables.items():
        _keys(table, frame, report)
        _not_null(table, frame, report)
        for rule in (r for r in rules.RULES if r.table == table):
            _flag(frame, rule.broken(frame), rule.column, rule.message, rule.fix, report)
        for column in rules.unique_columns(table):
            if column in frame:
                dupes = frame[column].notna() & frame.duplicated(subset=[column], keep="first")
                _flag(frame, dupes, column, f"{column} repeats", f"each {column} must be unique",
                      report)
    _team_names(tables, store, report)
    known = _known_reps(tables, store)
    for table in ("opportunities", "activities"):
        frame = tables.get(table)
        if frame is not None:
            unknown = frame["rep_id"].notna() & ~frame["rep_id"].isin(list(known))
            _flag(frame, unknown, "rep_id", "unknown rep",
                  "import the users/reps file too, or fix the owner", report)


def _flag(frame: pd.DataFrame, mask: pd.Series, column: str, message: str, fix: str,
          report: Report) -> None:
    """Report the rows of ``mask``, except cells already named (an unreadable date is not also
    'blank' or 'closed without a close date')."""
    mask = np.asarray(mask, dtype=bool)
    if not mask.any():
        return
    named = {(p.file, p.row, p.column) for p in report.problems}
    values = frame[column] if column in frame else pd.Series(None, frame.index, dtype=object)
    for file, row, value in zip(frame["_file"][mask], frame["_row"][mask], values[mask],
                                strict=True):
        row = None if blank(row) else int(row)
        if (file, row, column) not in named:
            report.add(Problem(str(file), row, column, None if blank(value) else str(value),
                               message, fix))


def _keys(table: str, frame: pd.DataFrame, report: Report) -> None:
    keys = list(PRIMARY_KEYS.get(table, ()))
    if not keys or not all(k in frame.columns for k in keys):
        return
    filled = frame[keys].notna().all(axis=1)
    dupes = filled & frame.duplicated(subset=keys, keep="first") & frame["_row"].notna()
    _flag(frame, dupes, keys[0], "duplicate id", "each row needs its own id: remove the repeat",
          report)


def _not_null(table: str, frame: pd.DataFrame, report: Report) -> None:
    """Blank where the database needs a value."""
    for column, has_default in rules.not_null(table).items():
        if column not in frame.columns:
            if not has_default and len(frame):
                report.add(Problem(str(frame["_file"].iloc[0]), None, column, None,
                                   f"no {column} column", "map a column to it in the preset",
                                   fatal=True))
            continue
        _flag(frame, frame[column].isna(), column, f"{column} is blank",
              rules.BLANK_FIX.get(column, "fill it in"), report)


def _team_names(tables: dict[str, pd.DataFrame], store: Store | None, report: Report) -> None:
    """A team name already used by another team id in the database would break its UNIQUE."""
    teams = tables.get("teams")
    if teams is None or store is None or "teams" not in store.tables():
        return
    owner = {name: team_id for team_id, name in team_names(store).items()}
    clash = [owner.get(n, t) != t for t, n in zip(teams["team_id"], teams["name"], strict=True)]
    _flag(teams, pd.Series(clash, index=teams.index), "name", "team name already used by another "
          "team in the database", "rename the team, or use the same team id", report)


def _name_export_columns(report: Report, mapped: list[Mapped]) -> None:
    """Problems name the export's own column ('CloseDate'), which the user can find in the file."""
    names: dict[tuple[str, str | None], str | None] = {
        (m.name, c): s for m in mapped for c, s in m.sources.items()}
    report.problems = [dataclasses.replace(p, column=names.get((p.file, p.column), p.column))
                       for p in report.problems]
