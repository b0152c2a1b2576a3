-- grain: id_number
-- id: D1
-- title: 德能勤绩廉某一维度得分低于岗位类别阈值
-- severity: warning
-- dimension: any
-- basis: seed article §2 (分类设定标准) [I]
-- Why: a dimension below the threshold of the post class at the as-of date. The warning dates
-- from the first half-year end of the current unbroken run of below-threshold profiles, so a
-- cadre who stays below through a 考察期 escalates under R1. A low dimension counts only if it
-- rests on at least one piece of evidence other than sanctions (rules.md 不重复处理): its base
-- (the assessment) is itself below the threshold, or a counted non-sanction deduction lowers it;
-- sanctions still cost their points and show on the profile. Evidence: the base assessment when
-- it is below, and the counted deductions on the dimensions that count.
with profile as (
    select * from marts.cadre_profile
    where as_of = getvariable('as_of') and period_kind in ('half_year', 'as_of')
),

low as (
    -- one row per period and dimension below its threshold
    select id_number, period_kind, period_label, period_end, base_evidence_id,
        unnest(below_threshold) as dimension,
        base_virtue, base_ability, base_diligence, base_performance, base_integrity,
        threshold_virtue, threshold_ability, threshold_diligence, threshold_performance,
        threshold_integrity
    from profile
),

low_base as (
    select id_number, period_kind, period_label, period_end, base_evidence_id, dimension,
        case dimension
            when 'virtue' then base_virtue < threshold_virtue
            when 'ability' then base_ability < threshold_ability
            when 'diligence' then base_diligence < threshold_diligence
            when 'performance' then base_performance < threshold_performance
            else base_integrity < threshold_integrity
        end as base_below
    from low
),

other_evidence as (
    -- counted deductions from anything but a sanction, per period and dimension
    select distinct id_number, period_kind, period_label, dimension
    from marts.deduction
    where as_of = getvariable('as_of') and status = 'counted' and source <> 'sanction'
),

supported as (
    select low_base.*
    from low_base
    left join other_evidence using (id_number, period_kind, period_label, dimension)
    where low_base.base_below or other_evidence.id_number is not null
),

history as (
    select profile.id_number, profile.period_end,
        exists (
            select 1 from supported
            where supported.id_number = profile.id_number
                and supported.period_kind = profile.period_kind
                and supported.period_label = profile.period_label
        ) as below
    from profile
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

low_now as (
    select id_number,
        list(dimension order by list_position(
            ['virtue', 'ability', 'diligence', 'performance', 'integrity'], dimension)) as dimensions,
        if(bool_or(base_below), any_value(base_evidence_id), null) as base_evidence_id
    from supported
    where period_kind = 'as_of'
    group by id_number
),

deduction_evidence as (
    select deduction.id_number, list(distinct deduction.evidence_id order by deduction.evidence_id) as ids
    from marts.deduction as deduction
    join low_now using (id_number)
    where deduction.as_of = getvariable('as_of') and deduction.period_kind = 'as_of'
        and deduction.status = 'counted' and list_contains(low_now.dimensions, deduction.dimension)
    group by deduction.id_number
)

select
    low_now.id_number,
    since.flag_date,
    list_distinct(list_concat(
        if(low_now.base_evidence_id is null, []::varchar[], [low_now.base_evidence_id]),
        coalesce(deduction_evidence.ids, []::varchar[]))) as evidence_ids,
    '低于阈值的维度：' || array_to_string(list_transform(low_now.dimensions, lambda d:
        case d when 'virtue' then '德' when 'ability' then '能' when 'diligence' then '勤'
            when 'performance' then '绩' else '廉' end), '、') as detail_zh
from low_now
join since using (id_number)
left join deduction_evidence using (id_number)
