"""The committed docs: generated pages are fresh, and no link leaves the repository."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from pipelines.contracts import all_contracts, load_units
from pipelines.dev.generated_docs import generated_pages, stale_docs, write_docs
from pipelines.settings import PROJECT_ROOT

LINK = re.compile(r"\]\(([^)#\s]+)(?:#[^)]*)?\)")


def test_generated_docs_are_fresh() -> None:
    assert stale_docs() == [], "generated docs are out of date: run `cadre docs` and commit"


def test_a_contract_change_makes_the_page_stale(tmp_path: Path) -> None:
    write_docs(tmp_path)
    assert stale_docs(tmp_path) == []
    page = tmp_path / "contract.md"
    page.write_text(page.read_text(encoding="utf-8").replace("身份证号", "身份号码"),
                    encoding="utf-8")
    assert stale_docs(tmp_path) == ["contract.md"]


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
    assert "../shared" not in path.read_text(encoding="utf-8"), f"{page} points outside the repo"
