-- core.inspection_finding: 巡视巡察发现问题. Current findings with a named responsible cadre, matched to the roster.
-- grain: evidence_id
-- Why: rules I1/I2 and the profile read findings; tolerance (容错免责) is resolved once here.
-- column inspected_org: 被巡视单位.
-- column rectify_deadline: 整改期限, or found_on + I2's default months when the unit left it empty.
-- column responsibility: 直接责任/领导责任 as sent, or 未注明 when blank (weighs as 领导责任, never satisfies 直接责任).
-- column overdue_from: Day from which the finding counts as 逾期未整改: the day after 整改期限 while 未整改; while 整改中, the day after 整改期限 + I2.stalled_months (rules.md: 整改中 for ever counts as 未整改). NULL once 已整改.
-- column status: counted, or tolerated (容错免责: never counts, stays visible with its basis).
-- column status_basis: 容错依据 when tolerated.
with source_rows as (
    select * from staging.inspection_finding
),
fact as (
    select * from core.fact where source = 'inspection_finding' and matched and not identity_doubt
),
parameter as (
    select * from ruleset.post_class_parameter
)
select
    fact.evidence_id, fact.source, fact.id_number, fact.fact_date,
    source_rows.finding_id, source_rows.round, source_rows.org_name as inspected_org,
    source_rows.category, source_rows.description, source_rows.severity as severity_level,
    -- blank: weighs as 领导责任 (ruleset.responsibility_weight), never counts as 直接责任
    coalesce(source_rows.responsibility, '未注明') as responsibility,
    source_rows.found_on, source_rows.rectify_by, source_rows.rectification,
    coalesce(source_rows.rectify_by,
        (source_rows.found_on + to_months(parameter.i2_default_rectify_months::integer))::date)
        as rectify_deadline,
    -- the day the finding counts as overdue and unrectified (I2, 逾期未整改): the day after the
    -- deadline while 未整改; for 整改中, once more than I2.stalled_months past the deadline
    case source_rows.rectification
        when '未整改' then rectify_deadline + 1
        when '整改中' then (rectify_deadline + to_months(parameter.i2_stalled_months::integer))::date + 1
    end as overdue_from,
    true as negative,
    -- 容错免责 left blank beside a 容错依据 reads as 是 (kinder to the cadre; the receipt asks
    -- the unit to fill it in)
    if(coalesce(source_rows.tolerated, source_rows.tolerance_basis is not null), 'tolerated',
        'counted') as status,
    if(coalesce(source_rows.tolerated, source_rows.tolerance_basis is not null),
        source_rows.tolerance_basis, null) as status_basis,
    format('{} {}（{}，{}）：{}', source_rows.round, source_rows.category,
        source_rows.severity, coalesce(source_rows.responsibility, '责任未注明'),
        source_rows.description) as summary_zh,
    fact.org_name, fact.post_title, fact.post_level, fact.post_category, fact.sector,
    fact.submission_id, fact.source_row
from source_rows
join fact using (submission_id, source_row)
join parameter using (post_level, post_category, sector)
