"""集中会诊 and 定期盘点 reports rendered from a fixed build: sections, numbers, charts.

The workbook is parsed back with openpyxl (and its chart parts read from the zip), the page
is checked for its sections, its pictures and for being readable offline.
"""

from __future__ import annotations

import re
import zipfile
from datetime import date
from pathlib import Path

import duckdb
import pytest
import typer
from openpyxl import load_workbook
from typer.testing import CliRunner

from pipelines.cli.review import register
from pipelines.dev.demo_review import write_demo_review
from pipelines.review.decisions import Decision, record_decision
from pipelines.review.ledger import write_ledger
from pipelines.review.report import write_review
from pipelines.review.xlsx import SHEETS
from pipelines.settings import DataHome
from tests.review_scenario import JIA, YI, copy_world, flag_id

pytestmark = pytest.mark.integration

SECTIONS = ("一、总体情况", "（一）不适宜担任现职人选", "（二）预警", "（三）考察期到期", "（四）影响期",
            "（五）复检与重新任用", "（六）优秀等次比例核查")


@pytest.fixture(scope="module")
def world(review_world: tuple[Path, dict[str, str]],
          tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, str]]:
    """The review world with a few decisions recorded (observe, confirm, adjust)."""
    home = copy_world(review_world[0], tmp_path_factory.mktemp("review") / "home")
    root, ids = home.root, review_world[1]
    with duckdb.connect(str(home.warehouse_file)) as con:
        def decide(name: str, rule: str, action: str, on: str, **kw: object) -> None:
            record_decision(con, Decision(flag_id(con, ids[name], rule), action,
                                          date.fromisoformat(on), "组织部部务会", "研究决定", **kw))

        decide("甲二", "P1", "observe", "2025-07-01", observe_until=date(2025, 12, 31))
        decide("乙三", "U1", "confirm", "2025-08-01")
        decide("乙三", "U1", "adjust", "2025-09-01", measure="调离岗位", document_no="组干〔2025〕8号")
    return root, ids


def _sheet_rows(path: Path, sheet: str, header_row: int = 1) -> list[dict[str, object]]:
    """The table whose header is on ``header_row``, down to the first empty row."""
    rows = list(load_workbook(path)[sheet].iter_rows(min_row=header_row, values_only=True))
    table = []
    for row in rows[1:]:
        if all(v is None for v in row):
            break
        table.append(dict(zip(rows[0], row, strict=True)))
    return table


EXPECTED_SUMMARY = {
    JIA: {"在册干部": 5, "不适宜人选（人）": 2, "预警（条）": 1, "待决定（条）": 3, "考察期到期": 2,
          "影响期": 1, "复检": 0, "可重新任用": 0, "优秀比例": "2/5（40.0%）", "优秀比例核查": "超出上限"},
    YI: {"在册干部": 5, "不适宜人选（人）": 1, "预警（条）": 1, "待决定（条）": 1, "考察期到期": 1,
         "影响期": 1, "复检": 1, "可重新任用": 0, "优秀比例": "1/5（20.0%）", "优秀比例核查": "符合"},
}


def test_review_workbook_has_the_expected_sections_and_numbers(
        built: tuple[DataHome, dict[str, str]]) -> None:
    home, ids = built
    files = write_review(home, "2025H2")
    assert files.xlsx.name == "集中会诊_2025H2.xlsx" and files.xlsx.parent == home.reports / "review"
    book = load_workbook(files.xlsx)
    assert book.sheetnames == list(SHEETS)
    assert book["概要"]["A1"].value == "2025年下半年干部集中会诊报告（各单位）"
    summary = {r["单位"]: {k: v for k, v in r.items() if k != "单位"}
               for r in _sheet_rows(files.xlsx, "概要", header_row=5)}
    assert summary == EXPECTED_SUMMARY
    candidates = {(r["姓名"], r["规则"][:2], r["状态"]) for r in _sheet_rows(files.xlsx, "不适宜人选")}
    assert candidates == {("甲一", "A1", "待核实"), ("甲一", "D1", "考察期中"),
                          ("甲二", "P1", "考察期中"), ("乙三", "U1", "已组织调整")}
    observation = {(r["姓名"], r["考察期截止"], r["到期情况"])
                   for r in _sheet_rows(files.xlsx, "考察期到期")}
    assert observation == {("甲二", "2025-12-31", "本期到期"), ("甲一", "2026-06-30", "下期到期"),
                           ("乙二", "2026-06-30", "下期到期")}
    influence = {(r["姓名"], r["措施"], r["影响期截止"]) for r in _sheet_rows(files.xlsx, "影响期")}
    # the decision day is day 1: N months end the day before the corresponding day, inclusive
    # (as marts.influence_period)
    assert influence == {("甲三", "诫勉", "2025-10-31"), ("乙三", "组织调整（调离岗位）", "2026-08-31")}
    recheck = _sheet_rows(files.xlsx, "复检")
    assert [(r["姓名"], r["复检日期"], r["复检结果"]) for r in recheck] == [
        ("乙三", "2026-03-01", "待复检")]
    quota = {r["单位"]: (r["优秀"], r["参加考核（定等次）"], r["核查结果"])
             for r in _sheet_rows(files.xlsx, "优秀比例", header_row=3)}
    assert quota == {JIA: (2, 5, "超出上限"), YI: (1, 5, "符合")}
    evidence = _sheet_rows(files.xlsx, "证据")
    assert {"2025-1 2024年度报告随机抽查：瞒报（房产，1件）"} <= {r["证据"] for r in evidence}
    radar = book["画像图"]
    assert radar["A3"].value == "德" and radar["C3"].value == 60  # threshold beside the score
    with zipfile.ZipFile(files.xlsx) as archive:
        charts = [archive.read(n).decode() for n in archive.namelist()
                  if re.fullmatch(r"xl/charts/chart\d+\.xml", n)]
    assert sum("<c:radarChart>" in c for c in charts) == 3  # 甲一, 甲二, 乙三
    assert sum("<c:barChart>" in c for c in charts) >= 3  # summary, quota, distribution


def test_review_page_is_complete_offline_and_printable(
        built: tuple[DataHome, dict[str, str]]) -> None:
    home, ids = built
    page = write_review(home, "2025H2").html.read_text(encoding="utf-8")
    for heading in SECTIONS:
        assert heading in page
    assert {f"<h2>二、{YI}</h2>", f"<h2>三、{JIA}</h2>"} <= set(re.findall("<h2>.*?</h2>", page))
    assert page.count('class="chart radar"') == 3
    assert 'class="chart stacked"' in page and page.count('class="chart bars"') >= 4
    assert "@media print" in page and "@page" in page
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:)?//""", page), "fetches something"
    assert "<script" not in page and "<link" not in page
    assert ids["甲一"] in page and "2025年度考核等次为不称职" in page  # evidence, by ID
    assert "影响期内被评为优秀" in page and "甲三" in page
    assert "超出上限" in page


def test_review_of_one_unit(built: tuple[DataHome, dict[str, str]]) -> None:
    home, _ = built
    files = write_review(home, "2025H2", unit=YI)
    assert files.html.name == f"集中会诊_2025H2_{YI}.html"
    assert files.data.units == [YI]
    assert set(files.data.flags["org_name"]) == {YI}
    assert JIA not in files.html.read_text(encoding="utf-8")


def test_review_before_any_build_says_so(home: DataHome) -> None:
    files = write_review(home, "2025H2")
    assert "尚无画像构建结果" in files.html.read_text(encoding="utf-8")
    assert load_workbook(files.xlsx).sheetnames == list(SHEETS)


def test_demo_review_is_written(built: tuple[DataHome, dict[str, str]]) -> None:
    home, _ = built
    path = write_demo_review(home)
    assert path == home.reports / "review" / "集中会诊_2025H2.html" and path.exists()
    assert path.with_suffix(".xlsx").exists()


def test_ledger_counts_steps_and_durations(built: tuple[DataHome, dict[str, str]]) -> None:
    home, _ = built
    html, xlsx, data = write_ledger(home, "2025")
    totals = data.totals()
    assert {k: totals[k] for k in ("raised", "raised_candidates", "raised_warnings", "observed",
                                   "confirmed", "cleared", "appealed", "adjusted", "restored")} \
        == {"raised": 5, "raised_candidates": 3, "raised_warnings": 2, "observed": 1,
            "confirmed": 1, "cleared": 0, "appealed": 0, "adjusted": 1, "restored": 0}
    head = {r["事项"]: r["数量"] for r in _sheet_rows(xlsx, "概要", header_row=3)}
    assert head["提出线索"] == 5 and head["组织调整"] == 1
    steps = {r["环节"]: r for r in _sheet_rows(xlsx, "环节用时")}
    assert steps["认定至组织调整"]["用时中位数（天）"] == "31.0"  # 08-01 -> 09-01
    with duckdb.connect(str(home.warehouse_file), read_only=True) as con:
        yi = con.execute("select raised, confirmed, adjusted, median_days_adjustment from "
                         "decisions.ledger_summary where org_name = ? and half_year = '2025H2'",
                         [YI]).fetchall()
    assert yi == [(2, 1, 1, 31.0)]  # analysts get the same figures from the view
    page = html.read_text(encoding="utf-8")
    assert "二、各环节用时" in page and 'class="chart bars"' in page


def test_cli_reports(built: tuple[DataHome, dict[str, str]]) -> None:
    home, _ = built
    app = typer.Typer()
    register(app)
    runner = CliRunner()
    review = runner.invoke(app, ["report", "review", "--period", "2025H2", "--unit", JIA])
    assert review.exit_code == 0, review.output
    assert (home.reports / "review" / f"集中会诊_2025H2_{JIA}.xlsx").exists()
    ledger = runner.invoke(app, ["report", "ledger", "--period", "2025H2"])
    assert ledger.exit_code == 0 and "adjusted=1" in ledger.output
    bad = runner.invoke(app, ["report", "review", "--period", "2025Q3"])
    assert bad.exit_code != 0
