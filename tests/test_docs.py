"""The committed docs: generated pages are fresh, and no link leaves the repository."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from pipelines.contracts import all_contracts, load_units
from pipelines.dev.generated_docs import generated_pages, stale_docs
from pipelines.settings import PROJECT_ROOT

LINK = re.compile(r"\]\(([^)#\s]+)(?:#[^)]*)?\)")
RELATIVE_PATH = re.compile(r"(?:\.\./)+[\w.-]+")


def test_contract_page_is_fresh() -> None:
    assert stale_docs(only={"contract.md"}) == [], "run `cadre docs` and commit"


@pytest.mark.integration
def test_data_dictionary_is_fresh() -> None:
    """Builds and publishes an empty warehouse: every table and column the snapshot holds."""
    assert stale_docs(only={"data_dictionary.md"}) == [], "run `cadre docs` and commit"


def _dictionary_rows() -> dict[str, list[list[str]]]:
    text = (PROJECT_ROOT / "docs" / "data_dictionary.md").read_text(encoding="utf-8")
    tables: dict[str, list[list[str]]] = {}
    current = None
    for line in text.splitlines():
        if line.startswith("## ") and "." in line:
            current = line[3:].strip()
            tables[current] = []
        elif current and line.startswith("| ") and not line.startswith("| column"):
            tables[current].append([c.strip() for c in line.strip().strip("|").split("|")])
    return tables


def test_data_dictionary_has_one_language_per_column_and_true_descriptions() -> None:
    tables = _dictionary_rows()
    assert {"core.cadre", "marts.cadre_flag", "marts.cadre_profile"} <= set(tables)
    for table, rows in tables.items():
        for name, _, term_zh, meaning in rows:
            assert not re.search(r"[A-Za-z]", term_zh), f"{table}.{name}: 中文名 {term_zh!r}"
            assert meaning, f"{table}.{name} has no description"
            assert re.search(r"[A-Za-z]{3,}", meaning), f"{table}.{name}: not English: {meaning}"
    profile = {r[0]: r[3] for r in tables["marts.cadre_profile"]}
    for dim in ("virtue", "ability", "diligence", "performance", "integrity"):
        assert "deductions" in profile[f"score_{dim}"], profile[f"score_{dim}"]
        assert "Not the assessment's raw score" in profile[f"score_{dim}"]
    assert {r[0] for r in tables["core.cadre"]} == {
        "cadre_key", "age_band", "gender", "post_level", "org_name", "sector", "in_scope",
        "coarsened_step"}


def test_a_contract_change_makes_the_page_stale(tmp_path: Path) -> None:
    (tmp_path / "contract.md").write_text(generated_pages()["contract.md"](), encoding="utf-8")
    assert stale_docs(tmp_path, only={"contract.md"}) == []
    page = tmp_path / "contract.md"
    page.write_text(page.read_text(encoding="utf-8").replace("身份证号", "身份号码"),
                    encoding="utf-8")
    assert stale_docs(tmp_path, only={"contract.md"}) == ["contract.md"]


def test_contract_page_names_every_header_code_and_unit() -> None:
    text = generated_pages()["contract.md"]()
    for contract in all_contracts().values():
        assert f"## {contract.source} — {contract.title_zh}" in text
        for f in contract.fields:
            assert f"| {f.header_zh} |" in text and f"`{f.name}`" in text
            assert all(code in text for code in f.codes)
    for code, unit in load_units().items():
        assert f"| {code} | {unit.name_zh}" in text


@pytest.mark.parametrize("page", ["README.md", *sorted(
    str(p.relative_to(PROJECT_ROOT)) for p in (PROJECT_ROOT / "docs").glob("*.md"))])
def test_no_link_leaves_the_repository(page: str) -> None:
    path = PROJECT_ROOT / page
    for target in LINK.findall(path.read_text(encoding="utf-8")):
        if re.match(r"^[a-z]+://", target):
            continue  # a web address is not a file of ours
        resolved = (path.parent / target).resolve()
        assert resolved.is_relative_to(PROJECT_ROOT), f"{page}: {target} is outside the repo"
        assert resolved.exists(), f"{page}: {target} does not exist"
    # a relative path written in prose (not only as a link) must stay inside the repository too
    for written in RELATIVE_PATH.findall(path.read_text(encoding="utf-8")):
        resolved = (path.parent / written).resolve()
        assert resolved.is_relative_to(PROJECT_ROOT) and resolved.exists(), \
            f"{page}: {written} points outside the repo"
