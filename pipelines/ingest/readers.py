"""Reading a unit's file into a table of text cells, whatever its format.

Spreadsheets (``.xlsx``, legacy ``.xls``, ``.ods``; title rows, merged title cells and a
two-line header above the data are common), CSV in UTF-8 with or without BOM or GB18030/GBK,
and JSON arrays of objects. The format is judged by the file's content, not its name (an
``.xls`` renamed ``.xlsx`` is read as what it is, with a note). Every reader returns the same
``TextTable``: one text column per header, NA for empty cells, and the row number the unit
sees (spreadsheet row, or JSON array position) for every data row. Typing happens later in
``pipelines.ingest.parse``; nothing here guesses at meaning beyond finding the header row.

Spreadsheets are read with python-calamine (Rust; ~10x faster than openpyxl and the only
reader here for .xls and .ods). Hostile files are stopped before calamine sees them: the limits
of ``pipelines.ingest.limits`` (size, zip expansion, used range, the latter for ``.xls`` from its
BIFF records: ``pipelines.ingest.xls_screen``), XML with a DTD (entity expansion, external
entities) refused by ``pipelines.ingest.xmlsafety``. Anything a reader
still raises becomes an ``InputRefused`` (``pipelines.ingest.errors``), never a traceback.
"""

from __future__ import annotations

import codecs
import csv
import functools
import html
import io
import json
import math
import re
import zipfile
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from xml.parsers import expat

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
from pandas.arrays import ArrowStringArray

from pipelines.contracts import normalize_header
from pipelines.ingest import xls_screen, xmlsafety
from pipelines.ingest.errors import EnvironmentFault, FileRefusal, InputRefused, classify
from pipelines.ingest.limits import Limits, size_zh

__all__ = ["FileRefusal", "InputRefused", "TextTable", "read_table", "find_header"]

HEADER_SCAN_ROWS = 10  # title rows above the header: we look this far down for it
# What a suffix promises; the content decides (``sniff``).
FORMATS = {".xlsx": "xlsx", ".xlsm": "xlsx", ".xls": "xls", ".et": "xls", ".ods": "ods",
           ".csv": "csv", ".txt": "csv", ".json": "json"}
FORMAT_ZH = {"xlsx": "Excel 工作簿（.xlsx）", "xls": "Excel 97-2003 工作簿（.xls）",
             "ods": "OpenDocument 表格（.ods）", "csv": "CSV 文本", "json": "JSON"}
SPREADSHEETS = ("xlsx", "xls", "ods")
OLE2_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
ZIP_MAGIC = b"PK\x03\x04"
ODS_MIMETYPE = b"application/vnd.oasis.opendocument.spreadsheet"
# Numbers this large cannot be an amount or a count a unit typed; as text they are what Excel
# made of a long digit string (an ID), which has lost its last digits.
LOSSY_NUMBER = 1e15
BIG_MEMBER = 1 << 20  # compression ratios are judged on zip members above 1 MB only


@dataclass
class TextTable:
    frame: pd.DataFrame  # columns = header texts as written; cells = str or NA
    source_rows: list[int]  # per frame row, the number the unit sees
    file_format: str
    encoding: str | None = None
    header_row: int | None = None  # spreadsheet row of the (lower) header line; None for JSON
    notes: list[tuple[str, object, str]] = field(default_factory=list)  # (reason, value, detail)
    sheet: str | None = None  # the worksheet read, for spreadsheets

    def where_zh(self) -> str:
        """Where the header was taken from, in the unit's words: 工作表“名册”第3行."""
        sheet = f"工作表“{self.sheet}”" if self.sheet else ""
        return f"{sheet}第{self.header_row}行" if self.header_row else sheet


# ---- dispatch ------------------------------------------------------------------------------

def suffix_of(filename: str) -> str:
    return "." + filename.rsplit(".", 1)[-1].lower() if "." in filename else ""


def sniff(data: bytes, filename: str) -> str:
    """The format the bytes are in. Spreadsheets are recognised by content (zip with a
    workbook, OLE2 compound file); text files by their suffix."""
    if data.startswith(OLE2_MAGIC):
        return "xls"
    if data.startswith(ZIP_MAGIC):
        head = data[:200]
        if b"mimetype" in head and ODS_MIMETYPE in head:
            return "ods"
        return "xlsx"
    claimed = FORMATS.get(suffix_of(filename))
    if claimed is None:
        raise InputRefused("unsupported_format", suffix_of(filename) or filename)
    if claimed in ("csv", "json"):  # JSON saved as .csv/.txt, a CSV saved as .json
        kind = _text_kind(data)
        if claimed == "json" and kind == "csv" and (text := _head_text(data[:4096])) \
                and text.lstrip()[:1] in ("[", "{"):
            return "json"  # JSON, if damaged: its own error says where
        return kind or claimed
    if claimed in SPREADSHEETS:
        if _is_web_page(data):  # many systems "export to Excel" as an HTML table named .xls
            raise InputRefused("unreadable_file", detail=(
                f"文件扩展名为 {suffix_of(filename)}，但内容是网页（HTML），不是 Excel/WPS 表格"
                "（有的系统导出的 .xls 其实是网页）"))
        # a spreadsheet name on bytes that are no spreadsheet container: a damaged file, or
        # a CSV/JSON saved under the wrong name; text that decodes is read as what it is
        return _text_kind(data) or claimed
    return claimed


def _is_web_page(data: bytes) -> bool:
    head = data[:1024].lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    return head.startswith((b"<!doctype html", b"<html", b"<table", b"<meta")) or \
        (head.startswith(b"<") and b"<table" in head and b"<td" in data[:65536].lower())


# JSON as units' systems write it: an array of objects (or an empty one), or an object whose
# first key is quoted; a CSV line does not start like that.
_JSON_START = re.compile(r"^\s*(\[\s*[{\]]|\{\s*\")")


def _head_text(head: bytes) -> str | None:
    """The first bytes of a file as text: UTF-8 (with or without BOM), else GB18030, as
    ``decode`` reads the whole file; a character cut by the end of the sample is no fault."""
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            return codecs.getincrementaldecoder(encoding)().decode(head, final=False)
        except UnicodeDecodeError:
            continue
    return None


def _text_kind(data: bytes) -> str | None:
    """``json`` / ``csv`` for bytes that are plainly text, else None."""
    head = data[:4096]
    if not head or b"\x00" in head:
        return None
    text = _head_text(head)
    if text is None:
        return None
    if _JSON_START.match(text):
        return "json"
    return "csv" if ("," in text or "\t" in text) and "\n" in text else None


def read_table(data: bytes, filename: str, known_headers: Iterable[str],
               limits: Limits | None = None) -> TextTable:
    """Read any accepted format; ``known_headers`` are normalised header texts.

    Raises ``InputRefused`` for everything wrong with the file, ``EnvironmentFault`` for a
    fault of the machine; nothing else."""
    limits = limits or Limits.current()
    known = set(known_headers)
    if len(data) > limits.file_bytes:
        raise InputRefused("file_too_large", size_zh(len(data)), size_zh(limits.file_bytes))
    if not data.lstrip(b"\xef\xbb\xbf \t\r\n"):
        raise InputRefused("unreadable_file", detail="文件是空的，没有任何内容")
    kind = sniff(data, filename)
    readers = {"xlsx": read_spreadsheet, "xls": read_spreadsheet, "ods": read_spreadsheet,
               "csv": read_csv, "json": read_json}
    try:
        table = readers[kind](data, known, limits, kind)
    except (InputRefused, EnvironmentFault):
        raise
    except MemoryError as exc:  # a limit we do not know of yet: still the file's doing
        raise InputRefused("file_too_large", size_zh(len(data)), "可用内存") from exc
    except Exception as exc:  # noqa: BLE001 - every reader error becomes one of the two kinds
        raise classify(exc) from exc
    except BaseException as exc:  # a panic inside calamine (Rust) arrives as PanicException
        if type(exc).__name__ != "PanicException":
            raise
        raise InputRefused("unreadable_file", detail="文件已损坏、无法打开") from exc
    claimed = FORMATS.get(suffix_of(filename))
    if claimed != kind and not (claimed == "csv" and kind == "csv"):
        table.notes.insert(0, ("read_by_content", suffix_of(filename) or filename,
                               FORMAT_ZH[kind]))
    return table


# ---- the header ----------------------------------------------------------------------------

def _hits(row: Sequence[object], known: set[str]) -> int:
    return sum(1 for cell in row if cell is not None and cell != "" and
               normalize_header(cell) in known)


def _merge_lines(upper: Sequence[object], lower: Sequence[object]) -> list[object]:
    """A two-line header read as one: the lower line's text where it has any (the real
    headers under a merged group header), the upper line's elsewhere (a header merged down
    over both lines keeps its text in the upper cell)."""
    width = max(len(upper), len(lower))
    cells = []
    for i in range(width):
        low = lower[i] if i < len(lower) else None
        up = upper[i] if i < len(upper) else None
        cells.append(low if low is not None and str(low).strip() else up)
    return cells


def find_header(rows: Sequence[Sequence[object]], known: set[str],
                where: str = "") -> tuple[int, list[object], bool]:
    """(index of the header row, its cells, whether two lines were merged).

    The row naming the most known columns within the scan window wins (ties: the first);
    title rows name none, so they are skipped. A merged two-line header wins over either of
    its lines alone only when it names more columns than both. ``where`` names the sheet for
    the refusal."""
    best, best_hits, best_cells, merged = -1, 1, [], False  # two known headers make a header
    window = list(rows[:HEADER_SCAN_ROWS])
    for index, row in enumerate(window):
        hits = _hits(row, known)
        if hits > best_hits:
            best, best_hits, best_cells, merged = index, hits, list(row), False
    for index in range(1, len(window)):
        cells = _merge_lines(window[index - 1], window[index])
        hits = _hits(cells, known)
        if hits > best_hits:
            best, best_hits, best_cells, merged = index, hits, cells, True
    if best < 0:
        raise InputRefused("no_header", min(len(rows), HEADER_SCAN_ROWS) or HEADER_SCAN_ROWS,
                           where)
    return best, best_cells, merged


def _frame(header: Sequence[object], body: Iterable[Sequence[object]], first_row_number: int,
           file_fmt: str, encoding: str | None, header_row: int | None, limits: Limits,
           cell_text: Callable[[object], object] | None = None) -> TextTable:
    """The text cells under ``header`` as a frame: blank cells NA, rows with nothing in them
    dropped (their numbers skipped), headerless empty columns dropped, cells over the length
    limit refused (naming the first such row). ``cell_text`` turns a cell that is not already
    text (a spreadsheet's numbers and dates) into text.

    Whole columns at a time, as Arrow strings built straight from the cells (no object frame
    in between), not a Python test per cell: this runs on every row of every file, and per
    cell it was the largest single cost of reading a file."""
    names = [str(h).strip() if h is not None and str(h).strip() else f"(第{i + 1}列)"
             for i, h in enumerate(header)]
    width = len(names)
    rows = [r if len(r) == width else (list(r) + [None] * width)[:width] for r in body]
    if rows and width:
        grid = np.empty((len(rows), width), dtype=object)  # rows to columns, in C
        grid[:] = rows
        columns = [_blank_as_null(_text_array(grid[:, i], cell_text)) for i in range(width)]
        present = np.column_stack([column.is_valid().to_numpy(zero_copy_only=False)
                                   for column in columns])
        keep = present.any(axis=1)
        too_long = np.zeros(len(rows), dtype=bool)
        for column in columns:
            too_long |= pc.fill_null(pc.greater(pc.utf8_length(column), limits.cell_chars),
                                     False).to_numpy(zero_copy_only=False)
        if too_long.any():
            raise InputRefused("cell_too_long", first_row_number + int(too_long.argmax()),
                               limits.cell_chars)
        has_value = present[keep].any(axis=0)
        kept = pa.array(keep)
        columns = [column.filter(kept) for column in columns]
    else:
        columns, keep, has_value = [], [False] * len(rows), [False] * width
    numbers = [first_row_number + offset for offset, kept in enumerate(keep) if kept]
    # formatted but empty columns (no header, no value) are not columns at all
    used = [i for i, h in enumerate(header) if (h is not None and str(h).strip()) or has_value[i]]
    if columns and numbers:
        frame = pd.DataFrame({n: pd.Series(ArrowStringArray(columns[i], dtype=TEXT))
                              for n, i in enumerate(used)})
        frame.columns = pd.Index([names[i] for i in used])
    else:
        frame = pd.DataFrame({names[i]: pd.Series([], dtype="str") for i in used})
    return TextTable(frame, numbers, file_fmt, encoding, header_row)


TEXT = pd.StringDtype("pyarrow", na_value=np.nan)  # pandas' "str": Arrow strings, NaN for NA


def _text_array(cells: Sequence[object], cell_text: Callable[[object], object] | None,
                ) -> pa.Array:
    """One column of cells (text or None) as Arrow strings; with ``cell_text``, the cells that
    are not text are turned into text first (a column of text only is passed as it is)."""
    if cell_text is not None and not set(map(type, cells)) <= {str}:
        cells = [cell if type(cell) is str else cell_text(cell) for cell in cells]
    return pa.array(cells, type=pa.large_string())


def _blank_as_null(column: pa.Array) -> pa.Array:
    """Cells that are empty or only blanks become null (pandas' ``str.strip`` blanks)."""
    blank = pc.equal(pc.utf8_trim_whitespace(column), "")
    return pc.if_else(blank, pa.scalar(None, pa.large_string()), column)


def _check_shape(height: int, width: int, limits: Limits) -> None:
    if height > limits.rows:
        raise InputRefused("too_many_rows", height, limits.rows)
    if width > limits.columns:
        raise InputRefused("too_many_columns", width, limits.columns)


# ---- CSV -----------------------------------------------------------------------------------

def decode(data: bytes) -> tuple[str, str]:
    """UTF-8 (with or without BOM), else GB18030 (a superset of GBK and GB2312)."""
    if data.startswith(b"\xef\xbb\xbf"):
        try:
            return data[3:].decode("utf-8"), "utf-8-sig"
        except UnicodeDecodeError as exc:
            raise InputRefused("bad_encoding", detail="文件开头标明为 UTF-8，但内容不是 UTF-8 "
                               "编码（可能是 GBK 文字前加了 UTF-8 标记）") from exc
    try:
        return data.decode("utf-8"), "utf-8"
    except UnicodeDecodeError as exc:
        not_utf8 = exc.start
    try:
        return data.decode("gb18030"), "gb18030"
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, not_utf8) + 1
        if line == 1:  # not text from its first line on: a damaged or binary file
            raise InputRefused("unreadable_file",
                               detail="无法识别的文字编码（应为 UTF-8 或 GBK）") from exc
        # whole lines of UTF-8, then something neither encoding reads: most often UTF-8 and
        # GBK text pasted together; name the first line that is not UTF-8, where to look
        raise InputRefused("bad_encoding", detail=(
            f"应为 UTF-8 或 GBK：第{line}行起的文字不是 UTF-8 编码，"
            "文件可能混用了 UTF-8 和 GBK 两种编码，请整个文件用同一种编码另存")) from exc


def read_csv(data: bytes, known: set[str], limits: Limits, kind: str = "csv") -> TextTable:
    text, encoding = decode(data)
    if "\x00" in text[:4096]:
        line = text.count("\n", 0, text.index("\x00")) + 1
        raise InputRefused("unreadable_file", detail=f"不是文本文件（第{line}行含空字符 NUL）")
    csv.field_size_limit(max(limits.cell_chars + 1, 1 << 17))
    try:
        rows = list(csv.reader(io.StringIO(text, newline="")))
    except csv.Error as exc:
        row = _failing_record(text)
        if "field larger than field limit" in str(exc):
            raise InputRefused("cell_too_long", row, limits.cell_chars) from exc
        raise InputRefused("unreadable_file", detail=f"第{row}行 CSV 格式错误：{exc}") from exc
    _check_shape(len(rows), max((len(r) for r in rows[:1000]), default=0), limits)
    header_index, header, merged = find_header(rows, known)
    # spreadsheet numbering: the header is row header_index+1, data starts right below
    table = _frame(header, rows[header_index + 1:], header_index + 2, "csv", encoding,
                   header_index + 1, limits)
    if merged:
        table.notes.append(("two_line_header", f"{header_index}-{header_index + 1}", ""))
    return table


def _failing_record(text: str) -> int:
    """The spreadsheet row (record number, 1-based) at which the csv module stops: read again
    record by record, only after a failure (a good file pays nothing for it)."""
    reader = csv.reader(io.StringIO(text, newline=""))
    done = 0
    try:
        for _ in reader:
            done += 1
    except csv.Error:
        pass
    return done + 1


# ---- spreadsheets (xlsx, xls, ods) -----------------------------------------------------------

def _cell_text(value: object) -> object:
    """A spreadsheet cell as the text a unit meant. Dates become ISO dates; a number too
    large to be exact is written in Excel's own scientific form so the ID check can name it."""
    if type(value) is str:  # most cells: answered before the isinstance chain below
        return value or None
    if type(value) is float:  # then numbers: the float branch below, without the chain
        if math.isnan(value) or math.isinf(value):
            return None
        if abs(value) >= LOSSY_NUMBER:
            return f"{value:.5E}"
        return str(int(value)) if value.is_integer() else repr(value)
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        return value.date().isoformat() if value.time() == time(0) else value.isoformat(" ")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, time | timedelta):
        return str(value)
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


# References as calamine reads them: letters in either case, any number of them, any number of
# digits (a row beyond Excel's 1,048,576 is still a row calamine would allocate). These look
# for the attribute alone, in any tag, so a second ``r`` in a tag is seen too; they are only
# trusted when every row and cell tag is written plainly (``_within_range``).
_ANY_COLUMN_REF = re.compile(rb"r=\"([A-Za-z]+)[0-9]")
_ANY_ROW_REF = re.compile(rb"r=\"([0-9]+)\"")
# A row or cell tag calamine may place elsewhere than a reference the patterns above read: no
# reference (the next row or column), or the reference not first; an ``r`` attribute written
# in single quotes or with blanks around its ``=``.
_LOOSE_TAG = re.compile(rb"<(?:c|row)(?:[>/\t\r\n]| (?!r=\"))")
_LOOSE_REF = re.compile(rb"r(?:\s+=|=[\s'])")
_PREFIXED_TAG = re.compile(rb":(?:c|row)[\s/>]")  # <x:c ...>: read by calamine all the same
_ODS_REPEAT = re.compile(rb"number-(rows|columns)-repeated\s*=\s*[\"']([0-9]+)")


@functools.cache
def _cell_rows_of(digits: int) -> re.Pattern[bytes]:
    """The rows of the cell references whose row has at least ``digits`` digits."""
    return re.compile(rb"r=\"[A-Za-z]+([0-9]{%d,})\"" % digits)


def _column_number(letters: bytes) -> int:
    number = 0
    for ch in letters.upper():
        number = number * 26 + (ch - 64)
    return number


def _column_letters(number: int) -> str:
    """1 -> A, 256 -> IV, 16384 -> XFD."""
    letters = ""
    while number > 0:
        number, rest = divmod(number - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


def _count_zh(n: int) -> str:
    """A count as a unit reads it: 20000000 -> 2000 万."""
    return f"{n // 10000} 万" if n >= 10000 and n % 10000 == 0 else str(n)


def _check_cells(height: int, width: int, limits: Limits, sheet: str | None = None) -> None:
    """The used range calamine would build, ``height`` rows by ``width`` columns from A1,
    against the cell limit; the refusal names its far corner."""
    if height * width > limits.cells:
        where = f"“{sheet}”" if sheet else ""
        raise InputRefused("too_many_cells", f"{where}的使用范围到 {_column_letters(width)}"
                           f"{height} 单元格（{height} 行 × {width} 列）", _count_zh(limits.cells))


def check_zip(data: bytes, limits: Limits) -> None:
    """Before calamine: the zip's expanded size and ratio, XML without a DTD, and the used
    range of every worksheet (its rows, its columns, rows x columns), so a cell at
    XFD1048576, or at IV999999 within both limits, cannot make calamine allocate a grid of
    hundreds of millions of cells."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        members = archive.infolist()
    except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, EOFError) as exc:
        raise InputRefused("unreadable_file", detail="文件已损坏、无法打开") from exc
    parts = {m.filename.lower() for m in members}
    if "xl/workbook.bin" in parts and "xl/workbook.xml" not in parts:
        # an Excel binary workbook: calamine would read it with no used range to check first,
        # and the contract does not list it (units save as .xlsx instead)
        raise InputRefused("unsupported_format", "xlsb（Excel 二进制工作簿）")
    total = sum(m.file_size for m in members)
    if total > limits.uncompressed_bytes:
        raise InputRefused("zip_bomb", size_zh(total), size_zh(limits.uncompressed_bytes))
    for member in members:
        if member.file_size > BIG_MEMBER and \
                member.file_size > limits.compression_ratio * max(member.compress_size, 1):
            raise InputRefused("zip_bomb", f"{member.file_size / max(member.compress_size, 1):.0f} 倍",
                               f"{limits.compression_ratio:.0f} 倍")
    for member in members:
        name = member.filename.lower()
        if name.endswith((".xml", ".rels")):
            xmlsafety.check_member(archive, member)
        if name.endswith("sharedstrings.xml"):
            _check_string_count(archive.read(member), limits)
    # Which parts are sheets is decided by what calamine will open, not by the sniffed kind
    # (an ODS whose mimetype is compressed sniffs as xlsx and is still opened as an ODS) nor
    # by the part's name (a workbook's relationships may put a sheet at any path): every part
    # with sheet data in it is measured, and an ODS's content.xml whatever the kind.
    sheet_names = functools.cache(lambda: _sheet_names(archive))  # read for a refusal only
    for member in members:
        if member.filename == "content.xml":
            _check_ods_range(archive.read(member), limits)
            continue
        xml = archive.read(member)
        if b"sheetData" in xml:
            _check_sheet_range(xml, limits,
                               lambda part=member.filename: sheet_names().get(part))


_SST_TAG = re.compile(rb"<(?:[\w.-]+:)?sst\b[^>]*>")
_UNIQUE_COUNT = re.compile(rb"\buniqueCount\s*=\s*[\"']\s*\+?(\d+)")


def _check_string_count(xml: bytes, limits: Limits) -> None:
    """The shared-string table's declared size (``<sst uniqueCount="N">``): calamine reserves
    room for N strings before reading one, and an allocation that fails aborts the process
    (N = 10^15 from a 7 KB file). Every shared string is some cell's text, so a table larger
    than the cell limit is no honest workbook."""
    tag = _SST_TAG.search(xml)
    count = tag and _UNIQUE_COUNT.search(tag.group(0))
    declared = int(count.group(1)) if count else 0
    if declared > limits.cells:
        raise InputRefused("unreadable_file", detail=(
            f"文件已损坏：共享字符串表声明有 {declared} 条，超过 "
            f"{_count_zh(limits.cells)}个单元格的上限"))


def _sheet_names(archive: zipfile.ZipFile) -> dict[str, str]:
    """Worksheet part (``xl/worksheets/sheet2.xml``) -> the sheet's name, for a refusal; an
    empty map when the workbook does not say (the refusal then names no sheet)."""
    try:
        workbook = archive.read("xl/workbook.xml")
        rels = archive.read("xl/_rels/workbook.xml.rels")
    except KeyError:
        return {}
    targets = {}
    for tag in re.findall(rb"<(?:\w+:)?Relationship\b[^>]*>", rels):
        rel_id = re.search(rb"\bId=\"([^\"]*)\"", tag)
        target = re.search(rb"\bTarget=\"([^\"]*)\"", tag)
        if rel_id and target:
            path = target.group(1).decode("utf-8", "replace")  # as calamine resolves it
            targets[rel_id.group(1)] = path[1:] if path.startswith("/") else "xl/" + path
    names = {}
    for tag in re.findall(rb"<(?:\w+:)?sheet\b[^>]*>", workbook):
        name = re.search(rb"\bname=\"([^\"]*)\"", tag)
        rel_id = re.search(rb"\br:id=\"([^\"]*)\"", tag)
        if name and rel_id and rel_id.group(1) in targets:
            names[targets[rel_id.group(1)]] = html.unescape(name.group(1).decode("utf-8",
                                                                                 "replace"))
    return names


def _check_sheet_range(xml: bytes, limits: Limits,
                       sheet_name: Callable[[], str | None] = lambda: None) -> None:
    """The fast screen, then, only when it cannot vouch for the sheet, the exact check; the
    sheet's name (for the refusal) is looked up only then."""
    if not _within_range(xml, limits):
        _check_cell_refs(xml, limits, sheet_name())


def _check_cell_refs(xml: bytes, limits: Limits, sheet: str | None = None) -> None:
    """The exact check: every row and cell placed where calamine places it, and the used
    range they span (calamine builds it from A1 to the last row and column)."""
    _check_used_range(*sheet_extent(xml), limits, sheet)


def _ref(value: str) -> tuple[int, int] | None:
    """(row, column), 1-based, of a reference as calamine reads it (letters in either case,
    then digits; column 0 for a row alone), or None where calamine stops with an error."""
    letters = value.rstrip("0123456789")
    digits = value[len(letters):]
    if not digits or not letters.isascii() or not (letters.isalpha() or not letters) \
            or int(digits) == 0:
        return None
    return int(digits), _column_number(letters.encode())


def sheet_extent(xml: bytes) -> tuple[int, int]:
    """(rows, columns) of a worksheet's used range, from A1, with every ``<row>`` and ``<c>``
    placed as calamine places it: at its ``r`` attribute, else (no ``r``) in the row after
    the previous row and the column after the previous cell; tags with a namespace prefix
    count as calamine counts them. Parsed with expat; XML expat cannot parse (a duplicated
    attribute among them) is refused as damaged."""
    position = {"row": 0, "col": 0}  # of the next row and cell without a reference, 0-based
    extent = [0, 0]

    def start(name: str, attrs: dict[str, str]) -> None:
        local = name.rpartition(":")[2]
        if local == "row":
            ref = _ref(attrs["r"]) if "r" in attrs else None
            if ref is not None:
                position["row"] = ref[0] - 1
            extent[0] = max(extent[0], position["row"] + 1)
        elif local == "c":
            if "r" in attrs:
                ref = _ref(attrs["r"])
                if ref is None or not ref[1]:
                    return  # calamine stops reading the sheet here, with an error
                row, col = ref[0] - 1, ref[1] - 1
            else:
                row, col = position["row"], position["col"]
            position["col"] = col
            extent[0] = max(extent[0], row + 1)
            extent[1] = max(extent[1], col + 1)

    def end(name: str) -> None:
        local = name.rpartition(":")[2]
        if local == "row":
            position["row"] += 1
            position["col"] = 0
        elif local == "c":
            position["col"] += 1

    parser = expat.ParserCreate()
    parser.StartElementHandler = start
    parser.EndElementHandler = end
    try:
        parser.Parse(xml, True)
    except expat.ExpatError as exc:
        raise InputRefused("unreadable_file", detail="工作表的 XML 已损坏、无法读取") from exc
    return extent[0], extent[1]


def _within_range(xml: bytes, limits: Limits) -> bool:
    """True when every row and cell tag is written as office suites write it (``<row r="7"``,
    ``<c r="B7"``: no namespace prefix, the reference first, in double quotes, so calamine
    places it there) and no ``r="..."`` attribute, in any tag, names a row or column beyond
    the limits, nor a cell beyond the used range the cell limit allows (rows x columns); then
    the exact check cannot refuse it either and need not run. Rows of cells are only looked
    at when they are long enough to matter: with the widest column found, a row of fewer
    digits than the tallest row the cell limit allows is within it."""
    if _LOOSE_TAG.search(xml) or _LOOSE_REF.search(xml) or _PREFIXED_TAG.search(xml):
        return False
    height = max(map(int, _ANY_ROW_REF.findall(xml)), default=0)
    width = max(map(_column_number, set(_ANY_COLUMN_REF.findall(xml))), default=0)
    if height > limits.rows or width > limits.columns:
        return False
    tallest = min(limits.rows, limits.cells // width) if width else limits.rows
    if height > tallest:
        return False
    return not any(int(row) > tallest
                   for row in _cell_rows_of(len(str(tallest))).findall(xml))


_ODS_TABLE = re.compile(rb"<table:table[\s>/]")
_ODS_TABLE_NAME = re.compile(rb"<table:table\b[^>]*?\btable:name\s*=\s*\"([^\"]*)\"")
_ODS_ROW = re.compile(rb"<table:table-row\b[^>]*>")
_ODS_CELL = re.compile(rb"<table:(?:covered-)?table-cell\b[^>]*>")
# what makes calamine keep a cell: a value of any type (text cells say value-type="string"
# and hold their text inside), or a formula
_ODS_VALUE = re.compile(rb"(?:value|formula)(?:-type)?\s*=")


def _ods_repeats(tag: bytes) -> int:
    repeat = _ODS_REPEAT.search(tag)
    return int(repeat.group(2)) if repeat else 1


def ods_ranges(xml: bytes) -> list[tuple[str | None, int, int]]:
    """(name, rows, columns) of the range calamine builds for each table of an ODS
    ``content.xml``, measured the way it measures it: down to the last row holding a value,
    counting every row repeat above it (empty rows between data rows are built too), by the
    widest such row, counting cell repeats up to its last value cell; from A1, as
    ``to_python(skip_empty_area=False)`` gives it. Office suites end a sheet with huge repeats
    of empty rows and cells (``number-rows-repeated="1048553"``): those are not built, and not
    counted."""
    ranges = []
    starts = [m.start() for m in _ODS_TABLE.finditer(xml)]
    for index, start in enumerate(starts):
        end = starts[index + 1] if index + 1 < len(starts) else len(xml)
        height = width = rows_above = 0
        for row in _ODS_ROW.finditer(xml, start, end):
            rows_above += _ods_repeats(row.group(0))
            if row.group(0).endswith(b"/>"):
                continue
            row_end = xml.find(b"</table:table-row>", row.end(), end)
            row_end = row_end if row_end >= 0 else end
            cells = _ODS_CELL.findall(xml, row.end(), row_end)
            last = len(cells)
            while last and not _ODS_VALUE.search(cells[last - 1]):
                last -= 1  # trailing empty cells, however repeated, are not built
            if not last:
                continue
            height = rows_above
            if xml.find(b"columns-repeated", row.end(), row_end) >= 0:
                width = max(width, sum(_ods_repeats(tag) for tag in cells[:last]))
            else:
                width = max(width, last)
        name = _ODS_TABLE_NAME.match(xml, start)
        ranges.append((html.unescape(name.group(1).decode("utf-8", "replace")) if name else None,
                       height, width))
    return ranges


def _check_used_range(height: int, width: int, limits: Limits, sheet: str | None = None) -> None:
    """A used range calamine would build (or reserve), from A1: rows, columns, then cells."""
    if height > limits.rows:
        raise InputRefused("too_many_rows", height, limits.rows)
    if width > limits.columns:
        raise InputRefused("too_many_columns", width, limits.columns)
    _check_cells(height, width, limits, sheet)


def _check_workbook_cells(built: list[tuple[int, int]], limits: Limits) -> None:
    """The ranges of every sheet together: calamine builds all the sheets of an ``.xls`` or
    ``.ods`` when it opens the file (an ``.xlsx`` only the one read), so ten sheets each just
    within the cell limit would cost ten times what one may."""
    total = sum(height * width for height, width in built)
    if len(built) > 1 and total > limits.cells:
        raise InputRefused("too_many_cells", f"的使用范围合计 {_count_zh(total)}个单元格（{len(built)} "
                           "个工作表，打开文件时全部读取）", _count_zh(limits.cells))


def _check_ods_range(xml: bytes, limits: Limits) -> None:
    built = []
    for name, height, width in ods_ranges(xml):
        _check_used_range(height, width, limits, name)
        built.append((height, width))
    _check_workbook_cells(built, limits)


def check_xls(data: bytes, limits: Limits) -> None:
    """Before calamine: every range an ``.xls`` declares or spans (``xls_screen``), each and,
    for those it builds, all together."""
    built = []
    for declared, height, width in xls_screen.used_ranges(data):
        _check_used_range(height, width, limits)
        if not declared:
            built.append((height, width))
    _check_workbook_cells(built, limits)


def _open_workbook(data: bytes, kind: str):  # noqa: ANN202 - python_calamine.CalamineWorkbook
    import python_calamine as calamine

    if kind == "xls" and "EncryptedPackage".encode("utf-16-le") in data[:1 << 16]:
        raise InputRefused("file_encrypted")
    try:
        return calamine.CalamineWorkbook.from_filelike(io.BytesIO(data))
    except calamine.PasswordError as exc:
        raise InputRefused("file_encrypted") from exc
    except BaseException as exc:  # calamine's errors, and its panics (pyo3: a BaseException)
        if isinstance(exc, KeyboardInterrupt | SystemExit):
            raise
        raise classify(exc) from exc  # type: ignore[arg-type] - damaged, or out of memory


def first_visible_sheet(workbook) -> tuple[int, str, list[str]]:  # noqa: ANN001
    """(index, name, names skipped before it) of the first visible worksheet."""
    import python_calamine as calamine

    metas = workbook.sheets_metadata
    if not metas:
        raise InputRefused("no_sheet")
    skipped = []
    for index, meta in enumerate(metas):
        if meta.typ == calamine.SheetTypeEnum.WorkSheet and \
                meta.visible == calamine.SheetVisibleEnum.Visible:
            return index, meta.name, skipped
        skipped.append(meta.name)
    raise InputRefused("no_sheet", detail="（只有隐藏的工作表或图表页："
                       + "、".join(m.name for m in metas) + "）")


def read_spreadsheet(data: bytes, known: set[str], limits: Limits, kind: str) -> TextTable:
    if kind in ("xlsx", "ods"):
        check_zip(data, limits)
    elif kind == "xls":
        check_xls(data, limits)
    workbook = _open_workbook(data, kind)
    try:
        index, name, skipped = first_visible_sheet(workbook)
        try:
            sheet = workbook.get_sheet_by_index(index)
        except BaseException as exc:  # calamine's errors (and panics) for a damaged sheet
            if isinstance(exc, KeyboardInterrupt | SystemExit):
                raise
            raise InputRefused("unreadable_file",
                               detail=f"工作表“{name}”已损坏、无法打开") from exc
        _check_shape(sheet.total_height, sheet.total_width, limits)
        rows = sheet.to_python(skip_empty_area=False)
    finally:
        workbook.close()
    where = f"工作表“{name}”"
    header_index, header, merged = find_header(rows, known, where)
    table = _frame([_cell_text(c) for c in header], rows[header_index + 1:], header_index + 2,
                   kind, None, header_index + 1, limits, cell_text=_cell_text)
    table.sheet = name
    if skipped:
        table.notes.append(("hidden_sheets_skipped", name, "、".join(skipped)))
    if merged:
        table.notes.append(("two_line_header", f"{header_index}-{header_index + 1}", ""))
    return table


# ---- JSON ----------------------------------------------------------------------------------

def _json_text(value: object) -> object:
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list | dict):
        return json.dumps(value, ensure_ascii=False)
    return str(value)


def _depth(value: object) -> int:
    """Nesting depth of decoded JSON, without recursion."""
    deepest, stack = 0, [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, list | dict):
            deepest = max(deepest, depth)
            stack.extend((v, depth + 1) for v in (item.values() if isinstance(item, dict)
                                                   else item))
    return deepest


_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F]")


def _no_surrogates(value: object) -> object:
    """A lone ``\\ud800`` escape decodes to a string no UTF-8 store can hold: replace it."""
    if isinstance(value, str):
        return value.encode("utf-8", "replace").decode("utf-8")
    if isinstance(value, list):
        return [_no_surrogates(v) for v in value]
    if isinstance(value, dict):
        return {_no_surrogates(k): _no_surrogates(v) for k, v in value.items()}
    return value


def read_json(data: bytes, known: set[str], limits: Limits, kind: str = "json") -> TextTable:
    text, encoding = decode(data)

    def number(literal: str) -> str:
        if len(literal) > limits.number_digits:
            raise InputRefused("number_too_long", detail=str(limits.number_digits))
        return literal

    def decimal(literal: str) -> object:
        number(literal)
        value = float(literal)
        return literal if math.isinf(value) else value

    try:
        items = json.loads(text, parse_int=number, parse_float=decimal,
                           parse_constant=lambda c: c)
    except RecursionError as exc:
        raise InputRefused("too_deep", detail=str(limits.json_depth)) from exc
    except json.JSONDecodeError as exc:
        raise InputRefused("unreadable_file",
                           detail=f"JSON 格式错误（第{exc.lineno}行第{exc.colno}列）") from exc
    if _depth(items) > limits.json_depth:
        raise InputRefused("too_deep", detail=str(limits.json_depth))
    if _SURROGATE_ESCAPE.search(text):
        items = _no_surrogates(items)
    if isinstance(items, dict) and isinstance(items.get("rows"), list):
        items = items["rows"]
    if not isinstance(items, list) or not all(isinstance(i, dict) for i in items):
        raise InputRefused("unreadable_file", detail="JSON 须为对象数组，如 [{\"id_number\": ...}]")
    header: list[str] = []
    seen: set[str] = set()
    for item in items:
        for k in item:
            if k not in seen:
                seen.add(k)
                header.append(k)
    _check_shape(len(items), len(header), limits)
    if items and not any(normalize_header(h) in known for h in header):
        raise InputRefused("no_header", HEADER_SCAN_ROWS)
    body = [[_json_text(item.get(h)) for h in header] for item in items]
    return _frame(header, body, 1, "json", encoding, None, limits)
