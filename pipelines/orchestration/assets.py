"""Names of the data assets the DAGs produce and consume.

Kept in the package (without importing Airflow) so that ingest DAGs, the build DAG and tests
agree on one spelling. DAG files turn these into ``airflow.sdk.Asset(**raw_asset(source))``.
"""

from __future__ import annotations


def raw_asset(source: str) -> dict[str, str]:
    """The asset an ingest DAG updates when it has loaded rows into ``raw.<source>``."""
    return {"name": f"cadre_raw_{source}", "uri": f"cadre://warehouse/raw/{source}"}


def build_asset() -> dict[str, str]:
    """The asset the build DAG updates when profiles, flags and the snapshot are rebuilt."""
    return {"name": "cadre_build", "uri": "cadre://warehouse/marts"}


WAREHOUSE_POOL = "cadre_warehouse"  # one slot: DuckDB allows one writer process at a time

# Celery queues by what a task touches: only the worker on the warehouse's machine serves
# WAREHOUSE_QUEUE (tasks that open the DuckDB file for writing); any worker serves DEFAULT_QUEUE.
WAREHOUSE_QUEUE = "warehouse"
DEFAULT_QUEUE = "default"
