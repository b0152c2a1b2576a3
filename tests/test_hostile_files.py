"""No file can crash ingest: a corpus of 300+ hostile files, every one ends in a final receipt.

The whole corpus goes through the real ``submit_file`` (and ``receive_bytes`` for a name no
file system allows) in one process against one data folder; afterwards nothing is in flight,
every original is archived byte for byte, and the warehouse reconciles with the receipts.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import subprocess
import sys
import zipfile
from collections import Counter
from pathlib import Path

import duckdb
import pytest

from pipelines.contracts import normalize_header
from pipelines.ingest import readers, reasons
from pipelines.ingest.errors import InputRefused
from pipelines.ingest.readers import read_table
from pipelines.ingest.receipt import STATUSES
from pipelines.ingest.steps import load_step, receive_bytes, submit_file
from pipelines.settings import DataHome
from tests.conftest import ROSTER_HEADER
from tests.fuzz_corpus import (
    FIXTURES,
    Hostile,
    corpus,
    far_cell_xlsx,
    ods_with_rows,
    repeated_row_ods,
    xls_cell_at,
    xls_declaring,
    xlsx_declaring_strings,
)

pytestmark = pytest.mark.slow


def _submit(hostile: Hostile, folder: Path, home: DataHome, index: int):  # noqa: ANN202
    """Through a real file when the file system allows the name, else the bytes API."""
    name = hostile.name
    raw = name if isinstance(name, bytes) else os.fsencode(name)
    plain = b"/" not in raw and b"\x00" not in raw and raw not in (b"", b".", b"..")
    if plain:
        target = folder / str(index)
        target.mkdir()
        path = Path(os.fsdecode(os.path.join(os.fsencode(target), raw)))
        try:
            path.write_bytes(hostile.data)
        except OSError:  # a name longer than the file system allows: only an upload has it
            pass
        else:
            return submit_file(path, hostile.unit, hostile.source, home)
    submission_id = receive_bytes(hostile.data, os.fsdecode(raw), hostile.unit, hostile.source,
                                  home)
    return load_step(submission_id, home)


def test_every_hostile_file_ends_in_a_final_receipt(home: DataHome, tmp_path: Path) -> None:
    files = corpus()
    assert len(files) >= 300
    receipts = [_submit(f, tmp_path, home, i) for i, f in enumerate(files)]

    statuses = Counter(r.status for r in receipts)
    assert set(statuses) <= set(STATUSES), statuses
    for hostile, receipt in zip(files, receipts, strict=True):
        if receipt.status == "refused":  # a reason a unit can act on, from the one table
            assert receipt.refusal_reason, hostile.kind
            assert receipt.issues[0].reason in reasons.BY_CODE, hostile.kind
            assert receipt.issues[0].fix_zh, hostile.kind

    with duckdb.connect(str(home.warehouse_file), read_only=True) as con:
        in_flight = con.execute(
            "select count(*) from meta.submission where status not in "
            "('accepted', 'partially_accepted', 'refused', 'duplicate') or feedback_pending"
        ).fetchone()[0]
        assert in_flight == 0
        archived = con.execute("select sha256, archive_path, filename from meta.submission"
                               ).fetchall()
        # the warehouse reconciles with the receipts, submission by submission
        mismatched = con.execute("""
            select s.submission_id from meta.submission s
            left join (select submission_id, count(*) n from raw.roster group by 1) r
                using (submission_id)
            left join (select submission_id, count(*) n from raw.audit_finding group by 1) a
                using (submission_id)
            where coalesce(r.n, 0) + coalesce(a.n, 0) <> s.rows_accepted
               or s.rows_read <> s.rows_accepted + s.rows_quarantined
                  and s.status <> 'refused'
        """).fetchall()
        assert mismatched == []
        refused_rows = con.execute(
            "select count(*) from raw.roster join meta.submission using (submission_id) "
            "where status = 'refused'").fetchone()[0]
        assert refused_rows == 0
        # engineers keep the exception behind refusals that came from one
        with_error = con.execute("select count(*) from meta.submission where error is not null"
                                 ).fetchone()[0]
        assert with_error > 0
    assert len(archived) == len(files)
    for sha, path, filename in archived:  # every original kept, whatever its name
        assert hashlib.sha256(Path(path).read_bytes()).hexdigest() == sha
        assert Path(path).parent.parent == home.archive and len(Path(path).name) <= 64 + 9
        assert "\x00" not in filename and "/" not in filename and len(filename) <= 255
    by_kind = {f.kind: r for f, r in zip(files, receipts, strict=True)}
    assert by_kind["JSON nested 10,000 deep"].issues[0].reason == "too_deep"
    assert by_kind["xlsx entity bomb in sharedStrings"].issues[0].reason == "unsafe_xml"
    assert by_kind["xlsx external entity in sharedStrings"].issues[0].reason == "unsafe_xml"
    assert by_kind["xlsx with no sheets"].issues[0].reason == "no_sheet"
    assert by_kind["xlsx cell at XFD1048576"].issues[0].reason == "too_many_rows"
    assert by_kind["xlsx cell at ZZZ9"].issues[0].reason == "too_many_columns"
    assert by_kind["xlsx stray cell at IV999999"].issues[0].reason == "too_many_cells"
    for kind in ("ods value row repeated 99,990 times to column 256",
                 "xlsx stray cell at IV999999 in a sheet part of another name",
                 "ods value row repeated, mimetype compressed (sniffed as xlsx)",
                 "xlsx stray cell placed by cells without references",
                 "xlsx stray cell reference in single quotes"):
        assert by_kind[kind].issues[0].reason == "too_many_cells", kind
    assert by_kind["xlsx cell with two references"].issues[0].reason == "unreadable_file"
    # an .xls is walked before calamine opens it: these two used to abort the whole process
    assert by_kind["xls declaring 4 billion rows"].issues[0].reason == "too_many_rows"
    assert by_kind["xls cell at row and column 65,536"].issues[0].reason == "too_many_columns"
    # calamine reserves room for the strings a shared-string table declares: this aborted too
    assert by_kind["xlsx sharedStrings declaring 10^15 strings"].issues[0].reason == \
        "unreadable_file"
    assert by_kind["zip bomb (40 MB of zeros in one member)"].issues[0].reason == "zip_bomb"
    assert by_kind["GBK body behind a UTF-8 BOM"].issues[0].reason == "bad_encoding"
    assert by_kind["JSON 5,000-digit number"].issues[0].reason == "number_too_long"
    assert by_kind["Excel-damaged ID column"].issues[0].reason == "id_column_excel_damaged"
    assert by_kind["a 100,000-character cell"].issues[0].reason == "cell_too_long"
    assert by_kind["300 columns"].issues[0].reason == "too_many_columns"
    # names: the bytes are kept and loaded, the name is recorded readably
    assert by_kind["GBK bytes in the name"].filename == "干部名册.csv"
    assert by_kind["250-character name"].status == "accepted"
    assert by_kind["NUL in the name"].filename == "ab.csv"
    assert by_kind["dot-dot in the name"].filename == "passwd.csv"
    # an amount beyond DECIMAL(18,4) is a row issue before load, never a failed cast
    big = by_kind["amount 100000000000"]
    assert big.status == "refused" and big.issues[1].reason == "value_out_of_bounds"


# ---- used ranges too large to build --------------------------------------------------------
# Rows and columns each within their limits, their product not: calamine builds the whole used
# range (about 60 bytes a cell), so these two small files cost 15 GB and 2 GB when they were
# read. They must be refused from their XML, before calamine is asked for anything.

AS_LIMIT = 1536 << 20  # address space of the submitting process: room to refuse, not to build
FAR_FILES = {"xlsx": (far_cell_xlsx, "IV999999 单元格（999999 行 × 256 列）"),
             "ods": (repeated_row_ods, "IV99996 单元格（99996 行 × 256 列）")}


def _submit_with_address_space_limit(path: Path, home: DataHome) -> subprocess.CompletedProcess:
    code = ("import resource, sys\n"
            f"resource.setrlimit(resource.RLIMIT_AS, ({AS_LIMIT}, {AS_LIMIT}))\n"
            "from pipelines.cli.main import app\n"
            "sys.exit(app(sys.argv[1:], standalone_mode=False))\n")
    return subprocess.run([sys.executable, "-c", code, "submit", str(path), "--unit", "ORG",
                           "--source", "roster", "--json"], capture_output=True, text=True,
                          env={**os.environ, "CADRE_HOME": str(home.root)}, timeout=300,
                          check=False)


@pytest.mark.parametrize("suffix", sorted(FAR_FILES))
def test_a_used_range_too_large_is_refused_before_calamine_builds_it(
        home: DataHome, tmp_path: Path, suffix: str) -> None:
    make, far_corner = FAR_FILES[suffix]
    path = tmp_path / f"stray.{suffix}"
    path.write_bytes(make())
    assert path.stat().st_size < 20_000

    done = _submit_with_address_space_limit(path, home)
    assert done.returncode == 1, done.stderr[-2000:]
    receipt = json.loads(done.stdout)
    issue = receipt["issues"][0]
    assert receipt["status"] == "refused" and issue["reason"] == "too_many_cells"
    assert receipt["refusal_reason"] == issue["message_zh"] == \
        f"工作表“干部名册”的使用范围到 {far_corner}，超过 2000 万个单元格的上限"
    assert "删除数据区以外的行和列" in issue["fix_zh"]
    with duckdb.connect(str(home.warehouse_file), read_only=True) as con:
        assert con.execute("select status, rows_read, rows_accepted from meta.submission"
                           ).fetchall() == [("refused", 0, 0)]
        assert con.execute("select count(*) from raw.roster").fetchone() == (0,)


@pytest.mark.parametrize("suffix", sorted(FAR_FILES))
def test_the_cell_limit_is_the_setting_and_a_range_within_it_is_read(
        monkeypatch: pytest.MonkeyPatch, suffix: str) -> None:
    """Lowered, the limit is honoured to the cell: the used range of 12 rows x 20 columns (T12;
    the roster's own rows and a stray number in the last row) is read at 240 cells and
    refused at 239."""
    data = far_cell_xlsx("T12") if suffix == "xlsx" else repeated_row_ods(6, 20)
    known = {normalize_header(h) for h in ROSTER_HEADER}
    monkeypatch.setenv("CADRE_MAX_CELLS", "240")
    table = read_table(data, f"roster.{suffix}", known)
    assert len(table.frame) == 4 + (1 if suffix == "xlsx" else 6)  # the stray rows are rows too
    monkeypatch.setenv("CADRE_MAX_CELLS", "239")
    with pytest.raises(InputRefused) as refused:
        read_table(data, f"roster.{suffix}", known)
    assert refused.value.reason == "too_many_cells"
    assert refused.value.value == "“干部名册”的使用范围到 T12 单元格（12 行 × 20 列）"
    assert refused.value.detail == "239"


def test_an_xls_is_held_to_what_calamine_would_reserve_and_build(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """calamine reserves room for the range a sheet's DIMENSIONS record declares, in 32-bit
    unsigned arithmetic, and builds the range its cells span: both are held to the limits
    before it opens the file, to the cell; a declared range that is honest is read."""
    known = {normalize_header(h) for h in ROSTER_HEADER}
    as_saved = read_table(xls_declaring(7, 11), "roster.xls", known)  # 7 rows x 11 columns
    assert len(as_saved.frame) == 4
    # a last row before the first wraps round to some 4 billion rows
    with pytest.raises(InputRefused) as wrapped:
        read_table(xls_declaring(3, 11, first_row=5), "roster.xls", known)
    assert (wrapped.value.reason, wrapped.value.value) == ("too_many_rows", 2**32 - 2)
    monkeypatch.setenv("CADRE_MAX_CELLS", "77")
    assert len(read_table(xls_declaring(7, 11), "roster.xls", known).frame) == 4
    monkeypatch.setenv("CADRE_MAX_CELLS", "76")
    with pytest.raises(InputRefused) as declared:
        read_table(xls_declaring(7, 11), "roster.xls", known)
    assert declared.value.reason == "too_many_cells"
    assert declared.value.value == "的使用范围到 K7 单元格（7 行 × 11 列）"
    # a cell moved to row 9, column L: the range built runs to it (9 x 12 = 108 cells)
    monkeypatch.setenv("CADRE_MAX_CELLS", "107")
    with pytest.raises(InputRefused) as spanned:
        read_table(xls_cell_at(8, 11), "roster.xls", known)
    assert spanned.value.value == "的使用范围到 L9 单元格（9 行 × 12 列）"
    monkeypatch.setenv("CADRE_MAX_CELLS", "108")
    assert len(read_table(xls_cell_at(8, 11), "roster.xls", known).frame) == 5


@pytest.mark.parametrize("suffix", ["xls", "ods"])
def test_the_sheets_calamine_builds_together_are_held_to_the_cell_limit_together(
        monkeypatch: pytest.MonkeyPatch, suffix: str) -> None:
    """calamine builds every sheet of an .xls or .ods as it opens it (an .xlsx only the sheet
    read), so ten sheets each within the cell limit would cost ten times what one may. The
    .ods: a code-list sheet of 5 x 1 and a data sheet of 62 x 15, 935 cells together; the
    .xls: its code list's first cell moved to A400 (400 x 1), 1,330 together, each sheet
    (the data sheet declaring 62 x 19 = 1,178) within 1,329 alone."""
    from pipelines.contracts import load_contract

    data, total = ((xls_cell_at(399, 0, "assessment_layout.xls", first=True), 1330)
                   if suffix == "xls" else
                   ((FIXTURES / "assessment_layout.ods").read_bytes(), 935))
    known = load_contract("annual_assessment").header_index().keys()
    monkeypatch.setenv("CADRE_MAX_CELLS", str(total))
    assert len(read_table(data, f"assessment.{suffix}", known).frame) > 0
    monkeypatch.setenv("CADRE_MAX_CELLS", str(total - 1))
    with pytest.raises(InputRefused) as refused:
        read_table(data, f"assessment.{suffix}", known)
    assert refused.value.reason == "too_many_cells"
    assert refused.value.value == f"的使用范围合计 {total}个单元格（2 个工作表，打开文件时全部读取）"


def test_a_shared_string_table_is_held_to_the_cell_limit(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every shared string is some cell's text: a table declaring more strings than the cell
    limit allows is refused before calamine reserves room for them; one within it is read."""
    known = {normalize_header(h) for h in ROSTER_HEADER}
    monkeypatch.setenv("CADRE_MAX_CELLS", "100")
    assert len(read_table(xlsx_declaring_strings(100), "roster.xlsx", known).frame) == 4
    with pytest.raises(InputRefused) as refused:
        read_table(xlsx_declaring_strings(101), "roster.xlsx", known)
    assert refused.value.reason == "unreadable_file"
    assert refused.value.detail == "文件已损坏：共享字符串表声明有 101 条，超过 100个单元格的上限"


_VALUE = b'<table:table-cell office:value-type="float" office:value="1"><text:p>1</text:p>' \
    b"</table:table-cell>"


def _row(cells: bytes, repeats: int | None = None) -> bytes:
    repeated = b"" if repeats is None else b' table:number-rows-repeated="%d"' % repeats
    return b"<table:table-row" + repeated + b">" + cells + b"</table:table-row>"


def _empty(n: int) -> bytes:
    return b'<table:table-cell table:number-columns-repeated="%d"/>' % n


ODS_SHAPES = {
    "as saved": b"",
    "a value row repeated": _row(_empty(255) + _VALUE, 999),
    "empty rows between data rows are built": _row(_empty(20), 500) + _row(_VALUE),
    "self-closed empty rows between": b'<table:table-row table:number-rows-repeated="300"/>' +
                                      _row(_VALUE),
    "a repeated text cell": _row(b'<table:table-cell table:number-columns-repeated="40" '
                                 b'office:value-type="string"><text:p>x</text:p>'
                                 b"</table:table-cell>"),
    "a value after empty cells, empty cells after it": _row(_empty(30) + _VALUE + _empty(1000)),
    "covered (merged) cells": _row(b'<table:covered-table-cell '
                                   b'table:number-columns-repeated="50"/>' + _VALUE),
    "a text cell with no text": _row(_empty(60) + b'<table:table-cell '
                                                   b'office:value-type="string"/>'),
    "text with no value type is empty": _row(_empty(70) + b"<table:table-cell><text:p>zz"
                                                          b"</text:p></table:table-cell>"),
    "a date value alone": _row(_empty(80) + b'<table:table-cell office:date-value="2020-01-01"/>'),
    "repeats in single quotes": _row(b"<table:table-cell table:number-columns-repeated='90'/>" +
                                     _VALUE) + b"<table:table-row table:number-rows-repeated="
                                               b"'400'>" + _VALUE + b"</table:table-row>",
}


@pytest.mark.parametrize("shape", sorted(ODS_SHAPES))
def test_the_ods_range_measured_is_the_range_calamine_builds(shape: str) -> None:
    import python_calamine

    data = ods_with_rows(ODS_SHAPES[shape])
    measured = readers.ods_ranges(zipfile.ZipFile(io.BytesIO(data)).read("content.xml"))
    book = python_calamine.CalamineWorkbook.from_filelike(io.BytesIO(data))
    built = []
    for name in book.sheet_names:
        rows = book.get_sheet_by_name(name).to_python(skip_empty_area=False)
        built.append((name, len(rows), max((len(row) for row in rows), default=0)))
    assert measured == built
