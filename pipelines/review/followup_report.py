"""The follow-up report (复检与到期提醒): HTML and XLSX from a ``FollowupScan``.

Why its own report beside the half-yearly review: the follow-up DAG runs often (weekly by
default) and the people who act on it (干部监督科) need the short list of what falls due now
and each adjusted cadre's file, not the whole review.
"""

from __future__ import annotations

import logging
from datetime import date, datetime
from pathlib import Path

import pandas as pd

from pipelines import settings, warehouse
from pipelines.render.html import environment
from pipelines.render.xlsx import open_workbook, write_table
from pipelines.review import decisions
from pipelines.review.decision_drops import apply_decision_drops
from pipelines.review.followup import FollowupScan, scan_in
from pipelines.review.view import recheck_zh, text
from pipelines.settings import DataHome

log = logging.getLogger(__name__)


def _rows(frame: pd.DataFrame, columns: dict[str, str]) -> list[dict[str, str]]:
    return [{zh: text(row[col]) for col, zh in columns.items()} for _, row in frame.iterrows()]


def _with_result(frame: pd.DataFrame) -> pd.DataFrame:
    frame = frame.copy()
    frame["result_zh"] = [recheck_zh(r) for _, r in frame.iterrows()]
    return frame


def sections(scan: FollowupScan) -> dict[str, list[dict[str, str]]]:
    observation = scan.observation.copy()
    observation["due_zh"] = ["已逾期" if o else "即将到期" for o in observation["overdue"]]
    return {
        "observation": _rows(observation, {
            "flag_id": "线索编号", "name": "姓名", "org_name": "单位", "rule_id": "规则",
            "detail_zh": "发现情况", "observe_until": "考察期截止", "due_zh": "提醒"}),
        "influence": _rows(scan.influence, {
            "name": "姓名", "org_name": "单位", "kind": "类别", "measure": "措施",
            "decided_on": "决定日期", "effect_until": "影响期截止"}),
        "rechecks": _rows(_with_result(scan.rechecks), {
            "flag_id": "线索编号", "name": "姓名", "org_name": "单位", "measure": "调整方式",
            "recheck_no": "第几次复检", "recheck_on": "复检日期", "result_zh": "复检结果"}),
        "eligible": _rows(scan.eligible, {
            "flag_id": "线索编号", "name": "姓名", "org_name": "单位", "measure": "调整方式",
            "adjusted_on": "调整日期", "reappoint_from": "可重新任职日期",
            "promotion_from": "可提拔日期", "last_recheck_on": "最近复检"}),
    }


def files(scan: FollowupScan) -> list[dict[str, object]]:
    """One file per adjusted cadre: who, what was decided, targets, re-checks."""
    result = []
    schedule = _with_result(scan.schedule)
    for _, f in scan.files.iterrows():
        eligible = not pd.isna(f["eligible"]) and bool(f["eligible"])
        status = f["file_status_zh"] + ("，符合重新任用条件" if eligible else "")
        result.append({
            "head": f"{text(f['name'])}（{text(f['org_name'])} {text(f['post_title'])}）",
            "info": {"线索编号": f["flag_id"], "身份证号": f["id_number"],
                     "线索": f"{f['rule_id']} {text(f['rule_title_zh'])}",
                     "调整方式": text(f["measure"]), "调整日期": text(f["adjusted_on"]),
                     "文号": text(f["document_no"]), "可重新任职日期": text(f["reappoint_from"]),
                     "可提拔日期": text(f["promotion_from"]), "档案状态": status,
                     "尚需满足": text(f["blockers_zh"])},
            "targets": _rows(scan.targets[scan.targets["flag_id"] == f["flag_id"]], {
                "target_no": "序号", "target_zh": "目标", "set_by": "设定人", "set_on": "设定日期"}),
            "rechecks": _rows(schedule[schedule["flag_id"] == f["flag_id"]], {
                "recheck_no": "第几次", "recheck_on": "复检日期", "profile_period": "依据画像",
                "score_overall": "综合得分", "result_zh": "结果"}),
        })
    return result


def write_followup_report(scan: FollowupScan, out_dir: Path) -> list[Path]:
    out_dir.mkdir(parents=True, exist_ok=True)
    title = f"干部复检与到期提醒（{scan.as_of}）"
    parts, dossiers = sections(scan), files(scan)
    html = out_dir / f"复检与到期提醒_{scan.as_of}.html"
    html.write_text(environment().get_template("followup.html.j2").render(
        title=title, s=scan, files=dossiers, generated_at=datetime.now().replace(microsecond=0),
        **parts), encoding="utf-8")
    xlsx = out_dir / f"复检与到期提醒_{scan.as_of}.xlsx"
    book, fmt = open_workbook(xlsx)
    try:
        for name, key in (("考察期到期", "observation"), ("影响期届满", "influence"),
                          ("复检", "rechecks"), ("可重新任用", "eligible")):
            write_table(book.add_worksheet(name), fmt, 0, parts[key])
        write_table(book.add_worksheet("复检档案"), fmt, 0, [d["info"] for d in dossiers])
        write_table(book.add_worksheet("工作目标"), fmt, 0,
                    [{"线索编号": d["info"]["线索编号"], **t} for d in dossiers for t in d["targets"]])
    finally:
        book.close()
    return [html, xlsx]


def scan(home: DataHome, as_of: date | None = None, days: int = 30,
         out_dir: Path | None = None, today: date | None = None) -> tuple[FollowupScan, list[Path]]:
    """The follow-up DAG's task: apply pending decision drops, scan, write the report.

    ``as_of`` and ``today`` (the date decision rows are checked against) default to today in
    the deployment time zone; the DAG passes its run's date.
    Lives here, not in ``followup``, so the scan never imports its report (one-way imports)."""
    as_of = as_of or settings.today()
    apply_decision_drops(home, today or as_of)
    with warehouse.writer(home.warehouse_file) as con:
        decisions.ensure(con)
        result = scan_in(con, as_of, days)
    paths = write_followup_report(result, out_dir or home.reports / "followup")
    log.info("follow-up %s: %s", as_of, result.counts())
    return result, paths
