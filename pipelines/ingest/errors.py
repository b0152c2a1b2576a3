"""The two kinds of failure an ingest step can meet, kept apart on purpose.

- ``InputRefused``: the file itself is the problem (damaged, too large, not a table, a value
  that cannot be stored). Retrying cannot help: the submission is refused at once with a
  reason code from ``pipelines.ingest.reasons`` that a unit can act on, and the exception that
  revealed it is kept for engineers (log and ``meta.submission.error``).
- ``EnvironmentFault``: the machine is the problem (the writer lock not free, a full disk, no
  memory). The submission stays in flight and is resumed by the next run; after the same
  fault ``MAX_ATTEMPTS`` times it is parked as ``failed`` (see ``pipelines.ingest.steps``).

``classify`` sorts any other exception into one of the two, so no step ends in a bare
traceback with the submission left in flight for ever.
"""

from __future__ import annotations

import errno

import duckdb

MAX_ATTEMPTS = 3  # the same environment fault this many times parks a submission as failed
ENVIRONMENT_ERRNOS = {errno.ENOSPC, errno.EDQUOT, errno.EFBIG, errno.EIO, errno.EROFS,
                      errno.ENOMEM, errno.EMFILE, errno.ENFILE, errno.EAGAIN, errno.EACCES,
                      errno.EPERM, errno.EBUSY}
# DuckDB raises these for the machine, never for the data: lock held, disk, memory, a
# connection invalidated by an earlier fatal error.
ENVIRONMENT_DUCKDB = (duckdb.IOException, duckdb.OutOfMemoryException, duckdb.FatalException,
                      duckdb.InterruptException, duckdb.ConnectionException)


class InputRefused(Exception):
    """A whole-file problem: the submission is refused with this reason code."""

    def __init__(self, reason: str, value: object = None, detail: str = "") -> None:
        super().__init__(f"{reason}: {value} {detail}".strip())
        self.reason = reason
        self.value = value
        self.detail = detail

    @property
    def engineer_detail(self) -> str | None:
        """The exception that revealed the problem, for engineers (never shown to units)."""
        cause = self.__cause__
        return None if cause is None else describe(cause)


class EnvironmentFault(Exception):
    """A fault of the machine, not of the file: retry later."""


FileRefusal = InputRefused  # the name the readers and parser have always raised


def describe(exc: BaseException) -> str:
    """``Class: message``, bounded (an exception message may quote a whole cell)."""
    text = f"{type(exc).__name__}: {exc}"
    return text if len(text) <= 1000 else text[:1000] + "…"


def is_environment_fault(exc: BaseException) -> bool:
    if isinstance(exc, (EnvironmentFault, MemoryError, *ENVIRONMENT_DUCKDB)):
        return True
    if isinstance(exc, OSError) and exc.errno in ENVIRONMENT_ERRNOS:
        return True
    return isinstance(exc, duckdb.Error) and "lock" in str(exc).lower()


def classify(exc: Exception, reason: str = "unreadable_file",
             detail: str = "文件已损坏、无法打开") -> Exception:
    """An unexpected exception as one of the two kinds (raise the result ``from exc``)."""
    if isinstance(exc, InputRefused | EnvironmentFault):
        return exc
    if is_environment_fault(exc):
        return EnvironmentFault(describe(exc))
    return InputRefused(reason, detail=detail)
