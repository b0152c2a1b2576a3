"""Operations under ``dag.test()``: alerts on failure, builds tied to their run's date, asset
events only when rows were loaded, and task logs free of names and ID numbers.

Airflow runs in a subprocess whose AIRFLOW_HOME lies in the test's data folder (see
tests/airflow_probe.py); the tests read what it leaves behind: the alerts file, the warehouse
and Airflow's own metadata DB.
"""

from __future__ import annotations

import json
import sqlite3
from datetime import date
from pathlib import Path

import duckdb
import pytest

from pipelines.contracts import source_names
from pipelines.ingest.steps import submit_file
from pipelines.orchestration.alerts import read_alerts
from pipelines.settings import DataHome
from tests.airflow_probe import run_python
from tests.conftest import ROSTER_HEADER, roster_row, write_csv

pytestmark = pytest.mark.slow

PAST_RUNS = """
import os
from datetime import datetime, timezone
from pipelines.orchestration.local import prepare_airflow, run_dag
from pipelines.settings import DataHome
home = DataHome.from_env()
prepare_airflow(home)
past = datetime(2026, 3, 1, 17, 30, tzinfo=timezone.utc)  # 2026-03-02 01:30 in Beijing
print("STATE first", run_dag("build_profiles", home, logical_date=past))
print("STATE again", run_dag("build_profiles", home, logical_date=past))
os.environ["CADRE_RULESET"] = os.environ["BROKEN_RULESET"]
later = datetime(2026, 3, 9, tzinfo=timezone.utc)
print("STATE broken", run_dag("build_profiles", home, logical_date=later))
"""


def test_past_run_builds_its_date_and_a_failing_task_alerts(home: DataHome,
                                                            tmp_path: Path) -> None:
    roster = write_csv(tmp_path / "名册.csv", [ROSTER_HEADER, roster_row(1), roster_row(2)])
    assert submit_file(roster, "ORG", "roster", home).status == "accepted"
    broken = tmp_path / "ruleset.yaml"
    broken.write_text("version: [unclosed\n", encoding="utf-8")

    run = run_python(home, "import os; os.environ['BROKEN_RULESET'] = "
                     f"{str(broken)!r}\n" + PAST_RUNS)
    assert run.returncode == 0, run.stderr[-4000:]
    assert "STATE first success" in run.stdout and "STATE again success" in run.stdout
    assert "STATE broken failed" in run.stdout, run.stdout + run.stderr[-3000:]

    # the run's logical date read in Asia/Shanghai, twice, whatever today is: one build
    with duckdb.connect(str(home.warehouse_file), read_only=True) as con:
        built = con.execute("select as_of from marts.build_run").fetchall()
    assert built == [(date(2026, 3, 2),)]

    alerts = read_alerts(home)
    kinds = {(a["kind"], a["dag_id"], a["task_id"]) for a in alerts}
    assert ("task_failed", "build_profiles", "build") in kinds, alerts
    # (the DAG-level callback runs in the DAG processor, which dag.test() does not start)
    failed = next(a for a in alerts if a["kind"] == "task_failed")
    assert failed["error"] and failed["run_id"]
    assert failed["try_number"] == 1  # a broken rule set is not retried
    assert len([a for a in alerts if a["kind"] == "task_failed"]) == 1  # nothing else failed


INGEST_TWICE = """
from pipelines.orchestration.local import prepare_airflow, run_dag
from pipelines.settings import DataHome
from pathlib import Path
import shutil, sqlite3
home = DataHome.from_env()
prepare_airflow(home)
print("STATE first", run_dag("ingest_roster", home))
db = sqlite3.connect(home.airflow_home / "airflow.db")
db.execute("delete from asset_dag_run_queue")  # as if build_profiles had run
db.commit()
for unit, staged in (("ORG", "good.csv"), ("AUD", "other.csv")):
    folder = home.inbox_for(unit, "roster")
    folder.mkdir(parents=True, exist_ok=True)
    shutil.copy(Path(home.root / "staged" / staged), folder / f"again_{staged}")
print("STATE second", run_dag("ingest_roster", home))
"""


def _events(home: DataHome) -> tuple[list[dict[str, object]], list[str]]:
    db = sqlite3.connect(home.airflow_home / "airflow.db")
    try:
        events = [json.loads(r[0] or "{}") for r in db.execute(
            "select e.extra from asset_event as e join asset as a on a.id = e.asset_id "
            "where a.name = 'cadre_raw_roster' order by e.id")]
        queued = [r[0] for r in db.execute("select target_dag_id from asset_dag_run_queue")]
    finally:
        db.close()
    return events, queued


def test_asset_events_only_when_rows_were_loaded(home: DataHome) -> None:
    staged = home.root / "staged"
    staged.mkdir()
    good = write_csv(staged / "good.csv", [ROSTER_HEADER, roster_row(1), roster_row(2, 性别="?")])
    write_csv(staged / "other.csv", [ROSTER_HEADER, roster_row(5)])  # AUD may not send it
    inbox = home.inbox_for("ORG", "roster")
    inbox.mkdir(parents=True)
    (inbox / "名册.csv").write_bytes(good.read_bytes())
    (inbox / "名册副本.csv").write_bytes(good.read_bytes())  # same bytes, second name

    run = run_python(home, INGEST_TWICE)
    assert run.returncode == 0, run.stderr[-4000:]
    assert "STATE first success" in run.stdout and "STATE second success" in run.stdout
    events, queued = _events(home)
    # first run: one file loaded -> one event with its metadata; the copy is a duplicate
    assert len(events) == 1, events
    assert {k: events[0][k] for k in ("unit", "source", "status", "rows_accepted",
                                       "rows_quarantined")} == {
        "unit": "ORG", "source": "roster", "status": "partially_accepted",
        "rows_accepted": 1, "rows_quarantined": 1}
    assert events[0]["submission_id"]
    # second run: a duplicate and a refused file change nothing: no event, build not queued
    assert queued == []
    with duckdb.connect(str(home.warehouse_file), read_only=True) as con:
        statuses = sorted(r[0] for r in con.execute("select status from meta.submission"
                                                    ).fetchall())
    assert statuses == ["duplicate", "duplicate", "partially_accepted", "refused"]


DEMO_RUNS = """
from pipelines.contracts import source_names
from pipelines.orchestration.local import prepare_airflow, run_dag
from pipelines.settings import DataHome
home = DataHome.from_env()
prepare_airflow(home)
for source in source_names():
    print("STATE", f"ingest_{source}", run_dag(f"ingest_{source}", home))
print("STATE build_profiles", run_dag("build_profiles", home, {"as_of": "2025-12-31"}))
print("STATE followup_weekly", run_dag("followup_weekly", home, {"as_of": "2026-01-05"}))
print("STATE review_half_yearly", run_dag("review_half_yearly", home, {"period": "2025H2"}))
"""


def test_task_logs_of_a_generated_set_carry_no_names_or_id_numbers(
        home: DataHome, monkeypatch: pytest.MonkeyPatch) -> None:
    """Every DAG on generated drops (with planted faults), task logs at INFO: no roster name,
    no ID number anywhere in them, yet the structured fields are there."""
    from pipelines.dev.demo import stage_samples

    stage_samples(home, cadres=40)
    monkeypatch.setenv("AIRFLOW__LOGGING__LOGGING_LEVEL", "INFO")
    run = run_python(home, DEMO_RUNS)
    assert run.returncode == 0, run.stderr[-4000:]
    states = [line for line in run.stdout.splitlines() if line.startswith("STATE ")]
    runs = len(source_names()) + 3  # every ingest DAG, then build, follow-up and review
    assert len(states) == runs and all(s.endswith(" success") for s in states), states
    logs = run.stdout + run.stderr + "".join(
        p.read_text(encoding="utf-8", errors="replace")
        for p in (home.airflow_home / "logs").rglob("*") if p.is_file())
    with duckdb.connect(str(home.warehouse_file), read_only=True) as con:
        names = {r[0] for r in con.execute("select distinct name from raw.roster").fetchall()}
        ids = {r[0] for r in con.execute(
            "select distinct id_number from raw.roster union select distinct json_extract_string("
            "row_values, '$.id_number') from meta.quarantined_row").fetchall() if r[0]}
    assert len(names) >= 30 and len(ids) >= 30
    assert [n for n in names if n in logs] == []
    assert [i for i in ids if len(i) >= 15 and i in logs] == []
    assert "submission_id=" in logs and "rows_accepted=" in logs  # structlog key-values
