"""Validation results kept (GX file context, meta.validation_result), the data-quality report,
and a receipt for every received file name, duplicates included."""

from __future__ import annotations

import json
from datetime import date

import duckdb
import pytest
from typer.testing import CliRunner

from pipelines import warehouse
from pipelines.cli.main import app
from pipelines.ingest.quality import load_quality
from pipelines.ingest.steps import ingest_inbox
from pipelines.settings import DataHome
from tests.conftest import ROSTER_HEADER, roster_row, write_csv

pytestmark = pytest.mark.integration


def _drop_files(home: DataHome) -> None:
    inbox = home.inbox_for("ORG", "roster")
    inbox.mkdir(parents=True)
    rows = [ROSTER_HEADER, roster_row(1), roster_row(2, 性别="?"), roster_row(3)]
    write_csv(inbox / "名册.csv", rows)
    write_csv(inbox / "名册副本.csv", rows)  # the same bytes under a second name
    wrong = home.inbox_for("AUD", "roster")
    wrong.mkdir(parents=True)
    write_csv(wrong / "x.csv", [ROSTER_HEADER, roster_row(5)])  # AUD may not send the roster


def test_every_name_gets_a_receipt_and_validation_results_are_kept(home: DataHome) -> None:
    _drop_files(home)
    receipts = ingest_inbox(home, ["roster"])
    with warehouse.connect(home.warehouse_file, read_only=True) as con:
        outcomes = con.execute("select unit, filename, status, duplicate_of is not null "
                               "from meta.submission order by unit, filename").fetchall()
        org_ids = [r[0] for r in con.execute(
            "select submission_id from meta.submission where unit = 'ORG'").fetchall()]
        stats = con.execute("select source, expectation, column_name, element_count, "
                            "unexpected_count, success from meta.validation_result "
                            "where not success").fetchall()
        runs = con.execute("select count(distinct submission_id) from meta.validation_result"
                           ).fetchone()[0]
    assert outcomes == [("AUD", "x.csv", "refused", False),
                        ("ORG", "名册.csv", "partially_accepted", False),
                        ("ORG", "名册副本.csv", "duplicate", True)]
    # one receipt per file taken, in arrival order: the refused and the duplicate too
    assert [(r.unit, r.filename, r.status) for r in receipts] == [
        ("AUD", "x.csv", "refused"), ("ORG", "名册.csv", "partially_accepted"),
        ("ORG", "名册副本.csv", "duplicate")]
    feedback = sorted(p.name for p in home.outbox_for("ORG").iterdir())
    for submission_id in org_ids:  # the duplicate's receipt too
        assert f"{submission_id}_roster_反馈.html" in feedback, feedback
    # one GX run (the refused and the duplicate file are not validated), counts kept
    assert runs == 1
    assert stats == [("roster", "expect_column_values_to_be_in_set", "gender", 3, 1, False)]
    # the GX file context under the data folder holds the Checkpoint and its result
    assert (home.gx_project / "checkpoints" / "roster.json").exists()
    assert (home.gx_project / "validation_definitions" / "roster_drop.json").exists()
    assert any((home.gx_project / "uncommitted" / "validations").rglob("*.json"))


def test_quality_report_rates_and_reasons_per_unit_and_month(home: DataHome) -> None:
    _drop_files(home)
    ingest_inbox(home, ["roster"])
    with warehouse.connect(home.warehouse_file, read_only=True) as con:
        quality = load_quality(con)
        only_aud = load_quality(con, "AUD")
    month = date.today().strftime("%Y-%m")
    by_unit = {m["unit"]: m for m in quality.months}
    assert by_unit["ORG"] | {"unit_name": None} == {
        "month": month, "unit": "ORG", "unit_name": None, "files": 2, "refused": 0,
        "duplicates": 1, "rows_read": 3, "rows_quarantined": 1, "refusal_rate": 0.0,
        "quarantine_rate": 1 / 3}
    assert by_unit["AUD"]["refusal_rate"] == 1.0
    assert [(r["unit"], r["reason"], r["files"]) for r in quality.refusals] == [
        ("AUD", "unit_not_allowed", 1)]
    assert [(r["unit"], r["reason"], r["rows"]) for r in quality.quarantines] == [
        ("ORG", "unknown_code", 1)]
    assert [m["unit"] for m in only_aud.months] == ["AUD"]

    result = CliRunner().invoke(app, ["report", "quality", "--unit", "ORG", "--json"])
    assert result.exit_code == 0, result.output
    printed = json.loads(result.output)
    assert [m["unit"] for m in printed["months"]] == ["ORG"]
    assert printed["expectations"][0]["expectation"] == "expect_column_values_to_be_in_set"
    table = CliRunner().invoke(app, ["report", "quality"])
    assert table.exit_code == 0 and "拒收与隔离原因" in table.output


def test_ledger_has_the_data_quality_section(home: DataHome) -> None:
    from pipelines.review.ledger import write_ledger

    _drop_files(home)
    ingest_inbox(home, ["roster"])
    html, xlsx, data = write_ledger(home, "all")
    assert data.quality is not None and len(data.quality.months) == 2
    page = html.read_text(encoding="utf-8")
    assert "各单位报送数据质量" in page and "不在代码表中" in page
    from openpyxl import load_workbook

    assert "数据质量" in load_workbook(xlsx).sheetnames
    with duckdb.connect(str(home.warehouse_file), read_only=True) as con:
        assert con.execute("select count(*) from meta.validation_result").fetchone()[0] > 0


def test_gx_result_files_older_than_the_setting_are_pruned(home: DataHome,
                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    """GX's result files list failing values, ID numbers included, and nothing removed them:
    a process deletes those older than CADRE_GX_RESULT_DAYS when it first opens the context."""
    import os
    import time

    from pipelines.ingest import gx_checkpoints, validate

    folder = home.gx_project / "uncommitted" / "validations" / "roster_drop" / "run"
    folder.mkdir(parents=True)
    old, recent = folder / "old.json", folder / "recent.json"
    for path, days in ((old, 31), (recent, 29)):
        path.write_text("{}", encoding="utf-8")
        stamp = time.time() - days * 86400
        os.utime(path, (stamp, stamp))
    assert gx_checkpoints.prune_results(home, 0) == 0  # 0 keeps them all
    monkeypatch.setenv("CADRE_GX_RESULT_DAYS", "30")
    validate.warm_up(home)  # a new process's first use of this data folder's context
    assert not old.exists() and recent.exists()
