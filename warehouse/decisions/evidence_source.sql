-- decisions.evidence_source: 证据来源. Every matched fact (core.evidence) the flags cite, with the file and row it came from.
-- grain: evidence_id
-- Why: the 集中会诊 report shows each flag's evidence so that people decide on facts, not on a
-- score; the only file naming core.evidence.
-- column status: counted, tolerated (容错免责), dismissed (不属实/无法查实), open or neutral.
-- column unit: Unit that sent the file; filename and source_row locate the row in it.
with evidence as (
    select * from core.evidence
),

renamed as (
    select evidence_id, source, id_number, fact_date, category, severity_level, status,
        status_basis, summary_zh, unit, filename, source_row
    from evidence
)

select * from renamed
