-- grain: id_number
-- id: A4
-- title: 最近一年民主测评不称职票超过三分之一
-- severity: candidate
-- dimension: ability
-- basis: local practice (地方规定) [V]
-- Why: only the latest year with a 民主测评 counts; the bar is strict (> A4.max_incompetent_ratio).
with voted as (
    select * from core.assessment
    where fact_date <= getvariable('as_of') and votes_total > 0
),

latest as (
    select voted.*, parameter.a4_max_incompetent_ratio as max_ratio
    from voted
    join ruleset.post_class_parameter as parameter using (post_level, post_category, sector)
    qualify row_number() over (partition by voted.id_number order by voted.year desc) = 1
)

select
    id_number,
    fact_date as flag_date,
    [evidence_id] as evidence_ids,
    format('{}年度民主测评不称职票{}张，占{:.1f}%，超过{:.1f}%', year, votes_incompetent,
        100 * incompetent_ratio, 100 * max_ratio) as detail_zh
from latest
where incompetent_ratio > max_ratio
