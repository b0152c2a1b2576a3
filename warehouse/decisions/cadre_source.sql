-- decisions.cadre_source: 干部基本信息来源. Sex and birth date of every cadre the roster has listed (core.cadre), for the disparity monitor's groups.
-- grain: id_number
-- Why: sex and age band are read from the roster (rules.md §6 定期盘点 asks how the mechanism
-- performs; the monitor compares groups); the only review file naming core.cadre's personal
-- attributes. A birth date the roster left empty is read from the 身份证号.
-- column gender: 性别 as the roster reports it (男/女), null when not reported.
-- column birth_date: 出生日期 from the roster, else from the 身份证号's digits 7-14.
with cadre as (
    select * from core.cadre
),

renamed as (
    select
        id_number,
        gender,
        coalesce(birth_date, try_strptime(substr(id_number, 7, 8), '%Y%m%d')::date)
            as birth_date
    from cadre
)

select * from renamed
