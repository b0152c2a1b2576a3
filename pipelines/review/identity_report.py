"""The 集中会诊 report's section on rows that count toward nothing yet, and on undone errors.

rules.md, "Decisions stick, and errors can be undone", and sources.md, "Rows about people the
roster does not know": the organization department sees, at each review, the standing 待匹配
list, the 身份存疑 rows waiting for a unit's correction or its own confirmation, the records
units withdrew during the period, and the flags the system closed because their evidence was
withdrawn or corrected. Rendered as its own template block (``_review_identity.html.j2``), so
the report's layout can change around it.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import duckdb
import pandas as pd

from pipelines.ingest.identity import identity_doubt_rows, unmatched_rows
from pipelines.review.data import Period


@dataclass(frozen=True)
class IdentitySection:
    unmatched: list[dict] = field(default_factory=list)
    doubts: list[dict] = field(default_factory=list)
    withdrawn: list[dict] = field(default_factory=list)
    closed: list[dict] = field(default_factory=list)


def _text(value: object) -> str:
    return "" if value is None or (not isinstance(value, list) and pd.isna(value)) else str(value)


def identity_section(con: duckdb.DuckDBPyConnection, period: Period,
                     unit: str | None = None) -> IdentitySection:
    """The four lists; for one 单位's report only its cadres' 身份存疑 rows and closed flags
    (unmatched rows name nobody in a roster, so they belong to the whole report). Withdrawals
    and system closures are listed from the period's start up to now: a review is held after
    the period ends, and what was undone since matters to it."""
    doubts = identity_doubt_rows(con)
    org = dict(con.execute("select id_number, org_name from core.cadre").fetchall()) \
        if con.execute("select count(*) from duckdb_tables() where schema_name = 'core' "
                       "and table_name = 'cadre'").fetchone()[0] else {}
    doubt_rows = [{"单位": _text(org.get(r.id_number)), "数据类别": r.source_zh,
                   "记录": r.record_key, "身份证号": r.id_number, "所填姓名": r.name,
                   "名册姓名": r.roster_name, "报送单位": r.unit, "文件": _text(r.filename),
                   "行": r.source_row}
                  for r in doubts.itertuples() if unit is None or org.get(r.id_number) == unit]
    unmatched = [] if unit else [
        {"报送单位": r.unit, "数据类别": r.source_zh, "记录": r.record_key, "身份证号": r.id_number,
         "姓名": r.name, "文件": _text(r.filename), "行": r.source_row,
         "接收时间": _text(r.received_at)} for r in unmatched_rows(con).itertuples()]
    withdrawn = con.execute("""
        select w.unit, w.source, w.record_key, w.id_number, w.reason, w.withdrawn_at, w.via
        from meta.withdrawal as w
        where w.withdrawn_at::date >= ? order by w.withdrawn_at""", [period.start]).fetchall()
    titles = {s: t for s, t in con.execute(
        "select distinct source, source from staging.evidence_key").fetchall()}
    withdrawn_rows = [{"报送单位": u, "数据类别": titles.get(s, s), "记录": k,
                       "身份证号": _text(i), "撤回原因": r, "撤回时间": _text(at),
                       "方式": {"drop": "撤回申请文件", "portal": "门户"}.get(v, v)}
                      for u, s, k, i, r, at, v in withdrawn
                      if unit is None or org.get(i) == unit]
    closed = con.execute("""
        select log.flag_id, register.org_name, register.name, register.rule_id,
            log.from_state, log.decided_on, log.reason
        from decisions.decision_log as log join decisions.flag_register as register using (flag_id)
        where log.action = 'close' and log.decided_on >= ?
        order by register.org_name, log.flag_id""", [period.start]).fetchall()
    closed_rows = [{"线索编号": f, "单位": _text(o), "姓名": _text(n), "规则": r,
                    "关闭前状态": s, "关闭日期": _text(on), "原因": why}
                   for f, o, n, r, s, on, why in closed if unit is None or o == unit]
    return IdentitySection(unmatched, doubt_rows, withdrawn_rows, closed_rows)
