-- marts.rule_basis: 规则依据. One row per enabled rule at the as-of date: title, severity, 依据 (basis) and its verification tags, and every number the jurisdiction profile changes for the rule, with that number's basis.
-- grain: rule_id
-- Why: rules.md: a rule whose basis is only [S]econdary or [R]ecalled ships, but must say so
-- wherever it is shown; the review joins this on (as_of, rule_id) to show, beside each flag,
-- what the rule rests on and which profile's numbers raised it (ruleset_profile).
-- column rule_id: Rule id (warehouse/rules/<id>_*.sql).
-- column title_zh: Rule title, from the rule file's header.
-- column basis: 依据 as written in the rule file's header, with its tags.
-- column tags: Verification tags of the basis: V wording checked, S secondary summary, R recalled, I own design.
-- column unverified: The basis carries an [S] or [R] tag: not checked against the issued text.
-- column profile_changes_zh: Numbers of this rule the jurisdiction profile changes, per post class, with their basis; NULL under rules.md's defaults.
with rule as (
    select * from ruleset.rule
),

override as (
    select
        -- thresholds and the look-back window act through the profile scores, i.e. D1
        if(parameter like 'threshold.%' or parameter like 'profile.%', 'D1',
            split_part(parameter, '.', 1)) as rule_id,
        format('{}：{} = {}（默认 {}；依据：{}）',
            concat_ws('/', when_post_level, when_post_category, when_sector), parameter,
            value, default_value, basis) as change_zh,
        entry
    from ruleset.profile_override
),

changes as (
    select rule_id, string_agg(change_zh, '；' order by entry, change_zh) as profile_changes_zh
    from override
    group by rule_id
)

select
    rule.rule_id,
    rule.title_zh,
    rule.severity,
    rule.basis,
    rule.tags,
    rule.tags like '%S%' or rule.tags like '%R%' as unverified,
    changes.profile_changes_zh
from rule
left join changes using (rule_id)
