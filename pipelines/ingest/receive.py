"""Receive: archive the original bytes, then register the submission.

The archive comes first and is never changed: ``archive/<sha256[:2]>/<sha256><suffix>``,
written atomically and made read-only. Identical bytes that were already loaded make a
``duplicate`` (recorded, nothing loaded twice); identical bytes whose earlier submission never
finished (a crash) resume that submission when they come back under the same unit, source
and file name, and are a ``duplicate`` of it under any other name (two copies in one inbox
scan: each name gets its receipt, the bytes are processed once); identical bytes that were
refused are judged afresh (the unit may have fixed the unit or source it sent them as).

All of this is within one unit: a unit never sees another unit's submissions, so bytes another
unit sent (PET and DIS may both send petition_verification) are a new submission, never a
``duplicate`` naming the other unit's submission id, and the id itself is keyed by the unit so
that its ``-N`` suffix does not tell how often other units sent the same bytes.
"""

from __future__ import annotations

import hashlib
import os
import re
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


MAX_SUFFIX = 8  # characters of the original suffix kept on the archive name (".xlsx")
MAX_NAME = 255  # characters of the original name recorded in meta


def safe_suffix(filename: str) -> str:
    """The original suffix, if it is a short plain one (``.xlsx``), else none: the archive name
    is the hash, and nothing a unit chose reaches a path beyond these few letters."""
    suffix = Path(filename.replace("\x00", "")).suffix.lower()
    return suffix if re.fullmatch(rf"\.[a-z0-9]{{1,{MAX_SUFFIX}}}", suffix) else ""


def display_name(name: str | bytes) -> str:
    """The original file name as text that any store can hold: bytes that are not UTF-8 (names
    made on Chinese Windows arrive as surrogate escapes) are read as GBK, else undecodable
    ones become U+FFFD; control
    characters and NUL are dropped, a folder part (``../``) is cut off, and it is bounded."""
    raw = name if isinstance(name, bytes) else os.fsencode(name) \
        if not _has_lone_surrogates(name) or _escapes_only(name) else name.encode("utf-8", "replace")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:  # a name made on Chinese Windows: GBK, else replacement marks
        try:
            text = raw.decode("gb18030")
        except UnicodeDecodeError:
            text = raw.decode("utf-8", "replace")
    text = "".join(ch for ch in text if ch.isprintable() or ch == " ")
    text = re.split(r"[\\/]", text)[-1].strip() or "(无文件名)"
    return text if len(text) <= MAX_NAME else text[:MAX_NAME - 1] + "…"


def _has_lone_surrogates(text: str) -> bool:
    return any("\ud800" <= ch <= "\udfff" for ch in text)


def _escapes_only(text: str) -> bool:
    """Surrogates that os.fsdecode made from undecodable bytes (U+DC80..U+DCFF) only."""
    return all(not ("\ud800" <= ch <= "\udfff") or "\udc80" <= ch <= "\udcff" for ch in text)


def archive_bytes(data: bytes, filename: str, home: DataHome) -> tuple[str, Path]:
    """Store the original bytes under their sha256; returns (sha256, archive path)."""
    sha = hashlib.sha256(data).hexdigest()
    target = home.archive / sha[:2] / f"{sha}{safe_suffix(filename)}"
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


def _new_id(con: duckdb.DuckDBPyConnection, unit: str, sha: str, now: datetime) -> str:
    """``<date>-<8 hex>[-N]``: the hex digits are the unit's own hash of the bytes, so the same
    file from two units gives unrelated ids, and ``-N`` counts only this unit's earlier sends
    of those bytes that day."""
    base = f"{now:%Y%m%d}-{hashlib.sha256(f'{unit}:{sha}'.encode()).hexdigest()[:8]}"
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
    """Record the submission (or recognise it among this unit's own); one short transaction.

    ``match_earlier=False`` (the unit may not send this source) always records a new
    submission, to be refused: earlier submissions of the same bytes are not looked at."""
    earlier = con.execute(
        "select submission_id, status, unit, source, filename, feedback_pending "
        "from meta.submission where sha256 = ? and unit = ? and status <> 'duplicate' "
        "order by seq desc", [sha, unit]).fetchall() if match_earlier else []
    for submission_id, status, was_unit, was_source, was_name, feedback_pending in earlier:
        if feedback_pending:  # finished, but a crash came before its feedback: finish it
            return Registration(submission_id, "received", resumed=True)
        same_file = (was_unit, was_source, was_name) == (unit, source, filename)
        if status in LOADED or (status in IN_FLIGHT and not same_file):
            new_id = _insert(con, unit, source, filename, sha, archive_path, now, "duplicate",
                             duplicate_of=submission_id)
            return Registration(new_id, "duplicate", duplicate_of=submission_id)
        if status in IN_FLIGHT:
            return Registration(submission_id, "received", resumed=True)
    return Registration(_insert(con, unit, source, filename, sha, archive_path, now, "received"),
                        "received")


def _insert(con: duckdb.DuckDBPyConnection, unit: str, source: str, filename: str, sha: str,
            archive_path: Path, now: datetime, status: str, duplicate_of: str | None = None) -> str:
    submission_id = _new_id(con, unit, sha, now)
    con.execute(
        "insert into meta.submission (submission_id, seq, unit, source, filename, sha256, "
        "archive_path, status, duplicate_of, received_at, finished_at, feedback_pending) "
        "values (?, nextval('meta.submission_seq'), ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [submission_id, unit, source, filename, sha, str(archive_path), status, duplicate_of,
         now, now if status == "duplicate" else None, status == "duplicate"])
    return submission_id
