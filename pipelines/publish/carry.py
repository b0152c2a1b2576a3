"""When a publish may carry the previous snapshots' build tables over instead of rewriting them.

Why: a decision (``cadre decide``, the portal, ORG's decision drops) changes only the decision
log and what is computed from it (flag state, the ledger and follow-up views, the disparity
table), yet every decision republishes both snapshots so that they never lag the log. At 1M
cadres rewriting both files takes over a minute, most of it the build's tables (core, marts,
ruleset), which a decision does not touch. So a publish starts from copies of the previous
snapshot files and rewrites only the decision objects, when and only when what the copies
were written from is provably unchanged:

- the warehouse's build tables: every table of the published schemas, its columns, types
  and comments, its row count and an order-free sum of its rows' hashes (one scan, ~2 s at
  1M cadres), so any writer, not only the build, is caught;
- the pseudonym key (as an HMAC of a fixed text under it, never the key itself);
- the publishing code (the bytes of this package's modules) and the DuckDB version;
- the two files themselves: size and modification time as the last publish left them.

The state is written beside the review snapshot (a folder only the owner may enter) after
both files are swapped in; anything else (first publish, a build, a new key, a restored
file, a crash between the two swaps) finds a different state and gets a full publish.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import uuid
from pathlib import Path
from typing import Any

import duckdb

from pipelines.settings import DataHome

STATE_NAME = "publish_state.json"
STATE_VERSION = 1
ROW_ALIAS = "carried_row"  # a table's alias, hashed as the whole row (a struct)


def _code_digest() -> str:
    """The publishing modules' bytes: a new release republishes everything."""
    digest = hashlib.sha256()
    for module in sorted(Path(__file__).parent.glob("*.py")):
        digest.update(module.name.encode() + b"\0" + module.read_bytes())
    return digest.hexdigest()


def fingerprint(con: duckdb.DuckDBPyConnection, carried: list[tuple[str, str, str | None]],
                catalog: dict[tuple[str, str], list[tuple]], key: bytes,
                source: str = "wh") -> str:
    """What the carried-over tables of both snapshots are written from (see the module)."""
    if any(column[0] == ROW_ALIAS for schema, table, _ in carried
           for column in catalog[schema, table]):
        return uuid.uuid4().hex  # the alias would name that column, not the row: never carry
    scans = [f"select {n} as n, count(*) as row_count, "
             f"sum(hash({ROW_ALIAS}))::varchar as row_hash "
             f"from {source}.{schema}.{table} as {ROW_ALIAS}"
             for n, (schema, table, _) in enumerate(carried)]
    contents = (con.execute(" union all ".join(scans) + " order by n").fetchall()
                if scans else [])
    described = {"version": STATE_VERSION, "duckdb": duckdb.__version__,
                 "code": _code_digest(),
                 "key": hmac.new(key, b"cadre-publish-state", hashlib.sha256).hexdigest(),
                 "tables": [[schema, table, comment, catalog[schema, table]]
                            for schema, table, comment in carried],
                 "contents": contents}
    return hashlib.sha256(json.dumps(described, default=str, ensure_ascii=False)
                          .encode("utf-8")).hexdigest()


def _file_stamp(path: Path) -> list[int]:
    stat = path.stat()
    return [stat.st_size, stat.st_mtime_ns]


def _state_path(home: DataHome) -> Path:
    return home.review_snapshot_dir / STATE_NAME


def can_carry(home: DataHome, current: str) -> bool:
    """True when both snapshot files are the ones the last publish wrote from ``current``."""
    try:
        state: dict[str, Any] = json.loads(_state_path(home).read_text(encoding="utf-8"))
        return (state.get("fingerprint") == current
                and state.get("published") == _file_stamp(home.published_file)
                and state.get("review") == _file_stamp(home.review_snapshot_file))
    except (OSError, ValueError):
        return False


def forget(home: DataHome) -> None:
    """Before a publish swaps anything: a crash half-way must not leave a state that vouches
    for files the state no longer describes."""
    _state_path(home).unlink(missing_ok=True)


def remember(home: DataHome, current: str) -> None:
    """After both files are swapped in: they were written from ``current``."""
    path = _state_path(home)
    state = {"fingerprint": current, "published": _file_stamp(home.published_file),
             "review": _file_stamp(home.review_snapshot_file)}
    tmp = path.with_suffix(f".{uuid.uuid4().hex}.tmp")
    tmp.write_text(json.dumps(state), encoding="utf-8")
    tmp.chmod(0o600)
    os.replace(tmp, path)
