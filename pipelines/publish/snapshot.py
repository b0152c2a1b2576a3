"""Publish: the analysts' pseudonymised snapshot and the supervisors' identified review
snapshot, each swapped in atomically after every build and every decision.

Why a separate file: DuckDB lets one process write and blocks every other process, readers too,
so readers read a snapshot file, never the warehouse. A snapshot is written beside the old
one under a temporary name and moved over it with ``os.replace`` (atomic on one file system):
a reader sees the old snapshot or the new one, never half of one, and keeps its open file.

Two access tiers (docs/access.md):
- ``published/cadre_snapshot.duckdb``, for analysts: no name, 身份证号, birth date, post title
  or any other attribute of the person except in ``core.cadre``, which holds a pseudonym, sex,
  age band, unit, sector and post level, coarsened so that every combination is shared by at
  least 5 cadres (``pipelines.publish.pseudonymise``). Free text is scrubbed of anything
  shaped like an ID, of every exact date that may be a birth date and of every name the
  rosters and facts use (``pipelines.publish.scrub``).
- ``review/cadre_review.duckdb``, for the organization department's supervisors: the same
  tables identified (names, 身份证号), in a folder only the owner may enter (0700), file 0600.

Why a keyed hash: 身份证号 are few enough to enumerate, so a plain hash of one is no
pseudonym. ``cadre_key`` is HMAC-SHA256 under a key from ``CADRE_PSEUDONYM_KEY`` or a key file
under the data folder's ``keys/``, never inside the snapshot.
"""

from __future__ import annotations

import fcntl
import hashlib
import hmac
import logging
import os
import secrets
import shutil
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, datetime
from pathlib import Path

import duckdb
import pandas as pd
from duckdb import sqltypes

from pipelines import settings
from pipelines.publish import carry
from pipelines.publish.column_notes import comment_for
from pipelines.publish.pseudonymise import QUASI_COLUMNS, coarsen_table
from pipelines.publish.scrub import (
    ID_MARK,
    ID_REPLACES,
    MIN_NAME_LENGTH,
    NameScrubber,
    date_replaces,
    last_birth_year,
)
from pipelines.review import decisions, fairness
from pipelines.settings import DataHome
from pipelines.warehouse import connect, duckdb_config, sql_literal, writer

log = logging.getLogger(__name__)

PUBLISHED_SCHEMAS = ("core", "marts", "ruleset")
# Decision log and the review views analysts query for 定期盘点 and 复检 (materialised here).
PUBLISHED_DECISION_OBJECTS = ("decisions.decision_log", "decisions.flag_state",
                              "decisions.ledger_event", "decisions.ledger_summary",
                              "decisions.step_duration", "followup.followup_case",
                              "followup.recheck", "followup.reappointment")
# Build tables of the published schemas that are the flag register's input, not a result:
# marts.flag_raised is marts.cadre_flag with evidence keys and names for the register, whose
# outcome is published as decisions.flag_state.
UNPUBLISHED_TABLES = ("marts.flag_raised",)
# Attributes of the person: never in the analysts' snapshot outside the coarsened core.cadre.
PERSON_COLUMNS = {"name", "known_names", "fact_name", "roster_name", "birth_date", "gender",
                  "org_name", "org_code", "post_title", "post_level", "post_category", "sector",
                  "appointed_on", "on_probation", "inspected_org"}
# Tables that are a person's attributes over time: left out of the analysts' snapshot.
ANALYST_EXCLUDED = {("core", "cadre_post_history")}
DIMENSION = ("core", "cadre")  # replaced by the coarsened dimension
DIMENSION_COMMENTS = {
    "cadre_key": None,  # KEY_COMMENT
    "age_band": "Age band in years on the snapshot's latest as-of date (e.g. 45-49, or 40-49 "
                "when coarsened); NULL = coarsened away (fewer than 5 cadres alike).",
    "gender": "Sex (男/女); NULL = coarsened away.",
    "post_level": "Post level (职务层次, e.g. 县处级副职), or only its tier (县处级) when "
                  "coarsened; NULL = coarsened away.",
    "org_name": "Unit (单位) in the latest roster; NULL = coarsened away.",
    "sector": "Sector (领域) in the latest roster; NULL = coarsened away.",
    "in_scope": "Listed in the newest roster snapshot.",
    "coarsened_step": "How far this cadre's attributes were coarsened so that at least 5 "
                      "cadres share them: 0 = not at all, 7 = all removed (see docs/access.md).",
}
# Columns holding codes or ids the pipeline made (or the rule set names); everything else
# VARCHAR is scrubbed. Not here: record keys, summaries, details, file names, evidence keys:
# they carry what units wrote.
CODE_COLUMNS = {"flag_id", "previous_flag_id", "decided_flag_id", "evidence_ids",
                "second_evidence_ids", "rule_ids", "below_threshold", "state", "state_zh",
                "event", "event_zh", "half_year", "step", "step_zh", "ruleset_profile",
                "post_level", "post_category", "sector", "period_kind", "period_label",
                "severity", "rule_id", "dimension", "status", "source", "category",
                "severity_level", "responsibility", "evidence_id", "submission_id",
                "ruleset_version", "base_source", "base_evidence_id", "measure", "unit",
                "gender", "grade", "conclusion", "disposal", "outcome", "rectification",
                "rating", "audit_type", "check_mode", "reason_category", "escalation",
                "rule_ref", "second_rule_id"}
# Flag ids (线索编号): the register's are the rule id and 8 hex of an unkeyed md5 over the
# 身份证号 and evidence keys, so anyone holding a flag's evidence keys can try IDs until the
# hash matches (an area code and a few birth years take seconds) and recover the ID. The
# analysts' snapshot gives each the rule id and a keyed pseudonym instead (``flag_key``),
# the same in every table, stable while the key is unchanged.
FLAG_ID_COLUMNS = {"flag_id", "previous_flag_id", "decided_flag_id", "lift_flag_id"}
# Record keys (a source's key values joined by |): the row's own 身份证号 is one of the values of
# every assessment's key, so each such cell needed all four ID and date passes of the scrub
# (core.fact.record_key was a third of the analysts' scrubbing). In these columns the row's
# own ID is replaced whole first, by a plain string replace, and the scrub then runs on what
# is left: the same text (the ID is a whole key value, standing alone), at the cost of one
# pass of the guard for most cells. Any other ID in the cell is still found by the scrub.
RECORD_KEY_COLUMNS = {"record_key", "evidence_keys", "new_evidence_keys"}
FLAG_KEY = "flag_key"  # the DuckDB macro a publish connection gets (_register_flag_key)
FLAG_KEY_NOTE = ("In this snapshot a keyed pseudonym of the 线索编号 (rule id, then 16 hex "
                 "digits), the same in every table, stable while the pseudonym key is "
                 "unchanged.")
SCRUB_NAMES = "scrub_names"  # the DuckDB function a publish connection gets (scrub.py)
SCRUB_TEXT = "scrub_text"  # the DuckDB macro every scrubbed cell goes through (_register_scrub)
KEY_COMMENT = ("Pseudonymous cadre key: HMAC-SHA256 of the 身份证号 under a key kept outside "
               "this snapshot. Stable across builds while the key is unchanged.")
DICTIONARY_NAME = "data_dictionary.md"


def pseudonym_key(home: DataHome) -> bytes:
    """The HMAC key: the setting, else the key file (created once, readable by owner only)."""
    configured = settings.get("CADRE_PSEUDONYM_KEY")
    if configured:
        return configured.encode("utf-8")
    path = home.keys / "pseudonym.key"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(f".{uuid.uuid4().hex}.tmp")
        tmp.write_text(secrets.token_hex(32), encoding="ascii")
        tmp.chmod(0o600)
        os.replace(tmp, path)
    return path.read_text(encoding="ascii").strip().encode("ascii")


def cadre_key(id_number: str, key: bytes) -> str:
    """The analysts' key for one 身份证号."""
    return "K" + hmac.new(key, id_number.encode("utf-8"), hashlib.sha256).hexdigest()[:20]


def _tables(con: duckdb.DuckDBPyConnection) -> list[tuple[str, str, str | None]]:
    return con.execute(
        "select schema_name, table_name, comment from duckdb_tables() "
        "where database_name = 'wh' and (schema_name in $schemas "
        "  or schema_name || '.' || table_name in $objects) "
        "  and schema_name || '.' || table_name not in $unpublished "
        "union all "
        "select schema_name, view_name, comment from duckdb_views() "
        "where database_name = 'wh' and schema_name || '.' || view_name in $objects "
        "order by all",
        {"schemas": list(PUBLISHED_SCHEMAS), "objects": list(PUBLISHED_DECISION_OBJECTS),
         "unpublished": list(UNPUBLISHED_TABLES)},
    ).fetchall()


Catalog = dict[tuple[str, str], list[tuple]]


def _catalog(con: duckdb.DuckDBPyConnection) -> Catalog:
    """(column, type, comment) of every warehouse table and view, by (schema, table): read
    once per snapshot (one ``duckdb_columns()`` query per table cost ~7 ms each)."""
    catalog: Catalog = {}
    for schema, table, name, data_type, comment in con.execute(
            "select schema_name, table_name, column_name, data_type, comment "
            "from duckdb_columns() where database_name = 'wh' "
            "order by schema_name, table_name, column_index").fetchall():
        catalog.setdefault((schema, table), []).append((name, data_type, comment))
    return catalog


def flag_key(flag_id: str, key: bytes) -> str:
    """The analysts' id for one flag id of the register: its rule id, then a keyed hash."""
    rule = flag_id.rsplit("-", 1)[0]
    digest = hmac.new(key, ("flag|" + flag_id).encode("utf-8"), hashlib.sha256).hexdigest()
    return f"{rule}-{digest[:16]}"


def _register_flag_key(con: duckdb.DuckDBPyConnection, key: bytes) -> None:
    """Give ``con`` the temporary macro ``flag_key(x)``: ``flag_key`` in SQL (``hmac_sql``, the
    pads literals because a macro takes no bound parameter; temporary, it lives in the publish
    connection only, never in a snapshot)."""
    ipad, opad = (f"unhex('{pad.hex()}')" for pad in _hmac_pads(key))
    digest = hmac_sql("'flag|' || x", ipad, opad)
    con.execute(f"create or replace temp macro {FLAG_KEY}(x) as "
                f"regexp_replace(x, '-[^-]*$', '') || '-' || left({digest}, 16)")


def _flag_key_map(con: duckdb.DuckDBPyConnection, tables: list[tuple[str, str, str | None]],
                  catalog: Catalog, source: str) -> None:
    """Temp table ``flag_key_map``: every flag id in a flag-id column of ``tables`` (read from
    ``source``) and its ``flag_key``, which the copies join (``_copy_table``).

    Why a map and not the macro in each copy: the same flag ids recur in the flag state, the
    ledger, the step durations and the observation periods, and each macro call is two
    SHA-256 and a regex (~0.25 s per table at 300k cadres); the map computes each id's key
    once. It holds every value those columns hold, so the join finds each one."""
    sources = [f"select {column[0]} as flag_id from {source}.{s}.{t}"
               for s, t, _ in tables for column in catalog[s, t]
               if column[0] in FLAG_ID_COLUMNS]
    ids = " union ".join(sources) if sources else "select null::varchar as flag_id"
    con.execute("create or replace temp table flag_key_map "
                "(flag_id varchar, flag_key varchar)")  # typed, as key_map
    con.execute(f"insert into flag_key_map select flag_id, {FLAG_KEY}(flag_id) "
                f"from ({ids}) where flag_id is not null")


def _hmac_pads(key: bytes) -> tuple[bytes, bytes]:
    """HMAC-SHA256's inner and outer padded keys (RFC 2104), for computing ``cadre_key`` in SQL."""
    block = hashlib.sha256(key).digest() if len(key) > 64 else key
    block = block.ljust(64, b"\0")
    return bytes(b ^ 0x36 for b in block), bytes(b ^ 0x5C for b in block)


def hmac_sql(expr: str, ipad: str = "$ipad", opad: str = "$opad") -> str:
    """SQL for HMAC-SHA256 of the text ``expr`` (hex), the pads (``_hmac_pads``) given as SQL
    (bound parameters by default): sha256(opad || sha256(ipad || text)), as ``hmac`` does."""
    return f"sha256({opad} || unhex(sha256({ipad} || encode({expr}))))"


def cadre_key_sql(expr: str) -> str:
    """SQL for ``cadre_key(expr, key)`` with the pads bound as ``$ipad`` and ``$opad``; the
    same string."""
    return f"'K' || left({hmac_sql(expr)}, 20)"


def _key_map(con: duckdb.DuckDBPyConnection, key: bytes,
             tables: list[tuple[str, str, str | None]], catalog: Catalog, source: str) -> None:
    """Temp table ``key_map``: every 身份证号 of the published tables and its ``cadre_key``;
    the tables are read from the attached database ``source`` (the warehouse, or the review
    snapshot just copied from it).

    Why in SQL: one Python HMAC per cadre, through a pandas frame, was ~1.5 s per 200k
    cadres; DuckDB's sha256 gives the same keys in a fraction of that."""
    sources = [f"select id_number from {source}.{s}.{t}" for s, t, _ in tables
               if any(c[0] == "id_number" for c in catalog[s, t])]
    ids = " union ".join(sources) if sources else "select null::varchar as id_number"
    ipad, opad = _hmac_pads(key)
    # typed, so an empty warehouse still gives cadre_key VARCHAR columns
    con.execute("create temp table key_map (id_number varchar, cadre_key varchar)")
    con.execute(f"insert into key_map select id_number, {cadre_key_sql('id_number')} "
                f"from ({ids}) where id_number <> ''", {"ipad": ipad, "opad": opad})


def scrub_sql(expr: str, names: bool, last_year: int) -> str:
    """Free text without anything shaped like an ID, any exact date of a year up to
    ``last_year`` or any known name: IDs first, as always (an ID holds a birth date, and the
    names are then searched in the text with IDs and dates already hidden), then dates, then
    names (``pipelines.publish.scrub``). ``expr`` is read three times: a column or a macro's
    parameter, not a computation.

    Why the ``regexp_matches`` first: each ``regexp_replace`` copies every cell, even one it
    leaves as it is, whereas a match only scans; most cells hold no ID and no old date, and
    skip the four passes (publish at 100k cadres: the four cost about what the one ID pass
    before them did). The test is exact: a second pass only finds what its first pass would
    have found in the text as it came."""
    dates = date_replaces(last_year)
    out = expr
    for pattern, replacement in ID_REPLACES + dates:
        out = (f"regexp_replace({out}, {sql_literal(pattern)}, {sql_literal(replacement)}, "
               "'g')")
    shaped = sql_literal(f"{ID_REPLACES[0][0]}|{dates[0][0]}")
    out = f"case when regexp_matches({expr}, {shaped}) then {out} else {expr} end"
    return f"{SCRUB_NAMES}({out})" if names else out


def _register_scrub(con: duckdb.DuckDBPyConnection, source: str, as_of: date) -> None:
    """Give ``con`` the temporary macro ``scrub_text(x)`` (``scrub_sql``) that every scrubbed
    column of the analysts' snapshot goes through, with the names of ``source`` and the last
    birth year of the snapshot's latest as-of date ``as_of`` (the date the age bands use).

    Why the last birth year is a literal in the macro and not a bound parameter: it shapes
    the date pattern itself (RE2 has no arithmetic: the years up to it are spelled out), a
    macro cannot hold a parameter, and a bound one would have to be given to each statement
    that copies a table, though DuckDB refuses one a statement does not use (a table with no
    text column). Declared here once per publish, every table gets the same cut-off; the
    pattern is a constant to DuckDB, compiled once per statement, not per row. It is an
    integer formatted by ``date_replaces``, never text from the data. A temporary macro
    lives in the publish connection only, never in a snapshot."""
    names = _register_scrubber(con, source)
    body = scrub_sql("x", names, last_birth_year(as_of))
    con.execute(f"create or replace temp macro {SCRUB_TEXT}(x) as {body}")


def _own_id_hidden(expr: str, column: str, has_id: bool) -> str:
    """``expr`` with the row's own 身份证号 replaced whole when ``column`` is a record key
    (``RECORD_KEY_COLUMNS``) of a table with one; else ``expr`` as it is."""
    if column not in RECORD_KEY_COLUMNS or not has_id:
        return expr
    return (f"if(coalesce(t.id_number, '') = '', {expr}, "
            f"replace({expr}, t.id_number, {sql_literal(ID_MARK)}))")


def _select_list(columns: list[tuple]) -> str:
    has_id = any(c[0] == "id_number" for c in columns)
    parts = []
    for name, data_type, _ in columns:
        if name in PERSON_COLUMNS:
            continue
        if name == "id_number":
            parts.append("key_map.cadre_key as cadre_key")
        elif name in FLAG_ID_COLUMNS:
            parts.append(f"{_flag_alias(name)}.flag_key as {name}")
        elif data_type == "VARCHAR" and name not in CODE_COLUMNS:
            parts.append(f"{SCRUB_TEXT}({_own_id_hidden(f't.{name}', name, has_id)}) as {name}")
        elif data_type == "VARCHAR[]" and name not in CODE_COLUMNS:
            parts.append(f"list_transform(t.{name}, lambda x: "
                         f"{SCRUB_TEXT}({_own_id_hidden('x', name, has_id)})) as {name}")
        else:
            parts.append(f"t.{name}")
    return ", ".join(parts)


def _flag_alias(column: str) -> str:
    """The alias of ``flag_key_map`` joined for one flag-id column of a copied table."""
    return f"key_of_{column}"


def _comment(con: duckdb.DuckDBPyConnection, target: str, text: str | None) -> None:
    text = comment_for(target.rsplit(".", 1)[1], text)
    if text:
        con.execute(f"comment on column {target} is {sql_literal(text)}")


def _copy_table(con: duckdb.DuckDBPyConnection, schema: str, table: str,
                comment: str | None, columns: list[tuple], source: str) -> None:
    """A published table (read from the attached database ``source``) into the analysts'
    snapshot, without attributes of the person."""
    joins = ["left join key_map on key_map.id_number = t.id_number"
             if any(c[0] == "id_number" for c in columns) else ""]
    joins += [f"left join flag_key_map as {_flag_alias(c[0])} "
              f"on {_flag_alias(c[0])}.flag_id = t.{c[0]}"
              for c in columns if c[0] in FLAG_ID_COLUMNS]
    con.execute(f"create schema if not exists snap.{schema}")
    con.execute(f"create table snap.{schema}.{table} as "
                f"select {_select_list(columns)} "
                f"from {source}.{schema}.{table} as t {' '.join(joins)}")
    con.execute(f"comment on table snap.{schema}.{table} is {sql_literal(comment or table)}")
    for name, _, text in columns:
        if name in PERSON_COLUMNS:
            continue
        target, text = ("cadre_key", KEY_COMMENT) if name == "id_number" else (name, text)
        if name in FLAG_ID_COLUMNS:
            text = f"{comment_for(name, text) or name} {FLAG_KEY_NOTE}"
        _comment(con, f"snap.{schema}.{table}.{target}", text)


def _names(con: duckdb.DuckDBPyConnection, source: str) -> list[str]:
    """Every name the rosters and facts use, of two characters or more (in no order:
    ``NameScrubber`` sorts them)."""
    return [r[0] for r in con.execute(f"""
        select distinct n from (
            select unnest(known_names) as n from {source}.core.cadre
            union all select name from {source}.core.cadre
            union all select fact_name from {source}.core.fact
        ) where length(n) >= {MIN_NAME_LENGTH}""").fetchall()]


def _register_scrubber(con: duckdb.DuckDBPyConnection, source: str = "wh") -> bool:
    """Give ``con`` the vectorised ``scrub_names`` function over every known name; False
    when there is no name to hide (an empty warehouse)."""
    scrubber = NameScrubber(_names(con, source))
    if not scrubber.names:
        return False
    con.create_function(SCRUB_NAMES, scrubber.scrub_arrow, [sqltypes.VARCHAR],
                        sqltypes.VARCHAR, type="arrow", side_effects=False)
    return True


def _ages_on(con: duckdb.DuckDBPyConnection, source: str) -> date:
    latest = con.execute(f"select max(as_of) from {source}.marts.build_run").fetchone()[0]
    return latest or date.today()


def _write_dimension(con: duckdb.DuckDBPyConnection, comment: str | None, source: str,
                     as_of: date) -> None:
    """core.cadre for analysts: pseudonym and coarsened attributes (>= K_MIN alike)."""
    con.execute("create or replace temp table dimension_source as select row_number() over () "
                "as rid, key_map.cadre_key, c.birth_date, c.gender, c.post_level, c.org_name, c.sector, c.in_scope "
                f"from {source}.core.cadre c join key_map using (id_number)")
    coarsen_table(con, "dimension_source", "dimension_coarse", as_of)
    con.execute("create schema if not exists snap.core")
    con.execute("create table snap.core.cadre (cadre_key varchar, age_band varchar, "
                "gender varchar, post_level varchar, org_name varchar, sector varchar, "
                "in_scope boolean, coarsened_step integer)")
    con.execute(f"insert into snap.core.cadre select d.cadre_key, "
                f"{', '.join('d.' + c for c in QUASI_COLUMNS)}, s.in_scope, d.coarsened_step "
                "from dimension_coarse d join dimension_source s using (rid) "
                "order by d.cadre_key")
    con.execute(f"comment on table snap.core.cadre is {sql_literal(ANALYST_DIMENSION_COMMENT)}")
    for name, text in DIMENSION_COMMENTS.items():
        _comment(con, f"snap.core.cadre.{name}", text or KEY_COMMENT)


ANALYST_DIMENSION_COMMENT = (
    "干部 (pseudonymised): one row per cadre with a pseudonym and coarse attributes only; every "
    "combination of age band, sex, post level, unit and sector is shared by at least 5 cadres "
    "(cadres who cannot be hidden among 5 are left out). Join other tables on cadre_key.")


DISPARITY_COLUMNS = (
    ("period", "VARCHAR", "Review period (half-year, e.g. 2025H2)."),
    ("build_as_of", "DATE", "As-of date of the build read: the latest one inside the period."),
    ("grouping", "VARCHAR", "unit (单位), sex (性别), age_band (<35/35-44/45-54/>=55 at the "
                            "period end), post_level (职务层次) or evidence_source."),
    ("group_value", "VARCHAR", "The group: a 单位, 男/女, an age band, a 职务层次 or a source "
                               "name. evidence_source groups overlap: a cadre counts once in "
                               "every source that reported on them."),
    ("outcome", "VARCHAR", "candidate (listed as 不适宜担任现职人选), warning (listed with "
                           "warnings only) or adjusted (组织调整, among cadres with a decision)."),
    ("in_scope", "INTEGER", "Cadres in the group (adjusted: those with a decision). NULL: "
                            "suppressed (see suppressed)."),
    ("with_outcome", "INTEGER", "Of those, cadres with the outcome. NULL: suppressed."),
    ("rate", "DOUBLE", "with_outcome / in_scope. NULL when suppressed."),
    ("impact_ratio", "DOUBLE", "rate / the lowest rate among groups with at least min_group "
                               "cadres (harmful outcome: above 1 = worse off). NULL: suppressed, "
                               "or unbounded (the lowest rate is 0 and this one is not)."),
    ("p_value", "DOUBLE", "One-sided Fisher exact test of the group against the rest of the "
                          "grouping, Holm-corrected within grouping and outcome. NULL: "
                          "suppressed, or not tested (group below min_group)."),
    ("status", "VARCHAR", "ok, breach (ratio past the threshold and p below alpha) or "
                          "insufficient (fewer than min_group cadres: never a breach)."),
    ("suppressed", "VARCHAR", "What was blanked so no cadre can be singled out: in_scope (the "
                              "whole row: fewer than publish_min_cell cadres), with_outcome "
                              "(fewer than publish_min_cell with, or without, the outcome), or "
                              "the same for a second cell so a blanked one cannot be recovered "
                              "from the totals; empty when nothing was."),
)


def write_disparity(con: duckdb.DuckDBPyConnection, table: pd.DataFrame,
                    database: str = "snap") -> None:
    """``fairness.disparity``: the disparity monitor's table per half-year, small cells blanked
    (thresholds in ruleset.yaml ``fairness:``). Kept apart from the copied tables: it is
    computed (pipelines.review.fairness), not copied, and holds no cadre-level row."""
    con.execute(f"create schema if not exists {database}.fairness")
    con.execute(f"create table {database}.fairness.disparity ("
                + ", ".join(f"{name} {dtype}" for name, dtype, _ in DISPARITY_COLUMNS) + ")")
    if len(table):
        frame = table[[c[0] for c in DISPARITY_COLUMNS]]  # noqa: F841 - read by DuckDB below
        con.execute(f"insert into {database}.fairness.disparity select * from frame")
    con.execute(f"comment on table {database}.fairness.disparity is " + sql_literal(
        "公平性监测 disparity table: per half-year, grouping, group and harmful outcome, cadres "
        "in scope and with the outcome, rate, impact ratio, Holm-corrected p-value and status "
        "(docs/reviews.md, 公平性监测). Aggregates only; counts under the publishing minimum "
        "are suppressed (NULL) so no cadre can be re-identified."))
    for name, _, text in DISPARITY_COLUMNS:
        con.execute(f"comment on column {database}.fairness.disparity.{name} is {sql_literal(text)}")


WHO_IS_FLAGGED_SQL = """\
-- Who is flagged on the latest build, and why: each flag with its rule, the rule's basis
-- (依据) and every piece of evidence behind it, with the cadre's coarse attributes.
select f.cadre_key, c.org_name, c.post_level, f.severity, f.rule_id, r.title_zh, r.basis,
       f.detail_zh, e.source, e.fact_date, e.summary_zh, e.status
from marts.cadre_flag as f
join ruleset.rule as r using (rule_id)
left join core.cadre as c using (cadre_key)
left join lateral (select unnest(f.evidence_ids) as evidence_id) as u on true
left join core.evidence as e on e.evidence_id = u.evidence_id
where f.as_of = (select max(as_of) from marts.build_run)
order by f.severity, f.rule_id, f.cadre_key, e.fact_date;
"""

DICTIONARY_INTRO = """\
The analysts' snapshot, `published/cadre_snapshot.duckdb`, table by table. Generated from the
snapshot's own `COMMENT ON` texts (which come from the SQL models' headers and the contracts) by
`cadre docs`; the same page is written beside every published snapshot. Who may read the
snapshot and what it leaves out: [access.md](access.md).

Every `cadre_key` is a pseudonym; no name, 身份证号 or birth date is stored. In free text an
ID reads `[身份证号已隐去]`, a date that may be a birth date `[日期已隐去]` and a name
`[姓名已隐去]`; later dates stay as written. Attributes of a person (sex, age band, unit,
sector, post level) are only in `core.cadre`, coarsened so that at least 5 cadres share each
combination: join on `cadre_key`. The 中文名 column gives the Chinese term units and officials
use; the meaning column is English.

Open it read-only while loads and builds run: `cadre sql` (a read-only shell: `make sql`), or
`duckdb.connect(path, read_only=True)` in Python, or `cadre export` to XLSX.

## Worked example: who is flagged, and why

```sql
{query}```

A flag (`marts.cadre_flag`) is one rule firing for one cadre on one as-of date; a cadre with at
least one `candidate` flag is on the candidate list (`marts.candidate`). `detail_zh` says what
the rule found; `evidence_ids` lead to `core.evidence`, whose `submission_id` and `source_row`
lead back to the unit's file and row. Profile scores (`marts.cadre_profile.score_*`) are after
deductions; the assessment's own scores are in `core.assessment`.
"""


def render_dictionary(snapshot: Path) -> str:
    """The data dictionary (Markdown) from the snapshot's COMMENT ON texts; deterministic: no
    dates, no row counts, so the committed copy in docs/ can be checked for freshness."""
    from pipelines.sqlmodels import column_terms_zh

    terms = column_terms_zh()
    # Chinese terms of the contracts hold for the tables copied from what units send (and
    # ORG's decision drops); elsewhere a same-named column may mean something else.
    termed = ("core.", "decisions.decision_log")
    con = connect(snapshot, read_only=True)  # memory and spill folder from the settings
    try:
        tables = con.execute("select schema_name, table_name, comment from duckdb_tables() "
                             "order by 1, 2").fetchall()
        lines = ["# Data dictionary: the analysts' snapshot", "",
                 "<!-- Generated by `cadre docs` from the snapshot's COMMENT ON texts; do not "
                 "edit by hand. -->", "", DICTIONARY_INTRO.format(query=WHO_IS_FLAGGED_SQL)]
        for schema, table, comment in tables:
            lines += [f"## {schema}.{table}", "", comment or "", "",
                      "| column | type | 中文名 | meaning |", "|---|---|---|---|"]
            for name, dtype, text in con.execute(
                    "select column_name, data_type, comment from duckdb_columns() where "
                    "schema_name = ? and table_name = ? order by column_index",
                    [schema, table]).fetchall():
                meaning = (text or "").replace("|", "/").replace("\n", " ")
                term = terms.get(name, "") if f"{schema}.{table}".startswith(termed) else ""
                lines.append(f"| {name} | {dtype} | {term} | {meaning} |")
            lines.append("")
    finally:
        con.close()
    return "\n".join(lines).rstrip() + "\n"


def write_dictionary(snapshot: Path, out: Path) -> Path:
    return _write_text(out, render_dictionary(snapshot))


def _write_text(out: Path, text: str) -> Path:
    tmp = out.with_suffix(f".{uuid.uuid4().hex}.tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, out)
    return out


def dictionary_for_docs() -> str:
    """The dictionary of an empty warehouse's snapshot (built and published in a temporary
    data folder): every table and column the snapshot can hold, from the code alone."""
    import tempfile

    from pipelines.build.steps import build

    with tempfile.TemporaryDirectory(prefix="cadre-dictionary-") as root:
        home = DataHome(Path(root)).ensure()
        build(home, date(2026, 6, 30))
        publish(home)
        return (home.published_dir / DICTIONARY_NAME).read_text(encoding="utf-8")


def publish(home: DataHome) -> Path:
    """Republish both snapshots from the warehouse (after a build or a decision); returns the
    analysts' snapshot path."""
    with _one_publish_at_a_time(home):
        with writer(home.warehouse_file) as warehouse_con:  # the review views exist, even if empty
            decisions.ensure(warehouse_con)
            disparity = fairness.published_table(warehouse_con)
        return _publish_snapshots(home, disparity)


@contextmanager
def _one_publish_at_a_time(home: DataHome) -> Iterator[None]:
    """Publishes in turn, never interleaved: two at once (a portal decision while `cadre build`
    publishes) could swap in one's analysts' file and the other's review file, and a later
    publish would carry over a file its state does not describe. Waits for the other one.
    The lock file sits in the review folder, which it creates owner-only (0700)."""
    folder = home.review_snapshot_dir
    folder.mkdir(parents=True, exist_ok=True)
    folder.chmod(0o700)
    with open(folder / ".publish.lock", "a", encoding="utf-8") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)  # released when the file is closed
        yield


REVIEW = "review"  # the review snapshot being written, as attached in the publish connection
# Computed by publish itself, beside the copied tables: written again on every publish.
REVIEW_COMPUTED = ("fairness.disparity",)
ANALYSTS_COMPUTED = ("fairness.disparity", "main.snapshot_info")


def _publish_snapshots(home: DataHome, disparity: pd.DataFrame) -> Path:
    """Both snapshots from one connection: first the identified review snapshot, a copy of the
    published tables and views; then the analysts' snapshot, read from that copy.

    Why from the copy and not again from the warehouse: the review views (flag_state, the
    ledger and follow-up views) are queries, and each read of the warehouse computes them
    again (for the key map, then for the analysts' copy); the review snapshot holds them
    computed once, with the very same rows. Each snapshot is written in a transaction of its
    own (DuckDB lets a transaction write one database), and both are swapped in only when
    both are complete: the analysts' snapshot first, then the review snapshot, as before.

    When the build tables are unchanged since the last publish (``carry``: after a decision),
    both files start as copies of the previous ones and only the decision objects, the
    disparity table and ``snapshot_info`` are written again: the same snapshots, in seconds
    instead of minutes at 1M cadres."""
    folder = home.review_snapshot_dir  # made owner-only by _one_publish_at_a_time
    review_tmp = folder / f".{home.review_snapshot_file.stem}.{uuid.uuid4().hex}.tmp"
    home.published_dir.mkdir(parents=True, exist_ok=True)
    analysts_tmp = home.published_dir / f".{home.published_file.stem}.{uuid.uuid4().hex}.tmp"
    key = pseudonym_key(home)
    con = duckdb.connect(config=duckdb_config(home.duckdb_temp))  # spills into the data folder
    try:
        con.execute(f"attach {sql_literal(str(home.warehouse_file))} as wh (read_only)")
        catalog = _catalog(con)
        tables = _tables(con)
        refreshed = [t for t in tables if f"{t[0]}.{t[1]}" in PUBLISHED_DECISION_OBJECTS]
        carried = [t for t in tables if t not in refreshed]
        current = carry.fingerprint(con, carried, catalog, key)
        carrying = carry.can_carry(home, current)
        if carrying:
            shutil.copyfile(home.review_snapshot_file, review_tmp)
            shutil.copyfile(home.published_file, analysts_tmp)
        written = refreshed if carrying else tables
        log.info("publishing %d of %d tables%s", len(written), len(tables),
                 f" ({len(carried)} build tables carried over unchanged)" if carrying else "")
        con.execute(f"attach {sql_literal(str(review_tmp))} as {REVIEW}")
        if carrying:
            _drop_rewritten(con, REVIEW, written, REVIEW_COMPUTED)
        _write_review(con, written, catalog, disparity)
        con.execute(f"attach {sql_literal(str(analysts_tmp))} as snap")
        if carrying:
            _drop_rewritten(con, "snap", written, ANALYSTS_COMPUTED)
        _write_analysts(con, written, catalog, key, disparity, source=REVIEW)
        con.execute("detach snap")
        con.execute(f"detach {REVIEW}")
        # read from the new file under its temporary name: an analyst's open connection to
        # the published path (a DuckDB instance keyed by path in this process) is left alone
        dictionary = render_dictionary(analysts_tmp)
    except BaseException:
        con.close()
        review_tmp.unlink(missing_ok=True)
        analysts_tmp.unlink(missing_ok=True)
        raise
    con.close()
    carry.forget(home)
    analysts_tmp.chmod(0o444)
    os.replace(analysts_tmp, home.published_file)
    _write_text(home.published_dir / DICTIONARY_NAME, dictionary)
    review_tmp.chmod(0o600)
    os.replace(review_tmp, home.review_snapshot_file)
    carry.remember(home, current)
    return home.published_file


def _drop_rewritten(con: duckdb.DuckDBPyConnection, database: str,
                    written: list[tuple[str, str, str | None]], extra: tuple[str, ...]) -> None:
    """In a snapshot copied from the previous one: drop what is about to be written again, and
    checkpoint so that the new tables reuse the freed blocks instead of growing the file."""
    for schema, table, _ in written:
        con.execute(f"drop table if exists {database}.{schema}.{table}")
    for name in extra:
        con.execute(f"drop table if exists {database}.{name}")
    con.execute(f"checkpoint {database}")


def _write_review(con: duckdb.DuckDBPyConnection, tables: list[tuple[str, str, str | None]],
                  catalog: Catalog, disparity: pd.DataFrame) -> None:
    """The identified review snapshot for the organization department's supervisors (attached
    as ``REVIEW``): the same objects as the analysts', with names and 身份证号; folder 0700,
    file 0600."""
    con.execute("begin transaction")
    for schema, table, comment in tables:
        target = f"{REVIEW}.{schema}.{table}"
        con.execute(f"create schema if not exists {REVIEW}.{schema}")
        con.execute(f"create table {target} as select * from wh.{schema}.{table}")
        con.execute(f"comment on table {target} is {sql_literal(comment or table)}")
        for name, _, text in catalog[schema, table]:
            _comment(con, f"{target}.{name}", text)
    write_disparity(con, disparity, REVIEW)
    con.execute("commit")


def _write_analysts(con: duckdb.DuckDBPyConnection, tables: list[tuple[str, str, str | None]],
                    catalog: Catalog, key: bytes, disparity: pd.DataFrame,
                    source: str) -> None:
    """The analysts' snapshot (attached as ``snap``): ``tables`` read from ``source``, the
    disparity table and ``snapshot_info``."""
    _key_map(con, key, tables, catalog, source)
    as_of = _ages_on(con, source)
    _register_scrub(con, source, as_of)
    _register_flag_key(con, key)
    _flag_key_map(con, tables, catalog, source)
    con.execute("begin transaction")
    for schema, table, comment in tables:
        if (schema, table) == DIMENSION:
            _write_dimension(con, comment, source, as_of)
        elif (schema, table) not in ANALYST_EXCLUDED:
            _copy_table(con, schema, table, comment, catalog[schema, table], source)
    write_disparity(con, disparity)
    con.execute("create table snap.main.snapshot_info as select $at::timestamp as "
                "published_at, (select list(distinct as_of order by as_of) from "
                f"{source}.marts.build_run) as as_of_dates", {"at": datetime.now()})
    con.execute("comment on table snap.main.snapshot_info is 'When this snapshot was "
                "published and which as-of dates it holds.'")
    for column in ("published_at", "as_of_dates"):
        _comment(con, f"snap.main.snapshot_info.{column}", None)
    con.execute("commit")
