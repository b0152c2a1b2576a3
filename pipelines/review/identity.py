"""The organization department confirms a 身份存疑 row: it does concern the cadre of its ID.

rules.md, "Identity doubts stop evidence": a row whose 姓名 disagrees with the roster's name for
its ID counts toward no flag until the unit corrects it or the organization department confirms
the identity by a recorded decision. This is that decision: it names a registered decider
(``decisions.require_decider``), the record by source and key, and the name on the row; it is
written to ``meta.identity_confirmation`` (which the build's ``core.fact`` reads) and holds for
that name only: a re-sent row with yet another name is in doubt again.

Also here: ``with_identity_doubts``, which marks the doubts on a candidate list (the CLI and
the demo print it), because the review layer is the lowest that sees both ingest and build.
"""

from __future__ import annotations

import logging
from datetime import date, datetime

import duckdb

from pipelines.contracts import load_contract
from pipelines.ingest import identity as ingest_identity
from pipelines.review.decisions import DecisionRefused, ensure, require_decider

log = logging.getLogger(__name__)


def confirm_identity(con: duckdb.DuckDBPyConnection, source: str, record_key: str, *,
                     decided_by: str, reason: str, decided_on: date | None = None,
                     now: datetime | None = None) -> tuple[str, str]:
    """Record that the current row ``source``/``record_key`` concerns the cadre of its ID;
    returns (id_number, name on the row). DecisionRefused, writing nothing, when the decider
    is not registered, no reason is given, or the row is not 身份存疑."""
    ensure(con)
    require_decider(con, decided_by)
    if not (reason or "").strip():
        raise DecisionRefused("未填写决定理由")
    if source not in ingest_identity.person_sources():
        raise DecisionRefused(f"未知的数据类别：{source}")
    doubts = ingest_identity.identity_doubt_rows(con)
    row = doubts[(doubts["source"] == source) & (doubts["record_key"] == record_key)]
    if row.empty:
        title = load_contract(source).title_zh
        raise DecisionRefused(f"{title}记录“{record_key}”当前不是身份存疑记录，无需核实")
    id_number, fact_name = str(row.iloc[0]["id_number"]), str(row.iloc[0]["name"])
    decided_on = decided_on or date.today()
    if decided_on > date.today():
        raise DecisionRefused(f"决定日期{decided_on}晚于今天")
    con.execute("insert or replace into meta.identity_confirmation values (?, ?, ?, ?, ?, ?, ?, ?)",
                [source, record_key, id_number, fact_name, decided_on, decided_by.strip(),
                 reason.strip(), now or datetime.now().replace(microsecond=0)])
    log.info("identity confirmed for %s %s", source, record_key)
    return id_number, fact_name


def with_identity_doubts(con: duckdb.DuckDBPyConnection, rows: list[dict],
                         as_of: date) -> list[dict]:
    """Mark 身份存疑 (rules.md, "Identity doubts stop evidence"): each listed cadre gets
    ``identity_doubts``, the rows under their ID whose name contradicts the roster and that
    count toward nothing; cadres with such rows and no flag are listed after the others with
    severity ``identity_doubt``, so the doubt is seen before anyone relies on the list."""
    doubts = ingest_identity.identity_doubt_rows(con)
    counts = doubts.groupby("id_number").size().to_dict() if len(doubts) else {}
    for row in rows:
        row["identity_doubts"] = int(counts.get(row["id_number"], 0))
    listed = {r["id_number"] for r in rows}
    extra = [i for i in sorted(counts) if i not in listed]
    if extra:
        found = con.execute(
            "select id_number, name, org_name, post_title, post_level from core.cadre "
            "where list_contains(?, id_number) order by org_name, name, id_number",
            [extra]).fetchall()
        for id_number, name, org_name, post_title, post_level in found:
            rows.append({"id_number": id_number, "name": name, "org_name": org_name,
                         "post_title": post_title, "post_level": post_level,
                         "severity": "identity_doubt", "rules": [], "evidence_count": 0,
                         "first_flag_date": None, "in_influence_period": None,
                         "ruleset_version": None, "as_of": str(as_of),
                         "identity_doubts": int(counts[id_number])})
    return rows
