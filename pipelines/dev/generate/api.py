"""``generate_drops``: a folder of realistic, deterministic sample drops plus its manifest."""

from __future__ import annotations

import shutil
from collections.abc import Sequence
from pathlib import Path

from pipelines.contracts import load_contract, load_units
from pipelines.dev.generate.cadres import generate_cadres
from pipelines.dev.generate.faults import write_faults
from pipelines.dev.generate.layout import assert_unique_keys, default_plan, write_table
from pipelines.dev.generate.manifest import MANIFEST_NAME, ExpectedIssue, FileEntry, Manifest
from pipelines.dev.generate.rule_scenarios import RULE_SCENARIOS, write_expected_flags
from pipelines.dev.generate.scenarios import DEFAULT_SCENARIOS, Scenario, apply_scenarios
from pipelines.dev.generate.sources import GENERATORS
from pipelines.dev.generate.world import World

FILE_FORMATS = (None, "csv")


def build_world(cadres: int, years: int, seed: int, end_year: int = 2025,
                scenarios: Sequence[Scenario] | None = None) -> World:
    """Cadres and typed facts, nothing written: the part scenarios and tests can inspect."""
    world = World(seed=seed, end_year=end_year,
                  years=tuple(range(end_year - years + 1, end_year + 1)))
    world.add_cadres(generate_cadres(world, cadres))
    for source, generate in GENERATORS:
        world.add_facts(source, generate(world))
    # by default the planted rule cases ride along, so every generated drop knows its truth;
    # they compare consecutive years, so a one-year world cannot hold them
    default = (*RULE_SCENARIOS, *DEFAULT_SCENARIOS) if years >= 2 else DEFAULT_SCENARIOS
    apply_scenarios(world, list(default if scenarios is None else scenarios))
    return world


def write_clean(world: World, out_dir: Path, file_format: str | None) -> list[FileEntry]:
    """One file per (unit, source, year) in the unit's habitual format; all expected to load."""
    entries = []
    units = load_units()
    tables = [("roster", world.cadres)] + [(s, world.facts[s]) for s, _ in GENERATORS]
    for source, frame in tables:
        contract = load_contract(source)
        for (unit, year), rows in frame.groupby(["_unit", "_year"], sort=True):
            if source not in units[unit].sources:
                raise ValueError(f"clean data for {source} from {unit}, which may not send it")
            plan = default_plan(str(unit), source, int(year), world.years)
            if file_format == "csv":
                plan = plan.as_csv()
            assert_unique_keys(contract, rows, plan.relpath)
            written = write_table(out_dir, plan, contract, rows, world.rng(f"file:{plan.relpath}"))
            entries.append(FileEntry(
                path=plan.relpath, unit=str(unit), source=source, format=plan.format,
                encoding=plan.encoding, kind="clean", year=int(year), header_row=plan.header_row,
                rows_written=written.rows, expected_status="accepted",
                expected_accepted_rows=written.rows,
                expected_notes=[ExpectedIssue(None, h, "extra_column")
                                for h in written.extra_columns],
                description="正常数据（含合法的格式差异）",
            ))
    return entries


def generate_drops(out_dir: Path, cadres: int, years: int, seed: int, faults: bool = False,
                   file_format: str | None = None, end_year: int = 2025, *,
                   scenarios: Sequence[Scenario] | None = None,
                   overwrite: bool = False) -> Manifest:
    """Write sample drops to ``out_dir/<UNIT>/<source>/<file>`` and ``out_dir/manifest.json``.

    Same arguments give byte-identical files. ``faults`` adds separate fault files (clean ones
    stay clean); ``file_format="csv"`` writes every file as UTF-8 CSV. ``scenarios`` defaults
    to ``scenarios.DEFAULT_SCENARIOS``. ``out_dir`` must be empty or absent; with ``overwrite``
    an earlier generator output (a folder holding ``manifest.json``) is replaced.
    """
    if cadres < 1 or years < 1:
        raise ValueError("cadres and years must be at least 1")
    if file_format not in FILE_FORMATS:
        raise ValueError(f"file_format must be one of {FILE_FORMATS}, not {file_format!r}")
    out_dir = Path(out_dir)
    if out_dir.exists() and any(out_dir.iterdir()):
        if not (overwrite and (out_dir / MANIFEST_NAME).exists()):
            raise FileExistsError(f"{out_dir} is not empty (overwrite only replaces a folder "
                                  f"this generator wrote)")
        shutil.rmtree(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)

    world = build_world(cadres, years, seed, end_year, scenarios)
    entries = write_clean(world, out_dir, file_format)
    phantoms: list[str] = []
    if faults:
        fault_entries, phantoms = write_faults(world, out_dir, file_format)
        entries += fault_entries
    manifest = Manifest(
        arguments={"cadres": cadres, "years": years, "seed": seed, "faults": faults,
                   "file_format": file_format, "end_year": end_year},
        files=sorted(entries, key=lambda e: e.path),
        cadre_ids=world.cadres["id_number"].tolist(),
        phantom_ids=phantoms,
        planted=list(world.planted),
    )
    manifest.check()
    manifest.write(out_dir)
    write_expected_flags(out_dir, manifest.planted)  # only when rule scenarios were planted
    return manifest
