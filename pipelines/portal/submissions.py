"""What the web process knows about submissions, without ever opening the warehouse.

- An upload is archived by ``pipelines.ingest.receive.archive_bytes`` (under its sha256,
  read-only: the file name is never a path) and queued as an ``Upload`` row; the worker then
  runs the ingest steps on it. The unit polls the upload id it got back.
- A final receipt is the JSON file the ingest step writes beside the feedback reports,
  ``outbox/<UNIT>/<submission_id>.receipt.json``: the same receipt ``cadre submit --json``
  prints, whichever way the file came in (portal, inbox, CLI).

Every lookup is scoped to a unit (``None`` = every unit, for ORG's admin role): a submission of
another unit is simply not found, so the caller answers 404 and learns nothing.
"""

from __future__ import annotations

import json
import re
import secrets
import unicodedata
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from pipelines import contracts
from pipelines.ingest.receive import archive_bytes
from pipelines.portal.store import Upload, utcnow
from pipelines.settings import DataHome

ID_PATTERN = re.compile(r"^[A-Za-z0-9-]{1,64}$")
UPLOAD_PREFIX = "up-"
FINAL = ("accepted", "partially_accepted", "refused", "duplicate")
STATUS_ZH = {
    "queued": "已上传，排队等待处理",
    "processing": "处理中",
    "received": "已收到，处理中",
    "parsed": "已读取，正在校验",
    "validated": "已校验，正在入库",
    "accepted": "全部接收",
    "partially_accepted": "部分接收",
    "refused": "拒收",
    "duplicate": "重复报送（未重复入库）",
    "failed": "处理失败（文件已保存，请联系管理员）",
}
MAX_FILENAME = 200


class UploadRefused(ValueError):
    """An upload the portal will not queue; ``message_zh`` is for the unit, ``status`` the
    HTTP status (403: source not allowed, 400: empty or unreadable)."""

    def __init__(self, message_zh: str, status: int = 400) -> None:
        super().__init__(message_zh)
        self.message_zh = message_zh
        self.status = status


def clean_filename(name: str | None) -> str:
    """The name as recorded and shown: control characters (NUL, line breaks) removed, at most
    ``MAX_FILENAME`` characters (keeping the extension). It is text only: the bytes live under
    their hash, so ``../`` in a name can reach nothing."""
    text = "".join(ch for ch in (name or "") if unicodedata.category(ch)[0] != "C").strip()
    if len(text) > MAX_FILENAME:
        suffix = Path(text).suffix[:16]
        text = text[:MAX_FILENAME - len(suffix) - 1] + "…" + suffix
    return text or "未命名文件"


def allowed_sources(unit: str) -> tuple[str, ...]:
    units = contracts.load_units()
    return units[unit].sources if unit in units else ()


def accept_upload(db: Session, home: DataHome, *, unit: str, sent_by: str, source: str,
                  filename: str | None, data: bytes) -> Upload:
    """Check the unit may send ``source`` (first of all), archive the bytes, queue them."""
    if source not in allowed_sources(unit):
        known = source in contracts.source_names()
        raise UploadRefused(f"本单位不能报送“{contracts.load_contract(source).title_zh}”"
                            if known else f"未知的数据类别：{source}", 403 if known else 400)
    if not data:
        raise UploadRefused("文件是空的，请重新选择文件")
    name = clean_filename(filename)
    sha, archived = archive_bytes(data, name, home)
    upload = Upload(upload_id=f"{UPLOAD_PREFIX}{utcnow():%Y%m%d}-{secrets.token_hex(6)}",
                    unit=unit, sent_by=sent_by, source=source, filename=name, sha256=sha,
                    size=len(data), archive_path=str(archived), status="queued",
                    created_at=utcnow(), updated_at=utcnow())
    db.add(upload)
    db.flush()
    return upload


@dataclass
class Listed:
    """One line of 我的报送."""

    id: str  # the warehouse submission id once known, else the upload id
    unit: str
    source: str
    filename: str
    status: str
    received_at: str
    rows_read: int | None = None
    rows_accepted: int | None = None
    rows_quarantined: int | None = None

    @property
    def status_zh(self) -> str:
        return STATUS_ZH.get(self.status, self.status)

    @property
    def final(self) -> bool:
        return self.status in FINAL

    @property
    def source_zh(self) -> str:
        try:
            return contracts.load_contract(self.source).title_zh
        except (KeyError, FileNotFoundError):
            return self.source


_RECEIPT_CACHE: dict[Path, tuple[float, dict[str, Any]]] = {}


def _read_receipt(path: Path) -> dict[str, Any]:
    mtime = path.stat().st_mtime
    cached = _RECEIPT_CACHE.get(path)
    if cached is None or cached[0] != mtime:
        cached = (mtime, json.loads(path.read_text(encoding="utf-8")))
        _RECEIPT_CACHE[path] = cached
    return cached[1]


def _unit_dirs(home: DataHome, unit: str | None) -> list[Path]:
    if unit is not None:
        return [home.outbox_for(unit)]
    return sorted(p for p in home.outbox.iterdir() if p.is_dir()) if home.outbox.is_dir() else []


def receipt(home: DataHome, unit: str | None, submission_id: str) -> dict[str, Any] | None:
    """A final receipt of ``unit`` (None: any unit), or None."""
    if not ID_PATTERN.match(submission_id):
        return None
    for folder in _unit_dirs(home, unit):
        path = folder / f"{submission_id}.receipt.json"
        if path.is_file():
            return _read_receipt(path)
    return None


def find_upload(db: Session, unit: str | None, upload_id: str) -> Upload | None:
    if not ID_PATTERN.match(upload_id):
        return None
    upload = db.get(Upload, upload_id)
    return upload if upload is not None and (unit is None or upload.unit == unit) else None


@dataclass
class Found:
    """A submission as a page or the API shows it: the upload (portal) and/or the receipt."""

    id: str
    unit: str
    upload: Upload | None
    receipt: dict[str, Any] | None

    @property
    def status(self) -> str:
        if self.receipt is not None:
            return str(self.receipt["status"])
        assert self.upload is not None
        return self.upload.status

    @property
    def final(self) -> bool:
        return self.status in FINAL

    @property
    def settled(self) -> bool:
        """Nothing more will happen by itself (final, or the worker gave up)."""
        return self.final or self.status == "failed"


def find(db: Session, home: DataHome, unit: str | None, any_id: str) -> Found | None:
    """A submission by its upload id or its warehouse id, within ``unit``'s own."""
    if any_id.startswith(UPLOAD_PREFIX):
        upload = find_upload(db, unit, any_id)
        if upload is None:
            return None
        final = receipt(home, upload.unit, upload.submission_id) if upload.submission_id else None
        return Found(any_id, upload.unit, upload, final)
    found = receipt(home, unit, any_id)
    if found is not None:
        return Found(any_id, str(found["unit"]), None, found)
    upload = db.scalar(select(Upload).where(Upload.submission_id == any_id))
    if upload is not None and (unit is None or upload.unit == unit) and ID_PATTERN.match(any_id):
        return Found(any_id, upload.unit, upload, None)
    return None


def listing(db: Session, home: DataHome, unit: str | None) -> list[Listed]:
    """Every submission of ``unit`` (None: all), newest first: final receipts from the outbox
    (whatever way the file came in) and portal uploads not final yet."""
    rows: dict[str, Listed] = {}
    for folder in _unit_dirs(home, unit):
        for path in folder.glob("*.receipt.json"):
            r = _read_receipt(path)
            rows[r["submission_id"]] = Listed(
                id=r["submission_id"], unit=r["unit"], source=r["source"],
                filename=r["filename"], status=r["status"], received_at=r["received_at"] or "",
                rows_read=r["rows_read"], rows_accepted=r["rows_accepted"],
                rows_quarantined=r["rows_quarantined"])
    query = select(Upload).where(Upload.status.not_in(FINAL))
    if unit is not None:
        query = query.where(Upload.unit == unit)
    for upload in db.scalars(query):
        if upload.submission_id and upload.submission_id in rows:
            continue
        rows[upload.upload_id] = Listed(
            id=upload.upload_id, unit=upload.unit, source=upload.source,
            filename=upload.filename, status=upload.status,
            received_at=shown_time(upload.created_at))
    return sorted(rows.values(), key=lambda r: r.received_at, reverse=True)


def shown_time(moment: datetime) -> str:
    """Store times are UTC; receipts carry the pipeline's local time: show both alike."""
    return moment.replace(tzinfo=UTC).astimezone().replace(tzinfo=None).isoformat(sep=" ")


def outbox_file(home: DataHome, found: Found, kind: str) -> Path | None:
    """The feedback report (``xlsx`` / ``html``) named in the receipt, inside the unit's outbox."""
    if found.receipt is None:
        return None
    folder = home.outbox_for(found.unit).resolve()
    for name in found.receipt.get("feedback_files", []):
        path = (folder / Path(name).name).resolve()
        if path.suffix == f".{kind}" and path.parent == folder and path.is_file():
            return path
    return None


def original_file(home: DataHome, found: Found) -> tuple[Path, str] | None:
    """The archived original bytes and the name to offer them under."""
    sha = found.receipt["sha256"] if found.receipt else found.upload.sha256 if found.upload \
        else None
    name = found.receipt["filename"] if found.receipt else found.upload.filename \
        if found.upload else ""
    if not sha or not re.fullmatch(r"[0-9a-f]{64}", sha):
        return None
    folder = home.archive / sha[:2]
    matches = sorted(folder.glob(f"{sha}*")) if folder.is_dir() else []
    return (matches[0], name) if matches else None


def public_receipt(found: dict[str, Any]) -> dict[str, Any]:
    """The receipt JSON as the API gives it: ``cadre submit --json``'s, except that the
    feedback files are named, not given as server paths."""
    return {**found, "feedback_files": [Path(p).name for p in found.get("feedback_files", [])]}
