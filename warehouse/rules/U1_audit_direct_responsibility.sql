-- grain: id_number
-- id: U1
-- title: 审计发现违规决策或涉及金额100万元以上问题负直接责任
-- severity: candidate
-- dimension: ability, integrity
-- basis: 推进领导干部能上能下规定 (2022) item 9 [S]
-- Why: direct responsibility for an irregular decision, or for a finding involving at least
-- U1.min_amount_wan 万元 (per sector: higher for 国有企业 by default). Tolerated findings never
-- count. U1.window_months: null = no limit.
with finding as (
    select finding.*, parameter.u1_window_months as window_months
    from core.audit_finding as finding
    join ruleset.post_class_parameter as parameter using (post_level, post_category, sector)
    where finding.status = 'counted' and finding.fact_date <= getvariable('as_of')
)

select
    id_number,
    min(fact_date) as flag_date,
    list(evidence_id order by fact_date, evidence_id) as evidence_ids,
    '审计发现问题负直接责任：' || string_agg(summary_zh, '；' order by fact_date, evidence_id)
        as detail_zh
from finding
where responsibility = '直接责任'
    and (category = '违规决策' or large_amount)
    and (window_months is null
        or fact_date > getvariable('as_of') - to_months(window_months::integer))
group by id_number
