-- followup.reappointment: 重新任用资格. One row per open follow-up file at the review date: the latest re-check, the influence periods still running and whether the cadre is eligible for re-appointment.
-- grain: flag_id
-- Why: seed §4: cadres who meet the bar again and whose influence periods have ended are
-- listed for re-appointment; people decide (重新任用 is recorded as a decision). Influence
-- periods are inclusive of their last day: eligible from the day after effect_until, and from
-- reappoint_from for the adjustment's own period.
-- column last_recheck_on: Latest re-check on or before the review date; last_meets_bar its result.
-- column sanction_blocks_until: Latest effect_until of a sanction influence period running on the review date and not lifted by a decision.
-- column eligible: Meets the bar at the latest re-check, on or after reappoint_from, and no sanction influence period running.
-- column blockers_zh: Why not (yet) eligible, in Chinese.
with followup_case as (
    select * from followup.followup_case where file_status = 'active'
),

recheck as (
    select * from followup.recheck where status = 'done'
),

review as (
    select
        coalesce(getvariable('review_as_of')::date, current_date) as review_as_of,
        coalesce(getvariable('review_build')::date,
            (select max(as_of) from decisions.influence_source)) as review_build
),

influence as (
    select influence_source.*
    from decisions.influence_source, review
    where influence_source.as_of = review.review_build
        and review.review_as_of between influence_source.decided_on
            and influence_source.effect_until
        -- a block a person lifted (解除限制 / 申诉成立) was wrong: it stands in no one's way
        and influence_source.lifted_on is null
        -- only the followed-up cadres' (every cadre's would be read at every publish)
        and influence_source.id_number in (select followup_case.id_number from followup_case)
),

last_recheck as (
    select flag_id, max(recheck_on) as last_recheck_on,
        arg_max(meets_bar, recheck_on) as last_meets_bar
    from recheck
    group by flag_id
),

blocking as (
    select id_number, max(effect_until) as sanction_blocks_until,
        string_agg(measure || '（至' || effect_until || '）', '；' order by effect_until)
            as sanctions_zh
    from influence
    group by id_number
),

joined as (
    select followup_case.*, review.review_as_of, last_recheck.last_recheck_on,
        last_recheck.last_meets_bar, blocking.sanction_blocks_until, blocking.sanctions_zh
    from followup_case
    cross join review
    left join last_recheck using (flag_id)
    left join blocking using (id_number)
)

select
    flag_id, id_number, name, org_name, measure, adjusted_on, reappoint_from, promotion_from,
    last_recheck_on, last_meets_bar, sanction_blocks_until,
    coalesce(last_meets_bar, false) and review_as_of >= reappoint_from
        and sanction_blocks_until is null as eligible,
    concat_ws('；',
        if(last_recheck_on is null, '尚未到首次复检', null),
        if(last_recheck_on is not null and last_meets_bar is null, '复检尚无调整后的画像', null),
        if(last_meets_bar = false, '最近一次复检未达到要求', null),
        if(review_as_of < reappoint_from, '调整影响期至' || (reappoint_from - 1), null),
        if(sanction_blocks_until is not null, '处分影响期：' || sanctions_zh, null)
    ) as blockers_zh
from joined
