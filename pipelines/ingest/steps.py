"""Ingest: the steps receive -> parse -> validate -> load, as functions of a submission id.

The same functions run from the CLI (``cadre submit``, ``cadre ingest``), from tests and as
Airflow tasks (one task per step). Between steps the intermediate frames are kept in the data
folder's ``work/<submission_id>/`` (pickles: internal, same code version, deleted after load),
so each step can run in its own process. Anything a step cannot finish is re-done from the
archived original bytes on the next run: the archive, not the work folder, is the truth.
"""

from __future__ import annotations

import json
import logging
import pickle
import shutil
from datetime import datetime
from pathlib import Path

from pipelines import contracts, warehouse
from pipelines.ingest.load import load_submission, refuse_submission, set_status
from pipelines.ingest.parse import ParsedDrop, parse_file
from pipelines.ingest.readers import FileRefusal
from pipelines.ingest.reasons import BY_CODE
from pipelines.ingest.receipt import Issue, Receipt
from pipelines.ingest.receive import IN_FLIGHT, archive_bytes, register
from pipelines.ingest.validate import ValidatedDrop, validate_drop
from pipelines.settings import DataHome

log = logging.getLogger(__name__)
IGNORED_INBOX_FILES = ("~$", ".")  # Excel lock files, hidden and partially copied files


def _now() -> datetime:
    return datetime.now().replace(microsecond=0)


def _work_dir(home: DataHome, submission_id: str) -> Path:
    return home.work / submission_id


def _submission(home: DataHome, submission_id: str) -> dict[str, object]:
    with warehouse.writer(home.warehouse_file) as con:
        row = con.execute("select * from meta.submission where submission_id = ?",
                          [submission_id]).fetchone()
        names = [d[0] for d in con.description]
    if row is None:
        raise KeyError(f"unknown submission {submission_id}")
    return dict(zip(names, row, strict=True))


def _refuse(home: DataHome, submission_id: str, issue: Issue, rows_read: int = 0) -> None:
    with warehouse.writer(home.warehouse_file) as con:
        refuse_submission(con, submission_id, issue, _now(), rows_read)
    log.warning("submission %s refused: %s", submission_id, issue.message_zh)
    finish(home, submission_id)


def unit_problem(unit: str, source: str) -> Issue | None:
    """Why this unit may not send this source, or None."""
    units = contracts.load_units()
    if source not in contracts.source_names():
        return Issue.make("source_unknown", value=source, detail="、".join(contracts.source_names()))
    if unit not in units:
        return Issue.make("unit_unknown", value=unit, detail="、".join(units))
    if source not in units[unit].sources:
        return Issue.make("unit_not_allowed", value=f"{unit} {units[unit].name_zh}",
                          detail=contracts.load_contract(source).title_zh)
    return None


def receive_step(path: Path, unit: str, source: str, home: DataHome) -> str:
    """Archive the file's bytes, register it; returns the submission id."""
    return receive_bytes(path.read_bytes(), path.name, unit, source, home)


def receive_bytes(data: bytes, filename: str, unit: str, source: str, home: DataHome) -> str:
    """The receive step on bytes already in hand (the portal's uploads); ``filename`` is only
    recorded, never used as a path.

    A unit sending a source it may not send is refused here, after the archive and before the
    duplicate check: the refusal must not depend on (nor reveal) what another unit sent."""
    home.ensure()
    sha, archived = archive_bytes(data, filename, home)
    problem = unit_problem(unit, source)
    with warehouse.writer(home.warehouse_file) as con:
        registration = register(con, unit=unit, source=source, filename=filename, sha=sha,
                                archive_path=archived, now=_now(),
                                match_earlier=problem is None)
    log.info("received %s from %s as %s (%s)", filename, unit, registration.submission_id,
             registration.status)
    if problem is not None:
        _refuse(home, registration.submission_id, problem)
    elif registration.status == "duplicate":
        finish(home, registration.submission_id)
    return registration.submission_id


def parse_step(submission_id: str, home: DataHome) -> bool:
    """Parse the archived bytes; False when the file was refused."""
    sub = _submission(home, submission_id)
    if sub["status"] not in IN_FLIGHT:
        return False
    contract = contracts.load_contract(str(sub["source"]))
    try:
        parsed = parse_file(Path(str(sub["archive_path"])).read_bytes(), str(sub["filename"]),
                            contract)
    except FileRefusal as refusal:
        _refuse(home, submission_id, Issue.make(refusal.reason, value=refusal.value,
                                                detail=refusal.detail))
        return False
    work = _work_dir(home, submission_id)
    work.mkdir(parents=True, exist_ok=True)
    (work / "parsed.pickle").write_bytes(pickle.dumps(parsed))
    with warehouse.writer(home.warehouse_file) as con:
        set_status(con, submission_id, "parsed")
    return True


def _load_work(home: DataHome, submission_id: str, name: str) -> object | None:
    path = _work_dir(home, submission_id) / name
    return pickle.loads(path.read_bytes()) if path.exists() else None


def validate_step(submission_id: str, home: DataHome) -> bool:
    """Run the GX suite; False when there is nothing (left) to validate."""
    sub = _submission(home, submission_id)
    if sub["status"] not in IN_FLIGHT:
        return False
    parsed = _load_work(home, submission_id, "parsed.pickle")
    if not isinstance(parsed, ParsedDrop):  # work folder lost: parse again from the archive
        if not parse_step(submission_id, home):
            return False
        parsed = _load_work(home, submission_id, "parsed.pickle")
    assert isinstance(parsed, ParsedDrop)
    validated = validate_drop(parsed, contracts.load_contract(str(sub["source"])))
    (_work_dir(home, submission_id) / "validated.pickle").write_bytes(
        pickle.dumps((validated, parsed.extra_columns)))
    with warehouse.writer(home.warehouse_file) as con:
        set_status(con, submission_id, "validated")
    return True


def load_step(submission_id: str, home: DataHome) -> Receipt:
    """Load in one transaction, write the unit's feedback; returns the receipt."""
    sub = _submission(home, submission_id)
    if sub["status"] in IN_FLIGHT:
        stored = _load_work(home, submission_id, "validated.pickle")
        if stored is None:
            if not validate_step(submission_id, home):
                return finish(home, submission_id)
            stored = _load_work(home, submission_id, "validated.pickle")
        validated, extra_columns = stored  # type: ignore[misc]
        assert isinstance(validated, ValidatedDrop)
        with warehouse.writer(home.warehouse_file) as con:
            status = load_submission(con, submission_id,
                                     contracts.load_contract(str(sub["source"])), validated,
                                     extra_columns, _now())
        log.info("submission %s %s: %d read, %d accepted, %d quarantined", submission_id,
                 status, validated.rows_read, validated.rows_accepted, validated.rows_quarantined)
    return finish(home, submission_id)


def finish(home: DataHome, submission_id: str) -> Receipt:
    """Clean the work folder, write the feedback report, return the receipt."""
    shutil.rmtree(_work_dir(home, submission_id), ignore_errors=True)
    receipt = receipt_for(home, submission_id)
    from pipelines.ingest.feedback import write_feedback  # noqa: PLC0415 - optional heavy import

    receipt.feedback_files = [str(p) for p in
                              write_feedback(receipt, home.outbox_for(receipt.unit))]
    write_receipt_json(receipt, home.outbox_for(receipt.unit))
    return receipt


def write_receipt_json(receipt: Receipt, out_dir: Path) -> Path:
    """``<submission_id>.receipt.json`` beside the feedback reports: the final receipt as
    ``cadre submit --json`` prints it, so readers (the portal) need not open the warehouse."""
    target = out_dir / f"{receipt.submission_id}.receipt.json"
    partial = target.with_name(f".{target.name}.partial")
    partial.write_text(json.dumps(receipt.to_json_dict(), ensure_ascii=False, indent=1),
                       encoding="utf-8")
    partial.replace(target)  # atomic: a reader sees the whole receipt or none
    return target


def receipt_for(home: DataHome, submission_id: str) -> Receipt:
    """The receipt of a submission, read back from the warehouse (its one record)."""
    sub = _submission(home, submission_id)
    with warehouse.writer(home.warehouse_file) as con:
        rows = con.execute(
            "select reason, message_zh, fix_zh, source_row, column_name, header, value "
            "from meta.submission_issue where submission_id = ? "
            "order by case scope when 'file' then 0 when 'row' then 1 else 2 end, "
            "source_row nulls first, column_name", [submission_id]).fetchall()
    issues = [Issue(reason=r[0], message_zh=r[1], fix_zh=r[2], source_row=r[3], column=r[4],
                    header=r[5], value=r[6]) for r in rows]
    summary: dict[str, int] = {}  # what went wrong, most frequent first
    for issue in issues:
        key = issue.message_zh if issue.scope != "row" else \
            f"“{issue.header or issue.column}”{BY_CODE[issue.reason].label_zh}"
        summary[key] = summary.get(key, 0) + 1
    return Receipt(
        submission_id=submission_id, unit=str(sub["unit"]), source=str(sub["source"]),
        filename=str(sub["filename"]), sha256=str(sub["sha256"]), status=str(sub["status"]),
        rows_read=int(sub["rows_read"]), rows_accepted=int(sub["rows_accepted"]),  # type: ignore[call-overload]
        rows_quarantined=int(sub["rows_quarantined"]),  # type: ignore[call-overload]
        refusal_reason=sub["refusal_reason"],  # type: ignore[arg-type]
        reasons=[f"{m}（{n}行）" if n > 1 else m
                 for m, n in sorted(summary.items(), key=lambda kv: -kv[1])],
        issues=issues, extra_columns=list(sub["extra_columns"] or []),  # type: ignore[call-overload]
        duplicate_of=sub["duplicate_of"],  # type: ignore[arg-type]
        received_at=str(sub["received_at"]),
        finished_at=None if sub["finished_at"] is None else str(sub["finished_at"]),
    )


def submit_file(path: Path, unit: str, source: str, home: DataHome) -> Receipt:
    """Receive, parse, validate and load one file now; the CLI's ``cadre submit``.

    One writer connection serves all the steps of this one file (see ``warehouse.writer``)."""
    with warehouse.writer(home.warehouse_file):
        submission_id = receive_step(path, unit, source, home)
        return load_step(submission_id, home)


def receive_inbox(source: str, home: DataHome) -> list[str]:
    """Take every file waiting in ``inbox/<unit>/<source>/``; returns the submission ids still
    to process, including any left in flight by an earlier crashed run."""
    home.ensure()
    for unit_dir in sorted(p for p in home.inbox.iterdir() if p.is_dir()):
        folder = unit_dir / source
        if not folder.is_dir():
            continue
        for path in sorted(folder.iterdir()):
            if path.is_file() and not path.name.startswith(IGNORED_INBOX_FILES):
                receive_step(path, unit_dir.name, source, home)
                path.unlink()  # its bytes are in the archive
    with warehouse.writer(home.warehouse_file) as con:
        pending = con.execute(
            "select submission_id from meta.submission where source = ? and status in "
            "('received', 'parsed', 'validated') order by seq", [source]).fetchall()
    return [r[0] for r in pending]


def pending_submissions(home: DataHome, submission_ids: list[str]) -> list[dict[str, str]]:
    """Submission id, unit, source and file name of each id: what a mapped task is labelled
    with (``<unit> <file>``) and carries from step to step."""
    if not submission_ids:
        return []
    with warehouse.writer(home.warehouse_file) as con:
        rows = con.execute(
            "select submission_id, unit, source, filename from meta.submission "
            "where submission_id in (select unnest(?::varchar[])) order by seq",
            [submission_ids]).fetchall()
    return [{"submission_id": r[0], "unit": r[1], "source": r[2], "filename": r[3]}
            for r in rows]


def ingest_inbox(home: DataHome, sources: list[str] | None = None) -> list[Receipt]:
    """Process every inbox (or those of ``sources``) without Airflow: ``cadre ingest``."""
    receipts = []
    for source in sources or contracts.source_names():
        for submission_id in receive_inbox(source, home):
            with warehouse.writer(home.warehouse_file):  # one connection per submission
                receipts.append(load_step(submission_id, home))
    return receipts
