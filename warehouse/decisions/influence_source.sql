-- decisions.influence_source: 影响期来源. Influence periods of sanctions per build (marts.influence_period).
-- grain: as_of, evidence_id
-- Why: follow-up and re-appointment read when each influence period ends; the only file naming
-- marts.influence_period. effect_until is the last day inside the period (inclusive).
-- column effect_until: Last day of the influence period (inclusive).
-- column no_leading_post_until: 责令辞职/免职: last day without a leading post.
with influence as (
    select * from marts.influence_period
),

renamed as (
    select as_of, id_number, measure, decision_no, decided_on, effect_until,
        no_leading_post_until, evidence_id
    from influence
)

select * from renamed
