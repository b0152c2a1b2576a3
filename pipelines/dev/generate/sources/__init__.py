"""One module per source: ``generate(world) -> typed DataFrame`` for the background population.

Order matters: sanctions are derived from petitions and report checks, so they come last.
"""

from __future__ import annotations

from collections.abc import Callable

import pandas as pd

from pipelines.dev.generate.sources import (
    assessment,
    audit,
    inspection,
    personal_report,
    petition,
    sanction,
)
from pipelines.dev.generate.world import World

GENERATORS: tuple[tuple[str, Callable[[World], pd.DataFrame]], ...] = (
    ("annual_assessment", assessment.generate),
    ("inspection_finding", inspection.generate),
    ("audit_finding", audit.generate),
    ("petition_verification", petition.generate),
    ("personal_report_check", personal_report.generate),
    ("sanction", sanction.generate),
)
