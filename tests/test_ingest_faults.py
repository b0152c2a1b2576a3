"""Each kind of bad input gets its outcome, a message naming row and column, and loses nothing."""

from __future__ import annotations

import hashlib
from datetime import date
from pathlib import Path

import duckdb
import pytest

from pipelines.ingest.errors import EnvironmentFault
from pipelines.ingest.receipt import Receipt
from pipelines.ingest.steps import receive_bytes, receive_step, submit_file
from pipelines.orchestration.alerts import alert_record
from pipelines.settings import DataHome
from tests.conftest import ROSTER_HEADER, roster_row, valid_id, write_csv, write_xlsx

_ID1 = str(roster_row(1)[0])


def _issue(receipt: Receipt, row: int) -> tuple[str, str | None]:
    found = [(i.reason, i.column) for i in receipt.issues if i.source_row == row]
    assert len(found) == 1, found
    return found[0]


def _count(home: DataHome, sql: str) -> int:
    with duckdb.connect(str(home.warehouse_file), read_only=True) as con:
        return con.execute(sql).fetchone()[0]


@pytest.mark.parametrize(("override", "reason", "column"), [
    ({"身份证号": _ID1[:17] + ("0" if _ID1[17] != "0" else "1")}, "id_bad_checksum", "id_number"),
    ({"身份证号": "4.10105E+17"}, "id_excel_mangled", "id_number"),
    ({"身份证号": "11010519800101"}, "id_bad_format", "id_number"),
    ({"出生日期": "1999-09-09"}, "birth_date_mismatch", "birth_date"),
    ({"职务层次": "处长"}, "unknown_code", "post_level"),
    ({"任现职时间": "去年春天"}, "bad_date", "appointed_on"),
    ({"是否试用期": "也许"}, "bad_bool", "on_probation"),
    ({"姓名": ""}, "required_missing", "name"),
])
def test_row_fault_quarantines_that_row_only(home: DataHome, tmp_path: Path, override: dict,
                                             reason: str, column: str) -> None:
    rows = [ROSTER_HEADER, roster_row(2), roster_row(1, **override), roster_row(3)]
    receipt = submit_file(write_csv(tmp_path / "r.csv", rows), "ORG", "roster", home)
    assert receipt.status == "partially_accepted"
    assert (receipt.rows_read, receipt.rows_accepted, receipt.rows_quarantined) == (3, 2, 1)
    assert _issue(receipt, 3) == (reason, column)
    message = next(i for i in receipt.issues if i.source_row == 3)
    assert message.locate_zh().startswith("第3行“")  # names row and column for the unit
    # nothing lost: the quarantined row's text is kept, the good rows loaded
    assert _count(home, "select count(*) from meta.quarantined_row where source_row = 3") == 1
    assert _count(home, "select count(*) from raw.roster") == 2


def test_xlsx_numeric_id_cell_is_rejected_not_truncated(home: DataHome, tmp_path: Path) -> None:
    numeric = roster_row(1, 身份证号=410105198001011000)
    path = write_xlsx(tmp_path / "r.xlsx", [ROSTER_HEADER, numeric, roster_row(2)])
    receipt = submit_file(path, "ORG", "roster", home)
    assert _issue(receipt, 2) == ("id_excel_mangled", "id_number")
    assert "科学计数法" in receipt.issues[0].message_zh
    assert receipt.rows_accepted == 1


def test_negative_count_and_score_over_100_are_out_of_range(home: DataHome, tmp_path: Path
                                                            ) -> None:
    header = ["身份证号", "姓名", "考核年度", "考核等次", "优秀票", "德"]
    rows = [header, [valid_id(1), "甲", "2025", "称职", "-2", "80"],
            [valid_id(2), "乙", "2025", "称职", "3", "101"], [valid_id(3), "丙", "2025", "优秀", "", ""]]
    receipt = submit_file(write_csv(tmp_path / "a.csv", rows), "ORG", "annual_assessment", home)
    assert _issue(receipt, 2) == ("out_of_range", "votes_excellent")
    assert _issue(receipt, 3) == ("out_of_range", "score_virtue")
    assert receipt.rows_accepted == 1


def test_duplicate_key_within_file_quarantines_both_rows(home: DataHome, tmp_path: Path) -> None:
    header = ["身份证号", "姓名", "考核年度", "考核等次"]
    rows = [header, [valid_id(1), "甲", "2025", "称职"], [valid_id(1), "甲", "2025年", "优秀"],
            [valid_id(1), "甲", "2024", "称职"]]
    receipt = submit_file(write_csv(tmp_path / "a.csv", rows), "ORG", "annual_assessment", home)
    assert {i.source_row for i in receipt.issues if i.reason == "duplicate_key"} == {2, 3}
    assert receipt.rows_accepted == 1


def test_conditional_requirements(home: DataHome, tmp_path: Path) -> None:
    header = ["件号", "被反映人身份证号", "被反映人姓名", "反映问题类别", "受理日期", "办结日期",
              "核查结论", "处置方式"]
    rows = [header,
            ["X1", valid_id(1), "甲", "作风问题", "2025-01-01", "2025-02-01", "", "初步核实"],
            ["X2", valid_id(2), "乙", "作风问题", "2025-01-01", "", "", "暂存待查"]]
    receipt = submit_file(write_csv(tmp_path / "p.csv", rows), "PET", "petition_verification",
                          home)
    assert _issue(receipt, 2) == ("required_if_missing", "conclusion")
    assert "办结日期" in next(i for i in receipt.issues if i.source_row == 2).message_zh
    assert receipt.rows_accepted == 1


def test_unparseable_amount(home: DataHome, tmp_path: Path) -> None:
    header = ["审计项目编号", "问题序号", "被审计人身份证号", "被审计人姓名", "审计类型", "问题类别",
              "涉及金额(万元)", "责任类型", "报告日期"]
    base = [valid_id(1), "张某", "专项审计", "其他"]
    rows = [header, ["A", "1", *base, "约100", "直接责任", "2025-01-01"],
            ["A", "2", *base, "100", "直接责任", "2025-01-01"]]
    receipt = submit_file(write_csv(tmp_path / "u.csv", rows), "AUD", "audit_finding", home)
    assert _issue(receipt, 2) == ("bad_decimal", "amount_wan")


@pytest.mark.parametrize(("unit", "content", "name", "reason"), [
    ("AUD", None, "r.csv", "unit_not_allowed"),
    ("ORG", b"PK\x03\x04 this is not really a workbook", "r.xlsx", "unreadable_file"),
    ("ORG", "身份证号,姓名,性别\n".encode(), "r.csv", "missing_required_column"),
    ("ORG", (",".join(ROSTER_HEADER) + "\n").encode(), "r.csv", "no_rows"),
    ("ORG", b"a;b;c\n1;2;3\n", "r.csv", "no_header"),
    ("ORG", b"%PDF-1.4\n", "r.pdf", "unsupported_format"),
])
def test_whole_file_problems_refuse_and_load_nothing(home: DataHome, tmp_path: Path, unit: str,
                                                     content: bytes | None, name: str,
                                                     reason: str) -> None:
    path = tmp_path / name
    if content is None:
        write_csv(path, [ROSTER_HEADER, roster_row(1)])
    else:
        path.write_bytes(content)
    receipt = submit_file(path, unit, "roster", home)
    assert receipt.status == "refused"
    assert [i.reason for i in receipt.issues] == [reason]
    assert receipt.refusal_reason
    assert _count(home, "select count(*) from raw.roster") == 0
    # the original bytes are archived untouched even when refused
    archived = Path(next(iter(duckdb.connect(str(home.warehouse_file), read_only=True).execute(
        "select archive_path from meta.submission").fetchone())))
    assert archived.read_bytes() == path.read_bytes()


def test_all_rows_bad_is_refused(home: DataHome, tmp_path: Path) -> None:
    rows = [ROSTER_HEADER, roster_row(1, 性别="未知"), roster_row(2, 性别="?")]
    receipt = submit_file(write_csv(tmp_path / "r.csv", rows), "ORG", "roster", home)
    assert receipt.status == "refused"
    assert (receipt.rows_read, receipt.rows_accepted, receipt.rows_quarantined) == (2, 0, 2)
    assert _count(home, "select count(*) from meta.quarantined_row") == 2


def test_resent_identical_bytes_are_a_no_op(home: DataHome, tmp_path: Path) -> None:
    path = write_csv(tmp_path / "r.csv", [ROSTER_HEADER, roster_row(1), roster_row(2)])
    first = submit_file(path, "ORG", "roster", home)
    second = submit_file(path, "ORG", "roster", home)
    assert first.status == "accepted"
    assert (second.status, second.duplicate_of) == ("duplicate", first.submission_id)
    assert _count(home, "select count(*) from raw.roster") == 2


def test_the_same_bytes_from_another_unit_tell_it_nothing_of_the_first(
        home: DataHome, tmp_path: Path) -> None:
    """PET and DIS may both send petition_verification. DIS's file sent again by PET is PET's
    own new submission: never a duplicate naming DIS's submission id, and an id that shares
    nothing with DIS's. Sent again by PET, it is a duplicate of PET's own."""
    header = ["件号", "被反映人身份证号", "被反映人姓名", "反映问题类别", "受理日期", "办结日期",
              "核查结论", "处置方式"]
    path = write_csv(tmp_path / "p.csv", [
        header, ["X1", valid_id(1), "甲", "作风问题", "2025-01-01", "2025-02-01", "属实", "初步核实"]])
    by_dis = submit_file(path, "DIS", "petition_verification", home)
    by_pet = submit_file(path, "PET", "petition_verification", home)
    pet_again = submit_file(path, "PET", "petition_verification", home)
    assert (by_dis.status, by_pet.status) == ("accepted", "accepted")
    assert by_pet.duplicate_of is None
    assert by_pet.submission_id.split("-")[1] != by_dis.submission_id.split("-")[1]
    for told in (by_pet, pet_again):  # nor anywhere in what PET is told
        assert by_dis.submission_id not in told.to_json_text()
        assert by_dis.submission_id not in _feedback_text(told)
    assert (pet_again.status, pet_again.duplicate_of) == ("duplicate", by_pet.submission_id)


def _feedback_text(receipt: Receipt) -> str:
    """Every text of a receipt's feedback files: the HTML as it is, every cell of the XLSX."""
    from python_calamine import CalamineWorkbook

    texts = []
    for name in receipt.feedback_files:
        if name.endswith(".xlsx"):
            book = CalamineWorkbook.from_path(name)
            texts += [str(cell) for sheet in book.sheet_names
                      for row in book.get_sheet_by_name(sheet).to_python() for cell in row]
        else:
            texts.append(Path(name).read_text(encoding="utf-8"))
    assert texts
    return "\n".join(texts)


def test_newer_submission_supersedes_without_erasing(home: DataHome, tmp_path: Path) -> None:
    header = ["身份证号", "姓名", "考核年度", "考核等次"]
    old = write_csv(tmp_path / "old.csv", [header, [valid_id(1), "甲", "2025", "基本称职"]])
    new = write_csv(tmp_path / "new.csv", [header, [valid_id(1), "甲", "2025", "称职"]])
    submit_file(old, "ORG", "annual_assessment", home)
    submit_file(new, "ORG", "annual_assessment", home)
    assert _count(home, "select count(*) from raw.annual_assessment") == 2
    with duckdb.connect(str(home.warehouse_file), read_only=True) as con:
        assert con.execute("select grade from staging.annual_assessment").fetchall() == [("称职",)]
        assert con.execute("select grade, is_current from staging.annual_assessment_history "
                           "order by submission_seq").fetchall() == [("基本称职", False),
                                                                      ("称职", True)]


def test_roster_snapshot_keeps_leavers_in_history(home: DataHome, tmp_path: Path) -> None:
    submit_file(write_csv(tmp_path / "a.csv", [ROSTER_HEADER, roster_row(1), roster_row(2)]),
                "ORG", "roster", home)
    submit_file(write_csv(tmp_path / "b.csv", [ROSTER_HEADER, roster_row(1)]), "ORG", "roster",
                home)
    assert _count(home, "select count(*) from staging.roster") == 1
    assert _count(home, "select count(*) from staging.roster_history") == 3


def test_counts_reconcile_per_file(home: DataHome, tmp_path: Path) -> None:
    rows = [ROSTER_HEADER] + [roster_row(n) for n in range(1, 8)]
    rows[3] = roster_row(3, 领域="外星")
    rows[5] = roster_row(5, 出生日期=date(2001, 1, 1).isoformat())
    receipt = submit_file(write_csv(tmp_path / "r.csv", rows), "ORG", "roster", home)
    assert receipt.rows_read == receipt.rows_accepted + receipt.rows_quarantined == 7
    assert receipt.rows_accepted == _count(home, "select count(*) from raw.roster")
    assert receipt.rows_quarantined == _count(home, "select count(*) from meta.quarantined_row")


def test_a_file_that_cannot_be_read_or_archived_alerts_without_its_name(
        home: DataHome, tmp_path: Path) -> None:
    """A unit's file name may name a cadre (关于张三同志的处分决定.xlsx): an inbox fault is an
    alert, e-mailed, whose line names the unit and source but not the file."""
    home.ensure()
    name = "关于张三同志的处分决定.xlsx"
    gone = home.inbox / "DIS" / "sanction" / name  # listed, then moved away by a sync tool
    with pytest.raises(EnvironmentFault) as read_fault:
        receive_step(gone, "DIS", "sanction", home)
    data = b"not really a workbook"
    blocker = home.archive / hashlib.sha256(data).hexdigest()[:2]
    blocker.parent.mkdir(parents=True, exist_ok=True)
    blocker.write_bytes(b"")  # a file where the archive's folder should be
    with pytest.raises(EnvironmentFault) as archive_fault:
        receive_bytes(data, name, "DIS", "sanction", home)
    for fault in (read_fault.value, archive_fault.value):
        line = alert_record("task_failed", dag_id="ingest_sanction", task_id="receive",
                            error=fault)["error"]
        assert "张三" not in line and "DIS" in line and "Errno" in line, line
