"""The one SQL-model runner: every model file under ``warehouse/`` is read, ordered and run here.

A model is one SELECT in one file (core, marts, rules, decisions, followup). Its header says
what it is, in ``-- key: value`` lines at the top::

    -- core.cadre: 干部. One row per 身份证号 ...          (line 1: the relation it writes)
    -- grain: id_number                                  (the key that must be unique)
    -- depends: core.fact, marts.x                       (optional: what it reads)
    -- Why: ...
    -- column id_number: 身份证号 (normalised), the identity key.

A rule file (``warehouse/rules/<id>_*.sql``) starts with ``-- id:`` instead (see
``pipelines.build.ruleset``); it adds its hits to ``marts.rule_hit``.

Why the header and not a separate YAML: the description sits beside the SQL it describes, so
the two change together, and the same text becomes ``COMMENT ON`` in the warehouse and in the
analysts' snapshot (and from there the data dictionary page).

Order: a model runs after every model that writes a relation it reads. What it reads is its
``-- depends:`` line if it has one, else every ``schema.name`` its SQL mentions (comments and
string literals left out). Relations no model writes (``raw``, ``staging``, ``meta``,
``ruleset``, tables the code creates) are inputs. ``marts.rule_hit`` is written by every rule:
a reader of it runs after every rule that does not itself read the reader (R1 reads
``marts.observation_period``, which reads the other rules' hits). Nobody keeps a list.

Materialisation depends on the kind of model:
- ``core``: replaced whole on every build (as-of independent: identity, facts, evidence);
- ``temp``: a connection-local helper table for this build only;
- ``marts``: per as-of results; the rows of the build's as-of date are replaced, rows of
  other dates stay, and ``as_of`` and ``ruleset_version`` columns are added in front;
- ``rule``: its hits are inserted into ``marts.rule_hit`` (``pipelines.build`` does it: it
  knows the rule's metadata);
- ``view`` (decisions, followup): ``create or replace view`` (``pipelines.review`` does it: it
  knows the stand-ins for a warehouse not built yet).

Grain: every model declares the columns that identify a row. After a table model runs, the
runner checks that no key repeats (for marts and rules within the build's as-of date); a
repeat fails the build, naming the model and an example key, and the transaction leaves the
warehouse as it was.
"""

from __future__ import annotations

import hashlib
import logging
import re
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

import duckdb

from pipelines.contracts import all_contracts
from pipelines.warehouse import SQL_DIR, sql_literal

log = logging.getLogger(__name__)

MART_COLUMNS = {
    "as_of": "As-of date of the build that produced the row (evidence dated on or before it).",
    "ruleset_version": "Rule set that produced the row: declared version + content digest.",
    "ruleset_profile": "Jurisdiction profile applied (CADRE_RULESET_PROFILE), or 默认（rules.md）.",
}
# Columns that recur across models, documented once; contract fields fall back to their header.
COMMON_COLUMNS = {
    "evidence_id": "Stable id of the fact: source:submission_id:source_row.",
    "source": "Source (contract name) of the fact.",
    "id_number": "身份证号 (normalised), the identity key.",
    "name": "姓名 as in the roster.",
    "fact_date": "Business date of the fact (the as-of filter compares it).",
    "submission_id": "Submission (meta.submission) the row came from.",
    "source_row": "Row number in the submitted file, as the unit sees it.",
    "filename": "File the row came in.",
    "org_name": "单位 held on the row's date.",
    "post_title": "职务 held on the row's date.",
    "post_level": "职务层次 held on the row's date.",
    "post_category": "岗位类别 held on the row's date.",
    "sector": "领域 held on the row's date.",
    "period_kind": "as_of, half_year or year.",
    "period_label": "Period name: as-of, 2025H1, 2025H2, 2025.",
    "period_end": "Last day of the period; scores are judged as they stood on it.",
    "summary_zh": "One line in Chinese describing the fact.",
    "severity_level": "一般/较重/严重.",
    "status_basis": "容错依据 or 核查结论 behind a tolerated or dismissed item.",
    "rule_id": "Rule id (warehouse/rules/<id>_*.sql; ruleset.rule).",
    "dimension": "Dimension(s): virtue/ability/diligence/performance/integrity (德能勤绩廉).",
    "evidence_ids": "Evidence rows (core.evidence.evidence_id) behind it.",
    "detail_zh": "What the rule found, in Chinese.",
    "flag_date": "Date the condition arose.",
    "first_flag_date": "Earliest date one of the cadre's flags arose.",
}
MODEL_FOLDERS = ("core", "marts", "rules", "decisions", "followup", "fairness")
BUILD_FOLDERS = ("core", "marts", "rules")  # run by every build, in its transaction
VIEW_FOLDERS = ("decisions", "followup", "fairness")  # the review layer's views
NOT_MODELS = ("decisions/schema.sql",)  # DDL scripts, run as they are
# The decisions tables: run by the review layer and by every build (observation periods read
# decisions, so the tables must exist before the first decision).
DECISIONS_SCHEMA = SQL_DIR / "decisions" / "schema.sql"
# Decision views the build reads too (marts.candidate: promotion blocks people lifted). They
# read only the decisions tables, so the build (re)creates them before its own models run.
BUILD_DECISION_VIEWS = (SQL_DIR / "decisions" / "influence_lift.sql",)
KIND_BY_SCHEMA = {"core": "table", "temp": "temp", "marts": "as_of", "decisions": "view",
                  "followup": "view", "fairness": "view"}
RULE_HITS = "marts.rule_hit"

_TARGET = re.compile(r"^--\s*(core|marts|temp|decisions|followup|fairness)\.(\w+):\s*(.+)$")
_RULE_ID = re.compile(r"^--\s*id:\s*(\w+)\s*$")
_RULE_TITLE = re.compile(r"^--\s*title:\s*(.+)$")
_COLUMN = re.compile(r"^--\s*column\s+(\w+):\s*(.+)$")
_LIST_KEY = re.compile(r"^--\s*(grain|depends):\s*(.*)$")
_RELATION = re.compile(r"\b(core|marts|temp|decisions|followup|fairness|raw|staging|meta|ruleset)\.(\w+)\b",
                       re.IGNORECASE)
_COMMENT_OR_STRING = re.compile(r"--[^\n]*|'(?:[^']|'')*'")


class ModelError(RuntimeError):
    """A model that cannot run as written: the message names its file."""


@dataclass(frozen=True)
class Model:
    """One SQL file: what it writes, how, what it reads and which columns identify a row."""

    key: str  # unique name: core.cadre, marts.candidate, rules.A1, decisions.flag_state
    kind: str  # table, temp, as_of, rule, view
    relation: str  # what it writes: core.cadre, cadre_period (temp), marts.rule_hit, ...
    description: str
    path: Path
    sql: str
    grain: tuple[str, ...]
    reads: frozenset[str]
    columns: dict[str, str] = field(default_factory=dict)

    @property
    def schema(self) -> str:
        return self.key.split(".")[0] if self.kind != "temp" else "temp"

    @property
    def name(self) -> str:
        return self.key.split(".")[1]

    @property
    def table(self) -> str:
        """The relation as SQL names it (a temp table has no schema)."""
        return self.relation


def sql_text(sql: str) -> str:
    """``sql`` without comments and string literals: what names the relations it reads."""
    return _COMMENT_OR_STRING.sub(" ", sql)


def _names(text: str) -> tuple[str, ...]:
    return tuple(n.strip().lower() for n in text.split(",") if n.strip())


def read_model(path: Path) -> Model:
    """Parse a model file's header (see the module docstring); errors name the file."""
    sql = path.read_text(encoding="utf-8")
    lines = sql.splitlines()
    header: list[str] = []
    for line in lines:
        if not line.startswith("--"):
            break
        header.append(line)
    target = _TARGET.match(lines[0]) if lines else None
    rule = next((m for m in map(_RULE_ID.match, header) if m), None)
    if target is None and rule is None:
        raise ModelError(f"{path}: first line must be '-- <schema>.<name>: ...' "
                         "(or a rule header starting with '-- id:')")
    lists = {m.group(1): _names(m.group(2)) for m in map(_LIST_KEY.match, header) if m}
    columns = {m.group(1): m.group(2).strip() for m in map(_COLUMN.match, header) if m}
    if target:
        schema, name, description = target.group(1), target.group(2), target.group(3).strip()
        if name != path.stem:
            raise ModelError(f"{path}: file name must be {name}.sql")
        kind = KIND_BY_SCHEMA[schema]
        key = f"{schema}.{name}"
        relation = name if kind == "temp" else key
    else:
        assert rule is not None
        title = next((m.group(1).strip() for m in map(_RULE_TITLE.match, header) if m), "")
        kind, key, relation, description = "rule", f"rules.{rule.group(1)}", RULE_HITS, title
    if not lists.get("grain"):
        raise ModelError(f"{path}: header lacks '-- grain: <column>, ...' (the key of a row)")
    if "depends" in lists:
        reads = frozenset(lists["depends"])
    else:
        reads = frozenset(f"{a}.{b}".lower() for a, b in _RELATION.findall(sql_text(sql)))
    reads -= {relation.lower(), f"temp.{relation}".lower()}
    return Model(key=key, kind=kind, relation=relation, description=description, path=path,
                 sql=sql, grain=lists["grain"], reads=reads, columns=columns)


def discover(folders: Iterable[str] = MODEL_FOLDERS, root: Path = SQL_DIR) -> list[Model]:
    """Every model file in ``folders`` of ``root``, in dependency order."""
    models = [read_model(path) for folder in folders
              for path in sorted((root / folder).glob("*.sql"))
              if f"{folder}/{path.name}" not in NOT_MODELS]
    return order(models)


def _writes(model: Model) -> str:
    return f"temp.{model.relation}" if model.kind == "temp" else model.relation.lower()


def order(models: list[Model]) -> list[Model]:
    """Models sorted so each runs after the models writing what it reads (stable: ties keep
    the given order). A circle fails, naming the models in it."""
    writers: dict[str, list[Model]] = {}
    for model in models:
        writers.setdefault(_writes(model), []).append(model)
    # first the relations with one writer; then shared ones (rule hits), skipping a writer
    # that reads the reader (directly or through others)
    needs: dict[str, set[str]] = {m.key: set() for m in models}
    for model in models:
        for relation in model.reads:
            found = writers.get(relation, [])
            if len(found) == 1:
                needs[model.key].add(found[0].key)

    def upstream(key: str) -> set[str]:
        seen, stack = set(), [key]
        while stack:
            for dep in needs[stack.pop()]:
                if dep not in seen:
                    seen.add(dep)
                    stack.append(dep)
        return seen

    for model in models:
        for relation in model.reads:
            found = writers.get(relation, [])
            if len(found) > 1:
                needs[model.key] |= {w.key for w in found
                                     if w.key != model.key and model.key not in upstream(w.key)}
    result: list[Model] = []
    done: set[str] = set()
    pending = list(models)
    while pending:
        ready = [m for m in pending if needs[m.key] <= done]
        if not ready:
            circle = ", ".join(sorted(m.key for m in pending))
            raise ModelError(f"models read each other in a circle: {circle}")
        for model in ready:
            result.append(model)
            done.add(model.key)
        pending = [m for m in pending if m.key not in done]
    return result


def fingerprint(models: Iterable[Model], *extra: str) -> str:
    """A digest of the models' SQL and anything else they depend on."""
    digest = hashlib.sha256()
    for model in models:
        digest.update(model.sql.encode())
    for text in extra:
        digest.update(text.encode())
    return digest.hexdigest()


def check_grain(con: duckdb.DuckDBPyConnection, model: Model) -> None:
    """Fail when a key of ``model``'s grain repeats (within the build's as-of date for marts
    and rules): names the model and an example key."""
    key = ", ".join(model.grain)
    where = []
    if model.kind in ("as_of", "rule"):
        where.append("as_of = getvariable('as_of')")
    if model.kind == "rule":
        where.append(f"rule_id = {sql_literal(model.name)}")
    condition = f"where {' and '.join(where)}" if where else ""
    # First one aggregate over a 64-bit hash of the key (cheap: one number per row, not the
    # key's texts); only when two rows share a hash are the keys themselves compared, among
    # the rows of those hashes (a collision is then told from a repeat).
    candidates = f"hash({key}) in (select h from shared_hash)"
    exact = f"{condition} and {candidates}" if where else f"where {candidates}"
    try:
        shared = con.execute(f"select hash({key}) as h from {model.table} {condition} "
                             f"group by h having count(*) > 1 limit 1").fetchone()
        repeat = shared and con.execute(
            f"with shared_hash as (select hash({key}) as h from {model.table} {condition} "
            f"group by h having count(*) > 1) select {key}, count(*) as n from {model.table} "
            f"{exact} group by all having count(*) > 1 limit 1").fetchone()
    except duckdb.Error as exc:
        raise ModelError(f"model {model.path.name}: grain ({key}) cannot be checked: {exc}") from exc
    if repeat:
        example = ", ".join(f"{c}={v!r}" for c, v in zip(model.grain, repeat, strict=False))
        raise ModelError(f"model {model.path.name} ({model.key}): grain ({key}) repeats, "
                         f"{repeat[-1]} rows for {example}")


Materialiser = Callable[[duckdb.DuckDBPyConnection, Model], None]


def run(con: duckdb.DuckDBPyConnection, models: list[Model],
        materialisers: dict[str, Materialiser] | None = None, *, check: bool = True) -> None:
    """Run ``models`` in order on ``con`` (inside the caller's transaction), each by its
    kind's materialiser (``materialise`` for table, temp and as_of; callers add rule and
    view), checking each table's grain after it runs."""
    by_kind: dict[str, Materialiser] = {"table": materialise, "temp": materialise,
                                        "as_of": materialise, **(materialisers or {})}
    for model in models:
        if model.kind not in by_kind:
            raise ModelError(f"model {model.path.name}: no way to run a {model.kind} model here")
        started = time.perf_counter()
        by_kind[model.kind](con, model)
        ran = time.perf_counter()
        if check and model.kind != "view":
            check_grain(con, model)
        # per model, so a slow build names its slow model (make bench reads no log; a person does)
        log.debug("model %s: %.2f s, grain check %.2f s", model.key, ran - started,
                  time.perf_counter() - ran)


@cache
def _contract_headers() -> dict[str, str]:
    """Fallback comment per contract column: its English description (one language per
    text; the Chinese header is the data dictionary's 中文名, see ``column_terms_zh``)."""
    headers: dict[str, str] = {}
    for contract in all_contracts().values():
        for f in contract.fields:
            headers.setdefault(f.name, f.description or
                               f"As the units send it ({contract.source}.{f.name}).")
    return headers


@cache
def column_terms_zh() -> dict[str, str]:
    """Column name -> its Chinese term (the contracts' header), for the data dictionary."""
    terms: dict[str, str] = {}
    for contract in all_contracts().values():
        for f in contract.fields:
            terms.setdefault(f.name, f.header_zh)
    return terms


def comment(con: duckdb.DuckDBPyConnection, table: str, description: str,
            columns: dict[str, str], object_type: str = "table", fallback: bool = True) -> None:
    """COMMENT ON the table (or view) and every column: its own text, else (``fallback``) a
    common or contract one."""
    con.execute(f"comment on {object_type} {table} is {sql_literal(description)}")
    schema, name = table.split(".")
    present = {r[0] for r in con.execute(
        "select column_name from duckdb_columns() where schema_name = ? and table_name = ? "
        "and database_name = current_database()", [schema, name]).fetchall()}
    other = {**_contract_headers(), **COMMON_COLUMNS} if fallback else {}
    for column in sorted(present):
        text = columns.get(column) or other.get(column)
        if text:
            con.execute(f"comment on column {table}.{column} is {sql_literal(text)}")


def create_view(con: duckdb.DuckDBPyConnection, model: Model) -> None:
    """One view model (re)created with its comments."""
    con.execute(f"create or replace view {model.relation} as\n{model.sql}")
    comment(con, model.relation, model.description, model.columns, "view", fallback=False)


def table_columns(con: duckdb.DuckDBPyConnection, table: str) -> list[str] | None:
    schema, name = table.split(".")
    rows = con.execute(
        "select column_name from duckdb_columns() where schema_name = ? and table_name = ? "
        "and database_name = current_database() order by column_index", [schema, name]
    ).fetchall()
    return [r[0] for r in rows] or None


def replace_as_of_rows(con: duckdb.DuckDBPyConnection, table: str, query: str) -> None:
    """Put ``query``'s rows in ``table`` in place of that table's rows for this as-of date.

    A table whose columns no longer match the query (the model changed) is recreated: rows of
    other as-of dates are lost then, which is logged; they are rebuilt by building those dates.
    """
    existing = table_columns(con, table)
    wanted = [r[0] for r in con.execute(f"describe {query}").fetchall()]
    if existing is not None and existing != wanted:
        log.warning("%s changed shape; recreating it (other as-of dates must be rebuilt)", table)
        con.execute(f"drop table {table}")
        existing = None
    if existing is None:
        con.execute(f"create table {table} as {query}")
        return
    con.execute(f"delete from {table} where as_of = getvariable('as_of')")
    con.execute(f"insert into {table} by name {query}")


def materialise(con: duckdb.DuckDBPyConnection, model: Model) -> None:
    """Run one model into its table (see the module docstring for the three kinds)."""
    body = f"(\n{model.sql}\n)"
    try:
        if model.schema == "temp":
            con.execute(f"create or replace temp table {model.name} as select * from {body}")
            return
        if model.schema == "core":
            con.execute(f"create or replace table {model.table} as select * from {body}")
        else:
            query = ("select getvariable('as_of')::date as as_of, "
                     f"getvariable('ruleset_version')::varchar as ruleset_version, "
                     f"getvariable('ruleset_profile')::varchar as ruleset_profile, * from {body}")
            replace_as_of_rows(con, model.table, query)
    except duckdb.Error as exc:
        raise ModelError(f"model {model.path.name} failed: {exc}") from exc
    columns = {**MART_COLUMNS, **model.columns} if model.schema == "marts" else model.columns
    comment(con, model.table, model.description, columns)
