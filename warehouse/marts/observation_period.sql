-- marts.observation_period: 考察期. One row per warning raised at the as-of date: the 考察期 it opened and whether it escalated.
-- grain: id_number, rule_id, evidence_ids
-- Why: seed §3: a warning is followed by a time-limited observation; if the cadre does not
-- improve, or is warned again inside it, R1 proposes the cadre as a candidate.
-- column raised_on: The warning's own flag date (marts.rule_hit.flag_date).
-- column opened_on: Date the 考察期 opened: the warning's flag date, or, when it follows a cleared warning of its rule or rests partly on evidence of a cleared flag, the date its own new evidence arose.
-- column ends_on: Last day of the 考察期: opened_on + R1.observation_months (same day, inside), or the end a person set (列入/延长考察期).
-- column decided_flag_id: The registered flag (线索编号) people decided about, if any.
-- column end_set_by_decision: ends_on comes from a person's decision.
-- column persistent: The warning's condition is a state (ruleset.yaml persistent_warnings).
-- column second_rule_id: Rule of that second warning.
-- column second_evidence_ids: Evidence of that second warning.
-- column escalated_on: Date the escalation happened (second warning's date, or the day after the period's end).
-- column second_on: First later warning dated inside the period, if any.
-- column escalation: second_warning, no_improvement (ended and a persistent condition still holds) or NULL.
-- column status: open, ended or escalated.
with hit as (
    select * from marts.rule_hit where as_of = getvariable('as_of') and severity = 'warning'
),
hit_item as (
    select rule_id, id_number, flag_date, evidence_ids, detail_zh,
        unnest(evidence_ids) as evidence_id
    from hit
),
hit_key as (
    -- each warning's evidence as stable keys, to find the flag people decided about
    select item.rule_id, item.id_number, item.flag_date, item.evidence_ids, item.detail_zh,
        list_sort(list_distinct(list(coalesce(k.evidence_key, item.evidence_id))))
            as evidence_keys
    from hit_item as item
    left join staging.evidence_key as k on k.evidence_id = item.evidence_id
    group by all
),
decided as (
    -- rules.md, "People's decisions bind the engine": the register's warnings with the latest
    -- decision on them (cleared / closed by the system / a 考察期 set or extended by a person)
    select register.flag_id, register.id_number, register.rule_id, register.evidence_keys,
        register.first_seen_at,
        arg_max(log.to_state, log.decision_id) as state,
        arg_max(log.observe_until, log.decision_id)
            filter (where log.action in ('observe', 'extend')) as observe_until
    from decisions.flag_register as register
    join decisions.decision_log as log using (flag_id)
    group by all
),
warning as (
    select hit_key.*, decided.flag_id as decided_flag_id, decided.state as decided_state,
        decided.observe_until as decided_until
    from hit_key
    left join decided
        on decided.id_number = hit_key.id_number and decided.rule_id = hit_key.rule_id
        and list_has_all(decided.evidence_keys, hit_key.evidence_keys)
    qualify row_number() over (partition by hit_key.rule_id, hit_key.id_number,
        hit_key.flag_date, hit_key.evidence_ids order by decided.first_seen_at desc nulls last) = 1
),
cleared_key as (
    -- every piece of evidence a flag people cleared (or the system closed) rested on
    select distinct id_number, unnest(evidence_keys) as evidence_key
    from decided where state in ('cleared', 'closed')
),
cleared_rule as (
    select distinct id_number, rule_id from decided where state in ('cleared', 'closed')
),
arising as (
    -- per warning: whether cleared evidence is part of it, and when its other evidence arose
    select item.rule_id, item.id_number, item.flag_date, item.evidence_ids,
        bool_or(cleared.evidence_key is not null) as any_cleared,
        bool_and(cleared.evidence_key is not null) as all_cleared,
        min(evidence.fact_date) filter (where cleared.evidence_key is null) as new_since
    from hit_item as item
    left join staging.evidence_key as k on k.evidence_id = item.evidence_id
    left join core.evidence as evidence on evidence.evidence_id = item.evidence_id
    left join cleared_key as cleared
        on cleared.id_number = item.id_number
        and cleared.evidence_key = coalesce(k.evidence_key, item.evidence_id)
    group by all
),
counting as (
    -- rules.md: a warning a person cleared (or the system closed) neither opens nor feeds a
    -- 考察期. Nor does its evidence: a warning resting only on evidence of cleared flags (the
    -- D1 that a cleared I2's own deduction causes) counts for nothing, and one that also rests
    -- on cleared evidence, or follows a cleared warning of its rule (D1's run of low profiles
    -- began under the cleared one), arises when its own new evidence did: raised_on is the
    -- rule's flag date, flag_date from here on the date the warning counts from
    select warning.* exclude (flag_date),
        warning.flag_date as raised_on,
        if(coalesce(arising.any_cleared, false) or cleared_rule.rule_id is not null,
            greatest(warning.flag_date, coalesce(arising.new_since, warning.flag_date)),
            warning.flag_date) as flag_date
    from warning
    left join arising using (rule_id, id_number, flag_date, evidence_ids)
    left join cleared_rule using (id_number, rule_id)
    where coalesce(warning.decided_state, '') not in ('cleared', 'closed')
        and not coalesce(arising.all_cleared, false)
),
post_now as (
    select * from temp.cadre_period where period_kind = 'as_of'
),
opened as (
    -- the period runs from the flag date to the same day N months later, both days inside;
    -- a person's 列入考察期/延长考察期 decision sets its end instead
    select warning.rule_id, warning.id_number, warning.raised_on, warning.flag_date as opened_on,
        coalesce(warning.decided_until,
            (warning.flag_date + to_months(parameter.r1_observation_months::integer))::date)
            as ends_on,
        warning.evidence_ids, warning.detail_zh, rule.persistent_warning as persistent,
        warning.decided_flag_id, warning.decided_until is not null as end_set_by_decision
    from counting as warning
    join post_now using (id_number)
    join ruleset.post_class_parameter as parameter using (post_level, post_category, sector)
    join ruleset.rule as rule using (rule_id)
),
first_points as (
    -- per opened warning and dimension: the points its own evidence costs at the as-of date
    select opened.rule_id, opened.id_number, opened.opened_on, opened.evidence_ids,
        deduction.dimension, sum(deduction.points) as points
    from opened
    join marts.deduction as deduction
        on deduction.id_number = opened.id_number
        and list_contains(opened.evidence_ids, deduction.evidence_id)
    where deduction.as_of = getvariable('as_of') and deduction.period_kind = 'as_of'
    group by all
),
low_without_first as (
    -- per opened warning: whether a dimension below its threshold at the as-of date stays below
    -- once the points of the opened warning's own evidence are given back
    select opened.rule_id, opened.id_number, opened.opened_on, opened.evidence_ids,
        bool_or(case low.dimension
            when 'virtue' then profile.score_virtue + coalesce(first.points, 0) < profile.threshold_virtue
            when 'ability' then profile.score_ability + coalesce(first.points, 0) < profile.threshold_ability
            when 'diligence' then profile.score_diligence + coalesce(first.points, 0) < profile.threshold_diligence
            when 'performance' then profile.score_performance + coalesce(first.points, 0) < profile.threshold_performance
            else profile.score_integrity + coalesce(first.points, 0) < profile.threshold_integrity
        end) as still_low
    from opened
    join marts.cadre_profile as profile
        on profile.id_number = opened.id_number and profile.as_of = getvariable('as_of')
        and profile.period_kind = 'as_of'
    cross join unnest(profile.below_threshold) as low(dimension)
    left join first_points as first
        on first.rule_id = opened.rule_id and first.id_number = opened.id_number
        and first.opened_on = opened.opened_on and first.evidence_ids = opened.evidence_ids
        and first.dimension = low.dimension
    group by all
),
dated as (
    -- each warning's evidence with the date it arose (the fact's date)
    select item.rule_id, item.id_number, item.flag_date, item.evidence_ids,
        list(struct_pack(id := item.evidence_id, arose_on := evidence.fact_date)) as dated_evidence
    from hit_item as item
    left join core.evidence as evidence on evidence.evidence_id = item.evidence_id
    group by all
),
second as (
    -- one fact is one piece of evidence: a later warning counts as a second warning only when
    -- it rests on evidence of its own, beyond the opened warning's (an overdue finding's D1 is
    -- the finding's I2 again; a D1's base assessment does not make the same deduction new)
    select opened.rule_id, opened.id_number, opened.opened_on, opened.evidence_ids,
        min(later.flag_date) as second_on,
        arg_min(later.rule_id, (later.flag_date, later.rule_id)) as second_rule_id,
        arg_min(later.evidence_ids, (later.flag_date, later.rule_id)) as second_evidence_ids
    from opened
    join counting as later
        on later.id_number = opened.id_number
        and later.flag_date > opened.opened_on and later.flag_date <= opened.ends_on
    left join dated
        on dated.rule_id = later.rule_id and dated.id_number = later.id_number
        and dated.flag_date = later.raised_on and dated.evidence_ids = later.evidence_ids
    left join low_without_first as low
        on low.rule_id = opened.rule_id and low.id_number = opened.id_number
        and low.opened_on = opened.opened_on and low.evidence_ids = opened.evidence_ids
    -- ... and that evidence of its own is not only sanctions (rules.md 不重复处理: a sanction
    -- that lowers a score into a D1 inside a V2's 考察期 does not make the cadre a candidate)
    where len(list_filter(later.evidence_ids, lambda e: not list_contains(opened.evidence_ids, e)
            and not starts_with(e, 'sanction:')
            and not (e like 'annual_assessment:%'
                     and len(list_filter(later.evidence_ids,
                         lambda x: list_contains(opened.evidence_ids, x))) > 0))) > 0
    -- ... and a D1 that the opened warning's own deductions tip below the threshold is caused by
    -- that evidence (rules.md "Counting"): it is a second warning only if it stays below without
    -- those points, or rests on evidence of its own that arose inside the 考察期 (older evidence
    -- had not made the cadre low before the period opened)
        and (later.rule_id <> 'D1' or coalesce(low.still_low, true)
            or len(list_filter(dated.dated_evidence, lambda d:
                not list_contains(opened.evidence_ids, d['id']) and not starts_with(d['id'], 'sanction:')
                and d['arose_on'] > opened.opened_on)) > 0)
    group by all
),
escalated as (
    select opened.*, second.second_on, second.second_rule_id, second.second_evidence_ids,
        case when second.second_on is not null then 'second_warning'
            when opened.persistent and opened.ends_on < getvariable('as_of') then 'no_improvement'
        end as escalation
    from opened
    left join second using (rule_id, id_number, opened_on, evidence_ids)
)
select
    * exclude (raised_on),
    -- no improvement is decided the day after the period ends
    case escalation when 'second_warning' then second_on
        when 'no_improvement' then (ends_on + 1)::date
    end as escalated_on,
    case when escalation is not null then 'escalated'
        when ends_on >= getvariable('as_of') then 'open' else 'ended' end as status,
    -- last, so that a warehouse built before the column existed gets it in place (review/sql.py)
    raised_on
from escalated
