-- marts.flag_raised: 预警线索（构建原样）. Candidate, warning and promotion-block (S1) flags raised at the as-of date (marts.cadre_flag), with their evidence as stable keys, for the flag register.
-- grain: id_number, rule_id
-- Why: a decision needs the same flag in every build that raises it, whatever the look-back
-- window: a flag is its cadre, rule and evidence, and evidence_keys names each piece by source
-- and record key (staging.evidence_key), which a re-sent record keeps. Computed once, by the
-- build, because every review, report and publish reads it (the register's sync, the
-- disparity counts, the follow-up views): as a view it was computed again by each of them.
-- Only the flag register reads it (decisions.flag_raised); it is not published (the snapshots
-- hold marts.cadre_flag and decisions.flag_state). pipelines/build/steps.py fills the dates
-- built before this table existed from the other marts rows of those dates.
-- column opened_on: first_flag_date of the build's flag: the earliest date one of its triggers arose.
-- column evidence_keys: The flag's evidence as stable keys (source:record key), sorted.
-- column observation_ends_on: Warnings: end of the 考察期 the build opened (marts.observation_period).
-- column observation_status: Warnings: open, ended or escalated (R1) at the build's as-of date.
-- column in_scope: The cadre is in the newest roster snapshot (listed in marts.candidate).
-- column ruleset_label: Rule set that raised the flag (version + digest).
with flag as (
    select * from marts.cadre_flag
    where as_of = getvariable('as_of')
        and severity in ('candidate', 'warning', 'blocks_promotion')
),

rule as (
    select rule_id, title_zh from ruleset.rule
),

post as (
    select id_number, name, org_name, post_title
    from marts.cadre_profile
    where as_of = getvariable('as_of') and period_kind = 'as_of'
),

observation as (
    select rule_id, id_number, raised_on, min(ends_on) as ends_on,
        arg_min(status, ends_on) as status
    from marts.observation_period
    where as_of = getvariable('as_of')
    group by all
),

candidate as (
    select distinct id_number from marts.candidate
    where as_of = getvariable('as_of')
),

keyed as (
    select id_number, rule_id,
        list_sort(list_distinct(list(coalesce(evidence_key.evidence_key, item.evidence_id))))
            as evidence_keys
    from (select id_number, rule_id, unnest(evidence_ids) as evidence_id from flag) as item
    left join staging.evidence_key as evidence_key using (evidence_id)
    group by all
),

renamed as (
    select
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
    left join post using (id_number)
    left join observation
        on observation.rule_id = flag.rule_id
        and observation.id_number = flag.id_number
        and observation.raised_on = flag.first_flag_date
    left join candidate using (id_number)
    left join keyed using (id_number, rule_id)
)

select * from renamed
