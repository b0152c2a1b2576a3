"""The pipeline's receipts reconcile exactly with the generator's manifest.

The generator plants every kind of bad input and writes down, independently of the pipeline,
what must become of each file and row. Here every generated file goes through the real ingest
and each receipt must match: status, counts, and each quarantined row's column and reason.
"""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from pipelines.dev.generate import generate_drops
from pipelines.ingest.steps import submit_file
from pipelines.settings import DataHome

pytestmark = pytest.mark.slow


@pytest.mark.parametrize("file_format", [None, "csv"])
def test_every_generated_file_gets_exactly_its_planted_outcome(
        home: DataHome, tmp_path: Path, file_format: str | None) -> None:
    drops = tmp_path / "drops"
    manifest = generate_drops(drops, cadres=60, years=2, seed=11, faults=True,
                              file_format=file_format)
    assert {f.format for f in manifest.files} == ({"csv"} if file_format else
                                                  {"csv", "xlsx", "json"})
    # rosters first, as the units' contract asks: a row whose ID is in no roster received so
    # far is accepted but noted 未匹配, which the manifest (rosters assumed present) does not plan
    for entry in sorted(manifest.files, key=lambda e: e.source != "roster"):
        receipt = submit_file(drops / entry.path, entry.unit, entry.source, home)
        where = f"{entry.path} ({entry.description})"
        assert receipt.status == entry.expected_status, (where, receipt.reasons)
        if entry.expected_status == "refused":
            file_issues = [i.reason for i in receipt.issues if i.scope == "file"]
            assert file_issues == [entry.expected_refusal_reason], where
            continue
        assert receipt.rows_read == entry.rows_written, where
        assert receipt.rows_accepted == entry.expected_accepted_rows, where
        assert receipt.rows_read == receipt.rows_accepted + receipt.rows_quarantined, where
        got = sorted((i.source_row, i.column, i.reason) for i in receipt.issues if i.scope == "row")
        want = sorted((e.source_row, e.column, e.reason) for e in entry.expected_quarantined)
        assert got == want, where
        notes = sorted((i.reason, i.value) for i in receipt.issues if i.scope == "note")
        assert notes == sorted((e.reason, e.column) for e in entry.expected_notes), where
    with duckdb.connect(str(home.warehouse_file), read_only=True) as con:
        loaded = con.execute("select sum(rows_accepted) from meta.submission").fetchone()[0]
    assert loaded == sum(f.expected_accepted_rows for f in manifest.files)
    assert manifest.fault_reasons() >= {
        "unit_not_allowed", "unreadable_file", "no_rows", "missing_required_column",
        "id_bad_checksum", "id_excel_mangled", "id_bad_format", "birth_date_mismatch",
        "unknown_code", "out_of_range", "bad_decimal", "bad_date", "duplicate_key",
        "required_missing", "required_if_missing"}
