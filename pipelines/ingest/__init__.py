"""Ingest: a unit's file in, a final receipt out.

Owns receive (archive, register), read, parse, validate (GX), load (raw/meta in one
transaction), the receipt and what the unit is told (feedback, templates). Never imports build,
review or anything above them."""
