"""集中会诊 and 定期盘点 reports rendered from a fixed build: sections, numbers, charts.

The workbook is parsed back with openpyxl (and its chart parts read from the zip), the page
is checked for its sections, its pictures and for being readable offline.
"""

from __future__ import annotations

import re
import zipfile
from datetime import date
from html.parser import HTMLParser
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

SECTIONS = ("一、规则及依据", "二、总体情况", "）不适宜担任现职人选", "）预警", "）考察期到期",
            "）影响期", "）复检与重新任用", "）优秀等次比例核查")


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
    assert {f"<h2>三、{YI}</h2>", f"<h2>四、{JIA}</h2>"} <= set(re.findall("<h2>.*?</h2>", page))
    assert page.count('class="chart radar"') == 3
    assert 'class="chart stacked"' in page and page.count('class="chart bars"') >= 4
    assert "@media print" in page and "@page" in page
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:)?//""", page), "fetches something"
    assert "<script" not in page and "<link" not in page
    assert ids["甲一"] in page and "2025年度考核等次为不称职" in page  # evidence, by ID
    assert "影响期内被评为优秀" in page and "甲三" in page
    assert "超出上限" in page


class PrintedText(HTMLParser):
    """The text a printer gets from the page: everything outside the elements the print style
    hides (``nav``, ``.screen-only``, the per-unit summary and charts)."""

    HIDDEN = {"screen-only", "unit-charts", "unit-summary"}
    VOID = {"br", "meta", "img", "hr", "input", "link", "wbr"}

    def __init__(self) -> None:
        super().__init__()
        self.hidden_depth = 0  # > 0 inside a hidden element
        self.parts: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in self.VOID:
            return
        classes = set((dict(attrs).get("class") or "").split())
        if self.hidden_depth or tag == "nav" or classes & self.HIDDEN:
            self.hidden_depth += 1

    def handle_endtag(self, tag: str) -> None:
        if tag not in self.VOID and self.hidden_depth:
            self.hidden_depth -= 1

    def handle_data(self, data: str) -> None:
        if not self.hidden_depth:
            self.parts.append(data)


def printed_text(page: str) -> str:
    parser = PrintedText()
    parser.feed(page.split("<body>")[1])
    assert parser.hidden_depth == 0  # every hidden element closed
    return "".join(parser.parts)


def test_the_print_form_keeps_what_a_meeting_needs(
        built: tuple[DataHome, dict[str, str]]) -> None:
    """Print hides the charts and the screen's per-cadre tables and shows compact forms instead;
    the compact forms still carry every candidate, each flag's id, severity, rule, finding,
    state, latest decision and 本期构建, every piece of evidence with its date, unit, file, row
    and id, each warning's evidence, the decisions each state allows, and each rule's 依据."""
    from pipelines.review.view import decision_legend, unit_views

    home, _ = built
    files = write_review(home, "2025H2")
    page = files.html.read_text(encoding="utf-8")
    assert re.search(r"\.screen-only[^{]*\{\s*display:\s*none", page.split("@media print")[1])
    printed = printed_text(page)
    views = unit_views(files.data)
    flag_keys = ("线索编号", "规则", "发现情况", "线索日期", "状态", "最近决定", "考察期截止")
    candidates = [c for v in views for c in v.candidates]
    assert candidates and any(f["最近决定"] for c in candidates for f in c.flags)
    for c in candidates:
        assert f"{c.name}（{c.post_title}，身份证号 {c.id_number}）" in printed
        for dim, score, threshold in c.scores:
            assert score is None or f"{dim} {score:.1f}/{threshold:.0f}" in printed
        for f in c.flags:
            assert all(f[k] in printed for k in (*flag_keys, "类别")), f
            assert f["本期构建"] == "是" or f"本期构建：{f['本期构建']}" in printed
        assert c.evidence
        for e in c.evidence:
            line = (f"{e['日期']} · {e['报送单位']} · {c.evidence_rules[e['证据编号']]} · "
                    f"{e['证据']} · {e['计入情况']} · {e['文件']} 第{e['行号']}行 · {e['证据编号']}")
            assert line in printed
    warnings = [w for v in views for w in v.warnings]
    assert warnings
    for w in warnings:
        assert all(w[k] in printed for k in (*flag_keys, "证据")), w
        assert f"{w['姓名']}（{w['职务']}）" in printed
    for state, actions in decision_legend(views):
        assert f"{state}——{actions or '无'}" in printed
    for r in files.data.rule_basis.itertuples():
        assert r.basis in printed
    assert 'class="chart radar"' in page  # still on screen


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


def test_review_shows_rule_basis_ruleset_and_no_command(
        built: tuple[DataHome, dict[str, str]]) -> None:
    """Each rule behind a flag with its 依据 and tags, a note where the basis is unverified,
    which rule-set version and profile produced the flags; decisions go through ORG's tools."""
    home, _ = built
    files = write_review(home, "2025H2")
    page = files.html.read_text(encoding="utf-8")
    basis = files.data.rule_basis
    assert set(basis["rule_id"]) == set(files.data.flags["rule_id"])
    rules_section = page.split("一、规则及依据")[1].split("二、总体情况")[0]
    for r in basis.itertuples():
        assert f"<td>{r.rule_id}</td>" in rules_section and r.basis.split("[")[0].strip() in page
    unverified = basis[basis["unverified"]]
    assert page.count("依据尚未核对原文（") == len(unverified)
    assert f"规则集：{files.data.ruleset_version}" in page and files.data.ruleset_version
    assert f"适用规则配置：{files.data.ruleset_profile}" in page
    assert "cadre decide" not in page and "cadre " not in page.split("<body>")[1]
    assert "干部数据报送门户" in page


def test_units_with_nothing_this_period_collapse_into_one_line(
        built: tuple[DataHome, dict[str, str]]) -> None:
    from pipelines import warehouse
    from pipelines.review.data import load_review
    from pipelines.review.report import render_html
    from pipelines.review.view import UnitView, has_business, unit_views

    home, _ = built
    with warehouse.writer(home.warehouse_file) as con:
        data = load_review(con, __import__("pipelines.review.data", fromlist=["x"])
                           .parse_period("2025H2"))
    views = unit_views(data)
    quiet = UnitView(name="市丙局", summary={**views[0].summary, "在册干部": 7,
                                            "优秀比例核查": "符合"})
    assert all(has_business(v) for v in views) and not has_business(quiet)
    page = render_html(data, [*views, quiet])
    assert "本期无需会诊事项的单位（1 个" in page and "市丙局（在册 7 人）" in page
    assert "<h2>五、市丙局</h2>" not in page and page.count("市丙局") == 1
    assert "本期无预警" not in page  # empty subsections are left out, not announced

