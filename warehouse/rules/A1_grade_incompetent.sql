-- grain: id_number
-- id: A1
-- title: 最近一次年度考核等次为不称职
-- severity: candidate
-- dimension: performance
-- basis: 推进领导干部能上能下规定 (2022) item 14 [S]; 公务员法 Art. 50 [V]
-- Why: the latest graded year decides, read in temp.assessment_recent (only the two most recent
-- calendar years ended by the as-of date; a 不定等次 year is not a grade and is skipped).
with recent as (
    select * from temp.assessment_recent where slot is not null
),

latest as (
    select * from recent
    qualify row_number() over (partition by id_number order by year desc) = 1
)

select
    id_number,
    fact_date as flag_date,
    [evidence_id] as evidence_ids,
    format('{}年度考核等次为不称职', year) as detail_zh
from latest
where grade = '不称职'
