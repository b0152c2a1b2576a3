"""Follow-up (复检) of adjusted cadres: schedule, results from later evidence, re-appointment
eligibility at the boundaries of influence periods, targets, the scan report and ``cadre followup``.

One world, built once as of 2026-03-31, three adjusted cadres of 市丙局:
丙一 免职 on 2025-01-20 (no leading post for 12 months, the decision day as day 1: up to and
     including 2026-01-19), no
     sanction;
丙二 调离岗位 on 2025-01-15, plus 诫勉 2025-09-01 with 影响期截止 2026-02-28 (inclusive);
丙三 降职 on 2025-01-15, then a new I1 finding on 2025-10-01 (the bar is missed again).
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import duckdb
import pytest
import typer
from openpyxl import load_workbook
from typer.testing import CliRunner

from pipelines.build.steps import build
from pipelines.cli.review import register
from pipelines.review import sql as review_sql
from pipelines.review.decisions import Decision, DecisionRefused, record_decision
from pipelines.review.followup import set_target
from pipelines.review.followup_report import scan
from pipelines.settings import DataHome
from tests.build_fixtures import Scenario
from tests.review_scenario import SCORES_90, assess, flag_id

pytestmark = pytest.mark.integration

AS_OF = date(2026, 3, 31)
UNIT = "市丙局"
ADJUSTMENTS = {"丙一": ("2025-01-20", "免职"), "丙二": ("2025-01-15", "调离岗位"),
               "丙三": ("2025-01-15", "降职")}


def _world(home: DataHome, folder: Path) -> dict[str, str]:
    s = Scenario()
    ids = {name: s.cadre(name, org_name=UNIT, post_title="局长") for name in ADJUSTMENTS}
    for name, cid in ids.items():
        for year in (2024, 2025):
            assess(s, cid, name, year, "称职", **{k: 95 for k in SCORES_90})
        s.add("personal_report_check", batch_id=f"2024-{name}", id_number=cid, name=name,
              report_year=2023, check_mode="重点查核", result="瞒报", items=["投资"], item_count=1,
              checked_on="2024-11-01")
    s.add("sanction", decision_no="纪〔2025〕9号", id_number=ids["丙二"], name="丙二",
          measure="诫勉", decided_on="2025-09-01", reason_category="其他", effect_until="2026-02-28")
    s.add("inspection_finding", finding_id="XC-2025-9", round="2025年第二轮", org_name=UNIT,
          id_number=ids["丙三"], name="丙三", category="不担当不作为", description="推诿扯皮",
          severity="较重", responsibility="直接责任", found_on="2025-10-01", rectify_by=None,
          rectification="已整改", tolerated=False, tolerance_basis=None)
    s.load(home, folder)
    build(home, AS_OF)
    with duckdb.connect(str(home.warehouse_file)) as con:
        for name, (on, measure) in ADJUSTMENTS.items():
            flag = flag_id(con, ids[name], "P1")
            record_decision(con, Decision(flag, "confirm", date(2024, 12, 1), "部务会", "瞒报属实"))
            record_decision(con, Decision(flag, "adjust", date.fromisoformat(on), "部务会",
                                          "不适宜担任现职", document_no=f"组干〔2025〕{name}号",
                                          measure=measure))
    return ids


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, str]]:
    root = tmp_path_factory.mktemp("followup") / "home"
    return root, _world(DataHome(root.resolve()).ensure(), root.parent / "drops")


def _eligibility(home: DataHome, cid: str, on: date) -> tuple[bool, str]:
    with duckdb.connect(str(home.warehouse_file)) as con:
        review_sql.ensure(con)
        review_sql.set_context(con, on, AS_OF)
        return con.execute("select eligible, blockers_zh from followup.reappointment "
                           "where id_number = ?", [cid]).fetchone()


@pytest.mark.parametrize(("on", "eligible"), [
    (date(2026, 1, 19), False),  # last day of the no-leading-post period (2025-01-20 is day 1)
    (date(2026, 1, 20), True),   # first day after it
])
def test_eligible_from_the_day_the_adjustment_period_ends(
        built: tuple[DataHome, dict[str, str]], on: date, eligible: bool) -> None:
    home, ids = built
    found, blockers = _eligibility(home, ids["丙一"], on)
    assert found is eligible
    assert ("调整影响期至2026-01-19" in blockers) is not eligible


@pytest.mark.parametrize(("on", "eligible"), [
    (date(2026, 2, 28), False),  # 影响期截止 is inclusive: still inside
    (date(2026, 3, 1), True),
])
def test_eligible_only_after_the_sanction_influence_period(
        built: tuple[DataHome, dict[str, str]], on: date, eligible: bool) -> None:
    home, ids = built
    found, blockers = _eligibility(home, ids["丙二"], on)
    assert found is eligible
    assert ("处分影响期：诫勉（至2026-02-28）" in blockers) is not eligible


def test_rechecks_every_six_months_read_later_evidence(
        built: tuple[DataHome, dict[str, str]]) -> None:
    home, ids = built
    with duckdb.connect(str(home.warehouse_file)) as con:
        review_sql.ensure(con)
        review_sql.set_context(con, AS_OF, AS_OF)
        rows = con.execute("select recheck_no, recheck_on, status, profile_period, meets_bar, "
                           "new_candidate_rules from followup.recheck where id_number = ? "
                           "order by recheck_no", [ids["丙三"]]).fetchall()
        assert rows == [
            (1, date(2025, 7, 15), "done", "2025H1", True, []),
            (2, date(2026, 1, 15), "done", "2025H2", False, ["I1"]),  # found 2025-10-01
            (3, date(2026, 7, 15), "due", None, None, []),
        ]
        eligible, blockers = con.execute("select eligible, blockers_zh from "
                                         "followup.reappointment where id_number = ?",
                                         [ids["丙三"]]).fetchone()
        assert not eligible and "最近一次复检未达到要求" in blockers


def test_restore_closes_the_file_and_appeal_revokes_it(
        built: tuple[DataHome, dict[str, str]]) -> None:
    home, ids = built
    with duckdb.connect(str(home.warehouse_file)) as con:
        one, two = flag_id(con, ids["丙一"], "P1"), flag_id(con, ids["丙二"], "P1")
        record_decision(con, Decision(one, "restore", date(2026, 2, 1), "部务会", "复检合格"))
        record_decision(con, Decision(two, "appeal", date(2026, 2, 1), "丙二", "不服"))
        record_decision(con, Decision(two, "appeal_granted", date(2026, 3, 1), "部务会", "申诉成立"))
        review_sql.set_context(con, AS_OF, AS_OF)
        status = dict(con.execute("select name, file_status from followup.followup_case").fetchall())
        assert status == {"丙一": "restored", "丙二": "revoked", "丙三": "active"}
        assert con.execute("select max(recheck_on) from followup.recheck where flag_id = ?",
                           [one]).fetchone()[0] == date(2026, 1, 20)  # none after 重新任用
        assert [r[0] for r in con.execute("select name from followup.reappointment").fetchall()] \
            == ["丙三"]


def test_targets_derived_and_set_by_people(built: tuple[DataHome, dict[str, str]]) -> None:
    home, ids = built
    with duckdb.connect(str(home.warehouse_file)) as con:
        one = flag_id(con, ids["丙一"], "P1")
        assert set_target(con, one, "牵头完成乡村振兴重点项目", "干部科李四", date(2025, 2, 1)) == 1
        with pytest.raises(DecisionRefused, match="没有复检档案"):
            set_target(con, "A1-00000000", "x", "y")
        with pytest.raises(DecisionRefused, match="均须填写"):
            set_target(con, one, " ", "y")
    result, _ = scan(home, date(2026, 1, 10))
    targets = result.targets[result.targets["flag_id"] == one]["target_zh"].tolist()
    assert targets[-1] == "牵头完成乡村振兴重点项目"
    assert "年度考核为称职及以上等次" in targets and "调整影响期届满（2026-01-19）" in targets


def test_scan_lists_what_falls_due_and_writes_the_report(
        built: tuple[DataHome, dict[str, str]]) -> None:
    home, ids = built
    result, paths = scan(home, date(2026, 1, 10), days=30)
    assert result.counts() == {"observation_ending": 0, "influence_ending": 2, "rechecks_due": 3,
                               "files": 3, "eligible": 0}
    # 调离岗位 (调整职务, 12 months) ends 2026-01-14; 免职's no-leading-post year 2026-01-19
    assert result.influence["name"].tolist() == ["丙二", "丙一"]
    assert sorted(result.rechecks["recheck_on"].dt.date.tolist()) == [
        date(2026, 1, 15), date(2026, 1, 15), date(2026, 1, 20)]
    later, _ = scan(home, date(2026, 3, 2), days=30)
    assert sorted(later.eligible["name"]) == ["丙一", "丙二"]
    html, xlsx = paths
    assert "丙一" in html.read_text(encoding="utf-8")
    assert load_workbook(xlsx).sheetnames == ["考察期到期", "影响期届满", "复检", "可重新任用",
                                              "复检档案", "工作目标"]


def test_cli_followup(built: tuple[DataHome, dict[str, str]]) -> None:
    home, ids = built
    app = typer.Typer()
    register(app)
    runner = CliRunner()
    result = runner.invoke(app, ["followup", "--as-of", "2026-03-02"])
    assert result.exit_code == 0, result.output
    assert "可重新任用 2" in result.output
    with duckdb.connect(str(home.warehouse_file)) as con:
        one = flag_id(con, ids["丙一"], "P1")
    added = runner.invoke(app, ["followup", "--add-target", one, "--text", "完成培训", "--by", "李四"])
    assert added.exit_code == 0 and "#1" in added.output
