"""Review DAG (集中会诊): every half year, the review and stock-take reports of the half-year
just ended.

Wiring only: each task calls one ``pipelines.orchestration.tasks`` function; the period comes
from the run's date in the deployment time zone or the ``period`` Param. Nothing is read or
written when the scheduler parses this file.
"""

from __future__ import annotations

from airflow.sdk import dag, get_current_context, task

from pipelines.orchestration import dag_helpers as h
from pipelines.orchestration import tasks
from pipelines.orchestration.assets import WAREHOUSE_POOL
from pipelines.settings import DataHome

DOC = f"""
### 集中会诊 (half-yearly review)

Runs at 06:00 ({h.TIMEZONE}) on 1 January and 1 July for the half-year just ended (seed §3: at
least every half year). Trigger by hand with `{{"period": "2025H2"}}` to review another period,
and `{{"rebuild": false}}` to read the nearest existing build instead of building as of the
period's end.

1. **period** — which half-year: the `period` param, else the one before the run's date.
2. **build** — `pipelines.build.steps.build` as of the period's last day, so the review reads
   profiles and flags exactly as of then (with every file received since).
3. **review** — `pipelines.review.report.write_review`: the 集中会诊 report per unit (HTML +
   XLSX, Chinese) into `$CADRE_HOME/reports/review/`; registers new flags first.
4. **ledger** — `pipelines.review.ledger.write_ledger`: the 定期盘点 report of the same
   half-year (with the units' data quality) into `$CADRE_HOME/reports/ledger/`.

`build`, `review` and `ledger` use the warehouse, so they run in the one-slot pool
`{WAREHOUSE_POOL}`. A Deadline Alert fires when a run is still going
{h.DEADLINES["review_half_yearly"]} after it was queued.
"""


@dag(
    **h.dag_args("review_half_yearly"),
    description="集中会诊 and 定期盘点 reports for the half-year just ended",
    schedule=h.cron("0 6 1 1,7 *"),
    tags=["cadre", "review"],
    doc_md=DOC,
)
def review_half_yearly() -> None:
    @task(**h.task_args("period", writes_warehouse=False))
    def period() -> dict[str, object]:
        context = get_current_context()
        return tasks.choose_period(h.run_date(context), h.param(context, "period"),
                                   h.param(context, "rebuild"))

    @task(**h.task_args("build", writes_warehouse=True))
    def build(chosen: dict[str, object]) -> dict[str, object]:
        return tasks.build_for_review(DataHome.current(), chosen)

    @task(**h.task_args("review", writes_warehouse=True))
    def review(chosen: dict[str, object]) -> dict[str, object]:
        return tasks.review(DataHome.current(), chosen)

    @task(**h.task_args("ledger", writes_warehouse=True))
    def ledger(found: dict[str, object]) -> str:
        return tasks.ledger(DataHome.current(), found)

    ledger(review(build(period())))


review_half_yearly()
