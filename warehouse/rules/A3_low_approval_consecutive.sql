-- grain: id_number
-- id: A3
-- title: 民主测评（优秀+称职）票比例连续两年低于三分之二
-- severity: candidate
-- dimension: ability
-- basis: 推进领导干部能上能下规定 (2022) item 14 [S]
-- Why: the latest N places of the window (A3.consecutive_years) must each have a 民主测评 with
-- (优秀+称职)/total below A3.min_approval_ratio (default exactly 2/3); a year without votes is
-- never replaced by an older year's votes.
with recent as (
    select recent.*, parameter.a3_consecutive_years as n,
        parameter.a3_min_approval_ratio as min_ratio
    from temp.assessment_recent as recent
    join ruleset.post_class_parameter as parameter using (post_level, post_category, sector)
),

run as (
    -- the latest n places of the window, each with its own 民主测评 (no older year stands in)
    select * from recent where slot <= n
),

hit as (
    -- the cadres whose run qualifies, decided on numbers alone: the texts and lists below are
    -- then made for those few cadres, not for every cadre's run
    select id_number
    from run
    group by id_number
    having count(*) = any_value(n) and bool_and(votes_total > 0)
        and bool_and(approval_ratio < min_ratio)
)

select
    id_number,
    max(fact_date) as flag_date,
    list(evidence_id order by year) as evidence_ids,
    format('{}—{}年度民主测评好评率分别为{}，均低于{:.1f}%', min(year), max(year),
        string_agg(format('{:.1f}%', 100 * approval_ratio), '、' order by year),
        100 * any_value(min_ratio)) as detail_zh
from run
semi join hit using (id_number)
group by id_number
