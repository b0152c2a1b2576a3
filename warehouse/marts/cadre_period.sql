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
first_spell as (select id_number, valid_from as first_from from post_history where spell_no = 1),
spell_at_end as (
    select cadre_period.*, coalesce(post_history.valid_from, first_spell.first_from) as spell_from
    from cadre_period
    asof left join post_history
        on cadre_period.id_number = post_history.id_number
        and cadre_period.period_end >= post_history.valid_from
    left join first_spell on first_spell.id_number = cadre_period.id_number
)
select
    spell_at_end.* exclude (spell_from),
    spell.org_name, spell.post_title, spell.post_level, spell.post_category, spell.sector,
    spell.on_probation
from spell_at_end
join post_history as spell
    on spell.id_number = spell_at_end.id_number and spell.valid_from = spell_at_end.spell_from
