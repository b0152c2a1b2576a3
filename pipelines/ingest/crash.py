"""Test hook for crash safety: the process kills itself, hard, at a named point.

``CADRE_FAULT_INJECT`` names one point (``load:mid_transaction``), or ``@N`` to die at the
N-th crash point this process passes (what the chaos test draws at random). Every point sits
where a real crash could leave a half-done state: between archive and register, inside and
after each step's writes, between the two feedback files. ``POINTS`` lists them in the order
one submission passes them.
"""

from __future__ import annotations

import logging
import os
import signal
import time

from pipelines import settings

POINTS = ("receive:archived", "receive:registered", "parse:read", "parse:saved",
          "validate:checked", "validate:saved", "load:mid_transaction", "load:committed",
          "feedback:started", "feedback:written")
PAUSE_SECONDS = 90  # ``<point>:pause``: long enough for a test to kill the process from outside
PAUSE_MESSAGE = "fault point %s: pausing %d s to be killed from outside"
log = logging.getLogger(__name__)
_passed = 0


def crashpoint(name: str) -> None:
    """Die here (SIGKILL, no clean-up) when the fault setting says so; wait here when it says
    ``<point>:pause``, so a test can kill the process from outside (a Celery worker SIGKILLed in
    the middle of a load)."""
    global _passed
    fault = settings.get("CADRE_FAULT_INJECT")
    if not fault:
        return
    if fault == f"{name}:pause":  # said in the log, so the test kills at this point, not before
        log.warning(PAUSE_MESSAGE, name, PAUSE_SECONDS)
        time.sleep(PAUSE_SECONDS)
        return
    _passed += 1
    if fault == name or (fault.startswith("@") and fault[1:].isdigit() and
                         int(fault[1:]) == _passed):
        os.kill(os.getpid(), signal.SIGKILL)
