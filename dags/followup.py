"""Follow-up DAGs: the weekly 复检 and deadline scan, and applying ORG decision files.

Wiring only: each task calls one ``pipelines.orchestration.tasks`` function; dates come from
the run (``dag_helpers.run_date``), never from the clock. Nothing is read or written when the
scheduler parses this file. The task logs carry counts only: who is due is in the report.
"""

from __future__ import annotations

from airflow.sdk import Asset, dag, get_current_context, task

from pipelines.orchestration import dag_helpers as h
from pipelines.orchestration import tasks
from pipelines.orchestration.assets import WAREHOUSE_POOL, raw_asset
from pipelines.settings import DataHome

FOLLOWUP_DOC = f"""
### 复检与到期提醒 (weekly follow-up)

Every Monday at 07:00 ({h.TIMEZONE}): what falls due within the next 30 days (param `days`),
as of the run's date (param `as_of` to override):

- 考察期 (observation periods) ending or overdue — the department decides 认定 or 排除;
- influence periods (影响期) of sanctions and adjustments ending;
- re-checks (复检) of adjusted cadres due, and results of those just done;
- adjusted cadres now eligible for re-appointment (bar met again, influence periods ended).

1. **apply_decisions** — `pipelines.review.decision_drops.apply_decision_drops`: decision files ORG
   sent since the last run go through the state machine first; when one was recorded, both
   snapshots are republished.
2. **scan** — `pipelines.review.followup_report.scan`: the report (HTML + XLSX, Chinese) into
   `$CADRE_HOME/reports/followup/`; the task log has the counts (names only in the report).

Pool `{WAREHOUSE_POOL}` (one writer).
"""

DECISIONS_DOC = f"""
### Apply decision files

Runs when the ingest DAG `ingest_decision` has loaded an ORG "干部调整决定记录" file
(asset `{raw_asset("decision")["name"]}`): every loaded row goes through the decision state
machine; ORG gets `<submission>_decision_决定处理结果.xlsx` in its outbox. Pool `{WAREHOUSE_POOL}`.
"""


@dag(
    **h.dag_args("followup_weekly"),
    description="复检, observation and influence periods ending, re-appointment eligibility",
    schedule=h.cron("0 7 * * 1"),
    tags=["cadre", "followup"],
    doc_md=FOLLOWUP_DOC,
)
def followup_weekly() -> None:
    @task(**h.task_args("apply_decisions", writes_warehouse=True))
    def apply_decisions() -> dict[str, int]:
        return tasks.apply_decisions(DataHome.current(), h.run_date(get_current_context()))

    @task(**h.task_args("scan", writes_warehouse=True))
    def scan(applied: dict[str, int]) -> dict[str, object]:
        context = get_current_context()
        return tasks.followup_scan(DataHome.current(), h.day_param(context, "as_of"),
                                   h.param(context, "days"))

    scan(apply_decisions())


@dag(
    **h.dag_args("apply_decisions"),
    description="Apply ORG decision files (干部调整决定记录) to the decision log",
    schedule=Asset(**raw_asset("decision")),
    tags=["cadre", "followup", "decision"],
    doc_md=DECISIONS_DOC,
)
def apply_decisions_dag() -> None:
    @task(**h.task_args("apply", writes_warehouse=True))
    def apply() -> dict[str, int]:
        return tasks.apply_decisions(DataHome.current(), h.run_date(get_current_context()))

    apply()


followup_weekly()
apply_decisions_dag()
