-- marts.observation_period: 考察期. One row per warning raised at the as-of date: the 考察期 it opened and whether it escalated.
-- grain: id_number, rule_id
-- Why: seed §3: a warning is followed by a time-limited observation; if the cadre does not
-- improve, or is warned again inside it, R1 proposes the cadre as a candidate.
-- column opened_on: Date the warning arose (its flag_date).
-- column ends_on: opened_on + R1.observation_months for the post class held at the as-of date.
-- column persistent: The warning's condition is a state (ruleset.yaml persistent_warnings).
-- column second_rule_id: Rule of that second warning.
-- column second_evidence_ids: Evidence of that second warning.
-- column escalated_on: Date the escalation happened (second warning's date or the period's end).
-- column second_on: First later warning dated inside the period, if any.
-- column escalation: second_warning, no_improvement (ended and a persistent condition still holds) or NULL.
-- column status: open, ended or escalated.
with warning as (
    select * from marts.rule_hit where as_of = getvariable('as_of') and severity = 'warning'
),
post_now as (
    select * from temp.cadre_period where period_kind = 'as_of'
),
opened as (
    select warning.rule_id, warning.id_number, warning.flag_date as opened_on,
        (warning.flag_date + to_months(parameter.r1_observation_months::integer))::date as ends_on,
        warning.evidence_ids, warning.detail_zh, rule.persistent_warning as persistent
    from warning
    join post_now using (id_number)
    join ruleset.post_class_parameter as parameter using (post_level, post_category, sector)
    join ruleset.rule as rule using (rule_id)
),
second as (
    select opened.rule_id, opened.id_number, opened.opened_on, opened.evidence_ids,
        min(later.flag_date) as second_on,
        arg_min(later.rule_id, (later.flag_date, later.rule_id)) as second_rule_id,
        arg_min(later.evidence_ids, (later.flag_date, later.rule_id)) as second_evidence_ids
    from opened
    join warning as later
        on later.id_number = opened.id_number
        and later.flag_date > opened.opened_on and later.flag_date <= opened.ends_on
    group by all
),
escalated as (
    select opened.*, second.second_on, second.second_rule_id, second.second_evidence_ids,
        case when second.second_on is not null then 'second_warning'
            when opened.persistent and opened.ends_on <= getvariable('as_of') then 'no_improvement'
        end as escalation
    from opened
    left join second using (rule_id, id_number, opened_on, evidence_ids)
)
select
    *,
    case escalation when 'second_warning' then second_on when 'no_improvement' then ends_on
    end as escalated_on,
    case when escalation is not null then 'escalated'
        when ends_on > getvariable('as_of') then 'open' else 'ended' end as status
from escalated
