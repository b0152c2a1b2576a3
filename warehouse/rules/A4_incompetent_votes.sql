-- grain: id_number
-- id: A4
-- title: 最近一年民主测评不称职票超过三分之一
-- severity: candidate
-- dimension: ability
-- basis: local practice (地方规定) [V]
-- Why: only the latest assessed year counts, and only its own 民主测评 (no fallback to an older
-- year's votes); the bar is strict (> A4.max_incompetent_ratio). A later 不定等次 year with
-- its own 民主测评 is newer votes: the graded year before it is not read (no fallback), and a
-- year without a grade makes no candidate itself (the kinder reading; rules.md is silent).
with latest as (
    select recent.*, parameter.a4_max_incompetent_ratio as max_ratio
    from temp.assessment_recent as recent
    join ruleset.post_class_parameter as parameter using (post_level, post_category, sector)
    where recent.slot is not null or recent.votes_total > 0
    qualify row_number() over (partition by recent.id_number order by recent.year desc) = 1
)

select
    id_number,
    fact_date as flag_date,
    [evidence_id] as evidence_ids,
    format('{}年度民主测评不称职票{}张，占{:.1f}%，超过{:.1f}%', year, votes_incompetent,
        100 * incompetent_ratio, 100 * max_ratio) as detail_zh
from latest
where slot is not null and votes_total > 0 and incompetent_ratio > max_ratio
