"""Sample decisions for ``make demo``, sent the way the department would: an ORG decision file.

Why: a demo review of fresh sample data would show every flag as 待核实 and no follow-up; a
handful of decisions (confirm and adjust, observe, an appeal that is granted, a clearance)
shows the whole lifecycle, the follow-up file and the stock-take. They go through ingest and
the state machine like real ones, and say 演示 in who decided, so nobody mistakes them.
Only used when the decision log is empty, so re-running the demo adds nothing. The demo stages
its decisions itself, then asks the review for its report like any caller.
"""

from __future__ import annotations

import csv
from datetime import date, timedelta
from pathlib import Path

from pipelines import warehouse
from pipelines.ingest.steps import submit_file
from pipelines.review import sql as review_sql
from pipelines.review.decision_drops import apply_decision_drops
from pipelines.review.report import period_of, write_review
from pipelines.settings import DataHome

HEADER = ["线索编号", "身份证号", "姓名", "决定类型", "调整方式", "决定日期", "决定人", "决定理由", "文号"]
BY = "组织部部务会（演示）"
# per candidate, in flag-id order: (days after the start, action, measure, document number)
PLANS: tuple[tuple[tuple[int, str, str, str], ...], ...] = (
    ((20, "认定不适宜担任现职", "", ""), (45, "组织调整", "调离岗位", "演示组干〔2025〕1号")),
    ((15, "列入考察期", "", ""),),
    ((20, "认定不适宜担任现职", "", ""), (30, "提出申诉", "", ""),
     (60, "申诉成立", "", "演示组申〔2025〕1号")),
    ((25, "不予认定", "", ""),),
)


def stage_demo_decisions(home: DataHome, today: date | None = None) -> Path | None:
    """Write and submit a sample decision file for the latest build's first candidates;
    returns the file, or None when there is no build or decisions already exist."""
    today = today or date.today()
    with warehouse.writer(home.warehouse_file) as con:
        review_sql.ensure(con)
        if con.execute("select count(*) from decisions.decision_log").fetchone()[0]:
            return None
        # decisions follow the flag, but not by years: within the 90 days before the build
        flags = con.execute("""
            select flag_id, id_number, name, greatest(opened_on, as_of - 90) from
                decisions.flag_source
            where severity = 'candidate' and in_scope
                and as_of = (select max(as_of) from decisions.build_source)
            order by flag_id limit ?""", [len(PLANS)]).fetchall()
    if not flags:
        return None
    rows = [HEADER]
    for (flag_id, id_number, name, start), plan in zip(flags, PLANS, strict=False):
        for days, action, measure, document in plan:
            on = min(start + timedelta(days=days), today)
            rows.append([flag_id, id_number, name, action, measure, on.isoformat(), BY,
                         "演示：经核实研究决定", document])
    path = home.root / "samples" / "ORG" / "decision" / "演示_干部调整决定记录.csv"
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8-sig", newline="") as handle:
        csv.writer(handle).writerows(rows)
    submit_file(path, "ORG", "decision", home)
    apply_decision_drops(home, today)
    return path


def build_history(home: DataHome, as_of: date, periods: int = 3) -> list[date]:
    """Builds as of the ends of the ``periods`` half-years before ``as_of``'s, so the demo's
    公平性监测 has a trend to draw. Run before the main build: the latest build by time stays
    the one as of ``as_of`` (what ``cadre candidates`` shows by default)."""
    from pipelines.build.steps import build

    ends = []
    year, half = as_of.year, 1 if as_of.month <= 6 else 2
    for _ in range(periods):
        year, half = (year, 1) if half == 2 else (year - 1, 2)
        ends.append(date(year, 6, 30) if half == 1 else date(year, 12, 31))
    for end in sorted(ends):
        build(home, end)
    return sorted(ends)


def describe_fairness(home: DataHome, as_of: date) -> str:
    """One line for the demo: how many groups breach in the half-year of ``as_of``, and which."""
    from pipelines.review.fairness import load_fairness
    from pipelines.review.fairness_report import GROUPING_ZH, OUTCOME_ZH, group_zh
    from pipelines.review.report import period_of

    with warehouse.writer(home.warehouse_file) as con:
        review_sql.ensure(con)
        report = load_fairness(con, period_of(as_of))
    breaches = report.breaches
    judged = int((report.table["status"] != "insufficient").sum())
    names = "、".join(f"{GROUPING_ZH[r.grouping]}{group_zh(r.grouping, r.group)}"
                     f"（{OUTCOME_ZH[r.outcome]}）" for r in breaches.itertuples())
    return (f"公平性监测 {report.period.label}：{len(report.table)} 行，{judged} 行可判断，"
            f"差异超限 {len(breaches)} 行" + (f"：{names}" if names else "")
            + f"；趋势 {len(report.trend)} 期")
def write_demo_review(home: DataHome, sample_decisions: bool = True) -> Path:
    """``make demo``'s last step: the review of the half-year of the latest build; returns
    the HTML path (the XLSX lies beside it). With ``sample_decisions``, the sample ORG decision
    file is sent first, so the report shows the whole lifecycle."""
    if sample_decisions:
        stage_demo_decisions(home)
    with warehouse.writer(home.warehouse_file) as con:
        review_sql.ensure(con)
        latest = con.execute("select max(as_of) from decisions.build_source").fetchone()[0]
    return write_review(home, period_of(latest or date.today())).html
