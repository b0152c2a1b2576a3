"""Analysts' Excel exports come from the pseudonymised snapshot and cannot reach past it."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import duckdb
import pytest
from openpyxl import load_workbook

from pipelines.build.steps import build
from pipelines.errors import UsageProblem
from pipelines.publish.export import export_to_xlsx
from pipelines.publish.snapshot import publish
from pipelines.settings import DataHome
from tests.build_fixtures import Scenario
from tests.test_rules import assess

pytestmark = pytest.mark.integration


@pytest.fixture
def snapshot_home(home: DataHome, tmp_path: Path) -> tuple[DataHome, str]:
    s = Scenario()
    cadre = s.cadre("赵敏")
    assess(s, cadre, 2025, "不称职")
    s.load(home, tmp_path / "drops")
    build(home, date(2026, 6, 30))
    publish(home)
    return home, cadre


def test_table_export_is_pseudonymised_and_documented(snapshot_home: tuple[DataHome, str],
                                                      tmp_path: Path) -> None:
    home, id_number = snapshot_home
    out = tmp_path / "candidates.xlsx"
    assert export_to_xlsx(home, "marts.candidate", out) == 1
    sheet = load_workbook(out).active
    rows = list(sheet.iter_rows(values_only=True))
    assert "cadre_key" in rows[0] and "id_number" not in rows[0]
    assert id_number not in repr(rows)
    assert "name" not in rows[0] and "赵敏" not in repr(rows)  # no name either (access tiers)
    assert rows[1][rows[0].index("severity")] == "candidate"
    assert sheet.cell(1, rows[0].index("cadre_key") + 1).comment is not None  # column comment


def test_query_export_and_no_way_out_of_the_snapshot(snapshot_home: tuple[DataHome, str],
                                                     tmp_path: Path) -> None:
    home, _ = snapshot_home
    out = tmp_path / "q.xlsx"
    assert export_to_xlsx(home, "select severity, count(*) as n from marts.candidate "
                                "group by 1", out) == 1
    assert list(load_workbook(out).active.iter_rows(values_only=True)) == [
        ("severity", "n"), ("candidate", 1)]
    with pytest.raises(UsageProblem, match="disabled by configuration") as refused:
        export_to_xlsx(home, f"select * from read_csv('{home.warehouse_file}')", out)
    assert isinstance(refused.value.__cause__, duckdb.PermissionException)
