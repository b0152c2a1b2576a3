"""``cadre``: the command line. Thin: every command calls ``pipelines`` functions and prints.

The data folder is ``CADRE_HOME`` (default ``./var``) for every command.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path

import typer
from rich.console import Console
from rich.table import Table

from pipelines import contracts
from pipelines.cli.analysis import register as register_analysis
from pipelines.cli.cluster import register as register_cluster
from pipelines.cli.fairness import register as register_fairness
from pipelines.cli.identity import register as register_identity
from pipelines.cli.portal import register as register_portal
from pipelines.cli.quality import register as register_quality
from pipelines.cli.review import register as register_review
from pipelines.cli.text import cells, headers
from pipelines.errors import UsageProblem
from pipelines.settings import PROJECT_ROOT, DataHome

app = typer.Typer(add_completion=False, no_args_is_help=True, pretty_exceptions_enable=False,
                  help="cadre-pipeline: unit data drops -> validated warehouse -> profiles.")
# Wide enough for the tables when output is piped (CI logs, make demo | tee).
console = Console(width=None if __import__("sys").stdout.isatty() else 132)

STATUS_ZH = {"accepted": "全部接收", "partially_accepted": "部分接收", "refused": "拒收",
             "duplicate": "重复报送（未重复入库）", "failed": "处理失败（系统故障，待处理）"}


def _home() -> DataHome:
    return DataHome.current()


# Commands that never touch a data folder: they may run anywhere without CADRE_HOME.
NO_DATA_FOLDER = {"generate", "suites", "template", "docs"}


@app.callback()
def root(ctx: typer.Context,
         debug: bool = typer.Option(False, "--debug", help="Show a traceback for a problem "
                                    "with the input instead of one line (any position).")
         ) -> None:
    """Refuse to guess a data folder: outside the repository, CADRE_HOME must be set."""
    if ctx.invoked_subcommand in NO_DATA_FOLDER or ctx.resilient_parsing:
        return
    problem = data_folder_problem()
    if problem:
        raise UsageProblem(problem)


def data_folder_problem(cwd: Path | None = None) -> str | None:
    """Why the default data folder would be a guess, or None when it is known.

    The default ``./var`` is relative to where ``cadre`` runs; run elsewhere it would quietly
    create an empty data folder there and report nothing received. So without CADRE_HOME the
    default is used only in the repository or where a ``var`` folder already exists."""
    from pipelines import settings

    cwd = (cwd or Path.cwd()).resolve()
    if settings.is_set("CADRE_HOME") or cwd == PROJECT_ROOT or (cwd / "var").is_dir():
        return None
    return (f"CADRE_HOME is not set and {cwd} has no var/ data folder; set CADRE_HOME to the "
            f"data folder (the repository's default is {PROJECT_ROOT / 'var'})")


@app.command()
def submit(file: Path = typer.Argument(..., exists=True, dir_okay=False),
           unit: str = typer.Option(..., "--unit", help="Unit code, e.g. ORG, INS, AUD."),
           source: str = typer.Option(..., "--source", help="Source name, e.g. roster."),
           as_json: bool = typer.Option(False, "--json", help="Print the receipt as JSON.")
           ) -> None:
    """Receive, validate and load FILE now; print the receipt. Exit 1 when refused."""
    from pipelines.ingest.errors import EnvironmentFault
    from pipelines.ingest.steps import submit_file

    try:
        receipt = submit_file(file, unit, source, _home())
    except EnvironmentFault as fault:  # the machine, not the file: the submission resumes
        typer.echo(f"error: {fault}\nnothing was lost: run the same command again once the "
                   "cause is fixed (the submission resumes)", err=True)
        raise typer.Exit(2) from None
    if as_json:
        typer.echo(json.dumps(receipt.to_json_dict(), ensure_ascii=False, indent=2))
    else:
        _print_receipt(receipt)
    if receipt.status == "refused":  # stdout stays pure JSON with --json; the line goes to stderr
        typer.echo(f"refused: {receipt.refusal_reason}", err=True)
        raise typer.Exit(1)


CLI_ISSUE_LINES = 10  # the full list is in the feedback report


def _print_receipt(receipt) -> None:  # noqa: ANN001 - pipelines.ingest.receipt.Receipt
    console.print(f"[bold]提交编号 submission[/]: {receipt.submission_id}  "
                  f"({receipt.unit} {receipt.source} {receipt.filename})")
    console.print(f"status: [bold]{receipt.status}[/] ({STATUS_ZH.get(receipt.status, '')})")
    console.print(f"rows read {receipt.rows_read} = accepted {receipt.rows_accepted} "
                  f"+ quarantined {receipt.rows_quarantined}")
    if receipt.duplicate_of:
        console.print(f"duplicate of {receipt.duplicate_of}: nothing loaded twice")
    held = [(receipt.rows_unmatched, "rows unmatched (未匹配：身份证号不在已收到的名册中)"),
            (receipt.rows_identity_doubt, "rows 身份存疑 (姓名与名册不符，不计入画像和预警)"),
            (receipt.records_withdrawn, "records withdrawn (已撤回)"),
            (receipt.withdrawals_refused, "withdrawals refused (撤回未执行)")]
    for count, what in held:
        if count:
            console.print(f"{count} {what}", highlight=False)
    for reason in receipt.reasons:
        console.print(f"  - {reason}")
    located = [i for i in receipt.issues if i.scope == "row"]
    for issue in located[:CLI_ISSUE_LINES]:
        console.print(f"    {issue.locate_zh()}：{issue.message_zh}", highlight=False)
    if len(located) > CLI_ISSUE_LINES:
        console.print(f"    …… 共 {len(located)} 处，详见反馈报告")
    for path in receipt.feedback_files:
        console.print(f"feedback: {path}")


@app.command()
def ingest(source: list[str] = typer.Option(None, "--source",
                                            help="Only these sources (repeatable).")) -> None:
    """Process every file waiting in the inboxes (inbox/<UNIT>/<source>/), without Airflow."""
    from pipelines.ingest.steps import ingest_inbox

    receipts = ingest_inbox(_home(), source or None)
    table = Table("submission", "unit", "source", "file", "status", "read", "accepted",
                  "quarantined")
    for r in receipts:
        table.add_row(*cells((r.submission_id, r.unit, r.source, r.filename, r.status,
                              r.rows_read, r.rows_accepted, r.rows_quarantined)))
    console.print(table if receipts else "inboxes are empty")


@app.command()
def status(limit: int = typer.Option(50, help="Most recent N submissions."),
           unit: str = typer.Option(None, "--unit", help="Only this unit's submissions (ORG, "
                                    "INS, AUD, PET, DIS)."),
           as_json: bool = typer.Option(False, "--json", help="Print a JSON list of objects.")
           ) -> None:
    """List submissions, newest first: unit, source, file, status and counts."""
    from pipelines.ingest.summaries import submissions_frame

    frame = submissions_frame(_home(), limit, unit)
    if as_json:
        rows = [{k: (None if v != v else v) for k, v in row.items()}  # NaN -> null
                for row in frame.astype(object).to_dict(orient="records")]
        typer.echo(json.dumps(rows, ensure_ascii=False, indent=2, default=str))
        return
    table = Table(*headers(frame.columns))
    for row in frame.itertuples(index=False):
        table.add_row(*cells(row))
    console.print(table)


@app.command()
def template(source: str = typer.Argument(..., help="Source name, e.g. roster."),
             out: Path = typer.Option(None, "--out", help="Output .xlsx path.")) -> None:
    """Write an XLSX template for SOURCE: Chinese headers, drop-downs, instructions sheet."""
    from pipelines.ingest.templates import write_template

    contract = contracts.load_contract(source)
    path = write_template(source, out or Path(f"{contract.title_zh}_模板.xlsx"))
    console.print(f"template written: {path}")


@app.command()
def generate(cadres: int = typer.Option(200, "--cadres"), years: int = typer.Option(3, "--years"),
             seed: int = typer.Option(1, "--seed"), out: Path = typer.Option(..., "--out"),
             faults: bool = typer.Option(False, "--faults", help="Plant every kind of bad input."),
             file_format: str = typer.Option(None, "--format", help="Force one format: csv.")
             ) -> None:
    """Write deterministic sample drops (and manifest.json) for every source into OUT."""
    from pipelines.dev.generate import generate_drops

    manifest = generate_drops(out, cadres=cadres, years=years, seed=seed, faults=faults,
                              file_format=file_format)
    console.print(f"{len(manifest.files)} files written to {out}")


@app.command()
def suites(check: bool = typer.Option(False, "--check",
                                      help="Only report suites that differ from contracts.")
           ) -> None:
    """Compile expectations/<source>.json from the contracts."""
    from pipelines.ingest import suites as suite_compiler

    if check:
        drifted = suite_compiler.drifted_suites()
        console.print(f"out of date: {', '.join(drifted)}" if drifted else "suites up to date")
        raise typer.Exit(1 if drifted else 0)
    for path in suite_compiler.write_suites():
        console.print(f"wrote {path}")


@app.command()
def export(table_or_sql: str = typer.Argument(..., help="schema.table in the snapshot, or a "
                                              "SELECT over it."),
           out: Path = typer.Option(..., "--out", help="Output .xlsx path.")) -> None:
    """Export a table or query of the analysts' (pseudonymised) snapshot to XLSX."""
    from pipelines.publish.export import export_to_xlsx

    rows = export_to_xlsx(_home(), table_or_sql, out)
    console.print(f"{rows} rows written to {out}")


@app.command()
def sql(query: str = typer.Argument(None, help="One SQL statement; omit for a shell that "
                                    "reads statements ending in ';' from stdin."),
        as_csv: bool = typer.Option(False, "--csv", help="Print CSV instead of a table.")
        ) -> None:
    """A read-only SQL shell on the analysts' snapshot (external access off)."""
    import sys

    from pipelines.publish.export import open_snapshot, run_query

    con = open_snapshot(_home())
    try:
        if query is not None:
            _print_result(*run_query(con, query), as_csv)
            return
        interactive = sys.stdin.isatty()
        if interactive:
            typer.echo("cadre sql: the analysts' snapshot, read-only. End a statement with ';'; "
                       ".tables lists the tables; Ctrl-D quits.")
        buffer = ""
        while True:
            try:
                line = input("sql> " if interactive and not buffer else
                             ("...> " if interactive else ""))
            except EOFError:
                break
            if not buffer and line.strip() == ".tables":
                line = ("select schema_name || '.' || table_name as table_name, comment "
                        "from duckdb_tables() order by 1;")
            buffer += line + "\n"
            if buffer.rstrip().endswith(";"):
                try:
                    _print_result(*run_query(con, buffer), as_csv)
                except UsageProblem as exc:
                    typer.echo(f"cadre sql: {exc}", err=True)
                buffer = ""
    finally:
        con.close()


def _print_result(columns: list[str], rows: list[tuple], as_csv: bool) -> None:
    if as_csv:
        import csv
        import sys

        writer = csv.writer(sys.stdout, lineterminator="\n")
        writer.writerow(columns)
        writer.writerows(rows)
        return
    table = Table(*headers(columns))
    for row in rows:
        table.add_row(*cells(row))
    console.print(table)
    console.print(f"({len(rows)} rows)")


@app.command()
def demo(reset: bool = typer.Option(False, "--reset", help="Empty the data folder's state "
                                    "first (keeps Airflow's metadata DB); without it, a folder "
                                    "that holds state is refused."),
         cadres: int = typer.Option(300, "--cadres")) -> None:
    """Sample drops with faults -> inboxes -> ingest DAGs (dag.test) -> summary table."""
    from pipelines.dev.demo import DemoFolderInUse, run_demo

    try:
        run_demo(_home(), reset=reset, cadres=cadres, console=console)
    except DemoFolderInUse as exc:
        typer.echo(f"cadre demo: {exc}", err=True)
        raise typer.Exit(2) from None


@app.command()
def docs(check: bool = typer.Option(False, "--check", help="Only report generated pages that "
                                    "differ from what the code gives (exit 1).")) -> None:
    """Regenerate the committed docs/ pages that come from code: the units' contract."""
    from pipelines.dev.generated_docs import stale_docs, write_docs

    if check:
        stale = stale_docs()
        console.print(f"out of date: {', '.join(stale)} (run cadre docs)" if stale
                      else "generated docs up to date")
        raise typer.Exit(1 if stale else 0)
    for path in write_docs():
        console.print(f"wrote {path}")


@app.command()
def rebuild(into: Path = typer.Option(..., "--into", help="A new folder for the rebuilt data "
                                      "folder.")) -> None:
    """Replay every archived submission in its original order into a fresh warehouse at INTO,
    rebuild profiles and flags, and report whether raw, staging, profiles and flags equal the
    live ones (table checksums). Exit 1 if any differs."""
    import time

    from pipelines.orchestration.recovery import rebuild as rebuild_from_archive

    started = time.monotonic()
    checks = rebuild_from_archive(_home(), into)
    table = Table("table", "live rows", "rebuilt rows", "equal")
    for check in checks:
        table.add_row(check.table, str(check.live_rows), str(check.rebuilt_rows),
                      "yes" if check.equal else "[red]NO[/]")
    console.print(table)
    differing = [c.table for c in checks if not c.equal]
    console.print(f"rebuilt into {into} in {time.monotonic() - started:.1f} s: "
                  + (f"{len(differing)} tables differ" if differing else "all tables equal"))
    raise typer.Exit(1 if differing else 0)


@app.command()
def backup(dest: Path = typer.Argument(..., help="A new (or empty) folder.")) -> None:
    """A consistent copy of the warehouse, the archive and the pseudonym key at DEST."""
    from pipelines.orchestration.recovery import backup as backup_home

    target = backup_home(_home(), dest)
    console.print(f"backup written to {target.root} (use it as CADRE_HOME)")


@app.command("airflow-setup")
def airflow_setup() -> None:
    """Migrate Airflow's metadata DB under the data folder and create the writer pool."""
    from pipelines.orchestration.local import prepare_airflow

    prepare_airflow(_home())


@app.command("airflow-start")
def airflow_start(port: int = typer.Option(8080, "--port", help="API server port on "
                                           "127.0.0.1.")) -> None:
    """Start the local Airflow in the background (DAGs active, sized to this machine, every
    listener on 127.0.0.1); print the admin password last. `cadre airflow-stop` ends it."""
    from pipelines.orchestration.local import prepare_airflow
    from pipelines.orchestration.local_server import (
        AirflowServerError,
        admin_password,
        parallelism,
        start,
    )

    home = _home()
    prepare_airflow(home)
    console.print(f"starting Airflow for {home.root} on 127.0.0.1:{port} (parallelism "
                  f"{parallelism()}, DAGs active on creation); waiting until healthy ...",
                  highlight=False)
    try:
        running = start(home, port)
    except AirflowServerError as exc:
        raise UsageProblem(str(exc)) from exc
    console.print(f"Airflow is up: {running.url}  (components: "
                  f"{', '.join(f'{n} {p}' for n, p in running.pids.items())})", highlight=False)
    console.print(f"logs: {home.airflow_home / 'logs'}; stop everything with: make airflow-stop "
                  "(or cadre airflow-stop)", highlight=False)
    password = admin_password(running)
    typer.echo(f"login: admin / {password or '(see the file)'}  (saved in "
               f"{running.password_file})")  # last, on one line, so it does not scroll away


@app.command("airflow-stop")
def airflow_stop() -> None:
    """Stop every process `cadre airflow-start` started for this data folder (by PID)."""
    from pipelines.orchestration.local_server import stop

    stopped = stop(_home())
    console.print(f"stopped {len(stopped)} Airflow processes" if stopped
                  else "no local Airflow was running for this data folder")


# Commands from sibling modules: profiles and flags (build, candidates, profile) and reviews,
# decisions and follow-up (decide, report review|ledger, followup).
register_analysis(app)
register_review(app)
register_identity(app)
register_cluster(app)
register_fairness(app)
register_portal(app)  # cadre portal serve|worker|user|token|audit
register_quality(app)  # cadre report quality


def main() -> None:
    """Entry point: a problem with the input is one line on stderr and exit 2; bugs keep their
    traceback. ``--debug`` (anywhere on the line) shows the traceback for both."""
    import sys

    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    debug = "--debug" in sys.argv[1:]
    sys.argv[1:] = [a for a in sys.argv[1:] if a != "--debug"]
    try:
        app()
    except UsageProblem as exc:
        if debug:
            raise
        typer.echo(f"cadre: {exc}", err=True)
        raise SystemExit(2) from None


if __name__ == "__main__":
    main()
