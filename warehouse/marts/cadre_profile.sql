-- marts.cadre_profile: 德能勤绩廉画像. Per cadre and period: the five dimension scores, the overall score and the thresholds of the post class.
-- grain: id_number, period_kind, period_label
-- Why: rules.md §1: base = the latest graded assessment's scores (or its grade mapped), minus
-- the deductions inside the look-back window; thresholds differ by post level/category/sector.
-- The base is an assessment A1-A5 may still read at the period end (oldest_assessment_year,
-- rules.md "Latest year"): a 2021-2022 不称职 lowers no 2026 profile, so it raises no D1 and,
-- through D1, no R1 candidate; older than that, the profile starts from the default base.
-- column period_kind: as_of (the build's date), half_year or year.
-- column base_source: scores (分项评价), grade (等次 mapped) or default (no graded assessment recent enough to read).
-- column base_evidence_id: The assessment the base was read from.
-- column score_virtue: Profile score of 德 (virtue) for the period: the base minus the deductions inside the look-back window, 0-100. Not the assessment's raw score (that is core.assessment.score_virtue).
-- column score_ability: Profile score of 能 (ability) for the period: the base minus the deductions inside the look-back window, 0-100. Not the assessment's raw score (that is core.assessment.score_ability).
-- column score_diligence: Profile score of 勤 (diligence) for the period: the base minus the deductions inside the look-back window, 0-100. Not the assessment's raw score (that is core.assessment.score_diligence).
-- column score_performance: Profile score of 绩 (performance) for the period: the base minus the deductions inside the look-back window, 0-100. Not the assessment's raw score (that is core.assessment.score_performance).
-- column score_integrity: Profile score of 廉 (integrity) for the period: the base minus the deductions inside the look-back window, 0-100. Not the assessment's raw score (that is core.assessment.score_integrity).
-- column base_year: Year of the assessment the base was read from.
-- column base_virtue: 德 before deductions (the assessment's score, its grade mapped, or the default).
-- column base_ability: 能 before deductions.
-- column base_diligence: 勤 before deductions.
-- column base_performance: 绩 before deductions.
-- column base_integrity: 廉 before deductions.
-- column threshold_virtue: Threshold of 德 for the post class; a score below it raises D1.
-- column threshold_ability: Threshold of 能 for the post class.
-- column threshold_diligence: Threshold of 勤 for the post class.
-- column threshold_performance: Threshold of 绩 for the post class.
-- column threshold_integrity: Threshold of 廉 for the post class.
-- column threshold_overall: Threshold of the overall score for the post class (shown, no rule).
-- column score_overall: Weighted mean of the five scores (ruleset.yaml profile.weights).
-- column below_threshold: Dimensions whose score is below their threshold.
with period as (select * from temp.cadre_period),
parameter as (select * from ruleset.post_class_parameter),
-- each graded assessment is the base from its date until the next one's: an equi-join on the ID
-- with the span as a filter (an ASOF join would sort all 7 period rows of every cadre)
graded as (
    select *,
        lead(fact_date) over (partition by id_number order by fact_date, evidence_id) as next_fact_date
    from core.assessment where grade <> '不定等次'
),
deduction as (
    select period_kind, period_label, id_number,
        sum(points) filter (dimension = 'virtue') as lost_virtue,
        sum(points) filter (dimension = 'ability') as lost_ability,
        sum(points) filter (dimension = 'diligence') as lost_diligence,
        sum(points) filter (dimension = 'performance') as lost_performance,
        sum(points) filter (dimension = 'integrity') as lost_integrity
    from marts.deduction where as_of = getvariable('as_of')
    group by all
),
based as (
    select period.*, graded.evidence_id as base_evidence_id, graded.year as base_year,
        coalesce(graded.score_virtue, grade_base.score, getvariable('base_without_assessment')) as base_virtue,
        coalesce(graded.score_ability, grade_base.score, getvariable('base_without_assessment')) as base_ability,
        coalesce(graded.score_diligence, grade_base.score, getvariable('base_without_assessment')) as base_diligence,
        coalesce(graded.score_performance, grade_base.score, getvariable('base_without_assessment')) as base_performance,
        coalesce(graded.score_integrity, grade_base.score, getvariable('base_without_assessment')) as base_integrity,
        case when graded.evidence_id is null then 'default'
            when graded.score_virtue is not null then 'scores' else 'grade' end as base_source
    from period
    left join graded
        on graded.id_number = period.id_number and period.period_end >= graded.fact_date
        and (graded.next_fact_date is null or period.period_end < graded.next_fact_date)
        -- an assessment A1-A5 may no longer read is no base either: the default instead
        and graded.year >= oldest_assessment_year(period.period_end)
    left join ruleset.grade_base as grade_base on grade_base.grade = graded.grade
),
-- base (decimal(18, 4)) minus a sum of points (decimal(38, 2)) is a 128-bit decimal(38, 4);
-- rounding that to two places straight away costs a 128-bit division per score, so it is first
-- cast to decimal(18, 4) (same scale: the value is unchanged, and one too big for that fails
-- either way) and rounded from there
scored as (
    select based.*,
        greatest(0, base_virtue - coalesce(lost_virtue, 0))::decimal(18, 4)::decimal(6, 2) as score_virtue,
        greatest(0, base_ability - coalesce(lost_ability, 0))::decimal(18, 4)::decimal(6, 2) as score_ability,
        greatest(0, base_diligence - coalesce(lost_diligence, 0))::decimal(18, 4)::decimal(6, 2) as score_diligence,
        greatest(0, base_performance - coalesce(lost_performance, 0))::decimal(18, 4)::decimal(6, 2) as score_performance,
        greatest(0, base_integrity - coalesce(lost_integrity, 0))::decimal(18, 4)::decimal(6, 2) as score_integrity
    from based left join deduction using (period_kind, period_label, id_number)
)
select scored.*,
    ((score_virtue * w.virtue + score_ability * w.ability + score_diligence * w.diligence
      + score_performance * w.performance + score_integrity * w.integrity)
      / (w.virtue + w.ability + w.diligence + w.performance + w.integrity))::decimal(6, 2) as score_overall,
    p.threshold_virtue, p.threshold_ability, p.threshold_diligence, p.threshold_performance,
    p.threshold_integrity, p.threshold_overall,
    list_concat(
        if(score_virtue < p.threshold_virtue, ['virtue'], []::varchar[]),
        if(score_ability < p.threshold_ability, ['ability'], []::varchar[]),
        if(score_diligence < p.threshold_diligence, ['diligence'], []::varchar[]),
        if(score_performance < p.threshold_performance, ['performance'], []::varchar[]),
        if(score_integrity < p.threshold_integrity, ['integrity'], []::varchar[])
    ) as below_threshold
from scored
join parameter as p using (post_level, post_category, sector)
cross join ruleset.dimension_weight as w
