"""集中会诊 report: one HTML page and one XLSX workbook per review period (and unit).

Seed §3 asks for a review of every leadership team and cadre at least every half year; this is
its paper: per unit, the candidates with their five dimensions drawn against the post-class
threshold and the evidence behind every flag, the warnings, observation periods ending,
influence periods, re-checks due, and the 优秀 quota check. The HTML is one self-contained file
(inline CSS and SVG, no CDN) laid out for A4 landscape printing; the XLSX has the same rows,
filterable, with native Excel charts.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from pipelines import warehouse
from pipelines.render import svg_charts
from pipelines.render.files import safe_filename
from pipelines.render.html import environment
from pipelines.review import fairness_report
from pipelines.review import sql as review_sql
from pipelines.review.data import Period, ReviewData, load_review, parse_period
from pipelines.review.fairness import load_fairness
from pipelines.review.identity_report import IdentitySection, identity_section
from pipelines.review.view import UnitView, decision_legend, has_business, rule_rows, unit_views
from pipelines.settings import DataHome

log = logging.getLogger(__name__)
# state -> colour: open states warm, decided states cool, so a unit's backlog stands out
STATE_COLOURS = {"待核实": "#e07b00", "考察期中": "#d4a100", "已认定不适宜担任现职": "#c00000",
                 "申诉中": "#7b4fa0", "已组织调整": "#1f5fa8", "已排除": "#8c8c8c",
                 "已关闭（证据撤回或更正）": "#b0b0b0"}


@dataclass(frozen=True)
class ReviewFiles:
    html: Path
    xlsx: Path
    data: ReviewData


def review_title(data: ReviewData) -> str:
    scope = data.unit or "各单位"
    return f"{data.period.label_zh}干部集中会诊报告（{scope}）"


def render_html(data: ReviewData, views: list[UnitView],
                identity: IdentitySection | None = None) -> str:
    """The report as one self-contained page: inline CSS and SVG, nothing fetched."""
    for view in views:
        for cadre in view.candidates:
            cadre.chart = svg_charts.radar(  # type: ignore[attr-defined]
                [s[0] for s in cadre.scores], [s[1] for s in cadre.scores],
                [s[2] for s in cadre.scores], title=f"{cadre.name} 德能勤绩廉") \
                if cadre.scores else None
        view.score_chart = svg_charts.bars(  # type: ignore[attr-defined]
            [b[0] for b in view.score_buckets], [b[1] for b in view.score_buckets], unit="人",
            title=f"{view.name} 综合得分分布", highlight=[b[0] == "60分以下"
                                                         for b in view.score_buckets])
        view.grade_chart = svg_charts.bars(  # type: ignore[attr-defined]
            [g[0] for g in view.grades], [g[1] for g in view.grades], unit="人",
            title=f"{view.name} 考核等次分布",
            highlight=[g[0] == "优秀" and view.summary["优秀比例核查"] not in ("符合", "无考核结果")
                       for g in view.grades]) if view.grades else None
    states = [s for s in STATE_COLOURS if any(v.state_counts.get(s) for v in views)]
    flagged = [v for v in views if v.state_counts]  # units without flags would be empty bars
    state_chart = svg_charts.stacked_bars(
        [v.name for v in flagged],
        [(s, [v.state_counts.get(s, 0) for v in flagged]) for s in states],
        title="各单位线索及处理状态", colours=[STATE_COLOURS[s] for s in states]) if flagged else None
    active = [v for v in views if has_business(v)]
    quiet = [v for v in views if not has_business(v)]
    summary_rows = [{"单位": v.name, **v.summary} for v in active]
    template = environment().get_template("review.html.j2")
    return template.render(d=data, units=active, quiet_units=quiet, title=review_title(data),
                           summary_rows=summary_rows, state_chart=state_chart,
                           rules=rule_rows(data), fairness=fairness_report.section(data.fairness),
                           identity=identity, legend=decision_legend(active))


def write_review(home: DataHome, period: str | Period, unit: str | None = None,
                 out_dir: Path | None = None, build: date | None = None) -> ReviewFiles:
    """Read the warehouse (registering new flags first) and write the HTML and XLSX."""
    from pipelines.review.xlsx import write_xlsx

    period = parse_period(period) if isinstance(period, str) else period
    with warehouse.writer(home.warehouse_file) as con:
        review_sql.ensure(con)
        data = load_review(con, period, unit, build)
        if unit is None:  # groups are compared across all units; one unit alone has no rest
            data.fairness = load_fairness(con, period, data.build_as_of)
        identity = identity_section(con, period, unit)
    views = unit_views(data)
    out_dir = out_dir or home.reports / "review"
    out_dir.mkdir(parents=True, exist_ok=True)
    stem = f"集中会诊_{period.label}" + (f"_{safe_filename(unit)}" if unit else "")
    html_path, xlsx_path = out_dir / f"{stem}.html", out_dir / f"{stem}.xlsx"
    html_path.write_text(render_html(data, views, identity), encoding="utf-8")
    write_xlsx(data, views, xlsx_path, review_title(data))
    log.info("review %s: %d units, %d flags, %d observation periods ending, %d re-checks -> %s",
             period.label, len(views), len(data.flags), len(data.observation),
             len(data.rechecks), html_path)
    return ReviewFiles(html=html_path, xlsx=xlsx_path, data=data)


def period_of(day: date) -> Period:
    """The half-year containing ``day``."""
    return parse_period(f"{day.year}H{1 if day.month <= 6 else 2}")


def previous_period(day: date) -> Period:
    """The half-year before the one containing ``day``: what a review held on 1 January or
    1 July (the review DAG's schedule) looks back on."""
    return parse_period(f"{day.year - 1}H2" if day.month <= 6 else f"{day.year}H1")
