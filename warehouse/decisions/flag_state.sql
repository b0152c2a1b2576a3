-- decisions.flag_state: 线索状态. One row per flag ever raised: its state (flagged, under_observation, confirmed, cleared, adjusted, appealed) from the flag plus the decisions on it.
-- grain: flag_id
-- Why: the state is never stored apart from the decisions: it is the last decision's to_state
-- (pipelines/review/decisions.py admitted it), else the initial state of the severity (a candidate is
-- flagged; a warning opens a 考察期, rules.md §2 R1). Rebuilds replace flags, never this.
-- column evidence_keys: Stable keys (source:record key) of the flag's evidence: with cadre and rule, the flag's identity.
-- column new_evidence_keys: Evidence this flag added to the earlier flag of the same cadre and rule (previous_flag_id): what is new.
-- column previous_flag_id: The earlier flag of the same cadre and rule that people had decided about, if any.
-- column in_latest_build: The most recent build (by built_at, whatever its as-of date) still raises the flag; false: kept for its decisions.
-- column observe_until: End of the running 考察期: the observe decision's date, else (a warning) opened_on + R1.observation_months.
-- column adjusted_on: Date of the latest 组织调整; measure is its 调整方式.
-- column restored_on: Date of 重新任用 after the latest adjustment, if any.
with register as (
    select * from decisions.flag_register
),

decision as (
    select * from decisions.decision_log
),

latest_build as (
    select distinct flag_id from decisions.flag_match
    where as_of = (select as_of from decisions.build_source
                   order by built_at desc, as_of desc limit 1)
),

last_decision as (
    select
        flag_id,
        arg_max(to_state, decision_id) as state,
        arg_max(action, decision_id) as last_action,
        max(decided_on) as last_decided_on,
        arg_max(decided_by, decision_id) as last_decided_by,
        count(*) as decisions,
        max(decided_on) filter (where action = 'observe') as observed_on,
        arg_max(observe_until, decision_id) filter (where action in ('observe', 'extend'))
            as observe_until,
        max(decided_on) filter (where action = 'confirm') as confirmed_on,
        max(decided_on) filter (where action = 'adjust') as adjusted_on,
        arg_max(measure, decision_id) filter (where action = 'adjust') as measure,
        arg_max(document_no, decision_id) filter (where action = 'adjust') as adjust_document_no,
        max(decision_id) filter (where action = 'adjust') as adjust_decision_id,
        max(decided_on) filter (where action = 'appeal') as appealed_on,
        max(decided_on) filter (where action in ('clear', 'appeal_granted')) as cleared_on,
        max(decision_id) filter (where action = 'restore') as restore_decision_id,
        max(decided_on) filter (where action = 'restore') as restore_on
    from decision
    group by flag_id
),

renamed as (
    select
        register.flag_id,
        register.id_number,
        register.rule_id,
        register.severity,
        register.opened_on,
        register.name,
        register.org_name,
        register.post_title,
        register.rule_title_zh,
        register.detail_zh,
        register.evidence_ids,
        register.evidence_keys,
        register.new_evidence_keys,
        register.previous_flag_id,
        register.first_seen_at,
        register.last_seen_at,
        latest_build.flag_id is not null as in_latest_build,
        coalesce(last_decision.state,
            case register.severity when 'warning' then 'under_observation'
                when 'blocks_promotion' then 'blocking' else 'flagged' end) as state,
        last_decision.last_action,
        last_decision.last_decided_on,
        last_decision.last_decided_by,
        coalesce(last_decision.decisions, 0) as decisions,
        last_decision.observed_on,
        coalesce(last_decision.observe_until,
            if(register.severity = 'warning' and last_decision.flag_id is null,
                coalesce(register.observation_ends_on, (register.opened_on
                    + to_months(coalesce(getvariable('observation_months'), 6)::integer))::date),
                null)) as observe_until,
        last_decision.confirmed_on,
        last_decision.adjusted_on,
        last_decision.measure,
        last_decision.adjust_document_no,
        last_decision.appealed_on,
        last_decision.cleared_on,
        if(last_decision.restore_decision_id > last_decision.adjust_decision_id,
            last_decision.restore_on, null) as restored_on
    from register
    left join last_decision using (flag_id)
    left join latest_build using (flag_id)
)

select
    *,
    case state
        when 'flagged' then '待核实'
        when 'under_observation' then '考察期中'
        when 'confirmed' then '已认定不适宜担任现职'
        when 'cleared' then '已排除'
        when 'adjusted' then '已组织调整'
        when 'appealed' then '申诉中'
        when 'blocking' then '影响期中（限制提拔）'
        when 'lifted' then '已解除限制'
        when 'closed' then '已关闭（证据撤回或更正）'
    end as state_zh,
    state in ('flagged', 'under_observation', 'confirmed', 'appealed', 'blocking') as open
from renamed
