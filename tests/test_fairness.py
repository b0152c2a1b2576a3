"""Disparity monitor: a planted disparity is a breach, the same world without it is not, small
groups are 样本不足 whatever their rate, and the counts reconcile with the candidate list.

The worlds are loaded the way units send data (CSV drops through ``submit_file``, via
tests/build_fixtures) and built with the real build; the statistics are scipy's.
"""

from __future__ import annotations

import json
import shutil
import zipfile
from datetime import date
from pathlib import Path

import duckdb
import pandas as pd
import pytest
from typer.testing import CliRunner

from pipelines.build import ruleset
from pipelines.build.steps import build
from pipelines.cli.main import app
from pipelines.ingest import idcard
from pipelines.publish.snapshot import publish
from pipelines.review import fairness
from pipelines.review.data import parse_period
from pipelines.review.decisions import Decision, record_decision
from pipelines.review.ledger import write_ledger
from pipelines.review.report import write_review
from pipelines.settings import PROJECT_ROOT, DataHome
from tests.build_fixtures import Scenario
from tests.review_scenario import flag_id, private_copy

pytestmark = pytest.mark.integration

AS_OF = date(2025, 12, 31)
EARLIER = date(2025, 6, 30)
PLANTED, OTHERS, SMALL = "市甲局", ("市乙局", "市丙局"), "市丁局"
PLANTED_ROUND = "2025年第二轮巡察"
I1 = {"category": "不担当不作为", "severity": "较重", "responsibility": "直接责任"}
ROW_KEYS = {"grouping", "group", "outcome", "in_scope", "with_outcome", "rate", "impact_ratio",
            "p_value", "status"}


def _finding(s: Scenario, cid: str, round_: str, found_on: str) -> None:
    s.add("inspection_finding", finding_id=s.next_key("F"), round=round_, org_name="被巡察单位",
          id_number=cid, name="测试", description="履职不力", found_on=found_on,
          rectification="已整改", **I1)


def disparity_world(planted: bool) -> Scenario:
    """Three units of 30 cadres and one of 12. Every cadre is assessed 称职 (85 points); in each
    unit of 30, two cadres have an I1 finding (candidate) and one a 德 score of 55 (D1 warning).
    With ``planted``, 市甲局 has 13 more I1 findings, all from one 巡察 round. 市丁局's 12 all have
    one: a rate of 100% in a group below the minimum size."""
    s = Scenario()
    serial = 0
    for unit, size in ((PLANTED, 30), (OTHERS[0], 30), (OTHERS[1], 30), (SMALL, 12)):
        flagged = 15 if unit == PLANTED and planted else 2 if size == 30 else size
        for i in range(size):
            serial += 1
            born = date(1960 + (serial * 7) % 35, 1 + serial % 12, 1 + serial % 28)
            cid = s.cadre(f"{unit}{i}", org_name=unit, id_number=idcard.make("110101", born, serial))
            scores = {f"score_{d}": 85 for d in ruleset.DIMENSIONS}
            if size == 30 and i == 29:
                scores["score_virtue"] = 55
            s.add("annual_assessment", id_number=cid, name=f"{unit}{i}", year=2025, grade="称职",
                  **scores)
            if i < flagged:
                planted_row = unit == PLANTED and i >= 2
                _finding(s, cid, PLANTED_ROUND if planted_row else "2025年第一轮巡察",
                         "2025-09-01" if planted_row else "2025-03-01")
    return s


def _world(root: Path, planted: bool) -> Path:
    home = DataHome(root.resolve()).ensure()
    disparity_world(planted).load(home, root.parent / "drops")
    build(home, EARLIER)
    build(home, AS_OF)
    return root


@pytest.fixture(scope="module")
def planted_world(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return _world(tmp_path_factory.mktemp("planted") / "home", planted=True)


@pytest.fixture(scope="module")
def control_world(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return _world(tmp_path_factory.mktemp("control") / "home", planted=False)


def _report(home: DataHome, period: str = "2025H2") -> fairness.FairnessReport:
    with duckdb.connect(str(home.warehouse_file)) as con:
        return fairness.load_fairness(con, parse_period(period))


def _row(report: fairness.FairnessReport, grouping: str, group: str, outcome: str) -> dict:
    rows = [r for r in report.to_json()["rows"]
            if (r["grouping"], r["group"], r["outcome"]) == (grouping, group, outcome)]
    assert len(rows) == 1, (grouping, group, outcome, rows)
    return rows[0]


@pytest.mark.integration
def test_a_planted_disparity_is_a_breach_with_its_round_in_the_drill_down(
        planted_world: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    report = _report(private_copy(planted_world, tmp_path, monkeypatch))
    row = _row(report, "unit", PLANTED, "candidate")
    assert (row["in_scope"], row["with_outcome"]) == (30, 15)
    assert row["rate"] == pytest.approx(0.5)
    assert row["impact_ratio"] == pytest.approx(0.5 / (2 / 30))  # against the lowest judged rate
    assert row["p_value"] < report.params.alpha and row["status"] == "breach"
    for other in OTHERS:
        assert _row(report, "unit", other, "candidate")["status"] == "ok"
    drill = report.drilldown[("unit", PLANTED, "candidate")]
    assert list(drill["rules"]["rule_id"]) == ["I1"] and drill["flags"] == 15
    top = drill["batches"].iloc[0]
    assert (top["source"], top["batch_zh"], top["flags"]) == (
        "inspection_finding", f"巡视轮次 {PLANTED_ROUND}", 13)


@pytest.mark.integration
def test_the_same_world_without_the_disparity_has_no_breach(
        control_world: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    report = _report(private_copy(control_world, tmp_path, monkeypatch))
    assert _row(report, "unit", PLANTED, "candidate")["with_outcome"] == 2
    assert [r for r in report.to_json()["rows"] if r["status"] == "breach"] == []
    assert report.drilldown == {}


@pytest.mark.integration
@pytest.mark.parametrize("world", ["planted_world", "control_world"])
def test_a_group_of_12_is_insufficient_whatever_its_rate(
        world: str, request: pytest.FixtureRequest, tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    report = _report(private_copy(request.getfixturevalue(world), tmp_path, monkeypatch))
    row = _row(report, "unit", SMALL, "candidate")
    assert (row["in_scope"], row["with_outcome"], row["rate"]) == (12, 12, 1.0)
    assert row["status"] == "insufficient" and row["p_value"] is None


def test_disparity_table_small_groups_and_unbounded_ratios() -> None:
    """The pure function on hand-made counts: 12 of 12 is 样本不足; a lowest judged rate of 0
    makes the ratio unbounded (null), still gated by the corrected p-value."""
    p = ruleset.fairness_params(ruleset.load().config)
    counts = pd.DataFrame(
        [("unit", "A", "candidate", 40, 0), ("unit", "B", "candidate", 40, 20),
         ("unit", "C", "candidate", 40, 1), ("unit", "D", "candidate", 12, 12)],
        columns=["group_by", "group_value", "outcome", "in_scope", "with_outcome"])
    table = fairness.disparity_table(counts, p).set_index("group")
    assert table.loc["D", "status"] == "insufficient" and pd.isna(table.loc["D", "p_value"])
    assert table.loc["B", "ratio_unbounded"] and table.loc["B", "status"] == "breach"
    assert table.loc["C", "ratio_unbounded"] and table.loc["C", "status"] == "ok"  # p too large
    assert table.loc["A", "impact_ratio"] == 1.0 and table.loc["A", "status"] == "ok"
    # Holm: the adjusted p-values are the raw ones stepped up, never below them
    tested = table.dropna(subset=["p_raw"])
    assert (tested["p_value"] >= tested["p_raw"]).all()
    assert fairness.holm([0.01, 0.04, 0.03]) == pytest.approx([0.03, 0.06, 0.06])


def _cli(home: DataHome, *args: str) -> str:
    result = CliRunner().invoke(app, list(args), env={"CADRE_HOME": str(home.root)})
    assert result.exit_code == 0, result.output
    return result.stdout


def _age_band(id_number: str, end: date) -> str:
    born = idcard.birth_date(id_number)
    assert born is not None
    age = end.year - born.year - ((end.month, end.day) < (born.month, born.day))
    return "<35" if age < 35 else "35-44" if age < 45 else "45-54" if age < 55 else ">=55"


@pytest.mark.integration
def test_counts_reconcile_with_the_candidate_list_and_adjustments_count_decided_cadres(
        planted_world: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    home = private_copy(planted_world, tmp_path, monkeypatch)
    listed = json.loads(_cli(home, "candidates", "--as-of", AS_OF.isoformat(), "--json"))
    adjusted_id = next(r["id_number"] for r in listed if r["org_name"] == OTHERS[0]
                       and r["severity"] == "candidate")
    with duckdb.connect(str(home.warehouse_file)) as con:
        flag = flag_id(con, adjusted_id, "I1")
        for action, on, extra in (("confirm", "2026-01-05", {}),
                                  ("adjust", "2026-01-20", {"measure": "调离岗位",
                                                           "document_no": "组干〔2026〕1号"})):
            record_decision(con, Decision(flag, action, date.fromisoformat(on), "组织部部务会",
                                          "研究决定", **extra))
    out = json.loads(_cli(home, "report", "fairness", "--period", "2025H2", "--json"))
    assert set(out) == {"period", "min_group", "threshold", "rows"}
    assert (out["period"], out["min_group"], out["threshold"]) == ("2025H2", 20, 1.25)
    assert all(set(r) == ROW_KEYS for r in out["rows"])
    got = {(r["grouping"], r["group"], r["outcome"]): r for r in out["rows"]}
    keys = {"unit": lambda r: r["org_name"], "post_level": lambda r: r["post_level"],
            "age_band": lambda r: _age_band(r["id_number"], AS_OF)}
    for outcome in ("candidate", "warning"):
        mine = [r for r in listed if r["severity"] == outcome]
        for grouping, key in keys.items():
            expected = pd.Series([key(r) for r in mine]).value_counts().to_dict()
            shown = {g: r["with_outcome"] for (gp, g, o), r in got.items()
                     if gp == grouping and o == outcome and r["with_outcome"]}
            assert shown == expected, (grouping, outcome)
        sexes = sum(r["with_outcome"] for (gp, _, o), r in got.items()
                    if gp == "sex" and o == outcome)
        assert sexes == len(mine)
    assert sum(r["in_scope"] for (gp, _, o), r in got.items()
               if gp == "unit" and o == "candidate") == 102
    adjusted = {k: r for k, r in got.items() if k[2] == "adjusted"}
    assert adjusted[("unit", OTHERS[0], "adjusted")]["in_scope"] == 1
    assert adjusted[("unit", OTHERS[0], "adjusted")]["with_outcome"] == 1
    assert adjusted[("unit", OTHERS[0], "adjusted")]["status"] == "insufficient"
    assert {k[1] for k in adjusted if k[0] == "unit"} == {OTHERS[0]}
    assert adjusted[("evidence_source", "inspection_finding", "adjusted")]["with_outcome"] == 1
    printed = _cli(home, "report", "fairness", "--period", "2025H2")
    assert "差异超限" in printed and f"来源分析：单位“{PLANTED}”" in printed
    assert "它不表示：存在歧视或偏见" in printed  # what a breach does not mean


@pytest.mark.integration
def test_trend_reads_one_build_per_period(planted_world: Path, tmp_path: Path,
                                          monkeypatch: pytest.MonkeyPatch) -> None:
    report = _report(private_copy(planted_world, tmp_path, monkeypatch))
    assert [(t.period.label, t.build_as_of) for t in report.trend] == [
        ("2025H1", EARLIER), ("2025H2", AS_OF)]  # 2024H1/H2 have no build: left out
    earlier = report.trend[0].table.set_index(["grouping", "group", "outcome"])
    # the planted round was found in September: in June, 市甲局 had its two ordinary findings
    assert earlier.loc[("unit", PLANTED, "candidate"), "with_outcome"] == 2
    assert [p.label for p in fairness.previous_periods(parse_period("2025H1"), 4)] == [
        "2023H2", "2024H1", "2024H2", "2025H1"]
    assert [p.label for p in fairness.previous_periods(parse_period("2025"), 2)] == [
        "2024", "2025"]


@pytest.mark.integration
def test_review_and_ledger_show_the_section_and_sheets(
        planted_world: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from openpyxl import load_workbook

    home = private_copy(planted_world, tmp_path, monkeypatch)
    files = write_review(home, "2025H2")
    html = files.html.read_text(encoding="utf-8")
    assert "附：公平性监测（分组差异）" in html and 'href="#fairness"' in html
    assert "不表示：存在歧视或偏见" in html and "样本不足" in html and "差异超限" in html
    assert f"巡视轮次 {PLANTED_ROUND}" in html  # the drill-down
    assert 'class="chart lines"' in html  # the trend chart
    book = load_workbook(files.xlsx)
    assert {"公平性监测", "公平性趋势"} <= set(book.sheetnames)
    cells = [c for row in book["公平性监测"].iter_rows(values_only=True) for c in row if c]
    assert PLANTED in cells and "差异超限" in cells
    with zipfile.ZipFile(files.xlsx) as archive:  # the trend's native line chart
        charts = [archive.read(n).decode("utf-8") for n in archive.namelist()
                  if n.startswith("xl/charts/chart")]
    assert any("公平性趋势" in c and "<c:lineChart>" in c for c in charts)
    ledger_html, ledger_xlsx, _ = write_ledger(home, "2025H2")
    assert "五、公平性监测（分组差异）" in ledger_html.read_text(encoding="utf-8")
    assert "公平性监测" in load_workbook(ledger_xlsx).sheetnames


@pytest.mark.integration
def test_the_published_table_suppresses_small_cells_and_is_documented(
        planted_world: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    home = private_copy(planted_world, tmp_path, monkeypatch)
    publish(home)
    with duckdb.connect(str(home.published_file), read_only=True) as con:
        table = con.execute("select * from fairness.disparity").df()
        comments = dict(con.execute(
            "select column_name, comment from duckdb_columns() where schema_name = 'fairness' "
            "and table_name = 'disparity'").fetchall())
    assert set(table["period"]) == {"2025H1", "2025H2"}
    assert all(comments.values()) and "suppressed" in comments
    shown = table.dropna(subset=["with_outcome"])
    assert (shown["in_scope"] >= 5).all()
    assert ((shown["with_outcome"] == 0) | (shown["with_outcome"] >= 5)).all()
    assert (shown["in_scope"] - shown["with_outcome"] >= 5).all()
    small = table[(table["period"] == "2025H2") & (table["grouping"] == "unit")
                  & (table["outcome"] == "candidate")].set_index("group_value")
    assert pd.isna(small.loc[SMALL, "with_outcome"])  # 12 of 12: everyone has it
    assert small.loc[PLANTED, "with_outcome"] == 15 and small.loc[PLANTED, "status"] == "breach"
    # one blanked count in a grouping would follow from the total: a second one is blanked too
    assert (small["suppressed"] != "").sum() >= 2
    dictionary = (home.published_dir / "data_dictionary.md").read_text(encoding="utf-8")
    assert "## fairness.disparity" in dictionary


def test_suppress_blanks_a_second_cell_when_one_would_follow_from_the_total() -> None:
    table = pd.DataFrame(
        [("sex", "男", "candidate", 50, 10), ("sex", "女", "candidate", 40, 3),
         ("sex", "未填报", "candidate", 3, 0)],
        columns=["grouping", "group", "outcome", "in_scope", "with_outcome"]).assign(
        rate=0.1, impact_ratio=1.0, p_value=0.5, status="ok")
    out = fairness.suppress(table, 5).set_index("group")
    assert out.loc["未填报", "suppressed"] == "in_scope" and out.loc["未填报", "in_scope"] is None
    assert out.loc["女", "suppressed"] in ("in_scope", "with_outcome")
    assert out.loc["女", "with_outcome"] is None and out.loc["女", "rate"] is None
    assert out.loc["男", "with_outcome"] == 10


def test_the_rule_set_refuses_wrong_fairness_numbers(tmp_path: Path) -> None:
    rules_dir = PROJECT_ROOT / "warehouse" / "rules"
    text = (rules_dir / "ruleset.yaml").read_text(encoding="utf-8")
    for bad, message in (("min_group: 20", "min_group: 1"),
                         ("impact_ratio_threshold: 1.25", "impact_ratio_threshold: 0.8"),
                         ("alpha: 0.05", "alpha: 5")):
        copy = tmp_path / "rules"
        shutil.copytree(rules_dir, copy, dirs_exist_ok=True)
        (copy / "ruleset.yaml").write_text(text.replace(f"  {bad}\n", f"  {message}\n"),
                                          encoding="utf-8")
        with pytest.raises(ruleset.RulesetError, match="fairness"):
            ruleset.load(copy / "ruleset.yaml")
