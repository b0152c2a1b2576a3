"""CLI: ``cadre report fairness``: the disparity monitor for one review period.

It takes the writer connection (it registers new flags first, like every review command);
``--json`` prints exactly ``{"period", "min_group", "threshold", "rows"}`` on stdout, the
build it read and the method on stderr, so stdout stays one JSON object.
"""

from __future__ import annotations

import json

import typer
from rich.console import Console
from rich.table import Table

from pipelines.cli.review import report_group
from pipelines.cli.text import cells
from pipelines.settings import DataHome

console = Console()


def register(app: typer.Typer) -> None:
    """Add ``report fairness`` to the ``cadre`` app (reusing the ``report`` group)."""
    report = report_group(app)

    @report.command("fairness")
    def fairness(period: str = typer.Option(..., "--period", help="2025H2, 2025H1 or 2025."),
                 as_json: bool = typer.Option(False, "--json", help="Print the table as JSON.")
                 ) -> None:
        """Disparity monitor: per unit, sex, age band, post level and evidence source, the rate
        of candidates, warnings and adjustments, impact ratio, Holm-corrected Fisher p-value."""
        from pipelines import warehouse
        from pipelines.review import fairness_report
        from pipelines.review import sql as review_sql
        from pipelines.review.data import parse_period
        from pipelines.review.fairness import load_fairness

        try:
            parsed = parse_period(period)
        except ValueError as exc:
            raise typer.BadParameter(str(exc)) from exc
        home = DataHome.current()
        with warehouse.writer(home.warehouse_file) as con:
            review_sql.ensure(con)
            result = load_fairness(con, parsed)
        p = result.params
        note = (f"build as of {result.build_as_of}; impact ratio = group rate / lowest rate of "
                f"the groups with >= {p.min_group} cadres; one-sided Fisher exact test vs the "
                f"rest of the grouping, Holm-corrected per grouping and outcome, alpha {p.alpha}")
        if as_json:
            typer.echo(json.dumps(result.to_json(), ensure_ascii=False, indent=2))
            typer.echo(note, err=True)
            return
        if result.build_as_of is None:
            console.print("[red]尚未构建画像，请先运行 cadre build[/red]")
            raise typer.Exit(2)
        context = fairness_report.section(result)
        assert context is not None
        console.print(context["meta"])
        table = Table("分组", "组别", "结果", "人数", "有该结果", "比例", "影响比", "校正后p值", "判定",
                      title=f"公平性监测（{parsed.label_zh}）", title_justify="left")
        for row in fairness_report.table_rows(result.table.to_dict("records")):
            style = {"差异超限": "bold red", "样本不足": "dim"}.get(row["判定"])
            table.add_row(*cells(row.values()), style=style)
        console.print(table)
        for drill in context["drill"]:
            console.print(f"[bold]来源分析[/]：{drill['title']}", soft_wrap=True)
        console.print(context["explanation"][3], soft_wrap=True)
        console.print(context["explanation"][4], soft_wrap=True)
