"""The portal's worker in-process: a queued upload goes through the ingest steps; an upload it
cannot process is retried, then marked failed (the unit is told, the bytes stay archived)."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from pipelines.contracts import source_names
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


def test_the_worker_sets_up_gx_before_the_first_upload(home: DataHome) -> None:
    """At start the worker sets up every source's GX Checkpoint (and so imports GX), so the
    first unit to upload does not wait for it. A parent that is not ours ends the loop at
    once: only the start runs here."""
    gx_files = home.gx_project
    assert not (gx_files / "checkpoints").exists()
    worker.run_forever(home, parent_pid=-1)
    expected = sorted(source_names())
    assert sorted(p.stem for p in (gx_files / "checkpoints").glob("*.json")) == expected
    assert sorted(p.stem for p in (gx_files / "validation_definitions").glob("*.json")) == [
        f"{source}_drop" for source in expected]
    assert not list((gx_files / "uncommitted" / "validations").rglob("*.json"))  # nothing run


@pytest.mark.slow
def test_the_worker_does_not_outlive_a_killed_server(home: DataHome) -> None:
    """`cadre portal serve` killed outright (no clean-up runs) leaves no worker behind."""
    import signal
    import subprocess
    import sys

    import httpx
    import psutil

    from tests.portal_server import free_port, portal_env

    port = free_port()
    server = subprocess.Popen([sys.executable, "-m", "pipelines.cli.main", "portal", "serve",
                               "--port", str(port)], env=portal_env(home),
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        for _ in range(300):
            try:
                if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            psutil.Process(server.pid)  # raises if the server died
            time.sleep(0.2)
        workers = psutil.Process(server.pid).children()
        assert len(workers) == 1 and "worker" in workers[0].cmdline()
        server.send_signal(signal.SIGKILL)
        server.wait()
        gone, alive = psutil.wait_procs(workers, timeout=30)
        assert alive == [], "the worker outlived its server"
    finally:
        if server.poll() is None:
            server.kill()
            server.wait()
