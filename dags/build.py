"""Build DAG: profiles and flags, then the analysts' snapshot, whenever a source's data changes.

Wiring only: the tasks call ``pipelines.build.steps.build`` and ``pipelines.publish.snapshot.publish``. At
parse time nothing is read but the list of contract files (which sources exist).

Scheduling: data-aware on the ingest DAGs' raw assets, combined with OR (``a | b | ...``). A
plain list of assets would mean AND in Airflow 3: the build would wait until *every* source had
sent something new since the last build, which could stall flags for months when, say, only
巡视巡察 findings arrive.
"""

from __future__ import annotations

import functools
import operator
from datetime import datetime, timedelta

from airflow.sdk import Asset, Param, dag, get_current_context, task

from pipelines.contracts import evidence_sources
from pipelines.orchestration.assets import WAREHOUSE_POOL, build_asset, raw_asset
from pipelines.settings import DataHome

RAW_ASSETS = [Asset(**raw_asset(source)) for source in evidence_sources()]

DOC = f"""
### Build profiles and flags

Runs when any ingest DAG has loaded new rows ({", ".join(f"`{a.name}`" for a in RAW_ASSETS)}).

1. **build** — `pipelines.build.steps.build`: identity (身份证号 against the roster), evidence,
   德能勤绩廉 profiles per half-year and year, the rule set's flags (candidates, warnings,
   influence periods, observation periods), as of today (or the run's `as_of` param), in
   one DuckDB transaction.
   The rule set is `CADRE_RULESET` (default `warehouse/rules/ruleset.yaml`).
2. **publish** — `pipelines.publish.snapshot.publish`: a pseudonymised, documented snapshot for
   analysts, swapped in atomically, plus the data dictionary page. Updates `cadre_build`.

Both tasks use the warehouse, so they run in the one-slot pool `{WAREHOUSE_POOL}`. Re-running is
safe: a build replaces only its own as-of date's results.
"""


@dag(
    dag_id="build_profiles",
    description="Build 德能勤绩廉 profiles and flags, then publish the analysts' snapshot",
    schedule=functools.reduce(operator.or_, RAW_ASSETS),
    start_date=datetime(2026, 1, 1),
    catchup=False,
    max_active_runs=1,
    tags=["cadre", "build"],
    doc_md=DOC,
    default_args={"retries": 2, "retry_delay": timedelta(minutes=2), "pool": WAREHOUSE_POOL},
    params={"as_of": Param(None, type=["null", "string"], format="date",
                           description="Build as of this date (YYYY-MM-DD); empty = today.")},
)
def build_profiles() -> None:
    @task(pool=WAREHOUSE_POOL)
    def build() -> dict[str, object]:
        from datetime import date

        from pipelines.build.steps import build as run_build

        wanted = get_current_context()["params"].get("as_of")
        result = run_build(DataHome.current(), date.fromisoformat(wanted) if wanted else None)
        return {"as_of": str(result.as_of), "ruleset_version": result.ruleset_version,
                "candidates": result.candidates, "warnings": result.warnings}

    @task(pool=WAREHOUSE_POOL, outlets=[Asset(**build_asset())])
    def publish(built: dict[str, object]) -> str:
        from pipelines.publish.snapshot import publish as run_publish

        return str(run_publish(DataHome.current()))

    publish(build())


build_profiles()
