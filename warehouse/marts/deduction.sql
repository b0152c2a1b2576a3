-- marts.deduction: 扣分明细. Every point lost, per cadre, period and dimension, with the evidence row and rule-set entry behind it.
-- grain: id_number, period_kind, period_label, dimension, evidence_id, category
-- (one evidence row can cost points twice on one dimension for two reasons: an audit item of
-- 损失浪费 whose audit is rated 较差 loses points for the item and for the rating.)
-- Why: every point lost must trace to its evidence (rules.md §1); tolerated (容错免责) and
-- dismissed (不属实/无法查实) items are listed with 0 points and their basis, never counted.
-- One fact is one piece of evidence (rules.md "Counting"): one report year's 漏报 or 瞒报 found
-- again by a later check batch is the same omission, dated by its earliest check (as P2 dates
-- it): it costs points once, for that check while it is inside the window, and the later checks
-- are listed as repeated with 0 points (a re-check does not bring an old omission back).
-- column dimension: virtue/ability/diligence/performance/integrity (德能勤绩廉).
-- column category: The evidence's category, or 逾期未整改 / 审计评价较差 for those conditions.
-- column points: severity_points x responsibility_weight; 0 unless status = counted.
-- column severity_points: Points for the severity level (ruleset.severity_points).
-- column responsibility_weight: Weight of the responsibility (ruleset.responsibility_weight).
-- column status_basis: 容错依据 or 核查结论 behind a tolerated or dismissed item; for a repeated check, the check that counts.
-- column rule_ref: The rule-set entry that maps this evidence: dimension_map.<source>.<category>.
-- column status: counted, tolerated, dismissed, or repeated (a later check batch finding the same report year's 漏报/瞒报 again: 0 points, status_basis names the check that counts).
-- read three times below: not materialized, so each branch scans the temp table instead of
-- DuckDB first copying all of it (7 periods per cadre) into a CTE buffer
with period as not materialized (select * from temp.cadre_period),
evidence as (select * from core.evidence where negative and fact_date <= getvariable('as_of')),
parameter as (select * from ruleset.post_class_parameter),
overdue_inspection as (
    select evidence.* replace ('逾期未整改' as category,
        (select severity_level from ruleset.severity_map
         where source = 'inspection_finding' and code = '逾期未整改') as severity_level),
        inspection.overdue_from
    from evidence join core.inspection_finding as inspection using (evidence_id)
    where inspection.overdue_from is not null
),
poor_audit_rating as (
    select evidence.* replace ('审计评价较差' as category,
        (select severity_level from ruleset.severity_map
         where source = 'audit_finding' and code = '审计评价较差') as severity_level)
    from evidence join core.audit_finding as audit using (evidence_id)
    where audit.rating = '较差'
    -- once per audit and cadre: every cadre of a multi-cadre audit bears its rating
    qualify row_number() over (partition by audit.audit_id, audit.id_number order by audit.item_no) = 1
),
in_window as (
    select period.period_kind, period.period_label, period.period_end, evidence.*
    from period join parameter using (post_level, post_category, sector)
    join evidence on evidence.id_number = period.id_number
        and evidence.fact_date <= period.period_end
        and evidence.fact_date > period.period_end - to_months(parameter.profile_look_back_months::integer)
    union all by name
    select period.period_kind, period.period_label, period.period_end, poor_audit_rating.*
    from period join parameter using (post_level, post_category, sector)
    join poor_audit_rating on poor_audit_rating.id_number = period.id_number
        and poor_audit_rating.fact_date <= period.period_end
        and poor_audit_rating.fact_date > period.period_end - to_months(parameter.profile_look_back_months::integer)
    union all by name
    select period.period_kind, period.period_label, period.period_end, overdue.* exclude (overdue_from)
    from period join overdue_inspection as overdue
        on overdue.id_number = period.id_number and overdue.fact_date <= period.period_end
        and overdue.overdue_from <= period.period_end
),
repeated_check as (
    -- a cadre's report year and result is one omission, dated by its earliest check: every later
    -- check of it (the earliest is on or before any period end a later one is: no period here)
    select evidence_id, first_evidence_id
    from (
        select evidence_id,
            first_value(evidence_id) over (partition by id_number, report_year, category
                order by fact_date, evidence_id) as first_evidence_id
        from core.personal_report
        where status = 'counted' and fact_date <= getvariable('as_of')
    ) as ranked
    where evidence_id <> first_evidence_id
)
select
    in_window.period_kind, in_window.period_label, in_window.period_end, in_window.id_number,
    map.dimension, in_window.evidence_id, in_window.source, in_window.category,
    in_window.fact_date, in_window.severity_level, in_window.responsibility,
    points.points as severity_points, weight.weight as responsibility_weight,
    if(in_window.status = 'counted' and repeated.evidence_id is null,
        points.points * weight.weight, 0)::decimal(9, 2) as points,
    if(repeated.evidence_id is null, in_window.status, 'repeated') as status,
    if(repeated.evidence_id is null, in_window.status_basis,
        '同一报告年度的' || in_window.category || '已计入：' || repeated.first_evidence_id)
        as status_basis,
    -- concatenated, not format(): the same text (source and category are never NULL after the
    -- join to the map), without format's parsing per row
    'dimension_map.' || in_window.source || '.' || in_window.category as rule_ref,
    in_window.summary_zh, in_window.submission_id, in_window.source_row, in_window.filename
from in_window
join ruleset.dimension_map as map
    on map.source = in_window.source and map.category = in_window.category
left join ruleset.severity_points as points on points.severity_level = in_window.severity_level
left join ruleset.responsibility_weight as weight on weight.responsibility = in_window.responsibility
left join repeated_check as repeated on repeated.evidence_id = in_window.evidence_id
