-- fairness.flag_origin: 线索证据来源明细. One row per flag the review's build raised on a listed cadre and per piece of evidence it cites: rule, evidence source, batch, sending unit and file.
-- grain: flag_id, evidence_id
-- Why: the disparity monitor's drill-down. A group that stands out is explained by where its
-- flags came from (which rules, which source, which 巡察 round or audit project), so a reader
-- looks at the evidence, not at the group. A flag citing no evidence has one row, source null.
-- column severity: candidate or warning: the flag's own severity.
-- column source: Source of the cited evidence (inspection_finding, audit_finding, ...).
-- column batch_zh: 巡视轮次 / 审计项目 / 查核批次 of the evidence, else the file it came in.
-- column sent_by: Unit code that sent the evidence (INS, AUD, ...).
-- column reviewed: The flag has a recorded decision; adjusted: it led to a 组织调整.
with build as (
    select getvariable('review_build')::date as as_of
),

flag as (
    select flag_source.*
    from decisions.flag_source
    join build on flag_source.as_of = build.as_of
    where flag_source.in_scope
),

state as (
    select flag_id, decisions, adjusted_on from decisions.flag_state
),

cited as (
    select flag_id, id_number, rule_id, severity,
        unnest(if(len(evidence_ids) > 0, evidence_ids, [null::varchar])) as evidence_id
    from flag
)

select
    cited.flag_id,
    cited.id_number,
    cited.rule_id,
    cited.severity,
    cited.evidence_id,
    evidence.source,
    coalesce(batch.batch_zh, '文件 ' || evidence.filename) as batch_zh,
    evidence.unit as sent_by,
    evidence.filename,
    evidence.source_row,
    evidence.fact_date,
    coalesce(state.decisions, 0) > 0 as reviewed,
    coalesce(state.decisions, 0) > 0 and state.adjusted_on is not null as adjusted
from cited
left join decisions.evidence_source as evidence using (evidence_id)
left join decisions.evidence_batch_source as batch using (evidence_id)
left join state using (flag_id)
