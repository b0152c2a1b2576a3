"""Screening a legacy ``.xls`` (Excel 97-2003, BIFF) before calamine opens it.

Why: calamine reads every sheet of an ``.xls`` as it opens the file, and allocates from what
the file claims before anything of ours can look at the result. Two claims cost memory out of
all proportion to the file's size:

- a sheet's DIMENSIONS record (its used range, as the writer declares it): calamine reserves
  room for rows x columns cells at once. Rows are a 32-bit number there, so 18 changed bytes
  ask for petabytes, and the allocation failure aborts the whole process (a Rust abort, not
  an exception): the worker or the Airflow task dies with the unit's file still queued;
- the cells themselves: calamine then builds the range from the top-left to the bottom-right
  cell it found, whatever lies between (two cells at A1 and at row 65,536, column 65,536 make
  4.3 billion).

So the Workbook stream is walked here first, record by record, the way calamine walks it: the
BoundSheet records of the workbook part give where each sheet starts, and each sheet is read
from there to its end (EOF), skipping nested parts (charts) as calamine does. The declared
range and the range the cells span are held against the same limits as ``.xlsx`` and ``.ods``
(rows, columns, rows x columns from A1: ``CADRE_MAX_*``), and a file over them is refused
before calamine sees it. Records calamine ignores (blank cells) are ignored here too.

The compound-file container is read with ``olefile``; a container it cannot read is refused as
damaged (calamine's own reader is not given the chance to allocate from it).
"""

from __future__ import annotations

import io
import struct
from collections.abc import Iterator

import olefile

from pipelines.ingest.errors import classify

WORKBOOK_STREAMS = ("Workbook", "Book", "WORKBOOK", "BOOK")  # the names calamine tries, in order
BOF, EOF, CONTINUE, BOUNDSHEET, DIMENSIONS, MULRK = 0x0809, 0x000A, 0x003C, 0x0085, 0x0200, 0x00BD
# Records calamine makes a cell of, each starting with the cell's row and column (u16 each):
# Number, Label, RString, BoolErr, RK, LabelSst, Formula. MulRK holds a run of cells in one row.
CELL_RECORDS = frozenset({0x0203, 0x0204, 0x00D6, 0x0205, 0x027E, 0x00FD, 0x0006})
U32 = 1 << 32

def records(stream: bytes, start: int) -> Iterator[tuple[int, int, int]]:
    """(type, offset of its data, length) of each record from ``start``, as calamine's record
    iterator reads them: CONTINUE records after one are its own (skipped here: no position is
    in them), and a record running past the stream ends the walk (calamine stops there with an
    error). Offsets, not copies: a full sheet is some 700,000 records."""
    pos, end = start, len(stream)
    header = struct.Struct("<HH").unpack_from
    while pos + 4 <= end:
        typ, length = header(stream, pos)
        data = pos + 4
        pos = data + length
        if pos > end:
            return
        while pos + 4 < end and header(stream, pos)[0] == CONTINUE:
            pos += 4 + header(stream, pos)[1]
        yield typ, data, length


def sheet_starts(stream: bytes) -> list[int]:
    """Where each sheet's part begins: the BoundSheet records of the workbook part (to its EOF)."""
    starts = []
    for typ, data, length in records(stream, 0):
        if typ == EOF:
            break
        if typ == BOUNDSHEET and length >= 4:
            starts.append(struct.unpack_from("<I", stream, data)[0])
    return starts


def declared_range(data: bytes) -> tuple[int, int] | None:
    """(rows, columns) calamine reserves for a DIMENSIONS record's data, with its arithmetic:
    32-bit unsigned, wrapping (a last row before the first becomes some 4 billion rows), a
    first column past 255 taken as 0. None for a record calamine refuses (wrong length)."""
    if len(data) == 10:
        first_row, last_row, first_col, last_col = struct.unpack_from("<4H", data)
    elif len(data) == 14:
        first_row, last_row, first_col, last_col = struct.unpack_from("<IIHH", data)
    else:
        return None
    if first_col > 0xFF or last_col < first_col:
        first_col = 0
    if last_row < 1 or last_col < 1:
        return 1, 1
    return ((last_row - 1 - first_row) % U32 + 1) % U32, ((last_col - 1 - first_col) % U32 + 1) % U32


def sheet_ranges(stream: bytes) -> Iterator[tuple[bool, int, int]]:
    """Every range calamine would reserve or build, as (declared, rows, columns): each
    DIMENSIONS record of a sheet (declared: room reserved, not filled), then the far corner of
    its cells from A1 (a MulRK run: its first and last), the range calamine builds."""
    position = struct.Struct("<HH").unpack_from
    for start in sheet_starts(stream):
        seen_bof, depth, height, width = False, 0, 0, 0
        for typ, data, length in records(stream, start):
            if depth:  # a nested part (an embedded chart): its records are not the sheet's
                depth += {BOF: 1, EOF: -1}.get(typ, 0)
                continue
            if typ in CELL_RECORDS:
                if length >= 4:
                    row, col = position(stream, data)
                    height, width = max(height, row + 1), max(width, col + 1)
            elif typ == MULRK:
                if length >= 6:
                    row, first = position(stream, data)
                    last = struct.unpack_from("<H", stream, data + length - 2)[0]
                    height, width = max(height, row + 1), max(width, first + 1, last + 1)
            elif typ == BOF:
                depth, seen_bof = (1, True) if seen_bof else (0, True)
            elif typ == EOF:
                break
            elif typ == DIMENSIONS:
                declared = declared_range(stream[data:data + length])
                if declared:
                    yield True, *declared
        if height:
            yield False, height, width


def workbook_stream(data: bytes) -> bytes | None:
    """The BIFF stream of an ``.xls``; None when the container holds none (an encrypted
    ``.xlsx``, another Office file), which calamine then reports itself."""
    try:
        with olefile.OleFileIO(io.BytesIO(data)) as container:
            for name in WORKBOOK_STREAMS:
                if container.exists(name):
                    return container.openstream(name).read()
    except Exception as exc:  # olefile's many errors for a damaged container
        raise classify(exc) from exc  # refused as damaged, unless it is the machine's fault
    return None


def used_ranges(data: bytes) -> Iterator[tuple[bool, int, int]]:
    """Every range calamine would reserve or build for the sheets of an ``.xls``, as
    (declared, rows, columns) from A1; none when the container holds no workbook (calamine
    reports that)."""
    stream = workbook_stream(data)
    if stream is not None:
        yield from sheet_ranges(stream)
