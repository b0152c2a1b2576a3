-- grain: id_number
-- id: V1
-- title: 信访举报查核属实或基本属实（廉洁、作风、不担当不作为）且后续处理为诫勉或更重
-- severity: candidate
-- dimension: integrity, virtue, diligence
-- basis: our own design [I]
-- Why: a verified petition that already led to 诫勉, 组织处理 or 纪律处分 in these categories
-- shows the cadre no longer fits the post; closed within V1.window_months before the as-of date.
-- Dismissed (不属实/无法查实) and open cases never count.
with petition as (
    select petition.*, parameter.v1_window_months as window_months
    from core.petition as petition
    join ruleset.post_class_parameter as parameter using (post_level, post_category, sector)
    where petition.status = 'counted' and petition.fact_date <= getvariable('as_of')
)

select
    id_number,
    max(fact_date) as flag_date,
    list(evidence_id order by fact_date, evidence_id) as evidence_ids,
    '信访举报查核属实并已处理：' || string_agg(summary_zh, '；' order by fact_date, evidence_id)
        as detail_zh
from petition
where conclusion in ('属实', '基本属实')
    and category in ('廉洁问题', '作风问题', '不担当不作为')
    and outcome in ('诫勉', '组织处理', '纪律处分')
    and (window_months is null
        or fact_date > getvariable('as_of') - to_months(window_months::integer))
group by id_number
