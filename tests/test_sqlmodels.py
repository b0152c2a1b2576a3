"""The one SQL-model runner: discovery, order from what each model reads, grain checks.

Why these tests: the build order used to be a hand-kept list in two places; now it follows
from the SQL. The unit tests pin the order the warehouse needs (rules after the marts they
read, R1 after the observation periods that read the other rules' hits) and the errors a
broken model must give; the integration tests check every grain on real builds and that a
repeated key fails the build, naming the model and the key, without touching the warehouse.
"""

from __future__ import annotations

import shutil
from datetime import date
from pathlib import Path

import duckdb
import pytest

from pipelines import sqlmodels
from pipelines.build.steps import build
from pipelines.review import sql as review_sql
from pipelines.review.decisions import Decision, record_decision, sync_flags
from pipelines.settings import PROJECT_ROOT, DataHome
from pipelines.sqlmodels import ModelError, discover, order, read_model
from tests.build_fixtures import Scenario
from tests.review_scenario import flag_id
from tests.test_rules import assess

AS_OF = date(2026, 6, 30)


def _position(models: list[sqlmodels.Model]) -> dict[str, int]:
    return {m.key: i for i, m in enumerate(models)}


def test_every_sql_file_is_a_model_with_a_grain() -> None:
    models = discover()
    files = {p.relative_to(PROJECT_ROOT / "warehouse").as_posix()
             for folder in sqlmodels.MODEL_FOLDERS
             for p in (PROJECT_ROOT / "warehouse" / folder).glob("*.sql")}
    assert {m.path.relative_to(PROJECT_ROOT / "warehouse").as_posix() for m in models} == \
        files - set(sqlmodels.NOT_MODELS)
    assert all(m.grain for m in models)
    assert {m.kind for m in models} == {"table", "temp", "as_of", "rule", "view"}


def test_order_follows_what_each_model_reads() -> None:
    models = discover()
    at = _position(models)
    for model in models:
        for other in models:
            if other.kind != "rule" and sqlmodels._writes(other) in model.reads:
                assert at[other.key] < at[model.key], (other.key, model.key)
    rules = [m.key for m in models if m.kind == "rule"]
    # the observation periods read every rule's hits but R1's; R1 reads them
    assert all(at[r] < at["marts.observation_period"] for r in rules if r != "rules.R1")
    assert at["marts.observation_period"] < at["rules.R1"]
    assert all(at[r] < at["marts.cadre_flag"] < at["marts.candidate"] for r in rules)
    assert at["rules.D1"] > at["marts.cadre_profile"] and at["rules.S1"] > at["marts.influence_period"]
    assert at["decisions.flag_source"] < at["decisions.flag_state"] < at["followup.followup_case"]


def _model_file(folder: Path, name: str, text: str) -> Path:
    path = folder / f"{name}.sql"
    path.write_text(text, encoding="utf-8")
    return path


def test_a_model_without_a_grain_is_refused_naming_its_file(tmp_path: Path) -> None:
    path = _model_file(tmp_path, "thing", "-- core.thing: a thing\nselect 1 as id\n")
    with pytest.raises(ModelError, match=r"thing\.sql: header lacks '-- grain"):
        read_model(path)
    with pytest.raises(ModelError, match="first line must be"):
        read_model(_model_file(tmp_path, "x", "-- grain: id\nselect 1 as id\n"))


def test_depends_line_and_parsed_names(tmp_path: Path) -> None:
    parsed = read_model(_model_file(tmp_path, "a", "-- core.a: A\n-- grain: id\n"
                                    "-- Why: reads core.ignored_in_comment\n"
                                    "select id, 'core.not_a_table' as t from core.b join marts.c using (id)\n"))
    assert parsed.reads == {"core.b", "marts.c"}
    declared = read_model(_model_file(tmp_path, "d", "-- core.d: D\n-- grain: id\n"
                                      "-- depends: core.b\nselect * from core.b, core.e\n"))
    assert declared.reads == {"core.b"}


def test_a_circle_is_refused_naming_its_models(tmp_path: Path) -> None:
    a = read_model(_model_file(tmp_path, "a", "-- core.a: A\n-- grain: id\nselect * from core.b\n"))
    b = read_model(_model_file(tmp_path, "b", "-- core.b: B\n-- grain: id\nselect * from core.a\n"))
    with pytest.raises(ModelError, match="circle: core.a, core.b"):
        order([a, b])


def test_a_repeated_key_fails_the_run(tmp_path: Path) -> None:
    model = read_model(_model_file(tmp_path, "pair", "-- core.pair: P\n-- grain: id\n"
                                   "select * from (values (1, 'x'), (2, 'y'), (2, 'z')) as t(id, v)\n"))
    con = duckdb.connect()
    con.execute("create schema core")
    with pytest.raises(ModelError, match=r"pair\.sql \(core\.pair\): grain \(id\) repeats, 2 rows "
                                         r"for id=2"):
        sqlmodels.run(con, [model])


@pytest.mark.integration
def test_a_rule_whose_key_repeats_fails_the_build_and_changes_nothing(home: DataHome,
                                                                      tmp_path: Path) -> None:
    s = Scenario()
    cadre = s.cadre()
    assess(s, cadre, 2025, "不称职")
    s.load(home, tmp_path / "drops")
    build(home, AS_OF)  # every model's grain holds on a real build
    with duckdb.connect(str(home.warehouse_file), read_only=True) as con:
        before = con.execute("select * from marts.rule_hit order by all").fetchall()
    rules = tmp_path / "rules"
    shutil.copytree(PROJECT_ROOT / "warehouse" / "rules", rules)
    a1 = next(rules.glob("A1_*.sql"))
    lines = a1.read_text(encoding="utf-8").splitlines()
    header = [line for line in lines if line.startswith("--")][: next(
        i for i, line in enumerate(lines) if not line.startswith("--"))]
    body = "\n".join(lines[len(header):])
    a1.write_text("\n".join(header) + f"\nselect * from (\n{body}\n)\nunion all\n"
                  f"select * from (\n{body}\n)\n", encoding="utf-8")
    with pytest.raises(ModelError, match=rf"{a1.name} \(rules\.A1\): grain \(id_number\) "
                                         rf"repeats, 2 rows for id_number='{cadre}'"):
        build(home, AS_OF, rules / "ruleset.yaml")
    with duckdb.connect(str(home.warehouse_file), read_only=True) as con:
        assert con.execute("select * from marts.rule_hit order by all").fetchall() == before


def test_every_view_grain_holds_on_the_review_world(built: tuple[DataHome, dict[str, str]]) -> None:
    home, ids = built
    with duckdb.connect(str(home.warehouse_file)) as con:
        flag = flag_id(con, ids["乙三"], "U1")
        record_decision(con, Decision(flag, "confirm", date(2025, 8, 1), "部务会", "研究决定"))
        record_decision(con, Decision(flag, "adjust", date(2025, 9, 1), "部务会", "调整",
                                      document_no="组干〔2025〕8号", measure="调离岗位"))
        sync_flags(con)
        review_sql.set_context(con, date(2026, 3, 31), date(2025, 12, 31))
        views = review_sql.views()
        counts = {}
        for view in views:
            sqlmodels.check_grain(con, view)
            counts[view.key] = con.execute(f"select count(*) from {view.relation}").fetchone()[0]
    # not vacuous: the views the decisions feed have rows
    assert all(counts[k] for k in ("decisions.flag_state", "decisions.ledger_event",
                                   "followup.followup_case", "followup.recheck"))
