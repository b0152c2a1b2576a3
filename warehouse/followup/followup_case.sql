-- followup.followup_case: 复检档案. One row per flag that led to an organizational adjustment (逐人建档): the adjustment, its influence period and the file's status.
-- grain: flag_id
-- Why: seed §4: adjusted cadres are followed up, re-checked periodically and re-appointed
-- when they meet the bar again; the adjustment itself opens an influence period (rules.md §5:
-- 调整职务 1 yr; 免职 1 yr without a leading post, 2 yr without promotion; 降职 2 yr).
-- column file_status: active (being followed up), appealed (under appeal), restored (重新任用) or revoked (appeal granted: the adjustment was annulled).
-- column reappoint_from: First day the cadre may again hold a comparable post: adjusted_on + the measure's no-leading-post months (else its influence months). As in marts.influence_period, the decision day is day 1 of the period, which ends the day before.
-- column promotion_from: First day the cadre may be promoted: adjusted_on + the measure's influence months (the decision day is day 1).
-- column recheck_months: Re-check interval (review.recheck_months of the rule set, default 6).
with state as (
    select * from decisions.flag_state where adjusted_on is not null
),

influence as (
    select * from decisions.adjustment_influence
),

renamed as (
    select
        state.flag_id,
        state.id_number,
        state.name,
        state.org_name,
        state.post_title,
        state.rule_id,
        state.rule_title_zh,
        state.detail_zh,
        state.measure,
        state.adjusted_on,
        state.adjust_document_no as document_no,
        state.restored_on,
        state.state,
        case
            when state.state = 'cleared' then 'revoked'
            when state.state = 'appealed' then 'appealed'
            when state.restored_on is not null then 'restored'
            else 'active'
        end as file_status,
        (state.adjusted_on + to_months(if(influence.no_leading_post_months > 0,
            influence.no_leading_post_months, influence.months)::integer))::date
            as reappoint_from,
        (state.adjusted_on + to_months(influence.months::integer))::date as promotion_from,
        coalesce(getvariable('recheck_months'), 6)::integer as recheck_months
    from state
    left join influence using (measure)
)

select
    *,
    case file_status
        when 'active' then '跟踪管理中' when 'appealed' then '申诉中'
        when 'restored' then '已重新任用' when 'revoked' then '申诉成立，调整已撤销'
    end as file_status_zh
from renamed
