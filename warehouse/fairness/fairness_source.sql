-- fairness.fairness_source: 公平性监测口径（人×证据来源）. One row per cadre and evidence source that reported on them, with whether flags of each outcome cite it: the unit of the evidence-source grouping.
-- grain: id_number, source
-- Why: a cadre may have evidence, and flags, from several sources; counting each cadre once per
-- source lets every source's rate be read on its own: of the cadres a source reported on (a
-- counted negative item dated on or before the build's date, or evidence one of their flags
-- cites), how many are listed because of it (a flag of that outcome cites that source's
-- evidence). A cadre therefore counts in every source behind their flags: the groups overlap
-- and their counts do not add up to the number of cadres. Who is in scope and listed as what is
-- fairness.fairness_cadre's, which fairness.fairness_count joins once for both groupings (read
-- here as well, the whole population was computed twice per count).
-- column candidate_cited: One of the cadre's candidate flags cites this source (counts as a candidate outcome when the cadre is listed as 不适宜担任现职人选).
-- column warning_cited: One of the cadre's warning flags cites this source (counts when the cadre is listed with warnings only).
-- column reviewed: A flag citing this source has a recorded decision; adjusted: such a flag led to a 组织调整.
with build as (
    select getvariable('review_build')::date as as_of
),

origin as (
    select * from fairness.flag_origin where source is not null
),

counted as (
    select distinct evidence.id_number, evidence.source
    from decisions.evidence_source as evidence
    join build on evidence.fact_date <= build.as_of
    where evidence.status = 'counted'
),

exposed as (
    select id_number, source from counted
    union
    select id_number, source from origin
),

by_source as (
    select
        id_number,
        source,
        bool_or(severity = 'candidate') as candidate_cited,
        bool_or(severity = 'warning') as warning_cited,
        bool_or(reviewed) as reviewed,
        bool_or(adjusted) as adjusted
    from origin
    group by id_number, source
)

select
    exposed.id_number,
    exposed.source,
    coalesce(by_source.candidate_cited, false) as candidate_cited,
    coalesce(by_source.warning_cited, false) as warning_cited,
    coalesce(by_source.reviewed, false) as reviewed,
    coalesce(by_source.adjusted, false) as adjusted
from exposed
left join by_source using (id_number, source)
