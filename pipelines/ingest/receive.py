"""Receive: archive the original bytes, then register the submission.

The archive comes first and is never changed: ``archive/<sha256[:2]>/<sha256><suffix>``,
written atomically and made read-only. Identical bytes that were already loaded make a
``duplicate`` (recorded, nothing loaded twice); identical bytes whose earlier submission never
finished (a crash) resume that submission; identical bytes that were refused are judged
afresh (the unit may have fixed the unit or source it sent them as).
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import duckdb

from pipelines.settings import DataHome

IN_FLIGHT = ("received", "parsed", "validated")
LOADED = ("accepted", "partially_accepted")


@dataclass(frozen=True)
class Registration:
    submission_id: str
    status: str  # received (new or resumed) | duplicate
    duplicate_of: str | None = None
    resumed: bool = False


def archive_bytes(data: bytes, filename: str, home: DataHome) -> tuple[str, Path]:
    """Store the original bytes under their sha256; returns (sha256, archive path)."""
    sha = hashlib.sha256(data).hexdigest()
    suffix = Path(filename).suffix.lower()
    target = home.archive / sha[:2] / f"{sha}{suffix}"
    if not target.exists():
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".incoming-")
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp, 0o444)
        os.replace(tmp, target)
    return sha, target


def _new_id(con: duckdb.DuckDBPyConnection, sha: str, now: datetime) -> str:
    base = f"{now:%Y%m%d}-{sha[:8]}"
    taken = {r[0] for r in con.execute(
        "select submission_id from meta.submission where submission_id like ?", [base + "%"]
    ).fetchall()}
    candidate, n = base, 1
    while candidate in taken:
        n += 1
        candidate = f"{base}-{n}"
    return candidate


def register(con: duckdb.DuckDBPyConnection, *, unit: str, source: str, filename: str,
             sha: str, archive_path: Path, now: datetime, match_earlier: bool = True
             ) -> Registration:
    """Record the submission (or recognise it); one short transaction.

    ``match_earlier=False`` (the unit may not send this source) always records a new
    submission, to be refused: earlier submissions of the same bytes are not looked at."""
    earlier = con.execute(
        "select submission_id, status from meta.submission where sha256 = ? "
        "and status <> 'duplicate' order by seq desc", [sha]).fetchall() if match_earlier else []
    for submission_id, status in earlier:
        if status in LOADED:
            new_id = _insert(con, unit, source, filename, sha, archive_path, now, "duplicate",
                             duplicate_of=submission_id)
            return Registration(new_id, "duplicate", duplicate_of=submission_id)
        if status in IN_FLIGHT:
            return Registration(submission_id, "received", resumed=True)
    return Registration(_insert(con, unit, source, filename, sha, archive_path, now, "received"),
                        "received")


def _insert(con: duckdb.DuckDBPyConnection, unit: str, source: str, filename: str, sha: str,
            archive_path: Path, now: datetime, status: str, duplicate_of: str | None = None) -> str:
    submission_id = _new_id(con, sha, now)
    con.execute(
        "insert into meta.submission (submission_id, seq, unit, source, filename, sha256, "
        "archive_path, status, duplicate_of, received_at, finished_at) "
        "values (?, nextval('meta.submission_seq'), ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [submission_id, unit, source, filename, sha, str(archive_path), status, duplicate_of,
         now, now if status == "duplicate" else None])
    return submission_id
