-- fairness.fairness_count: 分组结果计数. One row per grouping, group and outcome: cadres in scope and cadres with the outcome, for the review's build. The disparity monitor's counts; its statistics are computed from these rows (pipelines/review/fairness.py).
-- grain: group_by, group_value, outcome
-- Why: the counts are SQL, over the same definitions as the candidate list, so they reconcile
-- with it exactly; the rates, ratios and tests are computed in Python (scipy) from this table.
-- column group_by: unit, sex, age_band, post_level or evidence_source.
-- column group_value: The group: a 单位, 男/女, an age band, a 职务层次 or a source name.
-- column outcome: candidate, warning, or adjusted (only groups with a reviewed cadre).
-- column in_scope: Cadres in the group (for adjusted: those reviewed; for evidence_source: cadres the source reported on).
-- column with_outcome: Of those, cadres with the outcome.
with cadre as materialized (
    select * from fairness.fairness_cadre
),

member as materialized (
    select id_number, group_by, group_value, candidate, warning, reviewed, adjusted
    from (
        unpivot cadre
        on unit, sex, age_band, post_level
        into name group_by value group_value
    )
    union all
    -- a source's outcome: the cadre's, when a flag of that outcome cites the source
    select
        source.id_number, 'evidence_source', source.source,
        cadre.candidate and source.candidate_cited, cadre.warning and source.warning_cited,
        source.reviewed, source.adjusted
    from fairness.fairness_source as source
    join cadre using (id_number)
)

select group_by, group_value, 'candidate' as outcome, count(*) as in_scope,
    count(*) filter (where candidate) as with_outcome
from member
group by group_by, group_value
union all
select group_by, group_value, 'warning', count(*), count(*) filter (where warning)
from member
group by group_by, group_value
union all
select group_by, group_value, 'adjusted', count(*) filter (where reviewed),
    count(*) filter (where adjusted)
from member
group by group_by, group_value
having count(*) filter (where reviewed) > 0
