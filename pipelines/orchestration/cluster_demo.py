"""Replay the demo's drops through the cluster and compare with the standalone results.

The cluster must give exactly what ``airflow standalone``/``dag.test()`` gives: the same receipt
for every file, the same profiles and the same flags. Submission ids carry the receiving day, so
results are compared by what does not depend on when a file was received: receipts by
(unit, source, file name), profiles and flags by cadre, rule and period.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from datetime import date
from pathlib import Path

import duckdb

from pipelines.contracts import source_names
from pipelines.orchestration import cluster
from pipelines.settings import DataHome

RECEIPT_SQL = """
select unit, source, filename, status, rows_read, rows_accepted, rows_quarantined,
       refusal_reason, (select s2.filename from meta.submission s2
                        where s2.submission_id = s.duplicate_of) as duplicate_of_file
from meta.submission s order by all
"""
PROFILE_SQL = """
select * exclude (base_evidence_id) from marts.cadre_profile where as_of = ? order by all
"""
FLAG_SQL = """
select id_number, rule_id, severity, dimension, hits, first_flag_date, len(evidence_ids) as evidence,
       detail_zh
from marts.cadre_flag where as_of = ? order by all
"""


def results(warehouse_file: Path, as_of: date) -> dict[str, list[tuple]]:
    """Receipts, profiles and flags of one warehouse, in a comparable (hashable) form."""
    with duckdb.connect(str(warehouse_file), read_only=True) as con:
        found = {"receipts": con.execute(RECEIPT_SQL).fetchall(),
                 "profiles": con.execute(PROFILE_SQL, [as_of]).fetchall(),
                 "flags": con.execute(FLAG_SQL, [as_of]).fetchall()}
    return {kind: [tuple(_hashable(value) for value in row) for row in rows]
            for kind, rows in found.items()}


def _hashable(value: object) -> object:
    if isinstance(value, list):
        return tuple(_hashable(v) for v in value)
    if isinstance(value, dict):
        return tuple(sorted((k, _hashable(v)) for k, v in value.items()))
    return value


def differences(a: dict[str, list[tuple]], b: dict[str, list[tuple]]) -> dict[str, int]:
    """Per kind, how many rows one side has that the other lacks (0 = identical)."""
    return {kind: len(set(a[kind]) ^ set(b[kind])) + abs(len(a[kind]) - len(b[kind]))
            for kind in a}


def copy_drops(samples: Path, inbox: Path) -> int:
    """Copy generated drops (``<UNIT>/<source>/<file>``) into an inbox; returns the count."""
    count = 0
    for path in sorted(samples.glob("*/*/*")):
        if path.is_file():
            target = inbox / path.relative_to(samples)
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(path, target)
            count += 1
    return count


def run_drops(home: DataHome, as_of: date, timeout: float = 900) -> None:
    """Run every ingest DAG on what is in the cluster's inboxes, then the build as of a date."""
    ingest_dags = [f"ingest_{source}" for source in source_names()]
    cluster.wait_for_dags(home, [*ingest_dags, "build_profiles"])
    # Each load's asset event would start a build of its own: hold the build while the drops
    # load, so it runs once on all of them (the queued asset events make one run on unpause).
    cluster.airflow_cli(cluster.Cluster(home), "dags", "pause", "build_profiles")
    for dag_id in ingest_dags:
        cluster.trigger(home, dag_id)
    cluster.wait_until_idle(home, timeout)
    cluster.airflow_cli(cluster.Cluster(home), "dags", "unpause", "build_profiles")
    cluster.trigger(home, "build_profiles", {"as_of": as_of.isoformat()})
    cluster.wait_until_idle(home, timeout)


def replay_demo(home: DataHome, as_of: str, echo: Callable[[str], None] = print) -> bool:
    """`cadre cluster demo`: the demo's samples through the running cluster, then compare."""
    day = date.fromisoformat(as_of)
    samples = home.root / "samples"
    if not home.warehouse_file.exists() or not samples.is_dir():
        raise SystemExit("run `make demo` first: it writes the samples and the standalone results")
    data = cluster.Cluster(home).data
    echo(f"{copy_drops(samples, data.inbox)} drops copied into {data.inbox}")
    run_drops(home, day)
    diff = differences(results(home.warehouse_file, day), results(data.warehouse_file, day))
    for kind, count in diff.items():
        echo(f"{kind}: {'same' if count == 0 else f'{count} rows differ'}")
    return not any(diff.values())
