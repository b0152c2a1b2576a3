"""Problems with what a user asked for, as opposed to bugs.

A wrong source or table name, a missing snapshot: the CLI prints these as one line in plain
words (with the valid choices) and exits 2, with no traceback unless ``--debug`` is given.
Anything else that escapes is a bug and keeps its traceback.
"""

from __future__ import annotations

from collections.abc import Iterable


class UsageProblem(Exception):
    """Something asked for that cannot be done as asked; the message says what to do instead."""


class UnknownName(UsageProblem, KeyError):
    """A name (source, unit, table, ...) that is not one of the valid choices.

    Also a ``KeyError``, so callers that look a name up and fall back keep working."""

    def __init__(self, kind: str, name: str, choices: Iterable[str]) -> None:
        self.kind, self.name, self.choices = kind, name, tuple(choices)
        super().__init__(str(self))

    def __str__(self) -> str:
        return (f"unknown {self.kind} {self.name!r}; valid {self.kind}s: "
                f"{', '.join(self.choices) or '(none)'}")
