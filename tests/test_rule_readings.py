"""The readings of rules.md "How the rules are read", each at its edge, and issue 16's scenarios.

Each test loads small CSV drops through ``submit_file`` (as units send them), builds, and reads
the warehouse. Rule-set variants are copies of the shipped ``ruleset.yaml`` with one change.
"""

from __future__ import annotations

import re
from datetime import date, timedelta
from pathlib import Path

import duckdb
import pytest

from pipelines.build import ruleset as rulesets
from pipelines.build.steps import build
from pipelines.settings import PROJECT_ROOT, DataHome
from tests.build_fixtures import Scenario
from tests.test_rules import I1, V1, audit, finding, petition, report

pytestmark = pytest.mark.integration

AS_OF = date(2026, 6, 30)
RULES_DIR = PROJECT_ROOT / "warehouse" / "rules"
WINDOWED = ("P1", "V1", "V2", "I1", "U1", "U2")


def rows(home: DataHome, sql: str, params: list | None = None) -> list[tuple]:
    with duckdb.connect(str(home.warehouse_file), read_only=True) as con:
        return con.execute(sql, params or []).fetchall()


def fired(home: DataHome, cid: str, as_of: date = AS_OF) -> list[str]:
    return [r for (r,) in rows(home, "select distinct rule_id from marts.rule_hit where "
                                     "id_number = ? and as_of = ? order by 1", [cid, as_of])]


def ruleset_copy(tmp_path: Path, *edits: tuple[str, str], name: str = "ruleset.yaml") -> Path:
    """The shipped rule set with text replacements; each must match exactly once."""
    text = (RULES_DIR / "ruleset.yaml").read_text(encoding="utf-8")
    text = text.replace("rules_dir: .", f"rules_dir: {RULES_DIR}", 1)
    for old, new in edits:
        assert text.count(old) == 1, old
        text = text.replace(old, new)
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def window_edit(rule: str, value: str) -> tuple[str, str]:
    text = (RULES_DIR / "ruleset.yaml").read_text(encoding="utf-8")
    line = re.search(rf"^  {rule}: \{{.*window_months: 24.*\}}$", text, flags=re.M)
    assert line, rule
    return line.group(0), line.group(0).replace("window_months: 24", f"window_months: {value}")


# --- Windows: a positive number of months, or an explicit null for no limit -----------------

@pytest.mark.parametrize("rule", WINDOWED)
def test_window_of_zero_is_refused_when_the_rule_set_loads(rule: str, tmp_path: Path) -> None:
    path = ruleset_copy(tmp_path, window_edit(rule, "0"))
    with pytest.raises(rulesets.RulesetError, match=rf"rules\.{rule}\.window_months.*null"):
        rulesets.load(path)


@pytest.mark.parametrize(("edit", "message"), [
    (("V1: {window_months: 24}", "V1: {}"), r"rules\.V1: missing \['window_months'\]"),
    (("V2: {window_months: 24}", "V2: {window_months: 24, windw: 3}"), r"unknown parameter.*windw"),
    (("U2: {window_months: 24}", "U2: {window_months: -6}"), r"positive whole number"),
    (("U2: {window_months: 24}", "U2: {window_months: 2.5}"), r"positive whole number"),
    (("A3: {min_approval_ratio: \"2/3\"", "A3: {min_approval_ratio: \"3/2\""), r"fraction"),
    (("R1: {observation_months: 6}", "R1: {observation_months: null}"), r"value is required"),
    (("look_back_months: 24", "look_back_months: 0"), r"profile\.look_back_months"),
    (("history_years: 2", "history_years: 2\n  extra: 1"), r"profile"),
])
def test_the_whole_rule_set_is_validated_with_clear_messages(
        edit: tuple[str, str], message: str, tmp_path: Path) -> None:
    with pytest.raises(rulesets.RulesetError, match=message):
        rulesets.load(ruleset_copy(tmp_path, edit))


def test_null_window_means_no_limit_for_every_rule(home: DataHome, tmp_path: Path) -> None:
    """The same old facts: outside every default 24-month window; all count once null."""
    s = Scenario()
    old = {
        "I1": lambda c: finding(s, c, **I1, found_on="2016-05-10"),
        "U1": lambda c: audit(s, c, category="违规决策", reported_on="2016-05-10"),
        "U2": lambda c: audit(s, c, rating="较差", reported_on="2016-05-10"),
        "P1": lambda c: report(s, c, 2015, "瞒报", "2016-05-10"),
        "V1": lambda c: petition(s, c, **V1, closed_on="2016-05-10"),
        "V2": lambda c: petition(s, c, "部分属实", "2016-05-10"),
    }
    ids = {}
    for rule, add in old.items():
        ids[rule] = s.cadre()
        add(ids[rule])
    s.load(home, tmp_path / "drops")
    build(home, AS_OF)
    assert {rule: fired(home, cid) for rule, cid in ids.items()} == {r: [] for r in old}
    unlimited = ruleset_copy(tmp_path, *(window_edit(r, "null") for r in WINDOWED))
    build(home, AS_OF, unlimited)
    assert {rule: fired(home, cid) for rule, cid in ids.items()} == {r: [r] for r in old}


# --- Defaults are the written rules; stricter numbers live in a named profile ---------------

def test_shipped_rule_set_holds_only_rules_md_numbers() -> None:
    rs = rulesets.load(profile="")
    assert rs.profile is None and rs.overrides == ()
    assert set(rs.config["thresholds"].values()) == {60}
    assert rs.params["u1_min_amount_wan"] == 100
    rows = {(r["post_category"], r["sector"]): (r["threshold_virtue"], r["u1_min_amount_wan"])
            for r in rulesets.class_parameters(rs, [("县处级正职", "党政正职", "国有企业"),
                                                     ("县处级副职", "党政副职", "党政机关")])}
    assert set(rows.values()) == {(60, 100)}


def test_issue16_item6_one_sanction_on_a_party_head_is_no_candidate(home: DataHome,
                                                                    tmp_path: Path) -> None:
    """Issue 16 "Why" 6: one 党纪严重警告 made a 党政正职 a candidate (threshold 65) while the
    same record on a 党政副职 raised only S1; a 150 万元 直接责任 finding in a 国有企业 raised
    no U1 (bar 200). Under the written rules both posts get S1 alone, and the finding is a U1."""
    s = Scenario()
    head = s.cadre(post_category="党政正职", post_level="县处级正职")
    deputy = s.cadre(post_category="党政副职")
    soe = s.cadre(sector="国有企业", org_name="某国有公司")
    for cid in (head, deputy):
        s.add("sanction", decision_no=s.next_key("D"), id_number=cid, name=None,
              measure="党纪严重警告", decided_on="2025-09-01", reason_category="作风")
    audit(s, soe, category="资金违规使用", amount=150, reported_on="2026-01-10")
    s.load(home, tmp_path / "drops")
    build(home, AS_OF)
    assert fired(home, head) == ["S1"]
    assert fired(home, deputy) == ["S1"]
    assert fired(home, soe) == ["U1"]
    assert rows(home, "select distinct ruleset_profile from marts.rule_hit") == [
        (rulesets.DEFAULT_PROFILE,)]


def test_a_profile_is_named_recorded_and_its_numbers_carry_their_basis(
        home: DataHome, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from tests.test_rules import assess

    s = Scenario()
    head = s.cadre(post_category="党政正职", post_level="县处级正职")
    assess(s, head, 2025, "称职", virtue=62, ability=80, diligence=80, performance=80,
           integrity=80)
    soe = s.cadre(sector="国有企业", org_name="某国有公司")
    audit(s, soe, category="资金违规使用", amount=150, reported_on="2026-01-10")
    s.load(home, tmp_path / "drops")
    build(home, AS_OF)
    assert (fired(home, head), fired(home, soe)) == ([], ["U1"])
    monkeypatch.setenv("CADRE_RULESET_PROFILE", "strict_example")
    strict = rulesets.load()
    assert strict.profile_name == "strict_example" and strict.label != rulesets.load(
        profile="").label
    build(home, AS_OF)  # the setting selects the profile
    assert "D1" in fired(home, head) and fired(home, soe) == []
    assert rows(home, "select distinct ruleset_profile, ruleset_version from marts.rule_hit "
                      "union select distinct ruleset_profile, ruleset_version from "
                      "marts.cadre_flag union select distinct ruleset_profile, ruleset_version "
                      "from marts.cadre_profile union select ruleset_profile, ruleset_version "
                      "from marts.build_run") == [("strict_example", strict.label)]
    basis = dict(rows(home, "select rule_id, profile_changes_zh from marts.rule_basis "
                            "where profile_changes_zh is not null"))
    assert set(basis) == {"D1", "U1"}
    assert "党政正职：threshold.virtue = 65.0（默认 60.0；依据：示例数字" in basis["D1"]
    assert "[I]" in basis["U1"] and "国有企业" in basis["U1"]
    tags = dict(rows(home, "select rule_id, tags from marts.rule_basis"))
    assert tags["A1"] == "S,V" and tags["V1"] == "I"
    unverified = [r for (r,) in rows(home, "select rule_id from marts.rule_basis "
                                           "where unverified order by 1")]
    assert unverified == ["A1", "A2", "A3", "I1", "U1"]


@pytest.mark.parametrize(("text", "message"), [
    ("threshold.virtue: {value: 65, basis: \"示例数字，无成文依据；仅演示分类设定（seed article §2）[I]\"}",
     None),
    ("threshold.virtue: 65", "every number of a profile carries its basis"),
    ("threshold.virtue: {value: 65, basis: \"本地规定\"}", r"basis needs a \[V\]"),
    ("threshold.virtue: {value: 650, basis: \"x [I]\"}", "0 to 100"),
    ("threshold.virtu: {value: 65, basis: \"x [I]\"}", "unknown parameter"),
])
def test_profile_numbers_without_a_basis_are_refused(text: str, message: str | None,
                                                     tmp_path: Path) -> None:
    source = (RULES_DIR / "profiles" / "strict_example.yaml").read_text(encoding="utf-8")
    line = ("threshold.virtue: {value: 65, basis: \"示例数字，无成文依据；仅演示分类设定"
            "（seed article §2）[I]\"}")
    assert source.count(line) == 1
    path = tmp_path / "mine.yaml"
    path.write_text(source.replace(line, text), encoding="utf-8")
    if message is None:
        assert rulesets.load(profile=str(path)).profile_name == "strict_example"
        return
    with pytest.raises(rulesets.RulesetError, match=message):
        rulesets.load(profile=str(path))


def test_class_overrides_in_the_rule_set_itself_are_refused(tmp_path: Path) -> None:
    path = ruleset_copy(tmp_path, ("\ndimension_map:", "\noverrides:\n  - when: {sector: "
                                   "国有企业}\n    set: {U1.min_amount_wan: 200}\n\ndimension_map:"))
    with pytest.raises(rulesets.RulesetError, match="jurisdiction profile"):
        rulesets.load(path)


# --- Latest year and the roster as it stood on the as-of date --------------------------------

def test_latest_year_window_turns_on_the_last_day_of_the_year(home: DataHome,
                                                              tmp_path: Path) -> None:
    """As of 30 Dec 2025 the two years are 2023-2024; on 31 Dec 2025 they are 2024-2025."""
    from tests.test_rules import assess

    s = Scenario()
    cid = s.cadre()
    assess(s, cid, 2023, "不称职")
    s.load(home, tmp_path / "drops")
    build(home, date(2025, 12, 30))
    build(home, date(2025, 12, 31))
    assert "A1" in fired(home, cid, date(2025, 12, 30))
    assert "A1" not in fired(home, cid, date(2025, 12, 31))


def test_a5_rebuilt_for_a_past_date_reads_the_roster_as_it_stood_then(
        home: DataHome, tmp_path: Path) -> None:
    """Issue 16 "Why" 7: A5 disappeared from a rebuilt past date once a later roster ended the
    probation. The roster received by 2026-01-10 says 试用期; the one received 2026-09-01 says
    the probation is over: a rebuild as of 2026-06-30 still reads the first."""
    from pipelines.ingest.steps import submit_file
    from tests.test_rules import assess

    s = Scenario()
    cid = s.cadre(on_probation=True, appointed_on="2025-03-01")
    assess(s, cid, 2025, "称职", (1, 3, 5, 1))
    s.load(home, tmp_path / "drops")
    s.rows["roster"][0]["on_probation"] = False
    later = s.write(tmp_path, "roster", s.rows["roster"], "_later")
    assert submit_file(later, "ORG", "roster", home).status == "accepted"
    with duckdb.connect(str(home.warehouse_file)) as con:  # when each roster was received
        con.execute("update meta.submission set received_at = if(filename = 'roster.csv', "
                    "timestamp '2026-01-10 09:00', timestamp '2026-09-01 09:00') "
                    "where source = 'roster'")
    build(home, AS_OF)
    build(home, date(2026, 12, 31))
    assert fired(home, cid, AS_OF) == ["A5"]
    assert fired(home, cid, date(2026, 12, 31)) == []  # probation over by then
    build(home, AS_OF)  # a rebuild of the past date gives what was known then
    assert fired(home, cid, AS_OF) == ["A5"]


# --- Responsibility unknown -----------------------------------------------------------------

def test_blank_responsibility_weighs_as_leadership_and_the_receipt_asks_for_it(
        home: DataHome, tmp_path: Path) -> None:
    """Issue 16 "Why" 7: a blank 责任类型 weighed as 直接责任 (1.0). It weighs as 领导责任 (0.5),
    never satisfies I1's 直接责任, and the unit gets a note on the row (not a quarantine)."""
    from pipelines.ingest.steps import submit_file

    s = Scenario()
    blank, direct = s.cadre(), s.cadre()
    finding(s, blank, **{**I1, "responsibility": None})
    finding(s, direct, **I1)
    s.add("inspection_finding", finding_id="F-UNIT", round="2026年第一轮", org_name="某县",
          category="其他", description="单位层面问题", severity="一般", found_on="2026-01-10",
          rectification="已整改")  # unit-level: no person, nothing to ask
    rows_ = s.rows.pop("inspection_finding")
    s.load(home, tmp_path / "drops")
    receipt = submit_file(s.write(tmp_path, "inspection_finding", rows_), "INS",
                          "inspection_finding", home)
    assert (receipt.status, receipt.rows_accepted) == ("accepted", 3)
    notes = [(i.reason, i.source_row, i.header) for i in receipt.issues if i.scope == "note"]
    assert notes == [("responsibility_blank", 2, "责任类型")]
    assert "领导责任" in receipt.issues[0].message_zh and "补填" in receipt.issues[0].fix_zh
    build(home, AS_OF)
    assert fired(home, blank) == [] and fired(home, direct) == ["I1"]
    points = dict(rows(home, "select id_number, points from marts.deduction where "
                             "as_of = ? and period_kind = 'as_of'", [AS_OF]))
    assert (points[blank], points[direct]) == (5, 10)  # 较重 10 x 领导责任 0.5 / 直接责任 1.0
    assert rows(home, "select responsibility from core.evidence where id_number = ?",
                [blank]) == [("未注明",)]


def test_a_tolerance_basis_with_the_flag_blank_counts_as_tolerated_and_the_receipt_asks(
        home: DataHome, tmp_path: Path) -> None:
    """sources.md: 容错依据 is required when 容错免责 = 是, and says nothing of a basis given with
    the flag left blank. Counting such a finding in full made an I1 candidate of a cadre the
    unit had written a tolerance basis for; the kinder reading counts it as tolerated, loads
    the row and asks the unit for 是 or 否. An explicit 否 still counts, basis or not."""
    from pipelines.ingest.steps import submit_file

    s = Scenario()
    blank, denied = s.cadre(), s.cadre()
    finding(s, blank, **I1)
    finding(s, denied, **I1)
    audit(s, blank, category="损失浪费", amount=150)
    basis = {"tolerated": None, "tolerance_basis": "先行先试出现失误，经认定容错"}
    findings = [{**row, **basis} for row in s.rows.pop("inspection_finding")]
    findings[1]["tolerated"] = False  # 否 with a basis: the unit said no
    s.rows["audit_finding"] = [{**row, **basis} for row in s.rows["audit_finding"]]
    s.load(home, tmp_path / "drops")  # the roster and the audit (whose receipt asks the same)
    receipt = submit_file(s.write(tmp_path, "inspection_finding", findings), "INS",
                          "inspection_finding", home)
    assert (receipt.status, receipt.rows_accepted) == ("accepted", 2)
    notes = [(i.reason, i.source_row, i.header) for i in receipt.issues if i.scope == "note"]
    assert notes == [("tolerance_unstated", 2, "容错免责")]
    assert "暂按容错免责处理" in receipt.issues[0].message_zh
    assert "填“否”" in receipt.issues[0].fix_zh
    build(home, AS_OF)
    assert fired(home, blank) == [] and fired(home, denied) == ["I1"]
    assert rows(home, "select source, status, status_basis from core.evidence "
                      "where id_number = ? order by source", [blank]) == [
        ("audit_finding", "tolerated", "先行先试出现失误，经认定容错"),
        ("inspection_finding", "tolerated", "先行先试出现失误，经认定容错")]


# --- Sanctions never make a candidate by themselves ------------------------------------------

def _sanction(s: Scenario, cid: str, measure: str, decided_on: str, reason: str = "作风",
              effect_until: str | None = None) -> None:
    s.add("sanction", decision_no=s.next_key("D"), id_number=cid, name=None, measure=measure,
          decided_on=decided_on, reason_category=reason, effect_until=effect_until)


def test_issue16_d1_never_rests_on_sanctions_alone(home: DataHome, tmp_path: Path) -> None:
    """Issue 16 "Why" 6/4: one 党纪严重警告 (严重, −20 德) took a 德 of 70 to 50: D1, then R1 when
    the 考察期 ended — a candidate from a sanction alone. It now costs the points (the profile
    shows 德 below 60) and blocks promotion (S1), but raises no D1 and no R1; a non-sanction
    piece of evidence on the same dimension, or a base already below, still does."""
    from tests.test_rules import assess

    s = Scenario()
    scores = {"ability": 80, "diligence": 80, "performance": 80, "integrity": 80}
    only, with_other, low_base = s.cadre(), s.cadre(), s.cadre()
    for cid, virtue in ((only, 70), (with_other, 70), (low_base, 58)):
        assess(s, cid, 2024, "称职", virtue=virtue, **scores)
        assess(s, cid, 2025, "称职", virtue=virtue, **scores)
        _sanction(s, cid, "党纪严重警告", "2025-09-01")
    finding(s, with_other, category="选人用人", severity="一般", found_on="2025-10-10")
    s.load(home, tmp_path / "drops")
    build(home, AS_OF)
    assert fired(home, only) == ["S1"]
    assert rows(home, "select score_virtue, below_threshold from marts.cadre_profile where "
                      "id_number = ? and period_kind = 'as_of'", [only]) == [(50, ["virtue"])]
    assert {"D1", "S1"} <= set(fired(home, with_other))  # rests on the finding too
    assert {"D1", "S1"} <= set(fired(home, low_base))  # the assessment itself is below
    evidence = rows(home, "select evidence_ids from marts.rule_hit where rule_id = 'D1' and "
                          "id_number = ?", [with_other])[0][0]
    assert sorted(e.split(":")[0] for e in evidence) == ["inspection_finding", "sanction"]


def test_a_sanction_alone_does_not_make_a_second_warning(home: DataHome, tmp_path: Path) -> None:
    """A V2 (作风问题, 部分属实, closed 2026-01-05) opens a 考察期; a 党纪严重警告 for 作风 on
    2026-03-01 takes 德 from 75 (80 less the petition's 5) to 55: a D1 whose only evidence
    beyond the V2's is the sanction. It was counted as a second warning inside the V2's
    考察期, an R1 candidate caused by the sanction alone (不重复处理). The D1 stays raised; the
    same D1 with a finding of its own still escalates."""
    from tests.test_rules import assess, petition

    s = Scenario()
    only_sanction, with_finding = s.cadre(), s.cadre()
    for cid in (only_sanction, with_finding):
        assess(s, cid, 2025, "称职")
        petition(s, cid, "部分属实", "2026-01-05", category="作风问题")
        _sanction(s, cid, "党纪严重警告", "2026-03-01")
    finding(s, with_finding, category="选人用人", severity="一般", found_on="2026-03-02")
    s.load(home, tmp_path / "drops")
    build(home, AS_OF)
    assert {"V2", "D1", "S1"} <= set(fired(home, only_sanction))
    assert "R1" not in fired(home, only_sanction)
    assert "R1" in fired(home, with_finding)


def test_probation_in_the_party_needs_its_end_date_and_no_term_is_assumed(
        home: DataHome, tmp_path: Path) -> None:
    """Issue 16 "Why" 7: 留党察看 assumed a 12-month term when 影响期截止 was empty. Now a row
    without it is a row issue at ingest (sources.md), and a sent date is used as sent."""
    from pipelines.ingest.steps import submit_file

    s = Scenario()
    missing, given = s.cadre(), s.cadre()
    s.load(home, tmp_path / "drops")
    _sanction(s, missing, "留党察看", "2025-09-01")
    _sanction(s, given, "留党察看", "2025-09-01", effect_until="2029-08-31")
    receipt = submit_file(s.write(tmp_path, "sanction", s.rows["sanction"]), "DIS", "sanction",
                          home)
    assert (receipt.status, receipt.rows_accepted, receipt.rows_quarantined) == (
        "partially_accepted", 1, 1)
    issues = [(i.reason, i.source_row, i.header) for i in receipt.issues if i.scope == "row"]
    assert issues == [("required_if_missing", 2, "影响期截止")]
    assert "留党察看" in receipt.issues[0].message_zh
    build(home, AS_OF)
    assert rows(home, "select id_number, effect_until, derived from marts.influence_period") == [
        (given, date(2029, 8, 31), False)]
    influence = rulesets.load().config["influence_periods"]["留党察看"]
    assert "term_months" not in influence and influence["end_date_required"] is True


@pytest.mark.parametrize(("measure", "decided", "last_day"), [
    ("诫勉", "2026-01-01", date(2026, 6, 30)),  # 6 months, day 1 = the decision day
    ("诫勉", "2025-12-31", date(2026, 6, 29)),
    ("党纪警告", "2025-07-01", date(2026, 6, 30)),  # 12 months
    ("党纪严重警告", "2025-03-15", date(2026, 9, 14)),  # 18 months
    ("政务记过", "2025-08-31", date(2026, 8, 30)),
    ("诫勉", "2025-08-31", date(2026, 2, 27)),  # no 31 Feb: last day of Feb, then the day before
])
def test_influence_periods_count_the_decision_day_as_day_one(
        measure: str, decided: str, last_day: date, home: DataHome, tmp_path: Path) -> None:
    s = Scenario()
    cid = s.cadre()
    _sanction(s, cid, measure, decided)
    s.load(home, tmp_path / "drops")
    build(home, last_day)
    build(home, last_day + timedelta(days=1))
    assert rows(home, "select as_of, effect_until, active from marts.influence_period "
                      "order by as_of") == [(last_day, last_day, True),
                                            (last_day + timedelta(days=1), last_day, False)]
    assert fired(home, cid, last_day) == ["S1"]
    assert fired(home, cid, last_day + timedelta(days=1)) == []


def test_issue16_u2_hits_every_cadre_of_a_multi_cadre_audit(home: DataHome,
                                                            tmp_path: Path) -> None:
    """Issue 16 "Why" 7: U2's deduction (审计评价较差 → 绩) hit only item 1's cadre."""
    s = Scenario()
    first, second = s.cadre(), s.cadre()
    for item, cid in enumerate((first, second, first), start=1):
        s.add("audit_finding", audit_id="AU-2026-7", item_no=item, id_number=cid, name=None,
              audit_type="经济责任审计", category="其他", responsibility="直接责任", rating="较差",
              reported_on="2026-01-10")
    s.load(home, tmp_path / "drops")
    build(home, AS_OF)
    assert (fired(home, first), fired(home, second)) == (["U2"], ["U2"])
    lost = rows(home, "select id_number, count(*), sum(points) from marts.deduction where "
                      "category = '审计评价较差' and period_kind = 'as_of' group by 1 order by 1")
    assert sorted(lost) == sorted([(first, 1, 10), (second, 1, 10)])  # once per audit and cadre


def test_a_wasteful_item_of_a_poorly_rated_audit_costs_points_for_both_reasons(
        home: DataHome, tmp_path: Path) -> None:
    """An audit item of 损失浪费 (→ 绩) in an audit rated 较差 (→ 绩) is one evidence row with two
    reasons to lose 绩 points; the build must not fail on marts.deduction's grain for it."""
    s = Scenario()
    cid = s.cadre()
    s.add("audit_finding", audit_id="AU-2026-9", item_no=1, id_number=cid, name=None,
          audit_type="经济责任审计", category="损失浪费", responsibility="直接责任", rating="较差",
          reported_on="2026-01-10")
    s.load(home, tmp_path / "drops")
    build(home, AS_OF)
    lost = rows(home, "select category, dimension from marts.deduction where id_number = ? "
                      "and period_kind = 'as_of' order by 1", [cid])
    assert lost == [("审计评价较差", "performance"), ("损失浪费", "performance")]


# --- Counting: one fact is one piece of evidence ----------------------------------------------

def test_one_report_years_omission_found_again_costs_points_once(home: DataHome,
                                                                 tmp_path: Path) -> None:
    """rules.md "Counting": P2 counts report years, not check batches, and one fact is one piece
    of evidence. The profile deducted every batch: a 2024 漏报 found on 2025-03-01 and again
    on 2026-03-01 cost 廉 5 twice, took a 基本称职 cadre (65) to 55 and raised D1 (and so, six
    months on, an R1 candidate) where one check leaves 60. It costs points once, for the
    earliest check; the later one is listed as repeated with 0 points, and when the earliest is
    outside the window a re-check does not bring the omission back. Two report years still
    cost twice, and a 瞒报 found twice no longer takes 德/廉 to 40."""
    from tests.test_rules import assess

    s = Scenario()
    twice, once, two_years, concealed = s.cadre(), s.cadre(), s.cadre(), s.cadre()
    old_again = s.cadre()
    assess(s, old_again, 2025, "基本称职")
    report(s, old_again, 2023, "漏报", "2024-03-01")
    report(s, old_again, 2023, "漏报", "2026-03-01")
    for cid in (twice, once, two_years):
        assess(s, cid, 2025, "基本称职")
        report(s, cid, 2024, "漏报", "2025-03-01")
    report(s, twice, 2024, "漏报", "2026-03-01")
    report(s, two_years, 2025, "漏报", "2026-03-01")
    assess(s, concealed, 2025, "称职")
    report(s, concealed, 2024, "瞒报", "2025-03-01")
    report(s, concealed, 2024, "瞒报", "2026-03-01")
    s.load(home, tmp_path / "drops")
    build(home, AS_OF)

    def integrity(cid: str) -> tuple:
        return rows(home, "select score_virtue, score_integrity, below_threshold from "
                          "marts.cadre_profile where id_number = ? and period_kind = 'as_of'",
                    [cid])[0]

    assert integrity(once) == (65, 60, [])
    assert integrity(twice) == (65, 60, [])
    assert "D1" not in fired(home, twice)
    assert rows(home, "select fact_date, points, status from marts.deduction where id_number = ? "
                      "and period_kind = 'as_of' order by fact_date", [twice]) == [
        (date(2025, 3, 1), 5, "counted"), (date(2026, 3, 1), 0, "repeated")]
    assert integrity(two_years) == (65, 55, ["integrity"])
    assert "D1" in fired(home, two_years) and "P2" in fired(home, two_years)
    assert integrity(concealed) == (60, 60, [])
    assert fired(home, concealed) == ["P1"]
    assert integrity(old_again) == (65, 65, [])


def test_a_d1_tipped_by_the_first_warnings_own_deduction_is_no_second_warning(
        home: DataHome, tmp_path: Path) -> None:
    """rules.md "Counting": a warning caused only by the deductions of another warning's own
    evidence is not a second warning. A V2 (作风问题, 部分属实, closed 2026-01-05) costs 德 5; a
    2025-03-01 finding (政治建设, 严重, −20) had left 德 at 60, not low, for ten months. The V2's
    own 5 points take 德 to 55: a D1 dated 2026-06-30, inside the V2's 考察期, whose evidence
    beyond the V2's is only that old finding. It was counted as a second warning and made the
    cadre an R1 candidate at once; nothing new happened in the 考察期. Controls: a new finding
    inside the period that helps take 德 below is a second warning; so is a D1 that stays below
    without the V2's points (findings of 2026-01-02, raised at the next half-year end)."""
    from tests.test_rules import assess

    s = Scenario()
    tipped, new_inside, low_anyway = s.cadre(), s.cadre(), s.cadre()
    for cid in (tipped, new_inside, low_anyway):
        assess(s, cid, 2025, "称职")
        petition(s, cid, "部分属实", "2026-01-05", category="作风问题")
    finding(s, tipped, category="政治建设", severity="严重", found_on="2025-03-01")
    finding(s, new_inside, category="政治建设", severity="较重", found_on="2025-03-01")
    finding(s, new_inside, category="选人用人", severity="较重", found_on="2026-03-01")
    finding(s, low_anyway, category="政治建设", severity="严重", found_on="2026-01-02")
    finding(s, low_anyway, category="选人用人", severity="较重", found_on="2026-01-02")
    s.load(home, tmp_path / "drops")
    build(home, AS_OF)
    assert fired(home, tipped) == ["D1", "V2"]
    assert rows(home, "select rule_id, escalation from marts.observation_period where "
                      "id_number = ? and as_of = ? order by 1", [tipped, AS_OF]) == [
        ("D1", None), ("V2", None)]
    assert fired(home, new_inside) == ["D1", "R1", "V2"]
    assert fired(home, low_anyway) == ["D1", "R1", "V2"]
