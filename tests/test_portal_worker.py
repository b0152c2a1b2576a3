"""The portal's worker in-process: a queued upload goes through the ingest steps; an upload it
cannot process is retried, then marked failed (the unit is told, the bytes stay archived)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from pipelines.portal import submissions as subs
from pipelines.portal import worker
from pipelines.portal.store import Upload, session_scope
from pipelines.settings import DataHome
from tests.portal_server import audit_drop

pytestmark = pytest.mark.integration


def _queue(home: DataHome, path: Path) -> str:
    with session_scope(home) as db:
        return subs.accept_upload(db, home, unit="AUD", sent_by="aud-clerk",
                                  source="audit_finding", filename=path.name,
                                  data=path.read_bytes()).upload_id


def test_a_queued_upload_becomes_a_receipt(home: DataHome, tmp_path: Path) -> None:
    upload_id = _queue(home, audit_drop(tmp_path / "审计.csv"))
    assert worker.run_once(home) == 1
    with session_scope(home) as db:
        found = subs.find(db, home, "AUD", upload_id)
        assert found is not None and found.upload is not None
        assert found.upload.status == "partially_accepted" == found.status
        assert found.receipt["submission_id"] == found.upload.submission_id
        assert subs.find(db, home, "PET", upload_id) is None
    assert worker.run_once(home) == 0  # nothing left


def test_an_upload_that_keeps_failing_is_marked_failed(home: DataHome, tmp_path: Path) -> None:
    upload_id = _queue(home, audit_drop(tmp_path / "审计.csv"))
    with session_scope(home) as db:
        archived = Path(db.get(Upload, upload_id).archive_path)
    os.chmod(archived, 0o644)
    archived.unlink()  # e.g. the archive volume lost it
    for _ in range(worker.MAX_ATTEMPTS):
        worker.run_once(home)
    with session_scope(home) as db:
        upload = db.get(Upload, upload_id)
        assert (upload.status, upload.attempts) == ("failed", worker.MAX_ATTEMPTS)
        assert upload.last_error == "FileNotFoundError"
        assert subs.find(db, home, "AUD", upload_id).settled
    assert worker.pending_uploads(home) == []
