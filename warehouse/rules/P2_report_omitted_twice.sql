-- grain: id_number
-- id: P2
-- title: 三个报告年度内两次漏报
-- severity: warning
-- dimension: integrity
-- basis: our own design [I]
-- Why: one 漏报 can be an oversight; 漏报 in P2.min_omissions distinct report years within the
-- P2.report_years report years up to the as-of date is a pattern worth an observation period.
-- One report year's omission found again by a second check batch is still one omission
-- (rules.md: distinct report years, not check batches).
-- Window: rules.md names no reference year, so we take the kindest reading: the report years
-- up to the as-of date, never up to an older latest year on file (2017 + 2018 make no P2 in
-- 2026). A report year is reported after it ends, so the last one is year(as_of) - 1, or a
-- later report year that a check on file by the as-of date already names.
-- Date: the day the P2.min_omissions-th distinct report year was first found (each year's
-- earliest check, then the min_omissions-th earliest of those). A later batch re-finding a
-- counted year does not move it, so a re-check cannot carry P2 into another warning's 考察期.
-- evidence_ids keep every batch that found a counted year: a flag's identity is its evidence
-- keys, so the list is left as it was (the profile deducts a year's omission once).
with checked as (
    select * from core.personal_report where fact_date <= getvariable('as_of')
),

latest as (
    select checked.id_number,
        greatest(max(checked.report_year), year(getvariable('as_of')::date) - 1) as last_year,
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
    where checked.category = '漏报' and checked.report_year > latest.last_year - latest.report_years
),

first_found as (
    -- each counted report year's omission dates from its earliest check
    select id_number, report_year, min(fact_date) as found_on
    from omitted
    group by id_number, report_year
),

counted as (
    select
        id_number,
        any_value(report_years) as report_years,
        any_value(min_omissions) as min_omissions,
        count(distinct report_year) as years_omitted,
        list(evidence_id order by fact_date, evidence_id) as evidence_ids,
        list_sort(list_distinct(list(report_year::varchar))) as years
    from omitted
    group by id_number
)

select
    counted.id_number,
    list_sort(list(first_found.found_on))[counted.min_omissions::integer] as flag_date,
    any_value(counted.evidence_ids) as evidence_ids,
    format('{}个报告年度内有{}个年度漏报（{}年度）', any_value(counted.report_years)::integer,
        any_value(counted.years_omitted), array_to_string(any_value(counted.years), '、'))
        as detail_zh
from counted
join first_found using (id_number)
where counted.years_omitted >= counted.min_omissions
group by counted.id_number, counted.min_omissions
