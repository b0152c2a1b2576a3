"""CLI: ``cadre portal`` — serve the units' portal, run its worker, manage accounts and tokens,
print the audit log."""

from __future__ import annotations

import atexit
import os
import subprocess
import sys

import typer
from rich.console import Console
from rich.table import Table

from pipelines.cli.text import cells
from pipelines.settings import DataHome

console = Console()
portal_app = typer.Typer(no_args_is_help=True, help="The units' portal (web pages and API).")
user_app = typer.Typer(no_args_is_help=True, help="Portal accounts.")
token_app = typer.Typer(no_args_is_help=True, help="API tokens for units' scripts.")
portal_app.add_typer(user_app, name="user")
portal_app.add_typer(token_app, name="token")


def _home() -> DataHome:
    return DataHome.current()


def _password_from_stdin() -> str:
    line = sys.stdin.readline()
    if not line:
        raise typer.BadParameter("no password on stdin")
    return line.rstrip("\r\n")


def _fail(message: str) -> None:
    typer.echo(message, err=True)
    raise typer.Exit(1)


@portal_app.command("serve")
def serve(host: str = typer.Option("127.0.0.1", "--host"),
          port: int = typer.Option(8090, "--port"),
          worker: bool = typer.Option(True, "--worker/--no-worker",
                                      help="Also start the ingest worker (a child process).")
          ) -> None:
    """Run the portal (uvicorn) and, by default, its worker beside it."""
    import uvicorn

    from pipelines import settings
    from pipelines.dev.demo_portal import demo_accounts_file
    from pipelines.portal.app import create_app

    home = _home()
    accounts = demo_accounts_file(home)
    if accounts.is_file():
        console.print(f"demo accounts ({accounts}):")
        console.print(accounts.read_text(encoding="utf-8"), highlight=False)
    child = None
    if worker:  # it also stops by itself when this process is gone (--with-parent)
        child = subprocess.Popen([sys.executable, "-m", "pipelines.cli.main", "portal",
                                  "worker", "--with-parent", str(os.getpid())])
        atexit.register(child.terminate)
    console.print(f"portal: http://{host}:{port}/  (data folder {home.root})")
    try:
        uvicorn.run(create_app(home), host=host, port=port, log_level="warning",
                    proxy_headers=True,
                    forwarded_allow_ips=settings.get("CADRE_PORTAL_FORWARDED_ALLOW_IPS"))
    finally:
        if child is not None:
            child.terminate()


@portal_app.command("worker")
def worker(with_parent: int = typer.Option(None, "--with-parent", hidden=True,
                                           help="Stop when this process id is gone.")) -> None:
    """Process uploads queued by the portal through the ingest steps, and reviewers' decisions."""
    import logging

    from pipelines.portal.worker import run_forever

    logging.getLogger("pipelines").setLevel(logging.INFO)
    run_forever(_home(), parent_pid=with_parent)


@user_app.command("add")
def user_add(unit: str = typer.Argument(..., help="ORG INS AUD PET DIS"),
             login: str = typer.Argument(...),
             password_stdin: bool = typer.Option(False, "--password-stdin",
                                                 help="Read the password from stdin."),
             name: str = typer.Option("", "--name", help="Display name (决定人 for reviewers)."),
             admin: bool = typer.Option(False, "--admin", help="ORG only: sees every unit."),
             reviewer: bool = typer.Option(False, "--reviewer",
                                           help="ORG only: 线索与决定 page.")) -> None:
    """Create an account for a unit."""
    from pipelines.portal import auth
    from pipelines.portal.store import audit, session_scope

    if not password_stdin:
        _fail("give the password on stdin with --password-stdin")
    password = _password_from_stdin()
    roles = tuple(r for r, on in (("admin", admin), ("reviewer", reviewer)) if on)
    try:
        with session_scope(_home()) as db:
            account = auth.add_account(db, unit, login, password, display_name=name, roles=roles)
            audit(db, "account_added", account=account.login, unit=unit, client="cli",
                  detail=",".join(roles))
    except auth.AccountError as exc:
        _fail(str(exc))
    console.print(f"account {login} ({unit}) created")


@user_app.command("disable")
def user_disable(login: str) -> None:
    """Disable an account (its sessions end at once)."""
    from pipelines.portal import auth
    from pipelines.portal.store import audit, session_scope

    try:
        with session_scope(_home()) as db:
            account = auth.get_account(db, login)
            account.disabled = True
            auth.end_sessions(db, account)
            audit(db, "account_disabled", account=account.login, unit=account.unit, client="cli")
    except auth.AccountError as exc:
        _fail(str(exc))
    console.print(f"account {login} disabled")


@user_app.command("reset-password")
def user_reset_password(login: str,
                        password_stdin: bool = typer.Option(False, "--password-stdin")) -> None:
    """Set a new password (read from stdin); ends the account's sessions and lockout."""
    from pipelines.portal import auth
    from pipelines.portal.store import LoginThrottle, audit, session_scope

    if not password_stdin:
        _fail("give the password on stdin with --password-stdin")
    password = _password_from_stdin()
    try:
        with session_scope(_home()) as db:
            account = auth.get_account(db, login)
            auth.set_password(db, account, password)
            account.disabled = False
            if (throttle := db.get(LoginThrottle, account.login)) is not None:
                db.delete(throttle)
            audit(db, "password_reset", account=account.login, unit=account.unit, client="cli")
    except auth.AccountError as exc:
        _fail(str(exc))
    console.print(f"password of {login} reset")


@token_app.command("create")
def token_create(unit: str) -> None:
    """Create an API token for UNIT; printed once, on the last line (only its hash is kept)."""
    from pipelines.portal import auth
    from pipelines.portal.store import audit, session_scope

    try:
        with session_scope(_home()) as db:
            token = auth.create_token(db, unit)
            audit(db, "token_created", unit=unit, client="cli")
    except auth.AccountError as exc:
        _fail(str(exc))
    typer.echo(f"API token for {unit} (shown once; keep it secret):")
    typer.echo(token)


@portal_app.command("audit")
def audit_log(limit: int = typer.Option(200, "--limit", help="Most recent N events."),
              unit: str = typer.Option(None, "--unit")) -> None:
    """Print the portal's audit log (append-only), oldest first."""
    from sqlalchemy import select

    from pipelines.portal.store import AuditEvent, session_scope

    with session_scope(_home()) as db:
        query = select(AuditEvent).order_by(AuditEvent.id.desc()).limit(limit)
        if unit:
            query = query.where(AuditEvent.unit == unit)
        events = list(reversed(db.scalars(query).all()))
    table = Table("time (UTC)", "action", "account", "unit", "client", "detail")
    for e in events:
        table.add_row(*cells((e.at, e.action, e.account, e.unit, e.client, e.detail)))
    console.print(table if events else "audit log is empty")


def register(app: typer.Typer) -> None:
    app.add_typer(portal_app, name="portal")
