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
with assessment as (
    select 'annual_assessment' as source, id_number, name, make_date(year, 12, 31) as fact_date,
           make_date(year, 12, 31) as post_on, submission_id, source_row
    from staging.annual_assessment
),
inspection as (
    select 'inspection_finding', id_number, name, found_on, found_on, submission_id, source_row
    from staging.inspection_finding
    where id_number is not null
),
audit as (
    select 'audit_finding', id_number, name, reported_on, reported_on, submission_id, source_row
    from staging.audit_finding
),
petition as (
    select 'petition_verification', id_number, name, closed_on, coalesce(closed_on, received_on),
           submission_id, source_row
    from staging.petition_verification
),
report_check as (
    select 'personal_report_check', id_number, name, checked_on, checked_on, submission_id,
           source_row
    from staging.personal_report_check
),
sanction as (
    select 'sanction', id_number, name, decided_on, decided_on, submission_id, source_row
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
           submission_id, source_row
    from unioned
),
post_history as (select * from core.cadre_post_history),
first_spell as (select id_number, valid_from as first_from from post_history where spell_no = 1),
post_at_fact as (
    select renamed.*, coalesce(post_history.valid_from, first_spell.first_from) as spell_from
    from renamed
    asof left join post_history
        on renamed.id_number = post_history.id_number and renamed.post_on >= post_history.valid_from
    left join first_spell on first_spell.id_number = renamed.id_number
)
select
    post_at_fact.* exclude (spell_from),
    spell.id_number is not null as matched,
    spell.org_name, spell.post_title, spell.post_level, spell.post_category, spell.sector,
    spell.on_probation, spell.valid_from as post_valid_from
from post_at_fact
left join post_history as spell
    on spell.id_number = post_at_fact.id_number and spell.valid_from = post_at_fact.spell_from
