"""The flag register's sync (``decisions.register_raised``, set-based SQL) against the per-flag
loop it replaced, kept here as the oracle: on random registers (decided, closed, nested and
repeated evidence, ties of first_seen_at, a closed flag re-sent with the very same evidence)
and random builds over one to three as-of dates, both leave the same register and the same
``decisions.flag_match``, row for row."""

from __future__ import annotations

import hashlib
import random
from collections import Counter
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

import duckdb
import pandas as pd
import pyarrow as pa

from pipelines.review.decisions import RAISED, register_raised

SCHEMA = Path(__file__).resolve().parents[1] / "warehouse" / "decisions" / "schema.sql"
NOW = datetime(2026, 7, 1, 8, 0, 0)
KEYS = [f"s:{i}" for i in range(6)]


# --- the loop sync_flags ran before (the oracle) ---------------------------------------------

@dataclass
class _Registered:
    flag_id: str
    keys: set[str]
    decided: bool
    closed: bool
    order: int


def _flag_id(id_number: str, rule_id: str, keys: list[str], taken: set[str]) -> str:
    base = f"{id_number}|{rule_id}|{'|'.join(sorted(keys))}"
    for n in range(100):
        candidate = f"{rule_id}-{hashlib.md5(f'{base}#{n}'.encode() if n else base.encode()).hexdigest()[:8]}"
        if candidate not in taken:
            return candidate
    raise AssertionError("unreachable")


def _match(raised_keys: set[str], registered: list[_Registered]) -> tuple[str, _Registered | None]:
    live = [r for r in registered if not r.closed]
    covering = [r for r in live if raised_keys <= r.keys]
    if covering:
        return "same", max(covering, key=lambda r: r.order)
    pending = [r for r in live if not r.decided]
    if pending:
        return "grow", max(pending, key=lambda r: r.order)
    return "new", max(registered, key=lambda r: r.order) if registered else None


def _day(value: object) -> date:
    return value.date() if isinstance(value, datetime) else value


def _update_registered(con: duckdb.DuckDBPyConnection, updates: list[list], now: datetime) -> None:
    if not updates:
        return
    merged: dict[str, dict] = {}
    for flag_id, keys, evidence_ids, as_of, detail in updates:
        m = merged.setdefault(flag_id, {"flag_id": flag_id, "first_as_of": _day(as_of),
                                        "detail_zh": None, "evidence_ids": None})
        m["evidence_keys"], m["last_evidence_ids"] = list(keys), list(evidence_ids)
        m["first_as_of"] = min(m["first_as_of"], _day(as_of))
        if isinstance(detail, str):
            m["detail_zh"], m["evidence_ids"] = detail, list(evidence_ids)
    strings = pa.list_(pa.string())
    updated = pa.Table.from_pylist(list(merged.values()), schema=pa.schema([  # noqa: F841
        ("flag_id", pa.string()), ("first_as_of", pa.date32()), ("detail_zh", pa.string()),
        ("evidence_ids", strings), ("evidence_keys", strings),
        ("last_evidence_ids", strings)]))
    con.execute("""update decisions.flag_register as r set evidence_keys = u.evidence_keys,
                       last_evidence_ids = u.last_evidence_ids, last_seen_at = $now,
                       first_as_of = least(r.first_as_of, u.first_as_of),
                       detail_zh = coalesce(u.detail_zh, r.detail_zh),
                       evidence_ids = if(u.detail_zh is null, r.evidence_ids, u.evidence_ids)
                   from updated as u where r.flag_id = u.flag_id""", {"now": now})


def _loop(con: duckdb.DuckDBPyConnection, now: datetime, hows: Counter | None = None) -> int:
    """sync_flags' body before, from the raised rows on (verbatim but for where they come
    from, and ``hows``, which counts the kinds of match for the test's own coverage check)."""
    hows = Counter() if hows is None else hows
    raised = con.execute(f"select * from {RAISED} order by as_of, id_number, rule_id").df()
    dates = sorted(set(con.execute(f"select distinct as_of from {RAISED}").fetchall()))
    registered: dict[tuple[str, str], list[_Registered]] = {}
    for flag_id, id_number, rule_id, keys, decided, closed, order in con.execute("""
            select r.flag_id, r.id_number, r.rule_id, coalesce(r.evidence_keys, []),
                exists (select 1 from decisions.decision_log d where d.flag_id = r.flag_id),
                exists (select 1 from decisions.decision_log d where d.flag_id = r.flag_id
                        and d.action = 'close'),
                row_number() over (order by r.first_seen_at, r.flag_id)
            from decisions.flag_register as r""").fetchall():
        registered.setdefault((id_number, rule_id), []).append(
            _Registered(flag_id, set(keys), decided, closed, order))
    taken = {r.flag_id for rs in registered.values() for r in rs}
    order = len(taken)
    inserts, updates, matches = [], [], []
    for row in raised.to_dict(orient="records"):
        keys = set(row["evidence_keys"])
        group = registered.setdefault((row["id_number"], row["rule_id"]), [])
        how, found = _match(keys, group)
        hows[how] += 1
        evidence_ids = list(row["evidence_ids"])
        if how in ("same", "grow") and found is not None:
            found.keys |= keys
            updates.append([found.flag_id, sorted(found.keys), evidence_ids, row["as_of"],
                            row["detail_zh"] if how == "grow" else None])
            matches.append([row["as_of"], row["id_number"], row["rule_id"], found.flag_id])
            continue
        earlier = set().union(*(r.keys for r in group)) if group else set()
        flag_id = _flag_id(row["id_number"], row["rule_id"], sorted(keys), taken)
        hows["variant id"] += flag_id != _flag_id(row["id_number"], row["rule_id"], sorted(keys),
                                                  set())
        hows["previous flag"] += found is not None
        taken.add(flag_id)
        order += 1
        group.append(_Registered(flag_id, set(keys), False, False, order))
        inserts.append({
            "flag_id": flag_id, "id_number": row["id_number"], "rule_id": row["rule_id"],
            "severity": row["severity"], "opened_on": row["opened_on"],
            "observation_ends_on": row["observation_ends_on"], "name": row["name"],
            "org_name": row["org_name"], "post_title": row["post_title"],
            "rule_title_zh": row["rule_title_zh"], "detail_zh": row["detail_zh"],
            "evidence_ids": evidence_ids, "first_as_of": row["as_of"], "first_seen_at": now,
            "last_seen_at": now, "ruleset_label": row["ruleset_label"],
            "evidence_keys": sorted(keys), "last_evidence_ids": evidence_ids,
            "new_evidence_keys": sorted(keys - earlier) if found else None,
            "previous_flag_id": found.flag_id if found else None})
        matches.append([row["as_of"], row["id_number"], row["rule_id"], flag_id])
    if inserts:
        frame = pd.DataFrame(inserts)  # noqa: F841 - read by DuckDB below
        con.execute("insert into decisions.flag_register by name select * from frame")
    _update_registered(con, updates, now)
    for (as_of,) in dates:
        con.execute("delete from decisions.flag_match where as_of = ?", [as_of])
    if matches:
        match_rows = {(_day(a), i, r): f for a, i, r, f in matches}
        match_table = pa.table(  # noqa: F841 - read by DuckDB below
            [pa.array([k[0] for k in match_rows], pa.date32()),
             pa.array([k[1] for k in match_rows], pa.string()),
             pa.array([k[2] for k in match_rows], pa.string()),
             pa.array(list(match_rows.values()), pa.string())],
            names=["as_of", "id_number", "rule_id", "flag_id"])
        con.execute("insert or replace into decisions.flag_match "
                    "select as_of, id_number, rule_id, flag_id from match_table")
    return len(inserts)


# --- random worlds ------------------------------------------------------------------------

def _world(rng: random.Random) -> tuple[list[tuple], list[tuple], list[tuple], list[tuple]]:
    """(register rows, decision rows, earlier flag_match rows, raised rows)."""
    register, log, taken = [], [], set()
    cadres, rules = ["110", "220", "330"], ["A1", "I1"]
    for id_number in cadres:
        for rule_id in rules:
            for _ in range(rng.choice([0, 0, 1, 1, 2, 3])):
                keys = sorted(rng.sample(KEYS, rng.randint(0, 3)))
                flag_id = _flag_id(id_number, rule_id, keys, taken) if rng.random() < 0.8 \
                    else f"{rule_id}-{rng.randrange(16**8):08x}"
                if flag_id in taken:
                    continue
                taken.add(flag_id)
                seen = datetime(2026, 1, rng.choice([1, 1, 2]), 9)  # ties are ordered by id
                register.append((flag_id, id_number, rule_id, "candidate", date(2025, 1, 1),
                                 None, "某", "某单位", "某职务", "规则", f"原{flag_id}",
                                 [f"E-{flag_id}"], date(2025, rng.choice([6, 12]), 30), seen,
                                 seen, "v1", keys, [f"E-{flag_id}"], None, None))
                decided = rng.random()
                if decided < 0.6:
                    action = rng.choice(["clear", "confirm", "close", "close"]) \
                        if decided < 0.45 else "observe"
                    log.append((flag_id, id_number, action))
    dates = sorted(rng.sample([date(2025, 12, 31), date(2026, 3, 31), date(2026, 6, 30)],
                              rng.randint(1, 3)))
    raised = []
    for as_of in dates:
        for id_number in cadres:
            for rule_id in rules:
                if rng.random() < 0.7:
                    own = [r[16] for r in register if r[1:3] == (id_number, rule_id)]
                    keys = list(rng.choice(own)) if own and rng.random() < 0.4 else \
                        sorted(rng.sample(KEYS, rng.randint(0, 3)))  # the same again, or any
                    detail = None if rng.random() < 0.2 else f"详情{as_of}{keys}"
                    raised.append((as_of, id_number, rule_id, "candidate", date(2025, 3, 1),
                                   None, None, "某", "某单位", "某职务", "规则", detail,
                                   [f"E{as_of}{k}" for k in keys], keys, "v2", True))
    match = [(date(2025, 12, 31), register[0][1], register[0][2], register[0][0])] \
        if register else []
    return register, log, match, raised


def _load(con: duckdb.DuckDBPyConnection, world: tuple) -> None:
    register, log, match, raised = world
    con.execute(SCHEMA.read_text(encoding="utf-8"))
    con.execute(f"""create temp table {RAISED} (as_of date, id_number varchar, rule_id varchar,
        severity varchar, opened_on date, observation_ends_on date, observation_status varchar,
        name varchar, org_name varchar, post_title varchar, rule_title_zh varchar,
        detail_zh varchar, evidence_ids varchar[], evidence_keys varchar[],
        ruleset_label varchar, in_scope boolean)""")
    if register:
        con.executemany("insert into decisions.flag_register (flag_id, id_number, rule_id, "
                        "severity, opened_on, observation_ends_on, name, org_name, post_title, "
                        "rule_title_zh, detail_zh, evidence_ids, first_as_of, first_seen_at, "
                        "last_seen_at, ruleset_label, evidence_keys, last_evidence_ids, "
                        "new_evidence_keys, previous_flag_id) values (" + ", ".join("?" * 20)
                        + ")", register)
    for flag_id, id_number, action in log:
        con.execute("insert into decisions.decision_log (flag_id, id_number, action, "
                    "from_state, to_state, decided_on, decided_by, reason, recorded_at, "
                    "recorded_via) values (?, ?, ?, 'flagged', 'x', date '2026-01-05', '某', "
                    "'某', timestamp '2026-01-05 10:00', 'cli')", [flag_id, id_number, action])
    if match:
        con.executemany("insert into decisions.flag_match values (?, ?, ?, ?)", match)
    if raised:
        con.executemany(f"insert into {RAISED} values ({', '.join('?' * 16)})", raised)


def _tables(con: duckdb.DuckDBPyConnection) -> tuple[list, list]:
    return (con.execute("select * from decisions.flag_register order by flag_id").fetchall(),
            con.execute("select * from decisions.flag_match order by all").fetchall())


def test_the_sql_sync_leaves_what_the_per_flag_loop_left() -> None:
    rng = random.Random(13)
    hows: Counter = Counter()
    for _ in range(50):
        world = _world(rng)
        results = []
        for run in (lambda c, now: _loop(c, now, hows), register_raised):
            with duckdb.connect() as con:
                _load(con, world)
                inserted = run(con, NOW)
                results.append((inserted, *_tables(con)))
        assert results[1] == results[0], world
    # the worlds exercised every way a build's flag can meet the register
    assert all(hows[k] >= 5 for k in ("same", "grow", "new", "variant id", "previous flag")), hows


def test_an_empty_build_changes_nothing_but_its_matches() -> None:
    world = _world(random.Random(1))
    world = (*world[:3], [])
    with duckdb.connect() as con:
        _load(con, world)
        before = _tables(con)
        assert register_raised(con, NOW) == 0
        assert _tables(con) == before
