"""``make airflow`` then ``make airflow-stop``: a real local Airflow on 127.0.0.1, healthy, with
the admin password on file and printed last, and nothing left running after the stop."""

from __future__ import annotations

import json
import os
import socket
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from pipelines.orchestration.local_server import family, health, parallelism, server_env
from pipelines.settings import DataHome

pytestmark = pytest.mark.slow

CADRE = str(Path(sys.executable).parent / "cadre")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _listeners(pids: set[int]) -> list[str]:
    """Local addresses our processes listen on (TCP, from /proc)."""
    inodes: set[str] = set()
    for pid in pids:
        try:
            for fd in Path(f"/proc/{pid}/fd").iterdir():
                target = os.readlink(fd)
                if target.startswith("socket:["):
                    inodes.add(target[8:-1])
        except OSError:
            continue
    found = []
    for table in ("tcp", "tcp6"):
        for line in Path(f"/proc/net/{table}").read_text().splitlines()[1:]:
            fields = line.split()
            if fields[3] == "0A" and fields[9] in inodes:  # 0A = LISTEN
                found.append(fields[1])
    return found


def test_local_sizing_and_settings(tmp_path: Path) -> None:
    assert parallelism(1) == 2 and parallelism(2) == 2 and parallelism(64) == 4
    env = server_env(DataHome(tmp_path), 18080)
    assert env["AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION"] == "False"
    assert env["AIRFLOW__API__HOST"] == "127.0.0.1"
    assert env["AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE"].startswith(str(tmp_path))


def test_airflow_start_then_stop_leaves_nothing_running(tmp_path: Path) -> None:
    home, port = tmp_path / "home", _free_port()
    env = {**os.environ, "CADRE_HOME": str(home)}
    state = home / "airflow" / "local_server.json"
    try:
        started = subprocess.run([CADRE, "airflow-start", "--port", str(port)], env=env,
                                 capture_output=True, text=True, timeout=600)
        assert started.returncode == 0, started.stdout + started.stderr
        password_file = home / "airflow" / "admin_password.json"
        password = json.loads(password_file.read_text())["admin"]
        assert stat.S_IMODE(password_file.stat().st_mode) == 0o600
        assert started.stdout.strip().splitlines()[-1].startswith(f"login: admin / {password}")
        doc = health(port)
        assert doc and doc["scheduler"]["status"] == "healthy"
        roots = list(json.loads(state.read_text())["pids"].values())
        ours = family(roots)
        listening = _listeners(ours)
        assert listening, "the API server should listen"
        # 127.0.0.1 in /proc/net/tcp is 0100007F; nothing on 0.0.0.0 or [::]
        assert all(addr.split(":")[0] == "0100007F" for addr in listening), listening
    finally:
        stopped = subprocess.run([CADRE, "airflow-stop"], env=env, capture_output=True,
                                 text=True, timeout=300)
    assert stopped.returncode == 0, stopped.stdout + stopped.stderr
    assert not state.exists()
    assert not any(Path(f"/proc/{pid}").exists() and
                   "Z" not in Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1][:3]
                   for pid in ours), "a process of the local Airflow survived the stop"
    assert health(port) is None
