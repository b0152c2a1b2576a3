"""Data contracts: ``schemas/<source>.yaml`` and ``schemas/units.yaml``.

A contract is the single declaration of a source's columns: English name, Chinese header and
aliases, type, code list, requiredness and key. The parser, the GX suite compiler, the raw
table DDL, the XLSX template and the feedback report all read it from here, so a column or a
code is declared exactly once.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any, Literal

import yaml

from pipelines import settings
from pipelines.errors import UnknownName

FieldType = Literal["id_number", "text", "code", "code_list", "date", "year", "int", "decimal",
                    "bool"]
FIELD_TYPES: tuple[str, ...] = FieldType.__args__  # type: ignore[attr-defined]

# DuckDB column type per contract type (raw layer).
DUCKDB_TYPES: dict[str, str] = {
    "id_number": "VARCHAR",
    "text": "VARCHAR",
    "code": "VARCHAR",
    "code_list": "VARCHAR[]",
    "date": "DATE",
    "year": "INTEGER",
    "int": "BIGINT",
    "decimal": "DECIMAL(18, 4)",
    "bool": "BOOLEAN",
}


@dataclass(frozen=True)
class RequiredIf:
    """A conditional requirement: this field is required when ``field`` meets the condition."""

    field: str
    is_present: bool | None = None
    equals: Any = None
    not_in: tuple[str, ...] | None = None

    def describe_zh(self, contract: Contract) -> str:
        header = contract.field(self.field).header_zh
        if self.is_present:
            return f"“{header}”已填写时必填"
        if self.equals is not None:
            shown = {True: "是", False: "否"}.get(self.equals, self.equals)
            return f"“{header}”为“{shown}”时必填"
        if self.not_in is not None:
            return f"“{header}”不为“{'/'.join(self.not_in)}”时必填"
        raise ValueError(f"empty required_if on {self.field}")


@dataclass(frozen=True)
class Field:
    name: str
    header_zh: str
    type: str
    required: bool = False
    aliases: tuple[str, ...] = ()
    codes: tuple[str, ...] = ()
    min: float | None = None
    max: float | None = None
    required_if: RequiredIf | None = None
    agrees_with_id: str | None = None
    # (reason code, field that must be filled for it to apply): a blank here is accepted but
    # noted for the unit, e.g. a blank 责任类型 weighs as 领导责任 and the unit is asked for it
    ask_if_blank: tuple[str, str | None] | None = None
    description: str = ""  # for engineers and analysts (English)
    note_zh: str = ""  # for units: what an empty or special value means (shown in templates)

    def range_zh(self) -> str:
        """The allowed range as units read it (template, receipts): 0～100, 不小于0, 不大于5,
        or '' when unbounded."""
        low, high = self.min, self.max
        if low is not None and high is not None:
            return f"{low:g}～{high:g}"
        if low is not None:
            return f"不小于{low:g}"
        return "" if high is None else f"不大于{high:g}"

    @property
    def duckdb_type(self) -> str:
        return DUCKDB_TYPES[self.type]

    def all_headers(self) -> tuple[str, ...]:
        """Every header text accepted for this column: Chinese, aliases, English name."""
        return (self.header_zh, *self.aliases, self.name)


@dataclass(frozen=True)
class Contract:
    source: str
    title_zh: str
    key: tuple[str, ...]
    fields: tuple[Field, ...]
    description: str = ""
    snapshot: bool = False
    role: str = "evidence"  # evidence feeds profiles; decision records what people decided
    _by_name: dict[str, Field] = field(default_factory=dict, compare=False, repr=False)

    def __post_init__(self) -> None:
        self._by_name.update({f.name: f for f in self.fields})

    def field(self, name: str) -> Field:
        return self._by_name[name]

    @property
    def field_names(self) -> tuple[str, ...]:
        return tuple(f.name for f in self.fields)

    @property
    def holds_records(self) -> bool:
        """Evidence kept record by record (every evidence source but the roster snapshot): what
        an evidence key, a withdrawal and the identity check against the roster apply to."""
        return self.role == "evidence" and not self.snapshot

    @property
    def required_fields(self) -> tuple[Field, ...]:
        return tuple(f for f in self.fields if f.required)

    def header_index(self) -> dict[str, str]:
        """Normalised header text -> field name, for matching a file's header row."""
        return {normalize_header(h): f.name for f in self.fields for h in f.all_headers()}


@dataclass(frozen=True)
class Unit:
    code: str
    name_zh: str
    sources: tuple[str, ...]
    detail_zh: str = ""


def normalize_header(text: object) -> str:
    """Header text as compared: NFKC (full-width -> half-width), no blanks, no '*' marks,
    lower case. ``涉及金额（万元）`` and ``涉及金额(万元)`` compare equal."""
    normalized = unicodedata.normalize("NFKC", str(text))
    return "".join(ch for ch in normalized if not ch.isspace() and ch != "*").lower()


def schemas_dir() -> Path:
    return Path(settings.get("CADRE_SCHEMAS_DIR"))


def _field_from_yaml(raw: dict[str, Any], source: str) -> Field:
    if raw["type"] not in FIELD_TYPES:
        raise ValueError(f"{source}.{raw['name']}: unknown type {raw['type']!r}")
    required_if = None
    if "required_if" in raw:
        cond = dict(raw["required_if"])
        if "not_in" in cond:
            cond["not_in"] = tuple(cond["not_in"])
        required_if = RequiredIf(**cond)
    return Field(
        name=raw["name"],
        header_zh=raw["header_zh"],
        type=raw["type"],
        required=bool(raw.get("required", False)),
        aliases=tuple(raw.get("aliases", ())),
        codes=tuple(raw.get("codes", ())),
        min=raw.get("min"),
        max=raw.get("max"),
        required_if=required_if,
        agrees_with_id=raw.get("agrees_with_id"),
        ask_if_blank=((raw["ask_if_blank"]["reason"], raw["ask_if_blank"].get("when_present"))
                      if "ask_if_blank" in raw else None),
        description=raw.get("description", ""),
        note_zh=raw.get("note_zh", ""),
    )


@cache
def _load_contract(path: Path) -> Contract:
    raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    source = raw["source"]
    if source != path.stem:
        raise ValueError(f"{path}: source {source!r} does not match the file name")
    contract = Contract(
        source=source,
        title_zh=raw["title_zh"],
        key=tuple(raw["key"]),
        fields=tuple(_field_from_yaml(f, source) for f in raw["fields"]),
        description=raw.get("description", ""),
        snapshot=bool(raw.get("snapshot", False)),
        role=raw.get("role", "evidence"),
    )
    unknown = [k for k in contract.key if k not in contract.field_names]
    if unknown:
        raise ValueError(f"{path}: key names unknown fields {unknown}")
    return contract


def load_contract(source: str) -> Contract:
    path = schemas_dir() / f"{source}.yaml"
    if not path.exists():
        raise UnknownName("source", source, source_names())
    return _load_contract(path)


def source_names() -> tuple[str, ...]:
    """Every source with a contract, in the order of sources.md."""
    present = {p.stem for p in schemas_dir().glob("*.yaml")} - {"units"}
    ordered = [s for s in SOURCE_ORDER if s in present]
    return tuple(ordered + sorted(present - set(ordered)))


# Display order only (sources.md order); which sources exist is decided by schemas/.
SOURCE_ORDER = ("roster", "annual_assessment", "inspection_finding", "audit_finding",
                "petition_verification", "personal_report_check", "sanction")


def evidence_sources() -> tuple[str, ...]:
    """Sources whose rows are evidence about cadres: the ones a build depends on."""
    return tuple(s for s in source_names() if load_contract(s).role == "evidence")


def all_contracts() -> dict[str, Contract]:
    return {s: load_contract(s) for s in source_names()}


@cache
def _load_units(path: Path) -> dict[str, Unit]:
    raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    return {
        u["code"]: Unit(code=u["code"], name_zh=u["name_zh"], sources=tuple(u["sources"]),
                        detail_zh=u.get("detail_zh", ""))
        for u in raw["units"]
    }


def load_units() -> dict[str, Unit]:
    return _load_units(schemas_dir() / "units.yaml")


def units_for_source(source: str) -> tuple[str, ...]:
    return tuple(code for code, unit in load_units().items() if source in unit.sources)
