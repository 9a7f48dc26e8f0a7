"""Exact comparison of what two companies showed, with the declared aggregates masked out."""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Iterable
from typing import Any

import numpy as np
import pandas as pd

from kpi.catalog import Catalog
from kpi.disclosure import AGGREGATES, PER_REP_WEEK, SET, Shown

from .pages import Refused, Seen

MASKED = "<includes others>"


def masked(seen: Seen, keys: Iterable[str], role: str, catalog: Catalog) -> Any:
    """The value with the fields of the aggregates ``keys`` (shown to ``role``) masked."""
    value = seen.value
    for key in keys:
        aggregate = AGGREGATES[key]
        if role not in aggregate.roles:
            continue
        if aggregate.only_for == "new rep" and not seen.about.get("new_rep"):
            continue
        for shown in aggregate.shown_in:
            if shown.view == seen.view:
                value = _mask(value, shown, seen.about, catalog)
    return value


def carries(seen: Seen, key: str, role: str) -> bool:
    """Whether this result can carry the aggregate for this viewer."""
    aggregate = AGGREGATES[key]
    if role not in aggregate.roles:
        return False
    if aggregate.only_for == "new rep" and not seen.about.get("new_rep"):
        return False
    return any(s.view == seen.view for s in aggregate.shown_in)


def _holds(shown: Shown, value: Any, catalog: Catalog) -> bool:
    expected = shown.where[1]  # type: ignore[index]
    if expected == SET:
        return value is not None and not (isinstance(value, float) and math.isnan(value))
    if expected == PER_REP_WEEK:
        return value in catalog.ids() and catalog.get(value).per_rep_week
    return value == expected


def _rows(frame: pd.DataFrame, shown: Shown, about: dict, catalog: Catalog) -> pd.Series:
    if shown.where is None:
        return pd.Series(True, index=frame.index)
    name = shown.where[0]
    if name in frame.columns:
        return frame[name].map(lambda v: _holds(shown, v, catalog)).astype(bool)
    return pd.Series(_holds(shown, about.get(name), catalog), index=frame.index)


def _mask(value: Any, shown: Shown, about: dict, catalog: Catalog) -> Any:
    if isinstance(value, Refused):
        return value
    if isinstance(value, pd.DataFrame):
        return _mask_frame(value, shown, about, catalog)
    if isinstance(value, list | tuple) and value and dataclasses.is_dataclass(value[0]):
        return type(value)(_mask(v, shown, about, catalog) for v in value)
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return _mask_item(value, shown, about, catalog)
    return MASKED if shown.fields == ("*",) else value


def _mask_item(item: Any, shown: Shown, about: dict, catalog: Catalog) -> Any:
    if shown.where is not None:
        name = shown.where[0]
        subject = getattr(item, name) if hasattr(item, name) else about.get(name)
        if not _holds(shown, subject, catalog):
            return item
    if shown.fields == ("*",):
        return MASKED
    changes: dict[str, Any] = {}
    for name in shown.fields:
        if "." in name:
            holder, column = name.split(".")
            frame = changes.get(holder, getattr(item, holder)).copy()
            frame[column] = MASKED
            changes[holder] = frame
        else:
            changes[name] = MASKED
    return dataclasses.replace(item, **changes)


def _mask_frame(frame: pd.DataFrame, shown: Shown, about: dict, catalog: Catalog) -> Any:
    rows = _rows(frame, shown, about, catalog)
    if shown.fields == ("*",):
        return MASKED if shown.where is None else frame[~rows].reset_index(drop=True)
    frame = frame.copy()
    for name in (f for f in shown.fields if f in frame.columns):
        frame[name] = frame[name].astype(object)
        frame.loc[rows, name] = MASKED
    if shown.reorders:  # the order came from the masked fields: compare in a fixed order
        keep = [c for c in frame.columns if c not in shown.fields]
        key = frame[keep].astype(str).agg("|".join, axis=1)
        frame = frame.iloc[np.argsort(key.to_numpy(), kind="stable")].reset_index(drop=True)
    return frame


def assert_same(a: Any, b: Any, path: str) -> None:
    """Exactly equal: frames by pandas.testing, dataclasses field by field, NaN equal to NaN."""
    assert type(a) is type(b), f"{path}: {type(a).__name__} != {type(b).__name__}"
    if isinstance(a, pd.DataFrame):
        pd.testing.assert_frame_equal(a, b, check_exact=True, obj=path)
    elif dataclasses.is_dataclass(a):
        for f in dataclasses.fields(a):
            assert_same(getattr(a, f.name), getattr(b, f.name), f"{path}.{f.name}")
    elif isinstance(a, list | tuple):
        assert len(a) == len(b), f"{path}: {len(a)} items != {len(b)}"
        for i, (x, y) in enumerate(zip(a, b, strict=True)):
            assert_same(x, y, f"{path}[{i}]")
    elif isinstance(a, dict):
        assert list(a) == list(b), f"{path}: keys {list(a)} != {list(b)}"
        for k in a:
            assert_same(a[k], b[k], f"{path}[{k!r}]")
    elif isinstance(a, float) and math.isnan(a):
        assert math.isnan(b), f"{path}: nan != {b!r}"
    else:
        assert a == b, f"{path}: {a!r} != {b!r}"


def same(a: Any, b: Any) -> bool:
    try:
        assert_same(a, b, "")
    except AssertionError:
        return False
    return True


def non_empty(value: Any) -> bool:
    """A result that shows something: rows, items, a number."""
    if value is None or isinstance(value, Refused):
        return False
    if isinstance(value, pd.DataFrame):
        return not value.empty
    if isinstance(value, list | tuple | dict):
        return len(value) > 0
    return True
