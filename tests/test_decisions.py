"""The decision state machine, the decision log on real builds, decision drops and ``cadre decide``.

Every (state, action) pair is checked against the one table of allowed transitions; then the
same rules on a built warehouse: refusals leave the log untouched, an appeal clears a confirmed
flag, and rebuilds (same date, new date, corrected data) never lose or change a decision.
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
from pipelines.ingest.steps import submit_file
from pipelines.review import decisions
from pipelines.review.decision_drops import apply_decision_drops
from pipelines.review.decisions import (
    ACTIONS,
    OPEN_STATES,
    STATES_ZH,
    Decision,
    DecisionRefused,
    LogEntry,
    next_state,
    record_decision,
    replay,
)
from pipelines.settings import DataHome
from tests.conftest import write_csv
from tests.review_scenario import AS_OF, flag_id

# The whole transition table (rules.md §4). Anything not listed must be refused.
ALLOWED = {
    ("flagged", "observe"): "under_observation",
    ("flagged", "confirm"): "confirmed",
    ("flagged", "clear"): "cleared",
    ("under_observation", "confirm"): "confirmed",
    ("under_observation", "clear"): "cleared",
    ("confirmed", "adjust"): "adjusted",
    ("confirmed", "appeal"): "appealed",
    ("adjusted", "appeal"): "appealed",
    ("adjusted", "restore"): "adjusted",
    ("appealed", "appeal_upheld"): "confirmed",  # back to where the appeal found it
    ("appealed", "appeal_granted"): "cleared",
    # a person extends a running 考察期 (rules.md, "People's decisions bind the engine")
    ("under_observation", "extend"): "under_observation",
    # S1 promotion blocks are in the register: annotated, appealed, lifted
    ("blocking", "annotate"): "blocking",
    ("blocking", "appeal"): "appealed",
    ("blocking", "lift"): "lifted",
    ("lifted", "annotate"): "lifted",
    ("appealed", "annotate"): "appealed",
    # the system closes an open flag whose evidence was withdrawn or corrected away
    **{(state, "close"): "closed" for state in OPEN_STATES},
}
APPEAL_FROM_CONFIRMED = [LogEntry("confirm", "flagged", "confirmed", date(2025, 1, 1)),
                         LogEntry("appeal", "confirmed", "appealed", date(2025, 2, 1))]


@pytest.mark.parametrize("state", list(STATES_ZH))
@pytest.mark.parametrize("action", list(ACTIONS))
def test_every_transition(state: str, action: str) -> None:
    history = APPEAL_FROM_CONFIRMED if state == "appealed" else []
    if (state, action) in ALLOWED:
        assert next_state(state, action, history) == ALLOWED[(state, action)]
    else:
        with pytest.raises(DecisionRefused) as refused:
            next_state(state, action, history)
        assert STATES_ZH[state] in refused.value.message_zh
        assert ACTIONS[action].zh in refused.value.message_zh


def test_appeal_upheld_returns_an_adjusted_flag_to_adjusted() -> None:
    path = ["confirm", "adjust", "appeal", "appeal_upheld"]
    history = [LogEntry(a, "", "", date(2025, 1, 1 + n)) for n, a in enumerate(path)]
    assert replay("flagged", history) == "adjusted"


def test_paths_through_the_machine() -> None:
    def run(initial: str, *actions: str) -> str:
        return replay(initial, [LogEntry(a, "", "", date(2025, 1, 1)) for a in actions])

    assert run("flagged", "observe", "confirm", "adjust", "restore") == "adjusted"
    assert run("under_observation", "clear") == "cleared"  # a warning starts in its 考察期
    assert run("flagged", "confirm", "appeal", "appeal_granted") == "cleared"
    with pytest.raises(DecisionRefused, match="重新任用"):
        run("flagged", "confirm", "adjust", "restore", "restore")
    with pytest.raises(DecisionRefused):
        run("flagged", "clear", "appeal")  # nothing to appeal against


# ---- on a built warehouse ------------------------------------------------------------------

def _decide(con: duckdb.DuckDBPyConnection, flag: str, action: str, on: str, **kw: object):
    return record_decision(con, Decision(flag, action, date.fromisoformat(on), "干部科张三",
                                         f"{action}的理由", **kw))  # type: ignore[arg-type]


def _state(con: duckdb.DuckDBPyConnection, flag: str) -> tuple:
    return con.execute("select state, in_latest_build from decisions.flag_state where flag_id = ?",
                       [flag]).fetchone()


def test_initial_state_follows_the_severity(built: tuple[DataHome, dict[str, str]]) -> None:
    home, ids = built
    with duckdb.connect(str(home.warehouse_file)) as con:
        a1, d1 = flag_id(con, ids["甲一"], "A1"), flag_id(con, ids["甲一"], "D1")
        assert _state(con, a1) == ("flagged", True)
        assert _state(con, d1) == ("under_observation", True)
        until = con.execute("select observe_until from decisions.flag_state where flag_id = ?",
                            [d1]).fetchone()[0]
        assert until == date(2026, 6, 30)  # opened 2025-12-31 + R1's 6 months


def test_an_appeal_clears_a_confirmed_flag(built: tuple[DataHome, dict[str, str]]) -> None:
    home, ids = built
    with duckdb.connect(str(home.warehouse_file)) as con:
        flag = flag_id(con, ids["乙三"], "U1")
        steps = [_decide(con, flag, "confirm", "2025-08-01"),
                 _decide(con, flag, "appeal", "2025-08-20"),
                 _decide(con, flag, "appeal_granted", "2025-09-30", document_no="组申〔2025〕2号")]
        assert [(r.from_state, r.to_state) for r in steps] == [
            ("flagged", "confirmed"), ("confirmed", "appealed"), ("appealed", "cleared")]
        assert _state(con, flag)[0] == "cleared"
        events = con.execute("select event from decisions.ledger_event where flag_id = ? "
                             "order by event_on, decision_id nulls first", [flag]).fetchall()
        assert [e[0] for e in events] == ["raised", "confirmed", "appealed", "appeal_granted"]
        with pytest.raises(DecisionRefused):  # a cleared flag cannot be adjusted any more
            _decide(con, flag, "adjust", "2025-10-01", measure="免职", document_no="x")


@pytest.mark.parametrize(("change", "message"), [
    ({"flag_id": "A1-00000000"}, "不存在"),
    ({"id_number": "110101198001010011"}, "身份证号"),
    ({"decided_on": date(2025, 3, 1)}, "早于线索日期"),
    ({"decided_on": date(2099, 1, 1)}, "晚于今天"),
    ({"decided_by": " "}, "决定人"),
    ({"reason": ""}, "理由"),
    ({"action": "adjust", "document_no": "组干〔2025〕9号"}, "当前状态"),  # not confirmed yet
    ({"action": "observe", "observe_until": date(2025, 5, 1)}, "考察期截止"),
    ({"measure": "免职"}, "不应填写调整方式"),
])
def test_refused_decisions_leave_the_log_untouched(built: tuple[DataHome, dict[str, str]],
                                                   change: dict, message: str) -> None:
    home, ids = built
    with duckdb.connect(str(home.warehouse_file)) as con:
        flag = flag_id(con, ids["乙三"], "U1")  # opened 2025-05-10
        base = {"flag_id": flag, "action": "confirm", "decided_on": date(2025, 6, 1),
                "decided_by": "张三", "reason": "核实", "id_number": ids["乙三"]}
        with pytest.raises(DecisionRefused, match=message):
            record_decision(con, Decision(**{**base, **change}))
        assert con.execute("select count(*) from decisions.decision_log").fetchone()[0] == 0


def test_adjustment_needs_measure_and_document_and_dates_in_order(
        built: tuple[DataHome, dict[str, str]]) -> None:
    home, ids = built
    with duckdb.connect(str(home.warehouse_file)) as con:
        flag = flag_id(con, ids["乙三"], "U1")
        _decide(con, flag, "confirm", "2025-08-01")
        with pytest.raises(DecisionRefused, match="调整方式"):
            _decide(con, flag, "adjust", "2025-09-01", document_no="组干〔2025〕9号")
        with pytest.raises(DecisionRefused, match="文号"):
            _decide(con, flag, "adjust", "2025-09-01", measure="调离岗位")
        with pytest.raises(DecisionRefused, match="上一次决定"):
            _decide(con, flag, "adjust", "2025-07-01", measure="调离岗位", document_no="x")
        done = _decide(con, flag, "adjust", "2025-09-01", measure="调离岗位",
                       document_no="组干〔2025〕9号")
        assert done.to_state == "adjusted"


def test_a_rebuild_keeps_every_decision(built: tuple[DataHome, dict[str, str]],
                                        tmp_path: Path) -> None:
    home, ids = built
    with duckdb.connect(str(home.warehouse_file)) as con:
        a1 = flag_id(con, ids["甲一"], "A1")
        p1 = flag_id(con, ids["甲二"], "P1")
        _decide(con, a1, "confirm", "2025-12-31")
        _decide(con, p1, "observe", "2025-06-01", observe_until=date(2025, 12, 1))
        log_before = con.execute("select * from decisions.decision_log order by 1").fetchall()
    build(home, AS_OF)  # same date again
    build(home, date(2026, 6, 30))  # a later date
    # 甲一's 2025 grade corrected to 称职: A1 is no longer raised by the next build
    fix = write_csv(tmp_path / "更正.csv", [["身份证号", "姓名", "考核年度", "考核等次"],
                                          [ids["甲一"], "甲一", "2025", "称职"]])
    assert submit_file(fix, "ORG", "annual_assessment", home).status == "accepted"
    build(home, AS_OF)
    with duckdb.connect(str(home.warehouse_file)) as con:
        decisions.sync_flags(con)
        after = con.execute("select * from decisions.decision_log order by 1").fetchall()
        assert after[:len(log_before)] == log_before  # every decision kept
        # the corrected grade took A1 (and 甲一's D1) away: the system closed them, visibly,
        # with the reason; people's decisions are untouched
        closes = con.execute("select flag_id, decided_by, reason from decisions.decision_log "
                             "where action = 'close' order by flag_id").fetchall()
        assert len(after) == len(log_before) + len(closes)
        assert a1 in {c[0] for c in closes}
        assert all(c[1] == "系统" and "更正" in c[2] for c in closes)
        assert _state(con, a1) == ("closed", False)  # kept, with its decisions
        assert _state(con, p1) == ("under_observation", True)
        assert flag_id(con, ids["甲二"], "P1") == p1  # same flag, same id, every build


def test_decision_drop_goes_through_the_state_machine(
        built: tuple[DataHome, dict[str, str]], tmp_path: Path) -> None:
    home, ids = built
    with duckdb.connect(str(home.warehouse_file)) as con:
        p1, u1 = flag_id(con, ids["甲二"], "P1"), flag_id(con, ids["乙三"], "U1")
    header = ["线索编号", "身份证号", "姓名", "决定类型", "调整方式", "决定日期", "决定人", "决定理由",
              "文号"]
    rows = [header,
            [p1, ids["甲二"], "甲二", "认定不适宜担任现职", "", "2025/6/1", "组织部部务会", "瞒报属实", ""],
            [u1, ids["乙三"], "乙三", "组织调整", "免职", "2025-07-01", "组织部部务会", "违规决策",
             "组干〔2025〕3号"],  # not confirmed yet: the state machine refuses it
            [u1, ids["甲二"], "乙三", "不予认定", "", "2025-07-01", "张三", "误报", ""],  # wrong ID
            [p1, ids["甲二"], "甲二", "组织调整", "", "2025-07-01", "张三", "调整", "x"]]  # no 调整方式
    receipt = submit_file(write_csv(tmp_path / "决定.csv", rows), "ORG", "decision", home)
    assert receipt.status == "partially_accepted"
    assert [(i.source_row, i.column) for i in receipt.issues] == [(5, "measure")]
    outcomes = apply_decision_drops(home)
    assert [(o.source_row, o.applied) for o in sorted(outcomes, key=lambda o: o.source_row)] == [
        (2, True), (3, False), (4, False)]
    messages = {o.source_row: o.message_zh for o in outcomes}
    assert "当前状态为“待核实”" in messages[3] and "身份证号" in messages[4]
    assert apply_decision_drops(home) == []  # applied once, never twice
    result = home.outbox_for("ORG") / f"{receipt.submission_id}_decision_决定处理结果.xlsx"
    sheet = load_workbook(result).active
    assert [r[3] for r in sheet.iter_rows(min_row=4, values_only=True)] == ["已登记", "未登记", "未登记"]
    with duckdb.connect(str(home.warehouse_file)) as con:
        assert con.execute("select recorded_via, source_row, to_state from decisions.decision_log"
                           ).fetchall() == [("drop", 2, "confirmed")]
    refused = submit_file(write_csv(tmp_path / "x.csv", rows[:2]), "INS", "decision", home)
    assert refused.status == "refused"  # only ORG may send decisions


def test_cli_decide(built: tuple[DataHome, dict[str, str]]) -> None:
    home, ids = built
    app = typer.Typer()
    register(app)
    runner = CliRunner()
    with duckdb.connect(str(home.warehouse_file)) as con:
        flag = flag_id(con, ids["甲一"], "A1")
    ok = runner.invoke(app, ["decide", flag, "认定不适宜担任现职", "--by", "张三", "--reason",
                             "连续考核不称职", "--on", "2025-12-31"])
    assert ok.exit_code == 0, ok.output
    assert "已认定不适宜担任现职" in ok.output
    bad = runner.invoke(app, ["decide", flag, "adjust", "--by", "张三", "--reason", "调整",
                              "--on", "2025-12-31", "--doc", "组干〔2026〕1号"])
    assert bad.exit_code == 1 and "调整方式" in bad.output
    shown = runner.invoke(app, ["decide", flag])
    assert shown.exit_code == 0 and "连续考核不称职" in shown.output and "组织调整" in shown.output
    listed = runner.invoke(app, ["decide", "--list", "--state", "confirmed"])
    assert flag in listed.output and "甲一" in listed.output


def test_every_adjustment_measure_has_an_influence_period() -> None:
    """The contract's 调整方式 codes and the influence mapping must not drift apart."""
    from pipelines.review.decisions import adjustment_measures
    from pipelines.review.sql import ADJUSTMENT_MEASURE, params

    assert set(ADJUSTMENT_MEASURE) == set(adjustment_measures())
    assert {m for m, _, _ in params().adjustment_influence} == set(adjustment_measures())
