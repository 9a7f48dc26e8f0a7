"""ISO dates are read in one vectorised pass; it gives exactly what the value-by-value reader gives
(dates, times, time zones, fractions of a second, and the same problem for every bad value)."""

from __future__ import annotations

import random

import numpy as np
import pandas as pd
import pytest

from kpi.ingest import values
from kpi.ingest.values import DateColumn


def slow_only(monkeypatch: pytest.MonkeyPatch) -> None:
    def everything_slow(unique: pd.Series) -> tuple[pd.Series, np.ndarray]:
        return (pd.Series(pd.NaT, index=unique.index, dtype="datetime64[ns]"),
                np.ones(len(unique), dtype=bool))
    monkeypatch.setattr(values, "_iso_stamps", everything_slow)


def texts(seed: int, n: int = 300) -> list[str | None]:
    rng = random.Random(seed)
    out: list[str | None] = []
    for _ in range(n):
        year = rng.choice([1899, 1900, 1999, 2024, 2024, 2025, 2100, 2101, 3017])
        month, day = rng.randint(0, 13), rng.choice([1, 15, 28, 29, 30, 31, 32])
        text = f"{year}-{month:02d}-{day:02d}"
        if rng.random() < 0.6:
            text += f"T{rng.choice([0, 9, 23, 24]):02d}:{rng.choice([0, 30, 59, 60]):02d}"
            if rng.random() < 0.8:
                text += f":{rng.choice([0, 7, 59, 61]):02d}"
                if rng.random() < 0.5:
                    text += "." + "".join(rng.choice("0123456789") for _ in range(rng.randint(1, 9)))
            text += rng.choice(["", "Z", "+0000", "-0800", "+05:30", "+1400", "-12:00"])
        out.append(rng.choice([text, text, text, None, f"{month}/{day}/{year}", " " + text]))
    return out


@pytest.mark.parametrize("seed", range(25))
@pytest.mark.parametrize("keep_time", [False, True])
def test_the_fast_reading_is_the_exact_one(seed: int, keep_time: bool,
                                           monkeypatch: pytest.MonkeyPatch) -> None:
    column = pd.Series(texts(seed), dtype=object)
    fast = DateColumn(column)
    assert (~fast.rest).sum() > 0, "no value took the fast path"
    got_values, got_bad = fast.parse("MDY", keep_time)
    got_evidence = fast.evidence()
    slow_only(monkeypatch)
    exact = DateColumn(column)
    want_values, want_bad = exact.parse("MDY", keep_time)
    assert got_values.tolist() == want_values.tolist()
    assert got_bad == want_bad
    assert got_evidence == exact.evidence()


def test_a_salesforce_timestamp_by_hand() -> None:
    column = pd.Series(["2024-03-01T23:30:15.250-0800", "2024-03-01T10:00:00.000+0000", None,
                        "2024-02-30T10:00:00.000+0000", "3017-01-01"], dtype=object)
    dates, bad = DateColumn(column).parse(None, keep_time=False)
    assert dates.tolist()[:3] == [pd.Timestamp("2024-03-02").date(),
                                  pd.Timestamp("2024-03-01").date(), None]
    stamps, _ = DateColumn(column).parse(None, keep_time=True)
    assert stamps.iloc[0] == pd.Timestamp("2024-03-02 07:30:15")
    assert [(b.position, b.message) for b in bad] == [
        (3, "not a date (no such day)"), (4, "year 3017 is not plausible (a typo?)")]
