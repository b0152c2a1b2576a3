"""XLSX tables, drawn one way everywhere: every workbook the project writes from data uses this.

A table is a header row and the rows below it: Chinese (or any) labels as given, column widths
from the content (CJK characters count double), a frozen header, an autofilter, wrapped text
aligned to the top, numbers as numbers, dates as dates, empty values as blank cells (so Excel's
filter offers "(空白)").

Formula injection: a text cell whose text starts with ``= + - @``, a tab or a carriage return is
written as text with Excel's quote prefix (what typing a leading apostrophe in Excel stores):
the cell shows and keeps exactly the text the unit or the warehouse holds (a unit must see the
value it sent), Excel, WPS and LibreOffice never evaluate it, and it stays text when someone edits
the cell. Every text cell goes through ``write_value`` (or, in a spliced table, the same
test on ``FORMULA_PREFIXES`` in ``xlsx_splice``), so no writer can forget it.

Why xlsxwriter: it writes sheets row by row (``constant_memory`` for the feedback issue list)
and draws native charts, which callers add to the sheets they get from here. A huge table of
text and numbers (the feedback issue list again) is marked ``spliced``: xlsxwriter writes all
but its data rows, which ``pipelines.render.xlsx_splice`` then writes as sheet XML, the same
bytes ten times faster.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Callable, Mapping, Sequence
from datetime import date, datetime, time
from decimal import Decimal
from itertools import chain, repeat
from pathlib import Path
from typing import Any

from xlsxwriter.format import Format
from xlsxwriter.workbook import Workbook
from xlsxwriter.worksheet import Worksheet

from pipelines.render.xlsx_splice import Cell, PendingRows, SplicingWorkbook

# Text starting with one of these could be read as a formula (or DDE) by a spreadsheet.
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
# Colours by tone, the same as the HTML style sheet's .tone-* classes.
TONES = {"good": "#1E7B34", "warn": "#B36B00", "bad": "#C00000", "muted": "#555555"}
MIN_WIDTH, MAX_WIDTH, WIDTH_SAMPLE = 8, 60, 200

_BASE: dict[str, dict[str, Any]] = {
    "title": {"bold": True, "font_size": 14},
    "head": {"bold": True, "bg_color": "#D9D9D9", "border": 1, "text_wrap": True,
             "valign": "top"},
    "label": {"bold": True, "bg_color": "#F2F2F2", "border": 1, "valign": "top"},
    "cell": {"border": 1, "text_wrap": True, "valign": "top"},
    "num": {"border": 1, "num_format": "0.0", "valign": "top"},
    "pct": {"border": 1, "num_format": "0.0%", "valign": "top"},
    "date": {"border": 1, "num_format": "yyyy-mm-dd", "valign": "top"},
    "datetime": {"border": 1, "num_format": "yyyy-mm-dd hh:mm:ss", "valign": "top"},
    "text": {"text_wrap": True, "valign": "top"},
    "note": {"italic": True, "font_color": TONES["warn"]},
    "bold": {"bold": True},
}


def is_formula_like(text: str) -> bool:
    """Whether a spreadsheet could take ``text`` for a formula if it were not marked as text."""
    return text.startswith(FORMULA_PREFIXES)


class Formats:
    """The workbook's cell formats, by name (``fmt.head``, ``fmt.cell`` ...), created once.

    ``fmt.quoted(f)`` is ``f`` plus Excel's quote prefix, for formula-like text;
    ``fmt.toned(f, tone)`` is ``f`` in a tone's colour (``TONES``), bold."""

    def __init__(self, book: Workbook) -> None:
        self.book = book
        self._made: dict[tuple, Format] = {}
        for name in _BASE:
            setattr(self, name, self._format(name))

    def _format(self, base: str | None, **extra: Any) -> Format:
        key = (base, tuple(sorted(extra.items())))
        if key not in self._made:
            self._made[key] = self.book.add_format({**_BASE.get(base or "", {}), **extra})
            self._made[key].base_name = base  # type: ignore[attr-defined]
            self._made[key].extra = extra  # type: ignore[attr-defined]
        return self._made[key]

    def quoted(self, fmt: Format | None) -> Format:
        base, extra = _origin(fmt)
        return self._format(base, **{**extra, "quote_prefix": True})

    def toned(self, fmt: Format | None, tone: str) -> Format:
        base, extra = _origin(fmt)
        return self._format(base, **{**extra, "font_color": TONES[tone], "bold": True})


def _origin(fmt: Format | None) -> tuple[str | None, dict[str, Any]]:
    if fmt is None:
        return None, {}
    return getattr(fmt, "base_name", None), dict(getattr(fmt, "extra", {}))


def open_workbook(path: Path, *, constant_memory: bool = False) -> tuple[Workbook, Formats]:
    """A new workbook at ``path`` and its formats. Close it with ``book.close()``.

    ``constant_memory``: rows are flushed as they are written (huge sheets); each sheet must
    then be written top to bottom, left to right."""
    book = SplicingWorkbook(path, {"constant_memory": constant_memory, "remove_timezone": True,
                                   "default_date_format": "yyyy-mm-dd"})
    return book, Formats(book)


def write_value(sheet: Worksheet, fmt: Formats, row: int, col: int, value: Any,
                cell_format: Format | None = None) -> None:
    """One cell, typed by its value; text is always written as text (see the module doc)."""
    if _is_blank(value):
        sheet.write_blank(row, col, None, cell_format)
    elif isinstance(value, bool):
        sheet.write_boolean(row, col, value, cell_format)
    elif isinstance(value, (numbers.Real, Decimal)):
        sheet.write_number(row, col, float(value), cell_format)
    elif isinstance(value, datetime):
        sheet.write_datetime(row, col, value, fmt.datetime if cell_format in (None, fmt.cell)
                             else cell_format)
    elif isinstance(value, (date, time)):
        sheet.write_datetime(row, col, value, fmt.date if cell_format in (None, fmt.cell)
                             else cell_format)
    else:
        text = str(value)
        sheet.write_string(row, col, text, fmt.quoted(cell_format) if is_formula_like(text)
                           else cell_format)


def _is_blank(value: Any) -> bool:
    """None, empty text, NaN, and pandas' NA / NaT (without importing pandas)."""
    if value is None or (isinstance(value, str) and value == ""):
        return True
    if isinstance(value, float):
        return math.isnan(value)
    return type(value).__name__ in ("NAType", "NaTType")


def text_width(text: str) -> int:
    """Display width in Excel's character units: CJK characters take two."""
    return sum(2 if ord(ch) > 0x2E80 else 1 for ch in text)


def _display(value: Any) -> str:
    return "" if value is None else str(value)


A4 = 9  # xlsxwriter's paper code


def print_on_a4(sheet: Worksheet, *, header_row: int | None = None,
                landscape: bool = False) -> None:
    """Print setup for a sheet someone will print: A4, fit to one page wide (as many long as
    it takes), narrow margins, and the table's header row repeated on every page. Cells wrap
    (the cell formats carry text_wrap), so a long reason grows the row, not the page."""
    sheet.set_paper(A4)
    if landscape:
        sheet.set_landscape()
    sheet.fit_to_pages(1, 0)
    sheet.set_margins(left=0.4, right=0.4, top=0.5, bottom=0.5)
    if header_row is not None and not sheet.repeat_row_range:  # the sheet's first table
        sheet.repeat_rows(header_row)


def write_table(sheet: Worksheet, fmt: Formats, top: int,
                rows: Sequence[Mapping[str, Any]] | Sequence[Sequence[Any]],
                columns: Sequence[str] | None = None, *,
                widths: Mapping[str, int] | None = None,
                notes: Mapping[str, str] | None = None,
                tones: Mapping[str, Callable[[Any], str | None]] | None = None,
                empty: str = "无。", spliced: bool = False) -> int:
    """A header row at ``top`` and ``rows`` below it; returns the next free row (one blank row
    left after the table).

    ``rows``: mappings (label -> value; a row lacking a label gets a blank cell) or plain
    sequences in the order of ``columns`` (query results; ``columns`` is then required).
    ``columns``: the header labels, in order (default: the first row's keys).
    ``widths``: fixed widths for some columns (others follow their content).
    ``notes``: a comment on a header cell (what the column means).
    ``tones``: per column, a function of the value giving a tone (``TONES``) to colour the cell.
    With no columns at all, ``empty`` is written instead of a table.
    ``spliced``: the table may be huge and is the last thing on its sheet; when its cells are
    text, numbers, booleans or blanks and it has no ``tones``, its data rows are written after
    the workbook closes (``pipelines.render.xlsx_splice``), the same cells ten times faster.
    """
    columns = list(columns or (list(rows[0]) if rows else []))
    if not columns:
        write_value(sheet, fmt, top, 0, empty)
        return top + 2
    widths, notes, tones = widths or {}, notes or {}, tones or {}
    by_name = not rows or isinstance(rows[0], Mapping)

    def cell(row: Any, col: int, name: str) -> Any:
        return row.get(name) if by_name else row[col]

    for col, name in enumerate(columns):
        if name in widths:
            width = widths[name]
        else:
            longest = max([text_width(name)] + [text_width(_display(cell(r, col, name)))
                                                 for r in rows[:WIDTH_SAMPLE]])
            width = min(MAX_WIDTH, max(MIN_WIDTH, longest + 2))
        sheet.set_column(col, col, width)
    for col, name in enumerate(columns):
        write_value(sheet, fmt, top, col, name, fmt.head)
        if notes.get(name):
            sheet.write_comment(top, col, notes[name], {"x_scale": 2, "y_scale": 1.5})
    if spliced and not tones and rows and isinstance(fmt.book, SplicingWorkbook) and \
            sheet.constant_memory and (table := _plain_table(rows, columns, by_name)) is not None:
        _defer(sheet, fmt, top, table, len(columns))
        rows_written: Sequence[Any] = ()
    else:
        rows_written = rows
    for r, row in enumerate(rows_written, start=top + 1):
        for col, name in enumerate(columns):
            value = cell(row, col, name)
            tone = tones[name](value) if name in tones else None
            write_value(sheet, fmt, r, col, value,
                        fmt.toned(fmt.cell, tone) if tone else fmt.cell)
    sheet.autofilter(top, 0, top + max(len(rows), 1), len(columns) - 1)
    sheet.freeze_panes(top + 1, 0)
    print_on_a4(sheet, header_row=top, landscape=len(columns) > 5)
    return top + len(rows) + 2


# What the spliced writer takes as it is; anything else (dates, Decimal, pandas' NA ...) goes
# through write_value.
_PLAIN_TYPES = frozenset({str, int, float, bool, type(None)})


def _plain_table(rows: Sequence[Any], columns: Sequence[str],
                 by_name: bool) -> Sequence[Sequence[Cell]] | None:
    """The rows as sequences of plain cells (``Cell``), or None when one is not plain or a row
    is not as long as the header. Checked with C-level loops: it runs over every cell."""
    table = [tuple(map(row.get, columns)) for row in rows] if by_name else rows
    if set(map(len, table)) != {len(columns)}:
        return None
    types = set(map(type, chain.from_iterable(table)))
    if not types <= _PLAIN_TYPES:
        return None
    if float in types and any(math.isinf(v) for v in chain.from_iterable(table)
                              if v.__class__ is float):
        return None  # xlsxwriter refuses infinities; let it say so
    return table


def _is_quoted(value: Cell) -> bool:
    return value.__class__ is str and value.startswith(FORMULA_PREFIXES)  # type: ignore[union-attr]


def _any_quoted(table: Sequence[Sequence[Cell]]) -> bool:
    """Whether any cell is formula-like text; a column of text only is checked in C."""
    for column in zip(*table, strict=True):
        texts = column if set(map(type, column)) == {str} else \
            [v for v in column if v.__class__ is str]
        if any(map(str.startswith, texts, repeat(FORMULA_PREFIXES))):  # type: ignore[arg-type]
            return True
    return False


def _defer(sheet: Worksheet, fmt: Formats, top: int, table: Sequence[Sequence[Cell]],
           ncols: int) -> None:
    """Keep the rows for the splice, and give their styles their indexes now: the workbook's
    styles are written from the indexes given before it closes. Written row by row, xlsxwriter
    would have flushed the header row, then indexed each style at its first use; so do we.
    (One corner differs: a style first used in a table's last row, in a workbook where another
    sheet's last row brings a new style too, is numbered before that one instead of after.)"""
    sheet._write_single_row(top + 1)  # xlsxwriter's flush of the rows before ``top + 1``
    quoted = fmt.quoted(fmt.cell)
    if _is_quoted(table[0][0]):
        order = [quoted] + ([fmt.cell] if any(not _is_quoted(v) for v in
                                              chain.from_iterable(table)) else [])
    else:
        order = [fmt.cell] + ([quoted] if _any_quoted(table) else [])
    indexes = {id(style): style._get_xf_index() for style in order}  # xlsxwriter's own call
    book = fmt.book
    assert isinstance(book, SplicingWorkbook)
    book.pending.append(PendingRows(
        sheet_number=book.sheet_number(sheet), header_row=top, ncols=ncols, rows=table,
        cell_style=indexes.get(id(fmt.cell), 0), quoted_style=indexes.get(id(quoted)),
        prefixes=FORMULA_PREFIXES))


def write_fields(sheet: Worksheet, fmt: Formats, top: int,
                 fields: Sequence[tuple[str, Any]], *,
                 tones: Mapping[str, str] | None = None, widths: tuple[int, int] = (16, 90)) -> int:
    """A two-column form (label, value) from ``top``; returns the next free row.
    ``tones``: label -> tone for values to colour (e.g. an outcome)."""
    tones = tones or {}
    sheet.set_column(0, 0, widths[0])
    sheet.set_column(1, 1, widths[1])
    for r, (label, value) in enumerate(fields, start=top):
        write_value(sheet, fmt, r, 0, label, fmt.label)
        tone = tones.get(label)
        write_value(sheet, fmt, r, 1, value, fmt.toned(fmt.cell, tone) if tone else fmt.cell)
    print_on_a4(sheet)
    return top + len(fields)


def write_title(sheet: Worksheet, fmt: Formats, row: int, text: str, *, col: int = 0) -> None:
    """A sheet's title line."""
    write_value(sheet, fmt, row, col, text, fmt.title)


def write_lines(sheet: Worksheet, fmt: Formats, top: int, lines: Sequence[str], *,
                col: int = 0, style: str = "text") -> int:
    """Paragraphs, one per row from ``top`` (``style``: text, bold or note); returns the next
    free row."""
    for r, line in enumerate(lines, start=top):
        write_value(sheet, fmt, r, col, line, getattr(fmt, style))
    return top + len(lines)


def write_table_workbook(path: Path, sheets: Mapping[str, Sequence[Mapping[str, Any]]],
                         **table_options: Any) -> Path:
    """A workbook of plain table sheets: sheet name -> rows (each a label -> value mapping)."""
    book, fmt = open_workbook(path)
    try:
        for name, rows in sheets.items():
            write_table(book.add_worksheet(name), fmt, 0, rows, **table_options)
    finally:
        book.close()
    return path
