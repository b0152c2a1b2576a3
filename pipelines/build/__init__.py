"""Build: identity, evidence, profiles and flags as of a date, from the rule set.

Owns the rule set (``ruleset.yaml`` loader) and the build of ``core``/``marts``. Reads what
ingest loaded; knows nothing of decisions, reports or publishing."""
