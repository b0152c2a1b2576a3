"""CLI: ``cadre decide``, ``cadre report review``, ``cadre report ledger``, ``cadre followup``.

These write the working warehouse (the decision log, the flag register), so they take the one
writer connection; what they print for people is Chinese. ``register(app)`` adds them to the
``cadre`` app; a ``report`` group already registered by another module is reused.
"""

from __future__ import annotations

from datetime import date

import typer
from rich.console import Console
from rich.table import Table

from pipelines.build.ruleset import SEVERITY_ZH
from pipelines.cli.text import cells
from pipelines.settings import DataHome

console = Console()


def _home() -> DataHome:
    return DataHome.current()


def _day(text: str | None) -> date | None:
    try:
        return date.fromisoformat(text) if text else None
    except ValueError as exc:
        raise typer.BadParameter(f"日期格式应为 2025-03-05：{text}") from exc


def report_group(app: typer.Typer) -> typer.Typer:
    """The ``report`` sub-app: the one already registered, else a new one."""
    for info in app.registered_groups:
        if info.name == "report" and info.typer_instance is not None:
            return info.typer_instance
    group = typer.Typer(no_args_is_help=True, help="Reports for the organization department.")
    app.add_typer(group, name="report")
    return group


def _show_flag(flag_id: str) -> None:
    from pipelines import warehouse
    from pipelines.review import decisions

    with warehouse.writer(_home().warehouse_file) as con:
        decisions.sync_flags(con)
        row = con.execute("select name, org_name, rule_id, rule_title_zh, detail_zh, state, "
                          "state_zh, evidence_keys, new_evidence_keys, previous_flag_id "
                          "from decisions.flag_state where flag_id = ?", [flag_id]).fetchone()
        log = con.execute("select decided_on, action, from_state, to_state, decided_by, reason, "
                          "document_no from decisions.decision_log where flag_id = ? "
                          "order by decision_id", [flag_id]).fetchall()
    if row is None:
        console.print(f"[red]线索编号 {flag_id} 不存在[/red]")
        raise typer.Exit(1)
    name, org, rule_id, title, detail, state, state_zh, keys, new_keys, previous = row
    console.print(f"[bold]{flag_id}[/] {name}（{org}）{rule_id} {title}：{detail}")
    console.print(f"证据：{'、'.join(keys or [])}", highlight=False, soft_wrap=True)
    if previous:  # new evidence after a decision on the earlier flag (rules.md, "Decisions stick")
        console.print(f"新证据（线索 {previous} 决定之后）：{'、'.join(new_keys or [])}",
                      highlight=False, soft_wrap=True)
    console.print(f"当前状态：[bold]{state_zh}[/]；可做的决定："
                  + "、".join(f"{decisions.ACTIONS[a].zh}({a})"
                             for a in decisions.allowed_actions(state)))
    console.print("决定记录：" if log else "尚无决定记录")
    for on, action, before, after, by, reason, doc in log:
        console.print(f"  {on} {decisions.ACTIONS[action].zh}（{decisions.STATES_ZH[before]}→"
                      f"{decisions.STATES_ZH[after]}）{by}：{reason}" + (f"［{doc}］" if doc else ""),
                      soft_wrap=True)


def _list_flags(state: str | None, unit: str | None) -> None:
    from pipelines import warehouse
    from pipelines.review import decisions

    with warehouse.writer(_home().warehouse_file) as con:
        decisions.sync_flags(con)
        rows = con.execute(
            "select flag_id, name, org_name, rule_id, severity, opened_on, state_zh "
            "from decisions.flag_state where (? is null or state = ?) and "
            "(? is null or org_name = ?) order by org_name, name, rule_id",
            [state, state, unit, unit]).fetchall()
    table = Table("线索编号", "姓名", "单位", "规则", "类别", "线索日期", "状态")
    for flag, name, org, rule, severity, opened, state_zh in rows:
        table.add_row(*cells((flag, name, org, rule, SEVERITY_ZH.get(severity, severity),
                              opened, state_zh)))
    console.print(table if rows else "没有符合条件的线索")


def _apply_drops() -> None:
    from pipelines.review.decision_drops import apply_decision_drops

    outcomes = apply_decision_drops(_home())
    for o in outcomes:
        mark = "[green]已登记[/]" if o.applied else "[red]未登记[/]"
        console.print(f"{o.submission_id} 第{o.source_row}行 {o.flag_id} {o.action_zh}：{mark} "
                      f"{o.message_zh}")
    console.print(f"共处理 {len(outcomes)} 行" if outcomes else "没有待处理的决定记录")
    if any(o.applied for o in outcomes):
        _republish()


def _republish() -> None:
    """Every decision reaches both snapshots at once (analysts' and supervisors')."""
    from pipelines.publish.snapshot import publish

    publish(_home())
    console.print("快照已更新（分析快照与审核快照）")


def register(app: typer.Typer) -> None:
    """Add decide, report review, report ledger and followup to the ``cadre`` app."""

    @app.command("decide")
    def decide(
        flag_id: str = typer.Argument(None, help="线索编号, e.g. A1-3f2c9d1e (from the review)."),
        action: str = typer.Argument(None, help="observe, confirm, clear, adjust, appeal, "
                                     "appeal_upheld, appeal_granted, restore (or the Chinese "
                                     "name, e.g. 认定不适宜担任现职). Omit to show the flag."),
        by: str = typer.Option(None, "--by", help="Who decided (决定人)."),
        reason: str = typer.Option(None, "--reason", help="Why (决定理由)."),
        on: str = typer.Option(None, "--on", help="Decision date, default today."),
        document_no: str = typer.Option(None, "--doc", help="Document number (文号)."),
        measure: str = typer.Option(None, "--measure", help="调离岗位/改任职级/免职/降职 (adjust)."),
        until: str = typer.Option(None, "--until", help="End of the 考察期 (observe)."),
        remark: str = typer.Option(None, "--remark"),
        apply_drops: bool = typer.Option(False, "--apply-drops",
                                         help="Apply ORG decision files loaded by ingest."),
        list_flags: bool = typer.Option(False, "--list", help="List flags and their state."),
        state: str = typer.Option(None, "--state", help="With --list: only this state."),
        unit: str = typer.Option(None, "--unit", help="With --list: only this 单位."),
    ) -> None:
        """Record a decision on a flag (checked by the state machine); show or list flags."""
        from pipelines import warehouse
        from pipelines.review import decisions

        if apply_drops:
            return _apply_drops()
        if list_flags or flag_id is None:
            return _list_flags(state, unit)
        if action is None:
            return _show_flag(flag_id)
        name = decisions.ACTION_BY_ZH.get(action, action.replace("-", "_"))
        decision = decisions.Decision(
            flag_id=flag_id, action=name, decided_on=_day(on) or date.today(),
            decided_by=by or "", reason=reason or "", document_no=document_no, measure=measure,
            observe_until=_day(until), remark=remark)
        try:
            with warehouse.writer(_home().warehouse_file) as con:
                decisions.sync_flags(con)
                recorded = decisions.record_decision(con, decision)
        except decisions.DecisionRefused as refused:
            console.print(f"[red]未登记：{refused.message_zh}[/red]")
            raise typer.Exit(1) from refused
        console.print(f"已登记决定 {recorded.decision_id}：{flag_id} "
                      f"{decisions.STATES_ZH[recorded.from_state]} → "
                      f"{decisions.STATES_ZH[recorded.to_state]}")
        _republish()
        return None

    report = report_group(app)

    @report.command("review")
    def review(period: str = typer.Option(..., "--period", help="2025H2, 2025H1 or 2025."),
               unit: str = typer.Option(None, "--unit", help="Only this 单位 (org_name)."),
               build: str = typer.Option(None, "--build-as-of",
                                         help="Read this build (default: nearest the period end)."),
               rebuild: bool = typer.Option(False, "--rebuild",
                                            help="Build profiles as of the period end first.")
               ) -> None:
        """集中会诊 report (HTML + XLSX, Chinese) into reports/review/."""
        from pipelines.review.data import parse_period
        from pipelines.review.report import write_review

        home = _home()
        try:
            parsed = parse_period(period)
        except ValueError as exc:
            raise typer.BadParameter(str(exc)) from exc
        if rebuild:
            from pipelines.build.steps import build as run_build

            run_build(home, parsed.end)
        files = write_review(home, parsed, unit, build=_day(build))
        if files.data.build_note:
            console.print(f"[yellow]{files.data.build_note}[/yellow]")
        console.print(f"集中会诊报告：{files.html}\n工作簿：{files.xlsx}")

    @report.command("ledger")
    def ledger(period: str = typer.Option(..., "--period", help="2025H2, 2025 or all."),
               unit: str = typer.Option(None, "--unit", help="Only this 单位 (org_name).")) -> None:
        """定期盘点 report (HTML + XLSX): flags raised, decided, appealed, adjusted, restored."""
        from pipelines.review.ledger import write_ledger

        try:
            html, xlsx, data = write_ledger(_home(), period, unit)
        except ValueError as exc:
            raise typer.BadParameter(str(exc)) from exc
        console.print(" ".join(f"{k}={v}" for k, v in data.totals().items()))
        console.print(f"定期盘点报告：{html}\n工作簿：{xlsx}")

    @app.command("followup")
    def followup(as_of: str = typer.Option(None, "--as-of", help="Scan date, default today."),
                 days: int = typer.Option(30, "--days", help="Look this many days ahead."),
                 add_target: str = typer.Option(None, "--add-target",
                                                help="线索编号 of an adjusted cadre."),
                 text: str = typer.Option(None, "--text", help="The target (with --add-target)."),
                 by: str = typer.Option(None, "--by", help="Who set it (with --add-target).")
                 ) -> None:
        """复检: what falls due within DAYS and every adjusted cadre's file; or add a target."""
        from pipelines import warehouse
        from pipelines.review import followup as followups
        from pipelines.review import followup_report

        home = _home()
        if add_target:
            try:
                with warehouse.writer(home.warehouse_file) as con:
                    number = followups.set_target(con, add_target, text or "", by or "")
            except followups.DecisionRefused as refused:
                console.print(f"[red]{refused.message_zh}[/red]")
                raise typer.Exit(1) from refused
            console.print(f"已添加复检目标 {add_target} #{number}")
            return
        result, paths = followup_report.scan(home, _day(as_of), days)
        counts = result.counts()
        console.print(f"考察期到期 {counts['observation_ending']}，影响期届满 "
                      f"{counts['influence_ending']}，复检到期 {counts['rechecks_due']}，"
                      f"复检档案 {counts['files']}，可重新任用 {counts['eligible']}")
        for path in paths:
            console.print(f"报告：{path}")
