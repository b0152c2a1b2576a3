-- temp.assessment_recent: The assessment years rules A1-A5 may read at the as-of date, the graded ones numbered from the latest (slot; NULL for 不定等次), with probation as the roster stood on the as-of date.
-- grain: evidence_id
-- Why: rules.md "Latest year": A1-A5 read only assessment years at or before the as-of date and
-- only the assessment_years (2) most recent calendar years that have ended by then (a 2021-2022
-- record makes no candidate in 2026). A 不定等次 year neither counts nor breaks a run: it takes
-- no slot, so the window reaches one year further back for each. A year with no record at all
-- takes its slot (it is a gap). The reach-back stops one year before the window
-- (oldest_assessment_year): with 2023-2025 all 不定等次, a 2022 不称职 is no A1 in 2026, as
-- rules.md's own example requires (the kindest reading that keeps "nor breaks a run").
-- "The latest year" is slot 1 when present, else slot 2; A3-A5 read that year's votes only,
-- never an older year's, and for A4/A5 a later 不定等次 year with its own 民主测评 (its row is
-- here, with no slot) is newer votes: the graded year before it is then not read. A5 reads
-- probation as the roster stood on
-- the as-of date: the cadre's row in the newest roster snapshot received on or before it, or,
-- for data sent after the fact (nothing received by then), the earliest snapshot received;
-- appointed_on_as_of is that row's 任现职时间 (the post the probation is for).
with bounds as (
    select
        getvariable('as_of')::date as as_of,
        -- the last calendar year that has ended by the as-of date
        year(getvariable('as_of')::date)
            - if(strftime(getvariable('as_of')::date, '%m-%d') = '12-31', 0, 1) as last_year,
        getvariable('assessment_years')::integer as years
),

-- read three times below: not materialized, so each reader scans core.assessment for the columns
-- it needs instead of DuckDB first copying every column of every row into a CTE buffer
assessment as not materialized (
    select core_assessment.*, bounds.last_year, bounds.years
    from core.assessment as core_assessment
    cross join bounds
    where core_assessment.year <= bounds.last_year
        and core_assessment.year >= oldest_assessment_year(bounds.as_of)
),

undetermined as (
    select id_number, year from assessment where grade = '不定等次'
),

-- 不定等次 years after each graded year: an inner join on the few 不定等次 rows, so the
-- aggregate runs over those pairs only, not over every graded row
later_undetermined as (
    select assessment.evidence_id, count(*) as years_skipped
    from assessment
    join undetermined
        on undetermined.id_number = assessment.id_number and undetermined.year > assessment.year
    where assessment.grade <> '不定等次'
    group by assessment.evidence_id
),

graded as (
    select
        assessment.*,
        assessment.last_year - assessment.year + 1
            - coalesce(later_undetermined.years_skipped, 0) as slot
    from assessment
    left join later_undetermined using (evidence_id)
    where assessment.grade <> '不定等次'
),

roster_then as (
    select
        id_number,
        coalesce(on_probation, false) as on_probation_as_of,
        appointed_on as appointed_on_as_of
    from staging.roster_history
    qualify row_number() over (
        partition by id_number
        order by received_at::date <= getvariable('as_of')::date desc,
            if(received_at::date <= getvariable('as_of')::date, submission_seq, -submission_seq) desc,
            source_row desc
    ) = 1
),

recent as (
    select graded.* exclude (last_year, years) from graded where graded.slot <= graded.years
    -- a 不定等次 year inside the reach-back: no slot (A1-A3 skip it); A4/A5 see its votes
    union all by name
    select assessment.* exclude (last_year, years), null::bigint as slot
    from assessment where assessment.grade = '不定等次'
)

select
    recent.* exclude (slot),
    recent.slot,
    coalesce(roster_then.on_probation_as_of, false) as on_probation_as_of,
    roster_then.appointed_on_as_of
from recent
left join roster_then using (id_number)
