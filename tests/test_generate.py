"""Sample-drop generator: determinism, formats as claimed, and a manifest that is exactly right.

The manifest is checked by an independent reference reader (``_check_file``): it re-reads each
written file the way a unit's spreadsheet shows it and recomputes every row issue from the
contracts. Clean files must come out with no issue at all, fault files with exactly the issues
the manifest lists, at the rows and columns it names.
"""

from __future__ import annotations

import csv
import filecmp
import io
import json
import re
import zipfile
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import openpyxl
import pytest

from pipelines.contracts import Contract, load_contract, load_units, normalize_header
from pipelines.dev.generate import Manifest, build_world, generate_drops
from pipelines.dev.generate.scenarios import assessment_row, new_cadre
from pipelines.ingest import idcard

pytestmark = pytest.mark.slow

ROW_FAULT_KINDS = {
    "required_missing", "required_if_missing", "id_excel_mangled", "id_bad_format",
    "id_bad_checksum", "birth_date_mismatch", "bad_date", "bad_decimal", "unknown_code",
    "out_of_range", "duplicate_key",
}
FILE_FAULT_KINDS = {"unit_not_allowed", "unreadable_file", "no_rows", "missing_required_column"}
TRUE = {"是", "y", "1", "true"}
FALSE = {"否", "n", "0", "false"}


@pytest.fixture(scope="module")
def drops(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Manifest]:
    out = tmp_path_factory.mktemp("drops") / "out"
    return out, generate_drops(out, cadres=300, years=3, seed=42, faults=True)


@pytest.fixture(scope="module")
def csv_drops(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Manifest]:
    out = tmp_path_factory.mktemp("csv") / "out"
    return out, generate_drops(out, cadres=120, years=2, seed=5, faults=True, file_format="csv")


# --- a reference reader, independent of the generator --------------------------------------
def _read_table(path: Path, entry: Any) -> tuple[list[str], list[tuple[int, list[Any]]]]:
    """(headers, [(source_row, cells)]) as the unit sees the file."""
    if entry.format == "json":
        records = json.loads(path.read_text(encoding="utf-8"))
        headers = list(records[0]) if records else []
        return headers, [(i + 1, [r.get(h) for h in headers]) for i, r in enumerate(records)]
    if entry.format == "csv":
        text = path.read_bytes().decode(entry.encoding)
        rows = list(csv.reader(io.StringIO(text, newline="")))
        assert entry.header_row == 1
        return rows[0], [(i + 2, r) for i, r in enumerate(rows[1:])]
    wb = openpyxl.load_workbook(path, read_only=True)
    rows = [list(r) for r in wb.worksheets[0].iter_rows(values_only=True)]
    wb.close()
    h = entry.header_row
    return [str(c) for c in rows[h - 1] if c is not None], [
        (h + 1 + i, r) for i, r in enumerate(rows[h:])]


def _empty(v: Any) -> bool:
    return v is None or (isinstance(v, str) and not v.strip())


_DATE_FORMS = (
    re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})$"), re.compile(r"^(\d{4})/(\d{1,2})/(\d{1,2})$"),
    re.compile(r"^(\d{4})\.(\d{1,2})\.(\d{1,2})$"), re.compile(r"^(\d{4})年(\d{1,2})月(\d{1,2})日$"),
    re.compile(r"^(\d{4})(\d{2})(\d{2})$"),
)


def _date(v: Any) -> date | None:
    if isinstance(v, datetime):
        return v.date()
    if isinstance(v, int) and not isinstance(v, bool):
        return date(1899, 12, 30) + timedelta(days=v) if 1 <= v <= 80000 else None
    text = str(v).strip()
    for form in _DATE_FORMS:
        m = form.match(text)
        if m:
            try:
                return date(*map(int, m.groups()))
            except ValueError:
                return None
    return None


def _bool(v: Any) -> bool | None:
    if isinstance(v, bool):
        return v
    text = str(v).strip().lower()
    return True if text in TRUE else False if text in FALSE else None


def _number(v: Any) -> float | None:
    if isinstance(v, (int, float)) and not isinstance(v, bool):
        return float(v)
    try:
        return float(str(v).strip().replace(",", ""))
    except ValueError:
        return None


def _cell_issue(contract: Contract, name: str, v: Any) -> str | None:
    f = contract.field(name)
    if f.type == "id_number":
        return idcard.problem(v if isinstance(v, str) else repr(v))
    if f.type == "code":
        return None if str(v).strip() in f.codes else "unknown_code"
    if f.type == "code_list":
        parts = v if isinstance(v, list) else re.split(r"[、,，]", str(v))
        return None if all(p.strip() in f.codes for p in parts) else "unknown_code"
    if f.type == "date":
        return None if _date(v) else "bad_date"
    if f.type == "year":
        return None if re.match(r"^\d{4}年?$", str(v).strip()) else "bad_year"
    if f.type == "bool":
        return None if _bool(v) is not None else "bad_bool"
    if f.type in ("int", "decimal"):
        x = _number(v)
        if x is None or (f.type == "int" and x != int(x)):
            return "bad_int" if f.type == "int" else "bad_decimal"
        if (f.min is not None and x < f.min) or (f.max is not None and x > f.max):
            return "out_of_range"
    return None


def _required_if_applies(contract: Contract, name: str, row: dict[str, Any]) -> bool:
    cond = contract.field(name).required_if
    if cond is None:
        return False
    other = row.get(cond.field)
    if cond.is_present:
        return not _empty(other)
    if cond.equals is not None:
        return not _empty(other) and _bool(other) == cond.equals
    return not _empty(other) and str(other).strip() not in (cond.not_in or ())


def _row_issues(contract: Contract, headers: list[str], rows: list[tuple[int, list[Any]]]
                ) -> tuple[set[tuple[int, str, str]], list[str]]:
    """Every (source_row, field, reason) the reference reader finds; plus unknown headers."""
    index = contract.header_index()
    names = [index.get(normalize_header(h)) for h in headers]
    extras = [h for h, n in zip(headers, names, strict=True) if n is None]
    issues: set[tuple[int, str, str]] = set()
    clean_keys: dict[str, list[int]] = {}
    for source_row, cells in rows:
        row = {n: v for n, v in zip(names, cells, strict=False) if n}
        found = set()
        for name, v in row.items():
            f = contract.field(name)
            if _empty(v):
                if f.required:
                    found.add((source_row, name, "required_missing"))
                elif _required_if_applies(contract, name, row):
                    found.add((source_row, name, "required_if_missing"))
                continue
            reason = _cell_issue(contract, name, v)
            if reason:
                found.add((source_row, name, reason))
            elif (f.agrees_with_id and idcard.problem(row[f.agrees_with_id]) is None
                  and _date(v) != idcard.birth_date(idcard.normalize(row[f.agrees_with_id]))):
                found.add((source_row, name, "birth_date_mismatch"))
        issues |= found
        if not found:
            key = "|".join(idcard.normalize(row[k]) for k in contract.key)
            clean_keys.setdefault(key, []).append(source_row)
    for dup_rows in clean_keys.values():
        if len(dup_rows) > 1:
            issues |= {(r, contract.key[0], "duplicate_key") for r in dup_rows}
    return issues, extras


def _check_file(out: Path, entry: Any) -> None:
    """The file is what the manifest says: same rows, same issues, same outcome."""
    path = out / entry.path
    assert path.exists(), entry.path
    contract = load_contract(entry.source)
    if entry.expected_refusal_reason == "unit_not_allowed":
        assert entry.source not in load_units()[entry.unit].sources
        return
    if entry.expected_refusal_reason == "unreadable_file":
        if entry.format == "xlsx":
            with pytest.raises(zipfile.BadZipFile):
                openpyxl.load_workbook(path)
        else:
            for enc in ("utf-8-sig", "gb18030"):
                with pytest.raises(UnicodeDecodeError):
                    path.read_bytes().decode(enc)
        return
    headers, rows = _read_table(path, entry)
    assert len(rows) == entry.rows_written, entry.path
    if entry.expected_refusal_reason == "no_rows":
        assert headers and not rows
        return
    if entry.expected_refusal_reason == "missing_required_column":
        present = {contract.header_index().get(normalize_header(h)) for h in headers}
        assert entry.expected_refusal_detail not in present
        assert contract.field(entry.expected_refusal_detail).required
        return
    issues, extras = _row_issues(contract, headers, rows)
    expected = {(i.source_row, i.column, i.reason) for i in entry.expected_quarantined}
    assert issues == expected, entry.path
    assert sorted(extras) == sorted(n.column for n in entry.expected_notes), entry.path
    bad_rows = {r for r, _, _ in issues}
    assert entry.expected_accepted_rows == len(rows) - len(bad_rows)


# --- tests ---------------------------------------------------------------------------------
def test_same_arguments_give_byte_identical_files(tmp_path: Path) -> None:
    a = generate_drops(tmp_path / "a", cadres=150, years=2, seed=9, faults=True)
    b = generate_drops(tmp_path / "b", cadres=150, years=2, seed=9, faults=True)
    files_a = sorted(p.relative_to(tmp_path / "a") for p in (tmp_path / "a").rglob("*")
                     if p.is_file())
    files_b = sorted(p.relative_to(tmp_path / "b") for p in (tmp_path / "b").rglob("*")
                     if p.is_file())
    assert files_a == files_b
    _, mismatch, errors = filecmp.cmpfiles(tmp_path / "a", tmp_path / "b",
                                           [str(p) for p in files_a], shallow=False)
    assert not mismatch and not errors
    assert a == b
    c = generate_drops(tmp_path / "c", cadres=150, years=2, seed=10, faults=True)
    assert c.cadre_ids != a.cadre_ids


def test_layout_and_manifest_round_trip(drops: tuple[Path, Manifest]) -> None:
    out, manifest = drops
    on_disk = {p.relative_to(out).as_posix() for p in out.rglob("*") if p.is_file()}
    assert on_disk == {f.path for f in manifest.files} | {"manifest.json", "expected_flags.json"}
    for f in manifest.files:
        unit, source, _ = f.path.split("/")
        assert (unit, source) == (f.unit, f.source)
    assert Manifest.load(out) == manifest
    assert manifest.arguments == {"cadres": 300, "years": 3, "seed": 42, "faults": True,
                                  "file_format": None, "end_year": 2025}
    planted = {p["id_number"] for p in manifest.planted}
    assert len(planted) == len(manifest.planted) > 0  # the rule cases ride along by default
    assert len(manifest.cadre_ids) == len(set(manifest.cadre_ids)) == 300 + len(planted)
    assert not set(manifest.phantom_ids) & set(manifest.cadre_ids)


def test_every_file_matches_its_manifest_entry(drops: tuple[Path, Manifest]) -> None:
    out, manifest = drops
    for entry in manifest.files:
        _check_file(out, entry)


def test_clean_files_hold_only_valid_ids_of_known_cadres(drops: tuple[Path, Manifest]) -> None:
    out, manifest = drops
    cadres = set(manifest.cadre_ids)
    quirks = {"lower_x": 0, "fullwidth": 0, "blank": 0}
    for entry in (f for f in manifest.files if f.kind == "clean"):
        contract = load_contract(entry.source)
        headers, rows = _read_table(out / entry.path, entry)
        index = contract.header_index()
        col = next(i for i, h in enumerate(headers)
                   if index.get(normalize_header(h)) == "id_number")
        for _, cells in rows:
            raw = cells[col]
            if _empty(raw):
                assert entry.source == "inspection_finding"  # unit-level finding
                continue
            assert idcard.problem(idcard.normalize(raw)) is None
            assert idcard.normalize(raw) in cadres
            quirks["lower_x"] += raw.strip().endswith("x")
            quirks["fullwidth"] += raw.strip()[0] == "０" or raw.strip()[0] in "１２３４５６７８９"
            quirks["blank"] += raw != raw.strip()
    assert all(quirks.values()), quirks
    for i in manifest.cadre_ids:
        assert idcard.problem(i) is None


def test_formats_and_encodings_are_as_claimed(drops: tuple[Path, Manifest]) -> None:
    out, manifest = drops
    clean = {(f.unit, f.source, f.format, f.encoding) for f in manifest.files
             if f.kind == "clean"}
    assert clean == {
        ("ORG", "roster", "xlsx", None), ("ORG", "annual_assessment", "csv", "gbk"),
        ("INS", "inspection_finding", "xlsx", None), ("AUD", "audit_finding", "csv", "utf-8-sig"),
        ("PET", "petition_verification", "json", "utf-8"),
        ("DIS", "petition_verification", "csv", "utf-8"),
        ("ORG", "personal_report_check", "xlsx", None), ("DIS", "sanction", "csv", "gbk"),
    }
    for f in manifest.files:
        data = (out / f.path).read_bytes()
        if f.encoding == "gbk":
            data.decode("gbk")
            with pytest.raises(UnicodeDecodeError):
                data.decode("utf-8")
            assert b"\r\n" in data
        elif f.encoding == "utf-8-sig":
            assert data.startswith(b"\xef\xbb\xbf")
        elif f.encoding == "utf-8":
            assert not data.startswith(b"\xef\xbb\xbf")
            data.decode("utf-8")
        if f.format == "json":
            records = json.loads(data)
            assert isinstance(records, list) and records
            fields = set(load_contract(f.source).field_names)
            assert all(set(r) <= fields for r in records)
    roster = manifest.file("ORG/roster/2025年干部名册.xlsx")
    wb = openpyxl.load_workbook(out / roster.path)
    ws = wb.worksheets[0]
    assert ws["A1"].value == "2025年干部名册" and roster.header_row == 3
    assert any(str(r).startswith("A1:") for r in ws.merged_cells.ranges)
    assert ws["A3"].value == "身份证号"
    assert isinstance(ws["D4"].value, datetime) or ws["D4"].value is not None
    assert wb.properties.created == datetime(2000, 1, 1)
    insp = next(f for f in manifest.files if f.source == "inspection_finding" and f.kind == "clean")
    assert insp.header_row == 2
    audit = "\n".join((out / f.path).read_text(encoding="utf-8-sig") for f in manifest.files
                      if f.source == "audit_finding" and f.kind == "clean")
    assert re.search(r'"\d{1,3}(,\d{3})+\.\d{2}"', audit)  # amounts with thousands separators


def test_valid_quirks_are_present(drops: tuple[Path, Manifest]) -> None:
    """Dates in every accepted form, booleans in every spelling, years with 年, shuffled
    columns, aliases and an unknown column: all valid input the pipeline must accept."""
    out, manifest = drops
    dates: set[str] = set()
    bools: set[str] = set()
    years: set[str] = set()
    headers_seen = []
    for entry in (f for f in manifest.files if f.kind == "clean"):
        contract = load_contract(entry.source)
        headers, rows = _read_table(out / entry.path, entry)
        headers_seen.append((entry, headers))
        names = [contract.header_index().get(normalize_header(h)) for h in headers]
        for _, cells in rows:
            for name, v in zip(names, cells, strict=False):
                if not name or _empty(v):
                    continue
                t = contract.field(name).type
                if t == "date":
                    dates.add("cell" if isinstance(v, datetime) else "serial"
                              if isinstance(v, int) else next(
                                  str(i) for i, form in enumerate(_DATE_FORMS)
                                  if form.match(str(v).strip())))
                elif t == "bool":
                    bools.add(str(v).lower())
                elif t == "year":
                    years.add("suffix" if str(v).endswith("年") else "plain")
    assert dates == {"0", "1", "2", "3", "4", "cell", "serial"}
    assert {"是", "否", "y", "n", "1", "0", "true", "false"} <= bools
    assert years == {"suffix", "plain"}
    contract_orders = [[load_contract(e.source).header_index().get(normalize_header(h))
                        for h in hs] for e, hs in headers_seen if e.format != "json"]
    assert any(o != [n for n in load_contract(e.source).field_names if n in o]
               for o, (e, _) in zip(contract_orders, headers_seen, strict=False))
    aliases = {h for e, hs in headers_seen for h in hs
               if e.format != "json" and h in {a for f in load_contract(e.source).fields
                                               for a in f.aliases}}
    assert aliases
    notes = [n for f in manifest.files for n in f.expected_notes]
    assert [(n.column, n.reason) for n in notes] == [("联系电话", "extra_column")]


def test_manifest_lists_every_fault_kind(drops: tuple[Path, Manifest]) -> None:
    _, manifest = drops
    assert manifest.fault_reasons() >= ROW_FAULT_KINDS | FILE_FAULT_KINDS
    clean = [f for f in manifest.files if f.kind == "clean"]
    assert all(f.expected_status == "accepted" and not f.expected_quarantined for f in clean)
    faults = [f for f in manifest.files if f.kind == "fault"]
    assert {f.expected_refusal_reason for f in faults if f.expected_status == "refused"} == \
        FILE_FAULT_KINDS
    partial = [f for f in faults if f.expected_status == "partially_accepted"]
    assert {f.source for f in partial} == {
        "roster", "annual_assessment", "personal_report_check", "inspection_finding",
        "audit_finding", "petition_verification", "sanction"}
    for f in partial:
        rows = [i.source_row for i in f.expected_quarantined]
        assert len(rows) == len(set(rows)), f"{f.path}: a row with more than one fault"
        assert f.expected_accepted_rows > 0
    mangled = [(f.format, i) for f in partial for i in f.expected_quarantined
               if i.reason == "id_excel_mangled"]
    assert {fmt for fmt, _ in mangled} == {"xlsx", "csv"}
    conditional = {i.column for f in partial for i in f.expected_quarantined
                   if i.reason == "required_if_missing"}
    assert {"tolerance_basis", "conclusion"} <= conditional


def test_excel_mangled_ids_are_a_number_cell_and_scientific_text(
        drops: tuple[Path, Manifest]) -> None:
    out, manifest = drops
    for f in manifest.files:
        for issue in f.expected_quarantined:
            if issue.reason != "id_excel_mangled":
                continue
            headers, rows = _read_table(out / f.path, f)
            col = next(i for i, h in enumerate(headers)
                       if load_contract(f.source).header_index().get(normalize_header(h))
                       == "id_number")
            value = dict(rows)[issue.source_row][col]
            if f.format == "xlsx":
                assert isinstance(value, float)
            else:
                assert re.match(r"^\d\.\d+E\+17$", value), value


def test_csv_mode_writes_only_utf8_csv(csv_drops: tuple[Path, Manifest]) -> None:
    out, manifest = csv_drops
    files = [p for p in out.rglob("*") if p.is_file() and p.suffix != ".json"]  # drops only
    assert files and all(p.suffix == ".csv" for p in files)
    for f in manifest.files:
        assert f.format == "csv" and f.header_row in (1, None)
        if f.expected_refusal_reason != "unreadable_file":
            assert f.encoding == "utf-8"
            assert not (out / f.path).read_bytes().startswith(b"\xef\xbb\xbf")
        _check_file(out, f)
    assert manifest.fault_reasons() >= ROW_FAULT_KINDS | FILE_FAULT_KINDS


def test_facts_stay_inside_the_years_and_distributions_are_plausible() -> None:
    world = build_world(cadres=2000, years=3, seed=3, end_year=2024, scenarios=())  # background only
    start, end = date(2022, 1, 1), date(2024, 12, 31)
    for source, name in (("inspection_finding", "found_on"), ("audit_finding", "reported_on"),
                         ("petition_verification", "received_on"),
                         ("petition_verification", "closed_on"),
                         ("personal_report_check", "checked_on"), ("sanction", "decided_on")):
        col = world.facts[source][name].dropna()
        assert col.min().date() >= start and col.max().date() <= end, (source, name)
    births = world.cadres["birth_date"]
    assert births.min().year >= 1965 and births.max().year <= 1992
    male = world.cadres["id_number"].str[16].astype(int) % 2 == 1
    assert (male == (world.cadres["gender"] == "男")).all()
    grades = world.facts["annual_assessment"]["grade"].value_counts(normalize=True)
    assert grades["称职"] + grades["优秀"] > 0.85 and 0 < grades.get("不称职", 0) < 0.03
    assert len(world.facts["annual_assessment"]) == 3 * 2000
    checks = world.facts["personal_report_check"]
    random_share = (checks["check_mode"] == "随机抽查").sum() / 3 / 2000
    assert 0.08 <= random_share <= 0.12
    votes = world.facts["annual_assessment"][["votes_excellent", "votes_competent",
                                              "votes_basic", "votes_incompetent"]].dropna()
    assert (votes.sum(axis=1).between(12, 90)).all()
    inspection = world.facts["inspection_finding"]
    assert inspection["id_number"].isna().any() and inspection["id_number"].notna().any()
    assert set(world.facts["petition_verification"]["_unit"]) == {"PET", "DIS"}


def test_scenarios_plant_cadres_and_expectations(tmp_path: Path) -> None:
    def scenario(world: Any) -> None:
        rng = world.rng("scenario:test")
        cadre = new_cadre(world, rng, name="测试甲", male=True, born=date(1980, 5, 6))
        world.add_facts("annual_assessment", [assessment_row(cadre, y, grade="基本称职")
                                              for y in world.years])
        world.planted.append({"id_number": cadre["id_number"], "rule": "A2",
                              "expect": "candidate"})

    m = generate_drops(tmp_path / "s", cadres=50, years=2, seed=1, scenarios=[scenario])
    planted = m.planted[0]["id_number"]
    assert planted in m.cadre_ids and len(m.cadre_ids) == 51
    text = (tmp_path / "s" / "ORG/annual_assessment/2025年度考核结果.csv").read_bytes()
    assert "测试甲".encode("gbk") in text
    for entry in m.files:
        _check_file(tmp_path / "s", entry)


def test_refuses_to_write_into_a_foreign_folder(tmp_path: Path) -> None:
    (tmp_path / "x").mkdir()
    (tmp_path / "x" / "keep.txt").write_text("mine")
    with pytest.raises(FileExistsError):
        generate_drops(tmp_path / "x", cadres=10, years=1, seed=1)
    generate_drops(tmp_path / "y", cadres=10, years=1, seed=1)
    generate_drops(tmp_path / "y", cadres=10, years=1, seed=2, overwrite=True)
    assert Manifest.load(tmp_path / "y").arguments["seed"] == 2
    with pytest.raises(ValueError):
        generate_drops(tmp_path / "z", cadres=10, years=1, seed=1, file_format="xlsx")


def test_two_thousand_cadres_every_year_assessed(tmp_path: Path) -> None:
    # speed is measured by `make bench`, not asserted here (shared, noisy machine)
    manifest = generate_drops(tmp_path / "big", cadres=2000, years=3, seed=7, faults=True,
                              scenarios=())
    assert sum(f.rows_written for f in manifest.files if f.source == "annual_assessment"
               and f.kind == "clean") == 6000
