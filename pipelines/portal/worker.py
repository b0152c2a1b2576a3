"""The portal's worker: the only portal process that opens the warehouse.

It takes queued uploads, oldest first, through the ingest steps the CLI and the DAGs use
(``receive_bytes`` -> ``parse_step`` -> ``validate_step`` -> ``load_step``, all of
``pipelines.ingest.steps``): one path in. The receipt it produces is the one ``cadre submit``
gives, and the ingest step writes it to the unit's outbox as JSON, where the web process reads
it. Between steps the upload's status in the portal store moves (received, parsed, validated,
final), which is what the unit's page shows. It sets up GX when it starts, so the first upload
does not pay for GX's import.

It also records reviewers' decisions (``record_decision``, the state machine behind
``cadre decide``) and refreshes the 线索与决定 view (a JSON file) when the warehouse changed.
When a DAG holds the writer, the worker waits for it (the warehouse's own lock wait) and the
web process keeps answering; an upload whose run failed stays queued and is retried.
"""

from __future__ import annotations

import json
import logging
import os
import time
from datetime import date
from pathlib import Path
from typing import Any

from sqlalchemy import select

from pipelines import warehouse
from pipelines.ingest import steps, validate
from pipelines.portal.store import DecisionRequest, Upload, session_scope, utcnow
from pipelines.settings import DataHome

log = logging.getLogger(__name__)
POLL_SECONDS = 1.0
MAX_ATTEMPTS = 5


def _set(home: DataHome, upload_id: str, **values: Any) -> None:
    with session_scope(home) as db:
        upload = db.get(Upload, upload_id)
        assert upload is not None
        for name, value in values.items():
            setattr(upload, name, value)
        upload.updated_at = utcnow()


def process_upload(home: DataHome, upload_id: str) -> str:
    """Run one upload through the ingest steps; returns its final status.

    Safe to repeat after a crash: receiving the same bytes again resumes the submission a
    crash left in flight (``pipelines.ingest.receive``)."""
    with session_scope(home) as db:
        upload = db.get(Upload, upload_id)
        assert upload is not None
        upload.status, upload.attempts = "processing", upload.attempts + 1
        unit, source, filename = upload.unit, upload.source, upload.filename
        archived = Path(upload.archive_path)
    data = archived.read_bytes()
    with warehouse.writer(home.warehouse_file):  # one connection for this file, as cadre submit
        submission_id = steps.receive_bytes(data, filename, unit, source, home)
        _set(home, upload_id, submission_id=submission_id, status="received")
        if steps.parse_step(submission_id, home):
            _set(home, upload_id, status="parsed")
            if steps.validate_step(submission_id, home):
                _set(home, upload_id, status="validated")
        receipt = steps.load_step(submission_id, home)
    _set(home, upload_id, status=receipt.status, last_error=None)
    log.info("portal upload %s -> %s %s", upload_id, submission_id, receipt.status)
    return receipt.status


def pending_uploads(home: DataHome) -> list[str]:
    with session_scope(home) as db:
        return list(db.scalars(
            select(Upload.upload_id)
            .where(Upload.status.in_(("queued", "processing", "received", "parsed",
                                      "validated")), Upload.attempts < MAX_ATTEMPTS)
            .order_by(Upload.created_at, Upload.upload_id)))


def process_decision(home: DataHome, request_id: int) -> bool:
    """Record one reviewer's decision request; True when it was recorded."""
    from pipelines.review import decisions  # noqa: PLC0415 - only reviewers' requests need it

    with session_scope(home) as db:
        request = db.get(DecisionRequest, request_id)
        assert request is not None
        fields = json.loads(request.fields_json)
        decision = decisions.Decision(
            flag_id=request.flag_id, action=request.action,
            decided_on=date.fromisoformat(fields["decided_on"]), decided_by=request.decided_by,
            reason=fields.get("reason", ""), document_no=fields.get("document_no") or None,
            measure=fields.get("measure") or None,
            observe_until=date.fromisoformat(fields["observe_until"])
            if fields.get("observe_until") else None, remark=fields.get("remark") or None)
    try:
        with warehouse.writer(home.warehouse_file) as con:
            # the reviewer's account is a known decider (rules.md, "Who decided is a known
            # person"); one the department disabled is refused here
            decisions.recognise_portal_account(con, decision.decided_by, "门户审核账号")
            recorded = decisions.record_decision(con, decision, via="portal")
        status, message = "recorded", (f"已登记：{decisions.STATES_ZH[recorded.from_state]}→"
                                       f"{decisions.STATES_ZH[recorded.to_state]}")
    except decisions.DecisionRefused as refused:
        status, message = "refused", refused.message_zh
    with session_scope(home) as db:
        request = db.get(DecisionRequest, request_id)
        assert request is not None
        request.status, request.message_zh, request.done_at = status, message, utcnow()
    return status == "recorded"


def pending_decisions(home: DataHome) -> list[int]:
    with session_scope(home) as db:
        return list(db.scalars(select(DecisionRequest.id)
                               .where(DecisionRequest.status == "queued")
                               .order_by(DecisionRequest.id)))


def run_once(home: DataHome) -> int:
    """Process what is waiting; returns how many items were handled."""
    done = 0
    for upload_id in pending_uploads(home):
        try:
            process_upload(home, upload_id)
        except Exception as exc:  # noqa: BLE001 - keep serving; the upload is retried
            log.exception("portal upload %s failed", upload_id)
            with session_scope(home) as db:
                upload = db.get(Upload, upload_id)
                assert upload is not None
                given_up = upload.attempts >= MAX_ATTEMPTS
            # after MAX_ATTEMPTS the unit is told (its bytes stay archived; an engineer can
            # re-queue it by setting the status back to queued and attempts to 0)
            _set(home, upload_id, status="failed" if given_up else "queued",
                 last_error=type(exc).__name__)
        done += 1
    requests = pending_decisions(home)
    recorded = [process_decision(home, request_id) for request_id in requests]
    done += len(requests)
    if any(recorded):  # as `cadre decide`: every decision reaches the published snapshots
        from pipelines.publish.snapshot import publish  # noqa: PLC0415

        publish(home)
    from pipelines.portal import flags  # noqa: PLC0415

    flags.refresh_if_changed(home, force=bool(requests))
    return done


def run_forever(home: DataHome, poll_seconds: float = POLL_SECONDS,
                parent_pid: int | None = None) -> None:
    """Poll for work until stopped; with ``parent_pid``, until that process is gone too (a
    ``cadre portal serve`` killed without running its clean-up leaves no worker behind)."""
    log.info("portal worker on %s", home.root)
    try:  # GX's fixed cost now, not in the first unit's wait
        validate.warm_up(home)
    except Exception:  # noqa: BLE001 - the first upload meets the same error and reports it
        log.exception("portal worker: GX warm-up failed; validating without it")
    while parent_pid is None or os.getppid() == parent_pid:
        try:
            if run_once(home) == 0:
                time.sleep(poll_seconds)
        except Exception:  # noqa: BLE001 - e.g. the writer busy past its wait: try again
            log.exception("portal worker round failed; retrying")
            time.sleep(poll_seconds * 5)
