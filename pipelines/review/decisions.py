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
    "blocking": "影响期中（限制提拔）",
    "lifted": "已解除限制",
    "closed": "已关闭（证据撤回或更正）",
}
# S1 (blocks_promotion) is in the register too, so a wrong promotion block can be annotated,
# appealed and lifted by a recorded decision (rules.md, "People's decisions bind the engine").
INITIAL_STATE = {"candidate": "flagged", "warning": "under_observation",
                 "blocks_promotion": "blocking"}
OPEN_STATES = ("flagged", "under_observation", "confirmed", "appealed", "blocking")
SYSTEM_DECIDER = "系统"  # the only name allowed to record a `close`; never a registered decider


def adjustment_measures() -> tuple[str, ...]:
    """调离岗位 / 改任职级 / 免职 / 降职: the code list of the decision contract (declared once)."""
    return load_contract("decision").field("measure").codes


@dataclass(frozen=True)
class Action:
    """One kind of decision: its Chinese name, where it may start and where it leads."""

    name: str
    zh: str
    from_states: tuple[str, ...]
    to_state: str | None  # None: back to the state before the appeal; SAME: unchanged
    needs_measure: bool = False
    needs_document: bool = False
    system_only: bool = False  # recorded by the pipeline itself, never by a person


SAME = "="


ACTIONS: dict[str, Action] = {a.name: a for a in (
    Action("observe", "列入考察期", ("flagged",), "under_observation"),
    # A person sets a longer 考察期 for a running one (the build then reads the new end).
    Action("extend", "延长考察期", ("under_observation",), SAME),
    Action("confirm", "认定不适宜担任现职", ("flagged", "under_observation"), "confirmed"),
    Action("clear", "不予认定", ("flagged", "under_observation"), "cleared"),
    Action("adjust", "组织调整", ("confirmed",), "adjusted", needs_measure=True,
           needs_document=True),
    Action("appeal", "提出申诉", ("confirmed", "adjusted", "blocking"), "appealed"),
    Action("appeal_upheld", "申诉维持", ("appealed",), None),
    Action("appeal_granted", "申诉成立", ("appealed",), "cleared"),
    # Re-appointment closes the follow-up file; the flag stays `adjusted`: the adjustment happened.
    Action("restore", "重新任用", ("adjusted",), "adjusted"),
    # S1: a promotion block can be annotated (备注说明) and lifted (解除限制) by a decision.
    Action("annotate", "备注说明", ("blocking", "lifted", "appealed"), SAME),
    Action("lift", "解除限制", ("blocking",), "lifted"),
    # The system closes a flag whose evidence was withdrawn or corrected away, with the reason.
    Action("close", "系统关闭", OPEN_STATES, "closed", system_only=True),
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
        allowed = "、".join(a.zh for a in ACTIONS.values()
                           if current in a.from_states and not a.system_only) or "无"
        raise DecisionRefused(f"线索当前状态为“{STATES_ZH[current]}”，不能“{action.zh}”；"
                              f"当前可做的决定：{allowed}")
    if action.name == "restore" and _restored_since_adjustment(history):
        raise DecisionRefused("该干部调整后已重新任用，不能重复记录")
    if action.to_state == SAME:
        return current
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
    """The decisions schema and every review view (cheap, idempotent; run before each use),
    and the in-place upgrade of a register from before evidence keys."""
    review_sql.ensure(con)
    migrate_register(con)


RAISED = "sync_raised"  # temp table: the builds' flags being copied into the register

# The register's flags of the cadres and rules being synced, with what matching needs:
# evidence keys as they grow during this sync, decided / closed, and the registration order
# within the cadre and rule (older first; ties of first_seen_at by flag_id, as before).
_STATE_SQL = f"""
create or replace temp table sync_state as
select r.flag_id, r.id_number, r.rule_id, coalesce(r.evidence_keys, []) as keys,
    exists (select 1 from decisions.decision_log d where d.flag_id = r.flag_id) as decided,
    exists (select 1 from decisions.decision_log d where d.flag_id = r.flag_id
            and d.action = 'close') as closed,
    row_number() over (partition by r.id_number, r.rule_id
                       order by r.first_seen_at, r.flag_id) as ord
from decisions.flag_register as r
semi join (select distinct id_number, rule_id from {RAISED}) as raised
    using (id_number, rule_id)"""

# One build's flags, each matched to the register (``_match`` before, in SQL): "same" = the
# newest live flag holding all its evidence; else "grow" = the newest live flag nobody has
# decided; else a new flag, whose previous flag is the newest of the cadre and rule (closed
# ones included) and whose new evidence is what none of them holds.
_MATCH_SQL = f"""
create or replace temp table sync_batch as
with batch as (
    select *, row_number() over (order by id_number, rule_id) as seq
    from {RAISED} where as_of = $as_of
),
judged as (
    select b.seq,
        arg_max(s.flag_id, s.ord) filter (where not s.closed
                                          and list_has_all(s.keys, b.evidence_keys)) as same_id,
        arg_max(s.flag_id, s.ord) filter (where not s.closed and not s.decided) as grow_id,
        arg_max(s.flag_id, s.ord) as last_id,
        max(s.ord) as last_ord,
        list_distinct(flatten(list(s.keys) filter (where s.flag_id is not null))) as earlier
    from batch as b left join sync_state as s using (id_number, rule_id)
    group by b.seq
)
select b.*, j.last_id, j.last_ord, j.earlier,
    case when j.same_id is not null then 'same' when j.grow_id is not null then 'grow'
         else 'new' end as how,
    coalesce(j.same_id, j.grow_id) as found_id,
    b.id_number || '|' || b.rule_id || '|' || array_to_string(b.evidence_keys, '|') as base
from batch as b join judged as j using (seq)"""

# New flags' ids: rule id + 8 hex of md5(id_number|rule_id|sorted evidence keys), or of the
# same with '#n' for the first n that is free (a flag re-sent with the very same evidence
# after a system closure; or two flags whose md5 share 8 hex digits, where the earlier row
# in (id_number, rule_id) order keeps the plain id, as the loop gave it).
_NEW_ID_SQL = """
insert into sync_new_id
select seq, candidate from (
    select b.seq, b.rule_id || '-' || left(md5(b.base || $suffix), 8) as candidate
    from sync_batch as b anti join sync_new_id as done using (seq)
    where b.how = 'new'
) as c
where candidate not in (select flag_id from decisions.flag_register)
    and candidate not in (select flag_id from sync_new_id)
qualify row_number() over (partition by candidate order by seq) = 1"""


def sync_flags(con: duckdb.DuckDBPyConnection, now: datetime | None = None) -> int:
    """Copy the flags of every build not copied yet into the register; returns how many flags
    were new. Then closes, visibly, every open flag whose evidence was withdrawn or corrected
    away (``close_orphaned_flags``).

    Identity (rules.md, "Decisions stick"): a flag is its cadre, rule and evidence keys. A
    build's flag whose evidence is all in a registered flag is that flag (a cleared one stays
    cleared); new evidence joins a flag nobody has decided yet; new evidence after a decision
    opens a new flag naming what is new (``new_evidence_keys``, ``previous_flag_id``). A
    registered flag keeps what people saw when deciding; only ``last_seen_at``,
    ``last_evidence_ids`` and ``first_as_of`` follow later builds."""
    ensure(con)
    now = now or datetime.now().replace(microsecond=0)
    pending = con.execute("select as_of, built_at from decisions.build_source "
                          "anti join decisions.flag_sync using (as_of, built_at) "
                          "order by built_at").fetchall()
    if not pending:
        close_orphaned_flags(con, now)
        return 0
    dates = sorted({p[0] for p in pending})
    con.execute(f"create or replace temp table {RAISED} as select * from decisions.flag_raised "
                "where list_contains($dates, as_of)", {"dates": dates})
    try:
        inserted = register_raised(con, now)
    finally:
        con.execute(f"drop table if exists {RAISED}")
    con.executemany("insert into decisions.flag_sync values (?, ?, ?)",
                    [[as_of, built_at, now] for as_of, built_at in pending])
    close_orphaned_flags(con, now)
    return inserted


def register_raised(con: duckdb.DuckDBPyConnection, now: datetime) -> int:
    """Match the flags in the temp table ``RAISED`` (rows of ``decisions.flag_raised``) to the
    register, add the new ones and record ``decisions.flag_match``; returns how many were new.

    Why set-based, one as-of date at a time: a cadre and rule has one flag per build, so the
    flags of one date never meet each other, and each date sees what the dates before it
    added (its flags may join or repeat them). Per flag in Python this was ~40% of a publish
    (86k flags at 200k cadres: pandas ``to_dict`` and a loop); the SQL does the same per
    date. ``tests/test_decisions_sync.py`` checks it against that loop."""
    dates = [r[0] for r in con.execute(f"select distinct as_of from {RAISED} order by 1")
             .fetchall()]
    con.execute("delete from decisions.flag_match where list_contains($dates, as_of)",
                {"dates": dates})
    con.execute(_STATE_SQL)
    inserted = 0
    try:
        for as_of in dates:
            inserted += _register_one_date(con, as_of, now)
    finally:
        con.execute("drop table if exists sync_state")
        con.execute("drop table if exists sync_batch")
        con.execute("drop table if exists sync_new_id")
    return inserted


def _register_one_date(con: duckdb.DuckDBPyConnection, as_of: date, now: datetime) -> int:
    con.execute(_MATCH_SQL, {"as_of": as_of})
    # matched flags: their evidence grows (a repeat adds nothing); a grown one takes the
    # build's detail and evidence, as people will see it before deciding
    con.execute("""
        update sync_state as s set keys = list_sort(list_distinct(list_concat(s.keys,
            b.evidence_keys)))
        from sync_batch as b where b.how <> 'new' and s.flag_id = b.found_id""")
    con.execute("""
        update decisions.flag_register as r set evidence_keys = s.keys,
            last_evidence_ids = b.evidence_ids, last_seen_at = $now,
            first_as_of = least(r.first_as_of, b.as_of),
            detail_zh = if(b.how = 'grow', coalesce(b.detail_zh, r.detail_zh), r.detail_zh),
            evidence_ids = if(b.how = 'grow' and b.detail_zh is not null, b.evidence_ids,
                              r.evidence_ids)
        from sync_batch as b join sync_state as s on s.flag_id = b.found_id
        where b.how <> 'new' and r.flag_id = b.found_id""", {"now": now})
    con.execute("create or replace temp table sync_new_id (seq bigint, flag_id varchar)")
    for n in range(100):
        con.execute(_NEW_ID_SQL, {"suffix": f"#{n}" if n else ""})
        left = con.execute("select count(*) from sync_batch anti join sync_new_id using (seq) "
                           "where how = 'new'").fetchone()[0]
        if not left:
            break
    else:
        raise AssertionError("unreachable: 100 flag id variants taken")
    inserted = con.execute("""
        insert into decisions.flag_register by name
        select i.flag_id, b.id_number, b.rule_id, b.severity, b.opened_on,
            b.observation_ends_on, b.name, b.org_name, b.post_title, b.rule_title_zh,
            b.detail_zh, b.evidence_ids, b.as_of as first_as_of, $now as first_seen_at,
            $now as last_seen_at, b.ruleset_label, b.evidence_keys,
            b.evidence_ids as last_evidence_ids,
            if(b.last_id is null, null,
               list_filter(b.evidence_keys, lambda k: not list_contains(b.earlier, k)))
                as new_evidence_keys,
            b.last_id as previous_flag_id
        from sync_batch as b join sync_new_id as i using (seq) order by b.seq""",
                           {"now": now}).fetchone()[0]
    con.execute("""
        insert into sync_state
        select i.flag_id, b.id_number, b.rule_id, b.evidence_keys, false, false,
            coalesce(b.last_ord, 0) + 1
        from sync_batch as b join sync_new_id as i using (seq)""")
    con.execute("""
        insert or replace into decisions.flag_match
        select b.as_of, b.id_number, b.rule_id, coalesce(b.found_id, i.flag_id)
        from sync_batch as b left join sync_new_id as i using (seq)""")
    return int(inserted)


CLOSE_REASONS_ZH = {"withdrawn": "证据已由报送单位撤回", "corrected": "证据已由报送单位更正",
                    "doubt": "证据身份存疑（姓名与名册不符，待单位更正或组织部核实）"}


def close_orphaned_flags(con: duckdb.DuckDBPyConnection, now: datetime | None = None) -> int:
    """Close, as the system and with the reason, every open flag the latest build no longer
    raises because a piece of its evidence was withdrawn, corrected, or is now 身份存疑.

    Why visible and not silent: a flag left 待核实 on evidence that is gone would be decided
    on nothing; one that just vanished would hide that it was ever proposed. A flag that only
    left the look-back window is not closed (it stays in the register, ``in_latest_build``
    false). Returns how many flags were closed."""
    now = now or datetime.now().replace(microsecond=0)
    latest = con.execute("select as_of from decisions.build_source "
                         "order by built_at desc, as_of desc limit 1").fetchone()
    if latest is None:
        return 0
    # Usually every flag the register holds up to that date is in the latest build (always
    # after a first sync): then there is nothing to judge, and flag_state need not be read.
    unseen = con.execute("select count(*) from decisions.flag_register where first_as_of <= $as_of "
                         "and flag_id not in (select flag_id from decisions.flag_match "
                         "where as_of = $as_of)", {"as_of": latest[0]}).fetchone()[0]
    if not unseen:
        return 0
    has_fact = con.execute("select count(*) from duckdb_tables() where schema_name = 'core' "
                           "and table_name = 'fact'").fetchone()[0]
    doubt = ("exists (select 1 from core.fact f where f.source || ':' || f.record_key = "
             "item.evidence_key and f.identity_doubt)") if has_fact else "false"
    rows = con.execute(f"""
        with latest as (select flag_id from decisions.flag_match where as_of = $as_of),
        state as (select flag_id, state from decisions.flag_state),
        open_flag as (
            select r.flag_id, r.id_number, r.opened_on,
                coalesce(r.last_evidence_ids, r.evidence_ids) as seen_ids, r.evidence_keys
            from decisions.flag_register as r join state using (flag_id)
            where list_contains($open, state.state) and r.first_as_of <= $as_of
                and r.flag_id not in (select flag_id from latest)
        ),
        item as (select flag_id, id_number, opened_on, seen_ids,
                     unnest(evidence_keys) as evidence_key from open_flag),
        judged as (
            select item.*,
                not exists (select 1 from staging.evidence_key k
                            where k.evidence_key = item.evidence_key and k.is_current)
                    and exists (select 1 from staging.evidence_key k
                                where k.evidence_key = item.evidence_key and k.withdrawn)
                    as withdrawn,
                exists (select 1 from staging.evidence_key k
                        where k.evidence_key = item.evidence_key and k.is_current
                          and not list_contains(item.seen_ids, k.evidence_id)
                          and exists (select 1 from staging.evidence_key old
                                      where old.evidence_key = item.evidence_key
                                        and list_contains(item.seen_ids, old.evidence_id)))
                    as corrected,
                {doubt} as doubt
            from item
        )
        select flag_id, any_value(id_number), any_value(opened_on),
            list(evidence_key order by evidence_key) filter (where withdrawn),
            list(evidence_key order by evidence_key) filter (where corrected),
            list(evidence_key order by evidence_key) filter (where doubt)
        from judged group by flag_id
        having bool_or(withdrawn) or bool_or(corrected) or bool_or(doubt)
        order by flag_id""", {"as_of": latest[0], "open": list(OPEN_STATES)}).fetchall()
    for flag_id, id_number, opened_on, withdrawn, corrected, doubt in rows:
        parts = [f"{CLOSE_REASONS_ZH[kind]}：{'、'.join(keys)}"
                 for kind, keys in (("withdrawn", withdrawn), ("corrected", corrected),
                                    ("doubt", doubt)) if keys]
        past = history(con, flag_id)
        current = replay(INITIAL_STATE.get(_flag(con, flag_id)[1], "flagged"), past)
        on = max([now.date(), opened_on] + [e.decided_on for e in past])
        con.execute("""
            insert into decisions.decision_log (flag_id, id_number, action, from_state,
                to_state, decided_on, decided_by, reason, recorded_at, recorded_via)
            values (?, ?, 'close', ?, 'closed', ?, ?, ?, ?, 'system')""",
                    [flag_id, id_number, current, on, SYSTEM_DECIDER,
                     "系统关闭：最新一次画像构建不再提出该线索，因为" + "；".join(parts), now])
        log.info("flag %s closed by the system (%s)", flag_id, "; ".join(
            k for k, v in (("withdrawn", withdrawn), ("corrected", corrected),
                           ("doubt", doubt)) if v))
    return len(rows)


def migrate_register(con: duckdb.DuckDBPyConnection) -> int:
    """Upgrade a register written before flags had evidence keys, in place; returns how many
    flags got their keys. Every flag keeps its id and its decisions; its evidence ids are
    mapped to stable keys through ``staging.evidence_key`` (which keeps every version ever
    loaded), and every build is matched again so ``decisions.flag_match`` knows them all."""
    missing = con.execute("select count(*) from decisions.flag_register "
                          "where evidence_keys is null").fetchone()[0]
    if not missing:
        return 0
    con.execute("""
        update decisions.flag_register as r set evidence_keys = m.keys,
            last_evidence_ids = coalesce(r.last_evidence_ids, r.evidence_ids)
        from (select e.flag_id,
                  list_sort(list_distinct(list(coalesce(k.evidence_key, e.evidence_id)))) as keys
              from (select flag_id, unnest(evidence_ids) as evidence_id
                    from decisions.flag_register where evidence_keys is null) as e
              left join staging.evidence_key as k using (evidence_id)
              group by e.flag_id) as m
        where r.flag_id = m.flag_id""")
    con.execute("update decisions.flag_register set evidence_keys = [] "
                "where evidence_keys is null")
    con.execute("delete from decisions.flag_sync")  # re-match every build by evidence
    log.info("flag register upgraded: %d flags keyed by evidence", missing)
    return int(missing)


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
             observation_months: int, current_until: date | None = None) -> Decision:
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
    if d.action == "extend":
        if d.observe_until is None:
            raise DecisionRefused("延长考察期须填写新的考察期截止日期")
        if current_until is not None and d.observe_until <= current_until:
            raise DecisionRefused(f"新的考察期截止日期须晚于当前截止日期{current_until}")
        return d
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
        if ACTIONS.get(decision.action) and ACTIONS[decision.action].system_only:
            raise DecisionRefused(f"“{ACTIONS[decision.action].zh}”只能由系统记录")
        require_decider(con, decision.decided_by)
        id_number, severity, opened_on = _flag(con, decision.flag_id)
        if decision.id_number and decision.id_number.upper() != id_number:
            raise DecisionRefused(f"身份证号与线索编号“{decision.flag_id}”所指干部不符")
        past = history(con, decision.flag_id)
        current = replay(INITIAL_STATE.get(severity, "flagged"), past)
        to_state = next_state(current, decision.action, past)
        d = _checked(decision, opened_on, past[-1] if past else None, today,
                     review_sql.observation_months(), _observe_until(con, decision.flag_id))
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


def _observe_until(con: duckdb.DuckDBPyConnection, flag_id: str) -> date | None:
    row = con.execute("select observe_until from decisions.flag_state where flag_id = ?",
                      [flag_id]).fetchone()
    return None if row is None else row[0]


# --- known deciders -------------------------------------------------------------------------

def require_decider(con: duckdb.DuckDBPyConnection, name: str | None) -> str:
    """The registered, active decider called ``name``; DecisionRefused (nothing written) else."""
    name = (name or "").strip()
    if not name:
        raise DecisionRefused("未填写决定人")
    row = con.execute("select active from decisions.decider where name = ?", [name]).fetchone()
    if row is None:
        raise DecisionRefused(f"决定人“{name}”未登记：决定须由已登记的决定人作出"
                              "（命令行：cadre deciders add 姓名 职务；门户：审核账号）")
    if not row[0]:
        raise DecisionRefused(f"决定人“{name}”已停用，不能记录决定")
    return name


def add_decider(con: duckdb.DuckDBPyConnection, name: str, role: str, *, kind: str = "cli",
                now: datetime | None = None) -> None:
    """Register (or re-activate, with its new role) a person allowed to record decisions."""
    ensure(con)
    name, role = (name or "").strip(), (role or "").strip()
    if not name or not role:
        raise DecisionRefused("登记决定人须填写姓名和职务")
    if name == SYSTEM_DECIDER:
        raise DecisionRefused(f"“{SYSTEM_DECIDER}”保留给系统自动关闭，不能登记为决定人")
    now = now or datetime.now().replace(microsecond=0)
    con.execute("""insert into decisions.decider values (?, ?, ?, true, ?, ?)
                   on conflict (name) do update set role = excluded.role, kind = excluded.kind,
                   active = true, changed_at = excluded.changed_at""",
                [name, role, kind, now, now])


def disable_decider(con: duckdb.DuckDBPyConnection, name: str,
                    now: datetime | None = None) -> bool:
    """Stop ``name`` from recording new decisions (its past decisions stay). False if unknown."""
    ensure(con)
    found = con.execute("select count(*) from decisions.decider where name = ?",
                        [name]).fetchone()[0]
    con.execute("update decisions.decider set active = false, changed_at = ? where name = ?",
                [now or datetime.now().replace(microsecond=0), name])
    return bool(found)


def list_deciders(con: duckdb.DuckDBPyConnection) -> list[dict[str, object]]:
    ensure(con)
    rows = con.execute("select name, role, kind, active, added_at, changed_at "
                       "from decisions.decider order by active desc, name").df()
    return rows.to_dict(orient="records")


def recognise_portal_account(con: duckdb.DuckDBPyConnection, account: str,
                             role: str = "门户审核账号") -> str:
    """The portal's call: make its reviewer account a known decider (idempotent) and return the
    name to pass as ``Decision.decided_by``. A disabled account stays disabled: the portal
    cannot re-enable what the department switched off."""
    ensure(con)
    row = con.execute("select active from decisions.decider where name = ?",
                      [account]).fetchone()
    if row is None:
        add_decider(con, account, role, kind="portal")
    elif not row[0]:
        raise DecisionRefused(f"决定人“{account}”已停用，不能记录决定")
    return account


def allowed_actions(state: str) -> list[str]:
    """Actions a person may take next on a flag in ``state`` (for the CLI and the report)."""
    return [a.name for a in ACTIONS.values() if state in a.from_states and not a.system_only]
