"""The 线索与决定 view: open flags with their evidence and decisions, as a JSON file.

The worker writes ``portal/flags.json`` from the warehouse (``decisions.flag_state``,
``decisions.evidence_source``, ``decisions.decision_log``) after a decision it recorded, and
when the warehouse file changed (a build, a load), at most every ``MIN_REFRESH_SECONDS``. The
web process only reads the file, so the reviewer's page answers while a DAG holds the writer.
"""

from __future__ import annotations

import json
import logging
import time
from pathlib import Path
from typing import Any

import duckdb

from pipelines import warehouse
from pipelines.settings import DataHome

log = logging.getLogger(__name__)
MIN_REFRESH_SECONDS = 20.0

FLAGS_SQL = """
select flag_id, name, org_name, post_title, rule_id, rule_title_zh, detail_zh, severity,
       opened_on, state, state_zh, observe_until, evidence_ids
from decisions.flag_state
where state not in ('cleared', 'closed')  -- nothing left to decide
order by org_name, name, rule_id, flag_id"""
EVIDENCE_SQL = """
select evidence_id, source, fact_date, category, status, summary_zh, unit, filename, source_row
from decisions.evidence_source where list_contains($ids, evidence_id)"""
LOG_SQL = """
select flag_id, decided_on, action, from_state, to_state, decided_by, reason, document_no
from decisions.decision_log where list_contains($ids, flag_id) order by decision_id"""


def view_file(home: DataHome) -> Path:
    return home.portal_dir / "flags.json"


def _text(value: object) -> str | None:
    return None if value is None else str(value)


def build_view(con: duckdb.DuckDBPyConnection) -> list[dict[str, Any]]:
    from pipelines.review import decisions  # noqa: PLC0415

    decisions.sync_flags(con)
    cursor = con.execute(FLAGS_SQL)
    names = [d[0] for d in cursor.description]
    flags = [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]
    ids = sorted({e for f in flags for e in (f["evidence_ids"] or [])})
    evidence = {r[0]: r for r in con.execute(EVIDENCE_SQL, {"ids": ids}).fetchall()}
    history: dict[str, list[dict[str, str | None]]] = {}
    for row in con.execute(LOG_SQL, {"ids": [f["flag_id"] for f in flags]}).fetchall():
        history.setdefault(row[0], []).append({
            "decided_on": _text(row[1]), "action_zh": decisions.ACTIONS[row[2]].zh,
            "from_zh": decisions.STATES_ZH[row[3]], "to_zh": decisions.STATES_ZH[row[4]],
            "decided_by": row[5], "reason": row[6], "document_no": row[7]})
    view = []
    for f in flags:
        view.append({
            **{k: _text(v) for k, v in f.items() if k != "evidence_ids"},
            "actions": [{"name": a, "zh": decisions.ACTIONS[a].zh}
                        for a in decisions.allowed_actions(str(f["state"]))],
            "evidence": [{"source": e[1], "fact_date": _text(e[2]), "category": e[3],
                          "status": e[4], "summary_zh": e[5], "unit": e[6], "filename": e[7],
                          "source_row": e[8]}
                         for e in (evidence.get(i) for i in (f["evidence_ids"] or [])) if e],
            "decisions": history.get(str(f["flag_id"]), []),
        })
    return view


def refresh(home: DataHome) -> None:
    """Write the view file from the warehouse (the worker's writer connection, briefly)."""
    if not home.warehouse_file.exists():
        return
    try:
        with warehouse.writer(home.warehouse_file) as con:
            view = build_view(con)
    except duckdb.CatalogException:  # nothing built yet: no flags
        view = []
    target = view_file(home)
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(".flags.json.partial")
    partial.write_text(json.dumps({"refreshed_at": time.time(), "flags": view},
                                  ensure_ascii=False), encoding="utf-8")
    partial.replace(target)
    _SEEN[home.root] = (home.warehouse_file.stat().st_mtime, time.monotonic())


_SEEN: dict[Path, tuple[float, float]] = {}  # data folder -> (warehouse mtime, when) at refresh


def refresh_if_changed(home: DataHome, force: bool = False) -> None:
    if not home.warehouse_file.exists():
        return
    mtime = home.warehouse_file.stat().st_mtime
    seen = _SEEN.get(home.root)
    if force or seen is None or (seen[0] != mtime
                                 and time.monotonic() - seen[1] >= MIN_REFRESH_SECONDS):
        refresh(home)


def read_view(home: DataHome) -> dict[str, Any] | None:
    path = view_file(home)
    if not path.is_file():
        return None
    return json.loads(path.read_text(encoding="utf-8"))
