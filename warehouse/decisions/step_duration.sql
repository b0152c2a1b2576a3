-- decisions.step_duration: 环节用时. One row per step a flag went through or is in: verification, observation, adjustment, appeal, re-appointment, with its start, end and days taken.
-- grain: flag_id, step, started_on
-- Why: 定期盘点 asks how long each step takes (seed §5); a step still open counts its days up
-- to the review date, so slow cases show before they close.
-- column step: verify (raised -> first decision), observation (列入考察期 -> 认定/排除), adjustment (认定 -> 组织调整), appeal (申诉 -> 结果), restore (调整 -> 重新任用).
-- column started_on: Start of the step; verify starts on the flag's raised date (never after its first decision).
-- column ended_on: Date of the decision that ended it; NULL while open.
-- column outcome: Action that ended the step (e.g. adjust, appeal_granted); NULL while open.
-- column days: ended_on - started_on, or review date - started_on while open.
-- column half_year: Half-year of ended_on (of the review date while open).
with register as (
    select * from decisions.flag_register
),

decision as (
    select * from decisions.decision_log
),

step as (
    select * from (values
        ('observation', '考察期（列入考察期至认定）', 'observe', ['confirm', 'clear']),
        ('adjustment', '认定至组织调整', 'confirm', ['adjust', 'appeal_granted']),
        ('appeal', '申诉处理', 'appeal', ['appeal_upheld', 'appeal_granted']),
        ('restore', '组织调整至重新任用', 'adjust', ['restore', 'appeal_granted'])
    ) as t(step, step_zh, start_action, end_actions)  -- noqa: AL05
),

first_decision as (
    select flag_id, min(decided_on) as decided_on,
        arg_min(action, decision_id) as action
    from decision
    where action in ('observe', 'confirm', 'clear')
    group by flag_id
),

verify as (
    select register.flag_id, 'verify' as step, '核实认定（提出至首次决定）' as step_zh,
        least(register.first_as_of, coalesce(first_decision.decided_on, register.first_as_of))
            as started_on,
        first_decision.decided_on as ended_on,
        first_decision.action as outcome
    from register
    left join first_decision using (flag_id)
),

paired as (
    select started.flag_id, step.step, step.step_zh, started.decided_on as started_on,
        arg_min(ended.decided_on, ended.decision_id) as ended_on,
        arg_min(ended.action, ended.decision_id) as outcome
    from decision as started
    join step on started.action = step.start_action
    left join decision as ended
        on ended.flag_id = started.flag_id and ended.decision_id > started.decision_id
        and list_contains(step.end_actions, ended.action)
    group by started.flag_id, started.decision_id, step.step, step.step_zh, started.decided_on
),

unioned as (
    select * from verify
    union all by name
    select * from paired
),

review_date as (
    select coalesce(getvariable('review_as_of')::date, current_date) as review_as_of
)

select
    unioned.flag_id,
    register.id_number,
    register.name,
    register.org_name,
    register.rule_id,
    register.severity,
    unioned.step,
    unioned.step_zh,
    unioned.started_on,
    unioned.ended_on,
    unioned.outcome,
    unioned.ended_on is null as open,
    coalesce(unioned.ended_on, review_date.review_as_of) - unioned.started_on as days,
    year(coalesce(unioned.ended_on, review_date.review_as_of)) || 'H'
        || if(month(coalesce(unioned.ended_on, review_date.review_as_of)) <= 6, '1', '2')
        as half_year
from unioned
join register using (flag_id)
cross join review_date
