"""What a 集中会诊 report shows, read once from the warehouse into plain frames.

Why separate from rendering: the HTML page, the XLSX workbook and the tests read the same
``ReviewData``, so the two renderings cannot disagree and the numbers can be asserted without
parsing either. Every query reads the review views (``decisions.*``, ``followup.*``), never the
build's tables directly (see ``pipelines.review.sql``).

The period's build: the latest build dated on or before the period's end (else the earliest
after it); the report states which one and warns when it is not the period end.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

import duckdb
import pandas as pd

from pipelines.build import ruleset
from pipelines.review import decisions
from pipelines.review import sql as review_sql

DIMENSION_ZH = ruleset.DIMENSIONS  # dimension -> 德/能/勤/绩/廉, declared in pipelines.build.ruleset
DIMENSIONS = tuple(DIMENSION_ZH)
GRADES = ("优秀", "称职", "基本称职", "不称职")


@dataclass(frozen=True)
class Period:
    """A review period: a half-year (2025H2) or a year (2025)."""

    label: str
    start: date
    end: date

    @property
    def horizon(self) -> date:
        """End of the next half-year: what falls due before the next review is shown now."""
        return decisions.add_months(self.end, 6)

    @property
    def label_zh(self) -> str:
        match = re.fullmatch(r"(\d{4})H([12])", self.label)
        if match:
            return f"{match.group(1)}年{'上' if match.group(2) == '1' else '下'}半年"
        return f"{self.label}年度"


def parse_period(text: str) -> Period:
    """``2025H2`` / ``2025H1`` / ``2025``; ValueError otherwise."""
    match = re.fullmatch(r"(\d{4})(?:H([12]))?", text.strip().upper())
    if match is None:
        raise ValueError(f"period must look like 2025H2, 2025H1 or 2025, not {text!r}")
    year, half = int(match.group(1)), match.group(2)
    if half is None:
        return Period(str(year), date(year, 1, 1), date(year, 12, 31))
    if half == "1":
        return Period(f"{year}H1", date(year, 1, 1), date(year, 6, 30))
    return Period(f"{year}H2", date(year, 7, 1), date(year, 12, 31))


@dataclass
class ReviewData:
    period: Period
    build_as_of: date | None
    unit: str | None
    generated_at: datetime
    units: list[str]
    flags: pd.DataFrame  # one row per flag shown (candidates and warnings), with its state
    evidence: pd.DataFrame  # flag_id + evidence rows
    profiles: pd.DataFrame  # the period's profile of every in-scope cadre of the units
    observation: pd.DataFrame
    influence: pd.DataFrame
    rechecks: pd.DataFrame
    reappointment: pd.DataFrame
    quota: pd.DataFrame
    quota_year: int | None
    excellent_in_influence: pd.DataFrame
    params: review_sql.ReviewParams = field(default_factory=review_sql.ReviewParams)
    fairness: Any = None  # pipelines.review.fairness.FairnessReport, set by write_review
    # the rule set that produced the flags, and each flagged rule's 依据 (marts.rule_basis)
    ruleset_version: str = ""
    ruleset_profile: str = ""
    rule_basis: pd.DataFrame = field(default_factory=pd.DataFrame)

    @property
    def build_note(self) -> str:
        if self.build_as_of is None:
            return "尚无画像构建结果，本报告只列出已有的决定和复检信息。请先运行 cadre build。"
        if self.build_as_of != self.period.end:
            return (f"注意：本报告所用画像截至{self.build_as_of}，不是本期期末（{self.period.end}）。"
                    f"如需按期末口径，请先运行 cadre build --as-of {self.period.end}。")
        return ""


def choose_build(con: duckdb.DuckDBPyConnection, period_end: date) -> date | None:
    built = sorted(r[0] for r in con.execute(
        "select distinct as_of from decisions.build_source").fetchall())
    before = [b for b in built if b <= period_end]
    return before[-1] if before else (built[0] if built else None)


FLAGS_SQL = """
with raised as (select * from decisions.flag_source where as_of = $build and in_scope
                and severity <> 'blocks_promotion'),
state as (select * from decisions.flag_state where severity <> 'blocks_promotion')
select state.flag_id, state.id_number, coalesce(raised.name, state.name) as name,
    coalesce(raised.org_name, state.org_name) as org_name,
    coalesce(raised.post_title, state.post_title) as post_title, state.rule_id,
    state.rule_title_zh, coalesce(raised.detail_zh, state.detail_zh) as detail_zh,
    state.severity, state.opened_on, coalesce(raised.evidence_ids, state.evidence_ids)
    as evidence_ids, state.state, state.state_zh, state.last_action, state.last_decided_on,
    state.last_decided_by, state.observe_until, raised.observation_status,
    raised.flag_id is not null as raised_now
from state left join raised using (flag_id)
where (raised.flag_id is not null or state.state in ('confirmed', 'appealed'))
order by org_name, state.severity, name, state.rule_id, state.opened_on
"""
EVIDENCE_SQL = """
select evidence_id, source, fact_date, category, severity_level, status, status_basis,
    summary_zh, unit, filename, source_row
from decisions.evidence_source where list_contains($ids, evidence_id)
"""
PROFILES_SQL = """
select * from decisions.profile_source
where as_of = $build and in_scope and (period_label = $label or period_kind = 'as_of')
qualify row_number() over (partition by id_number
    order by period_label = $label desc, period_kind = 'as_of' desc) = 1
"""
OBSERVATION_SQL = """
with raised as (select * from decisions.flag_source where as_of = $build)
select state.flag_id, state.id_number, coalesce(raised.name, state.name) as name,
    coalesce(raised.org_name, state.org_name) as org_name, state.rule_id, state.rule_title_zh,
    coalesce(raised.detail_zh, state.detail_zh) as detail_zh, state.severity, state.opened_on,
    state.observed_on, state.observe_until, raised.observation_status
from decisions.flag_state as state left join raised using (flag_id)
where state.state = 'under_observation' and state.observe_until <= $horizon
order by state.observe_until, org_name, name
"""
INFLUENCE_SQL = """
with post as (select id_number, name, org_name from decisions.profile_source
              where as_of = $build and period_kind = 'as_of')
select '处分/组织处理' as kind, influence.id_number, post.name, post.org_name,
    influence.measure, influence.decision_no as document_no, influence.decided_on,
    influence.effect_until, influence.no_leading_post_until, influence.lifted_on
from decisions.influence_source as influence left join post using (id_number)
where influence.as_of = $build and influence.decided_on <= $end
    and influence.effect_until >= $start
union all
select '组织调整', id_number, name, org_name, '组织调整（' || measure || '）', document_no,
    adjusted_on, promotion_from - 1, if(reappoint_from < promotion_from, reappoint_from - 1, null),
    null
from followup.followup_case
where file_status in ('active', 'appealed') and adjusted_on <= $end and promotion_from > $start
order by effect_until, org_name, name
"""
RECHECKS_SQL = """
select recheck.*, followup_case.name, followup_case.org_name, followup_case.measure,
    followup_case.adjusted_on, followup_case.file_status_zh
from followup.recheck as recheck join followup.followup_case as followup_case using (flag_id)
where recheck.recheck_on between $start and $horizon
order by recheck.recheck_on, followup_case.org_name, followup_case.name
"""
QUOTA_SQL = """
select org_name, count(*) as assessed,
    count(*) filter (where grade = '优秀') as excellent,
    count(*) filter (where grade = '称职') as competent,
    count(*) filter (where grade = '基本称职') as basic,
    count(*) filter (where grade = '不称职') as incompetent
from decisions.assessment_source
where year = $year and grade <> '不定等次'
group by org_name order by org_name
"""
EXCELLENT_IN_INFLUENCE_SQL = """
select assessment.id_number, assessment.name, assessment.org_name, assessment.year,
    influence.measure, influence.decided_on, influence.effect_until
from decisions.assessment_source as assessment
join decisions.influence_source as influence
    on influence.as_of = $build and influence.id_number = assessment.id_number
    and influence.decided_on <= make_date(assessment.year, 12, 31)
    and influence.effect_until >= make_date(assessment.year, 1, 1)
    -- a lifted block was wrong from the start: 优秀 inside it breaches nothing
    and influence.lifted_on is null
where assessment.year = $year and assessment.grade = '优秀'
order by assessment.org_name, assessment.name
"""


def _only(frame: pd.DataFrame, unit: str | None) -> pd.DataFrame:
    if unit is None or "org_name" not in frame.columns:
        return frame.reset_index(drop=True)
    return frame[frame["org_name"] == unit].reset_index(drop=True)


def load_review(con: duckdb.DuckDBPyConnection, period: Period, unit: str | None = None,
                build: date | None = None) -> ReviewData:
    """Register the builds' flags, then read everything the report shows for the period."""
    decisions.sync_flags(con)
    build = build or choose_build(con, period.end)
    review_sql.set_context(con, period.end, build)
    p = {"build": build, "label": period.label, "start": period.start, "end": period.end,
         "horizon": period.horizon}
    flags = _only(review_sql.query(con, FLAGS_SQL, p), unit)
    ids = sorted({e for ids in flags["evidence_ids"] for e in (ids if ids is not None else [])})
    evidence = review_sql.query(con, EVIDENCE_SQL, {"ids": ids})
    links = pd.DataFrame([(f, e) for f, ids in zip(flags["flag_id"], flags["evidence_ids"],
                                                    strict=True) for e in (ids if ids is not None else [])],
                         columns=["flag_id", "evidence_id"])
    evidence = links.merge(evidence, on="evidence_id", how="inner")
    year = con.execute("select max(year) from decisions.assessment_source where year <= ?",
                       [period.end.year]).fetchone()[0]
    profiles = _only(review_sql.query(con, PROFILES_SQL, p), unit)
    units = sorted(set(profiles["org_name"].dropna()) | set(flags["org_name"].dropna()))
    if unit is not None and unit not in units:
        units = [unit]
    return ReviewData(
        period=period, build_as_of=build, unit=unit,
        generated_at=datetime.now().replace(microsecond=0), units=units, flags=flags,
        evidence=evidence, profiles=profiles,
        observation=_only(review_sql.query(con, OBSERVATION_SQL, p), unit),
        influence=_only(review_sql.query(con, INFLUENCE_SQL, p), unit),
        rechecks=_only(review_sql.query(con, RECHECKS_SQL, p), unit),
        reappointment=_only(con.execute("select * from followup.reappointment "
                                        "order by org_name, name").df(), unit),
        quota=_only(review_sql.query(con, QUOTA_SQL, {"year": year}), unit), quota_year=year,
        excellent_in_influence=_only(review_sql.query(con, EXCELLENT_IN_INFLUENCE_SQL,
                                         {"year": year, "build": build}), unit),
        params=review_sql.params(),
        **_ruleset_of(con, build, flags),
    )


def _ruleset_of(con: duckdb.DuckDBPyConnection, build: date | None,
                flags: pd.DataFrame) -> dict[str, Any]:
    """Which rule set version and jurisdiction profile produced the build's flags, and the
    依据 (basis, tags, unverified) of every rule that raised a flag shown."""
    if build is None:
        return {}
    run = con.execute("select ruleset_version, ruleset_profile from marts.build_run "
                      "where as_of = ? order by built_at desc limit 1", [build]).fetchone()
    rules = sorted(set(flags["rule_id"].dropna())) if len(flags) else []
    basis = con.execute("select rule_id, title_zh, basis, tags, unverified, profile_changes_zh "
                        "from marts.rule_basis where as_of = ? and list_contains(?, rule_id) "
                        "order by rule_id", [build, rules]).df()
    return {"ruleset_version": run[0] if run else "", "ruleset_profile": run[1] if run else "",
            "rule_basis": basis}


def quota_status(excellent: int, assessed: int, params: review_sql.ReviewParams) -> str:
    """符合 / 须经批准 / 超出上限 for one unit's 优秀 share (rules.md §6)."""
    if assessed == 0:
        return "无考核结果"
    share = excellent / assessed
    if share <= params.excellent_quota + 1e-9:
        return "符合"
    if share <= params.excellent_quota_approved + 1e-9:
        return f"超过{params.excellent_quota:.0%}，须经批准"
    return "超出上限"
