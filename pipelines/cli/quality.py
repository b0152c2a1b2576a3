"""``cadre report quality``: each unit's data quality per month (engineers and 组织部)."""

from __future__ import annotations

import json

import typer
from rich.console import Console
from rich.table import Table

from pipelines import warehouse
from pipelines.cli.review import report_group
from pipelines.cli.text import cells
from pipelines.ingest.quality import load_quality
from pipelines.settings import DataHome

console = Console()


def register(app: typer.Typer) -> None:
    report = report_group(app)

    @report.command("quality")
    def quality(unit: str = typer.Option(None, "--unit", help="Only this unit (code, e.g. AUD)."),
                as_json: bool = typer.Option(False, "--json", help="Print JSON instead of tables.")
                ) -> None:
        """Data quality per unit and month: refusal and quarantine rates, and their reasons."""
        home = DataHome.from_env()
        if not home.warehouse_file.exists():
            raise typer.BadParameter(f"数据仓库不存在：{home.warehouse_file}")
        with warehouse.connect(home.warehouse_file, read_only=True) as con:
            found = load_quality(con, unit)
        if as_json:
            typer.echo(json.dumps(found.as_json(), ensure_ascii=False, indent=1, default=str))
            return
        for title, rows in (("各单位报送数据质量（按月）", found.month_rows_zh()),
                            ("拒收与隔离原因", found.reason_rows_zh())):
            table = Table(*(rows[0].keys() if rows else ["（无）"]), title=title)
            for row in rows:
                table.add_row(*cells(row.values()))
            console.print(table)
