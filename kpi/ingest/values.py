"""Text cells -> dates, numbers and booleans, each column's format decided from all its values.

A column of ``03/04/2025`` dates may be month-first (US) or day-first (most of the world); one
``26/02/2018`` in it settles the question, and so does ``1.234,50`` for decimal commas. A column
that proves nothing borrows the answer from other columns of the same export, then from the
preset; if nothing tells, the import is refused with the fix rather than guessed (see
:func:`resolve`). Blank cells are ``None`` (never NaN), whatever pandas version read the file.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

DAY_FIRST, MONTH_FIRST = "DMY", "MDY"
COMMA, POINT = "comma", "point"
YEARS = (1900, 2100)  # outside this, a year is a typo (3017), not a date
TRUE = {"true", "1", "yes", "y", "t", "x", "1.0", "wahr", "vrai", "ja", "oui", "sí", "si"}
FALSE = {"false", "0", "no", "n", "f", "", "0.0", "falsch", "faux", "nein", "non"}
MONTHS = {name: i for i, names in enumerate(
    [(), ("jan", "january"), ("feb", "february"), ("mar", "march"), ("apr", "april"), ("may",),
     ("jun", "june"), ("jul", "july"), ("aug", "august"), ("sep", "sept", "september"),
     ("oct", "october"), ("nov", "november"), ("dec", "december")]) for name in names}
_TIME = (r"(?:(?:T|\s+|,\s*)(?P<H>\d{1,2}):(?P<M>\d{2})(?::(?P<S>\d{2})(?:[.,]\d{1,9})?)?"
         r"\s*(?:(?P<p>[AaPp])\.?[Mm]\.?)?)?")
DATE_RE = re.compile(
    r"^\s*(?:(?P<Y>\d{4})(?P<s1>[-/.])(?P<m>\d{1,2})(?P=s1)(?P<d>\d{1,2})"  # 2025-03-04
    r"|(?P<a>\d{1,2})(?P<s2>[-/.])(?P<b>\d{1,2})(?P=s2)(?P<y>\d{4}|\d{2})"  # 03/04/2025, 4.3.25
    r"|(?P<td>\d{1,2})[-\s](?P<tm>[A-Za-z]{3,9})\.?[-\s]\s*(?P<ty>\d{4}|\d{2})"  # 4-Mar-2025
    r"|(?P<um>[A-Za-z]{3,9})\.?\s+(?P<ud>\d{1,2}),?\s+(?P<uy>\d{4}))"  # Mar 4, 2025
    + _TIME + r"\s*(?P<tz>Z|UTC|GMT|[+-]\d{2}:?\d{2})?\s*$")
_NUMBER_RE = re.compile(
    r"^\s*(?P<sign>[-−(])?\s*(?:[A-Z]{3}\s*|[$€£¥₹]\s*)?(?P<sign2>-)?"
    r"(?P<num>\d[\d.,'\s\u00a0\u202f]*|[.,]\d+)(?P<exp>[eE][-+]?\d{1,3})?"
    r"\s*(?:[A-Z]{3}|[$€£¥₹])?\s*\)?\s*$")


def blank(value: object) -> bool:
    """None, NaN, NaT, pd.NA or an empty string: pandas 2 and 3 read blank cells differently."""
    if value is None or value is pd.NA or value is pd.NaT:
        return True
    if isinstance(value, float):
        return math.isnan(value)
    return isinstance(value, str) and not value.strip()


def text_column(values: Iterable[object], index: pd.Index | None = None) -> pd.Series:
    """Stripped text with None for blanks, as an object column pandas will not turn into NaN.

    Each distinct value is looked at once (a column of a few thousand owner ids over millions
    of rows costs a few thousand strips)."""
    raw = pd.Series(list(values) if not isinstance(values, pd.Series) else values.to_numpy(),
                    dtype=object)
    if pd.api.types.infer_dtype(raw, skipna=True) in ("string", "empty"):
        codes, found = pd.factorize(raw.to_numpy(dtype=object), use_na_sentinel=True)
    else:  # 1, 1.0 and True are one value to a hash: texts from workbook cells one by one
        codes, found = np.arange(len(raw)), raw.to_numpy(dtype=object)
    distinct = pd.Series(np.asarray(found, dtype=object), dtype=object)
    stripped = distinct.str.strip()  # anything but text becomes NaN here
    other = (stripped.isna() & distinct.notna()).to_numpy()
    if other.any():  # numbers or dates from a workbook: as text
        stripped[other] = [None if blank(v) else str(v).strip() for v in distinct[other]]
    keep = (stripped.notna() & stripped.ne("")).to_numpy()
    missing = np.array([None], dtype=object)  # None as an object array: numpy's stubs type it so
    cleaned = np.append(np.where(keep, stripped.to_numpy(dtype=object), missing), missing)
    out = cleaned[codes]  # blanks (code -1) -> the trailing None
    return pd.Series(out, index=index if index is not None else raw.index, dtype=object)


@dataclass(frozen=True)
class Bad:
    """One cell that could not be read: its position in the column, what is wrong, the fix."""

    position: int
    value: str
    message: str
    fix: str


@dataclass
class Evidence:
    """What a column's values prove about their format, with an example of each proof."""

    proven: dict[str, str] = field(default_factory=dict)  # DMY/MDY or comma/point -> example
    ambiguous: str | None = None  # an example value that could be read either way

    @property
    def mixed(self) -> bool:
        return len(self.proven) > 1


# the common machine-written form (2024-03-01, 2024-03-01T10:00:00.000+0000): read in one
# vectorised pass, the rest value by value with DATE_RE (both give the same dates: tested)
ISO_RE = (r"^\d{4}-\d{2}-\d{2}(?:T\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?"
          r"(?:Z|[+-]\d{2}:?\d{2})?)?$")


class DateColumn:
    """A column of date texts, split into parts once (on its distinct values)."""

    def __init__(self, text: pd.Series) -> None:
        self.text = text
        self.unique = pd.Series(text.dropna().unique(), dtype=object)
        self.fast, self.rest = _iso_stamps(self.unique)
        self.other = self.unique[self.rest].reset_index(drop=True)
        self.parts = self.other.astype(str).str.extract(DATE_RE) if len(self.other) else \
            pd.DataFrame(columns=list(DATE_RE.groupindex))

    def evidence(self) -> Evidence:
        """Is the ``a/b/y`` form day-first (some a > 12) or month-first (some b > 12)?"""
        found = Evidence()
        a, b = _ints(self.parts["a"]), _ints(self.parts["b"])
        for order, proof in ((DAY_FIRST, (a > 12) & (b <= 12)), (MONTH_FIRST, (b > 12) & (a <= 12))):
            if proof.any():
                found.proven[order] = str(self.other[proof.to_numpy()].iloc[0])
        either = (a <= 12) & (b <= 12) & (a != b)
        if either.any():
            found.ambiguous = str(self.other[either.to_numpy()].iloc[0])
        return found

    def parse(self, order: str | None, keep_time: bool) -> tuple[pd.Series, list[Bad]]:
        """Dates (or naive UTC datetimes when ``keep_time``), None for blanks, and the bad cells.

        ``order`` (DMY or MDY) reads the ``a/b/y`` form; with None only unambiguous ones are read.
        """
        slow, why_slow = self._read(order)
        stamps = self.fast.copy()
        stamps[self.rest] = slow.to_numpy()
        why = np.full(len(self.unique), None, dtype=object)
        why[self.rest] = why_slow
        if keep_time:
            out = np.array(stamps.astype(object), dtype=object)  # Timestamps are datetimes
            out[stamps.isna().to_numpy()] = None
        else:  # one date object per distinct day, however many distinct times
            codes, days = pd.factorize(stamps.dt.normalize())
            objects = np.array([d.date() for d in days] + [None], dtype=object)
            out = objects[codes]  # NaT -> code -1 -> the trailing None
        where = pd.Index(self.unique).get_indexer(self.text)
        values = pd.Series(np.where(where >= 0, out[where] if len(out) else None, None),
                           index=self.text.index, dtype=object)
        return values, _bad_cells(self.text, where, why)

    def _read(self, order: str | None) -> tuple[pd.Series, np.ndarray]:
        p = self.parts
        ordered = p["a"].notna().to_numpy()
        first, second = _ints(p["a"]), _ints(p["b"])
        year, month, day = _ints(p["Y"]), _ints(p["m"]), _ints(p["d"])
        if order == DAY_FIRST:
            month, day = month.where(~ordered, second), day.where(~ordered, first)
        else:  # month-first, or no order: then only a == b (05/05/2025) is read
            month, day = month.where(~ordered, first), day.where(~ordered, second)
        year = year.where(~ordered, _century(_ints(p["y"])))
        for d, m, y in (("td", "tm", "ty"), ("ud", "um", "uy")):
            named = p[m].notna().to_numpy()
            month = month.where(~named, p[m].str.lower().map(MONTHS).astype(float))
            day = day.where(~named, _ints(p[d]))
            year = year.where(~named, _century(_ints(p[y])))
        hour, minute, sec = _ints(p["H"]), _ints(p["M"]), _ints(p["S"])
        half = p["p"].str.lower().fillna("")
        clock12 = half.ne("").to_numpy()
        problems = _date_problems(p, year, month, day, (hour, minute, sec, clock12),
                                  ordered & (order is None) & (first != second).to_numpy())
        ok = np.array([w is None for w in problems], dtype=bool) if len(problems) else \
            np.zeros(0, dtype=bool)
        hour = hour.fillna(0).where(~clock12, hour % 12 + np.where(half.eq("p"), 12, 0))
        frame = pd.DataFrame({"year": year, "month": month, "day": day, "hour": hour,
                              "minute": minute.fillna(0), "second": sec.fillna(0)})
        frame.loc[~ok, :] = np.nan
        stamps = pd.to_datetime(frame, errors="coerce") if len(frame) else \
            pd.Series([], dtype="datetime64[ns]")
        stamps = stamps - pd.to_timedelta(p["tz"].map(_offset_minutes).astype(float), unit="m")
        return stamps, problems


def _date_problems(p: pd.DataFrame, year: pd.Series, month: pd.Series, day: pd.Series,
                   clock: tuple[pd.Series, pd.Series, pd.Series, np.ndarray],
                   unordered: np.ndarray) -> np.ndarray:
    """Per distinct value: None, or (what is wrong, how to fix it)."""
    fix = "write dates as YYYY-MM-DD (M/D/YYYY, D/M/YYYY and 2024-03-01T10:00:00Z are read too)"
    hour, minute, sec, clock12 = clock
    y, m, d = year.to_numpy(), month.to_numpy(), day.to_numpy()
    missing = np.isnan(y) | np.isnan(m) | np.isnan(d)
    named = (p["tm"].notna() | p["um"].notna()).to_numpy()
    safe_y = np.where(np.isnan(y), 2000, y).astype(int)
    safe_m = np.clip(np.where(np.isnan(m), 1, m), 1, 12).astype(int)
    leap = (safe_y % 4 == 0) & ((safe_y % 100 != 0) | (safe_y % 400 == 0))
    length = np.array([0, 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31])[safe_m] + \
        (leap & (safe_m == 2))
    implausible = (y < YEARS[0]) | (y > YEARS[1])
    unreal = (m < 1) | (m > 12) | (d < 1) | (d > length)
    h = hour.to_numpy()
    bad_time = ((h > 23) | (clock12 & ((h < 1) | (h > 12))) | (minute.to_numpy() > 59)
                | (sec.to_numpy() > 59))
    out = np.full(len(p), None, dtype=object)
    checks = [(bad_time, ("not a date (no such time of day)", fix)),
              (unreal, ("not a date (no such day)", fix)),
              (implausible, None), (unordered, ("day and month order unknown", fix)),
              (missing & ~named, ("not a date", fix)),
              (missing & named, ("not a date (month name not recognised)", fix))]
    for mask, why in checks:  # the last that applies wins: the most basic problem is named
        for i in np.flatnonzero(mask):
            out[i] = why or (f"year {int(y[i])} is not plausible (a typo?)",
                             "correct the year in the CRM, or in the file")
    return out


def _num(value: object) -> float:
    return float("nan") if blank(value) else float(str(value))


def _ints(column: pd.Series) -> pd.Series:
    return pd.to_numeric(column, errors="coerce").astype(float)


def _century(years: pd.Series) -> pd.Series:
    """Two-digit years: 26 -> 2026, 85 -> 1985 (up to 20 years ahead of today counts as 20xx)."""
    pivot = dt.date.today().year % 100 + 20
    two = years < 100
    return years.where(~two, np.where(years <= pivot, 2000 + years, 1900 + years))


def _offset_minutes(tz: object) -> int:
    if blank(tz) or str(tz).upper() in ("Z", "UTC", "GMT"):
        return 0
    text = str(tz).replace(":", "")
    sign = -1 if text[0] == "-" else 1
    return sign * (int(text[1:3]) * 60 + int(text[3:5]))


def _iso_stamps(unique: pd.Series) -> tuple[pd.Series, np.ndarray]:
    """The ISO values among ``unique`` as naive UTC timestamps (seconds, like DATE_RE's reading),
    and a mask of the values left for the general reader (not ISO, not a real date, or a year
    outside :data:`YEARS`: that one says what is wrong with them)."""
    stamps = np.full(len(unique), np.datetime64("NaT"), dtype="datetime64[ns]")
    for start in range(0, len(unique), 1 << 18):  # in slices: the temporary texts stay small
        part = unique.iloc[start:start + (1 << 18)].astype(str)
        iso = part.str.fullmatch(ISO_RE).to_numpy(dtype=bool)
        if not iso.any():
            continue
        written = part[iso]
        read = pd.to_datetime(written, format="ISO8601", utc=True, errors="coerce")
        read = read.dt.tz_localize(None).dt.floor("s")
        year = written.str[:4].astype(int)  # as written, before the time zone moves it
        read = read.where((year >= YEARS[0]) & (year <= YEARS[1]))
        stamps[start + np.flatnonzero(iso)] = read.to_numpy(dtype="datetime64[ns]")
    out = pd.Series(stamps, index=unique.index)
    return out, out.isna().to_numpy()


def _bad_cells(text: pd.Series, where: np.ndarray, why: np.ndarray, fix: str | None = None
               ) -> list[Bad]:
    """The cells whose distinct value (``where`` indexes ``why``: None, a message when ``fix`` is
    given, else (message, fix)) has a problem."""
    if not len(why):
        return []
    has = np.array([w is not None for w in why], dtype=bool)
    rows = np.flatnonzero((where >= 0) & has[np.maximum(where, 0)])
    reasons = [(str(why[where[i]]), fix) if fix is not None else why[where[i]] for i in rows]
    return [Bad(int(i), str(text.iloc[i]), *reason) for i, reason in zip(rows, reasons, strict=True)]


class NumberColumn:
    """A column of amounts: ``1,234.50``, ``1.234,50``, ``$2,500``, ``1 234,5`` or ``EUR 12``."""

    def __init__(self, text: pd.Series) -> None:
        self.text = text
        self.unique = pd.Series(text.dropna().unique(), dtype=object)
        self.parts = self.unique.astype(str).str.extract(_NUMBER_RE) if len(self.unique) else \
            pd.DataFrame(columns=list(_NUMBER_RE.groupindex))
        self.digits = self.parts["num"].str.replace(r"[\s'\u00a0\u202f]", "", regex=True)
        shapes = self.digits.str.replace(r"[1-9]", "9", regex=True)  # the kind depends on it only
        kinds = {shape: _separator_kind(shape) for shape in shapes.dropna().unique()}
        self.kinds = pd.Series(shapes.map(kinds).to_numpy(dtype=object), index=shapes.index,
                               dtype=object)

    def evidence(self) -> Evidence:
        found = Evidence()
        for kind in (COMMA, POINT):
            hits = self.kinds.eq(kind).to_numpy(dtype=bool)
            if hits.any():
                found.proven[kind] = str(self.unique[hits].iloc[0])
        either = self.kinds.eq("ambiguous").to_numpy(dtype=bool)
        if either.any():
            found.ambiguous = str(self.unique[either].iloc[0])
        return found

    def parse(self, decimal: str | None) -> tuple[pd.Series, list[Bad]]:
        """Numbers, None for blanks, and the bad cells; ``decimal`` (comma or point) reads the
        ambiguous ones, else the column's own proof decides (its text alone for mixed columns)."""
        fix = "use plain numbers like 1234.50 (no text)"
        proven = set(self.kinds.dropna()) & {COMMA, POINT}
        column = decimal or (proven.pop() if len(proven) == 1 else None)
        mark = self.kinds.where(self.kinds.isin([COMMA, POINT]), column)
        if column is not None:
            mark = mark.where(~self.kinds.isin([COMMA, POINT]) | (len(proven) > 1), column)
        mark = mark.fillna(POINT).where(self.kinds.ne("ambiguous") | (column is not None), None)
        values = pd.Series(np.nan, index=self.unique.index)
        why = pd.Series(None, index=self.unique.index, dtype=object)
        for kind, point, group in ((POINT, r"\.", ","), (COMMA, ",", r"\.")):
            rows = mark.eq(kind).to_numpy(dtype=bool) & self.digits.notna().to_numpy(dtype=bool)
            digits = self.digits[rows]
            fits = digits.str.fullmatch(rf"(?:\d+|[1-9]\d{{0,2}}(?:{group}\d{{2,3}})*{group}\d{{3}})?"
                                        rf"(?:{point}\d*)?") & digits.str.contains(r"\d")
            plain = digits.str.replace(group, "", regex=True).str.replace(point, ".", regex=True)
            number = pd.to_numeric(plain.where(fits) + self.parts["exp"][rows].fillna(""),
                                   errors="coerce")
            values[rows] = number
            why[rows] = np.where(fits, np.array(None, dtype=object),
                                 "not a number (its separators do not fit)")
        values[~np.isfinite(values.to_numpy(dtype=float))] = np.nan
        negative = (self.parts["sign"].notna() | self.parts["sign2"].notna()).to_numpy()
        values[negative] = -values[negative]
        why = why.where(values.isna(), None)
        why[why.isna() & values.isna()] = "not a number"
        why[self.kinds.eq("ambiguous").to_numpy() & mark.isna().to_numpy()] = \
            "decimal mark unknown (1,234 or 1.234 could be either)"
        where = pd.Index(self.unique).get_indexer(self.text)
        found = np.where(where >= 0, values.to_numpy(dtype=object)[where] if len(values) else None,
                         None)
        out = pd.Series(found, index=self.text.index, dtype=object)
        out = out.where(out.notna(), None)
        messages = why.to_numpy(dtype=object)
        return out, _bad_cells(self.text, where, messages, fix)


def _separator_kind(num: str) -> str | None:
    """Which decimal mark a number's own text proves: comma, point, ambiguous or None (plain)."""
    num = re.sub(r"[\s'\u00a0\u202f]", "", num)
    marks = [c for c in num if c in ",."]
    if not marks:
        return None
    last = marks[-1]
    if len(set(marks)) == 2:
        return COMMA if last == "," else POINT
    if len(marks) > 1:  # 1,234,567 or 1.234.567: the mark groups thousands
        return POINT if last == "," else COMMA
    head, tail = num.split(last)
    if len(tail) == 3 and 1 <= len(head) <= 3 and not head.startswith("0"):
        return "ambiguous"  # 1,234: a thousand, or one and a bit
    return COMMA if last == "," else POINT


def booleans(text: pd.Series) -> tuple[pd.Series, list[Bad]]:
    """true/false, yes/no, 1/0, x; blank is false (Salesforce writes false as an empty cell)."""
    lowered = text_column(text, text.index).fillna("").str.lower()
    bad = [Bad(int(i), str(text.iloc[i]), "not true/false", "use true/false, yes/no or 1/0")
           for i in np.flatnonzero(~lowered.isin(TRUE | FALSE).to_numpy())]
    return pd.Series(lowered.isin(TRUE).to_numpy(), index=text.index, dtype=bool), bad


def resolve(evidence: dict[tuple[str, str], Evidence], pinned: str | None,
            names: Mapping[str | None, str],
            labels: dict[tuple[str, str], str] | None = None
            ) -> tuple[dict[tuple[str, str], str | None], list[str]]:
    """Each (file, column)'s format: its own proof, else its file's, else the import's, else the
    preset's; None when a column needs an answer that nothing gives. Returns notes on borrowing."""
    def proof(keys: Iterable[tuple[str, str]]) -> tuple[str, tuple[str, str], str] | None:
        found: dict[str, tuple[tuple[str, str], str]] = {}
        for key in keys:
            for fmt, example in evidence[key].proven.items():
                found.setdefault(fmt, (key, example))
        if len(found) == 1:
            fmt, (key, example) = next(iter(found.items()))
            return fmt, key, example
        return None

    chosen: dict[tuple[str, str], str | None] = {}
    notes = []
    label = (labels or {}).get
    for key, found in evidence.items():
        if found.mixed:
            chosen[key] = None
        elif found.proven:
            chosen[key] = next(iter(found.proven))
        elif found.ambiguous is None:
            chosen[key] = pinned
        else:
            same_file = proof(k for k in evidence if k[0] == key[0] and k != key)
            anywhere = same_file or proof(k for k in evidence if k != key)
            if anywhere:
                fmt, (file, column), example = anywhere
                where = f"{label((file, column), column)!r}" + ("" if file == key[0] else
                                                                f" of {file}")
                notes.append(f"{key[0]}: {label(key, key[1])!r} values like {found.ambiguous!r} read as "
                             f"{names[fmt]}, as {where} proves ({example!r})")
                chosen[key] = fmt
            else:
                chosen[key] = pinned
                if pinned:
                    notes.append(f"{key[0]}: {label(key, key[1])!r} values like "
                                 f"{found.ambiguous!r} read as "
                                 f"{names[pinned]}, as the preset says")
    return chosen, notes
