-- grain: id_number, evidence_ids
-- id: U2
-- title: 审计评价为较差
-- severity: warning
-- dimension: performance
-- basis: our own design [I]
-- Why: an audit rated 较差 within U2.window_months before the as-of date opens an observation
-- period; one hit per audit (the rating repeats on each of its items). Tolerated items are skipped.
with finding as (
    select finding.*, parameter.u2_window_months as window_months
    from core.audit_finding as finding
    join ruleset.post_class_parameter as parameter using (post_level, post_category, sector)
    where finding.status = 'counted' and finding.fact_date <= getvariable('as_of')
        and finding.rating = '较差'
)

select
    id_number,
    min(fact_date) as flag_date,
    list(evidence_id order by item_no) as evidence_ids,
    format('审计项目{}（{}）评价为较差', audit_id, any_value(audit_type)) as detail_zh
from finding
where window_months is null
    or fact_date > getvariable('as_of') - to_months(window_months::integer)
group by id_number, audit_id
