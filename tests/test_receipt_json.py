"""The receipt JSON file is written by a fast path (``Receipt.to_json_text``): it must be
exactly what ``json.dumps(receipt.to_json_dict(), ensure_ascii=False, indent=1)`` writes."""

from __future__ import annotations

import json
import random
from dataclasses import fields

from pipelines.ingest.receipt import Issue, Receipt

# text that needs escaping in JSON, CJK, and characters JSON leaves alone
PIECES = ("a", "中", '"', "\\", "\n", "\x00", "\x1f", "\u2028", "é", "\t", "/", "<", " ")


def _text(rng: random.Random) -> str:
    return "".join(rng.choice(PIECES) for _ in range(rng.randint(0, 6)))


def _maybe(rng: random.Random) -> str | None:
    return rng.choice([None, _text(rng)])


def test_fast_receipt_json_is_json_dumps_byte_for_byte() -> None:
    rng = random.Random(13)
    for _ in range(300):
        receipt = Receipt(
            submission_id=_text(rng), unit=_text(rng), source=_text(rng), filename=_text(rng),
            sha256=_text(rng), rows_read=rng.randint(0, 9), refusal_reason=_maybe(rng),
            reasons=[_text(rng) for _ in range(rng.randint(0, 3))],
            extra_columns=[_text(rng) for _ in range(rng.randint(0, 2))],
            duplicate_of=_maybe(rng), received_at=_maybe(rng),
            issues=[Issue(reason=rng.choice(["bad_date", "id_unmatched", "extra_column"]),
                          message_zh=_text(rng), fix_zh=_text(rng),
                          source_row=rng.choice([None, 0, 7, 123456]), column=_maybe(rng),
                          header=_maybe(rng), value=_maybe(rng))
                    for _ in range(rng.choice([0, 1, 2, 5]))])
        want = json.dumps(receipt.to_json_dict(), ensure_ascii=False, indent=1)
        assert receipt.to_json_text() == want


def test_receipt_json_dict_keeps_every_field_and_the_scope() -> None:
    issue = Issue.make("bad_date", source_row=3, column="born", header="出生日期", value="x")
    data = Receipt(submission_id="s", unit="u", source="roster", filename="f", sha256="h",
                   issues=[issue]).to_json_dict()
    assert list(data) == [f.name for f in fields(Receipt)]  # the dataclass's own order
    assert data["issues"] == [{"reason": "bad_date", "message_zh": issue.message_zh,
                               "fix_zh": issue.fix_zh, "source_row": 3, "column": "born",
                               "header": "出生日期", "value": "x", "scope": "row"}]
