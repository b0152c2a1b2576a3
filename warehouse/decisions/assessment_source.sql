-- decisions.assessment_source: 年度考核来源. Graded annual assessments (core.assessment) with the unit held at year end.
-- grain: evidence_id
-- Why: the 优秀 quota is checked per unit and year, and re-checks read grades given after an
-- adjustment; the only file naming core.assessment.
-- column org_name: 单位 held on 31 Dec of the assessment year.
with assessment as (
    select * from core.assessment
),

cadre as (
    select id_number, name from core.cadre
),

renamed as (
    select assessment.id_number, assessment.year, assessment.grade, assessment.org_name,
        cadre.name, assessment.evidence_id
    from assessment
    left join cadre using (id_number)
)

select * from renamed
