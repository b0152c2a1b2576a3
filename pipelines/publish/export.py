"""Excel exports for analysts, always from the published (pseudonymised) snapshot.

Analysts who work in Excel get a table or the result of their own SQL as an XLSX, with each
column's comment from the snapshot as a header note, drawn by ``pipelines.render.xlsx`` (text
that looks like a formula stays text). Reading the snapshot, never the working
warehouse, is what keeps 身份证号 out of their files.
"""

from __future__ import annotations

import re
from pathlib import Path

import duckdb

from pipelines.errors import UnknownName, UsageProblem
from pipelines.render.xlsx import open_workbook, write_table
from pipelines.settings import DataHome
from pipelines.warehouse import duckdb_config

EXCEL_MAX_ROWS = 1_048_575  # one row for the header
_TABLE_NAME = re.compile(r"^[a-z_][a-z0-9_]*\.[a-z_][a-z0-9_]*$")


def export_to_xlsx(home: DataHome, table_or_sql: str, out: Path) -> int:
    """Write ``schema.table`` or a SELECT over the snapshot to ``out``; returns the row count."""
    if not home.published_file.exists():
        raise UsageProblem(f"no published snapshot at {home.published_file}: run `cadre build`")
    is_table = bool(_TABLE_NAME.match(table_or_sql.strip().lower()))
    sql = f"select * from {table_or_sql}" if is_table else table_or_sql
    # external access off: a query cannot ATTACH the working warehouse or read other files
    # (set after opening: DuckDB refuses a temp_directory once external access is off)
    with duckdb.connect(str(home.published_file), read_only=True,
                        config=duckdb_config(home.duckdb_temp)) as con:
        con.execute("set enable_external_access = false")
        tables = [r[0] for r in con.execute(
            "select schema_name || '.' || table_name from duckdb_tables() order by 1").fetchall()]
        if is_table and table_or_sql.strip().lower() not in tables:
            raise UnknownName("table", table_or_sql.strip(), tables)
        try:
            result = con.execute(sql)
        except duckdb.Error as exc:
            first = str(exc).strip().splitlines()[0]
            raise UsageProblem(f"the query failed on the snapshot: {first}") from exc
        columns = [d[0] for d in result.description]
        rows = result.fetchmany(EXCEL_MAX_ROWS + 1)
        comments = dict(con.execute(
            "select column_name, comment from duckdb_columns() where schema_name || '.' || "
            "table_name = ?", [table_or_sql.strip().lower()]).fetchall()) if is_table else {}
    if len(rows) > EXCEL_MAX_ROWS:
        raise UsageProblem(f"more than {EXCEL_MAX_ROWS:,} rows: narrow the query or use Parquet/SQL")
    out.parent.mkdir(parents=True, exist_ok=True)
    book, fmt = open_workbook(out)
    try:
        write_table(book.add_worksheet("export"), fmt, 0, rows, columns, notes=comments,
                    widths={c: max(10, min(40, len(c) + 4)) for c in columns})
    finally:
        book.close()
    return len(rows)
