"""Running our DAGs locally: Airflow's home inside the data folder, ``dag.test()`` runs.

Airflow reads its configuration from the environment when first imported, so ``airflow_env``
must be applied before any ``import airflow`` in this process. Nothing in ``pipelines`` imports
Airflow at module level.
"""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import datetime
from pathlib import Path
from typing import Any

from pipelines.orchestration.assets import WAREHOUSE_POOL
from pipelines.settings import PROJECT_ROOT, DataHome

DAGS_FOLDER = PROJECT_ROOT / "dags"


def airflow_env(home: DataHome) -> dict[str, str]:
    """The environment our Airflow runs with: its home and SQLite DB under the data folder."""
    return {
        "CADRE_HOME": str(home.root),
        "AIRFLOW_HOME": str(home.airflow_home),
        "AIRFLOW__CORE__DAGS_FOLDER": str(DAGS_FOLDER),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__LOGGING__LOGGING_LEVEL": os.environ.get("AIRFLOW__LOGGING__LOGGING_LEVEL",
                                                          "WARNING"),
        "GX_ANALYTICS_ENABLED": "False",
    }


def _airflow_cli(home: DataHome, *args: str) -> None:
    airflow = Path(sys.executable).parent / "airflow"
    env = {**os.environ, **airflow_env(home)}
    subprocess.run([str(airflow), *args], env=env, check=True, stdout=subprocess.DEVNULL)


def prepare_airflow(home: DataHome) -> None:
    """Migrate the metadata DB (idempotent, ~5 s) and create the one-slot writer pool."""
    home.airflow_home.mkdir(parents=True, exist_ok=True)
    _airflow_cli(home, "db", "migrate")
    _airflow_cli(home, "pools", "set", WAREHOUSE_POOL, "1",
                 "DuckDB allows one writer process: every warehouse-writing task runs here")


def run_dag(dag_id: str, home: DataHome, conf: dict[str, Any] | None = None,
            logical_date: datetime | None = None) -> str:
    """Run one DAG in this process with ``dag.test()``; returns the run's final state.

    Call ``prepare_airflow`` first. dag.test() ignores pools and runs tasks one by one.
    ``logical_date`` (tz-aware) re-runs a past run; default now."""
    os.environ.update(airflow_env(home))
    from airflow.dag_processing.dagbag import DagBag

    bag = DagBag(dag_folder=str(DAGS_FOLDER))
    if bag.import_errors:
        raise RuntimeError(f"DAG import errors: {bag.import_errors}")
    dag = bag.get_dag(dag_id)
    if dag is None:
        raise KeyError(f"no DAG {dag_id!r} in {DAGS_FOLDER}")
    # Airflow 3.3.2's dag.test() cannot finish a DAG that has a Deadline Alert: on success it
    # looks the alerts up by database id, which a test-serialised DAG does not have. dag.test()
    # runs no scheduler that could fire a deadline anyway, so the test run goes without it.
    dag.deadline = None
    dated = {} if logical_date is None else {"logical_date": logical_date}
    run = dag.test(run_conf=conf, **dated)
    return str(getattr(run, "state", run))
