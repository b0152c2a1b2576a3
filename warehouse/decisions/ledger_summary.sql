-- decisions.ledger_summary: 定期盘点汇总. Per unit and half-year: flags raised, observed, confirmed, cleared, appealed, adjusted, restored, and the median days of each step ended there.
-- grain: org_name, half_year
-- Why: the 定期盘点 table (seed §5, rules.md §6) in one view analysts can query or pivot; the
-- report reads the same view, so the report and the warehouse never disagree.
-- column raised: Flags first raised (candidates and warnings) in the half-year.
-- column cleared: 不予认定 plus 申诉成立 (a flag that ends cleared).
-- column appealed: 提出申诉; appeal_granted of them were granted.
-- column median_days_verify: Median days from raising to the first decision, over verify steps ended in the half-year; likewise the other median_days_* columns.
with event as (
    select * from decisions.ledger_event
),

step as (
    select * from decisions.step_duration where not open
),

counts as (
    select org_name, half_year,
        count(*) filter (where event = 'raised') as raised,
        count(*) filter (where event = 'raised' and severity = 'candidate') as raised_candidates,
        count(*) filter (where event = 'raised' and severity = 'warning') as raised_warnings,
        count(*) filter (where event = 'observed') as observed,
        count(*) filter (where event = 'confirmed') as confirmed,
        count(*) filter (where event in ('cleared', 'appeal_granted')) as cleared,
        count(*) filter (where event = 'appealed') as appealed,
        count(*) filter (where event = 'appeal_granted') as appeal_granted,
        count(*) filter (where event = 'appeal_upheld') as appeal_upheld,
        count(*) filter (where event = 'adjusted') as adjusted,
        count(*) filter (where event = 'restored') as restored
    from event
    group by org_name, half_year
),

durations as (
    select org_name, half_year,
        median(days) filter (where step = 'verify') as median_days_verify,
        median(days) filter (where step = 'observation') as median_days_observation,
        median(days) filter (where step = 'adjustment') as median_days_adjustment,
        median(days) filter (where step = 'appeal') as median_days_appeal,
        median(days) filter (where step = 'restore') as median_days_restore
    from step
    group by org_name, half_year
)

select counts.*, durations.* exclude (org_name, half_year)
from counts
left join durations using (org_name, half_year)
order by half_year, org_name
