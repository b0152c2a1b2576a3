-- grain: id_number
-- id: A3
-- title: 民主测评（优秀+称职）票比例连续两年低于三分之二
-- severity: candidate
-- dimension: ability
-- basis: 推进领导干部能上能下规定 (2022) item 14 [S]
-- Why: the latest N years with a 民主测评 (A3.consecutive_years, consecutive calendar years)
-- must all have (优秀+称职)/total below A3.min_approval_ratio (default exactly 2/3).
with voted as (
    select * from core.assessment
    where fact_date <= getvariable('as_of') and votes_total > 0
),

latest as (
    select voted.id_number, voted.year as latest_year, parameter.a3_consecutive_years as n,
        parameter.a3_min_approval_ratio as min_ratio
    from voted
    join ruleset.post_class_parameter as parameter using (post_level, post_category, sector)
    qualify row_number() over (partition by voted.id_number order by voted.year desc) = 1
),

recent as (
    select voted.*, latest.n, latest.min_ratio
    from voted
    join latest using (id_number)
    where voted.year > latest.latest_year - latest.n
)

select
    id_number,
    max(fact_date) as flag_date,
    list(evidence_id order by year) as evidence_ids,
    format('{}—{}年度民主测评好评率分别为{}，均低于{:.1f}%', min(year), max(year),
        string_agg(format('{:.1f}%', 100 * approval_ratio), '、' order by year),
        100 * any_value(min_ratio)) as detail_zh
from recent
group by id_number, n
having count(*) = n and bool_and(approval_ratio < min_ratio)
