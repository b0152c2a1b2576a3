"""Build: identity, post history, tolerance, traceability, as-of reproducibility, versions, DAG."""

from __future__ import annotations

import shutil
from datetime import date
from pathlib import Path

import duckdb
import pytest

from pipelines.build import ruleset as rulesets
from pipelines.build.steps import build
from pipelines.ingest.steps import submit_file
from pipelines.review import sql as review_sql
from pipelines.settings import PROJECT_ROOT, DataHome
from tests.build_fixtures import Scenario, new_id
from tests.test_rules import I1, assess, audit, finding, petition, sanction

pytestmark = pytest.mark.integration

AS_OF = date(2026, 6, 30)


def _rows(home: DataHome, sql: str, params: list | None = None) -> list[tuple]:
    con = duckdb.connect(str(home.warehouse_file), read_only=True)
    try:
        return con.execute(sql, params or []).fetchall()
    finally:
        con.close()


@pytest.fixture
def identity_home(home: DataHome, tmp_path: Path) -> tuple[DataHome, dict[str, str]]:
    s = Scenario()
    ids = {"wang_a": s.cadre("王伟"), "wang_b": s.cadre("王伟", org_name="某县财政局"),
           "li": s.cadre("李娜"), "unknown": new_id()}
    # A finding on 王伟 A's ID; one on 王伟 B's ID written with A's org; a typo'd name; a stranger.
    finding(s, ids["wang_a"], **I1)
    s.rows["inspection_finding"][-1]["name"] = "王伟"
    finding(s, ids["wang_b"], category="其他")
    s.rows["inspection_finding"][-1]["name"] = "王伟"
    petition(s, ids["li"], "部分属实", "2026-01-05")
    s.rows["petition_verification"][-1]["name"] = "王伟"  # filed under 李娜's ID, another name
    audit(s, ids["unknown"], category="违规决策")
    s.load(home, tmp_path / "drops")
    build(home, AS_OF)
    return home, ids


def test_identity_is_the_id_not_the_name(identity_home: tuple[DataHome, dict[str, str]]) -> None:
    home, ids = identity_home
    flags = dict(_rows(home, "select id_number, list(rule_id order by rule_id) from "
                             "marts.cadre_flag group by id_number"))
    assert flags.get(ids["wang_a"]) == ["I1"]
    assert ids["wang_b"] not in flags  # the other 王伟 is not touched by A's finding
    # filed under 李娜's ID with another name: 身份存疑, counts toward no flag until the unit
    # corrects it or ORG confirms it (rules.md, "Identity doubts stop evidence")
    assert ids["li"] not in flags


def test_name_mismatch_is_reported_not_trusted(
        identity_home: tuple[DataHome, dict[str, str]]) -> None:
    home, ids = identity_home
    rows = _rows(home, "select id_number, roster_name, fact_name, fact_name_is_other_cadre, "
                       "filename, source_row from core.identity_name_mismatch")
    assert rows == [(ids["li"], "李娜", "王伟", True, "petition_verification.csv", 2)]


def test_unknown_id_waits_in_the_unmatched_queue(
        identity_home: tuple[DataHome, dict[str, str]]) -> None:
    home, ids = identity_home
    rows = _rows(home, "select id_number, source, unit, filename from core.unmatched_fact")
    assert rows == [(ids["unknown"], "audit_finding", "AUD", "audit_finding.csv")]
    assert not _rows(home, "select * from core.evidence where id_number = ?", [ids["unknown"]])
    assert not _rows(home, "select * from marts.rule_hit where id_number = ?", [ids["unknown"]])


def test_fact_is_judged_against_the_post_held_then(home: DataHome, tmp_path: Path) -> None:
    """Under the strict_example profile (国有企业 bar 200 万元): 150 万元 in a 国有企业 post is
    no U1, though today's 党政机关 bar is 100."""
    s = Scenario()
    cid = s.cadre(sector="国有企业", org_name="某国有公司", appointed_on="2022-01-01")
    old_roster = s.write(tmp_path, "roster", s.rows["roster"], "_2024")
    s.rows["roster"] = []
    s.cadre(id_number=cid, sector="党政机关", org_name="某县政府", appointed_on="2025-07-01")
    new_roster = s.write(tmp_path, "roster", s.rows["roster"], "_2026")
    for path in (old_roster, new_roster):
        assert submit_file(path, "ORG", "roster", home).status == "accepted"
    s.rows["roster"] = []
    audit(s, cid, category="资金违规使用", amount=150, reported_on="2025-03-01")
    audit(s, cid, category="资金违规使用", amount=150, reported_on="2025-09-01")
    s.load(home, tmp_path / "drops")
    build(home, AS_OF, profile="strict_example")
    assert _rows(home, "select sector, org_name from core.evidence order by fact_date") == [
        ("国有企业", "某国有公司"), ("党政机关", "某县政府")]
    hits = _rows(home, "select evidence_ids from marts.rule_hit where rule_id = 'U1'")
    assert len(hits) == 1 and len(hits[0][0]) == 1  # only the finding after the move counts
    assert _rows(home, "select count(*) from core.cadre_post_history")[0][0] == 2


def test_tolerated_and_dismissed_stay_visible_and_never_count(home: DataHome,
                                                              tmp_path: Path) -> None:
    s = Scenario()
    cid = s.cadre()
    finding(s, cid, **I1, tolerated=True)
    petition(s, cid, "不属实", "2026-01-05", category="廉洁问题", outcome="诫勉")
    s.load(home, tmp_path / "drops")
    build(home, AS_OF)
    assert not _rows(home, "select * from marts.rule_hit where id_number = ?", [cid])
    rows = _rows(home, "select source, status, status_basis, points from marts.deduction "
                       "where period_kind = 'as_of' order by source")
    assert rows == [("inspection_finding", "tolerated", "先行先试出现失误，经认定容错", 0),
                    ("petition_verification", "dismissed", "核查结论：不属实", 0)]
    scores = _rows(home, "select score_diligence, score_integrity from marts.cadre_profile "
                         "where period_kind = 'as_of'")
    assert scores == [(80, 80)]


def test_every_point_lost_traces_to_evidence_and_rule(home: DataHome, tmp_path: Path) -> None:
    s = Scenario()
    cid = s.cadre()
    assess(s, cid, 2025, "称职")
    finding(s, cid, **I1)  # 较重 10 x 直接责任 1.0 on 勤
    audit(s, cid, category="资金违规使用", responsibility="领导责任")  # 一般 5 x 0.5 on 廉
    sanction(s, cid, "诫勉", "2026-02-01")  # 较重 10 on 德 (reason 其他)
    s.load(home, tmp_path / "drops")
    build(home, AS_OF)
    rows = _rows(home, "select dimension, points, rule_ref, filename, source_row from "
                       "marts.deduction where period_kind = 'as_of' order by dimension")
    assert rows == [
        ("diligence", 10, "dimension_map.inspection_finding.不担当不作为",
         "inspection_finding.csv", 2),
        ("integrity", 2.5, "dimension_map.audit_finding.资金违规使用", "audit_finding.csv", 2),
        ("virtue", 10, "dimension_map.sanction.其他", "sanction.csv", 2)]
    profile = _rows(home, "select base_source, score_virtue, score_diligence, score_integrity, "
                          "score_overall from marts.cadre_profile where period_kind = 'as_of'")
    assert profile == [("grade", 70, 70, 77.5, 75.5)]


def _marts_snapshot(home: DataHome, as_of: date) -> dict[str, list[tuple]]:
    tables = ["rule_hit", "cadre_flag", "candidate", "cadre_profile", "deduction",
              "influence_period", "observation_period", "flag_raised"]
    return {t: sorted(map(repr, _rows(home, f"select * from marts.{t} where as_of = ?", [as_of])))
            for t in tables}


def test_as_of_is_reproducible_and_replaces_only_its_own_date(home: DataHome,
                                                              tmp_path: Path) -> None:
    s = Scenario()
    cid = s.cadre()
    assess(s, cid, 2025, "不称职")
    petition(s, cid, "部分属实", "2026-01-05")
    sanction(s, cid, "党纪警告", "2025-11-01")
    s.load(home, tmp_path / "drops")
    build(home, AS_OF)
    first = _marts_snapshot(home, AS_OF)
    build(home, date(2025, 6, 30))
    earlier = _marts_snapshot(home, date(2025, 6, 30))
    build(home, AS_OF)
    assert _marts_snapshot(home, AS_OF) == first
    assert _marts_snapshot(home, date(2025, 6, 30)) == earlier
    assert first["rule_hit"] and not earlier["rule_hit"]  # nothing was known a year before
    assert _rows(home, "select count(*) from marts.build_run")[0][0] == 2


def test_flags_of_builds_before_marts_flag_raised_are_filled_from_their_marts(
        home: DataHome, tmp_path: Path) -> None:
    """A warehouse built before marts.flag_raised existed: its earlier dates are filled from
    their own marts rows, by the next build or by the review layer's upgrade, with the rows
    their own builds would have given, and the connection's variables are left as they were."""
    s = Scenario()
    cid = s.cadre()
    assess(s, cid, 2024, "不称职")
    petition(s, cid, "部分属实", "2026-01-05")
    s.load(home, tmp_path / "drops")
    earlier = date(2025, 6, 30)
    build(home, earlier)
    build(home, AS_OF)
    query = "select * from marts.flag_raised order by all"
    as_built = _rows(home, query)
    assert {row[0] for row in as_built} == {earlier, AS_OF}
    con = duckdb.connect(str(home.warehouse_file))
    try:
        con.execute("drop table marts.flag_raised")  # as before the table existed
        con.execute("set variable as_of = ?::date", [date(2020, 1, 1)])
        review_sql.ensure(con)  # the review layer's upgrade, before the next build
        assert con.execute(query).fetchall() == as_built
        assert con.execute("select getvariable('as_of')").fetchone()[0] == date(2020, 1, 1)
        assert con.execute("select count(*) from decisions.flag_raised").fetchone()[0] == len(
            as_built)
        con.execute("delete from marts.flag_raised where as_of = ?", [earlier])
    finally:
        con.close()
    build(home, AS_OF)  # the build fills what is missing too
    assert _rows(home, query) == as_built


def test_flags_record_the_rule_set_version(home: DataHome, tmp_path: Path) -> None:
    s = Scenario()
    cid = s.cadre()
    assess(s, cid, 2025, "称职", virtue=62, ability=80, diligence=80, performance=80,
           integrity=80)
    s.load(home, tmp_path / "drops")
    default = rulesets.load()
    build(home, AS_OF)
    assert _rows(home, "select distinct ruleset_version from marts.cadre_profile") == [
        (default.label,)]
    assert not _rows(home, "select * from marts.rule_hit")
    # A jurisdiction's copy: threshold 65 for everybody, same declared version.
    rules_dir = PROJECT_ROOT / "warehouse" / "rules"
    text = (rules_dir / "ruleset.yaml").read_text(encoding="utf-8")
    copy = tmp_path / "ruleset.yaml"
    copy.write_text(text.replace("thresholds: {virtue: 60", "thresholds: {virtue: 65")
                    .replace("rules_dir: .", f"rules_dir: {rules_dir}"), encoding="utf-8")
    changed = rulesets.load(copy)
    assert changed.version == default.version and changed.label != default.label
    build(home, AS_OF, copy)
    hits = _rows(home, "select rule_id, ruleset_version from marts.rule_hit order by rule_id")
    assert hits[0] == ("D1", changed.label)  # below 65 since 2025H2; R1 follows (no improvement)
    assert {version for _, version in hits} == {changed.label}


def test_a_failing_build_leaves_the_previous_results(home: DataHome, tmp_path: Path) -> None:
    s = Scenario()
    assess(s, s.cadre(), 2025, "不称职")
    s.load(home, tmp_path / "drops")
    build(home, AS_OF)
    before = _marts_snapshot(home, AS_OF)
    broken = tmp_path / "rules"
    shutil.copytree(PROJECT_ROOT / "warehouse" / "rules", broken)
    a2 = broken / "A2_grade_basic_consecutive.sql"
    a2.write_text(a2.read_text(encoding="utf-8").replace("from recent", "from no_such_table"),
                  encoding="utf-8")
    with pytest.raises(RuntimeError, match="A2_grade_basic_consecutive.sql"):
        build(home, AS_OF, broken / "ruleset.yaml")
    assert _marts_snapshot(home, AS_OF) == before


def test_bad_rule_set_is_refused_before_any_sql(tmp_path: Path) -> None:
    profiles = PROJECT_ROOT / "warehouse" / "rules" / "profiles"
    text = (profiles / "strict_example.yaml").read_text(encoding="utf-8")
    bad = tmp_path / "bad_profile.yaml"
    bad.write_text(text.replace("- when: {sector: 国有企业}", "- when: {sector: 国企}"),
                   encoding="utf-8")
    with pytest.raises(rulesets.RulesetError, match="国企"):
        rulesets.load(profile=str(bad))


def test_overlapping_influence_periods_longest_wins(home: DataHome, tmp_path: Path) -> None:
    s = Scenario()
    cid = s.cadre()
    sanction(s, cid, "诫勉", "2026-03-01")  # to 2026-08-31 (the decision day is day 1)
    sanction(s, cid, "政务记过", "2026-01-15")  # to 2027-01-14
    s.load(home, tmp_path / "drops")
    build(home, AS_OF)
    rows = _rows(home, "select measure, effect_until, derived, blocks_until, governing from "
                       "marts.influence_period order by decided_on")
    assert rows == [("政务记过", date(2027, 1, 14), True, date(2027, 1, 14), True),
                    ("诫勉", date(2026, 8, 31), True, date(2027, 1, 14), False)]


def test_build_dag_is_data_aware_in_the_writer_pool() -> None:
    from airflow.dag_processing.dagbag import DagBag

    from pipelines.contracts import evidence_sources
    from pipelines.orchestration.assets import WAREHOUSE_POOL, build_asset, raw_asset

    bag = DagBag(dag_folder=str(PROJECT_ROOT / "dags" / "build.py"))
    assert not bag.import_errors
    dag = bag.dags["build_profiles"]
    condition = dag.timetable.asset_condition
    # every evidence source triggers a build; the decision drop (role: decision) does not
    assert {a.name for a in condition.objects} == {raw_asset(s)["name"] for s in evidence_sources()}
    assert "cadre_raw_decision" not in {a.name for a in condition.objects}
    assert type(condition).__name__ == "AssetAny"
    assert {t.pool for t in dag.tasks} == {WAREHOUSE_POOL}
    assert all(t.retries >= 1 for t in dag.tasks)
    assert [o.name for o in dag.get_task("publish").outlets] == [build_asset()["name"]]
    assert dag.doc_md
