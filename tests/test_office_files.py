"""Office files as units save them (sources.md, "Formats every source accepts").

The fixtures in tests/fixtures were written by openpyxl and saved by LibreOffice as .xls, .ods
and .xlsx (``python -m tests.fixtures.make_office_fixtures`` regenerates them).
"""

from __future__ import annotations

import shutil
from datetime import date
from pathlib import Path

import duckdb
import pytest

from pipelines.ingest.steps import submit_file
from pipelines.settings import DataHome
from tests.conftest import ROSTER_HEADER, roster_row, write_csv

pytestmark = pytest.mark.integration
FIXTURES = Path(__file__).parent / "fixtures"


def _raw(home: DataHome, sql: str) -> list[tuple]:
    with duckdb.connect(str(home.warehouse_file), read_only=True) as con:
        return con.execute(sql).fetchall()


@pytest.mark.parametrize("suffix", ["xlsx", "xls", "ods"])
def test_each_office_format_loads_the_same_rows(home: DataHome, suffix: str) -> None:
    receipt = submit_file(FIXTURES / f"roster.{suffix}", "ORG", "roster", home)
    assert (receipt.status, receipt.rows_read, receipt.rows_accepted) == ("accepted", 4, 4)
    assert receipt.issues == []
    rows = _raw(home, "select id_number, name, birth_date, on_probation, source_row "
                      "from raw.roster order by source_row")
    assert [r[4] for r in rows] == [3, 4, 5, 6]  # title row 1, header row 2
    assert rows[0][1:4] == ("测试1", __import__("datetime").date(1971, 2, 2), False)


@pytest.mark.parametrize("suffix", ["xlsx", "xls", "ods"])
def test_what_units_put_around_the_data_is_ignored_with_notes(home: DataHome,
                                                              suffix: str) -> None:
    """Hidden code-list sheet in front, two-line header, units row, formula filled down to
    row 60, 合计 row, signature line, formatted empty columns: five rows, no quarantine."""
    receipt = submit_file(FIXTURES / f"assessment_layout.{suffix}", "ORG", "annual_assessment",
                          home)
    assert (receipt.status, receipt.rows_read, receipt.rows_accepted,
            receipt.rows_quarantined) == ("accepted", 5, 5, 0)
    notes = {i.reason: i for i in receipt.issues}
    # (no roster was sent, so the rows are also noted 未匹配: accepted, counted nowhere yet)
    assert set(notes) == {"hidden_sheets_skipped", "two_line_header", "note_row_skipped",
                          "trailer_rows_ignored", "extra_column", "id_unmatched"}
    assert all(i.scope == "note" for i in receipt.issues)
    assert notes["trailer_rows_ignored"].value == "10-62"
    assert "合计行" in notes["trailer_rows_ignored"].message_zh
    assert "签名行" in notes["trailer_rows_ignored"].message_zh
    assert receipt.extra_columns == ["总票数"]  # the formatted empty columns are not reported
    votes = _raw(home, "select votes_excellent, score_integrity from raw.annual_assessment "
                       "order by source_row")
    assert votes[0] == (20, 95)


def test_content_decides_over_the_suffix(home: DataHome, tmp_path: Path) -> None:
    renamed = tmp_path / "名册.xlsx"
    shutil.copy(FIXTURES / "roster.xls", renamed)
    receipt = submit_file(renamed, "ORG", "roster", home)
    assert (receipt.status, receipt.rows_accepted) == ("accepted", 4)
    [note] = [i for i in receipt.issues if i.reason == "read_by_content"]
    assert ".xls" in note.message_zh and "“.xlsx”" in note.message_zh


def test_a_header_not_on_the_visible_sheet_names_sheet_and_rows(home: DataHome,
                                                                tmp_path: Path) -> None:
    from openpyxl import Workbook

    book = Workbook()
    book.active.title = "封面"
    book.active.append(["2025年干部名册", "报送单位：组织部"])
    data = book.create_sheet("名册")
    data.append(ROSTER_HEADER)
    data.append(roster_row(1))
    book.save(tmp_path / "r.xlsx")
    receipt = submit_file(tmp_path / "r.xlsx", "ORG", "roster", home)
    assert receipt.status == "refused" and receipt.issues[0].reason == "no_header"
    assert "工作表“封面”" in receipt.refusal_reason and "前 1 行" in receipt.refusal_reason


def test_missing_columns_name_the_header_row_they_were_read_from(home: DataHome,
                                                                 tmp_path: Path) -> None:
    rows = [[h for h in ROSTER_HEADER if h != "性别"]] + [roster_row(1)[:2] + roster_row(1)[3:]]
    receipt = submit_file(write_csv(tmp_path / "r.csv", rows, title_rows=[["2025年名册"]]),
                          "ORG", "roster", home)
    assert receipt.issues[0].reason == "missing_required_column"
    assert "性别" in receipt.refusal_reason and "第2行" in receipt.refusal_reason


def test_excel_damaged_ids_in_csv(home: DataHome, tmp_path: Path) -> None:
    """One ID saved from a number-formatted column: that row, with the Excel reason; a column
    of them: the whole file, none of its IDs loaded (even damaged ones that pass the check)."""
    one = [ROSTER_HEADER] + [roster_row(n) for n in range(1, 11)]
    damaged = str(one[3][0])[:15] + "000"
    one[3][0] = damaged
    receipt = submit_file(write_csv(tmp_path / "one.csv", one), "ORG", "roster", home)
    [bad] = [i for i in receipt.issues if i.source_row == 4]
    assert (receipt.status, receipt.rows_accepted) == ("partially_accepted", 9)
    assert bad.reason == "id_excel_damaged" and "Excel" in bad.message_zh
    column = [ROSTER_HEADER] + [roster_row(n) for n in range(20, 26)]
    for row in column[1:]:
        row[0] = str(row[0])[:15] + "000"
    receipt = submit_file(write_csv(tmp_path / "all.csv", column), "ORG", "roster", home)
    assert receipt.status == "refused"
    assert receipt.issues[0].reason == "id_column_excel_damaged"
    assert "文本" in receipt.issues[0].fix_zh
    assert _raw(home, "select count(*) from raw.roster where id_number like '%000'") == [(0,)]


def test_a_date_formula_filled_down_is_a_formula_tail_not_bad_rows(home: DataHome,
                                                                    tmp_path: Path) -> None:
    """A date column's formula filled down over empty rows shows day 0: calamine reads the
    xlsx cell as 00:00:00, and Excel saves it into CSV as 1900/1/0. Those rows hold only
    formula results (sources.md): ignored with a note, never quarantined."""
    import xlsxwriter

    path = tmp_path / "名册.xlsx"
    book = xlsxwriter.Workbook(str(path))
    sheet = book.add_worksheet("名册")
    as_date = book.add_format({"num_format": "yyyy-mm-dd"})
    sheet.write_row(0, 0, ROSTER_HEADER)
    for r in (1, 2):
        sheet.write_row(r, 0, [str(v) for v in roster_row(r)])
    birth, appointed = ROSTER_HEADER.index("出生日期"), ROSTER_HEADER.index("任现职时间")
    for r in range(3, 20):  # the formulas as Excel saves them, with their cached result 0
        for col in (birth, appointed):
            sheet.write_formula(r, col, f'=IF(A{r + 1}="",0,A{r + 1})', as_date, 0)
        sheet.write_formula(r, 1, f'=IF(A{r + 1}="","",A{r + 1})', None, "")
    book.close()
    csv_rows = [ROSTER_HEADER, roster_row(3), roster_row(4)]
    for day0 in ("1900/1/0", "1900-01-00", "1900年1月0日"):
        csv_rows.append(["" if h not in ("出生日期", "任现职时间") else day0
                         for h in ROSTER_HEADER])
    for file, unit_rows in ((path, "4-20"), (write_csv(tmp_path / "名册.csv", csv_rows), "4-6")):
        receipt = submit_file(file, "ORG", "roster", home)
        assert (receipt.status, receipt.rows_accepted, receipt.rows_quarantined) == (
            "accepted", 2, 0), [i.message_zh for i in receipt.issues]
        [note] = receipt.issues
        assert (note.reason, note.value) == ("trailer_rows_ignored", unit_rows)
        assert "公式或空值行" in note.message_zh


def test_data_rows_whose_text_mentions_a_signature_or_total_word_are_data(
        home: DataHome, tmp_path: Path) -> None:
    """The last findings of a file, described as 对分管负责人监督不力 or 合计报销超标…, were taken
    for a signature line and a total row and dropped with a note: a serious finding never
    loaded. A real 合计 row and signature line below them are still ignored."""
    from tests.conftest import valid_id

    header = ["问题编号", "巡视轮次", "被巡视单位", "责任人身份证号", "责任人姓名", "问题类别",
              "问题描述", "严重程度", "责任类型", "发现日期", "整改状态"]

    def finding(n: int, described: str, id_number: str = "") -> list[object]:
        return [f"XS-{n}", "2025年第一轮", "市水务局", id_number, "", "不担当不作为", described,
                "严重", "直接责任", "2025-04-02", "未整改"]

    rows = [header, finding(1, "调研走过场", valid_id(1)),
            finding(2, "对分管负责人监督不力，联系人制度未落实", valid_id(2)),
            finding(3, "合计报销超标费用3.2万元", valid_id(3)),
            finding(4, "负责人：未明确整改责任人"),  # no ID; a signature line starts with its label
            ["合计", "", "", "", "", "", "", "", "", "", ""],
            ["填表人：王五　　审核人：赵六　　联系电话：0371-12345678"] + [""] * 10]
    receipt = submit_file(write_csv(tmp_path / "巡察.csv", rows), "INS", "inspection_finding",
                          home)
    assert (receipt.status, receipt.rows_read, receipt.rows_accepted) == ("accepted", 4, 4)
    [note] = [i for i in receipt.issues if i.reason == "trailer_rows_ignored"]
    assert note.value == "6-7", note.message_zh
    assert sorted(r[0] for r in _raw(home, "select finding_id from raw.inspection_finding")) == [
        "XS-1", "XS-2", "XS-3", "XS-4"]


def test_a_partly_damaged_id_column_is_refused_whole(home: DataHome, tmp_path: Path) -> None:
    """15 of 100 IDs ending in 000 (15 times in a hundred what genuine IDs give once in a
    thousand): the column was damaged, so the file is refused and none of its IDs loaded. With
    the former share test (a fifth of the column) the rows loaded, among them a damaged ID
    whose digits happen to pass the check. Genuine IDs ending in 000 still load."""
    from pipelines.ingest import idcard

    def assessment(ids: list[str]) -> Path:
        rows = [["身份证号", "姓名", "考核年度", "考核等次"]]
        rows += [[i, f"干部{n}", "2025", "称职"] for n, i in enumerate(ids)]
        return write_csv(tmp_path / f"考核{len(ids)}.csv", rows)

    ids = [str(roster_row(n)[0]) for n in range(100)]
    damaged = [i[:15] + "000" for i in ids[:15]]
    assert any(idcard.problem(d) is None for d in damaged)  # one passes the check
    receipt = submit_file(assessment(damaged + ids[15:]), "ORG", "annual_assessment", home)
    assert (receipt.status, receipt.issues[0].reason) == ("refused", "id_column_excel_damaged")
    assert "15 个身份证号" in receipt.issues[0].message_zh
    assert _raw(home, "select count(*) from raw.annual_assessment") == [(0,)]
    genuine = [i for i in (idcard.make("110105", date(1975, 5, 5), s)
                           for s in range(1000)) if i.endswith("000")]
    assert genuine  # a sequence whose check digit is 0
    spread = [idcard.make("110105", date(1976, 6, 6), s) for s in range(200)]
    receipt = submit_file(assessment(genuine + spread), "ORG", "annual_assessment", home)
    assert receipt.status == "accepted", receipt.reasons
