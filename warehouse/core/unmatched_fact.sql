-- core.unmatched_fact: 未匹配事实. Facts whose 身份证号 is not in any roster snapshot: kept for analysts, never dropped.
-- grain: evidence_id
-- Why: a fact about someone outside the roster may be a typo in the ID, a cadre the roster
-- forgot, or a person outside the scope; only a person can tell, so the fact waits here.
-- column evidence_id: Stable id of the fact: source:submission_id:source_row.
-- column id_number: 身份证号 as loaded (normalised); not found in the roster.
-- column fact_name: Name as written on the fact.
-- column roster_cadres_with_same_name: How many roster cadres carry this name (a hint, never a match).
-- column filename: File the fact came in.
-- column unit: Unit that sent the file.
with fact as (
    select * from core.fact where not matched
),

cadre as (
    select * from core.cadre
),

submission as (
    select submission_id, filename, unit, received_at from meta.submission
),

same_name as (
    select name, count(*) as cadres from cadre group by name
)

select
    fact.evidence_id,
    fact.source,
    fact.id_number,
    fact.fact_name,
    fact.fact_date,
    coalesce(same_name.cadres, 0) as roster_cadres_with_same_name,
    fact.submission_id,
    fact.source_row,
    submission.filename,
    submission.unit,
    submission.received_at
from fact
left join same_name on same_name.name = fact.fact_name
left join submission using (submission_id)
