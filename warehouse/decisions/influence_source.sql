-- decisions.influence_source: 影响期来源. Influence periods of sanctions per build (marts.influence_period), with any lift people decided.
-- grain: as_of, evidence_id
-- Why: follow-up and re-appointment read when each influence period ends; the only file naming
-- marts.influence_period. effect_until is the last day inside the period (inclusive). A period
-- whose S1 block was lifted (decisions.influence_lift) blocks nothing from lifted_on.
-- column effect_until: Last day of the influence period (inclusive).
-- column no_leading_post_until: 责令辞职/免职: last day without a leading post.
-- column evidence_key: The sanction's stable key (sanction:record key).
-- column lifted_on: 解除限制 (or 申诉成立) decided on this date; NULL while the block stands.
-- column lifted_by: Who lifted it.
with influence as (
    select * from marts.influence_period
),

evidence_key as (
    -- marts.influence_period is made from core.sanction alone: naming the source lets DuckDB
    -- read that one branch of staging.evidence_key instead of every source's history
    -- (follow-up views read this at every publish; all sources: ~7x the time)
    select evidence_id, evidence_key from staging.evidence_key
    where source = 'sanction'
),

lift as (
    select * from decisions.influence_lift
),

renamed as (
    select
        influence.as_of, influence.id_number, influence.measure, influence.decision_no,
        influence.decided_on, influence.effect_until, influence.no_leading_post_until,
        influence.evidence_id, evidence_key.evidence_key, lift.lifted_on, lift.lifted_by
    from influence
    left join evidence_key using (evidence_id)
    left join lift using (evidence_key)
)

select * from renamed
