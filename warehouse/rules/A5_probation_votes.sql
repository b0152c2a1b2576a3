-- grain: id_number
-- id: A5
-- title: 试用期内民主测评不称职票达三分之一或好评率低于二分之一
-- severity: candidate
-- dimension: ability
-- basis: local practice (地方规定, 试用期满考核) [V]
-- Why: the latest year with a 民主测评 counts if the cadre was on probation (是否试用期, as the
-- roster reported it for the post held at that year's end): 不称职 >= A5.max_incompetent_ratio
-- or (优秀+称职) < A5.min_approval_ratio.
with voted as (
    select * from core.assessment
    where fact_date <= getvariable('as_of') and votes_total > 0
),

latest as (
    select voted.*, parameter.a5_max_incompetent_ratio as max_ratio,
        parameter.a5_min_approval_ratio as min_ratio
    from voted
    join ruleset.post_class_parameter as parameter using (post_level, post_category, sector)
    qualify row_number() over (partition by voted.id_number order by voted.year desc) = 1
)

select
    id_number,
    fact_date as flag_date,
    [evidence_id] as evidence_ids,
    format('试用期内{}年度民主测评：不称职票占{:.1f}%，好评率{:.1f}%', year,
        100 * incompetent_ratio, 100 * approval_ratio) as detail_zh
from latest
where on_probation
    and (incompetent_ratio >= max_ratio or approval_ratio < min_ratio)
