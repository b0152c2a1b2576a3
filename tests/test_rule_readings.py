"""The readings of rules.md "How the rules are read", each at its edge, and issue 16's scenarios.

Each test loads small CSV drops through ``submit_file`` (as units send them), builds, and reads
the warehouse. Rule-set variants are copies of the shipped ``ruleset.yaml`` with one change.
"""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path

import duckdb
import pytest

from pipelines.build import ruleset as rulesets
from pipelines.build.steps import build
from pipelines.settings import PROJECT_ROOT, DataHome
from tests.build_fixtures import Scenario
from tests.test_rules import I1, V1, audit, finding, petition, report

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
