"""Build: evidence in, profiles and flags out.

Owns the build step (identity, evidence, profiles, rule hits, flags as of a date, in one
transaction) and the rule set's configuration (ruleset.yaml, labels). Reads ingest's tables only."""
