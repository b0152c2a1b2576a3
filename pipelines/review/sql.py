"""The review layer's SQL: the ``decisions`` tables and the views over flags, decisions and
follow-up (``warehouse/decisions/*.sql``, ``warehouse/followup/*.sql``, read and ordered by
the one model runner, ``pipelines.sqlmodels``).

Why views, created on every use: a rebuild replaces the marts underneath; a view rebinds to
whatever the latest build wrote, so nothing here is ever stale and nothing needs rebuilding.
Why adapters: the review layer reads the build through a few ``*_source`` views (one file
each). They are the only files that name the build's tables; when the build is not there yet
(a fresh warehouse), an empty stand-in with the same columns is created instead, so reports
and DAGs still run and say "no build yet" rather than fail.

Review parameters (observation and re-check months, the 优秀 quota) are read from the rule
set's YAML when present (``review:`` section, R1.observation_months), else the defaults of
rules.md.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import duckdb

from pipelines import sqlmodels
from pipelines.build import steps as build_steps
from pipelines.sqlmodels import Model
from pipelines.warehouse import apply_if_changed, sql_literal

SCHEMA_FILE = sqlmodels.DECISIONS_SCHEMA
# Empty stand-ins for the adapters when the build's tables do not exist yet.
STANDINS: dict[str, str] = {
    "flag_raised": "null::date as as_of, null::varchar as id_number, "
                   "null::varchar as rule_id, null::varchar as severity, null::date as opened_on, "
                   "null::date as observation_ends_on, null::varchar as observation_status, "
                   "null::varchar as name, null::varchar as org_name, null::varchar as post_title, "
                   "null::varchar as rule_title_zh, null::varchar as detail_zh, "
                   "null::varchar[] as evidence_ids, null::varchar[] as evidence_keys, "
                   "null::varchar as ruleset_label, "
                   "null::boolean as in_scope",
    "profile_source": "null::date as as_of, null::varchar as id_number, "
                      "null::varchar as period_kind, null::varchar as period_label, "
                      "null::date as period_end, null::varchar as name, null::varchar as org_name, "
                      "null::varchar as post_title, null::varchar as post_level, "
                      "null::varchar as post_category, "
                      + ", ".join(f"null::double as score_{d}, null::double as threshold_{d}"
                                  for d in ("virtue", "ability", "diligence", "performance",
                                            "integrity", "overall"))
                      + ", null::varchar[] as below_threshold, null::boolean as in_scope",
    "influence_source": "null::date as as_of, null::varchar as id_number, "
                        "null::varchar as measure, null::varchar as decision_no, "
                        "null::date as decided_on, null::date as effect_until, "
                        "null::date as no_leading_post_until, null::varchar as evidence_id, "
                        "null::varchar as evidence_key, null::date as lifted_on, "
                        "null::varchar as lifted_by",
    "assessment_source": "null::varchar as id_number, null::integer as year, "
                         "null::varchar as grade, null::varchar as org_name, "
                         "null::varchar as name, null::varchar as evidence_id",
    "evidence_source": "null::varchar as evidence_id, null::varchar as source, "
                       "null::varchar as id_number, null::date as fact_date, "
                       "null::varchar as category, null::varchar as severity_level, "
                       "null::varchar as status, null::varchar as status_basis, "
                       "null::varchar as summary_zh, null::varchar as unit, "
                       "null::varchar as filename, null::integer as source_row",
    "build_source": "null::date as as_of, null::timestamp as built_at, "
                    "null::varchar as ruleset_version",
    "cadre_source": "null::varchar as id_number, null::varchar as gender, "
                    "null::date as birth_date",
    "evidence_batch_source": "null::varchar as evidence_id, null::varchar as batch_zh",
}


# 调整方式 of a decision -> the measure of rules.md §5 whose influence period it opens.
ADJUSTMENT_MEASURE = {"调离岗位": "调整职务", "改任职级": "调整职务", "免职": "免职", "降职": "降职"}
REVIEW_KEYS = ("recheck_months", "excellent_quota", "excellent_quota_approved")


@dataclass(frozen=True)
class ReviewParams:
    observation_months: int
    recheck_months: int
    excellent_quota: float
    excellent_quota_approved: float
    # 调整方式 -> (influence months, no-leading-post months)
    adjustment_influence: tuple[tuple[str, int, int], ...]


def params() -> ReviewParams:
    """Review parameters, read from the rule set only (``review:``, R1, ``influence_periods``):
    every number is declared once, in ``ruleset.yaml``."""
    from pipelines.build import ruleset

    config = ruleset.load().config  # a broken rule set must fail loudly, not fall back
    review = config.get("review") or {}
    missing = [k for k in REVIEW_KEYS if k not in review]
    if missing:
        raise ruleset.RulesetError(f"ruleset.yaml: review: is missing {missing}")
    periods = config["influence_periods"]
    influence = tuple(
        # no_leading_post_months is only declared where the measure has such a bar
        (m, int(periods[t]["months"]), int(periods[t].get("no_leading_post_months", 0)))
        for m, t in ADJUSTMENT_MEASURE.items())
    return ReviewParams(
        adjustment_influence=influence,
        observation_months=int(config["rules"]["R1"]["observation_months"]),
        recheck_months=int(review["recheck_months"]),
        excellent_quota=float(review["excellent_quota"]),
        excellent_quota_approved=float(review["excellent_quota_approved"]),
    )


def observation_months() -> int:
    return params().observation_months


def views() -> list[Model]:
    """The decisions and followup views, in the order their reads give."""
    return sqlmodels.discover(sqlmodels.VIEW_FOLDERS)


def create_view(con: duckdb.DuckDBPyConnection, model: Model) -> None:
    """One view with its comments; an adapter over a build not there yet becomes its stand-in."""
    try:
        sqlmodels.create_view(con, model)
    except duckdb.CatalogException:
        if model.name not in STANDINS:
            raise
        con.execute(f"create or replace view {model.relation} as select {STANDINS[model.name]} "
                    "where false")
        sqlmodels.comment(con, model.relation, "（尚无画像构建结果：空视图）" + model.description,
                          model.columns, "view", fallback=False)


def ensure(con: duckdb.DuckDBPyConnection) -> None:
    """Create the decisions tables and (re)create every view; adapters fall back to stand-ins.

    Skipped (one cheap query) when nothing the views depend on changed since the last run: the
    DDL costs ~150 ms, and every decision and report would otherwise pay it. What they depend
    on: their SQL, the review parameters and which of the build's tables exist (an adapter is
    a stand-in until they do)."""
    rows = ", ".join(f"({sql_literal(m)}, {months}, {no_leading})"
                     for m, months, no_leading in params().adjustment_influence)
    present = con.execute("select string_agg(schema_name || '.' || table_name, ',' order by all) "
                          "from duckdb_tables() where schema_name in ('core', 'marts', 'ruleset') "
                          "and database_name = current_database()").fetchone()[0]
    models = views()

    def apply() -> None:
        con.execute(SCHEMA_FILE.read_text(encoding="utf-8"))
        con.execute("create schema if not exists followup")
        con.execute("create schema if not exists fairness")
        con.execute("create or replace table decisions.adjustment_influence as select * from "
                    f"(values {rows}) as t(measure, months, no_leading_post_months)")
        con.execute("comment on table decisions.adjustment_influence is '组织调整的影响期: "
                    "months per 调整方式, from the rule set''s influence_periods (refreshed when "
                    "the rule set changes).'")
        _upgrade_observation_period(con)
        build_steps.fill_earlier_dates(con)  # a warehouse built before marts.flag_raised
        sqlmodels.run(con, models, {"view": create_view})

    fingerprint = sqlmodels.fingerprint(models, SCHEMA_FILE.read_text(encoding="utf-8"),
                                        f"{rows}|{present}")
    apply_if_changed(con, "decisions.schema_version", fingerprint, apply)


def _upgrade_observation_period(con: duckdb.DuckDBPyConnection) -> None:
    """A warehouse built before ``marts.observation_period.raised_on`` existed gets the column
    now, so the views that read it (decisions.flag_raised) bind before the next build: a
    decision taken between an upgrade and that build would otherwise fail. Until then opened_on
    always was the warning's own flag date, so the old rows' raised_on is their opened_on. The
    column is the table's last, where the model puts it, so the next build keeps the rows of
    other as-of dates (``sqlmodels.replace_as_of_rows``)."""
    columns = sqlmodels.table_columns(con, "marts.observation_period")
    if columns and "raised_on" not in columns:
        con.execute("alter table marts.observation_period add column raised_on date")
        con.execute("update marts.observation_period set raised_on = opened_on")


def set_context(con: duckdb.DuckDBPyConnection, as_of: date, build: date | None = None) -> None:
    """Variables the views read: the review date, the build to read, the review parameters."""
    p = params()
    con.execute("set variable review_as_of = ?::date", [as_of])
    con.execute("set variable review_build = ?::date", [build])
    con.execute("set variable recheck_months = ?", [p.recheck_months])
    con.execute("set variable observation_months = ?", [p.observation_months])


def query(con: duckdb.DuckDBPyConnection, sql: str, params: dict[str, object]):  # noqa: ANN201
    """``sql`` as a DataFrame with those of ``params`` it names ($name): DuckDB refuses
    unused named parameters, and one dict of the review's values serves every query."""
    return con.execute(sql, {k: v for k, v in params.items() if f"${k}" in sql}).df()
