-- grain: id_number
-- id: R1
-- title: 考察期满未见好转或考察期内再次预警
-- severity: candidate
-- dimension: any
-- basis: seed article §3 (设定考察期) [I]
-- Why: a warning opens a 考察期 (R1.observation_months); it escalates to a candidate when a
-- second warning arrives inside it, or when it ends while a persistent warning's condition
-- (ruleset.yaml persistent_warnings) still holds. See marts.observation_period.
with observation as (
    select * from marts.observation_period
    where as_of = getvariable('as_of') and escalation is not null
)

select
    id_number,
    min(escalated_on) as flag_date,
    list_sort(list_distinct(flatten(list(list_concat(evidence_ids,
        coalesce(second_evidence_ids, []::varchar[])))))) as evidence_ids,
    string_agg(
        format('{}预警（{}起考察期）{}', rule_id, opened_on,
            if(escalation = 'second_warning', format('期间再次预警（{}）', second_rule_id),
                format('至{}期满未见好转', ends_on))),
        '；' order by opened_on, rule_id) as detail_zh
from observation
group by id_number
