-- core.cadre_post_history: 任职经历. One row per cadre and post spell, read from every roster snapshot ever loaded.
-- grain: id_number, spell_no
-- Why: a fact is judged against the post the cadre held when it happened, not today's post; a
-- roster drop is a snapshot, so history is rebuilt from all snapshots (latest report per spell).
-- column id_number: 身份证号 (normalised), the identity key.
-- column valid_from: 任现职时间 of this spell.
-- column valid_to: Day before the next known spell starts; NULL = the latest known spell.
-- column spell_no: 1 = earliest known spell; facts dated before it are judged against it.
-- column on_probation: 是否试用期, as last reported for this spell.
-- column submission_id: Roster submission the spell was last reported in.
-- column source_row: Row of that roster file.
with roster_history as (
    select * from staging.roster_history
),

latest_report_per_spell as (
    select *
    from roster_history
    qualify row_number() over (
        partition by id_number, appointed_on order by submission_seq desc, source_row desc
    ) = 1
),

renamed as (
    select
        id_number,
        name,
        org_name,
        org_code,
        post_title,
        post_level,
        post_category,
        sector,
        appointed_on as valid_from,
        coalesce(on_probation, false) as on_probation,
        submission_id,
        source_row
    from latest_report_per_spell
)

select
    *,
    lead(valid_from) over (partition by id_number order by valid_from) - 1 as valid_to,
    row_number() over (partition by id_number order by valid_from) as spell_no
from renamed
