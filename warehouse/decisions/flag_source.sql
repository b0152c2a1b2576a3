-- decisions.flag_source: 预警线索来源. Candidate and warning flags of every build (marts.cadre_flag), under the stable id that decisions refer to.
-- grain: as_of, flag_id
-- Why: the build keys a flag by cadre and rule per as-of date; a decision needs an id that is
-- the same in every build that raises the same flag. flag_id = rule id + 8 hex digits of
-- md5(id_number|rule_id|first_flag_date): a new 不称职 year or a new run below a threshold is
-- a new flag; the same one seen by a later build is not. The only file naming marts.cadre_flag.
-- column as_of: As-of date of the build that raised the flag.
-- column opened_on: first_flag_date of the build's flag: the earliest date one of its triggers arose.
-- column observation_ends_on: Warnings: end of the 考察期 the build opened (marts.observation_period).
-- column observation_status: Warnings: open, ended or escalated (R1) at the build's as-of date.
-- column in_scope: The cadre is in the newest roster snapshot (listed in marts.candidate).
-- column ruleset_label: Rule set that raised the flag (version + digest).
with flag as (
    select * from marts.cadre_flag where severity in ('candidate', 'warning')
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
    select as_of, rule_id, id_number, opened_on, min(ends_on) as ends_on,
        arg_min(status, ends_on) as status
    from marts.observation_period
    group by all
),

candidate as (
    select as_of, id_number from marts.candidate
),

renamed as (
    select
        flag.as_of,
        flag.rule_id || '-' || left(md5(flag.id_number || '|' || flag.rule_id || '|'
            || coalesce(flag.first_flag_date, flag.as_of)::varchar), 8) as flag_id,
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
        flag.ruleset_version as ruleset_label,
        candidate.id_number is not null as in_scope
    from flag
    left join rule using (rule_id)
    left join post using (as_of, id_number)
    left join observation
        on observation.as_of = flag.as_of and observation.rule_id = flag.rule_id
        and observation.id_number = flag.id_number
        and observation.opened_on = flag.first_flag_date
    left join candidate using (as_of, id_number)
)

select * from renamed
