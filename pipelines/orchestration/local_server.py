"""The local Airflow (``make airflow`` / ``make airflow-stop``), sized for a small machine.

Why not ``airflow standalone``: it starts every component with the defaults of a large server
(parallelism 32, several API workers; 42 processes and ~5.5 GB on a 2-core machine), its
scheduler and triggerer log servers listen on every interface (Airflow 3.3 binds them to
``[::]`` with no host setting), the admin password scrolls away, and a SIGTERM to it leaves the
scheduler running. Here each component is its own process group started from the data folder's
environment, with:

- DAGs active on creation (``[core] dags_are_paused_at_creation = False``): a dropped file is
  loaded *and* built, the analysts' snapshot does not silently go stale;
- ``[core] parallelism`` sized to the machine (2-4), one API worker, one parsing process;
- every listener on 127.0.0.1: the API server via ``--host``; the scheduler's and triggerer's
  log servers are not started at all (``--skip-serve-logs``): with the LocalExecutor the API
  server reads the task logs from the data folder's ``airflow/logs`` directly;
- the admin password in ``airflow/admin_password.json`` (owner-only), printed last;
- PIDs in ``airflow/local_server.json``; ``stop`` ends each process group (SIGTERM, then
  SIGKILL after a grace period) and checks nothing of it remains.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from pipelines.orchestration.local import airflow_env
from pipelines.settings import DataHome

# Each component and its command line (after ``airflow``); the API server gets host and port.
COMPONENTS: dict[str, tuple[str, ...]] = {
    "api-server": ("api-server", "--workers", "1"),
    "scheduler": ("scheduler", "--skip-serve-logs"),
    "dag-processor": ("dag-processor",),
    "triggerer": ("triggerer", "--skip-serve-logs", "--capacity", "50"),
}
HOST = "127.0.0.1"
STOP_GRACE_SECONDS = 30


class AirflowServerError(RuntimeError):
    """The local Airflow did not come up, or is already running."""


@dataclass(frozen=True)
class RunningAirflow:
    port: int
    pids: dict[str, int]  # component -> PID (= its process group id)
    password_file: Path
    url: str


def parallelism(cpus: int | None = None) -> int:
    """Task slots for the machine: one per core, at least 2 and at most 4 (the warehouse has
    one writer anyway; more slots only queue on the pool and cost memory)."""
    return max(2, min(4, cpus or os.cpu_count() or 2))


def state_file(home: DataHome) -> Path:
    return home.airflow_home / "local_server.json"


def password_file(home: DataHome) -> Path:
    return home.airflow_home / "admin_password.json"


def server_env(home: DataHome, port: int) -> dict[str, str]:
    """The environment of every component: the data folder's Airflow plus the local sizing."""
    return {
        **airflow_env(home),
        "AIRFLOW__CORE__EXECUTOR": "LocalExecutor",
        "AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION": "False",
        "AIRFLOW__CORE__PARALLELISM": str(parallelism()),
        "AIRFLOW__CORE__AUTH_MANAGER":
            "airflow.api_fastapi.auth.managers.simple.simple_auth_manager.SimpleAuthManager",
        "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS": "admin:admin",
        "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE": str(password_file(home)),
        "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": f"http://{HOST}:{port}/execution/",
        "AIRFLOW__API__HOST": HOST,
        "AIRFLOW__API__PORT": str(port),
        "AIRFLOW__API__WORKERS": "1",
        "AIRFLOW__API__BASE_URL": f"http://{HOST}:{port}",
        "AIRFLOW__DAG_PROCESSOR__PARSING_PROCESSES": "1",
        # not started by default; should someone enable it, it stays local too
        "AIRFLOW__SCHEDULER__SCHEDULER_HEALTH_CHECK_SERVER_HOST": HOST,
    }


def alive(pid: int) -> bool:
    """The process exists and is not a zombie (a dead child not yet reaped counts as gone);
    one answer for the local server and the cluster."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    # a zombie child of ours counts as gone
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
        return stat.rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def _process_table() -> dict[int, tuple[int, int]]:
    """Live (non-zombie) PID -> (parent PID, process group), read from /proc (Linux)."""
    table = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if fields[0] != "Z":
            table[int(entry.name)] = (int(fields[1]), int(fields[2]))
    return table


def group_members(pgid: int) -> list[int]:
    """Live PIDs in a process group."""
    return [pid for pid, (_, group) in _process_table().items() if group == pgid]


def _is_airflow(pid: int) -> bool:
    try:
        return b"airflow" in Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return False


def family(roots: list[int]) -> set[int]:
    """Live PIDs in the roots' process groups and every descendant of them. A task process
    may start its own session (Airflow's task supervisor does), leaving the group: it is
    still a descendant, found through its parent."""
    table = _process_table()
    roots = [pid for pid in roots if _is_airflow(pid)]  # a stale file's PIDs may be reused
    found = {pid for pid, (_, group) in table.items() if group in roots}
    found |= {pid for pid in roots if pid in table}
    grew = True
    while grew:
        children = {pid for pid, (parent, _) in table.items() if parent in found}
        grew = not children <= found
        found |= children
    return found


def health(port: int) -> dict | None:
    """The API server's health document, or None while it does not answer."""
    try:
        with urllib.request.urlopen(f"http://{HOST}:{port}/api/v2/monitor/health",
                                    timeout=5) as response:
            return json.loads(response.read())
    except (urllib.error.URLError, OSError, ValueError):
        return None


def _healthy(doc: dict | None) -> bool:
    if not doc:
        return False
    parts = ("metadatabase", "scheduler", "dag_processor", "triggerer")
    return all((doc.get(p) or {}).get("status") == "healthy" for p in parts)


def start(home: DataHome, port: int, timeout: float = 300.0) -> RunningAirflow:
    """Start every component in the background, wait until all are healthy, return them.

    Call ``prepare_airflow`` first (DB migrated, writer pool created)."""
    if state_file(home).exists():
        pids = json.loads(state_file(home).read_text())["pids"]
        if family(list(pids.values())):
            raise AirflowServerError(f"the local Airflow of {home.root} is already running "
                                     "(make airflow-stop stops it)")
    env = {**os.environ, **server_env(home, port)}
    logs = home.airflow_home / "logs" / "local"
    logs.mkdir(parents=True, exist_ok=True)
    airflow = str(Path(sys.executable).parent / "airflow")
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    pids: dict[str, int] = {}
    for name, args in COMPONENTS.items():
        extra = ("--host", HOST, "--port", str(port)) if name == "api-server" else ()
        with open(logs / f"{name}.log", "ab") as log:
            process = subprocess.Popen([airflow, *args, *extra], env=env, stdout=log,
                                       stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                       start_new_session=True)  # own group: stop ends it all
        pids[name] = process.pid
    state_file(home).write_text(json.dumps({"port": port, "pids": pids}), encoding="utf-8")
    running = RunningAirflow(port, pids, password_file(home), f"http://{HOST}:{port}")
    deadline = time.monotonic() + timeout
    while not _healthy(health(port)):
        dead = [n for n, pid in pids.items() if not alive(pid)]
        if dead or time.monotonic() > deadline:
            stop(home)
            why = f"{', '.join(dead)} exited" if dead else f"not healthy after {timeout:.0f} s"
            raise AirflowServerError(f"the local Airflow did not start ({why}); see {logs}")
        time.sleep(2)
    if running.password_file.exists():
        running.password_file.chmod(0o600)
    return running


def stop(home: DataHome, grace: float = STOP_GRACE_SECONDS) -> list[int]:
    """End every process group ``start`` recorded; returns the PIDs that were still running.

    SIGTERM first (the scheduler finishes its loop, tasks are marked), SIGKILL for whatever is
    left after ``grace`` seconds; raises if anything of ours survives even that."""
    path = state_file(home)
    if not path.exists():
        return []
    roots = list(json.loads(path.read_text())["pids"].values())
    ours = family(roots)
    found = sorted(ours)
    for pgid in (pid for pid in roots if pid in ours):
        _signal_group(pgid, signal.SIGTERM)
    for pid in ours:
        _signal(pid, signal.SIGTERM)
    deadline = time.monotonic() + grace
    while time.monotonic() < deadline:
        ours = {pid for pid in ours if alive(pid)} | family(roots)  # late children too
        if not ours:
            break
        time.sleep(0.5)
    for pid in ours | family(roots):
        _signal(pid, signal.SIGKILL)
    time.sleep(0.5)
    left = sorted(pid for pid in ours | family(roots) if alive(pid))
    if left:
        raise AirflowServerError(f"processes still running after SIGKILL: {left}")
    path.unlink()
    return found


def _signal(pid: int, sig: int) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, sig)


def _signal_group(pgid: int, sig: int) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(pgid, sig)


def admin_password(running: RunningAirflow) -> str | None:
    """The generated admin password, from the file the API server wrote."""
    try:
        return json.loads(running.password_file.read_text(encoding="utf-8")).get("admin")
    except (OSError, ValueError):
        return None
