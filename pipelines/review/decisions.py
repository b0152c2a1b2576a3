"""Decisions on flags: the state machine, the decision log and the flag register.

The pipeline proposes; the organization department decides (rules.md §4). A decision is a row
of ``decisions.decision_log``, recorded from the CLI (``cadre decide``) or from an ORG decision
drop (``pipelines.review.decision_drops``), and only through ``record_decision``, which refuses a
transition the state machine does not allow. That one gate is why the log can be trusted: the
state of a flag is read back as "the last decision's ``to_state``, else the initial state of its
severity", in SQL (``decisions.flag_state``), with no second copy of the rules.

The ``decisions`` schema is never rebuilt (``warehouse/decisions/schema.sql``): a rebuild
replaces flags, and ``sync_flags`` copies whatever flags the new build raised into the flag
register under a stable id, so decisions about a flag survive any number of rebuilds and stay
visible even when a later build no longer raises it.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, replace
from datetime import date, datetime

import duckdb

from pipelines.contracts import load_contract
from pipelines.review import sql as review_sql

log = logging.getLogger(__name__)

STATES_ZH: dict[str, str] = {
    "flagged": "待核实",
    "under_observation": "考察期中",
    "confirmed": "已认定不适宜担任现职",
    "cleared": "已排除",
    "adjusted": "已组织调整",
    "appealed": "申诉中",
}
INITIAL_STATE = {"candidate": "flagged", "warning": "under_observation"}


def adjustment_measures() -> tuple[str, ...]:
    """调离岗位 / 改任职级 / 免职 / 降职: the code list of the decision contract (declared once)."""
    return load_contract("decision").field("measure").codes


@dataclass(frozen=True)
class Action:
    """One kind of decision: its Chinese name, where it may start and where it leads."""

    name: str
    zh: str
    from_states: tuple[str, ...]
    to_state: str | None  # None: back to the state before the appeal
    needs_measure: bool = False
    needs_document: bool = False


ACTIONS: dict[str, Action] = {a.name: a for a in (
    Action("observe", "列入考察期", ("flagged",), "under_observation"),
    Action("confirm", "认定不适宜担任现职", ("flagged", "under_observation"), "confirmed"),
    Action("clear", "不予认定", ("flagged", "under_observation"), "cleared"),
    Action("adjust", "组织调整", ("confirmed",), "adjusted", needs_measure=True,
           needs_document=True),
    Action("appeal", "提出申诉", ("confirmed", "adjusted"), "appealed"),
    Action("appeal_upheld", "申诉维持", ("appealed",), None),
    Action("appeal_granted", "申诉成立", ("appealed",), "cleared"),
    # Re-appointment closes the follow-up file; the flag stays `adjusted`: the adjustment happened.
    Action("restore", "重新任用", ("adjusted",), "adjusted"),
)}
ACTION_BY_ZH = {a.zh: a.name for a in ACTIONS.values()}


class DecisionRefused(ValueError):
    """A decision the state machine or the checks refuse; ``message_zh`` says why, in Chinese."""

    def __init__(self, message_zh: str) -> None:
        super().__init__(message_zh)
        self.message_zh = message_zh


@dataclass(frozen=True)
class Decision:
    """What a person decided. ``id_number``, when given, must be the flag's (drops cross-check)."""

    flag_id: str
    action: str
    decided_on: date
    decided_by: str
    reason: str
    document_no: str | None = None
    measure: str | None = None
    observe_until: date | None = None
    remark: str | None = None
    id_number: str | None = None


@dataclass(frozen=True)
class Recorded:
    decision_id: int
    flag_id: str
    from_state: str
    to_state: str


@dataclass(frozen=True)
class LogEntry:
    action: str
    from_state: str
    to_state: str
    decided_on: date


def next_state(current: str, action_name: str, history: list[LogEntry]) -> str:
    """The state after ``action_name`` from ``current``; DecisionRefused when not allowed.

    ``history`` (oldest first) is needed only by ``appeal_upheld``, which returns the flag to
    where the appeal found it (confirmed, or adjusted)."""
    action = ACTIONS.get(action_name)
    if action is None:
        raise DecisionRefused(f"未知的决定类型：{action_name}")
    if current not in action.from_states:
        allowed = "、".join(a.zh for a in ACTIONS.values() if current in a.from_states) or "无"
        raise DecisionRefused(f"线索当前状态为“{STATES_ZH[current]}”，不能“{action.zh}”；"
                              f"当前可做的决定：{allowed}")
    if action.name == "restore" and _restored_since_adjustment(history):
        raise DecisionRefused("该干部调整后已重新任用，不能重复记录")
    if action.to_state is not None:
        return action.to_state
    appeals = [e for e in history if e.action == "appeal"]
    if not appeals:
        raise DecisionRefused("没有找到申诉记录")
    return appeals[-1].from_state


def _restored_since_adjustment(history: list[LogEntry]) -> bool:
    for entry in reversed(history):
        if entry.action == "restore":
            return True
        if entry.action == "adjust":
            return False
    return False


def replay(initial: str, history: list[LogEntry]) -> str:
    """The state a sequence of decisions leads to; raises on the first illegal step. States
    are recomputed, not read from the entries: the actions alone decide."""
    state, seen = initial, []
    for entry in history:
        after = next_state(state, entry.action, seen)
        seen.append(LogEntry(entry.action, state, after, entry.decided_on))
        state = after
    return state


def ensure(con: duckdb.DuckDBPyConnection) -> None:
    """The decisions schema and every review view (cheap, idempotent; run before each use)."""
    review_sql.ensure(con)


def sync_flags(con: duckdb.DuckDBPyConnection, now: datetime | None = None) -> int:
    """Copy the flags of every build not copied yet into the register; returns how many flags
    were new.

    A flag already registered only gets ``last_seen_at`` (and an earlier ``first_as_of``, when
    an older date is built later): its description stays what people saw when deciding. Only
    builds missing from ``decisions.flag_sync`` are read, so the cost follows new builds, not
    the history of builds."""
    ensure(con)
    now = now or datetime.now().replace(microsecond=0)
    pending = con.execute("select as_of, built_at from decisions.build_source "
                          "anti join decisions.flag_sync using (as_of, built_at)").fetchall()
    if not pending:
        return 0
    before = con.execute("select count(*) from decisions.flag_register").fetchone()[0]
    con.execute("""
        insert into decisions.flag_register by name
        select flag_id, any_value(id_number) as id_number, any_value(rule_id) as rule_id,
               arg_min(severity, as_of) as severity, any_value(opened_on) as opened_on,
               arg_min(observation_ends_on, as_of) as observation_ends_on,
               arg_max(name, as_of) as name, arg_max(org_name, as_of) as org_name,
               arg_max(post_title, as_of) as post_title,
               arg_max(rule_title_zh, as_of) as rule_title_zh,
               arg_max(detail_zh, as_of) as detail_zh,
               arg_max(evidence_ids, as_of) as evidence_ids, min(as_of) as first_as_of,
               $now as first_seen_at, $now as last_seen_at,
               arg_min(ruleset_label, as_of) as ruleset_label
        from decisions.flag_source
        where list_contains($dates, as_of)
        group by flag_id
        on conflict (flag_id) do update set
            last_seen_at = excluded.last_seen_at,
            first_as_of = least(flag_register.first_as_of, excluded.first_as_of)""",
                {"now": now, "dates": sorted({p[0] for p in pending})}).fetchall()
    con.executemany("insert into decisions.flag_sync values (?, ?, ?)",
                    [[as_of, built_at, now] for as_of, built_at in pending])
    after = con.execute("select count(*) from decisions.flag_register").fetchone()[0]
    return int(after - before)


def history(con: duckdb.DuckDBPyConnection, flag_id: str) -> list[LogEntry]:
    rows = con.execute("select action, from_state, to_state, decided_on from "
                       "decisions.decision_log where flag_id = ? order by decision_id",
                       [flag_id]).fetchall()
    return [LogEntry(*r) for r in rows]


def _flag(con: duckdb.DuckDBPyConnection, flag_id: str) -> tuple[str, str, date]:
    row = con.execute("select id_number, severity, opened_on from decisions.flag_register "
                      "where flag_id = ?", [flag_id]).fetchone()
    if row is None:
        raise DecisionRefused(f"线索编号“{flag_id}”不存在（请以集中会诊报告中的线索编号为准）")
    return row[0], row[1], row[2]


def _checked(d: Decision, opened_on: date, last: LogEntry | None, today: date,
             observation_months: int) -> Decision:
    """The decision with defaults filled in, or DecisionRefused naming the first problem."""
    action = ACTIONS.get(d.action)
    if action is None:
        raise DecisionRefused(f"未知的决定类型：{d.action}")
    if not (d.decided_by or "").strip():
        raise DecisionRefused("未填写决定人")
    if not (d.reason or "").strip():
        raise DecisionRefused("未填写决定理由")
    if d.decided_on > today:
        raise DecisionRefused(f"决定日期{d.decided_on}晚于今天")
    if d.decided_on < opened_on:
        raise DecisionRefused(f"决定日期{d.decided_on}早于线索日期{opened_on}")
    if last is not None and d.decided_on < last.decided_on:
        raise DecisionRefused(f"决定日期{d.decided_on}早于该线索上一次决定的日期{last.decided_on}")
    measures = adjustment_measures()
    if action.needs_measure and d.measure not in measures:
        raise DecisionRefused(f"组织调整须填写调整方式（{'/'.join(measures)}）")
    if not action.needs_measure and d.measure:
        raise DecisionRefused(f"“{action.zh}”不应填写调整方式")
    if action.needs_document and not (d.document_no or "").strip():
        raise DecisionRefused("组织调整须填写文号")
    if d.action == "observe":
        until = d.observe_until or add_months(d.decided_on, observation_months)
        if until <= d.decided_on:
            raise DecisionRefused("考察期截止日期须晚于决定日期")
        return replace(d, observe_until=until)
    if d.observe_until is not None:
        raise DecisionRefused(f"“{action.zh}”不应填写考察期截止日期")
    return d


def add_months(day: date, months: int) -> date:
    month = day.month - 1 + months
    year, month = day.year + month // 12, month % 12 + 1
    for d in (day.day, 30, 29, 28):
        try:
            return date(year, month, d)
        except ValueError:
            continue
    raise AssertionError("unreachable")


def record_decision(con: duckdb.DuckDBPyConnection, decision: Decision, *, via: str = "cli",
                    submission_id: str | None = None, source_row: int | None = None,
                    today: date | None = None, now: datetime | None = None,
                    ensured: bool = False) -> Recorded:
    """Check and append one decision in one transaction; DecisionRefused when not allowed.

    ``ensured``: the caller already ran ``ensure`` on this connection (batch imports)."""
    if not ensured:
        ensure(con)
    today = today or date.today()
    con.execute("begin transaction")
    try:
        id_number, severity, opened_on = _flag(con, decision.flag_id)
        if decision.id_number and decision.id_number.upper() != id_number:
            raise DecisionRefused(f"身份证号与线索编号“{decision.flag_id}”所指干部不符")
        past = history(con, decision.flag_id)
        current = replay(INITIAL_STATE.get(severity, "flagged"), past)
        to_state = next_state(current, decision.action, past)
        d = _checked(decision, opened_on, past[-1] if past else None, today,
                     review_sql.observation_months())
        decision_id = con.execute("""
            insert into decisions.decision_log (flag_id, id_number, action, measure, from_state,
                to_state, decided_on, decided_by, reason, document_no, observe_until, remark,
                recorded_at, recorded_via, submission_id, source_row)
            values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) returning decision_id""",
            [d.flag_id, id_number, d.action, d.measure, current, to_state, d.decided_on,
             d.decided_by.strip(), d.reason.strip(), (d.document_no or "").strip() or None,
             d.observe_until, d.remark, now or datetime.now().replace(microsecond=0), via,
             submission_id, source_row]).fetchone()[0]
    except BaseException:
        con.execute("rollback")
        raise
    con.execute("commit")
    log.info("decision %s on %s: %s -> %s", d.action, d.flag_id, current, to_state)
    return Recorded(int(decision_id), d.flag_id, current, to_state)


def allowed_actions(state: str) -> list[str]:
    """Actions a flag in ``state`` may take next (for the CLI and the report)."""
    return [a.name for a in ACTIONS.values() if state in a.from_states]
