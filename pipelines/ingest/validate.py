"""Validate: run the source's GX suite on the parsed frame and split accepted from quarantined.

GX is the gate. The whole suite runs once with a SUMMARY result (cheap), through the source's
Checkpoint in the data folder's GX file context when a data folder is given (``gx_checkpoints``:
results kept, per-expectation statistics returned); only the expectations
that failed run again with COMPLETE results to name every failing row. Each failing cell
becomes an ``Issue`` with the expectation's ``meta.reason``; a cell the parser already reported
is not reported twice. A row with any row issue is quarantined; the others are accepted.
"""

from __future__ import annotations

import json
import logging
import os
from dataclasses import dataclass, field
from functools import cache
from typing import Any

import pandas as pd

from pipelines.contracts import Contract, source_names
from pipelines.ingest import gx_checkpoints, suites
from pipelines.ingest.parse import ID_BIRTH_COLUMN, ParsedDrop
from pipelines.ingest.receipt import Issue
from pipelines.settings import DataHome

log = logging.getLogger(__name__)
os.environ.setdefault("GX_ANALYTICS_ENABLED", "False")
logging.getLogger("great_expectations").setLevel(logging.WARNING)  # no per-context INFO chatter


@dataclass
class ValidatedDrop:
    accepted: pd.DataFrame  # typed rows to load, with a source_row column
    quarantined: pd.DataFrame  # text of quarantined rows, with source_row and reasons
    issues: list[Issue]  # every row issue and note, parse and GX alike
    rows_read: int
    statistics: list[dict[str, Any]] = field(default_factory=list)  # per expectation, counts only

    @property
    def rows_accepted(self) -> int:
        return len(self.accepted)

    @property
    def rows_quarantined(self) -> int:
        return len(self.quarantined)


@cache
def _batch_definition() -> Any:
    import great_expectations as gx
    from great_expectations.data_context.types.base import ProgressBarsConfig

    # That module sets its own logger to INFO on import ("Created temporary directory ... for
    # ephemeral docs site" on every context): quiet it, or `cadre submit` writes it to stderr.
    logging.getLogger("great_expectations.data_context.types.base").setLevel(logging.WARNING)
    context = gx.get_context(mode="ephemeral")
    context.variables.progress_bars = ProgressBarsConfig(globally=False)
    asset = context.data_sources.add_pandas("cadre_drops").add_dataframe_asset("drop")
    return asset.add_batch_definition_whole_dataframe("whole_drop")


def load_suite(source: str) -> dict[str, Any]:
    return json.loads(suites.suite_path(source).read_text(encoding="utf-8"))


def warm_up(home: DataHome) -> None:
    """Import GX and set up every source's Checkpoint in ``home`` now.

    Why: GX's fixed cost (its import, ~2-5 s here, then each Checkpoint's set-up) is paid by
    the first file a process validates. A long-running process (the portal's worker) calls
    this when it starts, so that the first unit to upload does not wait for it."""
    for source in source_names():
        gx_checkpoints.prepared(home, source, load_suite(source))


def run_suite(frame: pd.DataFrame, suite: dict[str, Any], result_format: str) -> list[Any]:
    """GX validation results for ``suite`` (a suite JSON dict) on ``frame``."""
    import great_expectations as gx

    gx_suite = gx.ExpectationSuite(**json.loads(json.dumps(suite)))
    batch = _batch_definition().get_batch(batch_parameters={"dataframe": frame})
    result = batch.validate(gx_suite, result_format={"result_format": result_format})
    return list(result.results)


def _failing_rows(frame: pd.DataFrame, suite: dict[str, Any],
                  summary: list[Any]) -> list[tuple[dict[str, Any], list[int]]]:
    """(expectation JSON, failing row positions) for every failed expectation of ``summary``
    (the SUMMARY results of the whole suite)."""
    failed = [r.expectation_config.to_json_dict() for r in summary if not r.success]
    for r in summary:
        if r.exception_info and r.exception_info.get("raised_exception"):
            raise RuntimeError(f"GX expectation errored: {r.expectation_config.type}: "
                               f"{r.exception_info.get('exception_message')}")
    if not failed:
        return []
    detail_suite = {"name": suite["name"] + "_detail", "expectations": [
        {"type": e["type"], "kwargs": e["kwargs"], "meta": e.get("meta", {})} for e in failed]}
    found = []
    for r in run_suite(frame, detail_suite, "COMPLETE"):
        config = r.expectation_config.to_json_dict()
        found.append((config, [int(i) for i in r.result.get("unexpected_index_list") or []]))
    return found


def _column_of(expectation: dict[str, Any]) -> str | None:
    kwargs = expectation["kwargs"]
    return kwargs.get("column") or kwargs.get("column_A") or None


def cell_text(value: Any) -> str:
    """A cell as the unit typed it; an empty cell is '' (pandas reads it as NaN, which must
    never reach a unit as the word 'nan')."""
    if value is None:
        return ""
    try:
        if pd.isna(value):
            return ""
    except (TypeError, ValueError):
        pass
    return str(value)


def validate_drop(parsed: ParsedDrop, contract: Contract, suite: dict[str, Any] | None = None,
                  home: DataHome | None = None) -> ValidatedDrop:
    """Validate the parsed drop; with ``home``, through the source's GX Checkpoint there."""
    suite = suite if suite is not None else load_suite(contract.source)
    frame = parsed.typed
    rows = parsed.source_rows
    issues = list(parsed.issues)
    reported = {(i.source_row, i.column) for i in issues if i.scope == "row"}
    summary = (gx_checkpoints.run_checkpoint(home, contract.source, suite, frame) if home
               else run_suite(frame, suite, "SUMMARY"))
    for expectation, positions in _failing_rows(frame, suite, summary):
        reason = expectation.get("meta", {}).get("reason", "out_of_range")
        column = _column_of(expectation)
        key_columns = expectation["kwargs"].get("column_list") or [column]
        spec = contract.field(column) if column in contract.field_names else None
        for position in positions:
            if (rows[position], column) in reported:
                continue
            reported.add((rows[position], column))
            value = "、".join(cell_text(parsed.text[k][position]) for k in key_columns) \
                if reason == "duplicate_key" else \
                (cell_text(parsed.text[column][position]) or None) if column else None
            detail = _detail(reason, contract, expectation, frame, position)
            issues.append(Issue.make(
                reason, source_row=rows[position], column=column,
                header=spec.header_zh if spec else None,
                value=value, codes="、".join(spec.codes) if spec else "", detail=detail))
    issues.extend(_blank_notes(parsed, contract))
    validated = _split(parsed, issues)
    validated.statistics = gx_checkpoints.statistics(summary)
    return validated


def _blank_notes(parsed: ParsedDrop, contract: Contract) -> list[Issue]:
    """A note per row that left an ``ask_if_blank`` field empty (the row still loads)."""
    notes = []
    for spec in contract.fields:
        if spec.ask_if_blank is None or spec.name not in parsed.typed:
            continue
        reason, when_present = spec.ask_if_blank
        blank = parsed.typed[spec.name].isna()
        if when_present is not None and when_present in parsed.typed:
            blank &= parsed.typed[when_present].notna()
        for position in blank[blank].index:
            notes.append(Issue.make(reason, source_row=parsed.source_rows[position],
                                    column=spec.name, header=spec.header_zh))
    return notes


def _detail(reason: str, contract: Contract, expectation: dict[str, Any], frame: pd.DataFrame,
            position: int) -> str:
    kwargs = expectation["kwargs"]
    if reason == "out_of_range":
        return contract.field(kwargs["column"]).range_zh()  # the template's wording
    if reason == "birth_date_mismatch":
        stamp = frame[ID_BIRTH_COLUMN][position]
        return "" if pd.isna(stamp) else pd.Timestamp(stamp).date().isoformat()
    if reason == "duplicate_key":
        return "+".join(contract.field(k).header_zh for k in kwargs.get("column_list") or
                        [kwargs["column"]])
    if reason == "required_if_missing":
        return contract.field(kwargs["column"]).required_if.describe_zh(contract)  # type: ignore[union-attr]
    return ""


def _split(parsed: ParsedDrop, issues: list[Issue]) -> ValidatedDrop:
    bad_rows: dict[int, list[str]] = {}
    for issue in issues:
        if issue.scope == "row" and issue.source_row is not None:
            bad_rows.setdefault(issue.source_row, []).append(issue.reason)
    source_row = pd.Series(parsed.source_rows, dtype="int64")
    is_bad = source_row.isin(list(bad_rows))
    accepted = parsed.typed.drop(columns=[ID_BIRTH_COLUMN], errors="ignore")[~is_bad.to_numpy()]
    accepted = accepted.assign(source_row=source_row[~is_bad].to_numpy()).reset_index(drop=True)
    quarantined = parsed.text[is_bad.to_numpy()].assign(
        source_row=source_row[is_bad].to_numpy()).reset_index(drop=True)
    quarantined["reasons"] = [sorted(set(bad_rows[r])) for r in quarantined["source_row"]]
    issues.sort(key=lambda i: ({"file": 0, "row": 1, "note": 2}[i.scope], i.source_row or 0))
    return ValidatedDrop(accepted=accepted, quarantined=quarantined, issues=issues,
                         rows_read=parsed.rows_read)
