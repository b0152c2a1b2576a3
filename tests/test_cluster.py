"""The production-shaped cluster (Celery workers, PostgreSQL, Redis) gives the standalone results.

One real cluster per test module: PostgreSQL and Redis from the distribution's packages (the
Makefile's ``cluster-deps`` installs them; a machine without them fails here with that message,
never skips), scheduler, dag-processor, triggerer, API server and two Celery workers, all on
127.0.0.1. A small generated set of drops runs through the ingest and build DAGs on the cluster
and through ``dag.test()`` standalone; receipts, profiles and flags must be identical. Then the
warehouse worker is SIGKILLed, with its task's processes, inside a load's open transaction.
"""

from __future__ import annotations

import itertools
import os
import shutil
import tempfile
import time
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest

from pipelines import warehouse
from pipelines.contracts import source_names
from pipelines.dev.generate import generate_drops
from pipelines.ingest.crash import PAUSE_MESSAGE
from pipelines.orchestration import cluster
from pipelines.orchestration.cluster_demo import copy_drops, differences, results, run_drops
from pipelines.settings import DataHome
from tests.airflow_probe import run_python
from tests.conftest import ROSTER_HEADER, roster_row, write_csv

pytestmark = pytest.mark.slow
AS_OF = date(2026, 6, 30)
INGEST_DAGS = [f"ingest_{source}" for source in source_names()]

STANDALONE = """
from pipelines import warehouse
from pipelines.contracts import source_names
from pipelines.orchestration.local import prepare_airflow, run_dag
from pipelines.settings import DataHome
home = DataHome.from_env()
prepare_airflow(home)
for source in source_names():
    assert run_dag(f"ingest_{source}", home) == "success"
assert run_dag("build_profiles", home, {"as_of": "%s"}) == "success"
"""


@pytest.fixture(scope="module")
def drops(tmp_path_factory: pytest.TempPathFactory) -> Path:
    samples = tmp_path_factory.mktemp("drops") / "samples"
    generate_drops(samples, cadres=30, years=2, seed=7)
    return samples


@pytest.fixture(scope="module")
def running(drops: Path) -> Iterator[DataHome]:
    """A started cluster in a data folder the ``postgres`` user can enter (under /tmp, 0755)."""
    root = Path(tempfile.mkdtemp(prefix="cadre-cluster-", dir="/tmp"))
    os.chmod(root, 0o755)
    home = DataHome.from_env(root).ensure()
    try:
        cluster.start(home, api_port=_free_port(), paused=True)
        cluster.wait_for_dags(home, [*INGEST_DAGS, "build_profiles"])
        cluster.unpause(home, [*INGEST_DAGS, "build_profiles"])
        yield home
    finally:
        cluster.stop(home)
        shutil.rmtree(root, ignore_errors=True)


def _free_port() -> int:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_the_cluster_gives_exactly_the_standalone_receipts_profiles_and_flags(
        running: DataHome, drops: Path, tmp_path: Path) -> None:
    standalone = DataHome.from_env(tmp_path / "standalone").ensure()
    copy_drops(drops, standalone.inbox)
    done = run_python(standalone, STANDALONE % AS_OF.isoformat())
    assert done.returncode == 0, done.stderr[-3000:]

    data = cluster.Cluster(running).data
    files = copy_drops(drops, data.inbox)
    run_drops(running, AS_OF)

    on_cluster = results(data.warehouse_file, AS_OF)
    assert len(on_cluster["receipts"]) == files
    assert on_cluster["profiles"] and on_cluster["flags"]
    assert differences(results(standalone.warehouse_file, AS_OF), on_cluster) == {
        "receipts": 0, "profiles": 0, "flags": 0}
    ran = cluster.task_runs(running)
    unfinished = [r for r in ran if r["dag_id"] in INGEST_DAGS  # skipped: a run with no file
                  and r["state"] not in ("success", "skipped")]
    assert unfinished == []
    assert sum(r["task_id"] == "receive" and r["state"] == "success" for r in ran) >= len(INGEST_DAGS)


def test_every_part_runs_on_loopback_and_stop_leaves_nothing_running(running: DataHome) -> None:
    rows = {row["part"]: row for row in cluster.status(running)}
    assert all(row["running"] for row in rows.values()), rows
    assert rows["postgres"]["answers"] and rows["redis"]["answers"]
    pids = [row["pid"] for row in rows.values()]
    listening = _listeners(pids)
    assert listening and all(addr.startswith("127.0.0.1:") for addr in listening), listening


def _listeners(pids: list[int]) -> list[str]:
    """Local addresses on which these processes (or their children) listen, from /proc."""
    import subprocess

    out = subprocess.run(["ss", "-ltnpH"], capture_output=True, text=True, check=True).stdout
    wanted = set()
    for pid in pids:
        wanted |= {pid, *_children(pid)}
    found = []
    for line in out.splitlines():
        fields = line.split()
        if any(f"pid={pid}," in line for pid in wanted):
            found.append(fields[3])
    return found


def _children(pid: int) -> set[int]:
    kids = set()
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            parts = stat.read_text().rsplit(") ", 1)[1].split()
        except OSError:
            continue
        if int(parts[2]) == pid or int(parts[3]) == pid:  # ppid or process group
            kids.add(int(stat.parent.name))
    return kids



def test_parse_and_validate_spread_over_both_workers_while_loads_run_one_at_a_time(
        running: DataHome) -> None:
    """After the replay above: many drops at once; CPU steps on any worker, writers in turn."""
    ran = [r for r in cluster.task_runs(running) if r["dag_id"] in INGEST_DAGS]
    loads = sorted((r["start_date"], r["end_date"]) for r in ran
                   if r["task_id"] in ("receive", "load") and r["state"] == "success")
    assert len(loads) >= 10
    for (_, end), (start, _) in itertools.pairwise(loads):
        assert start >= end, "two warehouse writers ran at the same time"
    assert {r["queue"] for r in ran if r["task_id"] in ("parse", "validate")} == {"default"}
    assert {r["queue"] for r in ran if r["task_id"] in ("receive", "load")} == {"warehouse"}
    per_worker = {part: _workloads(cluster.Cluster(running).logs / f"{part}.log", "parse")
                  for part in ("worker-warehouse", "worker-default")}
    assert all(per_worker.values()), per_worker  # both workers parsed files


def _workloads(log: Path, task_id: str) -> int:
    return sum(1 for line in log.read_text(errors="replace").splitlines()
               if "Executing workload" in line and f"task_id={task_id}/" in line)


def test_a_warehouse_worker_killed_mid_load_leaves_the_warehouse_as_it_was_and_the_retry_finishes(
        running: DataHome) -> None:
    """SIGKILL the warehouse worker and its task's processes while the load's DuckDB transaction
    is open: nothing of the load is in the warehouse; the scheduler finds the task without a
    heartbeat, Airflow retries it on the restarted worker, and the submission is loaded once."""
    data = cluster.Cluster(running).data
    with warehouse.writer(data.warehouse_file):  # as the first receive would (run alone: -k)
        pass
    before = _warehouse(data)
    cluster.restart_part(running, "worker-warehouse",
                         {"CADRE_FAULT_INJECT": "load:mid_transaction:pause"})
    try:
        rows = [ROSTER_HEADER, *[roster_row(n) for n in range(900, 912)]]
        inbox = data.inbox_for("ORG", "roster")
        inbox.mkdir(parents=True, exist_ok=True)
        write_csv(inbox / "killed_mid_load.csv", rows)
        run_id = cluster.trigger(running, "ingest_roster")
        load = _wait_for_pause(running, run_id)
        task_processes = _processes_titled(str(load["id"]))
        assert task_processes, "the paused load's task process was not found"
        killed = cluster.kill_part(running, "worker-warehouse")
        assert task_processes <= killed
        assert not _processes_titled(str(load["id"]))
        after_kill = _warehouse(data, wait=5)  # no writer is left: the lock went with the kill
    finally:
        cluster.restart_part(running, "worker-warehouse")  # without the fault
    new = after_kill["submissions"].keys() - before["submissions"].keys()
    assert len(new) == 1
    submission_id = new.pop()
    assert after_kill["submissions"][submission_id][:2] == ("killed_mid_load.csv", "validated")
    assert {k: v for k, v in after_kill["submissions"].items() if k != submission_id} == \
        before["submissions"]
    assert after_kill["raw_roster"] == before["raw_roster"]
    assert submission_id not in after_kill["with_issues_or_quarantine"]

    cluster.wait_until_idle(running, timeout=600)
    done = _warehouse(data)
    assert done["raw_roster"] == before["raw_roster"] + 12
    mine = [s for s in done["submissions"].values() if s[0] == "killed_mid_load.csv"]
    assert mine == [("killed_mid_load.csv", "accepted", 12, 12)]
    load_after = [r for r in cluster.task_runs(running)  # each try gets a new id: not by id
                  if r["run_id"] == run_id and r["task_id"] == "load"]
    assert [(r["state"], r["try_number"]) for r in load_after] == [("success", 2)]  # the retry


def _warehouse(data: DataHome, wait: float = 60) -> dict[str, object]:
    """Row count of raw.roster; each submission's file, status, rows accepted and rows in
    raw.roster; submissions with issues or quarantined rows. Read-only, waiting at most
    ``wait`` seconds for DuckDB's file lock (a writer holds it)."""
    con = warehouse.connect(data.warehouse_file, read_only=True, wait=wait)
    with con:
        submissions = con.execute(
            "select s.submission_id, s.filename, s.status, s.rows_accepted, "
            "(select count(*) from raw.roster r where r.submission_id = s.submission_id) "
            "from meta.submission s").fetchall()
        flagged = con.execute("select submission_id from meta.submission_issue union "
                              "select submission_id from meta.quarantined_row").fetchall()
        raw_roster = con.execute("select count(*) from raw.roster").fetchone()[0]
    return {"raw_roster": raw_roster, "submissions": {row[0]: row[1:] for row in submissions},
            "with_issues_or_quarantine": {row[0] for row in flagged}}


def _wait_for_pause(home: DataHome, run_id: str, timeout: float = 300) -> dict[str, object]:
    """The run's load task instance, once its log says it waits inside the open transaction."""
    logs = cluster.Cluster(home).logs / "tasks" / "dag_id=ingest_roster" / f"run_id={run_id}"
    marker = PAUSE_MESSAGE.split("%")[0].strip()  # "fault point"
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        paused = [log for log in logs.glob("task_id=load/**/attempt=1.log")
                  if marker in log.read_text(errors="replace")]
        if paused:
            loads = [r for r in cluster.task_runs(home)
                     if r["run_id"] == run_id and r["task_id"] == "load"]
            assert len(loads) == 1 and loads[0]["state"] == "running", loads
            return loads[0]
        time.sleep(1)
    raise AssertionError(f"the load of {run_id} never reached its fault point")


def _processes_titled(text: str) -> set[int]:
    """Live processes whose command line (process title) contains ``text``."""
    found = set()
    for cmdline in Path("/proc").glob("[0-9]*/cmdline"):
        try:
            if text.encode() in cmdline.read_bytes():
                found.add(int(cmdline.parent.name))
        except OSError:
            continue
    return found


def test_stop_stops_exactly_what_start_started(running: DataHome) -> None:
    """Last in the module: after ``stop`` no process of the cluster is left, by PID and group."""
    pids = [row["pid"] for row in cluster.status(running) if row["running"]]
    family = set(pids)
    for pid in pids:
        family |= _children(pid)
    stopped = cluster.stop(running)
    assert set(stopped) == {*cluster.SERVICES, *cluster.AIRFLOW_PARTS}
    alive = [pid for pid in family if Path(f"/proc/{pid}").exists()
             and "Z" not in (Path(f"/proc/{pid}/stat").read_text().rsplit(") ", 1)[1][:1])]
    assert alive == []
    assert not any(row["running"] for row in cluster.status(running))
