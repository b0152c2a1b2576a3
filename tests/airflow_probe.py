"""Running Airflow for tests in a subprocess whose AIRFLOW_HOME is inside the test's data folder.

Airflow reads its configuration once per process, at import, so each test that needs a
migrated metadata DB or a DagBag of its own runs this way (see pipelines.orchestration.local).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from typing import Any

from pipelines.orchestration.local import airflow_env
from pipelines.settings import DataHome

DAGBAG_PROBE = """
import json
from airflow.dag_processing.dagbag import DagBag
from pipelines.orchestration.local import DAGS_FOLDER
bag = DagBag(dag_folder=str(DAGS_FOLDER))
print(json.dumps({
    "errors": {k: str(v) for k, v in bag.import_errors.items()},
    "dags": {dag_id: {
        "tasks": [t.task_id for t in dag.tasks],
        "pools": sorted({t.pool for t in dag.tasks}),
        "retries": sorted({t.retries for t in dag.tasks}),
        "doc": bool(dag.doc_md),
        "schedule": str(getattr(dag.timetable, "summary", dag.timetable)),
        "cron_tz": str(getattr(dag.timetable, "timezone", "") or "") or None,
        "timezone": getattr(dag.timezone, "name", str(dag.timezone)),
        "dagrun_timeout": dag.dagrun_timeout.total_seconds() if dag.dagrun_timeout else None,
        "on_failure_callback": bool(dag.on_failure_callback),
        "deadline": [str(d.interval) for d in (dag.deadline or [])],
        "params": {k: dag.params.get_param(k).schema for k in dag.params},
        "task_details": {t.task_id: {
            "pool": t.pool,
            "queue": t.queue,
            "timeout": t.execution_timeout.total_seconds() if t.execution_timeout else None,
            "on_failure_callback": bool(t.on_failure_callback),
            "retry_policy": type(getattr(t, "retry_policy", None)).__name__,
            "map_index_template": getattr(t, "map_index_template", None),
            "outlets": [o.name for o in t.outlets],
        } for t in dag.tasks},
    } for dag_id, dag in bag.dags.items()},
}))
"""


def run_python(home: DataHome, code: str, timeout: int = 900) -> subprocess.CompletedProcess[str]:
    """Run ``code`` in a fresh interpreter with our Airflow environment for ``home``."""
    env = {**os.environ, **airflow_env(home)}
    return subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True,
                          timeout=timeout)


def dagbag(home: DataHome) -> dict[str, Any]:
    """Import errors and, per DAG, its tasks, pools, retries, doc and schedule."""
    probe = run_python(home, DAGBAG_PROBE)
    assert probe.returncode == 0, probe.stderr[-3000:]
    return json.loads(probe.stdout.strip().splitlines()[-1])
