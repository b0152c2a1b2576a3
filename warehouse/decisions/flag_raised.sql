-- decisions.flag_raised: 预警线索（构建原样）. Candidate, warning and promotion-block (S1) flags of every build (marts.cadre_flag), with their evidence as stable keys.
-- grain: as_of, id_number, rule_id
-- Why: the build keys a flag by cadre and rule per as-of date; a decision needs the same flag in
-- every build that raises it, whatever the look-back window. A flag is its cadre, rule and
-- evidence: evidence_keys names each piece by source and record key (staging.evidence_key),
-- which a re-sent record keeps. pipelines/review/decisions.py (sync_flags) matches these rows
-- to the register; decisions.flag_source adds the flag_id. The only file naming marts.cadre_flag.
-- column as_of: As-of date of the build that raised the flag.
-- column opened_on: first_flag_date of the build's flag: the earliest date one of its triggers arose.
-- column evidence_keys: The flag's evidence as stable keys (source:record key), sorted.
-- column observation_ends_on: Warnings: end of the 考察期 the build opened (marts.observation_period).
-- column observation_status: Warnings: open, ended or escalated (R1) at the build's as-of date.
-- column in_scope: The cadre is in the newest roster snapshot (listed in marts.candidate).
-- column ruleset_label: Rule set that raised the flag (version + digest).
with flag as (
    select * from marts.cadre_flag
    where severity in ('candidate', 'warning', 'blocks_promotion')
),

rule as (
    select rule_id, title_zh from ruleset.rule
),

post as (
    select as_of, id_number, name, org_name, post_title
    from marts.cadre_profile
    where period_kind = 'as_of'
),

observation as (
    select as_of, rule_id, id_number, raised_on, min(ends_on) as ends_on,
        arg_min(status, ends_on) as status
    from marts.observation_period
    group by all
),

candidate as (
    select distinct as_of, id_number from marts.candidate
),

keyed as (
    select as_of, id_number, rule_id,
        list_sort(list_distinct(list(coalesce(evidence_key.evidence_key, item.evidence_id))))
            as evidence_keys
    from (select as_of, id_number, rule_id, unnest(evidence_ids) as evidence_id from flag) as item
    left join staging.evidence_key as evidence_key using (evidence_id)
    group by all
),

renamed as (
    select
        flag.as_of,
        flag.id_number,
        flag.rule_id,
        flag.severity,
        coalesce(flag.first_flag_date, flag.as_of) as opened_on,
        observation.ends_on as observation_ends_on,
        observation.status as observation_status,
        post.name,
        post.org_name,
        post.post_title,
        rule.title_zh as rule_title_zh,
        flag.detail_zh,
        flag.evidence_ids,
        coalesce(keyed.evidence_keys, []::varchar[]) as evidence_keys,
        flag.ruleset_version as ruleset_label,
        candidate.id_number is not null as in_scope
    from flag
    left join rule using (rule_id)
    left join post using (as_of, id_number)
    left join observation
        on observation.as_of = flag.as_of and observation.rule_id = flag.rule_id
        and observation.id_number = flag.id_number
        and observation.raised_on = flag.first_flag_date
    left join candidate using (as_of, id_number)
    left join keyed using (as_of, id_number, rule_id)
)

select * from renamed
