"""Alerts: what the on-call engineer is told when a task fails or a run misses its deadline.

Every alert is appended to ``$CADRE_HOME/alerts/alerts.jsonl`` (one JSON object a line), the
record that is always there, which tests and a log shipper can read; when
``CADRE_ALERT_EMAIL`` is set, the DAG helpers also send it by e-mail through Airflow's SMTP
provider. No Airflow import here: the record is plain data.

An alert names the DAG, task, run and the error's type with its first line. Error messages
may quote a value from a unit's file, so ID-number-like digit runs are masked before the
message is written or sent (logs and alerts carry no names or ID numbers).
"""

from __future__ import annotations

import fcntl
import json
import re
from datetime import UTC, datetime
from typing import Any

from pipelines.settings import DataHome

ID_LIKE = re.compile(r"\d{15,17}[\dXx]?")  # 身份证号 (15 or 18 characters) and similar
MESSAGE_CHARS = 300


def mask(text: str) -> str:
    """The first line of ``text``, ID-like digit runs replaced, cut to a readable length."""
    first = (text or "").strip().splitlines()[0] if (text or "").strip() else ""
    return ID_LIKE.sub("<id>", first)[:MESSAGE_CHARS]


def alert_record(kind: str, *, dag_id: str, run_id: str | None = None,
                 task_id: str | None = None, map_index: int | None = None,
                 try_number: int | None = None, error: BaseException | str | None = None,
                 **extra: Any) -> dict[str, Any]:
    """One alert as a plain dict: ``kind`` is task_failed, dag_failed or deadline_missed."""
    if isinstance(error, BaseException):
        error_text = f"{type(error).__name__}: {mask(str(error))}"
    else:
        error_text = mask(str(error)) if error else None
    record = {"at": datetime.now(UTC).isoformat(timespec="seconds"), "kind": kind,
              "dag_id": dag_id, "run_id": run_id, "task_id": task_id,
              "map_index": None if map_index is None or map_index < 0 else map_index,
              "try_number": try_number, "error": error_text}
    record.update({k: v for k, v in extra.items() if v is not None})
    return record


def write_alert(home: DataHome, record: dict[str, Any]) -> None:
    """Append one alert line; an advisory lock keeps lines whole when tasks fail together."""
    path = home.alerts_file
    path.parent.mkdir(parents=True, exist_ok=True)
    line = json.dumps(record, ensure_ascii=False, default=str) + "\n"
    with path.open("a", encoding="utf-8") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        handle.write(line)


def read_alerts(home: DataHome) -> list[dict[str, Any]]:
    """Every alert recorded in this data folder, oldest first."""
    if not home.alerts_file.exists():
        return []
    return [json.loads(line) for line in
            home.alerts_file.read_text(encoding="utf-8").splitlines() if line.strip()]


def subject(record: dict[str, Any]) -> str:
    """A one-line e-mail subject for an alert."""
    where = record["dag_id"] + (f".{record['task_id']}" if record.get("task_id") else "")
    return f"[cadre] {record['kind']}: {where} ({record.get('run_id') or 'no run'})"


def body(record: dict[str, Any]) -> str:
    """The alert as a small HTML table for the e-mail."""
    from html import escape

    rows = "".join(f"<tr><th align=left>{escape(str(k))}</th><td>{escape(str(v))}</td></tr>"
                   for k, v in record.items() if v is not None)
    return f"<table>{rows}</table>"
