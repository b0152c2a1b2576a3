"""``docs/contract.md``: the units' contract, generated from ``schemas/`` (``cadre docs``).

The contracts in ``schemas/`` are the one declaration of what units send; this page is their
readable form for units and engineers, so it is generated, never edited by hand, and
``tests/test_docs.py`` fails when the committed page differs from what the contracts give. The
wording per column (type, requiredness, notes) is the same the XLSX templates show units.
"""

from __future__ import annotations

from pipelines.contracts import Contract, load_contract, load_units, source_names
from pipelines.ingest.templates import GENERAL_NOTES, field_codes, note_zh, required_zh, type_zh

CONTRACT_DOC = "contract.md"


def _cell(text: str) -> str:
    return text.replace("|", "/").replace("\n", " ")


def _source_section(contract: Contract, senders: list[str]) -> list[str]:
    key = " + ".join(contract.field(k).header_zh for k in contract.key)
    lines = [f"## {contract.source} — {contract.title_zh}", "",
             f"Key: {key}. Sent by: {', '.join(senders) or '—'}."
             + (" A drop is a full snapshot for the sender's scope." if contract.snapshot else ""),
             ""]
    if contract.description:
        lines += [contract.description, ""]
    lines += ["| 列名 | 也接受的列名 | name | 类型 | 代码 | 是否必填 | 说明 | description |",
              "|---|---|---|---|---|---|---|---|"]
    for f in contract.fields:
        lines.append("| " + " | ".join(_cell(c) for c in (
            f.header_zh, "、".join(f.aliases), f"`{f.name}`", type_zh(f),
            "/".join(field_codes(f)) if f.type != "bool" else "", required_zh(contract, f),
            note_zh(contract, f), f.description)) + " |")
    return [*lines, ""]


def render_contract_doc() -> str:
    """The whole page, deterministic (no dates), from the contracts alone."""
    units = load_units()
    lines = ["# The units' contract: what each unit sends", "",
             "<!-- Generated from schemas/ by `cadre docs`; do not edit by hand. -->", "",
             "The machine form is `schemas/<source>.yaml` (one file per source) and "
             "`schemas/units.yaml`; this page is generated from them, and the XLSX templates "
             "(`cadre template SOURCE`) and the GX suites (`cadre suites`) are too. A "
             "jurisdiction that extends a code list edits its copy of `schemas/` and "
             "regenerates.", "",
             "## Units and what each may send", "",
             "| unit code | unit | sources it may submit |", "|---|---|---|"]
    for code, unit in units.items():
        name = unit.name_zh + (f"（{unit.detail_zh}）" if unit.detail_zh else "")
        lines.append(f"| {code} | {name} | {', '.join(unit.sources)} |")
    lines += ["", "A drop from a unit for a source it may not send is refused, whole, with a "
              "clear message.", "", "## 填写通则 (general rules, as the templates state them)",
              ""]
    lines += [f"{i}. {note}" for i, note in enumerate(GENERAL_NOTES, start=1)]
    lines.append("")
    for source in source_names():
        senders = [code for code, unit in units.items() if source in unit.sources]
        lines += _source_section(load_contract(source), senders)
    return "\n".join(lines).rstrip() + "\n"
