"""Every rule of the default rule set: a case that fires, a near miss, and its boundary.

One warehouse holds one cadre per case (loaded as CSV drops through ``submit_file``) and is
built once as of AS_OF; each case then checks whether its rule fired for its cadre. Cadres are
built so that no other rule muddies the rule under test (categories without a dimension, etc.).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date
from pathlib import Path

import duckdb
import pytest

from pipelines.build import ruleset as rulesets
from pipelines.build.steps import build
from pipelines.settings import PROJECT_ROOT, DataHome
from tests.build_fixtures import Scenario

pytestmark = pytest.mark.integration

AS_OF = date(2026, 6, 30)
Case = Callable[[Scenario], str]
CASES: dict[str, tuple[str, bool, Case]] = {}


def case(name: str, rule: str, fires: bool) -> Callable[[Case], Case]:
    def register(fn: Case) -> Case:
        CASES[name] = (rule, fires, fn)
        return fn
    return register


def assess(s: Scenario, cid: str, year: int, grade: str = "称职",
           votes: tuple[int, int, int, int] | None = None, **scores: float) -> None:
    row: dict[str, object] = {"id_number": cid, "name": None, "year": year, "grade": grade}
    if votes:
        row.update(zip(("votes_excellent", "votes_competent", "votes_basic",
                        "votes_incompetent"), votes, strict=True))
    row.update({f"score_{k}": v for k, v in scores.items()})
    s.add("annual_assessment", **row)


def report(s: Scenario, cid: str, year: int, result: str, checked_on: str) -> None:
    s.add("personal_report_check", batch_id=s.next_key("B"), id_number=cid, name=None,
          report_year=year, check_mode="随机抽查", result=result,
          items=None if result == "一致" else ["房产"],
          item_count=None if result == "一致" else 1, checked_on=checked_on)


def petition(s: Scenario, cid: str, conclusion: str | None, closed_on: str | None,
             category: str = "其他", outcome: str = "无") -> None:
    s.add("petition_verification", case_id=s.next_key("X"), id_number=cid, name=None,
          category=category, received_on="2023-01-01", closed_on=closed_on,
          conclusion=conclusion, disposal="初步核实", outcome=outcome)


def finding(s: Scenario, cid: str, *, category: str = "其他", severity: str = "一般",
            responsibility: str = "直接责任", found_on: str = "2026-01-10",
            rectify_by: str | None = None, rectification: str = "已整改",
            tolerated: bool = False) -> None:
    s.add("inspection_finding", finding_id=s.next_key("F"), round="2026年第一轮",
          org_name="某县", id_number=cid, name=None, category=category, description="问题",
          severity=severity, responsibility=responsibility, found_on=found_on,
          rectify_by=rectify_by, rectification=rectification, tolerated=tolerated,
          tolerance_basis="先行先试出现失误，经认定容错" if tolerated else None)


def audit(s: Scenario, cid: str, *, category: str = "其他", amount: float | None = None,
          responsibility: str = "直接责任", rating: str | None = None,
          reported_on: str = "2026-01-10", tolerated: bool = False) -> None:
    s.add("audit_finding", audit_id=s.next_key("AU"), item_no=1, id_number=cid, name=None,
          audit_type="经济责任审计", category=category, amount_wan=amount,
          responsibility=responsibility, rating=rating, reported_on=reported_on,
          tolerated=tolerated, tolerance_basis="集体决策程序合规，经认定容错" if tolerated else None)


def sanction(s: Scenario, cid: str, measure: str, decided_on: str,
             effect_until: str | None = None) -> None:
    s.add("sanction", decision_no=s.next_key("D"), id_number=cid, name=None, measure=measure,
          decided_on=decided_on, reason_category="其他", effect_until=effect_until)


def with_grades(*grades: tuple[int, str], votes=None, **kw) -> Case:  # noqa: ANN001
    def make(s: Scenario) -> str:
        cid = s.cadre(**kw)
        for year, grade in grades:
            assess(s, cid, year, grade, votes.get(year) if votes else None)
        return cid
    return make


# A1 — latest graded year 不称职
case("A1 fires", "A1", True)(with_grades((2025, "不称职")))
case("A1 near miss: earlier year", "A1", False)(with_grades((2024, "不称职"), (2025, "基本称职")))
case("A1 boundary: 不定等次 skipped", "A1", True)(with_grades((2024, "不称职"), (2025, "不定等次")))
case("A1 boundary: next year's result is after as-of", "A1", False)(
    with_grades((2025, "称职"), (2026, "不称职")))
# A2 — 基本称职 two consecutive years
case("A2 fires", "A2", True)(with_grades((2024, "基本称职"), (2025, "基本称职")))
case("A2 near miss: latest year better", "A2", False)(
    with_grades((2023, "基本称职"), (2024, "基本称职"), (2025, "称职")))
case("A2 boundary: a year missing between", "A2", False)(
    with_grades((2023, "基本称职"), (2025, "基本称职")))
# A3 — approval < 2/3 in two consecutive years
V_LOW, V_OK, V_EXACT = (2, 3, 3, 2), (4, 3, 2, 1), (3, 3, 2, 1)  # 5/10, 7/10, 6/9 = 2/3
case("A3 fires", "A3", True)(with_grades((2024, "称职"), (2025, "称职"),
                                         votes={2024: V_LOW, 2025: V_LOW}))
case("A3 near miss: one year fine", "A3", False)(with_grades((2024, "称职"), (2025, "称职"),
                                                             votes={2024: V_LOW, 2025: V_OK}))
case("A3 boundary: exactly 2/3 does not count", "A3", False)(
    with_grades((2024, "称职"), (2025, "称职"), votes={2024: V_LOW, 2025: V_EXACT}))
# A4 — 不称职 votes > 1/3 in the latest year
case("A4 fires", "A4", True)(with_grades((2025, "称职"), votes={2025: (2, 3, 1, 4)}))
case("A4 near miss: bad year is not the latest", "A4", False)(
    with_grades((2024, "称职"), (2025, "称职"), votes={2024: (1, 3, 1, 5), 2025: (5, 3, 1, 1)}))
case("A4 boundary: exactly 1/3 does not count", "A4", False)(
    with_grades((2025, "称职"), votes={2025: (3, 2, 1, 3)}))
# Latest year (rules.md): only the two most recent calendar years ended by the as-of date
# (2024, 2025 as of 2026-06-30); a 不定等次 year takes no place; no fallback to older votes.
case("A1 stale: 2021-2022 不称职 makes no candidate in 2026", "A1", False)(
    with_grades((2021, "不称职"), (2022, "不称职")))
case("A1 window boundary: 2024 not yet assessed again is still the latest", "A1", True)(
    with_grades((2023, "称职"), (2024, "不称职")))
case("A1 window boundary: 2023 is outside the two years", "A1", False)(
    with_grades((2022, "称职"), (2023, "不称职")))
case("A1 window boundary: a 不定等次 year reaches one year further back", "A1", True)(
    with_grades((2023, "不称职"), (2025, "不定等次")))
case("A2 stale: 2021-2022 基本称职 makes no candidate in 2026", "A2", False)(
    with_grades((2021, "基本称职"), (2022, "基本称职")))
case("A2 boundary: 不定等次 between does not break the run", "A2", True)(
    with_grades((2023, "基本称职"), (2024, "不定等次"), (2025, "基本称职")))
case("A2 boundary: 不定等次 does not count as a year of the run", "A2", False)(
    with_grades((2024, "不定等次"), (2025, "基本称职")))
# the reach-back over 不定等次 years stops one year before the window (2023 as of 2026-06-30):
# with 2023-2025 all 不定等次, 2022 is not "the latest year" (rules.md: a 2022 record makes no
# candidate in 2026)
case("A1 stale: 2022 不称职 behind three 不定等次 years makes no candidate in 2026", "A1", False)(
    with_grades((2022, "不称职"), (2023, "不定等次"), (2024, "不定等次"), (2025, "不定等次")))
case("A2 stale: 2022-2023 基本称职 behind two 不定等次 years makes no candidate", "A2", False)(
    with_grades((2022, "基本称职"), (2023, "基本称职"), (2024, "不定等次"), (2025, "不定等次")))
case("A2 stale: a 2021 year is not reached over three 不定等次 years", "A2", False)(
    with_grades((2021, "基本称职"), (2022, "不定等次"), (2023, "不定等次"), (2024, "不定等次"),
                (2025, "基本称职")))
case("A3 boundary: latest year without votes, no fallback to older votes", "A3", False)(
    with_grades((2023, "称职"), (2024, "称职"), (2025, "称职"),
                votes={2023: V_LOW, 2024: V_LOW}))
case("A4 boundary: latest year without votes, no fallback to older votes", "A4", False)(
    with_grades((2024, "称职"), (2025, "称职"), votes={2024: (2, 3, 1, 4)}))
# a later 不定等次 year with its own 民主测评 is newer votes: the graded year before it is not
# read (no fallback), and a year without a grade makes no candidate itself (the kinder reading)
case("A4 boundary: a later 不定等次 year's own votes stand before the graded year's", "A4", False)(
    with_grades((2024, "称职"), (2025, "不定等次"), votes={2024: (2, 3, 1, 4), 2025: (5, 3, 1, 1)}))
case("A4 near miss: a 不定等次 year's own votes make no candidate", "A4", False)(
    with_grades((2024, "称职"), (2025, "不定等次"), votes={2024: (5, 3, 1, 1), 2025: (2, 3, 1, 4)}))
case("A4 boundary: a 不定等次 year without votes is skipped", "A4", True)(
    with_grades((2024, "称职"), (2025, "不定等次"), votes={2024: (2, 3, 1, 4)}))
case("A4 stale: 2022 votes make no candidate in 2026", "A4", False)(
    with_grades((2022, "称职"), votes={2022: (2, 3, 1, 4)}))
# A5 — on probation and 不称职 >= 1/3 or approval < 1/2
PROBATION = {"on_probation": True, "appointed_on": "2025-03-01"}
case("A5 fires: approval below 1/2", "A5", True)(
    with_grades((2025, "称职"), votes={2025: (1, 3, 5, 1)}, **PROBATION))
case("A5 near miss: not on probation", "A5", False)(
    with_grades((2025, "称职"), votes={2025: (1, 3, 5, 1)}))
case("A5 boundary: 不称职 exactly 1/3 counts", "A5", True)(
    with_grades((2025, "称职"), votes={2025: (3, 3, 0, 3)}, **PROBATION))
case("A5 boundary: approval exactly 1/2 does not count", "A5", False)(
    with_grades((2025, "称职"), votes={2025: (2, 3, 4, 1)}, **PROBATION))
# the votes must be about the probation: a year that ended before the post on probation was
# taken (任现职时间) rated the former post (rules.md is silent; the kinder reading)
case("A5 boundary: votes of a year that ended before the probation began", "A5", False)(
    with_grades((2025, "称职"), votes={2025: (1, 3, 5, 1)}, on_probation=True,
                appointed_on="2026-01-01"))
case("A5 boundary: probation began on the year's last day", "A5", True)(
    with_grades((2025, "称职"), votes={2025: (1, 3, 5, 1)}, on_probation=True,
                appointed_on="2025-12-31"))
case("A5 boundary: a later 不定等次 year's own votes stand before the graded year's", "A5", False)(
    with_grades((2024, "称职"), (2025, "不定等次"), votes={2024: (1, 3, 5, 1), 2025: (5, 3, 1, 1)},
                on_probation=True, appointed_on="2024-03-01"))
case("A5 boundary: latest year without votes, no fallback to older votes", "A5", False)(
    with_grades((2024, "称职"), (2025, "称职"), votes={2024: (1, 3, 5, 1)}, **PROBATION))


def with_reports(*checks: tuple[int, str, str]) -> Case:
    def make(s: Scenario) -> str:
        cid = s.cadre()
        for year, result, checked_on in checks:
            report(s, cid, year, result, checked_on)
        return cid
    return make


case("P1 fires", "P1", True)(with_reports((2025, "瞒报", "2026-03-01")))
case("P1 near miss: 漏报", "P1", False)(with_reports((2025, "漏报", "2026-03-01")))
case("P1 boundary: checked on the as-of date", "P1", True)(with_reports((2025, "瞒报", "2026-06-30")))
case("P1 boundary: checked the day after", "P1", False)(with_reports((2025, "瞒报", "2026-07-01")))
case("P1 window boundary: checked exactly 24 months before", "P1", False)(
    with_reports((2023, "瞒报", "2024-06-30")))
case("P1 window boundary: checked a day inside", "P1", True)(
    with_reports((2023, "瞒报", "2024-07-01")))
# one report year's 瞒报 is one fact, dated by its earliest check (as P2 dates an omission)
case("P1 window boundary: an old 瞒报 found again inside the window", "P1", False)(
    with_reports((2022, "瞒报", "2024-03-01"), (2022, "瞒报", "2026-03-01")))
case("P1 window: a 瞒报 first found inside the window, checked again", "P1", True)(
    with_reports((2022, "瞒报", "2024-07-01"), (2022, "瞒报", "2026-03-01")))
case("P2 fires", "P2", True)(with_reports((2023, "漏报", "2024-03-01"), (2025, "漏报", "2026-03-01")))
case("P2 near miss: once", "P2", False)(with_reports((2024, "一致", "2025-03-01"),
                                                    (2025, "漏报", "2026-03-01")))
case("P2 boundary: one report year's omission found by two check batches", "P2", False)(
    with_reports((2024, "漏报", "2025-03-01"), (2024, "漏报", "2026-03-01")))
case("P2 boundary: two report years, one of them checked twice", "P2", True)(
    with_reports((2024, "漏报", "2025-03-01"), (2024, "漏报", "2025-09-01"),
                 (2025, "漏报", "2026-03-01")))
case("P2 boundary: 4 report years apart", "P2", False)(
    with_reports((2022, "漏报", "2023-03-01"), (2025, "漏报", "2026-03-01")))
# The window is the P2.report_years (3) report years up to the as-of date, not up to the latest
# report year on file: as of 2026-06-30 the last report year is 2025 (reported after it ends),
# so 2023-2025; a check already on file for report year 2026 moves it to 2024-2026 (kinder).
case("P2 stale: 漏报 for 2017 and 2018 makes no warning in 2026", "P2", False)(
    with_reports((2017, "漏报", "2018-03-01"), (2018, "漏报", "2019-03-01")))
case("P2 window boundary: 2023 and 2024 are inside the three years up to 2025", "P2", True)(
    with_reports((2023, "漏报", "2024-03-01"), (2024, "漏报", "2025-03-01")))
case("P2 window boundary: 2022 is outside the three years up to 2025", "P2", False)(
    with_reports((2022, "漏报", "2023-03-01"), (2023, "漏报", "2024-03-01")))
case("P2 window boundary: report year 2026 on file, 2024 is inside", "P2", True)(
    with_reports((2024, "漏报", "2025-03-01"), (2026, "漏报", "2026-05-01")))
case("P2 window boundary: report year 2026 on file, 2023 is outside", "P2", False)(
    with_reports((2023, "漏报", "2024-03-01"), (2026, "漏报", "2026-05-01")))


def cadre_with(fn: Callable[..., None], *calls: dict, **cadre: object) -> Case:
    def make(s: Scenario) -> str:
        cid = s.cadre(**cadre)
        for kwargs in calls:
            fn(s, cid, **kwargs)
        return cid
    return make


V1 = {"category": "廉洁问题", "outcome": "诫勉", "conclusion": "属实"}
case("V1 fires", "V1", True)(cadre_with(petition, {**V1, "closed_on": "2025-09-01"}))
case("V1 near miss: outcome lighter than 诫勉", "V1", False)(
    cadre_with(petition, {**V1, "outcome": "批评教育", "closed_on": "2025-09-01"}))
case("V1 boundary: closed exactly 24 months before", "V1", False)(
    cadre_with(petition, {**V1, "closed_on": "2024-06-30"}))
case("V1 boundary: closed a day inside the window", "V1", True)(
    cadre_with(petition, {**V1, "closed_on": "2024-07-01"}))
case("V1 dismissed: 无法查实 never counts", "V1", False)(
    cadre_with(petition, {**V1, "conclusion": "无法查实", "closed_on": "2025-09-01"}))
case("V2 fires", "V2", True)(cadre_with(petition, {"conclusion": "部分属实", "closed_on": "2026-01-05"}))
case("V2 near miss: 不属实", "V2", False)(cadre_with(petition, {"conclusion": "不属实", "closed_on": "2026-01-05"}))
case("V2 boundary: closed exactly 24 months before", "V2", False)(
    cadre_with(petition, {"conclusion": "部分属实", "closed_on": "2024-06-30"}))
case("V2 boundary: closed after the as-of date", "V2", False)(
    cadre_with(petition, {"conclusion": "部分属实", "closed_on": "2026-07-01"}))

I1 = {"category": "不担当不作为", "severity": "较重", "responsibility": "直接责任"}
case("I1 fires", "I1", True)(cadre_with(finding, I1))
case("I1 near miss: 领导责任", "I1", False)(cadre_with(finding, {**I1, "responsibility": "领导责任"}))
case("I1 boundary: severity 一般", "I1", False)(cadre_with(finding, {**I1, "severity": "一般"}))
case("I1 tolerated never counts", "I1", False)(cadre_with(finding, {**I1, "tolerated": True}))
# I1, U1, P1 and U2 look back I1.window_months (24) from the fact's date: (as_of - 24 months, as_of]
case("I1 window boundary: found exactly 24 months before", "I1", False)(
    cadre_with(finding, {**I1, "found_on": "2024-06-30"}))
case("I1 window boundary: found a day inside", "I1", True)(
    cadre_with(finding, {**I1, "found_on": "2024-07-01"}))
case("I1 window: a 2016 finding does not fire in 2026", "I1", False)(
    cadre_with(finding, {**I1, "found_on": "2016-05-10"}))
I2 = {"rectification": "未整改", "found_on": "2026-03-01"}
case("I2 fires", "I2", True)(cadre_with(finding, {**I2, "rectify_by": "2026-06-29"}))
case("I2 near miss: 整改中", "I2", False)(
    cadre_with(finding, {**I2, "rectification": "整改中", "rectify_by": "2026-04-01"}))
# 整改中 for ever: more than I2.stalled_months (6) past 整改期限 counts as 未整改
case("I2 boundary: 整改中 exactly 6 months past the deadline", "I2", False)(
    cadre_with(finding, {**I2, "found_on": "2025-10-01", "rectification": "整改中",
                         "rectify_by": "2025-12-30"}))
case("I2 boundary: 整改中 6 months and a day past the deadline", "I2", True)(
    cadre_with(finding, {**I2, "found_on": "2025-10-01", "rectification": "整改中",
                         "rectify_by": "2025-12-29"}))
case("I2 boundary: deadline is the as-of date", "I2", False)(cadre_with(finding, {**I2, "rectify_by": "2026-06-30"}))
# one row per warning: two findings of one cadre overdue the same day are two I2 warnings, two
# 考察期 rows opened the same day, and neither is the other's second warning (the build once
# refused them as a repeated grain)
case("I2 fires: two findings of one cadre overdue the same day", "I2", True)(
    cadre_with(finding, {**I2, "rectify_by": "2026-05-01"}, {**I2, "rectify_by": "2026-05-01"}))
case("I2 boundary: default 2 months passed", "I2", True)(
    cadre_with(finding, {**I2, "found_on": "2026-04-29"}))
case("I2 boundary: default 2 months not yet passed", "I2", False)(
    cadre_with(finding, {**I2, "found_on": "2026-04-30"}))
case("U1 fires", "U1", True)(cadre_with(audit, {"category": "违规决策"}))
case("U1 near miss: 领导责任", "U1", False)(cadre_with(audit, {"category": "违规决策", "responsibility": "领导责任"}))
case("U1 boundary: exactly 100 万元", "U1", True)(cadre_with(audit, {"category": "资金违规使用", "amount": 100}))
case("U1 boundary: 99.99 万元", "U1", False)(cadre_with(audit, {"category": "资金违规使用", "amount": 99.99}))
# rules.md: 100 万元 for every sector (the 200 万元 for 国有企业 lives in a jurisdiction profile)
case("U1 class: 国有企业 150 万元 counts under the written rules", "U1", True)(
    cadre_with(audit, {"category": "资金违规使用", "amount": 150}, sector="国有企业"))
case("U1 tolerated never counts", "U1", False)(cadre_with(audit, {"category": "违规决策", "tolerated": True}))
case("U1 window boundary: reported exactly 24 months before", "U1", False)(
    cadre_with(audit, {"category": "违规决策", "reported_on": "2024-06-30"}))
case("U1 window boundary: reported a day inside", "U1", True)(
    cadre_with(audit, {"category": "违规决策", "reported_on": "2024-07-01"}))
case("U2 fires", "U2", True)(cadre_with(audit, {"rating": "较差"}))
case("U2 near miss: 一般", "U2", False)(cadre_with(audit, {"rating": "一般"}))
case("U2 boundary: reported 24 months before", "U2", False)(
    cadre_with(audit, {"rating": "较差", "reported_on": "2024-06-30"}))
case("U2 boundary: reported a day inside the window", "U2", True)(
    cadre_with(audit, {"rating": "较差", "reported_on": "2024-07-01"}))
D_SCORES = {"ability": 80, "diligence": 80, "performance": 80, "integrity": 80}


def with_scores(virtue: float, **cadre: object) -> Case:
    def make(s: Scenario) -> str:
        cid = s.cadre(**cadre)
        assess(s, cid, 2025, "称职", virtue=virtue, **D_SCORES)
        return cid
    return make


case("D1 fires", "D1", True)(with_scores(55))
case("D1 boundary: exactly the threshold", "D1", False)(with_scores(60))
# rules.md: 60 for every post class (a 65 for 党政正职 lives in a jurisdiction profile)
case("D1 class threshold: 党政正职 at 62 is above the written 60", "D1", False)(
    with_scores(62, post_category="党政正职"))
case("D1 class threshold: 党政正职 at 59.5 is below it", "D1", True)(
    with_scores(59.5, post_category="党政正职"))
case("D1 near miss: 党政副职 at 62", "D1", False)(with_scores(62))
# a base A1-A5 may no longer read lowers no profile: the default base instead (rules.md "Latest
# year"); before, both raised D1, whose 考察期 had ended long ago, and so an R1 candidate
case("D1 stale: 2021-2022 不称职 makes no D1 in 2026", "D1", False)(
    with_grades((2021, "不称职"), (2022, "不称职")))
case("R1 stale: 2021-2022 不称职 makes no R1 candidate in 2026", "R1", False)(
    with_grades((2021, "不称职"), (2022, "不称职")))
case("D1 stale: a 2019 德 55 makes no D1 in 2026", "D1", False)(
    lambda s: _scored(s, 2019, 55))
case("D1 boundary: a 2023 德 55 is still read in 2026 (one year before the window)", "D1", True)(
    lambda s: _scored(s, 2023, 55))


def _scored(s: Scenario, year: int, virtue: float) -> str:
    cid = s.cadre()
    assess(s, cid, year, "称职", virtue=virtue, **D_SCORES)
    return cid


case("S1 fires", "S1", True)(cadre_with(sanction, {"measure": "诫勉", "decided_on": "2026-03-01"}))
case("S1 near miss: period over", "S1", False)(cadre_with(sanction, {"measure": "诫勉", "decided_on": "2025-12-01"}))
# the decision day is day 1: 6 months from 2026-01-01 end on 2026-06-30
case("S1 boundary: last day of the period", "S1", True)(
    cadre_with(sanction, {"measure": "诫勉", "decided_on": "2026-01-01"}))
case("S1 boundary: ended the day before", "S1", False)(
    cadre_with(sanction, {"measure": "诫勉", "decided_on": "2025-12-31"}))
case("S1 sent end date wins", "S1", True)(
    cadre_with(sanction, {"measure": "诫勉", "decided_on": "2025-01-01", "effect_until": "2026-12-31"}))


def r1(*steps: tuple[str, dict]) -> Case:
    def make(s: Scenario) -> str:
        cid = s.cadre()
        for kind, kwargs in steps:
            {"petition": petition, "audit": audit, "finding": finding}[kind](s, cid, **kwargs)
        return cid
    return make


PART = {"conclusion": "部分属实"}
case("R1 fires: second warning inside the period", "R1", True)(
    r1(("petition", {**PART, "closed_on": "2026-01-05"}), ("audit", {"rating": "较差", "reported_on": "2026-03-01"})))
case("R1 fires: no improvement", "R1", True)(
    r1(("finding", {**I2, "found_on": "2025-10-01", "rectify_by": "2025-11-30"})))
case("R1 near miss: two findings overdue the same day, period still open", "R1", False)(
    r1(("finding", {**I2, "rectify_by": "2026-05-01"}), ("finding", {**I2, "rectify_by": "2026-05-01"})))
case("R1 near miss: one event warning", "R1", False)(r1(("petition", {**PART, "closed_on": "2026-03-01"})))
case("R1 near miss: second warning after the period", "R1", False)(
    r1(("petition", {**PART, "closed_on": "2025-07-01"}), ("audit", {"rating": "较差", "reported_on": "2026-02-01"})))
# rules.md "Periods": the period's last day is inside it; escalation is the day after
case("R1 boundary: period ends the day before the as-of date", "R1", True)(
    r1(("finding", {**I2, "found_on": "2025-10-01", "rectify_by": "2025-12-28"})))
case("R1 boundary: period ends on the as-of date", "R1", False)(
    r1(("finding", {**I2, "found_on": "2025-10-01", "rectify_by": "2025-12-30"})))
case("R1 boundary: period ends the day after", "R1", False)(
    r1(("finding", {**I2, "found_on": "2025-10-01", "rectify_by": "2025-12-31"})))


@pytest.fixture(scope="module")
def rules_world(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, str]]:
    root = tmp_path_factory.mktemp("rules")
    home = DataHome.from_env(root / "home")
    scenario = Scenario()
    ids = {name: fn(scenario) for name, (_, _, fn) in CASES.items()}
    scenario.load(home, root / "drops")
    build(home, AS_OF)
    return home.warehouse_file, ids


@pytest.fixture(scope="module")
def fired(rules_world: tuple[Path, dict[str, str]]) -> dict[str, set[str]]:
    path, _ = rules_world
    con = duckdb.connect(str(path), read_only=True)
    rows = con.execute("select id_number, rule_id from marts.rule_hit where as_of = ?",
                       [AS_OF]).fetchall()
    con.close()
    result: dict[str, set[str]] = {}
    for id_number, rule_id in rows:
        result.setdefault(id_number, set()).add(rule_id)
    return result


@pytest.mark.parametrize("name", list(CASES))
def test_rule_case(name: str, rules_world: tuple[Path, dict[str, str]],
                   fired: dict[str, set[str]]) -> None:
    rule, fires, _ = CASES[name]
    got = fired.get(rules_world[1][name], set())
    assert (rule in got) == fires, f"{name}: {rule} {'should' if fires else 'should not'} fire; got {sorted(got)}"


def test_every_rule_has_fire_near_miss_and_boundary() -> None:
    for spec in rulesets.load().rules:
        names = [n for n, (rule, _, _) in CASES.items() if rule == spec.id]
        assert any(CASES[n][1] for n in names), f"{spec.id}: no firing case"
        assert any(not CASES[n][1] for n in names), f"{spec.id}: no near miss"
        assert any("boundary" in n or "class" in n for n in names), f"{spec.id}: no boundary"


RULES_MD_IDS = ("A1", "A2", "A3", "A4", "A5", "P1", "P2", "V1", "V2", "I1", "I2", "U1", "U2",
                "D1", "S1", "R1")


def test_every_rule_of_rules_md_has_a_sql_file_with_header() -> None:
    """The rule table of docs/rules.md (the project's own statement of the written rules) and
    the rule ids of rules.md, as this project was given them: each has a headed SQL file."""
    documented = (PROJECT_ROOT / "docs" / "rules.md").read_text(encoding="utf-8")
    ids = set(re.findall(r"^\| ([A-Z]\d) \|", documented, flags=re.M))
    assert ids == set(RULES_MD_IDS), "docs/rules.md's rule table and rules.md's ids differ"
    files = rulesets.rule_files(PROJECT_ROOT / "warehouse" / "rules")
    assert ids <= set(files), f"rules without SQL: {sorted(ids - set(files))}"
    for rule_id in ids:
        spec = rulesets.read_rule(files[rule_id])  # raises on a missing header key
        assert spec.id == rule_id and spec.tags
    assert ids <= {r.id for r in rulesets.load().rules}, "default rule set must enable them all"


def test_missing_header_is_refused(tmp_path: Path) -> None:
    bad = tmp_path / "Z1_no_header.sql"
    bad.write_text("-- id: Z1\n-- severity: warning\nselect 1\n", encoding="utf-8")
    with pytest.raises(rulesets.RulesetError, match="header lacks"):
        rulesets.read_rule(bad)


def test_generated_data_raises_exactly_the_planted_flags(tmp_path: Path) -> None:
    """The generator plants one cadre per rule case; the build must find exactly those flags."""
    from pipelines.dev.generate import generate_drops
    from pipelines.dev.generate.rule_scenarios import RULE_SCENARIOS
    from pipelines.dev.truth import load_truth, planted_mismatches
    from pipelines.ingest.steps import submit_file

    drops, home = tmp_path / "drops", DataHome.from_env(tmp_path / "home").ensure()
    manifest = generate_drops(drops, cadres=40, years=3, seed=3, file_format="csv",
                              scenarios=RULE_SCENARIOS)
    for entry in manifest.files:
        assert submit_file(drops / entry.path, entry.unit, entry.source, home).status == "accepted"
    truth = load_truth(drops)
    build(home, date.fromisoformat(truth["as_of"]))
    assert len(truth["cadres"]) >= 20
    with duckdb.connect(str(home.warehouse_file), read_only=True) as con:
        mismatches = planted_mismatches(con, truth)
    assert not mismatches, mismatches


def test_p2_is_dated_when_its_second_report_year_was_first_found(tmp_path: Path) -> None:
    """A later check batch re-finding a counted report year's 漏报 does not move P2's date.

    As of 2025-12-31, with a V2 (部分属实) closed 2025-10-01 opening a 考察期 to 2026-04-01:
    a re-check of 2024's omission on 2025-11-01 once dated P2 2025-11-01, inside V2's period,
    so R1 made the cadre a candidate ("期间再次预警（P2）"). P2 arose on 2025-03-01, when its
    second report year was first found; a report year first found inside the period still is
    a second warning (the control)."""
    as_of = date(2025, 12, 31)
    s = Scenario()

    def cadre(*checks: tuple[int, str]) -> str:
        cid = s.cadre()
        for year, checked_on in checks:
            report(s, cid, year, "漏报", checked_on)
        petition(s, cid, "部分属实", "2025-10-01")
        return cid

    ids = {
        "re-checked 2024": cadre((2023, "2024-03-01"), (2024, "2025-03-01"), (2024, "2025-11-01")),
        "re-checked 2023": cadre((2023, "2024-03-01"), (2024, "2025-03-01"), (2023, "2025-11-01")),
        "not re-checked": cadre((2023, "2024-03-01"), (2024, "2025-03-01")),
        "third year found later": cadre((2023, "2024-03-01"), (2024, "2025-03-01"),
                                        (2025, "2025-11-01")),
        "second year found inside": cadre((2023, "2024-03-01"), (2024, "2025-11-01")),
    }
    home = DataHome.from_env(tmp_path / "home")
    s.load(home, tmp_path / "drops")
    build(home, as_of)
    with duckdb.connect(str(home.warehouse_file), read_only=True) as con:
        p2 = {cid: (flag_date, len(evidence)) for cid, flag_date, evidence in con.execute(
            "select id_number, flag_date, evidence_ids from marts.rule_hit "
            "where as_of = ? and rule_id = 'P2'", [as_of]).fetchall()}
        r1 = dict(con.execute("select id_number, detail_zh from marts.rule_hit "
                              "where as_of = ? and rule_id = 'R1'", [as_of]).fetchall())
    got = {name: (p2.get(cid), r1.get(cid)) for name, cid in ids.items()}
    # every check batch that found a counted year's omission stays evidence of the flag
    assert got == {
        "re-checked 2024": ((date(2025, 3, 1), 3), None),
        "re-checked 2023": ((date(2025, 3, 1), 3), None),
        "not re-checked": ((date(2025, 3, 1), 2), None),
        "third year found later": ((date(2025, 3, 1), 3), None),
        "second year found inside": (
            (date(2025, 11, 1), 2), "V2预警（2025-10-01起考察期）期间再次预警（P2）"),
    }
