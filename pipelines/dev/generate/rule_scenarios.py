"""Planted truth for the flag rules: cadres whose facts must raise exactly the listed flags.

Each scenario adds one cadre (through ``scenarios.new_cadre``, so no background fact touches
it), three plain assessments, and exactly the facts its case needs, then records in
``world.planted`` the rule ids (candidate, warning and blocks_promotion alike) that the default
rule set must raise for it as of ``as_of_for(end_year)`` = 30 June of the following year.
``write_expected_flags`` writes the same truth to ``expected_flags.json`` beside the drops.
Run them with ``generate_drops(..., scenarios=RULE_SCENARIOS)`` (they add 22 cadres, so they
are not in ``DEFAULT_SCENARIOS``, whose worlds keep exactly the requested cadre count).

Why a fixed as-of date: every window (24 months, 6-month 考察期, influence periods) is relative
to it, and the truth must not change with the day the tests run. All fact dates stay inside
the generated years, so files land in the usual yearly drops.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

from pipelines.dev.generate.scenarios import assessment_row, new_cadre
from pipelines.dev.generate.world import World

EXPECTED_FLAGS_NAME = "expected_flags.json"
Fact = tuple[str, dict[str, Any]]
Builder = Callable[[dict[str, Any], int], list[Fact]]


def as_of_for(end_year: int) -> date:
    return date(end_year + 1, 6, 30)


def _votes(e: int, c: int, b: int, i: int) -> dict[str, int]:
    return {"votes_excellent": e, "votes_competent": c, "votes_basic": b, "votes_incompetent": i}


def _scores(value: float) -> dict[str, float]:
    return {f"score_{d}": value for d in ("virtue", "ability", "diligence", "performance",
                                          "integrity")}


def _finding(cadre: dict[str, Any], key: str, **fields: Any) -> Fact:
    row = {"finding_id": key, "round": "第三轮巡察", "org_name": cadre["org_name"],
           "id_number": cadre["id_number"], "name": cadre["name"], "category": "其他",
           "description": "巡察发现问题", "severity": "一般", "responsibility": "直接责任",
           "rectification": "已整改", "tolerated": False}
    return "inspection_finding", {**row, **fields}


def _audit(cadre: dict[str, Any], key: str, **fields: Any) -> Fact:
    row = {"audit_id": key, "item_no": 1, "id_number": cadre["id_number"],
           "name": cadre["name"], "audit_type": "经济责任审计", "category": "其他",
           "responsibility": "直接责任", "referred": False, "tolerated": False}
    return "audit_finding", {**row, **fields}


def _petition(cadre: dict[str, Any], key: str, e: int, **fields: Any) -> Fact:
    row = {"case_id": key, "id_number": cadre["id_number"], "name": cadre["name"],
           "category": "其他", "received_on": date(e - 1, 3, 1), "disposal": "初步核实",
           "outcome": "无"}
    return "petition_verification", {**row, **fields}


def _report(cadre: dict[str, Any], key: str, year: int, result: str, checked: date) -> Fact:
    return "personal_report_check", {
        "batch_id": key, "id_number": cadre["id_number"], "name": cadre["name"],
        "report_year": year, "check_mode": "随机抽查", "result": result, "items": ("房产",),
        "item_count": 1, "outcome": "批评教育", "checked_on": checked}


def _sanction(cadre: dict[str, Any], key: str, measure: str, decided: date) -> Fact:
    return "sanction", {"decision_no": key, "id_number": cadre["id_number"],
                        "name": cadre["name"], "measure": measure, "decided_on": decided,
                        "reason_category": "作风"}


def _assess(cadre: dict[str, Any], year: int, **fields: Any) -> Fact:
    return "annual_assessment", assessment_row(cadre, year, **fields)


# name -> (expected rule ids, extra roster fields, facts). ``e`` is the generator's end year.
CASES: dict[str, tuple[tuple[str, ...], dict[str, Any], Builder]] = {
    "A1 不称职": (("A1",), {}, lambda c, e: [
        _assess(c, e, grade="不称职", **_scores(70))]),
    "A2 连续基本称职": (("A2",), {}, lambda c, e: [
        _assess(c, e - 1, grade="基本称职", **_scores(72)),
        _assess(c, e, grade="基本称职", **_scores(72))]),
    "A3 连续测评偏低": (("A3",), {}, lambda c, e: [
        _assess(c, e - 1, **_votes(2, 3, 3, 2)), _assess(c, e, **_votes(2, 3, 3, 2))]),
    "A4 不称职票过三分之一": (("A4",), {}, lambda c, e: [_assess(c, e, **_votes(2, 3, 1, 4))]),
    "A4 恰为三分之一（不触发）": ((), {}, lambda c, e: [_assess(c, e, **_votes(3, 2, 1, 3))]),
    "A5 试用期测评偏低": (("A5",), {"on_probation": True}, lambda c, e: [
        _assess(c, e, **_votes(1, 3, 5, 1))]),
    "P1 瞒报": (("P1",), {}, lambda c, e: [_report(c, "PC-P1", e - 1, "瞒报", date(e, 9, 1))]),
    "P2 两次漏报": (("P2",), {}, lambda c, e: [
        _report(c, "PC-P2a", e - 2, "漏报", date(e - 1, 3, 1)),
        _report(c, "PC-P2b", e - 1, "漏报", date(e, 3, 1))]),
    "V1 属实并诫勉": (("V1",), {}, lambda c, e: [
        _petition(c, "XF-V1", e, category="廉洁问题", closed_on=date(e, 6, 1), conclusion="属实",
                  outcome="诫勉")]),
    "V1 不属实（不予采信）": ((), {}, lambda c, e: [
        _petition(c, "XF-V1n", e, category="廉洁问题", closed_on=date(e, 6, 1),
                  conclusion="不属实", outcome="诫勉")]),
    "V2 部分属实": (("V2",), {}, lambda c, e: [
        _petition(c, "XF-V2", e, category="作风问题", closed_on=date(e, 10, 1),
                  conclusion="部分属实", outcome="提醒")]),
    "I1 不担当不作为": (("I1",), {}, lambda c, e: [
        _finding(c, "XC-I1", category="不担当不作为", severity="较重", found_on=date(e, 5, 1))]),
    "I1 容错免责（不计入）": ((), {}, lambda c, e: [
        _finding(c, "XC-I1t", category="不担当不作为", severity="较重", found_on=date(e, 5, 1),
                 tolerated=True, tolerance_basis="改革探索中出现失误，经集体研究认定容错")]),
    "I2 逾期未整改": (("I2",), {}, lambda c, e: [
        _finding(c, "XC-I2", found_on=date(e, 12, 1), rectify_by=date(e + 1, 5, 31),
                 rectification="未整改")]),
    "U1 违规决策": (("U1",), {}, lambda c, e: [
        _audit(c, "SJ-U1", category="违规决策", reported_on=date(e, 4, 1))]),
    "U1 金额未达标准（不触发）": ((), {}, lambda c, e: [
        _audit(c, "SJ-U1n", category="资金违规使用", amount_wan=99, reported_on=date(e, 4, 1))]),
    "U2 审计评价较差": (("U2",), {}, lambda c, e: [
        _audit(c, "SJ-U2", rating="较差", reported_on=date(e, 12, 1))]),
    "D1 德低于阈值（考察期满）": (("D1", "R1"), {}, lambda c, e: [
        _assess(c, e, score_virtue=55.0)]),
    # 党纪警告 12 months from 1 July, the decision day as day 1: the as-of date is its last day
    "S1 影响期内": (("S1",), {}, lambda c, e: [_sanction(c, "JL-S1", "党纪警告", date(e, 7, 1))]),
    "R1 考察期内再次预警": (("R1", "U2", "V2"), {}, lambda c, e: [
        _petition(c, "XF-R1", e, closed_on=date(e, 9, 1), conclusion="部分属实"),
        _audit(c, "SJ-R1", rating="较差", reported_on=date(e, 11, 1))]),
    "R1 逾期整改考察期满": (("I2", "R1"), {}, lambda c, e: [
        _finding(c, "XC-R1", found_on=date(e, 10, 1), rectify_by=date(e, 11, 30),
                 rectification="未整改")]),
    "同名干部（无问题）": ((), {"name": "林国栋"}, lambda c, e: []),
}
NAMES = ("林国栋", "陈立新", "黄建华", "周志强", "吴海燕", "徐卫东", "孙丽娟", "马俊", "朱红梅",
         "胡振宇", "郭晓东", "何静", "高建军", "罗晓梅", "梁伟", "宋玉兰", "郑国庆", "谢文",
         "韩雪", "唐志明", "冯涛", "董丽")


def plant_rule_cases(world: World) -> None:
    """The scenario: one cadre per case, its facts, and its expected flags in world.planted."""
    if len(world.years) < 2:  # A2, A3 and P2 need two years of history
        raise ValueError("rule scenarios need at least 2 generated years")
    rng = world.rng("scenario:rule_cases")
    e = world.end_year
    for i, (case, (rules, roster, builder)) in enumerate(CASES.items()):
        fields = {"sector": "党政机关", "post_category": "党政副职", "post_level": "县处级副职",
                  "appointed_on": date(e - 3, 6, 1), **roster}
        if fields.get("on_probation"):
            fields["appointed_on"] = date(e, 3, 1)
        fields.setdefault("name", NAMES[i % len(NAMES)])
        cadre = new_cadre(world, rng, male=i % 3 != 0, born=date(1970 + i % 20, 1 + i % 12, 9),
                          **fields)
        facts = [_assess(cadre, y) for y in world.years[-3:]]
        planned = builder(cadre, e)
        years = {row["year"] for source, row in planned if source == "annual_assessment"}
        facts = [f for f in facts if f[1]["year"] not in years] + planned
        for source in sorted({s for s, _ in facts}):
            world.add_facts(source, [row for s, row in facts if s == source])
        world.planted.append({"id_number": cadre["id_number"], "name": cadre["name"],
                              "scenario": case, "rules": sorted(rules),
                              "as_of": as_of_for(e).isoformat()})


def write_expected_flags(out_dir: Path, planted: list[dict[str, Any]]) -> Path | None:
    """``expected_flags.json``: per planted cadre the exact rule ids the build must raise."""
    cases = [p for p in planted if "rules" in p]
    if not cases:
        return None
    path = Path(out_dir) / EXPECTED_FLAGS_NAME
    body = {"as_of": cases[0]["as_of"], "ruleset": "warehouse/rules/ruleset.yaml (default)",
            "note": "Rule ids (candidate, warning, blocks_promotion) per planted cadre; "
                    "an empty list means the case must raise nothing.",
            "cadres": cases}
    path.write_text(json.dumps(body, ensure_ascii=False, indent=2), encoding="utf-8")
    return path


RULE_SCENARIOS = (plant_rule_cases,)
