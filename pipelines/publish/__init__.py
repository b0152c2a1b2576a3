"""Publish: what leaves the working warehouse.

Owns the analysts' pseudonymised snapshot (atomic swap, data dictionary) and XLSX exports from
it. Reads build and review; writes neither."""
