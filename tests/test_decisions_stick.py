"""Decisions stick (rules.md, "Decisions stick, and errors can be undone"; issue 16, "Why" 3-5).

Each test is a small world loaded through ``submit_file`` and built with the real build; the
decisions go through ``record_decision`` with a registered decider. What is asserted:
- a flag keeps its id while its evidence is unchanged, however the look-back window slides
  (D1 built every half-year), and a cleared flag stays cleared;
- new evidence after a decision opens a new flag that names what is new;
- R1 reads the decisions: a cleared warning feeds no 考察期; one fact is one piece of evidence;
  a person can extend a 考察期; the period's last day is inside and escalation is the day after;
- known deciders: an unregistered or disabled name is refused and nothing is written.
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
from pipelines.review import decisions
from pipelines.review.data import load_review, parse_period
from pipelines.review.decisions import Decision, DecisionRefused, record_decision
from pipelines.review.view import unit_view
from pipelines.settings import DataHome
from tests.build_fixtures import Scenario

pytestmark = pytest.mark.integration

DECIDER = "干部监督科王五"
LOW_VIRTUE = {"score_virtue": 55, "score_ability": 90, "score_diligence": 90,
              "score_performance": 90, "score_integrity": 90}


def _con(home: DataHome) -> duckdb.DuckDBPyConnection:
    con = duckdb.connect(str(home.warehouse_file))
    decisions.add_decider(con, DECIDER, "干部监督科科长")
    decisions.sync_flags(con)
    return con


def _flags(con: duckdb.DuckDBPyConnection, id_number: str, rule_id: str) -> list[tuple]:
    return con.execute("select flag_id, state, new_evidence_keys, previous_flag_id "
                       "from decisions.flag_state where id_number = ? and rule_id = ? "
                       "order by first_seen_at, flag_id", [id_number, rule_id]).fetchall()


def _matched(con: duckdb.DuckDBPyConnection, as_of: date, id_number: str, rule_id: str) -> str:
    return con.execute("select flag_id from decisions.flag_source where as_of = ? and "
                       "id_number = ? and rule_id = ?", [as_of, id_number, rule_id]).fetchone()[0]


def _decide(con: duckdb.DuckDBPyConnection, flag: str, action: str, on: str, **kw: object):
    return record_decision(con, Decision(flag, action, date.fromisoformat(on), DECIDER,
                                         "核实", **kw))


def test_d1_keeps_its_id_as_the_window_slides_and_a_cleared_one_stays_cleared(
        home: DataHome, tmp_path: Path) -> None:
    """Why 5: D1's flag date is the start of the run of low half-years inside the history
    window, so it moved every half-year and a cleared D1 came back under a new id."""
    s = Scenario()
    cid = s.cadre("丁一")
    for year in (2023, 2024):
        s.add("annual_assessment", id_number=cid, name="丁一", year=year, grade="称职",
              **LOW_VIRTUE)
    s.load(home, tmp_path / "drops")
    build(home, date(2025, 6, 30))
    with _con(home) as con:
        (d1, state, _, _), = _flags(con, cid, "D1")
        assert state == "under_observation"
        _decide(con, d1, "clear", "2025-07-01")
    for as_of in (date(2025, 12, 31), date(2026, 6, 30)):
        build(home, as_of)
        with _con(home) as con:
            assert _matched(con, as_of, cid, "D1") == d1  # same cadre, rule, evidence
            assert _flags(con, cid, "D1") == [(d1, "cleared", None, None)]


def _inspection(s: Scenario, cid: str, key: str, found_on: str, **kw: object) -> None:
    row = {"finding_id": key, "round": "2025年第一轮", "org_name": "某县", "id_number": cid,
           "name": "戊一", "category": "不担当不作为", "description": "推诿扯皮",
           "severity": "严重", "responsibility": "直接责任", "found_on": found_on,
           "rectify_by": None, "rectification": "已整改", "tolerated": False,
           "tolerance_basis": None}
    s.add("inspection_finding", **{**row, **kw})


def test_new_evidence_after_a_clearance_opens_a_new_flag_showing_what_is_new(
        home: DataHome, tmp_path: Path) -> None:
    """Why 3: a new I1 finding joined the cleared flag, which could not be decided again."""
    s = Scenario()
    cid = s.cadre("戊一")
    s.add("annual_assessment", id_number=cid, name="戊一", year=2024, grade="称职")
    _inspection(s, cid, "XC-1", "2025-03-01")
    s.load(home, tmp_path / "one")
    build(home, date(2025, 6, 30))
    with _con(home) as con:
        (first, _, _, _), = _flags(con, cid, "I1")
        _decide(con, first, "clear", "2025-07-01")
    build(home, date(2025, 9, 30))  # unchanged evidence: still the cleared flag
    with _con(home) as con:
        assert _flags(con, cid, "I1") == [(first, "cleared", None, None)]
    # the engine still proposes the cadre (marts.candidate); the list says what people decided
    listed = CliRunner().invoke(app, ["candidates", "--as-of", "2025-09-30", "--json"])
    mine, = (r for r in json.loads(listed.stdout) if r["id_number"] == cid)
    assert mine["decisions"] == [{"rule_id": "I1", "flag_id": first, "state": "cleared",
                                  "state_zh": "已排除"}]
    table = CliRunner().invoke(app, ["candidates", "--as-of", "2025-09-30"],
                               env={"COLUMNS": "250"})
    assert "I1 已排除" in table.stdout, table.stdout
    later = Scenario()
    _inspection(later, cid, "XC-2", "2025-10-10")
    later.load(home, tmp_path / "two")
    build(home, date(2025, 12, 31))
    with _con(home) as con:
        flags = _flags(con, cid, "I1")
        assert flags[0] == (first, "cleared", None, None)
        second = flags[1]
        assert second[1:] == ("flagged", ["inspection_finding:XC-2"], first)
        assert _matched(con, date(2025, 12, 31), cid, "I1") == second[0]
        assert "confirm" in decisions.allowed_actions(second[1])  # it can be decided


def _warning_world(s: Scenario, cid: str) -> None:
    s.add("annual_assessment", id_number=cid, name="己一", year=2024, grade="称职")
    # V2: a petition 部分属实 closed 2025-03-01 (a warning, no dimension: category 其他)
    s.add("petition_verification", case_id="XF-1", id_number=cid, name="己一", category="其他",
          received_on="2025-01-05", closed_on="2025-03-01", conclusion="部分属实",
          disposal="初步核实", outcome="无")


def test_a_cleared_warning_does_not_escalate_when_a_second_warning_comes(
        home: DataHome, tmp_path: Path) -> None:
    """Why 4a: a warning a person cleared still escalated to a candidate on a second one."""
    s = Scenario()
    cid = s.cadre("己一")
    _warning_world(s, cid)
    s.load(home, tmp_path / "one")
    build(home, date(2025, 4, 30))
    with _con(home) as con:
        (v2, state, _, _), = _flags(con, cid, "V2")
        assert state == "under_observation"
        _decide(con, v2, "clear", "2025-04-30")
    later = Scenario()
    later.add("petition_verification", case_id="XF-2", id_number=cid, name="己一",
              category="其他", received_on="2025-03-10", closed_on="2025-05-20",
              conclusion="部分属实", disposal="初步核实", outcome="无")
    later.load(home, tmp_path / "two")
    build(home, date(2025, 6, 30))
    with _con(home) as con:
        assert _flags(con, cid, "R1") == []  # the cleared XF-1 feeds no 考察期
        periods = con.execute("select opened_on from marts.observation_period where as_of = ? "
                              "and id_number = ?", [date(2025, 6, 30), cid]).fetchall()
        assert periods == [(date(2025, 5, 20),)]  # only the new warning opens one


def _overdue_finding_world(home: DataHome, tmp_path: Path, name: str) -> str:
    """A 2024 绩 of 65 and finding XC-9 (一般, 直接责任) still 未整改 after its 2025-03-10
    deadline: its 逾期未整改 deduction takes 绩 below 60, so it raises I2 and, by itself, D1."""
    s = Scenario()
    cid = s.cadre(name)
    s.add("annual_assessment", id_number=cid, name=name, year=2024, grade="称职",
          score_virtue=90, score_ability=90, score_diligence=90, score_performance=65,
          score_integrity=90)
    _inspection(s, cid, "XC-9", "2025-01-10", category="其他", severity="一般",
                responsibility="直接责任", rectify_by="2025-03-10", rectification="未整改",
                name=name)
    s.load(home, tmp_path / "drops")
    return cid


def test_an_overdue_finding_and_its_own_deduction_are_one_fact(
        home: DataHome, tmp_path: Path) -> None:
    """Why 4b: one overdue finding raised I2 and, through its own deduction, D1: counted as a
    second warning, a candidate 2.5 months before the 考察期 ended."""
    cid = _overdue_finding_world(home, tmp_path, "庚一")
    build(home, date(2025, 6, 30))
    with _con(home) as con:
        warned = {r[0] for r in con.execute(
            "select rule_id from marts.rule_hit where as_of = ? and id_number = ?",
            [date(2025, 6, 30), cid]).fetchall()}
        assert {"I2", "D1"} <= warned  # both warnings are there ...
        assert _flags(con, cid, "R1") == []  # ... but they are one fact: no escalation
    build(home, date(2025, 9, 12))  # I2's period: 2025-03-11 .. 2025-09-11, then escalation
    with _con(home) as con:
        assert len(_flags(con, cid, "R1")) == 1  # no improvement, decided the day after


def _observation(con: duckdb.DuckDBPyConnection, as_of: date, cid: str, rule: str) -> list:
    return con.execute("select raised_on, opened_on, ends_on from marts.observation_period "
                       "where as_of = ? and id_number = ? and rule_id = ?",
                       [as_of, cid, rule]).fetchall()


def test_a_new_warning_after_a_cleared_one_counts_from_its_own_new_evidence(
        home: DataHome, tmp_path: Path) -> None:
    """A cleared D1 (2024 德 55), then the 2025 assessment, still 德 55: a new D1 (new
    evidence), whose run of low profiles began under the cleared one. Its 考察期 was dated back
    to 2024-12-31, the cleared period, and so ended at once: an R1 candidate resting on what a
    person had cleared. It counts from its own new evidence (31 Dec 2025) instead."""
    s = Scenario()
    cid = s.cadre("癸一")
    s.add("annual_assessment", id_number=cid, name="癸一", year=2024, grade="称职", **LOW_VIRTUE)
    s.load(home, tmp_path / "one")
    build(home, date(2025, 3, 31))
    with _con(home) as con:
        (d1, _, _, _), = _flags(con, cid, "D1")
        _decide(con, d1, "clear", "2025-04-01")
    later = Scenario()
    later.add("annual_assessment", id_number=cid, name="癸一", year=2025, grade="称职",
              **LOW_VIRTUE)
    later.load(home, tmp_path / "two")
    build(home, date(2026, 1, 15))
    with _con(home) as con:
        flags = _flags(con, cid, "D1")
        assert [f[1] for f in flags] == ["cleared", "under_observation"]  # a new flag
        assert _observation(con, date(2026, 1, 15), cid, "D1") == [
            (date(2024, 12, 31), date(2025, 12, 31), date(2026, 6, 30))]
        assert _flags(con, cid, "R1") == []
    build(home, date(2026, 7, 1))  # its own 考察期 ended without improvement: R1 as usual
    with _con(home) as con:
        assert len(_flags(con, cid, "R1")) == 1


def test_clearing_an_overdue_finding_clears_the_d1_its_own_deduction_causes(
        home: DataHome, tmp_path: Path) -> None:
    """One fact is one piece of evidence: a person cleared the overdue finding's I2; the D1
    resting only on that finding's 逾期未整改 deduction still opened a 考察期 and made the cadre
    an R1 candidate when it ended. Evidence a cleared flag rested on feeds no 考察期."""
    cid = _overdue_finding_world(home, tmp_path, "庚二")
    build(home, date(2025, 6, 30))
    with _con(home) as con:
        (i2, _, _, _), = _flags(con, cid, "I2")
        assert len(_flags(con, cid, "D1")) == 1
        _decide(con, i2, "clear", "2025-07-01")
    for as_of in (date(2025, 12, 31), date(2026, 3, 1)):
        build(home, as_of)
        with _con(home) as con:
            assert _observation(con, as_of, cid, "D1") == []  # D1 still raised, feeds nothing
            assert _flags(con, cid, "R1") == [], as_of


def test_observation_period_boundaries_and_a_decided_extension(
        home: DataHome, tmp_path: Path) -> None:
    """rules.md, "Periods": from the flag date to the same day 6 months later, both inside;
    escalation the day after. A person's 延长考察期 moves the end."""
    s = Scenario()
    cid = s.cadre("辛一")
    s.add("annual_assessment", id_number=cid, name="辛一", year=2024, grade="称职",
          **LOW_VIRTUE)
    s.load(home, tmp_path / "drops")
    build(home, date(2025, 1, 31))
    with _con(home) as con:
        (d1, _, _, _), = _flags(con, cid, "D1")
        opened = con.execute("select opened_on, ends_on from marts.observation_period "
                             "where id_number = ? and rule_id = 'D1'", [cid]).fetchone()
    assert opened == (date(2024, 12, 31), date(2025, 6, 30))
    build(home, date(2025, 6, 30))  # the last day is inside the period
    with _con(home) as con:
        assert _flags(con, cid, "R1") == []
    build(home, date(2025, 7, 1))  # the day after: no improvement
    with _con(home) as con:
        assert len(_flags(con, cid, "R1")) == 1
        _decide(con, d1, "extend", "2025-06-01", observe_until=date(2025, 9, 30))
    build(home, date(2025, 7, 1))
    with _con(home) as con:
        ends = con.execute("select ends_on, end_set_by_decision from marts.observation_period "
                           "where as_of = ? and id_number = ? and rule_id = 'D1'",
                           [date(2025, 7, 1), cid]).fetchone()
        assert ends == (date(2025, 9, 30), True)
        assert con.execute("select count(*) from marts.rule_hit where as_of = ? and "
                           "id_number = ? and rule_id = 'R1'",
                           [date(2025, 7, 1), cid]).fetchone()[0] == 0


def test_only_registered_active_deciders_decide(home: DataHome, tmp_path: Path) -> None:
    s = Scenario()
    cid = s.cadre("壬一")
    s.add("annual_assessment", id_number=cid, name="壬一", year=2025, grade="不称职")
    s.load(home, tmp_path / "drops")
    build(home, date(2025, 12, 31))
    with _con(home) as con:
        (a1, _, _, _), = _flags(con, cid, "A1")
        before = con.execute("select count(*) from decisions.decision_log").fetchone()[0]
        for name, message in (("随便写的人", "未登记"), ("系统", "未登记"), (" ", "未填写决定人")):
            with pytest.raises(DecisionRefused, match=message):
                record_decision(con, Decision(a1, "confirm", date(2025, 12, 31), name, "核实"))
        decisions.disable_decider(con, DECIDER)
        with pytest.raises(DecisionRefused, match="已停用"):
            _decide(con, a1, "confirm", "2025-12-31")
        with pytest.raises(DecisionRefused, match="已停用"):
            decisions.recognise_portal_account(con, DECIDER)
        assert con.execute("select count(*) from decisions.decision_log").fetchone()[0] == before
        portal = decisions.recognise_portal_account(con, "portal:li.si", "干部科审核")
        record_decision(con, Decision(a1, "confirm", date(2025, 12, 31), portal, "核实属实"))
        assert decisions.list_deciders(con)[0]["name"] == "portal:li.si"
        with pytest.raises(DecisionRefused, match="只能由系统"):
            record_decision(con, Decision(a1, "close", date(2025, 12, 31), portal, "x"))


def test_a_promotion_block_is_in_the_register_and_can_be_appealed_and_lifted(
        home: DataHome, tmp_path: Path) -> None:
    """Why 1 (second half): nobody could lift a promotion block: S1 was not in the register."""
    s = Scenario()
    cid = s.cadre("癸一")
    s.add("annual_assessment", id_number=cid, name="癸一", year=2025, grade="称职")
    s.add("sanction", decision_no="纪〔2025〕9号", id_number=cid, name="癸一", measure="政务记过",
          decided_on="2025-09-01", reason_category="其他", effect_until=None)
    s.load(home, tmp_path / "drops")
    build(home, AS_OF_S1)
    with _con(home) as con:
        (s1, state, _, _), = _flags(con, cid, "S1")
        assert state == "blocking"
        assert set(decisions.allowed_actions(state)) == {"annotate", "appeal", "lift"}
        _decide(con, s1, "annotate", "2025-12-01", remark="处分决定已报纪委复核")
        _decide(con, s1, "appeal", "2025-12-02")
        _decide(con, s1, "appeal_upheld", "2025-12-10")
        assert _flags(con, cid, "S1")[0][1] == "blocking"  # back to where the appeal found it
        _decide(con, s1, "lift", "2025-12-20")
        assert _flags(con, cid, "S1")[0][1] == "lifted"
        # a promotion block is no proposal: not among the review's flags
        assert con.execute("select count(*) from decisions.flag_source where rule_id = 'S1'"
                           ).fetchone()[0] == 0
    build(home, AS_OF_S1)  # the decision sticks across rebuilds
    with _con(home) as con:
        assert _flags(con, cid, "S1") == [(s1, "lifted", None, None)]


AS_OF_S1 = date(2025, 12, 31)


def test_a_lifted_promotion_block_blocks_nothing_downstream(home: DataHome, tmp_path: Path) -> None:
    """A lift recorded in the register binds what reads the block: the candidate list's 影响期内,
    the review's 影响期 section and its 优秀-in-influence check. A later sanction opens a new S1
    flag, and that one blocks again until someone decides about it."""
    s = Scenario()
    cid = s.cadre("癸二")
    for year in (2024, 2025):  # D1, a warning resting on assessments: in the candidate list
        s.add("annual_assessment", id_number=cid, name="癸二", year=year, grade="称职",
              **LOW_VIRTUE)
    s.add("sanction", decision_no="纪〔2025〕10号", id_number=cid, name="癸二", measure="政务记过",
          decided_on="2025-03-01", reason_category="其他", effect_until=None)
    s.load(home, tmp_path / "drops")
    build(home, AS_OF_S1)

    def in_influence(as_of: date) -> bool:
        with duckdb.connect(str(home.warehouse_file), read_only=True) as con:
            return con.execute("select in_influence_period from marts.candidate where as_of = ? "
                               "and id_number = ?", [as_of, cid]).fetchone()[0]

    assert in_influence(AS_OF_S1)
    with _con(home) as con:
        (s1, _, _, _), = _flags(con, cid, "S1")
        _decide(con, s1, "lift", "2025-12-20")
        data = load_review(con, parse_period("2025H2"))
        view = unit_view(data, data.flags["org_name"].iloc[0])
        assert [row["届满情况"] for row in view.influence] == ["已解除限制（2025-12-20）"]
        lifted = con.execute("select lifted_on, lifted_by, lift_flag_id from "
                             "decisions.influence_lift").fetchall()
        assert lifted == [(date(2025, 12, 20), DECIDER, s1)]
    build(home, AS_OF_S1)
    assert not in_influence(AS_OF_S1)  # the lift binds the build too
    card = CliRunner().invoke(app, ["profile", cid, "--as-of", AS_OF_S1.isoformat()],
                              env={"COLUMNS": "250", "CADRE_HOME": str(home.root)})
    assert card.exit_code == 0, card.output
    assert f"2025-12-20（{DECIDER}）" in card.output  # the profile shows the block lifted

    later = Scenario()
    later.add("sanction", decision_no="纪〔2026〕2号", id_number=cid, name="癸二", measure="诫勉",
              decided_on="2026-02-01", reason_category="其他", effect_until=None)
    later.load(home, tmp_path / "later")
    build(home, date(2026, 3, 31))
    assert in_influence(date(2026, 3, 31))  # new evidence: a new block, not covered by the lift
    with _con(home) as con:
        states = [state for _, state, _, _ in _flags(con, cid, "S1")]
        assert states == ["lifted", "blocking"]
        open_blocks = con.execute(
            "select decision_no from decisions.influence_source where as_of = ? "
            "and lifted_on is null", [date(2026, 3, 31)]).fetchall()
        assert open_blocks == [("纪〔2026〕2号",)]


def test_a_warehouse_built_before_raised_on_existed_takes_decisions_before_its_next_build(
        home: DataHome, tmp_path: Path) -> None:
    """Upgrading the code must not stop `cadre decide` until the next build: the register's
    view reads marts.observation_period.raised_on, which an older build did not write. The
    column is added from opened_on (the flag date then), and the next build keeps the rows of
    other as-of dates."""
    s = Scenario()
    cid = s.cadre("己一")  # the name _warning_world's rows carry
    _warning_world(s, cid)
    s.load(home, tmp_path / "one")
    build(home, date(2025, 4, 30))
    with _con(home):  # the register and its views, as the older code left them
        pass
    with duckdb.connect(str(home.warehouse_file)) as con:  # as an older build left it
        con.execute("alter table marts.observation_period drop column raised_on")
        con.execute("drop table decisions.schema_version")  # the newer code's views differ
    with _con(home) as con:  # syncs the register: the views are created again
        (v2, state, _, _), = _flags(con, cid, "V2")
        assert state == "under_observation"
        assert con.execute("select count(*) from marts.observation_period "
                           "where raised_on is distinct from opened_on").fetchone()[0] == 0
    build(home, date(2025, 5, 31))
    with duckdb.connect(str(home.warehouse_file), read_only=True) as con:
        kept = con.execute("select distinct as_of from marts.observation_period order by 1"
                           ).fetchall()
    assert kept == [(date(2025, 4, 30),), (date(2025, 5, 31),)]
