"""Build DAG: profiles and flags, then the analysts' snapshot, whenever a source's data changes.

Wiring only: each task calls one ``pipelines.orchestration.tasks`` function; timeouts, retries,
alerts, Params and the deadline come from ``pipelines.orchestration.dag_helpers``. At parse
time nothing is read but the list of contract files (which sources exist).

Scheduling: data-aware on the ingest DAGs' raw assets, combined with OR (``a | b | ...``). A
plain list of assets would mean AND in Airflow 3: the build would wait until *every* source had
sent something new since the last build, which could stall flags for months when, say, only
巡视巡察 findings arrive. An ingest run emits its asset event only when it loaded rows, so a
refused or duplicate file does not rebuild.
"""

from __future__ import annotations

import functools
import operator

from airflow.sdk import Asset, dag, get_current_context, task

from pipelines.contracts import evidence_sources
from pipelines.orchestration import dag_helpers as h
from pipelines.orchestration import tasks
from pipelines.orchestration.assets import WAREHOUSE_POOL, build_asset, raw_asset
from pipelines.settings import DataHome

RAW_ASSETS = [Asset(**raw_asset(source)) for source in evidence_sources()]

DOC = f"""
### Build profiles and flags

Runs when any ingest DAG has loaded new rows ({", ".join(f"`{a.name}`" for a in RAW_ASSETS)}).

1. **build** — `pipelines.build.steps.build`: identity (身份证号 against the roster), evidence,
   德能勤绩廉 profiles per half-year and year, the rule set's flags (candidates, warnings,
   influence periods, observation periods), as of the run's date in the deployment time zone
   (or the `as_of` param), in one DuckDB transaction. A re-run of a past run builds its date.
   The rule set is `CADRE_RULESET` (default `warehouse/rules/ruleset.yaml`).
2. **publish** — `pipelines.publish.snapshot.publish`: a pseudonymised, documented snapshot for
   analysts, swapped in atomically, plus the data dictionary page. Updates `cadre_build`.

Both tasks use the warehouse, so they run in the one-slot pool `{WAREHOUSE_POOL}`. Re-running is
safe: a build replaces only its own as-of date's results. A Deadline Alert fires when a run is
still going {h.DEADLINES["build_profiles"]} after it was queued.
"""


@dag(
    **h.dag_args("build_profiles"),
    description="Build 德能勤绩廉 profiles and flags, then publish the analysts' snapshot",
    schedule=functools.reduce(operator.or_, RAW_ASSETS),
    tags=["cadre", "build"],
    doc_md=DOC,
)
def build_profiles() -> None:
    @task(**h.task_args("build", writes_warehouse=True))
    def build() -> dict[str, object]:
        return tasks.build(DataHome.current(), h.day_param(get_current_context(), "as_of"))

    @task(**h.task_args("publish", writes_warehouse=True), outlets=[Asset(**build_asset())])
    def publish(built: dict[str, object]) -> str:
        return tasks.publish(DataHome.current())

    publish(build())


build_profiles()
