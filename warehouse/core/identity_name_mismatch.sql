-- core.identity_name_mismatch: 姓名不一致. Facts matched by 身份证号 whose name differs from every name the roster has used for that ID.
-- grain: evidence_id
-- Why: the ID decides identity; a different name is reported for a person to check (typo,
-- name change, or a fact filed under the wrong ID), and never used to re-match the fact.
-- column evidence_id: Stable id of the fact: source:submission_id:source_row.
-- column id_number: 身份证号 the fact was matched on.
-- column roster_name: Latest roster name for that ID.
-- column fact_name: Name written on the fact.
-- column fact_name_is_other_cadre: The fact's name belongs to another roster cadre (同名 or mix-up).
-- column filename: File the fact came in.
-- column record_key: The record's key in its source (key values joined by |): what `cadre identity confirm` names.
-- column identity_confirmed: The organization department confirmed the identity; until then the fact is 身份存疑 and counts toward nothing.
with fact as (
    -- core.fact has compared each fact's name with the roster's names already (name_mismatch:
    -- matched, named, and not among them once blanks are removed); comparing again here ran
    -- the regular expression over every name of every fact's cadre a second time
    select * from core.fact where name_mismatch
),

cadre as (
    select * from core.cadre
),

submission as (
    select submission_id, filename, unit from meta.submission
),

with_roster_name as (
    select
        fact.*,
        cadre.name as roster_name
    from fact
    join cadre using (id_number)
)

select
    with_roster_name.evidence_id,
    with_roster_name.source,
    with_roster_name.id_number,
    with_roster_name.roster_name,
    with_roster_name.fact_name,
    exists (
        select 1 from cadre as other
        where other.name = with_roster_name.fact_name and other.id_number <> with_roster_name.id_number
    ) as fact_name_is_other_cadre,
    with_roster_name.fact_date,
    with_roster_name.record_key,
    with_roster_name.identity_confirmed,
    with_roster_name.submission_id,
    with_roster_name.source_row,
    submission.filename,
    submission.unit
from with_roster_name
left join submission using (submission_id)
