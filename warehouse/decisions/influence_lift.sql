-- decisions.influence_lift: 影响期限制已解除. One row per sanction whose promotion block (S1) a person lifted (解除限制) or whose appeal was granted (申诉成立).
-- grain: evidence_key
-- Why: rules.md, "People's decisions bind the engine": a wrong promotion block can be lifted by
-- a recorded decision, and then it blocks nothing: not re-appointment, not 优秀, not the
-- candidate list's 影响期内. A lift covers the sanctions the lifted S1 flag rested on (its
-- evidence keys); a later sanction opens a new S1 flag and blocks again until decided.
-- Reads only the decisions tables, so the build (marts.candidate) and the review layer read the
-- same lifts.
-- column evidence_key: The sanction's stable key (sanction:record key).
-- column lifted_on: Date of the earliest lift (or granted appeal) covering the sanction.
-- column lifted_by: Who decided it (a registered decider).
-- column lift_flag_id: The S1 flag (线索编号) the decision was recorded on.
with register as (
    select * from decisions.flag_register where rule_id = 'S1'
),

decision as (
    select * from decisions.decision_log
),

flag_decision as (
    -- the state a flag is in now, and the decision that released its block
    select
        flag_id,
        arg_max(to_state, decision_id) as state,
        min(decided_on) filter (where action in ('lift', 'appeal_granted')) as lifted_on,
        arg_min(decided_by, decision_id) filter (where action in ('lift', 'appeal_granted'))
            as lifted_by
    from decision
    group by flag_id
),

lifted_key as (
    select
        unnest(register.evidence_keys) as evidence_key,
        register.flag_id,
        flag_decision.lifted_on,
        flag_decision.lifted_by
    from register
    join flag_decision using (flag_id)
    where flag_decision.state in ('lifted', 'cleared')
)

select
    evidence_key,
    min(lifted_on) as lifted_on,
    arg_min(lifted_by, lifted_on) as lifted_by,
    arg_min(flag_id, lifted_on) as lift_flag_id
from lifted_key
group by evidence_key
