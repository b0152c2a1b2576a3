"""Data quality of the units' drops over time: ``cadre report quality`` and the ledger's section.

Per unit and month of receipt: files received, refused (and why), duplicates, rows read and
quarantined (and why), and the GX expectations that failed most. Read from ``meta.submission``,
``meta.submission_issue`` and ``meta.validation_result``: counts only, no values, so the report
can go to the organisation department without exposing any cadre.

Rates: refusal rate = refused files / files judged (duplicates are not judged again);
quarantine rate = quarantined rows / rows read in the files that were not refused.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import duckdb

from pipelines import contracts
from pipelines.ingest.reasons import BY_CODE

DONE = ("accepted", "partially_accepted", "refused", "duplicate")
HALF_YEAR = ("strftime(received_at, '%Y') || 'H' || "
             "case when month(received_at) <= 6 then '1' else '2' end")


@dataclass(frozen=True)
class DataQuality:
    months: list[dict[str, Any]]  # month, unit: files, refused, duplicates, rows, rates
    refusals: list[dict[str, Any]]  # month, unit, reason: refused files
    quarantines: list[dict[str, Any]]  # month, unit, reason: quarantined rows
    expectations: list[dict[str, Any]]  # month, unit, source, expectation: failed runs, rows

    def as_json(self) -> dict[str, Any]:
        return {"months": self.months, "refusals": self.refusals,
                "quarantines": self.quarantines, "expectations": self.expectations}

    def month_rows_zh(self) -> list[dict[str, Any]]:
        """The monthly table with Chinese headers (report, ledger, XLSX)."""
        return [{"月份": m["month"], "单位": m["unit"], "单位名称": m["unit_name"],
                 "报送文件": m["files"], "拒收": m["refused"], "重复报送": m["duplicates"],
                 "拒收率": _percent(m["refusal_rate"]), "读取行数": m["rows_read"],
                 "隔离行数": m["rows_quarantined"], "隔离率": _percent(m["quarantine_rate"])}
                for m in self.months]

    def reason_rows_zh(self) -> list[dict[str, Any]]:
        """Refusals and quarantines by reason, most frequent first within a month and unit."""
        rows = [{"月份": r["month"], "单位": r["unit"], "类别": "拒收文件", "原因": r["label_zh"],
                 "数量": r["files"]} for r in self.refusals]
        rows += [{"月份": r["month"], "单位": r["unit"], "类别": "隔离行", "原因": r["label_zh"],
                  "数量": r["rows"]} for r in self.quarantines]
        return sorted(rows, key=lambda r: (r["月份"], r["单位"], r["类别"], -r["数量"]))


def _percent(rate: float | None) -> str:
    return "" if rate is None else f"{rate:.1%}"


def _label(reason: str) -> str:
    found = BY_CODE.get(reason)
    return found.label_zh if found else reason


def _records(con: duckdb.DuckDBPyConnection, sql: str, args: list[Any]) -> list[dict[str, Any]]:
    result = con.execute(sql, args)
    names = [d[0] for d in result.description]
    return [dict(zip(names, row, strict=True)) for row in result.fetchall()]


def load_quality(con: duckdb.DuckDBPyConnection, unit: str | None = None,
                 half_years: list[str] | None = None) -> DataQuality:
    """Data quality per unit and month, optionally of one unit and of some half-years."""
    where = (f" where s.status in {DONE!r} and (? is null or s.unit = ?)"
             f" and (? is null or list_contains(?, {HALF_YEAR.replace('received_at', 's.received_at')}))")
    args = [unit, unit, half_years, list(half_years or [])]
    month = "strftime(s.received_at, '%Y-%m')"
    months = _records(con, f"""
        select {month} as month, s.unit,
               count(*) as files,
               count(*) filter (where s.status = 'refused') as refused,
               count(*) filter (where s.status = 'duplicate') as duplicates,
               coalesce(sum(s.rows_read) filter (where s.status <> 'refused'), 0) as rows_read,
               coalesce(sum(s.rows_quarantined), 0) as rows_quarantined
        from meta.submission as s {where}
        group by all order by month, s.unit""", args)
    names = {code: u.name_zh for code, u in contracts.load_units().items()}
    for m in months:
        judged = m["files"] - m["duplicates"]
        m["unit_name"] = names.get(m["unit"], m["unit"])
        m["refusal_rate"] = m["refused"] / judged if judged else None
        m["quarantine_rate"] = m["rows_quarantined"] / m["rows_read"] if m["rows_read"] else None
    refusals = _records(con, f"""
        select {month} as month, s.unit, i.reason, count(distinct s.submission_id) as files
        from meta.submission as s join meta.submission_issue as i using (submission_id)
        {where} and s.status = 'refused' and i.scope = 'file'
        group by all order by month, s.unit, files desc, i.reason""", args)
    quarantines = _records(con, f"""
        select {month} as month, s.unit, i.reason,
               count(distinct (i.submission_id, i.source_row)) as rows
        from meta.submission as s join meta.submission_issue as i using (submission_id)
        {where} and i.scope = 'row'
        group by all order by month, s.unit, rows desc, i.reason""", args)
    for r in refusals + quarantines:
        r["label_zh"] = _label(r["reason"])
    expectations = _records(con, f"""
        select {month} as month, s.unit, v.source, v.expectation, v.column_name,
               count(*) as runs, count(*) filter (where not v.success) as failed_runs,
               coalesce(sum(v.unexpected_count), 0) as unexpected_rows
        from meta.submission as s join meta.validation_result as v using (submission_id)
        {where}
        group by all having count(*) filter (where not v.success) > 0
        order by month, s.unit, unexpected_rows desc""", args)
    return DataQuality(months, refusals, quarantines, expectations)
