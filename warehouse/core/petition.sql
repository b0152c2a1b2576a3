-- core.petition: 信访举报查核. Current petition cases matched to a cadre, with their verification outcome resolved.
-- grain: evidence_id
-- Why: only verified petitions count; 不属实/无法查实 are dismissed (never count, stay visible
-- with the conclusion as basis); an open case (no 办结日期) has no conclusion yet.
-- column fact_date: 办结日期; NULL while the case is open.
-- column status: counted (属实/基本属实/部分属实), dismissed (不属实/无法查实) or open.
-- column status_basis: 核查结论 for dismissed cases.
-- column severity_level: From the conclusion (ruleset.yaml `severity`).
with source_rows as (
    select * from staging.petition_verification
),
fact as (
    select * from core.fact where source = 'petition_verification' and matched
),
severity as (
    select code, severity_level from ruleset.severity_map where source = 'petition_verification'
)
select
    fact.evidence_id, fact.source, fact.id_number, fact.fact_date,
    source_rows.case_id, source_rows.category, source_rows.received_on,
    source_rows.closed_on, source_rows.conclusion, source_rows.disposal, source_rows.outcome,
    severity.severity_level,
    '不适用' as responsibility,
    case
        when source_rows.closed_on is null then 'open'
        when source_rows.conclusion in ('不属实', '无法查实') then 'dismissed'
        else 'counted'
    end as status,
    source_rows.closed_on is not null as negative,
    if(status = 'dismissed', '核查结论：' || source_rows.conclusion, null) as status_basis,
    format('{} {}：{}，{}，后续处理{}', source_rows.case_id, source_rows.category,
        coalesce(source_rows.conclusion, '未办结'), source_rows.disposal,
        coalesce(source_rows.outcome, '无')) as summary_zh,
    fact.org_name, fact.post_title, fact.post_level, fact.post_category, fact.sector,
    fact.submission_id, fact.source_row
from source_rows
join fact using (submission_id, source_row)
left join severity on severity.code = source_rows.conclusion
