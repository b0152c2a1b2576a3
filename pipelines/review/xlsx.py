"""The 集中会诊 workbook: the report's rows as filterable sheets, with native Excel charts.

Why native charts (xlsxwriter radar and bar charts over cells in the workbook) rather than
pictures: the department edits and re-uses these workbooks; a chart bound to its cells stays
true when someone corrects a number, and prints at any size. Sheet names and column headers
are Chinese. Tables, cells and formats come from ``pipelines.render.xlsx`` (one way to draw a
table; text that looks like a formula stays text); this module only says what goes where and
adds the charts.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from xlsxwriter.workbook import Workbook

from pipelines.render.xlsx import Formats, open_workbook, write_table, write_title, write_value
from pipelines.review import fairness_report
from pipelines.review.data import ReviewData
from pipelines.review.view import UnitView

SHEETS = ("概要", "不适宜人选", "画像图", "预警", "证据", "考察期到期", "影响期", "复检",
          "重新任用", "优秀比例", "得分分布", *fairness_report.SHEETS)
CHART_BLOCK_ROWS = 17  # rows per cadre on 画像图: a 5-row table beside a radar chart


def _unit_rows(views: list[UnitView], attr: str) -> list[dict[str, Any]]:
    return [{"单位": v.name, **row} for v in views for row in getattr(v, attr)]


def _summary(book: Workbook, fmt: Formats, data: ReviewData, views: list[UnitView],
             title: str) -> None:
    sheet = book.add_worksheet("概要")
    write_title(sheet, fmt, 0, title)
    write_value(sheet, fmt, 1, 0, f"会诊期间：{data.period.start} 至 {data.period.end}；画像截至："
                f"{data.build_as_of or '—'}；生成时间：{data.generated_at}")
    if data.build_note:
        write_value(sheet, fmt, 2, 0, data.build_note, fmt.note)
    rows = [{"单位": v.name, **v.summary} for v in views]
    end = write_table(sheet, fmt, 4, rows)
    if rows:
        chart = book.add_chart({"type": "bar", "subtype": "stacked"})
        for col_name, colour in (("不适宜人选（人）", "#C00000"), ("预警（条）", "#E07B00")):
            col = list(rows[0]).index(col_name)
            chart.add_series({"name": ["概要", 4, col], "categories": ["概要", 5, 0, 4 + len(rows), 0],
                              "values": ["概要", 5, col, 4 + len(rows), col],
                              "fill": {"color": colour}})
        chart.set_title({"name": "各单位不适宜人选与预警"})
        chart.set_size({"width": 640, "height": 120 + 24 * len(rows)})
        sheet.insert_chart(end + 1, 0, chart)


def _radar_sheet(book: Workbook, fmt: Formats, views: list[UnitView]) -> None:
    sheet = book.add_worksheet("画像图")
    sheet.set_column(0, 0, 16)
    sheet.set_column(1, 2, 10)
    row = 0
    cadres = [(v.name, c) for v in views for c in v.candidates if c.scores]
    if not cadres:
        write_value(sheet, fmt, 0, 0, "本期无不适宜人选画像。")
    for unit, cadre in cadres:
        write_value(sheet, fmt, row, 0, f"{unit} {cadre.name}（{cadre.post_title}）", fmt.bold)
        for col, name in enumerate(("维度", "得分", "岗位类别阈值")):
            write_value(sheet, fmt, row + 1, col, name, fmt.head)
        for i, (dim, score, threshold) in enumerate(cadre.scores, start=row + 2):
            write_value(sheet, fmt, i, 0, dim, fmt.cell)
            for col, value in ((1, score), (2, threshold)):
                write_value(sheet, fmt, i, col, value, fmt.cell if value is None else fmt.num)
        chart = book.add_chart({"type": "radar"})
        first, last = row + 2, row + 1 + len(cadre.scores)
        for col, colour, dash in ((1, "#1F5FA8", "solid"), (2, "#C00000", "dash")):
            chart.add_series({"name": ["画像图", row + 1, col],
                              "categories": ["画像图", first, 0, last, 0],
                              "values": ["画像图", first, col, last, col],
                              "line": {"color": colour, "dash_type": dash, "width": 2}})
        chart.set_title({"name": f"{cadre.name} 德能勤绩廉"})
        chart.set_y_axis({"min": 0, "max": 100, "major_unit": 20})
        chart.set_size({"width": 400, "height": 300})
        sheet.insert_chart(row, 4, chart)
        row += CHART_BLOCK_ROWS


def _quota(book: Workbook, fmt: Formats, data: ReviewData, views: list[UnitView]) -> None:
    sheet = book.add_worksheet("优秀比例")
    write_title(sheet, fmt, 0, f"{data.quota_year or '—'}年度优秀等次比例核查（上限"
                f"{data.params.excellent_quota:.0%}，经批准可至"
                f"{data.params.excellent_quota_approved:.0%}）")
    rows = []
    for _, q in data.quota.iterrows():
        rows.append({"单位": q["org_name"], "参加考核（定等次）": int(q["assessed"]),
                     "优秀": int(q["excellent"]), "称职": int(q["competent"]),
                     "基本称职": int(q["basic"]), "不称职": int(q["incompetent"]),
                     "优秀比例": q["excellent"] / q["assessed"] if q["assessed"] else 0.0,
                     "上限": data.params.excellent_quota,
                     "核查结果": next((v.summary["优秀比例核查"] for v in views
                                   if v.name == q["org_name"]), "")})
    end = write_table(sheet, fmt, 2, rows)
    for r in range(len(rows)):
        write_value(sheet, fmt, 3 + r, 6, rows[r]["优秀比例"], fmt.pct)
        write_value(sheet, fmt, 3 + r, 7, rows[r]["上限"], fmt.pct)
    if rows:
        chart = book.add_chart({"type": "column"})
        chart.add_series({"name": "优秀比例", "categories": ["优秀比例", 3, 0, 2 + len(rows), 0],
                          "values": ["优秀比例", 3, 6, 2 + len(rows), 6],
                          "fill": {"color": "#1F5FA8"}})
        line = book.add_chart({"type": "line"})
        line.add_series({"name": "上限", "categories": ["优秀比例", 3, 0, 2 + len(rows), 0],
                         "values": ["优秀比例", 3, 7, 2 + len(rows), 7],
                         "line": {"color": "#C00000", "dash_type": "dash"}})
        chart.combine(line)
        chart.set_y_axis({"num_format": "0%", "min": 0})
        chart.set_title({"name": "各单位优秀等次比例"})
        chart.set_size({"width": 640, "height": 320})
        sheet.insert_chart(end + 1, 0, chart)
        end += 18
    breaches = _unit_rows(views, "excellent_in_influence")
    write_value(sheet, fmt, end + 1, 0, "影响期内被评为优秀", fmt.bold)
    write_table(sheet, fmt, end + 2, breaches)


def _distribution(book: Workbook, fmt: Formats, views: list[UnitView]) -> None:
    sheet = book.add_worksheet("得分分布")
    buckets = [b[0] for b in views[0].score_buckets] if views else []
    rows = [{"单位": v.name, **{b: n for b, n in v.score_buckets}} for v in views]
    end = write_table(sheet, fmt, 0, rows, ["单位", *buckets])
    if rows:
        chart = book.add_chart({"type": "bar", "subtype": "stacked"})
        for col, bucket in enumerate(buckets, start=1):
            chart.add_series({"name": bucket, "categories": ["得分分布", 1, 0, len(rows), 0],
                              "values": ["得分分布", 1, col, len(rows), col]})
        chart.set_title({"name": "各单位干部综合得分分布"})
        chart.set_size({"width": 720, "height": 140 + 24 * len(rows)})
        sheet.insert_chart(end + 1, 0, chart)


def write_xlsx(data: ReviewData, views: list[UnitView], path: Path, title: str) -> Path:
    book, fmt = open_workbook(path)
    try:
        _summary(book, fmt, data, views, title)
        candidates = [{"单位": v.name, **flag} for v in views for c in v.candidates
                      for flag in c.flags]
        write_table(book.add_worksheet("不适宜人选"), fmt, 0, candidates)
        _radar_sheet(book, fmt, views)
        write_table(book.add_worksheet("预警"), fmt, 0, _unit_rows(views, "warnings"))
        evidence = [{"单位": v.name, "姓名": c.name, "身份证号": c.id_number, **e}
                    for v in views for c in v.candidates for e in c.evidence]
        write_table(book.add_worksheet("证据"), fmt, 0, evidence)
        for name, attr in (("考察期到期", "observation"), ("影响期", "influence"),
                           ("复检", "rechecks"), ("重新任用", "reappointment")):
            write_table(book.add_worksheet(name), fmt, 0, _unit_rows(views, attr))
        _quota(book, fmt, data, views)
        _distribution(book, fmt, views)
        fairness_report.write_sheets(book, fmt, data.fairness)
    finally:
        book.close()
    return path
