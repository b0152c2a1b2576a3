"""The Great Expectations file context: one Validation Definition and Checkpoint per source.

``$CADRE_HOME/gx/`` holds a GX file context: a pandas data source ``cadre_drops`` with one
dataframe asset per source, each source's suite (compiled from its contract into
``expectations/<source>.json``, the one source of truth, copied in on first use in a process),
a Validation Definition ``<source>_drop`` and a Checkpoint ``<source>``. Every validated drop
runs its source's Checkpoint, so GX keeps the run's results under ``gx/uncommitted/`` and our
own per-expectation statistics go to ``meta.validation_result`` (see ``steps.validate_step``).

Engineers only: GX's stored results and Data Docs (``context.build_data_docs()``, which load
CDN assets) show failing values, ID numbers included. Nothing here is published or sent to a
unit; the Checkpoints have no actions. Several validate tasks may start together (they are
outside the writer pool), so the context's files are set up under a file lock. Result files
older than ``CADRE_GX_RESULT_DAYS`` are deleted when a process first opens the context
(``prune_results``): they hold personal data, and nothing else ever removed them.
"""

from __future__ import annotations

import fcntl
import json
import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from functools import cache
from pathlib import Path
from typing import Any

import pandas as pd

from pipelines import settings
from pipelines.settings import DataHome

os.environ.setdefault("GX_ANALYTICS_ENABLED", "False")
DATASOURCE = "cadre_drops"


@contextmanager
def _locked(home: DataHome) -> Iterator[None]:
    home.gx_project.mkdir(parents=True, exist_ok=True)
    with (home.gx_project / ".lock").open("w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        yield


def prune_results(home: DataHome, days: int, now: float | None = None) -> int:
    """Delete GX's result files last written more than ``days`` ago (0: none); how many."""
    folder = home.gx_project / "uncommitted" / "validations"
    if days <= 0 or not folder.is_dir():
        return 0
    cutoff = (time.time() if now is None else now) - days * 86400
    pruned = 0
    for path in folder.rglob("*.json"):
        try:
            if path.stat().st_mtime < cutoff:
                path.unlink()
                pruned += 1
        except FileNotFoundError:  # another process pruned it first
            continue
    return pruned


@cache
def _context(root: str) -> Any:
    import great_expectations as gx
    from great_expectations.data_context.types.base import ProgressBarsConfig

    prune_results(DataHome(root=Path(root)), int(settings.get("CADRE_GX_RESULT_DAYS")))
    context = gx.get_context(mode="file", project_root_dir=root)  # makes <root>/gx/
    context.variables.progress_bars = ProgressBarsConfig(globally=False)
    return context


@cache
def checkpoint(root: str, source: str, suite_json: str) -> Any:
    """The source's Checkpoint in the file context under ``root``, created or brought up to
    date with the suite (once per process and suite text)."""
    import great_expectations as gx

    home = DataHome(root=Path(root))
    with _locked(home):
        context = _context(root)
        try:
            datasource = context.data_sources.get(DATASOURCE)
        except (KeyError, ValueError):
            datasource = context.data_sources.add_pandas(DATASOURCE)
        asset_name = f"drop_{source}"
        try:
            asset = datasource.get_asset(asset_name)
        except LookupError:
            asset = datasource.add_dataframe_asset(asset_name)
        try:
            batch = asset.get_batch_definition("whole_drop")
        except (KeyError, ValueError, LookupError):
            batch = asset.add_batch_definition_whole_dataframe("whole_drop")
        suite_spec = json.loads(suite_json)
        suite_spec["name"] = source
        suite = context.suites.add_or_update(gx.ExpectationSuite(**suite_spec))
        definition = context.validation_definitions.add_or_update(
            gx.ValidationDefinition(name=f"{source}_drop", data=batch, suite=suite))
        return context.checkpoints.add_or_update(gx.Checkpoint(
            name=source, validation_definitions=[definition], actions=[],
            result_format={"result_format": "SUMMARY"}))


def prepared(home: DataHome, source: str, suite: dict[str, Any]) -> Any:
    """The source's Checkpoint in ``home`` for ``suite`` (a suite JSON dict), set up on first
    use in this process."""
    return checkpoint(str(home.root), source, json.dumps(suite, sort_keys=True))


def run_checkpoint(home: DataHome, source: str, suite: dict[str, Any],
                   frame: pd.DataFrame) -> list[Any]:
    """Run the source's Checkpoint on ``frame``; the expectation results (SUMMARY)."""
    result = prepared(home, source, suite).run(batch_parameters={"dataframe": frame})
    return [r for run in result.run_results.values() for r in run.results]


def statistics(results: list[Any]) -> list[dict[str, Any]]:
    """Per expectation: type, column, rows checked, unexpected count, success. Counts only:
    GX's own result also lists failing values, which stay in the engineers' context."""
    rows = []
    for r in results:
        config = r.expectation_config.to_json_dict()
        kwargs = config.get("kwargs", {})
        column = kwargs.get("column") or kwargs.get("column_A") or \
            ",".join(kwargs.get("column_list") or []) or None
        result = r.result or {}
        rows.append({"expectation": config["type"], "column": column,
                     "reason": (config.get("meta") or {}).get("reason"),
                     "element_count": result.get("element_count"),
                     "unexpected_count": result.get("unexpected_count"),
                     "success": bool(r.success)})
    return rows
