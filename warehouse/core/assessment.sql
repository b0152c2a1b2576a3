-- core.assessment: 年度考核. Current annual assessment rows matched to a cadre, with 民主测评 ratios and the post held at year end.
-- grain: evidence_id
-- Why: the profile's base and rules A1-A5 read grades and votes; ratios are computed once here.
-- column fact_date: 31 Dec of the assessment year (the as-of date a result counts from).
-- column votes_total: 优秀+称职+基本称职+不称职 votes; 0 = no 民主测评 reported.
-- column approval_ratio: (优秀+称职)/total votes; NULL without votes.
-- column incompetent_ratio: 不称职/total votes; NULL without votes.
-- column category: 民主测评偏低 when approval is below A3's ratio for the post class, else the grade.
-- column negative: Low approval counts as negative evidence (能 dimension), a grade alone does not.
-- column status: counted (negative evidence) or neutral.
-- the rows as loaded: core.fact holds only the current version of each key (staging's
-- choice), and the join on (submission_id, source_row) keeps just those, without ranking the
-- versions a second time
with source_rows as (
    select * from raw.annual_assessment
),
fact as (
    select * from core.fact where source = 'annual_assessment' and matched and not identity_doubt
),
parameter as (
    select * from ruleset.post_class_parameter
),
counted_votes as (
    select
        fact.evidence_id, fact.source, fact.id_number, fact.fact_date,
        source_rows.year, source_rows.grade,
        source_rows.votes_excellent, source_rows.votes_competent,
        source_rows.votes_basic, source_rows.votes_incompetent,
        coalesce(source_rows.votes_excellent, 0) + coalesce(source_rows.votes_competent, 0)
            + coalesce(source_rows.votes_basic, 0) + coalesce(source_rows.votes_incompetent, 0)
            as votes_total,
        source_rows.score_virtue, source_rows.score_ability, source_rows.score_diligence,
        source_rows.score_performance, source_rows.score_integrity, source_rows.remark,
        fact.org_name, fact.post_title, fact.post_level, fact.post_category, fact.sector,
        fact.on_probation, fact.submission_id, fact.source_row
    from source_rows
    join fact using (submission_id, source_row)
),
ratios as (
    select
        *,
        if(votes_total > 0, (coalesce(votes_excellent, 0) + coalesce(votes_competent, 0))
            / votes_total, null) as approval_ratio,
        if(votes_total > 0, coalesce(votes_incompetent, 0) / votes_total, null)
            as incompetent_ratio
    from counted_votes
)
select
    ratios.*,
    coalesce(approval_ratio < parameter.a3_min_approval_ratio, false) as negative,
    if(negative, '民主测评偏低', grade) as category,
    if(negative, '一般', null) as severity_level,
    '不适用' as responsibility,
    if(negative, 'counted', 'neutral') as status,
    null::varchar as status_basis,
    -- concatenated, not format(): the same text (|| and format both give NULL for a NULL
    -- grade), without format's parsing per row
    year || '年度考核：' || grade
        || if(votes_total > 0, format('，民主测评好评率{:.1f}%', 100 * approval_ratio), '')
        as summary_zh
from ratios
join parameter using (post_level, post_category, sector)
