-- decisions.build_source: 画像构建记录. The as-of dates built so far (marts.build_run), newest last.
-- grain: as_of
-- Why: a review reads the build whose as-of date is nearest its period end; the only file naming marts.build_run.
with build_run as (
    select * from marts.build_run
)

select as_of, built_at, ruleset_version from build_run
