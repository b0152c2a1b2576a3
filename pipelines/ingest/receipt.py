"""What a unit gets back for a submission: the receipt and its issues.

A ``Receipt`` is the one record of a submission's outcome; the CLI prints it, ``--json`` dumps
it, the feedback report renders it and ``meta.submission`` stores its counts. ``Issue`` is
one refused or quarantined item (or a note), always with the reason code from
``pipelines.ingest.reasons`` and, for rows, the source row number and column.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from pipelines.ingest import reasons

STATUSES = ("accepted", "partially_accepted", "refused", "duplicate")
# Not a unit's outcome: the same fault of the machine stopped it three times (steps.guarded).
FAILED = "failed"


@dataclass
class Issue:
    reason: str  # code from pipelines.ingest.reasons
    message_zh: str
    fix_zh: str
    source_row: int | None = None  # row number as the unit sees it (spreadsheet row, JSON item)
    column: str | None = None  # contract field name
    header: str | None = None  # the column's Chinese header (contract), as units know it
    value: str | None = None  # the offending value, as text

    @property
    def scope(self) -> str:
        return reasons.BY_CODE[self.reason].scope

    @classmethod
    def make(cls, reason: str, *, source_row: int | None = None, column: str | None = None,
             header: str | None = None, value: object = None, codes: str = "",
             detail: str = "") -> Issue:
        text_value = None if value is None else str(value)
        message, fix = reasons.render(reason, header=header or column or "", value=text_value,
                                      codes=codes, detail=detail)
        return cls(reason=reason, message_zh=message, fix_zh=fix, source_row=source_row,
                   column=column, header=header, value=text_value)

    def locate_zh(self) -> str:
        """Where the problem is, in the unit's words: 第12行“身份证号”列."""
        parts = []
        if self.source_row is not None:
            parts.append(f"第{self.source_row}行")
        if self.header or self.column:
            parts.append(f"“{self.header or self.column}”列")
        return "".join(parts) or "整个文件"


@dataclass
class Receipt:
    submission_id: str
    unit: str
    source: str
    filename: str
    sha256: str
    status: str = "received"
    rows_read: int = 0
    rows_accepted: int = 0
    rows_quarantined: int = 0
    refusal_reason: str | None = None  # one line, Chinese, when refused
    reasons: list[str] = field(default_factory=list)  # distinct Chinese messages, most common first
    issues: list[Issue] = field(default_factory=list)
    extra_columns: list[str] = field(default_factory=list)
    duplicate_of: str | None = None
    received_at: str | None = None
    finished_at: str | None = None
    feedback_files: list[str] = field(default_factory=list)

    def to_json_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["issues"] = [asdict(i) | {"scope": i.scope} for i in self.issues]
        return data
