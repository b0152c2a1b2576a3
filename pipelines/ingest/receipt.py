"""What a unit gets back for a submission: the receipt and its issues.

A ``Receipt`` is the one record of a submission's outcome; the CLI prints it, ``--json`` dumps
it, the feedback report renders it and ``meta.submission`` stores its counts. ``Issue`` is
one refused or quarantined item (or a note), always with the reason code from
``pipelines.ingest.reasons`` and, for rows, the source row number and column.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field, fields
from json.encoder import encode_basestring  # type: ignore[attr-defined]
from operator import attrgetter
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

    @classmethod
    def maker(cls, reason: str, *, column: str | None = None, header: str | None = None
              ) -> Callable[[int | None, object, object], Issue]:
        """``make(reason, column=, header=, source_row=, value=, detail=)`` as a function of
        (source_row, value, detail): the same issue, with the wording's fields bound once
        (``reasons.row_renderer``) for the many notes of one reason on one column."""
        text = reasons.row_renderer(reason, header or column or "")

        def issue(source_row: int | None, value: object, detail: object = "") -> Issue:
            text_value = None if value is None else str(value)
            message, fix = text(text_value or "", "" if detail is None else str(detail))
            return cls(reason, message, fix, source_row, column, header, text_value)
        return issue

    def to_json_dict(self) -> dict[str, Any]:
        return {"reason": self.reason, "message_zh": self.message_zh, "fix_zh": self.fix_zh,
                "source_row": self.source_row, "column": self.column, "header": self.header,
                "value": self.value, "scope": self.scope}

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
    # accepted rows that count in no profile yet (notes id_unmatched / identity_doubt), and the
    # records a withdrawal file withdrew or could not withdraw (notes withdrawn / ..._refused)
    rows_unmatched: int = 0
    rows_identity_doubt: int = 0
    records_withdrawn: int = 0
    withdrawals_refused: int = 0
    refusal_reason: str | None = None  # one line, Chinese, when refused
    reasons: list[str] = field(default_factory=list)  # distinct Chinese messages, most common first
    issues: list[Issue] = field(default_factory=list)
    extra_columns: list[str] = field(default_factory=list)
    duplicate_of: str | None = None
    received_at: str | None = None
    finished_at: str | None = None
    feedback_files: list[str] = field(default_factory=list)

    def to_json_dict(self) -> dict[str, Any]:
        data = {f.name: getattr(self, f.name) for f in fields(self)}
        for name in ("reasons", "extra_columns", "feedback_files"):
            data[name] = list(data[name])
        data["issues"] = [i.to_json_dict() for i in self.issues]
        return data

    def to_json_text(self) -> str:
        """``json.dumps(self.to_json_dict(), ensure_ascii=False, indent=1)``, byte for byte,
        without the pure-Python encoder ``indent`` forces on every value: a receipt can hold
        hundreds of thousands of issues (one 未匹配 note per row of an evidence file)."""
        data = {f.name: getattr(self, f.name) for f in fields(self)}
        data["issues"] = _PLACEHOLDER  # in its place among the keys
        head = json.dumps(data, ensure_ascii=False, indent=1)
        return head.replace(json.dumps(_PLACEHOLDER), _issues_text(self.issues), 1)


_PLACEHOLDER = "\x00issues\x00"  # cannot occur in the other fields' JSON: NUL is escaped
_ISSUE_JSON = ("  {{\n   \"reason\": {},\n   \"message_zh\": {},\n   \"fix_zh\": {},\n"
               "   \"source_row\": {},\n   \"column\": {},\n   \"header\": {},\n"
               "   \"value\": {},\n   \"scope\": {}\n  }}")


def _text_or_null(value: str | None) -> str:
    return "null" if value is None else encode_basestring(value)  # the C encoder's escaping


def _repeated_text(texts: list[str | None]) -> list[str]:
    """``_text_or_null`` of a column whose texts repeat (codes, fixes, headers): each distinct
    text encoded once."""
    encoded = {text: _text_or_null(text) for text in dict.fromkeys(texts)}
    return [encoded[text] for text in texts]


def _issues_text(issues: list[Issue]) -> str:
    """The issue list as ``json.dumps(..., indent=1)`` writes it at the receipt's second level."""
    if not issues:
        return "[]"
    # column by column: the C encoder mapped over each text column, one format per issue
    reason = list(map(attrgetter("reason"), issues))
    scope = reasons.scopes(reason)
    rows = ["null" if row is None else int(row) for row in map(attrgetter("source_row"), issues)]
    items = map(_ISSUE_JSON.format,
                _repeated_text(reason),
                map(encode_basestring, map(attrgetter("message_zh"), issues)),
                _repeated_text(list(map(attrgetter("fix_zh"), issues))),
                rows,
                *(_repeated_text(list(map(attrgetter(name), issues)))
                  for name in ("column", "header")),
                map(_text_or_null, map(attrgetter("value"), issues)),
                _repeated_text(scope))
    return "[\n" + ",\n".join(items) + "\n ]"
