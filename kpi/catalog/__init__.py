"""The metric catalog: declarative YAML turned into frozen dataclasses, checked by small rules.

A metric is either *simple* (one aggregated measure) or a *ratio* (sum of a numerator over sum of a
denominator, at every grouping). ``per_rep_week: true`` turns a simple lever into a ratio over
active rep-weeks, so a rep who joined mid-month is not read as a slacker.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any, cast

import yaml

from kpi.errors import CatalogError, UnknownMetric
from kpi.schema import Aggregation

DEFAULT_PATH = Path(__file__).with_name("metrics.yaml")
EXTRA_ENV = "KPI_EXTRA_METRICS"

KINDS = ("output", "lever")
UNITS = ("currency", "percent", "count", "days", "ratio", "per_rep_week")
DIRECTIONS = ("up", "down")
# where the pages show a metric (``shown_in``), and where they do when the catalog does not say
PLACES = ("outputs", "consequences", "levers", "lead_lag")
DEFAULT_PLACES = {"output": ("outputs",), "lever": ("levers", "lead_lag")}
KEYS = ("id", "label", "kind", "unit", "direction", "roles", "shown_in", "definition", "formula",
        "measure", "numerator", "denominator", "per_rep_week", "leads", "missing")

# libyaml's parser when PyYAML has it (several times quicker), with the safe constructors
SAFE_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


@dataclass(frozen=True)
class Measure:
    """One aggregate over a fact source: ``agg(expr) FILTER (WHERE filter)``, divided by ``divide``."""

    source: str
    agg: Aggregation = "count"
    expr: str | None = None
    filter: str | None = None
    divide: float = 1.0

    @property
    def additive(self) -> bool:
        """Sums and counts can be added across groups and read as 0 when nothing happened."""
        return self.agg in ("sum", "count")


REP_WEEKS = Measure(source="rep_days", agg="count", divide=7.0)


@dataclass(frozen=True)
class Metric:
    """A catalog entry; ``denominator`` is None for simple metrics."""

    id: str
    label: str
    kind: str
    unit: str
    direction: str
    roles: tuple[str, ...]
    definition: str
    formula: str
    numerator: Measure
    denominator: Measure | None = None
    per_rep_week: bool = False
    leads: tuple[str, ...] = ()
    missing: str = "no data"  # what an empty value means, shown in its place
    shown_in: tuple[str, ...] = ()  # the places of PLACES where the pages show it

    @property
    def is_ratio(self) -> bool:
        return self.denominator is not None

    @property
    def grows_with_period(self) -> bool:
        """Counts, distinct counts and sums (not ratios or medians): a longer period holds more
        of them, so periods of different lengths compare as rates per week."""
        return not self.is_ratio and self.numerator.agg in ("sum", "count", "count_distinct")

    @property
    def measures(self) -> tuple[Measure, ...]:
        return (self.numerator,) if self.denominator is None else (self.numerator, self.denominator)


@dataclass(frozen=True)
class Catalog:
    """An ordered, validated set of metrics."""

    metrics: tuple[Metric, ...]
    _by_id: dict[str, Metric] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_by_id", {m.id: m for m in self.metrics})

    def get(self, metric_id: str) -> Metric:
        """The metric with this id, or an error that lists the valid ids."""
        try:
            return self._by_id[metric_id]
        except (KeyError, TypeError):
            raise UnknownMetric(
                f"unknown metric {metric_id!r}", f"valid metrics: {', '.join(self.ids())}"
            ) from None

    def ids(self) -> list[str]:
        return [m.id for m in self.metrics]

    def of_kind(self, kind: str) -> list[Metric]:
        return [m for m in self.metrics if m.kind == kind]

    def for_role(self, role: str) -> list[Metric]:
        return [m for m in self.metrics if role in m.roles or role == "admin"]

    def shown(self, place: str, role: str | None = None) -> tuple[str, ...]:
        """The ids the pages show in ``place`` (one of PLACES), in catalog order: to a viewer
        of ``role`` only those the catalog lists for that role (None: every role's)."""
        if place not in PLACES:
            raise CatalogError(f"unknown place {place!r}", f"places: {', '.join(PLACES)}")
        return tuple(m.id for m in self.metrics if place in m.shown_in
                     and (role is None or role == "admin" or role in m.roles))

    def __iter__(self) -> Iterator[Metric]:
        return iter(self.metrics)

    def __len__(self) -> int:
        return len(self.metrics)


def _measure(raw: Any, where: str) -> Measure:
    if not isinstance(raw, Mapping):
        raise CatalogError(f"{where}: expected a mapping like {{source: ..., agg: ...}}")
    unknown = set(raw) - {"source", "agg", "expr", "filter"}
    if unknown:
        raise CatalogError(f"{where}: unknown keys {sorted(unknown)}", "use source, agg, expr, filter")
    return Measure(
        source=str(raw.get("source", "")),
        agg=cast(Aggregation, str(raw.get("agg", "count"))),  # checked by kpi.catalog.rules
        expr=None if raw.get("expr") is None else str(raw["expr"]),
        filter=None if raw.get("filter") is None else str(raw["filter"]),
    )


def _metric(raw: Mapping[str, Any], origin: str) -> Metric:
    where = f"{origin}: metric {raw.get('id', '?')!r}"
    unknown = [key for key in raw if key not in KEYS]
    if unknown:
        raise CatalogError(f"{where}: unknown keys {unknown}", f"the keys are {', '.join(KEYS)}")
    for key in ("roles", "leads", "shown_in"):
        if key in raw and not isinstance(raw[key], list):
            raise CatalogError(f"{where}: `{key}` must be a list like [a, b]", f"got {raw[key]!r}")
    per_rep_week = bool(raw.get("per_rep_week", False))
    if "measure" in raw:
        numerator = _measure(raw["measure"], f"{where} measure")
        denominator = REP_WEEKS if per_rep_week else None
    elif "numerator" in raw:
        numerator = _measure(raw["numerator"], f"{where} numerator")
        denominator = _measure(raw["denominator"], f"{where} denominator") if "denominator" in raw \
            else None
        if denominator is None:
            raise CatalogError(f"{where}: ratio without denominator", "add a denominator measure")
    else:
        raise CatalogError(f"{where}: needs `measure` or `numerator` + `denominator`")
    return Metric(
        id=str(raw.get("id", "")),
        label=str(raw.get("label", raw.get("id", ""))),
        kind=str(raw.get("kind", "")),
        unit=str(raw.get("unit", "")),
        direction=str(raw.get("direction", "up")),
        roles=tuple(raw.get("roles", ())),
        definition=str(raw.get("definition", "")).strip(),
        formula=str(raw.get("formula", "")).strip(),
        numerator=numerator,
        denominator=denominator,
        per_rep_week=per_rep_week,
        leads=tuple(raw.get("leads", ())),
        missing=str(raw.get("missing", "no data")),
        shown_in=tuple(raw["shown_in"]) if "shown_in" in raw
        else DEFAULT_PLACES.get(str(raw.get("kind", "")), ()),
    )


def _read(path: Path) -> list[Metric]:
    try:
        data = yaml.load(path.read_text(encoding="utf-8"), Loader=SAFE_LOADER)
    except (OSError, yaml.YAMLError) as exc:
        raise CatalogError(f"cannot read metric catalog {path}: {exc}") from exc
    if not isinstance(data, Mapping) or not isinstance(data.get("metrics"), list):
        raise CatalogError(f"{path}: expected a top-level `metrics:` list")
    return [_metric(raw, str(path)) for raw in data["metrics"]]


def catalog_paths() -> list[Path]:
    """The shipped catalog plus any files named (os.pathsep-separated) in KPI_EXTRA_METRICS."""
    extra = [Path(p) for p in os.environ.get(EXTRA_ENV, "").split(os.pathsep) if p]
    return [DEFAULT_PATH, *extra]


def load_catalog(paths: Iterable[Path] | None = None) -> Catalog:
    """Read and validate the catalog; raises CatalogError listing every broken rule.

    A catalog is immutable: the same files, unchanged since (by size and time of change), give
    the catalog already read, so an engine costs no YAML parsing after the first."""
    files = tuple(Path(p) for p in (paths or catalog_paths()))
    return _load(tuple((str(f), *_stamp(f)) for f in files))


def _stamp(path: Path) -> tuple[int, int]:
    try:
        found = path.stat()
    except OSError:
        return (-1, -1)  # read (and said to be missing) by _read
    return (found.st_size, found.st_mtime_ns)


@lru_cache(maxsize=16)
def _load(files: tuple[tuple[str, int, int], ...]) -> Catalog:
    from kpi.catalog.rules import validate

    metrics = [m for path, _, _ in files for m in _read(Path(path))]
    catalog = Catalog(tuple(metrics))
    issues = validate(catalog)
    if issues:
        raise CatalogError("metric catalog is invalid:\n  " + "\n  ".join(issues))
    return catalog
