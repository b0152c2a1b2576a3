"""Read-side summaries of ingest for engineers: the submissions list and per-source totals."""

from __future__ import annotations

import pandas as pd

from pipelines import warehouse
from pipelines.settings import DataHome

SUBMISSIONS_SQL = """
select submission_id, unit, source, filename, status, rows_read, rows_accepted,
       rows_quarantined, strftime(received_at, '%Y-%m-%d %H:%M:%S') as received_at,
       -- a fault of the machine that stopped a submission (failed, or left to retry)
       case when status not in ('accepted', 'partially_accepted', 'refused', 'duplicate')
            and error is not null then attempts || 'x ' || left(error, 100) else '' end as fault
from meta.submission
where ? is null or unit = ?
order by seq desc
limit ?
"""

# One row per source: how its files fared (duplicates are counted apart, never as loads).
SOURCE_TOTALS_SQL = """
select source,
       count(*) filter (where status <> 'duplicate')         as files,
       coalesce(sum(rows_accepted), 0)::bigint                as rows_accepted,
       coalesce(sum(rows_quarantined), 0)::bigint             as rows_quarantined,
       count(*) filter (where status = 'refused')             as files_refused,
       count(*) filter (where status = 'duplicate')           as files_duplicate
from meta.submission
group by source
order by source
"""


def _query(home: DataHome, sql: str, params: list[object] | None = None) -> pd.DataFrame:
    with warehouse.writer(home.warehouse_file) as con:
        return con.execute(sql, params or []).df()


def submissions_frame(home: DataHome, limit: int = 50, unit: str | None = None) -> pd.DataFrame:
    """The most recent submissions, newest first; only one unit's when ``unit`` is given."""
    if unit is not None:
        from pipelines.contracts import load_units
        from pipelines.errors import UnknownName

        if unit not in load_units():
            raise UnknownName("unit", unit, load_units())
    return _query(home, SUBMISSIONS_SQL, [unit, unit, limit])


def source_totals(home: DataHome) -> pd.DataFrame:
    return _query(home, SOURCE_TOTALS_SQL)
