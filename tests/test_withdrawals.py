"""Withdrawals, identity doubts and unmatched rows (issue 16 "Why" 1-2; issue 11 item 3).

rules.md, "Decisions stick, and errors can be undone" and sources.md, "Rows about people the
roster does not know". Everything goes through real drops (``submit_file``), the real build and
the real feedback files.
"""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import duckdb
import pytest
from typer.testing import CliRunner

from pipelines.build.steps import build
from pipelines.cli.main import app
from pipelines.ingest import identity
from pipelines.ingest.steps import submit_file
from pipelines.review import decisions
from pipelines.review.decisions import DecisionRefused
from pipelines.review.identity import confirm_identity
from pipelines.review.report import write_review
from pipelines.settings import DataHome
from tests.build_fixtures import Scenario, new_id
from tests.conftest import write_csv

pytestmark = pytest.mark.integration

AS_OF = date(2025, 12, 31)
SANCTION = {"measure": "政务记过", "decided_on": "2025-09-01", "reason_category": "其他",
            "effect_until": None}


def _withdrawal(path: Path, rows: list[list[object]]) -> Path:
    return write_csv(path, [["数据类别", "记录编号", "问题序号", "身份证号", "撤回原因"], *rows])


def _rules(home: DataHome, id_number: str) -> set[str]:
    with duckdb.connect(str(home.warehouse_file)) as con:
        return {r[0] for r in con.execute(
            "select rule_id from marts.cadre_flag where as_of = ? and id_number = ?",
            [AS_OF, id_number]).fetchall()}


def _virtue(home: DataHome, id_number: str) -> float:
    with duckdb.connect(str(home.warehouse_file)) as con:
        return float(con.execute(
            "select score_virtue from marts.cadre_profile where as_of = ? and id_number = ? "
            "and period_kind = 'as_of'", [AS_OF, id_number]).fetchone()[0])


def test_a_sanction_sent_under_the_wrong_id_is_withdrawn_then_resent(
        home: DataHome, tmp_path: Path) -> None:
    """Why 1: re-sending a 政务记过 under the right 王伟 left it on the wrong 王伟 too."""
    s = Scenario()
    wrong, right = s.cadre("王伟"), s.cadre("王伟", org_name="某县财政局")
    for cid in (wrong, right):
        s.add("annual_assessment", id_number=cid, name="王伟", year=2025, grade="称职")
    s.add("sanction", decision_no="纪〔2025〕9号", id_number=wrong, name="王伟", **SANCTION)
    s.load(home, tmp_path / "drops")
    build(home, AS_OF)
    assert "S1" in _rules(home, wrong)
    lowered = _virtue(home, wrong)

    receipt = submit_file(_withdrawal(tmp_path / "撤回.csv", [
        ["处分与组织处理", "纪〔2025〕9号", "", wrong, "身份证号填错，应为另一名王伟"]]),
        "DIS", "withdrawal", home)
    assert (receipt.status, receipt.records_withdrawn, receipt.withdrawals_refused) == \
        ("accepted", 1, 0)
    assert any(i.reason == "withdrawn" and i.source_row == 2 for i in receipt.issues)
    html = Path(next(f for f in receipt.feedback_files if f.endswith(".html"))).read_text()
    assert "已撤回处分与组织处理记录" in html
    fixed = Scenario()
    fixed.add("sanction", decision_no="纪〔2025〕9号", id_number=right, name="王伟", **SANCTION)
    fixed.load(home, tmp_path / "fixed")
    build(home, AS_OF)

    assert "S1" not in _rules(home, wrong) and "S1" in _rules(home, right)
    assert _virtue(home, wrong) > lowered  # no deduction left on the wrong 王伟 (其他 -> 德)
    with duckdb.connect(str(home.warehouse_file)) as con:
        history = con.execute("select id_number, withdrawn, is_current from "
                              "staging.sanction_history order by submission_seq").fetchall()
        raw = con.execute("select count(*) from raw.sanction").fetchone()[0]
    assert history == [(wrong, True, False), (right, False, True)]  # both stay in history
    assert raw == 2
    review = write_review(home, "2025H2").html.read_text(encoding="utf-8")
    assert "撤回的记录（1 条）" in review and "身份证号填错，应为另一名王伟" in review


def test_a_unit_cannot_withdraw_another_units_record(home: DataHome, tmp_path: Path) -> None:
    s = Scenario()
    cid = s.cadre("王伟")
    s.add("sanction", decision_no="纪〔2025〕9号", id_number=cid, name="王伟", **SANCTION)
    s.load(home, tmp_path / "drops")
    receipt = submit_file(_withdrawal(tmp_path / "撤回.csv", [
        ["处分与组织处理", "纪〔2025〕9号", "", cid, "想撤回"]]), "INS", "withdrawal", home)
    assert (receipt.records_withdrawn, receipt.withdrawals_refused) == (0, 1)
    refused = next(i for i in receipt.issues if i.reason == "withdrawal_refused")
    assert "未找到本单位报送" in refused.message_zh  # says nothing about who sent it
    build(home, AS_OF)
    assert "S1" in _rules(home, cid)
    with duckdb.connect(str(home.warehouse_file)) as con:
        assert con.execute("select count(*) from meta.withdrawal").fetchone()[0] == 0


def _finding(cid: str, name: str, key: str = "XC-1") -> dict[str, object]:
    return {"finding_id": key, "round": "2025年第一轮", "org_name": "某县", "id_number": cid,
            "name": name, "category": "不担当不作为", "description": "推诿扯皮",
            "severity": "严重", "responsibility": "直接责任", "found_on": "2025-06-01",
            "rectify_by": None, "rectification": "已整改", "tolerated": False,
            "tolerance_basis": None}


def test_a_name_contradicting_the_roster_is_identity_doubt_everywhere(
        home: DataHome, tmp_path: Path) -> None:
    """Why 2: a finding under 吴芳's ID naming 黄勇 made 吴芳 an I1 candidate, silently."""
    s = Scenario()
    wu, _huang = s.cadre("吴芳"), s.cadre("黄勇")
    s.add("annual_assessment", id_number=wu, name="吴芳", year=2025, grade="称职")
    s.load(home, tmp_path / "roster")
    path = Scenario().write(tmp_path, "inspection_finding", [_finding(wu, "黄勇")])
    receipt = submit_file(path, "INS", "inspection_finding", home)
    assert (receipt.status, receipt.rows_identity_doubt) == ("accepted", 1)
    doubt = next(i for i in receipt.issues if i.reason == "identity_doubt")
    assert (doubt.source_row, doubt.column, doubt.value) == (2, "name", "黄勇")
    assert "身份存疑" in doubt.message_zh and "登记的姓名不一致" in doubt.message_zh
    html = Path(next(f for f in receipt.feedback_files if f.endswith(".html"))).read_text()
    assert "身份存疑" in html
    # the roster's name is ORG's data: never told to INS, in the receipt or its feedback
    assert "吴芳" not in receipt.to_json_text() and "吴芳" not in html
    build(home, AS_OF)
    assert "I1" not in _rules(home, wu)  # counts toward no flag
    review = write_review(home, "2025H2").html.read_text(encoding="utf-8")
    assert "身份存疑（1 行）" in review and "黄勇" in review
    runner = CliRunner()
    listed = json.loads(runner.invoke(app, ["candidates", "--as-of", str(AS_OF), "--json"]).stdout)
    marked = [c for c in listed if c["id_number"] == wu]
    assert marked and marked[0]["identity_doubts"] == 1
    profile = runner.invoke(app, ["profile", wu, "--as-of", str(AS_OF)])
    assert "身份存疑" in profile.stdout and "XC-1" in profile.stdout

    with duckdb.connect(str(home.warehouse_file)) as con:
        with pytest.raises(DecisionRefused, match="未登记"):
            confirm_identity(con, "inspection_finding", "XC-1", decided_by="某人", reason="核实")
        decisions.add_decider(con, "干部监督科王五", "科长")
        confirm_identity(con, "inspection_finding", "XC-1", decided_by="干部监督科王五",
                         reason="经核实，黄勇为吴芳曾用名", decided_on=AS_OF)
        assert identity.identity_doubt_rows(con).empty
    build(home, AS_OF)
    assert "I1" in _rules(home, wu)  # confirmed: it counts now


def test_an_id_in_no_roster_is_accepted_and_listed_as_unmatched(
        home: DataHome, tmp_path: Path) -> None:
    """Issue 11 item 3: accepted without a word; now 未匹配 in the receipt, feedback, list."""
    s = Scenario()
    known = s.cadre("张三")
    s.load(home, tmp_path / "roster")
    stranger = new_id()
    path = Scenario().write(tmp_path, "inspection_finding",
                            [_finding(known, "张三", "XC-1"), _finding(stranger, "李四", "XC-2")])
    result = CliRunner().invoke(app, ["submit", str(path), "--unit", "INS", "--source",
                                      "inspection_finding", "--json"])
    receipt = json.loads(result.stdout)
    assert (receipt["status"], receipt["rows_unmatched"]) == ("accepted", 1)
    note = next(i for i in receipt["issues"] if i["reason"] == "id_unmatched")
    assert (note["source_row"], note["value"]) == (3, stranger)
    assert "名册尚未报送" in note["fix_zh"] and "录入有误" in note["fix_zh"]
    html = Path(next(f for f in receipt["feedback_files"] if f.endswith(".html"))).read_text()
    assert "未匹配" in html
    listed = CliRunner().invoke(app, ["unmatched", "--json"])
    rows = json.loads(listed.stdout)
    assert [(r["id_number"], r["source"], r["unit"], r["source_row"]) for r in rows] == \
        [(stranger, "inspection_finding", "INS", 3)]
    roster = Scenario()
    roster.cadre("李四", id_number=stranger)
    roster.cadre("张三", id_number=known)
    roster.load(home, tmp_path / "late")  # the roster arrives: it matches by itself
    assert json.loads(CliRunner().invoke(app, ["unmatched", "--json"]).stdout) == []
