-- grain: id_number
-- id: S1
-- title: 处于处分或组织处理影响期内
-- severity: blocks_promotion
-- dimension: any
-- basis: 党政领导干部选拔任用工作条例 (2019) Art. 24 [V]; influence periods per rules.md §5 [V]
-- Why: during an influence period the cadre may not be promoted or rated 优秀; shown on the
-- profile, never a candidate by itself. Overlapping periods: the longest wins (blocks_until).
with influence as (
    select * from marts.influence_period
    where as_of = getvariable('as_of') and active
)

select
    id_number,
    min(decided_on) as flag_date,
    list(evidence_id order by decided_on, evidence_id) as evidence_ids,
    format('影响期至{}（{}）', max(blocks_until),
        string_agg(measure || if(derived, '，影响期按规定推算', ''), '；'
            order by decided_on, evidence_id)) as detail_zh
from influence
group by id_number
