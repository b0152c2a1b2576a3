"""The DAG folder imports cleanly and an ingest DAG runs end to end under ``dag.test()``.

Airflow reads its configuration once per process, at import; each test runs Airflow in a
subprocess whose AIRFLOW_HOME lies inside the test's own data folder.
"""

from __future__ import annotations

import re
from pathlib import Path

import duckdb
import pytest

from pipelines import settings
from pipelines.contracts import source_names
from pipelines.orchestration import dag_helpers
from pipelines.orchestration.local import DAGS_FOLDER
from pipelines.settings import DataHome
from tests.airflow_probe import dagbag, run_python
from tests.conftest import ROSTER_HEADER, roster_row, write_csv, write_xlsx

pytestmark = pytest.mark.slow


# Tasks that hold the warehouse writer; every other task stays out of the one-slot pool.
WRITERS = {"receive", "load", "build", "publish", "review", "ledger", "apply_decisions", "apply",
           "scan"}
NOT_WIRING = re.compile(r"\bimport (pandas|duckdb|logging)\b|\bfrom (pandas|duckdb)\b|"
                        r"\.conf\b|open\(|read_text|write_text|read_bytes|\.today\(|"
                        r"datetime\.now|\bselect\b.+\bfrom\b", re.IGNORECASE)


def test_dagbag_imports_without_errors_and_wires_every_source(home: DataHome) -> None:
    bag = dagbag(home)
    assert bag["errors"] == {}
    for source in source_names():
        dag = bag["dags"][f"ingest_{source}"]
        assert dag["tasks"] == ["receive", "parse", "validate", "load"]
        assert dag["retries"] == [dag_helpers.RETRIES]
        assert dag["doc"]
        tasks = dag["task_details"]
        assert tasks["load"]["outlets"] == [f"cadre_raw_{source}"]
        for name in ("parse", "validate", "load"):  # mapped: labelled <unit> <file>
            assert tasks[name]["map_index_template"] == "{{ submission_label }}"


def test_every_dag_alerts_ends_runs_in_its_time_zone_and_declares_its_params(
        home: DataHome) -> None:
    """The integrity rules of issue 15, for every DAG in the folder, present and future."""
    bag = dagbag(home)
    assert bag["errors"] == {}
    zone = settings.get("CADRE_TIMEZONE")
    for dag_id, dag in bag["dags"].items():
        assert dag["on_failure_callback"], f"{dag_id}: no failure notifier"
        assert dag["dagrun_timeout"], f"{dag_id}: no dagrun_timeout"
        assert dag["timezone"] == zone, f"{dag_id}: start date not in {zone}"
        assert dag["cron_tz"] in (None, zone), f"{dag_id}: cron read in {dag['cron_tz']}"
        key = "ingest" if dag_id.startswith("ingest_") else dag_id
        declared = dag_helpers.PARAMS.get(key, {})
        assert sorted(dag["params"]) == sorted(declared), f"{dag_id}: undeclared Params"
        for name, schema in dag["params"].items():
            assert schema.get("type"), f"{dag_id}.{name}: Param without a JSON Schema type"
        for task_id, task in dag["task_details"].items():
            where = f"{dag_id}.{task_id}"
            assert task["on_failure_callback"], f"{where}: no failure notifier"
            assert task["timeout"], f"{where}: no execution_timeout"
            assert task["retry_policy"] == "ExceptionRetryPolicy", where
            assert (task["pool"] == "cadre_warehouse") == (task_id in WRITERS), where
            # Celery: only the worker on the warehouse's machine serves the writers' queue
            assert task["queue"] == ("warehouse" if task_id in WRITERS else "default"), where
    for dag_id in ("build_profiles", "review_half_yearly"):
        assert bag["dags"][dag_id]["deadline"], f"{dag_id}: no Deadline Alert"


def test_dag_files_are_wiring_only() -> None:
    """No pandas, SQL, file I/O, clock or dag_run.conf in dags/: logic lives in pipelines."""
    for path in sorted(DAGS_FOLDER.glob("*.py")):
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            code = line.split("#")[0]
            if code.strip().startswith(("-", "|", "1.", "2.", "3.", "4.")):
                continue  # doc_md text
            assert not NOT_WIRING.search(code), f"{path.name}:{number}: {line.strip()}"


def test_ingest_dag_runs_end_to_end_with_dag_test(home: DataHome, tmp_path: Path) -> None:
    inbox = home.inbox_for("ORG", "roster")
    inbox.mkdir(parents=True)
    write_xlsx(inbox / "名册.xlsx", [ROSTER_HEADER, roster_row(1), roster_row(2)], title="干部名册")
    write_csv(inbox / "名册补充.csv", [ROSTER_HEADER, roster_row(3), roster_row(4, 性别="?")],
              encoding="gbk")
    wrong_unit = home.inbox_for("AUD", "roster")
    wrong_unit.mkdir(parents=True)
    write_csv(wrong_unit / "x.csv", [ROSTER_HEADER, roster_row(5)])

    run = run_python(home, "from pipelines.orchestration.local import prepare_airflow, run_dag\n"
                        "from pipelines.settings import DataHome\n"
                        "home = DataHome.from_env()\nprepare_airflow(home)\n"
                        "print('STATE', run_dag('ingest_roster', home))")
    assert run.returncode == 0, run.stderr[-3000:]
    assert "STATE success" in run.stdout  # DagRunState.SUCCESS prints as 'success'
    with duckdb.connect(str(home.warehouse_file), read_only=True) as con:
        outcomes = con.execute("select unit, filename, status, rows_accepted, rows_quarantined "
                               "from meta.submission order by unit, filename").fetchall()
    assert outcomes == [("AUD", "x.csv", "refused", 0, 0),
                        ("ORG", "名册.xlsx", "accepted", 2, 0),
                        ("ORG", "名册补充.csv", "partially_accepted", 1, 1)]
    assert not any(inbox.iterdir())  # taken from the inbox; bytes live in the archive
    # per submission: the feedback report (HTML, XLSX) and the receipt as JSON (for the portal)
    assert sorted(p.suffix for p in home.outbox_for("ORG").iterdir()) == [
        ".html", ".html", ".json", ".json", ".xlsx", ".xlsx"]
