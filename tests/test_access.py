"""Access tiers: the analysts' snapshot is pseudonymous (no name, ID or birth date; every
combination of unit x post level x sex x age band shared by >= 5 cadres), the supervisors'
review snapshot is identified and owner-only, and both follow every decision at once."""

from __future__ import annotations

import hashlib
import stat
from datetime import date
from pathlib import Path

import duckdb
import pandas as pd
import pytest
from typer.testing import CliRunner

from pipelines import warehouse
from pipelines.build.steps import build
from pipelines.cli.main import app
from pipelines.publish.pseudonymise import K_MIN, coarsen
from pipelines.publish.snapshot import (
    FLAG_ID_COLUMNS,
    PERSON_COLUMNS,
    flag_key,
    pseudonym_key,
    publish,
)
from pipelines.review import decisions
from pipelines.settings import DataHome
from tests.build_fixtures import Scenario, new_id
from tests.review_scenario import register_deciders

pytestmark = pytest.mark.integration

AS_OF = date(2026, 6, 30)
runner = CliRunner()


@pytest.fixture
def world(home: DataHome, tmp_path: Path) -> tuple[DataHome, dict[str, str]]:
    """12 alike cadres in one unit, 3 at a rare level there, 1 厅局级正职 alone elsewhere;
    one 不称职 (an A1 flag to decide on)."""
    s = Scenario()
    ids: dict[str, str] = {}
    for i in range(12):
        ids[f"甲{i:02d}"] = s.cadre(f"甲{i:02d}", org_name="市甲局",
                                   id_number=new_id(date(1976, 1, 3 + i)))
    for i in range(3):
        ids[f"丙{i}"] = s.cadre(f"丙{i}", org_name="市甲局", post_level="乡科级正职",
                               id_number=new_id(date(1985 + i, 5, 5)))
    ids["欧阳独"] = s.cadre("欧阳独", org_name="市乙局", post_level="厅局级正职",
                          post_category="党政正职", id_number=new_id(date(1966, 2, 2)))
    s.add("annual_assessment", id_number=ids["甲00"], name="甲00", year=2025, grade="不称职")
    s.add("inspection_finding", finding_id="F-1", round="2025第一轮", org_name="市乙局",
          id_number=ids["欧阳独"], name="欧阳独", category="其他",
          description="欧阳独与甲01共同决定，未履行职责", severity="一般",
          responsibility="领导责任", found_on="2026-03-01", rectify_by=None,
          rectification="已整改", tolerated=False, tolerance_basis=None)
    s.load(home, tmp_path / "drops")
    build(home, AS_OF)
    publish(home)
    return home, ids


def _frame(path: Path, sql: str) -> pd.DataFrame:
    with duckdb.connect(str(path), read_only=True) as con:
        return con.execute(sql).df()


def test_analysts_snapshot_has_no_person_and_is_k_anonymous(
        world: tuple[DataHome, dict[str, str]]) -> None:
    home, ids = world
    snap = home.published_file
    columns = _frame(snap, "select schema_name, table_name, column_name from duckdb_columns() "
                           "where schema_name in ('core', 'marts', 'decisions', 'followup')")
    outside = columns[(columns.schema_name + "." + columns.table_name != "core.cadre")
                      & columns.column_name.isin(PERSON_COLUMNS)]
    assert outside.empty, outside.to_string()
    assert "cadre_post_history" not in set(columns.table_name)
    raw = snap.read_bytes()
    for name, id_number in ids.items():
        assert id_number.encode() not in raw
        assert name.encode() not in raw, f"name {name} in the analysts' snapshot"
    dim = _frame(snap, "select * from core.cadre")
    sizes = dim.fillna("-").groupby(["org_name", "post_level", "gender", "age_band"]).size()
    assert (sizes >= K_MIN).all(), sizes.to_string()
    full = dim.fillna("-").groupby(["org_name", "post_level", "gender", "age_band",
                                    "sector"]).size()
    assert (full >= K_MIN).all()
    # the 12 alike keep their unit, level and a five-year band; the lone 厅局级正职 is hidden
    assert ((dim.org_name == "市甲局") & (dim.post_level == "县处级副职")
            & (dim.age_band == "50-54")).sum() == 12
    assert "厅局级正职" not in set(dim.post_level.dropna())
    assert not (dim.org_name == "市乙局").any()


def test_coarsening_keeps_k_on_any_population() -> None:
    import random

    rng = random.Random(7)
    cadres = pd.DataFrame({
        "cadre_key": [f"K{i}" for i in range(400)],
        "birth_date": [date(rng.randint(1960, 1990), rng.randint(1, 12), 1) for _ in range(400)],
        "gender": [rng.choice("男女") for _ in range(400)],
        "post_level": [rng.choice(["县处级正职", "县处级副职", "乡科级正职", "厅局级副职"])
                       for _ in range(400)],
        "org_name": [f"单位{rng.randint(1, 40)}" for _ in range(400)],
        "sector": [rng.choice(["党政机关", "国有企业"]) for _ in range(400)],
    })
    cadres.loc[:9, ["birth_date", "gender", "post_level", "org_name", "sector"]] = [
        date(1980, 1, 1), "女", "县处级副职", "单位1", "党政机关"]  # ten alike: kept exact
    out = coarsen(cadres, AS_OF)
    groups = out.fillna("-").groupby(["age_band", "gender", "post_level", "org_name",
                                      "sector"]).size()
    assert (groups >= K_MIN).all()
    assert len(out) <= 400 and out.cadre_key.is_unique
    exact = out[out.cadre_key.isin([f"K{i}" for i in range(10)])]
    assert set(exact.coarsened_step) == {0} and set(exact.age_band) == {"45-49"}
    assert (out.coarsened_step > 0).any()


def test_review_snapshot_is_identified_and_owner_only(
        world: tuple[DataHome, dict[str, str]]) -> None:
    home, ids = world
    review = home.review_snapshot_file
    assert stat.S_IMODE(review.stat().st_mode) == 0o600
    assert stat.S_IMODE(review.parent.stat().st_mode) == 0o700
    cadres = _frame(review, "select id_number, name, birth_date from core.cadre")
    assert set(cadres.id_number) == set(ids.values()) and "欧阳独" in set(cadres.name)


def test_a_decision_republishes_both_snapshots(
        world: tuple[DataHome, dict[str, str]]) -> None:
    home, ids = world
    register_deciders(home)  # a decision must name a registered decider
    with warehouse.writer(home.warehouse_file) as con:
        decisions.sync_flags(con)
        flag_id = con.execute("select flag_id from decisions.flag_state where id_number = ? "
                              "and rule_id = 'A1'", [ids["甲00"]]).fetchone()[0]
    result = runner.invoke(app, ["decide", flag_id, "confirm", "--by", "部务会",
                                 "--reason", "核实属实", "--on", "2026-07-01"])
    assert result.exit_code == 0, result.output
    analysts_id = flag_key(flag_id, pseudonym_key(home))  # the register's id is not theirs
    for path, who, shown in ((home.published_file, "cadre_key", analysts_id),
                             (home.review_snapshot_file, "id_number", flag_id)):
        log = _frame(path, f"select flag_id, action, {who} from decisions.decision_log")
        assert list(zip(log.flag_id, log.action, strict=True)) == [(shown, "confirm")], path
        state = _frame(path, "select state from decisions.flag_state where flag_id = "
                             f"'{shown}'")
        assert list(state.state) == ["confirmed"]


def test_analysts_flag_ids_do_not_give_away_the_id_number(
        world: tuple[DataHome, dict[str, str]]) -> None:
    """The register's flag id is the rule id and 8 hex of md5(身份证号|rule|evidence keys):
    with the evidence keys an analyst sees, trying IDs until the hash matches recovers the
    ID. The analysts' snapshot carries a keyed pseudonym of it instead, in every column."""
    home, ids = world
    with warehouse.writer(home.warehouse_file) as con:
        decisions.sync_flags(con)
        row = con.execute("select flag_id, rule_id, evidence_keys from decisions.flag_state "
                          "where id_number = ? and rule_id = 'A1'", [ids["甲00"]]).fetchone()
        register = [r[0] for r in con.execute("select flag_id from decisions.flag_state")
                    .fetchall()]
    publish(home)
    register_id, rule, keys = row
    guess = "|".join([ids["甲00"], rule, *keys])  # what an analyst can try for any ID
    assert register_id == f"{rule}-{hashlib.md5(guess.encode()).hexdigest()[:8]}"
    analysts = _frame(home.published_file, "select flag_id from decisions.flag_state")
    key = pseudonym_key(home)
    assert set(analysts.flag_id) == {flag_key(f, key) for f in register}
    assert flag_key(register_id, key).startswith("A1-")
    raw = home.published_file.read_bytes()
    assert [f for f in register if f.encode() in raw] == []
    columns = _frame(home.published_file, "select schema_name, table_name, column_name "
                                          "from duckdb_columns() where column_name like "
                                          "'%flag_id%'")
    assert set(columns.column_name) <= FLAG_ID_COLUMNS
    for schema, table, column in columns.itertuples(index=False):
        values = _frame(home.published_file, f"select distinct {column} as v "
                                             f"from {schema}.{table} where {column} is not null")
        assert set(values.v) <= set(analysts.flag_id), (schema, table, column)


def test_profile_shows_the_id_only_when_asked(world: tuple[DataHome, dict[str, str]]) -> None:
    _, ids = world
    id_number = ids["甲00"]
    masked = runner.invoke(app, ["profile", id_number])
    assert masked.exit_code == 0, masked.output
    assert id_number not in masked.output and id_number[-4:] in masked.output
    shown = runner.invoke(app, ["profile", id_number, "--show-id"])
    assert id_number in shown.output


def test_who_is_flagged_and_why_runs_as_documented(
        world: tuple[DataHome, dict[str, str]]) -> None:
    """The data dictionary's worked query, through the shell the README gives analysts."""
    import csv
    import io

    from pipelines.publish.snapshot import WHO_IS_FLAGGED_SQL

    # as a file piped into the shell: `cadre sql --csv < who_is_flagged.sql`
    result = runner.invoke(app, ["sql", "--csv"], input=WHO_IS_FLAGGED_SQL)
    assert result.exit_code == 0, result.output
    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    a1 = [r for r in rows if r["rule_id"] == "A1"]
    assert len(a1) == 1 and a1[0]["severity"] == "candidate" and a1[0]["basis"]
    assert a1[0]["source"] == "annual_assessment" and a1[0]["org_name"] == "市甲局"
    refused = runner.invoke(app, ["sql", "attach 'x.duckdb' as x"])
    assert refused.exit_code != 0

