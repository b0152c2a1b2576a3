"""A small, fixed review world for the decision, report, follow-up and DAG tests.

Loaded the way units send data (CSV drops through ``submit_file``, via tests/build_fixtures)
and built with the real build, so the review layer is tested on what the build really writes.
Two units; what each cadre is there for:

市甲局  甲一  2025 不称职                         -> A1 candidate (+ D1 warning)
        甲二  瞒报 on 2025-03-10, scores 90       -> P1 candidate
        甲三  2025 优秀, 诫勉 2025-05-01            -> 优秀 inside an influence period
        甲四  2025 优秀; 甲五 2025 称职             -> 市甲局 优秀 2/5 = 40%: over the cap
市乙局  乙一  2025 优秀; 乙四、乙五 2025 称职       -> 市乙局 优秀 1/5 = 20%: within the cap
        乙二  2025 称职, 德 55                     -> D1 warning
        乙三  违规决策 直接责任 2025-05-10          -> U1 candidate (adjusted in some tests)
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

from pipelines.build.steps import build
from pipelines.settings import DataHome
from tests.build_fixtures import Scenario

AS_OF = date(2025, 12, 31)
JIA, YI = "市甲局", "市乙局"
SCORES_90 = {f"score_{d}": 90 for d in ("virtue", "ability", "diligence", "performance",
                                        "integrity")}


def assess(s: Scenario, cid: str, name: str, year: int, grade: str, **scores: float) -> None:
    s.add("annual_assessment", id_number=cid, name=name, year=year, grade=grade, **scores)


def review_world(s: Scenario) -> dict[str, str]:
    """Add the cadres and facts above to ``s``; returns name -> 身份证号."""
    ids: dict[str, str] = {}
    for name, unit in (("甲一", JIA), ("甲二", JIA), ("甲三", JIA), ("甲四", JIA), ("甲五", JIA),
                       ("乙一", YI), ("乙二", YI), ("乙三", YI), ("乙四", YI), ("乙五", YI)):
        ids[name] = s.cadre(name, org_name=unit, post_title="副局长")
    assess(s, ids["甲一"], "甲一", 2025, "不称职")
    assess(s, ids["甲二"], "甲二", 2025, "称职", **SCORES_90)
    s.add("personal_report_check", batch_id="2025-1", id_number=ids["甲二"], name="甲二",
          report_year=2024, check_mode="随机抽查", result="瞒报", items=["房产"], item_count=1,
          checked_on="2025-03-10")
    assess(s, ids["甲三"], "甲三", 2025, "优秀", **{**SCORES_90, "score_virtue": 95})
    s.add("sanction", decision_no="纪〔2025〕1号", id_number=ids["甲三"], name="甲三",
          measure="诫勉", decided_on="2025-05-01", reason_category="其他", effect_until=None)
    assess(s, ids["甲四"], "甲四", 2025, "优秀")
    assess(s, ids["甲五"], "甲五", 2025, "称职")
    assess(s, ids["乙一"], "乙一", 2025, "优秀")
    assess(s, ids["乙二"], "乙二", 2025, "称职", **{**SCORES_90, "score_virtue": 55})
    assess(s, ids["乙三"], "乙三", 2025, "称职", **SCORES_90)
    s.add("audit_finding", audit_id="审〔2025〕7号", item_no=1, id_number=ids["乙三"], name="乙三",
          audit_type="经济责任审计", category="违规决策", amount_wan=20, responsibility="直接责任",
          rating=None, reported_on="2025-05-10", tolerated=False, tolerance_basis=None)
    assess(s, ids["乙四"], "乙四", 2025, "称职")
    assess(s, ids["乙五"], "乙五", 2025, "称职")
    return ids


def load_review_world(home: DataHome, folder: Path, as_of: date = AS_OF) -> dict[str, str]:
    s = Scenario()
    ids = review_world(s)
    s.load(home, folder)
    build(home, as_of)
    return ids


def flag_id(home_or_con, name_id: str, rule_id: str) -> str:  # noqa: ANN001
    """The flag id the register gives ``rule_id`` raised for the cadre with this ID."""
    import duckdb

    from pipelines.review import decisions

    own = not isinstance(home_or_con, duckdb.DuckDBPyConnection)
    con = duckdb.connect(str(home_or_con.warehouse_file)) if own else home_or_con
    try:
        decisions.sync_flags(con)
        rows = con.execute("select flag_id from decisions.flag_register where id_number = ? "
                           "and rule_id = ?", [name_id, rule_id]).fetchall()
    finally:
        if own:
            con.close()
    assert len(rows) == 1, (name_id, rule_id, rows)
    return rows[0][0]


def copy_world(world_root: Path, target: Path) -> DataHome:
    """A copy of a built data folder at ``target``, to write in without touching the original."""
    import shutil

    shutil.copytree(world_root, target)
    return DataHome(target.resolve())


def private_copy(world_root: Path, tmp_path: Path, monkeypatch) -> DataHome:  # noqa: ANN001
    """A private copy of a built data folder (a test may record decisions in it), made current
    (CADRE_HOME): what the ``built`` fixture of tests/conftest.py hands each test."""
    home = copy_world(world_root, tmp_path / "home")
    monkeypatch.setenv("CADRE_HOME", str(home.root))
    return home
