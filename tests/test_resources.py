"""Every DuckDB connection opens with the configured memory limit, threads and spill folder."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest
from openpyxl import load_workbook

from pipelines import warehouse
from pipelines.cli import analysis
from pipelines.publish.export import export_to_xlsx
from pipelines.settings import DataHome

SETTINGS_SQL = ("select current_setting('memory_limit') as memory_limit, "
                "current_setting('temp_directory') as temp_directory, "
                "current_setting('threads') as threads")


def _expected_limit(limit: str) -> str:
    """How DuckDB reports ``limit`` (it prints 512MB as 488.2 MiB)."""
    with duckdb.connect(config={"memory_limit": limit}) as con:
        return con.execute("select current_setting('memory_limit')").fetchone()[0]


@pytest.fixture
def limited(home: DataHome, monkeypatch: pytest.MonkeyPatch) -> DataHome:
    monkeypatch.setenv("CADRE_DUCKDB_MEMORY_LIMIT", "512MB")
    monkeypatch.setenv("CADRE_DUCKDB_THREADS", "1")
    return home


def test_warehouse_and_analysis_connections_use_the_settings(limited: DataHome) -> None:
    expected = (_expected_limit("512MB"), str(limited.duckdb_temp), 1)
    with warehouse.connect(limited.warehouse_file) as con:
        assert con.execute(SETTINGS_SQL).fetchone() == expected
    con = analysis._open(limited)  # the analysts' CLI reads the warehouse read-only
    try:
        assert con.execute(SETTINGS_SQL).fetchone() == expected
    finally:
        con.close()
    assert limited.duckdb_temp.is_dir()


def test_export_connection_uses_the_settings(limited: DataHome, tmp_path: Path) -> None:
    duckdb.connect(str(limited.published_file)).close()  # an (empty) published snapshot
    out = tmp_path / "settings.xlsx"
    assert export_to_xlsx(limited, SETTINGS_SQL, out) == 1
    sheet = load_workbook(out).active
    values = [c.value for c in list(sheet.iter_rows())[-1]]
    assert values[:2] == [_expected_limit("512MB"), str(limited.duckdb_temp)]
    assert str(values[2]) == "1"
