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
    select * from core.fact where matched and fact_name is not null
),

cadre as (
    select * from core.cadre
),

submission as (
    select submission_id, filename, unit from meta.submission
),

normalised as (
    select
        fact.*,
        cadre.name as roster_name,
        list_transform(cadre.known_names, lambda n: regexp_replace(n, '[\s　]', '', 'g'))
            as roster_names_clean,
        regexp_replace(fact.fact_name, '[\s　]', '', 'g') as fact_name_clean
    from fact
    join cadre using (id_number)
)

select
    normalised.evidence_id,
    normalised.source,
    normalised.id_number,
    normalised.roster_name,
    normalised.fact_name,
    exists (
        select 1 from cadre as other
        where other.name = normalised.fact_name and other.id_number <> normalised.id_number
    ) as fact_name_is_other_cadre,
    normalised.fact_date,
    normalised.record_key,
    normalised.identity_confirmed,
    normalised.submission_id,
    normalised.source_row,
    submission.filename,
    submission.unit
from normalised
left join submission using (submission_id)
where not list_contains(normalised.roster_names_clean, normalised.fact_name_clean)
