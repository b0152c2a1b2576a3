"""``make bench``: ingest and build figures, printed, never asserted (the machine is shared).

Ingest: generated CSV drops for N cadres x 3 years (all sources) go through the real steps
(receive, parse, validate, load: the functions the DAG tasks call); we report rows per second
per step, peak memory, and the ratio of our whole ingest to a bare DuckDB ``read_csv`` of the
same files. Each size runs in its own process so peak RSS belongs to that size alone.
"""

from __future__ import annotations

import json
import resource
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

import duckdb

INGEST_SIZES = (10_000, 100_000)


def _peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def bench_ingest_once(cadres: int, years: int = 3) -> dict[str, object]:
    from pipelines import warehouse
    from pipelines.dev.generate import generate_drops
    from pipelines.ingest.steps import load_step, parse_step, receive_step, validate_step
    from pipelines.settings import DataHome

    with tempfile.TemporaryDirectory(prefix="cadre-bench-") as tmp:
        drops = Path(tmp) / "drops"
        started = time.perf_counter()
        manifest = generate_drops(drops, cadres=cadres, years=years, seed=7, file_format="csv")
        generate_s = time.perf_counter() - started
        files = [drops / f.path for f in manifest.files]
        home = DataHome.from_env(Path(tmp) / "home").ensure()
        seconds: dict[str, float] = defaultdict(float)
        rows = 0
        for path, spec in zip(files, manifest.files, strict=True):
            # as `cadre submit` / `cadre ingest` run it: one writer connection per file
            with warehouse.writer(home.warehouse_file):
                t0 = time.perf_counter()
                submission_id = receive_step(path, spec.unit, spec.source, home)
                t1 = time.perf_counter()
                parse_step(submission_id, home)
                t2 = time.perf_counter()
                validate_step(submission_id, home)
                t3 = time.perf_counter()
                receipt = load_step(submission_id, home)
                t4 = time.perf_counter()
            for step, spent in zip(("receive", "parse", "validate", "load"),
                                   (t1 - t0, t2 - t1, t3 - t2, t4 - t3), strict=True):
                seconds[step] += spent
            rows += receipt.rows_read
        ours = sum(seconds.values())
        t0 = time.perf_counter()
        with duckdb.connect(str(Path(tmp) / "bare.duckdb")) as con:
            for n, path in enumerate(files):
                con.execute(f"create table t{n} as select * from read_csv(?, all_varchar=true)",
                            [str(path)])
        bare = time.perf_counter() - t0
    return {"cadres": cadres, "files": len(files), "rows": rows, "generate_s": generate_s,
            **{f"{k}_s": v for k, v in seconds.items()},
            **{f"{k}_rows_per_s": rows / v for k, v in seconds.items() if v},
            "ingest_s": ours, "bare_read_csv_s": bare, "ratio_to_read_csv": ours / bare,
            "peak_rss_mb": _peak_rss_mb()}


def _run_child(args: list[str]) -> dict[str, object]:
    done = subprocess.run([sys.executable, "-m", "pipelines.dev.bench", *args], check=True,
                          capture_output=True, text=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def main(argv: list[str]) -> None:
    if argv[:1] == ["--ingest-one"]:
        print(json.dumps(bench_ingest_once(int(argv[1]))))
        return
    sizes = [int(a) for a in argv] or list(INGEST_SIZES)
    print("== ingest (generated CSV drops, all sources, 3 years) ==")
    print(f"{'cadres':>8} {'rows':>9} {'parse r/s':>10} {'valid. r/s':>10} {'load r/s':>10} "
          f"{'ingest s':>9} {'read_csv s':>10} {'ratio':>6} {'peak MB':>8}")
    for size in sizes:
        r = _run_child(["--ingest-one", str(size)])
        print(f"{r['cadres']:>8} {r['rows']:>9} {r['parse_rows_per_s']:>10.0f} "
              f"{r['validate_rows_per_s']:>10.0f} {r['load_rows_per_s']:>10.0f} "
              f"{r['ingest_s']:>9.1f} {r['bare_read_csv_s']:>10.2f} "
              f"{r['ratio_to_read_csv']:>6.0f} {r['peak_rss_mb']:>8.0f}", flush=True)
    from pipelines.dev.bench_build import bench_build

    print("== build (rows generated straight into raw.*, see pipelines/bench_build.py) ==",
          flush=True)
    bench_build()


if __name__ == "__main__":
    main(sys.argv[1:])
