"""Command line: ``cadre``. Parses arguments, calls the stages, prints results.

The top layer: nothing else in ``pipelines`` imports it."""
