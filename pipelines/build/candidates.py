"""The build's candidate list, read back: what ``cadre candidates`` prints and ``make demo``
checks. Kept in build (not in the CLI) because it is the one reading of ``marts.candidate``
that every caller shares."""

from __future__ import annotations

from datetime import date

import duckdb


def candidate_rows(con: duckdb.DuckDBPyConnection, as_of: date) -> list[dict]:
    """The candidate and warning list for a built as-of date, candidates first."""
    cursor = con.execute(
        "select id_number, name, org_name, post_title, post_level, severity, rule_ids, "
        "evidence_count, first_flag_date, in_influence_period, ruleset_version "
        "from marts.candidate where as_of = ? "
        "order by severity = 'warning', org_name, name, id_number", [as_of])
    names = [d[0] for d in cursor.description]
    rows = [dict(zip(names, r, strict=True)) for r in cursor.fetchall()]
    for row in rows:
        row["rules"] = row.pop("rule_ids")
        row["first_flag_date"] = str(row["first_flag_date"])
        row["as_of"] = str(as_of)
    return rows
