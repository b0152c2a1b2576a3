"""Huge plain tables in XLSX files: the rows written as sheet XML straight into the finished file.

Why: xlsxwriter spends about 7 µs on a cell. A feedback report's issue list holds one row per
note, and an evidence file sent before the roster gets a 未匹配 note on every row: 100,000 rows
of 8 cells took 8 s, most of the load step. Writing the same cells as text is ten times cheaper.

How: xlsxwriter still writes the whole workbook (sheets, header row, widths, filter, frozen
pane, print setup, styles) but the data rows of a table marked ``spliced``. Those are kept
aside (``PendingRows``) and, once xlsxwriter has closed the file, streamed into their sheet's
``<sheetData>`` right after the header row, exactly as xlsxwriter's ``constant_memory`` mode
writes them: in-line strings; control characters as ``_xHHHH_`` and a literal ``_xHHHH_``
escaped as ``_x005F_xHHHH_`` (xlsxwriter's own function); ``& < >`` escaped;
``xml:space="preserve"`` for leading or trailing blanks; text cut at Excel's 32,767 UTF-16 units;
numbers written with ``%.16G``; the same cell styles (their indexes assigned in the order
xlsxwriter would assign them). The sheet's ``<dimension>`` is widened to the new last row.
``tests/test_xlsx_splice.py`` compares both writers' files part by part.

One difference, on purpose: xlsxwriter's constant_memory mode writes a text that starts with
``<r>`` and ends with ``</r>`` as raw rich-text XML (a unit's value could break the file); here
it is escaped like any other text.

Limits: a spliced table must be the last thing on its sheet (checked when splicing), and its
cells text, numbers, booleans or blanks (``write_table`` falls back to xlsxwriter otherwise).
The style indexes come from ``Format._get_xf_index``, the method xlsxwriter itself calls for
every cell; xlsxwriter is pinned, and the comparison test tells when an upgrade changes it.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from itertools import repeat
from pathlib import Path
from typing import Any
from zipfile import ZIP_DEFLATED, ZipFile, ZipInfo

import xlsxwriter
from xlsxwriter.utility import _utf16_len, _utf16_truncate, xl_col_to_name
from xlsxwriter.xmlwriter import XMLwriter

STRING_MAX = 32767  # Excel's cell text limit, in UTF-16 units; xlsxwriter cuts longer text
CHUNK_ROWS = 2000  # rows joined per write into the zip stream
INT_EXACT = 10**15  # whole numbers below this print alike as int and as %.16G float
CACHE_LIMIT = 4096  # distinct texts remembered per column (reason codes, headers repeat)
COMPRESS_LEVEL = 1  # zlib level of the spliced sheet: 3x faster than the default, ~15% larger
# Text needing more than the plain copy: XML's specials, control characters, Excel's escapes.
_SPECIAL = re.compile("[&<>\x00-\x08\x0b-\x1f\ufffe\uffff]|_x[0-9a-fA-F]{4}_")
_escape_control = XMLwriter._escape_control_characters  # xlsxwriter's, so both agree
_DIMENSION = re.compile(r'<dimension ref="([A-Z]+)(\d+)(?::([A-Z]+)(\d+))?"/>')

Cell = str | int | float | bool | None


@dataclass
class PendingRows:
    """A table's data rows, waiting for the workbook to be written.

    ``rows``: each row's values in column order: text, a number, a bool, or a blank (None,
    empty text, NaN), as ``write_value`` types them. ``quoted_style`` is the style of formula-like text
    (starting with one of ``prefixes``), None when the table has none."""

    sheet_number: int  # xl/worksheets/sheet<n>.xml
    header_row: int  # 0-based
    ncols: int
    rows: Sequence[Sequence[Cell]]
    cell_style: int
    quoted_style: int | None
    prefixes: tuple[str, ...]


class SplicingWorkbook(xlsxwriter.Workbook):
    """xlsxwriter's workbook, which splices the ``pending`` tables in after closing."""

    def __init__(self, path: Path, options: dict[str, Any]) -> None:
        super().__init__(str(path), options)
        self.path = Path(path)
        self.pending: list[PendingRows] = []

    def sheet_number(self, sheet: Any) -> int:
        """The worksheet's number in the package (chart sheets are numbered apart)."""
        sheets = [s for s in self.worksheets() if not s.is_chartsheet]
        return next(n for n, s in enumerate(sheets, start=1) if s is sheet)

    def close(self) -> None:
        super().close()
        if self.pending:
            pending, self.pending = self.pending, []
            splice(self.path, pending)


def text_cell(text: str, style: int) -> str:
    """What follows ``<c r="A1"`` for a text cell, as xlsxwriter's constant_memory writes it."""
    if len(text) > STRING_MAX // 2 and _utf16_len(text) > STRING_MAX:
        text = _utf16_truncate(text, STRING_MAX)
    if _SPECIAL.search(text):
        text = _escape_control(text)
        text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    # xlsxwriter's test (utility._preserve_whitespace) is r"^\s" or r"\s$"; \s is str.isspace,
    # and "$" also matches before a final newline, which is whitespace itself
    preserve = ' xml:space="preserve"' if text and (text[0].isspace() or text[-1].isspace()) \
        else ""
    return f' s="{style}" t="inlineStr"><is><t{preserve}>{text}</t></is></c>'


def _cell_tail(value: Cell, p: PendingRows, cache: dict[str, str]) -> str:
    """What follows ``<c r="A1"`` for any one cell (``cache``: the column's texts seen)."""
    cls = value.__class__
    if cls is str and value:
        tail = cache.get(value)  # type: ignore[arg-type]
        if tail is None:
            style = p.quoted_style if value.startswith(p.prefixes) else p.cell_style  # type: ignore[union-attr]
            tail = text_cell(value, style)  # type: ignore[arg-type]
            if len(cache) < CACHE_LIMIT:
                cache[value] = tail  # type: ignore[index]
        return tail
    if value is None or cls is str:
        return f' s="{p.cell_style}"/>'
    if cls is bool:
        return f' s="{p.cell_style}" t="b"><v>{int(value)}</v></c>'  # type: ignore[arg-type]
    if (number := float(value)) != number:  # type: ignore[arg-type]
        return f' s="{p.cell_style}"/>'  # NaN, a blank as write_value has it
    return f' s="{p.cell_style}"><v>{number:.16G}</v></c>'


def _plain_texts(values: tuple[Cell, ...], prefixes: tuple[str, ...]) -> bool:
    """Whether every value is non-empty text ``text_cell`` would copy as it is, in its plain
    style: no XML special, control character or Excel escape, no blank at either end, not
    formula-like, short enough. Checked over the whole column chunk with C-level loops."""
    if set(map(type, values)) != {str} or "" in values:
        return False
    if max(map(len, values)) > STRING_MAX // 2:
        return False
    if any(map(str.startswith, values, repeat(prefixes))):  # type: ignore[arg-type]
        return False
    if values != tuple(map(str.strip, values)):  # str.strip strips what str.isspace calls blank
        return False
    joined = " ".join(values)  # type: ignore[arg-type]
    if joined.isprintable() and "&" not in joined and "<" not in joined and ">" not in joined \
            and "_x" not in joined:
        return True  # the control characters and U+FFFE/U+FFFF are not printable
    return _SPECIAL.search(joined) is None


def _plain_ints(values: tuple[Cell, ...]) -> bool:
    """Whether every value is an int that ``%.16G`` of its float writes as ``str`` does."""
    return set(map(type, values)) == {int} and min(values) > -INT_EXACT and \
        max(values) < INT_EXACT  # type: ignore[type-var, operator]


def _column_tails(values: tuple[Cell, ...], p: PendingRows, cache: dict[str, str]) -> list[str]:
    """The tails of one column's cells in a chunk of rows: the common columns (plain text,
    small whole numbers) in one concatenation each, any other cell by ``_cell_tail``."""
    if _plain_texts(values, p.prefixes):
        head = f' s="{p.cell_style}" t="inlineStr"><is><t>'
        return [head + v + "</t></is></c>" for v in values]  # type: ignore[operator]
    if _plain_ints(values):
        head = f' s="{p.cell_style}"><v>'
        return [head + str(v) + "</v></c>" for v in values]
    return [_cell_tail(v, p, cache) for v in values]


def _same_text(values: tuple[Cell, ...]) -> bool:
    """Whether every value is the same text (a text equals no other type, so one ``count``)."""
    return values[0].__class__ is str and values.count(values[0]) == len(values)


def rows_xml(p: PendingRows) -> Iterator[bytes]:
    """The ``<row>`` elements of the pending rows, UTF-8, a chunk of rows at a time.

    Built column by column within a chunk (the per-cell type checks run in C over the chunk's
    column), then row by row with one ``str.format`` per row. A column holding one text all
    through the chunk (a note's category, fix and reason code) is written into the chunk's
    row template once instead of passed to every row's format."""
    letters = [xl_col_to_name(c) for c in range(p.ncols)]
    caches: list[dict[str, str]] = [{} for _ in range(p.ncols)]
    rows = p.rows
    for start in range(0, len(rows), CHUNK_ROWS):
        chunk = rows[start:start + CHUNK_ROWS]
        template = ['<row r="{0}">']
        tails = []
        for c, values in enumerate(zip(*chunk, strict=True)):
            if _same_text(values):
                tail = _column_tails(values[:1], p, caches[c])[0]
                template.append(f'<c r="{letters[c]}{{0}}"'
                                + tail.replace("{", "{{").replace("}", "}}"))
            else:
                tails.append(_column_tails(values, p, caches[c]))
                template.append(f'<c r="{letters[c]}{{0}}"{{{len(tails)}}}')
        template.append("</row>")
        first = p.header_row + 2 + start
        numbers = range(first, first + len(chunk))
        yield "".join(map("".join(template).format, numbers, *tails)).encode("utf-8")


def _split(xml: str, p: PendingRows) -> tuple[str, str]:
    """The sheet's XML before and after the place of the rows, its dimension widened."""
    end = xml.index("</sheetData>")
    last_row = xml.rfind("<row ", 0, end)
    if last_row < 0 or not xml.startswith(f'<row r="{p.header_row + 1}"', last_row):
        raise ValueError("a spliced table must be the last thing on its sheet")
    dim = _DIMENSION.search(xml)
    if dim is None:
        raise ValueError("the sheet has no dimension")
    last_col = dim.group(3) or dim.group(1)
    if len(letters := xl_col_to_name(p.ncols - 1)) > len(last_col) or \
            (len(letters) == len(last_col) and letters > last_col):
        last_col = letters
    ref = f'<dimension ref="{dim.group(1)}{dim.group(2)}:{last_col}{p.header_row + 1 + len(p.rows)}"/>'
    head = xml[:dim.start()] + ref + xml[dim.end():end]
    return head, xml[end:]


def splice(path: Path, pending: list[PendingRows]) -> None:
    """Rewrite the finished workbook at ``path`` with the pending rows in their sheets; the
    other parts are copied as they are, in their order. The file is replaced in one step; if
    the splice fails, neither it nor xlsxwriter's file without the rows is left behind."""
    partial = path.with_name(f".{path.name}.splice")
    try:
        _write_spliced(path, partial, pending)
        os.replace(partial, path)
    except BaseException:
        partial.unlink(missing_ok=True)
        path.unlink(missing_ok=True)
        raise


def _write_spliced(path: Path, partial: Path, pending: list[PendingRows]) -> None:
    by_part = {f"xl/worksheets/sheet{p.sheet_number}.xml": p for p in pending}
    with ZipFile(path) as source, ZipFile(partial, "w", ZIP_DEFLATED) as target:
        for info in source.infolist():
            copy = ZipInfo(info.filename, info.date_time)
            copy.compress_type, copy.external_attr = info.compress_type, info.external_attr
            copy.create_system = info.create_system
            data = source.read(info)
            p = by_part.get(info.filename)
            if p is None:
                target.writestr(copy, data)
                continue
            head, tail = _split(data.decode("utf-8"), p)
            copy._compresslevel = COMPRESS_LEVEL  # type: ignore[attr-defined]
            with target.open(copy, "w") as stream, ThreadPoolExecutor(1) as deflater:
                stream.write(head.encode("utf-8"))
                # zlib lets go of the GIL: a chunk is deflated while the next one is drawn
                writing: Future[int] | None = None
                for chunk in rows_xml(p):
                    if writing is not None:
                        writing.result()
                    writing = deflater.submit(stream.write, chunk)
                if writing is not None:
                    writing.result()
                stream.write(tail.encode("utf-8"))
