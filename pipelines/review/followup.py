"""Follow-up (复检) of adjusted cadres, and the reminders the follow-up DAG sends.

Seed §4: adjusted cadres are not left alone ("避免一下了之"): each gets a file (逐人建档) with
targets, is re-checked periodically (default every 6 months, ``review.recheck_months``), and is
listed for re-appointment once the bar is met again and the influence periods have ended. The
file, the schedule and the results are views (``warehouse/followup/*.sql``) over decisions and
the latest build, so they follow the evidence without anyone updating them; people only add
targets of their own (``set_target``) and record 重新任用 as a decision.

``scan`` is what the follow-up DAG runs: what falls due within the next days (observation
periods, influence periods, re-checks) and who became eligible, written as a report.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date, datetime, timedelta

import duckdb
import pandas as pd

from pipelines.review import decisions
from pipelines.review import sql as review_sql
from pipelines.review.data import DIMENSION_ZH
from pipelines.review.decisions import DecisionRefused

log = logging.getLogger(__name__)
DERIVED_TARGETS = ("德能勤绩廉各维度得分不低于岗位类别阈值", "年度考核为称职及以上等次",
                   "不再出现新的不适宜担任现职线索")


@dataclass
class FollowupScan:
    as_of: date
    until: date
    build_as_of: date | None
    observation: pd.DataFrame  # 考察期 ending by `until` (or overdue)
    influence: pd.DataFrame  # influence periods ending between as_of and until
    rechecks: pd.DataFrame  # re-checks due by `until`, and those done since the last scan window
    files: pd.DataFrame  # every follow-up file with eligibility
    targets: pd.DataFrame  # flag_id, target_no, target_zh, set_by, set_on
    schedule: pd.DataFrame  # every re-check of every file (followup.recheck)

    @property
    def eligible(self) -> pd.DataFrame:
        return self.files[self.files["eligible"].fillna(False).astype(bool)]

    def counts(self) -> dict[str, int]:
        return {"observation_ending": len(self.observation), "influence_ending": len(self.influence),
                "rechecks_due": int((self.rechecks["status"] == "due").sum()),
                "files": len(self.files), "eligible": len(self.eligible)}


def set_target(con: duckdb.DuckDBPyConnection, flag_id: str, target_zh: str, set_by: str,
               set_on: date | None = None) -> int:
    """Add a target to an adjusted cadre's file; returns its number. Refused (Chinese reason)
    when the flag has no follow-up file or the text or author is empty."""
    decisions.ensure(con)
    if not target_zh.strip() or not set_by.strip():
        raise DecisionRefused("复检目标和设定人均须填写")
    found = con.execute("select count(*) from followup.followup_case where flag_id = ?",
                        [flag_id]).fetchone()[0]
    if not found:
        raise DecisionRefused(f"线索“{flag_id}”尚未组织调整，没有复检档案")
    number = con.execute("select coalesce(max(target_no), 0) + 1 from decisions.followup_target "
                         "where flag_id = ?", [flag_id]).fetchone()[0]
    con.execute("insert into decisions.followup_target values (?, ?, ?, ?, ?, ?)",
                [flag_id, number, target_zh.strip(), set_by.strip(), set_on or date.today(),
                 datetime.now().replace(microsecond=0)]).fetchall()
    return int(number)


def targets(con: duckdb.DuckDBPyConnection, files: pd.DataFrame) -> pd.DataFrame:
    """Each file's targets: the derived ones (the bar of the re-check, the dimensions that were
    low before the adjustment, the end of the influence period), then those people set."""
    rows = []
    for f in files.itertuples():
        low = con.execute("""
            select below_threshold from decisions.profile_source
            where id_number = ? and as_of = (select max(as_of) from decisions.profile_source)
                and period_kind in ('half_year', 'as_of') and period_end <= ?
            order by period_end desc limit 1""", [f.id_number, f.adjusted_on]).fetchone()
        derived = list(DERIVED_TARGETS)
        if low and low[0]:
            derived.insert(0, "重点提升：" + "、".join(DIMENSION_ZH.get(d, d) for d in low[0]) + "维度")
        last_day = (pd.Timestamp(f.reappoint_from) - timedelta(days=1)).date()
        derived.append(f"调整影响期届满（{last_day}）")
        rows += [(f.flag_id, n, text, "系统按规则生成", None)
                 for n, text in enumerate(derived, start=1)]
        own = con.execute("select target_no, target_zh, set_by, set_on from "
                          "decisions.followup_target where flag_id = ? order by target_no",
                          [f.flag_id]).fetchall()
        rows += [(f.flag_id, len(derived) + no, text, by, on) for no, text, by, on in own]
    return pd.DataFrame(rows, columns=["flag_id", "target_no", "target_zh", "set_by", "set_on"])


def scan_in(con: duckdb.DuckDBPyConnection, as_of: date, days: int = 30) -> FollowupScan:
    """Everything due within ``days`` of ``as_of``, on an open writer connection."""
    decisions.sync_flags(con)
    built = [r[0] for r in con.execute("select distinct as_of from decisions.build_source "
                                       "where as_of <= ? order by as_of", [as_of]).fetchall()]
    build = built[-1] if built else None
    review_sql.set_context(con, as_of, build)
    until = as_of + timedelta(days=days)
    p = {"as_of": as_of, "until": until, "build": build}
    observation = con.execute("""
        select flag_id, id_number, name, org_name, rule_id, rule_title_zh, detail_zh,
            opened_on, observe_until, observe_until < $as_of as overdue
        from decisions.flag_state
        where state = 'under_observation' and observe_until <= $until
        order by observe_until, org_name, name""", {"as_of": as_of, "until": until}).df()
    influence = review_sql.query(con, """
        with post as (select id_number, name, org_name from decisions.profile_source
                      where as_of = $build and period_kind = 'as_of')
        select '处分/组织处理' as kind, i.id_number, post.name, post.org_name, i.measure,
            i.decided_on, i.effect_until
        from decisions.influence_source as i left join post using (id_number)
        where i.as_of = $build and i.effect_until between $as_of and $until
            and i.lifted_on is null  -- a lifted block has nothing left to end
        union all
        select '组织调整', id_number, name, org_name, '组织调整（' || measure || '）', adjusted_on,
            reappoint_from - 1
        from followup.followup_case
        where file_status = 'active' and reappoint_from - 1 between $as_of and $until
        order by effect_until""", p)
    rechecks = review_sql.query(con, """
        select r.*, c.name, c.org_name, c.measure, c.adjusted_on
        from followup.recheck as r join followup.followup_case as c using (flag_id)
        where r.recheck_on <= $until and r.recheck_on > $as_of - $days
        order by r.recheck_on""", {**p, "days": days})
    files = con.execute("""
        select c.*, r.last_recheck_on, r.last_meets_bar, r.sanction_blocks_until, r.eligible,
            r.blockers_zh
        from followup.followup_case as c left join followup.reappointment as r using (flag_id)
        order by c.org_name, c.name""").df()
    schedule = con.execute("select * from followup.recheck order by flag_id, recheck_no").df()
    return FollowupScan(as_of, until, build, observation, influence, rechecks, files,
                        targets(con, files), schedule)

