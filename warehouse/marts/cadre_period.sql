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
post_history as (select * from core.cadre_post_history),
first_spell as (select * from post_history where spell_no = 1)
-- the post is the spell the ASOF match found, else the first spell (a period before any known
-- post); its columns come from the match itself, with no second join back to the history
select
    cadre_period.*,
    if(at_end.id_number is null, first_spell.org_name, at_end.org_name) as org_name,
    if(at_end.id_number is null, first_spell.post_title, at_end.post_title) as post_title,
    if(at_end.id_number is null, first_spell.post_level, at_end.post_level) as post_level,
    if(at_end.id_number is null, first_spell.post_category, at_end.post_category) as post_category,
    if(at_end.id_number is null, first_spell.sector, at_end.sector) as sector,
    if(at_end.id_number is null, first_spell.on_probation, at_end.on_probation) as on_probation
from cadre_period
asof left join post_history as at_end
    on cadre_period.id_number = at_end.id_number
    and cadre_period.period_end >= at_end.valid_from
left join first_spell on first_spell.id_number = cadre_period.id_number
where at_end.id_number is not null or first_spell.id_number is not null
