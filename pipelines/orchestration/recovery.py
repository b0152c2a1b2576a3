"""Operations: rebuild the warehouse from the archive, and take a consistent backup.

The archive is the truth (README, architecture): every original file is kept under its hash
and ``meta.submission`` records who sent it as what, and when. ``rebuild`` replays every
submission in its original order (same arrival times, hence the same submission ids and
sequence numbers) into a fresh data folder through the real ingest steps, rebuilds profiles and
flags for every as-of date the live warehouse has built, and compares table checksums of raw,
staging, profiles and flags with the live ones. ``backup`` copies the warehouse (checkpointed,
under the writer lock, so no write is half in it), the archive and the pseudonym key.
"""

from __future__ import annotations

import logging
import shutil
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

import duckdb

from pipelines import warehouse
from pipelines.build.steps import build
from pipelines.ingest.steps import load_step, receive_bytes
from pipelines.settings import DataHome

log = logging.getLogger(__name__)
# Columns that record when our own processing ran, not what the data is.
VOLATILE_COLUMNS = {"finished_at", "built_at", "created_at", "applied_at", "seconds"}
COMPARED_SCHEMAS = ("raw", "staging")
COMPARED_MARTS = ("marts.cadre_profile", "marts.cadre_flag")


@dataclass(frozen=True)
class TableCheck:
    table: str
    live_rows: int
    rebuilt_rows: int
    equal: bool


def _tables(con: duckdb.DuckDBPyConnection) -> list[str]:
    names = [f"{s}.{t}" for s, t in con.execute(
        "select table_schema, table_name from information_schema.tables "
        "where table_schema in ('raw', 'staging') order by 1, 2").fetchall()]
    present = {f"{s}.{t}" for s, t in con.execute(
        "select table_schema, table_name from information_schema.tables").fetchall()}
    return names + [t for t in COMPARED_MARTS if t in present]


def checksum(con: duckdb.DuckDBPyConnection, table: str) -> tuple[int, int]:
    """(rows, order-independent sum of row hashes) over the table's non-volatile columns."""
    schema, name = table.split(".")
    columns = [r[0] for r in con.execute(
        "select column_name from information_schema.columns where table_schema = ? and "
        "table_name = ? order by ordinal_position", [schema, name]).fetchall()
        if r[0] not in VOLATILE_COLUMNS]
    quoted = ", ".join('"' + c.replace('"', '""') + '"' for c in columns)
    rows, total = con.execute(f'select count(*), coalesce(sum(hash({quoted}))::hugeint, 0) '
                              f'from "{schema}"."{name}"').fetchone()  # type: ignore[misc]
    return int(rows), int(total)


def _live_plan(home: DataHome) -> tuple[list[tuple], list[date]]:
    with warehouse.writer(home.warehouse_file) as con:
        submissions = con.execute(
            "select unit, source, filename, archive_path, received_at from meta.submission "
            "order by seq").fetchall()
        try:
            as_ofs = [r[0] for r in con.execute(
                "select distinct as_of from marts.build_run order by 1").fetchall()]
        except duckdb.CatalogException:
            as_ofs = []
    return submissions, as_ofs


def rebuild(home: DataHome, into: Path) -> list[TableCheck]:
    """Replay the archive into a fresh data folder at ``into``; compare with the live one."""
    target = DataHome.from_env(into)
    if target.warehouse_file.exists():
        raise FileExistsError(f"{target.warehouse_file} exists: rebuild needs a fresh folder")
    target.ensure()
    submissions, as_ofs = _live_plan(home)
    for unit, source, filename, archive_path, received_at in submissions:
        data = Path(archive_path).read_bytes()
        with warehouse.writer(target.warehouse_file):
            submission_id = receive_bytes(data, filename, unit, source, target,
                                          now=received_at if isinstance(received_at, datetime)
                                          else None)
            load_step(submission_id, target)
    for as_of in as_ofs:
        build(target, as_of)
    return compare(home, target)


def compare(home: DataHome, other: DataHome) -> list[TableCheck]:
    checks = []
    with warehouse.writer(home.warehouse_file) as live, \
            warehouse.writer(other.warehouse_file) as rebuilt:
        rebuilt_tables = set(_tables(rebuilt))
        for table in _tables(live):
            live_sum = checksum(live, table)
            other_sum = checksum(rebuilt, table) if table in rebuilt_tables else (0, -1)
            checks.append(TableCheck(table, live_sum[0], other_sum[0], live_sum == other_sum))
    return checks


def backup(home: DataHome, dest: Path) -> DataHome:
    """A consistent copy of the data folder's state at ``dest`` (a new folder): the warehouse
    (checkpointed and copied while this process holds the writer lock), the archive and the
    pseudonym key. ``CADRE_HOME=dest`` then works as a data folder."""
    target = DataHome.from_env(dest)
    if target.root.exists() and any(target.root.iterdir()):
        raise FileExistsError(f"{target.root} is not empty")
    target.ensure()
    with warehouse.writer(home.warehouse_file) as con:
        con.execute("checkpoint")
        shutil.copy2(home.warehouse_file, target.warehouse_file)
        shutil.copytree(home.archive, target.archive, dirs_exist_ok=True)
        if home.keys.exists():
            shutil.copytree(home.keys, target.keys, dirs_exist_ok=True)
    log.info("backup of %s written to %s", home.root, target.root)
    return target
