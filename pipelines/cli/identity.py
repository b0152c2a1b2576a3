"""CLI: ``cadre deciders``, ``cadre unmatched`` and ``cadre identity``.

- ``cadre deciders add NAME ROLE`` / ``list`` / ``disable NAME``: the people allowed to record
  decisions (rules.md, "Who decided is a known person"); a decision naming anyone else is
  refused with a Chinese message and nothing written.
- ``cadre unmatched [--unit U] [--json]``: ORG's standing 待匹配 list (sources.md, "Rows about
  people the roster does not know"), live from staging: no build needed.
- ``cadre identity list [--json]`` / ``confirm SOURCE RECORD_KEY --by --reason``: 身份存疑 rows
  and ORG's recorded confirmation that a row concerns the cadre of its ID.
"""

from __future__ import annotations

import json
from datetime import date

import typer
from rich.console import Console
from rich.table import Table

from pipelines.cli.text import cells
from pipelines.settings import DataHome

console = Console()


def _table(title: str, headers: list[str], rows: list[tuple]) -> Table:
    table = Table(title=title, title_justify="left")
    for header in headers:
        table.add_column(header, overflow="fold")
    for row in rows:
        table.add_row(*cells(row))
    return table


def _records(frame) -> list[dict]:  # noqa: ANN001 - a pandas DataFrame
    return json.loads(frame.to_json(orient="records", date_format="iso", force_ascii=False))


def register(app: typer.Typer) -> None:
    """Add deciders, unmatched and identity to the ``cadre`` app."""
    deciders = typer.Typer(no_args_is_help=True, help="Known deciders (决定人名录).")
    app.add_typer(deciders, name="deciders")

    @deciders.command("add")
    def add(name: str = typer.Argument(..., help="决定人姓名或机构，如 组织部部务会"),
            role: str = typer.Argument(..., help="职务，如 干部监督科科长")) -> None:
        """Register a decider (or re-activate one, with this role)."""
        from pipelines import warehouse
        from pipelines.review import decisions

        try:
            with warehouse.writer(DataHome.current().warehouse_file) as con:
                decisions.add_decider(con, name, role)
        except decisions.DecisionRefused as refused:
            console.print(f"[red]{refused.message_zh}[/red]")
            raise typer.Exit(1) from refused
        console.print(f"已登记决定人：{name}（{role}）")

    @deciders.command("disable")
    def disable(name: str = typer.Argument(...)) -> None:
        """Stop a decider from recording new decisions (past decisions stay)."""
        from pipelines import warehouse
        from pipelines.review import decisions

        with warehouse.writer(DataHome.current().warehouse_file) as con:
            found = decisions.disable_decider(con, name)
        if not found:
            console.print(f"[red]没有登记该决定人：{name}[/red]")
            raise typer.Exit(1)
        console.print(f"已停用决定人：{name}")

    @deciders.command("list")
    def list_(as_json: bool = typer.Option(False, "--json")) -> None:
        """List registered deciders."""
        from pipelines import warehouse
        from pipelines.review import decisions

        with warehouse.writer(DataHome.current().warehouse_file) as con:
            rows = decisions.list_deciders(con)
        if as_json:
            typer.echo(json.dumps(rows, ensure_ascii=False, default=str, indent=2))
            return
        console.print(_table("决定人名录", ["姓名", "职务", "类别", "状态", "登记时间"],
                             [(r["name"], r["role"], "门户账号" if r["kind"] == "portal"
                               else "命令行", "有效" if r["active"] else "已停用",
                               r["added_at"]) for r in rows]))

    @app.command("unmatched")
    def unmatched(unit: str = typer.Option(None, "--unit", help="Only rows this unit sent."),
                  as_json: bool = typer.Option(False, "--json", help="Print a JSON list.")
                  ) -> None:
        """ORG's standing 待匹配 list: accepted rows whose 身份证号 is in no roster yet."""
        from pipelines import warehouse
        from pipelines.ingest.identity import unmatched_rows

        with warehouse.writer(DataHome.current().warehouse_file) as con:
            frame = unmatched_rows(con, unit)
        if as_json:
            typer.echo(json.dumps(_records(frame), ensure_ascii=False, indent=2))
            return
        console.print(_table(
            f"待匹配清单（身份证号不在已收到的任何干部名册中，共 {len(frame)} 行；名册可能尚未报送，"
            "或身份证号录入有误）",
            ["报送单位", "数据类别", "记录", "身份证号", "姓名", "文件", "行", "名册中同名人数"],
            [(r.unit, r.source_zh, r.record_key, r.id_number, r.name, r.filename,
              r.source_row, r.roster_cadres_with_same_name) for r in frame.itertuples()]))

    identity = typer.Typer(no_args_is_help=True, help="身份存疑 rows and ORG's confirmations.")
    app.add_typer(identity, name="identity")

    @identity.command("list")
    def doubts(as_json: bool = typer.Option(False, "--json")) -> None:
        """Rows whose 姓名 contradicts the roster for their ID (counting toward nothing)."""
        from pipelines import warehouse
        from pipelines.ingest.identity import identity_doubt_rows

        with warehouse.writer(DataHome.current().warehouse_file) as con:
            frame = identity_doubt_rows(con)
        if as_json:
            typer.echo(json.dumps(_records(frame), ensure_ascii=False, indent=2))
            return
        console.print(_table(
            f"身份存疑清单（姓名与名册不符，不计入画像和预警，共 {len(frame)} 行）",
            ["报送单位", "数据类别", "记录", "身份证号", "所填姓名", "名册姓名", "文件", "行"],
            [(r.unit, r.source_zh, r.record_key, r.id_number, r.name, r.roster_name,
              r.filename, r.source_row) for r in frame.itertuples()]))

    @identity.command("confirm")
    def confirm(source: str = typer.Argument(..., help="Source, e.g. inspection_finding."),
                record_key: str = typer.Argument(..., help="The record's key (see identity list)."),
                by: str = typer.Option(..., "--by", help="A registered decider (决定人)."),
                reason: str = typer.Option(..., "--reason", help="Why (核实依据)."),
                on: str = typer.Option(None, "--on", help="Decision date, default today.")
                ) -> None:
        """Record ORG's confirmation that a 身份存疑 row concerns the cadre of its ID."""
        from pipelines import warehouse
        from pipelines.review.decisions import DecisionRefused
        from pipelines.review.identity import confirm_identity

        try:
            with warehouse.writer(DataHome.current().warehouse_file) as con:
                id_number, name = confirm_identity(
                    con, source, record_key, decided_by=by, reason=reason,
                    decided_on=date.fromisoformat(on) if on else None)
        except DecisionRefused as refused:
            console.print(f"[red]未登记：{refused.message_zh}[/red]")
            raise typer.Exit(1) from refused
        console.print(f"已登记身份核实：{record_key}（{name}）确属 {id_number}；下次构建起计入")
