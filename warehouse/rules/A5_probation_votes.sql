-- grain: id_number
-- id: A5
-- title: 试用期内民主测评不称职票达三分之一或好评率低于二分之一
-- severity: candidate
-- dimension: ability
-- basis: local practice (地方规定, 试用期满考核) [V]
-- Why: the latest assessed year's own 民主测评 counts if the cadre was on probation as the roster
-- stood on the as-of date (是否试用期; see temp.assessment_recent): 不称职 >=
-- A5.max_incompetent_ratio or (优秀+称职) < A5.min_approval_ratio. The votes must be about the
-- probation: an assessment year that ended before the cadre took the post on probation
-- (任现职时间 in that roster row) rated the former post, and is not read (rules.md is silent
-- on it; the kinder reading). A later 不定等次 year with its own 民主测评 blocks the graded year
-- before it and makes no candidate itself, as in A4.
with latest as (
    select recent.*, parameter.a5_max_incompetent_ratio as max_ratio,
        parameter.a5_min_approval_ratio as min_ratio
    from temp.assessment_recent as recent
    join ruleset.post_class_parameter as parameter using (post_level, post_category, sector)
    where recent.slot is not null or recent.votes_total > 0
    qualify row_number() over (partition by recent.id_number order by recent.year desc) = 1
)

select
    id_number,
    fact_date as flag_date,
    [evidence_id] as evidence_ids,
    format('试用期内{}年度民主测评：不称职票占{:.1f}%，好评率{:.1f}%', year,
        100 * incompetent_ratio, 100 * approval_ratio) as detail_zh
from latest
where on_probation_as_of and slot is not null and votes_total > 0
    and (appointed_on_as_of is null or fact_date >= appointed_on_as_of)
    and (incompetent_ratio >= max_ratio or approval_ratio < min_ratio)
