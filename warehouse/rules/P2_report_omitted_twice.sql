-- grain: id_number
-- id: P2
-- title: 三个报告年度内两次漏报
-- severity: warning
-- dimension: integrity
-- basis: our own design [I]
-- Why: one 漏报 can be an oversight; 漏报 in P2.min_omissions distinct report years within the
-- latest P2.report_years report years on file (as of the as-of date) is a pattern worth an
-- observation period. One report year's omission found again by a second check batch is
-- still one omission (rules.md: distinct report years, not check batches).
with checked as (
    select * from core.personal_report where fact_date <= getvariable('as_of')
),

latest as (
    select checked.id_number, max(checked.report_year) as latest_year,
        first(parameter.p2_report_years order by checked.fact_date desc, checked.evidence_id desc)
            as report_years,
        first(parameter.p2_min_omissions order by checked.fact_date desc, checked.evidence_id desc)
            as min_omissions
    from checked
    join ruleset.post_class_parameter as parameter using (post_level, post_category, sector)
    group by checked.id_number
),

omitted as (
    select checked.*, latest.min_omissions, latest.report_years
    from checked
    join latest using (id_number)
    where checked.category = '漏报' and checked.report_year > latest.latest_year - latest.report_years
)

select
    id_number,
    max(fact_date) as flag_date,
    list(evidence_id order by fact_date, evidence_id) as evidence_ids,
    format('{}个报告年度内有{}个年度漏报（{}年度）', any_value(report_years)::integer,
        count(distinct report_year),
        array_to_string(list_sort(list_distinct(list(report_year::varchar))), '、')) as detail_zh
from omitted
group by id_number
having count(distinct report_year) >= any_value(min_omissions)
