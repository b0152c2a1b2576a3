"""Feedback reports for the submitting unit: what happened to its file and how to fix it.

One submission gives one report in two forms: XLSX (the unit filters the issue list by row or
problem while correcting its ledger) and HTML (self-contained, to read or print and file). Both
are rendered from the ``Receipt`` alone, in Chinese, with the wording of ``pipelines.ingest.reasons``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import jinja2
import xlsxwriter
from markupsafe import Markup

from pipelines.contracts import Contract, load_contract, load_units
from pipelines.ingest.receipt import Issue, Receipt

STATUS_ZH: dict[str, str] = {
    "accepted": "全部接收",
    "partially_accepted": "部分接收",
    "refused": "拒收",
    "duplicate": "重复报送（未重复入库）",
    # in-flight states, should a report be asked for before the run finished
    "received": "已收到，处理中",
    "parsed": "已收到，处理中",
    "validated": "已收到，处理中",
}
SCOPE_ZH = {"file": "文件问题", "row": "行问题", "note": "提示"}
ISSUE_COLUMNS = ("序号", "类别", "行号", "列", "值", "问题", "修改方法", "原因代码")
HTML_ISSUE_LIMIT = 2000  # beyond this the HTML lists the first ones; the XLSX has them all
XLSX_ISSUE_LIMIT = 1_000_000  # Excel's sheet holds 1,048,576 rows


@dataclass(frozen=True)
class IssueRow:
    """One line of the issue list, as the unit reads it."""

    number: int
    scope: str
    row: int | None
    column: str
    value: str
    message: str
    fix: str
    reason: str

    @property
    def row_zh(self) -> str:
        if self.row is not None:
            return str(self.row)
        return "整个文件" if self.scope == "file" else "—"


@dataclass(frozen=True)
class Report:
    """Everything both renderings show, computed once."""

    title: str
    status: str
    status_zh: str
    summary: tuple[tuple[str, str], ...]
    reasons: tuple[str, ...]
    next_steps: tuple[str, ...]
    problems: tuple[IssueRow, ...]  # file-level first, then rows by row number
    notes: tuple[IssueRow, ...]


def write_feedback(receipt: Receipt, out_dir: Path) -> list[Path]:
    """Write ``<submission_id>_<source>_反馈.xlsx`` and ``.html`` into ``out_dir``."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    report = build_report(receipt)
    stem = f"{_safe(receipt.submission_id)}_{_safe(receipt.source)}_反馈"
    xlsx_path = out_dir / f"{stem}.xlsx"
    html_path = out_dir / f"{stem}.html"
    _write_xlsx(report, xlsx_path)
    html_path.write_text(render_html(report), encoding="utf-8")
    return [xlsx_path, html_path]


def build_report(receipt: Receipt) -> Report:
    contract = _contract(receipt.source)
    unit = load_units().get(receipt.unit)
    unit_zh = f"{unit.name_zh}（{unit.code}）" if unit else receipt.unit
    source_zh = f"{contract.title_zh}（{receipt.source}）" if contract else receipt.source
    status_zh = STATUS_ZH.get(receipt.status, receipt.status)

    rows = _issue_rows(receipt, contract)
    problems = tuple(r for r in rows if r.scope != "note")
    notes = tuple(r for r in rows if r.scope == "note")
    file_count = sum(r.scope == "file" for r in problems)
    row_count = len(problems) - file_count
    rows_hit = len({r.row for r in problems if r.scope == "row" and r.row is not None})

    summary: list[tuple[str, str]] = [
        ("报送单位", unit_zh),
        ("数据类别", source_zh),
        ("文件名", receipt.filename),
        ("提交编号", receipt.submission_id),
        ("SHA-256", receipt.sha256),
        ("接收时间", _time_zh(receipt.received_at)),
    ]
    if receipt.finished_at:
        summary.append(("处理完成时间", _time_zh(receipt.finished_at)))
    summary.append(("处理结果", status_zh))
    if receipt.status == "refused" and receipt.refusal_reason:
        summary.append(("拒收原因", receipt.refusal_reason))
    if receipt.status == "duplicate" and receipt.duplicate_of:
        summary.append(("重复报送", f"与提交编号 {receipt.duplicate_of} 的文件内容完全相同"))
    summary += [
        ("读取行数", str(receipt.rows_read)),
        ("接收行数", str(receipt.rows_accepted)),
        ("隔离行数", str(receipt.rows_quarantined)),
        ("问题统计", f"文件问题 {file_count} 项；行问题 {row_count} 项（涉及 {rows_hit} 行）；"
                     f"提示 {len(notes)} 项"),
    ]
    # accepted rows that count nowhere yet, and what a withdrawal did (rules.md, "Decisions
    # stick, and errors can be undone"); each row is also in the notes with its fix
    summary += [(label, f"{count} 行" if "行" in label else f"{count} 条") for label, count in (
        ("未匹配行数（身份证号不在名册中，暂不计入）", receipt.rows_unmatched),
        ("身份存疑行数（姓名与名册不符，不计入）", receipt.rows_identity_doubt),
        ("已撤回记录", receipt.records_withdrawn),
        ("未执行的撤回", receipt.withdrawals_refused)) if count]
    return Report(
        title=f"数据报送反馈：{contract.title_zh if contract else receipt.source}",
        status=receipt.status,
        status_zh=status_zh,
        summary=tuple(summary),
        reasons=tuple(receipt.reasons[:10]),
        next_steps=_next_steps(receipt, contract, bool(problems), bool(notes)),
        problems=problems,
        notes=notes,
    )


def _contract(source: str) -> Contract | None:
    """The source's contract, or None when the refusal was for an unknown source."""
    try:
        return load_contract(source)
    except KeyError:
        return None


def _issue_rows(receipt: Receipt, contract: Contract | None) -> list[IssueRow]:
    issues = list(receipt.issues)
    noted = {i.value for i in issues if i.reason == "extra_column"}
    issues += [Issue.make("extra_column", value=name) for name in receipt.extra_columns
               if name not in noted]
    order = {name: n for n, name in enumerate(contract.field_names)} if contract else {}
    scope_rank = {"file": 0, "row": 1, "note": 2}

    def sort_key(issue: Issue) -> tuple[int, bool, int, int]:
        return (scope_rank.get(issue.scope, 1), issue.source_row is None, issue.source_row or 0,
                order.get(issue.column or "", len(order)))

    rows = []
    for number, issue in enumerate(sorted(issues, key=sort_key), start=1):
        rows.append(IssueRow(
            number=number, scope=issue.scope, row=issue.source_row,
            column=_column_zh(issue, contract), value=issue.value or "",
            message=issue.message_zh, fix=issue.fix_zh, reason=issue.reason))
    return rows


def _column_zh(issue: Issue, contract: Contract | None) -> str:
    """The column as the unit wrote it, else the contract's Chinese header."""
    if issue.header:
        return issue.header
    if issue.column and contract and issue.column in contract.field_names:
        return contract.field(issue.column).header_zh
    return issue.column or ""


def _next_steps(receipt: Receipt, contract: Contract | None, has_problems: bool,
                has_notes: bool) -> tuple[str, ...]:
    """The "如何修改后重新报送" paragraph, by outcome."""
    whole_file = "（本类数据为全量报送，须重新报送包含全部人员的完整文件，不能只报送修改的行）" \
        if contract and contract.snapshot else \
        "（可报送修改后的完整文件；同一关键字段的记录以最新一次报送为准，不会重复计入）"
    steps: list[str] = []
    if receipt.status == "refused":
        steps.append("本次报送已整体拒收，没有任何数据入库。")
        steps.append("请按“问题清单”修改文件后重新报送完整文件。")
    elif receipt.status == "partially_accepted":
        steps.append(f"已接收 {receipt.rows_accepted} 行并入库；{receipt.rows_quarantined} "
                     "行未通过校验，已隔离，未入库。")
        steps.append("请按“问题清单”的行号逐行修改这些行（Excel 版可按行号或问题筛选），"
                     f"修改后重新报送{whole_file}。")
    elif receipt.status == "duplicate":
        steps.append("本文件与此前已报送的文件内容完全相同，未重复入库，无需处理。"
                     "如需更正数据，请修改后重新报送。")
    elif receipt.status == "accepted":
        steps.append("本次报送的数据已全部接收入库，无需重新报送。")
    else:
        steps.append("本次报送尚在处理中，处理完成后将另行反馈。")
    if has_problems and receipt.status not in ("refused", "partially_accepted"):
        steps.append("请核对“问题清单”中的各项。")
    if has_notes:
        steps.append("“提示”中的事项不影响本次接收，请在下次报送时留意。")
    steps.append("建议使用最新的填报模板填写，各列填写要求见模板中的“填写说明”页；"
                 "身份证号请以文本格式录入完整的18位。")
    return tuple(steps)


def _time_zh(text: str | None) -> str:
    if not text:
        return ""
    try:
        return datetime.fromisoformat(text).strftime("%Y-%m-%d %H:%M:%S")
    except ValueError:
        return text


def _safe(text: str) -> str:
    """A file-name-safe form of an id: units choose folder names, not us."""
    return re.sub(r"[^\w.-]", "_", text).strip(".") or "_"


# ---- XLSX ----------------------------------------------------------------------------------

def _write_xlsx(report: Report, path: Path) -> None:
    workbook = xlsxwriter.Workbook(str(path), {"constant_memory": True})
    try:
        title = workbook.add_format({"bold": True, "font_size": 14})
        label = workbook.add_format({"bold": True, "bg_color": "#F2F2F2", "border": 1,
                                     "valign": "top"})
        cell = workbook.add_format({"border": 1, "text_wrap": True, "valign": "top"})
        status = workbook.add_format({"border": 1, "bold": True, "valign": "top",
                                      "font_color": _STATUS_COLOUR.get(report.status, "#000000")})
        wrap = workbook.add_format({"text_wrap": True, "valign": "top"})
        bold = workbook.add_format({"bold": True})

        sheet = workbook.add_worksheet("概要")
        sheet.set_column(0, 0, 16)
        sheet.set_column(1, 1, 90)
        sheet.write_string(0, 0, report.title, title)
        row = 2
        for name, value in report.summary:
            sheet.write_string(row, 0, name, label)
            if value:
                sheet.write_string(row, 1, value, status if name == "处理结果" else cell)
            else:
                sheet.write_blank(row, 1, None, cell)
            row += 1
        if report.reasons:
            sheet.write_string(row, 0, "主要问题", label)
            sheet.write_string(row, 1, "\n".join(report.reasons), cell)
            row += 1
        row += 1
        sheet.write_string(row, 0, "如何修改后重新报送", bold)
        for step in report.next_steps:
            row += 1
            sheet.write_string(row, 1, step, wrap)

        issues = workbook.add_worksheet("问题清单")
        head = workbook.add_format({"bold": True, "bg_color": "#D9D9D9", "border": 1})
        for col, (name, width) in enumerate(zip(ISSUE_COLUMNS, (6, 10, 8, 16, 24, 50, 50, 22),
                                                strict=True)):
            issues.set_column(col, col, width, wrap if name in ("问题", "修改方法") else None)
            issues.write_string(0, col, name, head)
        rows = (report.problems + report.notes)[:XLSX_ISSUE_LIMIT]
        for r, item in enumerate(rows, start=1):
            issues.write_number(r, 0, item.number)
            issues.write_string(r, 1, SCOPE_ZH.get(item.scope, item.scope))
            if item.row is not None:
                issues.write_number(r, 2, item.row)
            else:
                issues.write_string(r, 2, item.row_zh)
            # write_string throughout: a value like "=1+1" or an ID must stay text;
            # empty stays blank so Excel's filter offers "(空白)"
            for col, text in enumerate((item.column, item.value, item.message, item.fix,
                                        item.reason), start=3):
                if text:
                    issues.write_string(r, col, text)
        issues.autofilter(0, 0, max(len(rows), 1), len(ISSUE_COLUMNS) - 1)
        issues.freeze_panes(1, 0)
    finally:
        workbook.close()


_STATUS_COLOUR = {"accepted": "#1E7B34", "partially_accepted": "#B36B00", "refused": "#C00000",
                  "duplicate": "#555555"}


# ---- HTML ----------------------------------------------------------------------------------

_ENV = jinja2.Environment(autoescape=True, undefined=jinja2.StrictUndefined,
                          trim_blocks=True, lstrip_blocks=True)

_HTML = _ENV.from_string("""<!DOCTYPE html>
<html lang="zh-CN">
<head>
<meta charset="utf-8">
<title>{{ r.title }}</title>
<style>
  body { font-family: "Microsoft YaHei", "PingFang SC", "Noto Sans CJK SC", "SimSun",
         sans-serif; font-size: 14px; color: #222; margin: 24px; line-height: 1.5; }
  h1 { font-size: 20px; margin: 0 0 12px; }
  h2 { font-size: 16px; margin: 24px 0 8px; border-left: 4px solid #444; padding-left: 8px; }
  table { border-collapse: collapse; width: 100%; }
  th, td { border: 1px solid #bbb; padding: 4px 8px; text-align: left; vertical-align: top; }
  th { background: #f0f0f0; }
  table.summary th { width: 9em; white-space: nowrap; }
  td.value { word-break: break-all; font-family: Consolas, "Courier New", monospace; }
  td.num { text-align: right; white-space: nowrap; }
  .status { font-weight: bold; }
  .status-accepted { color: #1e7b34; }
  .status-partially_accepted { color: #b36b00; }
  .status-refused { color: #c00000; }
  .status-duplicate { color: #555; }
  tr.file td { background: #fff0f0; }
  p.more { color: #b36b00; }
  @media print {
    body { margin: 0; font-size: 11px; }
    thead { display: table-header-group; }
    tr { page-break-inside: avoid; }
    h2 { page-break-after: avoid; }
  }
  @page { size: A4 landscape; margin: 12mm; }
</style>
</head>
<body>
<h1>{{ r.title }}</h1>
<h2>概要</h2>
<table class="summary">
{% for name, value in r.summary %}
  <tr><th>{{ name }}</th>
  {% if name == "处理结果" %}
    <td class="status status-{{ r.status }}">{{ value }}</td>
  {% else %}
    <td>{{ value }}</td>
  {% endif %}
  </tr>
{% endfor %}
{% if r.reasons %}
  <tr><th>主要问题</th><td>
  {% for reason in r.reasons %}
    {{ reason }}{% if not loop.last %}<br>{% endif %}
  {% endfor %}
  </td></tr>
{% endif %}
</table>
<h2>如何修改后重新报送</h2>
{% for step in r.next_steps %}
<p>{{ step }}</p>
{% endfor %}
<h2>问题清单</h2>
{% if r.problems %}
{{ issue_table(r.problems[:limit]) }}
{% if r.problems|length > limit %}
<p class="more">共 {{ r.problems|length }} 项，此处仅列出前 {{ limit }} 项；
完整清单见同名 Excel 反馈文件。</p>
{% endif %}
{% else %}
<p>无。</p>
{% endif %}
{% if r.notes %}
<h2>提示</h2>
{{ issue_table(r.notes[:limit]) }}
{% endif %}
</body>
</html>
""")

_ISSUE_TABLE = _ENV.from_string("""<table class="issues">
<thead><tr><th>序号</th><th>行号</th><th>列</th><th>值</th><th>问题</th><th>修改方法</th></tr></thead>
<tbody>
{% for i in rows %}
<tr class="{{ i.scope }}">
  <td class="num">{{ i.number }}</td><td class="num">{{ i.row_zh }}</td><td>{{ i.column }}</td>
  <td class="value">{{ i.value }}</td><td>{{ i.message }}</td><td>{{ i.fix }}</td>
</tr>
{% endfor %}
</tbody>
</table>
""")


def render_html(report: Report) -> str:
    """The report as one self-contained HTML page (inline CSS, no external resources)."""

    def issue_table(rows: tuple[IssueRow, ...]) -> Markup:
        return Markup(_ISSUE_TABLE.render(rows=rows))

    return _HTML.render(r=report, limit=HTML_ISSUE_LIMIT, issue_table=issue_table)
