"""The disparity monitor in Chinese: the section of the 集中会诊 and 定期盘点 reports (HTML partial
``_fairness.html.j2`` and its own XLSX sheets).

Why one module for both reports: the two show the same table with the same words; the
explanation of what a 差异超限 means, and what it does not, is written once, here.
"""

from __future__ import annotations

from typing import Any

from xlsxwriter.workbook import Workbook

from pipelines.contracts import load_contract
from pipelines.render import svg_charts
from pipelines.render.xlsx import Formats, write_table, write_title, write_value
from pipelines.review.fairness import FairnessReport, PeriodTable

GROUPING_ZH = {"unit": "单位", "sex": "性别", "age_band": "年龄段（期末）", "post_level": "职务层次",
               "evidence_source": "证据来源"}
OUTCOME_ZH = {"candidate": "列为不适宜人选", "warning": "仅列预警",
              "adjusted": "组织调整（已作决定者中）"}
STATUS_ZH = {"ok": "未见显著差异", "breach": "差异超限", "insufficient": "样本不足"}
AGE_ZH = {"<35": "35岁以下", "35-44": "35-44岁", "45-54": "45-54岁", ">=55": "55岁及以上"}
SHEET = "公平性监测"
TREND_SHEET = "公平性趋势"
SHEETS = (SHEET, TREND_SHEET)
NOT_COMPUTED = "按单位出具的报告不含公平性监测：分组比较需要全部单位的干部，请查看全部单位的报告。"


def group_zh(grouping: str, group: str) -> str:
    if grouping == "age_band":
        return AGE_ZH.get(group, group)
    if grouping == "evidence_source":
        try:
            return load_contract(group).title_zh
        except KeyError:
            return group
    return group


def explanation(report: FairnessReport) -> list[str]:
    """What the section measures, how to read it, and what a breach does and does not mean."""
    p = report.params
    return [
        "本节检查线索和决定是否集中落在某一类干部身上：按单位、性别、年龄段（按本期期末年龄）、"
        "职务层次和证据来源分组，分别计算各组干部被列为不适宜人选、仅列预警、以及（已有决定的）"
        "经决定组织调整的比例。",
        f"影响比 = 本组比例 ÷ 比例最低的组（人数达到{p.min_group}人的组中）的比例；结果都是不利结果，"
        f"影响比越大，本组越不利；{p.impact_ratio_threshold:g} 即“五分之四规则”的倒数。最低组比例为0"
        "而本组不为0时，影响比记为“∞”。p 值为 Fisher 精确检验（单侧：本组比例是否高于同一分组的"
        "其余干部）经 Holm 方法对同一分组、同一结果内各组多重比较校正后的值。",
        f"判定：人数少于{p.min_group}人的组标为“样本不足”，不论比例高低都不作判断；"
        f"只有影响比超过{p.impact_ratio_threshold:g}且校正后 p 值小于{p.alpha:g}，才标为“差异超限”。",
        "“差异超限”的含义：该组干部得到这一结果的比例明显高于其他组，且不太可能只是偶然。"
        "它提示会诊时回头查看这些线索的证据及其来源（见“来源分析”），例如是否多数来自同一轮巡察、"
        "同一审计项目或同一份报送文件，这些证据是否准确、各单位报送口径是否一致。",
        "它不表示：存在歧视或偏见，不证明任何一条线索有误，也不改变任何干部的线索或决定；比例差异"
        "可能有正当原因（如该单位确实问题较多）。“未见显著差异”也不证明没有问题，人数少时尤其如此。",
        "计数口径：在范围内的干部为本期画像所列在册干部；“组织调整”一项只计已有决定的线索人员。"
        "证据来源分组中，一名干部在为其提供过计入的负面证据（或其线索引用了其证据）的每个来源各计一次，"
        "各来源人数相加不等于总人数。",
    ]


def _ratio(row: dict[str, Any]) -> str:
    if row.get("ratio_unbounded"):
        return "∞"
    value = row["impact_ratio"]
    return "" if value is None or value != value else f"{value:.2f}"


def _p(value: Any) -> str:
    if value is None or value != value:
        return ""
    return "<0.001" if value < 0.001 else f"{value:.3f}"


def table_rows(table: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [{"分组": GROUPING_ZH[r["grouping"]], "组别": group_zh(r["grouping"], r["group"]),
             "结果": OUTCOME_ZH[r["outcome"]], "人数": int(r["in_scope"]),
             "有该结果": int(r["with_outcome"]), "比例": f"{r['rate']:.1%}",
             "影响比": _ratio(r), "校正后p值": _p(r["p_value"]),
             "判定": STATUS_ZH[r["status"]]} for r in table]


PRINT_CELL_ZH = "有该结果/人数 · 比例 · 影响比 · 校正后p值 · 判定"


def pivot_rows(rows: list[dict[str, Any]]) -> list[dict[str, str]]:
    """``table_rows`` of one grouping, one row per group and one column per outcome.

    Why: the printed report. The long form repeats each group once per outcome (99 rows for
    the demo's units) and runs to pages of short lines; folded, each group is one line whose
    cells carry the same numbers (see ``PRINT_CELL_ZH``)."""
    outcomes = [o for o in OUTCOME_ZH.values() if any(r["结果"] == o for r in rows)]
    groups: dict[str, dict[str, str]] = {}
    for r in rows:
        cells = groups.setdefault(r["组别"], {"组别": r["组别"], **dict.fromkeys(outcomes, "")})
        cells[r["结果"]] = (f"{r['有该结果']}/{r['人数']} · {r['比例']} · {r['影响比'] or '—'} · "
                           f"{r['校正后p值'] or '—'} · {r['判定']}")
    return list(groups.values())


def drill_rows(report: FairnessReport) -> list[dict[str, Any]]:
    """Per breach: a sentence and the rules and batches behind the group's flags."""
    result = []
    for (grouping, group, outcome), drill in report.drilldown.items():
        batches, rules = drill["batches"], drill["rules"]
        head = (f"{GROUPING_ZH[grouping]}“{group_zh(grouping, group)}”·{OUTCOME_ZH[outcome]}："
                f"{drill['cadres']}人，{drill['flags']}条线索。")
        if len(batches):
            top = batches.iloc[0]
            share = top["flags"] / drill["flags"] if drill["flags"] else 0
            head += (f"引用证据最多的批次是{group_zh('evidence_source', top['source'])}"
                     f"“{top['batch_zh']}”（{top['sent_by']}报送），涉及{int(top['flags'])}条线索"
                     f"（{share:.0%}）。")
        if len(rules):
            head += "主要规则：" + "、".join(f"{r.rule_id}（{int(r.flags)}条）"
                                           for r in rules.head(3).itertuples()) + "。"
        result.append({
            "title": head,
            "rules": [{"规则": r.rule_id, "线索数": int(r.flags), "涉及人数": int(r.cadres)}
                      for r in rules.itertuples()],
            "batches": [{"证据来源": group_zh("evidence_source", b.source), "批次/文件": b.batch_zh,
                         "报送单位": b.sent_by or "", "引用该批次的线索": int(b.flags),
                         "证据条数": int(b.evidence), "涉及人数": int(b.cadres)}
                        for b in batches.itertuples()]})
    return result


def _key(row: dict[str, Any]) -> tuple[str, str, str]:
    return row["grouping"], str(row["group"]), row["outcome"]


def trend_rows(trend: list[PeriodTable]) -> list[dict[str, Any]]:
    """Rows judged (not 样本不足) in at least one period, one column per period."""
    cells: dict[tuple[str, str, str], dict[str, str]] = {}
    judged: set[tuple[str, str, str]] = set()
    for item in trend:
        for r in item.table.to_dict("records"):
            key = _key(r)
            cells.setdefault(key, {})[item.period.label] = (
                f"{r['rate']:.1%}（{_ratio(r) or '—'}，{STATUS_ZH[r['status']]}）")
            if r["status"] != "insufficient":
                judged.add(key)
    rows = []
    for key in sorted(judged, key=lambda k: (list(GROUPING_ZH).index(k[0]),
                                             list(OUTCOME_ZH).index(k[2]), k[1])):
        rows.append({"分组": GROUPING_ZH[key[0]], "组别": group_zh(key[0], key[1]),
                     "结果": OUTCOME_ZH[key[2]],
                     **{t.period.label: cells[key].get(t.period.label, "") for t in trend}})
    return rows


def trend_series(trend: list[PeriodTable]) -> list[tuple[str, list[float | None]]]:
    """Rates (%) over the periods for every row that breached in one of them; without any
    breach, the candidate rates by age band (a steady reference picture). At most 8 lines."""
    breached = {_key(r) for t in trend for r in t.table.to_dict("records")
                if r["status"] == "breach"}
    keys = sorted(breached) or sorted({_key(r) for t in trend for r in t.table.to_dict("records")
                                       if r["grouping"] == "age_band"
                                       and r["outcome"] == "candidate"})
    series = []
    for key in keys[:8]:
        values: list[float | None] = []
        for t in trend:
            match = [r for r in t.table.to_dict("records") if _key(r) == key]
            values.append(match[0]["rate"] * 100 if match else None)
        series.append((f"{group_zh(key[0], key[1])}·{OUTCOME_ZH[key[2]]}", values))
    return series


def trend_chart(trend: list[PeriodTable]) -> Any:
    """The trend series as an inline SVG line chart."""
    if not trend:
        return None
    series = trend_series(trend)
    return svg_charts.lines([t.period.label for t in trend], series, unit="%",
                            title="分组比例趋势")


def section(report: FairnessReport | None) -> dict[str, Any] | None:
    """The context of ``_fairness.html.j2``."""
    if report is None:
        return None
    records = report.table.to_dict("records")
    by_grouping = [(GROUPING_ZH[g], table_rows([r for r in records if r["grouping"] == g]))
                   for g in GROUPING_ZH]
    breaches = table_rows([r for r in records if r["status"] == "breach"])
    p = report.params
    return {
        "explanation": explanation(report),
        "meta": (f"期间：{report.period.label}；画像截至：{report.build_as_of or '—'}；最小组人数 "
                 f"{p.min_group}，影响比阈值 {p.impact_ratio_threshold:g}，显著性水平 {p.alpha:g}"
                 "（Holm 校正）"),
        "breaches": breaches, "drill": drill_rows(report), "groupings": by_grouping,
        "groupings_print": [(name, pivot_rows(rows)) for name, rows in by_grouping],
        "print_cell": PRINT_CELL_ZH,
        "trend": trend_rows(report.trend), "trend_periods": [t.period.label for t in report.trend],
        "trend_chart": trend_chart(report.trend),
        "no_build": report.build_as_of is None,
    }


def write_sheets(book: Workbook, fmt: Formats, report: FairnessReport | None) -> None:
    """Sheets 公平性监测 (explanation, table, drill-down) and 公平性趋势 (every period's rows);
    without a report (a one-unit review), the two sheets say why they are empty."""
    if report is None:  # a one-unit report: the sheets stay, saying why they are empty
        for name in SHEETS:
            write_value(book.add_worksheet(name), fmt, 0, 0, NOT_COMPUTED, fmt.note)
        return
    sheet = book.add_worksheet(SHEET)
    write_title(sheet, fmt, 0, f"公平性监测（{report.period.label_zh}）")
    row = 1
    context = section(report)
    assert context is not None
    for line in [context["meta"], *context["explanation"]]:
        write_value(sheet, fmt, row, 0, line)
        row += 1
    row = write_table(sheet, fmt, row + 1, table_rows(report.table.to_dict("records")))
    for drill in context["drill"]:
        write_value(sheet, fmt, row, 0, "来源分析：" + drill["title"], fmt.bold)
        row = write_table(sheet, fmt, row + 1, drill["rules"])
        row = write_table(sheet, fmt, row, drill["batches"])
    trend = book.add_worksheet(TREND_SHEET)
    periods = [t.period.label for t in report.trend]
    series = trend_series(report.trend)
    write_value(trend, fmt, 0, 0, "比例趋势（%）：各期出现差异超限的分组；无差异超限时为各年龄段的不适宜人选比例",
                fmt.bold)
    end = write_table(trend, fmt, 1, [{"分组·结果": name, **{
        label: (round(v, 2) if v is not None else "") for label, v in zip(periods, values,
                                                                          strict=True)}}
        for name, values in series])
    if series:
        chart = book.add_chart({"type": "line"})
        for i in range(len(series)):
            chart.add_series({"name": [TREND_SHEET, 2 + i, 0],
                              "categories": [TREND_SHEET, 1, 1, 1, len(periods)],
                              "values": [TREND_SHEET, 2 + i, 1, 2 + i, len(periods)],
                              "marker": {"type": "circle"}})
        chart.set_title({"name": "分组比例趋势（%）"})
        chart.set_size({"width": 640, "height": 300})
        trend.insert_chart(end, 0, chart)
        end += 17
    rows = [{"期间": t.period.label, "画像截至": str(t.build_as_of), **r}
            for t in report.trend for r in table_rows(t.table.to_dict("records"))]
    write_table(trend, fmt, end + 1, rows)
