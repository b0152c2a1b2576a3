-- marts.cadre_flag: 预警与不适宜人选标记. One row per cadre and rule raised at the as-of date, with all its evidence.
-- grain: id_number, rule_id
-- Why: a decision is made per cadre and rule; the rule-set version that raised the flag is kept
-- on every row (ruleset_version) so a jurisdiction can tell which numbers produced it.
-- column severity: candidate (不适宜担任现职人选), warning (预警, opens a 考察期) or blocks_promotion (影响期).
-- column hits: Distinct triggers of the rule (e.g. two petitions).
-- column first_flag_date: Earliest date one of the triggers arose.
-- column evidence_ids: Evidence rows (core.evidence) behind the flag.
-- column detail_zh: What the rule found, in Chinese.
with hit as (
    select * from marts.rule_hit where as_of = getvariable('as_of')
)

select
    id_number,
    rule_id,
    any_value(severity) as severity,
    any_value(dimension) as dimension,
    count(*) as hits,
    min(flag_date) as first_flag_date,
    list_sort(list_distinct(flatten(list(evidence_ids)))) as evidence_ids,
    string_agg(detail_zh, '；' order by flag_date, detail_zh) as detail_zh
from hit
group by id_number, rule_id
