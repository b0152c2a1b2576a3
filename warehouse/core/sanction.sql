-- core.sanction: 处分与组织处理. Current sanction decisions matched to a cadre.
-- grain: evidence_id
-- Why: sanctions lower the dimension of their reason category and open influence periods
-- (marts.influence_period); severity comes from the measure (ruleset.yaml `severity`).
-- column category: 事由类别 (reason category), mapped to dimensions by ruleset.dimension_map.
-- column effect_until: 影响期截止 as sent by the unit; NULL = derived in marts.influence_period.
with source_rows as (
    select * from staging.sanction
),
fact as (
    select * from core.fact where source = 'sanction' and matched
),
severity as (
    select code, severity_level from ruleset.severity_map where source = 'sanction'
)
select
    fact.evidence_id, fact.source, fact.id_number, fact.fact_date,
    source_rows.decision_no, source_rows.measure, source_rows.decided_on,
    source_rows.reason_category as category, source_rows.effect_until,
    severity.severity_level,
    '不适用' as responsibility,
    true as negative,
    'counted' as status,
    null::varchar as status_basis,
    format('{} {}（事由：{}）', source_rows.decision_no, source_rows.measure,
        source_rows.reason_category) as summary_zh,
    fact.org_name, fact.post_title, fact.post_level, fact.post_category, fact.sector,
    fact.submission_id, fact.source_row
from source_rows
join fact using (submission_id, source_row)
left join severity on severity.code = source_rows.measure
