"""XLSX templates a unit fills in, generated from the source's contract alone.

Every column, header, code list and requiredness comes from ``schemas/<source>.yaml``; nothing
here names a column or a code, so a jurisdiction that extends a contract gets a matching
template for free. The template's job is to prevent the faults the pipeline would otherwise
quarantine: IDs turned into numbers by Excel, codes typed freely, required columns left out.
"""

from __future__ import annotations

import unicodedata
from pathlib import Path

import xlsxwriter
from xlsxwriter.utility import xl_rowcol_to_cell
from xlsxwriter.workbook import Workbook
from xlsxwriter.worksheet import Worksheet

from pipelines.contracts import Contract, Field, load_contract, load_units, source_names

DATA_ROWS = 10000  # rows 2..10001 carry formats and drop-downs
INLINE_LIST_LIMIT = 255  # Excel refuses an inline list source longer than this (with commas)
CODES_SHEET = "代码表"
GUIDE_SHEET = "填写说明"
BOOL_CODES = ("是", "否")

# Chinese wording of each contract type, for header comments and the instructions sheet.
TYPE_ZH: dict[str, str] = {
    "id_number": "18位身份证号（文本格式，末位可为X）",
    "text": "文本",
    "code": "代码（从下拉列表中选择）",
    "code_list": "代码，可填多个，用“、”或“,”分隔",
    "date": "日期，如 2025-03-05",
    "year": "年度，四位数字，如 2025",
    "int": "整数",
    "decimal": "数值",
    "bool": "是/否",
}

# Excel number format per contract type: IDs and codes as text so Excel never converts them.
NUM_FORMATS: dict[str, str] = {
    "id_number": "@",
    "text": "@",
    "code": "@",
    "code_list": "@",
    "date": "yyyy-mm-dd",
    "year": "0",
    "int": "0",
    "decimal": "General",
    "bool": "@",
}

GENERAL_NOTES: tuple[str, ...] = (
    "第一行为列名，请勿修改列名；列的顺序可以调整，从第二行起每行填写一条记录。",
    "红色列名为必填项，橙色列名为条件必填项（条件见上表“是否必填”），灰色列名为选填项。"
    "将鼠标移到列名上可查看该列的填写要求。",
    "可报送的文件格式：Excel/WPS 表格（.xlsx、.xls）；OpenDocument 表格（.ods）；"
    "CSV（.csv，UTF-8 或 GBK 编码均可）；JSON（.json，对象数组，键为上表中的英文名）。",
    "日期可填写为 2025-03-05、2025/3/5、2025.03.05、2025年3月5日 或 20250305；"
    "年度可填写为 2025 或 2025年。",
    "“是/否”列可填写 是/否、Y/N、1/0 或 true/false。",
    "身份证号必须以文本形式录入完整的18位（末位可为X）。如 Excel 将其显示为 4.10105E+17 "
    "之类的数字，后几位已丢失，该行将被退回；请将该列设为“文本”格式后重新录入，"
    "不要从数字格式的单元格复制。",
    "金额单位为万元，可带千位分隔符（如 1,200.5）。",
    "模板以外的列将被忽略，并在反馈报告中提示。",
)
CODE_LIST_NOTE = "可填多个值的列（类型说明中注明“可填多个”）请用“、”或“,”分隔各值。"


def display_width(text: str) -> int:
    """Column width in Excel character units: CJK characters take two."""
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def field_codes(f: Field) -> tuple[str, ...]:
    """Values a unit may pick for a field: its code list, or 是/否 for a bool."""
    return BOOL_CODES if f.type == "bool" else f.codes


def type_zh(f: Field) -> str:
    """Type wording for units, with the range when the contract sets one."""
    bounds = f.range_zh()
    return f"{TYPE_ZH[f.type]}（{bounds}）" if bounds else TYPE_ZH[f.type]


def required_zh(contract: Contract, f: Field) -> str:
    if f.required:
        return "必填"
    if f.required_if is not None:
        return f"条件必填：{f.required_if.describe_zh(contract)}"
    return "选填"


def note_zh(contract: Contract, f: Field) -> str:
    """Chinese notes on a field derived from the contract's structure (not its English text)."""
    notes = [f.note_zh] if f.note_zh else []
    if f.name in contract.key and len(contract.key) == 1:
        notes.append("关键字段：同一文件中不得重复")
    elif f.name in contract.key:
        combo = " + ".join(contract.field(k).header_zh for k in contract.key)
        notes.append(f"关键字段之一：{combo} 的组合在同一文件中不得重复")
    if f.agrees_with_id:
        notes.append(f"须与“{contract.field(f.agrees_with_id).header_zh}”中的出生日期一致")
    if f.type == "id_number" and not f.required:
        notes.append("可为空")
    return "；".join(notes)


def _sheet_name(text: str) -> str:
    """An Excel-safe sheet name (31 chars, none of []:*?/\\)."""
    return "".join("_" if ch in "[]:*?/\\" else ch for ch in text)[:31] or "数据"


def _comment(contract: Contract, f: Field) -> str:
    lines = [f"类型：{type_zh(f)}", f"是否必填：{required_zh(contract, f)}"]
    codes = field_codes(f)
    if codes:
        lines.append(f"可选值：{'、'.join(codes)}")
    note = note_zh(contract, f)
    if note:
        lines.append(f"说明：{note}")
    return "\n".join(lines)


def _column_width(f: Field) -> int:
    widths = [display_width(f.header_zh) + 4]
    widths += [display_width(c) + 4 for c in field_codes(f)]
    widths.append({"id_number": 22, "date": 13, "text": 18, "code_list": 24}.get(f.type, 10))
    return min(max(widths), 40)


def _write_codes_sheet(workbook: Workbook, contract: Contract) -> dict[str, str]:
    """Hidden sheet with every code list; returns field name -> absolute range formula."""
    sheet = workbook.add_worksheet(CODES_SHEET)
    ranges: dict[str, str] = {}
    col = 0
    for f in contract.fields:
        codes = field_codes(f)
        if not codes:
            continue
        sheet.write_string(0, col, f.header_zh)
        for row, code in enumerate(codes, start=1):
            sheet.write_string(row, col, code)
        first = xl_rowcol_to_cell(1, col, row_abs=True, col_abs=True)
        last = xl_rowcol_to_cell(len(codes), col, row_abs=True, col_abs=True)
        ranges[f.name] = f"='{CODES_SHEET}'!{first}:{last}"
        sheet.set_column(col, col, _column_width(f))
        col += 1
    sheet.hide()
    return ranges


def _validation(f: Field, code_ranges: dict[str, str]) -> dict[str, object] | None:
    """xlsxwriter data-validation options for a column, or None."""
    codes = field_codes(f)
    if f.type in ("code", "bool"):
        fits_inline = len(",".join(codes)) <= INLINE_LIST_LIMIT and not any(
            ch in code for code in codes for ch in ',"')
        source: list[str] | str = list(codes) if fits_inline else code_ranges[f.name]
        shown = "、".join(codes)
        return {
            "validate": "list",
            "source": source,
            "error_title": "无效的值",
            "error_message": _clip(f"“{f.header_zh}”请从下拉列表中选择：{shown}"),
        }
    if f.type == "code_list":
        return {
            "validate": "any",
            "input_title": _clip(f.header_zh, 32),
            "input_message": _clip(f"可填多个，用“、”分隔：{'、'.join(codes)}"),
        }
    if f.type in ("int", "decimal") and (f.min is not None or f.max is not None):
        kind = "integer" if f.type == "int" else "decimal"
        if f.min is not None and f.max is not None:
            rule = {"criteria": "between", "minimum": f.min, "maximum": f.max}
        elif f.min is not None:
            rule = {"criteria": ">=", "value": f.min}
        else:
            rule = {"criteria": "<=", "value": f.max}
        return {
            "validate": kind,
            **rule,
            "error_title": "超出范围",
            "error_message": _clip(f"“{f.header_zh}”应为{type_zh(f)}"),
        }
    return None


def _clip(text: str, limit: int = 255) -> str:
    """Excel caps validation messages (255 chars, titles 32)."""
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _write_data_sheet(workbook: Workbook, sheet: Worksheet, contract: Contract,
                      code_ranges: dict[str, str]) -> None:
    base = {"bold": True, "border": 1, "align": "center", "valign": "vcenter"}
    header_formats = {
        "required": workbook.add_format({**base, "bg_color": "#C00000", "font_color": "#FFFFFF"}),
        "conditional": workbook.add_format({**base, "bg_color": "#F4B183"}),
        "optional": workbook.add_format({**base, "bg_color": "#D9D9D9"}),
    }
    column_formats = {t: workbook.add_format({"num_format": n}) for t, n in NUM_FORMATS.items()}
    for col, f in enumerate(contract.fields):
        kind = "required" if f.required else "conditional" if f.required_if else "optional"
        sheet.set_column(col, col, _column_width(f), column_formats[f.type])
        sheet.write_string(0, col, f.header_zh, header_formats[kind])
        comment = _comment(contract, f)
        sheet.write_comment(0, col, comment, {
            "author": "数据规范", "x_scale": 2.5, "y_scale": 0.6 + 0.35 * comment.count("\n"),
        })
        options = _validation(f, code_ranges)
        if options is not None:
            sheet.data_validation(1, col, DATA_ROWS, col, options)
    sheet.set_row(0, 24)
    sheet.freeze_panes(1, 0)
    sheet.activate()


def _write_guide_sheet(workbook: Workbook, contract: Contract) -> None:
    sheet = workbook.add_worksheet(GUIDE_SHEET)
    title = workbook.add_format({"bold": True, "font_size": 14})
    head = workbook.add_format({"bold": True, "border": 1, "bg_color": "#D9D9D9",
                                "valign": "top"})
    cell = workbook.add_format({"border": 1, "text_wrap": True, "valign": "top"})
    bold = workbook.add_format({"bold": True})
    wrap = workbook.add_format({"text_wrap": True, "valign": "top"})

    allowed = [u.name_zh for u in load_units().values() if contract.source in u.sources]
    row = 0
    sheet.write_string(row, 0, f"{contract.title_zh}（填报模板）填写说明", title)
    row += 1
    sheet.write_string(row, 0, f"报送单位：{'、'.join(allowed) or '（未指定）'}")
    row += 1
    keys = " + ".join(contract.field(k).header_zh for k in contract.key)
    sheet.write_string(row, 0, f"关键字段：{keys}（同一文件中同一关键字段组合只能出现一行）")
    row += 1
    if contract.snapshot:
        sheet.write_string(row, 0, "本表为全量报送：每次报送须包含本单位范围内的全部人员，"
                                   "未出现在新一次报送中的人员视为已离开本范围（历史记录保留）。")
        row += 1
    row += 1
    columns = ("列名", "英文名", "类型说明", "是否必填", "可选值", "说明")
    for col, text in enumerate(columns):
        sheet.write_string(row, col, text, head)
    guide_header_row = row
    for f in contract.fields:
        row += 1
        values = (f.header_zh, f.name, type_zh(f), required_zh(contract, f),
                  "、".join(field_codes(f)), note_zh(contract, f))
        for col, text in enumerate(values):
            sheet.write_string(row, col, text, cell)
    notes = list(GENERAL_NOTES)
    if any(f.type == "code_list" for f in contract.fields):
        notes.append(CODE_LIST_NOTE)
    row += 2
    sheet.write_string(row, 0, "填写要求", bold)
    for number, note in enumerate(notes, start=1):
        row += 1
        sheet.merge_range(row, 0, row, len(columns) - 1, f"{number}. {note}", wrap)
        sheet.set_row(row, 16 * (1 + display_width(note) // 170))
    for col, width in enumerate((16, 20, 30, 30, 44, 36)):
        sheet.set_column(col, col, width)
    sheet.freeze_panes(guide_header_row + 1, 0)


def write_template(source: str, out_path: Path) -> Path:
    """Write the fill-in XLSX for ``source`` to ``out_path`` and return the path."""
    contract = load_contract(source)
    out_path = Path(out_path)
    out_path.parent.mkdir(parents=True, exist_ok=True)
    workbook = xlsxwriter.Workbook(str(out_path))
    try:
        workbook.set_properties({
            "title": f"{contract.title_zh}（填报模板）",
            "subject": contract.source,
            "comments": f"Generated from schemas/{contract.source}.yaml; do not edit by hand.",
        })
        data_sheet = workbook.add_worksheet(_sheet_name(contract.title_zh))
        _write_guide_sheet(workbook, contract)
        code_ranges = _write_codes_sheet(workbook, contract)
        _write_data_sheet(workbook, data_sheet, contract, code_ranges)
    finally:
        workbook.close()
    return out_path


def template_filename(source: str) -> str:
    return f"{load_contract(source).title_zh}_填报模板.xlsx"


def write_all_templates(out_dir: Path) -> list[Path]:
    """One template per source with a contract, named ``<title_zh>_填报模板.xlsx``."""
    return [write_template(s, Path(out_dir) / template_filename(s)) for s in source_names()]
