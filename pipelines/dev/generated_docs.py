"""The pages of ``docs/`` generated from code, written by ``cadre docs``.

Each page has one source of truth in the code (the contracts in ``schemas/``, ...); the
committed page is its readable form. ``stale_docs`` is what ``tests/test_docs.py`` checks, so a
contract change that is not regenerated fails a test.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable
from pathlib import Path

from pipelines.ingest.contract_doc import CONTRACT_DOC, render_contract_doc
from pipelines.settings import PROJECT_ROOT

DOCS_DIR = PROJECT_ROOT / "docs"


def generated_pages() -> dict[str, Callable[[], str]]:
    """File name under docs/ -> a function rendering its text."""
    return {CONTRACT_DOC: render_contract_doc}


def stale_docs(docs_dir: Path = DOCS_DIR) -> list[str]:
    """Names of generated pages whose committed text differs from what the code gives."""
    stale = []
    for name, render in generated_pages().items():
        path = docs_dir / name
        if not path.exists() or path.read_text(encoding="utf-8") != render():
            stale.append(name)
    return stale


def write_docs(docs_dir: Path = DOCS_DIR) -> list[Path]:
    written = []
    for name, render in generated_pages().items():
        path = docs_dir / name
        tmp = path.with_name(f".{name}.{uuid.uuid4().hex}.tmp")
        tmp.write_text(render(), encoding="utf-8")
        os.replace(tmp, path)
        written.append(path)
    return written
