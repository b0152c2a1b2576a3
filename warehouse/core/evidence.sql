-- core.evidence: 证据. Every matched fact in one shape: what it says, whether it counts, and where it came from.
-- grain: evidence_id
-- Why: profiles and flags cite evidence by evidence_id; the profile card shows each piece with
-- its file and row. Status is decided in the per-source models; this is their common face.
-- column evidence_id: Stable id of the fact: source:submission_id:source_row.
-- column category: Code that ruleset.dimension_map maps to dimensions.
-- column severity_level: 一般/较重/严重, for deductions.
-- column responsibility: 直接责任/领导责任, or 不适用.
-- column negative: Negative evidence (may lower a score); false for grades, 一致 checks, open cases.
-- column status: counted, tolerated (容错免责), dismissed (不属实/无法查实), open or neutral.
-- column status_basis: 容错依据 or 核查结论 behind a tolerated or dismissed item.
-- column summary_zh: One line in Chinese describing the fact, for the profile card.
-- column filename: File the fact came in; source_row is its row there.
with unioned as (
    select * from core.assessment
    union all by name select * from core.inspection_finding
    union all by name select * from core.audit_finding
    union all by name select * from core.petition
    union all by name select * from core.personal_report
    union all by name select * from core.sanction
),
submission as (
    select submission_id, filename, unit from meta.submission
)
select
    unioned.evidence_id, unioned.source, unioned.id_number, unioned.fact_date,
    unioned.category, unioned.severity_level, unioned.responsibility, unioned.negative,
    unioned.status, unioned.status_basis, unioned.summary_zh,
    unioned.org_name, unioned.post_title, unioned.post_level, unioned.post_category,
    unioned.sector, unioned.submission_id, unioned.source_row,
    submission.filename, submission.unit
from unioned
left join submission using (submission_id)
