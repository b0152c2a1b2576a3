"""Every format, encoding and value form of sources.md loads, typed right, through submit_file."""

from __future__ import annotations

import csv
import io
import json
from datetime import date
from pathlib import Path

import duckdb
import pytest

from pipelines.ingest.errors import InputRefused
from pipelines.ingest.limits import Limits
from pipelines.ingest.readers import read_table
from pipelines.ingest.steps import submit_file
from pipelines.settings import DataHome
from tests.conftest import ROSTER_HEADER, roster_row, valid_id, write_csv, write_json, write_xlsx


def _rows(home: DataHome, sql: str) -> list[tuple]:
    with duckdb.connect(str(home.warehouse_file), read_only=True) as con:
        return con.execute(sql).fetchall()


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gbk", "gb18030"])
def test_csv_in_every_encoding_loads(home: DataHome, tmp_path: Path, encoding: str) -> None:
    path = write_csv(tmp_path / f"roster_{encoding}.csv",
                     [ROSTER_HEADER, roster_row(1), roster_row(2)], encoding=encoding)
    receipt = submit_file(path, "ORG", "roster", home)
    assert (receipt.status, receipt.rows_read, receipt.rows_accepted) == ("accepted", 2, 2)
    names = _rows(home, "select name, org_name from raw.roster order by source_row")
    assert names == [("测试1", "市发展和改革委员会"), ("测试2", "市发展和改革委员会")]


def test_xlsx_with_merged_title_rows_loads_with_spreadsheet_row_numbers(
        home: DataHome, tmp_path: Path) -> None:
    path = write_xlsx(tmp_path / "roster.xlsx", [ROSTER_HEADER, roster_row(1), roster_row(2)],
                      title="2025年干部名册")
    receipt = submit_file(path, "ORG", "roster", home)
    assert receipt.status == "accepted"
    # title row 1, header row 2: data rows are spreadsheet rows 3 and 4
    assert _rows(home, "select source_row from raw.roster order by 1") == [(3,), (4,)]


def test_json_array_keyed_by_english_names_loads(home: DataHome, tmp_path: Path) -> None:
    objects = [{"case_id": "XF-2025-001", "id_number": valid_id(7), "name": "王某",
                "category": "作风问题", "received_on": "2025/3/5", "closed_on": "2025年6月1日",
                "conclusion": "属实", "disposal": "初步核实", "outcome": "诫勉"}]
    receipt = submit_file(write_json(tmp_path / "petition.json", objects), "PET",
                          "petition_verification", home)
    assert receipt.status == "accepted", receipt.issues
    assert _rows(home, "select received_on, closed_on, source_row from raw.petition_verification"
                 ) == [(date(2025, 3, 5), date(2025, 6, 1), 1)]


def test_every_date_form_and_excel_serial(home: DataHome, tmp_path: Path) -> None:
    forms = ["2025-03-05", "2025/3/5", "2025.03.05", "2025年3月5日", "20250305", "45721"]
    rows = [ROSTER_HEADER] + [roster_row(i, 任现职时间=f) for i, f in enumerate(forms, 1)]
    receipt = submit_file(write_csv(tmp_path / "dates.csv", rows), "ORG", "roster", home)
    assert receipt.rows_accepted == len(forms), receipt.issues
    assert _rows(home, "select distinct appointed_on from raw.roster") == [(date(2025, 3, 5),)]


def test_id_quirks_full_width_spaces_and_lowercase_x_are_normalised(
        home: DataHome, tmp_path: Path) -> None:
    born = date(1985, 6, 15)
    with_x = next(valid_id(n, born) for n in range(1000) if valid_id(n, born).endswith("X"))
    full_width = valid_id(3, date(1973, 4, 4)).translate(
        str.maketrans("0123456789", "０１２３４５６７８９"))
    rows = [ROSTER_HEADER,
            roster_row(1, 身份证号=f"  {with_x.lower()} ", 出生日期=born.isoformat()),
            roster_row(3, 身份证号=full_width, 出生日期="1973-04-04")]
    receipt = submit_file(write_csv(tmp_path / "ids.csv", rows), "ORG", "roster", home)
    assert receipt.rows_accepted == 2, receipt.issues
    assert sorted(r[0] for r in _rows(home, "select id_number from raw.roster")) == sorted(
        [with_x, valid_id(3, date(1973, 4, 4))])


def test_booleans_years_and_amounts_with_separators(home: DataHome, tmp_path: Path) -> None:
    header = ["审计项目编号", "问题序号", "被审计人身份证号", "被审计人姓名", "审计类型", "问题类别",
              "涉及金额（万元）", "责任类型", "报告日期", "是否移送"]
    base = [valid_id(1), "张某", "经济责任审计", "损失浪费"]
    rows = [header,
            ["SJ-1", "1", *base, "1,250.50", "直接责任", "2025-01-02", "是"],
            ["SJ-1", "2", *base, "3", "领导责任", "2025-01-02", "N"],
            ["SJ-1", "3", *base, "", "领导责任", "2025-01-02", "true"],
            ["SJ-1", "4", *base, "0.5", "领导责任", "2025-01-02", "0"]]
    receipt = submit_file(write_csv(tmp_path / "audit.csv", rows, "utf-8-sig"), "AUD",
                          "audit_finding", home)
    assert receipt.status == "accepted", receipt.issues
    got = _rows(home, "select item_no, amount_wan::double, referred from raw.audit_finding "
                "order by item_no")
    assert got == [(1, 1250.5, True), (2, 3.0, False), (3, None, True), (4, 0.5, False)]
    years = [["身份证号", "姓名", "考核年度", "考核等次"],
             [valid_id(1), "张某", "2024年", "称职"], [valid_id(1), "张某", "2025", "优秀"]]
    receipt = submit_file(write_csv(tmp_path / "aa.csv", years, "gbk"), "ORG",
                          "annual_assessment", home)
    assert receipt.status == "accepted", receipt.issues
    assert _rows(home, "select year from raw.annual_assessment order by 1") == [(2024,), (2025,)]


def test_columns_in_any_order_extra_column_ignored_and_reported(
        home: DataHome, tmp_path: Path) -> None:
    order = list(reversed(range(len(ROSTER_HEADER))))
    rows = [[ROSTER_HEADER[i] for i in order] + ["联系电话"],
            [roster_row(1)[i] for i in order] + ["13800000000"]]
    receipt = submit_file(write_csv(tmp_path / "order.csv", rows), "ORG", "roster", home)
    assert receipt.status == "accepted"
    assert receipt.extra_columns == ["联系电话"]
    assert any(i.reason == "extra_column" and i.value == "联系电话" for i in receipt.issues)
    assert _rows(home, "select name from raw.roster") == [("测试1",)]


# --- a refused CSV says where the problem is ------------------------------------------------

def _roster_csv(lines: list[str], encoding: str = "utf-8") -> bytes:
    return "\r\n".join([",".join(ROSTER_HEADER), *lines, ""]).encode(encoding)


def _refusal(data: bytes) -> InputRefused:
    from pipelines.contracts import load_contract

    with pytest.raises(InputRefused) as refused:
        read_table(data, "名册.csv", load_contract("roster").header_index().keys(),
                   Limits.current())
    return refused.value


def test_an_overlong_cell_names_its_row() -> None:
    good = ",".join(str(c) for c in roster_row(1))
    long = ",".join(["x" * 200_000, *(str(c) for c in roster_row(2)[1:])])
    refused = _refusal(_roster_csv([good, good, long, good]))
    assert (refused.reason, refused.value) == ("cell_too_long", 4)  # the header is row 1
    quoted = _refusal(_roster_csv([f'"a\r\nb",{good}', '"' + "y" * 200_000 + '"']))
    assert (quoted.reason, quoted.value) == ("cell_too_long", 3)  # a record, not a line


def test_utf8_and_gbk_mixed_names_the_first_line_that_is_not_utf8() -> None:
    good = ",".join(str(c) for c in roster_row(1))
    data = _roster_csv([good, good]) + _roster_csv([good])[len(",".join(ROSTER_HEADER)) + 2:] \
        .decode().encode("gbk") + "\xff".encode("latin-1")
    refused = _refusal(data)
    assert refused.reason == "bad_encoding"
    assert "第4行起的文字不是 UTF-8 编码" in refused.detail, refused.detail


def test_a_nul_names_its_line() -> None:
    good = ",".join(str(c) for c in roster_row(1))
    refused = _refusal(_roster_csv([good, good.replace("测试", "测\x00试")]))
    assert refused.reason == "unreadable_file"
    assert "第3行含空字符" in refused.detail, refused.detail


def test_an_empty_file_and_a_web_page_named_xls_say_what_they_are() -> None:
    from pipelines.contracts import load_contract

    known = load_contract("roster").header_index().keys()
    for empty in (b"", b"\xef\xbb\xbf", b"\r\n  \r\n"):
        with pytest.raises(InputRefused) as refused:
            read_table(empty, "名册.csv", known)
        assert (refused.value.reason, refused.value.detail) == ("unreadable_file", "文件是空的，没有任何内容")
    page = ('<html><head><meta charset="utf-8"></head><body><table><tr><td>身份证号</td>'
            '<td>姓名</td></tr></table></body></html>').encode()
    for name in ("名册.xls", "名册.xlsx"):
        with pytest.raises(InputRefused) as refused:
            read_table(page, name, known)
        assert refused.value.reason == "unreadable_file"
        assert "内容是网页（HTML）" in refused.value.detail, refused.value.detail


def test_an_excel_binary_workbook_is_refused_as_unsupported_whatever_its_name() -> None:
    """.xlsb is not in the contract, and calamine would read it with no used range checked."""
    import io
    import zipfile

    from pipelines.contracts import load_contract

    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as book:
        book.writestr("[Content_Types].xml", '<?xml version="1.0"?><Types/>')
        book.writestr("xl/workbook.bin", b"\x83\x01\x00")
        book.writestr("xl/worksheets/sheet1.bin", b"\x81\x01\x00")
    for name in ("名册.xlsb", "名册.xlsx"):
        with pytest.raises(InputRefused) as refused:
            read_table(buffer.getvalue(), name, load_contract("roster").header_index().keys())
        assert (refused.value.reason, refused.value.value) == (
            "unsupported_format", "xlsb（Excel 二进制工作簿）")


def test_a_value_beyond_what_the_warehouse_holds_names_the_range_the_unit_may_use(
        home: DataHome, tmp_path: Path) -> None:
    """The message and the fix of value_out_of_bounds name the range: never an empty （）."""
    rows = [ROSTER_HEADER, roster_row(1), roster_row(2, 任现职时间="1899-12-31")]
    receipt = submit_file(write_csv(tmp_path / "old.csv", rows), "ORG", "roster", home)
    assert (receipt.status, receipt.rows_accepted) == ("partially_accepted", 1)
    [issue] = [i for i in receipt.issues if i.reason == "value_out_of_bounds"]
    assert issue.source_row == 3 and issue.column == "appointed_on"
    assert "（1900-01-01～2100-12-31）" in issue.message_zh, issue.message_zh
    assert issue.fix_zh.endswith("允许范围为 1900-01-01～2100-12-31。"), issue.fix_zh


def _cut_at_sample_end(rows: list[list[object]], encoding: str) -> bytes:
    """A CSV in ``encoding`` whose 4096th byte starts a two-byte or longer character (the
    sample the format is judged by ends inside it)."""
    for pad in range(16):
        buffer = io.StringIO()
        csv.writer(buffer, lineterminator="\r\n").writerows(
            [[*rows[0], "备注"], *[[*r, "说明" + "x" * pad] for r in rows[1:]]])
        data = buffer.getvalue().encode(encoding)
        try:
            data[:4096].decode(encoding)
        except UnicodeDecodeError:
            return data
    raise AssertionError("no padding puts a character across the sample's end")


@pytest.mark.parametrize("encoding", ["utf-8", "gbk"])
@pytest.mark.parametrize("name", ["名册.xls", "名册.xlsx"])
def test_a_csv_named_as_a_spreadsheet_is_read_as_csv_in_either_encoding(
        home: DataHome, tmp_path: Path, encoding: str, name: str) -> None:
    """sources.md: a file whose content is not what its suffix says is read by its content.
    UTF-8 without BOM was judged as GB18030 only and refused as a damaged workbook; either
    encoding was, when the sample's last character was cut."""
    rows = [ROSTER_HEADER, *[roster_row(n) for n in range(1, 80)]]
    data = _cut_at_sample_end(rows, encoding)
    path = tmp_path / name
    path.write_bytes(data)
    receipt = submit_file(path, "ORG", "roster", home)
    assert (receipt.status, receipt.rows_accepted) == ("accepted", 79), receipt.issues
    [note] = [i for i in receipt.issues if i.reason == "read_by_content"]
    assert "CSV 文本" in note.message_zh


def test_json_named_csv_and_csv_named_json_are_read_by_their_content() -> None:
    from pipelines.contracts import load_contract

    known = load_contract("roster").header_index().keys()
    objects = [{"id_number": valid_id(1), "name": "王某"}]
    as_json = json.dumps(objects, ensure_ascii=False, indent=1).encode()
    for name in ("名册.csv", "名册.txt"):
        table = read_table(as_json, name, known)
        assert table.file_format == "json" and table.frame.iloc[0]["name"] == "王某"
        assert table.notes[0][0] == "read_by_content"
    as_csv = f"身份证号,姓名\r\n{valid_id(1)},王某\r\n".encode("gbk")
    table = read_table(as_csv, "名册.json", known)
    assert table.file_format == "csv" and table.frame.iloc[0]["姓名"] == "王某"
    assert table.notes[0][:2] == ("read_by_content", ".json")
    with pytest.raises(InputRefused) as refused:  # damaged JSON stays JSON: its error says where
        read_table(as_json[:-5] + b",\n", "名册.json", known)
    assert "JSON 格式错误" in refused.value.detail


def test_an_id_whose_birth_date_fits_no_serving_cadre_is_a_row_issue(
        home: DataHome, tmp_path: Path) -> None:
    """sources.md: the birth date inside an ID is not before 1900, not in the future, and at
    least 16 years before the data's date (the day the file is received); such IDs loaded."""
    from datetime import timedelta

    from pipelines.ingest import idcard

    latest = idcard.latest_birth(date.today())
    births = {"born 1900-01-01": date(1900, 1, 1), "born 1899-12-31": date(1899, 12, 31),
              "16 today": latest, "16 tomorrow": latest + timedelta(days=1),
              "not born yet": date.today() + timedelta(days=400)}
    rows = [ROSTER_HEADER]
    for n, born in enumerate(births.values(), 1):
        rows.append(roster_row(n, 身份证号=valid_id(n, born), 出生日期=born.isoformat()))
    receipt = submit_file(write_csv(tmp_path / "births.csv", rows), "ORG", "roster", home)
    bad = {i.source_row: i for i in receipt.issues if i.reason == "id_bad_birth"}
    assert sorted(bad) == [3, 5, 6], [i.message_zh for i in receipt.issues]
    assert "不早于1900年1月1日" in bad[5].message_zh and "16年" in bad[5].message_zh
    assert receipt.rows_accepted == 2  # 1900-01-01 and 16 years old today
    # an evidence row under such an ID is quarantined, not accepted as 未匹配
    evidence = [["身份证号", "姓名", "考核年度", "考核等次"],
                [valid_id(9, date.today() + timedelta(days=400)), "王某", "2025", "称职"]]
    receipt = submit_file(write_csv(tmp_path / "aa.csv", evidence), "ORG", "annual_assessment",
                          home)
    assert (receipt.status, receipt.rows_unmatched) == ("refused", 0)
    assert [i.reason for i in receipt.issues][1:] == ["id_bad_birth"]


def test_a_value_out_of_range_names_the_range_as_the_template_does(
        home: DataHome, tmp_path: Path) -> None:
    """A count below 0 said “超出允许范围（0.0～）” and “允许范围为 0.0～。”: the missing upper
    bound and float formatting of GX's kwargs reached the unit."""
    header = ["身份证号", "姓名", "考核年度", "考核等次", "优秀票", "德"]
    rows = [header, [valid_id(1), "甲", "2025", "称职", "-1", "80"],
            [valid_id(2), "乙", "2025", "称职", "3", "120"]]
    receipt = submit_file(write_csv(tmp_path / "考核.csv", rows), "ORG", "annual_assessment",
                          home)
    found = {i.column: i for i in receipt.issues if i.reason == "out_of_range"}
    assert found["votes_excellent"].message_zh == "“优秀票”的值“-1”超出允许范围（不小于0）"
    assert found["votes_excellent"].fix_zh == "请核对数值，应为不小于0。"
    assert found["score_virtue"].message_zh == "“德”的值“120”超出允许范围（0～100）"
    assert found["score_virtue"].fix_zh == "请核对数值，应为0～100。"
