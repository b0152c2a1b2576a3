-- decisions.profile_source: 画像来源. The five-dimension profiles of every build (marts.cadre_profile), per cadre and period, with the post-class thresholds.
-- grain: as_of, id_number, period_kind, period_label
-- Why: the review report draws each candidate against the threshold of the post class and
-- re-checks adjusted cadres against later profiles; the only file naming marts.cadre_profile.
-- column period_kind: as_of (the build's date), half_year or year.
-- column below_threshold: Dimensions (virtue/ability/diligence/performance/integrity) below their threshold.
-- column in_scope: The cadre is in the newest roster snapshot (core.cadre).
with profile as (
    select * from marts.cadre_profile
),

cadre as (
    select id_number, in_scope from core.cadre
),

renamed as (
    select
        as_of, id_number, period_kind, period_label, period_end, name, org_name, post_title,
        post_level, post_category,
        score_virtue::double as score_virtue, threshold_virtue::double as threshold_virtue,
        score_ability::double as score_ability, threshold_ability::double as threshold_ability,
        score_diligence::double as score_diligence,
        threshold_diligence::double as threshold_diligence,
        score_performance::double as score_performance,
        threshold_performance::double as threshold_performance,
        score_integrity::double as score_integrity,
        threshold_integrity::double as threshold_integrity,
        score_overall::double as score_overall, threshold_overall::double as threshold_overall,
        below_threshold,
        coalesce(cadre.in_scope, false) as in_scope
    from profile
    left join cadre using (id_number)
)

select * from renamed
