"""Chaos: `cadre submit` killed with SIGKILL at random points, 20 submits at once, a full disk.

Afterwards every submission is final or resumable and resumed, no row is in raw twice, none is
missing, and the receipts match a run without faults. The killed processes are real
``cadre submit`` runs (the CLI's typer app in a forked child, so the test does not pay Python's
start-up per kill); the crash points are drawn at random from every step (receive, parse,
validate, load, feedback) plus kills on a timer. ``make chaos`` runs 200 points
(``CHAOS_POINTS``), ``make test`` 20.
"""

from __future__ import annotations

import hashlib
import multiprocessing
import os
import random
import resource
import signal
import time
from pathlib import Path

import duckdb
import pytest

from pipelines.ingest.crash import POINTS
from pipelines.ingest.steps import receipt_for, submit_file
from pipelines.settings import DataHome
from tests.conftest import ROSTER_HEADER, roster_row, write_csv

pytestmark = pytest.mark.slow
FIXTURES = Path(__file__).parent / "fixtures"
CHAOS_POINTS = int(os.environ.get("CHAOS_POINTS", "20"))
FORK = multiprocessing.get_context("fork")


def _files(folder: Path) -> list[tuple[Path, str, str]]:
    rows = [ROSTER_HEADER] + [roster_row(n) for n in range(1, 31)]
    rows[7] = roster_row(7, 性别="未知")  # one quarantined row: every table is written
    refused = [ROSTER_HEADER[:3]] + [roster_row(1)[:3]]
    return [(write_csv(folder / "roster.csv", rows), "ORG", "roster"),
            (FIXTURES / "assessment_layout.xlsx", "ORG", "annual_assessment"),
            (write_csv(folder / "bad.csv", refused), "ORG", "roster")]


def _child(home: str, fault: str, path: str, unit: str, source: str,
           fsize: int | None = None) -> None:
    os.environ["CADRE_HOME"] = home
    os.environ["CADRE_FAULT_INJECT"] = fault
    if fsize is not None:
        resource.setrlimit(resource.RLIMIT_FSIZE, (fsize, fsize))
    from pipelines.cli.main import app

    try:
        code = app(["submit", path, "--unit", unit, "--source", source, "--json"],
                   standalone_mode=False)  # returns the exit code typer.Exit carries
        os._exit(code if isinstance(code, int) else 0)
    except SystemExit as done:
        os._exit(int(done.code or 0))
    except BaseException:  # noqa: BLE001 - report as the CLI would: an exit code
        os._exit(3)
    os._exit(0)


def _run(home: DataHome, fault: str, file: tuple[Path, str, str], kill_after: float | None = None,
         fsize: int | None = None) -> int:
    path, unit, source = file
    process = FORK.Process(target=_child, args=(str(home.root), fault, str(path), unit, source,
                                                fsize))
    process.start()
    if kill_after is not None:
        process.join(kill_after)
        if process.is_alive():
            os.kill(process.pid, signal.SIGKILL)
    process.join(300)
    assert process.exitcode is not None, "a submit hung"
    return process.exitcode


def _receipt_view(receipt) -> dict:  # noqa: ANN001 - what must not depend on faults
    data = receipt.to_json_dict()
    for volatile in ("submission_id", "received_at", "finished_at", "feedback_files"):
        data.pop(volatile)
    return data


def _final_or_resumed(home: DataHome, file: tuple[Path, str, str]):  # noqa: ANN202
    """The file's receipt: its submission's when a run finished it, else a resumed submit."""
    sha = hashlib.sha256(file[0].read_bytes()).hexdigest()
    with duckdb.connect(str(home.warehouse_file), read_only=True) as con:
        done = con.execute("select submission_id from meta.submission where sha256 = ? and "
                           "status in ('accepted', 'partially_accepted', 'refused') and not "
                           "feedback_pending", [sha]).fetchone()
    if done:
        return receipt_for(home, done[0])
    return submit_file(*file[:1], file[1], file[2], home)


def _state(home: DataHome) -> dict[str, object]:
    with duckdb.connect(str(home.warehouse_file), read_only=True) as con:
        return {
            "open": con.execute("select count(*) from meta.submission where status in "
                                "('received', 'parsed', 'validated', 'failed') "
                                "or feedback_pending").fetchone()[0],
            "twice": con.execute(
                "select submission_id, source_row from (select submission_id, source_row "
                "from raw.roster union all select submission_id, source_row "
                "from raw.annual_assessment) group by 1, 2 having count(*) > 1").fetchall(),
            "raw": con.execute("select (select count(*) from raw.roster) + "
                               "(select count(*) from raw.annual_assessment)").fetchone()[0],
        }


def test_submits_killed_at_random_points_resume_to_the_fault_free_receipts(
        tmp_path: Path) -> None:
    files = _files(tmp_path)
    clean = DataHome.from_env(tmp_path / "clean").ensure()
    expected = [_receipt_view(submit_file(*f[:1], f[1], f[2], clean)) for f in files]
    expected_raw = _state(clean)["raw"]

    rng = random.Random(int(os.environ.get("CHAOS_SEED", "10")))
    killed = 0
    for point in range(CHAOS_POINTS):
        home = DataHome.from_env(tmp_path / f"chaos{point}").ensure()
        faults = [rng.choice(POINTS) if point % 3 == 0 else f"@{rng.randint(1, 12)}"
                  for _ in files]
        for file, fault in zip(files, faults, strict=True):
            timer = rng.uniform(0.2, 3.0) if point % 5 == 4 else None
            code = _run(home, "" if timer else fault, file, kill_after=timer)
            killed += code == -signal.SIGKILL
        # resume what is not final: the same submits again, now without faults
        receipts = [_receipt_view(_final_or_resumed(home, f)) for f in files]
        assert receipts == expected, f"point {point}: faults {faults}"
        state = _state(home)
        assert state == {"open": 0, "twice": [], "raw": expected_raw}, f"point {point}"
    assert killed >= CHAOS_POINTS  # the kills really happened


def test_twenty_submits_at_once_against_one_data_folder(home: DataHome, tmp_path: Path) -> None:
    files = []
    for n in range(20):  # 17 distinct files and 3 copies of the first one
        rows = [ROSTER_HEADER] + [roster_row(100 * (n if n < 17 else 0) + i) for i in range(1, 6)]
        files.append((write_csv(tmp_path / f"r{n}.csv", rows), "ORG", "roster"))
    processes = [FORK.Process(target=_child, args=(str(home.root), "", str(p), u, s))
                 for p, u, s in files]
    for process in processes:
        process.start()
    for process in processes:
        process.join(600)
    codes = [p.exitcode for p in processes]
    print("exit codes of the 20 submits:", codes)
    assert set(codes) <= {0, 2}, codes  # done, or an environment fault (writer lock wait over)
    for code, (path, unit, source) in zip(codes, files, strict=True):
        if code == 2:  # what the CLI tells the sender: run the same command again
            submit_file(path, unit, source, home)
    with duckdb.connect(str(home.warehouse_file), read_only=True) as con:
        statuses = sorted(r[0] for r in con.execute("select status from meta.submission"
                                                      ).fetchall())
        raw = con.execute("select count(*), count(distinct (submission_id, source_row)) "
                          "from raw.roster").fetchone()
    assert statuses == ["accepted"] * 17 + ["duplicate"] * 3
    assert raw == (17 * 5, 17 * 5)
    assert _state(home)["open"] == 0


def test_a_full_disk_is_a_clear_error_and_the_submission_resumes(home: DataHome,
                                                                 tmp_path: Path) -> None:
    """RLIMIT_FSIZE on the process: the original fits (it is archived), the work it makes
    does not: the step fails with EFBIG, exactly as on a full disk."""
    files = _files(tmp_path)
    submit_file(files[0][0], "ORG", "roster", home)  # a first submission: the warehouse exists
    before = _state(home)
    bigger = [ROSTER_HEADER] + [roster_row(n) for n in range(1001, 4001)]
    file = (write_csv(tmp_path / "big.csv", bigger), "ORG", "roster")
    started = time.monotonic()
    code = _run(home, "", file, fsize=file[0].stat().st_size + 1024)
    assert code == 2, "an environment fault exits 2 with a message"
    assert time.monotonic() - started < 300
    assert _state(home)["raw"] == before["raw"]  # warehouse unchanged
    with duckdb.connect(str(home.warehouse_file), read_only=True) as con:
        status, attempts, error = con.execute(
            "select status, attempts, error from meta.submission where filename = 'big.csv'"
        ).fetchone()
    assert (status, attempts) == ("received", 1) and "File too large" in error
    receipt = submit_file(file[0], "ORG", "roster", home)  # disk freed: the same submit resumes
    assert (receipt.status, receipt.rows_accepted) == ("accepted", 3000)
    assert _state(home) == {"open": 0, "twice": [], "raw": before["raw"] + 3000}
