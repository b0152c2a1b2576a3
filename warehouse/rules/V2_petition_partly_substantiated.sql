-- grain: id_number, evidence_ids
-- id: V2
-- title: 信访举报查核部分属实
-- severity: warning
-- dimension: any
-- basis: our own design [I]
-- Why: a partly substantiated petition of any category, closed within V2.window_months before
-- the as-of date, opens an observation period. One hit per case.
with petition as (
    select petition.*, parameter.v2_window_months as window_months
    from core.petition as petition
    join ruleset.post_class_parameter as parameter using (post_level, post_category, sector)
    where petition.status = 'counted' and petition.fact_date <= getvariable('as_of')
)

select
    id_number,
    fact_date as flag_date,
    [evidence_id] as evidence_ids,
    '信访举报查核部分属实：' || summary_zh as detail_zh
from petition
where conclusion = '部分属实'
    and (window_months is null
        or fact_date > getvariable('as_of') - to_months(window_months::integer))
