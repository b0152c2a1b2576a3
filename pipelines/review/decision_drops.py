"""Decision drops: ORG's "干部调整决定记录" files, applied to the decision log.

A decision file arrives like any other source (``schemas/decision.yaml``): ingest archives it,
GX validates it, good rows land in ``raw.decision``. Loading a row is not deciding, though:
each row must also pass the state machine (``pipelines.review.decisions.record_decision``), which
needs the flag register and the decisions before it. So after ingest, ``apply_decision_drops``
takes every loaded row not yet processed, in the order the department decided them, records
the admissible ones and keeps every outcome in ``decisions.drop_outcome``; ORG gets a short
result file in its outbox naming each refused row and why. Re-running is a no-op.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

import duckdb

from pipelines import warehouse
from pipelines.render.xlsx import open_workbook, write_table, write_value
from pipelines.review import decisions
from pipelines.review.decisions import ACTION_BY_ZH, Decision, DecisionRefused
from pipelines.settings import DataHome

log = logging.getLogger(__name__)

PENDING_SQL = """
select raw.submission_id, raw.source_row, raw.flag_id, raw.id_number, raw.action,
    raw.measure, raw.decided_on, raw.decided_by, raw.reason, raw.document_no,
    raw.observe_until, raw.remark
from raw.decision as raw
join meta.submission as submission using (submission_id)
anti join decisions.drop_outcome as done using (submission_id, source_row)
where submission.status in ('accepted', 'partially_accepted')
order by raw.decided_on, submission.seq, raw.source_row
"""


@dataclass(frozen=True)
class RowOutcome:
    submission_id: str
    source_row: int
    flag_id: str
    action_zh: str
    applied: bool
    message_zh: str
    decision_id: int | None = None


def _outcome(con: duckdb.DuckDBPyConnection, row: dict, now: datetime,
             today: date) -> RowOutcome:
    decision = Decision(
        flag_id=str(row["flag_id"]).strip(), action=ACTION_BY_ZH.get(row["action"], row["action"]),
        decided_on=row["decided_on"], decided_by=row["decided_by"] or "", reason=row["reason"] or "",
        document_no=row["document_no"], measure=row["measure"],
        observe_until=row["observe_until"], remark=row["remark"], id_number=row["id_number"])
    try:
        recorded = decisions.record_decision(con, decision, via="drop",
                                             submission_id=row["submission_id"],
                                             source_row=int(row["source_row"]), today=today,
                                             now=now, ensured=True)
    except DecisionRefused as refused:
        return RowOutcome(row["submission_id"], int(row["source_row"]), decision.flag_id,
                          row["action"], False, refused.message_zh)
    message = f"已登记：{decisions.STATES_ZH[recorded.from_state]} → " \
              f"{decisions.STATES_ZH[recorded.to_state]}"
    return RowOutcome(row["submission_id"], int(row["source_row"]), decision.flag_id,
                      row["action"], True, message, recorded.decision_id)


def apply_pending(con: duckdb.DuckDBPyConnection, today: date | None = None) -> list[RowOutcome]:
    """Apply every loaded, unprocessed decision row on an open writer connection."""
    decisions.sync_flags(con)
    now = datetime.now().replace(microsecond=0)
    cursor = con.execute(PENDING_SQL)
    names = [d[0] for d in cursor.description]
    rows = [dict(zip(names, r, strict=True)) for r in cursor.fetchall()]
    outcomes = []
    for row in rows:
        outcome = _outcome(con, row, now, today or date.today())
        con.execute("insert into decisions.drop_outcome values (?, ?, ?, ?, ?, ?, ?, ?)",
                    [outcome.submission_id, outcome.source_row, outcome.flag_id,
                     outcome.action_zh, outcome.applied, outcome.decision_id,
                     outcome.message_zh, now]).fetchall()
        outcomes.append(outcome)
    return outcomes


def apply_decision_drops(home: DataHome, today: date | None = None) -> list[RowOutcome]:
    """Apply pending decision rows and write one result file per decision submission."""
    with warehouse.writer(home.warehouse_file) as con:
        decisions.ensure(con)
        outcomes = apply_pending(con, today)
    by_submission: dict[str, list[RowOutcome]] = {}
    for outcome in outcomes:
        by_submission.setdefault(outcome.submission_id, []).append(outcome)
    for submission_id, rows in by_submission.items():
        write_result(rows, home.outbox_for("ORG") / f"{submission_id}_decision_决定处理结果.xlsx")
    applied = sum(o.applied for o in outcomes)
    log.info("decision drops: %d rows, %d applied, %d refused", len(outcomes), applied,
             len(outcomes) - applied)
    return outcomes


def write_result(rows: list[RowOutcome], path: Path) -> Path:
    """What happened to each row of one decision file, for ORG (行号 = the file's row)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    applied = sum(r.applied for r in rows)
    table = [{"行号": row.source_row, "线索编号": row.flag_id, "决定类型": row.action_zh or "",
              "结果": "已登记" if row.applied else "未登记", "说明": row.message_zh}
             for row in sorted(rows, key=lambda o: o.source_row)]
    book, fmt = open_workbook(path)
    try:
        sheet = book.add_worksheet("决定处理结果")
        write_value(sheet, fmt, 0, 0, f"共{len(rows)}条决定：已登记{applied}条，未登记"
                    f"{len(rows) - applied}条（未登记的请按原因修改后重新报送该行）")
        write_table(sheet, fmt, 2, table, widths={"行号": 6, "线索编号": 14, "决定类型": 18,
                                                  "结果": 8, "说明": 70},
                    tones={"结果": lambda v: "bad" if v == "未登记" else None})
    finally:
        book.close()
    return path
