"""Build: identity, evidence, profiles and flags as of a date, in one transaction.

Steps: the rule set's tables (``ruleset.*``) and variables (``as_of``, ``ruleset_version``);
then every model of ``warehouse/core``, ``warehouse/marts`` and the rule set's rule files, in
the order their reads give (``pipelines.sqlmodels``: core before the marts that read it, the
rules after the marts they read, R1 after ``marts.observation_period``, which reads the other
rules' hits; each model's grain checked); then the ``marts.build_run`` record.

Why one transaction: analysts and the decisions register must never see half a build; a
failure anywhere leaves the previous results. Why replace only the as-of date's rows: builds of
other dates are kept side by side, so "as of 30 June" can be compared with "as of today".
Determinism: same warehouse contents + same as-of date + same rule set = same rows (every
aggregate that lists things orders them; scores are decimals, so sums do not depend on order).
"""

from __future__ import annotations

import itertools
import logging
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

import duckdb
import pandas as pd

from pipelines import settings, sqlmodels
from pipelines.build import ruleset as rulesets
from pipelines.contracts import load_contract
from pipelines.settings import DataHome
from pipelines.sqlmodels import Model, comment, read_model, replace_as_of_rows
from pipelines.warehouse import sql_literal, transaction, writer

log = logging.getLogger(__name__)

RULESET_DOCS = {
    "version": "Rule set in force for the latest build: declared version, digest, file, and "
               "the jurisdiction profile applied (profile; 默认（rules.md） when none).",
    "profile_override": "Numbers the jurisdiction profile changes per post class, each with "
                        "its basis and tag; empty under rules.md's defaults.",
    "rule": "Enabled rules with the metadata of their SQL file headers.",
    "post_class_parameter": "Every rule/profile parameter resolved per post class "
                            "(职务层次 x 岗位类别 x 领域): defaults plus the most specific override.",
    "dimension": "The five dimensions 德能勤绩廉.",
    "dimension_weight": "Weights of the five dimensions in the overall score.",
    "dimension_map": "Which dimension(s) negative evidence lowers, per source and category.",
    "severity_map": "Severity (一般/较重/严重) of evidence whose source has none, per code.",
    "severity_points": "Points lost per severity level, before the responsibility weight.",
    "responsibility_weight": "Weight of 直接责任/领导责任 on points lost; 未注明 (blank) weighs "
                             "as 领导责任 (rules.md).",
    "grade_base": "Base score of every dimension when an assessment has a grade but no scores.",
    "influence": "影响期 months per measure (rules.md §5), used when 影响期截止 is empty; "
                 "end_date_required: never derived (留党察看: the unit must send the date).",
}
BUILD_RUN_COLUMNS = {
    "as_of": "As-of date built.", "ruleset_version": "Rule set label (version+digest).",
    "ruleset_declared_version": "version: as written in the rule set file.",
    "ruleset_digest": "sha256 over the rule set file and every rule SQL file.",
    "ruleset_path": "Rule set file used.",
    "ruleset_profile": "Jurisdiction profile applied (CADRE_RULESET_PROFILE), or 默认（rules.md）.",
    "built_at": "When the build ran (local time).",
    "last_submission_seq": "Newest submission (meta.submission.seq) the build could see.",
    "cadres": "Cadres ever in the roster.", "facts": "Fact rows from the six sources.",
    "unmatched_facts": "Facts whose ID is not in the roster (core.unmatched_fact).",
    "name_mismatches": "Facts whose name differs from the roster's (core.identity_name_mismatch).",
}
RULE_HIT_COLUMNS = {
    "rule_id": "Rule id (warehouse/rules/<id>_*.sql).",
    "severity": "candidate, warning or blocks_promotion, from the rule file's header.",
    "dimension": "Dimension(s) the rule speaks to, from the rule file's header.",
    "id_number": "身份证号 of the cadre.",
    "flag_date": "Date the condition arose (opens the 考察期 of a warning).",
    "evidence_ids": "Evidence rows (core.evidence) behind this hit.",
    "detail_zh": "What the rule found, in Chinese.",
}


@dataclass(frozen=True)
class BuildResult:
    as_of: date
    ruleset_version: str
    cadres: int
    candidates: int
    warnings: int
    unmatched_facts: int
    name_mismatches: int
    seconds: float
    ruleset_profile: str = rulesets.DEFAULT_PROFILE


def _frame(rows: list[dict]) -> pd.DataFrame:
    return pd.DataFrame(rows)


def install_ruleset(con: duckdb.DuckDBPyConnection, rs: rulesets.Ruleset) -> None:
    """Write the rule set as small ``ruleset.*`` tables the SQL joins to."""
    cfg = rs.config
    roster = load_contract("roster")
    classes = list(itertools.product(*(roster.field(f).codes for f in rulesets.CLASS_FIELDS)))
    persistent = set(cfg.get("persistent_warnings", []))
    tables = {
        "version": [{"version": rs.version, "digest": rs.digest, "label": rs.label,
                     "jurisdiction": rs.jurisdiction, "path": str(rs.path),
                     "profile": rs.profile_name,
                     "profile_title": rs.profile.title if rs.profile else "",
                     "profile_path": str(rs.profile.path) if rs.profile else ""}],
        "profile_override": [{"profile": rs.profile_name, "entry": i,
                              **{f"when_{k}": o.when.get(k) for k in rulesets.CLASS_FIELDS},
                              "parameter": o.dotted, "value": o.value,
                              "default_value": rs.params[o.parameter], "basis": o.basis,
                              "tags": ",".join(o.tags)}
                             for i, o in enumerate(rs.overrides)],
        "rule": [{"rule_id": r.id, "title_zh": r.title, "severity": r.severity,
                  "dimension": r.dimension, "basis": r.basis, "tags": ",".join(r.tags),
                  "file": r.path.name, "persistent_warning": r.id in persistent}
                 for r in rs.rules],
        "post_class_parameter": rulesets.class_parameters(rs, classes),
        "dimension": [{"dimension": d, "name_zh": zh} for d, zh in rulesets.DIMENSIONS.items()],
        "dimension_weight": [{d: rulesets.number(cfg["profile"]["weights"][d], "weights")
                              for d in rulesets.DIMENSIONS}],
        "dimension_map": [{"source": s, "category": c, "dimension": d}
                          for s, m in cfg["dimension_map"].items()
                          for c, dims in m.items() for d in dims],
        "severity_map": [{"source": s, "code": c, "severity_level": lvl}
                         for s, m in cfg["severity"].items() for c, lvl in m.items()],
        "severity_points": [{"severity_level": k, "points": v}
                            for k, v in cfg["profile"]["severity_points"].items()],
        "responsibility_weight": [{"responsibility": k, "weight": v}
                                  for k, v in rulesets.responsibility_weights(cfg).items()],
        "grade_base": [{"grade": k, "score": v} for k, v in cfg["profile"]["grade_base"].items()],
        "influence": [{"measure": m, "months": v.get("months", 0),
                       "end_date_required": bool(v.get("end_date_required", False)),
                       "no_leading_post_months": v.get("no_leading_post_months", 0)}
                      for m, v in cfg["influence_periods"].items()],
    }
    casts = {"severity_points": "points::decimal(9, 2) as points",
             "responsibility_weight": "weight::decimal(9, 2) as weight",
             "grade_base": "score::decimal(9, 2) as score"}
    con.execute("create schema if not exists ruleset")
    for name, rows in tables.items():
        if not rows and name == "profile_override":
            con.execute("create or replace table ruleset.profile_override (profile varchar, "
                        "entry integer, when_post_level varchar, when_post_category varchar, "
                        "when_sector varchar, parameter varchar, value double, "
                        "default_value double, basis varchar, tags varchar)")
            comment(con, f"ruleset.{name}", RULESET_DOCS[name], {})
            continue
        frame = _frame(rows)  # noqa: F841 - read by DuckDB below
        cast = casts.get(name)
        select = f"select * replace ({cast}) from frame" if cast else "select * from frame"
        con.execute(f"create or replace table ruleset.{name} as {select}")
        comment(con, f"ruleset.{name}", RULESET_DOCS[name], {})
    con.execute("set variable ruleset_version = ?", [rs.label])
    con.execute("set variable ruleset_profile = ?", [rs.profile_name])
    con.execute("set variable history_years = ?", [int(cfg["profile"]["history_years"])])
    con.execute("set variable assessment_years = ?", [int(cfg["assessment_years"])])
    # rules.md "Latest year": the oldest assessment year anything may read at date d (the rules
    # A1-A5 in temp.assessment_recent, the profile's base in marts.cadre_profile): the year just
    # before the assessment_years most recent calendar years ended by d, which A1-A5 reach only
    # over a 不定等次 year. Declared once here, so rules and profile cannot disagree on it.
    # (month and day, not strftime: the profile evaluates it for every cadre and period)
    con.execute("create or replace temp macro oldest_assessment_year(d) as "
                "year(d) - if(month(d) = 12 and day(d) = 31, 0, 1) "
                "- getvariable('assessment_years')::integer")
    con.execute("set variable base_without_assessment = ?::decimal(9, 2)",
                [cfg["profile"]["base_without_assessment"]])


def ensure_rule_hit(con: duckdb.DuckDBPyConnection) -> None:
    con.execute("create schema if not exists marts")
    con.execute("""create table if not exists marts.rule_hit (
        as_of date not null, ruleset_version varchar not null, rule_id varchar not null,
        severity varchar not null, dimension varchar not null, id_number varchar not null,
        flag_date date, evidence_ids varchar[] not null, detail_zh varchar,
        ruleset_profile varchar)""")
    # warehouses built before profiles existed: the column is added, older rows keep NULL
    con.execute("alter table marts.rule_hit add column if not exists ruleset_profile varchar")
    comment(con, "marts.rule_hit", "规则命中: one row per rule trigger at the as-of date, before "
            "grouping per cadre (marts.cadre_flag).",
            {"as_of": "As-of date of the build.", "ruleset_version": "Rule set label.",
             "ruleset_profile": "Jurisdiction profile applied, or 默认（rules.md）.",
             **RULE_HIT_COLUMNS})


def run_rule(con: duckdb.DuckDBPyConnection, rule: rulesets.RuleSpec) -> int:
    """Insert one rule's hits; its SELECT returns id_number, flag_date, evidence_ids, detail_zh."""
    query = f"""
        select getvariable('as_of')::date as as_of, getvariable('ruleset_version') as ruleset_version,
               getvariable('ruleset_profile') as ruleset_profile, $rule_id as rule_id,
               $severity as severity, $dimension as dimension,
               id_number, flag_date, evidence_ids, detail_zh
        from (
{rule.sql}
        )"""
    params = {"rule_id": rule.id, "severity": rule.severity, "dimension": rule.dimension}
    try:
        con.execute(f"insert into marts.rule_hit by name {query}", params)
    except duckdb.Error as exc:
        raise RuntimeError(f"rule {rule.path.name} failed: {exc}") from exc
    return con.execute("select count(*) from marts.rule_hit where as_of = getvariable('as_of') "
                       "and rule_id = ?", [rule.id]).fetchone()[0]


def build_models(rs: rulesets.Ruleset) -> list[Model]:
    """The build's models in run order: core and marts, plus the rule set's enabled rules."""
    models = sqlmodels.discover(("core", "marts"))
    return sqlmodels.order(models + [read_model(rule.path) for rule in rs.rules])


def _record_run(con: duckdb.DuckDBPyConnection, rs: rulesets.Ruleset, started: datetime) -> None:
    query = f"""
        select getvariable('as_of')::date as as_of, {sql_literal(rs.label)} as ruleset_version,
            {sql_literal(rs.version)} as ruleset_declared_version,
            {sql_literal(rs.digest)} as ruleset_digest,
            {sql_literal(rs.profile_name)} as ruleset_profile,
            {sql_literal(str(rs.path))} as ruleset_path,
            {sql_literal(started.isoformat())}::timestamp as built_at,
            (select max(seq) from meta.submission) as last_submission_seq,
            (select count(*) from core.cadre) as cadres,
            (select count(*) from core.fact) as facts,
            (select count(*) from core.unmatched_fact) as unmatched_facts,
            (select count(*) from core.identity_name_mismatch) as name_mismatches"""
    replace_as_of_rows(con, "marts.build_run", query)
    comment(con, "marts.build_run", "One row per as-of date built: when, with which rule set "
            "and which inputs (last submission seq).", BUILD_RUN_COLUMNS)


def build_in(con: duckdb.DuckDBPyConnection, as_of: date, rs: rulesets.Ruleset) -> None:
    """Every step of the build on an open connection, inside the caller's transaction."""
    started = datetime.now()  # microseconds: two builds in one second must still be ordered
    con.execute("set variable as_of = ?::date", [as_of])
    install_ruleset(con, rs)
    con.execute("create schema if not exists core")
    con.execute("create schema if not exists marts")
    # Observation periods read people's decisions (rules.md, "People's decisions bind the
    # engine"): the decisions tables must exist, even before anyone decided anything. The DDL
    # is idempotent and never touches a row; the review layer runs the same file.
    con.execute(sqlmodels.DECISIONS_SCHEMA.read_text(encoding="utf-8"))
    for view in sqlmodels.BUILD_DECISION_VIEWS:
        sqlmodels.create_view(con, sqlmodels.read_model(view))
    ensure_rule_hit(con)
    con.execute("delete from marts.rule_hit where as_of = getvariable('as_of')")
    rules = {f"rules.{rule.id}": rule for rule in rs.rules}

    def insert_hits(con: duckdb.DuckDBPyConnection, model: Model) -> None:
        run_rule(con, rules[model.key])

    models = build_models(rs)
    sqlmodels.run(con, models, {"rule": insert_hits})
    _record_run(con, rs, started)
    fill_earlier_dates(con)
    for model in models:
        if model.kind == "temp":  # helpers of this build only
            con.execute(f"drop table if exists temp.{model.relation}")


# As-of models computed only from other marts rows of their own date (and the append-only
# staging history), never from core: a date built before such a model existed can be filled
# from what that date's build left, and gives the rows its own build would have given.
DERIVED_AS_OF = (sqlmodels.SQL_DIR / "marts" / "flag_raised.sql",)


def fill_earlier_dates(con: duckdb.DuckDBPyConnection) -> list[date]:
    """Fill ``DERIVED_AS_OF`` tables for every built date they lack (a warehouse built before
    they existed: without its earlier dates the flag register, the disparity trend and the
    reports over earlier builds would see no flags); returns the dates filled. Each date is
    run with that build's own rule set label and profile (``marts.build_run``). Restores the
    connection's ``as_of`` and rule-set variables. Called by the build and by the review layer
    when it upgrades a warehouse (``pipelines.review.sql.ensure``)."""
    if None in (sqlmodels.table_columns(con, "marts.build_run"),
                sqlmodels.table_columns(con, "marts.cadre_flag")):
        return []
    saved = con.execute("select getvariable('as_of'), getvariable('ruleset_version'), "
                        "getvariable('ruleset_profile')").fetchone()
    filled: list[date] = []
    try:
        for path in DERIVED_AS_OF:
            model = read_model(path)
            have = ("select distinct as_of from " + model.table
                    if sqlmodels.table_columns(con, model.table) else
                    "select null::date as as_of where false")
            # dates whose build raised flags (a date without any is not recomputed each time)
            missing = con.execute(
                "select as_of, ruleset_version, ruleset_profile from marts.build_run "
                "where as_of in (select as_of from marts.cadre_flag) "
                f"and as_of not in ({have}) order by as_of").fetchall()
            for as_of, label, profile in missing:
                con.execute("set variable as_of = ?::date", [as_of])
                con.execute("set variable ruleset_version = ?", [label])
                con.execute("set variable ruleset_profile = ?", [profile])
                sqlmodels.materialise(con, model)
                filled.append(as_of)
    finally:
        for name, value in zip(("as_of", "ruleset_version", "ruleset_profile"), saved, strict=True):
            con.execute(f"set variable {name} = ?", [value])
    if filled:
        log.info("filled %s for earlier as-of dates %s", ", ".join(
            read_model(p).key for p in DERIVED_AS_OF), filled)
    return filled


def summarise(con: duckdb.DuckDBPyConnection, as_of: date, label: str,
              seconds: float, profile: str = rulesets.DEFAULT_PROFILE) -> BuildResult:
    counts = con.execute("""
        select (select count(*) from core.cadre where in_scope),
               (select count(*) from marts.candidate where as_of = $d and severity = 'candidate'),
               (select count(*) from marts.candidate where as_of = $d and severity = 'warning'),
               (select count(*) from core.unmatched_fact),
               (select count(*) from core.identity_name_mismatch)""", {"d": as_of}).fetchone()
    return BuildResult(as_of, label, *counts, seconds=round(seconds, 2), ruleset_profile=profile)


def build(home: DataHome, as_of: date | None = None,
          ruleset_path: Path | None = None, profile: str | None = None) -> BuildResult:
    """Build profiles and flags as of ``as_of`` into the warehouse, with the rule set and
    jurisdiction profile given (default: the settings).

    The default date (for a hand-run ``cadre build``) is today in the deployment time zone; a
    DAG always passes its run's date, so a retry after midnight builds the same date."""
    rs = rulesets.load(ruleset_path, profile)
    as_of = as_of or settings.today()
    started = datetime.now()
    with writer(home.warehouse_file) as con:
        with transaction(con):
            build_in(con, as_of, rs)
        result = summarise(con, as_of, rs.label, (datetime.now() - started).total_seconds(),
                           rs.profile_name)
    log.info("build as of %s with %s: %s", as_of, rs.label, result)
    return result
