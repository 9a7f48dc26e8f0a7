"""Reading an export: CSV (any common delimiter, UTF-8) or Excel, every cell kept as text.

Problems that make a file unreadable (empty, binary, not UTF-8, cut off mid-row, a wrong
delimiter, far too many columns) are reported with where they are and how to fix them.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass

import pandas as pd

from kpi.ingest.report import Problem

MAX_COLUMNS = 300
DELIMITERS = ",;\t|"
EXCEL = (".xlsx", ".xlsm")


@dataclass(frozen=True)
class RawFile:
    """An export as read: text cells, and ``_row`` = its spreadsheet row number (header = 1)."""

    name: str
    frame: pd.DataFrame
    delimiter: str = ","


class Unreadable(Exception):
    def __init__(self, problem: Problem) -> None:
        super().__init__(str(problem))
        self.problem = problem


def read(name: str, data: bytes) -> RawFile:
    """Parse one file's bytes; raises :class:`Unreadable` with the reason and the fix."""
    if not data.strip():
        _fail(name, "the file is empty (0 bytes of data)", "export it again; the download may "
              "have failed")
    if name.lower().endswith(EXCEL):
        return _excel(name, data)
    if name.lower().endswith(".xls"):
        _fail(name, "old Excel 97-2003 (.xls) files are not read", "save it as .xlsx or CSV (UTF-8)")
    if b"\x00" in data[:65536] or data[:4] in (b"PK\x03\x04", b"%PDF"):
        _fail(name, "this is not a text CSV file (it holds binary data)",
              "export the report as CSV (UTF-8) or .xlsx")
    return _csv(name, _decode(name, data))


def _fail(name: str, message: str, fix: str, row: int | None = None) -> None:
    raise Unreadable(Problem(name, row, None, None, message, fix, fatal=True))


def _decode(name: str, data: bytes) -> str:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[:exc.start].count(b"\n") + 1
        _fail(name, f"the file is not UTF-8 (byte {exc.start}, line {line}: "
              f"{data[exc.start:exc.start + 1]!r})",
              "re-export as 'CSV UTF-8' (Excel: Save As > CSV UTF-8), or convert it", row=line)
        raise AssertionError from exc  # unreachable


def _delimiter(name: str, text: str) -> str:
    sample = "\n".join(text.splitlines()[:50])
    try:
        return csv.Sniffer().sniff(sample, delimiters=DELIMITERS).delimiter
    except csv.Error:
        header = text.splitlines()[0] if text else ""
        counts = {d: header.count(d) for d in DELIMITERS}
        best = max(counts, key=lambda d: counts[d])
        return best if counts[best] else ","


def _csv(name: str, text: str) -> RawFile:
    delimiter = _delimiter(name, text)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True)
    try:
        rows = list(reader)
    except csv.Error as exc:
        _fail(name, f"the file is cut off or malformed near line {reader.line_num} ({exc})",
              "an unclosed quote or a truncated download: export the file again",
              row=reader.line_num)
    rows = [r for r in rows if any(cell.strip() for cell in r)]
    if not rows:
        _fail(name, "the file has no header row", "export it again with column headers")
    header, body = [h.strip() for h in rows[0]], rows[1:]
    _check_header(name, header, delimiter)
    for number, row in enumerate(body, start=2):
        if len(row) != len(header):
            _fail(name, f"row {number} has {len(row)} fields but the header has {len(header)}",
                  "a stray delimiter, an unclosed quote or a truncated file: fix that row or "
                  "export again", row=number)
    frame = pd.DataFrame(body, columns=header, dtype=object)
    frame.insert(0, "_row", range(2, len(body) + 2))
    return RawFile(name, frame, delimiter)


def _check_header(name: str, header: list[str], delimiter: str) -> None:
    if len(header) > MAX_COLUMNS:
        _fail(name, f"the file has {len(header):,} columns (at most {MAX_COLUMNS} expected)",
              "this does not look like a CRM object export: check the file, or export only the "
              "fields you map", row=1)
    if len(set(header)) != len(header):
        dupes = sorted({h for h in header if header.count(h) > 1})
        _fail(name, f"the header repeats column(s) {', '.join(dupes)}",
              "rename or remove the duplicate columns", row=1)
    if len(header) == 1 and any(d in header[0] for d in ";\t|" if d != delimiter):
        _fail(name, "only one column was found", "check the delimiter (comma, semicolon, tab)",
              row=1)


def _excel(name: str, data: bytes) -> RawFile:
    try:
        frame = pd.read_excel(io.BytesIO(data), dtype=str, keep_default_na=False)
    except Exception as exc:  # noqa: BLE001 - openpyxl raises many types for a broken workbook
        _fail(name, f"the workbook cannot be read ({type(exc).__name__})",
              "open it in Excel and save it again as .xlsx, or export CSV (UTF-8)")
    frame.columns = [str(c).strip() for c in frame.columns]
    _check_header(name, list(frame.columns), ",")
    frame = frame.astype(object)
    frame.insert(0, "_row", range(2, len(frame) + 2))
    return RawFile(name, frame)
