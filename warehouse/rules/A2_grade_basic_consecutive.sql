-- grain: id_number
-- id: A2
-- title: 连续两年年度考核为基本称职
-- severity: candidate
-- dimension: performance
-- basis: 推进领导干部能上能下规定 (2022) item 14 [S]
-- Why: the latest N graded years (A2.consecutive_years, consecutive calendar years) must all be
-- 基本称职; a better latest year means the cadre improved and clears the rule.
with graded as (
    select * from core.assessment
    where fact_date <= getvariable('as_of') and grade <> '不定等次'
),

latest as (
    select graded.id_number, graded.year as latest_year, parameter.a2_consecutive_years as n
    from graded
    join ruleset.post_class_parameter as parameter using (post_level, post_category, sector)
    qualify row_number() over (partition by graded.id_number order by graded.year desc) = 1
),

recent as (
    select graded.*, latest.n
    from graded
    join latest using (id_number)
    where graded.year > latest.latest_year - latest.n
)

select
    id_number,
    max(fact_date) as flag_date,
    list(evidence_id order by year) as evidence_ids,
    format('{}—{}年度连续{}年考核为基本称职', min(year), max(year), count(*)) as detail_zh
from recent
group by id_number, n
having count(*) = n and bool_and(grade = '基本称职')
