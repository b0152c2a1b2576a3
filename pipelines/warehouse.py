"""The DuckDB warehouse resource: connections and the ingest layers' schema.

Layers:
- ``meta``: submissions and their issues (``warehouse/schema/meta.sql``).
- ``raw.<source>``: every accepted row of every submission, typed per the contract, with its
  ``submission_id`` and ``source_row``. Append-only: a newer submission supersedes, never erases.
- ``staging.<source>``: the current version of each business key (latest submission wins);
  ``staging.<source>_history``: every loaded version with ``is_current``.

Raw tables and staging views are generated from the contracts (the key and columns are declared
there once); the hand-written SQL of later layers lives in ``warehouse/``.
"""

from __future__ import annotations

import hashlib
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import cache
from pathlib import Path

import duckdb

from pipelines import settings
from pipelines.contracts import Contract, all_contracts
from pipelines.settings import PROJECT_ROOT

SQL_DIR = PROJECT_ROOT / "warehouse"
LINEAGE_COLUMNS = {
    "submission_id": "Submission (meta.submission) this row came from.",
    "source_row": "Row number in the submitted file, as the unit sees it.",
}


def sql_literal(text: str) -> str:
    """``text`` as a SQL string literal, for the statements that cannot take parameters
    (COMMENT ON, DDL). The one quoting helper: everything else binds parameters."""
    return "'" + text.replace("'", "''") + "'"


def recorded_fingerprint(con: duckdb.DuckDBPyConnection, record: str) -> str | None:
    """The fingerprint the table ``record`` holds, or None when there is none yet (asked of
    the catalog first: a failed query would abort the caller's transaction)."""
    schema, table = record.split(".")
    exists = con.execute("select count(*) from duckdb_tables() where schema_name = ? and "
                         "table_name = ? and database_name = current_database()",
                         [schema, table]).fetchone()[0]
    if not exists:
        return None
    row = con.execute(f"select fingerprint from {record}").fetchone()
    return row[0] if row else None


def apply_if_changed(con: duckdb.DuckDBPyConnection, record: str, fingerprint: str,
                     apply: Callable[[], None]) -> bool:
    """Run ``apply`` unless the table ``record`` (e.g. ``meta.schema_version``) already holds
    ``fingerprint``; then record it. Returns whether ``apply`` ran.

    Why: DDL costs ~100 ms, and the many short connections of an ingest or a review would
    each pay it; one cheap query tells whether anything it depends on changed."""
    if recorded_fingerprint(con, record) == fingerprint:
        return False
    apply()
    con.execute(f"create or replace table {record} as "
                "select ? as fingerprint, current_timestamp as applied_at", [fingerprint])
    return True


def raw_table_ddl(contract: Contract) -> list[str]:
    """CREATE TABLE + COMMENT ON statements for ``raw.<source>``."""
    columns = [f"    {f.name} {f.duckdb_type}" for f in contract.fields]
    columns += ["    submission_id VARCHAR NOT NULL", "    source_row INTEGER NOT NULL"]
    table = f"raw.{contract.source}"
    statements = [f"create table if not exists {table} (\n" + ",\n".join(columns) + "\n)"]
    table_doc = f"{contract.title_zh}: {contract.description} Append-only; see staging for current rows."
    statements.append(f"comment on table {table} is {sql_literal(table_doc)}")
    for f in contract.fields:
        text = f.header_zh + (f" — {f.description}" if f.description else "")
        statements.append(f"comment on column {table}.{f.name} is {sql_literal(text)}")
    for name, text in LINEAGE_COLUMNS.items():
        statements.append(f"comment on column {table}.{name} is {sql_literal(text)}")
    return statements


def record_key_sql(contract: Contract, alias: str) -> str:
    """The record's key as one text, its key values in contract order joined by ``|``.

    Why one text: a withdrawal, an identity confirmation and a flag's evidence name a record by
    its key, whatever submission last sent it (``source:record_key`` is an evidence key)."""
    parts = [f"coalesce({alias}.{k}::varchar, '')" for k in contract.key]
    return parts[0] if len(parts) == 1 else "concat_ws('|', " + ", ".join(parts) + ")"


def evidence_key_view_sql(contracts: list[Contract]) -> list[str]:
    """``staging.evidence_key``: every loaded version of every evidence row -> its stable key.

    core.evidence ids name a submission and row (``source:submission_id:source_row``); a
    flag must keep its identity when the unit re-sends the same record, so the flag register
    stores ``source:record_key`` instead (docs/reviews.md, flag identity)."""
    selects = [f"select '{c.source}:' || submission_id || ':' || source_row as evidence_id, "
               f"'{c.source}' as source, '{c.source}:' || record_key as evidence_key, "
               f"record_key, submission_id, source_row, submission_seq, submitted_by, "
               f"is_current, withdrawn from staging.{c.source}_history"
               for c in contracts if c.holds_records]
    body = "\nunion all ".join(selects)
    return [f"create or replace view staging.evidence_key as\n{body}",
            "comment on view staging.evidence_key is 'Every loaded version of every evidence "
            "row: its evidence_id (source:submission:row) and its stable evidence_key "
            "(source:record key).'"]


def staging_view_sql(contract: Contract) -> list[str]:
    """``staging.<source>_history`` (all loaded versions) and ``staging.<source>`` (current).

    For a snapshot source (roster) the current rows are those of the latest loaded snapshot:
    a cadre absent from it has left the scope, but stays in the history.
    """
    source = contract.source
    key = ", ".join(contract.key)
    latest = (
        "submission_seq = max(submission_seq) over ()"
        if contract.snapshot
        else f"row_number() over (partition by {key} order by submission_seq desc, source_row desc) = 1"
    )
    history = f"""
create or replace view staging.{source}_history as
-- every row loaded from a finished submission, with its arrival order and currency; a key the
-- unit withdrew (meta.withdrawal) is current in no version sent before the withdrawal
with loaded_submission as (
    select submission_id, seq as submission_seq, unit, received_at
    from meta.submission
    where status in ('accepted', 'partially_accepted')
),
versioned as (
    select r.*, s.submission_seq, s.unit as submitted_by, s.received_at,
        {record_key_sql(contract, "r")} as record_key
    from raw.{source} as r
    join loaded_submission as s using (submission_id)
),
withdrawal as (
    select record_key, max(upto_seq) as upto_seq
    from meta.withdrawal
    where source = '{source}'
    group by record_key
),
flagged as (
    -- withdrawn: some withdrawal of the key reaches this version (a join on the key's latest
    -- withdrawal, not a correlated EXISTS: that one was decorrelated into a grouping of every
    -- version, ~3 s per million rows on each read, and the flag views read it often)
    select versioned.*,
        coalesce(withdrawal.upto_seq >= versioned.submission_seq, false) as withdrawn
    from versioned
    left join withdrawal on withdrawal.record_key = versioned.record_key
)
select *, ({latest}) and not withdrawn as is_current
from flagged"""
    view = f"""
create or replace view staging.{source} as
-- the current version of each {source} key ({key})
select * exclude (is_current, withdrawn) from staging.{source}_history where is_current"""
    history_doc = f"{contract.title_zh}: every loaded version of each key; is_current marks the one in force."
    current_doc = f"{contract.title_zh}: current version per key ({key})."
    return [
        history,
        f"comment on view staging.{source}_history is {sql_literal(history_doc)}",
        view,
        f"comment on view staging.{source} is {sql_literal(current_doc)}",
    ]


@cache
def _schema_statements() -> tuple[tuple[str, ...], str]:
    """Every ingest-layer DDL statement, and a fingerprint of them all."""
    statements = [(SQL_DIR / "schema" / "meta.sql").read_text(encoding="utf-8")]
    for contract in all_contracts().values():
        statements += raw_table_ddl(contract) + staging_view_sql(contract)
    statements += evidence_key_view_sql(list(all_contracts().values()))
    return tuple(statements), hashlib.sha256("\n;\n".join(statements).encode()).hexdigest()


def ensure_schema(con: duckdb.DuckDBPyConnection) -> None:
    """Create every ingest-layer object that is missing. Idempotent.

    The DDL runs only when its fingerprint differs from the one recorded in the file, so the
    many short writer connections of an ingest do not pay ~80 ms of DDL each."""
    statements, fingerprint = _schema_statements()

    def apply() -> None:
        for statement in statements:
            con.execute(statement)

    if recorded_fingerprint(con, "meta.schema_version") == fingerprint:
        return  # checked outside a transaction: the common case opens none
    with transaction(con):
        apply_if_changed(con, "meta.schema_version", fingerprint, apply)


LOCK_WAIT_SECONDS = 120.0  # how long a writer waits for another process's connection to close


def duckdb_config(temp_dir: Path) -> dict[str, str]:
    """The resource settings every connection opens with (memory, threads, spill folder).

    DuckDB's defaults let each process take 80% of the machine and spill into the current
    folder; here both come from the settings table and the spill stays in the data folder."""
    temp_dir.mkdir(parents=True, exist_ok=True)
    config = {"memory_limit": settings.get("CADRE_DUCKDB_MEMORY_LIMIT"),
              "temp_directory": str(temp_dir)}
    threads = settings.get("CADRE_DUCKDB_THREADS")
    if threads:
        config["threads"] = threads
    return config


class WarehouseLocked(duckdb.IOException):
    """Another process held the warehouse file longer than the writer would wait.

    The one error worth retrying later: Airflow tasks retry it with exponential backoff
    (orchestration.dag_helpers); every other error fails the task at once."""


def default_temp_dir(path: Path) -> Path:
    """A database file's spill folder: ``<data folder>/tmp/duckdb``, the file being one level
    below the data folder (``warehouse/``, ``published/``)."""
    return path.resolve().parent.parent / "tmp" / "duckdb"


def _open(path: Path, read_only: bool, wait: float) -> duckdb.DuckDBPyConnection:
    """Open the file, waiting while another process holds DuckDB's file lock.

    Every writer here holds its connection for one short step, so a CLI ``cadre submit`` that
    arrives while a DAG task is loading waits its turn instead of failing."""
    deadline = time.monotonic() + wait
    pause = 0.05
    while True:
        try:
            return duckdb.connect(str(path), read_only=read_only,
                                  config=duckdb_config(default_temp_dir(path)))
        except duckdb.IOException as exc:
            if "lock" not in str(exc).lower():
                raise
            if time.monotonic() >= deadline:
                raise WarehouseLocked(f"{path} still locked after {wait:.0f} s: {exc}") from exc
            time.sleep(pause)
            pause = min(pause * 2, 1.0)


def connect(path: Path, read_only: bool = False,
            wait: float = LOCK_WAIT_SECONDS) -> duckdb.DuckDBPyConnection:
    """A connection to the warehouse file; the writer also makes sure the schema exists."""
    if read_only:
        return _open(path, True, wait)
    path.parent.mkdir(parents=True, exist_ok=True)
    con = _open(path, False, wait)
    ensure_schema(con)
    return con


_held = threading.local()  # per thread: warehouse path -> the writer connection open for it


@contextmanager
def writer(path: Path) -> Iterator[duckdb.DuckDBPyConnection]:
    """The one read-write connection, closed on exit so other processes can open the file.

    Re-entrant: inside an open ``writer`` block, nested ones reuse its connection. A caller that
    runs several steps in a row (``cadre submit``) opens one block around them instead of paying
    an open and a checkpoint per step; steps run alone (Airflow tasks) open their own."""
    held: dict[Path, duckdb.DuckDBPyConnection] = _held.__dict__.setdefault("connections", {})
    if path in held:
        yield held[path]
        return
    con = connect(path)
    held[path] = con
    try:
        yield con
    finally:
        del held[path]
        con.close()


@contextmanager
def transaction(con: duckdb.DuckDBPyConnection) -> Iterator[duckdb.DuckDBPyConnection]:
    """All or nothing: a crash or exception inside leaves the warehouse as it was."""
    con.execute("begin transaction")
    try:
        yield con
    except BaseException:
        con.execute("rollback")
        raise
    con.execute("commit")
