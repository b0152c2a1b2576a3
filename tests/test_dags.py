"""The DAG folder imports cleanly and an ingest DAG runs end to end under ``dag.test()``.

Airflow reads its configuration once per process, at import; each test runs Airflow in a
subprocess whose AIRFLOW_HOME lies inside the test's own data folder.
"""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from pipelines.contracts import source_names
from pipelines.settings import DataHome
from tests.airflow_probe import dagbag, run_python
from tests.conftest import ROSTER_HEADER, roster_row, write_csv, write_xlsx

pytestmark = pytest.mark.slow


def test_dagbag_imports_without_errors_and_wires_every_source(home: DataHome) -> None:
    bag = dagbag(home)
    assert bag["errors"] == {}
    for source in source_names():
        dag = bag["dags"][f"ingest_{source}"]
        assert dag["tasks"] == ["receive", "parse", "validate", "load"]
        assert dag["pools"] == ["cadre_warehouse"]
        assert dag["retries"] == [2]
        assert dag["doc"]


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
    assert sorted(p.suffix for p in home.outbox_for("ORG").iterdir()) == [".html", ".html",
                                                                          ".xlsx", ".xlsx"]
