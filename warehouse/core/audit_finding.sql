-- core.audit_finding: 审计发现问题. Current audit findings matched to a cadre, with severity and tolerance resolved.
-- grain: evidence_id
-- Why: rules U1/U2 and the profile read audit findings; severity is derived from referral and
-- amount (the source has no severity column), with the amount bar of the cadre's post class.
-- column large_amount: 涉及金额 at or above U1's amount for the post class held at the report date.
-- column severity_level: 严重 when referred or a large amount, else the default (ruleset.yaml `severity`).
-- column status: counted, or tolerated (容错免责: never counts, stays visible with its basis).
with source_rows as (
    select * from staging.audit_finding
),
fact as (
    select * from core.fact where source = 'audit_finding' and matched and not identity_doubt
),
parameter as (
    select * from ruleset.post_class_parameter
),
severity as (
    select code, severity_level from ruleset.severity_map where source = 'audit_finding'
),
flagged as (
    select
        fact.evidence_id, fact.source, fact.id_number, fact.fact_date,
        source_rows.audit_id, source_rows.item_no, source_rows.audit_type,
        source_rows.category, source_rows.amount_wan, source_rows.responsibility,
        source_rows.rating, source_rows.reported_on,
        coalesce(source_rows.referred, false) as referred,
        coalesce(source_rows.amount_wan >= parameter.u1_min_amount_wan, false) as large_amount,
        -- 容错免责 left blank beside a 容错依据 reads as 是 (kinder to the cadre; the receipt
        -- asks the unit to fill it in)
        coalesce(source_rows.tolerated, source_rows.tolerance_basis is not null) as tolerated,
        source_rows.tolerance_basis,
        fact.org_name, fact.post_title, fact.post_level, fact.post_category, fact.sector,
        fact.submission_id, fact.source_row
    from source_rows
    join fact using (submission_id, source_row)
    join parameter using (post_level, post_category, sector)
)
select
    flagged.* exclude (tolerated, tolerance_basis),
    coalesce(
        if(referred, (select severity_level from severity where code = 'referred'), null),
        if(large_amount, (select severity_level from severity where code = 'large_amount'), null),
        (select severity_level from severity where code = 'default')
    ) as severity_level,
    true as negative,
    if(tolerated, 'tolerated', 'counted') as status,
    if(tolerated, tolerance_basis, null) as status_basis,
    format('{} {}：{}{}（{}）', audit_id, audit_type, category,
        if(amount_wan is null, '', format('，涉及{}万元', amount_wan::double)), responsibility)
        as summary_zh
from flagged
