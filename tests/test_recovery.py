"""The archive is the truth: a rebuild from it equals the live warehouse; a backup is whole."""

from __future__ import annotations

import shutil
from datetime import date
from pathlib import Path

import pytest

from pipelines import warehouse
from pipelines.build.steps import build
from pipelines.ingest.steps import submit_file
from pipelines.orchestration.recovery import backup, checksum, compare, rebuild
from pipelines.settings import DataHome
from tests.conftest import ROSTER_HEADER, roster_row, write_csv

pytestmark = pytest.mark.slow
FIXTURES = Path(__file__).parent / "fixtures"


def _live(home: DataHome, tmp_path: Path) -> None:
    first = [ROSTER_HEADER] + [roster_row(n) for n in range(1, 21)]
    first[5] = roster_row(5, 性别="未知")  # quarantined
    second = [ROSTER_HEADER] + [roster_row(n) for n in range(3, 25)]  # a newer snapshot
    submit_file(write_csv(tmp_path / "a.csv", first), "ORG", "roster", home)
    submit_file(write_csv(tmp_path / "a_copy.csv", first), "ORG", "roster", home)  # duplicate
    submit_file(write_csv(tmp_path / "bad.csv", [ROSTER_HEADER[:2]]), "ORG", "roster", home)
    submit_file(FIXTURES / "roster.xls", "ORG", "roster", home)
    submit_file(write_csv(tmp_path / "b.csv", second), "ORG", "roster", home)
    build(home, date(2026, 6, 30))


def test_rebuild_from_the_archive_equals_the_live_warehouse(home: DataHome,
                                                             tmp_path: Path) -> None:
    _live(home, tmp_path)
    checks = rebuild(home, tmp_path / "rebuilt")
    tables = {c.table: c for c in checks}
    assert {"raw.roster", "staging.roster", "staging.roster_history", "marts.cadre_profile",
            "marts.cadre_flag"} <= set(tables)
    assert tables["raw.roster"].live_rows == 19 + 4 + 22
    assert [c.table for c in checks if not c.equal] == []


def test_a_changed_live_row_is_reported_as_a_difference(home: DataHome, tmp_path: Path) -> None:
    _live(home, tmp_path)
    rebuild(home, tmp_path / "rebuilt")
    with warehouse.writer(home.warehouse_file) as con:
        con.execute("update raw.roster set name = '改动' where source_row = 3")
    other = DataHome.from_env(tmp_path / "rebuilt")
    differing = [c.table for c in compare(home, other) if not c.equal]
    assert "raw.roster" in differing and "staging.roster" in differing


def test_backup_is_a_consistent_copy(home: DataHome, tmp_path: Path) -> None:
    _live(home, tmp_path)
    copy = backup(home, tmp_path / "backup")
    assert all(c.equal for c in compare(home, copy))
    assert sorted(p.name for p in copy.archive.rglob("*") if p.is_file()) == \
        sorted(p.name for p in home.archive.rglob("*") if p.is_file())
    with warehouse.writer(copy.warehouse_file) as con:
        assert checksum(con, "raw.roster")[0] == 45
    with pytest.raises(FileExistsError):
        backup(home, tmp_path / "backup")
    shutil.rmtree(tmp_path / "backup")
