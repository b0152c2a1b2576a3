-- grain: id_number
-- id: I1
-- title: 巡视巡察发现不担当不作为、形式主义官僚主义问题（直接责任，较重或严重）
-- severity: candidate
-- dimension: diligence
-- basis: 推进领导干部能上能下规定 (2022) items 3, 4 [V], item 10 [S]
-- Why: a serious finding of inaction or formalism for which the cadre bears direct
-- responsibility. Tolerated findings (容错免责) never count. I1.window_months: null = no limit.
with finding as (
    select finding.*, parameter.i1_window_months as window_months
    from core.inspection_finding as finding
    join ruleset.post_class_parameter as parameter using (post_level, post_category, sector)
    where finding.status = 'counted' and finding.fact_date <= getvariable('as_of')
)

select
    id_number,
    min(fact_date) as flag_date,
    list(evidence_id order by fact_date, evidence_id) as evidence_ids,
    '巡视巡察发现问题：' || string_agg(summary_zh, '；' order by fact_date, evidence_id)
        as detail_zh
from finding
where responsibility = '直接责任'
    and severity_level in ('较重', '严重')
    and category in ('不担当不作为', '形式主义官僚主义')
    and (window_months is null
        or fact_date > getvariable('as_of') - to_months(window_months::integer))
group by id_number
