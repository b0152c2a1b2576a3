-- decisions.evidence_batch_source: 证据批次来源. The batch each piece of evidence came in: the 巡视轮次 of a finding, the 审计项目编号 of an audit, the 查核批次 of a personal-report check.
-- grain: evidence_id
-- Why: the disparity monitor's drill-down shows where a group's flags came from, so a reader
-- sees e.g. that most of one unit's flags come from one 巡察 round; the only file naming the
-- per-source core models for this. Evidence of other sources has no batch here (the report
-- falls back to the file it came in).
-- column batch_zh: The batch in Chinese, e.g. 巡视轮次 2025年第一轮.
with inspection as (
    select evidence_id, '巡视轮次 ' || round as batch_zh from core.inspection_finding
),

audit as (
    select evidence_id, '审计项目 ' || audit_id as batch_zh from core.audit_finding
),

personal_report as (
    select evidence_id, '查核批次 ' || batch_id as batch_zh from core.personal_report
)

select * from inspection
union all select * from audit
union all select * from personal_report
