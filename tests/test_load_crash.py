"""A process killed in the middle of a load leaves no partial rows; a re-run completes."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

from pipelines.settings import DataHome
from tests.conftest import ROSTER_HEADER, roster_row, write_csv

pytestmark = pytest.mark.slow


def _cadre(home: DataHome, *args: str, fault: str = "") -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "CADRE_HOME": str(home.root), "CADRE_FAULT_INJECT": fault}
    return subprocess.run([sys.executable, "-m", "pipelines.cli.main", *args], env=env,
                          capture_output=True, text=True, timeout=300)


def _state(home: DataHome) -> tuple[int, int, int, list[str]]:
    with duckdb.connect(str(home.warehouse_file), read_only=True) as con:
        raw = con.execute("select count(*) from raw.roster").fetchone()[0]
        issues = con.execute("select count(*) from meta.submission_issue").fetchone()[0]
        quarantined = con.execute("select count(*) from meta.quarantined_row").fetchone()[0]
        statuses = [r[0] for r in con.execute(
            "select status from meta.submission order by seq").fetchall()]
    return raw, issues, quarantined, statuses


def test_killed_load_leaves_warehouse_unchanged_and_rerun_completes(
        home: DataHome, tmp_path: Path) -> None:
    rows = [ROSTER_HEADER] + [roster_row(n) for n in range(1, 51)]
    rows[10] = roster_row(10, 性别="未知")  # one quarantined row, so every table is written
    path = write_csv(tmp_path / "roster.csv", rows)

    killed = _cadre(home, "submit", str(path), "--unit", "ORG", "--source", "roster",
                    fault="load:mid_transaction")
    assert killed.returncode == -signal.SIGKILL, killed.stderr
    # raw rows were inserted inside the transaction before the kill: none survived
    assert _state(home) == (0, 0, 0, ["validated"])

    rerun = _cadre(home, "submit", str(path), "--unit", "ORG", "--source", "roster", "--json")
    assert rerun.returncode == 0, rerun.stderr
    assert '"status": "partially_accepted"' in rerun.stdout
    # the same submission was resumed, not duplicated; every row exactly once
    assert _state(home) == (49, 1, 1, ["partially_accepted"])


def test_a_submit_waits_while_another_process_holds_the_warehouse(
        home: DataHome, tmp_path: Path) -> None:
    """DuckDB locks the file per process; our short writers queue instead of failing."""
    path = write_csv(tmp_path / "roster.csv", [ROSTER_HEADER, roster_row(1)])
    hold = subprocess.Popen(
        [sys.executable, "-c", "import duckdb, sys, time\n"
         f"con = duckdb.connect({str(home.warehouse_file)!r})\n"
         "print('locked', flush=True)\ntime.sleep(3)\ncon.close()"],
        stdout=subprocess.PIPE, text=True)
    assert hold.stdout is not None and hold.stdout.readline().strip() == "locked"
    result = _cadre(home, "submit", str(path), "--unit", "ORG", "--source", "roster")
    hold.wait(timeout=30)
    assert result.returncode == 0, result.stderr
    assert _state(home)[0] == 1
