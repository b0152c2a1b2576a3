"""An empty cell is shown empty to the unit, never as ``nan``: in the receipt, the HTML and the
XLSX feedback (7 of the demo's own reports showed ``nan`` before); and the XLSX feedback prints
on A4 (fit to width, wrapped text, the header row repeated on every page)."""

from __future__ import annotations

import re
from pathlib import Path

from openpyxl import load_workbook

from pipelines.ingest.steps import submit_file
from pipelines.settings import DataHome
from tests.conftest import ROSTER_HEADER, roster_row, write_csv

NAN = re.compile(r"\bnan\b", re.IGNORECASE)


def test_empty_required_cells_show_empty_everywhere(home: DataHome, tmp_path: Path) -> None:
    path = write_csv(tmp_path / "roster.csv", [
        ROSTER_HEADER, roster_row(1), roster_row(2, 姓名=""), roster_row(3, 现任职务="",
                                                                       职务层次="")])
    receipt = submit_file(path, "ORG", "roster", home)
    assert receipt.status == "partially_accepted" and receipt.rows_quarantined == 2
    empty = [i for i in receipt.issues if i.scope == "row"]
    assert {i.column for i in empty} >= {"name", "post_title", "post_level"}
    assert all(i.value in (None, "") for i in empty), [(i.column, i.value) for i in empty]
    html = next(Path(p) for p in receipt.feedback_files if p.endswith(".html"))
    assert not NAN.search(html.read_text(encoding="utf-8"))
    xlsx = next(Path(p) for p in receipt.feedback_files if p.endswith(".xlsx"))
    for sheet in load_workbook(xlsx).worksheets:
        for row in sheet.iter_rows(values_only=True):
            assert not any(isinstance(v, str) and NAN.search(v) for v in row), (sheet.title, row)
    book = load_workbook(xlsx)
    for sheet in book.worksheets:
        assert sheet.page_setup.paperSize == 9, sheet.title  # A4
        assert sheet.sheet_properties.pageSetUpPr.fitToPage
        assert sheet.page_setup.fitToWidth in (None, 1)  # one page wide (1 is the default)
        assert sheet.page_setup.fitToHeight == 0  # as many pages long as it takes
    issues = book["问题清单"]
    assert issues.print_title_rows in ("1:1", "$1:$1")  # the header row on every page
    assert all(c.alignment.wrap_text for c in issues[2] if c.value is not None)

