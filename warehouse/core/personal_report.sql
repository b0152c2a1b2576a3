-- core.personal_report: 个人有关事项报告查核. Current check results matched to a cadre.
-- grain: evidence_id
-- Why: rules P1/P2 and the profile read 漏报/瞒报; a check that found the report 一致 is kept
-- as neutral evidence (it shows the cadre was checked).
-- column category: 查核结果 (一致/漏报/瞒报).
-- column status: counted for 漏报/瞒报, neutral for 一致.
with source_rows as (
    select * from staging.personal_report_check
),
fact as (
    select * from core.fact where source = 'personal_report_check' and matched
),
severity as (
    select code, severity_level from ruleset.severity_map where source = 'personal_report_check'
)
select
    fact.evidence_id, fact.source, fact.id_number, fact.fact_date,
    source_rows.batch_id, source_rows.report_year, source_rows.check_mode,
    source_rows.result as category, source_rows.items, source_rows.item_count,
    source_rows.outcome, source_rows.checked_on,
    severity.severity_level,
    '不适用' as responsibility,
    severity.severity_level is not null as negative,
    if(negative, 'counted', 'neutral') as status,
    null::varchar as status_basis,
    format('{} {}年度报告{}：{}{}', source_rows.batch_id, source_rows.report_year,
        source_rows.check_mode, source_rows.result,
        if(source_rows.items is null, '',
            format('（{}，{}件）', array_to_string(source_rows.items, '、'),
                coalesce(source_rows.item_count, 0)))) as summary_zh,
    fact.org_name, fact.post_title, fact.post_level, fact.post_category, fact.sector,
    fact.submission_id, fact.source_row
from source_rows
join fact using (submission_id, source_row)
left join severity on severity.code = source_rows.result
