-- grain: id_number
-- id: P1
-- title: 个人有关事项报告查核结果为瞒报
-- severity: candidate
-- dimension: virtue, integrity
-- basis: 推进领导干部能上能下规定 (2022) item 6 [V]; 领导干部个人有关事项报告查核结果处理办法 (2017) [V]
-- Why: 瞒报 is dishonesty to the Party (德) and an integrity matter (廉); one check is enough.
-- P1.window_months limits how far back a check counts (null = no limit), from the day the
-- report year's 瞒报 was first found: a re-check of an old concealment is the same fact.
with checked as (
    select report.*, parameter.p1_window_months as window_months,
        -- one report year's 瞒报 is one fact, dated by its earliest check (as P2 dates an
        -- omission): a later batch re-finding it does not bring it back into the window
        min(report.fact_date) over (partition by report.id_number, report.report_year)
            as first_found_on
    from core.personal_report as report
    join ruleset.post_class_parameter as parameter using (post_level, post_category, sector)
    where report.fact_date <= getvariable('as_of') and report.category = '瞒报'
)

select
    id_number,
    min(fact_date) as flag_date,
    list(evidence_id order by fact_date, evidence_id) as evidence_ids,
    '个人有关事项报告查核为瞒报：' || string_agg(summary_zh, '；' order by fact_date, evidence_id)
        as detail_zh
from checked
where window_months is null
    or first_found_on > getvariable('as_of') - to_months(window_months::integer)
group by id_number
