"""The ``cadre`` commands as a user runs them: exit codes, receipts, JSON fields, files written."""

from __future__ import annotations

import json
from pathlib import Path

from openpyxl import load_workbook
from typer.testing import CliRunner

from pipelines.cli.main import app
from pipelines.settings import DataHome
from tests.conftest import ROSTER_HEADER, roster_row, write_csv

runner = CliRunner()


def test_submit_prints_receipt_and_exits_0_when_accepted(home: DataHome, tmp_path: Path) -> None:
    path = write_csv(tmp_path / "r.csv", [ROSTER_HEADER, roster_row(1), roster_row(2, 性别="?")])
    result = runner.invoke(app, ["submit", str(path), "--unit", "ORG", "--source", "roster"])
    assert result.exit_code == 0, result.output
    assert "partially_accepted" in result.output
    assert "rows read 2 = accepted 1 + quarantined 1" in result.output
    assert "“性别”不在代码表中" in result.output
    assert "第3行“性别”列" in result.output  # the row and column, not just a summary
    assert "r.csv" in result.output


def test_submit_json_receipt_fields(home: DataHome, tmp_path: Path) -> None:
    path = write_csv(tmp_path / "r.csv", [ROSTER_HEADER, roster_row(1)])
    result = runner.invoke(app, ["submit", str(path), "--unit", "ORG", "--source", "roster",
                                 "--json"])
    receipt = json.loads(result.output)
    assert result.exit_code == 0
    assert {k: receipt[k] for k in ("status", "rows_read", "rows_accepted", "rows_quarantined")} \
        == {"status": "accepted", "rows_read": 1, "rows_accepted": 1, "rows_quarantined": 0}
    assert receipt["submission_id"] and len(receipt["sha256"]) == 64
    assert all(Path(p).exists() for p in receipt["feedback_files"])
    again = json.loads(runner.invoke(app, ["submit", str(path), "--unit", "ORG", "--source",
                                           "roster", "--json"]).output)
    assert (again["status"], again["duplicate_of"]) == ("duplicate", receipt["submission_id"])


def test_refused_submission_exits_1_with_one_line_reason(home: DataHome, tmp_path: Path) -> None:
    path = write_csv(tmp_path / "r.csv", [ROSTER_HEADER, roster_row(1)])
    result = runner.invoke(app, ["submit", str(path), "--unit", "PET", "--source", "roster"])
    assert result.exit_code == 1
    last = result.output.strip().splitlines()[-1]
    assert last.startswith("refused: ") and "无权报送" in last


def test_ingest_and_status(home: DataHome, tmp_path: Path) -> None:
    inbox = home.inbox_for("ORG", "roster")
    inbox.mkdir(parents=True)
    write_csv(inbox / "r.csv", [ROSTER_HEADER, roster_row(1)])
    result = runner.invoke(app, ["ingest"])
    assert result.exit_code == 0, result.output
    assert "accepted" in result.output
    status = runner.invoke(app, ["status"])
    assert "r.csv" in status.output and "accepted" in status.output


def test_template_and_suites_check(home: DataHome, tmp_path: Path) -> None:
    out = tmp_path / "t.xlsx"
    assert runner.invoke(app, ["template", "sanction", "--out", str(out)]).exit_code == 0
    assert load_workbook(out).sheetnames[0] == "处分与组织处理"
    result = runner.invoke(app, ["suites", "--check"])
    assert (result.exit_code, result.output.strip()) == (0, "suites up to date")


def test_generate_writes_manifest(home: DataHome, tmp_path: Path) -> None:
    out = tmp_path / "drops"
    result = runner.invoke(app, ["generate", "--cadres", "20", "--years", "1", "--seed", "3",
                                 "--out", str(out), "--faults"])
    assert result.exit_code == 0, result.output
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    assert len(manifest["files"]) > 7 and (out / "ORG" / "roster").is_dir()


def test_refused_json_keeps_stdout_pure_json(home: DataHome, tmp_path: Path) -> None:
    path = write_csv(tmp_path / "r.csv", [ROSTER_HEADER, roster_row(1)])
    result = runner.invoke(app, ["submit", str(path), "--unit", "PET", "--source", "roster",
                                 "--json"])
    assert result.exit_code == 1
    receipt = json.loads(result.stdout)
    assert receipt["status"] == "refused" and "无权报送" in receipt["refusal_reason"]
    assert result.stderr.strip().startswith("refused: ")
