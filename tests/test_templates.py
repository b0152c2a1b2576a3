"""Templates read back with openpyxl: what a unit opens must match the contract exactly."""

from __future__ import annotations

from pathlib import Path

import pytest
from openpyxl import load_workbook
from openpyxl.utils.cell import range_boundaries

from pipelines.contracts import Field, load_contract, normalize_header, source_names
from pipelines.ingest import templates
from pipelines.ingest.templates import (
    BOOL_CODES,
    CODES_SHEET,
    DATA_ROWS,
    GUIDE_SHEET,
    write_all_templates,
    write_template,
)


def _list_values(workbook, formula: str) -> tuple[str, ...]:
    """The values a list validation offers: inline ``"a,b"`` or a range on the codes sheet."""
    if formula.startswith('"'):
        return tuple(formula.strip('"').split(","))
    sheet_name, cells = formula.lstrip("=").rsplit("!", 1)
    sheet = workbook[sheet_name.strip("'")]
    min_col, min_row, max_col, max_row = range_boundaries(cells.replace("$", ""))
    assert min_col == max_col
    return tuple(sheet.cell(row=r, column=min_col).value for r in range(min_row, max_row + 1))


def _validations_by_column(sheet) -> dict[int, object]:
    found = {}
    for dv in sheet.data_validations.dataValidation:
        for cell_range in dv.sqref.ranges:
            min_col, min_row, max_col, max_row = cell_range.bounds
            assert (min_row, max_row) == (2, DATA_ROWS + 1)
            for col in range(min_col, max_col + 1):
                assert col not in found, "two validations on one column"
                found[col] = dv
    return found


@pytest.fixture(scope="module")
def written(tmp_path_factory) -> dict[str, Path]:
    out = tmp_path_factory.mktemp("templates")
    return {s: write_template(s, out / f"{s}.xlsx") for s in source_names()}


@pytest.mark.parametrize("source", source_names())
def test_headers_follow_the_contract(written: dict[str, Path], source: str) -> None:
    contract = load_contract(source)
    workbook = load_workbook(written[source])
    sheet = workbook.worksheets[0]
    assert sheet.title == contract.title_zh
    assert workbook.sheetnames == [contract.title_zh, GUIDE_SHEET, CODES_SHEET]
    assert workbook[CODES_SHEET].sheet_state == "hidden"
    headers = [c.value for c in sheet[1]]
    assert headers == [f.header_zh for f in contract.fields]
    assert sheet.max_row == 1, "a template has no data rows"
    assert sheet.freeze_panes == "A2"
    # The header row is what the reader matches: every header maps back to its own field.
    index = contract.header_index()
    assert [index[normalize_header(h)] for h in headers] == list(contract.field_names)


@pytest.mark.parametrize("source", source_names())
def test_required_marked_and_commented(written: dict[str, Path], source: str) -> None:
    contract = load_contract(source)
    sheet = load_workbook(written[source]).worksheets[0]
    fills = {}
    for col, f in enumerate(contract.fields, start=1):
        cell = sheet.cell(row=1, column=col)
        assert cell.font.b
        assert cell.comment is not None
        text = cell.comment.text
        assert templates.TYPE_ZH[f.type] in text
        expected = {"required": "是否必填：必填", "conditional": "是否必填：条件必填：",
                    "optional": "是否必填：选填"}[_kind(f)]
        assert expected in text
        for code in templates.field_codes(f):
            assert code in text
        fills.setdefault(_kind(f), set()).add(cell.fill.fgColor.rgb)
    assert all(len(colours) == 1 for colours in fills.values())
    assert len({c for colours in fills.values() for c in colours}) == len(fills)


def _kind(f: Field) -> str:
    return "required" if f.required else "conditional" if f.required_if else "optional"


@pytest.mark.parametrize("source", source_names())
def test_column_formats(written: dict[str, Path], source: str) -> None:
    contract = load_contract(source)
    sheet = load_workbook(written[source]).worksheets[0]
    for col, f in enumerate(contract.fields, start=1):
        dims = _column_dims(sheet, col)
        assert dims.width >= 6
        if f.type == "id_number":
            assert dims.number_format == "@"
        if f.type == "date":
            assert dims.number_format == "yyyy-mm-dd"


def _column_dims(sheet, col: int):
    for dims in sheet.column_dimensions.values():
        if dims.min <= col <= dims.max:
            return dims
    raise AssertionError(f"no width set for column {col}")


@pytest.mark.parametrize("source", source_names())
def test_drop_downs_offer_the_contract_codes(written: dict[str, Path], source: str) -> None:
    contract = load_contract(source)
    workbook = load_workbook(written[source])
    validations = _validations_by_column(workbook.worksheets[0])
    for col, f in enumerate(contract.fields, start=1):
        if f.type in ("code", "bool"):
            dv = validations[col]
            assert dv.type == "list"
            assert dv.showErrorMessage
            expected = BOOL_CODES if f.type == "bool" else f.codes
            assert _list_values(workbook, dv.formula1) == expected, f.name
        elif f.type in ("int", "decimal") and (f.min is not None or f.max is not None):
            assert validations[col].type == ("whole" if f.type == "int" else "decimal")
        elif f.type in ("id_number", "text", "date", "year"):
            assert col not in validations


def test_long_code_list_uses_the_codes_sheet(tmp_path: Path, monkeypatch) -> None:
    """Past Excel's 255-character inline limit the drop-down points at the hidden sheet.

    A jurisdiction extends a code list the supported way: its own copy of schemas/."""
    import shutil

    import yaml

    from pipelines.contracts import schemas_dir

    own = tmp_path / "schemas"
    shutil.copytree(schemas_dir(), own)
    spec = yaml.safe_load((own / "sanction.yaml").read_text(encoding="utf-8"))
    long_codes = tuple(f"自定义措施类别第{i:02d}项" for i in range(40))
    next(f for f in spec["fields"] if f["name"] == "measure")["codes"] = list(long_codes)
    (own / "sanction.yaml").write_text(yaml.safe_dump(spec, allow_unicode=True), encoding="utf-8")
    monkeypatch.setenv("CADRE_SCHEMAS_DIR", str(own))
    contract = load_contract("sanction")
    assert contract.field("measure").codes == long_codes
    path = write_template("sanction", tmp_path / "long.xlsx")
    workbook = load_workbook(path)
    validations = _validations_by_column(workbook.worksheets[0])
    col = contract.field_names.index("measure") + 1
    formula = validations[col].formula1
    assert CODES_SHEET in formula
    assert _list_values(workbook, formula) == long_codes


@pytest.mark.parametrize("source", source_names())
def test_guide_lists_every_field(written: dict[str, Path], source: str) -> None:
    contract = load_contract(source)
    rows = list(load_workbook(written[source])[GUIDE_SHEET].iter_rows(values_only=True))
    head = rows.index(("列名", "英文名", "类型说明", "是否必填", "可选值", "说明"))
    body = rows[head + 1: head + 1 + len(contract.fields)]
    assert [r[0] for r in body] == [f.header_zh for f in contract.fields]
    assert [r[1] for r in body] == list(contract.field_names)
    for r, f in zip(body, contract.fields, strict=True):
        assert r[2].startswith(templates.TYPE_ZH[f.type])
        if f.required:
            assert r[3] == "必填"
        elif f.required_if is not None:
            assert f.required_if.describe_zh(contract) in r[3]
        else:
            assert r[3] == "选填"
        assert (r[4] or "") == "、".join(templates.field_codes(f))
        assert f.note_zh in (r[5] or "")  # what an empty value means reaches the unit
    text = "\n".join(str(c) for r in rows for c in r if c)
    for needle in (".xlsx", "、.xls）", ".ods", ".csv", "GBK", ".json", "2025/3/5", "2025.03.05", "2025年3月5日",
                   "20250305", "Y/N", "1/0", "true/false", "文本", "万元", "顺序", "忽略"):
        assert needle in text, needle


def test_conditional_requirements_are_spelled_out(written: dict[str, Path]) -> None:
    rows = list(load_workbook(written["personal_report_check"])[GUIDE_SHEET]
                .iter_rows(values_only=True))
    by_name = {r[1]: r for r in rows if r[1]}
    assert "“查核结果”不为“一致”时必填" in by_name["items"][3]
    assert "“查核结果”不为“一致”时必填" in by_name["item_count"][3]


def test_contract_notes_for_units_reach_the_guide(written: dict[str, Path]) -> None:
    rows = list(load_workbook(written["petition_verification"])[GUIDE_SHEET]
                .iter_rows(values_only=True))
    assert "为空表示尚未办结" in {r[1]: r for r in rows if r[1]}["closed_on"][5]


def test_write_all_templates(tmp_path: Path) -> None:
    paths = write_all_templates(tmp_path / "out")
    assert len(paths) == len(source_names())
    assert all(p.exists() and p.stat().st_size > 0 for p in paths)
