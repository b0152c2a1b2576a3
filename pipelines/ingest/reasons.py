"""Why a file was refused or a row quarantined: one table of reason codes.

Each reason has a code (stable, English, stored in the warehouse), a Chinese message for the
unit and a Chinese hint on how to fix it. Parser, validator, receipts and feedback reports all
take their wording from here, so a unit reads the same sentence wherever a problem shows.
Templates use ``str.format`` fields: ``{header}``, ``{value}``, ``{codes}``, ``{detail}``.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Reason:
    code: str
    label_zh: str  # a few words, for summaries: 身份证号校验位错误
    scope: str  # "file" refuses the whole submission; "row" quarantines one row; "note" informs
    message_zh: str
    fix_zh: str


REASONS: tuple[Reason, ...] = (
    # --- whole-file problems: the submission is refused ---
    Reason("unit_unknown", "未知单位", "file", "未知的报送单位代码“{value}”",
           "请使用联席会议分配的单位代码（{detail}）。"),
    Reason("source_unknown", "未知数据类别", "file", "未知的数据类别“{value}”",
           "请选择正确的数据类别（{detail}）。"),
    Reason("unit_not_allowed", "无权报送", "file", "本单位（{value}）无权报送“{detail}”数据",
           "请确认数据类别，或由有权报送的单位报送。"),
    Reason("unsupported_format", "格式不支持", "file", "不支持的文件格式“{value}”",
           "请另存为 .xlsx、.csv（UTF-8 或 GBK 编码）或 .json 后重新报送。"),
    Reason("unreadable_file", "文件无法读取", "file", "文件无法读取：{detail}",
           "请用 Excel/WPS 打开确认文件完好，另存为 .xlsx 后重新报送。"),
    Reason("no_header", "未找到表头", "file", "未找到表头行（前 {value} 行中没有可识别的列名）",
           "请使用标准模板（cadre template），保留第一行列名，不要改动列名。"),
    Reason("missing_required_column", "缺少必填列", "file", "缺少必填列：{value}",
           "请按模板补齐这些列（列名须与模板一致，列的顺序不限）。"),
    Reason("no_rows", "没有数据行", "file", "文件中没有数据行",
           "请在表头下方填写数据后重新报送。"),
    Reason("all_rows_quarantined", "全部行未通过校验", "file", "所有数据行均未通过校验，本次报送未入库",
           "请按反馈清单逐行修改后重新报送。"),
    # --- row problems: the row is quarantined, the other rows load ---
    Reason("required_missing", "必填项为空", "row", "必填项“{header}”为空", "请填写“{header}”。"),
    Reason("required_if_missing", "条件必填项为空", "row", "“{header}”未填写：{detail}", "请填写“{header}”。"),
    Reason("id_excel_mangled", "身份证号被Excel转为数字", "row",
           "身份证号“{value}”已被 Excel 转成数字（科学计数法），后几位已丢失",
           "请将该列设置为“文本”格式后重新录入完整的18位身份证号，不要从数字单元格复制。"),
    Reason("id_bad_format", "身份证号格式错误", "row", "身份证号“{value}”格式不正确：应为18位，前17位为数字，"
           "末位为数字或X", "请核对并填写完整的18位身份证号。"),
    Reason("id_bad_checksum", "身份证号校验位错误", "row", "身份证号“{value}”校验位不正确",
           "请逐位核对身份证号，常见为录入时错位或漏位。"),
    Reason("id_bad_birth", "身份证号出生日期无效", "row", "身份证号“{value}”中的出生日期无效",
           "请核对身份证号第7-14位（出生日期）。"),
    Reason("birth_date_mismatch", "出生日期与身份证号不一致", "row",
           "出生日期“{value}”与身份证号中的出生日期（{detail}）不一致", "请核对出生日期或身份证号。"),
    Reason("bad_date", "日期无法识别", "row", "“{header}”的值“{value}”不是可识别的日期",
           "请填写如 2025-03-05、2025/3/5、2025年3月5日 的日期。"),
    Reason("bad_year", "年度无效", "row", "“{header}”的值“{value}”不是有效年度",
           "请填写四位年度，如 2025 或 2025年。"),
    Reason("bad_int", "不是整数", "row", "“{header}”的值“{value}”不是整数", "请填写整数，如 12。"),
    Reason("bad_decimal", "不是有效数值", "row", "“{header}”的值“{value}”不是有效数值",
           "请填写数值，如 120.5 或 1,200.5（单位见列名）。"),
    Reason("bad_bool", "不是是/否", "row", "“{header}”的值“{value}”不是“是/否”",
           "请填写“是”或“否”（也可用 Y/N、1/0）。"),
    Reason("unknown_code", "不在代码表中", "row", "“{header}”的值“{value}”不在代码表中",
           "可选值为：{codes}。"),
    Reason("out_of_range", "超出允许范围", "row", "“{header}”的值“{value}”超出允许范围（{detail}）",
           "请核对数值，允许范围为 {detail}。"),
    Reason("duplicate_key", "关键字段重复", "row", "同一文件中关键字段（{detail}）重复：{value}",
           "同一对象在一个文件中只能出现一行，请合并或删除重复行。"),
    # --- notes: reported, nothing refused ---
    Reason("extra_column", "多余列已忽略", "note", "列“{value}”不在模板中，已忽略",
           "如该列有用，请与组织部联系扩展数据规范；否则可删除该列。"),
    Reason("responsibility_blank", "责任类型未填写", "note",
           "“{header}”未填写：该行已入库，暂按领导责任（较轻权重）计分，且不作为直接责任认定",
           "请补填“{header}”（直接责任/领导责任）后重新报送该行。"),
)

BY_CODE: dict[str, Reason] = {r.code: r for r in REASONS}


def render(code: str, **fields: object) -> tuple[str, str]:
    """(message_zh, fix_zh) for a reason code with its fields filled in."""
    reason = BY_CODE[code]
    values = {"header": "", "value": "", "codes": "", "detail": ""}
    values.update({k: "" if v is None else str(v) for k, v in fields.items()})
    return reason.message_zh.format(**values), reason.fix_zh.format(**values)
