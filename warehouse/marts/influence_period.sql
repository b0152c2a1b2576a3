-- marts.influence_period: 影响期. One row per sanction decided on or before the as-of date, with its influence period.
-- grain: evidence_id
-- Why: rules.md §5: during an influence period the cadre is not eligible for promotion or 优秀;
-- when the unit left 影响期截止 empty it is derived from the measure; overlaps: the longest wins.
-- column effect_until: Last day (inclusive): as sent, else derived counting the decision day as day 1 (rules.md "Periods"): the day before decided_on + months (when that month has no such day, its last day is taken, then the day before).
-- column derived: effect_until was derived from the measure (the unit left it empty).
-- column no_leading_post_until: 责令辞职/免职: last day without a leading post (rules.md §5), counted like effect_until.
-- column active: The as-of date lies inside [decided_on, effect_until].
-- column blocks_until: Latest effect_until among the cadre's active periods: the one in force.
-- column governing: This period is the one in force (longest wins on overlap).
with sanction as (
    select * from core.sanction where decided_on <= getvariable('as_of')
),
influence as (
    select * from ruleset.influence
),
periods as (
    select
        sanction.evidence_id, sanction.id_number, sanction.decision_no, sanction.measure,
        sanction.category as reason_category, sanction.decided_on,
        sanction.effect_until as effect_until_sent,
        -- never derived when the measure's term varies (留党察看): no term is ever assumed
        -- the decision day is day 1: N months end the day before decided_on + N months
        if(influence.months > 0 and not influence.end_date_required,
            (sanction.decided_on + to_months(influence.months::integer))::date - 1,
            null) as effect_until_derived,
        if(influence.no_leading_post_months > 0,
            (sanction.decided_on + to_months(influence.no_leading_post_months::integer))::date - 1,
            null) as no_leading_post_until,
        sanction.submission_id, sanction.source_row
    from sanction
    join influence using (measure)
),
resolved as (
    select
        periods.* exclude (effect_until_sent, effect_until_derived),
        coalesce(effect_until_sent, effect_until_derived) as effect_until,
        effect_until_sent is null as derived
    from periods
    where coalesce(effect_until_sent, effect_until_derived) is not null
),
flagged as (
    select
        *,
        getvariable('as_of') between decided_on and effect_until as active
    from resolved
),
blocking as (
    select *, max(effect_until) filter (active) over (partition by id_number) as blocks_until
    from flagged
)
select *, active and effect_until = blocks_until as governing
from blocking
