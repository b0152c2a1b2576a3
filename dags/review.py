"""Review DAG (集中会诊): every half year, the review and stock-take reports of the half-year
just ended.

Wiring only: each task calls one ``pipelines`` function. Nothing is read or written when the
scheduler parses this file.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from airflow.sdk import dag, get_current_context, task

from pipelines.orchestration.assets import WAREHOUSE_POOL
from pipelines.settings import DataHome

DOC = f"""
### 集中会诊 (half-yearly review)

Runs at 06:00 on 1 January and 1 July for the half-year just ended (seed §3: at least every
half year). Trigger by hand with `{{"period": "2025H2"}}` to review another period, and
`{{"rebuild": false}}` to read the nearest existing build instead of building as of the
period's end.

1. **period** — which half-year: `conf.period`, else the one before the run's date.
2. **build** — `pipelines.build.steps.build` as of the period's last day, so the review reads
   profiles and flags exactly as of then (with every file received since).
3. **review** — `pipelines.review.report.write_review`: the 集中会诊 report per unit (HTML +
   XLSX, Chinese) into `$CADRE_HOME/reports/review/`; registers new flags first.
4. **ledger** — `pipelines.review.ledger.write_ledger`: the 定期盘点 report of the same
   half-year into `$CADRE_HOME/reports/ledger/`.

All tasks use the warehouse, so they run in the one-slot pool `{WAREHOUSE_POOL}`.
"""


def _log():  # noqa: ANN202 - logging.Logger
    import logging

    return logging.getLogger("airflow.task")


@dag(
    dag_id="review_half_yearly",
    description="集中会诊 and 定期盘点 reports for the half-year just ended",
    schedule="0 6 1 1,7 *",
    start_date=datetime(2026, 1, 1),
    catchup=False,
    max_active_runs=1,
    tags=["cadre", "review"],
    doc_md=DOC,
    default_args={"retries": 1, "retry_delay": timedelta(minutes=5), "pool": WAREHOUSE_POOL},
)
def review_half_yearly() -> None:
    @task
    def period() -> dict[str, object]:
        from pipelines.review.report import previous_period

        context = get_current_context()
        conf = (context["dag_run"].conf or {}) if context.get("dag_run") else {}
        # the run's time under either cron timetable (the end of a data interval is the run)
        when = context.get("data_interval_end") or context.get("logical_date") or datetime.now()
        label = conf.get("period") or previous_period(when.date()).label
        return {"period": label, "rebuild": bool(conf.get("rebuild", True))}

    @task
    def build(chosen: dict[str, object]) -> dict[str, object]:
        from pipelines.build.steps import build as run_build
        from pipelines.review.data import parse_period

        if chosen["rebuild"]:
            result = run_build(DataHome.current(), parse_period(str(chosen["period"])).end)
            _log().info("built as of %s: %d candidates, %d warnings", result.as_of,
                        result.candidates, result.warnings)
        return chosen

    @task
    def review(chosen: dict[str, object]) -> dict[str, object]:
        from pipelines.review.report import write_review

        files = write_review(DataHome.current(), str(chosen["period"]))
        data = files.data
        found = {"period": data.period.label, "build_as_of": str(data.build_as_of),
                 "units": len(data.units), "flags": len(data.flags),
                 "candidates": int((data.flags["severity"] == "candidate").sum()),
                 "observation_ending": len(data.observation), "rechecks": len(data.rechecks),
                 "html": str(files.html), "xlsx": str(files.xlsx)}
        _log().info("集中会诊 %s: %s", data.period.label, found)
        return found

    @task
    def ledger(found: dict[str, object]) -> str:
        from pipelines.review.ledger import write_ledger

        html, _, data = write_ledger(DataHome.current(), str(found["period"]))
        _log().info("定期盘点 %s: %s -> %s", found["period"], data.totals(), html)
        return str(html)

    ledger(review(build(period())))


review_half_yearly()
