"""The bodies of the DAG tasks: plain functions of the data folder and the run's values.

A DAG file's task only reads its run (dates, Params) through ``dag_helpers`` and calls one
function here; each returns a small JSON-able dict for XCom and logs structured key-values
through structlog, which Airflow 3 keeps as fields in the task log (stdlib ``extra=`` fields
are dropped there). Logs carry ids, units, sources, dates and counts: never a cadre's name,
ID number or a unit's free text.
"""

from __future__ import annotations

from datetime import date
from typing import Any

import structlog

from pipelines.settings import DataHome

log = structlog.get_logger("cadre")
LOADED = ("accepted", "partially_accepted")


# ---------------------------------------------------------------- ingest

def receive(source: str, home: DataHome) -> list[dict[str, Any]]:
    """Take the source's inbox files; one dict per submission still to process."""
    from pipelines.ingest.steps import pending_submissions, receive_inbox

    ids = receive_inbox(source, home)
    submissions = pending_submissions(home, ids)
    log.info("inbox received", source=source, submissions=len(submissions))
    return submissions


def parse(submission: dict[str, Any], home: DataHome) -> dict[str, Any]:
    from pipelines.ingest.steps import parse_step

    parsed = parse_step(submission["submission_id"], home)
    log.info("parsed", submission_id=submission["submission_id"], unit=submission["unit"],
             source=submission["source"], parsed=parsed)
    return submission


def validate(submission: dict[str, Any], home: DataHome) -> dict[str, Any]:
    from pipelines.ingest.steps import validate_step

    validated = validate_step(submission["submission_id"], home)
    log.info("validated", submission_id=submission["submission_id"], unit=submission["unit"],
             source=submission["source"], validated=validated)
    return submission


def load(submission: dict[str, Any], home: DataHome) -> dict[str, Any] | None:
    """Load one submission and write its receipt. Returns the asset event's metadata when
    rows were loaded, None when nothing changed (refused or duplicate)."""
    from pipelines.ingest.steps import load_step

    receipt = load_step(submission["submission_id"], home)
    event = {"submission_id": receipt.submission_id, "unit": receipt.unit,
             "source": receipt.source, "status": receipt.status,
             "rows_read": receipt.rows_read, "rows_accepted": receipt.rows_accepted,
             "rows_quarantined": receipt.rows_quarantined}
    log.info("loaded", **event)
    return event if receipt.status in LOADED and receipt.rows_accepted > 0 else None


# ---------------------------------------------------------------- build and publish

def build(home: DataHome, as_of: date) -> dict[str, Any]:
    from pipelines.build.steps import build as run_build

    result = run_build(home, as_of)
    found = {"as_of": str(result.as_of), "ruleset_version": result.ruleset_version,
             "candidates": result.candidates, "warnings": result.warnings}
    log.info("built", **found, seconds=result.seconds)
    return found


def publish(home: DataHome) -> str:
    from pipelines.publish.snapshot import publish as run_publish

    path = run_publish(home)
    log.info("published", snapshot=path.name)
    return str(path)


# ---------------------------------------------------------------- decisions and follow-up

def apply_decisions(home: DataHome, today: date) -> dict[str, int]:
    """Apply pending ORG decision rows (their results go to ORG's outbox, not the log); when
    one was recorded, republish both snapshots so they never lag the decision log."""
    from pipelines.publish.snapshot import publish
    from pipelines.review.decision_drops import apply_decision_drops

    outcomes = apply_decision_drops(home, today)
    found = {"rows": len(outcomes), "applied": sum(o.applied for o in outcomes),
             "submissions": len({o.submission_id for o in outcomes})}
    log.info("decision rows applied", **found)
    if found["applied"]:
        publish(home)
    return found


def followup_scan(home: DataHome, as_of: date, days: int) -> dict[str, Any]:
    """The weekly scan and its report; the log says how many, the report says who."""
    from pipelines.review.followup_report import scan

    result, paths = scan(home, as_of, days, today=as_of)
    found = {"as_of": str(as_of), "days": days, **result.counts()}
    log.info("follow-up scanned", **found)
    return {**found, "reports": [str(p) for p in paths]}


# ---------------------------------------------------------------- half-yearly review

def choose_period(run_day: date, period: str | None, rebuild: bool) -> dict[str, Any]:
    """Which half-year a review run looks at: the Param, else the one before the run's date."""
    from pipelines.review.report import previous_period

    return {"period": period or previous_period(run_day).label, "rebuild": bool(rebuild)}


def build_for_review(home: DataHome, chosen: dict[str, Any]) -> dict[str, Any]:
    """Build as of the period's last day (when asked), so the review reads it as of then."""
    from pipelines.review.data import parse_period

    if chosen["rebuild"]:
        build(home, parse_period(str(chosen["period"])).end)
    return chosen


def review(home: DataHome, chosen: dict[str, Any]) -> dict[str, Any]:
    from pipelines.review.report import write_review

    files = write_review(home, str(chosen["period"]))
    data = files.data
    found = {"period": data.period.label, "build_as_of": str(data.build_as_of),
             "units": len(data.units), "flags": len(data.flags),
             "candidates": int((data.flags["severity"] == "candidate").sum()),
             "observation_ending": len(data.observation), "rechecks": len(data.rechecks)}
    log.info("review written", **found)
    return {**found, "html": str(files.html), "xlsx": str(files.xlsx)}


def ledger(home: DataHome, found: dict[str, Any]) -> str:
    from pipelines.review.ledger import write_ledger

    html, _, data = write_ledger(home, str(found["period"]))
    log.info("ledger written", period=found["period"], **data.totals())
    return str(html)
