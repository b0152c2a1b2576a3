"""What people decided about the flags on a candidate list.

``marts.candidate`` is the engine's proposal at an as-of date and never changes with decisions
(it proposes; people decide). A list read without the decisions shows a cadre whose flags a
person has cleared as a 不适宜担任现职 candidate still, so ``cadre candidates`` carries, per
cadre, the state of each of their flags that has a recorded decision (``with_decision_states``).
"""

from __future__ import annotations

from datetime import date

import duckdb

DECISION_STATES_SQL = """
select source.id_number, source.rule_id, state.flag_id, state.state, state.state_zh
from decisions.flag_source as source
join decisions.flag_state as state using (flag_id)
where source.as_of = ? and state.decisions > 0
order by source.id_number, source.rule_id
"""


def _has_decisions(con: duckdb.DuckDBPyConnection) -> bool:
    return con.execute("select count(*) from duckdb_views() where schema_name = 'decisions' "
                       "and view_name in ('flag_source', 'flag_state')").fetchone()[0] == 2


def with_decision_states(con: duckdb.DuckDBPyConnection, rows: list[dict],
                         as_of: date) -> list[dict]:
    """Give each listed cadre ``decisions``: for every flag of theirs at ``as_of`` that has a
    recorded decision, its rule, flag id, state and Chinese state (e.g. A1 已排除); empty when
    none was decided (or the build's flags are not in the register yet)."""
    found: dict[str, list[dict]] = {}
    if _has_decisions(con):
        for id_number, rule_id, flag_id, state, state_zh in con.execute(
                DECISION_STATES_SQL, [as_of]).fetchall():
            found.setdefault(id_number, []).append(
                {"rule_id": rule_id, "flag_id": flag_id, "state": state, "state_zh": state_zh})
    for row in rows:
        row["decisions"] = found.get(row["id_number"], [])
    return rows
