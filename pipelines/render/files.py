"""File names of the documents we write."""

from __future__ import annotations

import re


def safe_filename(text: str) -> str:
    """A file-name-safe form of an id or a unit's name: units choose folder and org names, not
    us, so anything but letters (any script), digits, ``.``, ``-`` and ``_`` becomes ``_``."""
    return re.sub(r"[^\w.-]", "_", text).strip(".") or "_"
