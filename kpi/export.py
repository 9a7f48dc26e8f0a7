"""Tables that leave the app as files: CSV a spreadsheet opens as data, never as formulas.

A cell from the CRM that starts with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return is
run as a formula by Excel, LibreOffice and Google Sheets (``=HYPERLINK(...)``, ``+cmd|...``).
Such text cells get a leading apostrophe and every field is quoted, as OWASP recommends
(https://owasp.org/www-community/attacks/CSV_Injection); numbers stay numbers.
"""

from __future__ import annotations

import csv
from typing import Any

import pandas as pd

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def spreadsheet_text(value: Any) -> Any:
    """A text value a spreadsheet will not run: a leading ``'`` before a formula character."""
    if isinstance(value, str) and value.startswith(FORMULA_START):
        return "'" + value
    return value


def csv_bytes(frame: pd.DataFrame) -> bytes:
    """``frame`` as UTF-8 CSV for a download: text cells and headers made safe, fields quoted."""
    safe = frame.copy()
    safe.columns = [spreadsheet_text(str(c)) for c in frame.columns]
    for i, column in enumerate(frame.columns):
        values = frame[column]
        if pd.api.types.is_object_dtype(values) or pd.api.types.is_string_dtype(values):
            safe.isetitem(i, values.map(spreadsheet_text, na_action="ignore"))
    text: str = safe.to_csv(index=False, quoting=csv.QUOTE_ALL)
    return text.encode()
