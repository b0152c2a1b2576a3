"""The fast paths of reading and typing give exactly what the slower paths they replaced gave.

Speed work (issue 13) types each distinct text of a column once (``parse.type_distinct``),
normalises only the non-ASCII cells (``values.nfkc``), checks ASCII ID digits as one block of
bytes (``idcard._check_fails``), builds the text frame from Arrow arrays (``readers._frame``)
and screens a sheet's cell references with looser, faster patterns before the exact ones
(``readers._within_range``). Each is compared here, on tricky generated values, with the
path it replaced: the typing of every cell (``parse.type_column``), pandas' own NFKC, the
digit-by-digit ID check, the object-frame build (kept below as it was) and the exact
reference check.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pipelines.contracts import Field, all_contracts
from pipelines.ingest import idcard, readers, values
from pipelines.ingest.errors import InputRefused
from pipelines.ingest.limits import Limits
from pipelines.ingest.parse import type_column, type_distinct

FAST = settings(max_examples=80, deadline=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


def _one_field_per_type() -> dict[str, Field]:
    found: dict[str, Field] = {}
    for contract in all_contracts().values():
        for spec in contract.fields:
            found.setdefault(spec.type, spec)
    return found


FIELDS = _one_field_per_type()
VALID_ID = idcard.make("110101", date(1980, 5, 17), 123)

# What units write, right and wrong, in the forms that take different paths: ASCII and
# full-width, other scripts' digits, blanks of every kind, Excel's leftovers.
TRICKY = [
    None, "", " ", "\u3000", "\t", "\x1c", "0", "1", "-1", "+3", "1.0", "1.5", "1,234.50", ".5",
    "1e5", "0x10", "１２３", "１２.５", "٣", "١٢", "𝟙𝟚", "Ⅻ", "ﬁ", "99999999999999", "1" * 16,
    "1" * 41, "2025", "2025年", "2025年度", "２０２５", "1948", "2101", "2025.0",
    "2025-03-05", "2025/3/5", "2025.03.05", "2025年3月5日", "20250305", "45721", "45721.0",
    "2025-03-05 00:00:00", "２０２５-０３-０５", "2025-02-30", "1899-12-31", "2101-01-01", "12345",
    "abc", "是", "否", "Y", "n", "TRUE", "false", "√", "×", "对", "不是", "T", "男", "女", "男 ",
    "Ｍ", "优秀", "称职", "房产、投资", "房产,,投资", "其他", VALID_ID, VALID_ID.lower(),
    VALID_ID[:17] + "0", f" {VALID_ID} ", "4.10105E+17", "410105198005171000", "11010119800230123X",
]
cells = st.one_of(st.sampled_from(TRICKY), st.text(max_size=6))
columns = st.lists(cells, min_size=1, max_size=40)


def _same(a: pd.Series, b: pd.Series) -> None:
    assert a.dtype == b.dtype
    assert list(a.index) == list(b.index)
    for x, y in zip(a.tolist(), b.tolist(), strict=True):
        assert (pd.isna(x) and pd.isna(y)) if not isinstance(x, list) and pd.isna(x) else x == y


@FAST
@given(st.sampled_from(sorted(FIELDS)), columns, st.data())
def test_typing_each_distinct_text_once_gives_what_typing_every_cell_gives(
        kind: str, cells: list[str | None], data: st.DataObject) -> None:
    # repeats, so that the distinct path (not its fallback for all-distinct columns) runs
    cells = cells + data.draw(st.lists(st.sampled_from(cells), min_size=1, max_size=40))
    raw = pd.Series(cells, dtype="str")
    spec = FIELDS[kind]
    fast, slow = type_distinct(raw, spec), type_column(raw, spec)
    _same(fast[0], slow[0])
    _same(fast[1], slow[1])
    assert (fast[2] is None) == (slow[2] is None)
    if slow[2] is not None:
        _same(fast[2], slow[2])


@FAST
@given(st.lists(st.one_of(st.none(), st.text(), st.sampled_from(TRICKY)), max_size=30))
def test_nfkc_of_the_non_ascii_cells_is_pandas_nfkc_of_every_cell(cells: list) -> None:
    text = pd.Series(cells, dtype="str")
    _same(values.nfkc(text), text.str.normalize("NFKC"))


ids = st.builds(lambda area, born, seq, check: idcard.make(area, born, seq)[:17] + check,
                st.sampled_from(["110101", "410105", "440300"]),
                st.dates(min_value=date(1930, 1, 1), max_value=date(2010, 12, 31)),
                st.integers(0, 999), st.sampled_from("0123456789X"))


@FAST
@given(st.lists(ids, min_size=1, max_size=30))
def test_id_checks_read_as_bytes_agree_with_the_digit_by_digit_check(numbers: list[str]) -> None:
    ascii_only = idcard._check_fails(pd.Series(numbers, dtype="str"))
    # one ID in Arabic-Indic digits sends the whole column down the digit-by-digit path
    other = "".join(chr(0x0660 + int(d)) for d in VALID_ID[:17]) + VALID_ID[17]
    mixed = idcard._check_fails(pd.Series([*numbers, other], dtype="str"))
    assert list(ascii_only) == list(mixed[:-1])
    assert list(ascii_only) == [idcard.check_digit(n[:17]) != n[17] for n in numbers]
    assert not mixed[-1]


# ---- readers._frame against the object-frame build it replaced -------------------------------

def _old_frame(header: list, body: list, first_row_number: int,
               limits: Limits) -> tuple[pd.DataFrame, list[int]]:
    """``readers._frame`` as it was before the Arrow build (frame and row numbers)."""
    names = [str(h).strip() if h is not None and str(h).strip() else f"(第{i + 1}列)"
             for i, h in enumerate(header)]
    width = len(names)
    rows = [r if len(r) == width else (list(r) + [None] * width)[:width] for r in body]
    if rows and width:
        grid = pd.DataFrame(rows, dtype=object).astype("str")
        grid = grid.mask(grid.apply(lambda column: column.str.strip() == ""))
        present = grid.notna()
        keep = present.any(axis=1).to_numpy()
        too_long = (grid.apply(lambda column: column.str.len()) > limits.cell_chars).any(axis=1)
        if too_long.any():
            raise InputRefused("cell_too_long", first_row_number + int(too_long.idxmax()),
                               limits.cell_chars)
        has_value = present[keep].any(axis=0).to_numpy()
        grid = grid[keep]
    else:
        grid, keep, has_value = None, [False] * len(rows), [False] * width
    numbers = [first_row_number + offset for offset, kept in enumerate(keep) if kept]
    used = [i for i, h in enumerate(header) if (h is not None and str(h).strip()) or has_value[i]]
    if grid is not None and numbers:
        frame = grid.iloc[:, used].reset_index(drop=True)
        frame.columns = pd.Index([names[i] for i in used])
    else:
        frame = pd.DataFrame({names[i]: pd.Series([], dtype="str") for i in used})
    return frame, numbers


def _outcome(build):  # noqa: ANN001, ANN202
    """("ok", what ``build`` returned) or ("refused", reason, value, detail)."""
    try:
        return ("ok", build())
    except InputRefused as refusal:
        return ("refused", refusal.reason, refusal.value, refusal.detail)


def _same_frames(a: pd.DataFrame, b: pd.DataFrame) -> None:
    assert list(a.columns) == list(b.columns)
    assert list(a.dtypes) == list(b.dtypes)
    assert list(a.index) == list(b.index)
    assert [[None if pd.isna(v) else v for v in row] for row in a.values.tolist()] == \
        [[None if pd.isna(v) else v for v in row] for row in b.values.tolist()]


LIMITS = Limits.current()
SHORT = Limits(**{**LIMITS.__dict__, "cell_chars": 8})
texts = st.one_of(st.none(), st.sampled_from(["", " ", "\u3000", "\x1c", "\u2028", "a", " b ",
                                              "身份证号", "123456789", "x" * 9]),
                  st.text(max_size=10))
# what calamine hands over besides text: numbers, booleans, dates, times, durations
spreadsheet_cells = st.one_of(
    texts, st.booleans(), st.integers(-10**17, 10**17),
    st.floats(allow_nan=True, allow_infinity=True),
    st.datetimes(min_value=datetime(1900, 1, 1), max_value=datetime(2100, 12, 31)),
    st.dates(min_value=date(1900, 1, 1)), st.times(), st.timedeltas(max_value=timedelta(days=9)),
    st.sampled_from([datetime(2025, 3, 5), time(0), 1e15, -1e15, 123.0, 0.1, 45721.0]))


@FAST
@given(st.lists(st.one_of(st.none(), st.sampled_from(["姓名", "", " ", "备注"]), st.text(max_size=4)),
                min_size=1, max_size=5),
       st.lists(st.lists(texts, max_size=7), max_size=12), st.sampled_from([LIMITS, SHORT]))
def test_text_frame_is_the_object_frame_it_replaced(header: list, body: list,
                                                    limits: Limits) -> None:
    old = _outcome(lambda: _old_frame(header, body, 3, limits))
    new = _outcome(lambda: readers._frame(header, body, 3, "csv", None, 2, limits))
    if old[0] == "refused":
        assert new == old
        return
    assert new[0] == "ok", new
    _same_frames(new[1].frame, old[1][0])
    assert new[1].source_rows == old[1][1]


@FAST
@given(st.lists(st.lists(spreadsheet_cells, max_size=6), max_size=12))
def test_spreadsheet_cells_become_the_text_they_became_cell_by_cell(body: list) -> None:
    header = ["姓名", "单位", None, "备注", "日期", None]
    old = _outcome(lambda: _old_frame(
        header, [[readers._cell_text(c) for c in row] for row in body], 3, LIMITS))
    new = _outcome(lambda: readers._frame(header, body, 3, "xlsx", None, 2, LIMITS,
                                          cell_text=readers._cell_text))
    if old[0] == "refused":
        assert new == old
        return
    assert new[0] == "ok", new
    _same_frames(new[1].frame, old[1][0])
    assert new[1].source_rows == old[1][1]


# ---- the sheet range screen ------------------------------------------------------------------

refs = st.tuples(st.sampled_from(["c", "x:c", "row", "hyperlink", "cx", "c ", "f"]),
                 st.sampled_from(["r", "xr", " r", "ref"]),
                 st.text("ABCXYZ", max_size=4),
                 st.one_of(st.text("0123456789", max_size=8), st.integers(1, 3000).map(str)))


def _sheet(tags: list[tuple[str, str, str, str]]) -> bytes:
    inner = "".join(f'<{tag} s="1" {attr}="{letters}{digits}"/>'
                    for tag, attr, letters, digits in tags)
    return f"<worksheet><sheetData>{inner}</sheetData></worksheet>".encode()


@FAST
@given(st.lists(refs, max_size=12), st.integers(1, 3000), st.integers(1, 800),
       st.integers(1, 100_000))
def test_the_range_screen_never_passes_a_sheet_the_exact_check_refuses(
        tags: list, rows: int, width: int, cells: int) -> None:
    xml = _sheet(tags)
    limits = Limits(**{**LIMITS.__dict__, "rows": rows, "columns": width, "cells": cells})
    exact = _outcome(lambda: readers._check_cell_refs(xml, limits))
    assert _outcome(lambda: readers._check_sheet_range(xml, limits)) == exact
    if readers._within_range(xml, limits):
        assert exact == ("ok", None)


@FAST
@given(st.lists(st.tuples(st.text("ABCXYZ", min_size=1, max_size=2), st.integers(1, 3000)),
                max_size=6), st.integers(1, 100_000))
def test_the_range_screen_never_passes_a_used_range_over_the_cell_limit(
        cells: list[tuple[str, int]], limit: int) -> None:
    """Plain cells, each within the row and column limits: only the cell limit can refuse."""
    xml = _sheet([("c", "r", letters, str(row)) for letters, row in cells])
    limits = Limits(**{**LIMITS.__dict__, "cells": limit, "columns": 1000})
    exact = _outcome(lambda: readers._check_cell_refs(xml, limits))
    assert _outcome(lambda: readers._check_sheet_range(xml, limits)) == exact
    height = max((row for _, row in cells), default=0)
    width = max((readers._column_number(letters.encode()) for letters, _ in cells), default=0)
    assert (exact[0] == "refused") == (height * width > limit)


@pytest.mark.parametrize(("xml", "refused"), [
    (b'<c r="A1"/><hyperlink r="ZZZ1"/>', None),  # screened out, then passed by the exact check
    (b'<c r="ZZZ9"/>', "too_many_columns"),
    (b'<row r="1048576"/>', "too_many_rows"),
    (b'<c r="A2000000"/>', "too_many_rows"),
    (b'<c r="A12000000"/>', "too_many_rows"),  # eight digits: still a row calamine builds
    (b'<c r="zzz9"/>', "too_many_columns"),  # calamine reads lower-case columns
    (b'<c r="AAAA9"/>', "too_many_columns"),
    (b'<c r="A1"/><c r="IV999999"/>', "too_many_cells"),  # each within its limit
    (b'<row r="999999"/><c r="A1"/><c r="IV9"/>', "too_many_cells"),
    (b'<c r="A1"/><c r="IV78125"/>', None),  # 20,000,000 cells: the limit itself
    (b'<c r="A1"/><c r="IV78126"/>', "too_many_cells"),
    # tags calamine places where no plain reference says: the exact check places them too
    (b'<row r="99999"><c r="A99999"/></row><row r="20">' + b"<c/>" * 255 + b"<c/></row>",
     "too_many_cells"),  # cells without a reference: each in the column after the last
    (b'<row r="9"/>' + b"<row/>" * 99_990 + b"<row>" + b"<c/>" * 256 + b"</row>",
     "too_many_cells"),  # rows without a reference: each the row after the last
    (b"<c r='IV999999'/>", "too_many_cells"),
    (b'<c r = "IV999999"/>', "too_many_cells"),
    (b'<c s="1" r="IV999999"/>', "too_many_cells"),
    (b'<x:row r="99999"><x:c r="A99999"/></x:row><x:row>' + b"<x:c/>" * 256 + b"</x:row>",
     "too_many_cells"),
    (b'<c r="A1" r="IV999999"/>', "unreadable_file"),  # which r would calamine take? refused
    (b"<c r=\"A1\" r='IV999999'/>", "unreadable_file"),
])
def test_the_range_check_refuses_what_it_refused(xml: bytes, refused: str | None) -> None:
    xml = b"<worksheet><sheetData>" + xml + b"</sheetData></worksheet>"
    outcome = _outcome(lambda: readers._check_sheet_range(xml, LIMITS))
    assert (None if outcome[0] == "ok" else outcome[1]) == refused


def test_a_column_typed_by_distinct_texts_keeps_its_row_order() -> None:
    raw = pd.Series(["2025-03-05", None, "2025/3/5", "bad", "2025-03-05", "", "bad"], dtype="str")
    typed, bad, _ = type_distinct(raw, FIELDS["date"])
    assert [None if pd.isna(v) else pd.Timestamp(v).date() for v in typed] == \
        [date(2025, 3, 5), None, date(2025, 3, 5), None, date(2025, 3, 5), None, None]
    assert list(bad) == [False, False, False, True, False, False, True]
    assert np.array_equal(typed.index, raw.index)


class _Float(float):
    """A float that is not exactly ``float``: ``_cell_text`` gives it the isinstance chain."""


@FAST
@given(st.one_of(st.floats(), st.sampled_from([1e15, -1e15, 999999999999999.9, 0.1, -0.0, 45721.0,
                                               410105198005171000.0])))
def test_a_float_cell_reads_as_the_number_branch_read_it(value: float) -> None:
    assert readers._cell_text(value) == readers._cell_text(_Float(value))
