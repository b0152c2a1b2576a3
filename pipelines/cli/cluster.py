"""``cadre cluster``: the production-shaped Airflow (Celery, PostgreSQL, Redis) on this machine."""

from __future__ import annotations

import json

import typer

from pipelines.settings import DataHome

cluster_app = typer.Typer(no_args_is_help=True, help="Production-shaped Airflow: start, stop, "
                          "status, and replay the demo's drops through it.")


@cluster_app.command("start")
def start_command(port: int = typer.Option(8080, "--port", help="API server / UI port.")) -> None:
    """Start PostgreSQL, Redis, scheduler, dag-processor, triggerer, API server, two workers."""
    from pipelines.orchestration import cluster

    try:
        ports = cluster.start(DataHome.current(), api_port=port)
    except cluster.ClusterError as problem:
        typer.echo(f"cluster: {problem}", err=True)
        raise typer.Exit(1) from None
    home = DataHome.current()
    typer.echo(f"cluster data folder (workers' CADRE_HOME): {ports['data']}")
    typer.echo(f"PostgreSQL 127.0.0.1:{ports['pg_port']}, Redis 127.0.0.1:{ports['redis_port']}")
    typer.echo(f"state and logs: {cluster.Cluster(home).root}")
    passwords = cluster.Cluster(home).airflow_home / "simple_auth_manager_passwords.json.generated"
    typer.echo(f"admin password file: {passwords}")
    typer.echo(f"Airflow UI: http://127.0.0.1:{ports['api_port']}/   (stop: make cluster-stop)")


@cluster_app.command("stop")
def stop_command() -> None:
    """Stop exactly what `cadre cluster start` started (by PID)."""
    from pipelines.orchestration import cluster

    stopped = cluster.stop(DataHome.current())
    typer.echo("stopped: " + (", ".join(stopped) if stopped else "nothing was running"))


@cluster_app.command("status")
def status_command(as_json: bool = typer.Option(False, "--json")) -> None:
    """Each part of the cluster: running, PID, and whether the services answer."""
    from pipelines.orchestration import cluster

    rows = cluster.status(DataHome.current())
    if as_json:
        typer.echo(json.dumps(rows))
        return
    for row in rows:
        answers = {None: "", True: " answers", False: " NOT answering"}[row["answers"]]
        state = f"running (pid {row['pid']}){answers}" if row["running"] else "stopped"
        typer.echo(f"{row['part']:<17} {state}")


@cluster_app.command("demo")
def demo_command(as_of: str = typer.Option("2026-06-30", "--as-of")) -> None:
    """Replay `make demo`'s sample drops through the running cluster and compare its receipts,
    profiles and flags with the standalone demo's warehouse."""
    from pipelines.orchestration.cluster_demo import replay_demo

    same = replay_demo(DataHome.current(), as_of, echo=typer.echo)
    raise typer.Exit(0 if same else 1)


def register(app: typer.Typer) -> None:
    app.add_typer(cluster_app, name="cluster")
