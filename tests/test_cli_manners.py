"""CLI manners, as a user meets them in a real process: one plain line and exit 2 for a wrong
name or a missing table (a traceback only with --debug), nothing stray on stderr, no data folder
created by guess, ``cadre status --json --unit``."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

from tests.conftest import ROSTER_HEADER, roster_row, write_csv

pytestmark = pytest.mark.slow

CADRE = str(Path(sys.executable).parent / "cadre")


def _run(args: list[str], home: Path | None, cwd: Path | None = None
         ) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "CADRE_HOME"}
    if home is not None:
        env["CADRE_HOME"] = str(home)
    return subprocess.run([CADRE, *args], env=env, cwd=cwd, capture_output=True, text=True,
                          timeout=300)


def _one_plain_line(result: subprocess.CompletedProcess[str]) -> str:
    assert result.returncode == 2, (result.stdout, result.stderr)
    assert "Traceback" not in result.stderr + result.stdout
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    return lines[0]


def test_wrong_source_name_is_one_line_with_the_choices(tmp_path: Path) -> None:
    line = _one_plain_line(_run(["template", "audit"], tmp_path / "home", cwd=tmp_path))
    assert "unknown source 'audit'" in line and "audit_finding" in line and "roster" in line
    debug = _run(["--debug", "template", "audit"], tmp_path / "home", cwd=tmp_path)
    assert debug.returncode != 0 and "Traceback" in debug.stderr


def test_export_of_a_missing_table_names_the_tables(tmp_path: Path) -> None:
    home = tmp_path / "home"
    line = _one_plain_line(_run(["export", "marts.nothing", "--out", str(tmp_path / "x.xlsx")],
                                home))
    assert "no published snapshot" in line
    (home / "published").mkdir(parents=True, exist_ok=True)
    with duckdb.connect(str(home / "published" / "cadre_snapshot.duckdb")) as con:
        con.execute("create schema marts; create table marts.candidate (cadre_key varchar)")
    line = _one_plain_line(_run(["export", "marts.candidat", "--out", str(tmp_path / "x.xlsx")],
                                home))
    assert "unknown table 'marts.candidat'" in line and "marts.candidate" in line
    line = _one_plain_line(_run(["export", "select nope from marts.candidate", "--out",
                                 str(tmp_path / "x.xlsx")], home))
    assert "the query failed" in line and "nope" in line


def test_outside_the_repository_cadre_does_not_guess_a_data_folder(tmp_path: Path) -> None:
    line = _one_plain_line(_run(["status"], None, cwd=tmp_path))
    assert "CADRE_HOME" in line
    assert not (tmp_path / "var").exists()


def test_submit_writes_nothing_to_stderr_and_status_filters_by_unit(tmp_path: Path) -> None:
    home = tmp_path / "home"
    path = write_csv(tmp_path / "r.csv", [ROSTER_HEADER, roster_row(1), roster_row(2)])
    submitted = _run(["submit", str(path), "--unit", "ORG", "--source", "roster"], home)
    assert submitted.returncode == 0 and submitted.stderr == "", submitted.stderr
    listed = _run(["status", "--json", "--unit", "ORG"], home)
    assert listed.returncode == 0 and listed.stderr == ""
    rows = json.loads(listed.stdout)
    assert [(r["unit"], r["source"], r["status"], r["rows_accepted"]) for r in rows] \
        == [("ORG", "roster", "accepted", 2)]
    assert json.loads(_run(["status", "--json", "--unit", "AUD"], home).stdout) == []
    line = _one_plain_line(_run(["status", "--unit", "XYZ"], home))
    assert "unknown unit 'XYZ'" in line and "ORG" in line
