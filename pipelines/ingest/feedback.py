"""Feedback reports for the submitting unit: what happened to its file and how to fix it.

One submission gives one report in two forms: XLSX (the unit filters the issue list by row or
problem while correcting its ledger) and HTML (self-contained, to read or print and file). Both
are rendered from the ``Receipt`` alone, in Chinese, with the wording of ``pipelines.ingest.reasons``.
This module says what the report says (``build_report``); how it looks is
``pipelines/render/templates/feedback.html.j2`` (with the one style sheet) and
``pipelines.render.xlsx`` (which also keeps a unit's "=..." value from becoming a formula).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from operator import attrgetter
from pathlib import Path
from typing import NamedTuple

from pipelines.contracts import Contract, load_contract, load_units
from pipelines.ingest import reasons
from pipelines.ingest.receipt import Issue, Receipt
from pipelines.render.files import safe_filename
from pipelines.render.html import environment
from pipelines.render.xlsx import open_workbook, write_fields, write_lines, write_table, write_title

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
# How each outcome reads: good news, a warning, a refusal, nothing new.
STATUS_TONE = {"accepted": "good", "partially_accepted": "warn", "refused": "bad",
               "duplicate": "muted"}
OUTCOME_LABEL = "处理结果"
SCOPE_ZH = {"file": "文件问题", "row": "行问题", "note": "提示"}
ISSUE_COLUMNS = ("序号", "类别", "行号", "列", "值", "问题", "修改方法", "原因代码")
HTML_ISSUE_LIMIT = 2000  # beyond this the HTML lists the first ones; the XLSX has them all
XLSX_ISSUE_LIMIT = 1_000_000  # Excel's sheet holds 1,048,576 rows


class IssueRow(NamedTuple):
    """One line of the issue list, as the unit reads it (a named tuple: a report can hold a
    hundred thousand, and a frozen dataclass takes five times as long to make)."""

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
    tone: str  # of the outcome: good, warn, bad or muted
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
    stem = f"{safe_filename(receipt.submission_id)}_{safe_filename(receipt.source)}_反馈"
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
    summary.append((OUTCOME_LABEL, status_zh))
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
        tone=STATUS_TONE.get(receipt.status, "muted"),
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
    # column by column (a report can hold a note per row of an evidence file): each issue's
    # scope once per reason, then one sort of the row positions by (scope, no row first, row,
    # the column's place in the contract), stable as the sort of the issues was
    reason = list(map(attrgetter("reason"), issues))
    scope = reasons.scopes(reason)
    source_row = list(map(attrgetter("source_row"), issues))
    column = list(map(attrgetter("column"), issues))
    keys = list(zip([scope_rank.get(s, 1) for s in scope], [r is None for r in source_row],
                    [r or 0 for r in source_row],
                    [order.get(c or "", len(order)) for c in column], strict=True))
    ranked = sorted(range(len(issues)), key=keys.__getitem__)

    header = list(map(attrgetter("header"), issues))
    # (header, column) -> the column as shown
    columns = {key: _column_zh(*key, contract)
               for key in dict.fromkeys(zip(header, column, strict=True))}
    shown = [columns[key] for key in zip(header, column, strict=True)]
    value = [v or "" for v in map(attrgetter("value"), issues)]
    message = list(map(attrgetter("message_zh"), issues))
    fix = list(map(attrgetter("fix_zh"), issues))
    return [IssueRow(number, scope[n], source_row[n], shown[n], value[n], message[n], fix[n],
                     reason[n]) for number, n in enumerate(ranked, start=1)]


def _column_zh(header: str | None, column: str | None, contract: Contract | None) -> str:
    """The column as the unit wrote it (an issue's header), else the contract's Chinese
    header of the issue's column."""
    if header:
        return header
    if column and contract and column in contract.field_names:
        return contract.field(column).header_zh
    return column or ""


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


# ---- drawing: the content above, through the one XLSX helper and the one template folder ----

def _write_xlsx(report: Report, path: Path) -> None:
    """Sheets 概要 (the summary form and the next steps) and 问题清单 (every issue, filterable)."""
    book, fmt = open_workbook(path, constant_memory=True)
    try:
        sheet = book.add_worksheet("概要")
        write_title(sheet, fmt, 0, report.title)
        fields = list(report.summary)
        if report.reasons:
            fields.append(("主要问题", "\n".join(report.reasons)))
        row = write_fields(sheet, fmt, 2, fields, tones={OUTCOME_LABEL: report.tone}) + 1
        write_lines(sheet, fmt, row, ["如何修改后重新报送"], style="bold")
        write_lines(sheet, fmt, row + 1, report.next_steps, col=1)

        rows = [(item.number, SCOPE_ZH.get(item.scope, item.scope),
                 item.row if item.row is not None else item.row_zh, item.column, item.value,
                 item.message, item.fix, item.reason)  # in the order of ISSUE_COLUMNS
                for item in (report.problems + report.notes)[:XLSX_ISSUE_LIMIT]]
        write_table(book.add_worksheet("问题清单"), fmt, 0, rows, ISSUE_COLUMNS,
                    widths=dict(zip(ISSUE_COLUMNS, (6, 10, 8, 16, 24, 50, 50, 22), strict=True)),
                    spliced=True)  # one row per note can make it huge
    finally:
        book.close()


def render_html(report: Report) -> str:
    """The report as one self-contained HTML page (inline CSS, no external resources)."""
    return environment().get_template("feedback.html.j2").render(
        r=report, limit=HTML_ISSUE_LIMIT, outcome=OUTCOME_LABEL)
