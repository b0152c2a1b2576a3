"""The production-shaped cluster (Celery workers, PostgreSQL, Redis) gives the standalone results.

One real cluster per test module: PostgreSQL and Redis from the distribution's packages (the
Makefile's ``cluster-deps`` installs them; a machine without them fails here with that message,
never skips), scheduler, dag-processor, triggerer, API server and two Celery workers, all on
127.0.0.1. A small generated set of drops runs through the ingest and build DAGs on the cluster
and through ``dag.test()`` standalone; receipts, profiles and flags must be identical.
"""

from __future__ import annotations

import itertools
import os
import shutil
import tempfile
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest

from pipelines.contracts import source_names
from pipelines.dev.generate import generate_drops
from pipelines.orchestration import cluster
from pipelines.orchestration.cluster_demo import copy_drops, differences, results, run_drops
from pipelines.settings import DataHome
from tests.airflow_probe import run_python

pytestmark = pytest.mark.slow
AS_OF = date(2026, 6, 30)
INGEST_DAGS = [f"ingest_{source}" for source in source_names()]

STANDALONE = """
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
