"""Rows about people the roster does not know, and rows whose name contradicts it.

sources.md, "Rows about people the roster does not know", and rules.md, "Identity doubts stop
evidence": an evidence row whose 身份证号 is well-formed but in no roster received so far is
accepted and listed to the unit as 未匹配 (the roster may be late, or the ID mistyped); a row
whose 姓名 disagrees with every name the roster has used for its ID is 身份存疑. Neither counts
in a profile or a flag: the unmatched row until a roster names its ID, the doubtful one until
the unit corrects it or the organization department confirms the identity by a recorded
decision (``meta.identity_confirmation``).

The unit is told at load time (notes on its receipt, ``insert_row_notes``); the organization
department sees what is still waiting, live from staging (``unmatched_rows``,
``identity_doubt_rows``), without waiting for a build. The build applies the same comparison
(``core.fact``): names are compared without blanks (half- or full-width).
"""

from __future__ import annotations

import duckdb
import pandas as pd

from pipelines.contracts import Contract, load_contract, source_names
from pipelines.ingest import reasons

ROSTER_NAMES = """
    select upper(trim(id_number)) as id_number,
        list(distinct regexp_replace(name, '[\\s　]', '', 'g')) as names,
        arg_max(name, submission_seq) as roster_name
    from staging.roster_history group by all"""


def _clean(column: str) -> str:
    return f"regexp_replace({column}, '[\\s　]', '', 'g')"


def person_sources() -> tuple[str, ...]:
    """Evidence sources whose rows name a cadre by 身份证号."""
    return tuple(s for s in source_names()
                 if (c := load_contract(s)).holds_records
                 and "id_number" in c.field_names and "name" in c.field_names)


def insert_row_notes(con: duckdb.DuckDBPyConnection, contract: Contract,
                     submission_id: str) -> None:
    """Notes on this submission's rows: 未匹配 IDs and 身份存疑 names, one per row, in row
    order, written to ``meta.submission_issue`` by the warehouse itself.

    An evidence file sent before the roster has a note on every row: made and worded in SQL
    (``reasons.row_sql``, the same text ``Issue.maker`` gives), they never become Python
    objects on the way in."""
    if contract.source not in person_sources():
        return
    id_header = contract.field("id_number").header_zh
    name_header = contract.field("name").header_zh
    unmatched_message, unmatched_fix = reasons.row_sql("id_unmatched", id_header, "id_number")
    doubt_message, doubt_fix = reasons.row_sql("identity_doubt", name_header, "name")
    con.execute(f"""
        insert into meta.submission_issue
        with roster as ({ROSTER_NAMES}),
        noted as (
            select r.source_row, upper(trim(r.id_number)) as id_number, r.name,
                roster.id_number is null as unmatched
            from raw.{contract.source} as r
            left join roster on roster.id_number = upper(trim(r.id_number))
            where r.submission_id = $submission_id and r.id_number is not null
                and (roster.id_number is null or (r.name is not null
                     and not list_contains(roster.names, {_clean('r.name')}))))
        -- the columns of meta.submission_issue; an unmatched row names its ID, a doubtful
        -- one its name (never the roster's: that is ORG's data, not the sending unit's)
        select $submission_id, 'note', source_row,
            if(unmatched, 'id_number', 'name'),
            if(unmatched, $id_header, $name_header),
            if(unmatched, id_number, name),
            if(unmatched, 'id_unmatched', 'identity_doubt'),
            if(unmatched, {unmatched_message}, {doubt_message}),
            if(unmatched, {unmatched_fix}, {doubt_fix})
        from noted
        order by source_row""",
                {"submission_id": submission_id, "id_header": id_header,
                 "name_header": name_header})


# The current version of every person source's rows that names an ID, one select per source.
CURRENT_ROWS = """
    select '{source}' as source, '{title}' as source_zh, h.submitted_by as unit,
        h.record_key, upper(trim(h.id_number)) as id_number, h.name, h.submission_id,
        h.source_row, h.received_at
    from staging.{source}_history as h where h.is_current and h.id_number is not null"""


def _current_rows() -> str:
    parts = [CURRENT_ROWS.format(source=s, title=load_contract(s).title_zh.replace("'", "''"))
             for s in person_sources()]
    return "\nunion all ".join(parts)


def unmatched_rows(con: duckdb.DuckDBPyConnection, unit: str | None = None) -> pd.DataFrame:
    """The standing 待匹配 list: current evidence rows whose ID is in no roster received so far
    (oldest first), with the unit, file and row they came in."""
    return con.execute(f"""
        with roster as ({ROSTER_NAMES}), fact as ({_current_rows()})
        select fact.*, s.filename,
            (select count(*) from roster as r2
             where list_contains(r2.names, {_clean('fact.name')})) as roster_cadres_with_same_name
        from fact
        left join roster using (id_number)
        left join meta.submission as s using (submission_id)
        where roster.id_number is null and ($unit is null or fact.unit = $unit)
        order by fact.received_at, fact.source, fact.source_row""", {"unit": unit}).df()


def identity_doubt_rows(con: duckdb.DuckDBPyConnection,
                        unit: str | None = None) -> pd.DataFrame:
    """Current evidence rows whose 姓名 disagrees with the roster for their ID and that the
    organization department has not confirmed: 身份存疑, counting toward nothing."""
    return con.execute(f"""
        with roster as ({ROSTER_NAMES}), fact as ({_current_rows()})
        select fact.*, roster.roster_name, s.filename
        from fact
        join roster using (id_number)
        left join meta.submission as s using (submission_id)
        where fact.name is not null and not list_contains(roster.names, {_clean('fact.name')})
            and not exists (select 1 from meta.identity_confirmation as c
                            where c.source = fact.source and c.record_key = fact.record_key
                              and c.id_number = fact.id_number and c.fact_name = fact.name)
            and ($unit is null or fact.unit = $unit)
        order by fact.id_number, fact.source, fact.source_row""", {"unit": unit}).df()
