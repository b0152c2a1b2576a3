"""Feedback reports rendered from real receipts, read back as a unit would see them."""

from __future__ import annotations

import re
from pathlib import Path

from openpyxl import load_workbook

from pipelines.ingest import feedback
from pipelines.ingest.feedback import ISSUE_COLUMNS, write_feedback
from pipelines.ingest.receipt import Issue, Receipt

SHA = "0123456789abcdef" * 4


def _refused() -> Receipt:
    issue = Issue.make("missing_required_column", value="身份证号、姓名")
    return Receipt(submission_id="S20250305-0001", unit="ORG", source="roster",
                   filename="2025年干部名册.xlsx", sha256=SHA, status="refused",
                   refusal_reason=issue.message_zh, reasons=[issue.message_zh], issues=[issue],
                   received_at="2025-03-05 10:15:00", finished_at="2025-03-05T10:15:02")


def _partial() -> Receipt:
    issues = [
        Issue.make("extra_column", value="联系电话"),
        Issue.make("id_excel_mangled", source_row=7, column="id_number", header="身份证号",
                   value="4.10105E+17"),
        Issue.make("bad_decimal", source_row=3, column="score_virtue", header="德",
                   value="=1+1"),
        Issue.make("unknown_code", source_row=3, column="grade", header="考核等次",
                   value="<script>alert(1)</script>", codes="优秀、称职、不称职"),
        Issue.make("required_missing", source_row=12, column="year"),
    ]
    return Receipt(submission_id="S20250306-0002", unit="ORG", source="annual_assessment",
                   filename="考核结果.csv", sha256=SHA, status="partially_accepted",
                   rows_read=20, rows_accepted=17, rows_quarantined=3,
                   reasons=["考核等次：值不在代码表中"], issues=issues,
                   extra_columns=["联系电话", "籍贯"], received_at="2025-03-06 09:00:00")


def _accepted() -> Receipt:
    return Receipt(submission_id="S20250307-0003", unit="DIS", source="sanction",
                   filename="处分.xlsx", sha256=SHA, status="accepted", rows_read=10,
                   rows_accepted=10, received_at="2025-03-07 08:30:00")


def _summary(path: Path) -> dict[str, str]:
    sheet = load_workbook(path)["概要"]
    return {r[0]: r[1] for r in sheet.iter_rows(values_only=True) if r[0] and r[1] is not None}


def _issue_rows(path: Path) -> list[tuple]:
    sheet = load_workbook(path)["问题清单"]
    return list(sheet.iter_rows(values_only=True))


def test_file_names_and_outputs(tmp_path: Path) -> None:
    out = tmp_path / "outbox" / "ORG"
    paths = write_feedback(_refused(), out)
    assert [p.name for p in paths] == ["S20250305-0001_roster_反馈.xlsx",
                                       "S20250305-0001_roster_反馈.html"]
    assert all(p.parent == out and p.stat().st_size > 0 for p in paths)


def test_refused(tmp_path: Path) -> None:
    xlsx, html_path = write_feedback(_refused(), tmp_path)
    summary = _summary(xlsx)
    assert summary["报送单位"] == "组织部（ORG）"
    assert summary["数据类别"] == "干部名册（roster）"
    assert summary["文件名"] == "2025年干部名册.xlsx"
    assert summary["提交编号"] == "S20250305-0001"
    assert summary["SHA-256"] == SHA
    assert summary["接收时间"] == "2025-03-05 10:15:00"
    assert summary["处理完成时间"] == "2025-03-05 10:15:02"
    assert summary["处理结果"] == "拒收"
    assert summary["拒收原因"] == "缺少必填列：身份证号、姓名"
    assert (summary["读取行数"], summary["接收行数"], summary["隔离行数"]) == ("0", "0", "0")
    rows = _issue_rows(xlsx)
    assert rows[0] == ISSUE_COLUMNS
    assert rows[1][1:4] == ("文件问题", "整个文件", None)
    assert rows[1][5] == "缺少必填列：身份证号、姓名"
    assert rows[1][7] == "missing_required_column"
    html = html_path.read_text(encoding="utf-8")
    assert "拒收" in html and "缺少必填列：身份证号、姓名" in html
    assert "整体拒收" in html and "如何修改后重新报送" in html
    assert "<h2>提示</h2>" not in html


def test_partially_accepted(tmp_path: Path) -> None:
    xlsx, html_path = write_feedback(_partial(), tmp_path)
    summary = _summary(xlsx)
    assert summary["处理结果"] == "部分接收"
    assert (summary["读取行数"], summary["接收行数"], summary["隔离行数"]) == ("20", "17", "3")
    assert "拒收原因" not in summary
    assert "行问题 4 项（涉及 3 行）" in summary["问题统计"]
    assert "提示 2 项" in summary["问题统计"]

    workbook = load_workbook(xlsx)
    sheet = workbook["问题清单"]
    assert sheet.freeze_panes == "A2"
    assert sheet.auto_filter.ref and sheet.auto_filter.ref.startswith("A1:H")
    rows = list(sheet.iter_rows(values_only=True))[1:]
    # rows by row number, within a row by contract column order; notes last
    assert [(r[2], r[3], r[7]) for r in rows] == [
        (3, "考核等次", "unknown_code"),
        (3, "德", "bad_decimal"),
        (7, "身份证号", "id_excel_mangled"),
        (12, "考核年度", "required_missing"),
        ("—", None, "extra_column"),
        ("—", None, "extra_column"),
    ]
    assert [r[0] for r in rows] == [1, 2, 3, 4, 5, 6]
    assert [r[1] for r in rows] == ["行问题"] * 4 + ["提示"] * 2
    assert [r[4] for r in rows[4:]] == ["联系电话", "籍贯"]
    assert rows[2][4] == "4.10105E+17"
    assert "已被 Excel 转成数字" in rows[2][5] and "文本" in rows[2][6]
    formula_cell = sheet.cell(row=3, column=5)
    assert formula_cell.value == "=1+1" and formula_cell.data_type == "s"

    html = html_path.read_text(encoding="utf-8")
    assert "部分接收" in html
    assert "<script>alert(1)</script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "<script" not in html
    problems, notes = html.split("<h2>提示</h2>")
    assert "id_excel_mangled" not in html  # reason codes are for the XLSX filter, not the reader
    assert problems.index("&lt;script&gt;") < problems.index("4.10105E+17")
    assert "籍贯" in notes and "联系电话" in notes and "籍贯" not in problems
    assert "17 行并入库" in html and "3 行未通过校验" in html


def test_accepted_clean(tmp_path: Path) -> None:
    xlsx, html_path = write_feedback(_accepted(), tmp_path)
    summary = _summary(xlsx)
    assert summary["报送单位"] == "纪委监委（DIS）"
    assert summary["数据类别"] == "处分与组织处理（sanction）"
    assert summary["处理结果"] == "全部接收"
    assert (summary["读取行数"], summary["接收行数"], summary["隔离行数"]) == ("10", "10", "0")
    assert _issue_rows(xlsx) == [ISSUE_COLUMNS]
    html = html_path.read_text(encoding="utf-8")
    assert "全部接收" in html and "无需重新报送" in html
    assert re.search(r"<h2>问题清单</h2>\s*<p>无。</p>", html)


def test_duplicate(tmp_path: Path) -> None:
    receipt = _accepted()
    receipt.submission_id, receipt.status, receipt.duplicate_of = \
        "S20250308-0004", "duplicate", "S20250307-0003"
    xlsx, html_path = write_feedback(receipt, tmp_path)
    summary = _summary(xlsx)
    assert summary["处理结果"] == "重复报送（未重复入库）"
    assert "S20250307-0003" in summary["重复报送"]
    assert "重复报送（未重复入库）" in html_path.read_text(encoding="utf-8")


def test_snapshot_source_asks_for_the_whole_file(tmp_path: Path) -> None:
    receipt = _partial()
    receipt.source = "roster"
    receipt.issues = [i for i in receipt.issues if i.column in (None, "id_number")]
    html = write_feedback(receipt, tmp_path)[1].read_text(encoding="utf-8")
    assert "全量报送" in html
    html = write_feedback(_partial(), tmp_path)[1].read_text(encoding="utf-8")
    assert "全量报送" not in html


def test_unknown_unit_and_source_still_render(tmp_path: Path) -> None:
    issue = Issue.make("source_unknown", value="../秘密", detail="roster、sanction")
    receipt = Receipt(submission_id="S1", unit="XYZ", source="../秘密", filename="a.xlsx",
                      sha256=SHA, status="refused", refusal_reason=issue.message_zh,
                      issues=[issue])
    xlsx, html_path = write_feedback(receipt, tmp_path / "out")
    assert xlsx.parent == tmp_path / "out" and html_path.parent == tmp_path / "out"
    assert "/" not in xlsx.name[len("S1"):]
    summary = _summary(xlsx)
    assert summary["报送单位"] == "XYZ"
    assert summary["数据类别"] == "../秘密"
    assert "接收时间" not in summary  # no time recorded: the cell stays blank


def test_html_is_self_contained(tmp_path: Path) -> None:
    html = write_feedback(_partial(), tmp_path)[1].read_text(encoding="utf-8")
    assert html.startswith("<!DOCTYPE html>")
    assert '<meta charset="utf-8">' in html and "<style>" in html and "@media print" in html
    for external in ("<link", "src=", "http://", "https://", "@import", "url("):
        assert external not in html


def test_html_caps_a_huge_issue_list(tmp_path: Path) -> None:
    total = feedback.HTML_ISSUE_LIMIT + 5
    receipt = _partial()
    receipt.issues = [Issue.make("unknown_code", source_row=row, column="grade",
                                 header="考核等次", value=f"等次{row}", codes="优秀、称职")
                      for row in range(2, total + 2)]
    receipt.rows_read = receipt.rows_quarantined = total
    receipt.rows_accepted = 0
    xlsx, html_path = write_feedback(receipt, tmp_path)
    html = html_path.read_text(encoding="utf-8")
    assert f"共 {total} 项，此处仅列出前 {feedback.HTML_ISSUE_LIMIT} 项" in html
    assert f"等次{total + 1}" not in html  # the last rows are only in the workbook
    assert len(_issue_rows(xlsx)) == 1 + total + 2  # header, every issue, two extra columns
