"""Ingest: the steps receive -> parse -> validate -> load, as functions of a submission id.

The same functions run from the CLI (``cadre submit``, ``cadre ingest``), from tests and as
Airflow tasks (one task per step). Between steps the intermediate frames are kept in the data
folder's ``work/<submission_id>/`` (pickles: internal, same code version, deleted after load),
so each step can run in its own process. Anything a step cannot finish is re-done from the
archived original bytes on the next run: the archive, not the work folder, is the truth.
"""

from __future__ import annotations

import gc
import logging
import os
import pickle
import shutil
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path

import duckdb

from pipelines import contracts, warehouse
from pipelines.ingest import identity, withdraw
from pipelines.ingest.crash import crashpoint
from pipelines.ingest.errors import (
    MAX_ATTEMPTS,
    EnvironmentFault,
    InputRefused,
    classify,
    describe,
    is_environment_fault,
)
from pipelines.ingest.load import load_submission, refuse_submission, set_status
from pipelines.ingest.parse import ParsedDrop, parse_file
from pipelines.ingest.reasons import BY_CODE
from pipelines.ingest.receipt import Issue, Receipt
from pipelines.ingest.receive import IN_FLIGHT, archive_bytes, display_name, register
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


def _refuse(home: DataHome, submission_id: str, issue: Issue, rows_read: int = 0,
            error: str | None = None, notes: list[Issue] | None = None) -> None:
    with warehouse.writer(home.warehouse_file) as con:
        refuse_submission(con, submission_id, issue, _now(), rows_read, error, notes)
    log.warning("submission %s refused: %s%s", submission_id, issue.reason,
                f" ({error})" if error else "")
    finish(home, submission_id)


def _refuse_for(home: DataHome, submission_id: str, refusal: InputRefused) -> None:
    _refuse(home, submission_id,
            Issue.make(refusal.reason, value=refusal.value, detail=refusal.detail),
            error=refusal.engineer_detail)


def _record_fault(home: DataHome, submission_id: str, exc: BaseException) -> int:
    """Count an environment fault on the submission; the same fault ``MAX_ATTEMPTS`` times in a
    row parks it as ``failed`` (never retried for ever). Returns the count (0: not recorded,
    e.g. the warehouse itself is what failed)."""
    error = describe(exc)
    try:
        with warehouse.writer(home.warehouse_file) as con:
            row = con.execute("select attempts, error, status from meta.submission "
                              "where submission_id = ?", [submission_id]).fetchone()
            if row is None or row[2] not in IN_FLIGHT:
                return 0
            attempts = (row[0] or 0) + 1 if row[1] == error else 1
            parked = attempts >= MAX_ATTEMPTS
            con.execute("update meta.submission set attempts = ?, error = ?, "
                        "status = case when ? then 'failed' else status end, "
                        "finished_at = case when ? then ? else finished_at end "
                        "where submission_id = ?",
                        [attempts, error, parked, parked, _now(), submission_id])
    except Exception:  # noqa: BLE001 - the fault may be the warehouse itself
        log.exception("submission %s: could not record the fault %s", submission_id, error)
        return 0
    if parked:
        log.error("submission %s parked as failed after %d attempts: %s", submission_id,
                  attempts, error)
    else:
        log.error("submission %s left to retry (attempt %d of %d): %s", submission_id,
                  attempts, MAX_ATTEMPTS, error)
    return attempts


@contextmanager
def guarded(home: DataHome, submission_id: str, step: str,
            reason: str = "unreadable_file", detail: str = "文件已损坏、无法打开") -> Iterator[None]:
    """Every step of a submission runs inside: a problem of the input refuses it (raised as
    ``StepRefused`` after the refusal is recorded), a fault of the machine is counted
    (``_record_fault``) and raised as ``EnvironmentFault`` for the caller (Airflow retries
    the task, the CLI reports it), so no exception leaves a submission in flight unnoticed."""
    try:
        yield
    except InputRefused as refusal:
        _refuse_for(home, submission_id, refusal)
        raise StepRefused(submission_id) from refusal
    except Exception as exc:
        kind = classify(exc, reason, detail)
        if isinstance(kind, InputRefused):
            log.error("submission %s: %s step refused the file on %s", submission_id, step,
                      describe(exc))
            kind.__cause__ = exc
            _refuse_for(home, submission_id, kind)
            raise StepRefused(submission_id) from exc
        attempts = _record_fault(home, submission_id, exc)
        raise EnvironmentFault(f"submission {submission_id}: {step} step: {describe(exc)}"
                               + (" (parked as failed)" if attempts >= MAX_ATTEMPTS else "")
                               ) from exc


@contextmanager
def gc_paused() -> Iterator[None]:
    """Python's cyclic garbage collector paused for the block (restored as it was after).

    Why: loading an evidence file sent before the roster makes hundreds of thousands of small
    objects (an issue per row, then its receipt, report and XLSX rows), none of them in a
    reference cycle; each automatic collection walks them all again, about a quarter of the
    load step's time. Parsing is alike (a CSV file is read as a list per row and a string per
    cell before it becomes columns), and so is validating: paused, both took about a seventh
    less time. What becomes garbage is still freed at once by reference counting; what is
    left in a cycle, at the first collection after the block."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


class StepRefused(Exception):
    """Internal: the submission was refused inside a step (already recorded)."""


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


def _os_error(exc: OSError) -> str:
    """An OS error without the path it names (a path in the inbox holds the unit's file name,
    which may name a cadre); the exception itself stays chained, for the task log."""
    return f"{type(exc).__name__}: [Errno {exc.errno}] {exc.strerror}"


def receive_step(path: Path, unit: str, source: str, home: DataHome) -> str:
    """Archive the file's bytes, register it; returns the submission id."""
    try:
        data = path.read_bytes()
    except OSError as exc:  # the message goes into alerts: no file name (a unit's free text)
        raise EnvironmentFault(f"cannot read a file in inbox/{unit}/{source}: "
                               f"{_os_error(exc)}") from exc
    return receive_bytes(data, path.name, unit, source, home)


def receive_bytes(data: bytes, filename: str, unit: str, source: str, home: DataHome,
                  now: datetime | None = None) -> str:
    """The receive step on bytes already in hand (the portal's uploads, a rebuild's replay);
    ``filename`` is only recorded (readably: ``display_name``), never used as a path. Every
    way in comes through here. ``now`` is the arrival time (a rebuild replays the original).

    A unit sending a source it may not send is refused here, after the archive and before the
    duplicate check: the refusal must not depend on (nor reveal) what another unit sent."""
    home.ensure()
    name = display_name(filename)
    try:
        sha, archived = archive_bytes(data, name, home)
    except OSError as exc:  # nothing registered yet: the sender keeps the file and retries
        raise EnvironmentFault(f"archiving a file from {unit} ({source}): "
                               f"{_os_error(exc)}") from exc
    crashpoint("receive:archived")
    problem = unit_problem(unit, source)
    with warehouse.writer(home.warehouse_file) as con:
        registration = register(con, unit=unit, source=source, filename=name, sha=sha,
                                archive_path=archived, now=now or _now(),
                                match_earlier=problem is None)
    crashpoint("receive:registered")
    log.info("received %s from %s as %s (%s)", sha[:12], unit, registration.submission_id,
             registration.status)
    if problem is not None:
        _refuse(home, registration.submission_id, problem)
    elif registration.status == "duplicate":
        finish(home, registration.submission_id)
    return registration.submission_id


def _save_work(home: DataHome, submission_id: str, name: str, value: object) -> None:
    """Write a work file atomically: a crash leaves the old file or none, never half of one."""
    work = _work_dir(home, submission_id)
    work.mkdir(parents=True, exist_ok=True)
    tmp = work / f".{name}.tmp"
    tmp.write_bytes(pickle.dumps(value))
    os.replace(tmp, work / name)


def _load_work(home: DataHome, submission_id: str, name: str) -> object | None:
    """A work file, or None when it is missing or unreadable (redo the step from the archive)."""
    path = _work_dir(home, submission_id) / name
    try:
        return pickle.loads(path.read_bytes())
    except Exception:  # noqa: BLE001 - missing, truncated, or from another code version
        return None


def parse_step(submission_id: str, home: DataHome) -> bool:
    """Parse the archived bytes; False when the file was refused."""
    sub = _submission(home, submission_id)
    if sub["status"] not in IN_FLIGHT:
        return False
    if (problem := unit_problem(str(sub["unit"]), str(sub["source"]))) is not None:
        _refuse(home, submission_id, problem)  # a crash came between register and refusal
        return False
    contract = contracts.load_contract(str(sub["source"]))
    try:
        with guarded(home, submission_id, "parse"):
            try:
                data = Path(str(sub["archive_path"])).read_bytes()
            except OSError as exc:
                raise EnvironmentFault(f"archive unreadable: {describe(exc)}") from exc
            with gc_paused():
                received = sub["received_at"]  # the data's date, for the IDs' birth dates
                parsed = parse_file(data, str(sub["filename"]), contract,
                                    received.date() if isinstance(received, datetime) else None)
            crashpoint("parse:read")
            _save_work(home, submission_id, "parsed.pickle", parsed)
            crashpoint("parse:saved")
            with warehouse.writer(home.warehouse_file) as con:
                set_status(con, submission_id, "parsed")
    except StepRefused:
        return False
    return True


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
    try:
        with guarded(home, submission_id, "validate", detail="文件内容无法校验"):
            with gc_paused():
                validated = validate_drop(parsed, contracts.load_contract(str(sub["source"])),
                                          home=home)
            crashpoint("validate:checked")
            _save_work(home, submission_id, "validated.pickle",
                       (validated, parsed.extra_columns))
            crashpoint("validate:saved")
            with warehouse.writer(home.warehouse_file) as con, warehouse.transaction(con):
                record_validation(con, sub, validated.statistics, _now())
                set_status(con, submission_id, "validated")
    except StepRefused:
        return False
    return True


def record_validation(con: duckdb.DuckDBPyConnection, sub: dict[str, object],
                      statistics: list[dict[str, object]], now: datetime) -> None:
    """Keep this run's per-expectation statistics in ``meta.validation_result`` (a re-run of
    the same submission replaces its rows): how each unit's data quality trends."""
    con.execute("delete from meta.validation_result where submission_id = ?",
                [sub["submission_id"]])
    if not statistics:
        return
    # one statement for all the rows, not a round trip per expectation
    rows = ", ".join(["(?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"] * len(statistics))
    con.execute(
        "insert into meta.validation_result (submission_id, unit, source, validated_at, "
        f"expectation, column_name, reason, element_count, unexpected_count, success) values {rows}",
        [value for s in statistics for value in (
            sub["submission_id"], sub["unit"], sub["source"], now, s["expectation"], s["column"],
            s["reason"], s["element_count"], s["unexpected_count"], s["success"])])


def load_step(submission_id: str, home: DataHome) -> Receipt:
    """Load in one transaction, write the unit's feedback; returns the receipt."""
    with gc_paused():
        return _load_step(submission_id, home)


def _load_step(submission_id: str, home: DataHome) -> Receipt:
    sub = _submission(home, submission_id)
    if sub["status"] in IN_FLIGHT:
        stored = _load_work(home, submission_id, "validated.pickle")
        if not (isinstance(stored, tuple) and isinstance(stored[0], ValidatedDrop)):
            if not validate_step(submission_id, home):
                return finish(home, submission_id)
            stored = _load_work(home, submission_id, "validated.pickle")
        validated, extra_columns = stored  # type: ignore[misc]
        assert isinstance(validated, ValidatedDrop)
        contract = contracts.load_contract(str(sub["source"]))
        try:
            with guarded(home, submission_id, "load",
                         detail="数据无法入库（数值或日期超出可存储的范围）"):
                with warehouse.writer(home.warehouse_file) as con:
                    status = load_submission(con, submission_id, contract, validated,
                                             extra_columns, _now(),
                                             _after_rows(contract, str(sub["unit"]),
                                                         submission_id, validated))
                crashpoint("load:committed")
                log.info("submission %s %s: %d read, %d accepted, %d quarantined",
                         submission_id, status, validated.rows_read, validated.rows_accepted,
                         validated.rows_quarantined)
        except StepRefused:
            pass
    return finish(home, submission_id)


def _after_rows(contract: contracts.Contract, unit: str, submission_id: str,
                validated: ValidatedDrop) -> Callable[[duckdb.DuckDBPyConnection], list[Issue]]:
    """What happens inside the load transaction once the rows are in raw: a withdrawal file is
    applied (its notes returned); an evidence file's rows are checked against the roster
    (未匹配, 身份存疑: the notes written straight to ``meta.submission_issue``)."""
    def run(con: duckdb.DuckDBPyConnection) -> list[Issue]:
        if contract.role == "withdrawal":
            outcomes = withdraw.withdraw_records(
                con, unit, withdraw.requests_from_drop(validated.accepted), via="drop",
                submission_id=submission_id)
            return withdraw.outcome_issues(outcomes)
        if contract.holds_records:
            identity.insert_row_notes(con, contract, submission_id)
        return []
    return run


def finish(home: DataHome, submission_id: str) -> Receipt:
    """Clean the work folder, write the feedback report, return the receipt.

    A submission parked as ``failed`` gets no feedback: the fault was ours, not the unit's."""
    with gc_paused():
        return _finish(home, submission_id)


def _finish(home: DataHome, submission_id: str) -> Receipt:
    receipt = receipt_for(home, submission_id)
    if receipt.status in IN_FLIGHT or receipt.status == "failed":
        return receipt
    shutil.rmtree(_work_dir(home, submission_id), ignore_errors=True)
    from pipelines.ingest.feedback import write_feedback  # noqa: PLC0415 - optional heavy import

    crashpoint("feedback:started")
    receipt.feedback_files = [str(p) for p in
                              write_feedback(receipt, home.outbox_for(receipt.unit))]
    write_receipt_json(receipt, home.outbox_for(receipt.unit))
    crashpoint("feedback:written")
    with warehouse.writer(home.warehouse_file) as con:
        con.execute("update meta.submission set feedback_pending = false "
                    "where submission_id = ? and feedback_pending", [submission_id])
    return receipt


def write_receipt_json(receipt: Receipt, out_dir: Path) -> Path:
    """``<submission_id>.receipt.json`` beside the feedback reports: the final receipt as
    ``cadre submit --json`` prints it, so readers (the portal) need not open the warehouse."""
    target = out_dir / f"{receipt.submission_id}.receipt.json"
    partial = target.with_name(f".{target.name}.partial")
    partial.write_text(receipt.to_json_text(), encoding="utf-8")
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
    issues = [Issue(*r) for r in rows]  # the select's columns are Issue's fields, in order
    summary: dict[str, int] = {}  # what went wrong, most frequent first
    labels: dict[tuple[str, str | None], str] = {}  # a row's line, once per reason and column
    for issue in issues:
        if issue.source_row is None and issue.scope != "row":
            key = issue.message_zh
        elif (key := labels.get((issue.reason, issue.header or issue.column))) is None:  # type: ignore[assignment]
            key = labels[(issue.reason, issue.header or issue.column)] = \
                f"“{issue.header or issue.column}”{BY_CODE[issue.reason].label_zh}"
        summary[key] = summary.get(key, 0) + 1
    by_reason = Counter(issue.reason for issue in issues)
    return Receipt(
        submission_id=submission_id, unit=str(sub["unit"]), source=str(sub["source"]),
        filename=str(sub["filename"]), sha256=str(sub["sha256"]), status=str(sub["status"]),
        rows_read=int(sub["rows_read"]), rows_accepted=int(sub["rows_accepted"]),  # type: ignore[call-overload]
        rows_quarantined=int(sub["rows_quarantined"]),  # type: ignore[call-overload]
        rows_unmatched=by_reason["id_unmatched"],
        rows_identity_doubt=by_reason["identity_doubt"],
        records_withdrawn=by_reason["withdrawn"],
        withdrawals_refused=by_reason["withdrawal_refused"],
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

    One writer connection serves all the steps of this one file (see ``warehouse.writer``).
    Raises ``EnvironmentFault`` (the submission stays resumable) and nothing else."""
    try:
        with warehouse.writer(home.warehouse_file):
            submission_id = receive_step(path, unit, source, home)
            return load_step(submission_id, home)
    except EnvironmentFault:
        raise
    except Exception as exc:  # e.g. the writer lock still held after the wait
        if is_environment_fault(exc):
            raise EnvironmentFault(describe(exc)) from exc
        raise


def receive_inbox(source: str, home: DataHome) -> list[str]:
    """Take every file waiting in ``inbox/<unit>/<source>/``; returns the submission ids still
    to process, including any left in flight by an earlier crashed run."""
    take_inbox(source, home)
    return pending_ids(source, home)


def take_inbox(source: str, home: DataHome) -> list[str]:
    """Receive every file waiting in ``inbox/<unit>/<source>/``; the submission id of each, in
    order (a refused or duplicate file's is already final)."""
    home.ensure()
    taken = []
    for unit_dir in sorted(p for p in home.inbox.iterdir() if p.is_dir()):
        folder = unit_dir / source
        if not folder.is_dir():
            continue
        for path in sorted(folder.iterdir()):
            if path.is_file() and not path.name.startswith(IGNORED_INBOX_FILES):
                taken.append(receive_step(path, unit_dir.name, source, home))
                path.unlink()  # its bytes are in the archive
    return taken


def pending_ids(source: str, home: DataHome) -> list[str]:
    """Submissions of ``source`` still to process (new, or left in flight by a crash)."""
    with warehouse.writer(home.warehouse_file) as con:
        pending = con.execute(
            "select submission_id from meta.submission where source = ? and (status in "
            "('received', 'parsed', 'validated') or feedback_pending) order by seq",
            [source]).fetchall()
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
    """Process every inbox (or those of ``sources``) without Airflow: ``cadre ingest``. One
    receipt per file taken (those refused or duplicate at receipt too) and per submission an
    earlier run left in flight, in arrival order."""
    receipts = []
    for source in sources or contracts.source_names():
        taken = take_inbox(source, home)
        pending = pending_ids(source, home)
        every = [r["submission_id"] for r in pending_submissions(home, [*taken, *pending])]
        for submission_id in every:  # by arrival
            if submission_id not in pending:  # refused or duplicate when received
                receipts.append(receipt_for(home, submission_id))
                continue
            try:
                with warehouse.writer(home.warehouse_file):  # one connection per submission
                    receipts.append(load_step(submission_id, home))
            except EnvironmentFault:  # counted on the submission; the others still run
                log.exception("submission %s left for the next run", submission_id)
                receipts.append(receipt_for(home, submission_id))
    return receipts
