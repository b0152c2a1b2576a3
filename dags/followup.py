"""Follow-up DAGs: the weekly 复检 and deadline scan, and applying ORG decision files.

Wiring only: each task calls one ``pipelines`` function. Nothing is read or written when the
scheduler parses this file.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from airflow.sdk import Asset, dag, get_current_context, task

from pipelines.orchestration.assets import WAREHOUSE_POOL, raw_asset
from pipelines.settings import DataHome

FOLLOWUP_DOC = f"""
### 复检与到期提醒 (weekly follow-up)

Every Monday at 07:00: what falls due within the next 30 days (`conf.days`), as of the run's
date (`conf.as_of` to override):

- 考察期 (observation periods) ending or overdue — the department decides 认定 or 排除;
- influence periods (影响期) of sanctions and adjustments ending;
- re-checks (复检) of adjusted cadres due, and results of those just done;
- adjusted cadres now eligible for re-appointment (bar met again, influence periods ended).

1. **apply_decisions** — `pipelines.review.decision_drops.apply_decision_drops`: decision files ORG
   sent since the last run go through the state machine first; when one was recorded, both
   snapshots are republished.
2. **scan** — `pipelines.review.followup_report.scan`: the report (HTML + XLSX, Chinese) into
   `$CADRE_HOME/reports/followup/`; the counts and names are logged.

Pool `{WAREHOUSE_POOL}` (one writer).
"""

DECISIONS_DOC = f"""
### Apply decision files

Runs when the ingest DAG `ingest_decision` has loaded an ORG "干部调整决定记录" file
(asset `{raw_asset("decision")["name"]}`): every loaded row goes through the decision state
machine; ORG gets `<submission>_decision_决定处理结果.xlsx` in its outbox. Pool `{WAREHOUSE_POOL}`.
"""


def _log():  # noqa: ANN202 - logging.Logger
    import logging

    return logging.getLogger("airflow.task")


def _apply() -> dict[str, int]:
    from pipelines.publish.snapshot import publish
    from pipelines.review.decision_drops import apply_decision_drops

    outcomes = apply_decision_drops(DataHome.current())
    for o in outcomes:
        _log().info("decision %s row %d %s %s: %s", o.submission_id, o.source_row, o.flag_id,
                    o.action_zh, o.message_zh)
    if any(o.applied for o in outcomes):  # every decision reaches both snapshots
        publish(DataHome.current())
    return {"rows": len(outcomes), "applied": sum(o.applied for o in outcomes)}


@dag(
    dag_id="followup_weekly",
    description="复检, observation and influence periods ending, re-appointment eligibility",
    schedule="0 7 * * 1",
    start_date=datetime(2026, 1, 1),
    catchup=False,
    max_active_runs=1,
    tags=["cadre", "followup"],
    doc_md=FOLLOWUP_DOC,
    default_args={"retries": 1, "retry_delay": timedelta(minutes=5), "pool": WAREHOUSE_POOL},
)
def followup_weekly() -> None:
    @task
    def apply_decisions() -> dict[str, int]:
        return _apply()

    @task
    def scan(applied: dict[str, int]) -> dict[str, object]:
        from datetime import date

        from pipelines.review.followup_report import scan as run_scan

        context = get_current_context()
        conf = (context["dag_run"].conf or {}) if context.get("dag_run") else {}
        # the run's time under either cron timetable (the end of a data interval is the run)
        when = context.get("data_interval_end") or context.get("logical_date") or datetime.now()
        as_of = date.fromisoformat(conf["as_of"]) if conf.get("as_of") else when.date()
        result, paths = run_scan(DataHome.current(), as_of, int(conf.get("days", 30)))
        log = _log()
        log.info("follow-up %s (decision rows applied: %s): %s", as_of, applied, result.counts())
        for r in result.observation.itertuples():
            log.info("考察期 %s %s %s 截止 %s", r.flag_id, r.name, r.org_name, r.observe_until)
        for r in result.influence.itertuples():
            log.info("影响期 %s %s %s 截止 %s", r.name, r.org_name, r.measure, r.effect_until)
        for r in result.eligible.itertuples():
            log.info("可重新任用 %s %s %s", r.flag_id, r.name, r.org_name)
        return {**result.counts(), "reports": [str(p) for p in paths]}

    scan(apply_decisions())


@dag(
    dag_id="apply_decisions",
    description="Apply ORG decision files (干部调整决定记录) to the decision log",
    schedule=Asset(**raw_asset("decision")),
    start_date=datetime(2026, 1, 1),
    catchup=False,
    max_active_runs=1,
    tags=["cadre", "followup", "decision"],
    doc_md=DECISIONS_DOC,
    default_args={"retries": 1, "retry_delay": timedelta(minutes=2), "pool": WAREHOUSE_POOL},
)
def apply_decisions_dag() -> None:
    @task
    def apply() -> dict[str, int]:
        return _apply()

    apply()


followup_weekly()
apply_decisions_dag()
