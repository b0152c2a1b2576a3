"""The 集中会诊 report fits a meeting: the demo's 300 cadres print on fewer than 20 A4 pages.

Printed as an official would print it: headless Chromium's print to PDF of the HTML file, A4
landscape from the page's own @page rule, then the PDF's pages counted.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from datetime import date
from pathlib import Path

import pytest

from pipelines.build.steps import build
from pipelines.dev.demo import stage_samples
from pipelines.dev.demo_review import write_demo_review
from pipelines.dev.truth import load_truth
from pipelines.ingest.steps import ingest_inbox
from pipelines.settings import DataHome

pytestmark = pytest.mark.slow
MAX_PAGES = 20
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


def print_to_pdf(html: Path, pdf: Path) -> None:
    subprocess.run([CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu",
                    "--no-pdf-header-footer", f"--print-to-pdf={pdf}", html.as_uri()],
                   check=True, capture_output=True, timeout=300)


def pdf_pages(pdf: Path) -> int:
    if shutil.which("pdfinfo"):
        out = subprocess.run(["pdfinfo", str(pdf)], check=True, capture_output=True,
                             text=True).stdout
        return int(re.search(r"^Pages:\s+(\d+)", out, re.M).group(1))
    return len(re.findall(rb"/Type\s*/Page(?!s)", pdf.read_bytes()))


@pytest.mark.skipif(CHROMIUM is None, reason="needs chromium to print (apt-get install -y "
                    "chromium fonts-wqy-microhei)")
def test_demo_review_prints_on_fewer_than_20_a4_pages(home: DataHome, tmp_path: Path) -> None:
    stage_samples(home, cadres=300)  # the demo's own sample data, faults included
    ingest_inbox(home)
    build(home, date.fromisoformat(load_truth(home.root / "samples")["as_of"]))
    html = write_demo_review(home)  # with the demo's sample decisions
    page = html.read_text(encoding="utf-8")
    assert "本期无需会诊事项的单位" in page  # quiet units collapsed, not given sections
    pdf = tmp_path / "review.pdf"
    print_to_pdf(html, pdf)
    pages = pdf_pages(pdf)
    print(f"集中会诊 report, 300 cadres: {pages} A4 pages")
    assert 1 < pages < MAX_PAGES
