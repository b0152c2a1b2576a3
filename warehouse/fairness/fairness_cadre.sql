-- fairness.fairness_cadre: 公平性监测口径（人）. One row per cadre in scope of the review's build (variable review_build): the groups the disparity monitor compares and the outcomes it counts.
-- grain: id_number
-- Why: the monitor compares rates of harmful outcomes between groups of cadres; this is its one
-- definition of who is in scope and what counts, so the report, the CLI's JSON and the analysts'
-- table cannot disagree, and the candidate counts equal the candidate list (marts.candidate).
-- In scope: the cadres the build profiled as of its date and who are in the newest roster,
-- plus anyone the build's list names. Age is taken at the review period's end (review_as_of).
-- column unit: 单位 held at the build's date (as in the candidate list).
-- column sex: 性别 from the roster; 未填报 when empty.
-- column age_band: <35, 35-44, 45-54, >=55 (full years at the period's end); 未知 without a birth date.
-- column post_level: 职务层次 held at the build's date; 未填报 when empty.
-- column candidate: Listed as 不适宜担任现职人选 (severity candidate in marts.candidate).
-- column warning: Listed with warnings only (severity warning in marts.candidate): candidate and warning never both.
-- column reviewed: Listed, and at least one of the build's flags on the cadre has a recorded decision.
-- column adjusted: Reviewed, and one of those flags led to a 组织调整 (decisions up to now).
with build as (
    select
        getvariable('review_build')::date as as_of,
        coalesce(getvariable('review_as_of')::date, current_date) as period_end
),

flag as (
    select flag_source.*
    from decisions.flag_source
    join build on flag_source.as_of = build.as_of
    where flag_source.in_scope
),

state as (
    select flag_id, decisions, adjusted_on from decisions.flag_state
),

listed as (
    select
        flag.id_number,
        bool_or(flag.severity = 'candidate') as is_candidate,
        bool_or(state.decisions > 0) as reviewed,
        bool_or(state.decisions > 0 and state.adjusted_on is not null) as adjusted
    from flag
    left join state using (flag_id)
    group by flag.id_number
),

post as (
    select profile_source.id_number, profile_source.org_name, profile_source.post_level,
        profile_source.in_scope
    from decisions.profile_source
    join build on profile_source.as_of = build.as_of
    where profile_source.period_kind = 'as_of'
),

population as (
    select post.*
    from post
    where post.in_scope or post.id_number in (select id_number from listed)
),

person as (
    select
        population.id_number,
        population.org_name,
        population.post_level,
        cadre.gender,
        year(build.period_end) - year(cadre.birth_date)
            - if(strftime(build.period_end, '%m%d') < strftime(cadre.birth_date, '%m%d'), 1, 0)
            as age
    from population
    cross join build
    left join decisions.cadre_source as cadre using (id_number)
)

select
    person.id_number,
    coalesce(person.org_name, '未填报') as unit,
    coalesce(person.gender, '未填报') as sex,
    case
        when person.age is null then '未知'
        when person.age < 35 then '<35'
        when person.age < 45 then '35-44'
        when person.age < 55 then '45-54'
        else '>=55'
    end as age_band,
    coalesce(person.post_level, '未填报') as post_level,
    coalesce(listed.is_candidate, false) as candidate,
    coalesce(not listed.is_candidate, false) as warning,
    coalesce(listed.reviewed, false) as reviewed,
    coalesce(listed.adjusted, false) as adjusted
from person
left join listed using (id_number)
