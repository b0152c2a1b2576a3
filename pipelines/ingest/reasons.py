"""Why a file was refused or a row quarantined: one table of reason codes.

Each reason has a code (stable, English, stored in the warehouse), a Chinese message for the
unit and a Chinese hint on how to fix it. Parser, validator, receipts and feedback reports all
take their wording from here, so a unit reads the same sentence wherever a problem shows.
Templates use ``str.format`` fields: ``{header}``, ``{value}``, ``{codes}``, ``{detail}``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from string import Formatter

from pipelines.warehouse import sql_literal


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
           "请另存为 .xlsx、.xls、.ods、.csv（UTF-8 或 GBK 编码）或 .json 后重新报送。"),
    Reason("unreadable_file", "文件无法读取", "file", "文件无法读取：{detail}",
           "请用 Excel/WPS 打开确认文件完好，另存为 .xlsx 后重新报送。"),
    Reason("file_encrypted", "文件已加密", "file", "文件设置了打开密码，无法读取",
           "请取消文件的打开密码（文件→信息→保护工作簿），另存后重新报送。"),
    Reason("no_sheet", "没有工作表", "file", "工作簿中没有工作表{detail}",
           "请确认数据在一张可见的工作表中（隐藏的工作表和图表页不会读取），另存后重新报送。"),
    Reason("bad_encoding", "文字编码错误", "file", "文件的文字编码无法识别：{detail}",
           "请用 Excel/WPS 另存为 .xlsx，或另存为 CSV（UTF-8 或 GBK 编码）后重新报送。"),
    Reason("file_too_large", "文件过大", "file", "文件过大：{value}，超过上限 {detail}",
           "请按年度或单位拆分为几个较小的文件分别报送。"),
    Reason("too_many_rows", "行数过多", "file", "文件行数（{value}）超过上限 {detail} 行",
           "请按年度或单位拆分为几个较小的文件分别报送。"),
    Reason("too_many_columns", "列数过多", "file", "文件列数（{value}）超过上限 {detail} 列",
           "请删除与本数据无关的列（或整张表中远处的零散内容）后重新报送。"),
    Reason("too_many_cells", "使用范围过大", "file",
           "工作表{value}，超过 {detail}个单元格的上限",
           "多半是数据区以外有多余的单元格或格式：请删除数据区以外的行和列（或远处的零散内容），"
           "另存后重新报送。"),
    Reason("cell_too_long", "单元格内容过长", "file",
           "第{value}行有单元格内容超过 {detail} 个字符", "请精简该单元格内容后重新报送。"),
    Reason("zip_bomb", "文件解压后过大", "file", "文件解压后过大（{value}），超过上限 {detail}",
           "请用 Excel/WPS 打开后另存为新文件，删除多余的空行、空列和格式后重新报送。"),
    Reason("unsafe_xml", "文件含不安全内容", "file", "文件中含有不允许的 XML 内容（{detail}）",
           "请用 Excel/WPS 打开后另存为新的 .xlsx 文件再报送，不要手工编辑文件内部内容。"),
    Reason("too_deep", "嵌套层级过深", "file", "JSON 嵌套层级过深（超过 {detail} 层）",
           "JSON 须为对象数组，每个对象的值为文字、数字或是/否，不要嵌套。"),
    Reason("number_too_long", "数字位数过多", "file", "JSON 中有位数过多的数字（超过 {detail} 位）",
           "请核对数字，金额以万元为单位，身份证号等编号请用文字（加引号）。"),
    Reason("id_column_excel_damaged", "身份证号整列被Excel损坏", "file",
           "“{detail}”列中有 {value} 个身份证号以 000 结尾：该列已被 Excel 按数字保存，每个号码"
           "只保留了前15位有效数字，本文件不予入库",
           "请将该列设置为“文本”格式后重新录入完整的18位身份证号（不要从数字格式的列复制），"
           "再另存报送；请勿直接用 Excel 打开并保存 CSV 文件。"),
    Reason("no_header", "未找到表头", "file", "未找到表头行（{detail}前 {value} 行中没有可识别的列名）",
           "请使用标准模板（报送门户“模板与说明”页可下载），保留列名行，不要改动列名。"),
    Reason("missing_required_column", "缺少必填列", "file", "缺少必填列：{value}{detail}",
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
    Reason("id_excel_damaged", "身份证号被Excel损坏", "row",
           "身份证号“{value}”末三位为 000 且校验位不符：疑被 Excel 按数字保存，只保留了前15位有效数字",
           "请将该列设置为“文本”格式后重新录入完整的18位身份证号，不要从数字单元格复制。"),
    Reason("id_bad_format", "身份证号格式错误", "row", "身份证号“{value}”格式不正确：应为18位，前17位为数字，"
           "末位为数字或X", "请核对并填写完整的18位身份证号。"),
    Reason("id_bad_checksum", "身份证号校验位错误", "row", "身份证号“{value}”校验位不正确",
           "请逐位核对身份证号，常见为录入时错位或漏位。"),
    Reason("id_bad_birth", "身份证号出生日期无效", "row",
           "身份证号“{value}”中的出生日期无效：须为真实日期，不早于1900年1月1日，"
           "且至少早于报送日期16年", "请核对身份证号第7-14位（出生日期）。"),
    Reason("id_bad_area", "身份证号地区码无效", "row",
           "身份证号“{value}”的前6位不是有效的行政区划代码（地区码）",
           "请核对身份证号前6位（地区码），常见为录入时错位或写错。"),
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
           "请核对数值，应为{detail}。"),
    Reason("value_out_of_bounds", "超出可接受范围", "row",
           "“{header}”的值“{value}”超出可接受的范围（{detail}）",
           "请核对数值或日期（金额以万元为单位），允许范围为 {detail}。"),
    Reason("duplicate_key", "关键字段重复", "row", "同一文件中关键字段（{detail}）重复：{value}",
           "同一对象在一个文件中只能出现一行，请合并或删除重复行。"),
    # --- notes: reported, nothing refused ---
    Reason("extra_column", "多余列已忽略", "note", "列“{value}”不在模板中，已忽略",
           "如该列有用，请与组织部联系扩展数据规范；否则可删除该列。"),
    Reason("responsibility_blank", "责任类型未填写", "note",
           "“{header}”未填写：该行已入库，暂按领导责任（较轻权重）计分，且不作为直接责任认定",
           "请补填“{header}”（直接责任/领导责任）后重新报送该行。"),
    Reason("tolerance_unstated", "容错免责未填写", "note",
           "“{header}”未填写，但已填写容错依据：该行已入库，暂按容错免责处理（不扣分，不作为线索依据）",
           "请在“{header}”填写“是”或“否”后重新报送该行：不予容错免责的须填“否”。"),
    Reason("read_by_content", "按实际格式读取", "note",
           "文件扩展名为“{value}”，但内容是 {detail} 格式，已按实际格式读取",
           "下次请保存为与内容一致的扩展名（另存为时选择文件类型）。"),
    Reason("hidden_sheets_skipped", "已跳过隐藏工作表", "note",
           "已读取第一张可见的工作表“{value}”，跳过了前面的隐藏工作表或图表页：{detail}",
           "如数据不在这张工作表中，请把数据表移到最前面。"),
    Reason("two_line_header", "两行表头", "note", "第{value}行为两行表头，已合并读取", ""),
    Reason("note_row_skipped", "说明行已跳过", "note",
           "表头下方第{value}行为单位或说明行（{detail}），已跳过", ""),
    Reason("trailer_rows_ignored", "表尾行已忽略", "note",
           "第{value}行不是数据（{detail}），已忽略，未作为问题行", ""),
    # --- row notes: the row is accepted but does not count yet (sources.md, "Rows about people
    # the roster does not know"; rules.md, "Identity doubts stop evidence") ---
    Reason("id_unmatched", "未匹配", "note",
           "未匹配：身份证号“{value}”不在已收到的任何干部名册中，该行已接收但暂不计入画像",
           "可能是干部名册尚未报送，名册到达后将自动匹配；也可能是身份证号录入有误，"
           "请核对：如有误，请先撤回该记录（撤回申请），再以正确身份证号重新报送。"),
    # The roster's name is not in the note: a unit never learns another unit's data (here
    # ORG's roster) from its own receipt; the organization department sees both names in
    # `cadre identity list` and the reviews.
    Reason("identity_doubt", "身份存疑", "note",
           "身份存疑：姓名“{value}”与干部名册中该身份证号登记的姓名不一致，"
           "该行已接收但不计入任何画像和预警",
           "请核对身份证号与姓名：如身份证号有误，请先撤回该记录，再以正确身份证号重新报送；"
           "如姓名有误，请更正后重新报送；如确为同一人（如曾用名），请联系组织部核实确认。"),
    # --- withdrawals (撤回申请): one note per requested record ---
    Reason("withdrawn", "已撤回", "note", "{detail}",
           "该记录自下一次画像构建起不再计入画像和预警，历史记录保留。"),
    Reason("withdrawal_refused", "撤回未执行", "note", "撤回未执行：{detail}",
           "只能撤回本单位报送且当前有效的记录；请核对数据类别、记录编号、问题序号和身份证号。"),
)

BY_CODE: dict[str, Reason] = {r.code: r for r in REASONS}


def render(code: str, **fields: object) -> tuple[str, str]:
    """(message_zh, fix_zh) for a reason code with its fields filled in."""
    reason = BY_CODE[code]
    values = {"header": "", "value": "", "codes": "", "detail": ""}
    values.update({k: "" if v is None else str(v) for k, v in fields.items()})
    return reason.message_zh.format(**values), reason.fix_zh.format(**values)


def scopes(codes: list[str]) -> list[str]:
    """Each issue's scope (``Issue.scope``) for a column of reason codes, looked up once per
    reason (a receipt can hold a note per row of an evidence file)."""
    scope_of = {code: BY_CODE[code].scope for code in dict.fromkeys(codes)}
    return [scope_of[code] for code in codes]


def row_renderer(code: str, header: str) -> Callable[[str, str], tuple[str, str]]:
    """``render(code, header=header, value=value, detail=detail)`` as a function of (value,
    detail), the same text, for the many notes of one reason on one column (an evidence file
    sent before the roster has a 未匹配 note on every row): the fields are bound once, and a fix
    that names neither value nor detail is rendered once."""
    reason = BY_CODE[code]
    message = partial(reason.message_zh.format, header=header, codes="")
    fix = partial(reason.fix_zh.format, header=header, codes="")
    if {name for _, name, _, _ in Formatter().parse(reason.fix_zh)} <= {None, "header", "codes"}:
        fixed = fix(value="", detail="")
        return lambda value, detail: (message(value=value, detail=detail), fixed)
    return lambda value, detail: (message(value=value, detail=detail),
                                  fix(value=value, detail=detail))


def _sql_format(template: str, fields: dict[str, str]) -> str:
    """``template.format(**values)`` as a SQL expression: the literal parts quoted, each field
    the SQL expression ``fields`` gives for it (already text, never null)."""
    parts = []
    for literal, name, spec, conversion in Formatter().parse(template):
        if literal:
            parts.append(sql_literal(literal))
        if name is not None:
            if spec or conversion:
                raise ValueError(f"no SQL rendering for {{{name}!{conversion}:{spec}}}")
            parts.append(fields[name])
    return " || ".join(parts) or "''"


def row_sql(code: str, header: str, value: str, detail: str = "null") -> tuple[str, str]:
    """SQL expressions giving ``row_renderer(code, header)(value, detail)``: (message_zh,
    fix_zh) rendered in the warehouse for notes made there (``identity.insert_row_notes``);
    ``value`` and ``detail`` are SQL text expressions, a null one reading as empty text."""
    reason = BY_CODE[code]
    fields = {"header": sql_literal(header), "codes": "''",
              "value": f"coalesce({value}, '')", "detail": f"coalesce({detail}, '')"}
    return _sql_format(reason.message_zh, fields), _sql_format(reason.fix_zh, fields)
