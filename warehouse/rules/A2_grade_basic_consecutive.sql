-- grain: id_number
-- id: A2
-- title: 连续两年年度考核为基本称职
-- severity: candidate
-- dimension: performance
-- basis: 推进领导干部能上能下规定 (2022) item 14 [S]
-- Why: the latest N places of the window (A2.consecutive_years, consecutive calendar years; a
-- 不定等次 year takes no place, so it neither counts nor breaks the run) must all be 基本称职;
-- a better latest year means the cadre improved and clears the rule.
with recent as (
    select recent.*, parameter.a2_consecutive_years as n
    from temp.assessment_recent as recent
    join ruleset.post_class_parameter as parameter using (post_level, post_category, sector)
),

run as (
    -- the latest n places of the window: all filled (a missing year is a gap) and all 基本称职
    select * from recent where slot <= n
),

hit as (
    -- the cadres whose run qualifies, decided on grades alone: the texts and lists below are
    -- then made for those few cadres, not for every cadre's run
    select id_number
    from run
    group by id_number
    having count(*) = any_value(n) and bool_and(grade = '基本称职')
)

select
    id_number,
    max(fact_date) as flag_date,
    list(evidence_id order by year) as evidence_ids,
    format('{}—{}年度连续{}年考核为基本称职', min(year), max(year), count(*)) as detail_zh
from run
semi join hit using (id_number)
group by id_number
