"""Withdrawals (撤回): a unit takes back a record it sent, naming it by its key, with a reason.

rules.md, "Decisions stick, and errors can be undone": a withdrawn record leaves every profile
and flag from the next build, stays in history, and the receipt says what was withdrawn.
Re-sending a sanction under the right ID therefore starts with withdrawing the wrong one.

One plain function, ``withdraw_records``, is the only writer of ``meta.withdrawal``: the
withdrawal drop (``inbox/<UNIT>/withdrawal/``, contract ``schemas/withdrawal.yaml``) calls it
inside the load transaction, and the portal will call it with its own ``via``. Nothing is
deleted: the staging views make no version sent up to the withdrawal current
(``pipelines.warehouse.staging_view_sql``); raw rows and ``staging.<source>_history`` keep every
version. A record is accepted for withdrawal only from the unit whose submission made it
current; any other unit is told only that it sent no such record (a unit never learns what
another unit sent).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime

import duckdb
import pandas as pd

from pipelines.contracts import load_contract, source_names
from pipelines.ingest.receipt import Issue

log = logging.getLogger(__name__)


def withdrawable_sources() -> dict[str, str]:
    """Chinese title -> source, for every evidence source (the withdrawal contract's codes)."""
    found = {}
    for source in source_names():
        contract = load_contract(source)
        if contract.holds_records:
            found[contract.title_zh] = source
    return found


def record_key(source: str, record_no: object, item_no: object = None,
               id_number: object = None) -> str:
    """The key text of a record as ``staging.<source>_history.record_key`` spells it: the key
    values in contract order joined by ``|`` (the ID in its normalised upper-case form)."""
    parts = []
    no_used = False
    for name in load_contract(source).key:
        if name == "id_number":
            value = _text(id_number).upper()
        elif not no_used:
            value, no_used = _text(record_no), True
        else:
            value = _text(item_no)
        parts.append(value)
    return "|".join(parts)


def _text(value: object) -> str:
    if value is None or (isinstance(value, float) and pd.isna(value)):
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


@dataclass(frozen=True)
class WithdrawalRequest:
    """One record to withdraw: its source (English name), key text and the unit's reason."""

    source: str
    record_key: str
    reason: str
    source_row: int | None = None  # row of the withdrawal drop, when it came as a file


@dataclass(frozen=True)
class WithdrawalOutcome:
    request: WithdrawalRequest
    withdrawn: bool
    message_zh: str
    withdrawal_id: int | None = None
    id_number: str | None = None


def withdraw_records(con: duckdb.DuckDBPyConnection, unit: str,
                     requests: list[WithdrawalRequest], *, via: str = "portal",
                     submission_id: str | None = None,
                     now: datetime | None = None) -> list[WithdrawalOutcome]:
    """Record each withdrawal the unit may make; returns one outcome per request, in order.

    Runs on the caller's connection and transaction (the load of a drop, or the portal's own
    ``warehouse.transaction``). A request is refused, writing nothing, when its source cannot
    be withdrawn, no reason is given, or no current version of the record was sent by ``unit``.
    """
    now = now or datetime.now().replace(microsecond=0)
    sources = set(withdrawable_sources().values())
    upto = con.execute("select coalesce(max(seq), 0) from meta.submission").fetchone()[0]
    outcomes = []
    for request in requests:
        outcome = _withdraw_one(con, unit, request, sources, upto, via, submission_id, now)
        outcomes.append(outcome)
    done = sum(o.withdrawn for o in outcomes)
    log.info("withdrawals from %s via %s: %d of %d recorded", unit, via, done, len(outcomes))
    return outcomes


def _withdraw_one(con: duckdb.DuckDBPyConnection, unit: str, request: WithdrawalRequest,
                  sources: set[str], upto: int, via: str, submission_id: str | None,
                  now: datetime) -> WithdrawalOutcome:
    if request.source not in sources:
        return WithdrawalOutcome(request, False, f"“{request.source}”类数据不能撤回")
    if not (request.reason or "").strip():
        return WithdrawalOutcome(request, False, "未填写撤回原因")
    title = load_contract(request.source).title_zh
    current = con.execute(
        f"select submitted_by, id_number from staging.{request.source}_history "
        "where record_key = ? and is_current", [request.record_key]).fetchone()
    if current is None or current[0] != unit:
        return WithdrawalOutcome(request, False, f"未找到本单位报送且当前有效的{title}记录"
                                 f"“{request.record_key}”（可能编号有误，或已撤回）")
    withdrawal_id = con.execute(
        "insert into meta.withdrawal (unit, source, record_key, id_number, reason, upto_seq, "
        "withdrawn_at, via, submission_id, source_row) values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
        "returning withdrawal_id",
        [unit, request.source, request.record_key, current[1], request.reason.strip(), upto,
         now, via, submission_id, request.source_row]).fetchone()[0]
    return WithdrawalOutcome(request, True, f"已撤回{title}记录“{request.record_key}”",
                             int(withdrawal_id), current[1])


def requests_from_drop(accepted: pd.DataFrame) -> list[WithdrawalRequest]:
    """The withdrawal drop's accepted rows as requests (the source named by its Chinese title)."""
    by_title = withdrawable_sources()
    requests = []
    for row in accepted.to_dict(orient="records"):
        source = by_title.get(str(row["source"]), str(row["source"]))
        key = record_key(source, row.get("record_no"), row.get("item_no"), row.get("id_number")) \
            if source in by_title.values() else _text(row.get("record_no"))
        requests.append(WithdrawalRequest(source, key, _text(row.get("reason")),
                                          int(row["source_row"])))
    return requests


def outcome_issues(outcomes: list[WithdrawalOutcome]) -> list[Issue]:
    """Notes for the withdrawal's receipt: each record withdrawn, each request refused."""
    issues = []
    for o in outcomes:
        code = "withdrawn" if o.withdrawn else "withdrawal_refused"
        issues.append(Issue.make(code, source_row=o.request.source_row, column="record_no",
                                 header="记录编号", value=o.request.record_key,
                                 detail=o.message_zh))
    return issues
