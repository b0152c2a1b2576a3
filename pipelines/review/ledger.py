"""定期盘点 report: how the mechanism itself performed, per unit and period.

Seed §5 asks for a regular stock-take of how 能上能下 is carried out; rules.md §6 names the
figures: flags raised, confirmed, cleared, appealed, adjusted, restored, per unit and period,
and how long each step took. The figures come from the warehouse views
``decisions.ledger_summary``, ``decisions.ledger_event`` and ``decisions.step_duration``, the
same ones analysts query, so the report and an analyst's query cannot disagree. A last section
shows how well the units' data drops fared in the same half-years (``ingest.quality``): flags
are only as good as the files behind them.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd

from pipelines import warehouse
from pipelines.ingest.quality import DataQuality, load_quality
from pipelines.render import svg_charts
from pipelines.render.files import safe_filename
from pipelines.render.html import environment
from pipelines.render.xlsx import open_workbook, write_table, write_title
from pipelines.review import decisions, fairness_report
from pipelines.review import sql as review_sql
from pipelines.review.data import Period, parse_period
from pipelines.review.fairness import load_fairness
from pipelines.review.view import text
from pipelines.settings import DataHome

log = logging.getLogger(__name__)
COUNTS = {"raised": "提出线索", "raised_candidates": "其中不适宜人选", "raised_warnings": "其中预警",
          "observed": "列入考察期", "confirmed": "认定不适宜", "cleared": "排除（含申诉成立）",
          "appealed": "申诉", "appeal_granted": "申诉成立", "appeal_upheld": "申诉维持",
          "adjusted": "组织调整", "restored": "重新任用"}
STEP_ZH = {"verify": "核实认定", "observation": "考察期", "adjustment": "认定至调整",
           "appeal": "申诉处理", "restore": "调整至重新任用"}
CHART_COUNTS = ("raised", "confirmed", "cleared", "appealed", "adjusted", "restored")


@dataclass(frozen=True)
class LedgerScope:
    label: str
    half_years: tuple[str, ...] | None  # None = all
    end: date

    @property
    def label_zh(self) -> str:
        return "全部期间" if self.half_years is None else parse_period(self.label).label_zh


def scope(text_: str) -> LedgerScope:
    """``2025H2`` (one half-year), ``2025`` (both) or ``all``."""
    if text_.strip().lower() == "all":
        return LedgerScope("all", None, date.today())
    period = parse_period(text_)
    if re.fullmatch(r"\d{4}", period.label):
        return LedgerScope(period.label, (f"{period.label}H1", f"{period.label}H2"), period.end)
    return LedgerScope(period.label, (period.label,), period.end)


@dataclass
class LedgerData:
    scope: LedgerScope
    unit: str | None
    summary: pd.DataFrame  # decisions.ledger_summary rows in scope
    steps: pd.DataFrame  # decisions.step_duration rows in scope
    events: pd.DataFrame  # decisions.ledger_event rows in scope
    fairness: Any = None  # pipelines.review.fairness.FairnessReport for the scope's period
    quality: DataQuality | None = None  # the units' drops in the same half-years

    def totals(self) -> dict[str, int]:
        return {k: int(self.summary[k].sum()) if len(self.summary) else 0 for k in COUNTS}

    def step_table(self) -> list[dict[str, str]]:
        rows = []
        for (_step, step_zh), group in self.steps.groupby(["step", "step_zh"], sort=False):
            ended, still = group[~group["open"]], group[group["open"]]
            rows.append({"环节": step_zh, "已完成": len(ended),
                         "用时中位数（天）": text(ended["days"].median()) if len(ended) else "",
                         "平均（天）": text(ended["days"].mean()) if len(ended) else "",
                         "最长（天）": text(ended["days"].max()) if len(ended) else "",
                         "未完成": len(still),
                         "未完成最长已用（天）": text(still["days"].max()) if len(still) else ""})
        return rows


def load_ledger(con: duckdb.DuckDBPyConnection, period: str, unit: str | None = None) -> LedgerData:
    decisions.sync_flags(con)
    s = scope(period)
    review_sql.set_context(con, min(s.end, date.today()))
    where = " where (? is null or list_contains(?, half_year)) and (? is null or org_name = ?)"
    args = [s.half_years, list(s.half_years or []), unit, unit]
    frames = [con.execute(f"select * from {view}{where} order by {order}", args).df()
              for view, order in (("decisions.ledger_summary", "half_year, org_name"),
                                  ("decisions.step_duration", "half_year, org_name, started_on"),
                                  ("decisions.ledger_event", "event_on, flag_id, decision_id"))]
    return LedgerData(s, unit, *frames, quality=load_quality(con, None, s.half_years))


def render_html(data: LedgerData, title: str) -> str:
    totals = data.totals()
    count_chart = svg_charts.bars([COUNTS[k] for k in CHART_COUNTS],
                                  [totals[k] for k in CHART_COUNTS], unit="条", title="盘点汇总")
    units = sorted(data.summary["org_name"].dropna().unique())
    unit_chart = svg_charts.stacked_bars(units, [
        (COUNTS[k], [int(data.summary.loc[data.summary["org_name"] == u, k].sum()) for u in units])
        for k in CHART_COUNTS]) if units else None
    steps = data.step_table()
    step_chart = svg_charts.bars([r["环节"] for r in steps if r["用时中位数（天）"]],
                                 [float(r["用时中位数（天）"]) for r in steps if r["用时中位数（天）"]],
                                 unit="天", title="各环节用时中位数", width=560)
    rows = [{"期间": r["half_year"], "单位": r["org_name"],
             **{zh: int(r[k]) for k, zh in COUNTS.items()}} for _, r in data.summary.iterrows()]
    events = [{"日期": text(e["event_on"]), "单位": text(e["org_name"]), "姓名": text(e["name"]),
               "线索编号": e["flag_id"], "规则": e["rule_id"], "事项": e["event_zh"],
               "调整方式": text(e["measure"]), "决定人": text(e["decided_by"]),
               "文号": text(e["document_no"])} for _, e in data.events.iterrows()]
    return environment().get_template("ledger.html.j2").render(
        title=title, d=data, totals=[(COUNTS[k], v) for k, v in totals.items()],
        count_chart=count_chart, unit_chart=unit_chart, step_chart=step_chart, steps=steps,
        rows=rows, events=events, generated_at=datetime.now().replace(microsecond=0),
        fairness=fairness_report.section(data.fairness),
        quality=data.quality.month_rows_zh() if data.quality else [],
        quality_reasons=data.quality.reason_rows_zh() if data.quality else [])


def write_xlsx(data: LedgerData, path: Path, title: str) -> Path:
    book, fmt = open_workbook(path)
    try:
        sheet = book.add_worksheet("概要")
        write_title(sheet, fmt, 0, title)
        totals = [{"事项": COUNTS[k], "数量": v} for k, v in data.totals().items()]
        end = write_table(sheet, fmt, 2, totals)
        chart = book.add_chart({"type": "bar"})
        chart.add_series({"name": "数量", "categories": ["概要", 3, 0, 2 + len(totals), 0],
                          "values": ["概要", 3, 1, 2 + len(totals), 1]})
        chart.set_title({"name": "定期盘点汇总"})
        chart.set_legend({"none": True})
        sheet.insert_chart(end, 0, chart)
        rows = [{"期间": r["half_year"], "单位": r["org_name"],
                 **{zh: int(r[k]) for k, zh in COUNTS.items()},
                 **{f"{zh}用时中位数（天）": text(r[f"median_days_{s}"]) for s, zh in
                    STEP_ZH.items()}}
                for _, r in data.summary.iterrows()]
        write_table(book.add_worksheet("分单位分期"), fmt, 0, rows)
        steps = data.step_table()
        end = write_table(book.add_worksheet("环节用时"), fmt, 0, steps)
        detail = [{"线索编号": r["flag_id"], "单位": text(r["org_name"]), "姓名": text(r["name"]),
                   "环节": r["step_zh"], "开始": text(r["started_on"]), "结束": text(r["ended_on"]),
                   "用时（天）": int(r["days"]), "状态": "未完成" if r["open"] else "已完成"}
                  for _, r in data.steps.iterrows()]
        write_table(book.add_worksheet("环节明细"), fmt, 0, detail)
        events = [{"日期": text(e["event_on"]), "期间": e["half_year"], "单位": text(e["org_name"]),
                   "姓名": text(e["name"]), "线索编号": e["flag_id"], "事项": e["event_zh"],
                   "决定人": text(e["decided_by"]), "文号": text(e["document_no"])}
                  for _, e in data.events.iterrows()]
        write_table(book.add_worksheet("事件明细"), fmt, 0, events)
        fairness_report.write_sheets(book, fmt, data.fairness)
        if data.quality is not None:
            quality = book.add_worksheet("数据质量")
            end = write_table(quality, fmt, 0, data.quality.month_rows_zh())
            write_table(quality, fmt, end + 1, data.quality.reason_rows_zh())
    finally:
        book.close()
    return path


def fairness_period(con: duckdb.DuckDBPyConnection, s: LedgerScope) -> Period:
    """The period the stock-take's disparity section covers: the scope's half-year or year;
    for ``all``, the half-year of the latest build."""
    if s.half_years is not None:
        return parse_period(s.label)
    latest = con.execute("select max(as_of) from decisions.build_source").fetchone()[0]
    day = latest or date.today()
    return parse_period(f"{day.year}H{1 if day.month <= 6 else 2}")


def write_ledger(home: DataHome, period: str, unit: str | None = None,
                 out_dir: Path | None = None) -> tuple[Path, Path, LedgerData]:
    with warehouse.writer(home.warehouse_file) as con:
        review_sql.ensure(con)
        data = load_ledger(con, period, unit)
        if unit is None:
            data.fairness = load_fairness(con, fairness_period(con, data.scope))
    title = f"干部能上能下工作定期盘点（{data.scope.label_zh}{'，' + unit if unit else ''}）"
    out_dir = out_dir or home.reports / "ledger"
    out_dir.mkdir(parents=True, exist_ok=True)
    stem = f"定期盘点_{data.scope.label}" + (f"_{safe_filename(unit)}" if unit else "")
    html, xlsx = out_dir / f"{stem}.html", out_dir / f"{stem}.xlsx"
    html.write_text(render_html(data, title), encoding="utf-8")
    write_xlsx(data, xlsx, title)
    log.info("ledger %s: %s", data.scope.label, data.totals())
    return html, xlsx, data
