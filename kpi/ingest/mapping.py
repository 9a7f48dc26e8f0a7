"""A mapping made by hand on the Data page: which export column feeds each canonical column, the
values every row shares, the pipeline's stages and how dates and numbers are written, saved as a
preset like the shipped ones.

The page asks :func:`columns` what it may map, :func:`suggest` for a first guess from the shipped
presets, :func:`stage_values` for the stages the file holds, and :func:`custom_preset` for the
preset to check and save; everything the form allows is what a preset file can say.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import pandas as pd

from kpi import schema
from kpi.errors import InvalidRequest
from kpi.ingest.plan import PSEUDO
from kpi.ingest.presets import REQUIRED, FileMap, Preset, list_presets
from kpi.ingest.read import RawFile
from kpi.ingest.values import text_column

ROLES = ("open", "won", "lost")
ASSIGNMENT = ("team", "region", "segment", "motion")  # a reps file may carry its current team


@dataclass(frozen=True)
class Mapping:
    """What the form holds for one file."""

    table: str
    columns: dict[str, str] = field(default_factory=dict)  # canonical column -> export column
    constants: dict[str, str] = field(default_factory=dict)  # canonical column -> every row's value
    stages: list[tuple[str, str]] = field(default_factory=list)  # (stage, open|won|lost), in order
    create_reps: bool = False
    date_order: str = "auto"
    decimal: str = "auto"


def columns(table: str) -> tuple[list[str], list[str]]:
    """(required, optional) canonical columns of ``table`` that a file can feed."""
    if table not in REQUIRED:
        raise InvalidRequest(f"unknown table {table!r}", f"one of: {', '.join(REQUIRED)}")
    required = list(REQUIRED[table])
    extra = [c for c in ASSIGNMENT if c in PSEUDO] if table == "reps" else []
    optional = [c for c in schema.columns(table) if c not in required] + extra
    return required, optional


def suggest(table: str, header: list[str]) -> dict[str, str]:
    """canonical column -> the export column the shipped presets would read for it (first match)."""
    found: dict[str, str] = {}
    required, optional = columns(table)
    for preset in list_presets():
        for fmap in preset.files:
            if fmap.table != table or fmap.rep_by != "id":
                continue
            for canonical in required + optional:
                if canonical in fmap.values:  # its values need the preset's table of names
                    continue
                source = fmap.source(canonical, header)
                if source is not None and canonical not in found and source not in found.values():
                    found[canonical] = source
    exact = {re.sub(r"[\s_]+", "", h).casefold(): h for h in header}
    for canonical in required + optional:  # a column named like the canonical one
        key = canonical.replace("_", "")
        if canonical not in found and key in exact and exact[key] not in found.values():
            found[canonical] = exact[key]
    return found


def stage_values(raw: RawFile, column: str) -> list[tuple[str, str, int]]:
    """(stage, guessed role, deals) for each stage the file holds, in a likely pipeline order:
    the shipped presets' order for stages they know, then the others by deals; won and lost
    last. The role comes from the shipped presets, else from the name ('Closed Won' is won)."""
    if column not in raw.frame.columns:
        return []
    counts = text_column(raw.frame[column]).dropna().value_counts(sort=True)
    known: dict[str, tuple[int, str]] = {}
    for preset in list_presets():
        for fmap in preset.files:
            for i, (stage, role) in enumerate(fmap.stages.items()):
                known.setdefault(stage.casefold(), (i, role))
    found = []
    for stage, n in counts.items():
        place, role = known.get(str(stage).casefold(), (10_000, _guess(str(stage))))
        found.append((ROLES.index(role) if role != "open" else 0, place, -int(n), str(stage), role))
    return [(stage, role, -n) for _, _, n, stage, role in sorted(found)]


def ordered(edited: object) -> list[tuple[str, str]]:
    """The stage editor's rows (stage, role, order; a list of dicts or a frame) as (stage, role)
    in pipeline order."""
    rows: list[dict[str, object]] = (edited.to_dict("records") if isinstance(edited, pd.DataFrame)
                                     else list(edited))  # type: ignore[call-overload]
    def place(row: dict[str, object]) -> float:
        try:
            return float(str(row.get("order")))
        except ValueError:
            return float("inf")
    return [(str(r["stage"]), str(r["role"])) for r in sorted(rows, key=place)]


def _guess(stage: str) -> str:
    words = stage.casefold()
    if "won" in words or words in ("closed", "signed", "booked"):
        return "won"
    if "lost" in words or "dead" in words or "disqualified" in words:
        return "lost"
    return "open"


def custom_preset(name: str, origin: str, mapping: Mapping) -> Preset:
    """The preset this mapping makes; refused (with the fix) when a required column is neither
    mapped nor given a value, a stage's role is unknown, or a format is not one of the choices."""
    required, optional = columns(mapping.table)
    unknown = sorted((set(mapping.columns) | set(mapping.constants)) - set(required + optional))
    if unknown:
        raise InvalidRequest(f"{mapping.table} has no column {unknown[0]!r}",
                             f"map one of: {', '.join(required + optional)}")
    missing = [c for c in required if not mapping.columns.get(c) and
               not str(mapping.constants.get(c, "")).strip()]
    if missing:
        raise InvalidRequest(f"{', '.join(missing)} must come from a column of the file (or be "
                             "one value for every row)", "pick a column for each required one")
    for stage, role in mapping.stages:
        if role not in ROLES:
            raise InvalidRequest(f"stage {stage!r}: {role!r} is not a stage role",
                                 "mark each stage open, won or lost")
    if mapping.date_order not in ("auto", "MDY", "DMY"):
        raise InvalidRequest(f"date order {mapping.date_order!r} is unknown", "auto, MDY or DMY")
    if mapping.decimal not in ("auto", "point", "comma"):
        raise InvalidRequest(f"decimal mark {mapping.decimal!r} is unknown", "auto, point or comma")
    constants = {c: v.strip() for c, v in mapping.constants.items()
                 if str(v).strip() and not mapping.columns.get(c)}
    fmap = FileMap(table=mapping.table,
                   columns={c: [s] for c, s in mapping.columns.items() if s},
                   match=[c for c in required if mapping.columns.get(c)],
                   constants=constants, stages=dict(mapping.stages))
    return Preset(name=name, description=f"custom mapping of {origin}", files=[fmap],
                  date_order=mapping.date_order, decimal=mapping.decimal,
                  create_reps=mapping.create_reps)


def preview(raw: RawFile, mapping: Mapping, rows: int = 5) -> pd.DataFrame:
    """The first rows as the mapping reads them (export text under canonical names)."""
    out = {}
    for canonical, source in mapping.columns.items():
        if source and source in raw.frame.columns:
            out[canonical] = raw.frame[source].head(rows).tolist()
    for canonical, value in mapping.constants.items():
        if canonical not in out and str(value).strip():
            out[canonical] = [value] * min(rows, len(raw.frame))
    return pd.DataFrame(out)
