-- grain: id_number
-- id: D1
-- title: 德能勤绩廉某一维度得分低于岗位类别阈值
-- severity: warning
-- dimension: any
-- basis: seed article §2 (分类设定标准) [I]
-- Why: a dimension below the threshold of the post class at the as-of date. The warning dates
-- from the first half-year end of the current unbroken run of below-threshold profiles, so a
-- cadre who stays below through a 考察期 escalates under R1. Evidence: the base assessment and
-- the counted deductions on the low dimensions.
with profile as (
    select * from marts.cadre_profile where as_of = getvariable('as_of')
),
low_now as (
    select * from profile where period_kind = 'as_of' and len(below_threshold) > 0
),
history as (
    select id_number, period_end, len(below_threshold) > 0 as below
    from profile where period_kind in ('half_year', 'as_of')
),
last_fine as (
    select id_number, max(period_end) as last_fine_on from history where not below
    group by id_number
),
since as (
    select history.id_number, min(history.period_end) as flag_date
    from history left join last_fine using (id_number)
    where history.below and history.period_end > coalesce(last_fine.last_fine_on, date '0001-01-01')
    group by history.id_number
),
deduction_evidence as (
    select deduction.id_number, list(distinct deduction.evidence_id order by deduction.evidence_id) as ids
    from marts.deduction as deduction
    join low_now using (id_number)
    where deduction.as_of = getvariable('as_of') and deduction.period_kind = 'as_of'
        and deduction.status = 'counted' and list_contains(low_now.below_threshold, deduction.dimension)
    group by deduction.id_number
)
select
    low_now.id_number,
    since.flag_date,
    list_distinct(list_concat(
        if(low_now.base_evidence_id is null, []::varchar[], [low_now.base_evidence_id]),
        coalesce(deduction_evidence.ids, []::varchar[]))) as evidence_ids,
    '低于阈值的维度：' || array_to_string(list_transform(low_now.below_threshold, lambda d:
        case d when 'virtue' then '德' when 'ability' then '能' when 'diligence' then '勤'
            when 'performance' then '绩' else '廉' end), '、') as detail_zh
from low_now
join since using (id_number)
left join deduction_evidence using (id_number)
