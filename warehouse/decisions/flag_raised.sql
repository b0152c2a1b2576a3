-- decisions.flag_raised: 预警线索（构建原样）. Candidate, warning and promotion-block (S1) flags of every build, with their evidence as stable keys (marts.flag_raised).
-- grain: as_of, id_number, rule_id
-- Why: the review layer's one adapter over the build's flags: pipelines/review/decisions.py
-- (sync_flags) matches these rows to the register; decisions.flag_source adds the flag_id.
-- The build computes the rows (marts.flag_raised: why a flag is its cadre, rule and evidence
-- keys is told there); this is the only file naming that table.
-- column as_of: As-of date of the build that raised the flag.
-- column opened_on: first_flag_date of the build's flag: the earliest date one of its triggers arose.
-- column evidence_keys: The flag's evidence as stable keys (source:record key), sorted.
-- column observation_ends_on: Warnings: end of the 考察期 the build opened (marts.observation_period).
-- column observation_status: Warnings: open, ended or escalated (R1) at the build's as-of date.
-- column in_scope: The cadre is in the newest roster snapshot (listed in marts.candidate).
-- column ruleset_label: Rule set that raised the flag (version + digest).
select
    as_of,
    id_number,
    rule_id,
    severity,
    opened_on,
    observation_ends_on,
    observation_status,
    name,
    org_name,
    post_title,
    rule_title_zh,
    detail_zh,
    evidence_ids,
    evidence_keys,
    ruleset_label,
    in_scope
from marts.flag_raised
