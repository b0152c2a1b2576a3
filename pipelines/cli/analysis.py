"""CLI: ``cadre build``, ``cadre candidates`` and ``cadre profile``.

These are the organization department's own view, so they read the warehouse (with 身份证号)
read-only, and what they print for people is Chinese. Analysts use the published snapshot.
``profile`` accepts an ID or an analyst's ``cadre_key``, so an analyst's finding can be handed
back to the department and opened there.
"""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import duckdb
import typer
from rich.console import Console
from rich.table import Table

from pipelines import warehouse
from pipelines.build.candidates import candidate_rows
from pipelines.build.ruleset import DIMENSIONS, SEVERITY_ZH
from pipelines.cli.text import cells
from pipelines.errors import UsageProblem
from pipelines.ingest import idcard
from pipelines.review.decided import with_decision_states
from pipelines.review.identity import with_identity_doubts
from pipelines.settings import DataHome


def _console() -> Console:
    """A console sized from the environment at call time (COLUMNS), not at import time."""
    return Console()


DIMENSION_ZH = {**DIMENSIONS, "overall": "综合"}
BASE_ZH = {"scores": "分项评价", "grade": "考核等次折算", "default": "无考核结果（默认基础分）"}
STATUS_ZH = {"counted": "计入", "tolerated": "容错免责（不计入）", "dismissed": "不属实/无法查实（不计入）",
             "open": "未办结", "neutral": "—"}


def _source_zh(source: str) -> str:
    from pipelines.contracts import load_contract

    try:
        return load_contract(source).title_zh
    except KeyError:
        return source


def _parse_date(text: str | None) -> date | None:
    return date.fromisoformat(text) if text else None


def _open(home: DataHome) -> duckdb.DuckDBPyConnection:
    if not home.warehouse_file.exists():
        raise UsageProblem(f"no warehouse at {home.warehouse_file}: submit data and run "
                           "`cadre build` first (or set CADRE_HOME to the data folder)")
    try:
        return warehouse.connect(home.warehouse_file, read_only=True, wait=0)
    except duckdb.IOException as exc:
        _console().print(f"[red]数据仓库正被写入（入库或构建进行中），请稍后再试：{exc}[/red]")
        raise typer.Exit(2) from exc


def _as_of(con: duckdb.DuckDBPyConnection, wanted: date | None) -> date:
    """The requested as-of date if built, else the date of the most recent build."""
    try:
        built = [r[0] for r in con.execute(
            "select as_of from marts.build_run order by built_at desc, as_of desc").fetchall()]
    except duckdb.CatalogException:
        built = []
    if not built:
        _console().print("[red]尚未构建画像，请先运行 cadre build[/red]")
        raise typer.Exit(2)
    if wanted is None:
        return built[0]
    if wanted not in built:
        _console().print(f"[red]{wanted} 尚未构建，请先运行 cadre build --as-of {wanted}[/red]")
        raise typer.Exit(2)
    return wanted


def resolve_cadre(con: duckdb.DuckDBPyConnection, home: DataHome, text: str) -> str | None:
    """身份证号 for an ID or a cadre_key (recomputed with the pseudonym key)."""
    normalised = idcard.normalize(text)
    if con.execute("select 1 from core.cadre where id_number = ?", [normalised]).fetchone():
        return normalised
    if text.startswith("K"):
        from pipelines.publish.snapshot import cadre_key, pseudonym_key

        key = pseudonym_key(home)
        for (id_number,) in con.execute("select id_number from core.cadre").fetchall():
            if cadre_key(id_number, key) == text:
                return id_number
    return None


def _run(con: duckdb.DuckDBPyConnection, sql: str,
         params: dict) -> duckdb.DuckDBPyConnection:
    """Execute with only the named parameters the SQL uses (DuckDB refuses extras)."""
    return con.execute(sql, {k: v for k, v in params.items() if f"${k}" in sql})


def _table(title: str, headers: list[str], rows: list[tuple]) -> Table:
    table = Table(title=title, title_justify="left", show_lines=False)
    for header in headers:
        table.add_column(header, overflow="fold")
    for row in rows:
        table.add_row(*cells(row))
    return table


def masked_id(id_number: str) -> str:
    """An ID with its middle hidden (area code and last four kept): enough to tell two cadres
    of one name apart on screen, not enough to be the ID."""
    return id_number[:4] + "*" * (len(id_number) - 8) + id_number[-4:]


def print_profile(con: duckdb.DuckDBPyConnection, id_number: str, as_of: date,
                  show_id: bool = False) -> None:
    """The profile card: scores vs thresholds, flags, periods, tolerated items, evidence."""
    q = {"id": id_number, "d": as_of}
    out = _console()
    cadre = _run(con, "select name, org_name, post_title, post_level, post_category, sector, "
                        "in_scope from core.cadre where id_number = $id", q).fetchone()
    shown = id_number if show_id else masked_id(id_number)
    out.print(f"[bold]干部画像[/bold]  {cadre[0]}  {shown}  {cadre[1]} {cadre[2]}"
                  f"（{cadre[3]}，{cadre[4]}，{cadre[5]}）{'' if cadre[6] else '  [已不在最新名册]'}")
    profile = _run(con, "select * from marts.cadre_profile where as_of = $d and id_number = $id "
                          "and period_kind = 'as_of'", q).fetchdf()
    if len(profile):
        p = profile.iloc[0]
        base = BASE_ZH[p["base_source"]]
        if p["base_source"] != "default":
            base += f"（{int(p['base_year'])}年度考核）"
        out.print(f"截至 {as_of}，规则集 {p['ruleset_version']}（配置：{p['ruleset_profile']}）；"
                  f"基础分来源：{base}")
        rows = [(DIMENSION_ZH[d], p[f"score_{d}"], p[f"threshold_{d}"],
                 "低于阈值" if p[f"score_{d}"] < p[f"threshold_{d}"] else "")
                for d in DIMENSION_ZH]
        out.print(_table("德能勤绩廉得分", ["维度", "得分", "阈值", ""], rows))
    history = _run(con,
        "select period_label, score_virtue, score_ability, score_diligence, score_performance, "
        "score_integrity, score_overall from marts.cadre_profile where as_of = $d and "
        "id_number = $id and period_kind <> 'as_of' order by period_end, period_kind", q).fetchall()
    out.print(_table("分期画像", ["期间", "德", "能", "勤", "绩", "廉", "综合"], history))
    flags = _run(con,
        "select f.rule_id, r.title_zh, f.severity, f.first_flag_date, f.detail_zh, r.basis "
        "from marts.cadre_flag f left join ruleset.rule r using (rule_id) "
        "where f.as_of = $d and f.id_number = $id order by f.severity, f.rule_id", q).fetchall()
    out.print(_table("标记", ["规则", "名称", "类别", "起始日期", "说明", "依据"],
                         [(r[0], r[1], SEVERITY_ZH.get(r[2], r[2]), r[3], r[4], r[5])
                          for r in flags]))
    out.print(_table("考察期", ["预警规则", "开始", "期满", "状态", "升级原因"], _run(con,
        "select rule_id, opened_on, ends_on, status, escalation from marts.observation_period "
        "where as_of = $d and id_number = $id order by opened_on", q).fetchall()))
    # a promotion block a person lifted (解除限制/申诉成立) is shown as lifted, with its date
    out.print(_table("影响期", ["决定文号", "措施", "决定日期", "影响期至", "推算", "生效中",
                                "解除限制"], _run(con, """
        select p.decision_no, p.measure, p.decided_on, p.effect_until, if(p.derived, '是', '否'),
            if(p.active and lift.lifted_on is null, '是', '否'),
            coalesce(lift.lifted_on::varchar || '（' || lift.lifted_by || '）', '')
        from marts.influence_period as p
        left join staging.evidence_key as k using (evidence_id)
        left join decisions.influence_lift as lift using (evidence_key)
        where p.as_of = $d and p.id_number = $id order by p.decided_on""", q).fetchall()))
    excused = _run(con, "select source, fact_date, summary_zh, status, status_basis "
                        "from core.evidence where id_number = $id and fact_date <= $d and "
                        "status in ('tolerated', 'dismissed') order by fact_date, evidence_id",
                   q).fetchall()
    out.print(_table("容错免责及不予采信事项（不计入）", ["来源", "日期", "事项", "状态", "依据"],
                     [(_source_zh(r[0]), r[1], r[2], STATUS_ZH[r[3]], r[4]) for r in excused]))
    from pipelines.ingest.identity import identity_doubt_rows

    doubts = identity_doubt_rows(con)
    doubts = doubts[doubts["id_number"] == id_number]
    out.print(_table("身份存疑事项（姓名与名册不符，不计入画像和预警，待单位更正或组织部核实）",
                     ["来源", "记录", "所填姓名", "名册姓名", "报送单位", "文件", "行"],
                     [(r.source_zh, r.record_key, r.name, r.roster_name, r.unit, r.filename,
                       r.source_row) for r in doubts.itertuples()]))
    evidence = _run(con, """
        select e.source, e.fact_date, e.summary_zh, e.status,
               (select sum(points) from marts.deduction d where d.as_of = $d
                and d.period_kind = 'as_of' and d.evidence_id = e.evidence_id) as points,
               e.filename, e.source_row, e.evidence_id
        from core.evidence e where e.id_number = $id and coalesce(e.fact_date, $d) <= $d
        order by e.fact_date, e.evidence_id""", q).fetchall()
    headers = ["来源", "日期", "事项", "状态", "扣分", "文件", "行", "证据编号"]
    out.print(_table("证据（来源文件与行号）", headers,
                     [(_source_zh(r[0]), r[1], r[2], STATUS_ZH.get(r[3], r[3]), r[4], r[5],
                       r[6], r[7]) for r in evidence]))


def register(app: typer.Typer) -> None:
    """Add build, candidates and profile to the ``cadre`` app."""

    @app.command("build")
    def build_command(
        as_of: str = typer.Option(None, "--as-of", help="As-of date YYYY-MM-DD (default today)."),
        ruleset_path: Path = typer.Option(None, "--ruleset", help="Rule set YAML to use."),
        profile: str = typer.Option(None, "--profile",
                                    help="Jurisdiction profile (name or file); default the "
                                         "CADRE_RULESET_PROFILE setting, '' = none."),
        publish_snapshot: bool = typer.Option(True, "--publish/--no-publish",
                                              help="Publish the analysts' snapshot afterwards."),
    ) -> None:
        """Build profiles and flags as of a date, then publish the analysts' snapshot."""
        from pipelines.build.steps import build
        from pipelines.publish.snapshot import publish

        home = DataHome.current()
        result = build(home, _parse_date(as_of), ruleset_path, profile)
        _console().print(f"构建完成：截至 {result.as_of}，规则集 {result.ruleset_version}"
                      f"（配置：{result.ruleset_profile}），"
                      f"在册干部 {result.cadres} 人，不适宜人选 {result.candidates} 人，"
                      f"预警 {result.warnings} 人，未匹配事实 {result.unmatched_facts} 条，"
                      f"姓名不一致 {result.name_mismatches} 条，用时 {result.seconds} 秒")
        if publish_snapshot:
            _console().print(f"分析快照已发布：{publish(home)}")

    @app.command("candidates")
    def candidates_command(
        as_of: str = typer.Option(None, "--as-of", help="As-of date (default: latest build)."),
        as_json: bool = typer.Option(False, "--json", help="Print a JSON list."),
    ) -> None:
        """List 不适宜担任现职 candidates and warnings with their rules and evidence count."""
        con = _open(DataHome.from_env())
        try:
            day = _as_of(con, _parse_date(as_of))
            rows = with_decision_states(
                con, with_identity_doubts(con, candidate_rows(con, day), day), day)
        finally:
            con.close()
        if as_json:
            typer.echo(json.dumps(rows, ensure_ascii=False, indent=2))
            return
        _console().print(_table(
            f"不适宜担任现职人选及预警名单（截至 {day}，共 {len(rows)} 人）",
            ["身份证号", "姓名", "单位", "职务", "类别", "规则", "证据数", "影响期内", "身份存疑",
             "已有决定"],
            [(r["id_number"], r["name"], r["org_name"], r["post_title"],
              SEVERITY_ZH.get(r["severity"], "身份存疑（不计入，待核实）"), "、".join(r["rules"]),
              r["evidence_count"], "是" if r["in_influence_period"] else "",
              f"{r['identity_doubts']} 条" if r["identity_doubts"] else "",
              "、".join(f"{d['rule_id']} {d['state_zh']}" for d in r["decisions"]))
             for r in rows]))

    @app.command("profile")
    def profile_command(
        id_or_key: str = typer.Argument(..., help="身份证号 or an analyst's cadre_key."),
        as_of: str = typer.Option(None, "--as-of", help="As-of date (default: latest build)."),
        show_id: bool = typer.Option(False, "--show-id", help="Print the full 身份证号 (masked "
                                     "otherwise; see docs/access.md)."),
    ) -> None:
        """Print a cadre's profile card with every piece of evidence and its file and row."""
        home = DataHome.from_env()
        con = _open(home)
        try:
            day = _as_of(con, _parse_date(as_of))
            id_number = resolve_cadre(con, home, id_or_key)
            if id_number is None:
                _console().print(f"[red]名册中没有该干部：{id_or_key}[/red]")
                raise typer.Exit(1)
            print_profile(con, id_number, day, show_id)
        finally:
            con.close()
