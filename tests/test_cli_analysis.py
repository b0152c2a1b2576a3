"""``cadre build``, ``cadre candidates`` and ``cadre profile`` as the department runs them."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from pipelines.cli.analysis import masked_id
from pipelines.cli.main import app
from pipelines.publish.snapshot import cadre_key, pseudonym_key
from pipelines.settings import DataHome
from tests.build_fixtures import Scenario
from tests.test_rules import I1, assess, finding, petition, sanction

pytestmark = pytest.mark.integration

runner = CliRunner()


@pytest.fixture
def cli_world(home: DataHome, tmp_path: Path) -> dict[str, str]:
    s = Scenario()
    ids = {"candidate": s.cadre("周明", org_name="某县交通运输局", post_title="局长",
                                post_category="党政正职"),
           "warning": s.cadre("吴芳"), "clean": s.cadre("郑和")}
    assess(s, ids["candidate"], 2025, "不称职")
    finding(s, ids["candidate"], **I1, tolerated=True)
    sanction(s, ids["candidate"], "诫勉", "2026-03-01")
    petition(s, ids["warning"], "部分属实", "2026-03-01")
    assess(s, ids["clean"], 2025, "优秀")
    s.load(home, tmp_path / "drops")
    result = runner.invoke(app, ["build", "--as-of", "2026-06-30"])
    assert result.exit_code == 0, result.output
    assert "构建完成" in result.output and home.published_file.exists()
    return ids


def test_candidates_json(cli_world: dict[str, str]) -> None:
    result = runner.invoke(app, ["candidates", "--json"])
    assert result.exit_code == 0, result.output
    rows = json.loads(result.output)
    by_id = {r["id_number"]: r for r in rows}
    assert set(by_id) == {cli_world["candidate"], cli_world["warning"]}
    assert by_id[cli_world["candidate"]]["severity"] == "candidate"
    # 不称职 maps every dimension to 50: A1, and D1 since 2025H2; its 考察期 runs to
    # 2026-06-30 inclusive, so R1 would escalate only the day after (rules.md, "Periods")
    assert by_id[cli_world["candidate"]]["rules"] == ["A1", "D1"]
    assert by_id[cli_world["candidate"]]["in_influence_period"] is True
    assert by_id[cli_world["warning"]] | {"severity": "warning", "rules": ["V2"]} == \
        by_id[cli_world["warning"]]
    assert by_id[cli_world["warning"]]["evidence_count"] == 1
    assert rows[0]["id_number"] == cli_world["candidate"]  # candidates before warnings


def test_candidates_table_in_chinese(cli_world: dict[str, str]) -> None:
    result = runner.invoke(app, ["candidates", "--as-of", "2026-06-30"], env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    assert "不适宜担任现职人选" in result.output and "周明" in result.output
    assert cli_world["candidate"] in result.output


def test_profile_card_by_id_and_by_key(cli_world: dict[str, str], home: DataHome) -> None:
    result = runner.invoke(app, ["profile", cli_world["candidate"]], env={"COLUMNS": "250"})
    assert result.exit_code == 0, result.output
    out = result.output
    for text in ("德能勤绩廉得分", "阈值", "A1", "影响期", "诫勉", "容错免责", "先行先试出现失误",
                 "annual_assessment.csv", "sanction.csv"):
        assert text in out, text
    key = cadre_key(cli_world["candidate"], pseudonym_key(home))
    by_key = runner.invoke(app, ["profile", key, "--show-id"], env={"COLUMNS": "250"})
    assert by_key.exit_code == 0 and cli_world["candidate"] in by_key.output
    # without --show-id the card shows the ID masked, never in full
    assert cli_world["candidate"] not in out and masked_id(cli_world["candidate"]) in out


def test_unknown_cadre_and_unbuilt_date_are_clear_errors(cli_world: dict[str, str]) -> None:
    assert runner.invoke(app, ["profile", "110101190001010000"]).exit_code == 1
    result = runner.invoke(app, ["candidates", "--as-of", "2020-01-01"])
    assert result.exit_code == 2 and "cadre build --as-of 2020-01-01" in result.output


def test_sql_prints_text_that_looks_like_markup_as_it_is(cli_world: dict[str, str]) -> None:
    """What units and analysts write may hold [...]: a closing tag alone made `cadre sql`
    crash (rich's MarkupError), an opening one restyled the cell. Printed as it is."""
    result = runner.invoke(app, ["sql", "select '[/注] 见附件[bold]' as \"[red]备注\""],
                           env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    assert "[/注] 见附件[bold]" in result.output and "[red]备注" in result.output
