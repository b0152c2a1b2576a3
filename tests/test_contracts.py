"""The contracts in ``schemas/`` against the units' contract as agreed with the outside world.

The agreed tables live in the project (``tests/spec/sources_tables.md``, a verbatim copy of the
domain text's tables) and are parsed here, so a change on either side that is not made on the
other fails a test instead of silently refusing a unit's file. The project never reads anything
outside itself: a clone with nothing beside it passes.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from pathlib import Path

import pytest

from pipelines.contracts import (
    FIELD_TYPES,
    SOURCE_ORDER,
    all_contracts,
    load_contract,
    load_units,
    normalize_header,
    source_names,
)

SOURCES_MD = Path(__file__).resolve().parent / "spec" / "sources_tables.md"
# Contracts that are ours, not the outside world's: the pipeline's own return channels, absent
# from sources.md by design. ``decision``: the organization department's decisions on flags
# (docs/reviews.md). Only ORG may send them.
OWN_SOURCES: dict[str, tuple[str, ...]] = {"decision": ("ORG",)}


@dataclass(frozen=True)
class SpecColumn:
    header: str
    name: str
    type_text: str
    req: str


@dataclass(frozen=True)
class SpecSource:
    source: str
    title_zh: str
    key_headers: tuple[str, ...]
    columns: tuple[SpecColumn, ...]


@dataclass(frozen=True)
class Spec:
    sources: dict[str, SpecSource]
    units: dict[str, tuple[str, tuple[str, ...]]]  # code -> (name_zh, sources)


def _cells(line: str) -> list[str]:
    return [c.strip() for c in line.strip().strip("|").split("|")]


def _table_rows(lines: list[str]) -> list[list[str]]:
    """Body rows of the first markdown table in ``lines`` (header and rule skipped)."""
    rows: list[list[str]] = []
    started = False
    for line in lines:
        if line.startswith("|"):
            started = True
            rows.append(_cells(line))
        elif started:
            break
    return rows[2:]


def _parse_spec(text: str) -> Spec:
    sections = re.split(r"^## ", text, flags=re.MULTILINE)
    sources: dict[str, SpecSource] = {}
    units: dict[str, tuple[str, tuple[str, ...]]] = {}
    heading = re.compile(r"^(\w+) — (\S+) \((?:.*?)key: ([^)]*)\)")
    for section in sections[1:]:
        lines = section.splitlines()
        if lines[0].startswith("Units and what each may send"):
            for code, unit, allowed in _table_rows(lines[1:]):
                units[code] = (unit.split(" (")[0].strip(),
                               tuple(s.strip() for s in allowed.split(",")))
            continue
        match = heading.match(lines[0])
        if not match:
            continue
        source, title, key = match.groups()
        columns = []
        for header_cell, name_cell, type_text, req in _table_rows(lines[1:]):
            headers = [h.strip() for h in header_cell.split(" / ")]
            names = [n.strip() for n in name_cell.split(" / ")]
            assert len(headers) == len(names), f"{source}: {header_cell} vs {name_cell}"
            columns += [SpecColumn(h, n, type_text, req) for h, n in zip(headers, names,
                                                                        strict=True)]
        sources[source] = SpecSource(source, title, tuple(k.strip() for k in key.split("+")),
                                     tuple(columns))
    return Spec(sources, units)


@pytest.fixture(scope="module")
def spec() -> Spec:
    assert SOURCES_MD.exists(), f"the agreed contract tables are missing: {SOURCES_MD}"
    parsed = _parse_spec(SOURCES_MD.read_text(encoding="utf-8"))
    assert parsed.sources and parsed.units, "sources.md could not be parsed"
    return parsed


def _spec_type(col: SpecColumn) -> str:
    """The contract type the sources.md 'type / codes' cell describes."""
    text = col.type_text
    for prefix, kind in (("list of ", "code_list"), ("bool", "bool"), ("date", "date"),
                         ("year", "year"), ("int", "int"), ("decimal", "decimal"),
                         ("0-100", "decimal"), ("18-char ID", "id_number"), ("ID", "id_number"),
                         ("text", "text")):
        if text.startswith(prefix):
            return kind
    assert "/" in text, f"cannot read the type of {col.name}: {text!r}"
    return "code"


def _spec_codes(col: SpecColumn) -> tuple[str, ...]:
    text = col.type_text
    if text.startswith("list of "):
        text = text.removeprefix("list of ").split(",")[0]
    return tuple(c.strip() for c in text.split("/"))


def test_every_source_has_a_contract(spec: Spec) -> None:
    assert set(source_names()) == set(spec.sources) | set(OWN_SOURCES)
    assert tuple(spec.sources) == SOURCE_ORDER
    for source, spec_source in spec.sources.items():
        contract = load_contract(source)
        assert contract.source == source
        assert contract.title_zh == spec_source.title_zh
        assert set(contract.field_names) == {c.name for c in spec_source.columns}
        assert contract.field_names == tuple(c.name for c in spec_source.columns), \
            f"{source}: fields not in sources.md order"


def test_file_stem_equals_source() -> None:
    for source, contract in all_contracts().items():
        assert contract.source == source


@pytest.mark.parametrize("source", SOURCE_ORDER)
def test_every_header_maps_to_its_field(spec: Spec, source: str) -> None:
    contract = load_contract(source)
    index = contract.header_index()
    for col in spec.sources[source].columns:
        assert contract.field(col.name).header_zh == col.header
        assert index[normalize_header(col.header)] == col.name
        assert index[normalize_header(col.name)] == col.name


@pytest.mark.parametrize("source", SOURCE_ORDER)
def test_no_header_text_names_two_fields(source: str) -> None:
    seen: dict[str, str] = {}
    for f in load_contract(source).fields:
        for header in f.all_headers():
            key = normalize_header(header)
            assert seen.setdefault(key, f.name) == f.name, \
                f"{source}: header {header!r} names both {seen[key]} and {f.name}"


def test_keys_match_sources_md(spec: Spec) -> None:
    for source, spec_source in spec.sources.items():
        contract = load_contract(source)
        assert all(k in contract.field_names for k in contract.key)
        index = contract.header_index()
        assert contract.key == tuple(index[normalize_header(h)] for h in spec_source.key_headers)
        for k in contract.key:
            assert contract.field(k).required, f"{source}.{k} is a key but not required"


def test_types_codes_and_requiredness_match_sources_md(spec: Spec) -> None:
    earlier: dict[str, SpecColumn] = {}  # name -> its last full row, for "as above"
    for source, spec_source in spec.sources.items():
        contract = load_contract(source)
        for col in spec_source.columns:
            if col.type_text == "as above":
                col = replace(earlier[col.name], req=col.req)
            earlier[col.name] = col
            f = contract.field(col.name)
            where = f"{source}.{col.name}"
            assert f.type in FIELD_TYPES
            assert f.type == _spec_type(col), where
            if f.type in ("code", "code_list"):
                assert f.codes == _spec_codes(col), where
            else:
                assert not f.codes, where
            conditional = (col.req.startswith("if ") or "required when" in col.type_text
                           or "required for" in col.type_text)
            assert f.required == (col.req == "yes"), where
            assert (f.required_if is not None) == conditional, where
            if f.required_if is not None:
                assert f.required_if.field in contract.field_names, where
                assert f.required_if.describe_zh(contract)


def test_conditional_requirements() -> None:
    petition = load_contract("petition_verification").field("conclusion").required_if
    assert petition is not None and petition.field == "closed_on" and petition.is_present
    for source in ("inspection_finding", "audit_finding"):
        cond = load_contract(source).field("tolerance_basis").required_if
        assert cond is not None and cond.field == "tolerated" and cond.equals is True
    check = load_contract("personal_report_check")
    assert check.field("items").type == "code_list"
    for name in ("items", "item_count"):
        cond = check.field(name).required_if
        assert cond is not None and cond.field == "result" and cond.not_in == ("一致",)
    assert not load_contract("inspection_finding").field("id_number").required
    term = load_contract("sanction").field("effect_until").required_if
    assert term is not None and term.field == "measure" and term.equals == "留党察看"


def test_ranges() -> None:
    expected = {
        ("annual_assessment", "votes_excellent"): (0, None),
        ("annual_assessment", "votes_incompetent"): (0, None),
        ("annual_assessment", "score_virtue"): (0, 100),
        ("annual_assessment", "score_integrity"): (0, 100),
        ("audit_finding", "amount_wan"): (0, None),
        ("audit_finding", "item_no"): (1, None),
        ("personal_report_check", "item_count"): (0, None),
    }
    for (source, name), (low, high) in expected.items():
        f = load_contract(source).field(name)
        assert (f.min, f.max) == (low, high), f"{source}.{name}"
    for contract in all_contracts().values():
        for f in contract.fields:
            if f.type == "int":
                assert f.min is not None, f"{contract.source}.{f.name} has no lower bound"


def test_common_aliases() -> None:
    index = load_contract("annual_assessment").header_index()
    assert index[normalize_header("年度")] == "year"
    audit = load_contract("audit_finding").header_index()
    for header in ("涉及金额", "金额(万元)", "涉及金额（万元）", "涉及金额 (万元)"):
        assert audit[normalize_header(header)] == "amount_wan"


def test_units_grant_exactly_sources_md(spec: Spec) -> None:
    units = load_units()
    assert set(units) == set(spec.units)
    for code, (name_zh, allowed) in spec.units.items():
        assert units[code].name_zh == name_zh
        own = tuple(s for s, senders in OWN_SOURCES.items() if code in senders)
        assert units[code].sources == allowed + own
        assert all(s in spec.sources for s in allowed)
