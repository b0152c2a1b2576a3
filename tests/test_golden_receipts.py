"""Receipts must not change: a fixed generated set gives exactly the committed golden receipts.

Speed work (issue 13) rewrites how files are read, typed, validated and loaded; what a unit
gets back must stay byte for byte what it was. The set is the generator's sample drops with
every planted fault, in all formats (CSV, XLSX, JSON), 60 cadres x 2 years, seed 11, submitted
file by file through ``submit_file`` as ``cadre submit`` does. Each receipt is compared with
``tests/golden/receipts_60x2_seed11.json``: status, counts, refusal, summary lines, extra
columns and every issue (reason, Chinese message and fix, row, column, header, value).

Only what differs from run to run is left out: submission ids (a duplicate names the earlier
*file* instead), timestamps and feedback file paths.

When a receipt change is intended (a new reason, a reworded message), regenerate the golden
file and review its diff in the commit::

    .venv/bin/python -m tests.test_golden_receipts --write
"""

from __future__ import annotations

import json
import sys
import tempfile
from pathlib import Path
from typing import Any

import pytest

from pipelines.dev.generate import generate_drops
from pipelines.ingest.steps import submit_file
from pipelines.settings import DataHome

pytestmark = pytest.mark.slow

GOLDEN = Path(__file__).parent / "golden" / "receipts_60x2_seed11.json"
VOLATILE = ("submission_id", "received_at", "finished_at", "feedback_files")


def receipts_of_fixed_set(drops: Path, home: DataHome) -> dict[str, dict[str, Any]]:
    """Generate the fixed set into ``drops``, submit every file; receipts by file path."""
    manifest = generate_drops(drops, cadres=60, years=2, seed=11, faults=True)
    out: dict[str, dict[str, Any]] = {}
    path_of_submission: dict[str, str] = {}
    for entry in manifest.files:
        receipt = submit_file(drops / entry.path, entry.unit, entry.source, home)
        path_of_submission[receipt.submission_id] = entry.path
        data = receipt.to_json_dict()
        for key in VOLATILE:
            data.pop(key, None)
        if data.get("duplicate_of") is not None:
            data["duplicate_of"] = path_of_submission.get(data["duplicate_of"], "<earlier run>")
        out[entry.path] = data
    return out


def test_fixed_set_gives_the_golden_receipts(home: DataHome, tmp_path: Path) -> None:
    got = receipts_of_fixed_set(tmp_path / "drops", home)
    want = json.loads(GOLDEN.read_text(encoding="utf-8"))
    assert sorted(got) == sorted(want), "the generated set changed: regenerate (see docstring)"
    for path in want:
        assert got[path] == want[path], path


def _write() -> None:
    with tempfile.TemporaryDirectory(prefix="cadre-golden-") as tmp:
        home = DataHome.from_env(Path(tmp) / "home").ensure()
        receipts = receipts_of_fixed_set(Path(tmp) / "drops", home)
    GOLDEN.parent.mkdir(exist_ok=True)
    GOLDEN.write_text(json.dumps(receipts, ensure_ascii=False, indent=1, sort_keys=True) + "\n",
                      encoding="utf-8")
    print(f"wrote {GOLDEN} ({len(receipts)} receipts)")


if __name__ == "__main__":
    if sys.argv[1:] != ["--write"]:
        sys.exit(__doc__)
    _write()
