-- followup.recheck: 复检. One row per adjusted cadre and scheduled re-check (every recheck_months after the adjustment, up to the next one after the review date), with its result from evidence dated after the adjustment.
-- grain: flag_id, recheck_no
-- Why: seed §4 定期复检: the bar is met again when the latest profile after the adjustment has
-- no dimension below the post-class threshold, no new candidate flag has been raised (or it was
-- cleared) and no annual grade after the adjustment is 基本称职 or 不称职.
-- column recheck_no: 1 = the first re-check after the adjustment.
-- column status: done (on or before the review date) or due (the next one).
-- column profile_period: Period of the profile the re-check read: the latest half-year (or build date) ending on or before the re-check date and after the adjustment.
-- column new_candidate_rules: Rules of candidate flags raised after the adjustment and not cleared (empty for a re-check still due).
-- column poor_grades: Annual grades 基本称职/不称职 for years ending after the adjustment.
-- column meets_bar: true / false; NULL when no profile after the adjustment exists yet.
with followup_case as (
    select * from followup.followup_case where file_status in ('active', 'restored', 'appealed')
),

review as (
    select
        coalesce(getvariable('review_as_of')::date, current_date) as review_as_of,
        coalesce(getvariable('review_build')::date,
            (select max(as_of) from decisions.profile_source)) as review_build
),

-- profiles, flags and grades of the followed-up cadres only: the publish copies this view at
-- every decision, and read whole these are every cadre's (seconds at 1M cadres, for a few files)
profile as (
    select profile_source.*
    from decisions.profile_source, review
    where profile_source.as_of = review.review_build
        and profile_source.period_kind in ('half_year', 'as_of')
        and profile_source.id_number in (select followup_case.id_number from followup_case)
    qualify row_number() over (
        partition by profile_source.id_number, profile_source.period_end
        order by profile_source.period_kind = 'half_year' desc) = 1
),

flag as (
    select * from decisions.flag_state
    where severity = 'candidate' and state <> 'cleared'
        and id_number in (select followup_case.id_number from followup_case)
),

grade as (
    select * from decisions.assessment_source
    where grade in ('基本称职', '不称职')
        and id_number in (select followup_case.id_number from followup_case)
),

schedule as (
    select
        followup_case.flag_id, followup_case.id_number, followup_case.adjusted_on,
        followup_case.restored_on, followup_case.recheck_months, t.k as recheck_no,
        (followup_case.adjusted_on + to_months(t.k * followup_case.recheck_months))::date
            as recheck_on,
        review.review_as_of
    from followup_case
    cross join range(1, 61) as t(k)
    cross join review
),

bounded as (
    select *,
        lag(recheck_on) over (partition by flag_id order by recheck_no) as previous_on
    from schedule
    where restored_on is null or recheck_on <= restored_on
),

scheduled as (
    select * exclude (previous_on)
    from bounded
    where recheck_on <= review_as_of or coalesce(previous_on, adjusted_on) <= review_as_of
),

with_profile as (
    select scheduled.*, profile.period_label as profile_period,
        profile.period_end as profile_period_end, profile.score_virtue,
        profile.score_ability, profile.score_diligence, profile.score_performance,
        profile.score_integrity, profile.score_overall, profile.below_threshold
    from scheduled
    asof left join profile
        on profile.id_number = scheduled.id_number and scheduled.recheck_on >= profile.period_end
),

checked as (
    select with_profile.*,
        with_profile.profile_period_end >= with_profile.adjusted_on
            and with_profile.recheck_on <= with_profile.review_as_of as profile_after,
        (select list(distinct flag.rule_id order by flag.rule_id) from flag
         where flag.id_number = with_profile.id_number and flag.flag_id <> with_profile.flag_id
            and flag.opened_on > with_profile.adjusted_on
            and flag.opened_on <= with_profile.recheck_on) as new_candidate_rules,
        (select list(grade.year || '年' || grade.grade order by grade.year) from grade
         where grade.id_number = with_profile.id_number
            and make_date(grade.year, 12, 31) > with_profile.adjusted_on
            and make_date(grade.year, 12, 31) <= with_profile.recheck_on) as poor_grades
    from with_profile
)

select
    flag_id, id_number, recheck_no, recheck_on,
    if(recheck_on <= review_as_of, 'done', 'due') as status,
    if(profile_after, profile_period, null) as profile_period,
    if(profile_after, score_virtue, null) as score_virtue,
    if(profile_after, score_ability, null) as score_ability,
    if(profile_after, score_diligence, null) as score_diligence,
    if(profile_after, score_performance, null) as score_performance,
    if(profile_after, score_integrity, null) as score_integrity,
    if(profile_after, score_overall, null) as score_overall,
    if(profile_after, below_threshold, null) as below_threshold,
    if(recheck_on > review_as_of, []::varchar[], coalesce(new_candidate_rules, []::varchar[]))
        as new_candidate_rules,
    if(recheck_on > review_as_of, []::varchar[], coalesce(poor_grades, []::varchar[]))
        as poor_grades,
    if(recheck_on > review_as_of or not coalesce(profile_after, false), null,
        len(below_threshold) = 0 and len(coalesce(new_candidate_rules, []::varchar[])) = 0
            and len(coalesce(poor_grades, []::varchar[])) = 0) as meets_bar
from checked
