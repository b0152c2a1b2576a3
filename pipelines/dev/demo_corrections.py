"""Errors and their undoing, for ``make demo``: a 身份存疑 row and a withdrawn record.

rules.md, "Decisions stick, and errors can be undone". After the sample drops are in, the
inspection office sends two more findings (演示): one under a cadre's ID but naming another
cadre (身份存疑: accepted, counted nowhere, marked in the feedback and the review), and one it
then withdraws with a withdrawal drop (撤回申请) because the ID was wrong. Both go through the
ingest DAGs like any drop; the unit's feedback and the 集中会诊 report show them.
"""

from __future__ import annotations

import csv
from pathlib import Path

from pipelines import warehouse
from pipelines.contracts import load_contract
from pipelines.settings import DataHome

DOUBT_KEY = "演示-XC-身份存疑"
WITHDRAWN_KEY = "演示-XC-撤回"


def _write(path: Path, rows: list[list[object]]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8-sig", newline="") as handle:
        csv.writer(handle).writerows(rows)
    return path


def stage_corrections(home: DataHome) -> list[Path]:
    """Write the two inspection findings and the withdrawal into the INS inboxes (after the
    roster is loaded: the rows name real cadres); returns the files, in sending order."""
    with warehouse.writer(home.warehouse_file) as con:
        cadres = con.execute("select id_number, name from staging.roster "
                             "order by id_number limit 3").fetchall()
    if len(cadres) < 3:
        return []
    (first, first_name), (_, other_name), (third, _) = cadres
    contract = load_contract("inspection_finding")
    header = [contract.field(f).header_zh for f in contract.field_names]
    common = {"round": "2025年第二轮（演示补报）", "org_name": "演示单位", "category": "其他",
              "description": "演示：补报问题", "severity": "一般", "responsibility": "领导责任",
              "found_on": "2025-11-20", "rectify_by": "2026-01-20", "rectification": "整改中",
              "tolerated": "否", "tolerance_basis": ""}
    rows = [
        {**common, "finding_id": DOUBT_KEY, "id_number": first, "name": other_name},
        # sent under the wrong ID (the third cadre's) and withdrawn below
        {**common, "finding_id": WITHDRAWN_KEY, "id_number": third, "name": "（身份证号填错）"},
    ]
    del first_name
    findings = _write(home.inbox / "INS" / "inspection_finding" / "演示_补报巡察问题.csv",
                      [header] + [[r.get(f, "") for f in contract.field_names] for r in rows])
    withdrawal = _write(home.inbox / "INS" / "withdrawal" / "演示_撤回申请.csv", [
        ["数据类别", "记录编号", "问题序号", "身份证号", "撤回原因"],
        ["巡视巡察发现问题", WITHDRAWN_KEY, "", "", "责任人身份证号填错，撤回后按正确身份证号重报"]])
    return [findings, withdrawal]
