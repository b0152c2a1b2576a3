-- marts.candidate: 不适宜担任现职人选及预警名单. One row per in-scope cadre with a candidate or warning flag at the as-of date.
-- grain: id_number
-- Why: the list the organization department reviews (集中会诊); it proposes, never decides.
-- Cadres no longer in the newest roster snapshot are left out (their flags stay in cadre_flag).
-- column severity: candidate if any candidate rule fired, else warning.
-- column rule_ids: Candidate and warning rules raised, sorted.
-- column evidence_count: Distinct evidence rows behind those rules.
-- column in_influence_period: Also inside an influence period (S1) whose block no person lifted (decisions.influence_lift).
-- column org_name: 单位 held at the as-of date; post_title and post_level likewise.
with flag as (
    select * from marts.cadre_flag where as_of = getvariable('as_of')
),
cadre as (
    select * from core.cadre where in_scope
),
post_now as (
    select * from temp.cadre_period where period_kind = 'as_of'
),
flagged as (
    select
        id_number,
        if(bool_or(severity = 'candidate'), 'candidate', 'warning') as severity,
        list(rule_id order by rule_id) as rule_ids,
        len(list_distinct(flatten(list(evidence_ids)))) as evidence_count,
        min(first_flag_date) as first_flag_date
    from flag
    where severity in ('candidate', 'warning')
    group by id_number
),
influence as (
    select * from marts.influence_period where as_of = getvariable('as_of') and active
),
evidence_key as (
    select evidence_id, evidence_key from staging.evidence_key
),
lift as (
    -- a lift says the block was wrong: it binds whatever the as-of date, like every decision
    select * from decisions.influence_lift
),
blocked as (
    -- S1 as people left it: a sanction whose block was lifted (解除限制/申诉成立) blocks nothing
    select distinct influence.id_number, true as in_influence_period
    from influence
    left join evidence_key on influence.evidence_id = evidence_key.evidence_id
    left join lift on evidence_key.evidence_key = lift.evidence_key
    where lift.evidence_key is null
)
select
    flagged.id_number, cadre.name, post_now.org_name, post_now.post_title,
    post_now.post_level, post_now.post_category, post_now.sector,
    flagged.severity, flagged.rule_ids, flagged.evidence_count, flagged.first_flag_date,
    coalesce(blocked.in_influence_period, false) as in_influence_period
from flagged
join cadre using (id_number)
join post_now using (id_number)
left join blocked using (id_number)
