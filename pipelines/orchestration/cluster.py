"""A production-shaped Airflow on one machine: PostgreSQL, Redis, Celery workers.

``airflow standalone`` (SQLite, one process tree) is the demo; this is the shape a data engineer
runs in production, started and stopped by the project itself so CI can prove it works:

- PostgreSQL (metadata DB) and Redis (Celery broker) from the distribution's packages, each
  listening on 127.0.0.1 only, their data under ``<cluster>/``;
- scheduler, dag-processor, triggerer and API server (UI on 127.0.0.1:``port``);
- two Celery workers: ``worker-warehouse`` serves the ``warehouse`` and ``default`` queues and is
  the only process that may write the DuckDB file (it runs on the warehouse's machine);
  ``worker-default`` serves ``default`` only (receive/parse/validate-type work that touches the
  shared folders, never the warehouse file).

Every process is started in its own session; its PID is written under ``<cluster>/pids`` and
``stop`` signals exactly those process groups. Airflow's log servers bind every interface and
cannot be told otherwise, so every component runs with ``--skip-serve-logs``: on one machine the
API server reads the task logs from the shared log folder.

The pipeline's data folder for the workers is ``CADRE_CLUSTER_DATA`` (default
``$CADRE_HOME/cluster/data``), so a local trial never writes the standalone demo's warehouse;
in production it is the shared data folder itself.
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from pipelines import settings
from pipelines.orchestration.assets import DEFAULT_QUEUE, WAREHOUSE_POOL, WAREHOUSE_QUEUE
from pipelines.orchestration.local import DAGS_FOLDER
from pipelines.orchestration.local_server import alive
from pipelines.settings import DataHome

AIRFLOW_PARTS = ("scheduler", "dag-processor", "triggerer", "api-server",
                 "worker-warehouse", "worker-default")
SERVICES = ("postgres", "redis")
START_TIMEOUT_S = 180.0


class ClusterError(RuntimeError):
    """Something the operator must fix (a missing package, a port taken); said in one line."""


@dataclass(frozen=True)
class Cluster:
    """Where one cluster keeps its state, and the pipeline data folder its workers use."""

    home: DataHome

    @property
    def root(self) -> Path:
        return self.home.root / "cluster"

    @property
    def data(self) -> DataHome:
        configured = settings.get("CADRE_CLUSTER_DATA")
        return DataHome.from_env(configured or self.root / "data")

    @property
    def pg_data(self) -> Path:
        return self.root / "postgres" / "data"

    @property
    def pg_run(self) -> Path:
        return self.root / "postgres" / "run"

    @property
    def redis_dir(self) -> Path:
        return self.root / "redis"

    @property
    def airflow_home(self) -> Path:
        return self.root / "airflow"

    @property
    def logs(self) -> Path:
        return self.root / "logs"

    @property
    def pids(self) -> Path:
        return self.root / "pids"

    @property
    def state_file(self) -> Path:
        """Ports and secrets chosen at first start (mode 600): a restart reuses them."""
        return self.root / "cluster.json"

    def pid_file(self, part: str) -> Path:
        return self.pids / f"{part}.pid"


# -- state ------------------------------------------------------------------------------------

def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _state(cluster: Cluster, api_port: int | None) -> dict[str, object]:
    """Read (or create) ports and secrets; the API port may change between starts."""
    if cluster.state_file.exists():
        state = json.loads(cluster.state_file.read_text())
    else:
        state = {"pg_port": _free_port(), "redis_port": _free_port(),
                 "pg_password": secrets.token_urlsafe(24),
                 "jwt_secret": secrets.token_urlsafe(48), "api_secret": secrets.token_urlsafe(48),
                 "fernet_key": _fernet_key()}
    if api_port is not None:
        state["api_port"] = api_port
    state.setdefault("api_port", 8080)
    cluster.root.mkdir(parents=True, exist_ok=True)
    fd = os.open(cluster.state_file, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        json.dump(state, handle, indent=2)
    return state


def _fernet_key() -> str:
    import base64

    return base64.urlsafe_b64encode(secrets.token_bytes(32)).decode()


def metadata_db_url(cluster: Cluster, state: dict[str, object]) -> str:
    """``CADRE_AIRFLOW_DB_URL`` when set (production), else the cluster's own PostgreSQL."""
    return settings.get("CADRE_AIRFLOW_DB_URL") or (
        f"postgresql+psycopg2://cadre:{state['pg_password']}@127.0.0.1:{state['pg_port']}/airflow")


def broker_url(state: dict[str, object]) -> str:
    return settings.get("CADRE_CELERY_BROKER_URL") or f"redis://127.0.0.1:{state['redis_port']}/0"


def airflow_cluster_env(cluster: Cluster, state: dict[str, object]) -> dict[str, str]:
    """The environment every Airflow part of the cluster runs with (one config for all)."""
    db_url = metadata_db_url(cluster, state)
    api = f"http://127.0.0.1:{state['api_port']}"
    return {
        "CADRE_HOME": str(cluster.data.root),
        "AIRFLOW_HOME": str(cluster.airflow_home),
        "AIRFLOW__CORE__DAGS_FOLDER": str(DAGS_FOLDER),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__CORE__EXECUTOR": "CeleryExecutor",
        "AIRFLOW__CORE__PARALLELISM": "4",
        "AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION": "False",
        "AIRFLOW__CORE__FERNET_KEY": str(state["fernet_key"]),
        "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": f"{api}/execution/",
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": db_url,
        "AIRFLOW__CELERY__BROKER_URL": broker_url(state),
        "AIRFLOW__CELERY__RESULT_BACKEND": "db+" + db_url.replace("+psycopg2", ""),
        "AIRFLOW__CELERY__WORKER_CONCURRENCY": "2",
        "AIRFLOW__OPERATORS__DEFAULT_QUEUE": DEFAULT_QUEUE,
        "AIRFLOW__API__HOST": "127.0.0.1",
        "AIRFLOW__API__PORT": str(state["api_port"]),
        "AIRFLOW__API__BASE_URL": api,
        "AIRFLOW__API__SECRET_KEY": str(state["api_secret"]),
        "AIRFLOW__API_AUTH__JWT_SECRET": str(state["jwt_secret"]),
        "AIRFLOW__SCHEDULER__TASK_INSTANCE_HEARTBEAT_TIMEOUT": "60",
        # a 2-core machine under load answers slowly: the default 5 s makes tasks fail spuriously
        "AIRFLOW__WORKERS__EXECUTION_API_TIMEOUT": "60",
        "AIRFLOW__API__WORKERS": "1",
        "AIRFLOW__LOGGING__BASE_LOG_FOLDER": str(cluster.logs / "tasks"),
        "AIRFLOW__LOGGING__LOGGING_LEVEL": "INFO",
        "GX_ANALYTICS_ENABLED": "False",
    }


# -- processes --------------------------------------------------------------------------------

def _pid(cluster: Cluster, part: str) -> int | None:
    try:
        pid = int(cluster.pid_file(part).read_text().strip())
    except (FileNotFoundError, ValueError):
        return None
    return pid if alive(pid) else None


def _spawn(cluster: Cluster, part: str, argv: list[str], env: dict[str, str]) -> int:
    cluster.logs.mkdir(parents=True, exist_ok=True)
    cluster.pids.mkdir(parents=True, exist_ok=True)
    log = open(cluster.logs / f"{part}.log", "ab")  # noqa: SIM115 - handed to the child
    proc = subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                            env=env, start_new_session=True, cwd=cluster.root)
    log.close()
    cluster.pid_file(part).write_text(str(proc.pid))
    return proc.pid


def _wait(check, what: str, timeout: float = START_TIMEOUT_S) -> None:  # noqa: ANN001
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.5)
    raise ClusterError(f"{what} did not come up within {timeout:.0f} s")


def _tcp_answers(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1):
            return True
    except OSError:
        return False


# -- PostgreSQL and Redis ---------------------------------------------------------------------

def postgres_bin() -> Path:
    found = sorted(Path("/usr/lib/postgresql").glob("*/bin/postgres"))
    if not found:
        raise ClusterError("PostgreSQL is not installed: run `make cluster-deps` "
                           "(apt-get install postgresql)")
    return found[-1].parent


def _as_postgres_user(argv: list[str]) -> list[str]:
    """PostgreSQL refuses to run as root: as root, drop to the ``postgres`` user."""
    if os.geteuid() != 0:
        return argv
    return ["setpriv", "--reuid=postgres", "--regid=postgres", "--init-groups", *argv]


def _chown_to_postgres(path: Path) -> None:
    if os.geteuid() == 0:
        shutil.chown(path, "postgres", "postgres")


def _check_reachable_by_postgres(path: Path) -> None:
    """The ``postgres`` user must be able to enter every folder above its data directory."""
    if os.geteuid() != 0:
        return
    path.mkdir(parents=True, exist_ok=True)
    probe = subprocess.run(_as_postgres_user(["test", "-x", str(path)]), check=False)
    if probe.returncode != 0:
        raise ClusterError(f"the postgres user cannot enter {path}: put the data folder where it "
                           f"can (e.g. under /srv or /tmp), or grant o+x on its parent folders")


def start_postgres(cluster: Cluster, state: dict[str, object]) -> None:
    if settings.get("CADRE_AIRFLOW_DB_URL") or _pid(cluster, "postgres"):
        return
    bindir = postgres_bin()
    _check_reachable_by_postgres(cluster.root)
    for folder in (cluster.pg_data.parent, cluster.pg_data, cluster.pg_run):
        folder.mkdir(parents=True, exist_ok=True)
        _chown_to_postgres(folder)
    os.chmod(cluster.pg_data, 0o700)
    if not (cluster.pg_data / "PG_VERSION").exists():
        pwfile = cluster.pg_data.parent / "pwfile"
        pwfile.write_text(str(state["pg_password"]) + "\n")
        _chown_to_postgres(pwfile)
        os.chmod(pwfile, 0o600)
        subprocess.run(_as_postgres_user([str(bindir / "initdb"), "-D", str(cluster.pg_data),
                                          "-U", "cadre", f"--pwfile={pwfile}", "-E", "UTF8",
                                          "--no-locale", "--auth=scram-sha-256"]),
                       check=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        pwfile.unlink()
    _spawn(cluster, "postgres", _as_postgres_user(
        [str(bindir / "postgres"), "-D", str(cluster.pg_data), "-p", str(state["pg_port"]),
         "-k", str(cluster.pg_run), "-c", "listen_addresses=127.0.0.1",
         "-c", "max_connections=200"]), dict(os.environ))
    _wait(lambda: _tcp_answers(int(state["pg_port"])), "PostgreSQL")
    _ensure_database(state)


def _ensure_database(state: dict[str, object]) -> None:
    import psycopg2

    deadline = time.monotonic() + 60
    while True:
        try:
            con = psycopg2.connect(host="127.0.0.1", port=state["pg_port"], user="cadre",
                                   password=state["pg_password"], dbname="postgres")
            break
        except psycopg2.OperationalError:  # still starting up
            if time.monotonic() > deadline:
                raise
            time.sleep(0.5)
    con.autocommit = True
    with con.cursor() as cur:
        cur.execute("select 1 from pg_database where datname = 'airflow'")
        if cur.fetchone() is None:
            cur.execute("create database airflow")
    con.close()


def start_redis(cluster: Cluster, state: dict[str, object]) -> None:
    if settings.get("CADRE_CELERY_BROKER_URL") or _pid(cluster, "redis"):
        return
    server = shutil.which("redis-server")
    if server is None:
        raise ClusterError("Redis is not installed: run `make cluster-deps` "
                           "(apt-get install redis-server)")
    cluster.redis_dir.mkdir(parents=True, exist_ok=True)
    _spawn(cluster, "redis", [server, "--bind", "127.0.0.1", "--port", str(state["redis_port"]),
                              "--dir", str(cluster.redis_dir), "--save", "",
                              "--appendonly", "no", "--protected-mode", "yes"], dict(os.environ))
    _wait(lambda: _redis_ping(int(state["redis_port"])), "Redis")


def _redis_ping(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1) as con:
            con.sendall(b"PING\r\n")
            return con.recv(16).startswith(b"+PONG")
    except OSError:
        return False


# -- Airflow ----------------------------------------------------------------------------------

def _airflow() -> str:
    return str(Path(sys.executable).parent / "airflow")


def _airflow_argv(part: str) -> list[str]:
    airflow = _airflow()
    return {
        "scheduler": [airflow, "scheduler", "--skip-serve-logs"],
        "dag-processor": [airflow, "dag-processor"],
        "triggerer": [airflow, "triggerer", "--skip-serve-logs"],
        "api-server": [airflow, "api-server", "--host", "127.0.0.1"],
        "worker-warehouse": [airflow, "celery", "worker", "--skip-serve-logs", "--queues",
                             f"{WAREHOUSE_QUEUE},{DEFAULT_QUEUE}", "--celery-hostname",
                             "warehouse@%h", "--concurrency", "2", "--without-gossip"],
        "worker-default": [airflow, "celery", "worker", "--skip-serve-logs", "--queues",
                           DEFAULT_QUEUE, "--celery-hostname", "default@%h",
                           "--concurrency", "2", "--without-gossip"],
    }[part]


def cluster_env(cluster: Cluster, state: dict[str, object] | None = None) -> dict[str, str]:
    """The full process environment for running ``airflow`` commands against this cluster."""
    state = state or _state(cluster, None)
    path = f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"
    return {**os.environ, "PATH": path, **airflow_cluster_env(cluster, state)}


def airflow_cli(cluster: Cluster, *args: str, timeout: float = 300) -> str:
    """Run one ``airflow`` CLI command against the cluster's metadata DB; returns stdout."""
    done = subprocess.run([_airflow(), *args], env=cluster_env(cluster), capture_output=True,
                          text=True, timeout=timeout)
    if done.returncode != 0:
        raise ClusterError(f"airflow {' '.join(args)} failed: {done.stderr.strip()[-800:]}")
    return done.stdout


def start(home: DataHome, api_port: int | None = None,
          paused: bool = False) -> dict[str, object]:
    """Start whatever part of the cluster is not running; returns its ports.

    DAGs are active when first parsed (a dropped file is loaded and the snapshot rebuilt without
    anyone unpausing anything); ``paused`` is for tests that trigger runs one by one."""
    cluster = Cluster(home)
    state = _state(cluster, api_port)
    start_postgres(cluster, state)
    start_redis(cluster, state)
    cluster.data.ensure()
    env = cluster_env(cluster, state)
    env["AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION"] = str(paused)
    if not any(_pid(cluster, part) for part in AIRFLOW_PARTS):
        airflow_cli(cluster, "db", "migrate", timeout=600)
        airflow_cli(cluster, "pools", "set", WAREHOUSE_POOL, "1",
                    "DuckDB allows one writer process: every warehouse-writing task runs here")
    for part in AIRFLOW_PARTS:
        if not _pid(cluster, part):
            _spawn(cluster, part, _airflow_argv(part), env)
    _wait(lambda: _api_healthy(int(state["api_port"])), "the Airflow API server")
    return {"api_port": state["api_port"], "pg_port": state["pg_port"],
            "redis_port": state["redis_port"], "data": str(cluster.data.root)}


def _api_healthy(port: int) -> bool:
    import urllib.request

    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/v2/monitor/health",
                                    timeout=2) as answer:
            return answer.status == 200
    except OSError:
        return False


def stop(home: DataHome, grace_s: float = 30.0) -> list[str]:
    """Stop exactly what ``start`` started (by PID, process group first), newest first."""
    cluster = Cluster(home)
    stopped = []
    for part in (*reversed(AIRFLOW_PARTS), *reversed(SERVICES)):
        pid = _pid(cluster, part)
        if pid is not None:
            _terminate(pid, grace_s)
            stopped.append(part)
        cluster.pid_file(part).unlink(missing_ok=True)
    return stopped


def _tree(pid: int) -> set[int]:
    """A part's process group and every descendant: Airflow's task supervisor starts a task in
    a process group of its own, outside the worker's, so a group signal alone would miss it.

    Found by process group and parent, never by name: Celery retitles its processes
    (``celeryd: ...``), the task process calls itself ``airflow worker -- <id>``. ``pid`` comes
    from our own PID file and is alive (``_pid``), as for the group signal ``stop`` sends."""
    import psutil  # an Airflow dependency (pinned in constraints.txt)

    found = {pid} | _group(pid)
    for root in list(found):
        with contextlib.suppress(psutil.NoSuchProcess):
            found |= {child.pid for child in psutil.Process(root).children(recursive=True)}
    return found


def _terminate(pid: int, grace_s: float) -> None:
    """SIGTERM the part's process group and descendants, then SIGKILL what is left after
    ``grace_s``."""
    ours = _tree(pid)
    for sig in (signal.SIGTERM, signal.SIGKILL):
        _signal_all(pid, ours | _tree(pid), sig)
        deadline = time.monotonic() + (grace_s if sig == signal.SIGTERM else 10)
        while time.monotonic() < deadline:
            ours = {p for p in ours | _tree(pid) if alive(p)}
            if not ours and not _group_alive(pid):
                return
            time.sleep(0.2)


def _signal_all(pgid: int, pids: set[int], sig: int) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(pgid, sig)
    for pid in pids:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, sig)


def _group(pgid: int) -> set[int]:
    """Every process in a process group, zombies included."""
    import psutil

    members = set()
    for proc in psutil.process_iter():
        with contextlib.suppress(OSError):  # gone since the listing
            if os.getpgid(proc.pid) == pgid:
                members.add(proc.pid)
    return members


def _group_alive(pgid: int) -> bool:
    """A live process is left in the group. Not ``killpg(pgid, 0)``: that also succeeds for a
    dead leader not yet reaped, as a part is when this process started it, so every stop would
    wait out its whole grace period."""
    return any(alive(pid) for pid in _group(pgid))


def status(home: DataHome) -> list[dict[str, object]]:
    """Each part: running or not, its PID, and for services whether it answers."""
    cluster = Cluster(home)
    state = json.loads(cluster.state_file.read_text()) if cluster.state_file.exists() else {}
    rows = []
    for part in (*SERVICES, *AIRFLOW_PARTS):
        pid = _pid(cluster, part)
        answers = None
        if part == "postgres" and state:
            answers = _tcp_answers(int(state["pg_port"]))
        elif part == "redis" and state:
            answers = _redis_ping(int(state["redis_port"]))
        elif part == "api-server" and state:
            answers = _api_healthy(int(state["api_port"]))
        rows.append({"part": part, "running": pid is not None, "pid": pid, "answers": answers})
    return rows


def restart_part(home: DataHome, part: str, extra_env: dict[str, str] | None = None) -> int:
    """Stop one Airflow part (if running) and start it again, with ``extra_env`` on top of the
    cluster's environment (fault tests); returns the new PID."""
    cluster = Cluster(home)
    pid = _pid(cluster, part)
    if pid is not None:
        _terminate(pid, 30.0)
    return _spawn(cluster, part, _airflow_argv(part), {**cluster_env(cluster), **(extra_env or {})})


def kill_part(home: DataHome, part: str, timeout: float = 30.0) -> set[int]:
    """SIGKILL one part and every process under it (fault tests: a worker machine dying mid-task);
    returns the PIDs killed, once none of them is left.

    A Celery worker's task runs three levels down (worker, pool child, task supervisor) and the
    task process is in a process group of its own, so the whole tree is taken before the first
    signal: once the worker is dead its children are reparented and no longer found from it.
    Returning only when every one is gone means what they held (the DuckDB file lock, the
    open transaction) is released: the kernel drops a process's locks as it exits."""
    pid = _pid(Cluster(home), part)
    if pid is None:
        return set()
    killed = _tree(pid)
    _signal_all(pid, killed, signal.SIGKILL)
    deadline = time.monotonic() + timeout
    while survivors := {p for p in killed if alive(p)}:
        forked = set().union(*(_tree(p) for p in survivors)) - killed  # forked since the look
        killed |= forked
        for survivor in survivors | forked:  # by PID only: the group's number may be reused
            with contextlib.suppress(ProcessLookupError):
                os.kill(survivor, signal.SIGKILL)
        if time.monotonic() > deadline:
            raise ClusterError(f"{part}: processes {sorted(survivors)} survived SIGKILL")
        time.sleep(0.1)
    return killed


# -- running DAGs on the cluster --------------------------------------------------------------

def _metadata(cluster: Cluster):  # noqa: ANN202 - a psycopg2 connection
    import psycopg2

    state = json.loads(cluster.state_file.read_text())
    return psycopg2.connect(host="127.0.0.1", port=state["pg_port"], user="cadre",
                            password=state["pg_password"], dbname="airflow")


def wait_for_dags(home: DataHome, dag_ids: list[str], timeout: float = 240) -> None:
    """Wait until the dag-processor has parsed (serialised) every DAG in ``dag_ids``."""
    cluster = Cluster(home)

    def parsed() -> bool:
        with _metadata(cluster) as con, con.cursor() as cur:
            cur.execute("select dag_id from serialized_dag")
            return set(dag_ids) <= {row[0] for row in cur.fetchall()}

    _wait(parsed, "parsing of the DAGs", timeout)


def unpause(home: DataHome, dag_ids: list[str]) -> None:
    """Unpause DAGs (a cluster started with ``paused=True``)."""
    for dag_id in dag_ids:
        airflow_cli(Cluster(home), "dags", "unpause", dag_id)


def trigger(home: DataHome, dag_id: str, conf: dict[str, object] | None = None) -> str:
    """Trigger a DAG run through Airflow's CLI; returns the run id."""
    run_id = f"cadre__{dag_id}__{time.time_ns()}"
    airflow_cli(Cluster(home), "dags", "trigger", dag_id, "--run-id", run_id,
                "--conf", json.dumps(conf or {}))
    return run_id


def wait_until_idle(home: DataHome, timeout: float = 600, settle_s: float = 5.0) -> dict[str, int]:
    """Wait until no DAG run is queued or running (for ``settle_s``); returns runs by state."""
    cluster = Cluster(home)
    deadline = time.monotonic() + timeout
    quiet_since = None
    while time.monotonic() < deadline:
        with _metadata(cluster) as con, con.cursor() as cur:
            cur.execute("select state, count(*) from dag_run group by state")
            by_state = {str(state): int(n) for state, n in cur.fetchall()}
        busy = by_state.get("queued", 0) + by_state.get("running", 0)
        if busy == 0:
            quiet_since = quiet_since or time.monotonic()
            if time.monotonic() - quiet_since >= settle_s:
                return by_state
        else:
            quiet_since = None
        time.sleep(1.0)
    raise ClusterError(f"the cluster was still busy after {timeout:.0f} s")


def task_runs(home: DataHome) -> list[dict[str, object]]:
    """Every task instance the cluster ran: DAG, task, state, tries, queue, worker host, and its
    id (a running task's process title carries it)."""
    with _metadata(Cluster(home)) as con, con.cursor() as cur:
        cur.execute("select dag_id, run_id, task_id, map_index, state, try_number, queue, hostname, "
                    "start_date, end_date, id from task_instance order by start_date")
        names = [d[0] for d in cur.description]
        return [dict(zip(names, row, strict=True)) for row in cur.fetchall()]
