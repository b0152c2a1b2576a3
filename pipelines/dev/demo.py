"""``make demo``: the main job on embedded defaults, end to end, through Airflow.

Generate sample drops with every kind of fault, drop them in the inboxes, run each ingest DAG
with ``dag.test()`` (SQLite metadata DB under the data folder, no server), print what happened
per source, then run the build DAG as of the sample data's reference date and print the
candidates, checking them against the truth the generator planted.
"""

from __future__ import annotations

import shutil
from datetime import date
from pathlib import Path

from rich.console import Console
from rich.table import Table

from pipelines import warehouse
from pipelines.build.candidates import candidate_rows
from pipelines.build.ruleset import SEVERITY_ZH
from pipelines.contracts import source_names
from pipelines.dev.demo_portal import create_demo_accounts, demo_accounts_file
from pipelines.dev.demo_review import build_history, describe_fairness, write_demo_review
from pipelines.dev.truth import load_truth, planted_mismatches
from pipelines.ingest.summaries import source_totals
from pipelines.orchestration.local import prepare_airflow, run_dag
from pipelines.publish.snapshot import publish
from pipelines.settings import DataHome

DEMO_SEED = 20251231
DEMO_YEARS = 3


class DemoFolderInUse(Exception):
    """The data folder already holds pipeline state and no reset was asked for."""


def _state_folders(home: DataHome) -> tuple[Path, ...]:
    """Everything a demo run writes, except Airflow's home (its migrated metadata DB)."""
    return (home.inbox, home.archive, home.work, home.outbox, home.published_dir,
            home.review_snapshot_dir, home.reports, home.warehouse_file.parent, home.keys,
            home.duckdb_temp.parent, home.root / "samples", home.portal_dir)


def has_state(home: DataHome) -> bool:
    """True when the folder holds anything a demo run would write (files, not empty folders)."""
    return any(p.is_file() for folder in _state_folders(home) if folder.exists()
               for p in folder.rglob("*"))


def reset_state(home: DataHome) -> None:
    """Empty the data folder's pipeline state; Airflow's migrated metadata DB is kept."""
    for folder in _state_folders(home):
        shutil.rmtree(folder, ignore_errors=True)
    home.ensure()


def reset_message(home: DataHome) -> str:
    """What a reset empties and what it keeps, said exactly."""
    emptied = ", ".join(f"{p.relative_to(home.root)}/" for p in _state_folders(home))
    return (f"starting afresh in {home.root}: emptied {emptied}; kept airflow/ (Airflow's "
            "metadata DB and task logs, so the DB is migrated only once)")


def stage_samples(home: DataHome, cadres: int) -> int:
    """Generate the sample drops and copy them into the inboxes; returns the file count."""
    from pipelines.dev.generate import generate_drops

    samples = home.root / "samples"
    manifest = generate_drops(samples, cadres=cadres, years=DEMO_YEARS, seed=DEMO_SEED,
                              faults=True)
    for entry in manifest.files:
        target = home.inbox / entry.path
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(samples / entry.path, target)
    return len(manifest.files)


def run_demo(home: DataHome, reset: bool, cadres: int, console: Console) -> None:
    if reset:
        reset_state(home)
        console.print(reset_message(home), highlight=False)
    elif has_state(home):
        raise DemoFolderInUse(
            f"the data folder {home.root} already holds pipeline state; run `cadre demo "
            "--reset` (what `make demo` runs) to start it afresh, or set CADRE_HOME to an "
            "empty folder")
    count = stage_samples(home, cadres)
    console.print(f"[bold]1.[/] {count} sample files (with planted faults) in {home.inbox}")
    console.print("[bold]2.[/] Airflow metadata DB and writer pool (first run ~10 s)")
    prepare_airflow(home)
    console.print("[bold]3.[/] ingest DAGs (dag.test)")
    for source in source_names():
        state = run_dag(f"ingest_{source}", home)
        console.print(f"   ingest_{source}: {state}")
    _print_totals(home, console)
    console.print(f"warehouse: {home.warehouse_file}")
    console.print(f"feedback reports for units: {home.outbox}/<UNIT>/")
    truth = load_truth(home.root / "samples")
    history = build_history(home, date.fromisoformat(truth["as_of"]))
    console.print(f"   earlier builds for the 公平性监测 trend: {', '.join(map(str, history))}")
    console.print(f"[bold]4.[/] build DAG as of {truth['as_of']} (the sample data's reference "
                  "date), then publish")
    console.print(f"   build_profiles: {run_dag('build_profiles', home, {'as_of': truth['as_of']})}")
    _print_candidates(home, truth, console)
    console.print(f"analysts' snapshot: {home.published_file}")
    console.print("[bold]5.[/] sample decisions (组织部部务会, demo) and the 集中会诊 report")
    console.print(f"集中会诊报告 review report: {write_demo_review(home)}")
    console.print(describe_fairness(home, date.fromisoformat(truth["as_of"])))
    publish(home)  # the sample decisions reach both snapshots
    console.print(f"snapshots republished with the decisions: {home.published_file} "
                  f"(analysts) and {home.review_snapshot_file} (supervisors, owner-only)")
    console.print("[bold]6.[/] units' portal: demo accounts (`make portal` serves it)")
    for unit, login, password in create_demo_accounts(home):
        console.print(f"   {unit:<4} {login:<10} {password}", highlight=False)
    console.print(f"   written to {demo_accounts_file(home)} (mode 600)")


def _print_candidates(home: DataHome, truth: dict, console: Console) -> None:
    as_of = date.fromisoformat(truth["as_of"])
    with warehouse.connect(home.warehouse_file, read_only=True) as con:
        rows = candidate_rows(con, as_of)
        mismatches = planted_mismatches(con, truth)
    table = Table("身份证号", "姓名", "单位", "职务", "类别", "规则", "证据数",
                  title=f"不适宜担任现职人选及预警（截至 {as_of}，共 {len(rows)} 人）")
    for r in rows:
        table.add_row(r["id_number"], r["name"], r["org_name"], r["post_title"],
                      SEVERITY_ZH[r["severity"]], "、".join(r["rules"]), str(r["evidence_count"]))
    console.print(table)
    planted = len(truth["cadres"])
    console.print(f"planted rule cases reproduced: {planted - len(mismatches)}/{planted}"
                  + (f"; differing: {mismatches}" if mismatches else ""))


def _print_totals(home: DataHome, console: Console) -> None:
    totals = source_totals(home)
    table = Table("source", "files", "rows accepted", "rows quarantined", "files refused",
                  "duplicates", title="Ingest by source")
    for row in totals.itertuples(index=False):
        table.add_row(row.source, str(row.files), str(row.rows_accepted),
                      str(row.rows_quarantined), str(row.files_refused), str(row.files_duplicate))
    console.print(table)
