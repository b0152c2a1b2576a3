"""Spliced tables (``pipelines.render.xlsx_splice``): the same file as xlsxwriter writes, faster.

The oracle is xlsxwriter itself: the same table written cell by cell and spliced must give the
same parts, byte for byte (only the zip's compression differs), with hostile values. Then the
feedback report's issue list, written the spliced way, is read back with both readers units'
files meet (python-calamine, as our ingest reads; openpyxl) and compared cell for cell.
"""

from __future__ import annotations

import re
import zipfile
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from openpyxl import load_workbook
from python_calamine import CalamineWorkbook

from pipelines.ingest.feedback import ISSUE_COLUMNS, SCOPE_ZH, build_report, write_feedback
from pipelines.ingest.receipt import Issue, Receipt
from pipelines.render.xlsx import (
    FORMULA_PREFIXES,
    open_workbook,
    write_fields,
    write_lines,
    write_table,
    write_title,
)
from pipelines.render.xlsx_splice import CHUNK_ROWS

# Each is something a unit's file can hold and a careless writer would get wrong.
HOSTILE = [
    '=HYPERLINK("http://evil.example","点我")', "+1+cmd|' /C calc'!A0", "-2+3", "@SUM(A1:A2)",
    "\t=1+1", "\r=1+1", "=cmd",
    "a\x00b\x01c\x08d\x0be\x1ff",  # control characters XML cannot hold
    "_x0041_ stays literal",  # Excel's own escape, written as text
    "x\r\ny\tz", "  前后空格  ", "\u3000全角空格", "尾部换行\n",
    "a & b < c > d \"e\" 'f'", "]]><script>", "\ufffe\uffff", "😀 emoji", "中文：身份证号“110101”",
    "长" * 20_000,  # over Excel's 32,767 characters once doubled below
    "x" * 40_000, "😀" * 20_000,  # cut at 32,767 UTF-16 units, never inside a character
]


def _sheet_deflated_size(path: Path, sheet: int = 2) -> int:
    with zipfile.ZipFile(path) as z:
        return z.getinfo(f"xl/worksheets/sheet{sheet}.xml").compress_size


def _parts(path: Path) -> list[tuple[str, bytes]]:
    """The package's parts in order; the creation time (to the second) blanked."""
    with zipfile.ZipFile(path) as z:
        return [(name, b"" if name == "docProps/core.xml" else z.read(name))
                for name in z.namelist()]


def _write(path: Path, rows: list, columns: list[str], *, spliced: bool,
           summary_first: bool = True) -> list[tuple[str, bytes]]:
    """A workbook shaped like the feedback report: a form sheet, then one table sheet."""
    book, fmt = open_workbook(path, constant_memory=True)
    try:
        if summary_first:
            sheet = book.add_worksheet("概要")
            write_title(sheet, fmt, 0, "标题")
            write_fields(sheet, fmt, 2, [("文件名", "=evil.xlsx"), ("处理结果", "部分接收")],
                         tones={"处理结果": "warn"})
            write_lines(sheet, fmt, 5, ["第一行", "第二行"])
        write_table(book.add_worksheet("问题清单"), fmt, 0, rows, columns,
                    widths={columns[0]: 6}, spliced=spliced)
    finally:
        book.close()
    return _parts(path)


def _hostile_rows() -> list[tuple]:
    rows: list[tuple] = []
    for n, text in enumerate(HOSTILE, start=1):
        rows.append((n, text, n * 1.5, None, "", text * 2 if len(text) < 20_000 else text))
    rows += [(len(rows) + 1, True, 2.5, float("nan"), 10**17, "1.0")]
    return rows


@pytest.mark.parametrize("summary_first", [True, False])
def test_spliced_parts_equal_xlsxwriter_parts(tmp_path: Path, summary_first: bool) -> None:
    columns = ["序号", "值", "数", "空", "空串", "长"]
    rows = _hostile_rows()
    plain = _write(tmp_path / "plain.xlsx", rows, columns, spliced=False,
                   summary_first=summary_first)
    spliced = _write(tmp_path / "spliced.xlsx", rows, columns, spliced=True,
                     summary_first=summary_first)
    assert [n for n, _ in spliced] == [n for n, _ in plain]
    assert [n for n, d in spliced if d != dict(plain)[n]] == []
    # the same bytes, deflated at the splice's own level: the splice wrote them
    sheet = 2 if summary_first else 1
    assert _sheet_deflated_size(tmp_path / "spliced.xlsx", sheet) != \
        _sheet_deflated_size(tmp_path / "plain.xlsx", sheet)


def _bulk_rows() -> list[tuple]:
    """Rows over several of the splice's chunks: long runs of plain text and whole numbers (its
    column-at-once path), with the hostile values and odd numbers dropped into some chunks, and
    a column holding one text per chunk (written into the chunk's row template): with braces,
    formula-like, with an XML special, empty."""
    rows: list[tuple] = []
    same = ["提示 {0} {x} }{", "=1+1", "a & b < c", ""]
    odd_numbers = [10**15, -(10**15), 10**15 - 1, -(10**15) + 1, 0, -7, 2.5, True]
    for n in range(1, 3 * CHUNK_ROWS + 7):
        text, number = f"第{n}行：身份证号“11010119800101{n % 10000:04d}”", n
        if n % 997 == 0:
            text = HOSTILE[(n // 997) % len(HOSTILE)][:1000]
        if n % 1501 == 0:
            number = odd_numbers[(n // 1501) % len(odd_numbers)]
        rows.append((n, text, number, "未匹配" if n % 2 else "身份存疑", "" if n == 4500 else "x",
                     same[(n - 1) // CHUNK_ROWS % len(same)]))
    return rows


def test_bulk_spliced_parts_equal_xlsxwriter_parts(tmp_path: Path) -> None:
    columns = ["序号", "值", "数", "类", "空串", "同"]
    rows = _bulk_rows()
    plain = _write(tmp_path / "plain.xlsx", rows, columns, spliced=False)
    spliced = _write(tmp_path / "spliced.xlsx", rows, columns, spliced=True)
    assert [n for n, d in spliced if d != dict(plain)[n]] == []
    assert [n for n, _ in spliced] == [n for n, _ in plain]


def test_formula_like_first_cell_keeps_style_order(tmp_path: Path) -> None:
    """The quote-prefixed style is numbered first when the first data cell is formula-like."""
    rows = [("=1+1", 1), ("text", 2), ("@x", None)]
    plain = _write(tmp_path / "plain.xlsx", rows, ["a", "b"], spliced=False, summary_first=False)
    spliced = _write(tmp_path / "spliced.xlsx", rows, ["a", "b"], spliced=True,
                     summary_first=False)
    assert spliced == plain


def test_rich_text_lookalike_is_escaped(tmp_path: Path) -> None:
    """xlsxwriter's constant_memory mode writes '<r>...</r>' as raw XML; the splice escapes it."""
    value = "<r><t>伪造</t></r>"
    _write(tmp_path / "t.xlsx", [(1, value)], ["序号", "值"], spliced=True)
    sheet = CalamineWorkbook.from_path(str(tmp_path / "t.xlsx")).get_sheet_by_name("问题清单")
    assert sheet.to_python()[1][1] == value
    assert load_workbook(tmp_path / "t.xlsx")["问题清单"]["B2"].value == value


def test_a_spliced_table_must_be_last_on_its_sheet(tmp_path: Path) -> None:
    book, fmt = open_workbook(tmp_path / "t.xlsx", constant_memory=True)
    sheet = book.add_worksheet("t")
    end = write_table(sheet, fmt, 0, [(1, "a"), (2, "b")], ["n", "v"], spliced=True)
    write_lines(sheet, fmt, end, ["below the table"])
    with pytest.raises(ValueError, match="last thing"):
        book.close()
    assert list(tmp_path.iterdir()) == []  # no half-written workbook left


@pytest.mark.parametrize("odd", [date(2024, 1, 2), Decimal("2.50"), float("inf")])
def test_other_values_fall_back_to_xlsxwriter(tmp_path: Path, odd: object) -> None:
    rows = [(1, "x" * 500), (2, odd)]
    try:
        plain = _write(tmp_path / "plain.xlsx", rows, ["n", "v"], spliced=False)
    except TypeError as refused:  # xlsxwriter refuses an infinity; so must the spliced table
        with pytest.raises(TypeError, match=str(refused)[:20]):
            _write(tmp_path / "spliced.xlsx", rows, ["n", "v"], spliced=True)
        return
    assert _write(tmp_path / "spliced.xlsx", rows, ["n", "v"], spliced=True) == plain
    assert _sheet_deflated_size(tmp_path / "spliced.xlsx") == \
        _sheet_deflated_size(tmp_path / "plain.xlsx")


def _read_back_calamine(path: Path) -> list[list]:
    return CalamineWorkbook.from_path(str(path)).get_sheet_by_name("问题清单").to_python()


def test_feedback_issue_sheet_reads_back_cell_for_cell(tmp_path: Path) -> None:
    values = [v for v in HOSTILE if len(v) < 20_000] + ["长" * 16_000]
    issues = [Issue.make("id_unmatched", source_row=n + 2, column="id_number", header="身份证号",
                         value=v) for n, v in enumerate(values)]
    issues += [Issue.make("bad_date", source_row=n + 2, column="birth_date", header="出生日期",
                          value=v) for n, v in enumerate(values)]
    issues.append(Issue.make("extra_column", value="=多余列"))
    receipt = Receipt(submission_id="S1", unit="U01", source="annual_assessment",
                      filename="=evil.csv", sha256="0" * 64, status="partially_accepted",
                      rows_read=len(values), rows_accepted=1, rows_quarantined=len(values) - 1,
                      issues=issues, received_at="2026-01-01T08:00:00")
    xlsx = write_feedback(receipt, tmp_path)[0]
    report = build_report(receipt)
    expected = [[float(i.number), SCOPE_ZH[i.scope],
                 float(i.row) if i.row is not None else i.row_zh, i.column, i.value, i.message,
                 i.fix, i.reason] for i in report.problems + report.notes]
    assert len(expected) == len(issues)

    # calamine reads Excel's _xHHHH_ escapes back (as Excel does), except the non-characters
    got = _read_back_calamine(xlsx)
    assert got[0] == list(ISSUE_COLUMNS)
    unescaped = [[c.replace("\ufffe", "_xFFFE_").replace("\uffff", "_xFFFF_")
                  if isinstance(c, str) else c for c in row] for row in expected]
    assert got[1:] == unescaped

    # openpyxl leaves the escapes as written; and every formula-like text is quote-prefixed
    sheet = load_workbook(xlsx)["问题清单"]
    read = [[c.value for c in row] for row in sheet.iter_rows(min_row=2)]
    escaped = [[_openpyxl_view(c) for c in row] for row in expected]
    assert read == escaped
    for row in sheet.iter_rows(min_row=2):
        for cell in row:
            text = cell.value if isinstance(cell.value, str) else ""
            assert cell.quotePrefix == (text.startswith(FORMULA_PREFIXES)
                                        or text.startswith("_x000D_")), cell.coordinate
            assert cell.data_type != "f"
    assert sheet.auto_filter.ref == f"A1:H{len(expected) + 1}"
    assert sheet.freeze_panes == "A2"
    assert sheet.page_setup.paperSize == 9 and sheet.page_setup.orientation == "landscape"
    assert sheet.column_dimensions["F"].width == pytest.approx(50.71, abs=0.01)


def _openpyxl_view(value: object) -> object:
    """A cell as openpyxl reads what xlsxwriter wrote: '' is a blank, control characters and a
    literal _xHHHH_ stay in Excel's escape."""
    if not isinstance(value, str):
        return value
    if value == "":
        return None
    out = re.sub("(_x[0-9a-fA-F]{4}_)", r"_x005F\1", value)
    out = re.sub("[\x00-\x08\x0b-\x1f]", lambda m: f"_x{ord(m.group()):04X}_", out)
    return out.replace("\ufffe", "_xFFFE_").replace("\uffff", "_xFFFF_")
