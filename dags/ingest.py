"""Ingest DAGs: one per source (``ingest_<source>``), each task one ``pipelines.ingest.steps`` step.

Wiring only: the tasks import and call plain functions; nothing is read or written when the
scheduler parses this file except the list of contract files (which sources exist).
"""

from __future__ import annotations

from datetime import datetime, timedelta

from airflow.sdk import Asset, dag, task

from pipelines.contracts import source_names
from pipelines.orchestration.assets import WAREHOUSE_POOL, raw_asset
from pipelines.settings import DataHome

DOC = """
### Ingest `{source}`

Picks up every file in `$CADRE_HOME/inbox/<UNIT>/{source}/`, then per file (mapped tasks):

1. **receive** — archive the original bytes (sha256), register the submission; a file already
   loaded is a `duplicate`; a unit not allowed to send `{source}` is refused.
2. **parse** — read XLSX / CSV (UTF-8, GBK) / JSON, map Chinese headers, type every cell.
3. **validate** — Great Expectations suite `expectations/{source}.json`; bad rows quarantined.
4. **load** — one DuckDB transaction into `raw.{source}`; feedback report to the unit's outbox.

Every task writes the warehouse, so all run in the one-slot pool `{pool}`. Safe to re-run:
submissions left in flight by a failed run are resumed from the archive.
"""


def build_ingest_dag(source: str):  # noqa: ANN201 - an Airflow DAG
    @dag(
        dag_id=f"ingest_{source}",
        description=f"Receive, parse, validate and load {source} drops from the inboxes",
        schedule=timedelta(minutes=30),
        start_date=datetime(2026, 1, 1),
        catchup=False,
        max_active_runs=1,
        tags=["cadre", "ingest", source],
        doc_md=DOC.format(source=source, pool=WAREHOUSE_POOL),
        default_args={"retries": 2, "retry_delay": timedelta(minutes=2), "pool": WAREHOUSE_POOL},
    )
    def ingest() -> None:
        @task
        def receive() -> list[str]:
            from pipelines.ingest.steps import receive_inbox

            return receive_inbox(source, DataHome.current())

        @task
        def parse(submission_id: str) -> str:
            from pipelines.ingest.steps import parse_step

            parse_step(submission_id, DataHome.current())
            return submission_id

        @task
        def validate(submission_id: str) -> str:
            from pipelines.ingest.steps import validate_step

            validate_step(submission_id, DataHome.current())
            return submission_id

        @task(outlets=[Asset(**raw_asset(source))])
        def load(submission_id: str) -> dict[str, object]:
            from pipelines.ingest.steps import load_step

            receipt = load_step(submission_id, DataHome.current())
            return {k: getattr(receipt, k) for k in (
                "submission_id", "unit", "filename", "status", "rows_read", "rows_accepted",
                "rows_quarantined", "refusal_reason")}

        parsed = parse.expand(submission_id=receive())
        validated = validate.expand(submission_id=parsed)
        load.expand(submission_id=validated)

    return ingest()


for _source in source_names():
    globals()[f"ingest_{_source}"] = build_ingest_dag(_source)
