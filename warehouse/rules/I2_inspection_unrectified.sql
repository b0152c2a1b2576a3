-- grain: id_number, evidence_ids
-- id: I2
-- title: 巡视巡察发现问题逾期未整改
-- severity: warning
-- dimension: performance
-- basis: 巡视工作条例 (rectification within 2 months) [V]
-- Why: still 未整改 after its 整改期限 (or found_on + I2.default_rectify_months when the unit
-- gave none). 整改中 is progress and does not count; nor do tolerated findings. The status is the
-- latest reported one (the warehouse does not know when a status changed).
with finding as (
    select * from core.inspection_finding
    where status = 'counted' and fact_date <= getvariable('as_of')
)

select
    id_number,
    rectify_deadline + 1 as flag_date,
    [evidence_id] as evidence_ids,
    format('逾期未整改（整改期限{}）：{}', rectify_deadline, summary_zh) as detail_zh
from finding
where rectification = '未整改'
    and rectify_deadline < getvariable('as_of')
