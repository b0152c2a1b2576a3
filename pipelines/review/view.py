"""The 集中会诊 report's content, per unit, as plain rows in Chinese.

Why a view model: the HTML page and the XLSX workbook show the same rows with the same
wording; turning frames into Chinese rows once keeps the renderers dumb and lets the tests
check the numbers the organization department will read.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

import pandas as pd

from pipelines.build.ruleset import SEVERITY_ZH
from pipelines.review.data import DIMENSION_ZH, DIMENSIONS, GRADES, ReviewData, quota_status
from pipelines.review.decisions import ACTIONS, allowed_actions

OBSERVATION_ZH = {"open": "考察中", "ended": "已期满", "escalated": "已升级为不适宜人选（R1）"}
EVIDENCE_STATUS_ZH = {"counted": "计入", "tolerated": "容错免责（不计入）",
                      "dismissed": "不属实/无法查实（不计入）", "open": "未办结", "neutral": "—"}
SCORE_BUCKETS = (("60分以下", 0, 60), ("60-70分", 60, 70), ("70-80分", 70, 80),
                 ("80-90分", 80, 90), ("90分以上", 90, 1000))


def text(value: Any) -> str:
    """A cell as the reader sees it: '' for missing, dates as ISO, lists joined with 、."""
    if value is None:
        return ""
    if isinstance(value, (list, tuple)):
        return "、".join(text(v) for v in value)
    if hasattr(value, "tolist") and not isinstance(value, str):
        return text(value.tolist())
    try:
        if pd.isna(value):
            return ""
    except (TypeError, ValueError):
        pass
    if isinstance(value, pd.Timestamp):
        return value.date().isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, float):
        return f"{value:.1f}"
    return str(value)


def _day(value: Any) -> date | None:
    if value is None or (not isinstance(value, (list, tuple)) and pd.isna(value)):
        return None
    return value.date() if isinstance(value, pd.Timestamp) else value


@dataclass
class Cadre:
    """One cadre with candidate flags: the picture, the flags and the evidence."""

    id_number: str
    name: str
    post_title: str
    scores: list[tuple[str, float | None, float | None]]  # (德, score, threshold)
    flags: list[dict[str, str]]
    evidence: list[dict[str, str]]
    period_label: str = ""
    # evidence id -> the rule ids of this cadre's flags that cite it; the print form's one-line
    # evidence items name the rule, since they stand without the screen table's flag context
    evidence_rules: dict[str, str] = field(default_factory=dict)


@dataclass
class UnitView:
    name: str
    summary: dict[str, Any]
    candidates: list[Cadre] = field(default_factory=list)
    warnings: list[dict[str, str]] = field(default_factory=list)
    observation: list[dict[str, str]] = field(default_factory=list)
    influence: list[dict[str, str]] = field(default_factory=list)
    rechecks: list[dict[str, str]] = field(default_factory=list)
    reappointment: list[dict[str, str]] = field(default_factory=list)
    excellent_in_influence: list[dict[str, str]] = field(default_factory=list)
    score_buckets: list[tuple[str, int]] = field(default_factory=list)
    grades: list[tuple[str, int]] = field(default_factory=list)
    state_counts: dict[str, int] = field(default_factory=dict)


def _flag_row(row: pd.Series) -> dict[str, str]:
    next_zh = "、".join(ACTIONS[a].zh for a in allowed_actions(row["state"]))
    last = ""
    if isinstance(row["last_action"], str):
        last = f"{ACTIONS[row['last_action']].zh}（{text(row['last_decided_on'])}，" \
               f"{text(row['last_decided_by'])}）"
    return {"线索编号": row["flag_id"], "姓名": text(row["name"]), "身份证号": row["id_number"],
            "职务": text(row["post_title"]), "类别": SEVERITY_ZH.get(row["severity"], ""),
            "规则": f"{row['rule_id']} {text(row['rule_title_zh'])}",
            "发现情况": text(row["detail_zh"]), "线索日期": text(row["opened_on"]),
            "状态": text(row["state_zh"]), "最近决定": last, "可做决定": next_zh,
            "考察期截止": text(row["observe_until"]),
            "本期构建": "是" if row["raised_now"] else "否（本期未再触发）"}


def _evidence_rows(data: ReviewData, flag_ids: list[str]) -> list[dict[str, str]]:
    rows = data.evidence[data.evidence["flag_id"].isin(flag_ids)]
    rows = rows.sort_values(["fact_date", "evidence_id"]).drop_duplicates("evidence_id")
    return [{"日期": text(r.fact_date), "证据": text(r.summary_zh),
             "计入情况": EVIDENCE_STATUS_ZH.get(r.status, text(r.status)) +
             (f"（{text(r.status_basis)}）" if text(r.status_basis) else ""),
             "报送单位": text(r.unit), "文件": text(r.filename), "行号": text(r.source_row),
             "证据编号": r.evidence_id} for r in rows.itertuples()]


def _cadres(data: ReviewData, flags: pd.DataFrame, profiles: pd.DataFrame) -> list[Cadre]:
    result = []
    candidate_flags = flags[flags["severity"] == "candidate"]
    for id_number, group in candidate_flags.groupby("id_number", sort=False):
        profile = profiles[profiles["id_number"] == id_number]
        scores: list[tuple[str, float | None, float | None]] = []
        label = ""
        if len(profile):
            p = profile.iloc[0]
            label = text(p["period_label"])
            scores = [(DIMENSION_ZH[d], _num(p[f"score_{d}"]), _num(p[f"threshold_{d}"]))
                      for d in DIMENSIONS]
        first = group.iloc[0]
        all_flags = flags[flags["id_number"] == id_number]
        result.append(Cadre(
            id_number=str(id_number), name=text(first["name"]), post_title=text(first["post_title"]),
            scores=scores, flags=[_flag_row(r) for _, r in all_flags.iterrows()],
            evidence=_evidence_rows(data, list(all_flags["flag_id"])), period_label=label,
            evidence_rules=_evidence_rules(data, all_flags)))
    return result


def _evidence_rules(data: ReviewData, flags: pd.DataFrame) -> dict[str, str]:
    """Evidence id -> '、'-joined rule ids (in flag order) of the flags that cite it."""
    rule_of = dict(zip(flags["flag_id"], flags["rule_id"], strict=True))
    cited = data.evidence[data.evidence["flag_id"].isin(rule_of)]
    result: dict[str, list[str]] = {}
    for flag_id, evidence_id in zip(cited["flag_id"], cited["evidence_id"], strict=True):
        rules = result.setdefault(evidence_id, [])
        if rule_of[flag_id] not in rules:
            rules.append(rule_of[flag_id])
    return {e: "、".join(r) for e, r in result.items()}


def _num(value: Any) -> float | None:
    return None if value is None or pd.isna(value) else float(value)


def _due_zh(day: date | None, data: ReviewData) -> str:
    if day is None:
        return ""
    if day < data.period.start:
        return "已逾期"
    if day <= data.period.end:
        return "本期到期"
    return "下期到期"


def _records(frame: pd.DataFrame, columns: dict[str, str]) -> list[dict[str, str]]:
    return [{zh: text(row[col]) for col, zh in columns.items()} for _, row in frame.iterrows()]


def unit_view(data: ReviewData, unit: str) -> UnitView:
    def mine(frame: pd.DataFrame) -> pd.DataFrame:
        return frame[frame["org_name"] == unit]

    flags, profiles = mine(data.flags), mine(data.profiles)
    observation = mine(data.observation).copy()
    observation["到期情况"] = [OBSERVATION_ZH["escalated"] if s == "escalated" else
                            _due_zh(_day(d), data) for s, d in
                            zip(observation["observation_status"], observation["observe_until"],
                                strict=True)]
    influence = mine(data.influence).copy()
    influence["届满情况"] = [_influence_zh(_day(d), data, _day(lifted)) for d, lifted in
                         zip(influence["effect_until"], influence["lifted_on"], strict=True)]
    rechecks = mine(data.rechecks).copy()
    rechecks["复检结果"] = [recheck_zh(r) for _, r in rechecks.iterrows()]
    reappoint = mine(data.reappointment).copy()
    reappoint["结论"] = ["符合重新任用条件" if e else "暂不符合" for e in reappoint["eligible"]]
    quota = mine(data.quota)
    q = quota.iloc[0] if len(quota) else None
    view = UnitView(name=unit, summary={})
    view.candidates = _cadres(data, flags, profiles)
    view.warnings = [dict(_flag_row(r), 证据=_evidence_brief(data, r["flag_id"]))
                     for _, r in flags[flags["severity"] == "warning"].iterrows()]
    view.observation = _records(observation, {
        "flag_id": "线索编号", "name": "姓名", "rule_id": "规则", "detail_zh": "发现情况",
        "opened_on": "线索日期", "observe_until": "考察期截止", "到期情况": "到期情况"})
    view.influence = _records(influence, {
        "name": "姓名", "kind": "类别", "measure": "措施", "document_no": "文号",
        "decided_on": "决定日期", "effect_until": "影响期截止",
        "no_leading_post_until": "不得担任领导职务至", "届满情况": "届满情况"})
    view.rechecks = _records(rechecks, {
        "flag_id": "线索编号", "name": "姓名", "measure": "调整方式", "adjusted_on": "调整日期",
        "recheck_no": "第几次复检", "recheck_on": "复检日期", "profile_period": "依据画像",
        "复检结果": "复检结果"})
    view.reappointment = _records(reappoint, {
        "flag_id": "线索编号", "name": "姓名", "measure": "调整方式", "adjusted_on": "调整日期",
        "reappoint_from": "可重新任职日期", "last_recheck_on": "最近复检", "结论": "结论",
        "blockers_zh": "尚需满足"})
    view.excellent_in_influence = _records(mine(data.excellent_in_influence), {
        "name": "姓名", "year": "考核年度", "measure": "影响期措施", "decided_on": "决定日期",
        "effect_until": "影响期截止"})
    low = profiles["score_overall"].dropna()
    view.score_buckets = [(name, int(((low >= lo) & (low < hi)).sum()))
                          for name, lo, hi in SCORE_BUCKETS]
    if q is not None:
        view.grades = [(g, int(q[col])) for g, col in zip(
            GRADES, ("excellent", "competent", "basic", "incompetent"), strict=True)]
    view.state_counts = flags["state_zh"].value_counts().to_dict()
    view.summary = {
        "在册干部": len(profiles),
        "不适宜人选（人）": len(view.candidates),
        "预警（条）": len(view.warnings),
        "待决定（条）": int(flags["state"].isin(["flagged", "under_observation", "confirmed",
                                             "appealed"]).sum()),
        "考察期到期": len(view.observation),
        "影响期": len(view.influence),
        "复检": len(view.rechecks),
        "可重新任用": int(reappoint["eligible"].sum()) if len(reappoint) else 0,
        "优秀比例": "" if q is None else f"{int(q['excellent'])}/{int(q['assessed'])}"
                    f"（{q['excellent'] / q['assessed']:.1%}）",
        "优秀比例核查": "无考核结果" if q is None else
        quota_status(int(q["excellent"]), int(q["assessed"]), data.params),
    }
    return view


def _influence_zh(day: date | None, data: ReviewData, lifted_on: date | None = None) -> str:
    if lifted_on is not None:  # a person lifted the block: it blocks nothing
        return f"已解除限制（{lifted_on}）"
    if day is None:
        return ""
    if day <= data.period.end:
        return "本期届满"
    if day <= data.period.horizon:
        return "下期届满"
    return "影响期内"


def recheck_zh(row: pd.Series) -> str:
    if row["status"] == "due":
        return "待复检"
    if row["meets_bar"] is None or pd.isna(row["meets_bar"]):
        return "尚无调整后的画像"
    if row["meets_bar"]:
        return "达到要求"
    reasons = []
    below = row["below_threshold"]
    if below is not None and len(below):
        reasons.append("低于阈值：" + "、".join(DIMENSION_ZH.get(d, d) for d in below))
    if len(row["new_candidate_rules"]):
        reasons.append("新的不适宜线索：" + "、".join(row["new_candidate_rules"]))
    if len(row["poor_grades"]):
        reasons.append("考核：" + "、".join(row["poor_grades"]))
    return "未达到要求（" + "；".join(reasons) + "）"


def _evidence_brief(data: ReviewData, flag_id: str) -> str:
    rows = data.evidence[data.evidence["flag_id"] == flag_id]
    return "；".join(f"{text(r.fact_date)} {text(r.summary_zh)}" for r in rows.itertuples())


def unit_views(data: ReviewData) -> list[UnitView]:
    return [unit_view(data, unit) for unit in data.units]


def has_business(view: UnitView) -> bool:
    """Whether a unit has anything for the meeting this period: a candidate, a warning, an
    observation or influence period, a re-check or re-appointment, or a 优秀 share to look
    at. Units without are listed on one line, not given a section of empty headings."""
    return bool(view.candidates or view.warnings or view.observation or view.influence
                or view.rechecks or view.reappointment or view.excellent_in_influence
                or view.summary.get("优秀比例核查") not in ("符合", "无考核结果"))


def decision_legend(views: list[UnitView]) -> list[tuple[str, str]]:
    """(状态, 可做决定) for every state among the report's flags, in first-seen order.

    Why: the printed report drops the per-flag 可做决定 column (the same words on every flag in
    the same state, and the widest cell of the row) and says it once, in this legend."""
    seen: dict[str, str] = {}
    for view in views:
        rows = [f for c in view.candidates for f in c.flags] + view.warnings
        for row in rows:
            seen.setdefault(row["状态"], row["可做决定"])
    return [(state, actions) for state, actions in seen.items() if state]


def rule_rows(data: ReviewData) -> list[dict[str, str]]:
    """One row per rule that raised a flag in the report: its 依据, the basis' verification
    tags and, where the basis is unverified ([S] secondary or [R] recalled), a note saying so."""
    rows = []
    for r in data.rule_basis.itertuples():
        note = ("依据尚未核对原文（[S] 转引 / [R] 记忆），适用前须核实" if bool(r.unverified)
                else "")
        rows.append({"规则": r.rule_id, "名称": text(r.title_zh), "依据": text(r.basis),
                     "核实标记": text(r.tags), "说明": note,
                     "本地规则集调整": text(r.profile_changes_zh)})
    return rows

