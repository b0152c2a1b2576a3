"""Reading a unit's file into a table of text cells, whatever its format.

XLSX (title rows and merged title cells above the header are common), CSV in UTF-8 with or
without BOM or GB18030/GBK, and JSON arrays of objects. Every reader returns the same
``TextTable``: one text column per header, NA for empty cells, and the row number the unit
sees (spreadsheet row, or JSON array position) for every data row. Typing happens later in
``pipelines.ingest.parse``; nothing here guesses at meaning beyond finding the header row.
"""

from __future__ import annotations

import csv
import io
import json
import math
import zipfile
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time

import pandas as pd

from pipelines.contracts import normalize_header

HEADER_SCAN_ROWS = 10  # title rows above the header: we look this far down for it
FORMATS = {".xlsx": "xlsx", ".xlsm": "xlsx", ".csv": "csv", ".txt": "csv", ".json": "json"}
# Numbers this large cannot be an amount or a count a unit typed; as text they are what Excel
# made of a long digit string (an ID), which has lost its last digits.
LOSSY_NUMBER = 1e15


class FileRefusal(Exception):
    """A whole-file problem: the submission is refused with this reason code."""

    def __init__(self, reason: str, value: object = None, detail: str = "") -> None:
        super().__init__(f"{reason}: {value} {detail}".strip())
        self.reason = reason
        self.value = value
        self.detail = detail


@dataclass
class TextTable:
    frame: pd.DataFrame  # columns = header texts as written; cells = str or NA
    source_rows: list[int]  # per frame row, the number the unit sees
    file_format: str
    encoding: str | None = None
    header_row: int | None = None  # spreadsheet row of the header (None for JSON)
    notes: list[str] = field(default_factory=list)


def file_format(filename: str) -> str:
    suffix = "." + filename.rsplit(".", 1)[-1].lower() if "." in filename else ""
    if suffix not in FORMATS:
        raise FileRefusal("unsupported_format", suffix or filename)
    return FORMATS[suffix]


def read_table(data: bytes, filename: str, known_headers: Iterable[str]) -> TextTable:
    """Dispatch on the file name's suffix; ``known_headers`` are normalised header texts."""
    known = set(known_headers)
    readers: dict[str, Callable[[bytes, set[str]], TextTable]] = {
        "xlsx": read_xlsx, "csv": read_csv, "json": read_json,
    }
    return readers[file_format(filename)](data, known)


def find_header(rows: Sequence[Sequence[object]], known: set[str]) -> int:
    """Index of the row that names the most known columns (ties: the first), within the scan
    window. Title rows name none, so they are skipped."""
    best, best_hits = -1, 1  # at least two known headers make a header row
    for index, row in enumerate(rows[:HEADER_SCAN_ROWS]):
        hits = sum(1 for cell in row if cell is not None and normalize_header(cell) in known)
        if hits > best_hits:
            best, best_hits = index, hits
    if best < 0:
        raise FileRefusal("no_header", HEADER_SCAN_ROWS)
    return best


def _frame(header: Sequence[object], body: list[list[object]], first_row_number: int,
           file_fmt: str, encoding: str | None, header_row: int | None) -> TextTable:
    names = [str(h).strip() if h is not None and str(h).strip() else f"(第{i + 1}列)"
             for i, h in enumerate(header)]
    width = len(names)
    kept: list[list[object]] = []
    numbers: list[int] = []
    for offset, row in enumerate(body):
        cells = [None if c is None or (isinstance(c, str) and not c.strip()) else c
                 for c in list(row)[:width]]
        if any(c is not None for c in cells):
            kept.append(cells + [None] * (width - len(cells)))
            numbers.append(first_row_number + offset)
    frame = pd.DataFrame(kept, columns=pd.Index(names), dtype="str")
    if not kept:
        frame = pd.DataFrame({n: pd.Series([], dtype="str") for n in names})
    return TextTable(frame, numbers, file_fmt, encoding, header_row)


# ---- CSV -----------------------------------------------------------------------------------

def decode(data: bytes) -> tuple[str, str]:
    """UTF-8 (with or without BOM), else GB18030 (a superset of GBK and GB2312)."""
    if data.startswith(b"\xef\xbb\xbf"):
        return data[3:].decode("utf-8"), "utf-8-sig"
    try:
        return data.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("gb18030"), "gb18030"
    except UnicodeDecodeError as exc:
        raise FileRefusal("unreadable_file", detail="无法识别的文字编码（应为 UTF-8 或 GBK）") from exc


def read_csv(data: bytes, known: set[str]) -> TextTable:
    text, encoding = decode(data)
    if "\x00" in text[:4096]:
        raise FileRefusal("unreadable_file", detail="不是文本文件")
    try:
        rows = list(csv.reader(io.StringIO(text, newline="")))
    except csv.Error as exc:
        raise FileRefusal("unreadable_file", detail=f"CSV 格式错误：{exc}") from exc
    header_index = find_header(rows, known)
    # spreadsheet numbering: the header is row header_index+1, data starts right below
    return _frame(rows[header_index], rows[header_index + 1:], header_index + 2, "csv", encoding,
                  header_index + 1)


# ---- XLSX ----------------------------------------------------------------------------------

def _cell_text(value: object) -> object:
    """An xlsx cell as the text a unit meant. Dates become ISO dates; a number too large to
    be exact is written in Excel's own scientific form so the ID check can name it."""
    if value is None:
        return None
    if isinstance(value, datetime):
        return value.date().isoformat() if value.time() == time(0) else value.isoformat(" ")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        if isinstance(value, float) and (math.isnan(value) or math.isinf(value)):
            return None
        if abs(value) >= LOSSY_NUMBER:
            return f"{float(value):.5E}"
        if float(value).is_integer():
            return str(int(value))
        return repr(float(value))
    return str(value)


def read_xlsx(data: bytes, known: set[str]) -> TextTable:
    from openpyxl import load_workbook

    try:
        workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except (zipfile.BadZipFile, KeyError, ValueError, OSError) as exc:
        raise FileRefusal("unreadable_file", detail="不是有效的 Excel（.xlsx）文件") from exc
    try:
        sheet = workbook.worksheets[0]
        rows = sheet.iter_rows(values_only=True)
        head = [list(r) for _, r in zip(range(HEADER_SCAN_ROWS), rows, strict=False)]
        header_index = find_header(head, known)
        body = [[_cell_text(c) for c in r] for r in head[header_index + 1:]]
        body += [[_cell_text(c) for c in r] for r in rows]
    finally:
        workbook.close()
    return _frame(head[header_index], body, header_index + 2, "xlsx", None, header_index + 1)


# ---- JSON ----------------------------------------------------------------------------------

def _json_text(value: object) -> object:
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list | dict):
        return json.dumps(value, ensure_ascii=False)
    return str(value)


def read_json(data: bytes, known: set[str]) -> TextTable:
    text, encoding = decode(data)
    try:
        items = json.loads(text)
    except json.JSONDecodeError as exc:
        raise FileRefusal("unreadable_file",
                          detail=f"JSON 格式错误（第{exc.lineno}行第{exc.colno}列）") from exc
    if isinstance(items, dict) and isinstance(items.get("rows"), list):
        items = items["rows"]
    if not isinstance(items, list) or not all(isinstance(i, dict) for i in items):
        raise FileRefusal("unreadable_file", detail="JSON 须为对象数组，如 [{\"id_number\": ...}]")
    header: list[str] = []
    for item in items:
        header.extend(k for k in item if k not in header)
    if items and not any(normalize_header(h) in known for h in header):
        raise FileRefusal("no_header", HEADER_SCAN_ROWS)
    body = [[_json_text(item.get(h)) for h in header] for item in items]
    return _frame(header, body, 1, "json", encoding, None)
