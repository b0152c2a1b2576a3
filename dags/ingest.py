"""Ingest DAGs: one per source (``ingest_<source>``), each task one ``pipelines.ingest.steps`` step.

Wiring only: the tasks call ``pipelines.orchestration.tasks``; timeouts, retries, alerts and
labels come from ``pipelines.orchestration.dag_helpers``. Nothing is read or written when the
scheduler parses this file except the list of contract files (which sources exist).
"""

from __future__ import annotations

from datetime import timedelta

from airflow.sdk import Asset, dag, get_current_context, task

from pipelines.contracts import source_names
from pipelines.orchestration import dag_helpers as h
from pipelines.orchestration import tasks
from pipelines.orchestration.assets import WAREHOUSE_POOL, raw_asset
from pipelines.settings import DataHome

DOC = """
### Ingest `{source}`

Picks up every file in `$CADRE_HOME/inbox/<UNIT>/{source}/`, then per file (mapped tasks,
labelled `<unit> <file>`):

1. **receive** — archive the original bytes (sha256), register the submission; a file already
   loaded (or sent twice in one scan) is a `duplicate` with its own receipt; a unit not allowed
   to send `{source}` is refused.
2. **parse** — read XLSX / CSV (UTF-8, GBK) / JSON, map Chinese headers, type every cell.
3. **validate** — Great Expectations Checkpoint `{source}` (file context in `$CADRE_HOME/gx`);
   bad rows quarantined; per-expectation statistics kept in `meta.validation_result`.
4. **load** — one DuckDB transaction into `raw.{source}`; feedback report to the unit's outbox.
   Emits the asset `cadre_raw_{source}` (with submission, unit, rows accepted/quarantined)
   only when rows were loaded: a refused or duplicate file does not rebuild.

`receive` and `load` hold the warehouse, so they run in the one-slot pool `{pool}`; `parse` and
`validate` work on CPU and their work folder (they only wait briefly on the file lock for a
status update). Safe to re-run: submissions left in flight by a failed run are resumed from
the archive.
"""


def build_ingest_dag(source: str):  # noqa: ANN201 - an Airflow DAG
    asset = Asset(**raw_asset(source))

    @dag(
        **h.dag_args(f"ingest_{source}", timeout_key="ingest"),
        description=f"Receive, parse, validate and load {source} drops from the inboxes",
        schedule=timedelta(minutes=30),
        tags=["cadre", "ingest", source],
        doc_md=DOC.format(source=source, pool=WAREHOUSE_POOL),
    )
    def ingest() -> None:
        @task(**h.task_args("receive", writes_warehouse=True))
        def receive() -> list[dict[str, str]]:
            return tasks.receive(source, DataHome.current())

        @task(**h.task_args("parse", writes_warehouse=False),
              map_index_template=h.SUBMISSION_LABEL)
        def parse(submission: dict[str, str]) -> dict[str, str]:
            h.label_submission(get_current_context(), submission)
            return tasks.parse(submission, DataHome.current())

        @task(**h.task_args("validate", writes_warehouse=False),
              map_index_template=h.SUBMISSION_LABEL)
        def validate(submission: dict[str, str]) -> dict[str, str]:
            h.label_submission(get_current_context(), submission)
            return tasks.validate(submission, DataHome.current())

        @task(**h.task_args("load", writes_warehouse=True), outlets=[asset],
              map_index_template=h.SUBMISSION_LABEL)
        def load(submission: dict[str, str]) -> dict[str, object]:
            context = get_current_context()
            h.label_submission(context, submission)
            event = tasks.load(submission, DataHome.current())
            h.emit_or_skip(context, asset, event)  # no rows loaded: skipped, no asset event
            return event

        parsed = parse.expand(submission=receive())
        validated = validate.expand(submission=parsed)
        load.expand(submission=validated)

    return ingest()


for _source in source_names():
    globals()[f"ingest_{_source}"] = build_ingest_dag(_source)
