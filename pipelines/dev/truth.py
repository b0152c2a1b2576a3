"""Compare a build with the truth the generator planted (``expected_flags.json``)."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Any

import duckdb

from pipelines.dev.generate.rule_scenarios import EXPECTED_FLAGS_NAME


def load_truth(drops: Path) -> dict[str, Any]:
    return json.loads((drops / EXPECTED_FLAGS_NAME).read_text(encoding="utf-8"))


def planted_mismatches(con: duckdb.DuckDBPyConnection, truth: dict[str, Any]
                       ) -> dict[str, tuple[list[str], list[str]]]:
    """scenario -> (expected rule ids, raised rule ids) for every planted cadre that differs."""
    as_of = date.fromisoformat(truth["as_of"])
    raised = dict(con.execute(
        "select id_number, list(distinct rule_id order by rule_id) from marts.rule_hit "
        "where as_of = ? group by id_number", [as_of]).fetchall())
    return {c["scenario"]: (c["rules"], raised.get(c["id_number"], []))
            for c in truth["cadres"] if raised.get(c["id_number"], []) != c["rules"]}
