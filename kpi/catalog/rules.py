"""Catalog validation: a list of small named rules, each returning human-readable issues."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable, Iterator

import sqlglot
from sqlglot import exp

from kpi.catalog import DIRECTIONS, KINDS, PLACES, UNITS, Catalog, Measure
from kpi.schema import AGGREGATIONS, ROLES
from kpi.sources import SOURCES

Rule = Callable[[Catalog], Iterator[str]]
_ID = re.compile(r"^[a-z][a-z0-9_]*$")
_FORBIDDEN = (exp.Select, exp.Subquery, exp.Command, exp.Insert, exp.Delete, exp.Update, exp.Drop)


def unique_ids(catalog: Catalog) -> Iterator[str]:
    for metric_id, n in Counter(catalog.ids()).items():
        if n > 1:
            yield f"duplicate metric id {metric_id!r} ({n} times)"


def well_formed_ids(catalog: Catalog) -> Iterator[str]:
    for m in catalog:
        if not _ID.match(m.id):
            yield f"metric id {m.id!r} must be snake_case (a-z, 0-9, _), starting with a letter"


def known_enums(catalog: Catalog) -> Iterator[str]:
    for m in catalog:
        for name, value, allowed in (("kind", m.kind, KINDS), ("unit", m.unit, UNITS),
                                     ("direction", m.direction, DIRECTIONS)):
            if value not in allowed:
                yield f"{m.id}: {name} {value!r} is not one of {', '.join(allowed)}"
        for role in m.roles:
            if role not in ROLES:
                yield f"{m.id}: role {role!r} is not one of {', '.join(ROLES)}"


def described(catalog: Catalog) -> Iterator[str]:
    for m in catalog:
        if not m.definition or not m.formula:
            yield f"{m.id}: needs a one-sentence `definition` and a `formula` users can read"
        if not m.roles:
            yield f"{m.id}: `roles` is empty, so nobody would see it"


def measures_are_valid(catalog: Catalog) -> Iterator[str]:
    for m in catalog:
        for part, measure in zip(("numerator", "denominator"), m.measures, strict=False):
            yield from (f"{m.id} {part}: {issue}" for issue in _measure_issues(measure))


def ratios_are_additive(catalog: Catalog) -> Iterator[str]:
    for m in catalog:
        if m.is_ratio and not all(x.additive for x in m.measures):
            yield f"{m.id}: a ratio must be sum/count over sum/count to aggregate as sum(num)/sum(den)"


def levers_lead_outputs(catalog: Catalog) -> Iterator[str]:
    outputs = {m.id for m in catalog.of_kind("output")}
    for m in catalog:
        if m.kind == "lever" and not m.leads:
            yield f"{m.id}: a lever needs `leads: [...]`, the outputs it is expected to move"
        for target in m.leads:
            if target not in outputs:
                yield f"{m.id}: leads {target!r}, which is not an output metric in the catalog"
        if m.kind == "output" and m.leads:
            yield f"{m.id}: only levers lead outputs; remove `leads` from this output"


def shown_where_it_fits(catalog: Catalog) -> Iterator[str]:
    fits = {"outputs": "output", "consequences": "output", "levers": "lever"}
    for m in catalog:
        for place in m.shown_in:
            if place not in PLACES:
                yield f"{m.id}: shown_in {place!r} is not one of {', '.join(PLACES)}"
            elif fits.get(place, m.kind) != m.kind:
                yield f"{m.id}: only {fits[place]}s are shown in {place!r}"


def per_rep_week_is_lever(catalog: Catalog) -> Iterator[str]:
    for m in catalog:
        if m.per_rep_week and m.unit != "per_rep_week":
            yield f"{m.id}: per_rep_week metrics need unit per_rep_week"


RULES: tuple[Rule, ...] = (
    unique_ids, well_formed_ids, known_enums, described, measures_are_valid,
    ratios_are_additive, levers_lead_outputs, per_rep_week_is_lever, shown_where_it_fits,
)


def validate(catalog: Catalog) -> list[str]:
    """Every issue every rule finds, in rule order."""
    return [issue for rule in RULES for issue in rule(catalog)]


def _measure_issues(measure: Measure) -> Iterator[str]:
    source = SOURCES.get(measure.source)
    if source is None:
        yield f"unknown source {measure.source!r}; sources: {', '.join(SOURCES)}"
        return
    if measure.agg not in AGGREGATIONS:
        yield f"agg {measure.agg!r} is not one of {', '.join(AGGREGATIONS)}"
    if measure.agg not in ("count",) and measure.expr is None:
        yield f"agg {measure.agg} needs an `expr`"
    for label, fragment in (("expr", measure.expr), ("filter", measure.filter)):
        if fragment is not None:
            yield from (f"{label}: {i}" for i in fragment_issues(fragment, source.columns))


def fragment_issues(fragment: str, columns: frozenset[str]) -> Iterator[str]:
    """A fragment must be one plain SQL expression over the source's own columns."""
    try:
        tree = sqlglot.parse_one(fragment, read="duckdb")
    except sqlglot.errors.ParseError as exc:
        yield f"cannot parse {fragment!r}: {str(exc).splitlines()[0]}"
        return
    if ";" in fragment or "--" in fragment or "/*" in fragment:
        yield f"{fragment!r} must be a single expression without ';' or comments"
    if isinstance(tree, _FORBIDDEN) or any(tree.find_all(*_FORBIDDEN)):
        yield f"{fragment!r} must not contain a statement or subquery"
    for column in tree.find_all(exp.Column):
        if column.table or column.name not in columns:
            yield f"unknown column {column.sql()!r}; this source has: {', '.join(sorted(columns))}"
