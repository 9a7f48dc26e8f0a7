"""Mapping presets: which export columns feed which canonical columns. Presets are data (YAML).

Shipped presets live next to this module; a user's own presets (saved from the Data page or
written by hand) live in ``data/presets`` or the folder named by ``KPI_PRESETS``.
"""

from __future__ import annotations

import os
import re
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import yaml

from kpi.catalog import SAFE_LOADER
from kpi.errors import InvalidRequest, NotFound
from kpi.schema import IMPORTED, STAGE_ROLES

SHIPPED = Path(__file__).with_name("presets")
# what a preset may feed; never the app's own tables (schema.APP_TABLES: users are managed in the app)
TABLES = IMPORTED
REQUIRED: dict[str, tuple[str, ...]] = {
    "teams": ("team_id", "name"),
    "reps": ("rep_id", "name"),
    "rep_assignments": ("rep_id", "team_id", "region", "valid_from"),
    "accounts": ("account_id", "name"),
    "opportunities": ("opp_id", "rep_id", "created_at", "stage"),
    "stage_history": ("opp_id", "stage", "entered_at"),
    "activities": ("activity_id", "rep_id", "occurred_at", "type"),
    "quotas": ("quota_id", "period_start", "period_end", "amount"),
}

def header_key(name: str) -> str:
    """Export column names compare without case, spaces or underscores: 'Close Date' = 'CloseDate'."""
    return re.sub(r"[\s_]+", "", str(name)).casefold()


@dataclass(frozen=True)
class FileMap:
    """How one kind of export file becomes one canonical table."""

    table: str
    columns: dict[str, list[str]]  # canonical column -> export column names to try, in order
    match: list[str] = field(default_factory=list)  # canonical columns whose source must exist
    constants: dict[str, Any] = field(default_factory=dict)
    values: dict[str, dict[str, str]] = field(default_factory=dict)  # per column: alias -> value
    stages: dict[str, str] = field(default_factory=dict)  # stage name -> won | lost | open, in
    # pipeline order; kpi.stages derives what it does not list from the data
    stage_roles: dict[str, str] = field(default_factory=dict)  # qualify | propose -> stage name
    rep_by: str = "id"  # how deals and activities name their rep: 'id' or 'name'
    skip_if_missing: list[str] = field(default_factory=list)  # rows without these: skipped, noted
    title_case: list[str] = field(default_factory=list)
    # export columns whose presence means the file is something else (a Contact has LeadSource)
    reject: list[str] = field(default_factory=list)
    # canonical column -> id prefixes its values carry (Salesforce: 005 User, 006 Opportunity);
    # on the table's key a file with other prefixes is another object, elsewhere such values
    # are not ids of that kind and are left blank
    prefixes: dict[str, list[str]] = field(default_factory=dict)
    # canonical columns read per row from the first of their export columns that is not blank
    coalesce: list[str] = field(default_factory=list)
    # export column -> values whose rows are left out, e.g. a Task's Status 'Not Started'
    # ({values: [...], why: ...} to say why in the report)
    skip_rows: dict[str, Any] = field(default_factory=dict)
    fill: dict[str, Any] = field(default_factory=dict)  # canonical column -> value for blanks

    def sources(self, canonical: str, header: list[str]) -> list[str]:
        """Every export column of this header that can feed ``canonical``, in preference order."""
        keys = {header_key(h): h for h in reversed(header)}
        found = [keys.get(header_key(c)) for c in self.columns.get(canonical, [])]
        return list(dict.fromkeys(c for c in found if c is not None))

    def source(self, canonical: str, header: list[str]) -> str | None:
        """The export column that feeds ``canonical`` in a file with this header."""
        return next(iter(self.sources(canonical, header)), None)

    def matches(self, header: list[str]) -> bool:
        needed = self.match or list(REQUIRED[self.table])
        keys = {header_key(h) for h in header}
        if any(header_key(r) in keys for r in self.reject):
            return False
        return all(self.source(c, header) or c in self.constants for c in needed)

    def key_column(self) -> str:
        """The canonical column that identifies a row (whose id prefix names the object)."""
        return (self.match or list(REQUIRED[self.table]))[0]

    def expected(self) -> str:
        needed = self.match or list(REQUIRED[self.table])
        return ", ".join(" or ".join(self.columns.get(c, [c])) for c in needed)


@dataclass(frozen=True)
class Preset:
    name: str
    description: str
    files: list[FileMap]
    salesforce_ids: bool = False  # 15-character record ids (reports) are stored as 18 (exports)
    # how to read 03/04/2025 when nothing in the export tells: MDY (US), DMY, or auto (refuse)
    date_order: str = "auto"
    decimal: str = "auto"  # how to read 1,234 when nothing tells: point, comma, or auto (refuse)
    create_reps: bool = False  # unknown owners on deals and activities become new reps
    ignore: list[str] = field(default_factory=list)  # file names known to hold nothing to load
    # id prefix -> object name, to say what a skipped file holds (Salesforce: 003 -> Contact)
    objects: dict[str, str] = field(default_factory=dict)
    # a closed deal created after its close date (records loaded later into a migrated CRM):
    # 'problem' reports it; 'earliest' starts it at the earliest date the export gives
    created_after_close: str = "problem"

    def to_yaml(self) -> str:
        return yaml.safe_dump(asdict(self), sort_keys=False, allow_unicode=True)


def _folders() -> list[Path]:
    user = Path(os.environ.get("KPI_PRESETS", "data/presets"))
    return [SHIPPED, user]


def list_presets() -> list[Preset]:
    found: dict[str, Preset] = {}
    for folder in _folders():
        for path in sorted(folder.glob("*.yaml")):
            preset = _parse(path.read_text(), str(path))
            found[preset.name] = preset
    return list(found.values())


def load_preset(name: str) -> Preset:
    for preset in list_presets():
        if preset.name == name:
            return preset
    names = ", ".join(p.name for p in list_presets())
    raise NotFound(f"no import preset named {name!r}", f"use one of: {names}")


def save_preset(preset: Preset) -> Path:
    """Save a user preset (never over a shipped one)."""
    if not re.fullmatch(r"[a-z0-9][a-z0-9_-]{1,40}", preset.name):
        raise InvalidRequest(f"preset name {preset.name!r} is not usable",
                             "use 2-40 lower-case letters, digits, '-' or '_'")
    if (SHIPPED / f"{preset.name}.yaml").exists():
        raise InvalidRequest(f"{preset.name!r} is a shipped preset", "pick another name")
    folder = _folders()[1]
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{preset.name}.yaml"
    path.write_text(preset.to_yaml())
    return path


def _parse(text: str, origin: str) -> Preset:
    try:
        raw = yaml.load(text, Loader=SAFE_LOADER)
        files = [_file_map(f) for f in raw["files"]]
        return Preset(name=raw["name"], description=raw.get("description", ""), files=files,
                      date_order=_choice(raw, "date_order", ("auto", "MDY", "DMY")),
                      decimal=_choice(raw, "decimal", ("auto", "point", "comma")),
                      create_reps=bool(raw.get("create_reps", False)),
                      ignore=list(raw.get("ignore", [])),
                      objects={str(k): str(v) for k, v in raw.get("objects", {}).items()},
                      salesforce_ids=bool(raw.get("salesforce_ids", False)),
                      created_after_close=_choice(raw, "created_after_close",
                                                  ("problem", "earliest")))
    except (yaml.YAMLError, KeyError, TypeError, ValueError) as exc:
        raise InvalidRequest(f"preset {origin} is not valid: {exc}",
                             "compare it with a shipped preset in kpi/ingest/presets") from exc


def _file_map(raw: dict[str, Any]) -> FileMap:
    if raw["table"] not in TABLES:
        raise ValueError(f"unknown table {raw['table']!r}")
    columns = {k: [v] if isinstance(v, str) else list(v) for k, v in raw["columns"].items()}
    return FileMap(table=raw["table"], columns=columns, match=list(raw.get("match", [])),
                   constants=dict(raw.get("constants", {})), values=dict(raw.get("values", {})),
                   stages=dict(raw.get("stages", {})), rep_by=raw.get("rep_by", "id"),
                   stage_roles=_stage_roles(raw.get("stage_roles", {})),
                   skip_if_missing=list(raw.get("skip_if_missing", [])),
                   title_case=list(raw.get("title_case", [])), reject=list(raw.get("reject", [])),
                   prefixes={k: [str(p) for p in ([v] if isinstance(v, str) else v)]
                             for k, v in raw.get("prefixes", {}).items()},
                   coalesce=list(raw.get("coalesce", [])),
                   skip_rows={k: _skip(v) for k, v in raw.get("skip_rows", {}).items()},
                   fill=dict(raw.get("fill", {})))


def _skip(raw: Any) -> dict[str, Any]:
    if isinstance(raw, dict):
        return {"values": [str(x) for x in raw["values"]], "why": str(raw.get("why", ""))}
    return {"values": [str(x) for x in raw], "why": ""}


def _choice(raw: dict[str, Any], key: str, allowed: tuple[str, ...]) -> str:
    value = str(raw.get(key, allowed[0]))
    if value not in allowed:
        raise ValueError(f"{key} must be one of {', '.join(allowed)}, not {value!r}")
    return value


def _stage_roles(raw: dict[str, Any]) -> dict[str, str]:
    unknown = sorted(set(raw) - set(STAGE_ROLES))
    if unknown:
        raise ValueError(f"stage_roles: unknown role(s) {unknown}; use {', '.join(STAGE_ROLES)}")
    return {str(k): str(v) for k, v in raw.items()}
