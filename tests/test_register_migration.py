"""An existing warehouse built by the previous code upgrades in place without losing a decision.

The previous register keyed a flag by ``md5(id_number|rule_id|first_flag_date)`` and had no
evidence keys, no ``flag_match`` and no deciders. The test builds the review world, then puts
the ``decisions`` schema back exactly as the previous code left it (its DDL and its way of
registering flags, copied below), records decisions the old way (free-text decider), and
then lets today's code open it: every flag keeps its id, every decision stays attached, and
later builds find the same flags.
"""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path

import duckdb
import pytest

from pipelines.build.steps import build
from pipelines.review import decisions
from pipelines.settings import DataHome
from tests.review_scenario import AS_OF, load_review_world

pytestmark = pytest.mark.integration

# The previous code's flag id and register row, as its decisions/flag_source.sql and
# sync_flags wrote them (rules.md "Decisions stick" changed this; see docs/reviews.md).
OLD_REGISTER = """
insert into decisions.flag_register by name
select f.rule_id || '-' || left(md5(f.id_number || '|' || f.rule_id || '|'
           || coalesce(f.first_flag_date, f.as_of)::varchar), 8) as flag_id,
       f.id_number, f.rule_id, f.severity, coalesce(f.first_flag_date, f.as_of) as opened_on,
       null::date as observation_ends_on, p.name, p.org_name, p.post_title,
       r.title_zh as rule_title_zh, f.detail_zh, f.evidence_ids, f.as_of as first_as_of,
       $now as first_seen_at, $now as last_seen_at, f.ruleset_version as ruleset_label
from marts.cadre_flag as f
left join ruleset.rule as r using (rule_id)
left join marts.cadre_profile as p on p.as_of = f.as_of and p.id_number = f.id_number
    and p.period_kind = 'as_of'
where f.severity in ('candidate', 'warning')
"""
NEW_COLUMNS = ("evidence_keys", "last_evidence_ids", "new_evidence_keys", "previous_flag_id")


def _downgrade(con: duckdb.DuckDBPyConnection) -> None:
    """The decisions schema as the previous code left it, with its own register rows."""
    for table in ("flag_match", "decider", "schema_version"):
        con.execute(f"drop table if exists decisions.{table}")
    con.execute("delete from decisions.flag_register")
    con.execute("delete from decisions.flag_sync")
    con.execute("delete from decisions.decision_log")
    for column in NEW_COLUMNS:
        con.execute(f"alter table decisions.flag_register drop column {column}")
    now = datetime(2026, 1, 5, 9, 0)
    con.execute(OLD_REGISTER, {"now": now})
    con.execute("insert into decisions.flag_sync select as_of, built_at, ? "
                "from marts.build_run", [now])


def _old_decision(con: duckdb.DuckDBPyConnection, flag_id: str, action: str, frm: str,
                  to: str, on: date) -> None:
    con.execute("""insert into decisions.decision_log (flag_id, id_number, action, from_state,
                       to_state, decided_on, decided_by, reason, recorded_at, recorded_via)
                   select flag_id, id_number, ?, ?, ?, ?, '部务会（旧版自由填写）', '核实',
                       now()::timestamp, 'cli'
                   from decisions.flag_register where flag_id = ?""",
                [action, frm, to, on, flag_id])


def test_an_old_register_upgrades_in_place_keeping_every_decision(
        home: DataHome, tmp_path: Path) -> None:
    ids = load_review_world(home, tmp_path / "drops")
    with duckdb.connect(str(home.warehouse_file)) as con:
        _downgrade(con)
        old = dict(con.execute("select id_number || rule_id, flag_id "
                               "from decisions.flag_register").fetchall())
        a1, u1, d1 = old[ids["甲一"] + "A1"], old[ids["乙三"] + "U1"], old[ids["乙二"] + "D1"]
        _old_decision(con, a1, "confirm", "flagged", "confirmed", date(2026, 1, 6))
        _old_decision(con, d1, "clear", "under_observation", "cleared", date(2026, 1, 6))
        log_before = con.execute("select * from decisions.decision_log order by 1").fetchall()

    with duckdb.connect(str(home.warehouse_file)) as con:  # today's code opens it
        decisions.sync_flags(con)
        assert con.execute("select * from decisions.decision_log order by 1").fetchall() \
            == log_before
        states = dict(con.execute("select flag_id, state from decisions.flag_state").fetchall())
        assert (states[a1], states[u1], states[d1]) == ("confirmed", "flagged", "cleared")
        matched = dict(con.execute("select id_number || rule_id, flag_id from "
                                   "decisions.flag_source where as_of = ?", [AS_OF]).fetchall())
        assert {k: matched[k] for k in old} == old  # the build's flags are the old ids
        keys = con.execute("select evidence_keys from decisions.flag_register where flag_id = ?",
                           [a1]).fetchone()[0]
        assert keys == [f"annual_assessment:{ids['甲一']}|2025"]

    build(home, date(2026, 6, 30))  # D1's window slides; its evidence does not change
    with duckdb.connect(str(home.warehouse_file)) as con:
        decisions.sync_flags(con)
        later = dict(con.execute("select id_number || rule_id, flag_id from decisions.flag_source "
                                 "where as_of = ?", [date(2026, 6, 30)]).fetchall())
        assert later.get(ids["乙二"] + "D1") == d1
        assert con.execute("select state from decisions.flag_state where flag_id = ?",
                           [d1]).fetchone()[0] == "cleared"
        assert con.execute("select count(*) from decisions.flag_register where "
                           "rule_id = 'D1' and id_number = ?", [ids["乙二"]]).fetchone()[0] == 1
