-- decisions.ledger_event: 盘点事件. One row per step in a flag's life: raised by a build, then each decision, with the unit and the half-year it fell in.
-- grain: flag_id, event, decision_id
-- Why: 定期盘点 (seed §5) counts what the mechanism did per unit and period; one long table of
-- events is what every count and every duration is taken from, and what analysts query.
-- column event: raised, observed, confirmed, cleared, adjusted, appealed, appeal_upheld, appeal_granted or restored.
-- column event_on: raised: the earliest as-of date of a build that raised the flag (never after its first decision: a build dated later than decisions already taken); else the decision date.
-- column org_name: 单位 of the cadre when the flag was first raised.
-- column half_year: 2025H1 / 2025H2 of event_on.
with register as (
    select * from decisions.flag_register
),

decision as (
    select * from decisions.decision_log
),

first_decision as (
    select flag_id, min(decided_on) as decided_on from decision group by flag_id
),

raised as (
    select register.flag_id, 'raised' as event,
        least(register.first_as_of, coalesce(first_decision.decided_on, register.first_as_of))
            as event_on,
        null::bigint as decision_id, null::varchar as measure, null::varchar as decided_by,
        null::varchar as document_no
    from register
    left join first_decision using (flag_id)
),

decided as (
    select flag_id,
        case action
            when 'observe' then 'observed' when 'confirm' then 'confirmed'
            when 'clear' then 'cleared' when 'adjust' then 'adjusted'
            when 'appeal' then 'appealed' when 'restore' then 'restored'
            else action
        end as event,
        decided_on as event_on, decision_id, measure, decided_by, document_no
    from decision
),

unioned as (
    select * from raised
    union all
    select * from decided
)

select
    unioned.flag_id,
    register.id_number,
    register.name,
    register.org_name,
    register.rule_id,
    register.severity,
    unioned.event,
    case unioned.event
        when 'raised' then if(register.severity = 'candidate', '提出不适宜人选', '发出预警')
        when 'observed' then '列入考察期' when 'confirmed' then '认定不适宜担任现职'
        when 'cleared' then '不予认定' when 'adjusted' then '组织调整'
        when 'appealed' then '提出申诉' when 'appeal_upheld' then '申诉维持'
        when 'appeal_granted' then '申诉成立' when 'restored' then '重新任用'
    end as event_zh,
    unioned.event_on,
    year(unioned.event_on) as year,
    year(unioned.event_on) || 'H' || if(month(unioned.event_on) <= 6, '1', '2') as half_year,
    unioned.decision_id,
    unioned.measure,
    unioned.decided_by,
    unioned.document_no
from unioned
join register using (flag_id)
