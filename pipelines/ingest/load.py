"""Load: one transaction per submission into the warehouse.

Accepted rows go to ``raw.<source>`` with their submission id and source row; quarantined rows
(with the text as read) to ``meta.quarantined_row``; every issue to ``meta.submission_issue``;
the submission's status and counts are set last. All of it commits together or not at all: a
process killed anywhere inside leaves the warehouse as it was, and the submission stays
in flight, so the next run (``cadre ingest`` or the same file again) completes it.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime
from operator import attrgetter

import duckdb
import pandas as pd
import pyarrow as pa

from pipelines.contracts import Contract
from pipelines.ingest import reasons
from pipelines.ingest.crash import crashpoint
from pipelines.ingest.receipt import Issue
from pipelines.ingest.validate import ValidatedDrop
from pipelines.warehouse import transaction

ISSUE_COLUMNS = ["submission_id", "scope", "source_row", "column_name", "header", "value",
                 "reason", "message_zh", "fix_zh"]


def _issue_table(submission_id: str, issues: list[Issue]) -> pa.Table:
    """The issues as an Arrow table in the columns of ``meta.submission_issue``: built column
    by column in C (an evidence file can bring a note per row; a pandas frame of Python
    objects cost three times as much)."""
    reason = list(map(attrgetter("reason"), issues))
    columns = [reasons.scopes(reason),
               *(list(map(attrgetter(name), issues))
                 for name in ("source_row", "column", "header", "value")),
               reason, list(map(attrgetter("message_zh"), issues)),
               list(map(attrgetter("fix_zh"), issues))]
    types = [pa.string(), pa.int64(), *[pa.string()] * 6]
    return pa.table([pa.array([submission_id] * len(issues), pa.string()),
                     *[pa.array(values, kind) for values, kind in zip(columns, types, strict=True)]],
                    names=ISSUE_COLUMNS)


def _insert_issues(con: duckdb.DuckDBPyConnection, submission_id: str,
                   issues: list[Issue]) -> None:
    if issues:
        issue_table = _issue_table(submission_id, issues)  # noqa: F841 - read by DuckDB below
        con.execute("insert into meta.submission_issue select * from issue_table")


def final_status(validated: ValidatedDrop) -> str:
    if validated.rows_accepted == 0:
        return "refused"
    return "partially_accepted" if validated.rows_quarantined else "accepted"


def load_submission(con: duckdb.DuckDBPyConnection, submission_id: str, contract: Contract,
                    validated: ValidatedDrop, extra_columns: list[str],
                    now: datetime,
                    after_rows: Callable[[duckdb.DuckDBPyConnection], list[Issue]] | None = None,
                    ) -> str:
    """Write the submission's rows, issues and outcome atomically; returns the final status.

    ``after_rows`` runs inside the same transaction once the rows and the file's issues are
    in, and adds notes for the receipt (rows not matching the roster, which it writes to
    ``meta.submission_issue`` itself; withdrawals applied, which it returns): a crash can
    never leave rows loaded without their notes, or a withdrawal file loaded but not applied."""
    status = final_status(validated)
    issues = list(validated.issues)
    refusal = None
    if status == "refused":
        refusal = Issue.make("all_rows_quarantined")
        issues.insert(0, refusal)
    accepted = validated.accepted.assign(submission_id=submission_id)
    accepted = accepted[[*contract.field_names, "submission_id", "source_row"]]  # noqa: F841
    quarantined = pd.DataFrame({  # noqa: F841 - read by DuckDB below
        "submission_id": submission_id,
        "source_row": validated.quarantined["source_row"].astype("int64"),
        "reasons": validated.quarantined["reasons"],
        "row_values": [
            json.dumps({k: (None if pd.isna(v) else str(v)) for k, v in row.items()},
                       ensure_ascii=False)
            for row in validated.quarantined.drop(columns=["source_row", "reasons"])
            .to_dict(orient="records")],
    })
    with transaction(con):
        if status != "refused":
            con.execute(f"insert into raw.{contract.source} by name select * from accepted")
        crashpoint("load:mid_transaction")
        if len(quarantined):
            con.execute("insert into meta.quarantined_row "
                        "select submission_id, source_row, reasons, row_values::json "
                        "from quarantined")
        _insert_issues(con, submission_id, issues)
        if status != "refused" and after_rows is not None:  # its notes follow the file's issues
            _insert_issues(con, submission_id, after_rows(con))
        con.execute(
            "update meta.submission set status = ?, rows_read = ?, rows_accepted = ?, "
            "rows_quarantined = ?, refusal_reason = ?, extra_columns = ?, finished_at = ?, "
            "feedback_pending = true where submission_id = ?",
            [status, validated.rows_read, validated.rows_accepted if status != "refused" else 0,
             validated.rows_quarantined, refusal.message_zh if refusal else None,
             extra_columns, now, submission_id])
    return status


def refuse_submission(con: duckdb.DuckDBPyConnection, submission_id: str, issue: Issue,
                      now: datetime, rows_read: int = 0, error: str | None = None,
                      notes: list[Issue] | None = None) -> None:
    """Record a whole-file refusal: the issue (and any notes), status ``refused``, nothing
    loaded; ``error`` is the exception behind it, for engineers."""
    with transaction(con):
        _insert_issues(con, submission_id, [issue, *(notes or [])])
        con.execute(
            "update meta.submission set status = 'refused', refusal_reason = ?, rows_read = ?, "
            "finished_at = ?, error = ?, feedback_pending = true where submission_id = ?",
            [issue.message_zh, rows_read, now, error, submission_id])


def set_status(con: duckdb.DuckDBPyConnection, submission_id: str, status: str) -> None:
    con.execute("update meta.submission set status = ? where submission_id = ?",
                [status, submission_id])
