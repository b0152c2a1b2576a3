"""``make bench``: ingest and build figures, printed, never asserted (the machine is shared).

Ingest: generated drops for N cadres x 3 years go through the real steps (receive, parse,
validate, load: the functions the DAG tasks call); we report rows per second per step, peak
memory, and the ratio of our whole ingest to the fastest bare read of the same files:

- CSV: every source as CSV, against a bare DuckDB ``read_csv`` of each file into a table;
- XLSX: the XLSX files of the generator's default (mixed-format) set, i.e. the roster, the
  inspection findings and the personal report checks with their title rows and merged cells,
  against a bare ``python-calamine`` read of each file's first sheet into Python rows.

Data generation is outside every timed part. Each size runs in its own process so that peak
RSS belongs to that size alone. The last line printed is one JSON object holding every figure
and the headline ratios (``ingest_csv_ratio``, ``ingest_xlsx_ratio``, ``build_1m_s``,
``build_1m_peak_gb``, ``publish_1m_s``, ``decision_publish_1m_s``, rows per second per step,
growth of the per-row cost from the smaller to the larger size), so runs can be compared
across commits.
``--quick`` (``make bench-quick``) runs the smallest sizes only.
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
BUILD_SIZES = (100_000, 1_000_000)
QUICK_INGEST_SIZES = (10_000,)
QUICK_BUILD_SIZES = (10_000,)
STEPS = ("receive", "parse", "validate", "load")


def _peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _bare_read(files: list[Path], fmt: str, scratch: Path) -> float:
    """Seconds for the fastest plain read of the same files (no typing, no checks)."""
    t0 = time.perf_counter()
    if fmt == "csv":
        with duckdb.connect(str(scratch / "bare.duckdb")) as con:
            for n, path in enumerate(files):
                con.execute(f"create table t{n} as select * from read_csv(?, all_varchar=true)",
                            [str(path)])
    else:
        from python_calamine import CalamineWorkbook  # noqa: PLC0415 - only the XLSX bench

        for path in files:
            CalamineWorkbook.from_path(str(path)).get_sheet_by_index(0).to_python()
    return time.perf_counter() - t0


def bench_ingest_once(cadres: int, fmt: str, years: int = 3) -> dict[str, object]:
    from pipelines import warehouse
    from pipelines.dev.generate import generate_drops
    from pipelines.ingest.steps import load_step, parse_step, receive_step, validate_step
    from pipelines.settings import DataHome

    with tempfile.TemporaryDirectory(prefix="cadre-bench-") as tmp:
        drops = Path(tmp) / "drops"
        started = time.perf_counter()
        manifest = generate_drops(drops, cadres=cadres, years=years, seed=7,
                                  file_format="csv" if fmt == "csv" else None)
        generate_s = time.perf_counter() - started
        specs = [f for f in manifest.files if f.format == fmt]
        files = [drops / f.path for f in specs]
        home = DataHome.from_env(Path(tmp) / "home").ensure()
        seconds: dict[str, float] = defaultdict(float)
        rows = 0
        for path, spec in zip(files, specs, strict=True):
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
            for step, spent in zip(STEPS, (t1 - t0, t2 - t1, t3 - t2, t4 - t3), strict=True):
                seconds[step] += spent
            rows += receipt.rows_read
        ours = sum(seconds.values())
        bare = _bare_read(files, fmt, Path(tmp))
    return {"format": fmt, "cadres": cadres, "files": len(files), "rows": rows,
            "generate_s": generate_s, **{f"{k}_s": v for k, v in seconds.items()},
            **{f"{k}_rows_per_s": rows / v for k, v in seconds.items() if v},
            "ingest_s": ours, "bare_read_s": bare, "ratio": ours / bare,
            "peak_rss_mb": _peak_rss_mb()}


def _run_child(args: list[str]) -> dict[str, object]:
    done = subprocess.run([sys.executable, "-m", "pipelines.dev.bench", *args], check=True,
                          capture_output=True, text=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def bench_ingest(fmt: str, sizes: tuple[int, ...]) -> list[dict[str, object]]:
    bare = "read_csv s" if fmt == "csv" else "calamine s"
    print(f"== ingest ({fmt}: generated drops, 3 years) ==")
    print(f"{'cadres':>8} {'files':>5} {'rows':>9} {'parse r/s':>10} {'valid. r/s':>10} "
          f"{'load r/s':>10} {'ingest s':>9} {bare:>10} {'ratio':>6} {'peak MB':>8}")
    results = []
    for size in sizes:
        r = _run_child(["--ingest-one", fmt, str(size)])
        results.append(r)
        print(f"{r['cadres']:>8} {r['files']:>5} {r['rows']:>9} {r['parse_rows_per_s']:>10.0f} "
              f"{r['validate_rows_per_s']:>10.0f} {r['load_rows_per_s']:>10.0f} "
              f"{r['ingest_s']:>9.1f} {r['bare_read_s']:>10.2f} {r['ratio']:>6.1f} "
              f"{r['peak_rss_mb']:>8.0f}", flush=True)
    return results


def _growth(results: list[dict[str, object]], seconds: str) -> float | None:
    """Per-row cost at the largest size over the smallest (1.0 = linear)."""
    if len(results) < 2:
        return None
    small, large = results[0], results[-1]
    return (float(large[seconds]) / float(large["rows"])) / \
        (float(small[seconds]) / float(small["rows"]))  # type: ignore[arg-type]


def summary(csv: list[dict[str, object]], xlsx: list[dict[str, object]],
            build: list[dict[str, object]]) -> dict[str, object]:
    """The one JSON line: headline figures at the largest size run, and all the rows."""
    one_m = next((b for b in build if b["cadres"] == 1_000_000), None)
    big_csv, big_xlsx, big_build = csv[-1], xlsx[-1], build[-1]
    return {
        "ingest_cadres": big_csv["cadres"],
        "ingest_csv_ratio": round(float(big_csv["ratio"]), 2),  # type: ignore[arg-type]
        "ingest_xlsx_ratio": round(float(big_xlsx["ratio"]), 2),  # type: ignore[arg-type]
        "ingest_csv_s": round(float(big_csv["ingest_s"]), 2),  # type: ignore[arg-type]
        "ingest_xlsx_s": round(float(big_xlsx["ingest_s"]), 2),  # type: ignore[arg-type]
        "ingest_csv_rows_per_s": {s: round(float(big_csv[f"{s}_rows_per_s"]))  # type: ignore[arg-type]
                                  for s in STEPS},
        "ingest_xlsx_rows_per_s": {s: round(float(big_xlsx[f"{s}_rows_per_s"]))  # type: ignore[arg-type]
                                   for s in STEPS},
        "ingest_csv_growth": _growth(csv, "ingest_s"),
        "ingest_xlsx_growth": _growth(xlsx, "ingest_s"),
        "build_1m_s": None if one_m is None else round(float(one_m["build_s"]), 1),  # type: ignore[arg-type]
        "build_1m_peak_gb": None if one_m is None else
        round(float(one_m["peak_rss_mb"]) / 1024, 2),  # type: ignore[arg-type]
        "publish_1m_s": None if one_m is None else round(float(one_m["publish_s"]), 1),  # type: ignore[arg-type]
        "decision_publish_1m_s": None if one_m is None else
        round(float(one_m["decision_publish_s"]), 1),  # type: ignore[arg-type]
        "build_cadres": big_build["cadres"],
        "build_rows_per_s": round(float(big_build["rows"]) / float(big_build["build_s"])),  # type: ignore[arg-type]
        "publish_rows_per_s": round(float(big_build["rows"]) / float(big_build["publish_s"])),  # type: ignore[arg-type]
        "build_growth": _growth(build, "build_s"),
        "publish_growth": _growth(build, "publish_s"),
        "runs": {"ingest_csv": csv, "ingest_xlsx": xlsx, "build": build},
    }


def main(argv: list[str]) -> None:
    if argv[:1] == ["--ingest-one"]:
        print(json.dumps(bench_ingest_once(int(argv[2]), argv[1])))
        return
    quick = argv[:1] == ["--quick"]
    ingest_sizes = QUICK_INGEST_SIZES if quick else INGEST_SIZES
    build_sizes = QUICK_BUILD_SIZES if quick else BUILD_SIZES
    csv = bench_ingest("csv", ingest_sizes)
    xlsx = bench_ingest("xlsx", ingest_sizes)
    from pipelines.dev.bench_build import bench_build

    print("== build (rows generated straight into raw.*, see pipelines/dev/bench_build.py) ==",
          flush=True)
    build = bench_build(build_sizes)
    print(json.dumps(summary(csv, xlsx, build)))  # type: ignore[arg-type]


if __name__ == "__main__":
    main(sys.argv[1:])
