"""Byte-level writers: CSV in a given encoding, XLSX (constant memory), JSON.

All three are deterministic: no timestamps from the clock (xlsxwriter's document properties
get a fixed ``created``; its zip entries carry a fixed date), no dict-order surprises.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Sequence
from datetime import date, datetime
from pathlib import Path
from typing import Any

import numpy as np
import xlsxwriter

FIXED_CREATED = datetime(2000, 1, 1, 0, 0, 0)


def write_csv(path: Path, headers: Sequence[str], columns: Sequence[np.ndarray], *,
              encoding: str, newline: str) -> None:
    """CSV with minimal quoting; ``encoding`` "utf-8-sig" writes the BOM Excel writes."""
    with path.open("w", encoding=encoding, errors="strict", newline="") as fh:
        writer = csv.writer(fh, lineterminator=newline)
        writer.writerow(headers)
        writer.writerows(zip(*columns, strict=True) if columns else ())


def write_xlsx(path: Path, headers: Sequence[str], columns: Sequence[np.ndarray], *,
               title_rows: Sequence[str], date_format: str, sheet: str, title: str) -> None:
    """One sheet: optional title rows merged across all columns, the header, the data."""
    wb = xlsxwriter.Workbook(str(path), {"constant_memory": True, "strings_to_numbers": False,
                                         "strings_to_formulas": False, "strings_to_urls": False})
    try:
        wb.set_properties({"created": FIXED_CREATED, "title": title, "author": "",
                           "company": ""})
        ws = wb.add_worksheet(sheet)
        title_fmt = wb.add_format({"bold": True, "font_size": 14, "align": "center",
                                   "valign": "vcenter"})
        sub_fmt = wb.add_format({"align": "left"})
        head_fmt = wb.add_format({"bold": True, "border": 1, "align": "center"})
        date_fmt = wb.add_format({"num_format": date_format})
        ncols = max(len(headers), 1)
        ws.set_column(0, ncols - 1, 16)
        row = 0
        for k, text in enumerate(title_rows):
            fmt = title_fmt if k == 0 else sub_fmt
            if ncols > 1:
                ws.merge_range(row, 0, row, ncols - 1, text, fmt)
            else:
                ws.write_string(row, 0, text, fmt)
            row += 1
        for c, text in enumerate(headers):
            ws.write_string(row, c, text, head_fmt)
        row += 1
        n = len(columns[0]) if columns else 0
        for i in range(n):
            for c, col in enumerate(columns):
                _cell(ws, row, c, col[i], date_fmt)
            row += 1
    finally:
        wb.close()


def _cell(ws: Any, row: int, col: int, value: Any, date_fmt: Any) -> None:
    if value is None:
        return
    if isinstance(value, str):
        if value:
            ws.write_string(row, col, value)
    elif isinstance(value, (bool, np.bool_)):
        ws.write_boolean(row, col, bool(value))
    elif isinstance(value, (int, float, np.integer, np.floating)):
        ws.write_number(row, col, value)
    elif isinstance(value, (datetime, date)):
        ws.write_datetime(row, col, value, date_fmt)
    else:
        raise TypeError(f"cannot write {type(value).__name__} to xlsx")


def write_json(path: Path, keys: Sequence[str], columns: Sequence[np.ndarray]) -> None:
    """A JSON array of objects keyed by English field names (what machine exports send)."""
    n = len(columns[0]) if columns else 0
    records = [{k: _json_value(col[i]) for k, col in zip(keys, columns, strict=True)}
               for i in range(n)]
    path.write_text(json.dumps(records, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")


def _json_value(value: Any) -> Any:
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, np.floating):
        return float(value)
    if isinstance(value, np.bool_):
        return bool(value)
    return value
