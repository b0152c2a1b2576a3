-- temp.cadre_period: One row per cadre and profile period (the as-of date, each half-year, each year) with the post held at the period's end.
-- grain: id_number, period_kind, period_label
-- Why: profiles are judged against the post held at the end of the period (thresholds differ
-- by post class), and every period of the look-back history is computed the same way.
with bounds as (
    select getvariable('as_of')::date as as_of, getvariable('history_years')::integer as years
),
years as (
    select unnest(range(year(as_of) - years, year(as_of) + 1)) as y from bounds
),
periods as (
    select 'as_of' as period_kind, 'as-of' as period_label, as_of as period_end from bounds
    union all select 'half_year', y || 'H1', make_date(y, 6, 30) from years
    union all select 'half_year', y || 'H2', make_date(y, 12, 31) from years
    union all select 'year', y::varchar, make_date(y, 12, 31) from years
),
period as (
    select periods.* from periods, bounds
    where period_end <= as_of and period_end > as_of - to_years(years)
),
cadre_period as (
    select cadre.id_number, cadre.name, period.*
    from core.cadre as cadre cross join period
),
spell as (select * from core.cadre_post_history)
-- the post is the spell whose span [valid_from, valid_to] holds the period's end, else the first
-- spell (a period before any known post). Exactly one spell of a cadre qualifies (the spans
-- follow each other; the first spell takes what comes before them), so an equi-join on the ID
-- with the span as a filter finds it: an ASOF join would sort all 7 period rows of every cadre,
-- and a second join would fetch the first spell. A cadre with no post history has no row.
select
    cadre_period.*,
    spell.org_name, spell.post_title, spell.post_level, spell.post_category, spell.sector,
    spell.on_probation
from cadre_period
join spell
    on spell.id_number = cadre_period.id_number
    and (coalesce(cadre_period.period_end >= spell.valid_from
                  and (spell.valid_to is null or cadre_period.period_end <= spell.valid_to), false)
         or (spell.spell_no = 1 and not coalesce(cadre_period.period_end >= spell.valid_from, false)))
