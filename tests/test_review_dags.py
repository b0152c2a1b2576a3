"""The review and follow-up DAGs import cleanly and each runs once under ``dag.test()``.

Airflow reads its configuration once per process, at import; the runs happen in a subprocess
whose AIRFLOW_HOME lies inside the test's own data folder (as tests/test_dags.py does).
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import duckdb
import pytest

from pipelines.ingest.steps import submit_file
from pipelines.review.decisions import Decision, record_decision
from pipelines.settings import DataHome
from tests.airflow_probe import dagbag, run_python
from tests.conftest import write_csv
from tests.review_scenario import flag_id, load_review_world

pytestmark = pytest.mark.slow
OUR_DAGS = {"review_half_yearly": ["period", "build", "review", "ledger"],
            "followup_weekly": ["apply_decisions", "scan"],
            "apply_decisions": ["apply"]}

RUN = """
from pipelines.orchestration.local import prepare_airflow, run_dag
from pipelines.settings import DataHome
home = DataHome.from_env()
prepare_airflow(home)
print("STATE apply_decisions", run_dag("apply_decisions", home))
print("STATE followup_weekly", run_dag("followup_weekly", home, {"as_of": "2026-01-05"}))
print("STATE review_half_yearly", run_dag("review_half_yearly", home, {"period": "2025H2"}))
"""


def test_review_and_followup_dags_import_in_the_writer_pool(home: DataHome) -> None:
    bag = dagbag(home)
    assert bag["errors"] == {}
    for dag_id, tasks in OUR_DAGS.items():
        dag = bag["dags"][dag_id]
        assert dag["tasks"] == tasks
        assert "cadre_warehouse" in dag["pools"]
        assert dag["doc"]
    assert "0 6 1 1,7 *" in bag["dags"]["review_half_yearly"]["schedule"]  # half-yearly
    assert "0 7 * * 1" in bag["dags"]["followup_weekly"]["schedule"]  # weekly
    assert "ingest_decision" in bag["dags"]  # the decision contract got its ingest DAG


def test_each_dag_runs_once_with_dag_test(home: DataHome, tmp_path: Path) -> None:
    ids = load_review_world(home, tmp_path / "drops")
    with duckdb.connect(str(home.warehouse_file)) as con:
        u1 = flag_id(con, ids["乙三"], "U1")
        record_decision(con, Decision(u1, "confirm", date(2025, 8, 1), "部务会", "核实"))
        p1 = flag_id(con, ids["甲二"], "P1")
    drop = write_csv(tmp_path / "决定.csv", [
        ["线索编号", "身份证号", "姓名", "决定类型", "决定日期", "决定人", "决定理由"],
        [p1, ids["甲二"], "甲二", "列入考察期", "2025-07-01", "部务会", "先行考察"]])
    assert submit_file(drop, "ORG", "decision", home).status == "accepted"

    run = run_python(home, RUN)
    assert run.returncode == 0, run.stderr[-4000:]
    for dag_id in OUR_DAGS:
        assert f"STATE {dag_id} success" in run.stdout, run.stdout + run.stderr[-3000:]
    assert (home.reports / "review" / "集中会诊_2025H2.html").exists()
    assert (home.reports / "review" / "集中会诊_2025H2.xlsx").exists()
    assert (home.reports / "ledger" / "定期盘点_2025H2.html").exists()
    assert (home.reports / "followup" / "复检与到期提醒_2026-01-05.html").exists()
    with duckdb.connect(str(home.warehouse_file), read_only=True) as con:
        assert con.execute("select action, recorded_via from decisions.decision_log "
                           "order by decision_id").fetchall() == [("confirm", "cli"),
                                                                  ("observe", "drop")]
        assert con.execute("select count(*) from marts.build_run where as_of = '2025-12-31'"
                           ).fetchone()[0] == 1  # the review built as of the period's end
