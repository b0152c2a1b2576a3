"""Build benchmark: ``cadre build`` (and publish) for 10k / 100k / 1M cadres, 3 years of data.

Three figures per size: the build, the publish after it (both snapshots written whole), and
the publish after one decision recorded on top (``decision_publish_s``: the build tables are
carried over from the previous snapshots, ``pipelines.publish.carry``).

Why the rows are generated with DuckDB SQL straight into ``raw.*`` (plus one accepted
``meta.submission`` per source) instead of going through file ingest: ingest at 1M cadres
(~7M rows across seven sources) would take far longer than the build being measured, and it
has its own benchmark (``pipelines.dev.bench``). IDs are unique 18-character strings but not valid
GB 11643 numbers (the build never re-validates IDs). Per cadre over 3 years: 1 roster row (10%
with an earlier post), 3 assessments with votes, and on average 0.1 inspection findings,
0.15 audit items, 0.2 petitions, 0.3 report checks and 0.05 sanctions.

Each size runs in a child process so that its peak RSS (sampled with psutil) is its own.
Figures are printed, never asserted: the machine is shared.
"""

from __future__ import annotations

import json
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

import psutil

DEFAULT_SIZES = (10_000, 100_000, 1_000_000)
AS_OF = date(2026, 6, 30)
SOURCES = ("roster", "annual_assessment", "inspection_finding", "audit_finding",
           "petition_verification", "personal_report_check", "sanction")
ID = "'11' || lpad(i::varchar, 15, '0') || 'X'"
FILL = {
    "roster": f"""select {ID} as id_number, '干部' || i as name, if(i % 2 = 0, '男', '女') as gender,
        date '1970-01-01' + (i % 9000)::integer as birth_date, '单位' || (i % 500) as org_name,
        '职务' || (i % 20) as post_title,
        ['县处级正职', '县处级副职', '乡科级正职', '乡科级副职'][1 + i % 4] as post_level,
        ['党政正职', '党政副职', '其他领导职务'][1 + i % 3] as post_category,
        ['党政机关', '国有企业', '事业单位', '高校'][1 + i % 4] as sector,
        date '2024-07-01' - (i % 1500)::integer as appointed_on, i % 17 = 0 as on_probation,
        1 + i as source_row from range($n) t(i)
        union all
        select {ID}, '干部' || i, if(i % 2 = 0, '男', '女'), date '1970-01-01' + (i % 9000)::integer,
        '旧单位', '旧职务', '乡科级正职', '党政副职', '党政机关', date '2019-01-01', false, 1 + $n + i
        from range($n) t(i) where i % 10 = 0""",
    "annual_assessment": f"""select {ID} as id_number, '干部' || i as name, y as year,
        case when hash(i, y) % 100 < 2 then '不称职' when hash(i, y) % 100 < 8 then '基本称职'
             when hash(i, y) % 100 < 25 then '优秀' else '称职' end as grade,
        (hash(i, y, 1) % 20)::bigint as votes_excellent, (10 + hash(i, y, 2) % 20)::bigint as votes_competent,
        (hash(i, y, 3) % 6)::bigint as votes_basic, (hash(i, y, 4) % 5)::bigint as votes_incompetent,
        row_number() over () as source_row
        from range($n) t(i), (values (2023), (2024), (2025)) y(y)""",
    "inspection_finding": f"""select 'F' || i as finding_id, '第' || (i % 6) || '轮' as round,
        '单位' || (i % 500) as org_name, {ID} as id_number, '干部' || i as name,
        ['政治建设', '不担当不作为', '形式主义官僚主义', '廉洁风险', '其他'][1 + i % 5] as category,
        '问题描述' as description, ['一般', '较重', '严重'][1 + i % 3] as severity,
        ['直接责任', '领导责任'][1 + i % 2] as responsibility,
        date '2023-07-01' + (i % 1000)::integer as found_on, null::date as rectify_by,
        ['未整改', '整改中', '已整改', '已整改'][1 + i % 4] as rectification,
        i % 13 = 0 as tolerated, if(i % 13 = 0, '容错依据', null) as tolerance_basis,
        row_number() over () as source_row from range($n) t(i) where i % 10 = 3""",
    "audit_finding": f"""select 'AU' || i as audit_id, 1 as item_no, {ID} as id_number,
        '干部' || i as name, '经济责任审计' as audit_type,
        ['违规决策', '资金违规使用', '损失浪费', '管理不规范', '其他'][1 + i % 5] as category,
        (i % 300)::decimal(18, 4) as amount_wan, ['直接责任', '领导责任'][1 + i % 2] as responsibility,
        ['好', '较好', '一般', '较差'][1 + i % 4] as rating,
        date '2023-07-01' + (i % 1000)::integer as reported_on, false as referred,
        false as tolerated, null as tolerance_basis, row_number() over () as source_row
        from range($n) t(i) where i % 20 in (1, 7, 11)""",
    "petition_verification": f"""select 'X' || i as case_id, {ID} as id_number, '干部' || i as name,
        ['廉洁问题', '作风问题', '不担当不作为', '其他'][1 + i % 4] as category,
        date '2023-07-01' + (i % 900)::integer as received_on,
        date '2023-09-01' + (i % 900)::integer as closed_on,
        ['属实', '基本属实', '部分属实', '不属实', '无法查实'][1 + i % 5] as conclusion,
        '初步核实' as disposal, ['无', '提醒', '诫勉', '纪律处分'][1 + i % 4] as outcome,
        row_number() over () as source_row from range($n) t(i) where i % 5 = 2""",
    "personal_report_check": f"""select 'B' || (i % 3) as batch_id, {ID} as id_number,
        '干部' || i as name, 2023 + i % 3 as report_year, '随机抽查' as check_mode,
        ['一致', '一致', '一致', '漏报', '瞒报'][1 + i % 5] as result,
        if(i % 5 >= 3, ['房产'], null) as items, if(i % 5 >= 3, 1, null) as item_count,
        '无' as outcome, date '2024-03-01' + (i % 800)::integer as checked_on,
        row_number() over () as source_row from range($n) t(i) where i % 10 in (4, 5, 6)""",
    "sanction": f"""select 'D' || i as decision_no, {ID} as id_number, '干部' || i as name,
        ['诫勉', '党纪警告', '政务记过', '免职'][1 + i % 4] as measure,
        date '2023-07-01' + (i % 1000)::integer as decided_on,
        ['廉洁', '作风', '不担当不作为', '其他'][1 + i % 4] as reason_category,
        null::date as effect_until, row_number() over () as source_row
        from range($n) t(i) where i % 20 = 9""",
}


def fill(warehouse_file: Path, cadres: int) -> int:
    """Generate the rows of every source into a fresh warehouse; returns the row count."""
    from pipelines.warehouse import transaction, writer

    total = 0
    with writer(warehouse_file) as con, transaction(con):
        for seq, source in enumerate(SOURCES, start=1):
            sid = f"bench-{source}"
            con.execute("insert into meta.submission (submission_id, seq, unit, source, "
                        "filename, sha256, archive_path, status, received_at) values "
                        "(?, ?, 'BENCH', ?, ?, ?, '-', 'accepted', now())",
                        [sid, seq, source, f"{source}.csv", sid])
            con.execute(f"insert into raw.{source} by name select *, '{sid}' as submission_id "
                        f"from ({FILL[source].replace('$n', str(cadres))})")
            total += con.execute(f"select count(*) from raw.{source}").fetchone()[0]
    return total


def _peak_rss_mb() -> float:
    """This process's peak resident memory so far, in MB (Linux reports kB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _decide_one_flag(home: object) -> None:
    """One decision (考察期 on the first flag) by a registered decider, as `cadre decide` does."""
    from pipelines.review import decisions
    from pipelines.warehouse import writer

    with writer(home.warehouse_file) as con:  # type: ignore[attr-defined]
        decisions.sync_flags(con)
        decisions.add_decider(con, "干部科", "干部科科长")
        flag_id = con.execute("select min(flag_id) from decisions.flag_state").fetchone()[0]
        decisions.record_decision(con, decisions.Decision(
            flag_id, "observe", AS_OF, "干部科", "考察期观察", observe_until=date(2026, 12, 31)))


def run_one(cadres: int) -> dict[str, float]:
    """Fill, build and publish one size in a scratch data folder (runs in the child)."""
    from pipelines.build.steps import build
    from pipelines.publish.snapshot import publish
    from pipelines.settings import DataHome

    root = Path(tempfile.mkdtemp(prefix="cadre-bench-build-"))
    try:
        home = DataHome.from_env(root).ensure()
        started = time.perf_counter()
        rows = fill(home.warehouse_file, cadres)
        filled = time.perf_counter()
        result = build(home, AS_OF)
        built = time.perf_counter()
        build_peak = _peak_rss_mb()  # fill and build: tells the build's peak from publish's
        publish(home)
        published = time.perf_counter()
        _decide_one_flag(home)  # not timed: what follows is the publish every decision runs
        decided = time.perf_counter()
        publish(home)
        republished = time.perf_counter()
        return {"cadres": cadres, "rows": rows, "fill_s": filled - started,
                "build_s": built - filled, "publish_s": published - built,
                "decision_publish_s": republished - decided,
                "build_peak_rss_mb": build_peak,
                "candidates": result.candidates, "warnings": result.warnings}
    finally:
        shutil.rmtree(root, ignore_errors=True)


def _child(cadres: int) -> dict[str, float]:
    proc = subprocess.Popen([sys.executable, "-m", "pipelines.dev.bench_build", "--one", str(cadres)],
                            stdout=subprocess.PIPE, text=True)
    watched, peak = psutil.Process(proc.pid), 0
    while proc.poll() is None:
        try:
            peak = max(peak, watched.memory_info().rss)
        except psutil.NoSuchProcess:
            break
        time.sleep(0.05)
    out = proc.stdout.read() if proc.stdout else ""
    if proc.returncode != 0:
        raise RuntimeError(f"bench child for {cadres} cadres failed ({proc.returncode})")
    return {**json.loads(out.strip().splitlines()[-1]), "peak_rss_mb": peak / 2**20}


def bench_build(sizes: tuple[int, ...] | list[int] = DEFAULT_SIZES) -> list[dict[str, float]]:
    """Print seconds and peak RSS per size; returns the figures."""
    print(f"{'cadres':>9} {'rows':>10} {'fill s':>7} {'build s':>8} {'publish s':>9} "
          f"{'decision s':>10} {'peak MB':>8} {'candidates':>10} {'warnings':>8}", flush=True)
    results = []
    for size in sizes:
        r = _child(size)
        results.append(r)
        print(f"{r['cadres']:>9} {r['rows']:>10} {r['fill_s']:>7.1f} {r['build_s']:>8.1f} "
              f"{r['publish_s']:>9.1f} {r['decision_publish_s']:>10.1f} {r['peak_rss_mb']:>8.0f} "
              f"{r['candidates']:>10} {r['warnings']:>8}", flush=True)
    return results


if __name__ == "__main__":
    if sys.argv[1:2] == ["--one"]:
        print(json.dumps(run_one(int(sys.argv[2]))))
    else:
        bench_build([int(a) for a in sys.argv[1:]] or DEFAULT_SIZES)
