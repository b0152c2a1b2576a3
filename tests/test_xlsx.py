"""XLSX drawn one way: tables, widths, frozen header, filter, and no formula injection anywhere.

A unit's file or a person's decision can carry text such as ``=HYPERLINK(...)`` or ``@SUM(...)``.
Every workbook we write must keep it as the text it is (the unit must see the value it sent)
and mark it with Excel's quote prefix, so no spreadsheet evaluates it, even after an edit.
Each writer path is checked on the file it really writes, read back with openpyxl.
"""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path

import duckdb
import pytest
from openpyxl import load_workbook

from pipelines.ingest.feedback import write_feedback
from pipelines.ingest.receipt import Issue, Receipt
from pipelines.publish.export import export_to_xlsx
from pipelines.render.xlsx import (
    FORMULA_PREFIXES,
    is_formula_like,
    open_workbook,
    write_table,
    write_table_workbook,
)
from pipelines.review.data import parse_period
from pipelines.review.decision_drops import RowOutcome, write_result
from pipelines.review.decisions import Decision, add_decider, record_decision
from pipelines.review.followup_report import scan as followup_scan
from pipelines.review.ledger import write_ledger
from pipelines.review.report import write_review
from pipelines.settings import DataHome
from tests.review_scenario import flag_id

# One payload per dangerous first character (rules of OWASP's CSV-injection sheet).
PAYLOADS = ['=HYPERLINK("http://evil.example","点我")', "+1+cmd|' /C calc'!A0", "-2+3",
            "@SUM(A1:A2)", "\t=1+1", "\r=1+1"]
# A CR is stored as OOXML's escape _x000D_, which Excel reads back as CR and openpyxl does not.
READ_BACK = [p.replace("\r", "_x000D_") for p in PAYLOADS]


def _cells(path: Path) -> list:
    book = load_workbook(path)
    return [c for sheet in book.worksheets for row in sheet.iter_rows() for c in row]


def assert_neutralised(path: Path, payloads: list[str]) -> None:
    """No formula cell at all; every payload present as text with the quote prefix; every other
    formula-like text cell quoted as well."""
    cells = _cells(path)
    assert not [c.coordinate for c in cells if c.data_type == "f"]
    texts = {c.value: c for c in cells if isinstance(c.value, str)}
    for payload in payloads:
        read_back = payload.replace("\r", "_x000D_")  # see READ_BACK
        found = [c for v, c in texts.items() if read_back in v]
        assert found, f"{payload!r} not written to {path.name}"
        for cell in found:
            if cell.value.startswith(read_back) and is_formula_like(payload):
                assert cell.data_type == "s" and cell.quotePrefix, (cell.coordinate, cell.value)
    unquoted = [c.coordinate for c in texts.values() if is_formula_like(c.value)
                and not c.quotePrefix]
    assert unquoted == []


def test_every_prefix_is_covered() -> None:
    assert {p[0] for p in PAYLOADS} == set(FORMULA_PREFIXES)
    assert not is_formula_like("中文") and not is_formula_like("1=1") and not is_formula_like("")


def test_table_layout_and_types(tmp_path: Path) -> None:
    path = tmp_path / "t.xlsx"
    rows = [{"姓名": "张三", "得分": 85.5, "日期": date(2025, 3, 5), "说明": p, "通过": True}
            for p in PAYLOADS]
    rows.append({"姓名": "李四", "得分": None, "时间": datetime(2025, 3, 5, 8, 30)})
    write_table_workbook(path, {"名单": rows}, columns=["姓名", "得分", "日期", "时间", "说明", "通过"])
    sheet = load_workbook(path)["名单"]
    assert [c.value for c in sheet[1]] == ["姓名", "得分", "日期", "时间", "说明", "通过"]
    assert sheet.freeze_panes == "A2" and sheet.auto_filter.ref == "A1:F8"
    assert sheet["B2"].value == 85.5 and sheet["B2"].data_type == "n"
    assert sheet["C2"].is_date and sheet["C2"].value.date() == date(2025, 3, 5)
    assert sheet["D8"].value == datetime(2025, 3, 5, 8, 30)
    assert sheet["F2"].value is True
    assert sheet["B8"].value is None and sheet["E8"].value is None  # blanks stay blank
    assert sheet["E2"].alignment.wrap_text and sheet["A1"].font.b
    assert sheet.column_dimensions["E"].width > sheet.column_dimensions["B"].width
    assert [sheet.cell(r, 5).value for r in range(2, 8)] == READ_BACK  # exactly the text sent
    assert_neutralised(path, PAYLOADS)


def test_header_and_sequence_rows_are_neutralised_too(tmp_path: Path) -> None:
    path = tmp_path / "q.xlsx"
    book, fmt = open_workbook(path)
    try:
        write_table(book.add_worksheet("export"), fmt, 0, [(1, PAYLOADS[3])], ["n", "=bad()"])
    finally:
        book.close()
    assert_neutralised(path, ["=bad()", PAYLOADS[3]])


def test_feedback_report(tmp_path: Path) -> None:
    issues = [Issue.make("unknown_code", source_row=n + 3, column="grade", header="考核等次",
                         value=p, codes="优秀、称职") for n, p in enumerate(PAYLOADS)]
    receipt = Receipt(submission_id="S1", unit="ORG", source="annual_assessment",
                      filename="=考核.csv", sha256="0" * 64, status="partially_accepted",
                      rows_read=9, rows_accepted=3, rows_quarantined=6, issues=issues,
                      received_at="2025-03-06 09:00:00")
    xlsx, _ = write_feedback(receipt, tmp_path)
    assert_neutralised(xlsx, [*PAYLOADS, "=考核.csv"])
    values = [r[4] for r in load_workbook(xlsx)["问题清单"].iter_rows(min_row=2, values_only=True)]
    assert values == READ_BACK  # the unit sees exactly the values it sent


def test_decision_drop_result(tmp_path: Path) -> None:
    rows = [RowOutcome("S1", n + 2, p, "认定不适宜担任现职", n % 2 == 0, f"说明{p}")
            for n, p in enumerate(PAYLOADS)]
    path = write_result(rows, tmp_path / "result.xlsx")
    assert_neutralised(path, PAYLOADS)
    sheet = load_workbook(path).active
    assert sheet.freeze_panes == "A4" and sheet.auto_filter.ref == "A3:E9"
    assert [r[3] for r in sheet.iter_rows(min_row=4, values_only=True)] == \
        ["已登记", "未登记"] * 3


@pytest.fixture
def snapshot(tmp_path: Path) -> DataHome:
    """A published snapshot file holding formula-like text (a real DuckDB file)."""
    home = DataHome(tmp_path / "home").ensure()
    home.published_file.parent.mkdir(parents=True, exist_ok=True)
    with duckdb.connect(str(home.published_file)) as con:
        con.execute("create schema marts")
        con.execute("create table marts.note (n integer, text varchar)")
        con.executemany("insert into marts.note values (?, ?)", list(enumerate(PAYLOADS)))
        con.execute("comment on column marts.note.text is '备注'")
    return home


def test_analyst_export(snapshot: DataHome, tmp_path: Path) -> None:
    table = tmp_path / "table.xlsx"
    assert export_to_xlsx(snapshot, "marts.note", table) == len(PAYLOADS)
    assert_neutralised(table, PAYLOADS)
    sheet = load_workbook(table).active
    assert sheet["B1"].comment is not None and sheet.freeze_panes == "A2"
    query = tmp_path / "query.xlsx"
    export_to_xlsx(snapshot, "select '=1+2' as a, text from marts.note", query)
    assert_neutralised(query, ["=1+2", *PAYLOADS])


def test_review_ledger_and_followup_workbooks(built: tuple[DataHome, dict[str, str]]) -> None:
    """The review world (a built warehouse) with decisions whose 决定人 and 文号 look like
    formulas: every report workbook that shows them keeps them as quoted text."""
    home, ids = built
    by, document = "@SUM(A1:A9)", '=HYPERLINK("http://evil.example","文号")'
    with duckdb.connect(str(home.warehouse_file)) as con:
        add_decider(con, by, "=职务")  # a registered decider whose name looks like a formula
        flag = flag_id(con, ids["乙三"], "U1")
        record_decision(con, Decision(flag, "confirm", date(2025, 8, 1), by, "-研究决定"))
        record_decision(con, Decision(flag, "adjust", date(2025, 9, 1), by, "+调整",
                                      document_no=document, measure="调离岗位"))
    review = write_review(home, parse_period("2025H2")).xlsx
    _, ledger, _ = write_ledger(home, "2025")
    _, paths = followup_scan(home, as_of=date(2025, 12, 31))
    followup = next(p for p in paths if p.suffix == ".xlsx")
    assert_neutralised(review, [by])
    assert_neutralised(ledger, [by, document])
    assert_neutralised(followup, [document])
