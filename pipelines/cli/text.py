"""Printing data in rich tables without rich reading it as markup.

Why: rich parses ``[...]`` in a string as style markup, and what the CLI prints holds what
units and analysts wrote (a remark like ``[/注]``, a file name, a SQL alias): one closing tag
without an opening one made ``cadre sql`` crash with a MarkupError, and an opening one
restyled the rest of the cell. ``Text`` objects are printed as they are."""

from __future__ import annotations

from rich.table import Column
from rich.text import Text


def cell(value: object) -> Text:
    """A value (None: empty) as literal text for a table cell or header."""
    return Text("" if value is None else str(value))


def cells(values: object) -> list[Text]:
    """Every value of a row (or the headers) as literal text."""
    return [cell(v) for v in values]  # type: ignore[attr-defined]


def headers(names: object) -> list[Column]:
    """Table columns headed by the names as literal text (a SQL alias is the analyst's own)."""
    return [Column(header=cell(name)) for name in names]  # type: ignore[attr-defined]
