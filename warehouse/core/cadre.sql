-- core.cadre: 干部. One row per 身份证号 ever listed in the roster, with the latest reported attributes.
-- grain: id_number
-- Why: identity is the normalised ID, never the name (同名 is common); a cadre missing from the
-- newest snapshot has left the scope but keeps their history (in_scope = false).
-- column id_number: 身份证号 (normalised), the identity key.
-- column name: Latest name in the roster.
-- column known_names: Every name the roster has used for this ID (name changes, typos).
-- column in_scope: Listed in the newest roster snapshot.
-- column on_probation: 是否试用期 in the latest roster row.
-- column submission_id: Roster submission of the latest row.
-- column source_row: Row of that roster file.
with roster_history as (
    select * from staging.roster_history
),

current_roster as (
    select distinct id_number from staging.roster
),

latest_row as (
    select *
    from roster_history
    qualify row_number() over (
        partition by id_number order by submission_seq desc, source_row desc
    ) = 1
),

known_names as (
    select id_number, list(distinct name order by name) as known_names
    from roster_history
    group by id_number
)

select
    latest_row.id_number,
    latest_row.name,
    known_names.known_names,
    latest_row.gender,
    latest_row.birth_date,
    latest_row.org_name,
    latest_row.org_code,
    latest_row.post_title,
    latest_row.post_level,
    latest_row.post_category,
    latest_row.sector,
    latest_row.appointed_on,
    coalesce(latest_row.on_probation, false) as on_probation,
    current_roster.id_number is not null as in_scope,
    latest_row.submission_id,
    latest_row.source_row
from latest_row
join known_names using (id_number)
left join current_roster using (id_number)
