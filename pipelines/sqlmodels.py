"""SQL models in ``warehouse/core`` and ``warehouse/marts``: read, document, materialise.

A model is one SELECT in one file whose header says where it goes and what it means::

    -- core.cadre: 干部. One row per 身份证号 ...
    -- Why: ...
    -- column id_number: 身份证号 (normalised), the identity key.

Why the header and not a separate YAML: the description sits beside the SQL it describes, so
the two change together, and the same text becomes ``COMMENT ON`` in the warehouse and in the
analysts' snapshot (and from there the data dictionary page).

Materialisation depends on the schema named in the header:
- ``core``: replaced whole on every build (as-of independent: identity, facts, evidence);
- ``temp``: a connection-local helper table for this build only;
- ``marts``: per as-of results; the rows of the build's as-of date are replaced, rows of
  other dates stay, and ``as_of`` and ``ruleset_version`` columns are added in front.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

import duckdb

from pipelines.contracts import all_contracts

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
_TARGET = re.compile(r"^--\s*(core|marts|temp)\.(\w+):\s*(.+)$")
_COLUMN = re.compile(r"^--\s*column\s+(\w+):\s*(.+)$")


@dataclass(frozen=True)
class Model:
    schema: str
    name: str
    description: str
    path: Path
    sql: str
    columns: dict[str, str] = field(default_factory=dict)

    @property
    def table(self) -> str:
        return self.name if self.schema == "temp" else f"{self.schema}.{self.name}"


def quote(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def read_model(path: Path) -> Model:
    """Parse a model file; its first line must name the target table."""
    sql = path.read_text(encoding="utf-8")
    lines = sql.splitlines()
    target = _TARGET.match(lines[0]) if lines else None
    if not target:
        raise ValueError(f"{path}: first line must be '-- <core|marts|temp>.<name>: ...'")
    columns = {}
    for line in lines[1:]:
        if not line.startswith("--"):
            break
        match = _COLUMN.match(line)
        if match:
            columns[match.group(1)] = match.group(2).strip()
    if target.group(2) != path.stem:
        raise ValueError(f"{path}: file name must be {target.group(2)}.sql")
    return Model(schema=target.group(1), name=target.group(2),
                 description=target.group(3).strip(), path=path, sql=sql, columns=columns)


@cache
def _contract_headers() -> dict[str, str]:
    headers: dict[str, str] = {}
    for contract in all_contracts().values():
        for f in contract.fields:
            headers.setdefault(f.name, f.header_zh + (f" — {f.description}" if f.description
                                                      else ""))
    return headers


def comment(con: duckdb.DuckDBPyConnection, table: str, description: str,
            columns: dict[str, str]) -> None:
    """COMMENT ON the table and every column: its own text, else a common or contract one."""
    con.execute(f"comment on table {table} is {quote(description)}")
    schema, name = table.split(".")
    present = {r[0] for r in con.execute(
        "select column_name from duckdb_columns() where schema_name = ? and table_name = ? "
        "and database_name = current_database()", [schema, name]).fetchall()}
    fallback = {**_contract_headers(), **COMMON_COLUMNS}
    for column in sorted(present):
        text = columns.get(column) or fallback.get(column)
        if text:
            con.execute(f"comment on column {table}.{column} is {quote(text)}")


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
        raise RuntimeError(f"model {model.path.name} failed: {exc}") from exc
    columns = {**MART_COLUMNS, **model.columns} if model.schema == "marts" else model.columns
    comment(con, model.table, model.description, columns)
