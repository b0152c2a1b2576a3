-- core.fact: 事实. Every current fact row of the six evidence sources, its identity match and the post held on its date.
-- grain: evidence_id
-- Why: one place resolves identity (by normalised ID against the roster) and the post at the
-- fact's date, so every later model and rule reads the same answer. Unit-level inspection
-- findings (no 责任人身份证号) concern no cadre and are not facts about a person.
-- column evidence_id: Stable id of the fact: source:submission_id:source_row.
-- column source: Source (contract name) the fact came from.
-- column fact_name: Name as written on the fact; compared, never trusted (core.identity_name_mismatch).
-- column fact_date: Business date: found_on, reported_on, closed_on, checked_on, decided_on, or 31 Dec of the assessment year. NULL = petition still open.
-- column post_on: Date the post is looked up for (fact_date, or received_on of an open petition).
-- column matched: The ID is in the roster; false rows are listed in core.unmatched_fact.
-- column post_level: 职务层次 held on post_on (the earliest known post if the fact predates it).
-- column record_key: The record's key in its source (key values joined by |): names the record for withdrawals and confirmations.
-- column name_mismatch: The fact's name differs from every name the roster has used for the ID (core.identity_name_mismatch).
-- column identity_confirmed: The organization department confirmed the identity (meta.identity_confirmation).
-- column identity_doubt: 身份存疑: name_mismatch and not confirmed; such a fact counts toward no profile and no flag.
with assessment as (
    select 'annual_assessment' as source, id_number, name, make_date(year, 12, 31) as fact_date,
           make_date(year, 12, 31) as post_on, submission_id, source_row, record_key
    from staging.annual_assessment
),
inspection as (
    select 'inspection_finding', id_number, name, found_on, found_on, submission_id, source_row,
           record_key
    from staging.inspection_finding
    where id_number is not null
),
audit as (
    select 'audit_finding', id_number, name, reported_on, reported_on, submission_id, source_row,
           record_key
    from staging.audit_finding
),
petition as (
    select 'petition_verification', id_number, name, closed_on, coalesce(closed_on, received_on),
           submission_id, source_row, record_key
    from staging.petition_verification
),
report_check as (
    select 'personal_report_check', id_number, name, checked_on, checked_on, submission_id,
           source_row, record_key
    from staging.personal_report_check
),
sanction as (
    select 'sanction', id_number, name, decided_on, decided_on, submission_id, source_row,
           record_key
    from staging.sanction
),
unioned as (
    select * from assessment union all select * from inspection union all select * from audit
    union all select * from petition union all select * from report_check
    union all select * from sanction
),
renamed as (
    select source || ':' || submission_id || ':' || source_row as evidence_id, source,
           upper(trim(id_number)) as id_number, name as fact_name, fact_date, post_on,
           submission_id, source_row, record_key
    from unioned
),
-- the post is the spell whose span [valid_from, valid_to] holds post_on, else the first spell (a
-- fact before any known post, or without a date). Exactly one spell of a known ID qualifies (the
-- spans follow each other; the first spell takes what comes before them), so an equi-join on
-- the ID with the span as a filter finds it: an ASOF join would sort every fact by ID and date,
-- and a second join would fetch the first spell
post_at_fact as (
    select renamed.*,
        spell.id_number is not null as matched,
        spell.org_name, spell.post_title, spell.post_level, spell.post_category, spell.sector,
        spell.on_probation, spell.valid_from as post_valid_from
    from renamed
    left join core.cadre_post_history as spell
        on spell.id_number = renamed.id_number
        and (coalesce(renamed.post_on >= spell.valid_from
                      and (spell.valid_to is null or renamed.post_on <= spell.valid_to), false)
             or (spell.spell_no = 1 and not coalesce(renamed.post_on >= spell.valid_from, false)))
),
roster_names as (
    select id_number,
        list_transform(known_names, lambda n: regexp_replace(n, '[\s　]', '', 'g')) as names
    from core.cadre
),
confirmed as (
    select distinct source, record_key, id_number, fact_name from meta.identity_confirmation
),
resolved as (
    select
        post_at_fact.* exclude (matched, org_name, post_title, post_level, post_category, sector,
            on_probation, post_valid_from),
        post_at_fact.matched,
        post_at_fact.matched and post_at_fact.fact_name is not null
            and not list_contains(roster_names.names,
                regexp_replace(post_at_fact.fact_name, '[\s　]', '', 'g')) as name_mismatch,
        confirmed.record_key is not null as identity_confirmed,
        post_at_fact.org_name, post_at_fact.post_title, post_at_fact.post_level,
        post_at_fact.post_category, post_at_fact.sector, post_at_fact.on_probation,
        post_at_fact.post_valid_from
    from post_at_fact
    left join roster_names on roster_names.id_number = post_at_fact.id_number
    left join confirmed
        on confirmed.source = post_at_fact.source and confirmed.record_key = post_at_fact.record_key
        and confirmed.id_number = post_at_fact.id_number
        and confirmed.fact_name = post_at_fact.fact_name
)
select *, name_mismatch and not identity_confirmed as identity_doubt
from resolved
