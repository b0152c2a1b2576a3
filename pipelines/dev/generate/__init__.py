"""Deterministic, realistic sample drops from the joint-meeting units (``cadre generate``).

``generate_drops(out_dir, cadres, years, seed, faults=False, file_format=None, end_year=2025)``
writes ``out_dir/<UNIT>/<source>/<file>`` (the inbox layout) and ``out_dir/manifest.json``,
and returns the ``Manifest``: per file its format, encoding, rows and the exact outcome the
pipeline must report. Module map: ``cadres`` and ``sources/*`` make typed facts, ``scenarios``
plants extra cases, ``render``/``writers``/``layout`` turn facts into files, ``faults`` plants
bad input, ``manifest`` records expectations.
"""

from pipelines.dev.generate.api import build_world, generate_drops
from pipelines.dev.generate.manifest import ExpectedIssue, FileEntry, Manifest

__all__ = ["ExpectedIssue", "FileEntry", "Manifest", "build_world", "generate_drops"]
