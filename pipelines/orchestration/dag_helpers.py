"""What every DAG file shares: time zone, start date, timeouts, retries, alerts, Params, labels.

Only the DAG files (and the DAG tests) import this module, so it may import Airflow at module
level; nothing else in ``pipelines`` does. Each operational number is set here once:

- **timeouts**: ``TASK_TIMEOUTS`` per task, ``DAGRUN_TIMEOUTS`` per DAG. Sized from ``make
  bench`` (README): ingest of a 100,000-cadre drop set 21 s, build at 1,000,000 cadres 59 s and
  publish 31 s; each limit is that figure with a margin of 10x or more, plus the 120 s a writer
  may wait for the file lock, so a hung task ends and frees the one-slot writer pool.
- **retries**: only a warehouse lock wait (``warehouse.WarehouseLocked``) or an OS error is
  retried, with exponential backoff (1, 2, 4 min); a bad file, rule set or bug fails at once,
  because running it again cannot help and would hold the pool.
- **alerts**: every task and every DAG run that fails calls ``AlertNotifier``; Deadline Alerts
  on ``build_profiles`` and ``review_half_yearly`` call ``deadline_missed``. Both write
  ``$CADRE_HOME/alerts/alerts.jsonl`` and e-mail ``CADRE_ALERT_EMAIL`` when it is set.
- **dates**: ``run_date`` is the run's logical date (or ``run_after`` for an asset-triggered
  run, which has none) read in ``CADRE_TIMEZONE``; a re-run of a past run gets the same date.
"""

from __future__ import annotations

import asyncio
from datetime import date, datetime, timedelta
from typing import Any

import pendulum
from airflow.sdk import (
    AsyncCallback,
    BaseNotifier,
    CronTriggerTimetable,
    DeadlineAlert,
    DeadlineReference,
    ExceptionRetryPolicy,
    Param,
    RetryAction,
    RetryRule,
)
from airflow.sdk.exceptions import AirflowSkipException

from pipelines import settings
from pipelines.orchestration import alerts
from pipelines.orchestration.assets import DEFAULT_QUEUE, WAREHOUSE_POOL, WAREHOUSE_QUEUE
from pipelines.settings import DataHome
from pipelines.warehouse import WarehouseLocked

TIMEZONE = settings.get("CADRE_TIMEZONE")
START_DATE = pendulum.datetime(2026, 1, 1, tz=TIMEZONE)  # schedules are read in this zone

TASK_TIMEOUTS: dict[str, timedelta] = {
    # ingest, per file (mapped): 100k cadres' six sources took 21 s end to end
    "receive": timedelta(minutes=10),
    "parse": timedelta(minutes=15),
    "validate": timedelta(minutes=15),
    "load": timedelta(minutes=15),
    # build at 1M cadres: 59 s; publish 31 s
    "build": timedelta(minutes=30),
    "publish": timedelta(minutes=20),
    # reports read one build: seconds at the demo's size, minutes at a province's
    "period": timedelta(minutes=2),
    "review": timedelta(minutes=30),
    "ledger": timedelta(minutes=20),
    "apply_decisions": timedelta(minutes=10),
    "apply": timedelta(minutes=10),
    "scan": timedelta(minutes=20),
}
DAGRUN_TIMEOUTS: dict[str, timedelta] = {
    "ingest": timedelta(hours=2),  # runs every 30 min; a run past 2 h is stuck, not slow
    "build_profiles": timedelta(hours=1, minutes=30),
    "review_half_yearly": timedelta(hours=3),
    "followup_weekly": timedelta(hours=1),
    "apply_decisions": timedelta(minutes=30),
}
DEADLINES: dict[str, timedelta] = {
    # from the moment the run is queued: a build waiting behind the pool still alerts
    "build_profiles": timedelta(hours=1),
    "review_half_yearly": timedelta(hours=2),
}
RETRIES = 3
RETRY_DELAY = timedelta(minutes=1)
MAX_RETRY_DELAY = timedelta(minutes=15)

RETRY_POLICY = ExceptionRetryPolicy(
    rules=[
        RetryRule(exception=WarehouseLocked, action=RetryAction.RETRY,
                  reason="the warehouse file was held by another process; try again later"),
        RetryRule(exception=OSError, action=RetryAction.RETRY,
                  reason="an operating-system error (disk, file system) may pass"),
    ],
    default=RetryAction.FAIL,  # a bad file, rule set or bug does not get better on retry
)


def cron(expression: str) -> CronTriggerTimetable:
    """A cron schedule read in the deployment time zone (07:00 is 07:00 in Beijing, not UTC)."""
    return CronTriggerTimetable(expression, timezone=TIMEZONE)


# ---------------------------------------------------------------- alerts

def _send_email(record: dict[str, Any], context: Any) -> None:
    """E-mail the alert through Airflow's SMTP provider when ``CADRE_ALERT_EMAIL`` is set."""
    recipients = [a.strip() for a in settings.get("CADRE_ALERT_EMAIL").split(",") if a.strip()]
    if not recipients:
        return
    from airflow.providers.smtp.notifications.smtp import SmtpNotifier

    SmtpNotifier(to=recipients, subject=alerts.subject(record), html_content=alerts.body(record),
                 smtp_conn_id=settings.get("CADRE_ALERT_SMTP_CONN")).notify(context)


class AlertNotifier(BaseNotifier):
    """On failure of a task (``kind='task'``) or a DAG run (``kind='dag'``): one alert line in
    the data folder, and an e-mail when configured."""

    def __init__(self, kind: str) -> None:
        super().__init__()
        self.kind = kind

    def notify(self, context: Any) -> None:
        ti = context.get("ti") or context.get("task_instance")
        run = context.get("dag_run")
        dag_id = getattr(run, "dag_id", None) or getattr(ti, "dag_id", None) or "?"
        record = alerts.alert_record(
            f"{self.kind}_failed", dag_id=dag_id, run_id=getattr(run, "run_id", None),
            task_id=getattr(ti, "task_id", None) if self.kind == "task" else None,
            map_index=getattr(ti, "map_index", None) if self.kind == "task" else None,
            try_number=getattr(ti, "try_number", None) if self.kind == "task" else None,
            error=context.get("exception") or context.get("reason"))
        alerts.write_alert(DataHome.from_env(), record)
        _send_email(record, context)


async def deadline_missed(context: dict[str, Any], dag_id: str = "?") -> None:
    """Deadline Alert callback (runs in the triggerer): the run is still going past its
    deadline. ``context`` carries the run as JSON and the deadline's time."""
    run = context.get("dag_run") or {}
    deadline = context.get("deadline") or {}
    record = alerts.alert_record("deadline_missed", dag_id=run.get("dag_id") or dag_id,
                                 run_id=run.get("dag_run_id") or run.get("run_id"),
                                 deadline=str(deadline.get("deadline_time")))
    alerts.write_alert(DataHome.from_env(), record)
    await asyncio.to_thread(_send_email, record, context)


def deadline(dag_id: str) -> DeadlineAlert:
    """The Deadline Alert of a DAG (``DEADLINES``)."""
    return DeadlineAlert(reference=DeadlineReference.DAGRUN_QUEUED_AT,
                         interval=DEADLINES[dag_id],
                         callback=AsyncCallback(deadline_missed, kwargs={"dag_id": dag_id}))


# ---------------------------------------------------------------- DAG and task arguments

def default_args() -> dict[str, Any]:
    """Every task's defaults: retries for the lock-wait case, the failure notifier."""
    return {
        "retries": RETRIES,
        "retry_delay": RETRY_DELAY,
        "retry_exponential_backoff": 2.0,
        "max_retry_delay": MAX_RETRY_DELAY,
        "retry_policy": RETRY_POLICY,
        "email_on_failure": False,  # alerts go through AlertNotifier (CADRE_ALERT_EMAIL)
        "email_on_retry": False,
        "on_failure_callback": [AlertNotifier("task")],
    }


def dag_args(dag_id: str, timeout_key: str | None = None) -> dict[str, Any]:
    """The arguments every ``@dag`` here shares, with this DAG's timeout, Params and deadline."""
    args: dict[str, Any] = {
        "dag_id": dag_id,
        "start_date": START_DATE,
        "catchup": False,
        "max_active_runs": 1,
        "dagrun_timeout": DAGRUN_TIMEOUTS[timeout_key or dag_id],
        "default_args": default_args(),
        "on_failure_callback": [AlertNotifier("dag")],
        "params": params_for(dag_id),
    }
    if dag_id in DEADLINES:
        args["deadline"] = deadline(dag_id)
    return args


def task_args(name: str, writes_warehouse: bool) -> dict[str, Any]:
    """A task's timeout; if it writes the warehouse, the one-slot writer pool and the Celery
    queue only the worker on the warehouse's machine serves (ignored by standalone runs)."""
    args: dict[str, Any] = {"task_id": name, "execution_timeout": TASK_TIMEOUTS[name],
                            "queue": WAREHOUSE_QUEUE if writes_warehouse else DEFAULT_QUEUE}
    if writes_warehouse:
        args["pool"] = WAREHOUSE_POOL
    return args


# ---------------------------------------------------------------- Params (dag_run.conf keys)

AS_OF_PARAM = {"type": ["null", "string"], "format": "date",
               "pattern": r"^\d{4}-\d{2}-\d{2}$"}
PARAMS: dict[str, dict[str, dict[str, Any]]] = {
    "build_profiles": {
        "as_of": {"default": None, **AS_OF_PARAM,
                  "description": "Build as of this date (YYYY-MM-DD); empty = the run's date "
                                 "in the deployment time zone."},
    },
    "followup_weekly": {
        "as_of": {"default": None, **AS_OF_PARAM,
                  "description": "Scan as of this date (YYYY-MM-DD); empty = the run's date."},
        "days": {"default": 30, "type": "integer", "minimum": 1, "maximum": 366,
                 "description": "Look this many days ahead for what falls due."},
    },
    "review_half_yearly": {
        "period": {"default": None, "type": ["null", "string"], "pattern": r"^\d{4}H[12]$",
                   "description": "Half-year to review, e.g. 2025H2; empty = the half-year "
                                  "before the run's date."},
        "rebuild": {"default": True, "type": "boolean",
                    "description": "Build as of the period's last day first (false = read the "
                                   "nearest existing build)."},
    },
}


def params_for(dag_id: str) -> dict[str, Param]:
    """The declared Params of a DAG (JSON Schema each); ingest DAGs read none."""
    key = "ingest" if dag_id.startswith("ingest_") else dag_id
    return {name: Param(spec["default"], **{k: v for k, v in spec.items() if k != "default"})
            for name, spec in PARAMS.get(key, {}).items()}


def param(context: Any, name: str) -> Any:
    """A declared Param's value for this run (the trigger's conf, validated, or the default)."""
    return context["params"][name]


def run_date(context: Any) -> date:
    """The run's date in the deployment time zone: the logical date, or ``run_after`` when the
    run has none (asset-triggered runs). Never today: a re-run of a past run gets its date."""
    when: datetime | None = context.get("logical_date")
    if when is None:
        when = context["dag_run"].run_after
    return pendulum.instance(when).in_timezone(TIMEZONE).date()


def day_param(context: Any, name: str) -> date:
    """A date Param, or the run's date when it is empty."""
    value = param(context, name)
    return date.fromisoformat(value) if value else run_date(context)


# ---------------------------------------------------------------- mapped labels, asset events

SUBMISSION_LABEL = "{{ submission_label }}"  # map_index_template: "<unit> <file>"


def label_submission(context: Any, submission: dict[str, Any]) -> None:
    """Name a mapped task instance after its file (shown in the UI instead of 0, 1, 2)."""
    context["submission_label"] = f"{submission['unit']} {submission['filename']}"


def emit_or_skip(context: Any, asset: Any, extra: dict[str, Any] | None) -> None:
    """Give the asset event its metadata, or skip the task so no event is emitted: an asset
    event means data changed, and a refused or duplicate file changed nothing."""
    if extra is None:
        raise AirflowSkipException("nothing loaded: no asset event, no rebuild")
    context["outlet_events"][asset].extra = extra
