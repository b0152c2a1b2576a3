"""What was generated and what the pipeline must make of it (``manifest.json``).

Tests reconcile the pipeline's receipts against this file, so every expectation is written by
the code that planted the cause, and checked on the way out (``Manifest.check``).
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from pipelines.ingest.receipt import STATUSES as RECEIPT_STATUSES

MANIFEST_NAME = "manifest.json"
GENERATOR_VERSION = 1
# a generated file is new bytes, so every receipt status but `duplicate` can be expected
STATUSES = tuple(s for s in RECEIPT_STATUSES if s != "duplicate")


@dataclass(frozen=True)
class ExpectedIssue:
    """One expected row issue (or note): where, which field, which reason code."""

    source_row: int | None  # spreadsheet row (title + header rows counted) or JSON position
    column: str | None  # contract field name; for extra_column notes, the header as written
    reason: str  # code from pipelines.ingest.reasons


@dataclass
class FileEntry:
    path: str  # relative to the output folder, POSIX separators: <UNIT>/<source>/<file>
    unit: str
    source: str
    format: str  # xlsx | csv | json
    encoding: str | None  # gbk | utf-8-sig | utf-8; None for xlsx
    kind: str  # clean | fault
    year: int | None  # the year the file covers
    header_row: int | None  # 1-based row of the header; None for JSON
    rows_written: int  # data rows in the file
    expected_status: str  # accepted | partially_accepted | refused
    expected_accepted_rows: int
    expected_refusal_reason: str | None = None  # reason code when refused
    expected_refusal_detail: str | None = None  # e.g. the missing field for missing_required_column
    expected_quarantined: list[ExpectedIssue] = field(default_factory=list)
    expected_notes: list[ExpectedIssue] = field(default_factory=list)
    description: str = ""  # what was planted, in words

    @property
    def quarantined_rows(self) -> set[int]:
        return {i.source_row for i in self.expected_quarantined if i.source_row is not None}


@dataclass
class Manifest:
    arguments: dict[str, Any]
    files: list[FileEntry]
    cadre_ids: list[str]
    phantom_ids: list[str] = field(default_factory=list)  # valid IDs used only in fault rows
    planted: list[dict[str, Any]] = field(default_factory=list)  # scenario expectations
    generator_version: int = GENERATOR_VERSION

    def file(self, path: str) -> FileEntry:
        return next(f for f in self.files if f.path == path)

    def fault_reasons(self) -> set[str]:
        """Every reason code some fault file is expected to produce."""
        out = {f.expected_refusal_reason for f in self.files if f.expected_refusal_reason}
        out |= {i.reason for f in self.files for i in f.expected_quarantined}
        return out  # type: ignore[return-value]

    def check(self) -> None:
        """Internal consistency: counts add up, statuses agree with the issues listed."""
        seen = set()
        for f in self.files:
            if f.path in seen:
                raise ValueError(f"manifest lists {f.path} twice")
            seen.add(f.path)
            bad_rows = f.quarantined_rows
            if f.expected_status == "refused":
                ok = f.expected_refusal_reason is not None and f.expected_accepted_rows == 0
            elif f.expected_status == "partially_accepted":
                ok = bool(bad_rows) and f.expected_accepted_rows == f.rows_written - len(bad_rows)
            else:
                ok = not bad_rows and f.expected_accepted_rows == f.rows_written
            if not ok or f.expected_status not in STATUSES:
                raise ValueError(f"inconsistent manifest entry for {f.path}")

    def to_json_dict(self) -> dict[str, Any]:
        return asdict(self)

    def write(self, out_dir: Path) -> Path:
        path = out_dir / MANIFEST_NAME
        path.write_text(json.dumps(self.to_json_dict(), ensure_ascii=False, indent=1) + "\n",
                        encoding="utf-8")
        return path

    @classmethod
    def from_json_dict(cls, data: dict[str, Any]) -> Manifest:
        files = []
        for raw in data["files"]:
            raw = dict(raw)
            raw["expected_quarantined"] = [ExpectedIssue(**i) for i in raw["expected_quarantined"]]
            raw["expected_notes"] = [ExpectedIssue(**i) for i in raw["expected_notes"]]
            files.append(FileEntry(**raw))
        return cls(arguments=data["arguments"], files=files, cadre_ids=data["cadre_ids"],
                   phantom_ids=data.get("phantom_ids", []), planted=data.get("planted", []),
                   generator_version=data.get("generator_version", GENERATOR_VERSION))

    @classmethod
    def load(cls, out_dir: Path) -> Manifest:
        path = out_dir / MANIFEST_NAME if out_dir.is_dir() else out_dir
        return cls.from_json_dict(json.loads(path.read_text(encoding="utf-8")))
